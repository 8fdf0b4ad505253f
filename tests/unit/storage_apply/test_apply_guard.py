"""The selected-disk guard: which device names count as "on a selected disk", and that phases refuse the rest."""

from __future__ import annotations

from dataclasses import replace

import pytest

from installer.storage.apply import (
    UnselectedDeviceError,
    create_volumes,
    make_filesystems,
    partition_disks,
    require_selected,
    teardown_existing,
)
from installer.storage.apply.guard import owning_disk
from installer.storage.plan import BtrfsPlan, Vdev
from keel_testing.plans import btrfs_plan, by_id, disk, lvm_plan, zfs_plan


@pytest.mark.parametrize("device", [
    "/dev/sda", "/dev/sda1", "/dev/sda3", "/dev/sda15", "/dev/pve/root", "/dev/mapper/pve-swap",
], ids=lambda d: f"{d} is on the selected sda")
def test_devices_of_the_selected_disk_pass(device):
    assert owning_disk(lvm_plan(), device) is not None
    require_selected(lvm_plan(), [device], "wipe")


@pytest.mark.parametrize("device", [
    "/dev/sdb", "/dev/sdb3", "/dev/sdaa1", "/dev/sda0", "/dev/sdap1", "/dev/pve/other", "/dev/mapper/pve-root2",
    "/dev/md0", "/dev/disk/by-id/ata-OTHER-part3",
], ids=lambda d: f"{d} is not on the selected sda")
def test_other_devices_are_refused_with_the_device_named(device):
    with pytest.raises(UnselectedDeviceError, match=f"refusing to wipe {device}: it is not on a selected disk"):
        require_selected(lvm_plan(), [device], "wipe")


def test_nvme_partitions_take_a_p_and_other_namespaces_are_refused():
    plan = lvm_plan(path="/dev/nvme0n1")
    assert owning_disk(plan, "/dev/nvme0n1p3") is not None
    assert owning_disk(plan, "/dev/nvme0n11") is None
    assert owning_disk(plan, "/dev/nvme0n2p1") is None


def test_by_id_partition_links_of_a_selected_disk_pass():
    plan = zfs_plan()
    assert owning_disk(plan, by_id("/dev/sdb") + "-part3").path == "/dev/sdb"
    assert owning_disk(plan, by_id("/dev/sdc") + "-part3") is None


def test_a_vg_on_an_unselected_disk_is_refused_before_any_command(harness):
    plan = lvm_plan()
    plan = replace(plan, lvm=replace(plan.lvm, pvs=("/dev/sdb3",)))
    with pytest.raises(UnselectedDeviceError, match="/dev/sdb3"):
        create_volumes(harness.context(plan))
    assert harness.commands() == []


def test_a_pool_member_on_an_unselected_disk_is_refused_before_any_command(harness):
    plan = zfs_plan()
    zfs = replace(plan.zfs, vdevs=(Vdev("mirror", (by_id("/dev/sda") + "-part3", "/dev/sde3")),))
    with pytest.raises(UnselectedDeviceError, match="/dev/sde3"):
        create_volumes(harness.context(replace(plan, zfs=zfs)))
    assert harness.commands() == []


def test_a_btrfs_device_on_an_unselected_disk_is_refused_before_any_command(harness):
    plan = btrfs_plan()
    plan = replace(plan, btrfs=BtrfsPlan("raid1", "raid1", ("/dev/sda3", "/dev/sdz3"), "defaults"))
    with pytest.raises(UnselectedDeviceError, match="/dev/sdz3"):
        create_volumes(harness.context(plan))
    assert harness.commands() == []


def test_an_esp_outside_the_selected_disks_is_refused_before_mkfs(harness):
    plan = lvm_plan()
    foreign = disk("/dev/sdb", "lvm")
    bad = replace(plan.disks[0], partitions=(plan.disks[0].partitions[0], foreign.partitions[1],
                                              plan.disks[0].partitions[2]))
    plan = replace(plan, disks=(bad,), fs_uuids={**plan.fs_uuids, "esp:/dev/sda": "ABCD-1234"})
    with pytest.raises(UnselectedDeviceError, match="/dev/sdb2"):
        make_filesystems(harness.context(plan))
    assert harness.commands() == []


def test_a_planned_partition_of_another_disk_is_refused_before_anything_is_written(harness, monkeypatch):
    import installer.storage.apply.partition as partition

    monkeypatch.setattr(partition, "write_gpt", lambda disk, hold=None: None)
    plan = lvm_plan()
    foreign = disk("/dev/sdb", "lvm").partitions[2]
    bad = replace(plan.disks[0], partitions=(*plan.disks[0].partitions[:2], foreign))
    with pytest.raises(UnselectedDeviceError, match="/dev/sdb3"):
        partition_disks(harness.context(replace(plan, disks=(bad,))))
    assert harness.commands() == []         # refused from the plan's steps, before the GPT


def test_teardown_refuses_a_rename_that_would_touch_a_selected_disk(harness):
    from installer.storage.apply import ApplyError
    from installer.storage.plan import Rename

    plan = replace(lvm_plan(), rename=(Rename("lvm-vg", "pve", "pve-OLD-1a2b3c4d", "uuid-1", ("/dev/sda3",)),))
    with pytest.raises(ApplyError, match="/dev/sda3 is on a selected disk"):
        teardown_existing(harness.context(plan))
    assert harness.commands() == []
