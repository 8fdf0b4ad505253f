"""Plans from the real planner run through every storage phase (FakeRunner): the two sides fit together."""

from __future__ import annotations

import pytest

from installer.core.config import (
    BtrfsOptions,
    BtrfsRaid,
    DiskSetup,
    Filesystem,
    InstallConfig,
    LvmOptions,
    NetworkConfig,
    RootAccess,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import Disk, HardwareProfile
from installer.runner import Result
from installer.storage import apply
from installer.storage.plan import plan

GiB = 1024**3


def hardware(count: int, *, sector: int = 512) -> HardwareProfile:
    disks = tuple(
        Disk(name=f"sd{c}", path=f"/dev/sd{c}", size_bytes=64 * GiB, logical_block_size=sector,
             physical_block_size=sector, serial=f"QM0000{i}",
             udev={"DEVLINKS": f"/dev/disk/by-id/ata-QEMU_HARDDISK_QM0000{i} /dev/disk/by-path/pci-0-ata-{i}"})
        for i, c in enumerate("abcd"[:count], start=1))
    return HardwareProfile(disks=disks, memory_mib=2048, boot_mode="efi")


def config(setup: DiskSetup) -> InstallConfig:
    net = NetworkConfig(interface="eno1", hostname="pve1", domain="example.com", cidr="192.168.1.10/24",
                        gateway="192.168.1.1", dns="192.168.1.1")
    return InstallConfig(disk_setup=setup, network=net, root=RootAccess(password="install-test-pw"),
                         country="at", timezone="UTC", keyboard="en-us", mailto="root@example.com", unattended=True)


def run_all(harness, storage_plan, monkeypatch):
    import installer.storage.apply.mount as mount
    import installer.storage.apply.partition as partition

    monkeypatch.setattr(partition, "write_gpt", lambda disk, hold=None: None)
    monkeypatch.setattr(mount, "read_mountinfo", lambda: "")
    monkeypatch.setitem(__import__("sys").modules, "blivet", None)
    harness.runner.responders.append(
        lambda argv, _: Result(argv, 0, "yes\n") if argv[:2] == ("zfs", "get") else None)
    ctx = harness.context(storage_plan)
    for phase in (apply.teardown_existing, apply.partition_disks, apply.create_volumes, apply.make_filesystems,
                  apply.mount_target, apply.write_back, apply.unmount_target, apply.finalize_storage):
        phase(ctx)
    return harness.commands()


@pytest.mark.parametrize("sector", [512, 4096], ids=["512-byte sectors", "4Kn"])
def test_a_planned_ext4_install_creates_lvs_of_exactly_the_planned_kib(harness, monkeypatch, sector):
    p = plan(config(DiskSetup(Filesystem.EXT4, ("/dev/sda",), lvm=LvmOptions())), hardware(1, sector=sector))
    commands = run_all(harness, p, monkeypatch)
    created = {next(a[2:] for a in argv if a.startswith("-n")): next(a for a in argv if a.startswith("-L"))
               for argv in commands if argv[0] == "lvcreate"}
    assert created == {lv.name: f"-L{lv.size_bytes // 1024}K" for lv in p.lvm.lvs}
    assert ["mkfs.ext4", "-F", "-U", p.fs_uuids["root"], "/dev/pve/root"] in commands
    assert commands[-1] == ["sync"] and not any(argv[0] == "vgchange" for argv in commands)


def test_a_planned_zfs_raid10_builds_two_mirrors_of_by_id_partitions(harness, monkeypatch):
    disks = ("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd")
    p = plan(config(DiskSetup(Filesystem.ZFS, disks, zfs=ZfsOptions(ZfsRaid.RAID10))), hardware(4))
    commands = run_all(harness, p, monkeypatch)
    ids = [f"/dev/disk/by-id/ata-QEMU_HARDDISK_QM0000{i}-part3" for i in range(1, 5)]
    assert ["zpool", "create", "-f", "-o", "cachefile=none", "-o", "ashift=12", "-O", "atime=on", "-O", "relatime=on",
            "-O", "compression=on", "-O", "sync=disabled", "rpool",
            "mirror", ids[0], ids[1], "mirror", ids[2], ids[3]] in commands
    assert ["zpool", "set", "bootfs=rpool/ROOT/pve-1", "rpool"] in commands
    assert commands[-3:] == [["zfs", "set", "-u", "mountpoint=/var/lib/vz", "rpool/var-lib-vz"],
                             ["zpool", "export", "rpool"], ["sync"]]


def test_a_planned_btrfs_raid1_makes_the_filesystem_and_mounts_it(harness, monkeypatch):
    p = plan(config(DiskSetup(Filesystem.BTRFS, ("/dev/sda", "/dev/sdb"),
                              btrfs=BtrfsOptions(BtrfsRaid.RAID1, compress="zstd"))), hardware(2))
    commands = run_all(harness, p, monkeypatch)
    assert ["mkfs.btrfs", "-f", "-U", p.fs_uuids["root"], "-d", "raid1", "-m", "raid1", "/dev/sda3",
            "/dev/sdb3"] in commands
    assert ["mount", "-t", "btrfs", "-o", "noatime,compress=zstd", "/dev/sda3", "/target"] in commands
