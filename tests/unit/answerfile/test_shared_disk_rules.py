"""The shared disk-selection rules (installer/storage/rules.py), expected values from reference §2.3, §2.4, §3.1."""

from __future__ import annotations

import pytest

from installer.core import rules
from installer.core.hardware import Disk, GiB


def disk(name: str, gib: float, *, block: int = 512, medium: bool = False) -> Disk:
    return Disk(name=name, path=f"/dev/{name}", size_bytes=int(gib * GiB), logical_block_size=block,
                install_medium=medium)


@pytest.mark.parametrize(
    ("fs", "raid", "count", "expected"),
    [
        ("zfs", "RAID0", 1, None),
        ("zfs", "RAID0", 0, "ZFS RAID0 needs at least 1 disk, got 0"),
        ("zfs", "RAID1", 1, "ZFS RAID1 needs at least 2 disks, got 1"),
        ("zfs", "RAID10", 1, "ZFS RAID10 needs at least 4 disks, got 1"),
        ("zfs", "RAID10", 5, "ZFS RAID10 needs an even number of disks, got 5"),
        ("zfs", "RAID10", 6, None),
        ("zfs", "RAIDZ-1", 2, "ZFS RAIDZ-1 needs at least 3 disks, got 2"),
        ("zfs", "RAIDZ-2", 3, "ZFS RAIDZ-2 needs at least 4 disks, got 3"),
        ("zfs", "RAIDZ-3", 4, "ZFS RAIDZ-3 needs at least 5 disks, got 4"),
        ("zfs", "RAIDZ-3", 5, None),
        ("btrfs", "RAID0", 1, None),
        ("btrfs", "RAID1", 1, "Btrfs RAID1 needs at least 2 disks, got 1"),
        ("btrfs", "RAID10", 3, "Btrfs RAID10 needs at least 4 disks, got 3"),
        ("btrfs", "RAID10", 5, None),
        ("ext4", None, 2, "ext4 installs on exactly one disk, got 2"),
        ("xfs", None, 1, None),
    ],
    ids=lambda v: str(v),
)
def test_raid_level_needs_its_minimum_disk_count(fs, raid, count, expected):
    assert rules.raid_count_problem(fs, raid, count) == expected


def test_raid1_refuses_a_disk_more_than_ten_percent_away_from_the_first():
    disks = [disk("sda", 100), disk("sdb", 110), disk("sdc", 111)]
    assert rules.mirror_size_problems("RAID1", disks) == [
        "mirrored disks must have about the same size (within 10 %): sda has 100 GiB, sdc has 111 GiB"
    ]


def test_raid10_compares_each_consecutive_pair_only():
    disks = [disk("sda", 100), disk("sdb", 100), disk("sdc", 500), disk("sdd", 500)]
    assert rules.mirror_size_problems("RAID10", disks) == []
    disks = [disk("sda", 100), disk("sdc", 500), disk("sdb", 100), disk("sdd", 500)]
    assert len(rules.mirror_size_problems("RAID10", disks)) == 2


def test_raid0_has_no_size_rule():
    assert rules.mirror_size_problems("RAID0", [disk("sda", 10), disk("sdb", 1000)]) == []


def test_4kn_disk_with_bios_boot_is_refused_and_fine_with_efi():
    nvme = disk("nvme0n1", 100, block=4096)
    assert rules.four_kn_problem(nvme, "bios") == (
        "Booting from 4Kn drive in legacy BIOS mode is not supported: nvme0n1 has 4096-byte logical sectors"
    )
    assert rules.four_kn_problem(nvme, "efi") is None


@pytest.mark.parametrize(
    ("gib", "hdsize", "unattended", "expected_start"),
    [
        (1.9, None, False, "disk sda is too small: 1 GiB usable, at least 2 GiB needed"),
        (100, 1.5, False, "disk sda is too small: 1 GiB usable"),
        (7.9, None, True, "disk sda is too small for an unattended install: 7 GiB usable, 8 GiB recommended"),
        (7.9, None, False, None),
        (8.0, None, True, None),
    ],
    ids=["below 2 GiB always", "hdsize below 2 GiB", "below 8 GiB unattended", "below 8 GiB interactive",
         "exactly 8 GiB"],
)
def test_disk_size_limits(gib, hdsize, unattended, expected_start):
    problem = rules.disk_size_problem(disk("sda", gib), hdsize=hdsize, unattended=unattended)
    if expected_start is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(expected_start)


def test_swap_may_be_at_most_half_the_hdsize():
    assert rules.swap_problem(16.01, 32) == "Swap size 16.01 GiB cannot be greater than 16 GiB (hard disk size / 2)"
    assert rules.swap_problem(16, 32) is None
    assert rules.swap_problem(16, None) is None


def test_install_medium_and_duplicates_are_reported_with_everything_else():
    sda, usb = disk("sda", 100), disk("sdb", 16, medium=True)
    problems = rules.disk_selection_problems("zfs", "RAID1", [sda, usb, sda], boot_mode="efi", unattended=True)
    assert problems == [
        "disk sda is selected more than once (the disk list contains a duplicate device)",
        "disk sdb holds the running Keel install medium and cannot be an install target",
        "mirrored disks must have about the same size (within 10 %): sda has 100 GiB, sdb has 16 GiB",
    ]


def test_a_good_selection_has_no_problems():
    disks = [disk(n, 240) for n in ("sda", "sdb", "sdc", "sdd")]
    assert rules.disk_selection_problems("zfs", "RAIDZ-2", disks, boot_mode="bios", unattended=True) == []
