"""Creating the planned volumes: the LVM volume group, the ZFS pool or the Btrfs filesystem."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .btrfs import create_btrfs
from .guard import ApplyError
from .lvm import create_lvm
from .zfs import create_zfs

if TYPE_CHECKING:
    from installer.engine.context import InstallContext


def create_volumes(ctx: InstallContext) -> None:
    """Build exactly one of the plan's LVM, ZFS or Btrfs parts."""
    plan = ctx.plan
    parts = [name for name, part in (("lvm", plan.lvm), ("zfs", plan.zfs), ("btrfs", plan.btrfs)) if part]
    if len(parts) != 1:
        raise ApplyError(f"plan: expected exactly one of lvm, zfs, btrfs, found {', '.join(parts) or 'none'}")
    if plan.lvm is not None:
        ctx.events.message(f"Creating LVM volume group {plan.lvm.vg}")
        create_lvm(ctx, plan)
    elif plan.zfs is not None:
        ctx.events.message(f"Creating ZFS pool {plan.zfs.pool}")
        create_zfs(ctx, plan)
    else:
        ctx.events.message("Creating the Btrfs filesystem")
        create_btrfs(ctx, plan)
