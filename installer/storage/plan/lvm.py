"""The LVM part of an ext4/xfs plan: VG `pve` on partition 3 with swap, root and the thin pool `data`."""

from __future__ import annotations

from dataclasses import replace

from installer.storage.plan.sizing import KiB, LvmSizes, MiB
from installer.storage.plan.types import LogicalVolume, LvmPlan

EXTENT_BYTES = 4 * MiB
# pvcreate --metadatasize 250k puts the first extent at 1 MiB with LVM's default 1 MiB data alignment.
PE_START_BYTES = 1 * MiB


def vg_bytes(pv_bytes: int) -> int:
    """Usable VG size on one PV: whole 4 MiB extents after the PV's metadata area."""
    return max(0, (pv_bytes - PE_START_BYTES) // EXTENT_BYTES * EXTENT_BYTES)


def extents_bytes(size_bytes: int) -> int:
    """What an LV of `size_bytes` really occupies: lvcreate rounds up to whole extents."""
    return -(-size_bytes // EXTENT_BYTES) * EXTENT_BYTES


def allocated_bytes(lvs: tuple[LogicalVolume, ...]) -> int:
    """Extents used by the LVs, counting a thin pool's metadata LV and its equally sized spare (pmspare)."""
    return sum(extents_bytes(lv.size_bytes) + 2 * extents_bytes(lv.metadata_bytes) for lv in lvs)


def lvm_plan(vg: str, pv: str, pv_bytes: int, sizes: LvmSizes) -> tuple[LvmPlan, str | None]:
    """The VG and its LVs in creation order (swap, root, data). Returns a warning when Proxmox's sizes (computed
    from the unaligned OS size) would overfill the real VG and the thin pool (or root) had to give up those
    extents."""
    lvs = []
    if sizes.swap_kib > 0:
        lvs.append(LogicalVolume("swap", sizes.swap_kib * KiB))
    root = LogicalVolume("root", sizes.root_kib * KiB)
    lvs.append(root)
    data = None
    if sizes.data_kib > 0:
        data = LogicalVolume("data", sizes.data_kib * KiB, thin_pool=True, metadata_bytes=sizes.meta_kib * KiB)
        lvs.append(data)
    total = vg_bytes(pv_bytes)
    free = total - allocated_bytes(tuple(lvs))
    warning = None
    # The thin pool gives up the missing extents; without one (small disks, where root is all that swap leaves
    # but 4 MiB) root does: Proxmox's sizes start from the partition before LVM's header and extent rounding.
    giver = data if data is not None and data.size_bytes + free > 0 else root
    if free < 0 and extents_bytes(giver.size_bytes) + free > 0:
        lvs[lvs.index(giver)] = replace(giver, size_bytes=extents_bytes(giver.size_bytes) + free)
        what = "thin pool 'data'" if giver is data else "root volume"
        warning = f"{what} reduced by {-free // MiB} MiB to fit VG '{vg}' ({total // MiB} MiB after LVM metadata)"
        free = 0
    return LvmPlan(vg=vg, pvs=(pv,), lvs=tuple(lvs), free_bytes=free, size_bytes=total), warning
