"""The guard on a real kernel: paths resolve through links to the nodes sysfs describes, and a link that leads to a
selected loop device where the plan expects another disk stops the install before anything is written."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import sh
from loop_plans import GiB, loop_plan

from installer.core.config import Filesystem
from installer.storage.apply import UnselectedDeviceError, partition_disks, teardown_existing
from installer.storage.apply.resolve import BlockNode, lookup
from installer.storage.plan import Rename

pytestmark = pytest.mark.root


def major_minor(path: str) -> str:
    rdev = os.stat(path).st_rdev
    return f"{os.major(rdev)}:{os.minor(rdev)}"


def test_every_new_partition_resolves_to_the_node_the_kernel_numbers_on_its_loop_device(loops, host, tmp_path):
    device = loops.attach(10 * GiB)
    plan = loop_plan([device], Filesystem.EXT4)
    partition_disks(host.context(plan))          # the guard resolved every partition once its node appeared
    assert lookup(device) == BlockNode(device, major_minor(device))
    for part in plan.disks[0].partitions:
        link = tmp_path / f"by-test-part{part.number}"
        link.symlink_to(part.path)
        expected = BlockNode(part.path, major_minor(part.path), part.number, device, major_minor(device))
        assert lookup(part.path) == expected
        assert lookup(str(link)) == expected


def test_an_old_vg_member_that_now_resolves_to_the_selected_loop_is_not_renamed_and_nothing_is_written(
        loops, host, tmp_path):
    device = loops.attach(10 * GiB)
    plan = loop_plan([device], Filesystem.EXT4)
    partition_disks(host.context(plan))
    table = sh("sgdisk", "-p", device)
    # the profile placed a PV of an old "pve" VG on another disk; on this boot its link leads to our partition 3
    old_pv = tmp_path / "ata-OLD_DISK-part3"
    old_pv.symlink_to(f"{device}p3")
    host.runner.commands.clear()
    renamed = replace(plan, rename=(Rename("lvm-vg", "pve", "pve-OLD-1a2b3c4d", "uuid-1", (str(old_pv),)),))
    with pytest.raises(UnselectedDeviceError, match=(
            f"refusing to touch {old_pv} on an unselected disk: it resolves to {device}p3 "
            f"\\({major_minor(f'{device}p3')}, partition 3 of {device}\\), on the selected {device}")):
        teardown_existing(host.context(renamed))
    assert host.runner.commands == []
    assert sh("sgdisk", "-p", device) == table
    assert Path(f"{device}p3").exists()
