"""GPT layouts worked out by hand from reference §2.3 and the GPT format (primary table at the start, backup
header and 16 KiB of entries at the end: 33 sectors of 512 bytes, or 5 sectors of 4096 bytes)."""

from __future__ import annotations

import pytest

from installer.storage.plan.partitions import (
    BIOS_BOOT_GUID,
    ESP_GUID,
    LINUX_FS_GUID,
    LVM_GUID,
    ZFS_GUID,
    LayoutError,
    disk_layout,
    gpt_reserved_sectors,
    partition_number,
    partition_path,
)
from keel_testing.builders import disk


def spans(parts):
    return [(p.number, p.type, p.start_sector, p.end_sector) for p in parts]


def test_gpt_copy_takes_33_sectors_of_512_bytes_and_5_of_4096() -> None:
    assert gpt_reserved_sectors(512) == 33   # 1 header + 16384/512 entry sectors
    assert gpt_reserved_sectors(4096) == 5   # 1 header + 16384/4096


@pytest.mark.parametrize(("size_gib", "sector", "hdsize", "expected"), [
    pytest.param(
        12, 512, None,
        # 25165824 sectors; last usable 25165824 - 1 - 33 = 25165790; (25165790 + 1) // 2048 * 2048 = 25163776
        # ESP 512 MiB: 2048 .. 2048 + 1048576 - 1; p3 from 513 MiB = 1050624
        [(1, "bios-boot", 34, 2047), (2, "esp", 2048, 1050623), (3, "lvm", 1050624, 25163775)],
        id="12 GiB with 512-byte sectors: BIOS boot, 512 MiB ESP, p3 to the last whole MiB",
    ),
    pytest.param(
        12, 4096, None,
        # 3145728 sectors of 4 KiB, 256 per MiB; last usable 3145728 - 1 - 5 = 3145722; 3145723 // 256 * 256 = 3145472
        [(2, "esp", 256, 131327), (3, "lvm", 131328, 3145471)],
        id="12 GiB 4Kn: no BIOS boot partition, sector numbers in 4 KiB units",
    ),
    pytest.param(
        128, 512, None,
        # ESP 1024 MiB: 2048 .. 2048 + 2097152 - 1 = 2099199; p3 from 1025 MiB = 2099200
        # 268435456 sectors; 268435422 + 1 = 268435423 // 2048 * 2048 = 268433408
        [(1, "bios-boot", 34, 2047), (2, "esp", 2048, 2099199), (3, "lvm", 2099200, 268433407)],
        id="128 GiB: 1 GiB ESP",
    ),
    pytest.param(
        128, 512, 80,
        # p3 ends at 80 GiB = 81920 MiB = sector 167772160 (exclusive)
        [(1, "bios-boot", 34, 2047), (2, "esp", 2048, 2099199), (3, "lvm", 2099200, 167772159)],
        id="hdsize 80 on 128 GiB: p3 ends at 80 GiB, ESP still 1 GiB",
    ),
    pytest.param(
        12, 512, 10.5,
        # int(10.5 * 1024) = 10752 MiB -> end sector 10752 * 2048 - 1 = 22020095
        [(1, "bios-boot", 34, 2047), (2, "esp", 2048, 1050623), (3, "lvm", 1050624, 22020095)],
        id="fractional hdsize 10.5 ends at 10752 MiB",
    ),
    pytest.param(
        12, 512, 50,
        [(1, "bios-boot", 34, 2047), (2, "esp", 2048, 1050623), (3, "lvm", 1050624, 25163775)],
        id="hdsize larger than the disk is ignored",
    ),
    pytest.param(
        128, 4096, 80,
        # 256 sectors per MiB: ESP 256 .. 256 + 262144 - 1 = 262399; p3 from 1025 * 256 = 262400 to 81920 * 256 - 1
        [(2, "esp", 256, 262399), (3, "lvm", 262400, 20971519)],
        id="hdsize 80 on a 128 GiB 4Kn disk",
    ),
])
def test_layout_sectors(size_gib: float, sector: int, hdsize: float | None, expected: list) -> None:
    assert spans(disk_layout(disk("sda", size_gib, sector=sector), "lvm", hdsize)) == expected


def test_partition_sizes_and_types_on_a_12_gib_disk() -> None:
    parts = disk_layout(disk("sda", 12), "lvm")
    # p1: 2014 sectors of 512; p2: 512 MiB; p3: (25163775 - 1050624 + 1) * 512
    assert [p.size_bytes for p in parts] == [1031168, 512 * 1024**2, 24113152 * 512]
    assert [p.type_guid for p in parts] == [BIOS_BOOT_GUID, ESP_GUID, LVM_GUID]
    assert [p.path for p in parts] == ["/dev/sda1", "/dev/sda2", "/dev/sda3"]


@pytest.mark.parametrize(("kind", "guid"), [("zfs", ZFS_GUID), ("btrfs", LINUX_FS_GUID), ("lvm", LVM_GUID)])
def test_partition_3_type_follows_the_filesystem(kind: str, guid: str) -> None:
    p3 = disk_layout(disk("sda", 32), kind)[-1]  # type: ignore[arg-type]
    assert (p3.type, p3.type_guid) == (kind, guid)


def test_nvme_partitions_take_a_p() -> None:
    assert [p.path for p in disk_layout(disk("nvme0n1", 32), "zfs")] == [
        "/dev/nvme0n1p1", "/dev/nvme0n1p2", "/dev/nvme0n1p3"]


def test_arm64_gets_no_bios_boot_partition() -> None:
    assert [p.number for p in disk_layout(disk("sda", 32), "lvm", arch="arm64")] == [2, 3]


def test_a_disk_smaller_than_the_esp_is_refused_with_its_name() -> None:
    with pytest.raises(LayoutError, match="disk sda: too small"):
        disk_layout(disk("sda", 0.5), "lvm")


def test_an_odd_sector_size_is_refused() -> None:
    with pytest.raises(LayoutError, match="sda: unsupported logical sector size 520"):
        disk_layout(disk("sda", 32, sector=520), "lvm")


def test_whole_disk_of_100_gib_plus_one_sector_gets_the_big_esp() -> None:
    parts = disk_layout(disk("sda", 100, extra_bytes=512), "lvm")
    assert parts[1].size_bytes == 1024 * 1024**2
    assert parts[2].start_sector == 1025 * 2048


@pytest.mark.parametrize(("disk_path", "number", "expected"), [
    ("/dev/sda", 3, "/dev/sda3"),
    ("/dev/vda", 1, "/dev/vda1"),
    ("/dev/nvme0n1", 1, "/dev/nvme0n1p1"),
    ("/dev/mmcblk0", 2, "/dev/mmcblk0p2"),
    ("/dev/loop0", 3, "/dev/loop0p3"),
    ("/dev/md0", 1, "/dev/md0p1"),
    ("/dev/cciss/c0d0", 1, "/dev/cciss/c0d0p1"),
    ("/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001", 3, "/dev/disk/by-id/ata-QEMU_HARDDISK_QM00001-part3"),
    ("/dev/disk/by-path/pci-0000:00:1f.2-ata-1", 2, "/dev/disk/by-path/pci-0000:00:1f.2-ata-1-part2"),
], ids=lambda v: str(v))
def test_partitions_are_named_as_the_kernel_and_udev_name_them(disk_path: str, number: int, expected: str) -> None:
    assert partition_path(disk_path, number) == expected
    assert partition_number(disk_path, expected) == number


@pytest.mark.parametrize(("disk_path", "device"), [
    pytest.param("/dev/nvme0n1", "/dev/nvme0n11", id="nvme0n11 is namespace 11, not a partition of nvme0n1"),
    pytest.param("/dev/nvme0n1", "/dev/nvme0n2p1", id="nvme0n2p1 is a partition of another namespace"),
    pytest.param("/dev/sda", "/dev/sdaa1", id="sdaa1 is a partition of sdaa"),
    pytest.param("/dev/sda", "/dev/sda0", id="there is no partition 0"),
    pytest.param("/dev/sda", "/dev/sda", id="the disk is not its own partition"),
    pytest.param("/dev/loop0", "/dev/loop01", id="loop01 is not loop0p1"),
    pytest.param("/dev/disk/by-id/ata-X", "/dev/disk/by-id/ata-X3", id="a by-id link takes -partN"),
    pytest.param("/dev/disk/by-id/ata-X", "/dev/disk/by-id/ata-X-part03", id="no leading zero in -partN"),
])
def test_names_of_other_devices_are_no_partition_of_the_disk(disk_path: str, device: str) -> None:
    assert partition_number(disk_path, device) is None

