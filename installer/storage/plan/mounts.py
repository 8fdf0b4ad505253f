"""What the installed system mounts (its fstab) and the kernel `root=` argument, per filesystem (§2.4, §2.7, §3.2)."""

from __future__ import annotations

from installer.core.config import Filesystem
from installer.storage.plan.types import Mount, ZfsPlan

PROC = Mount("proc", "/proc", "proc", "defaults", 0, 0)
ROOT_OPTIONS = {Filesystem.EXT4: "errors=remount-ro", Filesystem.XFS: "defaults"}


def lvm_mounts(fs: Filesystem, vg: str, *, swap: bool, esp_uuid: str | None) -> tuple[Mount, ...]:
    """Root LV, the first disk's ESP on /boot/efi (EFI boot only), swap LV, /proc."""
    mounts = [Mount(f"/dev/{vg}/root", "/", str(fs), ROOT_OPTIONS[fs], 0, 1)]
    if esp_uuid:
        mounts.append(Mount(f"UUID={esp_uuid}", "/boot/efi", "vfat", "defaults", 0, 1))
    if swap:
        mounts.append(Mount(f"/dev/{vg}/swap", "none", "swap", "sw", 0, 0))
    mounts.append(PROC)
    return tuple(mounts)


def zfs_mounts(zfs: ZfsPlan) -> tuple[Mount, ...]:
    """Datasets with a mountpoint mount themselves (not in fstab); fstab holds only /proc. The ESPs stay unmounted."""
    mounts = [Mount(d.name, d.mountpoint, "zfs", "defaults", in_fstab=False) for d in zfs.datasets if d.mountpoint]
    mounts.sort(key=lambda m: m.target.count("/") if m.target != "/" else 0)
    return (*mounts, PROC)


def btrfs_mounts(fs_uuid: str, options: str) -> tuple[Mount, ...]:
    return (Mount(f"UUID={fs_uuid}", "/", "btrfs", options, 0, 1), PROC)


def kernel_root(fs: Filesystem, *, vg: str = "pve", zfs_root: str = "", fs_uuid: str = "") -> str:
    """The `root=` part of the kernel command line (/etc/kernel/cmdline and GRUB)."""
    if fs.uses_lvm:
        return f"root=/dev/mapper/{vg}-root"
    if fs == Filesystem.ZFS:
        return f"root=ZFS={zfs_root} boot=zfs"
    return f"root=UUID={fs_uuid}"
