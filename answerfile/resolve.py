"""Resolve a checked Answer against a HardwareProfile into the InstallConfig the engine runs.

Disk filters and disk-list become device paths, `from-dhcp` network and FQDN take what the live system's
DHCP lease recorded, NIC pinning gets its final names, defaults that depend on the machine are filled in
(hdsize = the first selected disk, ZFS ARC maximum = 10 % of RAM within 64-16384 MiB), and every
hardware rule (RAID counts, mirror sizes, 4Kn with BIOS, disk sizes, swap) is checked. Problems are
collected, never raised one at a time.

hdsize: the InstallConfig always records the effective value (the answer's, else the first selected disk's
size in GiB as sectors * 512 / 1024^3), as Proxmox's low-level configuration does; a partition planner
treats an hdsize at or above a disk's size as "the whole disk".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from answerfile import filters
from answerfile.parse import (
    Answer,
    Collector,
    DiskAnswer,
    DiskSelection,
    FqdnFromDhcp,
    GlobalAnswer,
    NetworkAnswer,
    ProvisionAnswer,
    StorageAnswer,
)
from installer.core import checks, provision, rules
from installer.core import services as service_rules
from installer.core.cmdline import target_cmdline
from installer.core.config import (
    BtrfsOptions,
    BtrfsRaid,
    DiskSetup,
    Filesystem,
    InstallConfig,
    LvmOptions,
    NetworkConfig,
    Provision,
    RootAccess,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import Disk, GiB, HardwareProfile, Nic, disk_by_id
from installer.core.network import dhcp_network


@dataclass(frozen=True)
class ResolvedNetwork:
    interface: Nic
    cidr: str
    gateway: str
    dns: str


def _disk_by_entry(hardware: HardwareProfile, entry: str) -> Disk | None:
    found = hardware.disk(entry)
    if found:
        return found
    name = entry.rsplit("/", 1)[-1]
    return next((d for d in hardware.disks if d.path.endswith("/" + name)), None)


def select_disks(disk: DiskAnswer, hardware: HardwareProfile, out: Collector) -> list[Disk] | None:
    """The disks the answer selects on this machine, in selection order; None when nothing usable."""
    multi = disk.filesystem in ("zfs", "btrfs")
    if disk.disk_list is not None:
        selected: list[Disk] = []
        for entry in disk.disk_list:
            found = _disk_by_entry(hardware, entry)
            if found is None:
                names = ", ".join(d.name for d in filters.disk_key_order(hardware.disks)) or "none"
                if multi:
                    out.warn("disk-setup.disk-list", f"disk '{entry}' is not on this machine and is skipped "
                                                     f"(disks here: {names})")
                else:
                    out.error("disk-setup.disk-list", f"disk '{entry}' not found; disks on this machine: {names}")
                continue
            selected.append(found)
        if not selected:
            if multi:
                out.error("disk-setup.disk-list", "none of the listed disks is on this machine")
            return None
        return selected

    globs = disk.filter or {}
    size = filters.SizeFilter(disk.size_min, disk.size_max)
    mode = disk.filter_match if multi else "any"
    matched = filters.match_disks(hardware, globs, mode, size)
    key = "disk-setup.filter" if globs else "disk-setup.filter-size-min"
    if not matched:
        out.error(key, f"{_no_disk_matches(disk, globs, size, mode)}; candidates: "
                       f"{filters.describe_disks(filters.candidate_disks(hardware), list(globs))}")
        return None
    if disk.disk_count is not None:
        if len(matched) < disk.disk_count:
            out.error("disk-setup.disk-count", f"wants {disk.disk_count} disks but only {len(matched)} match: "
                                               f"{', '.join(d.name for d in matched)}")
            return None
        return filters.smallest(matched, disk.disk_count)
    return matched if multi else matched[:1]


def _no_disk_matches(disk: DiskAnswer, globs: dict[str, str], size: filters.SizeFilter, mode: str) -> str:
    """What the filter asked for, combined as it was applied: a single disk (ext4/xfs) is the first that matches
    any key, whatever filter-match says; a disk set combines the keys by filter-match."""
    joined = (" and " if mode == "all" else " or ").join(f"{k}={v!r}" for k, v in globs.items())
    bound_texts = []
    if size.min_gib is not None:
        bound_texts.append(f">= {rules.format_gib(size.min_gib)} GiB")
    if size.max_gib is not None:
        bound_texts.append(f"<= {rules.format_gib(size.max_gib)} GiB")
    bounds = " and ".join(bound_texts)
    if not globs:
        return f"no disk is {bounds}"
    text = f"no disk of {bounds} matches {joined}" if bounds else f"no disk matches {joined}"
    if len(globs) < 2:
        return text
    if disk.filesystem in ("zfs", "btrfs"):
        return f"{text} (filter-match = {mode})"
    return (f"{text} ({disk.filesystem} takes the first disk that matches any of them; filter-match does not apply "
            f"to {disk.filesystem})")


def _check_disks(disk: DiskAnswer, selected: list[Disk], hardware: HardwareProfile, *, unattended: bool,
                 out: Collector) -> None:
    key = "disk-setup.disk-list" if disk.disk_list is not None else "disk-setup.filter"
    hdsize = disk.options.get("hdsize")
    count_problem = rules.raid_count_problem(disk.filesystem, disk.raid, len({d.name for d in selected}))
    for problem in rules.disk_selection_problems(disk.filesystem, disk.raid, selected,
                                                 boot_mode=hardware.boot_mode, unattended=unattended,
                                                 hdsize=hdsize):
        if disk.disk_list is None and problem == count_problem:
            problem += f" (the filter selected: {', '.join(d.name for d in selected)})"
        out.error(key, problem)
    if hdsize is not None and selected:
        smallest = min(selected, key=lambda d: d.size_bytes)
        if hdsize > smallest.size_bytes / GiB:
            table = "lvm" if disk.filesystem in ("ext4", "xfs") else disk.filesystem
            out.warn(f"disk-setup.{table}.hdsize",
                     f"{rules.format_gib(hdsize)} GiB is more than {smallest.name} has "
                     f"({rules.format_gib(smallest.size_bytes / GiB)} GiB); that disk is used whole")
    swap = disk.options.get("swapsize")
    # offline, swapsize was checked against hdsize; the disk decides when there is none or it is the smaller
    if disk.filesystem in ("ext4", "xfs") and selected and (hdsize is None or hdsize > selected[0].size_bytes / GiB):
        out.check("disk-setup.lvm.swapsize", rules.swap_problem(swap, selected[0].size_bytes / GiB))


def _disk_setup(disk: DiskAnswer, selected: list[Disk], hardware: HardwareProfile, out: Collector) -> DiskSetup:
    opts = dict(disk.options)
    hdsize = opts.get("hdsize") or selected[0].size_bytes / GiB
    paths = tuple(d.path for d in selected)
    fs = Filesystem(disk.filesystem)
    if fs.uses_lvm:
        return DiskSetup(fs, paths, lvm=LvmOptions(hdsize=hdsize, swapsize=opts.get("swapsize"),
                                                   maxroot=opts.get("maxroot"), minfree=opts.get("minfree"),
                                                   maxvz=opts.get("maxvz")))
    if fs is Filesystem.ZFS:
        if opts.get("arc-max") and (warning := rules.arc_max_warning(opts["arc-max"], hardware.memory_mib)):
            out.warn("disk-setup.zfs.arc-max", warning)
        return DiskSetup(fs, paths, zfs=ZfsOptions(
            raid=ZfsRaid(disk.raid), ashift=opts.get("ashift", 12), compress=opts.get("compress", "on"),
            checksum=opts.get("checksum", "on"), copies=opts.get("copies", 1),
            arc_max_mib=opts.get("arc-max") or rules.default_arc_max_mib(hardware.memory_mib),
            hdsize=hdsize))
    return DiskSetup(fs, paths, btrfs=BtrfsOptions(raid=BtrfsRaid(disk.raid), compress=opts.get("compress", "off"),
                                                   hdsize=hdsize))


def resolve_network(net: NetworkAnswer, hardware: HardwareProfile, out: Collector) -> ResolvedNetwork | None:
    if net.source == "from-answer":
        nic = filters.first_nic(hardware, net.filter)
        if nic is None:
            what = " and ".join(f"{k}={v!r}" for k, v in net.filter.items())
            candidates = filters.describe_nics(sorted(hardware.nics, key=lambda n: n.name), list(net.filter))
            out.error("network.filter", f"no network interface matches {what}; candidates: {candidates}")
            return None
        return ResolvedNetwork(nic, net.cidr or "", net.gateway or "", net.dns or "")
    proposed = dhcp_network(hardware)
    if proposed is None:
        out.error("network", "no network interface found on this machine")
        return None
    if not proposed.leased:
        out.warn("network.source", f"DHCP gave no usable address and default route; using {proposed.cidr}, "
                                   f"gateway {proposed.gateway} on {proposed.nic.name} "
                                   "(set source = \"from-answer\" to choose)")
    return ResolvedNetwork(proposed.nic, proposed.cidr, proposed.gateway, proposed.dns)


def resolve_fqdn(g: GlobalAnswer, hardware: HardwareProfile, out: Collector) -> tuple[str, str] | None:
    if isinstance(g.fqdn, str):
        host, _, domain = g.fqdn.partition(".")
        return host, domain
    assert isinstance(g.fqdn, FqdnFromDhcp)
    host = (hardware.network.hostname or "").split(".")[0]
    domain = g.fqdn.domain or hardware.network.domain
    ok = True
    if not host:
        out.error("global.fqdn.source", "set to \"from-dhcp\", but the DHCP server did not provide a host name; "
                                        "write global.fqdn = \"host.example.com\" instead")
        ok = False
    if not domain:
        out.error("global.fqdn.domain", "no domain received from DHCP server and global.fqdn.domain is unset; "
                                        "set global.fqdn.domain")
        ok = False
    if not ok:
        return None
    assert domain is not None
    if out.check("global.fqdn", checks.fqdn_problem(f"{host}.{domain}")):
        return host, domain
    return None


def pin_names(net: NetworkAnswer, hardware: HardwareProfile, out: Collector) -> dict[str, str]:
    if not net.pinning:
        return {}
    macs = {n.mac for n in hardware.nics}
    for mac in net.pin_mapping:
        if mac not in macs:
            out.warn("network.interface-name-pinning.mapping", f"MAC {mac} is not on this machine; ignored")
    names: dict[str, str] = {}
    for nic in sorted(hardware.nics, key=lambda n: n.mac):
        if nic.pinned_id is not None:
            names[nic.mac] = net.pin_mapping.get(nic.mac) or f"nic{nic.pinned_id}"
    taken: dict[str, str] = {}
    for mac, name in names.items():
        if name.lower() in taken:
            out.error("network.interface-name-pinning.mapping",
                      f"interface name '{name}' would be used twice: {taken[name.lower()]} and {mac} "
                      "(default names are nic<N>)")
        taken[name.lower()] = mac
    return names


def resolve_provision(p: ProvisionAnswer, hardware: HardwareProfile, *, install_disks: list[Disk] | None,
                      hostname: str | None, address: str | None, out: Collector,
                      management_cidr: str | None = None) -> Provision | None:
    """[provision] on this machine: link0 "from-network" becomes the management address, each local storage
    this node makes gets its disks, which must be empty, not the install's and not another storage's, and the
    firewall opens corosync and the join service to the networks of the node's link addresses."""
    cluster = p.cluster
    if cluster is not None and cluster.link0 == "from-network":
        if address is None:
            return None
        cluster = replace(cluster, link0=address)
    storage = []
    claimed: dict[str, str] = {}
    for i, entry in enumerate(p.storage):
        spec = entry.spec
        here = not spec.nodes or hostname is None or hostname in spec.nodes
        if entry.selection is not None and here:
            disks = _storage_disks(entry, i, hardware, install_disks or [], claimed, out)
            if disks is None:
                continue
            spec = replace(spec, disks=tuple(disk_by_id(d, hardware.disks) or d.path for d in disks))
        storage.append(spec)
    svc = p.services
    if svc is not None and svc.firewall is not None and cluster is not None:
        if management_cidr is None:
            return None
        links = [a for a in (cluster.link0, cluster.link1) if a]
        networks, problems = service_rules.cluster_networks(links, management_cidr, svc.firewall.cluster_networks)
        for problem in problems:
            out.error("provision.services.firewall.cluster-networks", problem)
        svc = replace(svc, firewall=replace(svc.firewall, cluster_networks=networks))
    return Provision(cluster=cluster, storage=tuple(storage), services=svc)


def _storage_disks(entry: StorageAnswer, index: int, hardware: HardwareProfile, install_disks: list[Disk],
                   claimed: dict[str, str], out: Collector) -> list[Disk] | None:
    """The disks a local storage takes, checked with the install's disk guard; None (problems in `out`) if unusable."""
    sel, spec = entry.selection, entry.spec
    assert sel is not None
    key = f"provision.storage[{index}]"
    chosen = _select_storage_disks(sel, hardware, key, out)
    if chosen is None:
        return None
    where = f"{key}.disk-list" if sel.disk_list is not None else f"{key}.filter"
    before = len(out.problems)
    install = {d.path for d in install_disks}
    for problem in rules.duplicate_disk_problems([d.name for d in chosen]):
        out.error(where, problem)
    unique = list({d.path: d for d in chosen}.values())
    for disk in unique:
        if disk.path in install:
            out.error(where, f"disk {disk.name} is also selected by [disk-setup]: the install puts the system on it; "
                             "a storage takes other disks")
        elif disk.path in claimed:
            out.error(where, f"disk {disk.name} is already taken by {claimed[disk.path]}")
        elif problem := provision.disk_in_use_problem(disk):
            out.error(where, problem)
        claimed.setdefault(disk.path, f"{key} ('{spec.id}')")
    if spec.type == "dir" and len(chosen) != 1:
        out.error(where, f"a dir storage is made on exactly one disk; this selects {len(chosen)}: "
                         f"{', '.join(d.name for d in chosen)}")
    elif spec.type in ("zfspool", "btrfs"):
        fs = "zfs" if spec.type == "zfspool" else "btrfs"
        if problem := rules.raid_count_problem(fs, spec.raid, len(chosen)):
            out.error(where, f"{problem} (selected: {', '.join(d.name for d in chosen)})")
    return chosen if len(out.problems) == before else None


def _select_storage_disks(sel: DiskSelection, hardware: HardwareProfile, key: str,
                          out: Collector) -> list[Disk] | None:
    if sel.disk_list is not None:
        found = [(_disk_by_entry(hardware, entry), entry) for entry in sel.disk_list]
        missing = [entry for disk, entry in found if disk is None]
        if missing:
            names = ", ".join(d.name for d in filters.disk_key_order(hardware.disks)) or "none"
            out.error(f"{key}.disk-list", f"disk {', '.join(repr(m) for m in missing)} not found; disks on this "
                                          f"machine: {names}")
            return None
        return [disk for disk, _ in found if disk is not None]
    globs = sel.filter or {}
    size = filters.SizeFilter(sel.size_min, sel.size_max)
    matched = filters.match_disks(hardware, globs, sel.filter_match, size)
    if not matched:
        joined = (" and " if sel.filter_match == "all" else " or ").join(f"{k}={v!r}" for k, v in globs.items())
        out.error(f"{key}.filter" if globs else f"{key}.filter-size-min",
                  f"no disk matches {joined or 'the size bounds'}; candidates: "
                  f"{filters.describe_disks(filters.candidate_disks(hardware), list(globs))}")
        return None
    if sel.disk_count is not None:
        if len(matched) < sel.disk_count:
            out.error(f"{key}.disk-count", f"wants {sel.disk_count} disks but only {len(matched)} match: "
                                           f"{', '.join(d.name for d in matched)}")
            return None
        return filters.smallest(matched, sel.disk_count)
    return matched


def resolve(answer: Answer, hardware: HardwareProfile, *, unattended: bool, out: Collector) -> InstallConfig | None:
    """Resolve every section that parsed; the config when nothing failed, else None (problems in `out`)."""
    parts: dict[str, Any] = {}
    selected: list[Disk] | None = None
    if answer.disk_setup is not None:
        selected = select_disks(answer.disk_setup, hardware, out)
        if selected:
            before = len(out.problems)
            _check_disks(answer.disk_setup, selected, hardware, unattended=unattended, out=out)
            if len(out.problems) == before:
                parts["disks"] = _disk_setup(answer.disk_setup, selected, hardware, out)
    if answer.network is not None:
        parts["network"] = resolve_network(answer.network, hardware, out)
        parts["pins"] = pin_names(answer.network, hardware, out)
    if answer.global_ is not None:
        parts["fqdn"] = resolve_fqdn(answer.global_, hardware, out)
    provision_config = None
    if answer.provision is not None:
        net, fqdn = parts.get("network"), parts.get("fqdn")
        provision_config = resolve_provision(
            answer.provision, hardware, install_disks=selected, hostname=fqdn[0] if fqdn else None,
            address=net.cidr.split("/")[0] if net else None, out=out, management_cidr=net.cidr if net else None)
    if out.problems or answer.global_ is None or not all(parts.get(k) for k in ("disks", "network", "fqdn")):
        return None
    g, net = answer.global_, parts["network"]
    host, domain = parts["fqdn"]
    return InstallConfig(
        disk_setup=parts["disks"],
        network=NetworkConfig(interface=net.interface.name, hostname=host, domain=domain, cidr=net.cidr,
                              gateway=net.gateway, dns=net.dns, pin_names=parts["pins"]),
        root=RootAccess(password=g.root_password, password_hashed=g.root_password_hashed, ssh_keys=g.root_ssh_keys),
        country=g.country,
        timezone=g.timezone,
        keyboard=g.keyboard,
        mailto=g.mailto,
        reboot_mode="power-off" if g.reboot_mode == "power-off" else "reboot",
        reboot_on_error=g.reboot_on_error,
        autoreboot=True,
        unattended=unattended,
        subscription_key=g.subscription_key,
        first_boot=answer.first_boot,
        webhook=answer.webhook,
        provision=provision_config,
        target_cmdline=target_cmdline(hardware.kernel_cmdline),
    )
