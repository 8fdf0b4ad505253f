"""Creating the planned volume group and logical volumes (root, swap, thin pool data) with LVM's own tools."""

from __future__ import annotations

from typing import TYPE_CHECKING

from installer.storage.plan import LogicalVolume, LvmPlan

from .guard import ApplyError

if TYPE_CHECKING:
    pass


def _kib(size_bytes: int, what: str) -> int:
    if size_bytes <= 0 or size_bytes % 1024:
        raise ApplyError(f"{what}: planned size {size_bytes} bytes is not a positive whole number of KiB")
    return size_bytes // 1024


def lvm_commands(lvm: LvmPlan) -> list[list[str]]:
    """The LVM commands that build `lvm` (reference §2.4), in order; sizes are the plan's, in KiB, unrounded."""
    commands: list[list[str]] = [["pvcreate", "--metadatasize", "250k", "-y", "-ff", pv] for pv in lvm.pvs]
    commands.append(["vgcreate", lvm.vg, *lvm.pvs])
    pools: list[LogicalVolume] = []
    for lv in lvm.lvs:
        size = _kib(lv.size_bytes, f"LV {lvm.vg}/{lv.name}")
        commands.append(["lvcreate", "-Wy", "--yes", f"-L{size}K", f"-n{lv.name}", lvm.vg])
        if lv.thin_pool:
            pools.append(lv)
    for lv in pools:
        meta = _kib(lv.metadata_bytes, f"LV {lvm.vg}/{lv.name} pool metadata")
        commands.append(["lvconvert", "--yes", "--type", "thin-pool", "--poolmetadatasize", f"{meta}K",
                         f"{lvm.vg}/{lv.name}"])
    commands.append(["vgchange", "-a", "y", lvm.vg])
    return commands
