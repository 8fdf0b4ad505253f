"""`keel-installer probe` writes this machine's profile."""

from __future__ import annotations

import pytest

from installer import cli
from installer.core.hardware import HardwareProfile


def test_probe_writes_a_profile_that_loads(tmp_path, capsys):
    target = tmp_path / "host.json"
    assert cli.main(["probe", "-o", str(target)]) == 0
    assert HardwareProfile.load(target).memory_mib > 0
    assert capsys.readouterr().err.startswith(f"wrote {target}: ")


def test_probe_help_has_an_example(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["probe", "--help"])
    assert stop.value.code == 0
    assert "Example: keel-installer probe -o server.json" in capsys.readouterr().out
