"""create_volumes and mount_target for Btrfs: reference §2.7 profiles, the planned UUID, the subvolume."""

from __future__ import annotations

import pytest

from installer.storage.apply import create_volumes, mount_target
from keel_testing.plans import ROOT_UUID, btrfs_plan


@pytest.mark.parametrize("profile,count,devices", [
    ("raid0", 1, ["/dev/sda3"]),
    ("raid1", 2, ["/dev/sda3", "/dev/sdb3"]),
    ("raid10", 4, ["/dev/sda3", "/dev/sdb3", "/dev/sdc3", "/dev/sdd3"]),
], ids=["RAID0 on one disk", "RAID1 over two disks", "RAID10 over four disks"])
def test_mkfs_btrfs_uses_the_profile_for_data_and_metadata_and_the_planned_uuid(harness, profile, count, devices):
    create_volumes(harness.context(btrfs_plan(profile, count=count)))
    assert harness.commands() == [
        ["mkfs.btrfs", "-f", "-U", ROOT_UUID, "-d", profile, "-m", profile, *devices],
    ]


def test_mount_scans_members_mounts_with_compression_and_creates_the_subvolume(harness):
    ctx = harness.context(btrfs_plan("raid1"))
    mount_target(ctx)
    assert harness.commands() == [
        ["btrfs", "device", "scan", "/dev/sda3", "/dev/sdb3"],
        ["mount", "-t", "btrfs", "-o", "noatime,compress=zstd", "/dev/sda3", "/target"],
        ["btrfs", "subvolume", "create", "/target/var/lib/pve/local-btrfs"],
    ]
    assert (harness.target / "var/lib/pve").is_dir()


def test_without_compression_only_noatime_is_used(harness):
    mount_target(harness.context(btrfs_plan("raid1", options="defaults")))
    assert harness.commands()[1] == ["mount", "-t", "btrfs", "-o", "noatime", "/dev/sda3", "/target"]
