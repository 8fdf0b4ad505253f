"""Existing content: destroyed on selected disks, renamed when it would clash, refused when it spans both sides."""

from __future__ import annotations

import pytest

from installer.core.config import ZfsRaid
from installer.core.hardware import ExistingContent
from installer.storage.plan import PlanError, Rename, plan
from installer.storage.plan.existing import renamed_vg, review_existing
from keel_testing.builders import config, disk, hardware, lvm_setup, zfs_setup

VG_UUID = "tMMNAX-noqI-P0oS-9OEJ-7IR5-WoRL-N5K5Cv"


def pv(device: str, vg: str, uuid: str = VG_UUID) -> ExistingContent:
    return ExistingContent("lvm-pv", device, "LVM2_member", vg, uuid)


def zmember(device: str, pool: str, guid: str) -> ExistingContent:
    return ExistingContent("zfs-member", device, "zfs_member", pool, guid)


def test_everything_on_a_selected_disk_is_listed_as_destroyed() -> None:
    sda = disk("sda", 32, existing=(ExistingContent("partition-table", "/dev/sda", "gpt"),
                                    ExistingContent("filesystem", "/dev/sda1", "ext4", "data"),
                                    pv("/dev/sda3", "vms")))
    outcome = review_existing([sda], [sda], vg_name="pve", pool_name=None)
    assert outcome.destroy == (
        "/dev/sda: gpt partition table (will be wiped)",
        "/dev/sda1: ext4 filesystem labelled 'data' (will be wiped)",
        "/dev/sda3: LVM PV of VG 'vms' (will be wiped)",
    )
    assert outcome.rename == () and outcome.problems == ()


def test_a_pve_vg_on_an_unselected_disk_is_renamed_from_its_uuid() -> None:
    sda, sdb = disk("sda", 32), disk("sdb", 32, existing=(pv("/dev/sdb3", "pve"),))
    result = plan(config(lvm_setup("/dev/sda")), hardware(sda, sdb))
    assert result.rename == (Rename("lvm-vg", "pve", renamed_vg("pve", VG_UUID), VG_UUID, ("/dev/sdb3",)),)
    assert result.destroy == ()


def test_the_renamed_vg_name_is_pve_old_and_8_hex_digits_and_stable() -> None:
    name = renamed_vg("pve", VG_UUID)
    assert name.startswith("pve-OLD-") and len(name) == len("pve-OLD-") + 8
    int(name[-8:], 16)
    assert name == renamed_vg("pve", VG_UUID) != renamed_vg("pve", "other-uuid")


def test_a_vg_with_another_name_on_an_unselected_disk_is_left_alone() -> None:
    sda, sdb = disk("sda", 32), disk("sdb", 32, existing=(pv("/dev/sdb3", "ceph-1"),))
    assert plan(config(lvm_setup("/dev/sda")), hardware(sda, sdb)).rename == ()


def test_an_rpool_on_unselected_disks_is_renamed_with_its_pool_id_for_zfs_installs_only() -> None:
    sda, sdb = disk("sda", 32), disk("sdb", 32)
    sdc = disk("sdc", 32, existing=(zmember("/dev/sdc3", "rpool", "1234567890"),))
    sdd = disk("sdd", 32, existing=(zmember("/dev/sdd3", "rpool", "1234567890"),))
    hw = hardware(sda, sdb, sdc, sdd)
    zfs = plan(config(zfs_setup(ZfsRaid.RAID1, "/dev/sda", "/dev/sdb")), hw)
    assert zfs.rename == (Rename("zfs-pool", "rpool", "rpool-OLD-1234567890", "1234567890",
                                 ("/dev/sdc3", "/dev/sdd3")),)
    assert plan(config(lvm_setup("/dev/sda")), hw).rename == ()


def test_a_vg_spanning_selected_and_unselected_disks_is_refused_naming_both_sides() -> None:
    sda = disk("sda", 32, existing=(pv("/dev/sda3", "pve"),))
    sdb = disk("sdb", 32, existing=(pv("/dev/sdb3", "pve"),))
    with pytest.raises(PlanError) as err:
        plan(config(lvm_setup("/dev/sda")), hardware(sda, sdb))
    assert err.value.problems == [
        "LVM volume group 'pve' spans selected disk(s) /dev/sda and unselected disk(s) /dev/sdb: "
        "select all of its disks or none, or remove it first"
    ]


@pytest.mark.parametrize(("kind", "label"), [
    pytest.param("md-member", "md RAID array 'md0'", id="an md array across both sides is refused"),
    pytest.param("btrfs-member", "btrfs filesystem 'md0'", id="a multi-device btrfs across both sides is refused"),
    pytest.param("zfs-member", "ZFS pool 'md0'", id="a pool across both sides is refused"),
])
def test_structures_spanning_both_sides_are_refused(kind: str, label: str) -> None:
    sda = disk("sda", 32, existing=(ExistingContent(kind, "/dev/sda1", "", "md0", "u-1"),))  # type: ignore[arg-type]
    sdb = disk("sdb", 32, existing=(ExistingContent(kind, "/dev/sdb1", "", "md0", "u-1"),))  # type: ignore[arg-type]
    with pytest.raises(PlanError, match=f"{label} spans selected disk\\(s\\) /dev/sda and unselected disk\\(s\\) "
                                        "/dev/sdb"):
        plan(config(zfs_setup(ZfsRaid.RAID0, "/dev/sda")), hardware(sda, sdb))


def test_a_structure_wholly_on_selected_disks_is_simply_destroyed() -> None:
    sda = disk("sda", 32, existing=(pv("/dev/sda3", "pve"),))
    sdb = disk("sdb", 32, existing=(pv("/dev/sdb3", "pve"),))
    result = plan(config(zfs_setup(ZfsRaid.RAID1, "/dev/sda", "/dev/sdb")), hardware(sda, sdb))
    assert result.destroy == ("/dev/sda3: LVM PV of VG 'pve' (will be wiped)",
                              "/dev/sdb3: LVM PV of VG 'pve' (will be wiped)")


def test_the_install_medium_is_never_a_target() -> None:
    sda = disk("sda", 32, install_medium=True)
    with pytest.raises(PlanError, match="sda holds the running Keel install medium"):
        plan(config(lvm_setup("/dev/sda")), hardware(sda))


def test_same_named_vgs_without_uuids_are_refused_with_a_hint() -> None:
    sda = disk("sda", 32, existing=(pv("/dev/sda3", "pve", uuid=""),))
    sdb = disk("sdb", 32, existing=(pv("/dev/sdb3", "pve", uuid=""),))
    with pytest.raises(PlanError, match=r"\(no UUID recorded: these may be separate groups of the same name\)"):
        plan(config(lvm_setup("/dev/sda")), hardware(sda, sdb))
