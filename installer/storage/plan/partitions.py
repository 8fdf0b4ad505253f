"""The GPT layout every selected disk gets (reference §2.3): BIOS boot, ESP, and one partition for the OS/data.

Sectors are the disk's logical sectors, start and end inclusive. Partition 1 (BIOS boot) sits at sectors
34-2047 on 512-byte-sector disks only; partition 2 (ESP) starts at 1 MiB; partition 3 runs from the end of the
ESP to hdsize or to the last whole MiB before the backup GPT (16 KiB of entries plus the backup header).
How a partition is named (`partition_path`, `partition_number`) lives here too, for the planner and the guard.
"""

from __future__ import annotations

import re

from installer.core.hardware import Disk
from installer.storage.plan.sizing import GiB, MiB, esp_mib
from installer.storage.plan.types import Partition, PartitionType

BIOS_BOOT_GUID = "21686148-6449-6E6F-744E-656564454649"
ESP_GUID = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LVM_GUID = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
ZFS_GUID = "6A898CC3-1DD2-11B2-99A6-080020736631"      # sgdisk BF01
LINUX_FS_GUID = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"  # sgdisk 8300, Btrfs

DATA_TYPE_GUID: dict[str, str] = {"lvm": LVM_GUID, "zfs": ZFS_GUID, "btrfs": LINUX_FS_GUID}
SGDISK_CODE: dict[str, str] = {"bios-boot": "EF02", "esp": "EF00", "lvm": "8E00", "zfs": "BF01", "btrfs": "8300"}

GPT_ENTRIES_BYTES = 128 * 128                  # 128 entries of 128 bytes
BIOS_BOOT_FIRST, BIOS_BOOT_LAST = 34, 2047     # Proxmox's fixed sectors, 512-byte sectors only


LINK_DIR = "/dev/disk/"                        # udev's by-id / by-path / by-uuid links
_NUMBER = re.compile(r"[1-9][0-9]*")


def partition_path(disk: str, number: int) -> str:
    """Partition `number` of the disk named `disk`, the way the kernel and udev name it.

    A kernel node takes a `p` before the number when the disk's name ends in a digit (nvme0n1p1, mmcblk0p1,
    loop0p1, md0p1) and none otherwise (sda1, vda1); a /dev/disk/by-* link of the whole disk gets udev's
    `-partN` beside it. `disk` is the disk's /dev path, whose last component is its kernel name.
    """
    if disk.startswith(LINK_DIR):
        return f"{disk}-part{number}"
    return f"{disk}{'p' if disk[-1:].isdigit() else ''}{number}"


def partition_number(disk: str, device: str) -> int | None:
    """The number of the partition `device` names on the disk named `disk` (see `partition_path`), else None."""
    prefix = partition_path(disk, 0)[:-1]
    rest = device.removeprefix(prefix) if device.startswith(prefix) else ""
    return int(rest) if _NUMBER.fullmatch(rest) else None


class LayoutError(ValueError):
    """The disk cannot hold the layout; the message names the disk."""


def gpt_reserved_sectors(sector: int) -> int:
    """Sectors one GPT copy takes besides the protective MBR: the header plus the entry array."""
    return 1 + -(-GPT_ENTRIES_BYTES // sector)


def last_usable_sector(total_sectors: int, sector: int) -> int:
    """The last sector a partition may use: before the backup entries and the backup header at the very end."""
    return total_sectors - 1 - gpt_reserved_sectors(sector)


def has_bios_boot(disk: Disk, arch: str = "amd64") -> bool:
    """Proxmox creates the BIOS boot partition on 512-byte-sector disks, never on 4Kn disks or on arm64."""
    return disk.logical_block_size == 512 and arch != "arm64"


def disk_layout(disk: Disk, data_type: PartitionType, hdsize_gib: float | None = None, *,
                arch: str = "amd64") -> tuple[Partition, ...]:
    """The partitions of `disk`: p1 BIOS boot (512-byte sectors only), p2 ESP, p3 of `data_type`."""
    sector = disk.logical_block_size
    if sector < 512 or MiB % sector:
        raise LayoutError(f"disk {disk.name}: unsupported logical sector size {sector} bytes")
    per_mib = MiB // sector
    total = disk.size_bytes // sector
    esp = esp_mib(disk.size_bytes)

    # Partition 3 ends on a MiB boundary: at hdsize (whole MiB, as Proxmox passes it to sgdisk) when that is
    # inside the disk, else at the last whole MiB before the backup GPT.
    end_limit = (last_usable_sector(total, sector) + 1) // per_mib * per_mib
    if hdsize_gib is not None and hdsize_gib * GiB < disk.size_bytes:
        end_limit = min(end_limit, int(hdsize_gib * 1024) * per_mib)
    p3_start = (esp + 1) * per_mib
    if end_limit - 1 < p3_start:
        raise LayoutError(
            f"disk {disk.name}: too small for the layout ({disk.size_bytes} bytes; the ESP alone needs {esp + 1} MiB)"
        )

    parts: list[Partition] = []
    if has_bios_boot(disk, arch):
        parts.append(_partition(disk, 1, "bios-boot", BIOS_BOOT_FIRST, BIOS_BOOT_LAST, BIOS_BOOT_GUID))
    parts.append(_partition(disk, 2, "esp", per_mib, per_mib + esp * per_mib - 1, ESP_GUID))
    parts.append(_partition(disk, 3, data_type, p3_start, end_limit - 1, DATA_TYPE_GUID[data_type]))
    return tuple(parts)


def _partition(disk: Disk, number: int, kind: PartitionType, start: int, end: int, guid: str) -> Partition:
    return Partition(
        number=number,
        type=kind,
        start_sector=start,
        end_sector=end,
        size_bytes=(end - start + 1) * disk.logical_block_size,
        type_guid=guid,
        path=partition_path(disk.path, number),
    )
