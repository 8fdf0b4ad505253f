"""What `keel-answer validate` accepts, `keel-installer plan` can make: both take the size ranges, the room a root
file system needs (rules.MIN_ROOT_BYTES) and the supported sector sizes from installer.core.rules."""

from __future__ import annotations

from dataclasses import replace

import pytest

import answerfile
from answerfile import schema
from installer.core import rules
from installer.core.config import BtrfsRaid, ZfsRaid
from installer.storage.plan import PlanError, plan
from keel_testing.builders import GiB, MiB, btrfs_setup, config, disk, hardware, lvm_setup, zfs_setup
from keel_testing.compat import EXAMPLES, example_server

MINIMAL = (EXAMPLES / "minimal-ext4.toml").read_text()
SERVER = example_server()


def machine(*disks):
    """The builders' machine with these disks and the example server's NICs, for a DHCP answer."""
    return replace(hardware(*disks), nics=SERVER.nics, network=SERVER.network)


def answer(disk_setup: str) -> str:
    return MINIMAL.replace('filesystem = "ext4"\ndisk-list = ["sda"]', disk_setup)


def validate(text: str, machine=None, *, interactive: bool = False) -> list[str]:
    return [str(p) for p in answerfile.validate_text(text, machine, unattended=not interactive)[0]]


def refusals(setup, *disks, unattended: bool = True, **machine) -> list[str]:
    with pytest.raises(PlanError) as err:
        plan(config(setup, unattended=unattended), hardware(*disks, **machine))
    return err.value.problems


@pytest.mark.parametrize(("table", "key"), [(t, k) for t in ("lvm", "zfs", "btrfs")
                                            for k in ("hdsize", "swapsize", "maxroot", "minfree", "maxvz")
                                            if schema.section("disk-setup").child(t).child(k)]
                         + [(None, "filter-size-min"), (None, "filter-size-max")],
                         ids=lambda v: v or "disk-setup")
def test_every_size_option_of_the_schema_has_the_planners_range(table, key) -> None:
    setup = schema.section("disk-setup")
    spec = (setup.child(table) if table else setup).child(key)
    assert (spec.minimum, spec.maximum) == rules.SIZE_GIB[key]


@pytest.mark.parametrize(("option", "value", "message"), [
    pytest.param("hdsize", "1e308", "must be at most 8589934592, got 1e+308", id="hdsize 1e308"),
    pytest.param("hdsize", "1.5", "must be at least 2, got 1.5", id="hdsize 1.5"),
    pytest.param("maxroot", "1e-300", "must be 0 (the default) or at least 4 GiB, the root file system the "
                 "installed system needs, got 1e-300", id="maxroot 1e-300"),
    pytest.param("maxroot", "0.004", "must be 0 (the default) or at least 4 GiB, the root file system the "
                 "installed system needs, got 0.004", id="maxroot of 4 MiB (planned a 4 MiB root LV)"),
    pytest.param("minfree", "1e20", "must be at most 8589934592, got 1e+20", id="minfree 1e20"),
])
def test_a_size_out_of_range_is_refused_offline_and_by_the_planner_alike(option, value, message) -> None:
    assert validate(answer(f'filesystem = "ext4"\ndisk-list = ["sda"]\nlvm.{option} = {value}')) == [
        f"disk-setup.lvm.{option}: {message}"]
    key = "disk-setup.hdsize" if option == "hdsize" else f"disk-setup.lvm.{option}"
    assert f"{key}: {message}" in refusals(lvm_setup(**{option: float(value)}), disk("sda", 32))


@pytest.mark.parametrize("value", ["1e308", "1.5"], ids=["1e308", "1.5"])
@pytest.mark.parametrize("fs", ["zfs", "btrfs"])
def test_zfs_and_btrfs_hdsize_have_the_same_range(fs, value) -> None:
    (problem,) = validate(answer(f'filesystem = "{fs}"\n{fs}.raid = "raid0"\ndisk-list = ["sda"]\n'
                                 f"{fs}.hdsize = {value}"))
    assert problem.startswith(f"disk-setup.{fs}.hdsize: must be at")
    setup = (zfs_setup(ZfsRaid.RAID0, "/dev/sda", hdsize=float(value)) if fs == "zfs"
             else btrfs_setup(BtrfsRaid.RAID0, "/dev/sda", hdsize=float(value)))
    assert problem.replace(f"{fs}.", "", 1) in refusals(setup, disk("sda", 32))


@pytest.mark.parametrize("value", [float("-inf"), float("inf"), float("nan")], ids=str)
def test_an_hdsize_that_is_not_a_number_is_one_problem_for_the_planner(value) -> None:
    # -inf reached int() in the disk-size rules: OverflowError
    assert refusals(lvm_setup(hdsize=value), disk("sda", 32)) == [
        f"disk-setup.hdsize: expected a finite number, got {value}"]


def test_the_largest_disk_a_profile_can_hold_is_planned_as_validated() -> None:
    # 2**63 - 1 bytes: the hdsize resolved from it (8 EiB) was beyond a 1 EiB maximum the planner refused
    machine_ = machine(disk("sda", 0, extra_bytes=2**63 - 1))
    text = answer('filesystem = "zfs"\nzfs.raid = "raid0"\ndisk-list = ["sda"]')
    assert validate(text, machine_) == []
    assert plan(answerfile.resolve_text(text, machine_).config, machine_).zfs is not None


def test_maxroot_0_is_the_default_for_both() -> None:
    assert validate(answer('filesystem = "ext4"\ndisk-list = ["sda"]\nlvm.maxroot = 0')) == []
    root = plan(config(lvm_setup(maxroot=0)), hardware(disk("sda", 1000))).lvm.lv("root")
    assert root.size_bytes == 96 * GiB


SWAP_TOO_LARGE = "Swap size 4 GiB leaves less than 4 GiB for the root volume on 8 GiB (at most 2.98 GiB of swap fit)"


def test_swap_that_leaves_root_too_little_is_refused_offline_with_hardware_and_by_the_planner() -> None:
    # 8 GiB - at most 1025 MiB of ESP and gap - 16 MiB of LVM overhead - 4 GiB of root = 3055 MiB = 2.98 GiB
    text = answer('filesystem = "ext4"\ndisk-list = ["sda"]\nlvm.swapsize = 4')
    assert validate(text.replace("lvm.swapsize", "lvm.hdsize = 8\nlvm.swapsize")) == [
        f"disk-setup.lvm.swapsize: {SWAP_TOO_LARGE}"]
    assert validate(text, machine(disk("sda", 8))) == [f"disk-setup.lvm.swapsize: {SWAP_TOO_LARGE}"]
    assert refusals(lvm_setup(swapsize=4), disk("sda", 8)) == [SWAP_TOO_LARGE]
    assert validate(text.replace("swapsize = 4", "swapsize = 2.98"), machine(disk("sda", 8))) == []
    assert plan(config(lvm_setup(swapsize=2.98)), hardware(disk("sda", 8))).lvm.lv("root").size_bytes >= 4 * GiB


def test_swap_is_checked_against_the_disk_when_hdsize_is_larger() -> None:
    text = answer('filesystem = "ext4"\ndisk-list = ["sda"]\nlvm.hdsize = 100\nlvm.swapsize = 10')
    message = "Swap size 10 GiB cannot be greater than 8 GiB (hard disk size / 2)"
    assert refusals(lvm_setup(hdsize=100, swapsize=10), disk("sda", 16)) == [message]
    assert validate(text, machine(disk("sda", 16))) == [f"disk-setup.lvm.swapsize: {message}"]


@pytest.mark.parametrize(("disk_setup", "size_gib", "message"), [
    # partition 3: 4.4 GiB less 1 MiB and the 512 MiB ESP, to the MiB: 3.89 GiB
    pytest.param('filesystem = "zfs"\nzfs.raid = "raid0"\ndisk-list = ["sda"]', 4.4,
                 "disk sda is too small for the root file system: partition 3 would have 3.89 GiB, at least 4 GiB "
                 "needed (the installed system takes about 3 GiB)", id="ZFS on a 4.4 GiB disk"),
    # hdsize 4.7 (fine offline: 4.2 GiB beside a 512 MiB ESP) on a disk over 100 GiB: 4812 MiB - 1 MiB - 1024 MiB
    # of ESP = 3787 MiB = 3.69 GiB
    pytest.param('filesystem = "btrfs"\nbtrfs.raid = "raid0"\ndisk-list = ["sda"]\nbtrfs.hdsize = 4.7', 200,
                 "disk sda is too small for the root file system: partition 3 would have 3.69 GiB, at least 4 GiB "
                 "needed (the installed system takes about 3 GiB)", id="Btrfs with hdsize 4.7 on 200 GiB"),
    # LVM: swap by default takes up to 1/8, LVM 16 MiB: (4 GiB + 16 MiB) * 8 / 7 = 4.59 GiB
    pytest.param('filesystem = "ext4"\ndisk-list = ["sda"]', 5,
                 "disk sda is too small for the root volume and swap: partition 3 would have 4.49 GiB, at least "
                 "4.59 GiB needed (the installed system takes about 3 GiB)", id="ext4 on a 5 GiB disk"),
])
def test_a_disk_too_small_for_the_root_file_system_is_refused_by_both(disk_setup, size_gib, message) -> None:
    assert validate(answer(disk_setup), machine(disk("sda", size_gib)), interactive=True) == [
        f"disk-setup.disk-list: {message}"]
    setup = {"zfs": zfs_setup(ZfsRaid.RAID0, "/dev/sda"), "btrfs": btrfs_setup(BtrfsRaid.RAID0, "/dev/sda", hdsize=4.7),
             "ext4": lvm_setup()}[disk_setup.split('"')[1]]
    assert refusals(setup, disk("sda", size_gib), unattended=False) == [message]


@pytest.mark.parametrize(("fs", "hdsize", "message"), [
    # partition 3 beside the smaller ESP: 4.5 GiB - 513 MiB = 4095 MiB
    pytest.param("zfs", 4.5, "4.5 GiB is too small for the root file system: partition 3 would have 3.99 GiB, at "
                 "least 4 GiB needed (the installed system takes about 3 GiB)", id="ZFS hdsize 4.5"),
    pytest.param("lvm", 5, "5 GiB is too small for the root volume and swap: partition 3 would have 4.49 GiB, at "
                 "least 4.59 GiB needed (the installed system takes about 3 GiB)", id="LVM hdsize 5"),
])
def test_an_hdsize_too_small_on_any_disk_is_refused_offline(fs, hdsize, message) -> None:
    table = 'filesystem = "ext4"' if fs == "lvm" else f'filesystem = "{fs}"\n{fs}.raid = "raid0"'
    assert validate(answer(f'{table}\ndisk-list = ["sda"]\n{fs}.hdsize = {hdsize}')) == [
        f"disk-setup.{fs}.hdsize: {message}"]
    assert validate(answer(f'{table}\ndisk-list = ["sda"]\n{fs}.hdsize = {hdsize + 0.2}')) == []


def test_a_root_volume_below_4_gib_is_refused_by_the_planner_naming_the_size() -> None:
    # PBS (no thin pool): root is what swap and minfree leave. 8 GiB: 7679 MiB for the VG's sizes, 896 MiB of
    # swap (7 GiB * 128), 4 GiB minfree: root 2687 MiB, aligned down to 4 MiB: 2684 MiB
    with pytest.raises(PlanError) as err:
        plan(config(lvm_setup(minfree=4), product="pbs"), hardware(disk("sda", 8)))
    assert err.value.problems == ["disk sda: the root volume would have 2684 MiB, at least 4096 MiB (4 GiB) needed "
                                  "for the installed system: lower swapsize or minfree, or use a larger disk or hdsize"]


@pytest.mark.parametrize("sector", [1024 * 1024, 1024, 2048, 8192])
def test_an_unsupported_sector_size_is_refused_by_both(sector) -> None:
    message = (f"disk sda has {sector}-byte logical sectors; Keel installs to disks with 512 or 4096-byte sectors "
               "only")
    assert validate(MINIMAL, machine(disk("sda", 32, sector=sector))) == [f"disk-setup.disk-list: {message}"]
    assert refusals(lvm_setup(), disk("sda", 32, sector=sector)) == [message]


@pytest.mark.parametrize("sector", [512, 4096])
def test_512_and_4096_byte_sectors_are_planned(sector) -> None:
    assert validate(MINIMAL, machine(disk("sda", 32, sector=sector))) == []
    esp = plan(config(lvm_setup()), hardware(disk("sda", 32, sector=sector))).disks[0].partition(2)
    assert esp.start_sector * sector == 1 * MiB


def test_without_a_thin_pool_root_gives_up_the_extents_the_vg_lacks() -> None:
    # 9237466624 bytes = 18041927 sectors: partition 3 from 513 MiB to 8809 MiB (the last whole MiB before the
    # backup GPT) = 8296 MiB, VG 8292 MiB. Swap 0.59 GiB = 618659 KiB -> 152 extents (608 MiB); Proxmox's root
    # (from the 8.6 GiB before the partition's rounding) would need one extent more than the 7684 MiB left.
    result = plan(config(lvm_setup(swapsize=0.59)), hardware(disk("sda", 0, extra_bytes=9237466624)))
    assert result.lvm.lv("root").size_bytes == 7684 * MiB
    assert result.lvm.free_bytes == 0
    assert "root volume reduced by 4 MiB to fit VG 'pve' (8292 MiB after LVM metadata)" in result.warnings
