"""Leaving the new storage ready for its first boot: ZFS exported with final mountpoints, LVM deactivated."""

from __future__ import annotations

from typing import TYPE_CHECKING

from installer.runner import CommandError

from .mount import unmount_target
from .zfs import finalize_zfs_argvs

if TYPE_CHECKING:
    from installer.engine.context import InstallContext


def finalize_storage(ctx: InstallContext) -> None:
    """Unmount what is left, then hand the pool / VG over to the installed system (reference §3.3)."""
    unmount_target(ctx)
    plan = ctx.plan
    if plan.zfs is not None:
        argvs = finalize_zfs_argvs(plan.zfs)
        for index, argv in enumerate(argvs):
            ctx.run(argv, timeout=300)
            ctx.events.progress((index + 1) / len(argvs), " ".join(argv[:3]))
    elif plan.lvm is not None:
        # a tidy hand-over, not a requirement: the installed system activates its VG itself at boot, so an
        # LV something still holds open is worth a warning, not a failed install
        try:
            ctx.run(["vgchange", "-a", "n", plan.lvm.vg], timeout=120)
        except CommandError as err:
            ctx.events.warning(f"could not deactivate VG {plan.lvm.vg}: {str(err).splitlines()[0]}")
    ctx.run(["sync"], timeout=300)
