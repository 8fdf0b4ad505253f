"""Real StoragePlans (from the planner) for disks that are loop devices on the build host."""

from __future__ import annotations

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
from installer.storage.plan import StoragePlan, plan

GiB = 1024**3


def loop_plan(devices: list[str], fs: Filesystem, *, size: int = 10 * GiB, sector: int = 512,
              raid: str | None = None, compress: str = "off") -> StoragePlan:
    disks = tuple(Disk(name=d.removeprefix("/dev/"), path=d, size_bytes=size, logical_block_size=sector,
                       physical_block_size=sector, serial=f"LOOP-{i}") for i, d in enumerate(devices))
    if fs.uses_lvm:
        setup = DiskSetup(fs, tuple(devices), lvm=LvmOptions())
    elif fs == Filesystem.ZFS:
        setup = DiskSetup(fs, tuple(devices), zfs=ZfsOptions(ZfsRaid(raid or "RAID0")))
    else:
        setup = DiskSetup(fs, tuple(devices), btrfs=BtrfsOptions(BtrfsRaid(raid or "RAID0"), compress=compress))
    net = NetworkConfig(interface="eno1", hostname="pve1", domain="example.com", cidr="192.168.1.10/24",
                        gateway="192.168.1.1", dns="192.168.1.1")
    config = InstallConfig(disk_setup=setup, network=net, root=RootAccess(password="install-test-pw"),
                           country="at", timezone="UTC", keyboard="en-us", mailto="root@example.com",
                           unattended=True)
    return plan(config, HardwareProfile(disks=disks, memory_mib=2048, boot_mode="efi"))
