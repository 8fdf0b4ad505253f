"""The fetch network as systemd-networkd files, and bringing it up with networkctl before the fetch."""

from __future__ import annotations

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.fetch_network import WAIT_ONLINE, bring_up, kernel_names, network_files
from installer.core.cmdline import parse_fetch_network
from installer.core.hardware import Nic
from installer.runner import FakeRunner, Result

NICS = (Nic("eno1", "3c:ec:ef:00:00:01", index=2), Nic("eno2", "3c:ec:ef:00:00:02", index=3))
DHCP = "[DHCPv4]\nRequestOptions=250 251\nUseDomains=yes\nUseHostname=no\n"


def files_for(cmdline: str) -> dict[str, str]:
    network = parse_fetch_network(cmdline)
    return network_files(network, kernel_names(network, NICS))


def test_a_static_address_on_a_nic_named_by_mac():
    assert files_for("keel.ifname=lan0:3c:ec:ef:00:00:02 "
                     "keel.ip=192.0.2.10::192.0.2.1:255.255.255.0::lan0:none:192.0.2.53:192.0.2.54") == {
        "10-keel-fetch-eno2.network": "[Match]\nName=eno2\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\n"
                                      "DNS=192.0.2.53\nDNS=192.0.2.54\n",
    }


def test_a_vlan_with_a_static_address_on_a_nic():
    assert files_for("keel.vlan=vlan20:eno1 keel.ip=[2001:db8::10]::[2001:db8::1]:64::vlan20:none") == {
        "10-keel-fetch-vlan20.netdev": "[NetDev]\nName=vlan20\nKind=vlan\n\n[VLAN]\nId=20\n",
        "10-keel-fetch-vlan20.network": "[Match]\nName=vlan20\n\n[Network]\nAddress=2001:db8::10/64\n"
                                        "Gateway=2001:db8::1\n",
        "10-keel-fetch-eno1.network": "[Match]\nName=eno1\n\n[Network]\nVLAN=vlan20\nLinkLocalAddressing=no\n"
                                      "IPv6AcceptRA=no\n",
    }


def test_an_active_backup_bond_with_a_primary_and_a_static_address():
    assert files_for("keel.bond=bond0:eno1,eno2:primary=eno2 keel.ip=192.0.2.10::192.0.2.1:24::bond0:none") == {
        "10-keel-fetch-bond0.netdev": "[NetDev]\nName=bond0\nKind=bond\n\n[Bond]\nMode=active-backup\n"
                                      "MIIMonitorSec=100ms\n",
        "10-keel-fetch-eno1.network": "[Match]\nName=eno1\n\n[Network]\nBond=bond0\nLinkLocalAddressing=no\n"
                                      "IPv6AcceptRA=no\n",
        "10-keel-fetch-eno2.network": "[Match]\nName=eno2\n\n[Network]\nBond=bond0\nPrimarySlave=true\n"
                                      "LinkLocalAddressing=no\nIPv6AcceptRA=no\n",
        "10-keel-fetch-bond0.network": "[Match]\nName=bond0\n\n[Network]\nAddress=192.0.2.10/24\nGateway=192.0.2.1\n",
    }


def test_an_lacp_bond_carrying_a_vlan_that_gets_dhcp_and_asks_for_the_answer_options():
    files = files_for("keel.bond=bond0:eno1,eno2:mode=802.3ad,lacp_rate=fast,xmit_hash_policy=layer3+4 "
                      "keel.vlan=vlan20:bond0")
    assert files["10-keel-fetch-bond0.netdev"] == ("[NetDev]\nName=bond0\nKind=bond\n\n[Bond]\nMode=802.3ad\n"
                                                   "MIIMonitorSec=100ms\nLACPTransmitRate=fast\n"
                                                   "TransmitHashPolicy=layer3+4\n")
    assert files["10-keel-fetch-bond0.network"] == ("[Match]\nName=bond0\n\n[Network]\nVLAN=vlan20\n"
                                                    "LinkLocalAddressing=no\nIPv6AcceptRA=no\n")
    assert files["10-keel-fetch-vlan20.network"] == f"[Match]\nName=vlan20\n\n[Network]\nDHCP=yes\n\n{DHCP}"


def test_a_mac_no_nic_has_is_an_error_listing_the_nics():
    network = parse_fetch_network("keel.ifname=lan0:52:54:00:00:00:09 keel.ip=lan0:dhcp")
    with pytest.raises(AnswerSourceError, match=r"keel.ifname=lan0:52:54:00:00:00:09: no NIC has that MAC "
                                                r"\(this machine's NICs: eno1 3c:ec:ef:00:00:01, eno2 "):
        kernel_names(network, NICS)


def test_a_nic_name_this_machine_lacks_is_an_error():
    network = parse_fetch_network("keel.bond=bond0:eno1,ens9")
    with pytest.raises(AnswerSourceError, match=r"keel.bond=bond0:eno1,ens9: 'ens9' is not a NIC of this machine"):
        kernel_names(network, NICS)


def test_bring_up_writes_the_files_reloads_networkd_and_waits_for_the_addressed_links(tmp_path):
    (tmp_path / "10-keel-fetch-old.network").write_text("stale")
    runner, logged = FakeRunner(), []
    network = parse_fetch_network("keel.vlan=vlan20:eno1 keel.ip=192.0.2.10::192.0.2.1:24::vlan20:none")
    bring_up(network, NICS, runner, logged.append, directory=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "10-keel-fetch-eno1.network", "10-keel-fetch-vlan20.netdev", "10-keel-fetch-vlan20.network"]
    assert runner.commands == [("networkctl", "reload"),
                               (WAIT_ONLINE, "--timeout=60", "--interface=vlan20:routable")]
    assert logged == ["Fetch network: vlan20 192.0.2.10/24 via 192.0.2.1", "Fetch network: VLAN 20 as vlan20 on eno1",
                      "Fetch network: vlan20 up"]


def test_a_link_that_does_not_come_up_is_one_clear_error(tmp_path):
    runner = FakeRunner(responders=[lambda argv, _: Result(argv, 1) if argv[0] == WAIT_ONLINE else None])
    network = parse_fetch_network("keel.ifname=lan0:3c:ec:ef:00:00:01 keel.ip=192.0.2.10::192.0.2.1:24::lan0:none")
    with pytest.raises(AnswerSourceError, match=r"the fetch network did not come up \(eno1 not routable within 60 s"):
        bring_up(network, NICS, runner, lambda text: None, directory=tmp_path)
