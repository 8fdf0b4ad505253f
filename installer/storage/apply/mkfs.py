"""Making the planned filesystems: a FAT32 ESP on every selected disk, the root filesystem, swap."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from installer.core.config import Filesystem
from installer.storage.plan import StoragePlan

from .guard import ApplyError

if TYPE_CHECKING:
    pass

_VFAT_ID = re.compile(r"[0-9A-Fa-f]{4}-?[0-9A-Fa-f]{4}")


def vfat_volume_id(value: str, key: str) -> str:
    """"ABCD-1234" (how blkid and fstab show it) -> "ABCD1234" (what mkfs.vfat -i takes)."""
    if not _VFAT_ID.fullmatch(value):
        raise ApplyError(f"fs_uuids.{key}: {value!r} is not a FAT volume id like 'ABCD-1234'")
    return value.replace("-", "").upper()


def esp_argvs(plan: StoragePlan) -> list[list[str]]:
    """mkfs.vfat -F32 on every planned ESP with its planned volume id; one sector per cluster on 4Kn disks."""
    argvs = []
    for disk in plan.disks:
        for part in disk.partitions:
            if part.type != "esp":
                continue
            key = f"esp:{disk.path}"
            if key not in plan.fs_uuids:
                raise ApplyError(f"fs_uuids: the plan has no volume id for the ESP of {disk.path} ({key!r})")
            argv = ["mkfs.vfat", "-F32"]
            if disk.logical_block_size == 4096:
                # 4 KiB clusters: the default of 8 sectors (32 KiB) leaves a 512 MiB ESP too few
                # clusters for FAT32 (reference §1.4)
                argv.append("-s1")
            argvs.append([*argv, "-i", vfat_volume_id(plan.fs_uuids[key], key), part.path])
    return argvs


def root_device(plan: StoragePlan) -> str:
    """The block device of the ext4/xfs root filesystem: the planned root LV."""
    if plan.lvm is not None and plan.lvm.lv("root") is not None:
        return f"/dev/{plan.lvm.vg}/root"
    root = next((m for m in plan.mounts if m.target == "/"), None)
    if root is not None and root.source.startswith("/dev/"):
        return root.source
    raise ApplyError("mounts: the plan has no root logical volume or device for the / filesystem")


def root_mkfs_argv(plan: StoragePlan) -> list[str] | None:
    """mkfs for the ext4/xfs root with the planned UUID; None for ZFS and Btrfs (made with their volumes)."""
    if plan.filesystem not in (Filesystem.EXT4, Filesystem.XFS):
        return None
    uuid = plan.fs_uuids.get("root")
    if not uuid:
        raise ApplyError("fs_uuids.root: the plan has no UUID for the root filesystem")
    device = root_device(plan)
    if plan.filesystem == Filesystem.EXT4:
        return ["mkfs.ext4", "-F", "-U", uuid, device]
    return ["mkfs.xfs", "-f", "-m", f"uuid={uuid}", device]


def swap_argvs(plan: StoragePlan) -> list[list[str]]:
    """mkswap on the planned swap LV (ZFS and Btrfs installs have no swap)."""
    if plan.lvm is None or plan.lvm.lv("swap") is None:
        return []
    uuid = plan.fs_uuids.get("swap")
    return [["mkswap", "-f", *(["-U", uuid] if uuid else []), f"/dev/{plan.lvm.vg}/swap"]]


def mkfs_argvs(plan: StoragePlan) -> list[list[str]]:
    root = root_mkfs_argv(plan)
    return [*esp_argvs(plan), *swap_argvs(plan), *([root] if root else [])]
