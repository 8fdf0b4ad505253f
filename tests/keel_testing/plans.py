"""Hand-built StoragePlans for the storage-apply tests; every number is worked out from the reference here.

A 32 GiB disk (67108864 sectors of 512 bytes, or 8388608 of 4096) with 2 GiB RAM, reference §2.3/§2.4:
- ESP 512 MiB (disk <= 100 GiB) from 1 MiB: 512-byte sectors 2048-1050623, 4Kn sectors 256-131327.
- BIOS boot 34-2047 on 512-byte disks only; p3 from 513 MiB to the last usable sector
  (512: 67108864 - 34 = 67108830; 4Kn: 8388608 - 6 = 8388602).
- LVM, all KiB: os = 32 GiB - 513 MiB = 33029120, hdgb = 31; swap = 2048 MiB = 2097152;
  rest = 30931968 -> rest_mb 30207 < 49152 -> root_mb = int(30207 / 2) & ~3 = 15100 -> root 15462400;
  rest 15469568 - minfree 4096 (hdgb <= 32) = 15465472 & ~0xFFF = 15462400;
  meta = max(1 GiB, rest / 100) = 1048576; data = 15462400 - 2 * 1048576 - 4096 = 13361152.
"""

from __future__ import annotations

from installer.core.config import Filesystem
from installer.storage.plan import (
    BtrfsPlan,
    Dataset,
    LogicalVolume,
    LvmPlan,
    Mount,
    Partition,
    PlannedDisk,
    Rename,
    StoragePlan,
    Vdev,
    ZfsPlan,
)

GiB = 1024**3
MiB = 1024**2
KiB = 1024

BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649"
ESP = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"
LVM = "E6D6D379-F507-44C2-A23C-238F2A3DF928"
ZFS = "6A898CC3-1DD2-11B2-99A6-080020736631"
LINUX = "0FC63DAF-8483-4772-8E79-3D69D8477DE4"

ROOT_UUID = "5a1c0e7e-3b7d-4c55-9f0e-2b1f4d6a8c01"
PROC = Mount("proc", "/proc", "proc", "defaults", 0, 0)


def part_path(disk_path: str, number: int) -> str:
    return f"{disk_path}{'p' if disk_path[-1].isdigit() else ''}{number}"


def disk(path: str, kind: str, *, lbs: int = 512, size: int = 32 * GiB, by_id: str | None = None) -> PlannedDisk:
    """The 3-partition GPT of reference §2.3 (no BIOS boot partition on 4Kn) with partition 3 of type `kind`."""
    sectors = size // lbs
    mib = MiB // lbs
    parts = []
    if lbs == 512:
        parts.append(Partition(1, "bios-boot", 34, 2047, (2047 - 34 + 1) * 512, BIOS_BOOT, part_path(path, 1)))
    parts.append(Partition(2, "esp", mib, 513 * mib - 1, 512 * MiB, ESP, part_path(path, 2)))
    last = sectors - (34 if lbs == 512 else 6)
    guid = {"lvm": LVM, "zfs": ZFS, "btrfs": LINUX}[kind]
    parts.append(Partition(3, kind, 513 * mib, last, (last - 513 * mib + 1) * lbs, guid, part_path(path, 3)))
    return PlannedDisk(path, path.removeprefix("/dev/"), lbs, size, tuple(parts), by_id)


def lvm_plan(fs: Filesystem = Filesystem.EXT4, *, path: str = "/dev/sda", lbs: int = 512) -> StoragePlan:
    d = disk(path, "lvm", lbs=lbs)
    lvs = (
        LogicalVolume("swap", 2097152 * KiB),
        LogicalVolume("root", 15462400 * KiB),
        LogicalVolume("data", 13361152 * KiB, thin_pool=True, metadata_bytes=1048576 * KiB),
    )
    options = "errors=remount-ro" if fs == Filesystem.EXT4 else "defaults"
    return StoragePlan(
        filesystem=fs,
        disks=(d,),
        lvm=LvmPlan("pve", (d.partitions[-1].path,), lvs, free_bytes=4096 * KiB),
        zfs=None,
        btrfs=None,
        mounts=(
            Mount("/dev/pve/root", "/", str(fs), options, 0, 1),
            Mount("UUID=ABCD-1234", "/boot/efi", "vfat", "defaults", 0, 1),
            Mount("/dev/pve/swap", "none", "swap", "sw", 0, 0),
            PROC,
        ),
        kernel_root="root=/dev/mapper/pve-root",
        storage=(),
        fs_uuids={"root": ROOT_UUID, f"esp:{path}": "ABCD-1234"},
        destroy=(),
        rename=(),
        warnings=(),
    )


ZFS_DISKS = ("/dev/sda", "/dev/sdb", "/dev/sdc", "/dev/sdd")


def by_id(path: str) -> str:
    return f"/dev/disk/by-id/ata-QEMU_HARDDISK_QM0000{ZFS_DISKS.index(path) + 1}"


def zfs_plan(vdev_types: tuple[tuple[str, int], ...] = (("mirror", 2),), *, lbs: int = 512,
             compress: str = "on", checksum: str = "on", copies: int = 1,
             root_properties: dict[str, str] | None = None) -> StoragePlan:
    count = sum(n for _, n in vdev_types)
    disks = tuple(disk(p, "zfs", lbs=lbs, by_id=by_id(p)) for p in ZFS_DISKS[:count])
    members = [f"{d.by_id}-part3" for d in disks]
    vdevs = []
    for vtype, n in vdev_types:
        vdevs.append(Vdev(vtype, tuple(members[:n])))  # type: ignore[arg-type]
        members = members[n:]
    datasets = (
        Dataset("rpool/ROOT", None, {}),
        Dataset("rpool/ROOT/pve-1", "/", {"acltype": "posix"}),
        Dataset("rpool/data", None, {}),
        Dataset("rpool/var-lib-vz", "/var/lib/vz", {}),
    )
    zfs = ZfsPlan("rpool", tuple(vdevs), 12, compress, checksum, copies, 204, datasets,
                  {"cachefile": "none", "ashift": "12"}, root_properties or {}, "rpool/ROOT/pve-1")
    return StoragePlan(
        filesystem=Filesystem.ZFS,
        disks=disks,
        lvm=None,
        zfs=zfs,
        btrfs=None,
        mounts=(Mount("rpool/ROOT/pve-1", "/", "zfs", "defaults", in_fstab=False),
                Mount("rpool/var-lib-vz", "/var/lib/vz", "zfs", "defaults", in_fstab=False), PROC),
        kernel_root="root=ZFS=rpool/ROOT/pve-1 boot=zfs",
        storage=(),
        fs_uuids={f"esp:{d.path}": f"00{i}0-ABCD" for i, d in enumerate(disks)},
        destroy=(),
        rename=(),
        warnings=(),
    )


def btrfs_plan(profile: str = "raid1", *, count: int = 2, options: str = "defaults,compress=zstd") -> StoragePlan:
    disks = tuple(disk(p, "btrfs") for p in ZFS_DISKS[:count])
    return StoragePlan(
        filesystem=Filesystem.BTRFS,
        disks=disks,
        lvm=None,
        zfs=None,
        btrfs=BtrfsPlan(profile, profile, tuple(d.partitions[-1].path for d in disks), options,
                        ("var/lib/pve/local-btrfs",)),
        mounts=(Mount(f"UUID={ROOT_UUID}", "/", "btrfs", options, 0, 1), PROC),
        kernel_root=f"root=UUID={ROOT_UUID}",
        storage=(),
        fs_uuids={"root": ROOT_UUID, **{f"esp:{d.path}": f"11{i}1-BEEF" for i, d in enumerate(disks)}},
        destroy=(),
        rename=(),
        warnings=(),
    )


def with_renames(plan: StoragePlan, *renames: Rename) -> StoragePlan:
    from dataclasses import replace

    return replace(plan, rename=tuple(renames))
