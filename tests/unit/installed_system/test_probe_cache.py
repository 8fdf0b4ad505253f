"""The install-time vgs cache for GRUB's tools: the repeated query is answered once, everything else passes through."""

from __future__ import annotations

import subprocess

from installer.bootloader.probe_cache import (
    CACHE_DIR,
    PROBE_ANSWERS,
    PROBE_SCRIPT,
    QUERY,
    REAL_PROBE,
    SCRIPT,
    SEARCH_PATH,
    install_probe_cache,
    install_vgs_cache,
)


def sandboxed(tmp_path, exit_code=0):
    """The cache script with its two fixed paths moved into tmp_path, and a fake vgs counting its runs."""
    calls = tmp_path / "calls"
    real = tmp_path / "real-vgs"
    real.write_text(f'#!/bin/sh\necho "$*" >> {calls}\necho "  uuid-1:/dev/vda3"\nexit {exit_code}\n')
    real.chmod(0o755)
    cache = tmp_path / "cache"
    cache.mkdir()
    script = tmp_path / "vgs"
    script.write_text(SCRIPT.replace("/usr/sbin/vgs", str(real)).replace(CACHE_DIR, str(cache)))
    script.chmod(0o755)
    return script, calls, cache


def run(script, args):
    return subprocess.run([str(script), *args], capture_output=True, text=True, check=False)


def test_the_repeated_query_runs_vgs_once_and_answers_the_same_every_time(tmp_path):
    script, calls, _ = sandboxed(tmp_path)
    answers = [run(script, QUERY.split()) for _ in range(3)]
    assert {(a.returncode, a.stdout) for a in answers} == {(0, "  uuid-1:/dev/vda3\n")}
    assert calls.read_text().splitlines() == [QUERY]


def test_any_other_query_goes_to_vgs_every_time(tmp_path):
    script, calls, _ = sandboxed(tmp_path)
    for _ in range(2):
        assert run(script, ["--noheadings", "pve"]).stdout == "  uuid-1:/dev/vda3\n"
    assert calls.read_text().splitlines() == ["--noheadings pve"] * 2


def test_a_failing_vgs_is_not_cached_and_its_status_is_kept(tmp_path):
    script, calls, cache = sandboxed(tmp_path, exit_code=5)
    assert run(script, QUERY.split()).returncode == 5
    assert run(script, QUERY.split()).returncode == 5
    assert len(calls.read_text().splitlines()) == 2
    assert list(cache.iterdir()) == []


def test_install_writes_an_executable_script_under_the_targets_tmp_and_puts_it_first_on_path(tmp_path):
    env = install_vgs_cache(tmp_path)
    script = tmp_path / "tmp" / "keel-probe-cache" / "vgs"
    assert script.read_text() == SCRIPT and script.stat().st_mode & 0o777 == 0o755
    assert script.parent.stat().st_mode & 0o777 == 0o700
    assert env == {"PATH": SEARCH_PATH} and SEARCH_PATH.startswith(CACHE_DIR + ":")


FAKE_PROBE = """#!/bin/sh
echo "$*" >> {calls}
case "$*" in
    *fail*) echo "grub-probe: error: failed" >&2; exit 1 ;;
    *hints*) echo "--hint-bios=hd0,gpt3 --hint='lvmid/abc'" ;;
    *lines*) printf 'one\\ntwo\\n' ;;
    *) echo "answer to $*" ;;
esac
"""


def probe_sandbox(tmp_path):
    """The grub-probe cache with its fixed paths moved into tmp_path and a fake real grub-probe counting its runs."""
    calls, cache = tmp_path / "calls", tmp_path / "cache"
    cache.mkdir()
    real = cache / "grub-probe.real"
    real.write_text(FAKE_PROBE.format(calls=calls))
    real.chmod(0o755)
    script = tmp_path / "grub-probe"
    script.write_text(PROBE_SCRIPT.replace(CACHE_DIR, str(cache)))
    script.chmod(0o755)
    return script, calls, cache


def test_grub_probe_asks_each_question_once_and_answers_repeats_the_same(tmp_path):
    script, calls, _ = probe_sandbox(tmp_path)
    questions = [["--device", "/dev/mapper/pve-root", "--target=fs"],
                 ["--device", "/dev/mapper/pve-root", "--target=fs_uuid"],
                 ["--device", "/dev/mapper/pve-root", "--target=hints_string"]]
    first = [run(script, q) for q in questions]
    again = [run(script, q) for q in questions * 2]
    said = [(a.returncode, a.stdout, a.stderr) for a in first]
    assert [(a.returncode, a.stdout, a.stderr) for a in again] == said * 2
    assert first[0].stdout == "answer to --device /dev/mapper/pve-root --target=fs\n"
    assert first[2].stdout == "--hint-bios=hd0,gpt3 --hint='lvmid/abc'\n"
    assert calls.read_text().splitlines() == [" ".join(q) for q in questions]


def test_grub_probe_failures_and_several_lines_are_never_cached(tmp_path):
    script, calls, _ = probe_sandbox(tmp_path)
    for _ in range(2):
        failed = run(script, ["--target=fail", "/"])
        assert (failed.returncode, failed.stdout) == (1, "")
        assert "grub-probe: error: failed" in failed.stderr
        assert run(script, ["--target=lines", "/"]).stdout == "one\ntwo\n"
    assert calls.read_text().splitlines() == ["--target=fail /", "--target=lines /"] * 2


def test_grub_probe_arguments_with_a_tab_go_to_the_real_one_every_time(tmp_path):
    script, calls, _ = probe_sandbox(tmp_path)
    for _ in range(2):
        assert run(script, ["--device", "a\tb"]).returncode == 0
    assert len(calls.read_text().splitlines()) == 2


def test_a_question_that_starts_like_another_gets_its_own_answer(tmp_path):
    script, calls, _ = probe_sandbox(tmp_path)
    run(script, ["--target=fs", "/boot"])
    assert run(script, ["--target=fs", "/"]).stdout == "answer to --target=fs /\n"
    assert run(script, ["--target=fs", "/boot"]).stdout == "answer to --target=fs /boot\n"
    assert len(calls.read_text().splitlines()) == 2


def test_install_copies_the_real_grub_probe_next_to_the_cache_and_names_where_to_mount_it(tmp_path):
    real = tmp_path / "usr/sbin/grub-probe"
    real.parent.mkdir(parents=True)
    assert install_probe_cache(tmp_path) is None, "no grub-probe in the target: nothing to cache"
    real.write_bytes(b"\x7fELF real grub-probe")
    script, mount_on = install_probe_cache(tmp_path)
    assert mount_on == real
    assert script == tmp_path / CACHE_DIR.lstrip("/") / "grub-probe" and script.read_text() == PROBE_SCRIPT
    assert script.stat().st_mode & 0o777 == 0o755
    assert (tmp_path / REAL_PROBE.lstrip("/")).read_bytes() == b"\x7fELF real grub-probe"
    assert not (tmp_path / PROBE_ANSWERS.lstrip("/")).exists()
