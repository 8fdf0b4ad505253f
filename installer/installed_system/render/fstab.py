"""/etc/fstab from the storage plan's mount table."""

from __future__ import annotations

from installer.storage.plan.types import Mount, StoragePlan


def fstab_line(mount: Mount) -> str:
    return f"{mount.source} {mount.target} {mount.fstype} {mount.options} {mount.dump} {mount.passno}"


def render_fstab(plan: StoragePlan) -> str:
    """One line per mount the plan marks `in_fstab`, in plan order; ZFS datasets mount themselves."""
    lines = ["# <file system> <mount point> <type> <options> <dump> <pass>"]
    lines += [fstab_line(m) for m in plan.mounts if m.in_fstab]
    return "\n".join(lines) + "\n"
