"""Issue 7's QEMU scenario: a person at the serial console of a SeaBIOS machine installs ext4 through the wizard,
at 80x24, choosing a host name and a root password; the machine then boots into the installed system with them."""

from __future__ import annotations

import pytest

from keel_harness import Disk, GiB, Iso, Outcome, timeouts
from keel_harness.verdicts import wait_for_finish_screen

pytestmark = pytest.mark.installs

ESC, DOWN = "\x1b", "\x1b[B"
CLEAR_FIELD = "\x05\x15"  # Ctrl-E (end of line), Ctrl-U (delete to its start)
PASSWORD = "wizard-test-pw"
HOST = "wiz1"
INSTALL_TIMEOUT = 3600


class SerialWizard:
    """The wizard on a machine's serial console, with named steps that wait for a screen before typing."""

    def __init__(self, machine):
        self.machine = machine

    def wait_for(self, text: str, timeout: float = 300) -> None:
        self.machine.wait_for_console_text(text, timeout=timeout)

    def mnemonic(self, letter: str) -> None:
        self.machine.send_keys(ESC + letter)

    def type(self, keys: str) -> None:
        self.machine.send_keys(keys)


def test_an_ext4_install_through_the_serial_wizard_boots_with_the_chosen_name_and_password(machine, iso):
    m = machine("wizard-ext4", firmware="bios", disks=[Disk(24 * GiB)], boot=Iso(iso))
    w = SerialWizard(m)
    m.start()
    m.select_boot_entry("s", timeout=timeouts.GRUB_MENU)
    m.wait_for_console_text(r"KEEL-READY mode=tui", timeout=timeouts.READY)
    w.wait_for("I agree")
    w.mnemonic("g")
    w.wait_for("Target disks and options")
    w.wait_for(r"Storage plan: ext4 on 1 disk")
    w.mnemonic("n")
    w.wait_for("Location, time zone and keyboard")
    w.mnemonic("n")
    w.wait_for("Administration password")
    w.type(PASSWORD + DOWN + PASSWORD + DOWN + CLEAR_FIELD + "admin@example.com")
    w.wait_for("admin@example.com")
    w.mnemonic("n")
    w.wait_for("Management network configuration")
    w.type(DOWN + CLEAR_FIELD + f"{HOST}.example.com")
    w.wait_for(rf"{HOST}\.example\.com")
    w.mnemonic("n")
    w.wait_for("Will be erased")
    w.wait_for("I understand")
    w.type(" ")  # the erase confirmation has the focus
    w.mnemonic("i")
    assert wait_for_finish_screen(m, INSTALL_TIMEOUT) is Outcome.FINISHED, m.console_tail(60)
    m.wait_for_console_text(r"GNU GRUB", timeout=timeouts.GRUB_MENU)  # rebooted: everything is on the disk

    m.boot_from_disks()
    m.login("root", PASSWORD, timeout=timeouts.READY)
    assert m.succeed("hostname").strip() == HOST
    assert f"{HOST}.example.com {HOST}" in m.succeed("cat /etc/hosts")
    assert m.succeed("findmnt -n -o SOURCE /").strip() == "/dev/mapper/pve-root"
    assert "auto vmbr0" in m.succeed("cat /etc/network/interfaces")
    assert "console=ttyS0" in m.succeed("cat /proc/cmdline"), "the installer's serial console carried over"
    assert PASSWORD not in m.succeed("cat /var/log/keel/install.log")
