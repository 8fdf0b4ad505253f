"""The Btrfs part of a plan (reference §2.7): one filesystem over partition 3 of every disk, RAID profile, options."""

from __future__ import annotations

from collections.abc import Sequence

from installer.core.config import BtrfsOptions
from installer.storage.plan.types import BtrfsPlan

SUBVOLUME = "var/lib/pve/local-btrfs"


def mount_options(compress: str) -> str:
    """fstab options: `compress` alone for "on" (zlib), `compress=<alg>` for a named algorithm, nothing for off."""
    if compress == "off":
        return "defaults"
    if compress == "on":
        return "defaults,compress"
    return f"defaults,compress={compress}"


def btrfs_plan(opts: BtrfsOptions, devices: Sequence[str], product: str = "pve") -> BtrfsPlan:
    """Data and metadata share the RAID profile (a single-disk RAID0 is still raid0)."""
    profile = str(opts.raid).lower()
    return BtrfsPlan(
        data_profile=profile,
        metadata_profile=profile,
        devices=tuple(devices),
        mount_options=mount_options(opts.compress),
        subvolumes=(SUBVOLUME,) if product == "pve" else (),
    )
