"""An install's phases and verdict, read from the console the way the harness receives it (lines ending "\\r\\r\\n").

The consoles are the installer's own texts (installer/engine, core/events.ConsoleSink, frontends/auto.py).
"""

from pathlib import Path

import pytest

from keel_harness.verdicts import REBOOTING, Outcome, Verdict, wait_for_finish_screen, wait_for_verdict

RECORDED = (Path(__file__).parent / "console" / "auto-install-ext4.bin").read_bytes()
# installer/engine/phases.py's phases, each at the overall progress it starts at
PHASES = [
    "[  0%] Removing old storage on the selected disks",
    "[  3%] Partitioning disks",
    "[  6%] Creating volumes",
    "[ 11%] Creating file systems",
    "[ 16%] Mounting the target",
    "[ 17%] Extracting the base system",
    "[ 62%] Preparing the chroot",
    "[ 63%] Configuring the system",
    "[ 70%] Generating the initramfs",
    "[ 82%] Making the disks bootable",
    "[ 95%] Finishing",
]
FAILURE = "ERROR: Installation failed in phase 'Extracting the base system': command failed: " \
          "unsquashfs -f -d /target /usr/share/keel/payload.squashfs"
INTERRUPTION = "ERROR: Installation interrupted in phase 'Creating volumes'"


def serial(*lines: str) -> bytes:
    return "".join(line + "\r\r\n" for line in lines).encode()


def test_an_install_reads_as_its_phases_then_finished_then_the_reboot(console_machine):
    machine = console_machine(RECORDED)
    phases: list[str] = []
    assert wait_for_verdict(machine, timeout=30, on_phase=phases.append) == Verdict(
        Outcome.FINISHED, "Installation finished"
    )
    assert phases == PHASES
    _, rebooting = machine.wait_for_line([REBOOTING], timeout=30)
    assert rebooting.string == "Rebooting now - remove the installation medium."


@pytest.mark.parametrize(
    ("console", "verdict"),
    [
        (
            serial("[ 17%] Extracting the base system", FAILURE,
                   "command: unsquashfs -f -d /target /usr/share/keel/payload.squashfs",
                   "result: exit status 1 (fault injected by keel.fault)", "full log: /var/log/keel/install.log",
                   "Installation failed - see /var/log/keel/install.log",
                   "The install log is /var/log/keel/install.log (tty2 shows it live)."),
            Verdict(Outcome.FAILED, FAILURE),
        ),
        (
            serial("[  6%] Creating volumes", INTERRUPTION, "full log: /var/log/keel/install.log",
                   "Installation interrupted"),
            Verdict(Outcome.INTERRUPTED, INTERRUPTION),
        ),
        (
            serial("Keel 0.1.0: automated installation",
                   "ERROR: the answer from partition labelled PROXMOX-AIS cannot be used on this machine:",
                   "  disk-setup.disk-list: no disk vda (the disks are: sda)", "Nothing was written to any disk."),
            Verdict(Outcome.REFUSED, "Nothing was written to any disk."),
        ),
        (
            serial("Keel 0.1.0: automated installation",
                   "ERROR: https://10.0.2.2:41234/answer: the server's certificate does not match keel.fingerprint",
                   "Nothing was written to any disk."),
            Verdict(Outcome.REFUSED, "Nothing was written to any disk."),
        ),
    ],
    ids=[
        "a failing command: the error line naming the phase",
        "an interruption: the error line naming the phase",
        "an answer that does not fit the machine: refused before any write",
        "a wrong certificate fingerprint: refused before any write",
    ],
)
def test_the_first_verdict_line_decides(console_machine, console, verdict):
    assert wait_for_verdict(console_machine(console), timeout=30) == verdict


@pytest.mark.parametrize(
    ("screen", "outcome"),
    [
        (b"\x1b[3;28H\x1b[1mInstallation finished\x1b[0m\x1b[5;3HInstallation finished\x1b[22;34H< Reboot >",
         Outcome.FINISHED),
        (b"\x1b[3;29H\x1b[1mInstallation failed\x1b[0m\x1b[5;3HERROR: Installation failed in phase 'Creating volumes'",
         Outcome.FAILED),
    ],
    ids=["finished", "failed"],
)
def test_the_wizard_s_finish_screen_is_read_from_its_drawing(console_machine, screen, outcome):
    # urwid draws the screen with cursor moves: no line ends, so the title is found in the stream itself
    assert wait_for_finish_screen(console_machine(b"\x1b[?25l\x1b[H\x1b[2J" + screen), timeout=30) is outcome
