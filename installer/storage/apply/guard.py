"""The one safety check of storage apply: a destructive command may only name devices of the selected disks.

Twice over: by name against the plan (`require_selected`, pure), and on the live system (`require_resolved`),
where every path the install writes is followed through its links to the node the kernel will open, which must
be a selected disk or a partition of one.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from installer.core.hardware import kernel_node
from installer.storage.plan import PlannedDisk, StoragePlan
from installer.storage.plan.partitions import partition_number, partition_path

from .resolve import BlockNode, NotABlockDevice, lookup


class ApplyError(RuntimeError):
    """Storage apply refused or could not do something; the message is one line naming the device or key."""


class UnselectedDeviceError(ApplyError):
    """A command would have written to a device that is not on a selected disk."""


def _partition_of(disk: PlannedDisk, device: str) -> int | None:
    """The number of the partition of `disk` that `device` names (kernel node or by-id -partN link), else None."""
    number = partition_number(disk.path, device)
    if number is None and disk.by_id:
        number = partition_number(disk.by_id, device)
    return number


def owning_disk(plan: StoragePlan, device: str) -> PlannedDisk | None:
    """The selected disk `device` lives on (the disk itself, any partition of it, or an LV of the planned VG),
    judged by name: where a link really points is `require_resolved`'s question."""
    for disk in plan.disks:
        if device in (disk.path, disk.by_id) or _partition_of(disk, device) is not None:
            return disk
    if plan.lvm is not None and is_planned_lv(plan, device):
        return owning_disk(plan, plan.lvm.pvs[0]) if plan.lvm.pvs else None
    return None


def is_planned_lv(plan: StoragePlan, device: str) -> bool:
    if plan.lvm is None:
        return False
    vg = plan.lvm.vg
    mapper_vg = vg.replace("-", "--")
    for lv in plan.lvm.lvs:
        if device in (f"/dev/{vg}/{lv.name}", f"/dev/mapper/{mapper_vg}-{lv.name.replace('-', '--')}"):
            return True
    return False


def require_selected(plan: StoragePlan, devices: Iterable[str], action: str) -> None:
    """Raise UnselectedDeviceError before `action` runs if any of `devices` is not on a selected disk."""
    selected = ", ".join(d.path for d in plan.disks) or "none"
    for device in devices:
        if owning_disk(plan, device) is None:
            raise UnselectedDeviceError(
                f"refusing to {action} {device}: it is not on a selected disk (selected: {selected})"
            )


def check_plan_names(plan: StoragePlan) -> None:
    """Raise if the plan's own names are ambiguous: a disk whose name is not its node, a partition path that is
    not the kernel's name for it, two disks with one path or one by-id link."""
    paths: dict[str, PlannedDisk] = {}
    for disk in plan.disks:
        if kernel_node(disk.name) != disk.path:
            raise ApplyError(f"{disk.path}: the plan calls this disk {disk.name}, whose node is "
                             f"{kernel_node(disk.name)}: its partition names would be another device's")
        for name in (disk.path, disk.by_id):
            if name and name in paths:
                raise ApplyError(f"{name} names two selected disks ({paths[name].name} and {disk.name}): "
                                 "a link shared by twins points at either, so neither may be named by it")
            if name:
                paths[name] = disk
        for part in disk.partitions:
            if part.path != partition_path(disk.path, part.number):
                raise UnselectedDeviceError(f"refusing to partition {disk.path}: its planned partition {part.number} "
                                            f"has the path {part.path}, the kernel names it "
                                            f"{partition_path(disk.path, part.number)}")


def require_resolved(plan: StoragePlan, written: Iterable[str], *, elsewhere: Iterable[str] = (),
                     partitions_made: bool, root: Path = Path("/")) -> None:
    """Follow every path the install writes to the device the kernel will open, on the live system below `root`,
    and raise before anything is written unless it is the selected disk or the partition the plan means.

    The selected disks and their by-id links must exist; partition nodes and links are checked where they
    exist, and must all exist once `partitions_made`. `elsewhere` are devices deliberately written on unselected
    disks (renames): none may lead to a selected disk. The planned LVs are not resolved: they appear only when
    this install's vgcreate has made their VG on PVs checked here (and vgcreate refuses a name that exists).
    """
    selected = ", ".join(d.path for d in plan.disks) or "none"
    disks: dict[str, PlannedDisk] = {}                  # major:minor of each selected disk's node
    for disk in plan.disks:
        node = _resolve(disk.path, root)
        if node is None:
            raise ApplyError(f"{disk.path}: no such device on this machine")
        if node.partition or node.number in disks:
            what = "not a whole disk" if node.partition else f"the same device as {disks[node.number].path}"
            raise UnselectedDeviceError(f"refusing to install to {disk.path}: it resolves to {node.describe()}, "
                                        f"{what}")
        disks[node.number] = disk
    by_ids = [disk.by_id for disk in plan.disks if disk.by_id]
    for device in dict.fromkeys([*by_ids, *written]):
        if is_planned_lv(plan, device):
            continue
        owner = owning_disk(plan, device)
        if owner is None:
            raise UnselectedDeviceError(f"refusing to write {device}: it is not on a selected disk "
                                        f"(selected: {selected})")
        number = 0 if device in (owner.path, owner.by_id) else _partition_of(owner, device)
        node = _resolve(device, root)
        if node is None:
            if number == 0 or partitions_made:
                raise ApplyError(f"{device}: no such device on this machine"
                                 + (" after partitioning" if number else ""))
            continue
        actual = disks.get(node.whole)
        if actual is None:
            raise UnselectedDeviceError(f"refusing to write {device}: it resolves to {node.describe()}, which is "
                                        f"not a selected disk or a partition of one (selected: {selected})")
        if actual is not owner or node.partition != number:
            meant = f"partition {number} of {owner.path}" if number else owner.path
            raise UnselectedDeviceError(f"refusing to write {device}: it resolves to {node.describe()}, "
                                        f"the plan means {meant}")
    for device in elsewhere:
        node = _resolve(device, root)
        if node is not None and node.whole in disks:
            raise UnselectedDeviceError(f"refusing to touch {device} on an unselected disk: it resolves to "
                                        f"{node.describe()}, on the selected {disks[node.whole].path}")


def _resolve(device: str, root: Path) -> BlockNode | None:
    try:
        return lookup(device, root)
    except NotABlockDevice as err:
        raise UnselectedDeviceError(f"refusing to write {device}: it {err}") from err
