"""Running the storage steps: the guard first, then each step through the runner, with progress.

The install's storage phases are `run_phase(ctx, phase)` for each `steps.StoragePhase`, run by the wrappers at the
end of this module in the install's order. Before the first step of the install the guard sees every step's devices
(`check_steps`), so nothing outside the selected disks is written even if a later step would have named it; then it
follows each of them on the live system to the node the kernel will open (`check_live`), and again once the new
partitions' nodes and links exist. A dry run records the commands (the runner is a recording one) and only describes
the actions that would act on devices directly (pyparted, blivet, udev).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from installer.runner import CommandError
from installer.storage.plan.types import StoragePlan

from . import mount, partition, teardown
from .guard import ApplyError, check_plan_names, require_resolved, require_selected
from .steps import StorageStep, storage_steps, volume_parts

if TYPE_CHECKING:
    from installer.phase import InstallContext


def check_steps(plan: StoragePlan, steps: list[StorageStep]) -> None:
    """Raise before anything runs if a step would write a device that is not on a selected disk (by name)."""
    check_plan_names(plan)
    teardown.check_renames(plan)
    for step in steps:
        twice = [device for device, count in Counter(step.devices).items() if count > 1]
        if twice:
            raise ApplyError(f"refusing to {step.why}: it names {twice[0]} twice")
        if step.devices and not step.elsewhere:
            require_selected(plan, step.devices, f"run {step.argv[0]} on" if step.argv else f"{step.action}")


def check_live(ctx: InstallContext, steps: list[StorageStep], *, partitions_made: bool) -> None:
    """Raise unless every device the steps write leads, on this machine, to a selected disk or the planned
    partition of one (a dry run writes nothing and checks nothing here)."""
    if ctx.dry_run:
        return
    require_resolved(ctx.plan, [d for step in steps if not step.elsewhere for d in step.devices],
                     elsewhere=[d for step in steps if step.elsewhere for d in step.devices],
                     partitions_made=partitions_made, root=ctx.host_root)


def _refuse_shared_stacks(ctx: InstallContext, step: StorageStep) -> None:
    teardown.refuse_shared_structures(ctx)


def _clear_disks(ctx: InstallContext, step: StorageStep) -> None:
    teardown.clear_disks(ctx)


def _write_gpt(ctx: InstallContext, step: StorageStep) -> None:
    disk = next(d for d in ctx.plan.disks if d.path == step.devices[0])
    ctx.events.message(f"Partitioning {disk.path}")
    untyped = partition.write_gpt(disk, hold=ctx.cleanup)   # locked until the cleanup unmounts the target
    argv = partition.sgdisk_typecode_argv(disk, untyped) if untyped else None
    if argv:        # a libparted older than 3.6 (the build host's) cannot set a type GUID that has no flag
        ctx.run(argv, timeout=60)


def _wait_partitions(ctx: InstallContext, step: StorageStep) -> None:
    partition.wait_for_partition_nodes(ctx)
    # the new nodes and links exist only now: where they lead is checked before anything is written to them
    check_live(ctx, storage_steps(ctx.plan, ctx.target), partitions_made=True)


def _mount_zfs_datasets(ctx: InstallContext, step: StorageStep) -> None:
    assert ctx.plan.zfs is not None
    for dataset in ctx.plan.zfs.datasets:
        if dataset.mountpoint is None:
            continue
        state = ctx.run(["zfs", "get", "-H", "-o", "value", "mounted", dataset.name], timeout=60)
        if state.stdout.strip() != "yes":
            ctx.run(["zfs", "mount", dataset.name], timeout=120)


def _unmount_target(ctx: InstallContext, step: StorageStep) -> None:
    mount.unmount_target(ctx)


ACTIONS: dict[str, Callable[[InstallContext, StorageStep], None]] = {
    "refuse-shared-stacks": _refuse_shared_stacks,
    "clear-disks": _clear_disks,
    "write-gpt": _write_gpt,
    "wait-partitions": _wait_partitions,
    "mount-zfs-datasets": _mount_zfs_datasets,
    "unmount-target": _unmount_target,
}
# Actions that act on devices without the runner: a dry run only says what they would do.
DIRECT_ACTIONS = ("clear-disks", "write-gpt", "wait-partitions")


def run_step(ctx: InstallContext, step: StorageStep) -> None:
    if step.mkdir:
        Path(step.mkdir).mkdir(parents=True, exist_ok=True)
    if step.argv:
        result = ctx.run(list(step.argv), timeout=step.timeout, check=step.check)
        if result.returncode != 0:
            ctx.events.warning(f"could not {step.why}: {step.describe()}: exit status {result.returncode}")
        return
    if ctx.dry_run and step.action in DIRECT_ACTIONS:
        ctx.events.message(f"dry run: would {step.why}")
        return
    ACTIONS[step.action](ctx, step)


def run_phase(ctx: InstallContext, phase: str, *, progress: bool = True) -> None:
    """Run the plan's steps of one storage phase in order, after the guard has checked every step of the install;
    with `progress`, each step done moves the phase's progress on."""
    steps = storage_steps(ctx.plan, ctx.target)
    check_steps(ctx.plan, steps)
    check_live(ctx, steps, partitions_made=phase not in ("teardown", "partition"))
    mine = [step for step in steps if step.phase == phase]
    for index, step in enumerate(mine):
        if step.beside:
            ctx.beside(f"{step.why}: {step.describe()}", lambda step=step: run_step(ctx, step),
                       wanted_by=step.wanted_by)
            continue
        try:
            run_step(ctx, step)
        except CommandError as err:
            if step.check:
                raise
            ctx.events.warning(f"could not {step.why}: {str(err).splitlines()[0]}")
        if progress:
            ctx.events.progress((index + 1) / len(mine), step.describe() if step.argv else step.action)


def teardown_existing(ctx: InstallContext) -> None:
    run_phase(ctx, "teardown")


def partition_disks(ctx: InstallContext) -> None:
    run_phase(ctx, "partition")


def create_volumes(ctx: InstallContext) -> None:
    if not volume_parts(ctx.plan):
        raise ApplyError("plan: expected exactly one of lvm, zfs, btrfs, found none")
    run_phase(ctx, "volumes")


def make_filesystems(ctx: InstallContext) -> None:
    run_phase(ctx, "filesystems")


def mount_target(ctx: InstallContext) -> None:
    ctx.target.mkdir(parents=True, exist_ok=True)
    run_phase(ctx, "mount")
    ctx.events.progress(1.0, f"mounted the new system at {ctx.target}")


def write_back(ctx: InstallContext) -> None:
    """The steps for once the payload is extracted (`steps.written_steps`), in order; the engine runs them beside
    the work in the chroot, so they report no progress of their own."""
    run_phase(ctx, "written", progress=False)


def finalize_storage(ctx: InstallContext) -> None:
    run_phase(ctx, "finalize")
