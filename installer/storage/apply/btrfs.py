"""The commands that create the planned Btrfs filesystem across partition 3 of every selected disk and its
subvolumes."""

from __future__ import annotations

from pathlib import Path

from installer.storage.plan.types import BtrfsPlan


def mkfs_btrfs_argv(btrfs: BtrfsPlan, uuid: str) -> list[str]:
    """mkfs.btrfs with the planned data/metadata profiles and filesystem UUID (reference §2.7)."""
    return ["mkfs.btrfs", "-f", "-U", uuid, "-d", btrfs.data_profile, "-m", btrfs.metadata_profile,
            *btrfs.devices]


def subvolume_argvs(btrfs: BtrfsPlan, root: Path) -> list[list[str]]:
    """`btrfs subvolume create` for every planned subvolume inside the filesystem mounted at `root`."""
    return [["btrfs", "subvolume", "create", str(root / subvolume.strip("/"))] for subvolume in btrfs.subvolumes]
