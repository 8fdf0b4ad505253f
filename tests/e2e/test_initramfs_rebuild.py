"""The initramfs after an install that did not rebuild it (issue 13).

The install appends this host's files to the payload's prebuilt initramfs. These tests boot that result, then do
what an administrator (or the next kernel update) does: `update-initramfs -u`, and reboot into the image it made.
On ZFS the pool must import at boot without -f, so the hostid in the pool equals the system's; on every ESP
keel-boot-tool manages, the new image must be the one in /boot.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from keel_harness import Disk, GiB, Iso, Machine, Outcome, build_answer_image, ensure_built, wait_for_verdict
from keel_harness.verdicts import REBOOTING

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "install-test-pw"
INSTALL_TIMEOUT = 3600
BOOT_TIMEOUT = 900
REBUILD_TIMEOUT = 2400          # update-initramfs under TCG took 283-705 s in the install before issue 13

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
filesystem = "{fs}"
disk-list = {disks}
{extra}
"""

# sha256 of the running kernel's initramfs on every ESP keel-boot-tool manages, one "<uuid> <sum>" line each
ESP_SUMS = (
    "for u in $(cat /etc/kernel/proxmox-boot-uuids 2>/dev/null); do mkdir -p /mnt/esp-$u; "
    "mount -o ro /dev/disk/by-uuid/$u /mnt/esp-$u; "
    "f=$(find /mnt/esp-$u -name \"initrd.img-$(uname -r)\" | head -n1); "
    "echo \"$u $(sha256sum < \"$f\" | cut -d' ' -f1)\"; umount /mnt/esp-$u; done"
)


@pytest.fixture(scope="module")
def iso() -> Path:
    return ensure_built(REPO).iso


def install(iso: Path, tmp_path: Path, name: str, firmware: str, disks: int, fs: str, extra: str = "") -> Machine:
    names = ["vda", "vdb"][:disks]
    text = ANSWER.format(host=name, password=PASSWORD, fs=fs, disks=str(names).replace("'", '"'), extra=extra)
    machine = Machine(name=name, firmware=firmware, disks=[Disk(16 * GiB)] * disks, boot=Iso(iso),
                      answer_image=build_answer_image(tmp_path / "answer.img", text), state_dir=tmp_path / "vm")
    machine.start()
    machine.select_boot_entry("a")
    machine.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
    verdict = wait_for_verdict(machine, INSTALL_TIMEOUT)
    assert verdict.outcome is Outcome.FINISHED, f"{verdict.line}\n{machine.console_tail(60)}"
    machine.wait_for_line([REBOOTING], timeout=60)
    machine.boot_from_disks()
    machine.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    return machine


def initrd_sum(m: Machine) -> str:
    return m.succeed("sha256sum < /boot/initrd.img-$(uname -r)").split()[0]


def esp_sums(m: Machine) -> dict[str, str]:
    return dict(line.split() for line in m.succeed(ESP_SUMS).splitlines() if line.strip())


def rebuild_and_reboot(m: Machine) -> str:
    """`update-initramfs -u` as an administrator runs it, then a reboot into the new image; returns its sum."""
    before = initrd_sum(m)
    m.succeed("update-initramfs -u", timeout=REBUILD_TIMEOUT)
    after = initrd_sum(m)
    assert after != before, "update-initramfs -u made a new image"
    for uuid, digest in esp_sums(m).items():
        assert digest == after, f"the ESP {uuid} holds the new initramfs (keel-boot-sync ran)"
    m.reboot()
    m.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    assert initrd_sum(m) == after
    return after


def pool_hostid_matches(m: Machine) -> None:
    system = int(m.succeed("hostid").strip(), 16)
    pool = next(line for line in m.succeed("zdb -C rpool").splitlines() if line.strip().startswith("hostid:"))
    assert int(pool.split(":")[1].strip().strip("'")) == system, f"pool {pool.strip()}, system {system:08x}"


def test_zfs_raid1_with_ovmf_boots_the_appended_initramfs_then_a_rebuilt_one(iso, tmp_path):
    m = install(iso, tmp_path, "initrd-zfs", "uefi", 2, "zfs", 'zfs.raid = "RAID1"')
    with m:
        assert m.succeed("findmnt -n -o SOURCE /").strip() == "rpool/ROOT/pve-1"
        pool_hostid_matches(m)
        # the install's image (payload image + this host's files) is what keel-boot-tool put on both ESPs
        installed = initrd_sum(m)
        sums = esp_sums(m)
        assert len(sums) == 2 and set(sums.values()) == {installed}, sums
        arc = int(m.succeed("cat /sys/module/zfs/parameters/zfs_arc_max").strip())
        conf = m.succeed("cat /etc/modprobe.d/zfs.conf")
        assert f"zfs_arc_max={arc}" in conf, "the ARC limit from the appended modprobe options was applied at boot"
        rebuild_and_reboot(m)
        assert m.succeed("findmnt -n -o SOURCE /").strip() == "rpool/ROOT/pve-1"
        assert "state: ONLINE" in m.succeed("zpool status rpool")
        pool_hostid_matches(m)


def test_ext4_on_lvm_with_seabios_boots_the_appended_initramfs_then_a_rebuilt_one(iso, tmp_path):
    m = install(iso, tmp_path, "initrd-lvm", "bios", 1, "ext4")
    with m:
        assert m.succeed("findmnt -n -o SOURCE /").strip() == "/dev/mapper/pve-root"
        # the install wrote the grub.cfg the ISO build prepared for ext4 and the automated entry's kernel
        # parameters: the installed system's own update-grub writes the same file
        assert "prepared when the ISO was built" in m.succeed("cat /var/log/keel/install.log")
        m.succeed("cp /boot/grub/grub.cfg /root/grub.cfg.install && update-grub", timeout=REBUILD_TIMEOUT)
        m.succeed("cmp /root/grub.cfg.install /boot/grub/grub.cfg")
        rebuild_and_reboot(m)
        assert m.succeed("findmnt -n -o SOURCE /").strip() == "/dev/mapper/pve-root"
        assert m.succeed("findmnt -n -o FSTYPE /").strip() == "ext4"
        assert m.succeed("hostname").strip() == "initrd-lvm"
