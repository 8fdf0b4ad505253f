"""The ISO boots under SeaBIOS and OVMF, as a CD and as a raw USB disk, to the ready installer on ttyS0;
debug mode gives a root shell with the storage tools and the installer's Python libraries.

Four boots cover the four firmware x medium combinations: SeaBIOS + CD goes through the debug entry (its shell,
then `exit` on to the installer), the other three through the serial TUI entry. Each boot costs minutes
under TCG, so CI's smoke set leaves out OVMF + CD here: the ZFS RAID1 install smoke test boots the ISO as a CD
under OVMF to the ready installer on the serial console (`KEEL-READY mode=auto`) anyway.
"""

from pathlib import Path

import pytest

from keel_harness import Disk, GiB, Iso, UsbImage, timeouts


@pytest.mark.parametrize(
    ("firmware", "medium"),
    [
        pytest.param("uefi", "cd", id="OVMF boots the ISO as a CD"),
        pytest.param("bios", "usb", id="SeaBIOS boots the ISO written raw to a USB stick", marks=pytest.mark.smoke),
        pytest.param("uefi", "usb", id="OVMF boots the ISO written raw to a USB stick", marks=pytest.mark.smoke),
    ],
)
def test_the_serial_tui_entry_reaches_the_ready_installer(machine, iso: Path, firmware: str, medium: str):
    boot = Iso(iso) if medium == "cd" else UsbImage(iso)
    m = machine(f"{firmware}-{medium}", firmware=firmware, disks=[Disk(8 * GiB)], boot=boot)
    m.start()
    m.select_boot_entry("s", timeout=timeouts.GRUB_MENU)
    m.wait_for_console_text(r"KEEL-READY mode=tui", timeout=timeouts.READY)


DEBUG_SHELL_CHECKS = [
    "lsblk",
    "vgs",
    "zpool version",
    "python3 -c 'import blivet, urwid, pyudev, parted, requests'",
]


@pytest.mark.smoke
def test_seabios_cd_debug_mode_gives_a_root_shell_with_the_storage_stack_then_the_ready_installer(
    machine, iso: Path
):
    m = machine("bios-cd-debug", firmware="bios", disks=[Disk(8 * GiB), Disk(8 * GiB, bus="scsi")], boot=Iso(iso))
    m.start()
    m.select_boot_entry("d", timeout=timeouts.GRUB_MENU)
    m.wait_for_debug_shell("before-install", timeout=timeouts.READY)
    for command in DEBUG_SHELL_CHECKS:
        m.succeed(command, timeout=timeouts.COMMAND)
    assert m.succeed("id -u", timeout=timeouts.COMMAND).strip() == "0"
    # the virtio disk and the virtio-scsi disk are both there
    assert m.succeed("lsblk -d -n -o TYPE /dev/vda /dev/sda", timeout=timeouts.COMMAND).split() == ["disk", "disk"]
    m.sendline("exit")
    m.wait_for_console_text(r"KEEL-READY mode=debug", timeout=timeouts.READY)
