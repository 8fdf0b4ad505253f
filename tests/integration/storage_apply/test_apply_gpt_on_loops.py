"""partition_disks on loop devices: the GPT on disk has exactly the planned numbers, sectors and type GUIDs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import sh
from loop_plans import GiB, loop_plan

from installer.core.config import Filesystem
from installer.storage.apply import partition_disks
from installer.storage.plan import PlannedDisk

pytestmark = pytest.mark.root


def gpt_on_disk(device: str) -> dict[int, tuple[int, int, str]]:
    """number -> (start, end, type GUID) as sgdisk reads the table back."""
    table = {}
    for line in sh("sgdisk", "-p", device).splitlines():
        row = re.match(r"\s+(\d+)\s+(\d+)\s+(\d+)\s", line)
        if row:
            number = int(row.group(1))
            info = sh("sgdisk", "-i", str(number), device)
            guid = re.search(r"Partition GUID code: ([0-9A-F-]{36})", info).group(1)
            table[number] = (int(row.group(2)), int(row.group(3)), guid)
    return table


def planned(disk: PlannedDisk) -> dict[int, tuple[int, int, str]]:
    return {p.number: (p.start_sector, p.end_sector, p.type_guid.upper()) for p in disk.partitions}


@pytest.mark.parametrize("fs,sector", [
    (Filesystem.EXT4, 512), (Filesystem.ZFS, 512), (Filesystem.BTRFS, 512), (Filesystem.EXT4, 4096),
], ids=["an LVM disk with 512-byte sectors", "a ZFS disk whose BF01 type comes from sgdisk",
        "a Btrfs disk of libparted's default type", "a 4Kn LVM disk without a BIOS boot partition"])
def test_the_table_on_disk_equals_the_plan(loops, host, fs, sector):
    device = loops.attach(10 * GiB, sector_size=sector)
    plan = loop_plan([device], fs, sector=sector)
    partition_disks(host.context(plan))
    disk = plan.disks[0]
    assert gpt_on_disk(device) == planned(disk)
    # the kernel knows the partitions (libparted told it; no partition scan on this loop device);
    # sysfs counts in 512-byte units whatever the logical sector size
    k = sector // 512
    for part in disk.partitions:
        sysfs = Path("/sys/class/block") / Path(part.path).name
        assert (int((sysfs / "start").read_text()), int((sysfs / "size").read_text())) == (
            part.start_sector * k, (part.end_sector - part.start_sector + 1) * k), part.path


def test_old_data_at_the_start_of_p2_and_p3_is_zeroed(loops, host):
    device = loops.attach(10 * GiB)
    plan = loop_plan([device], Filesystem.EXT4)
    disk = plan.disks[0]
    with open(device, "r+b") as raw:
        for part in disk.partitions[1:]:
            raw.seek(part.start_sector * 512)
            raw.write(b"\xa5" * (1024 * 1024))
    partition_disks(host.context(plan))
    with open(device, "rb") as raw:
        for part in disk.partitions[1:]:
            raw.seek(part.start_sector * 512)
            assert raw.read(16 * 1024 * 1024) == bytes(16 * 1024 * 1024), part.path


def test_an_old_layout_is_wiped_and_replaced_by_the_planned_one(loops, host, tmp_path):
    from installer.storage.apply import teardown_existing

    device = loops.attach(10 * GiB)
    # an older install: four partitions the kernel knows, an ext4 and an xfs filesystem on two of them,
    # the ext4 one mounted (as a live system might have done)
    sh("sgdisk", "-n1:2048:+100M", "-n2:0:+1G", "-n3:0:+2G", "-n4:0:0", "-t4:8E00", device)
    sh("partx", "-a", device)
    sh("mkfs.ext4", "-q", "-F", f"{device}p2")
    sh("mkfs.xfs", "-q", "-f", f"{device}p4")
    old = tmp_path / "old"
    old.mkdir()
    sh("mount", f"{device}p2", str(old))
    plan = loop_plan([device], Filesystem.ZFS)
    ctx = host.context(plan)
    try:
        teardown_existing(ctx)
    finally:
        subprocess.run(["umount", str(old)], capture_output=True, timeout=60)
    assert ("umount", str(old)) in host.runner.commands
    for number in (2, 4):
        assert sh("wipefs", "--noheadings", f"{device}p{number}") == "", number
    partition_disks(ctx)
    assert gpt_on_disk(device) == planned(plan.disks[0])
    assert not Path(f"/sys/class/block/{Path(device).name}p4").exists()


def test_gaps_in_the_planned_numbers_are_kept(loops, host):
    from dataclasses import replace

    device = loops.attach(10 * GiB)
    plan = loop_plan([device], Filesystem.BTRFS)
    disk = plan.disks[0]
    esp, data = disk.partitions[1], disk.partitions[2]
    gappy = replace(disk, partitions=(replace(esp, number=3, path=f"{device}p3"),
                                      replace(data, number=5, path=f"{device}p5")))
    partition_disks(host.context(replace(plan, disks=(gappy,))))
    assert gpt_on_disk(device) == planned(gappy)
