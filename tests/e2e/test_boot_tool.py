"""keel-boot-tool on installed ZFS RAID1 systems (issue 6): kernels, pins, cmdline and a disk replacement.

Each story installs from an answer file, then works on the installed system as an administrator would.
No network in the guest: a "second kernel" is the installed kernel under a newer version string (same
binary, so it boots), which is all the ESP sync can tell apart anyway. Skipped when build/keel.iso is missing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keel_harness import Disk, GiB, Iso, Machine, Outcome, build_answer_image, build_outputs, wait_for_verdict
from keel_harness.verdicts import REBOOTING

REPO = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "install-test-pw"
INSTALL_TIMEOUT = 3600
BOOT_TIMEOUT = 900

ANSWER = """\
[global]
keyboard = "en-us"
country = "at"
fqdn = "{host}.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "{password}"

[network]
source = "from-dhcp"

[disk-setup]
filesystem = "zfs"
disk-list = ["vda", "vdb"]
zfs.raid = "RAID1"
"""

# Shell helpers run in the guest.
EACH_ESP = (
    "for u in $(cat /etc/kernel/proxmox-boot-uuids); do mkdir -p /mnt/esp-$u; "
    "mount -o ro /dev/disk/by-uuid/$u /mnt/esp-$u; {command}; umount /mnt/esp-$u; done"
)


@pytest.fixture(scope="module")
def iso() -> Path:
    outputs = build_outputs(REPO)
    if outputs is None:
        pytest.skip("build/keel.iso does not exist (make iso)")
    return outputs.iso


def installed_machine(iso: Path, tmp_path: Path, firmware: str, host: str) -> Machine:
    answer = build_answer_image(tmp_path / "answer.img", ANSWER.format(host=host, password=PASSWORD))
    machine = Machine(name=host, firmware=firmware, disks=[Disk(16 * GiB), Disk(16 * GiB)], boot=Iso(iso),
                      answer_image=answer, state_dir=tmp_path / "vm")
    machine.start()
    machine.select_boot_entry("a")
    verdict = wait_for_verdict(machine, INSTALL_TIMEOUT)
    assert verdict.outcome is Outcome.FINISHED, f"{verdict.line}\n{machine.console_tail(60)}"
    machine.wait_for_line([REBOOTING], timeout=60)
    machine.boot_from_disks()
    machine.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    return machine


def reboot_and_login(machine: Machine) -> None:
    """Power off and on (see Machine.power_cycle: a warm reset under OVMF once hung the firmware here); what
    the stories check - the default kernel, the one-time pin, the command line - does not depend on which."""
    machine.power_cycle()
    machine.login("root", PASSWORD, timeout=BOOT_TIMEOUT)


def running_kernel(machine: Machine) -> str:
    return machine.succeed("uname -r").strip()


def add_second_kernel(machine: Machine) -> str:
    """The installed kernel again under a version that sorts newer, as a kernel upgrade would leave it."""
    current = running_kernel(machine)
    newer = f"{current}.1"
    machine.succeed(f"cp /boot/vmlinuz-{current} /boot/vmlinuz-{newer} && "
                    f"cp /boot/initrd.img-{current} /boot/initrd.img-{newer}")
    return newer


def on_each_esp(machine: Machine, command: str) -> list[str]:
    out = machine.succeed(EACH_ESP.format(command=command) + " 2>&1")
    return out.splitlines()


def story_kernels_pins_and_cmdline(machine: Machine, booted_marker: str) -> None:
    """Shared by the UEFI and the BIOS story; `booted_marker` formats to a /proc/cmdline word per version."""
    first = running_kernel(machine)
    status = machine.succeed("keel-boot-tool status")
    assert status.count(f"versions: {first}") == 2, status

    newer = add_second_kernel(machine)
    machine.succeed("keel-boot-tool refresh")
    status = machine.succeed("keel-boot-tool status")
    assert status.count(f"{first}, {newer}") == 2, status
    reboot_and_login(machine)
    assert booted_marker.format(version=newer) in machine.succeed("cat /proc/cmdline")

    machine.succeed(f"keel-boot-tool kernel pin {first}")
    reboot_and_login(machine)
    assert booted_marker.format(version=first) in machine.succeed("cat /proc/cmdline")

    machine.succeed(f"keel-boot-tool kernel pin {newer} --next-boot")
    reboot_and_login(machine)
    assert booted_marker.format(version=newer) in machine.succeed("cat /proc/cmdline")
    machine.wait_until_fails("test -e /etc/kernel/next-boot-pin", timeout=120)
    reboot_and_login(machine)
    assert booted_marker.format(version=first) in machine.succeed("cat /proc/cmdline")
    machine.succeed("keel-boot-tool kernel unpin")

    machine.succeed("sed -i '1s/$/ keel.boottest=1/' /etc/kernel/cmdline && keel-boot-tool refresh")
    reboot_and_login(machine)
    assert "keel.boottest=1" in machine.succeed("cat /proc/cmdline").split()


def story_disk_replacement(machine: Machine, tmp_path: Path) -> Machine:
    """Disk 1 dies; a blank disk takes its place, gets the partition table, the pool and an ESP."""
    machine.shutdown()
    replaced = Machine(name=f"{machine.name}-replaced", firmware=machine.spec.firmware,
                       disks=[Disk(image=machine.disk_path(0), serial="KEELDISK0"), Disk(16 * GiB)],
                       boot="disk", state_dir=tmp_path / "vm-replaced")
    replaced.start()
    replaced.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    assert "DEGRADED" in replaced.succeed("zpool status rpool")
    replaced.succeed("sgdisk -R /dev/vdb /dev/vda && sgdisk -G /dev/vdb && udevadm settle")
    # The dead mirror half by its vdev GUID: its device path no longer exists.
    dead = replaced.succeed("zpool status -g rpool | awk '/UNAVAIL|REMOVED|FAULTED/ {print $1}'").split()[0]
    replaced.succeed(f"zpool replace -f rpool {dead} /dev/vdb3 && zpool wait -t resilver rpool", timeout=1800)
    replaced.succeed("keel-boot-tool format /dev/vdb2 --force")
    replaced.succeed("keel-boot-tool init /dev/vdb2")
    cleaned = replaced.succeed("keel-boot-tool clean")
    assert "Not found!" in cleaned
    status = replaced.succeed("keel-boot-tool status")
    assert "WARN" not in status and status.count("is configured with") == 2, status
    replaced.shutdown()
    alone = Machine(name=f"{machine.name}-new-disk-alone", firmware=machine.spec.firmware,
                    disks=[Disk(image=replaced.disk_path(1), serial="KEELDISK1")], boot="disk",
                    state_dir=tmp_path / "vm-alone")
    alone.start()
    alone.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    assert alone.succeed("findmnt -n -o SOURCE /").strip() == "rpool/ROOT/pve-1"
    return alone


def test_zfs_raid1_uefi_keeps_both_esps_in_sync_and_survives_a_disk_replacement(iso, tmp_path):
    machine = installed_machine(iso, tmp_path, "uefi", "boottool-uefi")
    try:
        assert "System currently booted with uefi" in machine.succeed("keel-boot-tool status")
        # systemd-boot hands the kernel the path of the initrd it loaded: it names the entry that booted.
        story_kernels_pins_and_cmdline(machine, r"initrd=\EFI\keel\{version}\initrd.img-{version}")
        options = on_each_esp(machine, "grep -h '^options' /mnt/esp-$u/loader/entries/keel-*.conf")
        assert options and all("keel.boottest=1" in line for line in options), options
        alone = story_disk_replacement(machine, tmp_path)
        alone.stop()
    finally:
        machine.stop()


def test_zfs_raid1_seabios_keeps_grub_on_both_esps_in_sync_and_survives_a_disk_replacement(iso, tmp_path):
    machine = installed_machine(iso, tmp_path, "bios", "boottool-bios")
    try:
        assert "System currently booted with legacy bios" in machine.succeed("keel-boot-tool status")
        story_kernels_pins_and_cmdline(machine, "BOOT_IMAGE=/vmlinuz-{version}")
        linux_lines = on_each_esp(machine, "grep -h 'linux /vmlinuz' /mnt/esp-$u/grub/grub.cfg")
        assert linux_lines and all("keel.boottest=1" in line for line in linux_lines), linux_lines
        alone = story_disk_replacement(machine, tmp_path)
        alone.stop()
    finally:
        machine.stop()
