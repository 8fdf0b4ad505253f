"""Writing each selected disk's planned GPT with pyparted, exactly to the sector, then settling udev."""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from installer.storage.plan import Partition, PlannedDisk
from installer.storage.plan.partitions import partition_path

from .guard import ApplyError

if TYPE_CHECKING:
    from installer.phase import InstallContext

GUID_BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649"
GUID_ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
GUID_LINUX_LVM = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
GUID_LINUX_FS = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"
GUID_ZFS = "6A898CC3-1DD2-11B2-99A6-080020736631"

# The type GUIDs libparted writes for a flag on GPT. A new GPT partition is "Linux filesystem" without any
# flag; every other GUID (ZFS's BF01 among them) has no flag: libparted >= 3.6 (pyparted's set_type_uuid, the live
# environment's) sets it in the same commit, an older one leaves it to sgdisk afterwards (1.7 s per disk under TCG).
FLAG_FOR_GUID = {GUID_BIOS_BOOT: "bios_grub", GUID_ESP: "esp", GUID_LINUX_LVM: "lvm"}

# Every signature libblkid, LVM, md or ZFS look for at the start of a partition lies in its first MiB (LVM
# label and a 250k metadata area, md 1.1/1.2 superblocks, ZFS labels L0/L1 in 512 KiB, the btrfs primary
# superblock at 64 KiB, ext4/xfs/vfat at 0-1 KiB). Proxmox zeroes 256 MiB; 16 MiB covers all of that many
# times over and keeps the installer's writes small under slow (emulated) disks. Ends of old partitions were
# cleared by teardown (labelclear, wipefs) while they still existed. The new partitions' starts are zeroed through
# the disk itself before the table that makes them is written: udev never sees an old signature in a new
# partition, and no dd per partition runs after it (0.6 s each under TCG).
ZERO_BYTES = 16 * 1024 * 1024
ZERO_CHUNK = 1024 * 1024
# linux/fs.h: _IO(0x12, 127), zero a byte range of a block device. The kernel sends the disk a write-zeroes command
# where it has one (virtio, NVMe, SCSI WRITE SAME) and writes zero pages itself otherwise; no 16 MiB of zeros pass
# through the installer (writing them took 0.4 s per partition in a guest under TCG).
BLKZEROOUT = 0x127F

# How long udev may take to create the new partitions' nodes and by-id links. `udevadm settle --timeout=10`
# gave up on a busy machine (four emulated guests on two cores) while the nodes were still coming; what the
# later phases need is the nodes, so they are what is waited for.
NODE_WAIT_SECONDS = 180
# How often the wait looks again for a node or by-id link udev has not made yet: a look is a stat per node, and a
# second between looks could cost up to a second (a ZFS install under TCG spent 5 s after `udevadm settle` returned).
NODE_POLL_SECONDS = 0.1
# How long the installer waits for a shared lock on a disk it is about to partition (udev holds an exclusive one for
# the moment of a partition table re-read).
RESCAN_LOCK_WAIT = 60.0
device_node_exists = os.path.exists   # tests replace it: the build host has no such devices


@dataclass(frozen=True)
class PartitionRequest:
    """One partition as libparted gets it: its number, exact sectors, the flag to set, the GUID sgdisk sets."""

    number: int
    start_sector: int
    end_sector: int
    flag: str | None
    sgdisk_type_guid: str | None


def partition_requests(disk: PlannedDisk) -> tuple[PartitionRequest, ...]:
    """How each planned partition of `disk` gets its type: a libparted flag, the default, or sgdisk."""
    requests = []
    for part in sorted(disk.partitions, key=lambda p: p.number):
        guid = part.type_guid.upper()
        if part.start_sector > part.end_sector:
            raise ApplyError(f"{part.path}: planned start sector {part.start_sector} is after end {part.end_sector}")
        flag = FLAG_FOR_GUID.get(guid)
        needs_sgdisk = flag is None and guid != GUID_LINUX_FS
        requests.append(PartitionRequest(part.number, part.start_sector, part.end_sector, flag,
                                         guid if needs_sgdisk else None))
    return tuple(requests)


def sgdisk_typecode_argv(disk: PlannedDisk, numbers: tuple[int, ...] | None = None) -> list[str] | None:
    """The one sgdisk call that sets the type GUIDs libparted has no flag for (of the partitions `numbers`, default
    all of them), or None when there are none."""
    codes = [f"--typecode={r.number}:{r.sgdisk_type_guid}" for r in partition_requests(disk)
             if r.sgdisk_type_guid and (numbers is None or r.number in numbers)]
    return ["sgdisk", *codes, disk.path] if codes else None


def zero_argv(device: str, size_bytes: int) -> list[str]:
    """dd zeroing the first ZERO_BYTES of `device` (all of it when smaller)."""
    count = min(ZERO_BYTES, size_bytes)
    return ["dd", "if=/dev/zero", f"of={device}", "bs=1M", f"count={count}", "iflag=count_bytes",
            "conv=fsync", "status=none"]


def write_gpt(disk: PlannedDisk, hold: ExitStack | None = None) -> tuple[int, ...]:
    """Write a fresh GPT holding exactly the planned partitions (numbers, sectors, flags, type GUIDs) with pyparted.
    Returns the numbers of the partitions whose type GUID this libparted could not set (sgdisk_typecode_argv).

    With `hold`, the disk stays shared-locked (`lock_against_rescan`) until `hold` is closed: udev does not re-read
    its partition table after this write, and the install's cleanup lets go of it."""
    import parted

    if hold is not None:
        hold.enter_context(lock_against_rescan(disk.path))
    try:
        raw = open(disk.path, "r+b", buffering=0)   # noqa: SIM115 - closed once the starts are zeroed
    except OSError as err:
        raise ApplyError(f"{disk.path}: cannot open the disk ({err.strerror})") from err
    with raw:
        try:
            device = parted.getDevice(disk.path)
            # One open for the whole commit (libparted opens and closes the disk for the table and again for telling
            # the kernel): udev reacts to each close after a write, and must do so once, with the new table on the disk.
            device.open()
        except (parted.IOException, parted.DeviceException) as err:
            raise ApplyError(f"{disk.path}: cannot open the disk ({err})") from err
        try:
            return _write_table(parted, device, disk, raw)
        finally:
            device.close()
            # libparted caches what it probed per path; a later disk on the same node (a loop device reused
            # by the tests, a replaced disk) must be probed afresh
            device.removeFromCache()


@contextmanager
def lock_against_rescan(path: str, wait: float = RESCAN_LOCK_WAIT) -> Iterator[None]:
    """Hold a shared BSD lock on the disk `path` (systemd's block device locking) while the body runs and until the
    context is left.

    When a program closes a disk it wrote, udev re-reads the disk's partition table unless someone holds a lock on it:
    every partition is removed and added again, and each of those events runs udev's rules (seven events for a
    disk of three partitions, twice per disk when libparted and the zeroing each closed it: half of the partitioning
    phase under emulation, measured in a guest). With the lock, udev only re-probes the disk and its partitions (a
    change event each) and the nodes never vanish. A shared lock does not hold up udev's own event processing, which
    takes one too. The disk is opened read-only, so closing it is no write udev would react to."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise ApplyError(f"{path}: cannot open the disk ({err.strerror})") from err
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:         # someone holds it exclusively (udev during a re-read takes a moment)
                if time.monotonic() >= deadline:
                    raise ApplyError(f"{path}: another program has held the disk locked (flock) for {wait:.0f} s; "
                                     "nothing was written to it") from None
                time.sleep(0.1)
        yield
    finally:
        os.close(fd)


def _write_table(parted, device, disk: PlannedDisk, raw: BinaryIO) -> tuple[int, ...]:
    if device.sectorSize != disk.logical_block_size:
        raise ApplyError(f"{disk.path}: logical sector size is {device.sectorSize} bytes, "
                         f"the plan expects {disk.logical_block_size}")
    actual = device.length * device.sectorSize
    if actual != disk.size_bytes:
        raise ApplyError(f"{disk.path}: the disk has {actual} bytes, the plan was made for {disk.size_bytes}")
    requests = partition_requests(disk)
    table = parted.freshDisk(device, "gpt")
    flags = {name: number for number, name in parted.partitionFlag.items()}

    def add(start: int, end: int) -> parted.Partition:
        geometry = parted.Geometry(device=device, start=start, length=end - start + 1)
        part = parted.Partition(disk=table, type=parted.PARTITION_NORMAL, geometry=geometry)
        try:
            table.addPartition(part, parted.Constraint(exactGeom=geometry))
        except parted.PartitionException as err:
            raise ApplyError(f"{disk.path}: cannot place a partition at sectors {start}-{end} ({err})") from err
        return part

    # libparted numbers a new partition with the lowest free number and cannot be told another one, so a
    # gap in the planned numbers (4Kn disks have no partition 1) is held by a one-sector placeholder that
    # is removed before writing; GPT keeps the numbers of the others.
    placeholders: list = []
    untyped: list[int] = []
    for request in requests:
        while max(table.lastPartitionNumber, 0) + 1 < request.number:
            spare = _free_sector(table, requests, taken={p.geometry.start for p in placeholders})
            placeholders.append(add(spare, spare))
        part = add(request.start_sector, request.end_sector)
        if part.number != request.number:
            raise ApplyError(f"{disk.path}: libparted numbered partition {part.number}, the plan says {request.number}")
        if request.flag:
            name = request.flag if request.flag in flags else "boot"   # "boot" is the ESP flag on GPT
            part.setFlag(flags[name])
        elif request.sgdisk_type_guid and not _set_type_guid(parted, part, request.sgdisk_type_guid):
            untyped.append(request.number)
    for placeholder in placeholders:
        table.deletePartition(placeholder)
    zero_partition_starts(disk, raw)        # once the table is known to hold every planned partition
    # Closed before libparted writes the table: that close is a write udev reacts to, and with the disk locked
    # (lock_against_rescan) it only re-probes the disk, which has no new partitions yet.
    raw.close()
    try:
        table.commit()
    except (parted.IOException, parted.DiskException) as err:
        raise ApplyError(f"{disk.path}: writing the partition table failed ({err})") from err
    return tuple(untyped)


def zeroed_partitions(disk: PlannedDisk) -> list[Partition]:
    """The planned partitions whose start is zeroed: all but the BIOS boot one (GRUB's core image goes there)."""
    return [part for part in disk.partitions if part.type != "bios-boot"]


def zero_partition_starts(disk: PlannedDisk, raw: BinaryIO) -> None:
    """Zero the first ZERO_BYTES of each of zeroed_partitions(disk) through `raw`, the disk's own node opened for
    writing (once the disk's sector size and length are known to be the plan's): BLKZEROOUT, or plain writes where
    `raw` is no block device."""
    try:
        for part in zeroed_partitions(disk):
            start = part.start_sector * disk.logical_block_size
            length = min(ZERO_BYTES, part.size_bytes)
            if not _zero_out(raw, start, length):
                _write_zeros(raw, start, length)
        os.fsync(raw.fileno())
    except OSError as err:
        raise ApplyError(f"{disk.path}: zeroing the start of the new partitions failed "
                         f"({err.strerror or err})") from err


def _zero_out(raw: BinaryIO, start: int, length: int) -> bool:
    """BLKZEROOUT of `length` bytes at `start`; False when `raw` does not take it (a regular file: ENOTTY)."""
    try:
        fcntl.ioctl(raw.fileno(), BLKZEROOUT, struct.pack("=QQ", start, length))
    except OSError as err:
        if err.errno in (errno.ENOTTY, errno.EOPNOTSUPP, errno.EINVAL):
            return False
        raise
    return True


def _write_zeros(raw: BinaryIO, start: int, length: int) -> None:
    chunk = bytes(min(length, ZERO_CHUNK))
    raw.seek(start)
    while length > 0:
        length -= raw.write(chunk[:min(length, ZERO_CHUNK)])


def _set_type_guid(parted, part, guid: str) -> bool:
    """Give `part` the type `guid` in libparted's table; False when this libparted (< 3.6) cannot."""
    try:
        part.set_type_uuid(uuid.UUID(guid).bytes)
    except (AttributeError, NotImplementedError, parted.PartitionException):
        return False
    return True


def _free_sector(table, requests: tuple[PartitionRequest, ...], taken: set[int]) -> int:
    """A usable sector outside every planned partition and not `taken` (for placeholders); 0 if none."""
    for region in table.getFreeSpaceRegions():
        sector = region.start
        while sector <= region.end:
            inside = next((r for r in requests if r.start_sector <= sector <= r.end_sector), None)
            if inside is None and sector not in taken:
                return sector
            sector = inside.end_sector + 1 if inside else sector + 1
    return 0


def partition_nodes(plan) -> list[str]:
    """The device paths later phases name: every planned partition, and its by-id link where the disk has one."""
    paths = [part.path for disk in plan.disks for part in disk.partitions]
    paths += [partition_path(disk.by_id, part.number) for disk in plan.disks if disk.by_id for part in disk.partitions]
    return paths


def wait_for_partition_nodes(ctx: InstallContext) -> None:
    """Let udev settle, then wait until every partition node and by-id link exists; an error names a missing one."""
    settled = ctx.run(["udevadm", "settle", f"--timeout={NODE_WAIT_SECONDS}"], timeout=NODE_WAIT_SECONDS + 30,
                      check=False)
    if ctx.dry_run:
        return
    wanted = partition_nodes(ctx.plan)
    deadline = time.monotonic() + NODE_WAIT_SECONDS
    while missing := [path for path in wanted if not device_node_exists(path)]:
        if time.monotonic() >= deadline:
            raise ApplyError(f"{missing[0]}: the new partition's device node did not appear within "
                             f"{NODE_WAIT_SECONDS} s of writing the partition table (udev)")
        time.sleep(NODE_POLL_SECONDS)
    if settled.returncode != 0:
        ctx.events.warning(f"udevadm settle exited with {settled.returncode}; every partition node is there")
