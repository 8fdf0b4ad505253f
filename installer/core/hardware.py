"""HardwareProfile: everything Keel needs to know about a machine, as one JSON-serialisable value.

Probed on the live system (`installer.hardware.probe`), recorded to a file, and loaded for tests,
dry runs and `keel-answer validate --hardware`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from installer.core import jsoncodec

GiB = 1024**3
MiB = 1024**2

ExistingKind = Literal[
    "partition-table",  # detail: "gpt" / "dos"
    "partition",        # detail: partition type / label
    "filesystem",       # detail: fs type (ext4, xfs, vfat, swap, ...); group: label
    "lvm-pv",           # group: VG name; group_id: VG UUID
    "zfs-member",       # group: pool name; group_id: pool GUID
    "md-member",        # group: array name; group_id: array UUID
    "btrfs-member",     # group: label; group_id: filesystem UUID
    "luks",             # group_id: LUKS UUID
]


@dataclass(frozen=True)
class ExistingContent:
    """One thing found on a disk before installing: what it is, where, and what larger structure it belongs to.

    Items with the same `kind` and `group_id` on different disks belong to one structure (a VG, a pool,
    an md array, a multi-device btrfs); that is how the planner sees what spans selected and unselected disks.
    """

    kind: ExistingKind
    device: str              # the block device holding it: "/dev/sda3" or the disk itself
    detail: str = ""         # fs type, partition table type, ...
    group: str = ""          # VG / pool / array name, fs label
    group_id: str = ""       # VG UUID, pool GUID, md UUID, btrfs UUID


def describe_existing(item: ExistingContent) -> str:
    """One line for an operator: '/dev/sdb3: LVM PV of VG 'pve''."""
    name = f" '{item.group}'" if item.group else ""
    match item.kind:
        case "partition-table":
            what = f"{item.detail or 'unknown'} partition table"
        case "partition":
            what = f"partition ({item.detail})" if item.detail else "partition"
        case "filesystem":
            what = f"{item.detail or 'unknown'} filesystem" + (f" labelled '{item.group}'" if item.group else "")
        case "lvm-pv":
            what = f"LVM PV of VG{name}" if item.group else "LVM PV (no VG)"
        case "zfs-member":
            what = f"member of ZFS pool{name}" + (f" (id {item.group_id})" if item.group_id else "")
        case "md-member":
            what = f"member of md array{name}" if item.group else "md RAID member"
        case "btrfs-member":
            what = f"btrfs device{name}" + (f" (UUID {item.group_id})" if item.group_id else "")
        case "luks":
            what = "LUKS encrypted volume" + (f" (UUID {item.group_id})" if item.group_id else "")
        case _:
            what = item.kind
    return f"{item.device}: {what}"


def kernel_node(name: str) -> str:
    """The /dev node of the block device the kernel calls `name` (sysfs writes "/" in a name as "!")."""
    return "/dev/" + name.replace("!", "/")


@dataclass(frozen=True)
class Disk:
    name: str                                  # kernel name: "sda", "nvme0n1"
    path: str                                  # "/dev/sda"
    size_bytes: int
    index: int = 0                             # enumeration order (Proxmox's disk index)
    logical_block_size: int = 512
    physical_block_size: int = 512
    model: str = ""
    serial: str = ""
    bus: str = ""                              # "sata", "scsi", "nvme", "virtio", "usb", ...
    rotational: bool = False
    removable: bool = False
    install_medium: bool = False               # holds the running Keel image: never a target
    udev: dict[str, str] = field(default_factory=dict)
    existing: tuple[ExistingContent, ...] = ()

    @property
    def size_gib(self) -> float:
        return self.size_bytes / GiB

    @property
    def sectors(self) -> int:
        """Size in logical sectors."""
        return self.size_bytes // self.logical_block_size

    def name_problem(self) -> str | None:
        """Why this disk's kernel name and path disagree (`sdx` at /dev/nvme0n1), or None when they agree.

        Partition nodes are named after the disk's node, so a profile where they disagree would have the plan
        write partitions of another device (/dev/nvme0n11 is namespace 11, not a partition of `sdx`).
        """
        expected = kernel_node(self.name)
        if self.name and self.path == expected:
            return None
        return (f"disk {self.name or '(no name)'}: the recorded path {self.path} is not its kernel name's node "
                f"{expected}: the hardware profile is inconsistent; record it again on this machine")


@dataclass(frozen=True)
class Address:
    family: Literal["inet", "inet6"]
    address: str
    prefix: int


@dataclass(frozen=True)
class Nic:
    name: str                                  # current kernel name: "eno1"
    mac: str                                   # lower case "aa:bb:cc:dd:ee:ff"
    index: int = 0                             # ifindex
    driver: str = ""
    state: str = "UNKNOWN"                     # "UP", "DOWN", "UNKNOWN" (operstate, upper case)
    addresses: tuple[Address, ...] = ()        # global addresses (no link-local), UP links only
    pinned_id: str | None = None               # sequential id for name pinning; physical NICs only
    udev: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Route:
    dev: str
    gateway: str


@dataclass(frozen=True)
class NetworkRuntime:
    """What DHCP / SLAAC gave the live system: the source of `from-dhcp` answers and the wizard defaults."""

    gateway4: Route | None = None
    gateway6: Route | None = None
    dns: tuple[str, ...] = ()
    domain: str | None = None
    hostname: str | None = None                # DHCP option 12, domain suffix stripped


@dataclass(frozen=True)
class HardwareProfile:
    disks: tuple[Disk, ...] = ()
    nics: tuple[Nic, ...] = ()
    network: NetworkRuntime = field(default_factory=NetworkRuntime)
    memory_mib: int = 2048
    boot_mode: Literal["bios", "efi"] = "bios"
    secure_boot: bool = False
    arch: str = "amd64"
    cpu_vendor: str = "unknown"
    hvm: bool = False
    kernel_cmdline: str = ""
    country: str | None = None                 # detected country (lower case ISO 3166 alpha-2)
    dmi: dict[str, str] = field(default_factory=dict)   # "system.serial", "baseboard.name", ...

    def disk(self, name_or_path: str) -> Disk | None:
        """The disk named `sda` or `/dev/sda` (also `/dev/disk/by-id/...` links recorded in DEVLINKS)."""
        for disk in self.disks:
            if name_or_path in (disk.name, disk.path):
                return disk
            if name_or_path in disk.udev.get("DEVLINKS", "").split():
                return disk
        return None

    def nic(self, name: str) -> Nic | None:
        return next((n for n in self.nics if n.name == name), None)

    @property
    def target_disks(self) -> tuple[Disk, ...]:
        """Disks Keel may install to: everything but the install medium."""
        return tuple(d for d in self.disks if not d.install_medium)

    def to_json(self) -> str:
        return jsoncodec.to_json(self)

    @classmethod
    def from_json(cls, text: str) -> HardwareProfile:
        return jsoncodec.from_json(cls, text)

    @classmethod
    def load(cls, path: str | Path) -> HardwareProfile:
        return jsoncodec.load(cls, path)

    @classmethod
    def read(cls, path: str | Path) -> HardwareProfile:
        """`load` for a file a person named: jsoncodec.FileError names the file and the problem."""
        return jsoncodec.load_file(cls, path, "hardware profile")

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")


BY_ID_PREFIX = "/dev/disk/by-id/"
# by-id links that name no particular model/serial, or name what is on the disk rather than the disk itself
BY_ID_SKIP = ("wwn-", "nvme-eui.", "nvme-nvme.", "lvm-pv-uuid-", "md-uuid-", "dm-", "scsi-0", "scsi-1", "scsi-S")


def disk_links(disk: Disk) -> list[str]:
    """The /dev/disk links udev recorded for the whole disk."""
    return disk.udev.get("DEVLINKS", "").split()


def readable_by_id(disk: Disk) -> list[str]:
    links = [link for link in disk_links(disk) if link.startswith(BY_ID_PREFIX)]
    return [link for link in links if not link[len(BY_ID_PREFIX):].startswith(BY_ID_SKIP)]


def disk_by_id(disk: Disk, machine: Sequence[Disk]) -> str | None:
    """The readable /dev/disk/by-id link of the whole disk (ata-MODEL_SERIAL, nvme-MODEL_SERIAL, ...) that no
    other disk of `machine` claims too, if udev recorded one.

    Two disks with identical serials claim the same link, and udev points it (and its -partN links) at either
    of them. Keel does not refuse such disks (their owner cannot change the serials): it leaves the shared link
    out and the plan names the disk by its kernel name, which is unique; `shared_link_warnings` says so. ZFS
    finds its members by their labels when it imports the pool, so only `zpool status` shows the difference.
    """
    taken = {link for other in machine if other.path != disk.path for link in disk_links(other)}
    return next((link for link in readable_by_id(disk) if link not in taken), None)
