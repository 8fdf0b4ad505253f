"""`keel-firstboot provision`: the steps run against a pretend system (a fake runner whose checks turn true once
their step's command ran) over a scratch root for the files, with a fake clock: no real command, no real sleep."""

from __future__ import annotations

import io
import json
import socket
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from installer.installed_system.render.provision import render_provision_json
from keel_firstboot import cli
from keel_firstboot.layout import Paths
from keel_firstboot.provision import model
from keel_firstboot.provision.execute import Timing
from keel_firstboot.provision.record import DONE, RECORD, provision_state, read_record
from keel_firstboot.provision.steps import Facts, ProvisionStep, provision_steps
from keel_firstboot.runner import CommandFailed, Redactor, Runner
from keel_testing.samples import CLUSTER_SECRET, PROVISION, PROVISION_CONFIG

SECRETS = (CLUSTER_SECRET, "smb-pw", "AQD-ceph-key==", "AQD-cephfs-key==", "relay-pw")
SHORT = Timing(deadline=10, join_deadline=20)
DEFAULT = Timing()


class PowerCut(Exception):
    """The machine goes down: nothing after it runs, nothing catches it."""


class FakeSystem:
    """What the commands see: a check exits 0 once the command of its step ran; blkid finds the `used` disks;
    `failures[argv]` failing attempts first (their output names every secret); `cut` raises PowerCut at that command,
    after it took effect when `cut_after`."""

    def __init__(self, steps: list[ProvisionStep], *, failures: dict | None = None, used: tuple[str, ...] = (),
                 cut: tuple[str, ...] | None = None, cut_after: bool = True):
        self.effects = {s.argv: s.checks for s in steps if s.kind == "run"}
        self.checks = {c for s in steps for c in s.checks}
        self.true: set[tuple[str, ...]] = set()
        self.ran: list[tuple[str, ...]] = []
        self.failures = dict(failures or {})
        self.used, self.cut, self.cut_after = used, cut, cut_after
        self.now = 0.0
        self.sleeps: list[float] = []

    def runner(self, log, redact: Redactor, root: Path) -> Runner:
        system = self

        class Fake(Runner):
            def execute(self, argv, timeout):
                assert argv[:2] == ("chroot", str(root)), "commands run inside the provisioned system"
                return system.execute(argv[2:])

        return Fake(log, redact, root)

    def execute(self, argv: tuple[str, ...]) -> tuple[int, bytes, str]:
        if argv == ("agetty", "--reload"):         # the console's status line (test_provision_feedback)
            return 0, b"", ""
        if argv in self.checks:
            return (0 if argv in self.true else 1), b"", "exit status 1"
        if argv[:2] == ("blkid", "--probe"):
            return (0, f'{argv[2]}: TYPE="zfs_member"\n'.encode(), "") if argv[2] in self.used else (2, b"", "")
        if self.failures.get(argv, 0) > 0:
            self.failures[argv] -= 1
            return 1, f"peer down; tried with {' and '.join(SECRETS)}\n".encode(), "exit status 1"
        if argv == self.cut and not self.cut_after:
            raise PowerCut(argv)
        self.ran.append(argv)
        self.true.update(self.effects[argv])
        if argv == self.cut:
            self.cut = None
            raise PowerCut(argv)
        return 0, b"", ""

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def provision(self, paths: Paths, timing: Timing = DEFAULT) -> tuple[int, str]:
        out = io.StringIO()
        code = cli.provision(paths, make_runner=self.runner, timing=timing, clock=lambda: self.now, sleep=self.sleep,
                             out=out)
        return code, out.getvalue()


def system_with(tmp_path: Path, provision=PROVISION, hostname: str = "pve1") -> tuple[Paths, list[ProvisionStep]]:
    """The installed system as the installer leaves it: its host name and /etc/keel/provision.json."""
    config = replace(PROVISION_CONFIG, provision=provision,
                     network=replace(PROVISION_CONFIG.network, hostname=hostname))
    paths = Paths(tmp_path)
    (tmp_path / "etc/keel").mkdir(parents=True)
    (tmp_path / "etc/hostname").write_text(f"{hostname}\n")
    (tmp_path / "etc/keel/provision.json").write_text(render_provision_json(config))
    doc = model.load(paths.at(model.PATH))
    return paths, provision_steps(doc, Facts(hostname))


def states(paths: Paths) -> list[str]:
    return [s.state for s in read_record(paths).steps]


def test_a_first_run_does_every_kind_of_step_once_in_order(tmp_path):
    paths, steps = system_with(tmp_path)
    system = FakeSystem(steps)
    code, out = system.provision(paths)
    assert code == 0, out
    assert system.ran == [s.argv for s in steps if s.kind == "run"], "every command once, in the plan's order"
    assert states(paths) == ["done"] * len(steps)
    assert all(s.attempts == 1 for s in read_record(paths).steps)
    conf = paths.at("/etc/corosync/corosync.conf")
    assert conf.read_text() == steps[1].text and stat.S_IMODE(conf.stat().st_mode) == 0o644
    for secret in ("/etc/pve/priv/storage/smb.pw", "/etc/pve/priv/ceph/ceph-vm.keyring",
                   "/etc/pve/priv/ceph/ceph-fs.secret"):
        assert stat.S_IMODE(paths.at(secret).stat().st_mode) == 0o600
    assert paths.at(secret).read_text() == "AQD-cephfs-key=="
    cfg = paths.at("/etc/pve/storage.cfg").read_text()
    registered = [s.id for s in PROVISION.storage if s.nodes in ((), ("pve1",), ("pve1", "pve2"))]
    assert [line.split(": ")[1] for line in cfg.splitlines() if line and not line[0].isspace()] == registered
    assert "\n\n" in cfg and "\n\n\n" not in cfg, "stanzas are separated by one blank line"
    assert paths.at(DONE).exists() and json.loads(paths.at(RECORD).read_text())["state"] == "succeeded"


def test_after_success_nothing_runs_again(tmp_path):
    paths, steps = system_with(tmp_path)
    system = FakeSystem(steps)
    system.provision(paths)
    record, ran = paths.at(RECORD).read_text(), len(system.ran)
    code, out = system.provision(paths)
    assert (code, out) == (0, "provision: succeeded earlier; nothing to do\n")
    assert len(system.ran) == ran and paths.at(RECORD).read_text() == record


def test_every_step_already_true_is_skipped_on_a_second_run(tmp_path):
    paths, steps = system_with(tmp_path)
    system = FakeSystem(steps)
    system.provision(paths)
    paths.at(DONE).unlink()
    paths.at(RECORD).unlink()
    ran = len(system.ran)
    code, out = system.provision(paths)
    assert code == 0, out
    assert len(system.ran) == ran, "no command runs twice"
    assert states(paths) == ["skipped"] * len(steps)
    assert out.count("already done, skipped") == len(steps)
    cfg = paths.at("/etc/pve/storage.cfg").read_text()
    assert cfg.count("zfspool: tank\n") == 1, "a storage is registered once"


def test_a_failing_step_is_retried_with_backoff_then_fails_at_its_deadline(tmp_path):
    paths, steps = system_with(tmp_path)
    zpool = next(s.argv for s in steps if s.argv[:2] == ("zpool", "create"))
    system = FakeSystem(steps, failures={zpool: 1000})
    code, _ = system.provision(paths)
    assert code == 1
    # 1 s doubling to 60 s; the next wait would end after the 5 minutes: 1+2+4+8+16+32+60+60+60 = 243, +60 > 300
    assert system.sleeps == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    record = read_record(paths)
    failed = record.failed_step
    assert failed.subject == "storage tank" and failed.attempts == 10
    assert "zpool create" in failed.last_error and "exit status 1" in failed.last_error
    n = steps.index(next(s for s in steps if s.argv == zpool)) + 1
    assert record.state == "failed" and record.reason.startswith(f"step {n}/{len(steps)}, storage tank: ")
    assert states(paths)[n:] == ["pending"] * (len(steps) - n), "nothing after the failed step ran"
    assert not paths.at(DONE).exists()


def test_a_step_that_succeeds_before_its_deadline_is_done(tmp_path):
    paths, steps = system_with(tmp_path)
    pvcreate = next(s.argv for s in steps if s.argv[:1] == ("pvcreate",))
    system = FakeSystem(steps, failures={pvcreate: 2})
    assert system.provision(paths, SHORT)[0] == 0
    assert system.sleeps == [1, 2]
    rec = next(s for s in read_record(paths).steps if s.summary == "make the disks LVM PVs")
    assert (rec.state, rec.attempts) == ("done", 3)


def test_a_failed_provision_waits_for_retry_then_goes_on_where_it_stopped(tmp_path, capsys):
    paths, steps = system_with(tmp_path)
    zpool = next(s.argv for s in steps if s.argv[:2] == ("zpool", "create"))
    system = FakeSystem(steps, failures={zpool: 4})
    assert system.provision(paths, SHORT)[0] == 1, "deadline 10 s: attempts at 0, 1, 3 and 7 s"
    assert system.sleeps == [1, 2, 4]
    ran = len(system.ran)
    code, out = system.provision(paths, SHORT)
    assert code == 1 and "'keel-firstboot retry' re-arms it" in out
    assert len(system.ran) == ran, "a failed run is not re-run by itself"
    assert cli.main(["retry"], root=paths.root) == 0
    assert "provision re-armed" in capsys.readouterr().out
    assert provision_state(paths, True, read_record(paths)) == "pending"
    assert system.provision(paths, SHORT)[0] == 0
    assert system.ran[ran:ran + 1] == [zpool], "the failed step runs first, the ones done before are not repeated"
    record = read_record(paths)
    assert record.runs == 2 and states(paths) == ["done"] * len(steps)
    assert next(s for s in record.steps if s.subject == "storage tank").attempts == 5
    assert cli.main(["status"], root=paths.root) == 0
    out = capsys.readouterr().out
    assert "done     storage tank: create ZFS pool tank (RAID1) on 2 disks (5 attempts)\n" in out
    assert "an earlier attempt failed: zpool create -o ashift=12" in out and "last error" not in out


def test_retry_now_runs_a_failed_provision_at_once(tmp_path, capsys):
    paths, steps = system_with(tmp_path)
    zpool = next(s.argv for s in steps if s.argv[:2] == ("zpool", "create"))
    system = FakeSystem(steps, failures={zpool: 4})
    system.provision(paths, SHORT)
    assert cli.retry(paths, True, None, run_provision=lambda p: system.provision(p, SHORT)[0]) == 0
    assert paths.at(DONE).exists()


@pytest.mark.parametrize("after", [
    pytest.param(True, id="cut after the command took effect: the re-run finds it true and does not repeat it"),
    pytest.param(False, id="cut before the command took effect: the re-run runs it"),
])
def test_a_power_cut_mid_way_is_followed_by_a_clean_rerun(tmp_path, after):
    paths, steps = system_with(tmp_path)
    vgcreate = next(s.argv for s in steps if s.argv[:1] == ("vgcreate",))
    system = FakeSystem(steps, cut=vgcreate, cut_after=after)
    with pytest.raises(PowerCut):
        system.provision(paths)
    record = read_record(paths)
    assert record.state == "running"
    assert provision_state(paths, True, record, alive=lambda pid: False) == "interrupted"
    n = next(i for i, s in enumerate(steps) if s.argv == vgcreate)
    assert states(paths)[:n] == ["done"] * n and states(paths)[n:] == ["pending"] * (len(steps) - n)
    system.cut = None
    assert system.provision(paths)[0] == 0
    assert system.ran == [s.argv for s in steps if s.kind == "run"], "every command took effect exactly once"
    record = read_record(paths)
    assert record.runs == 2 and record.steps[n].state == "done" and record.steps[n].attempts == (1 if after else 2)
    assert paths.at(DONE).exists()


def test_a_join_through_a_peer_that_is_down_is_retried_until_its_deadline(tmp_path):
    with socket.socket() as s:          # a port nobody listens on: the peer's join service is not up
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cluster = replace(PROVISION.cluster, mode="join", peer=f"127.0.0.1:{port}")
    paths, steps = system_with(tmp_path, replace(PROVISION, cluster=cluster, storage=()), "pve2")
    system = FakeSystem(steps)
    code, _ = system.provision(paths, SHORT)
    record = read_record(paths)
    assert code == 1 and record.steps[0].state == "failed"
    assert record.steps[0].last_error.startswith(f"cannot reach the join service at 127.0.0.1:{port}")
    assert system.sleeps == [1, 2, 4, 8], "retried with backoff until the join's deadline"
    assert system.ran == [], "corosync is not started without the join"


def test_a_disk_that_is_no_longer_blank_is_left_alone(tmp_path):
    paths, steps = system_with(tmp_path)
    tank = next(s for s in steps if s.argv[:2] == ("zpool", "create"))
    system = FakeSystem(steps, used=tank.devices[1:])
    assert system.provision(paths)[0] == 1
    failed = read_record(paths).failed_step
    assert failed.subject == "storage tank" and failed.attempts == 1
    assert failed.last_error.startswith(f"{tank.devices[1]} is not blank") and "zfs_member" in failed.last_error
    assert tank.argv not in system.ran


def test_secrets_are_never_in_the_log_or_the_record(tmp_path):
    paths, steps = system_with(tmp_path)
    failing = {s.argv: 1 for s in steps if s.kind == "run"}
    system = FakeSystem(steps, failures=failing)
    code, out = system.provision(paths, SHORT)
    assert code == 0 and "<redacted>" in out
    log, record = paths.log.read_text(), paths.at(RECORD).read_text()
    assert "<redacted>" in log and "<redacted>" in record
    for secret in SECRETS:
        assert secret not in log and secret not in record and secret not in out
    assert stat.S_IMODE(paths.at(RECORD).stat().st_mode) == 0o600
    assert stat.S_IMODE(paths.log.stat().st_mode) == 0o600


def test_status_shows_each_steps_state_and_the_last_error(tmp_path, capsys):
    paths, steps = system_with(tmp_path)
    zpool = next(s.argv for s in steps if s.argv[:2] == ("zpool", "create"))
    FakeSystem(steps, failures={zpool: 1000}).provision(paths, SHORT)
    assert cli.main(["status"], root=paths.root) == 1
    out = capsys.readouterr().out
    assert out.startswith("first-boot hook: none (the answer had no [first-boot] section)\nprovision: FAILED: step ")
    assert "   1. done     cluster rack1: make /etc/corosync/authkey (1 attempt)\n" in out
    assert "FAILED   storage tank: create ZFS pool tank (RAID1) on 2 disks (4 attempts)\n" in out
    assert "last error: zpool create -o ashift=12" in out
    assert f"pending  storage {PROVISION.storage[-1].id}: add cephfs: ceph-fs" in out
    assert "'keel-firstboot retry' re-arms it" in out
    assert cli.main(["status", "--json"], root=paths.root) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "none" and data["provision"]["state"] == "failed"
    assert data["provision"]["run"]["steps"][0]["state"] == "done"


def test_status_before_and_after_provisioning(tmp_path, capsys):
    paths, steps = system_with(tmp_path)
    assert cli.main(["status"], root=paths.root) == 0
    assert "provision: pending: keel-provision.service runs it at the next boot" in capsys.readouterr().out
    FakeSystem(steps).provision(paths)
    assert cli.main(["status"], root=paths.root) == 0
    assert "provision: succeeded: it does not run again" in capsys.readouterr().out


def test_provision_without_a_provision_section_does_nothing(tmp_path, capsys):
    assert cli.main(["provision", "--root", str(tmp_path)]) == 0
    assert capsys.readouterr().out == "provision: none (the answer had no [provision] section)\n"
    assert not (tmp_path / RECORD.lstrip("/")).exists()


def test_every_command_step_has_a_check_so_a_rerun_never_repeats_it_blindly(tmp_path):
    cluster = replace(PROVISION.cluster, mode="join", peer="pve1.example.com")
    _, founder = system_with(tmp_path / "founder")
    _, joiner = system_with(tmp_path / "joiner", replace(PROVISION, cluster=cluster), "pve2")
    assert all(s.checks for s in founder + joiner if s.kind == "run")
    zpool = next(s for s in founder if s.argv[:2] == ("zpool", "create"))
    assert zpool.checks == (("zpool", "list", "-H", "-o", "name", "tank"),)


def test_plan_json_shows_the_checks(tmp_path, capsys):
    system_with(tmp_path)
    assert cli.main(["plan", "--json"], root=tmp_path) == 0
    first = json.loads(capsys.readouterr().out)[0]
    assert first["argv"] == ["corosync-keygen"] and first["checks"] == [["test", "-s", "/etc/corosync/authkey"]]


def test_only_the_provision_unit_runs_provision():
    """The installer enables the hook's units on every install with [first-boot]; provisioning runs only from
    keel-provision.service, which it enables with [provision]."""
    units = Path(__file__).resolve().parents[3] / "post-install" / "systemd"
    runs = {unit.name for unit in units.iterdir() for line in unit.read_text().splitlines()
            if line.startswith("ExecStart") and "provision" in line}
    assert runs == {"keel-provision.service"}


def test_the_runner_logs_redacted_commands_and_output_and_raises_on_failure():
    lines: list[str] = []
    runner = Runner(lines.append, Redactor(["s3cret-pw"]))
    assert runner.run(["sh", "-c", "echo s3cret-pw; echo two >&2"]).output == "<redacted>\ntwo\n"
    with pytest.raises(CommandFailed, match=r"exit status 3: <redacted>") as err:
        runner.run(["sh", "-c", "echo s3cret-pw; exit 3", "s3cret-pw"])
    assert "s3cret-pw" not in str(err.value) and not any("s3cret-pw" in line for line in lines)
    assert runner.run(["sleep", "5"], timeout=0.2, check=False).code == 124
    assert runner.run(["/nonexistent/keel-command"], check=False).code == 127


def test_a_step_cut_short_is_not_refused_for_what_it_wrote_itself(tmp_path):
    paths, steps = system_with(tmp_path)
    tank = next(s for s in steps if s.argv[:2] == ("zpool", "create"))
    system = FakeSystem(steps, cut=tank.argv, cut_after=False)
    with pytest.raises(PowerCut):
        system.provision(paths)
    system.cut, system.used = None, tank.devices        # half-written labels: blkid finds something now
    assert system.provision(paths)[0] == 0
    assert system.ran.count(tank.argv) == 1


@pytest.mark.parametrize("value, join_deadline", [
    pytest.param(None, 1800.0, id="unset: a join waits 30 minutes"),
    pytest.param("", 1800.0, id="empty: as unset"),
    pytest.param("90", 90.0, id="90: a join waits 90 s"),
    pytest.param(" 2.5 ", 2.5, id="a fraction with blanks around it"),
])
def test_the_join_deadline_comes_from_the_environment_when_set(value, join_deadline):
    timing = cli.provision_timing({} if value is None else {cli.JOIN_DEADLINE_ENV: value})
    assert timing.join_deadline == join_deadline
    assert timing.deadline == 300.0, "the other steps keep theirs"


@pytest.mark.parametrize("value", ["soon", "0", "-5", "inf", "nan"])
def test_a_join_deadline_that_is_not_seconds_above_0_is_refused_naming_the_variable(value, monkeypatch, tmp_path,
                                                                                 capsys):
    monkeypatch.setenv(cli.JOIN_DEADLINE_ENV, value)
    assert cli.main(["provision"], root=tmp_path) == cli.EXIT_USAGE
    assert f"E: {cli.JOIN_DEADLINE_ENV}={value!r} is not a number of seconds above 0" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["provision"], ["retry", "--now"]])
def test_provision_and_retry_now_run_with_the_join_deadline_from_the_environment(command, monkeypatch, tmp_path):
    given = []
    monkeypatch.setattr(cli, "provision", lambda paths, timing: given.append(timing) or 0)
    monkeypatch.setattr(cli, "retry", lambda paths, now, systemctl, run: run(paths))
    monkeypatch.setenv(cli.JOIN_DEADLINE_ENV, "60")
    assert cli.main(command, root=tmp_path) == 0
    assert [t.join_deadline for t in given] == [60.0]
