"""The ZFS part of a plan (reference §2.6, §3): pool `rpool`, its vdev topology, properties and datasets."""

from __future__ import annotations

from collections.abc import Sequence

from installer.core.config import ZfsOptions, ZfsRaid
from installer.storage.plan.types import Dataset, Vdev, VdevType, ZfsPlan

POOL = "rpool"

_SINGLE_VDEV: dict[ZfsRaid, VdevType] = {
    ZfsRaid.RAID1: "mirror",
    ZfsRaid.RAIDZ1: "raidz1",
    ZfsRaid.RAIDZ2: "raidz2",
    ZfsRaid.RAIDZ3: "raidz3",
}


def vdevs(raid: ZfsRaid, devices: Sequence[str]) -> tuple[Vdev, ...]:
    """RAID0 stripes all devices; RAID10 mirrors consecutive pairs in selection order; the rest is one vdev."""
    if raid == ZfsRaid.RAID0:
        return (Vdev("stripe", tuple(devices)),)
    if raid == ZfsRaid.RAID10:
        return tuple(Vdev("mirror", tuple(devices[i:i + 2])) for i in range(0, len(devices), 2))
    return (Vdev(_SINGLE_VDEV[raid], tuple(devices)),)


def zfs_plan(opts: ZfsOptions, devices: Sequence[str], arc_max_mib: int, product: str = "pve") -> ZfsPlan:
    """Pool creation options, root-dataset properties and the datasets Proxmox creates, with final mountpoints."""
    root_props = {"atime": "on", "relatime": "on", "compression": opts.compress}
    if opts.checksum != "on":
        root_props["checksum"] = opts.checksum
    if opts.copies != 1:
        root_props["copies"] = str(opts.copies)
    datasets = [
        Dataset(f"{POOL}/ROOT", None, {}),
        Dataset(f"{POOL}/ROOT/{product}-1", "/", {"acltype": "posix"}),
    ]
    if product == "pve":
        datasets.append(Dataset(f"{POOL}/data", None, {}))
        datasets.append(Dataset(f"{POOL}/var-lib-vz", "/var/lib/vz", {}))
    return ZfsPlan(
        pool=POOL,
        vdevs=vdevs(opts.raid, devices),
        ashift=opts.ashift,
        compress=opts.compress,
        checksum=opts.checksum,
        copies=opts.copies,
        arc_max_mib=arc_max_mib,
        datasets=tuple(datasets),
        pool_properties={"cachefile": "none", "ashift": str(opts.ashift)},
        root_properties=root_props,
        bootfs=f"{POOL}/ROOT/{product}-1",
    )
