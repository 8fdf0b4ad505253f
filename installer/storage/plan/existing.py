"""What already lives on the disks: what the install destroys, what it renames out of the way, what it refuses.

Items of one kind with the same group (VG, pool, md array, multi-device btrfs) on several disks form one
structure. A structure wholly on selected disks is destroyed; one wholly on unselected disks is kept, and
renamed when its name would clash with the new VG (`pve`) or pool (`rpool`); one spanning both is refused,
because tearing it down would damage a disk the operator did not select.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from installer.core.hardware import Disk, ExistingContent, describe_existing
from installer.storage.plan.types import Rename

GROUPED_KINDS = {
    "lvm-pv": "LVM volume group",
    "zfs-member": "ZFS pool",
    "md-member": "md RAID array",
    "btrfs-member": "btrfs filesystem",
}


@dataclass(frozen=True)
class ExistingOutcome:
    destroy: tuple[str, ...]
    rename: tuple[Rename, ...]
    problems: tuple[str, ...]


def renamed_vg(vg: str, vg_uuid: str) -> str:
    """`pve-OLD-<8 hex>`: Proxmox uses random hex; Keel derives it from the VG UUID so a plan is repeatable."""
    return f"{vg}-OLD-{hashlib.sha256(vg_uuid.encode()).hexdigest()[:8]}"


def _group_key(item: ExistingContent) -> tuple[str, str] | None:
    if item.kind not in GROUPED_KINDS:
        return None
    ident = item.group_id or item.group
    return (item.kind, ident) if ident else None


def review_existing(
    selected: Sequence[Disk],
    all_disks: Sequence[Disk],
    *,
    vg_name: str | None,
    pool_name: str | None,
) -> ExistingOutcome:
    """Sort the existing content into destroyed / renamed / refused. `vg_name` and `pool_name` are the names the
    install will create (None when it creates no VG / pool): only same-named structures elsewhere are renamed."""
    selected_paths = {d.path for d in selected}
    destroy = tuple(f"{describe_existing(item)} (will be wiped)" for disk in selected for item in disk.existing)

    groups: dict[tuple[str, str], list[tuple[Disk, ExistingContent]]] = {}
    for disk in all_disks:
        for item in disk.existing:
            key = _group_key(item)
            if key:
                groups.setdefault(key, []).append((disk, item))

    problems: list[str] = []
    renames: list[Rename] = []
    for (kind, ident), members in groups.items():
        inside = sorted({d.path for d, _ in members if d.path in selected_paths})
        outside = sorted({d.path for d, _ in members if d.path not in selected_paths})
        name = next((i.group for _, i in members if i.group), ident)
        label = f"{GROUPED_KINDS[kind]} '{name}'"
        if inside and outside:
            unsure = "" if any(i.group_id for _, i in members) else (
                " (no UUID recorded: these may be separate groups of the same name)")
            problems.append(
                f"{label} spans selected disk(s) {', '.join(inside)} and unselected disk(s) {', '.join(outside)}"
                f"{unsure}: select all of its disks or none, or remove it first"
            )
            continue
        if inside:
            continue
        devices = tuple(sorted({i.device for _, i in members}))
        if kind == "lvm-pv" and vg_name and name == vg_name:
            renames.append(Rename("lvm-vg", name, renamed_vg(name, ident), ident, devices))
        elif kind == "zfs-member" and pool_name and name == pool_name:
            renames.append(Rename("zfs-pool", name, f"{name}-OLD-{ident}", ident, devices))
    return ExistingOutcome(destroy, tuple(renames), tuple(problems))
