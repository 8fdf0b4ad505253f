"""Properties of the storage planner over generated machines and configs: it refuses with PlanError or returns a
plan whose partitions lie inside their disk after the GPT, without overlap, with positive sizes, a root of at
least rules.MIN_ROOT_BYTES and every device at most once in the pool; and an answer `validate --hardware`
accepts is one the planner can make (on disks without old VGs or pools, which only the planner reviews)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

import answerfile
from installer.core import rules
from installer.core.config import Filesystem, InstallConfig
from installer.core.hardware import HardwareProfile
from installer.storage.plan import PlanError, StoragePlan, plan
from installer.storage.plan.partitions import LayoutError, disk_layout
from keel_testing.builders import MiB
from keel_testing.strategies import PROPERTY, answers_for, disks, machines, machines_and_configs

GPT_ENTRIES_BYTES = 128 * 128           # the primary GPT: protective MBR, header, then 128 entries of 128 bytes
VDEV_MIN = {"stripe": 1, "mirror": 2, "raidz1": 3, "raidz2": 4, "raidz3": 5}


def assert_sound(result: StoragePlan, config: InstallConfig, machine: HardwareProfile) -> None:
    by_path = {d.path: d for d in machine.disks}
    hdsize = config.disk_setup.hdsize
    for planned in result.disks:
        disk = by_path[planned.path]
        sector = disk.logical_block_size
        assert sector in rules.SECTOR_SIZES
        first_usable = 2 + GPT_ENTRIES_BYTES // sector
        last_usable = disk.size_bytes // sector - 2 - GPT_ENTRIES_BYTES // sector
        parts = planned.partitions
        assert [p.number for p in parts] == sorted({p.number for p in parts})
        for part in parts:
            assert first_usable <= part.start_sector <= part.end_sector <= last_usable
            assert part.size_bytes == (part.end_sector - part.start_sector + 1) * sector > 0
        for before, after in itertools.pairwise(parts):
            assert before.end_sector < after.start_sector
        esp = planned.partition(2)
        assert esp is not None and esp.type == "esp"
        assert esp.start_sector * sector == MiB                   # after the GPT header and its entries
        assert parts[-1].size_bytes >= rules.partition3_bytes(disk, hdsize)
        if not config.disk_setup.filesystem.uses_lvm:
            assert parts[-1].size_bytes >= rules.MIN_ROOT_BYTES
    if result.lvm:
        assert all(lv.size_bytes > 0 for lv in result.lvm.lvs)
        assert result.lvm.lv("root").size_bytes >= rules.MIN_ROOT_BYTES
        assert 0 <= result.lvm.free_bytes <= result.lvm.size_bytes
    if result.zfs:
        devices = [dev for vdev in result.zfs.vdevs for dev in vdev.devices]
        assert len(devices) == len(set(devices)) == len(result.disks)
        assert all(len(vdev.devices) >= VDEV_MIN[vdev.type] for vdev in result.zfs.vdevs)
    if result.btrfs:
        assert len(result.btrfs.devices) == len(set(result.btrfs.devices)) == len(result.disks)


@PROPERTY
@given(machines_and_configs())
def test_a_plan_is_refused_or_sound(case) -> None:
    machine, config = case
    try:
        result = plan(config, machine)
    except PlanError as err:
        assert err.problems and all(p and "\n" not in p for p in err.problems)
        return
    assert_sound(result, config, machine)


@PROPERTY
@given(disks(), st.none() | st.floats(min_value=2, max_value=2**33), st.sampled_from(["lvm", "zfs", "btrfs"]))
def test_the_rules_partition_3_is_the_layouts_to_the_mib(disk_list, hdsize, kind) -> None:
    # root_space_problem judges partition 3 by rules.partition3_bytes: never more than the layout gives
    for disk in disk_list:
        if disk.logical_block_size not in rules.SECTOR_SIZES:
            continue
        try:
            p3 = disk_layout(disk, kind, hdsize)[-1]
        except LayoutError:
            assert rules.partition3_bytes(disk, hdsize) < MiB
            continue
        assert 0 <= p3.size_bytes - rules.partition3_bytes(disk, hdsize) <= MiB


@PROPERTY
@given(data=st.data())
def test_an_answer_validate_accepts_can_be_planned(data) -> None:
    # Without old content: a VG or pool that spans selected and unselected disks is refused by the planner only
    # (storage.plan.existing); validate --hardware does not look at what the disks hold.
    machine = data.draw(machines(old_content=False))
    text = data.draw(answers_for(machine))
    unattended = data.draw(st.booleans())
    problems, _ = answerfile.validate_text(text, machine, unattended=unattended)
    if problems:
        return
    config = answerfile.resolve_text(text, machine, unattended=unattended).config
    try:
        result = plan(config, machine)
    except PlanError as err:
        if swap_beyond_a_smaller_disk(config, machine):
            return      # the known gap: test_swap_is_checked_against_the_disk_when_hdsize_is_larger (xfail)
        raise AssertionError(f"validate accepted, plan refused: {err.problems}\n{text}") from err
    assert_sound(result, config, machine)
    assert config.disk_setup.filesystem in set(Filesystem)


def swap_beyond_a_smaller_disk(config: InstallConfig, machine: HardwareProfile) -> bool:
    lvm, disks = config.disk_setup.lvm, config.disk_setup.disks
    disk = machine.disk(disks[0]) if disks else None
    return bool(lvm and disk and lvm.swapsize is not None and lvm.hdsize is not None and lvm.hdsize > disk.size_gib)
