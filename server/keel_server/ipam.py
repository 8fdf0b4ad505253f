"""Address pools: a network, its gateway and DNS, and the range handed out; the next free address of a pool."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass


class PoolError(ValueError):
    """A pool definition that does not hold together, or a pool with no address left."""


@dataclass(frozen=True)
class PoolSpec:
    name: str
    cidr: str          # the network, "10.0.0.0/24"
    gateway: str
    dns: str
    first: str
    last: str

    @property
    def network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.cidr, strict=False)

    def address(self, ip: str) -> dict[str, object]:
        """The template's `address` variable for `ip` in this pool."""
        return {"address": ip, "cidr": f"{ip}/{self.network.prefixlen}", "prefix": self.network.prefixlen,
                "netmask": str(self.network.netmask), "gateway": self.gateway, "dns": self.dns, "pool": self.name}


def make_pool(name: str, cidr: str, gateway: str, dns: str, range_: str | None = None) -> PoolSpec:
    """A checked PoolSpec; the range defaults to every host address but the gateway's and DNS server's side."""
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError as err:
        raise PoolError(f"--cidr {cidr}: {err}") from err
    for flag, value in (("--gateway", gateway), ("--dns", dns)):
        try:
            ipaddress.ip_address(value)
        except ValueError as err:
            raise PoolError(f"{flag} {value}: not an IP address") from err
    if ipaddress.ip_address(gateway) not in network:
        raise PoolError(f"--gateway {gateway} is not in {network}")
    if range_:
        first_text, sep, last_text = range_.partition("-")
        try:
            first, last = ipaddress.ip_address(first_text.strip()), ipaddress.ip_address(last_text.strip())
        except ValueError as err:
            raise PoolError(f"--range {range_}: expected FIRST-LAST, two addresses of {network}") from err
        if not sep or first not in network or last not in network or first > last:
            raise PoolError(f"--range {range_}: expected FIRST-LAST, two addresses of {network}, FIRST <= LAST")
    else:
        hosts = list(network.hosts()) if network.num_addresses <= 65536 else None
        if not hosts:
            raise PoolError(f"--cidr {cidr}: give --range FIRST-LAST for a network this large or this small")
        first, last = hosts[0], hosts[-1]
    return PoolSpec(name, str(network), gateway, dns, str(first), str(last))


def next_free(pool: PoolSpec, taken: Iterable[str]) -> str:
    """The lowest address of the range that is not taken, not the gateway or DNS server, and not the network
    or broadcast address."""
    used = {ipaddress.ip_address(a) for a in taken} | {ipaddress.ip_address(pool.gateway),
                                                        ipaddress.ip_address(pool.dns)}
    network = pool.network
    reserved = {network.network_address, network.broadcast_address} if network.prefixlen < network.max_prefixlen - 1 \
        else set()
    ip = ipaddress.ip_address(pool.first)
    last = ipaddress.ip_address(pool.last)
    while ip <= last:
        if ip not in used and ip not in reserved:
            return str(ip)
        ip += 1
    raise PoolError(f"pool {pool.name} has no free address left in {pool.first}-{pool.last}")
