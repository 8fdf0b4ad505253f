"""A plan for every accepted answer of the Proxmox compat corpus on its fixture server, and for Keel's examples.

Two routes per corpus answer: the disk choices Proxmox itself derived (NAME.json: `filesys`, `disk_selection`
by disk index or `target_hd`, `hdsize`, `zfs_opts`, `btrfs_opts`) turned into a DiskSetup by hand here, and,
where the answer-file package is present, Keel's own reading of NAME.toml. Both must plan, identically.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import compat_dir

from installer.core.config import BtrfsOptions, BtrfsRaid, DiskSetup, Filesystem, LvmOptions, ZfsOptions, ZfsRaid
from installer.core.hardware import HardwareProfile
from installer.storage.plan import StoragePlan, plan
from installer.storage.plan.table import format_plan
from keel_testing.builders import config

ANSWERS = sorted((compat_dir() / "parse_answer").glob("*.toml"))
EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "answerfile" / "examples"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.toml"))


def fixture_hardware(answer: Path) -> HardwareProfile:
    from installer.hardware.pve_env import load_pve_env

    base = answer.parent.parent
    override = answer.with_suffix(".run-env.json")
    return load_pve_env(base / "run-env-info.json", base / "run-env-udev.json",
                        override if override.is_file() else None)


def setup_from_proxmox(expected: dict, hardware: HardwareProfile) -> DiskSetup:
    """The DiskSetup matching what Proxmox's installer derived from the answer (its low-level config)."""
    fs_text, _, level = expected["filesys"].partition(" ")
    fs = Filesystem(fs_text)
    hdsize = expected.get("hdsize")
    if fs.uses_lvm:
        return DiskSetup(fs, (expected["target_hd"],), lvm=LvmOptions(hdsize=hdsize))
    by_index = {d.index: d.path for d in hardware.disks}
    paths = tuple(by_index[int(i)] for i in expected["disk_selection"])
    raid = level.strip("()")
    if fs == Filesystem.ZFS:
        z = expected["zfs_opts"]
        return DiskSetup(fs, paths, zfs=ZfsOptions(ZfsRaid(raid), ashift=z["ashift"], compress=z["compress"],
                                                  checksum=z["checksum"], copies=z["copies"],
                                                  arc_max_mib=z["arc_max"], hdsize=hdsize))
    return DiskSetup(fs, paths, btrfs=BtrfsOptions(BtrfsRaid(raid), compress=expected["btrfs_opts"]["compress"],
                                                   hdsize=hdsize))


def test_the_corpus_is_there_to_test(pve_compat: Path) -> None:
    assert len(ANSWERS) >= 19


@pytest.mark.parametrize("answer", ANSWERS, ids=[f"corpus answer {a.stem} plans on its fixture" for a in ANSWERS])
def test_proxmox_derived_choices_plan_on_the_fixture_server(answer: Path) -> None:
    hardware = fixture_hardware(answer)
    expected = json.loads(answer.with_suffix(".json").read_text())
    setup = setup_from_proxmox(expected, hardware)
    result = plan(config(setup), hardware)
    assert str(result.filesystem) == setup.filesystem
    assert [d.path for d in result.disks] == list(setup.disks)
    hdsize = expected["hdsize"]
    for d in result.disks:
        last = d.partitions[-1]
        if hdsize * 1024**3 < d.size_bytes:
            # partition 3 ends at hdsize, counted in whole MiB (80 GiB -> sector 80*1024*2048 - 1 on 512 B sectors)
            assert (last.end_sector + 1) * d.logical_block_size == int(hdsize * 1024) * 1024**2
        assert last.type == {"ext4": "lvm", "xfs": "lvm", "zfs": "zfs", "btrfs": "btrfs"}[setup.filesystem]
    assert format_plan(result)
    assert StoragePlan.from_data(json.loads(result.to_json())) == result


@pytest.mark.parametrize("answer", ANSWERS,
                         ids=[f"Keel reads corpus answer {a.stem} to the same plan" for a in ANSWERS])
def test_keels_reading_of_the_answer_plans_the_same(answer: Path) -> None:
    answerfile = pytest.importorskip("answerfile")
    hardware = fixture_hardware(answer)
    keel = plan(answerfile.load_install_config(answer, hardware), hardware)
    proxmox = plan(config(setup_from_proxmox(json.loads(answer.with_suffix(".json").read_text()), hardware)),
                   hardware)
    assert keel.disks == proxmox.disks
    assert (keel.lvm, keel.zfs, keel.btrfs, keel.storage) == (proxmox.lvm, proxmox.zfs, proxmox.btrfs, proxmox.storage)


def test_zfs_raid1_answer_matches_its_hand_derived_layout(pve_compat: Path) -> None:
    # zfs.toml: RAID1 on sda, sdb (240 GB, 512 B sectors, > 100 GiB so a 1 GiB ESP), hdsize 80,
    # lz4, copies 2, arc-max 2048 (below 251 GiB RAM - 1 GiB)
    answer = pve_compat / "parse_answer" / "zfs.toml"
    hardware = fixture_hardware(answer)
    result = plan(config(setup_from_proxmox(json.loads(answer.with_suffix(".json").read_text()), hardware)),
                  hardware)
    for d in result.disks:
        assert [(p.number, p.start_sector, p.end_sector) for p in d.partitions] == [
            (1, 34, 2047), (2, 2048, 2099199), (3, 2099200, 80 * 1024 * 2048 - 1)]
    assert result.zfs.vdevs[0].type == "mirror"
    assert result.zfs.vdevs[0].devices == (
        "/dev/disk/by-id/ata-SAMSUNG_MZ7KM240HAGR-00005_S2HRNX0J403550-part3",
        "/dev/disk/by-id/ata-SAMSUNG_MZ7KM240HAGR-00005_S2HRNX0J403335-part3",
    )
    assert (result.zfs.compress, result.zfs.copies, result.zfs.arc_max_mib) == ("lz4", 2, 2048)


def test_raid10_over_4kn_and_512_byte_disks_pairs_in_selection_order(pve_compat: Path) -> None:
    # disk_match_any: indices 0-3 (4Kn NVMe) and 6-9 (SATA), pairs (0,1) (2,3) (6,7) (8,9)
    answer = pve_compat / "parse_answer" / "disk_match_any.toml"
    hardware = fixture_hardware(answer)
    result = plan(config(setup_from_proxmox(json.loads(answer.with_suffix(".json").read_text()), hardware)),
                  hardware)
    pairs = [tuple(dev.split("/")[-1][:22] for dev in v.devices) for v in result.zfs.vdevs]
    assert [v.type for v in result.zfs.vdevs] == ["mirror"] * 4
    assert pairs[2] == ("ata-SAMSUNG_MZ7KM240HA", "ata-SAMSUNG_MZ7KM240HA")
    assert [p.number for p in result.disks[0].partitions] == [2, 3]     # 4Kn: no BIOS boot partition
    assert [p.number for p in result.disks[4].partitions] == [1, 2, 3]


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example answer {e.stem} plans" for e in EXAMPLES])
def test_each_example_answer_plans_on_the_example_server(example: Path) -> None:
    answerfile = pytest.importorskip("answerfile")
    hardware = HardwareProfile.load(EXAMPLES_DIR / "hardware" / "example-server.json")
    result = plan(answerfile.load_install_config(example, hardware), hardware)
    assert result.disks and format_plan(result)
