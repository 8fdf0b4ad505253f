"""Creating the planned Btrfs filesystem across partition 3 of every selected disk, and its subvolumes."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from installer.storage.plan import BtrfsPlan, StoragePlan

from .guard import ApplyError, require_selected

if TYPE_CHECKING:
    from installer.engine.context import InstallContext


def mkfs_btrfs_argv(btrfs: BtrfsPlan, uuid: str) -> list[str]:
    """mkfs.btrfs with the planned data/metadata profiles and filesystem UUID (reference §2.7)."""
    return ["mkfs.btrfs", "-f", "-U", uuid, "-d", btrfs.data_profile, "-m", btrfs.metadata_profile,
            *btrfs.devices]


def create_btrfs(ctx: InstallContext, plan: StoragePlan) -> None:
    btrfs = plan.btrfs
    assert btrfs is not None
    uuid = plan.fs_uuids.get("root")
    if not uuid:
        raise ApplyError("fs_uuids.root: the plan has no UUID for the Btrfs root filesystem")
    if not btrfs.devices:
        raise ApplyError("btrfs.devices: the plan names no device")
    require_selected(plan, btrfs.devices, "create a Btrfs filesystem on")
    ctx.run(mkfs_btrfs_argv(btrfs, uuid), timeout=600)
    ctx.events.progress(1.0, "created the Btrfs filesystem")


def create_subvolumes(ctx: InstallContext, btrfs: BtrfsPlan, root: Path) -> None:
    """Create the planned subvolumes inside the Btrfs filesystem mounted at `root`."""
    for subvolume in btrfs.subvolumes:
        path = root / subvolume.strip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        ctx.run(["btrfs", "subvolume", "create", str(path)], timeout=60)
