"""The management network Keel proposes from what DHCP gave the live system: one rule for answers and wizard.

An answer with `source = "from-dhcp"` and the wizard's network screen both start from `dhcp_network(hardware)`:
the NIC of the default route with its leased address, the route's gateway and the lease's first DNS server
(the gateway when the lease named none). Without a lease: Proxmox's fallback address on the NIC of the
default route, else the lowest-index physical NIC.
"""

from __future__ import annotations

from dataclasses import dataclass

from installer.core.hardware import HardwareProfile, Nic

FALLBACK_CIDR = "192.168.100.2/24"
FALLBACK_GATEWAY = "192.168.100.1"


@dataclass(frozen=True)
class DhcpNetwork:
    nic: Nic
    cidr: str
    gateway: str
    dns: str
    leased: bool          # False: no usable lease, the fallback address was proposed


def dhcp_network(hardware: HardwareProfile) -> DhcpNetwork | None:
    """The proposed management network; None when the machine has no NIC at all."""
    if not hardware.nics:
        return None
    runtime = hardware.network
    for route, family in ((runtime.gateway4, "inet"), (runtime.gateway6, "inet6")):
        nic = hardware.nic(route.dev) if route else None
        address = next((a for a in nic.addresses if a.family == family), None) if nic else None
        if route and nic and address:
            dns = runtime.dns[0] if runtime.dns else route.gateway
            return DhcpNetwork(nic, f"{address.address}/{address.prefix}", route.gateway, dns, leased=True)
    physical = [n for n in hardware.nics if n.pinned_id is not None] or list(hardware.nics)
    nic = (hardware.nic(runtime.gateway4.dev) if runtime.gateway4 else None) or min(physical, key=lambda n: n.index)
    dns = runtime.dns[0] if runtime.dns else FALLBACK_GATEWAY
    return DhcpNetwork(nic, FALLBACK_CIDR, FALLBACK_GATEWAY, dns, leased=False)
