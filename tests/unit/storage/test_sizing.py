"""LVM, ESP and ARC sizing against values worked out by hand from reference §2.4 / §2.6.

Notation in the derivations: all sizes in KiB unless marked; G = 1 GiB = 1048576 KiB; "a4" = align down to
4 MiB (clear the low 12 bits, i.e. round down to a multiple of 4096 KiB); esp = ESP MiB; os = disk - (esp+1)*1024;
hdgb = int(os / G).
"""

from __future__ import annotations

import pytest

from installer.core.rules import default_arc_max_mib, effective_arc_max_mib
from installer.storage.plan.sizing import (
    SKIP_LOW_SPACE,
    SKIP_MAXVZ_LOW,
    default_swap_mib,
    esp_mib,
    lvm_sizes,
    os_kib,
    root_kib,
    spare_kib,
)
from keel_testing.builders import GiB, MiB

G = 1048576  # KiB


@pytest.mark.parametrize(("disk_bytes", "expected"), [
    pytest.param(12 * GiB, 512, id="a 12 GiB disk gets a 512 MiB ESP"),
    pytest.param(100 * GiB, 512, id="exactly 100 GiB is not above 100 GiB: 512 MiB"),
    pytest.param(100 * GiB + 512, 1024, id="one sector above 100 GiB gets a 1024 MiB ESP"),
    pytest.param(128 * GiB, 1024, id="a 128 GiB disk gets a 1024 MiB ESP"),
])
def test_esp_size_switches_above_100_gib(disk_bytes: int, expected: int) -> None:
    assert esp_mib(disk_bytes) == expected


@pytest.mark.parametrize(("disk_bytes", "hdsize", "expected"), [
    # 12 G disk: 12*G - 513*1024 = 12582912 - 525312
    pytest.param(12 * GiB, None, 12057600, id="12 GiB disk: os = 12 GiB - 513 MiB"),
    # 500 G disk keeps its 1024 MiB ESP although hdsize is 50: 50*G - 1025*1024 = 52428800 - 1049600
    pytest.param(500 * GiB, 50, 51379200, id="hdsize 50 on 500 GiB: ESP still 1 GiB, os = 50 GiB - 1025 MiB"),
    # hdsize above the disk is ignored: 32*G - 513*1024 = 33554432 - 525312
    pytest.param(32 * GiB, 40, 33029120, id="hdsize larger than the disk is ignored"),
])
def test_os_partition_size(disk_bytes: int, hdsize: float | None, expected: float) -> None:
    assert os_kib(disk_bytes, hdsize) == expected


@pytest.mark.parametrize(("memory", "hdgb", "expected"), [
    pytest.param(1024, 64, 4096, id="1 GiB RAM on 64 GiB: raised to 4096 (< 4096 and hdgb >= 64)"),
    pytest.param(1024, 63, 2048, id="1 GiB RAM on 63 GiB: raised to 2048 (< 2048 and hdgb >= 32)"),
    pytest.param(1024, 31, 1024, id="1 GiB RAM on 31 GiB: stays 1024"),
    pytest.param(2048, 16, 1024, id="2 GiB RAM on 16 GiB: lowered to 1024 (>= 2048 and hdgb <= 16)"),
    pytest.param(2048, 17, 2048, id="2 GiB RAM on 17 GiB: stays 2048"),
    pytest.param(256, 8, 512, id="256 MiB RAM: at least 512 (8*128 = 1024 does not cap)"),
    pytest.param(4096, 3, 384, id="4 GiB RAM on 3 GiB: 1024 then capped at 3*128 = 384"),
    pytest.param(1024, 2, 256, id="1 GiB RAM on 2 GiB: capped at 2*128 = 256"),
    pytest.param(65536, 40, 5120, id="64 GiB RAM on 40 GiB: capped at 40*128 = 5120"),
    pytest.param(65536, 100, 8192, id="64 GiB RAM on 100 GiB: capped at 8192"),
])
def test_default_swap_follows_the_ram_rule(memory: int, hdgb: int, expected: int) -> None:
    assert default_swap_mib(memory, hdgb) == expected


@pytest.mark.parametrize(("hdgb", "expected"), [
    pytest.param(32, 4096, id="32 GiB: 4 MiB"),
    pytest.param(33, 33 / 8 * G, id="33 GiB: 33/8 GiB (real division) = 4325376 KiB"),
    pytest.param(64, 8 * G, id="64 GiB: 8 GiB"),
    pytest.param(128, 16 * G, id="128 GiB: 128/8 = 16 GiB"),
    pytest.param(129, 16 * G, id="129 GiB: fixed 16 GiB"),
])
def test_spare_space(hdgb: int, expected: float) -> None:
    assert spare_kib(hdgb) == expected


@pytest.mark.parametrize(("rest", "maxroot", "expected"), [
    # rest_mb 12287 < 12288: (12287 - 4) & ~3 = 12280 MiB = 12574720 KiB (a multiple of 4096)
    pytest.param(12 * G - 1024, None, 12574720, id="just under 12 GiB: all but 4 MiB, 4 MiB aligned"),
    # rest_mb 12288: int(12288/2) & ~3 = 6144 MiB = 6291456 KiB
    pytest.param(12 * G, None, 6291456, id="exactly 12 GiB: half"),
    # rest_mb 49151: int(24575.5) = 24575 & ~3 = 24572 MiB = 25161728 KiB
    pytest.param(48 * G - 1024, None, 25161728, id="just under 48 GiB: half, aligned"),
    # rest_mb 49152: 49152/4 + 12288 = 24576 MiB = 25165824 KiB
    pytest.param(48 * G, None, 25165824, id="exactly 48 GiB: a quarter plus 12 GiB"),
    # 409600/4 + 12288 = 114688 MiB > 98304 -> 96 GiB = 100663296 KiB
    pytest.param(400 * G, None, 100663296, id="400 GiB: capped at the default 96 GiB"),
    pytest.param(400 * G, 0, 100663296, id="maxroot 0 means the default 96 GiB"),
    # cap 50.5 GiB = 51712 MiB = 52953088 KiB
    pytest.param(400 * G, 50.5, 52953088, id="maxroot 50.5 caps root at 50.5 GiB"),
])
def test_root_size(rest: float, maxroot: float | None, expected: int) -> None:
    assert root_kib(rest, maxroot) == expected


# Each row: disk bytes, RAM MiB, options -> swap, root, minfree, data, meta (KiB), message.
SIZING_CASES = [
    pytest.param(
        12 * GiB, 2048, {}, 1048576, 11001856, 4096, 0, 0, SKIP_LOW_SPACE,
        # os 12057600, hdgb 11; swap: 2048 >= 2048 and hdgb <= 16 -> 1024 MiB = 1048576; spare 4096 (hdgb <= 32)
        # rest 11009024, rest_mb 10751 < 12288 -> (10751-4)&~3 = 10744 MiB = 11001856 (a4 unchanged)
        # rest 7168 - 4096 = 3072 a4 -> 0: no thin pool
        id="12 GiB disk, 2 GiB RAM: 1 GiB swap, root all but 4 MiB, no thin pool (low space)",
    ),
    pytest.param(
        32 * GiB, 1024, {}, 1048576, 15986688, 4096, 13885440, 1048576, None,
        # os 33029120, hdgb int(31.5) = 31; swap 1024 MiB (31 < 32, no raise); spare 4096
        # rest 31980544, rest_mb 31231 -> int(31231/2) = 15615 & ~3 = 15612 MiB = 15986688
        # rest 15993856 - 4096 = 15989760 a4 -> 15986688; meta int(159866.88) -> clamp 1 G = 1048576
        # data 15986688 - 2*1048576 - 4096 = 13885440
        id="32 GiB disk, 1 GiB RAM: root is half of the rest, 1 GiB metadata",
    ),
    pytest.param(
        48 * GiB, 4096, {}, 4194304, 22802432, 6160384, 14544896, 1048576, None,
        # os 49806336, hdgb 47; swap 4096 MiB (47*128 = 6016 does not cap); spare 47/8 G = 6160384
        # rest 45612032, rest_mb 44543 -> 22271 & ~3 = 22268 MiB = 22802432
        # rest 22809600 - 6160384 = 16649216 a4 -> 16646144; meta 1 G; data 16646144 - 2097152 - 4096 = 14544896
        id="48 GiB disk, 4 GiB RAM: spare is hdgb/8 (5.875 GiB)",
    ),
    pytest.param(
        100 * GiB, 8192, {}, 8388608, 36564992, 12976128, 44298240, 1048576, None,
        # ESP 512 (not above 100 GiB): os 104332288, hdgb 99; swap 8192 MiB; spare 99/8 G = 12976128
        # rest 95943680, rest_mb 93695 -> 93695/4 + 12288 = 35711.75 MiB -> 36568832 KiB; a4: 8927 * 4096 = 36564992
        # rest 59378688 - 12976128 = 46402560 a4 -> 11328 * 4096 = 46399488; meta 1 G
        # data 46399488 - 2097152 - 4096 = 44298240
        id="exactly 100 GiB disk, 8 GiB RAM: 512 MiB ESP, root a quarter plus 12 GiB",
    ),
    pytest.param(
        100 * GiB + MiB, 8192, {}, 8388608, 36438016, 12976128, 43905024, 1048576, None,
        # ESP 1024: os 104858624 - 1049600 = 103809024 = exactly 99 G, hdgb 99; swap 8 G
        # rest 95420416, rest_mb 93184 -> 23296 + 12288 = 35584 MiB = 36438016
        # rest 58982400 - 12976128 = 46006272 (already a4); data 46006272 - 2097152 - 4096 = 43905024
        id="100 GiB + 1 MiB disk, 8 GiB RAM: 1 GiB ESP shrinks root and data",
    ),
    pytest.param(
        128 * GiB, 65536, {}, 8388608, 43773952, 16515072, 62386176, 1048576, None,
        # ESP 1024: os 133168128, hdgb int(126.999) = 126; swap min(65536, 126*128, 8192) = 8192 MiB
        # spare 126/8 G = 15.75 G = 16515072; rest 124779520, rest_mb 121855 -> 30463.75 + 12288 = 42751.75 MiB
        # root int(42751.75*1024) = 43777792, a4: 10687 * 4096 = 43773952
        # rest 81005568 - 16515072 = 64490496 a4 -> 15744 * 4096 = 64487424; data 64487424 - 2097152 - 4096 = 62386176
        id="128 GiB disk, 64 GiB RAM: swap capped at 8 GiB, spare 15.75 GiB",
    ),
    pytest.param(
        500 * GiB, 65536, {}, 8388608, 100663296, 16777216, 389455872, 3973120, None,
        # os 524288000 - 1049600 = 523238400, hdgb 498; spare 16 G (> 128)
        # rest 514849792, rest_mb 502783 -> 137983.75 MiB, capped at 96 G = 100663296
        # rest 414186496 - 16777216 = 397409280 a4 -> 397406208; meta int(3974062.08) = 3974062 a4 -> 3973120
        # data 397406208 - 7946240 - 4096 = 389455872
        id="500 GiB disk, 64 GiB RAM: root capped at 96 GiB, metadata 1 % of data",
    ),
    pytest.param(
        4096 * GiB, 65536, {}, 8388608, 100663296, 16777216, 4134526976, 16777216, None,
        # os 4294967296 - 1049600 = 4293917696; rest 4285529088; root 96 G
        # rest 4184865792 - 16777216 = 4168088576 a4 -> 4168085504; meta 41680855 -> capped 16 G = 16777216
        # data 4168085504 - 33554432 - 4096 = 4134526976
        id="4 TiB disk: metadata capped at 16 GiB",
    ),
    pytest.param(
        500 * GiB, 4096, {"hdsize": 50}, 4194304, 23588864, 6291456, 15200256, 1048576, None,
        # ESP 1024 from the full 500 GiB; disk = 50 G = 52428800; os 51379200, hdgb 48; swap 4096 MiB
        # spare 48/8 = 6 G = 6291456; rest 47184896, rest_mb 46079 -> 23039 & ~3 = 23036 MiB = 23588864
        # rest 23596032 - 6291456 = 17304576 a4 -> 17301504; data 17301504 - 2097152 - 4096 = 15200256
        id="hdsize 50 on a 500 GiB disk, 4 GiB RAM: sizes from 50 GiB, ESP from the whole disk",
    ),
    pytest.param(
        100 * GiB, 8192, {"swapsize": 4.3, "maxroot": 20, "minfree": 10, "maxvz": 30},
        4508876, 20971520, 10485760, 29356032, 1048576, None,
        # swap int(4.3 G) = int(4508876.8) = 4508876, not aligned; rest 104332288 - 4508876 = 99823412
        # rest_mb 97483 -> 36658.75 MiB, capped by maxroot 20 G = 20971520
        # rest 78851892; minfree 10 G < rest -> 10485760; 68366132 a4 -> 68362240; maxvz 30 G = 31457280 wins
        # meta int(314572.8) -> 1 G; data 31457280 - 2097152 - 4096 = 29356032
        id="user swapsize, maxroot, minfree and maxvz on 100 GiB",
    ),
    pytest.param(
        100 * GiB, 8192, {"minfree": 1000}, 8388608, 36564992, 12976128, 44298240, 1048576, None,
        # minfree 1000 G >= rest (59378688) -> the default spare is used: same as the plain 100 GiB case
        id="minfree larger than what is left falls back to the default spare",
    ),
    pytest.param(
        100 * GiB, 8192, {"maxvz": 4}, 8388608, 36564992, 12976128, 0, 0, SKIP_MAXVZ_LOW,
        # data min(4 G, 46399488) = 4194304, not > 4 G: no pool, maxvz message
        id="maxvz 4 is too low for a thin pool and says so",
    ),
    pytest.param(
        100 * GiB, 8192, {"maxvz": 0}, 8388608, 36564992, 12976128, 0, 0, None,
        id="maxvz 0 skips the thin pool silently",
    ),
    pytest.param(
        32 * GiB, 1024, {"swapsize": 0}, 0, 16510976, 4096, 14409728, 1048576, None,
        # no swap: rest = os 33029120, rest_mb 32255 -> 16127 & ~3 = 16124 MiB = 16510976
        # rest 16518144 - 4096 = 16514048 a4 -> 16510976; data 16510976 - 2097152 - 4096 = 14409728
        id="swapsize 0 means no swap and a bigger root",
    ),
]


@pytest.mark.parametrize(("disk_bytes", "memory", "opts", "swap", "root", "minfree", "data", "meta", "message"),
                         SIZING_CASES)
def test_lvm_sizes_match_the_hand_derivation(disk_bytes: int, memory: int, opts: dict, swap: int, root: int,
                                             minfree: float, data: int, meta: int, message: str | None) -> None:
    hdsize = opts.pop("hdsize", None) if "hdsize" in opts else None
    sizes = lvm_sizes(os_kib(disk_bytes, hdsize), memory, **opts)
    assert (sizes.swap_kib, sizes.root_kib, sizes.minfree_kib, sizes.data_kib, sizes.meta_kib) == (
        swap, root, minfree, data, meta)
    assert sizes.message == message


def test_non_pve_products_give_root_everything_but_swap_and_spare() -> None:
    # 32 GiB, 1 GiB RAM: os 33029120, swap 1048576, spare 4096: root = (33029120 - 1048576 - 4096) a4
    # = 31976448 / 4096 = 7806.75 -> 7806 * 4096 = 31973376; no data LV
    sizes = lvm_sizes(os_kib(32 * GiB, None), 1024, product="pbs")
    assert (sizes.swap_kib, sizes.root_kib, sizes.data_kib) == (1048576, 31973376, 0)


@pytest.mark.parametrize(("memory", "product", "expected"), [
    pytest.param(1024, "pve", 102, id="PVE 1 GiB RAM: 102 MiB"),
    pytest.param(4096, "pve", 410, id="PVE 4 GiB RAM: 409.6 rounds to 410 MiB"),
    pytest.param(8192, "pve", 819, id="PVE 8 GiB RAM: 819 MiB"),
    pytest.param(150 * 1024, "pve", 15360, id="PVE 150 GiB RAM: 15360 MiB"),
    pytest.param(160 * 1024, "pve", 16384, id="PVE 160 GiB RAM: capped at 16384 MiB"),
    pytest.param(512, "pve", 64, id="PVE 512 MiB RAM: at least 64 MiB"),
    pytest.param(4096, "pbs", 2048, id="PBS 4 GiB RAM: half"),
    pytest.param(8192, "pbs", 4096, id="PBS 8 GiB RAM: half"),
    pytest.param(1024 * 1024, "pbs", 524288, id="PBS 1 TiB RAM: half, no cap"),
    pytest.param(2048, "pmg", 205, id="PMG below 4 GiB RAM: the 10 % rule (204.8 -> 205)"),
])
def test_default_arc_max(memory: int, product: str, expected: int) -> None:
    assert default_arc_max_mib(memory, product) == expected


@pytest.mark.parametrize(("value", "memory", "expected"), [
    pytest.param(0, 8192, 0, id="0 keeps ZFS's own default"),
    pytest.param(2048, 257597, 2048, id="2048 on 251 GiB RAM stays"),
    pytest.param(2048, 2048, 1024, id="2048 on 2 GiB RAM: at most RAM - 1 GiB"),
    pytest.param(100, 1024, 64, id="1 GiB RAM leaves nothing: at least 64 MiB"),
])
def test_effective_arc_max(value: int, memory: int, expected: int) -> None:
    assert effective_arc_max_mib(value, memory) == expected
