"""Properties every plan keeps, over generated disks, RAM sizes and options (hypothesis)."""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from installer.core.config import BtrfsRaid, ZfsRaid
from installer.storage.plan import PlanError, plan
from installer.storage.plan.partitions import disk_layout
from keel_testing.builders import GiB, MiB, btrfs_setup, config, disk, hardware, lvm_setup, zfs_setup

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

sector_sizes = st.sampled_from([512, 4096])
disk_bytes = st.integers(min_value=2 * GiB, max_value=64 * 1024 * GiB)
hdsizes = st.none() | st.floats(min_value=2, max_value=70000, allow_nan=False)
ram_mib = st.integers(min_value=256, max_value=4 * 1024 * 1024)
gib_option = st.none() | st.floats(min_value=0, max_value=5000, allow_nan=False)


@SETTINGS
@given(size=disk_bytes, sector=sector_sizes, hdsize=hdsizes, kind=st.sampled_from(["lvm", "zfs", "btrfs"]))
def test_partitions_are_ordered_disjoint_inside_the_disk_and_mib_aligned(size, sector, hdsize, kind) -> None:
    d = disk("sda", 0, sector=sector, extra_bytes=size // sector * sector)
    parts = disk_layout(d, kind, hdsize)
    total = d.size_bytes // sector
    first_usable = 2 + 16384 // sector           # protective MBR, header, 16 KiB of entries
    last_usable = total - 2 - 16384 // sector    # backup entries and header at the end
    per_mib = MiB // sector
    assert parts[0].start_sector >= first_usable
    assert parts[-1].end_sector <= last_usable
    for a, b in itertools.pairwise(parts):
        assert a.end_sector < b.start_sector
    for p in parts:
        assert p.start_sector <= p.end_sector
        assert p.size_bytes == (p.end_sector - p.start_sector + 1) * sector
        if p.type != "bios-boot":
            assert p.start_sector % per_mib == 0
            assert (p.end_sector + 1) % per_mib == 0
    if hdsize is not None:
        assert (parts[-1].end_sector + 1) * sector <= max(int(hdsize * 1024) * MiB, 0) or hdsize * GiB >= d.size_bytes
    assert [p.number for p in parts] == ([1, 2, 3] if sector == 512 else [2, 3])


@SETTINGS
@given(size=disk_bytes, sector=sector_sizes, memory=ram_mib, hdsize=hdsizes, swapsize=gib_option,
       maxroot=gib_option, minfree=gib_option, maxvz=gib_option)
def test_logical_volumes_and_free_space_fit_the_volume_group(size, sector, memory, hdsize, swapsize, maxroot,
                                                             minfree, maxvz) -> None:
    d = disk("sda", 0, sector=sector, extra_bytes=size // sector * sector)
    setup = lvm_setup(hdsize=hdsize, swapsize=swapsize, maxroot=maxroot, minfree=minfree, maxvz=maxvz)
    try:
        result = plan(config(setup, unattended=False), hardware(d, memory_mib=memory))
    except PlanError:
        assume(False)
        return
    lvm = result.lvm
    assert lvm is not None
    p3 = result.disks[0].partitions[-1]
    # VG: whole 4 MiB extents of partition 3 after the 1 MiB PV header, computed here independently
    vg = (p3.size_bytes - MiB) // (4 * MiB) * (4 * MiB)
    extent = 4 * MiB
    used = sum(-(-lv.size_bytes // extent) * extent + 2 * -(-lv.metadata_bytes // extent) * extent
               for lv in lvm.lvs)
    assert lvm.free_bytes >= 0
    assert used + lvm.free_bytes == vg == lvm.size_bytes
    assert all(lv.size_bytes > 0 for lv in lvm.lvs)
    assert [lv.name for lv in lvm.lvs][-1] in ("root", "data")


@SETTINGS
@given(size=st.integers(min_value=3 * GiB, max_value=16 * 1024 * GiB), sector=sector_sizes, hdsize=hdsizes,
       count=st.integers(min_value=1, max_value=6), btrfs=st.booleans())
def test_every_selected_disk_gets_the_same_layout(size, sector, hdsize, count, btrfs) -> None:
    disks = [disk(f"sd{chr(97 + i)}", 0, sector=sector, extra_bytes=size // sector * sector) for i in range(count)]
    paths = [d.path for d in disks]
    if btrfs:
        setup = btrfs_setup(BtrfsRaid.RAID1 if count >= 2 else BtrfsRaid.RAID0, *paths, hdsize=hdsize)
    else:
        setup = zfs_setup(ZfsRaid.RAIDZ1 if count >= 3 else ZfsRaid.RAID0, *paths, hdsize=hdsize)
    try:
        result = plan(config(setup, unattended=False), hardware(*disks))
    except PlanError:
        assume(False)
        return
    layouts = {tuple((p.number, p.type, p.start_sector, p.end_sector) for p in d.partitions) for d in result.disks}
    assert len(layouts) == 1
    assert len(result.disks) == count


@SETTINGS
@given(sizes=st.lists(st.integers(min_value=95, max_value=100), min_size=2, max_size=4),
       hdsize=st.floats(min_value=8, max_value=89, allow_nan=False))
def test_hdsize_makes_partition_3_identical_on_disks_of_different_sizes(sizes, hdsize) -> None:
    disks = [disk(f"sd{chr(97 + i)}", gib) for i, gib in enumerate(sizes)]
    result = plan(config(zfs_setup(ZfsRaid.RAID1, *[d.path for d in disks], hdsize=hdsize)), hardware(*disks))
    assert len({d.partitions[-1].end_sector for d in result.disks}) == 1
