"""Select disks and NICs by udev property globs, with Proxmox's semantics (reference §6) and Keel's size filters.

- A filter maps a udev property name to a case-sensitive shell glob (`*`, `?`, `[a-z]`, `[!a]`).
- Disk sets (ZFS/Btrfs): `any` = some filtered property is present and matches; `all` = no filtered property
  is present with a non-matching value (a disk lacking the property is not disqualified). The result is in
  disk-index order compared as strings, as Proxmox sorts it ("10" before "2").
- Single selection (ext4/xfs disk, management NIC): the first device, in that same key order, with any
  matching property.
- The install medium is never a candidate.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from installer.core import rules
from installer.core.hardware import Disk, GiB, HardwareProfile, Nic

MatchMode = str  # "any" | "all"


def glob_match(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value, pattern)


def props_match(props: Mapping[str, str], filters: Mapping[str, str], mode: MatchMode = "any") -> bool:
    if not filters:
        return True
    if mode == "all":
        return all(key not in props or glob_match(glob, props[key]) for key, glob in filters.items())
    return any(key in props and glob_match(glob, props[key]) for key, glob in filters.items())


@dataclass(frozen=True)
class SizeFilter:
    """Keel extension: disk size bounds in GiB (inclusive)."""

    min_gib: float | None = None
    max_gib: float | None = None

    def __bool__(self) -> bool:
        return self.min_gib is not None or self.max_gib is not None

    def accepts(self, disk: Disk) -> bool:
        size = disk.size_bytes / GiB
        return (self.min_gib is None or size >= self.min_gib) and (self.max_gib is None or size <= self.max_gib)


def disk_key_order(disks: Sequence[Disk]) -> list[Disk]:
    """Disks in Proxmox's key order: by index compared as strings."""
    return sorted(disks, key=lambda d: str(d.index))


def candidate_disks(hardware: HardwareProfile) -> list[Disk]:
    return disk_key_order(hardware.target_disks)


def match_disks(
    hardware: HardwareProfile, filters: Mapping[str, str], mode: MatchMode = "any", size: SizeFilter | None = None,
) -> list[Disk]:
    """Every candidate disk the filter set selects, in key order."""
    size = size or SizeFilter()
    return [d for d in candidate_disks(hardware) if props_match(d.udev, filters, mode) and size.accepts(d)]


def first_disk(hardware: HardwareProfile, filters: Mapping[str, str], size: SizeFilter | None = None) -> Disk | None:
    """The single-selection rule: the first disk with any matching property."""
    return next(iter(match_disks(hardware, filters, "any", size)), None)


def smallest(disks: Sequence[Disk], count: int) -> list[Disk]:
    """Keel's disk-count: the `count` smallest disks (ties in key order), returned in key order."""
    chosen = sorted(disk_key_order(disks), key=lambda d: d.size_bytes)[:count]
    return disk_key_order(chosen)


def match_nics(hardware: HardwareProfile, filters: Mapping[str, str]) -> list[Nic]:
    return [n for n in sorted(hardware.nics, key=lambda n: n.name) if props_match(n.udev, filters, "any")]


def first_nic(hardware: HardwareProfile, filters: Mapping[str, str]) -> Nic | None:
    return next(iter(match_nics(hardware, filters)), None)


def describe_disks(disks: Sequence[Disk], keys: Sequence[str], *, with_size: bool = True, limit: int = 12) -> str:
    """The candidates a filter saw, with the filtered properties' values: for "no disk matches" errors."""
    parts = []
    for disk in disks[:limit]:
        values = [f"{k}={disk.udev[k]!r}" if k in disk.udev else f"{k} unset" for k in keys]
        if with_size:
            values.append(f"{rules.format_gib(disk.size_bytes / GiB)} GiB")
        parts.append(f"{disk.name} ({', '.join(values)})")
    more = f", and {len(disks) - limit} more" if len(disks) > limit else ""
    return "; ".join(parts) + more if parts else "none"


def describe_nics(nics: Sequence[Nic], keys: Sequence[str], limit: int = 12) -> str:
    parts = []
    for nic in nics[:limit]:
        values = [f"{k}={nic.udev[k]!r}" if k in nic.udev else f"{k} unset" for k in keys]
        parts.append(f"{nic.name} ({', '.join(values)})")
    more = f", and {len(nics) - limit} more" if len(nics) > limit else ""
    return "; ".join(parts) + more if parts else "none"
