"""/etc/fstab from the storage plan's mount table."""

from __future__ import annotations

from installer.storage.plan import StoragePlan


def render_fstab(plan: StoragePlan) -> str:
    """One line per mount the plan marks `in_fstab`, in plan order; ZFS datasets mount themselves."""
    lines = ["# <file system> <mount point> <type> <options> <dump> <pass>"]
    lines += [m.fstab_line() for m in plan.mounts if m.in_fstab]
    return "\n".join(lines) + "\n"
