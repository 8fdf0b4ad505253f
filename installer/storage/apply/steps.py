"""Storage apply as data: the typed steps that turn a StoragePlan into disks ready for the payload.

`storage_steps(plan, target)` is pure: every command the storage phases will run, in order, each with the
devices it writes and why. Work that depends on what is found on the disks at install time (taking down old
LVM/md/LUKS stacks, waiting for udev's device nodes, mounting ZFS datasets ZFS has not mounted) is an `action`
step: its description says what it does, and the executor carries it out. `keel-installer plan --steps` prints
these steps; the guard checks every step's devices against the selection before the first one runs.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from installer.core.config import Filesystem
from installer.storage.plan.types import StoragePlan

from .btrfs import mkfs_btrfs_argv, subvolume_argvs
from .guard import ApplyError
from .lvm import lvm_commands
from .mkfs import esp_argvs, root_mkfs_argv, swap_argvs
from .mount import WRITE_BACK_TIMEOUT, mount_argvs, write_back_argv
from .partition import ZERO_BYTES, sgdisk_typecode_argv, zeroed_partitions
from .teardown import rename_argvs
from .zfs import finalize_zfs_argvs, handover_zfs_argvs, zfs_create_argvs, zpool_create_argv

StoragePhase = Literal["teardown", "partition", "volumes", "filesystems", "mount", "written", "finalize"]
Action = Literal["", "refuse-shared-stacks", "clear-disks", "write-gpt", "wait-partitions", "mount-zfs-datasets",
                 "unmount-target"]


@dataclass(frozen=True)
class StorageStep:
    """One thing a storage phase does: a command (`argv`) or an in-process `action`, never both."""

    phase: StoragePhase
    why: str                               # "create the ZFS pool rpool (mirror)"
    argv: tuple[str, ...] = ()
    action: Action = ""
    devices: tuple[str, ...] = ()          # what it writes; the guard checks each before the first step
    timeout: float = 300.0
    check: bool = True                     # False: a failure is a warning, the install goes on
    elsewhere: bool = False                # deliberately on unselected disks (renaming an old VG or pool)
    mkdir: str = ""                        # a directory to create first (a mount point below the target)
    beside: bool = False                   # runs beside the later phases: nothing in the install needs it done,
    wanted_by: str = ""                    # but this ("boot": the boot loaders), which waits for it (wait_wanted)

    def describe(self) -> str:
        """One line for people: the command, or the action and its reason."""
        if self.argv:
            return shlex.join(self.argv)
        return f"({self.action}) {self.why}"


def _cmd(phase: StoragePhase, argv: list[str], why: str, devices: tuple[str, ...] = (), **kw: object
         ) -> StorageStep:
    return StorageStep(phase=phase, why=why, argv=tuple(argv), devices=devices, **kw)  # type: ignore[arg-type]


def teardown_steps(plan: StoragePlan) -> list[StorageStep]:
    disks = tuple(disk.path for disk in plan.disks)
    steps = [StorageStep(
        "teardown", f"refuse to go on if an LVM VG, md array, LUKS mapping or Btrfs/ZFS structure on "
        f"{', '.join(disks)} also lives on an unselected disk (recorded hardware and lsblk)",
        action="refuse-shared-stacks", timeout=600)]
    steps += [
        _cmd("teardown", argv, f"free the name {rename.old}: rename the old {rename.kind} on unselected disks "
             f"to {rename.new}", rename.devices, elsewhere=True)
        for rename in plan.rename for argv in rename_argvs(rename)
    ]
    steps.append(StorageStep(
        "teardown", f"take down what is stacked on {', '.join(disks)} (LVM, md, LUKS, Btrfs, ZFS labels; blivet, "
        "else the tools themselves), then wipe each "
        "partition's first 16 MiB and signatures, the disk's signatures and its GPT (wipefs, sgdisk -Z)",
        action="clear-disks", devices=disks, timeout=1800))
    return steps


# The kernel module of each root file system that a live boot has not loaded (the answer stick already brought vfat,
# the probe zfs): loaded beside the partitioning instead of by the first mount (ext4 0.9 s, btrfs 1.5 s, xfs 2.0 s
# of a cold `modprobe` under TCG, the .ko.xz decompressed).
FS_MODULES = {Filesystem.EXT4: "ext4", Filesystem.XFS: "xfs", Filesystem.BTRFS: "btrfs"}


def partition_steps(plan: StoragePlan) -> list[StorageStep]:
    steps: list[StorageStep] = []
    module = FS_MODULES.get(plan.filesystem)
    if module:
        steps.append(_cmd("partition", ["modprobe", module], f"load the {module} module before the first mount",
                          timeout=120, check=False, beside=True))
    for disk in plan.disks:
        numbers = ", ".join(f"p{p.number} {p.type} {p.start_sector}-{p.end_sector}" for p in disk.partitions)
        typecodes = sgdisk_typecode_argv(disk)
        later = (f"; a libparted older than 3.6 leaves their type GUIDs to `{shlex.join(typecodes)}`"
                 if typecodes else "")
        zeroed = ", ".join(f"p{p.number}" for p in zeroed_partitions(disk))
        steps.append(StorageStep("partition", f"zero the first {ZERO_BYTES // 2**20} MiB of {zeroed} through "
                                 f"{disk.path}, then write a new GPT on it with pyparted: {numbers}{later}",
                                 action="write-gpt", devices=(disk.path,), timeout=120))
    # No `udevadm trigger`: the table is written once, types included, and the kernel's add events for the new
    # partitions (and udev's own change event when libparted closes the disk) are what udev needs; a trigger only
    # made udev probe every partition again, seconds of the settle below under TCG.
    steps.append(StorageStep("partition", "wait until udev has made every new partition's device node and "
                             "by-id link, then check that each leads to the planned partition (the guard)",
                             action="wait-partitions", timeout=240))
    return steps


def volume_parts(plan: StoragePlan) -> list[str]:
    """Which of the plan's LVM, ZFS and Btrfs parts are set (an install has exactly one)."""
    return [name for name, part in (("lvm", plan.lvm), ("zfs", plan.zfs), ("btrfs", plan.btrfs)) if part]


def volume_steps(plan: StoragePlan, target: Path) -> list[StorageStep]:
    if len(volume_parts(plan)) > 1:
        raise ApplyError(f"plan: expected exactly one of lvm, zfs, btrfs, found {', '.join(volume_parts(plan))}")
    if plan.lvm is not None:
        lvm = plan.lvm
        if not lvm.pvs:
            raise ApplyError(f"VG {lvm.vg}: the plan names no physical volume")
        # the thin pool (local-lvm) is not used by the install: it is made beside the extraction (issue 13: its
        # lvcreate took 8-10 s under TCG, wiping the pool's metadata)
        return [_cmd("volumes", argv, f"LVM volume group {lvm.vg}", _lvm_devices(argv, lvm.pvs),
                     beside="thin-pool" in argv)
                for argv in lvm_commands(lvm)]
    if plan.zfs is not None:
        zfs = plan.zfs
        devices = tuple(device for vdev in zfs.vdevs for device in vdev.devices)
        steps = [_cmd("volumes", ["modprobe", "zfs"], "load the ZFS module"),
                 # with its root dataset's properties, and sync=disabled: written data need not be durable until the
                 # end of the install (reference §3.2)
                 _cmd("volumes", zpool_create_argv(zfs), f"create the ZFS pool {zfs.pool}", devices)]
        # a dataset the install does not write into (rpool/data: no mountpoint, nothing planned below it) is made
        # beside the extraction
        unused = {d.name for d in zfs.datasets
                  if d.mountpoint is None and not any(o.name.startswith(f"{d.name}/") for o in zfs.datasets)}
        steps += [_cmd("volumes", argv, f"create dataset {argv[-1]}", beside=argv[-1] in unused)
                  for argv in zfs_create_argvs(zfs, target)]
        return steps
    btrfs = plan.btrfs
    if btrfs is None:
        return []
    uuid = plan.fs_uuids.get("root")
    if not uuid:
        raise ApplyError("fs_uuids.root: the plan has no UUID for the Btrfs root filesystem")
    if not btrfs.devices:
        raise ApplyError("btrfs.devices: the plan names no device")
    return [_cmd("volumes", mkfs_btrfs_argv(btrfs, uuid), f"create the Btrfs {btrfs.data_profile} filesystem",
                 btrfs.devices, timeout=600)]


def _lvm_devices(argv: list[str], pvs: tuple[str, ...]) -> tuple[str, ...]:
    """pvcreate and vgcreate name the PVs they write; lvcreate and friends write inside the new VG only."""
    return tuple(word for word in argv if word in pvs)


def filesystem_steps(plan: StoragePlan) -> list[StorageStep]:
    # the ESPs are used by the boot loaders only: made beside the root file system and the extraction (mkfs.vfat
    # took 0.2-1.1 s each under TCG, cold), the boot loader setup waits for them
    steps = [_cmd("filesystems", argv, "FAT32 ESP", (argv[-1],), timeout=600, beside=True, wanted_by="boot")
             for argv in esp_argvs(plan)]
    # the install does not swap: the swap area is made beside the extraction
    steps += [_cmd("filesystems", argv, "swap", (argv[-1],), timeout=600, beside=True) for argv in swap_argvs(plan)]
    root = root_mkfs_argv(plan)
    if root:
        steps.append(_cmd("filesystems", root, "the root filesystem", (root[-1],), timeout=600))
    return steps


def mount_steps(plan: StoragePlan, target: Path) -> list[StorageStep]:
    steps: list[StorageStep] = []
    if plan.zfs is not None:
        steps.append(StorageStep("mount", f"mount every dataset of {plan.zfs.pool} with a mountpoint that ZFS "
                                 f"has not mounted itself (zfs get mounted, zfs mount)", action="mount-zfs-datasets",
                                 timeout=120))
    if plan.btrfs is not None:
        # the kernel must know every member before a multi-device filesystem mounts (no udev needed)
        steps.append(_cmd("mount", ["btrfs", "device", "scan", *plan.btrfs.devices],
                          "tell the kernel every member of the Btrfs filesystem", timeout=60))
    for argv in mount_argvs(plan, target):
        steps.append(_cmd("mount", argv, f"mount {argv[-2]} for the install", timeout=120, mkdir=argv[-1]))
        if argv[-1] == str(target) and plan.btrfs is not None:
            steps += [_cmd("mount", sub, "a planned Btrfs subvolume", timeout=60, mkdir=str(Path(sub[-1]).parent))
                      for sub in subvolume_argvs(plan.btrfs, target)]
    return steps


def written_steps(plan: StoragePlan, target: Path) -> list[StorageStep]:
    """Once the payload is extracted, in order, beside the work in the chroot: its files written to the disks (else
    the final unmount waited for them), then for ZFS the pool's final properties."""
    steps = [_cmd("written", write_back_argv(plan, target), "write the extracted files to the disks",
                  timeout=WRITE_BACK_TIMEOUT)]
    if plan.zfs is not None:
        steps += [_cmd("written", argv, "hand the pool over to the installed system (reference §3.3)")
                  for argv in handover_zfs_argvs(plan.zfs)]
    return steps


def finalize_steps(plan: StoragePlan) -> list[StorageStep]:
    steps = [StorageStep("finalize", "unmount everything below the target, deepest first", action="unmount-target")]
    if plan.zfs is not None:
        steps += [_cmd("finalize", argv, "export the pool for the installed system (reference §3.3)")
                  for argv in finalize_zfs_argvs(plan.zfs)]
    # LVM: no `vgchange -a n`. It was a tidy hand-over, not a requirement (the installed system activates its VG
    # at boot, a new install tears an active VG down first), and cost 3 to 8 s under emulation (issue 13).
    steps.append(_cmd("finalize", ["sync"], "flush everything to the disks"))
    return steps


def storage_steps(plan: StoragePlan, target: Path = Path("/target")) -> list[StorageStep]:
    """Every storage step of the install, in order."""
    return [*teardown_steps(plan), *partition_steps(plan), *volume_steps(plan, target), *filesystem_steps(plan),
            *mount_steps(plan, target), *written_steps(plan, target), *finalize_steps(plan)]
