"""Whole plans: mounts, fstab, kernel root=, storage.cfg, ZFS/Btrfs topology, UUIDs, refusals and the JSON shape."""

from __future__ import annotations

import json

import jsonschema
import pytest

from installer.core.config import BtrfsRaid, DiskSetup, Filesystem, ZfsRaid
from installer.installed_system.render.fstab import fstab_line, render_fstab
from installer.installed_system.render.pve import render_storage_cfg
from installer.storage.apply.zfs import vdev_args
from installer.storage.plan import Dataset, PlanError, StoragePlan, Vdev, plan
from installer.storage.plan.sizing import SKIP_LOW_SPACE
from keel_testing.builders import btrfs_setup, config, disk, hardware, lvm_setup, zfs_setup

FOUR = ("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd")


def four_disks(**kw):
    return [disk(p.removeprefix("/dev/"), 32, **kw) for p in FOUR]


def test_ext4_on_efi_mounts_root_esp_swap_and_proc_in_that_order() -> None:
    result = plan(config(lvm_setup()), hardware(disk("sda", 100), boot_mode="efi"))
    esp = result.fs_uuids["esp:/dev/sda"]
    assert render_fstab(result) == (
        "# <file system> <mount point> <type> <options> <dump> <pass>\n"
        "/dev/pve/root / ext4 errors=remount-ro 0 1\n"
        f"UUID={esp} /boot/efi vfat defaults 0 1\n"
        "/dev/pve/swap none swap sw 0 0\n"
        "proc /proc proc defaults 0 0\n"
    )
    assert result.kernel_root == "root=/dev/mapper/pve-root"
    assert render_storage_cfg(result.storage) == (
        "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup,import\n\n"
        "lvmthin: local-lvm\n\tthinpool data\n\tvgname pve\n\tcontent rootdir,images\n\n"
    )


def test_xfs_on_bios_has_no_esp_mount_and_defaults_options() -> None:
    result = plan(config(lvm_setup(fs=Filesystem.XFS)), hardware(disk("sda", 100), boot_mode="bios"))
    assert [fstab_line(m) for m in result.mounts] == [
        "/dev/pve/root / xfs defaults 0 1", "/dev/pve/swap none swap sw 0 0", "proc /proc proc defaults 0 0"]


def test_without_swap_there_is_no_swap_lv_and_no_swap_line() -> None:
    result = plan(config(lvm_setup(swapsize=0)), hardware(disk("sda", 32), boot_mode="bios"))
    assert [lv.name for lv in result.lvm.lvs] == ["root", "data"]
    assert all(m.fstype != "swap" for m in result.mounts)


def test_a_12_gib_disk_has_no_thin_pool_and_local_holds_all_content() -> None:
    result = plan(config(lvm_setup()), hardware(disk("sda", 12), memory_mib=2048))
    assert [lv.name for lv in result.lvm.lvs] == ["swap", "root"]
    assert SKIP_LOW_SPACE in result.warnings
    assert render_storage_cfg(result.storage) == (
        "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup,rootdir,images,import\n\n")


def test_the_lvm_plan_carries_the_hand_derived_sizes_in_bytes() -> None:
    # 32 GiB, 1 GiB RAM (see test_sizing): swap 1048576 KiB, root 15986688 KiB, data 13885440 KiB, meta 1 GiB
    result = plan(config(lvm_setup()), hardware(disk("sda", 32), memory_mib=1024))
    assert [(lv.name, lv.size_bytes, lv.thin_pool, lv.metadata_bytes) for lv in result.lvm.lvs] == [
        ("swap", 1048576 * 1024, False, 0),
        ("root", 15986688 * 1024, False, 0),
        ("data", 13885440 * 1024, True, 1048576 * 1024),
    ]
    assert result.lvm.pvs == ("/dev/sda3",) and result.lvm.vg == "pve"


def test_zfs_raid10_pairs_disks_in_selection_order() -> None:
    disks = four_disks()
    result = plan(config(zfs_setup(ZfsRaid.RAID10, "/dev/sdc", "/dev/sda", "/dev/sdd", "/dev/sdb")),
                  hardware(*disks))
    assert result.zfs.vdevs == (Vdev("mirror", ("/dev/sdc3", "/dev/sda3")), Vdev("mirror", ("/dev/sdd3", "/dev/sdb3")))
    assert vdev_args(result.zfs) == ["mirror", "/dev/sdc3", "/dev/sda3", "mirror", "/dev/sdd3", "/dev/sdb3"]


@pytest.mark.parametrize(("raid", "count", "vdev_type"), [
    pytest.param(ZfsRaid.RAID0, 2, "stripe", id="RAID0 is one stripe"),
    pytest.param(ZfsRaid.RAID1, 3, "mirror", id="RAID1 is one mirror of all disks"),
    pytest.param(ZfsRaid.RAIDZ1, 3, "raidz1", id="RAIDZ-1 on 3 disks"),
    pytest.param(ZfsRaid.RAIDZ2, 4, "raidz2", id="RAIDZ-2 on 4 disks"),
    pytest.param(ZfsRaid.RAIDZ3, 5, "raidz3", id="RAIDZ-3 on 5 disks"),
])
def test_zfs_levels_make_one_vdev(raid: ZfsRaid, count: int, vdev_type: str) -> None:
    disks = [disk(f"sd{chr(97 + i)}", 32) for i in range(count)]
    result = plan(config(zfs_setup(raid, *[d.path for d in disks])), hardware(*disks))
    assert [(v.type, len(v.devices)) for v in result.zfs.vdevs] == [(vdev_type, count)]


def test_zfs_pool_properties_datasets_and_mounts() -> None:
    disks = four_disks()
    result = plan(config(zfs_setup(ZfsRaid.RAID1, "/dev/sda", "/dev/sdb", ashift=13, compress="lz4",
                                   checksum="sha256", copies=2, arc_max_mib=2048)),
                  hardware(*disks, memory_mib=8192))
    zfs = result.zfs
    assert (zfs.pool, zfs.ashift, zfs.compress, zfs.checksum, zfs.copies, zfs.arc_max_mib) == (
        "rpool", 13, "lz4", "sha256", 2, 2048)
    assert zfs.pool_properties == {"cachefile": "none", "ashift": "13"}
    assert zfs.root_properties == {"atime": "on", "relatime": "on", "compression": "lz4", "checksum": "sha256",
                                   "copies": "2"}
    assert zfs.datasets == (
        Dataset("rpool/ROOT", None, {}),
        Dataset("rpool/ROOT/pve-1", "/", {"acltype": "posix"}),
        Dataset("rpool/data", None, {}),
        Dataset("rpool/var-lib-vz", "/var/lib/vz", {}),
    )
    assert [(m.source, m.target, m.in_fstab) for m in result.mounts] == [
        ("rpool/ROOT/pve-1", "/", False), ("rpool/var-lib-vz", "/var/lib/vz", False), ("proc", "/proc", True)]
    assert result.kernel_root == "root=ZFS=rpool/ROOT/pve-1 boot=zfs"
    assert "root" not in result.fs_uuids
    assert render_storage_cfg(result.storage).endswith(
        "zfspool: local-zfs\n\tpool rpool/data\n\tsparse\n\tcontent images,rootdir\n\n")


def test_zfs_defaults_leave_checksum_and_copies_unset() -> None:
    result = plan(config(zfs_setup(ZfsRaid.RAID0, "/dev/sda")), hardware(disk("sda", 32)))
    assert result.zfs.root_properties == {"atime": "on", "relatime": "on", "compression": "on"}


def test_zfs_arc_max_is_held_below_ram_minus_1_gib() -> None:
    result = plan(config(zfs_setup(ZfsRaid.RAID0, "/dev/sda", arc_max_mib=4096)),
                  hardware(disk("sda", 32), memory_mib=2048))
    assert result.zfs.arc_max_mib == 1024


def test_zfs_vdevs_use_by_id_partition_links_when_udev_knows_them() -> None:
    from dataclasses import replace
    links = ("/dev/disk/by-id/wwn-0x5002538c405dbf10 /dev/disk/by-id/ata-SAMSUNG_X_S1 "
             "/dev/disk/by-path/pci-0000:05:00.0-sas-phy0-lun-0")
    sda = replace(disk("sda", 32), udev={"DEVLINKS": links})
    result = plan(config(zfs_setup(ZfsRaid.RAID0, "/dev/sda")), hardware(sda))
    assert result.disks[0].by_id == "/dev/disk/by-id/ata-SAMSUNG_X_S1"
    assert result.zfs.vdevs[0].devices == ("/dev/disk/by-id/ata-SAMSUNG_X_S1-part3",)


@pytest.mark.parametrize(("compress", "options"), [
    pytest.param("off", "defaults", id="btrfs compress off: plain defaults"),
    pytest.param("on", "defaults,compress", id="btrfs compress on: bare compress (zlib)"),
    pytest.param("zstd", "defaults,compress=zstd", id="btrfs compress zstd: compress=zstd"),
    pytest.param("lzo", "defaults,compress=lzo", id="btrfs compress lzo: compress=lzo"),
])
def test_btrfs_compress_becomes_mount_options(compress: str, options: str) -> None:
    disks = four_disks()
    result = plan(config(btrfs_setup(BtrfsRaid.RAID1, "/dev/sda", "/dev/sdb", compress=compress)), hardware(*disks))
    uuid = result.fs_uuids["root"]
    assert fstab_line(result.mounts[0]) == f"UUID={uuid} / btrfs {options} 0 1"
    assert result.kernel_root == f"root=UUID={uuid}"


def test_btrfs_raid10_plan_and_storage() -> None:
    result = plan(config(btrfs_setup(BtrfsRaid.RAID10, *FOUR)), hardware(*four_disks()))
    b = result.btrfs
    assert (b.data_profile, b.metadata_profile, b.devices) == (
        "raid10", "raid10", ("/dev/sda3", "/dev/sdb3", "/dev/sdc3", "/dev/sdd3"))
    assert b.subvolumes == ("var/lib/pve/local-btrfs",)
    assert render_storage_cfg(result.storage) == (
        "dir: local\n\tpath /var/lib/vz\n\tcontent iso,vztmpl,backup,import\n\tdisable\n\n"
        "btrfs: local-btrfs\n\tpath /var/lib/pve/local-btrfs\n\tcontent iso,vztmpl,backup,images,rootdir,import\n\n"
    )


def test_single_disk_btrfs_raid0_is_raid0() -> None:
    result = plan(config(btrfs_setup(BtrfsRaid.RAID0, "/dev/sda")), hardware(disk("sda", 32)))
    assert (result.btrfs.data_profile, result.btrfs.metadata_profile) == ("raid0", "raid0")


def test_uuids_are_deterministic_and_the_callers_win() -> None:
    hw = hardware(disk("sda", 32))
    first = plan(config(lvm_setup()), hw)
    assert first.fs_uuids == plan(config(lvm_setup()), hw).fs_uuids
    given = {"root": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "esp:/dev/sda": "abcd-1234"}
    chosen = plan(config(lvm_setup()), hw, uuids=given).fs_uuids
    assert chosen == {"root": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", "esp:/dev/sda": "ABCD-1234"}


def test_a_malformed_esp_id_is_refused_naming_the_key() -> None:
    with pytest.raises(PlanError, match=r"uuids\.esp:/dev/sda: 'nope' is not a vfat volume id"):
        plan(config(lvm_setup()), hardware(disk("sda", 32)), uuids={"esp:/dev/sda": "nope"})


REFUSALS = [
    pytest.param(zfs_setup(ZfsRaid.RAID10, "/dev/sda", "/dev/sdb", "/dev/sdc"), four_disks(), "efi",
                 "ZFS RAID10 needs at least 4 disks, got 3", id="ZFS RAID10 on 3 disks"),
    pytest.param(zfs_setup(ZfsRaid.RAIDZ3, *FOUR), four_disks(), "efi",
                 "ZFS RAIDZ-3 needs at least 5 disks, got 4", id="RAIDZ-3 on 4 disks"),
    pytest.param(btrfs_setup(BtrfsRaid.RAID1, "/dev/sda"), four_disks(), "efi",
                 "Btrfs RAID1 needs at least 2 disks, got 1", id="Btrfs RAID1 on one disk"),
    pytest.param(DiskSetup(Filesystem.EXT4, ("/dev/sda", "/dev/sdb")), four_disks(), "efi",
                 "ext4 installs on exactly one disk, got 2", id="ext4 on two disks"),
    pytest.param(lvm_setup("/dev/sda"), [disk("sda", 32, sector=4096)], "bios",
                 "Booting from 4Kn drive in legacy BIOS mode is not supported: sda has 4096-byte logical sectors",
                 id="4Kn disk with legacy BIOS"),
    pytest.param(lvm_setup("/dev/sda"), [disk("sda", 1.5)], "efi",
                 "disk sda is too small: 1 GiB usable, at least 2 GiB needed", id="a 1.5 GiB disk"),
    pytest.param(lvm_setup("/dev/sda"), [disk("sda", 6)], "efi",
                 "disk sda is too small for an unattended install: 6 GiB usable, 8 GiB recommended "
                 "(only an interactive install can accept less)", id="6 GiB unattended"),
    pytest.param(lvm_setup("/dev/sda", swapsize=20), [disk("sda", 32)], "efi",
                 "Swap size 20 GiB cannot be greater than 16 GiB (hard disk size / 2)", id="swap over half the disk"),
    pytest.param(lvm_setup("/dev/sdx"), [disk("sda", 32)], "efi",
                 "disk /dev/sdx is not present on this machine", id="a disk that is not there"),
    pytest.param(DiskSetup(Filesystem.ZFS, ("/dev/sda",)), [disk("sda", 32)], "efi",
                 "disk-setup.zfs.raid: a ZFS install needs a RAID level", id="ZFS without options"),
    pytest.param(zfs_setup(ZfsRaid.RAID1, "/dev/sda", "/dev/sdb"), [disk("sda", 32), disk("sdb", 40)], "efi",
                 "mirrored disks must have about the same size (within 10 %): sda has 32 GiB, sdb has 40 GiB",
                 id="mirror of 32 and 40 GiB"),
]


@pytest.mark.parametrize(("setup", "disks", "boot", "message"), REFUSALS)
def test_bad_combinations_are_refused_with_one_clear_line(setup, disks, boot, message) -> None:
    with pytest.raises(PlanError) as err:
        plan(config(setup), hardware(*disks, boot_mode=boot))
    assert err.value.problems == [message]
    assert str(err.value) == message


def test_a_6_gib_disk_is_only_a_warning_when_someone_is_at_the_console() -> None:
    result = plan(config(lvm_setup(), unattended=False), hardware(disk("sda", 6)))
    assert any("below the recommended minimum of 8 GiB" in w for w in result.warnings)


def test_non_pve_products_get_no_data_volume_no_storage_cfg_and_their_own_vg() -> None:
    result = plan(config(lvm_setup(), product="pbs"), hardware(disk("sda", 32)))
    assert result.lvm.vg == "pbs" and [lv.name for lv in result.lvm.lvs] == ["swap", "root"]
    assert result.storage == () and result.kernel_root == "root=/dev/mapper/pbs-root"


ISSUE_SHAPE = {
    "type": "object",
    "required": ["filesystem", "disks", "lvm", "zfs", "btrfs", "mounts", "destroy", "rename", "warnings"],
    "properties": {
        "filesystem": {"enum": ["ext4", "xfs", "zfs", "btrfs"]},
        "disks": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["path", "logical_block_size", "size_bytes", "partitions"],
            "properties": {"partitions": {"type": "array", "items": {
                "type": "object",
                "required": ["number", "type", "start_sector", "end_sector", "size_bytes"],
                "properties": {"type": {"enum": ["bios-boot", "esp", "lvm", "zfs", "btrfs"]},
                               "start_sector": {"type": "integer"}, "end_sector": {"type": "integer"},
                               "size_bytes": {"type": "integer"}}}}}}},
        "lvm": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["vg", "pvs", "lvs", "free_bytes"],
            "properties": {"lvs": {"type": "array", "items": {
                "type": "object", "required": ["name", "size_bytes", "thin_pool", "metadata_bytes"],
                "properties": {"name": {"enum": ["swap", "root", "data"]}, "size_bytes": {"type": "integer"}}}}}}]},
        "zfs": {"oneOf": [{"type": "null"}, {
            "type": "object",
            "required": ["pool", "vdevs", "ashift", "compress", "checksum", "copies", "arc_max_mib", "datasets"],
            "properties": {"vdevs": {"type": "array", "items": {
                "type": "object", "required": ["type", "devices"],
                "properties": {"type": {"enum": ["stripe", "mirror", "raidz1", "raidz2", "raidz3"]}}}},
                "datasets": {"type": "array", "items": {
                    "type": "object", "required": ["name", "mountpoint", "properties"]}}}}]},
        "btrfs": {"oneOf": [{"type": "null"}, {
            "type": "object", "required": ["data_profile", "metadata_profile", "devices", "mount_options"]}]},
        "mounts": {"type": "array", "items": {"type": "object",
                                              "required": ["source", "target", "fstype", "options"]}},
        "destroy": {"type": "array"}, "rename": {"type": "array"}, "warnings": {"type": "array"},
    },
}


@pytest.mark.parametrize("setup", [
    pytest.param(lvm_setup(), id="ext4"),
    pytest.param(zfs_setup(ZfsRaid.RAID10, *FOUR), id="zfs RAID10"),
    pytest.param(btrfs_setup(BtrfsRaid.RAID1, "/dev/sda", "/dev/sdb"), id="btrfs RAID1"),
])
def test_json_has_the_issue_shape_and_round_trips(setup) -> None:
    result = plan(config(setup), hardware(*four_disks()))
    data = json.loads(result.to_json())
    jsonschema.validate(data, ISSUE_SHAPE)
    assert StoragePlan.from_data(data) == result


def test_a_mirror_of_unequal_partitions_is_warned_about() -> None:
    result = plan(config(zfs_setup(ZfsRaid.RAID1, "/dev/sda", "/dev/sdb")), hardware(disk("sda", 95), disk("sdb", 100)))
    assert any(w.startswith("partition 3 differs in size within sda, sdb") for w in result.warnings)


def test_raid10_pairs_of_equal_disks_need_no_warning_even_when_pairs_differ() -> None:
    disks = [disk("sda", 50), disk("sdb", 50), disk("sdc", 100), disk("sdd", 100)]
    result = plan(config(zfs_setup(ZfsRaid.RAID10, *FOUR)), hardware(*disks))
    assert not any("differs in size" in w for w in result.warnings)


def test_hdsize_above_every_disk_is_pointed_out() -> None:
    result = plan(config(lvm_setup(hdsize=64)), hardware(disk("sda", 32)))
    assert "hdsize 64 GiB is larger than every selected disk: partition 3 runs to the end of each disk" in (
        result.warnings)


def test_a_4kn_disk_gets_the_same_lv_sizes_and_no_bios_boot_partition() -> None:
    # Proxmox sizes from bytes (sectors_512 / 2 KiB), so a 32 GiB 4Kn disk with 1 GiB RAM gets the 32 GiB case
    # of test_sizing: swap 1048576 KiB, root 15986688 KiB, data 13885440 KiB.
    # Partitions in 4 KiB sectors: ESP 256..131327, p3 from 513 MiB = 131328 to the last whole MiB before the
    # backup GPT: 8388608 sectors - 1 - 5 = 8388602 last usable, (8388602 + 1) // 256 * 256 - 1 = 8388351.
    result = plan(config(lvm_setup()), hardware(disk("sda", 32, sector=4096), memory_mib=1024, boot_mode="efi"))
    assert [(p.number, p.start_sector, p.end_sector) for p in result.disks[0].partitions] == [
        (2, 256, 131327), (3, 131328, 8388351)]
    assert [lv.size_bytes // 1024 for lv in result.lvm.lvs] == [1048576, 15986688, 13885440]
