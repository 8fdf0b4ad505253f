"""Mounting the new filesystems under the target directory in plan order, and unmounting them in reverse."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from installer.config import Filesystem
from installer.runner import CommandError
from installer.storage.plan import Mount, StoragePlan

from .btrfs import create_subvolumes
from .guard import ApplyError
from .mkfs import root_device

if TYPE_CHECKING:
    from installer.engine.context import InstallContext

MOUNTINFO = Path("/proc/self/mountinfo")
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


def mount_target(ctx: InstallContext) -> None:
    """Mount the root filesystem and everything the plan mounts below it at ctx.target."""
    plan = ctx.plan
    ctx.target.mkdir(parents=True, exist_ok=True)
    if plan.zfs is not None:
        # the datasets were mounted below the target when they were created; mount any that is not
        for dataset in plan.zfs.datasets:
            if dataset.mountpoint is None:
                continue
            state = ctx.run(["zfs", "get", "-H", "-o", "value", "mounted", dataset.name], timeout=60)
            if state.stdout.strip() != "yes":
                ctx.run(["zfs", "mount", dataset.name], timeout=120)
    if plan.btrfs is not None:
        # the kernel must know every member before a multi-device filesystem mounts (no udev needed)
        ctx.run(["btrfs", "device", "scan", *plan.btrfs.devices], timeout=60)
    for argv in mount_argvs(plan, ctx.target):
        Path(argv[-1]).mkdir(parents=True, exist_ok=True)
        ctx.run(argv, timeout=120)
        if argv[-1] == str(ctx.target) and plan.btrfs is not None:
            create_subvolumes(ctx, plan.btrfs, ctx.target)
    ctx.events.progress(1.0, f"mounted the new system at {ctx.target}")


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def mounts_under(mountinfo: str, target: Path) -> list[str]:
    """Mount points at or below `target` in the order to unmount them (the reverse of mounting)."""
    base = str(target).rstrip("/") or "/"
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if len(fields) < 5:
            continue
        point = _unescape(fields[4])
        if point == base or point.startswith(base + "/"):
            found.append(point)
    found.reverse()
    return found


def mounts_of(mountinfo: str, devices: set[str]) -> list[str]:
    """Mount points whose source is one of `devices`, the most recently mounted first."""
    found = []
    for line in mountinfo.splitlines():
        fields = line.split()
        if " - " not in line or len(fields) < 5:
            continue
        after = line.split(" - ", 1)[1].split()
        if len(after) >= 2 and _unescape(after[1]) in devices:
            found.append(_unescape(fields[4]))
    found.reverse()
    return found


def read_mountinfo() -> str:
    return MOUNTINFO.read_text()


def unmount_target(ctx: InstallContext) -> None:
    """Unmount everything at or below ctx.target, deepest first; also safe on error paths and when nothing is
    mounted. A busy mount is detached lazily with a warning; raises only if even that fails."""
    failed = []
    for point in mounts_under(read_mountinfo(), ctx.target):
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
