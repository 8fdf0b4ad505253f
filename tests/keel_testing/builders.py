"""Small builders for storage tests: disks, hardware profiles and install configs with sensible defaults."""

from __future__ import annotations

import os
from pathlib import Path

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
from installer.core.hardware import Disk, ExistingContent, HardwareProfile

GiB = 1024**3
MiB = 1024**2
KiB = 1024


def disk(name: str = "sda", size_gib: float = 100, *, sector: int = 512, serial: str = "",
         existing: tuple[ExistingContent, ...] = (), install_medium: bool = False, extra_bytes: int = 0) -> Disk:
    path = f"/dev/{name}"
    return Disk(name=name, path=path, size_bytes=int(size_gib * GiB) + extra_bytes, logical_block_size=sector,
                physical_block_size=sector, serial=serial or f"SER-{name}", existing=existing,
                install_medium=install_medium)


def hardware(*disks: Disk, memory_mib: int = 8192, boot_mode: str = "efi", arch: str = "amd64") -> HardwareProfile:
    return HardwareProfile(disks=disks, memory_mib=memory_mib, boot_mode=boot_mode, arch=arch)  # type: ignore[arg-type]


def config(setup: DiskSetup, *, unattended: bool = True, product: str = "pve") -> InstallConfig:
    net = NetworkConfig(interface="eno1", hostname="pve1", domain="example.com", cidr="192.168.1.10/24",
                        gateway="192.168.1.1", dns="192.168.1.1")
    return InstallConfig(disk_setup=setup, network=net, root=RootAccess(password="12345678"), country="at",
                         timezone="Europe/Vienna", keyboard="de", mailto="root@example.com",
                         unattended=unattended, product=product)


def lvm_setup(disk_path: str = "/dev/sda", fs: Filesystem = Filesystem.EXT4, **opts: float | None) -> DiskSetup:
    return DiskSetup(fs, (disk_path,), lvm=LvmOptions(**opts))  # type: ignore[arg-type]


def zfs_setup(raid: ZfsRaid, *paths: str, **opts: object) -> DiskSetup:
    return DiskSetup(Filesystem.ZFS, tuple(paths), zfs=ZfsOptions(raid, **opts))  # type: ignore[arg-type]


def btrfs_setup(raid: BtrfsRaid, *paths: str, **opts: object) -> DiskSetup:
    return DiskSetup(Filesystem.BTRFS, tuple(paths), btrfs=BtrfsOptions(raid, **opts))  # type: ignore[arg-type]


def shared_dir() -> Path:
    """shared/ beside the clone, or $KEEL_SHARED_DIR."""
    env = os.environ.get("KEEL_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared"


def compat_dir() -> Path:
    """The Proxmox auto-installer compat corpus."""
    return shared_dir() / "compat" / "pve-auto-installer"
