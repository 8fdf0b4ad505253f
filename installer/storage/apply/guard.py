"""The one safety check of storage apply: a destructive command may only name devices of the selected disks."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from installer.storage.plan import PlannedDisk, StoragePlan


class ApplyError(RuntimeError):
    """Storage apply refused or could not do something; the message is one line naming the device or key."""


class UnselectedDeviceError(ApplyError):
    """A command would have written to a device that is not on a selected disk."""


def _partition_pattern(disk: PlannedDisk) -> re.Pattern[str]:
    # nvme0n1 / mmcblk0 / loop0 take a "p" before the partition number, sda / vda do not
    sep = "p" if disk.name[-1:].isdigit() else ""
    alternatives = [re.escape(disk.path + sep) + r"[1-9][0-9]*"]
    if disk.by_id:
        alternatives.append(re.escape(disk.by_id + "-part") + r"[1-9][0-9]*")
    return re.compile("|".join(alternatives))


def owning_disk(plan: StoragePlan, device: str) -> PlannedDisk | None:
    """The selected disk `device` lives on (the disk itself, any partition of it, or an LV of the planned VG)."""
    for disk in plan.disks:
        if device in (disk.path, disk.by_id) or _partition_pattern(disk).fullmatch(device):
            return disk
    if plan.lvm is not None and _is_planned_lv(plan, device):
        return owning_disk(plan, plan.lvm.pvs[0]) if plan.lvm.pvs else None
    if device.startswith("/dev/disk/"):
        # a by-id/by-path link the plan did not record: judge the node it points to
        real = os.path.realpath(device)
        if real != device:
            return owning_disk(plan, real)
    return None


def _is_planned_lv(plan: StoragePlan, device: str) -> bool:
    assert plan.lvm is not None
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
