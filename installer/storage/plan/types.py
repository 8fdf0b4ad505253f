"""The StoragePlan types: what Keel will do to which disk, as one frozen value the engine executes as-is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from installer.core import jsoncodec
from installer.core.config import Filesystem

PartitionType = Literal["bios-boot", "esp", "lvm", "zfs", "btrfs"]
VdevType = Literal["stripe", "mirror", "raidz1", "raidz2", "raidz3"]


@dataclass(frozen=True)
class Partition:
    number: int
    type: PartitionType
    start_sector: int            # logical sectors, inclusive
    end_sector: int              # inclusive
    size_bytes: int
    type_guid: str               # GPT partition type GUID
    path: str                    # "/dev/sda2", "/dev/nvme0n1p2"


@dataclass(frozen=True)
class PlannedDisk:
    path: str                    # "/dev/sda"
    name: str                    # "sda"
    logical_block_size: int
    size_bytes: int
    partitions: tuple[Partition, ...]
    by_id: str | None = None     # "/dev/disk/by-id/..." of the whole disk when known (ZFS vdevs use -partN)

    def partition(self, number: int) -> Partition | None:
        return next((p for p in self.partitions if p.number == number), None)


@dataclass(frozen=True)
class LogicalVolume:
    name: str                    # "swap" | "root" | "data"
    size_bytes: int
    thin_pool: bool = False
    metadata_bytes: int = 0


@dataclass(frozen=True)
class LvmPlan:
    vg: str                      # "pve"
    pvs: tuple[str, ...]         # ("/dev/sda3",)
    lvs: tuple[LogicalVolume, ...]
    free_bytes: int
    size_bytes: int = 0          # the VG size the LV sizes were derived from (partition 3)

    def lv(self, name: str) -> LogicalVolume | None:
        return next((lv for lv in self.lvs if lv.name == name), None)


@dataclass(frozen=True)
class Vdev:
    type: VdevType
    devices: tuple[str, ...]     # partition-3 paths (by-id when known)


@dataclass(frozen=True)
class Dataset:
    name: str                    # "rpool/ROOT/pve-1"
    mountpoint: str | None       # final mountpoint ("/", "/var/lib/vz") or None
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ZfsPlan:
    pool: str                    # "rpool"
    vdevs: tuple[Vdev, ...]
    ashift: int
    compress: str
    checksum: str
    copies: int
    arc_max_mib: int
    datasets: tuple[Dataset, ...]
    pool_properties: dict[str, str] = field(default_factory=dict)  # {"cachefile": "none", "ashift": "12"}
    root_properties: dict[str, str] = field(default_factory=dict)  # set on the pool's root dataset (zfs set)
    bootfs: str = ""                                               # "rpool/ROOT/pve-1" (zpool set bootfs=)


@dataclass(frozen=True)
class BtrfsPlan:
    data_profile: str            # "raid0" | "raid1" | "raid10"
    metadata_profile: str
    devices: tuple[str, ...]     # partition-3 paths
    mount_options: str           # "defaults" or "defaults,compress=zstd"
    subvolumes: tuple[str, ...] = ("var/lib/pve/local-btrfs",)


@dataclass(frozen=True)
class Mount:
    source: str                  # "/dev/pve/root", "UUID=...", "rpool/ROOT/pve-1", "proc"
    target: str                  # "/", "/boot/efi", "none" (swap), "/proc"
    fstype: str                  # "ext4", "xfs", "btrfs", "vfat", "swap", "proc", "zfs"
    options: str                 # "errors=remount-ro", "defaults", "sw"
    dump: int = 0
    passno: int = 0
    in_fstab: bool = True        # ZFS datasets mount themselves: in_fstab False


@dataclass(frozen=True)
class StorageEntry:
    """One stanza of /etc/pve/storage.cfg (reference §2.5)."""

    type: str                    # "dir" | "lvmthin" | "zfspool" | "btrfs"
    id: str                      # "local", "local-lvm", "local-zfs", "local-btrfs"
    properties: tuple[tuple[str, str], ...]   # ordered (key, value) pairs; value "" = a bare flag ("sparse")
    disabled: bool = False


@dataclass(frozen=True)
class Rename:
    kind: Literal["lvm-vg", "zfs-pool"]
    old: str                     # "pve"
    new: str                     # "pve-OLD-1a2b3c4d"
    id: str                      # VG UUID / pool GUID
    devices: tuple[str, ...]


@dataclass(frozen=True)
class StoragePlan:
    """Everything the install does to storage, decided before any write: `keel-installer plan` shows it, the
    engine executes exactly it, and the target files (fstab, storage.cfg, kernel cmdline) are rendered from it."""

    filesystem: Filesystem
    disks: tuple[PlannedDisk, ...]
    lvm: LvmPlan | None
    zfs: ZfsPlan | None
    btrfs: BtrfsPlan | None
    mounts: tuple[Mount, ...]            # in mount order ("/" first)
    kernel_root: str                     # "root=/dev/mapper/pve-root", "root=ZFS=rpool/ROOT/pve-1 boot=zfs"
    storage: tuple[StorageEntry, ...]
    fs_uuids: dict[str, str]             # "root" -> fs UUID; "esp:<disk path>" -> vfat volume id "ABCD-1234"
    destroy: tuple[str, ...]             # "/dev/sdb3: LVM PV of VG 'pve' (will be wiped)"
    rename: tuple[Rename, ...]
    warnings: tuple[str, ...]            # includes Proxmox's "Skipping auto-creation of LVM thinpool ..." lines

    def to_data(self) -> dict[str, Any]:
        """The stable JSON shape of the plan (sizes in bytes, sectors inclusive); data only, no rendered files."""
        return jsoncodec.to_data(self)

    def to_json(self) -> str:
        return json.dumps(self.to_data(), indent=2)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> StoragePlan:
        # `keel-installer plan --json` adds the rendered fstab and storage.cfg beside the data
        clean = {k: v for k, v in data.items() if k not in ("fstab", "storage_cfg")}
        return jsoncodec.from_data(cls, clean)


class PlanError(Exception):
    """The configuration cannot be planned on this hardware; `.problems` lists every reason, one line each."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))

