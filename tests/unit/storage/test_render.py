"""The plan table: golden files for the fixture server (reviewed by hand), sizes in words, 80 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.core.config import BtrfsRaid, ZfsRaid
from installer.storage.plan import plan
from installer.storage.plan.table import format_plan, human_size
from keel_testing.builders import btrfs_setup, config, lvm_setup, zfs_setup

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize(("size", "text"), [
    pytest.param(1031168, "1007.0 KiB", id="the BIOS boot partition is 1007 KiB"),
    pytest.param(512 * 1024**2, "512.0 MiB", id="a small ESP is 512 MiB"),
    pytest.param(240057409536, "223.6 GiB", id="a 240 GB disk is 223.6 GiB"),
    pytest.param(3200631791616, "2.9 TiB", id="a 3.2 TB disk is 2.9 TiB"),
    pytest.param(100, "100 B", id="tiny sizes in bytes"),
])
def test_human_sizes_use_binary_units(size: int, text: str) -> None:
    assert human_size(size) == text


@pytest.mark.parametrize(("name", "setup"), [
    pytest.param("ext4-sda", lvm_setup("/dev/sda"), id="ext4 on the fixture's sda"),
    pytest.param("zfs-raid10-sata", zfs_setup(ZfsRaid.RAID10, "/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd"),
                 id="ZFS RAID10 on the fixture's four SATA disks"),
    pytest.param("btrfs-raid1-nvme", btrfs_setup(BtrfsRaid.RAID1, "/dev/nvme0n1", "/dev/nvme1n1", compress="zstd"),
                 id="Btrfs RAID1 on two 4Kn NVMe disks"),
])
def test_table_matches_the_reviewed_golden_file(name, setup, fixture_server) -> None:
    text = format_plan(plan(config(setup), fixture_server))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert text == (GOLDEN / f"{name}.txt").read_text()
