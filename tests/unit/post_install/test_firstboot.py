"""keel-firstboot's run, status and retry over a scratch system root, with real hook scripts."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest

from keel_firstboot import cli
from keel_firstboot.hook import run_hook
from keel_firstboot.layout import ALIAS_LINK, ORDERINGS, UNIT_DIR, Paths
from keel_firstboot.state import Run, summarize, write_run

OK_SCRIPT = '#!/bin/sh\necho "hook ran with $1"\necho "to stderr" >&2\necho x >> "$(dirname "$0")/ran"\n'
FAILING_SCRIPT = '#!/bin/sh\necho "hook failed with $1"\necho x >> "$(dirname "$0")/ran"\nexit 3\n'
CLOCK = iter(f"2026-07-01T12:00:{s:02d}+00:00" for s in range(60))


def install(root: Path, script: str, *, ordering: str = "fully-up", pending: bool = True) -> Paths:
    """What the installer leaves on the target: the script (0700), the flag, the unit's alias."""
    paths = Paths(root)
    paths.state_dir.mkdir(mode=0o700, parents=True)
    paths.script.write_text(script)
    paths.script.chmod(0o700)
    if pending:
        paths.pending.write_text("")
    alias = paths.alias_link
    alias.parent.mkdir(parents=True)
    alias.symlink_to(f"{UNIT_DIR}/{ORDERINGS[ordering].unit}")
    return paths


def runs_of(paths: Paths) -> int:
    ran = paths.state_dir / "ran"
    return len(ran.read_text().splitlines()) if ran.exists() else 0


def run_now(paths: Paths, ordering: str = "fully-up") -> tuple[int, str]:
    out = io.BytesIO()
    code = run_hook(paths, ordering, out, clock=lambda: next(CLOCK))
    return code, out.getvalue().decode()


def test_a_pending_hook_runs_once_with_its_ordering_and_its_output_goes_to_stdout_and_the_log(tmp_path):
    paths = install(tmp_path, OK_SCRIPT)
    code, out = run_now(paths)
    assert code == 0
    assert "hook ran with fully-up\n" in out and "to stderr\n" in out
    log = paths.log.read_text()
    assert "hook ran with fully-up\n" in log and "to stderr\n" in log
    assert "succeeded, exit status 0" in log
    assert stat.S_IMODE(paths.log.stat().st_mode) == 0o600
    assert not paths.pending.exists()
    assert runs_of(paths) == 1
    again, out = run_now(paths)
    assert again == 0 and "nothing to do" in out
    assert runs_of(paths) == 1, "without the flag the hook does not run again"


def test_the_status_file_records_exit_code_and_times(tmp_path):
    paths = install(tmp_path, FAILING_SCRIPT, ordering="network-online")
    code, _ = run_now(paths, "network-online")
    assert code == 3
    record = json.loads(paths.status.read_text())
    assert record["state"] == "failed"
    assert record["exit_code"] == 3
    assert record["ordering"] == "network-online"
    assert record["runs"] == 1
    assert record["started"] <= record["finished"]
    assert "seconds" in record and "pid" not in record


def test_a_failed_hook_removes_the_flag_so_it_is_not_rerun_on_every_boot(tmp_path):
    paths = install(tmp_path, FAILING_SCRIPT)
    assert run_now(paths)[0] == 3
    assert not paths.pending.exists()
    assert run_now(paths)[0] == 0
    assert runs_of(paths) == 1


def test_an_existing_log_is_appended_to_and_made_root_only(tmp_path):
    paths = install(tmp_path, OK_SCRIPT)
    paths.log.parent.mkdir(parents=True)
    paths.log.write_text("earlier\n")
    paths.log.chmod(0o644)
    run_now(paths)
    assert paths.log.read_text().startswith("earlier\n")
    assert stat.S_IMODE(paths.log.stat().st_mode) == 0o600


def test_a_hook_that_cannot_be_executed_fails_with_126_and_the_reason(tmp_path):
    paths = install(tmp_path, "no shebang, not a program\n")
    code, out = run_now(paths)
    assert code == 126
    assert "cannot execute /var/lib/keel/first-boot/script" in out
    assert json.loads(paths.status.read_text())["reason"].startswith("cannot execute")
    assert not paths.pending.exists()


def test_a_hook_ended_by_a_signal_records_128_plus_the_signal(tmp_path):
    paths = install(tmp_path, "#!/bin/sh\nkill -TERM $$\n")
    code, _ = run_now(paths)
    assert code == 128 + 15
    assert json.loads(paths.status.read_text())["reason"] == "ended by SIGTERM"


@pytest.mark.parametrize("ordering", sorted(ORDERINGS))
def test_the_cli_run_takes_the_enabled_units_ordering_by_default(tmp_path, capfd, ordering):
    paths = install(tmp_path, OK_SCRIPT, ordering=ordering)
    assert cli.main(["run"], root=tmp_path) == 0
    assert f"hook ran with {ordering}" in capfd.readouterr().out
    assert paths.enabled_ordering() == ORDERINGS[ordering]


def test_status_of_a_succeeded_hook(tmp_path, capfd):
    install(tmp_path, OK_SCRIPT)
    cli.main(["run"], root=tmp_path)
    capfd.readouterr()
    assert cli.main(["status"], root=tmp_path) == 0
    out = capfd.readouterr().out
    assert out.startswith("first-boot hook: succeeded\n")
    assert "keel-firstboot-multi-user.service" in out
    assert "log:       /var/log/keel/first-boot.log" in out


def test_status_of_a_failed_hook_exits_1_and_names_exit_code_time_log_and_retry(tmp_path, capfd):
    install(tmp_path, FAILING_SCRIPT)
    assert cli.main(["run"], root=tmp_path) == 3
    capfd.readouterr()
    assert cli.main(["status"], root=tmp_path) == 1
    out = capfd.readouterr().out
    assert out.startswith("first-boot hook: FAILED with exit status 3\n")
    assert "started:" in out and "finished:" in out
    assert "/var/log/keel/first-boot.log" in out
    assert "keel-firstboot retry" in out


def test_status_json(tmp_path, capfd):
    install(tmp_path, FAILING_SCRIPT)
    cli.main(["run"], root=tmp_path)
    capfd.readouterr()
    assert cli.main(["status", "--json"], root=tmp_path) == 1
    data = json.loads(capfd.readouterr().out)
    assert data["state"] == "failed" and data["armed"] is False and data["installed"] is True
    assert data["last_run"]["exit_code"] == 3


@pytest.mark.parametrize(("setup", "state", "code"), [
    pytest.param(dict(script=OK_SCRIPT), "pending", 0, id="installed and armed: pending"),
    pytest.param(dict(script=OK_SCRIPT, pending=False), "none", 0, id="installed, never armed: none"),
])
def test_status_before_any_run(tmp_path, capfd, setup, state, code):
    script = setup.pop("script")
    install(tmp_path, script, **setup)
    assert cli.main(["status", "--json"], root=tmp_path) == code
    assert json.loads(capfd.readouterr().out)["state"] == state


def test_status_without_any_hook(tmp_path, capfd):
    assert cli.main(["status"], root=tmp_path) == 0
    assert "none (the answer had no [first-boot] section)" in capfd.readouterr().out


def test_a_run_cut_short_by_a_power_cut_shows_as_interrupted_and_runs_again(tmp_path, capfd):
    paths = install(tmp_path, OK_SCRIPT)
    dead = os.fork()
    if dead == 0:
        os._exit(0)
    os.waitpid(dead, 0)
    write_run(paths, Run("running", "fully-up", "2026-07-01T12:00:00+00:00", pid=dead))
    assert summarize(paths).state == "interrupted"
    assert cli.main(["status"], root=tmp_path) == 1
    assert "INTERRUPTED" in capfd.readouterr().out
    assert cli.main(["run"], root=tmp_path) == 0, "the flag is still there: the next boot runs it"
    assert json.loads(paths.status.read_text())["runs"] == 2


def test_retry_rearms_a_failed_hook_for_the_next_boot(tmp_path, capfd):
    paths = install(tmp_path, FAILING_SCRIPT)
    cli.main(["run"], root=tmp_path)
    capfd.readouterr()
    assert cli.main(["retry"], root=tmp_path) == 0
    out = capfd.readouterr().out
    assert "re-armed" in out and "on the next boot" in out and "retry --now" in out
    assert paths.pending.exists()
    assert runs_of(paths) == 1, "retry without --now does not run it"
    assert cli.main(["run"], root=tmp_path) == 3
    assert runs_of(paths) == 2
    assert json.loads(paths.status.read_text())["runs"] == 2


def test_retry_now_runs_it_at_once_without_systemd(tmp_path, capfd):
    paths = install(tmp_path, OK_SCRIPT)
    cli.main(["run"], root=tmp_path)
    assert cli.main(["retry", "--now"], root=tmp_path) == 0
    assert runs_of(paths) == 2
    assert not paths.pending.exists()


def test_retry_now_goes_through_the_unit_when_systemd_runs(tmp_path, capfd):
    paths = install(tmp_path, FAILING_SCRIPT, ordering="network-online")
    cli.main(["run"], root=tmp_path)
    calls = []

    def systemctl(args):
        calls.append(args)
        assert paths.pending.exists(), "the flag is there before the unit starts (its condition)"
        return cli.main(["run", "network-online"], root=tmp_path)

    capfd.readouterr()
    assert cli.main(["retry", "--now"], root=tmp_path, systemctl=systemctl) == 1
    assert calls == [["restart", "keel-firstboot-network-online.service"]]
    assert "FAILED with exit status 3" in capfd.readouterr().out


def test_retry_without_an_installed_hook_is_an_error(tmp_path, capfd):
    assert cli.main(["retry"], root=tmp_path) == 1
    assert "no first-boot hook is installed" in capfd.readouterr().err


def test_an_unreadable_status_file_is_a_one_line_error(tmp_path, capfd):
    paths = install(tmp_path, OK_SCRIPT)
    paths.status.write_text("{not json")
    assert cli.main(["status"], root=tmp_path) == 2
    err = capfd.readouterr().err
    assert err.startswith("E: ") and "status.json: not valid JSON" in err
    assert cli.main(["run"], root=tmp_path) == 0, "a broken record never stops the hook"


def test_help_explains_orderings_retries_and_gives_examples(capfd):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capfd.readouterr().out
    for text in ("before-network", "network-online", "fully-up", "keel-firstboot retry --now",
                 "does not run again by", "examples:", "/var/log/keel/first-boot.log"):
        assert text in out.replace("\n", " ").replace("  ", " ") or text in out, text
    assert ALIAS_LINK.endswith("keel-firstboot.service")


def test_wrong_arguments_are_one_line_and_exit_2(capfd):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "sometime"])
    assert exit_.value.code == 2
    assert len(capfd.readouterr().err.strip().splitlines()) == 1
