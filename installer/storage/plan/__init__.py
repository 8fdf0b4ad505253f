"""The storage plan: what the install will do to which disk, decided before anything is written.

`types` holds the plan as data; `planner.plan(config, hardware)` makes one (pure) from the layout rules in the
sibling modules (`partitions`, `lvm` and `sizing`, `zfs`, `btrfs`, `mounts`, `storagecfg`, `existing`, `uuids`);
`table` formats it for people. Modules here import each other directly, never this package.
"""

from installer.storage.plan.planner import PlanError, plan
from installer.storage.plan.types import (
    BtrfsPlan,
    Dataset,
    LogicalVolume,
    LvmPlan,
    Mount,
    Partition,
    PlannedDisk,
    Rename,
    StorageEntry,
    StoragePlan,
    Vdev,
    ZfsPlan,
)

__all__ = ["BtrfsPlan", "Dataset", "LogicalVolume", "LvmPlan", "Mount", "Partition", "PlanError", "PlannedDisk",
           "Rename", "StorageEntry", "StoragePlan", "Vdev", "ZfsPlan", "plan"]
