"""`make demo` relays the install's phases from the VM's console and stops at the installer's verdict."""

from pathlib import Path

import pytest

from keel_harness.demo import follow_install
from keel_harness.spec import HarnessError

RECORDED = (Path(__file__).parent / "console" / "auto-install-ext4.bin").read_bytes()
STARTED = b"[  3%] Partitioning disks\r\r\n       Partitioning /dev/sda\r\r\n"


def test_each_phase_is_relayed_once_and_details_and_progress_stay_on_the_console(console_machine, capsys):
    follow_install(console_machine(RECORDED))
    assert capsys.readouterr().out.splitlines() == [
        "demo:   [  0%] Removing old storage on the selected disks",
        "demo:   [  3%] Partitioning disks",
        "demo:   [  6%] Creating volumes",
        "demo:   [ 11%] Creating file systems",
        "demo:   [ 16%] Mounting the target",
        "demo:   [ 17%] Extracting the base system",
        "demo:   [ 62%] Preparing the chroot",
        "demo:   [ 63%] Configuring the system",
        "demo:   [ 70%] Generating the initramfs",
        "demo:   [ 82%] Making the disks bootable",
        "demo:   [ 95%] Finishing",
    ]


@pytest.mark.parametrize(
    "verdict",
    [
        b"ERROR: Installation failed in phase 'Partitioning disks': command failed: sgdisk --zap-all /dev/sda",
        b"ERROR: Installation interrupted in phase 'Partitioning disks'",
        b"Nothing was written to any disk.",
    ],
    ids=["failed", "interrupted", "refused"],
)
def test_an_install_that_does_not_finish_is_an_error_naming_the_verdict(console_machine, verdict):
    with pytest.raises(HarnessError, match="the install did not finish") as error:
        follow_install(console_machine(STARTED + verdict + b"\r\r\n"))
    assert verdict.decode() in str(error.value)
