"""Running the storage steps: the guard first, then each step through the runner, with progress.

The install's storage phases are `run_phase(ctx, phase)` for each phase of `steps.STORAGE_PHASES`. Before the
first step of the install the guard sees every step's devices (`check_steps`), so nothing outside the selected
disks is written even if a later step would have named it. A dry run records the commands (the runner is a
recording one) and only describes the actions that would act on devices directly (pyparted, blivet, udev).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from installer.runner import CommandError
from installer.storage.plan.types import StoragePlan

from . import mount, partition, teardown
from .guard import ApplyError, owning_disk, require_selected
from .steps import StorageStep, storage_steps, volume_parts

if TYPE_CHECKING:
    from installer.phase import InstallContext


def check_steps(plan: StoragePlan, steps: list[StorageStep]) -> None:
    """Raise before anything runs if a step would write a device that is not on a selected disk."""
    teardown.check_renames(plan)
    for step in steps:
        if step.devices and not step.elsewhere:
            require_selected(plan, step.devices, f"run {step.argv[0]} on" if step.argv else f"{step.action}")
    for disk in plan.disks:
        for part in disk.partitions:
            if owning_disk(plan, part.path) is not disk:
                raise ApplyError(f"{disk.path}: planned partition {part.number} has the path {part.path} "
                                 "of another disk")


def _refuse_shared_stacks(ctx: InstallContext, step: StorageStep) -> None:
    teardown.refuse_shared_structures(ctx)


def _clear_disks(ctx: InstallContext, step: StorageStep) -> None:
    teardown.clear_disks(ctx)


def _write_gpt(ctx: InstallContext, step: StorageStep) -> None:
    disk = next(d for d in ctx.plan.disks if d.path == step.devices[0])
    ctx.events.message(f"Partitioning {disk.path}")
    partition.write_gpt(disk)


def _wait_partitions(ctx: InstallContext, step: StorageStep) -> None:
    partition.wait_for_partition_nodes(ctx)


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


def run_phase(ctx: InstallContext, phase: str) -> None:
    """Run the plan's steps of one storage phase in order, after the guard has checked every step of the install."""
    steps = storage_steps(ctx.plan, ctx.target)
    check_steps(ctx.plan, steps)
    mine = [step for step in steps if step.phase == phase]
    for index, step in enumerate(mine):
        try:
            run_step(ctx, step)
        except CommandError as err:
            if step.check:
                raise
            ctx.events.warning(f"could not {step.why}: {str(err).splitlines()[0]}")
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


def finalize_storage(ctx: InstallContext) -> None:
    run_phase(ctx, "finalize")
