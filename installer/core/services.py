"""The rules of [provision.services] accounts, sysctl, packages and firewall in one place, for the answer file, its
resolution and the installed system's files: Debian's user-name rule and the names the system owns, the sysctl.d key
syntax, Debian package names, and the nftables baseline's ports and the networks they are open to.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence

from installer.core import checks

# adduser.conf(5)'s NAME_REGEX default on Debian 13, without the trailing "$" of Samba machine accounts
NAME_REGEX = re.compile(r"^[a-z][a-z0-9_-]*$")
USER_NAME_MAX = 32                      # useradd(8): user names are at most 32 characters long
# Debian's base-passwd accounts and groups, and the system users of the payload's packages: a user of the answer
# never takes one of them over (the installer also refuses any name the installed system already has).
SYSTEM_NAMES = frozenset((
    "root", "daemon", "bin", "sys", "sync", "games", "man", "lp", "mail", "news", "uucp", "proxy", "www-data",
    "backup", "list", "irc", "gnats", "nobody", "nogroup", "adm", "tty", "disk", "kmem", "dialout", "fax", "voice",
    "cdrom", "floppy", "tape", "sudo", "audio", "dip", "operator", "src", "shadow", "utmp", "video", "sasl",
    "plugdev", "staff", "users", "input", "kvm", "render", "sgx", "crontab", "messagebus", "sshd", "postfix",
    "postdrop", "tcpdump", "statd", "ceph", "tss", "polkitd", "lxc-dnsmasq", "dnsmasq", "uuidd", "netdev",
))
SYSTEM_PREFIXES = ("systemd-",)

SSH_PORT = 22
COROSYNC_PORTS = (5405, 5412)           # knet: 5405 and up, one port per link (Proxmox opens 5405-5412)

# one name of a sysctl.d(5) key; globs are allowed ("net.ipv4.conf.*.rp_filter")
_SYSCTL_NAME = re.compile(r"^[A-Za-z0-9_*?\[\]:@+-]+$")
# Debian Policy 5.6.1: lower-case letters, digits, +, - and ., at least two characters, starting alphanumeric
_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def user_name_problem(name: str) -> str | None:
    if problem := checks.template_problem(name):
        return problem
    if name == "root":
        return "'root' is set up by [global] (root-password, root-ssh-keys); name another user here"
    if not NAME_REGEX.match(name) or len(name) > USER_NAME_MAX:
        return (f"'{name}' is not a user name Debian accepts: a lower-case letter first, then lower-case letters, "
                f"digits, '_' or '-', at most {USER_NAME_MAX} characters (NAME_REGEX in adduser.conf(5))")
    if name in SYSTEM_NAMES or name.startswith(SYSTEM_PREFIXES):
        return f"'{name}' is a system account or group of the installed system; choose another user name"
    return None


def group_name_problem(group: str) -> str | None:
    if not re.match(r"^[a-z_][a-z0-9_-]*$", group) or len(group) > USER_NAME_MAX:
        return f"'{group}' is not a group name (lower-case letters, digits, '_' and '-', a letter or '_' first)"
    return None


def sysctl_key_problem(key: str) -> str | None:
    """Names separated by "." or, when one holds a dot (a VLAN "eth0.100"), by "/"; a leading "-" tells
    systemd-sysctl to ignore a key the kernel does not have."""
    path = key.removeprefix("-")
    names = path.split("/") if "/" in path else path.split(".")
    if len(names) < 2 or not all(_SYSCTL_NAME.match(n.replace(".", "_") if "/" in path else n) for n in names):
        return (f"'{key}' is not a sysctl key like 'vm.swappiness' or 'net.ipv4.conf.all.forwarding' (names "
                "separated by dots, or by slashes when a name holds a dot: 'net/ipv4/conf/eth0.100/forwarding')")
    return None


def sysctl_value_problem(value: str | int) -> str | None:
    if isinstance(value, int):
        return None
    if not value.strip() or checks.control_character_problem(value):
        return "is empty or spans lines; a sysctl value is one line (\"4096 87380 6291456\")"
    return None


def sysctl_value(value: str | int) -> str:
    return str(value).strip()


def package_name_problem(name: str) -> str | None:
    if not _PACKAGE.match(name):
        return (f"'{name}' is not a Debian package name (lower-case letters, digits, '+', '-' and '.', at least "
                "two characters, a letter or digit first)")
    return None


def network_problem(cidr: str) -> str | None:
    """A network in CIDR notation; host bits may be set ("192.168.1.10/24" is the network 192.168.1.0/24)."""
    if problem := checks.template_problem(cidr):
        return problem
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return f"'{cidr}' is not a network like \"192.168.1.0/24\" or \"2001:db8::/64\""
    if "/" not in cidr:
        return f"'{cidr}' has no prefix length: write the network, like \"{cidr}/24\""
    return None


def normal_network(cidr: str) -> str:
    return str(ipaddress.ip_network(cidr, strict=False))


def cluster_networks(links: Sequence[str], management_cidr: str,
                     listed: Sequence[str]) -> tuple[tuple[str, ...], list[str]]:
    """The networks corosync and the join service are open to, and a problem for each link address they miss.

    A link address in a listed network needs nothing more; one in the management network opens that network (the
    management address's prefix: link0 = "from-network" is the usual case). A link address in neither has no
    network Keel could know without guessing its prefix, so the answer must list it."""
    networks = [ipaddress.ip_network(n, strict=False) for n in listed]
    management = ipaddress.ip_network(management_cidr, strict=False)
    problems: list[str] = []
    for address in links:
        ip = ipaddress.ip_address(address)
        if any(ip in net for net in networks):
            continue
        if ip in management:
            networks.append(management)
            continue
        prefix = management.prefixlen if ip.version == management.version else (24 if ip.version == 4 else 64)
        example = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
        problems.append(f"cluster link address {address} is outside the management network {management} and every "
                        f"network listed: add its network (like \"{example}\") to cluster-networks")
    return tuple(dict.fromkeys(str(n) for n in networks)), problems
