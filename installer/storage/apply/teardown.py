"""Clearing what is on the selected disks before partitioning, and renaming old pools/VGs elsewhere as planned.

blivet reads the whole storage stack and tears LVM, md, LUKS and btrfs down on the selected disks in
dependency order; this is the only module of Keel that uses it, and it is imported lazily so hosts without
it still run the tests. Without blivet (or when it cannot read the stack) a command-based teardown does the
same for stacks that lie entirely on selected disks. Then every selected disk is wiped like Proxmox does
(reference §2.2): ZFS labels, the first MiBs and every signature of each partition, then the GPT.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from installer.host.lsblk import BlockNode, LsblkError, parse_lsblk
from installer.host.mounts import mounts_of, parse_mountinfo
from installer.runner import CommandError
from installer.storage.plan import PlannedDisk, Rename, StoragePlan

from . import mount
from .guard import ApplyError, UnselectedDeviceError, owning_disk, require_selected
from .partition import zero_argv
from .zfs import rename_pool_argvs

if TYPE_CHECKING:
    from installer.phase import InstallContext


def lsblk(ctx: InstallContext, device: str, *, inverse: bool = False) -> tuple[BlockNode, ...]:
    argv = ["lsblk", "--json", "--paths", "--bytes", "--output", "NAME,TYPE,SIZE"]
    try:
        return parse_lsblk(ctx.run([*argv, *(["--inverse"] if inverse else []), device], timeout=60).stdout)
    except LsblkError as err:
        raise ApplyError(f"{device}: {err}") from err


def partitions_of(root: BlockNode) -> list[BlockNode]:
    """The partitions of a disk node, highest number (deepest) first."""
    return list(reversed([c for c in root.children if c.type == "part"]))


def holders_top_down(root: BlockNode) -> list[tuple[BlockNode, BlockNode]]:
    """Everything stacked on the disk or its partitions (LVs, md arrays, LUKS mappings) with the device it
    sits on, topmost first."""
    found: dict[str, tuple[int, BlockNode, BlockNode]] = {}

    def walk(node: BlockNode, level: int) -> None:
        for child in node.children:
            if child.type not in ("disk", "part"):
                previous = found.get(child.name)
                if previous is None or previous[0] < level:
                    found[child.name] = (level, child, node)
            walk(child, level + 1)

    walk(root, 0)
    return [(node, parent) for _, node, parent in sorted(found.values(), key=lambda item: -item[0])]


def is_md(node: BlockNode) -> bool:
    return node.type.startswith("raid") or node.type in ("md", "linear")


def disks_below(nodes: tuple[BlockNode, ...]) -> set[str]:
    """The whole disks in an `lsblk --inverse` tree (the devices a holder is built from)."""
    found: set[str] = set()
    for node in nodes:
        if node.type == "disk":
            found.add(node.name)
        found |= disks_below(node.children)
    return found


SWAPS = Path("/proc/swaps")


def read_swaps() -> str:
    return SWAPS.read_text() if SWAPS.exists() else ""


def swaps_of(swaps: str, devices: set[str]) -> list[str]:
    """Active swap devices (from /proc/swaps) that are among `devices`."""
    names = (line.split()[0].replace("\\040", " ") for line in swaps.splitlines()[1:] if line.strip())
    return [name for name in names if name in devices]


def device_names(nodes: tuple[BlockNode, ...]) -> set[str]:
    names: set[str] = set()
    for node in nodes:
        names.add(node.name)
        names |= device_names(node.children)
    return names


def is_blank(ctx: InstallContext, disk: PlannedDisk) -> bool:
    """Nothing on `disk` to take down or wipe: no partition or holder (lsblk) and no signature (wipefs finds
    none: no partition table, PV, md, LUKS, file system or ZFS label). A new disk, as most installs see them."""
    if ctx.dry_run or any(root.children for root in lsblk(ctx, disk.path)):
        return False
    found = ctx.run(["wipefs", "--no-act", "--noheadings", "--output", "TYPE", disk.path], timeout=60).stdout
    return not found.strip()


def release_in_use(ctx: InstallContext, disks: list[PlannedDisk]) -> None:
    """Unmount filesystems and turn off swap living on the selected disks (a live system may have picked
    them up); everything there is about to be wiped, and wipefs would find the devices busy."""
    devices: set[str] = set()
    for disk in disks:
        devices |= device_names(lsblk(ctx, disk.path))
    for point in mounts_of(parse_mountinfo(mount.read_mountinfo()), devices):
        ctx.events.warning(f"unmounting {point}: it is on a disk being installed to")
        ctx.run(["umount", point], timeout=120)
    for swap in swaps_of(read_swaps(), devices):
        ctx.events.warning(f"turning off swap on {swap}: it is on a disk being installed to")
        ctx.run(["swapoff", swap], timeout=120)


def rename_argvs(rename: Rename) -> list[list[str]]:
    if rename.kind == "lvm-vg":
        return [["vgrename", rename.id, rename.new]]
    return rename_pool_argvs(rename)


def check_renames(plan: StoragePlan) -> None:
    """A rename is for structures on unselected disks only; on a selected disk teardown clears them instead."""
    for rename in plan.rename:
        on_selected = [d for d in rename.devices if owning_disk(plan, d) is not None]
        if on_selected:
            raise ApplyError(f"rename of {rename.old} to {rename.new}: {on_selected[0]} is on a selected disk, "
                             "which teardown clears instead")


def clear_zfs_labels(ctx: InstallContext, disks: list[PlannedDisk]) -> None:
    """`zpool labelclear -f` on every partition and disk; it fails harmlessly where there is no ZFS label.

    This runs while the old partitions still exist: blivet knows nothing of ZFS and removes them.
    """
    try:
        ctx.run(["modprobe", "zfs"], timeout=60, check=False)
        for disk in disks:
            devices = [part.name for root in lsblk(ctx, disk.path) for part in partitions_of(root)]
            for device in [*devices, disk.path]:
                require_selected(ctx.plan, [device], "clear ZFS labels on")
                ctx.run(["zpool", "labelclear", "-f", device], timeout=60, check=False)
    except CommandError as err:
        if err.returncode is not None:
            raise
        ctx.events.warning(f"ZFS tools unavailable ({err}); old ZFS labels are only wiped by wipefs")


def blivet_teardown(ctx: InstallContext, disks: list[PlannedDisk]) -> None:
    """Schedule the removal of everything on `disks` (selected ones) with blivet, check it, then execute it."""
    import blivet

    storage = blivet.Blivet()
    storage.reset()
    tree = storage.devicetree
    for disk in disks:
        device = tree.get_device_by_path(disk.path) or tree.get_device_by_name(disk.name)
        if device is None:
            ctx.events.warning(f"blivet does not see {disk.path}; it is wiped with commands only")
            continue
        if device.format.type is None and device.isleaf:
            continue  # a blank disk: nothing for blivet to take down
        tree.recursive_remove(device)
    for action in tree.actions.find():
        device = action.device
        disks = [d.path for d in getattr(device, "disks", [])] or [device.path]
        for disk_path in disks:
            require_selected(ctx.plan, [disk_path], f"let blivet {action} on")
    storage.do_it()


SHARED_KINDS = ("lvm-pv", "md-member", "btrfs-member", "zfs-member", "luks")


def refuse_shared_structures(ctx: InstallContext) -> None:
    """Raise before anything is written if a VG, md array, LUKS or Btrfs/ZFS structure on a selected disk also
    lives on an unselected one: tearing it down would damage the other disk (the plan refuses these too).

    Checked twice: from the recorded hardware (members of one group_id) and from the live stack (every
    device built on a selected disk, followed down with `lsblk --inverse` to the disks it uses).
    """
    groups: dict[tuple[str, str], set[str]] = {}
    for hw_disk in ctx.hardware.disks:
        for item in hw_disk.existing:
            if item.kind in SHARED_KINDS and item.group_id:
                groups.setdefault((item.kind, item.group_id), set()).add(item.device)
    for (kind, group_id), devices in sorted(groups.items()):
        selected = sorted(d for d in devices if owning_disk(ctx.plan, d) is not None)
        foreign = sorted(d for d in devices if owning_disk(ctx.plan, d) is None)
        if selected and foreign:
            raise UnselectedDeviceError(f"refusing to tear down the {kind} group {group_id} on {selected[0]}: "
                                        f"it also lives on {', '.join(foreign)}, which is not selected")
    for disk in ctx.plan.disks:
        for root in lsblk(ctx, disk.path):
            for holder, _ in holders_top_down(root):
                spans = sorted(disks_below(lsblk(ctx, holder.name, inverse=True)))
                foreign = [d for d in spans if owning_disk(ctx.plan, d) is None]
                if foreign:
                    raise UnselectedDeviceError(f"refusing to tear down {holder.name}: it also lives on "
                                                f"{', '.join(foreign)}, which is not selected")


def volume_groups(ctx: InstallContext) -> dict[str, str]:
    """PV device -> VG name, as LVM reports them (read-only)."""
    out = ctx.run(["pvs", "--noheadings", "--separator", ":", "-o", "pv_name,vg_name"], timeout=60).stdout
    pairs = (line.strip().split(":", 1) for line in out.splitlines() if ":" in line)
    return {pv: vg for pv, vg in pairs if vg}


def command_teardown(ctx: InstallContext, disk: PlannedDisk) -> None:
    """Deactivate what is stacked on `disk` top-down with the tools themselves (stacks are not shared:
    refuse_shared_structures ran first), then remove PV labels and md superblocks of its members."""
    for root in lsblk(ctx, disk.path):
        holders = holders_top_down(root)
        if not holders:
            continue
        vgs = volume_groups(ctx) if any(h.type == "lvm" for h, _ in holders) else {}
        deactivated: set[str] = set()
        for holder, parent in holders:
            if holder.type == "lvm":
                if parent.type == "lvm":
                    continue  # a thin volume or pool part: goes with its VG
                vg = vgs.get(parent.name)
                if vg is None:
                    raise ApplyError(f"{parent.name}: LVM reports no volume group for this PV of {holder.name}")
                if vg not in deactivated:
                    ctx.run(["vgchange", "-an", vg], timeout=120)
                    deactivated.add(vg)
            elif holder.type == "crypt":
                ctx.run(["cryptsetup", "close", Path(holder.name).name], timeout=60)
            elif is_md(holder):
                ctx.run(["mdadm", "--stop", holder.name], timeout=60)
            else:
                raise ApplyError(f"{disk.path}: do not know how to tear down {holder.name} (type {holder.type})")
        for member in (root, *root.children):
            kinds = {c.type for c in member.children}
            if "lvm" in kinds:
                require_selected(ctx.plan, [member.name], "remove the LVM PV")
                ctx.run(["pvremove", "-ff", "-y", member.name], timeout=60, check=False)
            if any(is_md(c) for c in member.children):
                require_selected(ctx.plan, [member.name], "remove the md superblock of")
                ctx.run(["mdadm", "--zero-superblock", member.name], timeout=60, check=False)


def wipe_disk(ctx: InstallContext, disk: PlannedDisk) -> None:
    """Reference §2.2 after the stacks are gone: first MiBs and signatures of each partition, then the disk."""
    for root in lsblk(ctx, disk.path):
        for part in partitions_of(root):
            require_selected(ctx.plan, [part.name], "wipe")
            ctx.run(zero_argv(part.name, part.size), timeout=300)
            ctx.run(["wipefs", "-a", part.name], timeout=60)
    require_selected(ctx.plan, [disk.path], "wipe")
    ctx.run(["wipefs", "-a", disk.path], timeout=60)
    ctx.run(["sgdisk", "-Z", disk.path], timeout=60)


def clear_disks(ctx: InstallContext) -> None:
    """Tear down and wipe everything on the selected disks (and nothing else); the renames ran before.

    Blank disks are left as they are: reading the whole storage stack with blivet cost about 15 s under TCG on
    every install, for disks that hold nothing.
    """
    plan: StoragePlan = ctx.plan
    require_selected(plan, [disk.path for disk in plan.disks], "tear down")
    used = [disk for disk in plan.disks if not is_blank(ctx, disk)]
    for disk in plan.disks:
        if disk not in used:
            ctx.events.message(f"{disk.path} is blank (no partitions, holders or signatures): nothing to take down")
    if not used:
        return
    release_in_use(ctx, used)
    clear_zfs_labels(ctx, used)
    ctx.events.progress(0.2, "cleared ZFS labels")
    if not ctx.dry_run:
        try:
            blivet_teardown(ctx, used)
            ctx.events.progress(0.6, "removed the old storage stack with blivet")
        except UnselectedDeviceError:
            raise
        except Exception as err:  # blivet missing, or it could not read this stack
            ctx.events.warning(f"blivet teardown unavailable ({type(err).__name__}: {err}); "
                               "tearing down with LVM/mdadm/cryptsetup commands")
    for disk in used:
        command_teardown(ctx, disk)
    for index, disk in enumerate(used):
        wipe_disk(ctx, disk)
        ctx.events.progress(0.6 + 0.4 * (index + 1) / len(used), f"wiped {disk.path}")
