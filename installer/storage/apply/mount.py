"""Mounting the new filesystems under the target directory in plan order, and unmounting them in reverse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from installer.core.config import Filesystem
from installer.host.mounts import MOUNTINFO, mounts_under, parse_mountinfo
from installer.runner import CommandError
from installer.storage.plan import Mount, StoragePlan

from .guard import ApplyError
from .mkfs import root_device

if TYPE_CHECKING:
    from installer.phase import InstallContext

# The ESP (vfat, /boot/efi) is left to the bootloader phase, which mounts each disk's ESP in turn: under the
# payload it would only make unpacking try to set Unix owners and modes on FAT.
MOUNTABLE = ("ext4", "xfs", "btrfs")
# fstab-only options that mean nothing to mount(8) or that noatime replaces while installing
_DROPPED_OPTIONS = {"defaults", "sw", "relatime", "atime"}


def mount_source(plan: StoragePlan, mount: Mount) -> str:
    """The device to mount for `mount`: the planned device behind the root's UUID=, so no blkid lookup (and
    for Btrfs no udev) is needed."""
    if mount.source != f"UUID={plan.fs_uuids.get('root')}":
        return mount.source
    if plan.filesystem == Filesystem.BTRFS and plan.btrfs is not None and plan.btrfs.devices:
        return plan.btrfs.devices[0]
    return root_device(plan)


def install_options(mount: Mount) -> str:
    """Mount options while installing: noatime (reference §1.4) plus the planned ones (e.g. compress=zstd)."""
    kept = [o for o in mount.options.split(",") if o and o not in _DROPPED_OPTIONS and o != "noatime"]
    return ",".join(["noatime", *kept])


def mount_argvs(plan: StoragePlan, target: Path) -> list[list[str]]:
    """mount(8) calls for every planned ext4/xfs/btrfs mount, in plan order ("/" first)."""
    argvs = []
    for mount in plan.mounts:
        if mount.fstype not in MOUNTABLE or not mount.target.startswith("/"):
            continue
        where = target / mount.target.lstrip("/")
        argvs.append(["mount", "-t", mount.fstype, "-o", install_options(mount),
                      mount_source(plan, mount), str(where)])
    return argvs


def read_mountinfo() -> str:
    """The live system's mountinfo text (tests replace it)."""
    return MOUNTINFO.read_text()


def unmount_target(ctx: InstallContext) -> None:
    """Unmount everything at or below ctx.target, deepest first; also safe on error paths and when nothing is
    mounted. A busy mount is detached lazily with a warning; raises only if even that fails."""
    failed = []
    for point in mounts_under(parse_mountinfo(read_mountinfo()), ctx.target):
        try:
            ctx.run(["umount", point], timeout=120)
        except CommandError:
            ctx.events.warning(f"{point} is busy: detaching it lazily")
            try:
                ctx.run(["umount", "--lazy", point], timeout=60)
            except CommandError:
                failed.append(point)
    if failed:
        raise ApplyError(f"could not unmount {', '.join(failed)}")


WRITE_BACK_TIMEOUT = 3600.0


def write_back_argv(plan: StoragePlan, target: Path) -> list[str]:
    """The command that writes the target's dirty data to its disks now: syncfs for a file system mounted at
    `target`; for ZFS, whose sync=disabled during the install makes syncfs return at once, a sync of the pool's
    transaction group (else `zfs set sync=standard` at the end waited 2.8 s for it under TCG)."""
    if plan.zfs is not None:
        return ["zpool", "sync", plan.zfs.pool]
    return ["sync", "--file-system", str(target)]
