"""The kernel command line: the keel.* parameters that steer the live environment, and what carries over.

This is the one parser of `keel.mode`, `keel.answer`, `keel.fingerprint` and `keel.fault` in Python (the live
start script only dispatches on `keel.mode` and `console=` before Python runs), and of the fetch network
(`keel.ip=`, `keel.vlan=`, `keel.bond=`, `keel.ifname=`: dracut's syntax under Keel's prefix). Which parameters a
person added at the boot menu carry over to the installed system (`console=ttyS0,115200`, `nomodeset`, ...) is
decided here too (reference §1.3): what only the live medium needs is dropped.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

PROC_CMDLINE = Path("/proc/cmdline")
KEEL_PARAMS = ("keel.mode", "keel.answer", "keel.fingerprint", "keel.fault")

DROPPED_WORDS = frozenset({"ro", "rw", "quiet", "boot=live", "components", "noeject", "toram"})
DROPPED_PREFIXES = (
    "BOOT_IMAGE=", "root=", "splash=", "vga=", "ramdisk_size=", "initrd=", "BOOTIF=",
    "fetch=", "live-media", "findiso=", "keel.", "prox",
)


@dataclass(frozen=True)
class KernelParams:
    mode: str = "tui"
    answer_url: str | None = None
    fingerprint: str | None = None
    fault: str | None = None


def parse_kernel_params(cmdline: str) -> KernelParams:
    """The keel.* words of a kernel command line (the last of each wins, as with the kernel's own)."""
    found: dict[str, str] = {}
    for word in cmdline.split():
        key, sep, value = word.partition("=")
        if sep and key in KEEL_PARAMS and value:
            found[key] = value
    return KernelParams(
        mode=found.get("keel.mode", "tui"),
        answer_url=found.get("keel.answer"),
        fingerprint=found.get("keel.fingerprint"),
        fault=found.get("keel.fault"),
    )


def read_kernel_params(path: Path = PROC_CMDLINE) -> KernelParams:
    """keel.* of this machine's kernel command line; none set when the file cannot be read."""
    try:
        return parse_kernel_params(path.read_text())
    except OSError:
        return KernelParams()


def target_cmdline(kernel_cmdline: str) -> str:
    """The live system's kernel command line minus what belongs to the live medium, in the original order."""
    kept = [
        word for word in kernel_cmdline.split()
        if word not in DROPPED_WORDS and not word.startswith(DROPPED_PREFIXES)
    ]
    return " ".join(kept)


# The fetch network: what is brought up before the answer is fetched, on a LAN without DHCP (or with DHCP only
# on a VLAN or a bond). The values follow dracut's ip=, vlan=, bond= and ifname=; the names carry Keel's prefix
# because plain ip= is read by live-boot and initramfs-tools in a PXE boot (with their own syntax), and would
# carry over to the installed system's command line, where the initramfs would act on it again.

IP_FORMS = ("<address>:[<peer>]:[<gateway>]:<netmask>:[<hostname>]:<interface>:none[:<dns1>[:<dns2>]] "
            "or <interface>:dhcp")
VLAN_FORM = "<vlan name>:<parent interface>, the VLAN id at the end of the name (vlan20, eth0.20, vlan0020)"
BOND_FORM = "<bond name>:<nic>,<nic>...[:<option>=<value>,...]"
IFNAME_FORM = "<name>:<MAC>, the MAC as six hex pairs (aa:bb:cc:dd:ee:ff)"
BOND_MODES = {"active-backup": "active-backup", "1": "active-backup", "802.3ad": "802.3ad", "4": "802.3ad"}
BOND_OPTIONS = ("mode", "miimon", "primary", "lacp_rate", "xmit_hash_policy")
LACP_RATES = ("slow", "fast")
XMIT_HASH_POLICIES = ("layer2", "layer2+3", "layer3+4", "encap2+3", "encap3+4")
DEFAULT_MIIMON_MS = 100
IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")     # IFNAMSIZ less the NUL; no '/', ':' or blanks
MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$")
VLAN_ID = re.compile(r"(?:^vlan|\.)0*([0-9]+)$")
FIELD = re.compile(r"\[[^\]]*\]|[^:]*")           # one field of keel.ip=: an IPv6 address keeps its colons in []


class KernelParamError(ValueError):
    """A kernel parameter whose value cannot be used; the message names it, the value and what was expected."""


def _bad(key: str, value: str, expected: str) -> KernelParamError:
    return KernelParamError(f"{key}={value}: {expected}")


@dataclass(frozen=True)
class IpConfig:
    """keel.ip=: a static address (with gateway and DNS servers) or DHCP, on one interface."""

    interface: str                     # a NIC's kernel name, a keel.ifname= name, a bond or a VLAN
    dhcp: bool = False
    address: str | None = None         # "192.0.2.10/24", "2001:db8::10/64"
    gateway: str | None = None
    dns: tuple[str, ...] = ()
    hostname: str | None = None        # accepted as dracut has it; the live system keeps its own name


@dataclass(frozen=True)
class Vlan:
    name: str
    parent: str
    id: int


@dataclass(frozen=True)
class Bond:
    name: str
    slaves: tuple[str, ...]
    mode: str = "active-backup"        # or "802.3ad"
    miimon_ms: int = DEFAULT_MIIMON_MS
    primary: str | None = None
    lacp_rate: str | None = None
    xmit_hash_policy: str | None = None


@dataclass(frozen=True)
class NicName:
    """keel.ifname=: a name for the NIC with this MAC, to use in the other parameters."""

    name: str
    mac: str                           # lower case


@dataclass(frozen=True)
class FetchNetwork:
    addresses: tuple[IpConfig, ...] = ()
    vlans: tuple[Vlan, ...] = ()
    bonds: tuple[Bond, ...] = ()
    nic_names: tuple[NicName, ...] = ()

    @property
    def empty(self) -> bool:
        """Nothing to bring up (keel.ifname= alone names NICs but configures none)."""
        return not (self.addresses or self.vlans or self.bonds)


def parse_fetch_network(cmdline: str) -> FetchNetwork:
    """The fetch network of a kernel command line; KernelParamError for the first value that cannot be used."""
    addresses: list[IpConfig] = []
    vlans: list[Vlan] = []
    bonds: list[Bond] = []
    names: list[NicName] = []
    for word in cmdline.split():
        key, sep, value = word.partition("=")
        if not sep:
            continue
        if key == "keel.ip":
            addresses.append(_ip_config(value))
        elif key == "keel.vlan":
            vlans.append(_vlan(value))
        elif key == "keel.bond":
            bonds.append(_bond(value))
        elif key == "keel.ifname":
            names.append(_nic_name(value))
    network = FetchNetwork(tuple(addresses), tuple(vlans), tuple(bonds), tuple(names))
    _check_together(network)
    return network


def read_fetch_network(path: Path = PROC_CMDLINE) -> FetchNetwork:
    """The fetch network of this machine's kernel command line; none when the file cannot be read."""
    try:
        text = path.read_text()
    except OSError:
        return FetchNetwork()
    return parse_fetch_network(text)


def _interface_name(key: str, value: str, name: str, what: str) -> str:
    if not IFNAME.match(name):
        raise _bad(key, value, f"{what} {name!r} is not an interface name "
                                           "(1-15 letters, digits, '-', '_' or '.')")
    return name


def _ip_fields(value: str) -> list[str]:
    fields, pos = [], 0
    while True:
        match = FIELD.match(value, pos)
        assert match is not None           # the pattern matches the empty string
        fields.append(match.group().removeprefix("[").removesuffix("]"))
        pos = match.end()
        if pos >= len(value):
            return fields
        if value[pos] != ":":
            raise _bad("keel.ip", value, f"expected {IP_FORMS}")
        pos += 1


def _ip_address(value: str, text: str, what: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        raise _bad("keel.ip", value, f"{what} {text!r} is not an IPv4 or IPv6 address") from None


def _ip_config(value: str) -> IpConfig:
    fields = _ip_fields(value)
    if len(fields) == 2 and fields[1] == "dhcp":
        return IpConfig(_interface_name("keel.ip", value, fields[0], "interface"), dhcp=True)
    if not 7 <= len(fields) <= 9:
        raise _bad("keel.ip", value, f"expected {IP_FORMS}")
    address_text, _peer, gateway_text, netmask, hostname, interface, method, *dns_texts = fields
    if method not in ("none", "off"):
        raise _bad("keel.ip", value, f"the method (7th field) must be none for a static address, "
                                                 f"not {method!r}; for DHCP write <interface>:dhcp")
    address = _ip_address(value, address_text, "address")
    prefix = _prefix(value, address, netmask)
    gateway = _ip_address(value, gateway_text, "gateway") if gateway_text else None
    if gateway is not None and gateway.version != address.version:
        raise _bad("keel.ip", value, f"gateway {gateway} is not of the address's IP version")
    dns = tuple(str(_ip_address(value, text, "DNS server")) for text in dns_texts if text)
    return IpConfig(_interface_name("keel.ip", value, interface, "interface"), address=f"{address}/{prefix}",
                    gateway=str(gateway) if gateway else None, dns=dns, hostname=hostname or None)


def _prefix(value: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address, netmask: str) -> int:
    limit = address.max_prefixlen
    if netmask.isdigit() and 1 <= int(netmask) <= limit:
        return int(netmask)
    if address.version == 4 and "." in netmask:
        try:
            return ipaddress.IPv4Network(f"0.0.0.0/{netmask}").prefixlen
        except ValueError:
            pass
    shape = "a prefix length 1-32 or a dotted mask (255.255.255.0)" if limit == 32 else "a prefix length 1-128"
    raise _bad("keel.ip", value, f"netmask {netmask!r} is not {shape}")


def _vlan(value: str) -> Vlan:
    name, sep, parent = value.partition(":")
    if not sep or not name or not parent:
        raise _bad("keel.vlan", value, f"expected {VLAN_FORM}")
    _interface_name("keel.vlan", value, name, "VLAN name")
    _interface_name("keel.vlan", value, parent, "parent interface")
    found = VLAN_ID.search(name)
    if not found or not 1 <= int(found[1]) <= 4094:
        raise _bad("keel.vlan", value, f"the VLAN name {name!r} must end in a VLAN id 1-4094 "
                                                   "(vlan20, eth0.20, vlan0020)")
    return Vlan(name, parent, int(found[1]))


def _bond(value: str) -> Bond:
    name, _, rest = value.partition(":")
    slaves_text, _, options_text = rest.partition(":")
    if not name or not slaves_text:
        raise _bad("keel.bond", value, f"expected {BOND_FORM}")
    _interface_name("keel.bond", value, name, "bond name")
    slaves = tuple(_interface_name("keel.bond", value, s, "NIC") for s in slaves_text.split(","))
    if len(set(slaves)) != len(slaves):
        raise _bad("keel.bond", value, "a NIC is listed twice")
    options: dict[str, str] = {}
    for pair in filter(None, options_text.split(",")):
        key, sep, option = pair.partition("=")
        if not sep or key not in BOND_OPTIONS or not option:
            raise _bad("keel.bond", value, f"option {pair!r}: expected <option>=<value> with "
                                                       f"option one of {', '.join(BOND_OPTIONS)}")
        options[key] = option
    mode = BOND_MODES.get(options.get("mode", "active-backup"))
    if mode is None:
        raise _bad("keel.bond", value, f"mode {options['mode']!r}: expected active-backup or 802.3ad")
    miimon = options.get("miimon", str(DEFAULT_MIIMON_MS))
    if not miimon.isdigit():
        raise _bad("keel.bond", value, f"miimon {miimon!r}: expected milliseconds (100)")
    primary = options.get("primary")
    if primary is not None and (mode != "active-backup" or primary not in slaves):
        raise _bad("keel.bond", value, f"primary {primary!r}: expected one of the bond's NICs, "
                                                   "with mode=active-backup")
    lacp_rate, policy = options.get("lacp_rate"), options.get("xmit_hash_policy")
    if (lacp_rate or policy) and mode != "802.3ad":
        raise _bad("keel.bond", value, "lacp_rate and xmit_hash_policy need mode=802.3ad")
    if lacp_rate is not None and lacp_rate not in LACP_RATES:
        raise _bad("keel.bond", value, f"lacp_rate {lacp_rate!r}: expected slow or fast")
    if policy is not None and policy not in XMIT_HASH_POLICIES:
        raise _bad("keel.bond", value, f"xmit_hash_policy {policy!r}: expected one of "
                                                   f"{', '.join(XMIT_HASH_POLICIES)}")
    return Bond(name, slaves, mode, int(miimon), primary, lacp_rate, policy)


def _nic_name(value: str) -> NicName:
    name, sep, mac = value.partition(":")
    mac = mac.lower().replace("-", ":")
    if not sep or not name or not MAC.match(mac):
        raise _bad("keel.ifname", value, f"expected {IFNAME_FORM}")
    return NicName(_interface_name("keel.ifname", value, name, "name"), mac)


def _check_together(network: FetchNetwork) -> None:
    """What no single value shows: a name given twice, a NIC in two roles, a VLAN on a VLAN."""
    kinds: dict[str, str] = {}
    named = ([("keel.ifname", n.name) for n in network.nic_names] + [("keel.bond", b.name) for b in network.bonds]
             + [("keel.vlan", v.name) for v in network.vlans])
    for key, name in named:
        if name in kinds:
            raise KernelParamError(f"{key}: the name {name!r} is given twice (also by {kinds[name]}=)")
        kinds[name] = key
    macs: dict[str, str] = {}
    for nic in network.nic_names:
        if nic.mac in macs:
            raise KernelParamError(f"keel.ifname: MAC {nic.mac} is named twice ({macs[nic.mac]!r}, {nic.name!r})")
        macs[nic.mac] = nic.name
    enslaved: dict[str, str] = {}
    for bond in network.bonds:
        for slave in bond.slaves:
            if kinds.get(slave) in ("keel.bond", "keel.vlan"):
                raise KernelParamError(f"keel.bond: bond {bond.name!r}: {slave!r} is a {kinds[slave][5:]}; "
                                       "expected NICs only")
            if slave in enslaved:
                raise KernelParamError(f"keel.bond: NIC {slave!r} is in two bonds ({enslaved[slave]!r}, "
                                       f"{bond.name!r})")
            enslaved[slave] = bond.name
    for vlan in network.vlans:
        if kinds.get(vlan.parent) == "keel.vlan":
            raise KernelParamError(f"keel.vlan: VLAN {vlan.name!r}: the parent {vlan.parent!r} is a VLAN; "
                                   "expected a NIC or a bond")
        if vlan.parent in enslaved:
            raise KernelParamError(f"keel.vlan: VLAN {vlan.name!r}: the parent {vlan.parent!r} is in bond "
                                   f"{enslaved[vlan.parent]!r}; expected the VLAN on the bond")
    configured: set[str] = set()
    for ip in network.addresses:
        if ip.interface in enslaved:
            raise KernelParamError(f"keel.ip: {ip.interface!r} is in bond {enslaved[ip.interface]!r}; "
                                   "expected the address on the bond")
        if ip.interface in configured:
            raise KernelParamError(f"keel.ip: {ip.interface!r} is given twice; expected one keel.ip= per interface")
        configured.add(ip.interface)
