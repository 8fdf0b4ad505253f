"""One proposal of the management network from the live system's DHCP lease, for answers and the wizard alike."""

from __future__ import annotations

from installer.core.hardware import Address, HardwareProfile, NetworkRuntime, Nic, Route
from installer.core.network import FALLBACK_CIDR, FALLBACK_GATEWAY, dhcp_network


def machine(runtime: NetworkRuntime, *, leased_on: str = "") -> HardwareProfile:
    def nic(name: str, index: int, pinned: str | None) -> Nic:
        addresses = (Address("inet", "10.1.2.3", 24),) if name == leased_on else ()
        return Nic(name=name, mac=f"52:54:00:00:00:0{index}", index=index, state="UP", addresses=addresses,
                   pinned_id=pinned)
    return HardwareProfile(nics=(nic("vmbr9", 1, None), nic("ens19", 3, "1"), nic("ens18", 2, "0")),
                           network=runtime)


def test_a_lease_gives_its_nic_address_gateway_and_first_dns():
    proposed = dhcp_network(machine(NetworkRuntime(Route("ens19", "10.1.2.1"), dns=("10.1.2.53", "9.9.9.9")),
                                    leased_on="ens19"))
    assert (proposed.nic.name, proposed.cidr, proposed.gateway, proposed.dns, proposed.leased) == (
        "ens19", "10.1.2.3/24", "10.1.2.1", "10.1.2.53", True)


def test_a_lease_without_dns_servers_uses_its_gateway_for_dns():
    proposed = dhcp_network(machine(NetworkRuntime(Route("ens19", "10.1.2.1")), leased_on="ens19"))
    assert proposed.dns == "10.1.2.1"


def test_without_a_lease_the_lowest_index_physical_nic_gets_the_fallback_address():
    proposed = dhcp_network(machine(NetworkRuntime()))
    assert (proposed.nic.name, proposed.cidr, proposed.gateway, proposed.dns, proposed.leased) == (
        "ens18", FALLBACK_CIDR, FALLBACK_GATEWAY, FALLBACK_GATEWAY, False)


def test_a_machine_without_nics_gets_no_proposal():
    assert dhcp_network(HardwareProfile()) is None
