"""make_filesystems: FAT32 ESPs with the planned volume ids (-s1 on 4Kn), swap, the root fs with its UUID."""

from __future__ import annotations

from dataclasses import replace

import pytest

from installer.core.config import Filesystem
from installer.storage.apply import ApplyError, make_filesystems
from keel_testing.plans import ROOT_UUID, btrfs_plan, lvm_plan, zfs_plan


def test_ext4_on_lvm(harness):
    make_filesystems(harness.context(lvm_plan(Filesystem.EXT4)))
    assert harness.commands() == [
        ["mkfs.vfat", "-F32", "-i", "ABCD1234", "/dev/sda2"],
        ["mkswap", "-f", "/dev/pve/swap"],
        ["mkfs.ext4", "-F", "-U", ROOT_UUID, "/dev/pve/root"],
    ]


def test_xfs_on_lvm_takes_its_uuid_through_m(harness):
    make_filesystems(harness.context(lvm_plan(Filesystem.XFS)))
    assert harness.commands()[-1] == ["mkfs.xfs", "-f", "-m", f"uuid={ROOT_UUID}", "/dev/pve/root"]


def test_a_4kn_esp_gets_one_sector_per_cluster(harness):
    make_filesystems(harness.context(lvm_plan(Filesystem.EXT4, lbs=4096)))
    assert harness.commands()[0] == ["mkfs.vfat", "-F32", "-s1", "-i", "ABCD1234", "/dev/sda2"]


def test_zfs_makes_only_an_esp_on_every_disk(harness):
    make_filesystems(harness.context(zfs_plan((("raidz1", 3),))))
    assert harness.commands() == [
        ["mkfs.vfat", "-F32", "-i", "0000ABCD", "/dev/sda2"],
        ["mkfs.vfat", "-F32", "-i", "0010ABCD", "/dev/sdb2"],
        ["mkfs.vfat", "-F32", "-i", "0020ABCD", "/dev/sdc2"],
    ]


def test_btrfs_makes_only_the_esps(harness):
    make_filesystems(harness.context(btrfs_plan()))
    assert harness.commands() == [
        ["mkfs.vfat", "-F32", "-i", "1101BEEF", "/dev/sda2"],
        ["mkfs.vfat", "-F32", "-i", "1111BEEF", "/dev/sdb2"],
    ]


def test_a_missing_esp_volume_id_is_a_one_line_error_naming_the_key(harness):
    plan = replace(lvm_plan(), fs_uuids={"root": ROOT_UUID})
    with pytest.raises(ApplyError, match="'esp:/dev/sda'"):
        make_filesystems(harness.context(plan))
    assert harness.commands() == []


def test_a_malformed_volume_id_is_refused(harness):
    plan = replace(lvm_plan(), fs_uuids={"root": ROOT_UUID, "esp:/dev/sda": "XYZ"})
    with pytest.raises(ApplyError, match=r"fs_uuids\.esp:/dev/sda: 'XYZ' is not a FAT volume id"):
        make_filesystems(harness.context(plan))


def test_swap_and_the_esps_are_made_beside_the_extraction_the_boot_loaders_wait_for_the_esps_only():
    from installer.storage.apply.steps import filesystem_steps

    beside = {s.argv[0]: (s.beside, s.wanted_by) for s in filesystem_steps(lvm_plan())}
    assert beside == {"mkfs.vfat": (True, "boot"), "mkswap": (True, ""), "mkfs.ext4": (False, "")}
