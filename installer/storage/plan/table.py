"""The storage plan as a table an operator reads at an 80-column terminal before anything is written."""

from __future__ import annotations

import textwrap

from installer.storage.plan.sizing import GiB, KiB, MiB
from installer.storage.plan.types import StoragePlan

WIDTH = 80
BY_ID = "/dev/disk/by-id/"


def human_size(size_bytes: int) -> str:
    """Binary units with one decimal: '512.0 MiB', '222.6 GiB', '1007.0 KiB'."""
    for unit, factor in (("TiB", 1024 * GiB), ("GiB", GiB), ("MiB", MiB), ("KiB", KiB)):
        if abs(size_bytes) >= factor:
            return f"{size_bytes / factor:.1f} {unit}"
    return f"{size_bytes} B"


def _wrapped(text: str, indent: str, then: str | None = None) -> list[str]:
    """`text` wrapped at 80 columns; continuation lines indented by `then` (default: two more than `indent`)."""
    follow = then if then is not None else " " * len(indent) + "  "
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=follow,
                         break_long_words=False, break_on_hyphens=False) or [indent]


def _short(device: str) -> str:
    return device.removeprefix(BY_ID)


def _disks(plan: StoragePlan) -> list[str]:
    lines = ["Disks (partitions in logical sectors, inclusive)"]
    for disk in plan.disks:
        lines.append(f"  {disk.path}  {human_size(disk.size_bytes)}  {disk.logical_block_size}-byte sectors")
        if disk.by_id:
            lines += _wrapped(_short(disk.by_id), "    by-id: ")
        lines.append(f"    {'#':>2}  {'type':<9}  {'start':>12}  {'end':>12}  {'size':>11}  path")
        for p in disk.partitions:
            lines.append(f"    {p.number:>2}  {p.type:<9}  {p.start_sector:>12}  {p.end_sector:>12}  "
                         f"{human_size(p.size_bytes):>11}  {p.path}")
    return lines


def _lvm(plan: StoragePlan) -> list[str]:
    lvm = plan.lvm
    if lvm is None:
        return []
    lines = [f"LVM volume group '{lvm.vg}' on {', '.join(lvm.pvs)} ({human_size(lvm.size_bytes)} in 4 MiB extents)"]
    for lv in lvm.lvs:
        extra = ""
        if lv.thin_pool:
            extra = f"thin pool; metadata {human_size(lv.metadata_bytes)} plus an equal spare"
        lines.append(f"  {lv.name:<6} {human_size(lv.size_bytes):>11}  {extra}".rstrip())
    lines.append(f"  {'free':<6} {human_size(lvm.free_bytes):>11}  left in the VG (snapshots)")
    return lines


def _zfs(plan: StoragePlan) -> list[str]:
    zfs = plan.zfs
    if zfs is None:
        return []
    arc = f"{zfs.arc_max_mib} MiB" if zfs.arc_max_mib else "ZFS default"
    lines = [f"ZFS pool '{zfs.pool}'  ashift={zfs.ashift} compress={zfs.compress} checksum={zfs.checksum} "
             f"copies={zfs.copies}", f"  ARC maximum: {arc}"]
    if any(d.startswith(BY_ID) for v in zfs.vdevs for d in v.devices):
        lines.append(f"  vdevs (devices in {BY_ID}):")
    else:
        lines.append("  vdevs:")
    for vdev in zfs.vdevs:
        lines.append(f"    {vdev.type}")
        lines += [f"      {_short(d)}" for d in vdev.devices]
    lines.append("  datasets:")
    for ds in zfs.datasets:
        props = " ".join(f"{k}={v}" for k, v in ds.properties.items())
        lines.append(f"    {ds.name:<20} {ds.mountpoint or '(inherited)':<14} {props}".rstrip())
    return lines


def _btrfs(plan: StoragePlan) -> list[str]:
    b = plan.btrfs
    if b is None:
        return []
    lines = [f"Btrfs  data={b.data_profile} metadata={b.metadata_profile}  options: {b.mount_options}"]
    lines += [f"  device {d}" for d in b.devices]
    lines += [f"  subvolume /{s}" for s in b.subvolumes]
    return lines


def _mounts(plan: StoragePlan) -> list[str]:
    lines = ["Mounts (in order; ZFS datasets mount themselves)" if plan.zfs else "Mounts (fstab, in order)"]
    for m in plan.mounts:
        head = f"  {m.target:<11} {m.fstype:<5} {m.source}"
        tail = m.options + ("" if m.in_fstab else "  (not in fstab)")
        if len(head) + 2 + len(tail) <= WIDTH:
            lines.append(f"{head}  {tail}")
        else:  # a long source (UUID=...): options go below it, in the source column
            lines += [head, " " * 20 + tail]
    lines += _wrapped(f"kernel: {plan.kernel_root}", "  ")
    stanzas = ", ".join(f"{e.id} ({e.type}{', disabled' if e.disabled else ''})" for e in plan.storage)
    if stanzas:
        lines += _wrapped(f"storage.cfg: {stanzas}", "  ")
    return lines


def _list(title: str, items: list[str]) -> list[str]:
    if not items:
        return []
    lines = [title]
    for item in items:
        lines += _wrapped(item, "  - ", "    ")
    return lines


def zfs_level(plan: StoragePlan) -> str:
    """The Proxmox RAID level name of the pool's topology: RAID0, RAID1, RAID10, RAIDZ-1..3."""
    assert plan.zfs is not None
    first = plan.zfs.vdevs[0].type
    if first == "stripe":
        return "RAID0"
    if first == "mirror":
        return "RAID10" if len(plan.zfs.vdevs) > 1 else "RAID1"
    return f"RAIDZ-{first[-1]}"


def format_plan(plan: StoragePlan) -> str:
    """The whole plan: disks, volumes / pool / Btrfs, mounts, then what is destroyed, renamed and warned about."""
    layout = str(plan.filesystem)
    if plan.zfs:
        layout += f" ({zfs_level(plan)})"
    elif plan.btrfs:
        layout += f" ({plan.btrfs.data_profile.upper()})"
    count = len(plan.disks)
    sections = [
        [f"Storage plan: {layout} on {count} disk{'s' if count != 1 else ''}"],
        _disks(plan), _lvm(plan), _zfs(plan), _btrfs(plan), _mounts(plan),
        _list("Destroyed (everything on the selected disks)", list(plan.destroy)),
        _list("Renamed (kept, on disks not selected)",
              [f"{r.kind} '{r.old}' -> '{r.new}' (id {r.id}) on {', '.join(r.devices)}" for r in plan.rename]),
        _list("Warnings", list(plan.warnings)),
    ]
    return "\n\n".join("\n".join(s) for s in sections if s) + "\n"
