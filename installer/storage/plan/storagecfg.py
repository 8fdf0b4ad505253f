"""The /etc/pve/storage.cfg entries a new PVE installation starts with (reference §2.5)."""

from __future__ import annotations

from installer.core.config import Filesystem
from installer.storage.plan.types import StorageEntry

VZ_PATH = "/var/lib/vz"


def _local(content: str, *, disabled: bool = False) -> StorageEntry:
    return StorageEntry("dir", "local", (("path", VZ_PATH), ("content", content)), disabled)


def storage_entries(fs: Filesystem, *, product: str = "pve", vg: str = "pve", thin_pool: bool = False,
                    zfs_data: str = "rpool/data", btrfs_path: str = "/var/lib/pve/local-btrfs"
                    ) -> tuple[StorageEntry, ...]:
    """`local` (a directory) plus the guest storage of the chosen layout; nothing for non-PVE products."""
    if product != "pve":
        return ()
    if fs.uses_lvm:
        if not thin_pool:
            return (_local("iso,vztmpl,backup,rootdir,images,import"),)
        return (
            _local("iso,vztmpl,backup,import"),
            StorageEntry("lvmthin", "local-lvm",
                         (("thinpool", "data"), ("vgname", vg), ("content", "rootdir,images"))),
        )
    if fs == Filesystem.ZFS:
        return (
            _local("iso,vztmpl,backup,import"),
            StorageEntry("zfspool", "local-zfs", (("pool", zfs_data), ("sparse", ""), ("content", "images,rootdir"))),
        )
    return (
        _local("iso,vztmpl,backup,import", disabled=True),
        StorageEntry("btrfs", "local-btrfs",
                     (("path", btrfs_path), ("content", "iso,vztmpl,backup,images,rootdir,import"))),
    )
