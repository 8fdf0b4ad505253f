"""The /etc/pve/storage.cfg entries a new PVE installation starts with (reference §2.5), and those of the answer's
[[provision.storage]], which keel-firstboot registers once it has made each storage."""

from __future__ import annotations

from installer.core import provision
from installer.core.config import Filesystem, StorageSpec
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


def provision_entries(storages: tuple[StorageSpec, ...]) -> tuple[StorageEntry, ...]:
    """The entries of [[provision.storage]], as `pvesm add` writes them: the type's fixed keys first, then the rest
    in alphabetical order (Proxmox's SectionConfig order). Passwords and keyrings never go in: they are files
    under /etc/pve/priv. A local storage's pool or VG is named after its id."""
    return tuple(_provision_entry(s) for s in storages)


def _provision_entry(s: StorageSpec) -> StorageEntry:
    mount = f"{provision.MOUNT_BASE}/{s.id}"
    fixed: list[tuple[str, str]] = []
    rest: dict[str, str] = {"content": ",".join(s.content)}
    if s.nodes:
        rest["nodes"] = ",".join(s.nodes)
    if s.shared:
        rest["shared"] = "1"
    match s.type:
        case "dir":
            fixed.append(("path", s.path or mount))
            if s.disks:
                rest["is_mountpoint"] = "yes"
        case "lvmthin":
            fixed += [("thinpool", s.id), ("vgname", s.id)]
        case "zfspool":
            fixed.append(("pool", s.id))
            rest["mountpoint"] = f"/{s.id}"
        case "btrfs":
            fixed.append(("path", s.path or mount))
            rest["is_mountpoint"] = "yes"
        case "nfs":
            fixed += [("export", s.export or ""), ("path", mount), ("server", s.server or "")]
        case "cifs":
            fixed += [("path", mount), ("server", s.server or ""), ("share", s.share or "")]
            if s.username:
                rest["username"] = s.username
        case "iscsi":
            fixed += [("portal", s.portal or ""), ("target", s.target or "")]
        case "rbd":
            rest.update(monhost=s.monhost or "", pool=s.pool or provision.RBD_DEFAULT_POOL,
                        username=s.username or provision.CEPH_DEFAULT_USER)
        case "cephfs":
            fixed.append(("path", mount))
            rest.update(monhost=s.monhost or "", username=s.username or provision.CEPH_DEFAULT_USER)
    return StorageEntry(s.type, s.id, (*sorted(fixed), *sorted(rest.items())))
