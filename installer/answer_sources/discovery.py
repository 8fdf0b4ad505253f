"""Finding the answer URL when the ISO names none: DHCP options 250 and 251, then DNS TXT records (reference §7.2).

The live system's DHCP client is systemd-networkd; it asks for both options (`RequestOptions=250 251`, the live
tree's 80-keel-dhcp.network.d/) and records each private option (224-254) of a lease in
/run/systemd/netif/leases/<ifindex> as `OPTION_<code>=<the option's bytes in hex>` (systemd's dhcp_lease_save),
next to `DOMAINNAME=` and `DOMAIN_SEARCH_LIST=` (space-separated). The TXT names are
`proxmox-auto-installer.<search domain>` and `proxmox-auto-installer-cert-fingerprint.<search domain>`, the search
domains from resolv.conf, else from the leases. A domain a lease gave is asked of that lease's DNS servers (`DNS=`)
directly: networkd hands a lease's servers and domains to systemd-resolved on its own time, and a stub asked before
that sends the name to whichever link has a server already (user networking's forwarder: NXDOMAIN). Other domains go
to the servers of resolv.conf. The fingerprint comes from the channel that gave the URL; the caller lets one from
the ISO win. Every step says what it found, or why it found nothing.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from installer.core.redact import redact_url

LEASES = Path("/run/systemd/netif/leases")
RESOLV_CONF = Path("/etc/resolv.conf")
URL_OPTION = 250
FINGERPRINT_OPTION = 251
TXT_URL = "proxmox-auto-installer"
TXT_FINGERPRINT = "proxmox-auto-installer-cert-fingerprint"
DNS_TIMEOUT = 5.0          # seconds per TXT lookup, every try and server included

Log = Callable[[str], None]


class TxtLookupError(Exception):
    """A TXT lookup found nothing; the message says why (no such name, no answer in time, no DNS server)."""


# A name and the DNS servers to ask (none: those of resolv.conf) -> its TXT records, each record's strings joined
TxtLookup = Callable[[str, tuple[str, ...]], list[str]]


@dataclass(frozen=True)
class Lease:
    interface: str                      # "ens3", or "ifindex 3" when the link has gone
    options: dict[int, bytes]           # the private options 224-254 the server sent
    search_domains: tuple[str, ...]     # DOMAIN_SEARCH_LIST, else DOMAINNAME
    dns_servers: tuple[str, ...] = ()   # DNS


@dataclass(frozen=True)
class Discovered:
    url: str
    fingerprint: str | None
    source: str                         # "DHCP option 250 on ens3", "DNS TXT proxmox-auto-installer.example.com"


@dataclass(frozen=True)
class DiscoveryPlaces:
    leases: Path = LEASES
    resolv_conf: Path = RESOLV_CONF


def parse_networkd_lease(text: str, interface: str) -> Lease:
    """A networkd lease file: the private options decoded from hex, the search domains, the DNS servers; bad
    lines skipped."""
    options: dict[int, bytes] = {}
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or line.startswith("#"):
            continue
        if key.startswith("OPTION_") and key[7:].isdigit():
            try:
                options[int(key[7:])] = bytes.fromhex(value.strip())
            except ValueError:
                continue
        else:
            fields[key] = value.strip()
    domains = fields.get("DOMAIN_SEARCH_LIST", "").split() or fields.get("DOMAINNAME", "").split()
    return Lease(interface, options, tuple(d.rstrip(".") for d in domains), tuple(fields.get("DNS", "").split()))


def interface_name(ifindex: int) -> str:
    try:
        return socket.if_indextoname(ifindex)
    except OSError:
        return f"ifindex {ifindex}"


def read_leases(directory: Path = LEASES, name_of: Callable[[int], str] = interface_name) -> list[Lease]:
    """Every lease networkd holds, in ifindex order (the first NIC first)."""
    try:
        files = [f for f in directory.iterdir() if f.name.isdigit()]
    except OSError:
        return []
    leases = []
    for path in sorted(files, key=lambda f: int(f.name)):
        try:
            leases.append(parse_networkd_lease(path.read_text(errors="replace"), name_of(int(path.name))))
        except OSError:
            continue
    return leases


def resolv_search_domains(text: str) -> tuple[str, ...]:
    """The search list of resolv.conf: its last `search` or `domain` line wins, as in glibc."""
    domains: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(words) >= 2 and words[0] in ("search", "domain"):
            domains = [w.rstrip(".") for w in words[1:] if w.rstrip(".")]
    return tuple(domains)


def option_text(data: bytes) -> str | None:
    """A text option as dnsmasq sends `dhcp-option=250,"https://..."`: UTF-8, a trailing NUL tolerated."""
    try:
        text = data.rstrip(b"\0").decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return text or None


def from_dhcp(leases: list[Lease], log: Log, tried: list[str]) -> Discovered | None:
    """The answer URL of DHCP option 250 (the first NIC whose lease has it), with option 251 of the same lease."""
    if not leases:
        log("DHCP: no lease from systemd-networkd; no option 250 to read")
        tried.append("DHCP option 250: no DHCP lease")
        return None
    for lease in leases:
        raw = lease.options.get(URL_OPTION)
        if raw is None:
            log(f"DHCP: the lease on {lease.interface} has no option {URL_OPTION}")
            continue
        url = option_text(raw)
        if url is None or not url.startswith(("https://", "http://")):
            log(f"DHCP: option {URL_OPTION} on {lease.interface} is not an http(s) URL; ignored")
            continue
        raw_fp = lease.options.get(FINGERPRINT_OPTION)
        fingerprint = option_text(raw_fp) if raw_fp is not None else None
        log(f"DHCP: option {URL_OPTION} on {lease.interface}: {redact_url(url)}"
            + (f", option {FINGERPRINT_OPTION}: fingerprint {fingerprint}" if fingerprint else
               f", no option {FINGERPRINT_OPTION}"))
        return Discovered(url, fingerprint, f"DHCP option {URL_OPTION} on {lease.interface}")
    tried.append(f"DHCP option {URL_OPTION}: not in the lease of " + ", ".join(le.interface for le in leases))
    return None


def from_dns(domains: tuple[str, ...], lookup: TxtLookup, log: Log, tried: list[str],
             servers_of: dict[str, tuple[str, ...]]) -> Discovered | None:
    """The answer URL of the TXT record proxmox-auto-installer.<domain>, for each search domain in turn; a domain's
    names are asked of its servers in `servers_of` (the lease's that gave it), else of resolv.conf's."""
    if not domains:
        log("DNS: no search domain (resolv.conf, DHCP lease); no TXT record to look up")
        tried.append(f"DNS TXT {TXT_URL}.<search domain>: no search domain")
        return None
    for domain in domains:
        name = f"{TXT_URL}.{domain}"
        servers = servers_of.get(domain, ())
        asked = f" (asked {', '.join(servers)})" if servers else ""
        try:
            records = lookup(name, servers)
        except TxtLookupError as err:
            log(f"DNS: TXT {name}{asked}: {err}")
            tried.append(f"DNS TXT {name}{asked}: {err}")
            continue
        urls = [r.strip() for r in records if r.strip().startswith(("https://", "http://"))]
        if not urls:
            log(f"DNS: TXT {name}: no http(s) URL among {len(records)} record(s)")
            tried.append(f"DNS TXT {name}: no http(s) URL")
            continue
        if len(urls) > 1:
            log(f"DNS: TXT {name}: {len(urls)} URLs; using the first")
        fingerprint = _txt_fingerprint(f"{TXT_FINGERPRINT}.{domain}", servers, lookup, log)
        log(f"DNS: TXT {name}{asked}: {redact_url(urls[0])}"
            + (f", fingerprint {fingerprint}" if fingerprint else ", no fingerprint record"))
        return Discovered(urls[0], fingerprint, f"DNS TXT {name}")
    return None


def _txt_fingerprint(name: str, servers: tuple[str, ...], lookup: TxtLookup, log: Log) -> str | None:
    try:
        records = [r.strip() for r in lookup(name, servers) if r.strip()]
    except TxtLookupError as err:
        log(f"DNS: TXT {name}: {err}")
        return None
    return records[0] if records else None


def discover(lookup: TxtLookup, log: Log, tried: list[str], places: DiscoveryPlaces | None = None,
             name_of: Callable[[int], str] = interface_name) -> Discovered | None:
    """DHCP option 250, then DNS TXT; None (with `tried` naming each place) when neither has an answer URL."""
    places = places or DiscoveryPlaces()
    leases = read_leases(places.leases, name_of)
    found = from_dhcp(leases, log, tried)
    if found:
        return found
    try:
        domains = resolv_search_domains(places.resolv_conf.read_text())
    except OSError:
        domains = ()
    if not domains:
        domains = tuple(dict.fromkeys(d for lease in leases for d in lease.search_domains))
    servers_of: dict[str, tuple[str, ...]] = {}
    for lease in leases:
        for domain in lease.search_domains:
            servers_of[domain] = tuple(dict.fromkeys(servers_of.get(domain, ()) + lease.dns_servers))
    return from_dns(domains, lookup, log, tried, servers_of)


def lookup_txt(name: str, servers: tuple[str, ...] = (), timeout: float = DNS_TIMEOUT) -> list[str]:
    """TXT records of `name` (absolute, no search list) from `servers`, else from those of /etc/resolv.conf, via
    dnspython."""
    try:
        import dns.exception
        import dns.resolver
    except ImportError as err:
        raise TxtLookupError(f"DNS lookups need dnspython ({err})") from None
    try:
        resolver = dns.resolver.Resolver(configure=not servers)
    except dns.resolver.NoResolverConfiguration:
        raise TxtLookupError("resolv.conf names no DNS server") from None
    if servers:
        resolver.nameservers = list(servers)
    resolver.lifetime = timeout
    try:
        answer = resolver.resolve(name.rstrip(".") + ".", "TXT", search=False)
    except dns.resolver.NXDOMAIN:
        raise TxtLookupError("no such name (NXDOMAIN)") from None
    except dns.resolver.NoAnswer:
        raise TxtLookupError("the name has no TXT record") from None
    except dns.resolver.NoNameservers:
        raise TxtLookupError("no DNS server gave an answer") from None
    except dns.exception.Timeout:
        raise TxtLookupError(f"no answer within {timeout:.0f} s") from None
    return [txt_record_text(rdata.strings) for rdata in answer]


def txt_record_text(strings: tuple[bytes, ...]) -> str:
    """One TXT record as text: its character-strings (each at most 255 bytes) joined, as a long URL needs."""
    return b"".join(strings).decode("utf-8", "replace")
