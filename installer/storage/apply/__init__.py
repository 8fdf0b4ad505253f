"""Storage apply: the install phases that turn a StoragePlan into partitions, volumes and mounted filesystems.

The engine calls them in this order, each as `phase(ctx)`; every destructive command is checked by
`guard.require_selected` first, so nothing but the selected disks is ever written (renames of old VGs/pools
on other disks, as the plan lists them, are the one deliberate exception).
"""

from .finalize import finalize_storage
from .guard import ApplyError, UnselectedDeviceError, require_selected
from .mkfs import make_filesystems
from .mount import mount_target, unmount_target
from .partition import partition_disks
from .teardown import teardown_existing
from .volumes import create_volumes

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
]
