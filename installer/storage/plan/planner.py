"""Build a StoragePlan: check the selection against the rules, lay out every disk, then size LVM / ZFS / Btrfs.

Pure: the only inputs are the InstallConfig, the HardwareProfile and (optionally) the UUIDs to use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from installer.core import rules
from installer.core.config import (
    BtrfsCompress,
    Filesystem,
    InstallConfig,
    LvmOptions,
    ZfsChecksum,
    ZfsCompress,
    ZfsRaid,
)
from installer.core.hardware import Disk, HardwareProfile, disk_by_id, disk_links, readable_by_id
from installer.storage.plan.btrfs import btrfs_plan
from installer.storage.plan.existing import review_existing
from installer.storage.plan.lvm import lvm_plan
from installer.storage.plan.mounts import btrfs_mounts, kernel_root, lvm_mounts, zfs_mounts
from installer.storage.plan.partitions import LayoutError, disk_layout, partition_path
from installer.storage.plan.sizing import GiB, MiB, lvm_sizes, os_kib
from installer.storage.plan.storagecfg import storage_entries
from installer.storage.plan.types import (
    BtrfsPlan,
    LvmPlan,
    Mount,
    PartitionType,
    PlanError,
    PlannedDisk,
    StorageEntry,
    StoragePlan,
    ZfsPlan,
)
from installer.storage.plan.uuids import choose_uuids, esp_key
from installer.storage.plan.zfs import POOL, zfs_plan


def shared_link_warnings(disks: Sequence[Disk], machine: Sequence[Disk]) -> list[str]:
    """One warning per readable by-id link of the selected `disks` that another disk of `machine` claims too."""
    warnings = []
    for link in dict.fromkeys(link for disk in disks for link in readable_by_id(disk)):
        owners = [d.name for d in machine if link in disk_links(d)]
        fallback = [d.path for d in disks if link in disk_links(d) and disk_by_id(d, machine) is None]
        if len(owners) > 1 and fallback:
            warnings.append(f"{' and '.join(owners)} share the by-id link {link} (identical serials), which udev "
                            f"points at either of them: the plan names {', '.join(fallback)} by kernel name instead")
    return warnings


def _options_problems(config: InstallConfig) -> list[str]:
    setup = config.disk_setup
    fs = setup.filesystem
    problems = []
    if fs == Filesystem.ZFS and setup.zfs is None:
        problems.append("disk-setup.zfs.raid: a ZFS install needs a RAID level")
    if fs == Filesystem.BTRFS and setup.btrfs is None:
        problems.append("disk-setup.btrfs.raid: a Btrfs install needs a RAID level")
    # the ranges the answer file's schema checks too (rules.SIZE_GIB), so an answer it accepts can be planned
    if problem := rules.size_problem("hdsize", setup.hdsize):
        problems.append(f"disk-setup.hdsize: {problem}")
    lvm = setup.lvm
    if fs.uses_lvm and lvm is not None:
        for key in ("swapsize", "maxroot", "minfree", "maxvz"):
            if problem := rules.size_problem(key, getattr(lvm, key)):
                problems.append(f"disk-setup.lvm.{key}: {problem}")
    if fs == Filesystem.ZFS and setup.zfs is not None:
        z = setup.zfs
        for key, value, bounds in (("ashift", z.ashift, rules.ZFS_ASHIFT), ("copies", z.copies, rules.ZFS_COPIES)):
            if problem := rules.range_problem(value, bounds):
                problems.append(f"disk-setup.zfs.{key}: {problem}")
        if z.compress not in set(ZfsCompress):
            problems.append(f"disk-setup.zfs.compress: unknown value '{z.compress}'")
        if z.checksum not in set(ZfsChecksum):
            problems.append(f"disk-setup.zfs.checksum: unknown value '{z.checksum}'")
        if z.arc_max_mib < 0:
            problems.append(f"disk-setup.zfs.arc-max: must be 0 or more MiB, got {z.arc_max_mib}")
    if fs == Filesystem.BTRFS and setup.btrfs is not None and setup.btrfs.compress not in set(BtrfsCompress):
        problems.append(f"disk-setup.btrfs.compress: unknown value '{setup.btrfs.compress}'")
    return problems


def _select_disks(config: InstallConfig, hardware: HardwareProfile) -> tuple[list[Disk], list[str]]:
    disks, problems = [], []
    if not config.disk_setup.disks:
        problems.append("disk-setup: no disk selected")
    # partitions are named after the disk's node: a disk whose name and path disagree would have its partitions
    # planned on another device, so such a profile is refused whichever disks are selected
    problems += [problem for disk in hardware.disks if (problem := disk.name_problem())]
    for name in config.disk_setup.disks:
        disk = hardware.disk(name)
        claimed = [d.name for d in hardware.disks if name in disk_links(d)]
        if disk is None:
            problems.append(f"disk {name} is not present on this machine")
        elif len(claimed) > 1:
            problems.append(f"disk {name}: the link names {len(claimed)} disks ({', '.join(claimed)}; identical "
                            "serials), so it could point at any of them: select the disk by name")
        else:
            disks.append(disk)
    return disks, problems


def _selection_problems(config: InstallConfig, hardware: HardwareProfile, disks: Sequence[Disk]) -> list[str]:
    setup = config.disk_setup
    raid = setup.zfs.raid if setup.zfs else setup.btrfs.raid if setup.btrfs else None
    problems = rules.disk_selection_problems(
        setup.filesystem, raid, disks,
        boot_mode=hardware.boot_mode, unattended=config.unattended, hdsize=setup.hdsize,
    )
    if setup.filesystem.uses_lvm and setup.lvm is not None and disks:
        # Swap is checked against the space the installer really uses: hdsize, or the whole disk without it.
        usable = setup.hdsize if setup.hdsize is not None else disks[0].size_gib
        swap = rules.swap_problem(setup.lvm.swapsize, min(usable, disks[0].size_gib))
        if swap:
            problems.append(swap)
    return problems


def _part_type(fs: Filesystem) -> PartitionType:
    if fs.uses_lvm:
        return "lvm"
    return "zfs" if fs == Filesystem.ZFS else "btrfs"


def _gib(size_bytes: int) -> str:
    return rules.format_gib(size_bytes / GiB)


def _redundancy_groups(config: InstallConfig, planned: Sequence[PlannedDisk]) -> list[Sequence[PlannedDisk]]:
    """The disks that hold copies or parity of each other: a ZFS mirror / RAIDZ vdev or a Btrfs RAID1/10."""
    setup = config.disk_setup
    level = setup.zfs.raid if setup.zfs else setup.btrfs.raid if setup.btrfs else None
    if level is None or level.value == "RAID0":
        return []
    if setup.zfs and setup.zfs.raid == ZfsRaid.RAID10:
        return [planned[i:i + 2] for i in range(0, len(planned), 2)]
    return [planned]


def _warnings(config: InstallConfig, disks: Sequence[Disk], planned: Sequence[PlannedDisk]) -> list[str]:
    setup = config.disk_setup
    warnings = []
    if not config.unattended:
        warnings += [w for d in disks if (w := rules.disk_size_warning(d, hdsize=setup.hdsize))]
    if setup.hdsize is not None and disks and all(setup.hdsize > d.size_gib for d in disks):
        warnings.append(f"hdsize {rules.format_gib(setup.hdsize)} GiB is larger than every selected disk: "
                        "partition 3 runs to the end of each disk")
    for group in _redundancy_groups(config, planned):
        sizes = sorted({p.partitions[-1].size_bytes for p in group})
        if len(sizes) > 1:
            names = ", ".join(p.name for p in group)
            warnings.append(f"partition 3 differs in size within {names} ({_gib(sizes[0])} to {_gib(sizes[-1])} "
                            "GiB): the redundant copy uses only the smallest; set hdsize for equal partitions")
    if setup.filesystem == Filesystem.BTRFS:
        warnings.append("Btrfs as root filesystem is a technology preview")
    return warnings


class _Volumes(NamedTuple):
    """What lives on partition 3 and how the installed system finds it."""

    mounts: tuple[Mount, ...]
    kernel_root: str
    storage: tuple[StorageEntry, ...]
    lvm: LvmPlan | None = None
    zfs: ZfsPlan | None = None
    btrfs: BtrfsPlan | None = None
    warnings: tuple[str, ...] = ()


def _lvm_volumes(config: InstallConfig, hardware: HardwareProfile, disk: Disk, planned: PlannedDisk,
                 uuids: Mapping[str, str]) -> _Volumes:
    setup = config.disk_setup
    opts = setup.lvm or LvmOptions()
    sizes = lvm_sizes(
        os_kib(disk.size_bytes, setup.hdsize), hardware.memory_mib,
        swapsize=opts.swapsize, maxroot=opts.maxroot, minfree=opts.minfree, maxvz=opts.maxvz,
        product=config.product,
    )
    if sizes.root_kib <= 0:
        raise PlanError(f"disk {disk.name}: no space left for the root volume after {sizes.swap_kib // 1024} "
                        "MiB of swap: lower swapsize")
    p3 = planned.partitions[-1]
    lvm, fit_warning = lvm_plan(config.product, p3.path, p3.size_bytes, sizes)
    if lvm.free_bytes < 0:
        raise PlanError(f"disk {disk.name}: the volumes do not fit into VG '{lvm.vg}': lower swapsize or maxroot")
    if problem := root_volume_problem(disk, lvm):
        raise PlanError(problem)
    # Only an EFI-booted LVM system mounts an ESP (the first disk's) on /boot/efi (reference §4.1).
    esp_uuid = uuids[esp_key(disk.path)] if hardware.boot_mode == "efi" else None
    return _Volumes(
        mounts=lvm_mounts(setup.filesystem, lvm.vg, swap=sizes.swap_kib > 0, esp_uuid=esp_uuid),
        kernel_root=kernel_root(setup.filesystem, vg=lvm.vg),
        storage=storage_entries(setup.filesystem, product=config.product, vg=lvm.vg, thin_pool=sizes.data_kib > 0),
        lvm=lvm,
        warnings=tuple(w for w in (sizes.message, fit_warning) if w),
    )


def _zfs_volumes(config: InstallConfig, hardware: HardwareProfile, planned: Sequence[PlannedDisk]) -> _Volumes:
    opts = config.disk_setup.zfs
    assert opts is not None, "checked by _options_problems"
    devices = [partition_path(p.by_id or p.path, p.partitions[-1].number) for p in planned]
    zfs = zfs_plan(opts, devices, rules.effective_arc_max_mib(opts.arc_max_mib, hardware.memory_mib),
                   config.product)
    return _Volumes(
        mounts=zfs_mounts(zfs),
        kernel_root=kernel_root(Filesystem.ZFS, zfs_root=zfs.bootfs),
        storage=storage_entries(Filesystem.ZFS, product=config.product, zfs_data=f"{POOL}/data"),
        zfs=zfs,
        warnings=tuple(w for w in (rules.arc_max_warning(opts.arc_max_mib, hardware.memory_mib),) if w),
    )


def _btrfs_volumes(config: InstallConfig, planned: Sequence[PlannedDisk], uuids: Mapping[str, str]) -> _Volumes:
    opts = config.disk_setup.btrfs
    assert opts is not None, "checked by _options_problems"
    btrfs = btrfs_plan(opts, [p.partitions[-1].path for p in planned], config.product)
    return _Volumes(
        mounts=btrfs_mounts(uuids["root"], btrfs.mount_options),
        kernel_root=kernel_root(Filesystem.BTRFS, fs_uuid=uuids["root"]),
        storage=storage_entries(Filesystem.BTRFS, product=config.product),
        btrfs=btrfs,
    )


def plan(config: InstallConfig, hardware: HardwareProfile, *,
         uuids: Mapping[str, str] | None = None) -> StoragePlan:
    """The complete storage plan for `config` on `hardware`; pure. Raises PlanError listing every problem."""
    setup = config.disk_setup
    fs = setup.filesystem
    disks, problems = _select_disks(config, hardware)
    problems += _options_problems(config)
    if len(disks) == len(config.disk_setup.disks):  # counting missing disks would add a confusing second line
        problems += _selection_problems(config, hardware, disks)
    unique = list({d.path: d for d in disks}.values())
    existing = review_existing(
        unique, hardware.disks,
        vg_name=config.product if fs.uses_lvm else None,
        pool_name=POOL if fs == Filesystem.ZFS else None,
    )
    problems += existing.problems
    chosen, uuid_problems = choose_uuids(unique, config.network.fqdn, root=fs != Filesystem.ZFS, given=uuids)
    problems += uuid_problems
    if problems:
        raise PlanError(problems)

    planned = []
    for disk in unique:
        try:
            parts = disk_layout(disk, _part_type(fs), setup.hdsize, arch=hardware.arch)
        except LayoutError as err:
            raise PlanError(str(err)) from err
        planned.append(PlannedDisk(disk.path, disk.name, disk.logical_block_size, disk.size_bytes, parts,
                                   by_id=disk_by_id(disk, hardware.disks)))
    warnings = [*shared_link_warnings(unique, hardware.disks), *_warnings(config, unique, planned)]

    if fs.uses_lvm:
        volumes = _lvm_volumes(config, hardware, unique[0], planned[0], chosen)
    elif fs == Filesystem.ZFS:
        volumes = _zfs_volumes(config, hardware, planned)
    else:
        volumes = _btrfs_volumes(config, planned, chosen)

    return StoragePlan(
        filesystem=fs,
        disks=tuple(planned),
        lvm=volumes.lvm,
        zfs=volumes.zfs,
        btrfs=volumes.btrfs,
        mounts=volumes.mounts,
        kernel_root=volumes.kernel_root,
        storage=volumes.storage,
        fs_uuids=chosen,
        destroy=existing.destroy,
        rename=existing.rename,
        warnings=(*warnings, *volumes.warnings),
    )


def root_volume_problem(disk: Disk, lvm: LvmPlan) -> str | None:
    """The root LV must hold the installed system (rules.MIN_ROOT_BYTES); swap, or minfree for products
    without a thin pool, can leave it less than the disk-size rules foresee."""
    root = lvm.lv("root")
    size = root.size_bytes if root else 0
    if size >= rules.MIN_ROOT_BYTES:
        return None
    return (f"disk {disk.name}: the root volume would have {size // MiB} MiB, at least {rules.MIN_ROOT_BYTES // MiB}"
            f" MiB ({_gib(rules.MIN_ROOT_BYTES)} GiB) needed for the installed system: lower swapsize or minfree, "
            "or use a larger disk or hdsize")
