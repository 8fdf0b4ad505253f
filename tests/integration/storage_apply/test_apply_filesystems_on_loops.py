"""make_filesystems / create_volumes / mount_target / teardown on loop devices, checked with blkid and btrfs."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import sh
from loop_plans import GiB, loop_plan

from installer.core.config import Filesystem
from installer.storage.apply import (
    create_volumes,
    make_filesystems,
    mount_target,
    partition_disks,
    teardown_existing,
    unmount_target,
)
from installer.storage.plan import Mount

pytestmark = pytest.mark.root


def probe(device: str) -> dict[str, str]:
    """blkid's view of a device, without its cache: {"TYPE": ..., "UUID": ...}; {} when it finds nothing."""
    out = sh("blkid", "-p", "-o", "export", device) if _has_signature(device) else ""
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _has_signature(device: str) -> bool:
    import subprocess

    return subprocess.run(["blkid", "-p", device], capture_output=True, timeout=60).returncode == 0


def mounted(target: Path) -> dict[str, tuple[str, str, str]]:
    """Mount point -> (source, fstype, options) for everything at or below `target`."""
    out = sh("findmnt", "--list", "--noheadings", "--output", "TARGET,SOURCE,FSTYPE,OPTIONS")
    rows = (line.split() for line in out.splitlines())
    return {r[0]: (r[1], r[2], r[3]) for r in rows if r[0] == str(target) or r[0].startswith(f"{target}/")}


@pytest.mark.parametrize("fs,sector", [(Filesystem.EXT4, 512), (Filesystem.XFS, 512), (Filesystem.EXT4, 4096)],
                         ids=["ext4 root", "xfs root", "ext4 root and a FAT32 ESP on a 4Kn disk"])
def test_root_and_esp_get_the_planned_uuids_and_the_root_mounts_and_unmounts(loops, host, fs, sector):
    device = loops.attach(10 * GiB, sector_size=sector)
    plan = loop_plan([device], fs, sector=sector)
    disk = plan.disks[0]
    p2, p3 = (p.path for p in disk.partitions if p.number in (2, 3))
    # no device-mapper on the build host: the root filesystem goes straight onto partition 3
    root = Mount(p3, "/", str(fs), plan.mounts[0].options, 0, 1)
    plan = replace(plan, lvm=None, mounts=(root,))
    ctx = host.context(plan)
    partition_disks(ctx)
    make_filesystems(ctx)
    assert (probe(p2)["TYPE"], probe(p2).get("VERSION")) == ("vfat", "FAT32")
    assert probe(p2)["UUID"] == plan.fs_uuids[f"esp:{device}"]
    assert (probe(p3)["TYPE"], probe(p3)["UUID"]) == (str(fs), plan.fs_uuids["root"])

    mount_target(ctx)
    source, fstype, options = mounted(host.target)[str(host.target)]
    assert (source, fstype) == (p3, str(fs))
    assert "noatime" in options.split(",")
    unmount_target(ctx)
    assert mounted(host.target) == {}


def test_btrfs_raid1_over_two_loops_from_plan_to_wiped_disks(loops, host):
    devices = [loops.attach(10 * GiB), loops.attach(10 * GiB)]
    plan = loop_plan(devices, Filesystem.BTRFS, raid="RAID1", compress="zstd")
    ctx = host.context(plan)
    members = [d.partitions[-1].path for d in plan.disks]

    partition_disks(ctx)
    create_volumes(ctx)
    make_filesystems(ctx)
    for member in members:
        assert (probe(member)["TYPE"], probe(member)["UUID"]) == ("btrfs", plan.fs_uuids["root"])
    for disk in plan.disks:
        assert probe(disk.partitions[1].path)["UUID"] == plan.fs_uuids[f"esp:{disk.path}"]

    mount_target(ctx)
    source, fstype, options = mounted(host.target)[str(host.target)]
    assert fstype == "btrfs" and source in members
    assert "noatime" in options.split(",")
    assert any(o.startswith("compress=zstd") for o in options.split(","))
    usage = sh("btrfs", "filesystem", "df", str(host.target))
    assert "Data, RAID1" in usage and "Metadata, RAID1" in usage
    assert "path var/lib/pve/local-btrfs" in sh("btrfs", "subvolume", "list", str(host.target))
    unmount_target(ctx)
    assert mounted(host.target) == {}

    # a second install onto the same disks clears all of it first
    host.runner.commands.clear()
    teardown_existing(ctx)
    for disk in plan.disks:
        for part in disk.partitions:
            assert probe(part.path) == {}, part.path
        assert not re.search(r"^\s+\d+\s+\d+\s+\d+\s", sh("sgdisk", "-p", disk.path), re.MULTILINE)
        assert probe(disk.path) == {}
    assert any("blivet teardown unavailable" in e.text for e in host.sink.of_type("warning"))
    wiped = {argv[-1] for argv in host.runner.commands if argv[:2] == ("wipefs", "-a")}
    assert wiped == {p.path for d in plan.disks for p in d.partitions} | set(devices)
