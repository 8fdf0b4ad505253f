"""The LVM plan against the real VG: extents, the PV header, the thin pool's metadata and spare."""

from __future__ import annotations

from installer.storage.plan import LogicalVolume
from installer.storage.plan.lvm import allocated_bytes, extents_bytes, lvm_plan, vg_bytes
from installer.storage.plan.sizing import LvmSizes
from keel_testing.builders import GiB, MiB


def test_vg_is_whole_4_mib_extents_after_the_1_mib_pv_header() -> None:
    assert vg_bytes(100 * MiB) == 96 * MiB          # 99 MiB usable -> 24 extents
    assert vg_bytes(101 * MiB) == 100 * MiB


def test_lvs_round_up_to_extents_and_a_thin_pool_counts_metadata_twice() -> None:
    assert extents_bytes(4 * MiB + 1) == 8 * MiB
    lvs = (LogicalVolume("root", 10 * MiB), LogicalVolume("data", 40 * MiB, True, 4 * MiB))
    assert allocated_bytes(lvs) == 12 * MiB + 40 * MiB + 2 * 4 * MiB


def test_sizes_that_fit_leave_the_rest_free() -> None:
    sizes = LvmSizes(0, 0, swap_kib=1024 * 1024, root_kib=2 * 1024 * 1024, minfree_kib=4096, data_kib=0, meta_kib=0)
    lvm, warning = lvm_plan("pve", "/dev/sda3", 4 * GiB, sizes)
    # VG: 4096 MiB - 1 MiB header -> 1023 extents = 4092 MiB; 1 GiB swap + 2 GiB root leave 1020 MiB
    assert (lvm.size_bytes, lvm.free_bytes, warning) == (4092 * MiB, 1020 * MiB, None)


def test_a_thin_pool_that_would_overfill_the_vg_gives_up_the_missing_extents_with_a_warning() -> None:
    # VG 4092 MiB; swap 1 GiB + root 2 GiB + data 1000 MiB + 2 x 4 MiB metadata = 4080 MiB: fits.
    # With data 1020 MiB: 4100 MiB, 8 MiB too many -> data shrinks to 1012 MiB.
    sizes = LvmSizes(0, 0, 1024 * 1024, 2 * 1024 * 1024, 0, 1020 * 1024, 4 * 1024)
    lvm, warning = lvm_plan("pve", "/dev/sda3", 4 * GiB, sizes)
    assert lvm.lv("data").size_bytes == 1012 * MiB
    assert lvm.free_bytes == 0
    assert warning == "thin pool 'data' reduced by 8 MiB to fit VG 'pve' (4092 MiB after LVM metadata)"
