"""The guard on the live system: every path the install writes is followed through its links to the node the
kernel opens, which must be the selected disk or the planned partition of one; else nothing is written.

The live system is the harness's fake /dev and /sys (conftest.FakeDevices): sda and sdb are selected, sdc is not.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from installer.storage.apply import (
    ApplyError,
    UnselectedDeviceError,
    create_volumes,
    partition_disks,
    teardown_existing,
)
from installer.storage.apply.resolve import BlockNode, NotABlockDevice, lookup
from installer.storage.plan import PlannedDisk, Rename
from keel_testing.plans import by_id, lvm_plan, zfs_plan

SDA, SDB = by_id("/dev/sda"), by_id("/dev/sdb")


def machine(harness, *, links: bool = True, partitions: tuple[int, ...] = (1, 2, 3)) -> None:
    """sda, sdb (selected by the tests' plans) and sdc (never selected), with by-id links for sda and sdb."""
    for path in ("/dev/sda", "/dev/sdb", "/dev/sdc"):
        harness.devices.add_disk(path, partitions)
    if links:
        for link, node in ((SDA, "/dev/sda"), (SDB, "/dev/sdb")):
            harness.devices.link(link, node)
            for number in partitions:
                harness.devices.link(f"{link}-part{number}", f"{node}{number}")


def test_a_by_id_link_resolves_to_the_partition_the_kernel_knows(harness):
    machine(harness)
    assert lookup(f"{SDB}-part3", harness.devices.root) == BlockNode("/dev/sdb3", "8:19", 3, "/dev/sdb", "8:16")
    assert lookup(SDB, harness.devices.root) == BlockNode("/dev/sdb", "8:16")
    assert lookup("/dev/sdb4", harness.devices.root) is None


def test_a_link_to_something_that_is_not_a_block_device_is_named_with_where_it_leads(harness):
    machine(harness)
    (harness.devices.root / "dev/null").touch()
    harness.devices.link("/dev/disk/by-id/ata-ODD", "/dev/null")
    with pytest.raises(NotABlockDevice, match="resolves to /dev/null, which the kernel does not list as a block"):
        lookup("/dev/disk/by-id/ata-ODD", harness.devices.root)


def test_a_stale_partition_link_to_an_unselected_disk_stops_the_pool_before_any_command(harness):
    machine(harness)
    harness.devices.add_disk("/dev/sdd")
    harness.devices.link(f"{SDA}-part3", "/dev/sdc3")     # udev gave the link to sda's unselected twin
    with pytest.raises(UnselectedDeviceError) as err:
        create_volumes(harness.context(zfs_plan()))
    assert str(err.value) == (
        f"refusing to write {SDA}-part3: it resolves to /dev/sdc3 (8:35, partition 3 of /dev/sdc), which is not a "
        "selected disk or a partition of one (selected: /dev/sda, /dev/sdb)")
    assert harness.commands() == []


def test_a_disk_link_to_the_unselected_twin_stops_the_install_before_teardown(harness):
    machine(harness)
    harness.devices.link(SDA, "/dev/sdc")
    with pytest.raises(UnselectedDeviceError, match=f"refusing to write {SDA}: it resolves to /dev/sdc \\(8:32\\)"):
        teardown_existing(harness.context(zfs_plan()))
    assert harness.commands() == []


def test_a_link_to_another_partition_of_the_right_disk_is_refused_naming_what_the_plan_means(harness):
    machine(harness)
    harness.devices.link(f"{SDB}-part3", "/dev/sdb2")
    with pytest.raises(UnselectedDeviceError, match=(
            f"refusing to write {SDB}-part3: it resolves to /dev/sdb2 \\(8:18, partition 2 of /dev/sdb\\), "
            "the plan means partition 3 of /dev/sdb")):
        create_volumes(harness.context(zfs_plan()))
    assert harness.commands() == []


def test_a_partition_link_of_one_selected_disk_leading_to_the_other_is_refused(harness):
    # both twins selected, each with "its own" link, but udev pointed sda's at sdb: sdb3 would be in the vdev twice
    machine(harness)
    harness.devices.link(f"{SDA}-part3", "/dev/sdb3")
    with pytest.raises(UnselectedDeviceError, match=f"{SDA}-part3: it resolves to /dev/sdb3 .* the plan means "
                                                    "partition 3 of /dev/sda"):
        create_volumes(harness.context(zfs_plan()))
    assert harness.commands() == []


def test_partition_links_are_checked_again_when_they_appear_before_anything_is_zeroed(harness, monkeypatch):
    import installer.storage.apply.partition as partition

    machine(harness, partitions=())                       # before partitioning: no partition nodes or links
    for number in (1, 2, 3):
        harness.devices.add_partition("/dev/sdc", number)

    def write_gpt(planned: PlannedDisk, hold=None) -> None:
        # the kernel makes the new nodes; udev hands sda's -part3 link to the unselected twin's partition
        for part in planned.partitions:
            harness.devices.add_partition(planned.path, part.number)
            wrong = planned.name == "sda" and part.number == 3
            harness.devices.link(f"{planned.by_id}-part{part.number}", "/dev/sdc3" if wrong else part.path)

    monkeypatch.setattr(partition, "write_gpt", write_gpt)
    with pytest.raises(UnselectedDeviceError, match=f"refusing to write {SDA}-part3: it resolves to /dev/sdc3 "):
        partition_disks(harness.context(zfs_plan()))
    assert [argv[:2] for argv in harness.commands()] == [["udevadm", "settle"]]     # nothing wrote after the GPT


def test_a_partition_node_missing_after_partitioning_stops_the_install_before_zeroing(harness, monkeypatch):
    import installer.storage.apply.partition as partition

    harness.devices.add_disk("/dev/sda", ())
    monkeypatch.setattr(partition, "write_gpt",
                        lambda planned, hold=None: harness.devices.add_partition(planned.path, 2))
    with pytest.raises(ApplyError, match=r"^/dev/sda3: no such device on this machine after partitioning$"):
        partition_disks(harness.context(lvm_plan()))
    # nothing wrote after the GPT (the module load writes nothing)
    assert [argv[:2] for argv in harness.commands()] == [["modprobe", "ext4"], ["udevadm", "settle"]]


def test_a_missing_selected_disk_stops_the_install_before_teardown(harness):
    harness.devices.add_disk("/dev/sdc")
    plan = lvm_plan(path="/dev/sdc")
    (harness.devices.root / "dev/sdc").unlink()
    with pytest.raises(ApplyError, match=r"^/dev/sdc: no such device on this machine$"):
        teardown_existing(harness.context(plan))
    assert harness.commands() == []


def test_a_rename_of_an_old_vg_whose_member_now_resolves_to_a_selected_disk_is_refused(harness):
    machine(harness)
    old_pv = "/dev/disk/by-id/ata-OLD_DISK-part3"       # recorded on another disk; now it is sda's
    harness.devices.link(old_pv, "/dev/sda3")
    plan = replace(lvm_plan(), rename=(Rename("lvm-vg", "pve", "pve-OLD-1a2b3c4d", "uuid-1", (old_pv,)),))
    with pytest.raises(UnselectedDeviceError, match=f"refusing to touch {old_pv} on an unselected disk: it "
                                                    "resolves to /dev/sda3 .*, on the selected /dev/sda"):
        teardown_existing(harness.context(plan))
    assert harness.commands() == []


def test_twins_planned_with_one_by_id_link_are_refused_by_name_before_any_command(harness):
    # a plan from before the planner left shared links out: the mirror would name one device twice
    plan = zfs_plan()
    sda, sdb = plan.disks
    plan = replace(plan, disks=(sda, replace(sdb, by_id=sda.by_id)),
                   zfs=replace(plan.zfs, vdevs=(replace(plan.zfs.vdevs[0], devices=(f"{SDA}-part3",) * 2),)))
    with pytest.raises(ApplyError, match=f"^{SDA} names two selected disks \\(sda and sdb\\)"):
        create_volumes(harness.context(plan))
    assert harness.commands() == []


def test_a_step_naming_one_device_twice_is_refused(harness):
    plan = zfs_plan()
    plan = replace(plan, zfs=replace(plan.zfs, vdevs=(replace(plan.zfs.vdevs[0], devices=(f"{SDA}-part3",) * 2),)))
    with pytest.raises(ApplyError, match=f"refusing to create the ZFS pool rpool: it names {SDA}-part3 twice"):
        create_volumes(harness.context(plan))
    assert harness.commands() == []


def test_a_planned_disk_whose_name_is_not_its_node_is_refused_before_any_command(harness):
    # "sdx" at /dev/nvme0n1: named by the kernel's rule for "sdx" its partitions are /dev/nvme0n11.. (namespace 11)
    plan = lvm_plan(path="/dev/nvme0n1")
    odd = replace(plan.disks[0], name="sdx",
                  partitions=tuple(replace(p, path=f"/dev/nvme0n1{p.number}") for p in plan.disks[0].partitions))
    plan = replace(plan, disks=(odd,), lvm=replace(plan.lvm, pvs=("/dev/nvme0n13",)))
    with pytest.raises(ApplyError, match=r"^/dev/nvme0n1: the plan calls this disk sdx, whose node is /dev/sdx"):
        create_volumes(harness.context(plan))
    assert harness.commands() == []
