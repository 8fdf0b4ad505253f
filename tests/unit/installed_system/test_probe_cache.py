"""The install-time vgs cache for GRUB's tools: the repeated query is answered once, everything else passes through."""

from __future__ import annotations

import subprocess

from installer.bootloader.probe_cache import CACHE_DIR, QUERY, SCRIPT, SEARCH_PATH, install_vgs_cache


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
    script = tmp_path / "keel-vgs-cache" / "vgs"
    assert script.read_text() == SCRIPT and script.stat().st_mode & 0o777 == 0o755
    assert env == {"PATH": SEARCH_PATH} and SEARCH_PATH.startswith(CACHE_DIR + ":")
