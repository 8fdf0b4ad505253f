"""The disk-selection rules, in one place for the answer file, the wizard and the storage planner.

Each rule is a pure function returning a message (or None / an empty list when the selection is fine).
The numbers follow the Proxmox VE installer (reference §2.3, §2.4, §3.1): minimum disk counts per RAID
level, mirrored disks within 10 % of each other, no 4Kn disk with legacy BIOS boot, disk size limits of
2 GiB (hard) and 8 GiB (soft, an error when nobody is at the console), and swap at most half of hdsize.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Literal

from installer.core.hardware import Disk, GiB

HARD_MIN_DISK_GIB = 2
SOFT_MIN_DISK_GIB = 8
MIRROR_TOLERANCE = 0.10

# (filesystem, RAID level) -> minimum number of disks
MIN_DISKS: dict[tuple[str, str], int] = {
    ("zfs", "RAID0"): 1,
    ("zfs", "RAID1"): 2,
    ("zfs", "RAID10"): 4,
    ("zfs", "RAIDZ-1"): 3,
    ("zfs", "RAIDZ-2"): 4,
    ("zfs", "RAIDZ-3"): 5,
    ("btrfs", "RAID0"): 1,
    ("btrfs", "RAID1"): 2,
    ("btrfs", "RAID10"): 4,
}

FS_TITLE = {"zfs": "ZFS", "btrfs": "Btrfs", "ext4": "ext4", "xfs": "xfs"}

FOUR_KN_BIOS = "Booting from 4Kn drive in legacy BIOS mode is not supported."


def _text(value: str | Enum | None) -> str:
    if value is None:
        return ""
    return str(value.value if isinstance(value, Enum) else value)


def format_gib(value: float) -> str:
    """A GiB number as people write it: 16 rather than 16.0, 16.01 as given, at most 2 decimals."""
    rounded = round(float(value), 2)
    return str(int(rounded)) if rounded == int(rounded) else f"{rounded:g}"


def raid_count_problem(filesystem: str | Enum, raid: str | Enum | None, count: int) -> str | None:
    """Too few disks for the RAID level (or an odd count for ZFS RAID10); None when the count fits."""
    fs, level = _text(filesystem).lower(), _text(raid).upper()
    if fs in ("ext4", "xfs"):
        if count != 1:
            return f"{fs} installs on exactly one disk, got {count}"
        return None
    minimum = MIN_DISKS.get((fs, level))
    if minimum is None:
        return None
    if count < minimum:
        noun = "disk" if minimum == 1 else "disks"
        return f"{FS_TITLE[fs]} {level} needs at least {minimum} {noun}, got {count}"
    if fs == "zfs" and level == "RAID10" and count % 2:
        return f"ZFS RAID10 needs an even number of disks, got {count}"
    return None


def duplicate_disk_problems(names: Sequence[str]) -> list[str]:
    """One message per disk named more than once (by name or /dev path)."""
    seen: set[str] = set()
    reported: list[str] = []
    for name in names:
        short = name.removeprefix("/dev/")
        if short in seen and short not in reported:
            reported.append(short)
        seen.add(short)
    return [f"disk {name} is selected more than once (the disk list contains a duplicate device)"
            for name in reported]


def mirror_size_problems(raid: str | Enum | None, disks: Sequence[Disk]) -> list[str]:
    """ZFS mirrors and RAIDZ need disks of about the same size: within 10 % of the first disk (RAID1, RAIDZ)
    or of the other disk of each consecutive pair (RAID10)."""
    level = _text(raid).upper()
    if level in ("RAID1", "RAIDZ-1", "RAIDZ-2", "RAIDZ-3"):
        pairs = [(disks[0], d) for d in disks[1:]]
    elif level == "RAID10":
        pairs = [(disks[i], disks[i + 1]) for i in range(0, len(disks) - 1, 2)]
    else:
        return []
    problems = []
    for first, other in pairs:
        if abs(first.size_bytes - other.size_bytes) > first.size_bytes * MIRROR_TOLERANCE:
            problems.append(
                f"mirrored disks must have about the same size (within 10 %): {first.name} has "
                f"{format_gib(first.size_gib)} GiB, {other.name} has {format_gib(other.size_gib)} GiB"
            )
    return problems


def four_kn_problem(disk: Disk, boot_mode: Literal["bios", "efi"] | str) -> str | None:
    """A disk with 4096-byte logical sectors cannot boot with legacy BIOS (no BIOS boot partition there)."""
    if boot_mode == "bios" and disk.logical_block_size == 4096:
        return f"{FOUR_KN_BIOS[:-1]}: {disk.name} has 4096-byte logical sectors"
    return None


def usable_gib(disk: Disk, hdsize: float | None) -> int:
    """The whole GiB the installer may use on `disk`: its size, or hdsize when that is smaller."""
    size = disk.size_bytes / GiB
    if hdsize is not None and hdsize < size:
        size = hdsize
    return int(size)


def disk_size_problem(disk: Disk, *, hdsize: float | None = None, unattended: bool = True) -> str | None:
    """Below 2 GiB is always refused; below 8 GiB only when unattended (a person may accept the risk)."""
    gib = usable_gib(disk, hdsize)
    if gib < HARD_MIN_DISK_GIB:
        return f"disk {disk.name} is too small: {gib} GiB usable, at least {HARD_MIN_DISK_GIB} GiB needed"
    if unattended and gib < SOFT_MIN_DISK_GIB:
        return (
            f"disk {disk.name} is too small for an unattended install: {gib} GiB usable, "
            f"{SOFT_MIN_DISK_GIB} GiB recommended (only an interactive install can accept less)"
        )
    return None


def disk_size_warning(disk: Disk, *, hdsize: float | None = None) -> str | None:
    """The question the wizard asks before installing onto a disk between 2 and 8 GiB."""
    gib = usable_gib(disk, hdsize)
    if HARD_MIN_DISK_GIB <= gib < SOFT_MIN_DISK_GIB:
        return (
            f"Disk {disk.name} has only {gib} GiB, below the recommended minimum of {SOFT_MIN_DISK_GIB} GiB; "
            "the installation might not succeed. Continue?"
        )
    return None


def install_medium_problem(disk: Disk) -> str | None:
    if disk.install_medium:
        return f"disk {disk.name} holds the running Keel install medium and cannot be an install target"
    return None


def swap_problem(swapsize: float | None, hdsize: float | None) -> str | None:
    """Swap may use at most half of the disk space given to the installer."""
    if swapsize is None or hdsize is None:
        return None
    limit = hdsize / 2
    if swapsize > limit:
        return (
            f"Swap size {format_gib(swapsize)} GiB cannot be greater than {format_gib(limit)} GiB "
            "(hard disk size / 2)"
        )
    return None


def disk_selection_problems(
    filesystem: str | Enum,
    raid: str | Enum | None,
    disks: Sequence[Disk],
    *,
    boot_mode: Literal["bios", "efi"] | str,
    unattended: bool,
    hdsize: float | None = None,
) -> list[str]:
    """Every rule over one selection of disks, in a stable order: duplicates, install medium, count, sizes,
    mirror sizes, 4Kn with BIOS. An empty list means the selection can be installed to."""
    problems = duplicate_disk_problems([d.name for d in disks])
    unique: list[Disk] = []
    for disk in disks:
        if disk.name not in {u.name for u in unique}:
            unique.append(disk)
    problems += [p for d in unique if (p := install_medium_problem(d))]
    count = raid_count_problem(filesystem, raid, len(unique))
    if count:
        problems.append(count)
    problems += [p for d in unique if (p := disk_size_problem(d, hdsize=hdsize, unattended=unattended))]
    if _text(filesystem).lower() == "zfs" and not count:
        problems += mirror_size_problems(raid, unique)
    problems += [p for d in unique if (p := four_kn_problem(d, boot_mode))]
    return problems


# ZFS pool options (reference §3.1, §2.6): the ranges the answer file, the wizard and the planner accept.
ZFS_ASHIFT = (9, 16)
ZFS_COPIES = (1, 3)
ARC_MIN_MIB = 64
ARC_MAX_DEFAULT_MIB = 16384


def default_arc_max_mib(memory_mib: int, product: str = "pve") -> int:
    """The ZFS ARC maximum Proxmox proposes: 10 % of RAM (rounded half up) within [64, 16384] MiB; PBS, PDM and
    PMG take half of RAM from 2, 2 and 4 GiB of RAM on."""
    half_from = {"pbs": 2048, "pdm": 2048, "pmg": 4096}.get(product)
    if half_from is not None and memory_mib >= half_from:
        return memory_mib // 2
    tenth = (memory_mib + 5) // 10
    return min(max(tenth, ARC_MIN_MIB), ARC_MAX_DEFAULT_MIB)


def arc_max_limit_mib(memory_mib: int) -> int:
    """The largest ARC maximum the installed system gets: RAM less 1 GiB (never below the 64 MiB minimum)."""
    return max(memory_mib - 1024, ARC_MIN_MIB)


def effective_arc_max_mib(value_mib: int, memory_mib: int) -> int:
    """The zfs_arc_max written for `value_mib`: 0 stays 0 (ZFS's own default), else clamped to
    [64 MiB, RAM - 1 GiB], as Proxmox clamps it when it writes the module option."""
    if value_mib == 0:
        return 0
    return min(max(value_mib, ARC_MIN_MIB), arc_max_limit_mib(memory_mib))


def arc_max_warning(value_mib: int, memory_mib: int) -> str | None:
    """The one message for an ARC maximum above RAM - 1 GiB (it is clamped, not refused)."""
    limit = arc_max_limit_mib(memory_mib)
    if value_mib > limit:
        return (f"ZFS ARC maximum {value_mib} MiB is more than this machine's memory less 1 GiB: "
                f"the installed system gets {limit} MiB")
    return None


def range_problem(value: int, bounds: tuple[int, int]) -> str | None:
    low, high = bounds
    return None if low <= value <= high else f"must be between {low} and {high}, got {value}"
