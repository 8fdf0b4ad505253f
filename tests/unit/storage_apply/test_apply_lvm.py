"""create_volumes for ext4/xfs: the exact LVM commands of reference §2.4 with the plan's sizes in KiB."""

from __future__ import annotations

from dataclasses import replace

import pytest

from installer.core.config import Filesystem
from installer.storage.apply import ApplyError, create_volumes
from installer.storage.plan import LogicalVolume
from keel_testing.plans import lvm_plan

EXPECTED = [
    ["pvcreate", "--metadatasize", "250k", "-y", "-ff", "/dev/sda3"],
    ["vgcreate", "pve", "/dev/sda3"],
    ["lvcreate", "-Wy", "--yes", "-L2097152K", "-nswap", "pve"],
    ["lvcreate", "-Wy", "--yes", "-L15462400K", "-nroot", "pve"],
    ["lvcreate", "--yes", "--activate", "n", "--type", "thin-pool", "-L13361152K", "--poolmetadatasize", "1048576K",
     "-ndata", "pve"],
]


@pytest.mark.parametrize("fs,lbs,path", [
    (Filesystem.EXT4, 512, "/dev/sda"),
    (Filesystem.XFS, 512, "/dev/sda"),
    (Filesystem.EXT4, 4096, "/dev/sda"),
], ids=["ext4 on a 512-byte disk", "xfs on a 512-byte disk", "ext4 on a 4Kn disk"])
def test_lvm_commands_create_the_planned_vg_and_lvs_in_kib(harness, fs, lbs, path):
    create_volumes(harness.context(lvm_plan(fs, path=path, lbs=lbs)))
    assert harness.commands() == EXPECTED


def test_nvme_pv_is_partition_p3(harness):
    create_volumes(harness.context(lvm_plan(path="/dev/nvme0n1")))
    assert harness.commands()[:2] == [
        ["pvcreate", "--metadatasize", "250k", "-y", "-ff", "/dev/nvme0n1p3"],
        ["vgcreate", "pve", "/dev/nvme0n1p3"],
    ]


def test_without_a_thin_pool_every_lv_is_plain(harness):
    plan = lvm_plan()
    lvm = replace(plan.lvm, lvs=(LogicalVolume("swap", 2097152 * 1024), LogicalVolume("root", 26611712 * 1024)))
    create_volumes(harness.context(replace(plan, lvm=lvm)))
    assert harness.commands()[2:] == [
        ["lvcreate", "-Wy", "--yes", "-L2097152K", "-nswap", "pve"],
        ["lvcreate", "-Wy", "--yes", "-L26611712K", "-nroot", "pve"],
    ]


def test_a_size_that_is_not_whole_kib_is_refused_naming_the_lv(harness):
    plan = lvm_plan()
    lvm = replace(plan.lvm, lvs=(LogicalVolume("root", 15462400 * 1024 + 512),))
    with pytest.raises(ApplyError, match="LV pve/root: planned size 15833498112 bytes"):
        create_volumes(harness.context(replace(plan, lvm=lvm)))
    assert harness.commands() == []


def test_a_failing_lvcreate_stops_the_phase_with_the_command(harness):
    harness.runner.fault = "lvcreate"
    with pytest.raises(Exception, match="lvcreate -Wy --yes -L2097152K -nswap pve"):
        create_volumes(harness.context(lvm_plan()))
    assert harness.commands()[-1][0] == "lvcreate"


def test_the_thin_pool_is_made_beside_the_later_phases_and_waited_for(harness):
    from installer.storage.apply.steps import volume_steps

    steps = volume_steps(lvm_plan(), harness.target)
    assert [s.argv[:7] for s in steps if s.beside] == [
        ("lvcreate", "--yes", "--activate", "n", "--type", "thin-pool", "-L13361152K")]
    ctx = harness.context(lvm_plan())
    ctx.concurrent = True
    create_volumes(ctx)
    ctx.wait_beside()
    assert harness.commands() == EXPECTED
