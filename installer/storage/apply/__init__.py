"""Storage apply: the install phases that turn a StoragePlan into partitions, volumes and mounted filesystems.

`steps.storage_steps(plan, target)` lists every step as data (built from the command builders in `lvm`, `zfs`,
`btrfs`, `mkfs`, `mount`, `partition` and `teardown`); `execute` runs them, one storage phase at a time, after
`guard` has checked every device a step writes against the selected disks, by name and, through `resolve`, by
where it leads on the live system. Renames of old VGs/pools on other disks, as the plan lists them, are the one
deliberate exception. Modules here import each other directly.
"""

from installer.storage.apply.execute import (
    create_volumes,
    finalize_storage,
    make_filesystems,
    mount_target,
    partition_disks,
    teardown_existing,
    write_back,
)
from installer.storage.apply.guard import ApplyError, UnselectedDeviceError, require_selected
from installer.storage.apply.mount import unmount_target

__all__ = [
    "ApplyError",
    "UnselectedDeviceError",
    "create_volumes",
    "finalize_storage",
    "make_filesystems",
    "mount_target",
    "partition_disks",
    "require_selected",
    "teardown_existing",
    "unmount_target",
    "write_back",
]
