"""`keel-installer auto` end to end on a recorded machine: refusals before any write, and a dry-run install."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from installer.cli import main

REPO = Path(__file__).resolve().parents[3]
HARDWARE = REPO / "answerfile/examples/hardware/example-server.json"
ANSWER = """\
[global]
keyboard = "de"
country = "at"
fqdn = "pve1.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "{password}"

[network]
source = "from-dhcp"

[disk-setup]
filesystem = "ext4"
disk-list = ["{disk}"]
"""
PASSWORD = "very-secret-pw-42"


@pytest.fixture
def auto(tmp_path, capsys, monkeypatch):

    def run(answer: str | None = None, cmdline: str = "keel.mode=auto", extra=()):
        (tmp_path / "cmdline").write_text(cmdline)
        argv = ["auto", "--hardware", str(HARDWARE), "--dry-run", "--live", str(tmp_path / "no-live.json"),
                "--cmdline", str(tmp_path / "cmdline"), *extra]
        if answer is not None:
            (tmp_path / "answer.toml").write_text(answer)
            argv += ["--answer", str(tmp_path / "answer.toml")]
        status = main(argv)
        return status, capsys.readouterr().out
    return run


def test_a_valid_answer_installs_in_a_dry_run_and_finishes(auto):
    status, out = auto(ANSWER.format(password=PASSWORD, disk="sda"))
    assert status == 0
    assert "Dry run finished" in out
    assert PASSWORD not in out


def test_a_too_small_disk_is_refused_before_any_write(auto):
    status, out = auto(ANSWER.format(password=PASSWORD, disk="sdg").replace(
        'filesystem = "ext4"', 'filesystem = "ext4"\nlvm.hdsize = 6'))
    assert status == 2
    assert out.splitlines()[-1] == "Nothing was written to any disk."
    assert "disk sdg is too small for an unattended install" in out
    assert "Removing old storage" not in out


def test_an_answer_with_a_problem_names_its_key(auto):
    status, out = auto(ANSWER.format(password="short", disk="sda"))
    assert status == 2
    assert "root-password" in out
    assert "Nothing was written to any disk." in out


def test_an_answer_from_a_pinned_https_url_is_used(auto, https_server):
    https_server.reply["body"] = ANSWER.format(password=PASSWORD, disk="sda")
    cmdline = f"keel.mode=auto keel.answer={https_server.url} keel.fingerprint={https_server.fingerprint}"
    status, out = auto(cmdline=cmdline)
    assert status == 0
    assert f"Answer: {https_server.url}" in out
    assert https_server.received[0]["body"]["$schema"] == {"version": "1.0"}


def test_a_wrong_fingerprint_is_refused_and_nothing_is_written(auto, https_server):
    status, out = auto(cmdline=f"keel.mode=auto keel.answer={https_server.url} keel.fingerprint={'00' * 32}")
    assert status == 2
    assert "does not match keel.fingerprint" in out
    assert out.splitlines()[-1] == "Nothing was written to any disk."
    assert https_server.received == []


def test_a_bad_fetch_network_parameter_is_one_error_line_and_nothing_is_written(auto):
    status, out = auto(cmdline="keel.mode=auto keel.vlan=mgmt:eno1 keel.answer=https://answers.invalid/a")
    assert status == 2
    assert "ERROR: keel.vlan=mgmt:eno1: the VLAN name 'mgmt' must end in a VLAN id 1-4094" in out
    assert out.splitlines()[-1] == "Nothing was written to any disk."


def test_a_subcommand_imports_only_its_own_frontend_and_the_bare_help_lists_them_all():
    probe = ("import sys; from installer.cli import build_parser; build_parser({!r}); "
             "print(sorted(m for m in ('urwid', 'installer.tui.cli', 'installer.frontends.plan') if m in sys.modules))")
    auto = subprocess.run([sys.executable, "-c", probe.format("auto")], capture_output=True, text=True, check=True)
    assert auto.stdout.strip() == "[]"
    every = subprocess.run([sys.executable, "-c", probe.format(None)], capture_output=True, text=True, check=True)
    assert "installer.tui.cli" in every.stdout and "installer.frontends.plan" in every.stdout
    usage = subprocess.run([sys.executable, "-m", "installer.cli", "--help"], capture_output=True, text=True,
                           check=True).stdout
    assert all(name in usage for name in ("plan", "run", "auto", "tui", "probe"))
