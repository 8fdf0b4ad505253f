"""keel-live-start picks the mode and the installer's console from the kernel command line."""

import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[3] / "iso-build/live/rootfs/usr/bin/keel-live-start"


def explain(tmp_path: Path, cmdline: str, tty: str) -> str:
    cmdline_file = tmp_path / "cmdline"
    cmdline_file.write_text(cmdline + "\n")
    result = subprocess.run(["bash", str(SCRIPT), "--explain", tty], capture_output=True, text=True, check=True,
                            env={"KEEL_CMDLINE_FILE": str(cmdline_file), "PATH": "/usr/bin:/bin"})
    return result.stdout.strip()


@pytest.mark.parametrize(("cmdline", "tty", "expected"), [
    ("boot=live keel.mode=tui quiet", "tty1", "mode=tui installer_console=tty1 this_console=tty1 role=installer"),
    ("boot=live keel.mode=tui console=ttyS0,115200", "ttyS0",
     "mode=tui installer_console=ttyS0 this_console=ttyS0 role=installer"),
    ("boot=live keel.mode=tui console=ttyS0,115200", "tty1",
     "mode=tui installer_console=ttyS0 this_console=tty1 role=shell"),
    ("boot=live keel.mode=auto console=tty0 console=ttyS0,115200", "ttyS0",
     "mode=auto installer_console=ttyS0 this_console=ttyS0 role=installer"),
    ("boot=live keel.mode=debug console=ttyS0,115200 console=tty0", "tty1",
     "mode=debug installer_console=tty1 this_console=tty1 role=installer"),
    ("boot=live", "tty1", "mode=tui installer_console=tty1 this_console=tty1 role=installer"),
], ids=[
    "tui on vga runs on tty1",
    "serial tui runs on ttyS0",
    "tty1 offers a shell when the installer is on serial",
    "auto runs on the last console, the serial one",
    "tty0 last means tty1",
    "no mode means tui",
])
def test_installer_console_is_the_last_console_parameter(tmp_path, cmdline, tty, expected):
    assert explain(tmp_path, cmdline, tty) == expected
