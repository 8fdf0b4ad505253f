"""How the planner names the selected disks: kernel names that agree with their paths, and by-id links only when
they name one disk (twins with identical serials share theirs, and udev points it at either)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from installer.core.config import ZfsRaid
from installer.core.hardware import Disk
from installer.storage.plan import PlanError, plan
from keel_testing.builders import config, disk, hardware, lvm_setup, zfs_setup

TWIN_LINK = "/dev/disk/by-id/ata-CHEAP_BRIDGE_0123456789"


def with_links(d: Disk, *links: str) -> Disk:
    return replace(d, udev={"DEVLINKS": " ".join(links)})


def twins() -> tuple[Disk, Disk, Disk]:
    """sda and sdb report the same serial (one by-id link, their own by-path links); sdc is an ordinary disk."""
    return (with_links(disk("sda", 32), TWIN_LINK, "/dev/disk/by-path/pci-0000:00:1f.2-ata-1"),
            with_links(disk("sdb", 32), TWIN_LINK, "/dev/disk/by-path/pci-0000:00:1f.2-ata-2"),
            with_links(disk("sdc", 32), "/dev/disk/by-id/ata-GOOD_DISK_SERIAL3"))


def test_a_disk_whose_name_disagrees_with_its_path_is_refused_naming_it() -> None:
    # planned as "sdx" its partitions would be /dev/nvme0n11...: namespace 11, another disk
    odd = replace(disk("nvme0n1", 32), name="sdx")
    with pytest.raises(PlanError) as err:
        plan(config(lvm_setup("/dev/nvme0n1")), hardware(odd))
    assert err.value.problems == [
        "disk sdx: the recorded path /dev/nvme0n1 is not its kernel name's node /dev/sdx: the hardware profile "
        "is inconsistent; record it again on this machine"]


def test_an_unselected_disk_whose_name_disagrees_with_its_path_makes_the_profile_unusable() -> None:
    odd = replace(disk("nvme0n1", 32), name="sda")     # claims to be sda: hardware.disk("sda") could find it
    with pytest.raises(PlanError, match="disk sda: the recorded path /dev/nvme0n1 is not"):
        plan(config(lvm_setup("/dev/sdb")), hardware(disk("sdb", 32), odd))


@pytest.mark.parametrize(("name", "p3"), [
    ("nvme0n1", "/dev/nvme0n1p3"), ("mmcblk0", "/dev/mmcblk0p3"), ("sda", "/dev/sda3"), ("vda", "/dev/vda3"),
], ids=lambda v: str(v))
def test_partition_3_is_named_as_the_kernel_names_it(name: str, p3: str) -> None:
    result = plan(config(lvm_setup(f"/dev/{name}")), hardware(disk(name, 32)))
    assert result.disks[0].partitions[-1].path == p3
    assert result.lvm.pvs == (p3,)


def test_a_zfs_disk_whose_by_id_link_its_unselected_twin_shares_is_named_by_kernel_name() -> None:
    result = plan(config(zfs_setup(ZfsRaid.RAID0, "/dev/sda")), hardware(*twins()))
    assert result.disks[0].by_id is None
    assert result.zfs.vdevs[0].devices == ("/dev/sda3",)
    assert (f"sda and sdb share the by-id link {TWIN_LINK} (identical serials), which udev points at either of "
            "them: the plan names /dev/sda by kernel name instead") in result.warnings


def test_twins_both_selected_go_into_the_mirror_once_each_by_kernel_name() -> None:
    result = plan(config(zfs_setup(ZfsRaid.RAID1, "/dev/sda", "/dev/sdb")), hardware(*twins()))
    assert result.zfs.vdevs[0].devices == ("/dev/sda3", "/dev/sdb3")
    assert [d.by_id for d in result.disks] == [None, None]
    assert [w for w in result.warnings if "share the by-id link" in w] == [
        f"sda and sdb share the by-id link {TWIN_LINK} (identical serials), which udev points at either of them: "
        "the plan names /dev/sda, /dev/sdb by kernel name instead"]


def test_a_disk_beside_twins_keeps_its_own_by_id_link_without_a_warning() -> None:
    result = plan(config(zfs_setup(ZfsRaid.RAID0, "/dev/sdc")), hardware(*twins()))
    assert result.zfs.vdevs[0].devices == ("/dev/disk/by-id/ata-GOOD_DISK_SERIAL3-part3",)
    assert not [w for w in result.warnings if "by-id" in w]


def test_selecting_a_disk_by_a_link_its_twin_shares_is_refused() -> None:
    with pytest.raises(PlanError) as err:
        plan(config(zfs_setup(ZfsRaid.RAID0, TWIN_LINK)), hardware(*twins()))
    assert err.value.problems == [
        f"disk {TWIN_LINK}: the link names 2 disks (sda, sdb; identical serials), so it could point at any of "
        "them: select the disk by name"]
