"""create_volumes / finalize_storage for ZFS: reference §3.2 and §3.3, command by command."""

from __future__ import annotations

import pytest

from installer.storage.apply import create_volumes, finalize_storage
from installer.storage.apply.zfs import vdev_args
from keel_testing.plans import by_id, zfs_plan

A, B, C, D = (by_id(p) + "-part3" for p in ("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd"))


@pytest.mark.parametrize("layout,expected", [
    ((("stripe", 1),), [A]),
    ((("stripe", 2),), [A, B]),
    ((("mirror", 2),), ["mirror", A, B]),
    ((("mirror", 2), ("mirror", 2)), ["mirror", A, B, "mirror", C, D]),
    ((("raidz1", 3),), ["raidz1", A, B, C]),
    ((("raidz2", 4),), ["raidz2", A, B, C, D]),
], ids=["RAID0 on one disk is a bare device", "RAID0 on two disks stripes both", "RAID1 is one mirror",
        "RAID10 is two mirrors of consecutive pairs", "RAIDZ-1 over three disks", "RAIDZ-2 over four disks"])
def test_vdev_arguments_follow_the_raid_level(layout, expected):
    assert vdev_args(zfs_plan(layout).zfs) == expected


def creation(members: list[str], ashift: int = 12, props: str = "compression=on") -> list[list[str]]:
    return [
        ["modprobe", "zfs"],
        ["zpool", "create", "-f", "-o", "cachefile=none", "-o", f"ashift={ashift}",
         *(word for prop in ["atime=on", "relatime=on", *props.split(), "sync=disabled"] for word in ("-O", prop)),
         "rpool", *members],
        ["zfs", "create", "rpool/ROOT"],
        ["zfs", "create", "-o", "acltype=posix", "-o", "mountpoint=/target", "rpool/ROOT/pve-1"],
        ["zfs", "create", "rpool/data"],
        ["zfs", "create", "-o", "mountpoint=/target/var/lib/vz", "rpool/var-lib-vz"],
    ]


def test_raid1_pool_is_created_on_by_id_partitions_with_datasets_below_the_target(harness):
    create_volumes(harness.context(zfs_plan((("mirror", 2),))))
    assert harness.commands() == creation(["mirror", A, B])


def test_raid10_on_4kn_disks_creates_two_mirrors(harness):
    create_volumes(harness.context(zfs_plan((("mirror", 2), ("mirror", 2)), lbs=4096)))
    assert harness.commands() == creation(["mirror", A, B, "mirror", C, D])


def test_checksum_and_copies_are_set_only_when_not_default(harness):
    create_volumes(harness.context(zfs_plan((("raidz1", 3),), compress="zstd", checksum="sha256", copies=2)))
    create = harness.commands()[1]
    assert create[create.index("-O"):create.index("rpool")] == [
        "-O", "atime=on", "-O", "relatime=on", "-O", "compression=zstd", "-O", "checksum=sha256", "-O", "copies=2",
        "-O", "sync=disabled"]


def test_the_plans_root_properties_are_used_when_it_has_them(harness):
    props = {"atime": "on", "relatime": "on", "compression": "lz4"}
    create_volumes(harness.context(zfs_plan(root_properties=props)))
    create = harness.commands()[1]
    assert create[create.index("-O"):create.index("rpool")] == [
        "-O", "atime=on", "-O", "relatime=on", "-O", "compression=lz4", "-O", "sync=disabled"]


def test_once_extracted_the_pool_is_synced_then_gets_durable_writes_and_its_boot_dataset(harness):
    from installer.storage.apply import write_back

    write_back(harness.context(zfs_plan()))
    assert harness.commands() == [
        ["zpool", "sync", "rpool"],
        ["zfs", "set", "sync=standard", "rpool"],
        ["zpool", "set", "bootfs=rpool/ROOT/pve-1", "rpool"],
    ]


def test_finalize_sets_the_mountpoints_without_mounting_once_unmounted_then_exports(harness, monkeypatch):
    import installer.storage.apply.mount as mount

    monkeypatch.setattr(mount, "read_mountinfo", lambda: "")
    finalize_storage(harness.context(zfs_plan()))
    assert harness.commands() == [
        ["zfs", "set", "-u", "mountpoint=/", "rpool/ROOT/pve-1"],
        ["zfs", "set", "-u", "mountpoint=/var/lib/vz", "rpool/var-lib-vz"],
        ["zpool", "export", "rpool"],
        ["sync"],
    ]


def test_a_failing_zpool_command_once_extracted_fails_naming_it(harness):
    from installer.storage.apply import write_back

    harness.runner.fault = "zpool"
    with pytest.raises(Exception, match="zpool sync rpool"):
        write_back(harness.context(zfs_plan()))


def test_only_the_dataset_the_install_does_not_write_into_is_made_beside_the_extraction(harness):
    from installer.storage.apply.steps import volume_steps

    steps = volume_steps(zfs_plan((("mirror", 2),)), harness.target)
    assert [s.argv for s in steps if s.beside] == [("zfs", "create", "rpool/data")]
