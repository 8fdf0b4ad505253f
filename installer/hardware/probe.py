"""Probe the running machine into a HardwareProfile: disks and NICs (pyudev + sysfs), existing storage, network
runtime (routes, DNS, DHCP host name), memory, firmware, CPU and DMI.

Disks follow the Proxmox enumeration (reference §2.1): every /sys/block device except ram, loop, md, dm, fd,
sr (and zram, nbd), with udev DEVTYPE=disk and no ID_CDROM; the disk holding the live medium (mounted at
/run/live/medium, an iso9660 signature on the whole disk, or a filesystem labelled KEEL) is kept but marked
`install_medium`, so it is shown and never offered as a target. External tools (lsblk, pvs, zpool, mdadm,
ip) run through the one command runner; each parser is a pure function of the tool's output and is tested on
canned outputs. A tool that is missing or fails only means less detail, never a failed probe.
"""

from __future__ import annotations

import json
import os
import platform
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
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
from installer.hardware.pve_env import existing_from_udev
from installer.host.lsblk import parse_lsblk, rows_by_path
from installer.host.mounts import mount_source, parse_mountinfo
from installer.runner import CommandError, Runner

SKIPPED_DISK_PREFIXES = ("ram", "loop", "md", "dm-", "fd", "sr", "zram", "nbd")
LIVE_MEDIUM_MOUNT = "/run/live/medium"
MEDIUM_LABEL = "KEEL"
SECURE_BOOT_VAR = "SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
TOOL_TIMEOUT = 30.0

# /sys/devices/virtual/dmi/id file -> profile key (the names the answer-fetch payload uses, reference §7.3)
DMI_FILES = {
    "product_serial": "system.serial", "product_sku": "system.sku", "product_uuid": "system.uuid",
    "product_name": "system.name", "board_asset_tag": "baseboard.asset_tag", "board_serial": "baseboard.serial",
    "board_name": "baseboard.name", "chassis_serial": "chassis.serial", "chassis_sku": "chassis.sku",
    "chassis_asset_tag": "chassis.asset_tag",
}
ARCH = {"x86_64": "amd64", "aarch64": "arm64", "i686": "i386"}


# ---- parsers of files and tool output (pure) ----

def parse_meminfo(text: str) -> int:
    """MemTotal in MiB (512 when absent, as Proxmox assumes)."""
    found = re.search(r"^MemTotal:\s+(\d+)\s*kB", text, re.MULTILINE)
    return int(found[1]) // 1024 if found else 512


def parse_cpuinfo(text: str) -> tuple[str, bool]:
    """(vendor id, hardware virtualisation available) from /proc/cpuinfo."""
    vendor = re.search(r"^vendor_id\s*:\s*(\S+)", text, re.MULTILINE)
    flags = re.search(r"^flags\s*:\s*(.*)$", text, re.MULTILINE)
    words = set(flags[1].split()) if flags else set()
    return (vendor[1] if vendor else "unknown"), bool(words & {"vmx", "svm"})


def parse_resolv_conf(text: str) -> tuple[tuple[str, ...], str | None]:
    """(nameservers, search/domain's first entry) from resolv.conf."""
    servers: list[str] = []
    domain = None
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1])
        elif len(words) >= 2 and words[0] in ("search", "domain") and domain is None:
            domain = words[1].rstrip(".")
    return tuple(servers), domain


def parse_dhclient_leases(text: str) -> str | None:
    """The host name (DHCP option 12) of the last lease in an ISC dhclient lease file."""
    names = re.findall(r'option\s+host-name\s+"([^"]*)"\s*;', text)
    return names[-1] if names else None


def parse_networkd_lease(text: str) -> str | None:
    found = re.search(r"^HOSTNAME=(\S+)", text, re.MULTILINE)
    return found[1] if found else None


@dataclass(frozen=True)
class LinkInfo:
    name: str
    index: int
    mac: str
    state: str
    link_type: str
    addresses: tuple[Address, ...]


def parse_ip_addr(text: str) -> dict[str, LinkInfo]:
    """`ip -j addr` -> links; addresses only global ones (no link-local) and only on UP links."""
    links = {}
    for item in json.loads(text or "[]"):
        state = str(item.get("operstate", "UNKNOWN")).upper()
        addresses = tuple(
            Address(family=a["family"], address=a["local"], prefix=int(a["prefixlen"]))
            for a in item.get("addr_info", [])
            if a.get("family") in ("inet", "inet6") and a.get("scope", "global") == "global"
        ) if state == "UP" else ()
        links[item["ifname"]] = LinkInfo(
            name=item["ifname"], index=int(item.get("ifindex", 0)), mac=str(item.get("address", "")).lower(),
            state=state, link_type=str(item.get("link_type", "")), addresses=addresses,
        )
    return links


def parse_default_route(text: str) -> Route | None:
    """The first default route of `ip -j route show default` (or `ip -j -6 ...`)."""
    for item in json.loads(text or "[]"):
        if item.get("dst") == "default" and item.get("gateway") and item.get("dev"):
            return Route(dev=item["dev"], gateway=item["gateway"])
    return None


def parse_pvs(text: str) -> dict[str, tuple[str, str]]:
    """`pvs --reportformat json -o pv_name,vg_name,vg_uuid` -> {PV device: (VG name, VG UUID)}."""
    out = {}
    for report in json.loads(text or "{}").get("report", []):
        for pv in report.get("pv", []):
            if pv.get("pv_name"):
                out[pv["pv_name"]] = (pv.get("vg_name", ""), pv.get("vg_uuid", ""))
    return out


@dataclass(frozen=True)
class ImportablePool:
    name: str
    id: str
    state: str
    devices: tuple[str, ...]   # member device names as zpool prints them ("sda3", "nvme0n1p3", by-id names)


def parse_zpool_import(text: str) -> list[ImportablePool]:
    """The pools `zpool import` (without arguments) lists as importable."""
    pools: list[ImportablePool] = []
    blocks = re.split(r"^\s*pool:\s*", text, flags=re.MULTILINE)[1:]
    for block in blocks:
        lines = block.splitlines()
        name = lines[0].strip()
        pool_id = re.search(r"^\s*id:\s*(\d+)", block, re.MULTILINE)
        state = re.search(r"^\s*state:\s*(\S+)", block, re.MULTILINE)
        devices: list[str] = []
        config = block.split("config:", 1)[1] if "config:" in block else ""
        for line in config.splitlines():
            words = line.split()
            if len(words) < 2 or words[0] in (name, "NAME"):
                continue
            if re.match(r"^(mirror|raidz\d?|draid|spare|log|cache|special|dedup|replacing)(-\d+)?", words[0]):
                continue
            devices.append(words[0])
        pools.append(ImportablePool(name, pool_id[1] if pool_id else "", state[1] if state else "", tuple(devices)))
    return pools


@dataclass(frozen=True)
class MdArray:
    name: str
    uuid: str
    devices: tuple[str, ...]


def parse_mdadm_scan(text: str) -> list[MdArray]:
    """`mdadm --examine --scan --verbose`: ARRAY lines with UUID= and name=, then devices=a,b."""
    arrays: list[MdArray] = []
    current: dict[str, str] | None = None
    for line in [*text.splitlines(), "ARRAY"]:
        words = line.split()
        if words and words[0] == "ARRAY":
            if current is not None:
                arrays.append(MdArray(current.get("name") or current.get("device", ""), current.get("UUID", ""),
                                      tuple(d for d in current.get("devices", "").split(",") if d)))
            current = {"device": words[1] if len(words) > 1 else ""}
            words = words[2:]
        if current is None:
            continue
        for word in words:
            key, eq, value = word.partition("=")
            if eq:
                current[key] = value
    return arrays


@dataclass(frozen=True)
class BtrfsFilesystem:
    label: str
    uuid: str
    devices: tuple[str, ...]


def parse_btrfs_show(text: str) -> list[BtrfsFilesystem]:
    """`btrfs filesystem show`: each filesystem's label, UUID and member device paths."""
    found: list[BtrfsFilesystem] = []
    for block in re.split(r"^(?=Label:)", text, flags=re.MULTILINE):
        head = re.match(r"Label:\s+(?:'(.*)'|none)\s+uuid:\s+(\S+)", block)
        if head:
            devices = tuple(re.findall(r"^\s*devid\s+\d+\s.*\bpath\s+(\S+)", block, re.MULTILINE))
            found.append(BtrfsFilesystem(head[1] or "", head[2], devices))
    return found


def secure_boot_enabled(efivar: bytes) -> bool:
    """An efivarfs variable is 4 attribute bytes and the value; SecureBoot's value 1 means on."""
    return len(efivar) >= 5 and efivar[4] == 1


# ---- the probe (reads the system) ----

class Probe:
    """Reads one machine. `root` prefixes every file path (tests give a fake tree); `context` is pyudev's."""

    def __init__(self, runner: Runner | None = None, *, root: Path = Path("/"), context: Any = None):
        self.runner = runner or Runner()
        self.root = root
        self._context = context

    @property
    def context(self) -> Any:
        if self._context is None:
            import pyudev

            self._context = pyudev.Context()
        return self._context

    def _read(self, path: str, default: str = "") -> str:
        try:
            return (self.root / path.lstrip("/")).read_text(errors="replace").strip()
        except OSError:
            return default

    def _run(self, argv: list[str]) -> str:
        try:
            return self.runner.run(argv, timeout=TOOL_TIMEOUT, check=False).stdout
        except CommandError:
            return ""

    def _json_tool(self, argv: list[str], parse: Any, empty: Any) -> Any:
        try:
            return parse(self._run(argv))
        except (ValueError, KeyError, TypeError):
            return empty

    # disks

    def disk_devices(self) -> list[Any]:
        """pyudev devices of the candidate disks, in /sys/block name order."""
        found = []
        for dev in self.context.list_devices(subsystem="block", DEVTYPE="disk"):
            props = dict(dev.properties)
            if dev.sys_name.startswith(SKIPPED_DISK_PREFIXES) or any(k.startswith("ID_CDROM") for k in props):
                continue
            found.append(dev)
        return sorted(found, key=lambda d: d.sys_name)

    def disks(self) -> tuple[Disk, ...]:
        # The five tools read the disks independently: side by side, while udev's list is read here (one after
        # the other they took 1.2 s warm and several seconds from a cold live medium under TCG).
        with ThreadPoolExecutor(max_workers=5, thread_name_prefix="probe") as pool:
            lsblk_job = pool.submit(self._json_tool, ["lsblk", "--json", "-O", "--bytes"],
                                    lambda text: rows_by_path(parse_lsblk(text)), {})
            pvs_job = pool.submit(self._json_tool, ["pvs", "--reportformat", "json", "-o", "pv_name,vg_name,vg_uuid"],
                                  parse_pvs, {})
            pools_job = pool.submit(self._run, ["zpool", "import"])
            arrays_job = pool.submit(self._run, ["mdadm", "--examine", "--scan", "--verbose"])
            btrfs_job = pool.submit(self._run, ["btrfs", "filesystem", "show"])
            medium = self._medium_disk()
            devices = self.disk_devices()
            lsblk, pvs = lsblk_job.result(), pvs_job.result()
            pools = parse_zpool_import(pools_job.result())
            arrays = parse_mdadm_scan(arrays_job.result())
            btrfs = parse_btrfs_show(btrfs_job.result())
        disks = []
        for index, dev in enumerate(devices):
            name = dev.sys_name
            sys_block = f"/sys/block/{name}"
            sectors = int(self._read(f"{sys_block}/size", "0") or 0)
            if sectors == 0:
                continue  # an empty card reader slot or a detached device
            props = {str(k): str(v) for k, v in dict(dev.properties).items()}
            path = props.get("DEVNAME", f"/dev/{name}")
            _fill_from_lsblk(props, lsblk.get(path, {}))
            parts = sorted((c for c in dev.children if c.device_type == "partition"), key=lambda c: c.sys_name)
            existing = list(existing_from_udev(path, props))
            part_labels = []
            for part in parts:
                pprops = {str(k): str(v) for k, v in dict(part.properties).items()}
                ppath = pprops.get("DEVNAME", f"/dev/{part.sys_name}")
                _fill_from_lsblk(pprops, lsblk.get(ppath, {}))
                part_labels.append(pprops.get("ID_FS_LABEL", ""))
                existing.append(ExistingContent("partition", ppath, detail=pprops.get("ID_PART_ENTRY_TYPE", ""),
                                                group=pprops.get("ID_PART_ENTRY_NAME", "")))
                existing.extend(existing_from_udev(ppath, {**pprops, "DEVTYPE": "partition"}))
            existing = _enrich(existing, pvs, pools, arrays, btrfs)
            is_medium = (name == medium or props.get("ID_FS_TYPE") == "iso9660"
                         or MEDIUM_LABEL in {props.get("ID_FS_LABEL", ""), *part_labels})
            block = int(self._read(f"{sys_block}/queue/logical_block_size", "512") or 512)
            disks.append(Disk(
                name=name,
                path=path,
                size_bytes=sectors * 512,
                index=index,
                logical_block_size=block,
                physical_block_size=int(self._read(f"{sys_block}/queue/physical_block_size", str(block)) or block),
                model=self._read(f"{sys_block}/device/model") or props.get("ID_MODEL", "").replace("_", " "),
                serial=props.get("ID_SERIAL_SHORT") or self._read(f"{sys_block}/device/serial"),
                bus=_bus(name, props),
                rotational=self._read(f"{sys_block}/queue/rotational", "0") == "1",
                removable=self._read(f"{sys_block}/removable", "0") == "1",
                install_medium=is_medium,
                udev=props,
                existing=tuple(existing),
            ))
        return tuple(disks)

    def _medium_disk(self) -> str | None:
        source = mount_source(parse_mountinfo(self._read("/proc/self/mountinfo")), LIVE_MEDIUM_MOUNT)
        if not source or not source.startswith("/dev/"):
            return None
        name = source.removeprefix("/dev/")
        sys_path = self.root / "sys/class/block" / name
        if (sys_path / "partition").exists():
            return Path(os.path.realpath(sys_path)).parent.name
        return name

    # network

    def nics(self) -> tuple[Nic, ...]:
        links = self._json_tool(["ip", "-j", "addr"], parse_ip_addr, {})
        udev = {dev.sys_name: {str(k): str(v) for k, v in dict(dev.properties).items()}
                for dev in self.context.list_devices(subsystem="net")}
        names = sorted(set(udev) | set(links) - {"lo"}, key=lambda n: (links[n].index if n in links else 1 << 30, n))
        nics = []
        pinned = 0
        for name in names:
            if name == "lo":
                continue
            link = links.get(name)
            sys_net = f"/sys/class/net/{name}"
            physical = ((self.root / sys_net.lstrip("/") / "device").exists()
                        and not (self.root / sys_net.lstrip("/") / "device/physfn").exists()
                        and self._read(f"{sys_net}/type", "1") == "1")
            driver_link = self.root / sys_net.lstrip("/") / "device/driver"
            driver = udev.get(name, {}).get("ID_NET_DRIVER") or (
                Path(os.path.realpath(driver_link)).name if driver_link.exists() else "")
            nics.append(Nic(
                name=name,
                mac=(link.mac if link else self._read(f"{sys_net}/address")).lower(),
                index=link.index if link else int(self._read(f"{sys_net}/ifindex", "0") or 0),
                driver=driver,
                state=link.state if link else self._read(f"{sys_net}/operstate", "unknown").upper(),
                addresses=link.addresses if link else (),
                pinned_id=str(pinned) if physical else None,
                udev=udev.get(name, {}),
            ))
            pinned += physical
        return tuple(sorted(nics, key=lambda n: n.name))

    def network_runtime(self) -> NetworkRuntime:
        gw4 = self._json_tool(["ip", "-j", "route", "show", "default"], parse_default_route, None)
        gw6 = self._json_tool(["ip", "-j", "-6", "route", "show", "default"], parse_default_route, None)
        dns, domain = parse_resolv_conf(self._read("/etc/resolv.conf"))
        return NetworkRuntime(gateway4=gw4, gateway6=gw6, dns=dns, domain=domain, hostname=self._dhcp_hostname())

    def _dhcp_hostname(self) -> str | None:
        lease_dirs = [("var/lib/dhcp", "dhclient*.leases", parse_dhclient_leases),
                      ("run/systemd/netif/leases", "*", parse_networkd_lease)]
        for directory, pattern, parse in lease_dirs:
            for lease in sorted((self.root / directory).glob(pattern)):
                try:
                    name = parse(lease.read_text(errors="replace"))
                except OSError:
                    continue
                if name:
                    return name.split(".")[0]
        return None

    # the rest of the machine

    def firmware(self) -> tuple[str, bool]:
        efi = (self.root / "sys/firmware/efi").is_dir()
        var = self.root / "sys/firmware/efi/efivars" / SECURE_BOOT_VAR
        try:
            secure = efi and secure_boot_enabled(var.read_bytes())
        except OSError:
            secure = False
        return ("efi" if efi else "bios"), secure

    def dmi(self) -> dict[str, str]:
        out = {}
        for file, key in DMI_FILES.items():
            value = self._read(f"/sys/devices/virtual/dmi/id/{file}")
            if value:
                out[key] = value
        return out

    def profile(self) -> HardwareProfile:
        boot_mode, secure = self.firmware()
        vendor, hvm = parse_cpuinfo(self._read("/proc/cpuinfo"))
        return HardwareProfile(
            disks=self.disks(),
            nics=self.nics(),
            network=self.network_runtime(),
            memory_mib=parse_meminfo(self._read("/proc/meminfo")),
            boot_mode=boot_mode,
            secure_boot=secure,
            arch=ARCH.get(platform.machine(), platform.machine()),
            cpu_vendor=vendor,
            hvm=hvm,
            kernel_cmdline=self._read("/proc/cmdline"),
            dmi=self.dmi(),
        )


def _fill_from_lsblk(props: dict[str, str], row: Mapping[str, Any]) -> None:
    """Without a running udevd the udev database lacks blkid's ID_FS_*; lsblk probes them itself."""
    mapping = {"fstype": "ID_FS_TYPE", "label": "ID_FS_LABEL", "uuid": "ID_FS_UUID", "pttype": "ID_PART_TABLE_TYPE",
               "parttype": "ID_PART_ENTRY_TYPE", "partlabel": "ID_PART_ENTRY_NAME", "serial": "ID_SERIAL_SHORT",
               "wwn": "ID_WWN"}
    for column, key in mapping.items():
        value = row.get(column)
        if value and key not in props:
            props[key] = str(value)


def _enrich(existing: list[ExistingContent], pvs: Mapping[str, tuple[str, str]], pools: list[ImportablePool],
            arrays: list[MdArray], btrfs: list[BtrfsFilesystem]) -> list[ExistingContent]:
    """Add VG names/UUIDs from pvs, pool names/ids from zpool import, md names/UUIDs from mdadm, btrfs
    labels/UUIDs from btrfs filesystem show."""
    out = []
    for item in existing:
        short = item.device.removeprefix("/dev/")
        if item.kind == "lvm-pv" and item.device in pvs:
            vg, uuid = pvs[item.device]
            item = ExistingContent(item.kind, item.device, item.detail, vg or item.group, uuid)
        elif item.kind == "zfs-member":
            pool = next((p for p in pools if any(d == short or d.endswith(short) for d in p.devices)), None)
            if pool:
                item = ExistingContent(item.kind, item.device, item.detail, pool.name, pool.id)
        elif item.kind == "md-member":
            array = next((a for a in arrays if item.device in a.devices), None)
            if array:
                item = ExistingContent(item.kind, item.device, item.detail, array.name, array.uuid)
        elif item.kind == "btrfs-member":
            fs = next((f for f in btrfs if item.device in f.devices), None)
            if fs:
                item = ExistingContent(item.kind, item.device, item.detail, fs.label or item.group, fs.uuid)
        out.append(item)
    return out


def _bus(name: str, props: Mapping[str, str]) -> str:
    if name.startswith("nvme"):
        return "nvme"
    if name.startswith("vd"):
        return "virtio"
    return props.get("ID_BUS", "")


def probe(runner: Runner | None = None) -> HardwareProfile:
    """The HardwareProfile of the machine this runs on."""
    return Probe(runner).profile()


def device_info(profile: HardwareProfile, kind: str = "all") -> dict[str, dict[str, dict[str, str]]]:
    """The udev properties filters see, keyed by kernel name (`keel-answer device-info`)."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    if kind in ("all", "disk"):
        out["disks"] = {d.name: dict(sorted(d.udev.items())) for d in profile.disks if not d.install_medium}
    if kind in ("all", "network"):
        out["nics"] = {n.name: dict(sorted(n.udev.items())) for n in profile.nics}
    return out
