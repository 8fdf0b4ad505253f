"""The network files of the installed system: hostname, hosts, interfaces, resolv.conf and pinned NIC names."""

from __future__ import annotations

from installer.core.config import NetworkConfig
from installer.core.hardware import HardwareProfile, Nic

HOSTS_IPV6 = """\
# IPv6 names for hosts that speak IPv6
::1     ip6-localhost ip6-loopback
fe00::0 ip6-localnet
ff00::0 ip6-mcastprefix
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
ff02::3 ip6-allhosts
"""


def render_hostname(net: NetworkConfig) -> str:
    return f"{net.hostname}\n"


def render_hosts(net: NetworkConfig) -> str:
    return (
        "127.0.0.1 localhost.localdomain localhost\n"
        f"{net.address} {net.fqdn} {net.hostname}\n"
        "\n" + HOSTS_IPV6
    )


def render_resolv_conf(net: NetworkConfig) -> str:
    return f"search {net.domain}\nnameserver {net.dns}\n"


def installed_name(nic: Nic, net: NetworkConfig) -> str:
    """The NIC's name on the installed system: its pinned name when pinning maps its MAC, else its kernel name."""
    return net.pin_names.get(nic.mac.lower(), nic.name)


def _family(cidr: str) -> str:
    return "inet6" if ":" in cidr else "inet"


def render_interfaces(net: NetworkConfig, hardware: HardwareProfile) -> str:
    """/etc/network/interfaces for ifupdown2: the address on bridge `net.bridge` over the management NIC.

    Every other NIC is listed as `manual` so it can join bridges later; with `net.bridge` empty the address
    sits on the management NIC itself.
    """
    family = _family(net.cidr)
    mgmt = hardware.nic(net.interface)
    mgmt_name = installed_name(mgmt, net) if mgmt else net.interface
    lines = ["auto lo", "iface lo inet loopback", ""]
    static = [f"\taddress {net.cidr}", f"\tgateway {net.gateway}"] if net.gateway else [f"\taddress {net.cidr}"]
    if net.bridge:
        lines += [f"iface {mgmt_name} {family} manual", ""]
        lines += [f"auto {net.bridge}", f"iface {net.bridge} {family} static", *static,
                  f"\tbridge-ports {mgmt_name}", "\tbridge-stp off", "\tbridge-fd 0", ""]
    else:
        lines += [f"auto {mgmt_name}", f"iface {mgmt_name} {family} static", *static, ""]
    for nic in sorted(hardware.nics, key=lambda n: (n.index, n.name)):
        if nic.name in (net.interface, "lo"):
            continue
        lines += [f"iface {installed_name(nic, net)} {family} manual", ""]
    lines.append("source /etc/network/interfaces.d/*")
    return "\n".join(lines) + "\n"


def link_file_name(name: str) -> str:
    """Where the .link file for pinned name `name` goes (sorts before Debian's 99-default.link)."""
    return f"/etc/systemd/network/50-keel-{name}.link"


def render_link_files(net: NetworkConfig, hardware: HardwareProfile) -> dict[str, str]:
    """systemd .link files that give each NIC with a pinned name that name, keyed by their path on the target."""
    files: dict[str, str] = {}
    for nic in hardware.nics:
        name = net.pin_names.get(nic.mac.lower())
        if not name:
            continue
        files[link_file_name(name)] = (
            "# Written by the Keel installer: pins this NIC's name to its MAC address.\n"
            "[Match]\n"
            f"MACAddress={nic.mac.lower()}\n"
            "Type=ether\n"
            "\n"
            "[Link]\n"
            f"Name={name}\n"
        )
    return files
