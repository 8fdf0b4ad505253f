"""The disk-selection rules, in one place for the answer file, the wizard and the storage planner.

Each rule is a pure function returning a message (or None / an empty list when the selection is fine).
The numbers follow the Proxmox VE installer (reference §2.3, §2.4, §3.1): minimum disk counts per RAID
level, mirrored disks within 10 % of each other, no 4Kn disk with legacy BIOS boot, disk size limits of
2 GiB (hard) and 8 GiB (soft, an error when nobody is at the console), and swap at most half of hdsize.
Keel adds what its own install needs: 512- or 4096-byte sectors, room for a root file system of
MIN_ROOT_BYTES, and the ranges of the size options (SIZE_GIB), which the answer file's schema and the planner
both take from here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import Enum
from typing import Literal

from installer.core.hardware import Disk, GiB, MiB

HARD_MIN_DISK_GIB = 2
SOFT_MIN_DISK_GIB = 8
MIRROR_TOLERANCE = 0.10

# The root file system receives the payload (about 3 GiB installed) and then kernels, updates and logs. A
# smaller root makes the install fail while unpacking, after the disks were wiped, so the planner refuses it.
MIN_ROOT_BYTES = 4 * GiB
# The logical sector sizes the partition layout is made for (the ESP at 1 MiB, the GPT before it).
SECTOR_SIZES = (512, 4096)

# The size options of the disk setup in GiB, (minimum, maximum): the answer file's schema and the planner take
# them from here. The maximum is the largest disk a hardware profile can describe (8 EiB: sizes are 64-bit byte
# counts); it keeps every size exact in the planner's arithmetic and turns a typo such as 1e308 into an error
# rather than "the whole disk".
MAX_SIZE_GIB = 2**33
SIZE_GIB: dict[str, tuple[float, float]] = {
    "hdsize": (HARD_MIN_DISK_GIB, MAX_SIZE_GIB),
    "swapsize": (0, MAX_SIZE_GIB),
    "maxroot": (0, MAX_SIZE_GIB),        # 0 = the default (96 GiB), else at least MIN_ROOT_BYTES: maxroot_problem
    "minfree": (0, MAX_SIZE_GIB),
    "maxvz": (0, MAX_SIZE_GIB),
    "filter-size-min": (0, MAX_SIZE_GIB),
    "filter-size-max": (0, MAX_SIZE_GIB),
}

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
    if not math.isfinite(value) or abs(value) >= 1e15:  # 1e+308, not its 309 digits
        return f"{value:g}"
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


ESP_SMALL_MIB, ESP_LARGE_MIB = 512, 1024
# What LVM and the rounding of Proxmox's sizes may take from partition 3 besides swap and root, at most: the PV
# header (1 MiB), whole 4 MiB extents, swap rounded up to one, root aligned down and 4 MiB left free beside it,
# and the last MiB partition 3 may lose to the backup GPT.
LVM_OVERHEAD_BYTES = 16 * MiB


def esp_mib(disk_bytes: int) -> int:
    """ESP size: 1024 MiB when the whole disk is larger than 100 GiB, else 512 MiB (before any hdsize)."""
    return ESP_LARGE_MIB if disk_bytes > 100 * GiB else ESP_SMALL_MIB


def partition3_bytes(disk: Disk, hdsize: float | None) -> int:
    """Partition 3's size on `disk`, never more than the planner's layout gives it (and at most 1 MiB less): it
    starts after 1 MiB and the ESP, and ends at hdsize or before the backup GPT (less than 64 KiB at the end)."""
    end_mib = (disk.size_bytes - 64 * 1024) // MiB
    if hdsize is not None and math.isfinite(hdsize) and hdsize * GiB < disk.size_bytes:
        end_mib = min(end_mib, int(hdsize * 1024))
    return max(0, end_mib - esp_mib(disk.size_bytes) - 1) * MiB


def root_space_problem(disk: Disk, filesystem: str | Enum, hdsize: float | None = None) -> str | None:
    """Partition 3 must hold a root file system of MIN_ROOT_BYTES: ZFS and Btrfs put it there directly, LVM
    beside swap (the default swap is at most 1/8 of the partition, a given swapsize is checked by swap_problem)."""
    return _root_room_problem(partition3_bytes(disk, hdsize), filesystem, f"disk {disk.name} is")


def hdsize_root_problem(filesystem: str | Enum, hdsize: float | None) -> str | None:
    """The offline part of root_space_problem: an hdsize too small on any disk. Partition 3 is largest on a disk
    of 100 GiB or less (the 512 MiB ESP), so what fails there fails everywhere."""
    if hdsize is None or not math.isfinite(hdsize) or hdsize >= 100:
        return None
    largest = partition3_bytes(Disk(name="", path="", size_bytes=100 * GiB), hdsize)
    return _root_room_problem(largest, filesystem, f"{format_gib(hdsize)} GiB is")


def _root_room_problem(p3: int, filesystem: str | Enum, subject: str) -> str | None:
    lvm = _text(filesystem).lower() in ("ext4", "xfs")
    room = p3 - min(p3 // 8, 8 * GiB) - LVM_OVERHEAD_BYTES if lvm else p3
    if room >= MIN_ROOT_BYTES:
        return None
    what = "the root volume and swap" if lvm else "the root file system"
    need = -(-(MIN_ROOT_BYTES + LVM_OVERHEAD_BYTES) * 8 // 7) if lvm else MIN_ROOT_BYTES
    return (f"{subject} too small for {what}: partition 3 would have {_gib_down(p3)} GiB, at least "
            f"{_gib_up(need)} GiB needed (the installed system takes about 3 GiB)")


def maxroot_problem(maxroot: float | None) -> str | None:
    """maxroot 0 means the default (96 GiB, as in Proxmox); any other value must leave room for the system."""
    if maxroot is None or maxroot == 0 or maxroot * GiB >= MIN_ROOT_BYTES:
        return None
    return (f"must be 0 (the default) or at least {format_gib(MIN_ROOT_BYTES / GiB)} GiB, the root file system "
            f"the installed system needs, got {maxroot:g}")


def size_problem(name: str, value: float | None) -> str | None:
    """The range of one size option (SIZE_GIB), worded as the answer file's schema words it."""
    if value is None:
        return None
    low, high = SIZE_GIB[name]
    if not math.isfinite(value):
        return f"expected a finite number, got {value}"
    if value < low:
        return f"must be at least {format_gib(low)}, got {value}"
    if value > high:
        return f"must be at most {format_gib(high)}, got {value}"
    return maxroot_problem(value) if name == "maxroot" else None


def sector_size_problem(disk: Disk) -> str | None:
    if disk.logical_block_size in SECTOR_SIZES:
        return None
    return (f"disk {disk.name} has {disk.logical_block_size}-byte logical sectors; Keel installs to disks with "
            f"{' or '.join(map(str, SECTOR_SIZES))}-byte sectors only")


def _gib_down(size_bytes: float) -> str:
    return format_gib(math.floor(size_bytes / GiB * 100) / 100)


def _gib_up(size_bytes: float) -> str:
    return format_gib(math.ceil(size_bytes / GiB * 100) / 100)


def usable_gib(disk: Disk, hdsize: float | None) -> int:
    """The whole GiB the installer may use on `disk`: its size, or hdsize when that is smaller (an hdsize that is
    not a number is size_problem's to report)."""
    size = disk.size_bytes / GiB
    if hdsize is not None and math.isfinite(hdsize) and hdsize < size:
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
    """Swap may use at most half of the disk space given to the installer, and must leave the root volume
    MIN_ROOT_BYTES beside the largest ESP and the LVM overhead (LVM_OVERHEAD_BYTES)."""
    if swapsize is None or hdsize is None:
        return None
    limit = hdsize / 2
    if swapsize > limit:
        return (
            f"Swap size {format_gib(swapsize)} GiB cannot be greater than {format_gib(limit)} GiB "
            "(hard disk size / 2)"
        )
    most = hdsize * GiB - (ESP_LARGE_MIB + 1) * MiB - LVM_OVERHEAD_BYTES - MIN_ROOT_BYTES
    if swapsize * GiB > most:
        hint = f"at most {_gib_down(most)} GiB of swap fit" if most >= 0 else "not even without swap"
        return (f"Swap size {format_gib(swapsize)} GiB leaves less than {format_gib(MIN_ROOT_BYTES / GiB)} GiB for "
                f"the root volume on {format_gib(hdsize)} GiB ({hint})")
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
    """Every rule over one selection of disks, in a stable order: duplicates, install medium, count, sector sizes,
    sizes (the disk, then room for the root file system), mirror sizes, 4Kn with BIOS. An empty list means the
    selection can be installed to."""
    problems = duplicate_disk_problems([d.name for d in disks])
    unique: list[Disk] = []
    for disk in disks:
        if disk.name not in {u.name for u in unique}:
            unique.append(disk)
    problems += [p for d in unique if (p := install_medium_problem(d))]
    count = raid_count_problem(filesystem, raid, len(unique))
    if count:
        problems.append(count)
    problems += [p for d in unique if (p := sector_size_problem(d))]
    problems += [p for d in unique if (p := disk_size_problem(d, hdsize=hdsize, unattended=unattended)
                                       or root_space_problem(d, filesystem, hdsize))]
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
