"""Proxmox's size arithmetic: the LVM volume sizes (reference §2.4, step by step) from the OS partition.

The ESP size (`esp_mib`) is a rule of `installer.core.rules`, where the disk-size checks use it too.

Everything here follows the Perl engine literally: sizes in KiB (floats where Perl divides), user options in
GiB (2^30) floats, "align down to 4 MiB" = clear the low 12 bits of a KiB value. Results are whole KiB.
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.core.rules import esp_mib

KiB = 1024
MiB = 1024**2
GiB = 1024**3

ALIGN_4M = ~0xFFF                  # on a KiB value: align down to 4 MiB
GIB_IN_KIB = 1024 * 1024
DEFAULT_MAXROOT_GIB = 96
THIN_POOL_MIN_KIB = 4 * GIB_IN_KIB
META_MIN_KIB = 1 * GIB_IN_KIB
META_MAX_KIB = 16 * GIB_IN_KIB

SKIP_LOW_SPACE = "Skipping auto-creation of LVM thinpool for guest data due to low space."
SKIP_MAXVZ_LOW = (
    "Skipping auto-creation of LVM thinpool for guest data. Maximum data volume size set too low (<= 4 GiB)."
)


def restricted_kib(disk_bytes: int, hdsize_gib: float | None) -> float:
    """The disk size the installer works with, in KiB: the whole disk, or hdsize when that is smaller."""
    disk_kib = (disk_bytes // 512) / 2
    if hdsize_gib is not None and hdsize_gib * GIB_IN_KIB < disk_kib:
        return hdsize_gib * GIB_IN_KIB
    return disk_kib


def os_kib(disk_bytes: int, hdsize_gib: float | None) -> float:
    """Step 1: the OS partition size Proxmox sizes the volumes from (restricted size - ESP - 1 MiB)."""
    return restricted_kib(disk_bytes, hdsize_gib) - (esp_mib(disk_bytes) + 1) * 1024


def default_swap_mib(memory_mib: int, hdgb: int) -> int:
    """The RAM-based swap size in MiB, clamped by the OS partition's whole GiB `hdgb`."""
    size = memory_mib
    if size < 4096 and hdgb >= 64:
        size = 4096
    if size < 2048 and hdgb >= 32:
        size = 2048
    if size >= 2048 and hdgb <= 16:
        size = 1024
    size = max(size, 512)
    size = min(size, hdgb * 128)
    return min(size, 8192)


def swap_kib(os_size_kib: float, memory_mib: int, swapsize_gib: float | None) -> int:
    """Step 2: a user swapsize as given (no alignment; 0 = no swap), else the RAM rule aligned to 4 MiB."""
    if swapsize_gib is not None:
        return int(swapsize_gib * GIB_IN_KIB)
    hdgb = int(os_size_kib / GIB_IN_KIB)
    return int(default_swap_mib(memory_mib, hdgb) * 1024) & ALIGN_4M


def spare_kib(hdgb: int) -> float:
    """Step 3: the default free space left in the VG: 4 MiB up to 32 GiB, 16 GiB above 128 GiB, else hdgb/8 GiB."""
    if hdgb <= 32:
        return 4096
    if hdgb > 128:
        return 16 * GIB_IN_KIB
    return hdgb / 8 * GIB_IN_KIB


def root_kib(rest_kib: float, maxroot_gib: float | None) -> int:
    """Step 4: the root LV from what is left after swap (<12 GiB: all but 4 MiB; <48 GiB: half; else ¼ + 12 GiB)."""
    rest_mb = int(rest_kib / 1024)
    root_mb: float
    if rest_mb < 12288:
        root_mb = (rest_mb - 4) & ~3
    elif rest_mb < 49152:
        root_mb = int(rest_mb / 2) & ~3
    else:
        root_mb = rest_mb / 4 + 12288
    maxroot_mb = (maxroot_gib or DEFAULT_MAXROOT_GIB) * 1024
    root_mb = min(root_mb, maxroot_mb)
    return int(root_mb * 1024) & ALIGN_4M


@dataclass(frozen=True)
class LvmSizes:
    """The LV sizes in KiB for one OS partition; data_kib 0 means no thin pool (see `message`)."""

    os_kib: float
    hdgb: int
    swap_kib: int
    root_kib: int
    minfree_kib: float
    data_kib: int
    meta_kib: int
    message: str | None = None      # what Proxmox prints when it skips the thin pool


def lvm_sizes(
    os_size_kib: float,
    memory_mib: int,
    *,
    swapsize: float | None = None,
    maxroot: float | None = None,
    minfree: float | None = None,
    maxvz: float | None = None,
    product: str = "pve",
) -> LvmSizes:
    """Steps 2-6 of reference §2.4 for PVE (non-PVE products: root takes everything but swap and minfree)."""
    hdgb = int(os_size_kib / GIB_IN_KIB)
    swap = swap_kib(os_size_kib, memory_mib, swapsize)
    space = spare_kib(hdgb)
    rest = os_size_kib - swap
    if product != "pve":
        free = minfree * GIB_IN_KIB if minfree is not None and minfree * GIB_IN_KIB < rest else space
        root = max(0, int(rest - free) & ALIGN_4M)
        return LvmSizes(os_size_kib, hdgb, swap, root, free, 0, 0)
    root = max(0, root_kib(rest, maxroot))
    rest -= root
    free = space
    if minfree is not None and minfree * GIB_IN_KIB < rest:
        free = minfree * GIB_IN_KIB
    data: float = max(0, int(rest - free) & ALIGN_4M)
    if maxvz is not None:
        data = min(maxvz * GIB_IN_KIB, data)
    if data > THIN_POOL_MIN_KIB:
        meta = int(min(max(int(data / 100), META_MIN_KIB), META_MAX_KIB)) & ALIGN_4M
        return LvmSizes(os_size_kib, hdgb, swap, root, free, int(data - 2 * meta - 4096), meta)
    if maxvz is None:
        message: str | None = SKIP_LOW_SPACE
    elif maxvz != 0:
        message = SKIP_MAXVZ_LOW
    else:
        message = None
    return LvmSizes(os_size_kib, hdgb, swap, root, free, 0, 0, message)
