"""Creating the planned ZFS pool and datasets, renaming an old pool, and exporting the pool when done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from installer.storage.plan import Rename, ZfsPlan

from .guard import ApplyError

if TYPE_CHECKING:
    pass


def vdev_args(zfs: ZfsPlan) -> list[str]:
    """The vdev part of `zpool create`: plain devices for a stripe, else the type word before its members."""
    args: list[str] = []
    for vdev in zfs.vdevs:
        if not vdev.devices:
            raise ApplyError(f"zfs.vdevs: a {vdev.type} vdev of pool {zfs.pool} has no device")
        if vdev.type != "stripe":
            args.append(vdev.type)
        args.extend(vdev.devices)
    return args


def zpool_create_argv(zfs: ZfsPlan) -> list[str]:
    """`zpool create -f -o cachefile=none -o ashift=N [-o ...] -O <root dataset property>... <pool> <vdevs>`.

    The root dataset's properties (reference §3.2) and the install's sync=disabled are set by the create itself:
    two `zfs set` calls less, about 2 s under TCG (issue 13). sync=standard is set again in finalize."""
    options = ["-o", "cachefile=none", "-o", f"ashift={zfs.ashift}"]
    for key, value in zfs.pool_properties.items():
        if key not in ("cachefile", "ashift"):
            options += ["-o", f"{key}={value}"]
    for key, value in {**root_dataset_properties(zfs), "sync": "disabled"}.items():
        options += ["-O", f"{key}={value}"]
    return ["zpool", "create", "-f", *options, zfs.pool, *vdev_args(zfs)]


def root_dataset_properties(zfs: ZfsPlan) -> dict[str, str]:
    """The pool's root dataset properties (reference §3.2: atime, relatime, compression, checksum and copies when
    not default); the plan's own list when it has one."""
    properties = dict(zfs.root_properties)
    if not properties:
        properties = {"atime": "on", "relatime": "on", "compression": zfs.compress}
        if zfs.checksum != "on":
            properties["checksum"] = zfs.checksum
        if zfs.copies != 1:
            properties["copies"] = str(zfs.copies)
    properties.pop("mountpoint", None)
    properties.pop("sync", None)
    return properties


def install_mountpoint(target: Path, final: str) -> str:
    """Where a dataset with final mountpoint `final` is mounted while installing: below the target."""
    return str(target) if final == "/" else str(target / final.lstrip("/"))


def zfs_create_argvs(zfs: ZfsPlan, target: Path) -> list[list[str]]:
    """`zfs create` for every planned dataset below the pool, in plan order (a parent before its children).

    Datasets with a final mountpoint get a temporary one below `target`; finalize sets the final one.
    """
    argvs = []
    for dataset in zfs.datasets:
        options: list[str] = []
        for key, value in dataset.properties.items():
            if key != "mountpoint":
                options += ["-o", f"{key}={value}"]
        if dataset.mountpoint is not None:
            options += ["-o", f"mountpoint={install_mountpoint(target, dataset.mountpoint)}"]
        argvs.append(["zfs", "create", *options, dataset.name])
    return argvs


def rename_pool_argvs(rename: Rename) -> list[list[str]]:
    """Import the pool with GUID `rename.id` under its new name without mounting anything, then export it."""
    return [
        ["zpool", "import", "-N", "-f", "-d", "/dev/disk/by-id", rename.id, rename.new],
        ["zpool", "export", rename.new],
    ]


def root_dataset(zfs: ZfsPlan) -> str:
    """The dataset the system boots from: the plan's bootfs, else the one mounted at /."""
    if zfs.bootfs:
        return zfs.bootfs
    root = next((d.name for d in zfs.datasets if d.mountpoint == "/"), None)
    if root is None:
        raise ApplyError(f"zfs.datasets: no dataset of pool {zfs.pool} has mountpoint /")
    return root


def handover_zfs_argvs(zfs: ZfsPlan) -> list[list[str]]:
    """The pool's properties that may change while the install still writes to it (reference §3.3): durable
    writes again and the boot dataset. They run right after the pool's write-back, beside the work in the chroot:
    each waits for a transaction group (1.5 s of the Finishing phase under TCG), and nothing in the install reads
    them; the chroot's own syncs are no-ops by then (installer/installed_system/nosync.py)."""
    return [["zfs", "set", "sync=standard", zfs.pool], ["zpool", "set", f"bootfs={root_dataset(zfs)}", zfs.pool]]


def finalize_zfs_argvs(zfs: ZfsPlan) -> list[list[str]]:
    """The final mountpoints, then the pool goes to the installed system exported (reference §3.3).

    Proxmox unmounts every dataset first (`zfs umount -a`) so that setting the final mountpoints mounts nothing on
    the live system. Here the datasets below the target are unmounted already (finalize starts by unmounting the
    target) and the mountpoints are set with `-u`, which never mounts; `zpool export` unmounts the rest (the pool's
    own datasets under /rpool). One command less, 2.5 s under TCG. The mountpoints are set only now, with the
    target unmounted: an install that fails earlier leaves no dataset of the pool it imported whose mountpoint is
    the live system's / (a `zfs mount -a` in the rescue shell would mount it over it)."""
    argvs = []
    for dataset in zfs.datasets:
        if dataset.mountpoint is not None:
            argvs.append(["zfs", "set", "-u", f"mountpoint={dataset.mountpoint}", dataset.name])
    argvs.append(["zpool", "export", zfs.pool])
    return argvs
