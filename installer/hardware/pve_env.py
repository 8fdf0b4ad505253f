"""Convert the Proxmox installer's recorded environment (run-env-info.json + run-env-udev.json) into a HardwareProfile.

Proxmox records a machine as two files (reference §1.2): `run-env-info.json` (disks as
`[index, path, sectors, model, logical block size, sysfs path]`, NICs, routes, DNS, DHCP hostname, memory,
boot type) and `run-env-udev.json` (udev properties of the disks keyed by disk index, and of the NICs keyed
by interface name). The compat corpus and real Proxmox users have such recordings; Keel reads them here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from installer.core.hardware import (
    Address,
    Disk,
    ExistingContent,
    HardwareProfile,
    NetworkRuntime,
    Nic,
    Route,
)


class PveEnvError(ValueError):
    """A run-env file does not have the shape Proxmox writes; the message names the file part."""


def load_json(path: str | Path) -> dict[str, Any]:
    """Read one run-env JSON file, with a one-line error naming the file."""
    try:
        data = json.loads(Path(path).read_text())
    except OSError as err:
        raise PveEnvError(f"{path}: cannot read: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise PveEnvError(f"{path}: not valid JSON (line {err.lineno}, column {err.colno}): {err.msg}") from err
    if not isinstance(data, dict):
        raise PveEnvError(f"{path}: expected a JSON object")
    return data


def merge_run_env(base: Mapping[str, Any], override: Mapping[str, Any] | None) -> dict[str, Any]:
    """A per-test `NAME.run-env.json` replaces the top-level keys it has (Proxmox's tests use whole files)."""
    merged = dict(base)
    if override:
        merged.update(override)
    return merged


def existing_from_udev(device: str, props: Mapping[str, str]) -> tuple[ExistingContent, ...]:
    """What udev's blkid probe says lives on `device` (a disk or a partition): partition table, LVM PV,
    ZFS/md/btrfs member, LUKS, or a plain filesystem."""
    found: list[ExistingContent] = []
    table = props.get("ID_PART_TABLE_TYPE")
    if table and props.get("DEVTYPE", "disk") == "disk":
        found.append(ExistingContent("partition-table", device, detail=table,
                                     group_id=props.get("ID_PART_TABLE_UUID", "")))
    fs_type = props.get("ID_FS_TYPE", "")
    label = props.get("ID_FS_LABEL", "")
    uuid = props.get("ID_FS_UUID", "")
    if fs_type == "LVM2_member":
        found.append(ExistingContent("lvm-pv", device, detail=fs_type,
                                     group=props.get("LVM_VG_NAME_COMPLETE", ""), group_id=""))
    elif fs_type == "zfs_member":
        found.append(ExistingContent("zfs-member", device, detail=fs_type, group=label, group_id=uuid))
    elif fs_type == "linux_raid_member":
        found.append(ExistingContent("md-member", device, detail=fs_type, group=label, group_id=uuid))
    elif fs_type == "btrfs":
        found.append(ExistingContent("btrfs-member", device, detail=fs_type, group=label, group_id=uuid))
    elif fs_type == "crypto_LUKS":
        found.append(ExistingContent("luks", device, detail=fs_type, group_id=uuid))
    elif fs_type:
        found.append(ExistingContent("filesystem", device, detail=fs_type, group=label, group_id=uuid))
    return tuple(found)


def _bus(name: str, props: Mapping[str, str]) -> str:
    if name.startswith("nvme"):
        return "nvme"
    if name.startswith("vd"):
        return "virtio"
    return props.get("ID_BUS", "")


def _disks(info: Mapping[str, Any], udev_disks: Mapping[str, Any]) -> tuple[Disk, ...]:
    disks = []
    for n, entry in enumerate(info.get("disks") or []):
        if not isinstance(entry, list) or len(entry) < 5:
            raise PveEnvError(f"run-env-info disks[{n}]: expected [index, path, sectors, model, block size, ...]")
        index, path, sectors, model, block = entry[:5]
        if not (isinstance(index, int) and isinstance(path, str) and isinstance(sectors, int)
                and isinstance(block, int)):
            raise PveEnvError(f"run-env-info disks[{n}]: wrong value types in {entry!r}")
        name = path.removeprefix("/dev/")
        props = udev_disks.get(str(index)) or {}
        # An override run-env may renumber disks; udev data only belongs to the disk it was recorded for.
        if props.get("DEVNAME", path) != path:
            props = {}
        props = {str(k): str(v) for k, v in props.items()}
        disks.append(Disk(
            name=name,
            path=path,
            size_bytes=sectors * 512,
            index=index,
            logical_block_size=block,
            physical_block_size=block,
            model=str(model or ""),
            serial=props.get("ID_SERIAL_SHORT", ""),
            bus=_bus(name, props),
            rotational=props.get("ID_ATA_ROTATION_RATE_RPM", "0") not in ("0", ""),
            removable=False,
            udev=props,
            existing=existing_from_udev(path, props),
        ))
    return tuple(disks)


def _mac_from_udev(props: Mapping[str, str]) -> str:
    name = props.get("ID_NET_NAME_MAC", "")
    if name.startswith("enx") and len(name) == 15:
        hexdigits = name[3:].lower()
        return ":".join(hexdigits[i:i + 2] for i in range(0, 12, 2))
    return ""


def _addresses(raw: Any) -> tuple[Address, ...]:
    out = []
    for item in raw or []:
        family = item.get("family")
        if family in ("inet", "inet6"):
            out.append(Address(family=family, address=str(item["address"]), prefix=int(item["prefix"])))
    return tuple(out)


def _nics(network: Mapping[str, Any], udev_nics: Mapping[str, Any]) -> tuple[Nic, ...]:
    interfaces = network.get("interfaces") or {}
    nics: dict[str, Nic] = {}
    for ifname, iface in interfaces.items():
        props = {str(k): str(v) for k, v in (udev_nics.get(ifname) or {}).items()}
        nics[ifname] = Nic(
            name=str(iface.get("name", ifname)),
            mac=str(iface.get("mac", "")).lower(),
            index=int(iface.get("index", 0)),
            driver=str(iface.get("driver") or props.get("ID_NET_DRIVER", "")),
            state=str(iface.get("state", "UNKNOWN")).upper(),
            addresses=_addresses(iface.get("addresses")),
            pinned_id=None if iface.get("pinned_id") is None else str(iface["pinned_id"]),
            udev=props,
        )
    # Links udev saw but the run env did not (recorded at another moment): known by their udev data only,
    # never pinned, since Proxmox gives pin ids from the run env.
    for ifname, raw in udev_nics.items():
        if ifname in nics or (interfaces and not isinstance(raw, Mapping)):
            continue
        props = {str(k): str(v) for k, v in raw.items()}
        nics[ifname] = Nic(
            name=ifname,
            mac=_mac_from_udev(props),
            index=int(props.get("IFINDEX", "0") or 0),
            driver=props.get("ID_NET_DRIVER", ""),
            udev=props,
        )
    return tuple(nics[name] for name in sorted(nics))


def _route(raw: Any) -> Route | None:
    if isinstance(raw, Mapping) and raw.get("dev") and raw.get("gateway"):
        return Route(dev=str(raw["dev"]), gateway=str(raw["gateway"]))
    return None


def _runtime(network: Mapping[str, Any]) -> NetworkRuntime:
    routes = network.get("routes") or {}
    dns = network.get("dns") or {}
    return NetworkRuntime(
        gateway4=_route(routes.get("gateway4")),
        gateway6=_route(routes.get("gateway6")),
        dns=tuple(str(d) for d in dns.get("dns") or []),
        domain=dns.get("domain") or None,
        hostname=network.get("hostname") or None,
    )


def profile_from_pve_env(run_env_info: Mapping[str, Any], run_env_udev: Mapping[str, Any]) -> HardwareProfile:
    """The HardwareProfile of the machine a Proxmox run-env recording describes."""
    if not isinstance(run_env_info, Mapping) or not isinstance(run_env_udev, Mapping):
        raise PveEnvError("run-env-info and run-env-udev must be JSON objects")
    network = run_env_info.get("network") or {}
    boot = run_env_info.get("boot_type", "bios")
    if boot not in ("bios", "efi"):
        raise PveEnvError(f"run-env-info boot_type: expected 'bios' or 'efi', got {boot!r}")
    try:
        return HardwareProfile(
            disks=_disks(run_env_info, run_env_udev.get("disks") or {}),
            nics=_nics(network, run_env_udev.get("nics") or {}),
            network=_runtime(network),
            memory_mib=int(run_env_info.get("total_memory") or 512),
            boot_mode=boot,
            secure_boot=bool(run_env_info.get("secure_boot", 0)),
            arch=str(run_env_info.get("arch") or "amd64"),
            cpu_vendor=str(run_env_info.get("cpu_vendor_id") or "unknown"),
            hvm=bool(run_env_info.get("hvm_supported", 0)),
            kernel_cmdline=str(run_env_info.get("kernel_cmdline", "")),
            country=run_env_info.get("country") or None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        if isinstance(err, PveEnvError):
            raise
        raise PveEnvError(f"run-env data has an unexpected shape: {err}") from err


def load_pve_env(info_path: str | Path, udev_path: str | Path, override: str | Path | None = None) -> HardwareProfile:
    """Read the two run-env files (and an optional per-test override) into a HardwareProfile."""
    info = load_json(info_path)
    if override is not None:
        info = merge_run_env(info, load_json(override))
    return profile_from_pve_env(info, load_json(udev_path))
