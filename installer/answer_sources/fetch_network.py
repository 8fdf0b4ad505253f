"""The fetch network: the static address, VLAN or bond that keel.ip=, keel.vlan=, keel.bond= and keel.ifname= ask
for, brought up by systemd-networkd before the answer is fetched.

networkd already runs DHCP on every wired NIC of the live system (80-keel-dhcp.network). The files written here
go to /run/systemd/network and sort first (10-keel-fetch-*), so each NIC named on the command line gets its
configuration from them and every other NIC keeps DHCP. Handing networkd its own files, rather than running
`ip` beside it, keeps one owner for each link: networkd would go on running DHCP on a NIC that `ip` gave an
address, and forget a bond or VLAN it did not make when it reconfigures. systemd-resolved learns the DNS servers
from the same files, and a VLAN or bond with DHCP asks for the answer-URL options like every other link.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from installer.answer_sources.errors import AnswerSourceError
from installer.core.cmdline import FetchNetwork, IpConfig
from installer.core.hardware import Nic
from installer.runner import CommandError, Runner

RUN_NETWORK = Path("/run/systemd/network")
PREFIX = "10-keel-fetch-"
WAIT_ONLINE = "/usr/lib/systemd/systemd-networkd-wait-online"
ONLINE_TIMEOUT = 60
DHCP_SECTION = "[DHCPv4]\nRequestOptions=250 251\nUseDomains=yes\nUseHostname=no\n"


def kernel_names(network: FetchNetwork, nics: Sequence[Nic]) -> dict[str, str]:
    """Each NIC the parameters name -> its kernel name: keel.ifname= names by MAC, other names as they are.

    AnswerSourceError when a MAC or a name is not a NIC of this machine, listing the NICs it has.
    """
    by_mac = {nic.mac.lower(): nic.name for nic in nics}
    present = {nic.name for nic in nics}
    have = ", ".join(f"{nic.name} {nic.mac}" for nic in nics) or "none"
    names = {}
    for alias in network.nic_names:
        if alias.mac not in by_mac:
            raise AnswerSourceError(f"keel.ifname={alias.name}:{alias.mac}: no NIC has that MAC "
                                    f"(this machine's NICs: {have})")
        names[alias.name] = by_mac[alias.mac]
    virtual = {bond.name for bond in network.bonds} | {vlan.name for vlan in network.vlans}
    used = ([(f"keel.ip={ip.interface}:...", ip.interface) for ip in network.addresses]
            + [(f"keel.vlan={vlan.name}:{vlan.parent}", vlan.parent) for vlan in network.vlans]
            + [(f"keel.bond={bond.name}:{','.join(bond.slaves)}", slave) for bond in network.bonds
               for slave in bond.slaves])
    for param, name in used:
        if name in virtual or name in names:
            continue
        if name not in present:
            raise AnswerSourceError(f"{param}: {name!r} is not a NIC of this machine (its NICs: {have}); "
                                    "name one by MAC with keel.ifname=<name>:<MAC>")
        names[name] = name
    return names


def network_files(network: FetchNetwork, names: dict[str, str]) -> dict[str, str]:
    """The .netdev and .network files (name -> text) for the fetch network; `names` from kernel_names."""
    files: dict[str, str] = {}
    ips = {ip.interface: ip for ip in network.addresses}
    vlans_on: dict[str, list[str]] = {}
    for vlan in network.vlans:
        vlans_on.setdefault(vlan.parent, []).append(vlan.name)
    for bond in network.bonds:
        options = [f"Mode={bond.mode}", f"MIIMonitorSec={bond.miimon_ms}ms"]
        if bond.lacp_rate:
            options.append(f"LACPTransmitRate={bond.lacp_rate}")
        if bond.xmit_hash_policy:
            options.append(f"TransmitHashPolicy={bond.xmit_hash_policy}")
        files[f"{PREFIX}{bond.name}.netdev"] = (f"[NetDev]\nName={bond.name}\nKind=bond\n\n[Bond]\n"
                                                + "".join(f"{line}\n" for line in options))
        for slave in bond.slaves:
            lines = [f"Bond={bond.name}", *(["PrimarySlave=true"] if slave == bond.primary else [])]
            files[f"{PREFIX}{names[slave]}.network"] = _network(names[slave], lines + _no_addresses())
    for vlan in network.vlans:
        files[f"{PREFIX}{vlan.name}.netdev"] = f"[NetDev]\nName={vlan.name}\nKind=vlan\n\n[VLAN]\nId={vlan.id}\n"
    links = [bond.name for bond in network.bonds] + [vlan.name for vlan in network.vlans]
    links += [name for name in dict.fromkeys([*ips, *vlans_on]) if name not in links]
    for link in links:
        kernel_name = names.get(link, link)
        lines = [f"VLAN={name}" for name in vlans_on.get(link, [])]
        ip = ips.get(link)
        if ip is None and link not in vlans_on:
            ip = IpConfig(link, dhcp=True)          # a bond or VLAN that carries nothing else: DHCP on it
        if ip is None:
            lines += _no_addresses()
        elif ip.dhcp:
            lines.append("DHCP=yes")
        else:
            lines.append(f"Address={ip.address}")
            lines += [f"Gateway={ip.gateway}"] if ip.gateway else []
            lines += [f"DNS={server}" for server in ip.dns]
        text = _network(kernel_name, lines)
        files[f"{PREFIX}{kernel_name}.network"] = text + (f"\n{DHCP_SECTION}" if ip is not None and ip.dhcp else "")
    return files


def online_targets(network: FetchNetwork, names: dict[str, str]) -> list[str]:
    """The links that carry an address: what has to be up before the fetch."""
    parents = {vlan.parent for vlan in network.vlans}
    tops = [bond.name for bond in network.bonds if bond.name not in parents]
    tops += [vlan.name for vlan in network.vlans]
    tops += [ip.interface for ip in network.addresses if ip.interface not in tops]
    return [names.get(link, link) for link in dict.fromkeys(tops)]


def bring_up(network: FetchNetwork, nics: Sequence[Nic], runner: Runner, log: Callable[[str], None],
             directory: Path = RUN_NETWORK) -> None:
    """Write the fetch network's files, have networkd apply them and wait until each addressed link is up."""
    names = kernel_names(network, nics)
    files = network_files(network, names)
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob(f"{PREFIX}*"):
        stale.unlink()
    for name, text in files.items():
        (directory / name).write_text(text)
    for ip in network.addresses:
        where = names.get(ip.interface, ip.interface)
        if ip.dhcp:
            log(f"Fetch network: DHCP on {where}")
        else:
            log(f"Fetch network: {where} {ip.address}" + (f" via {ip.gateway}" if ip.gateway else "")
                + (f", DNS {' '.join(ip.dns)}" if ip.dns else ""))
    for bond in network.bonds:
        log(f"Fetch network: bond {bond.name} ({bond.mode}) of {', '.join(names[s] for s in bond.slaves)}")
    for vlan in network.vlans:
        log(f"Fetch network: VLAN {vlan.id} as {vlan.name} on {names.get(vlan.parent, vlan.parent)}")
    targets = online_targets(network, names)
    try:
        runner.run(["networkctl", "reload"], timeout=30)
        runner.run([WAIT_ONLINE, f"--timeout={ONLINE_TIMEOUT}", *(f"--interface={t}:routable" for t in targets)],
                   timeout=ONLINE_TIMEOUT + 15)
    except CommandError as err:
        raise AnswerSourceError(f"the fetch network did not come up ({', '.join(targets)} not routable within "
                                f"{ONLINE_TIMEOUT} s; files in {directory}/{PREFIX}*): "
                                f"{str(err).splitlines()[0]}") from err
    log(f"Fetch network: {', '.join(targets)} up")


def _network(kernel_name: str, lines: list[str]) -> str:
    return f"[Match]\nName={kernel_name}\n\n[Network]\n" + "".join(f"{line}\n" for line in lines)


def _no_addresses() -> list[str]:
    """A bond slave or a VLAN parent: no address of its own, not even a link-local one."""
    return ["LinkLocalAddressing=no", "IPv6AcceptRA=no"]
