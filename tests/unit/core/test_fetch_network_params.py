"""keel.ip=, keel.vlan=, keel.bond= and keel.ifname=: every form dracut's syntax allows here, and each error."""

from __future__ import annotations

import pytest

from installer.core.cmdline import (
    Bond,
    FetchNetwork,
    IpConfig,
    KernelParamError,
    NicName,
    Vlan,
    parse_fetch_network,
    read_fetch_network,
    target_cmdline,
)


@pytest.mark.parametrize(("word", "expected"), [
    pytest.param("keel.ip=192.0.2.10::192.0.2.1:255.255.255.0:pve1:eno1:none",
                 IpConfig("eno1", address="192.0.2.10/24", gateway="192.0.2.1", hostname="pve1"),
                 id="static IPv4 with a dotted netmask and a hostname"),
    pytest.param("keel.ip=192.0.2.10::192.0.2.1:24::eno1:none:192.0.2.53:192.0.2.54",
                 IpConfig("eno1", address="192.0.2.10/24", gateway="192.0.2.1", dns=("192.0.2.53", "192.0.2.54")),
                 id="static IPv4 with a prefix length and two DNS servers"),
    pytest.param("keel.ip=10.1.2.3:10.1.2.254::255.255.0.0::eno1:off",
                 IpConfig("eno1", address="10.1.2.3/16"),
                 id="no gateway, a peer (unused) and method off"),
    pytest.param("keel.ip=[2001:db8::10]::[2001:db8::1]:64::eno1:none:[2001:db8::53]",
                 IpConfig("eno1", address="2001:db8::10/64", gateway="2001:db8::1", dns=("2001:db8::53",)),
                 id="static IPv6 in brackets"),
    pytest.param("keel.ip=vlan20:dhcp", IpConfig("vlan20", dhcp=True), id="DHCP on one interface"),
])
def test_keel_ip_forms(word, expected):
    assert parse_fetch_network(f"{word} keel.vlan=vlan20:eno2").addresses == (expected,)


@pytest.mark.parametrize(("word", "expected"), [
    pytest.param("keel.vlan=vlan20:eno1", Vlan("vlan20", "eno1", 20), id="vlan<id>"),
    pytest.param("keel.vlan=vlan0005:eno1", Vlan("vlan0005", "eno1", 5), id="vlan with leading zeros"),
    pytest.param("keel.vlan=eno1.4094:eno1", Vlan("eno1.4094", "eno1", 4094), id="<parent>.<id> up to 4094"),
])
def test_keel_vlan_forms(word, expected):
    assert parse_fetch_network(word).vlans == (expected,)


@pytest.mark.parametrize(("word", "expected"), [
    pytest.param("keel.bond=bond0:eno1,eno2", Bond("bond0", ("eno1", "eno2")),
                 id="active-backup with 100 ms link monitoring when no options are given"),
    pytest.param("keel.bond=bond0:eno1,eno2:mode=active-backup,primary=eno2,miimon=250",
                 Bond("bond0", ("eno1", "eno2"), "active-backup", 250, primary="eno2"),
                 id="active-backup with a primary NIC"),
    pytest.param("keel.bond=bond0:eno1,eno2:mode=802.3ad,lacp_rate=fast,xmit_hash_policy=layer3+4",
                 Bond("bond0", ("eno1", "eno2"), "802.3ad", lacp_rate="fast", xmit_hash_policy="layer3+4"),
                 id="802.3ad with its options"),
    pytest.param("keel.bond=bond1:eno1:mode=4", Bond("bond1", ("eno1",), "802.3ad"), id="the kernel's mode number"),
])
def test_keel_bond_forms(word, expected):
    assert parse_fetch_network(word).bonds == (expected,)


def test_keel_ifname_names_a_nic_by_mac_in_lower_case():
    assert parse_fetch_network("keel.ifname=lan0:3C-EC-EF-12-34-56").nic_names == (
        NicName("lan0", "3c:ec:ef:12:34:56"),)


def test_a_static_address_on_a_vlan_of_a_bond_of_named_nics_parses_whole():
    network = parse_fetch_network(
        "BOOT_IMAGE=/live/vmlinuz boot=live keel.mode=auto keel.ifname=a:52:54:00:00:00:01 "
        "keel.ifname=b:52:54:00:00:00:02 keel.bond=bond0:a,b:mode=802.3ad keel.vlan=vlan20:bond0 "
        "keel.ip=192.0.2.10::192.0.2.1:24::vlan20:none:192.0.2.53 console=ttyS0")
    assert network == FetchNetwork(
        addresses=(IpConfig("vlan20", address="192.0.2.10/24", gateway="192.0.2.1", dns=("192.0.2.53",)),),
        vlans=(Vlan("vlan20", "bond0", 20),), bonds=(Bond("bond0", ("a", "b"), "802.3ad"),),
        nic_names=(NicName("a", "52:54:00:00:00:01"), NicName("b", "52:54:00:00:00:02")))
    assert not network.empty


def test_no_parameters_and_names_alone_bring_nothing_up():
    assert parse_fetch_network("boot=live keel.mode=auto ip=dhcp").empty
    assert parse_fetch_network("keel.ifname=lan0:52:54:00:00:00:01").empty


def test_the_fetch_network_does_not_carry_over_to_the_installed_system():
    assert target_cmdline("keel.ip=vlan20:dhcp keel.vlan=vlan20:eno1 keel.bond=bond0:eno2 "
                          "keel.ifname=a:52:54:00:00:00:01 console=ttyS0") == "console=ttyS0"


def test_an_unreadable_command_line_has_no_fetch_network(tmp_path):
    assert read_fetch_network(tmp_path / "missing").empty


@pytest.mark.parametrize(("cmdline", "message"), [
    pytest.param("keel.ip=192.0.2.10", "keel.ip=192.0.2.10: expected <address>:[<peer>]:[<gateway>]",
                 id="too few fields"),
    pytest.param("keel.ip=192.0.2.10::192.0.2.1:24::eno1:dhcp",
                 "keel.ip=192.0.2.10::192.0.2.1:24::eno1:dhcp: the method (7th field) must be none",
                 id="a method other than none"),
    pytest.param("keel.ip=192.0.2.300::192.0.2.1:24::eno1:none", "address '192.0.2.300' is not an IPv4 or IPv6",
                 id="a bad address"),
    pytest.param("keel.ip=192.0.2.10::192.0.2.1:255.0.255.0::eno1:none",
                 "netmask '255.0.255.0' is not a prefix length 1-32 or a dotted mask", id="a mask with holes"),
    pytest.param("keel.ip=192.0.2.10::192.0.2.1:33::eno1:none", "netmask '33' is not", id="a prefix over 32"),
    pytest.param("keel.ip=[2001:db8::10]:::129::eno1:none", "netmask '129' is not a prefix length 1-128",
                 id="an IPv6 prefix over 128"),
    pytest.param("keel.ip=192.0.2.10::[2001:db8::1]:24::eno1:none", "gateway 2001:db8::1 is not of the address's IP",
                 id="a gateway of the other IP version"),
    pytest.param("keel.ip=192.0.2.10::192.0.2.1:24::eno1:none:dns.example", "DNS server 'dns.example' is not an",
                 id="a DNS server by name"),
    pytest.param("keel.ip=192.0.2.10::192.0.2.1:24:::none", "interface '' is not an interface name",
                 id="no interface"),
    pytest.param("keel.ip=[2001:db8::10]x::24::eno1:none", "expected <address>", id="text after a bracket"),
    pytest.param("keel.ip=averyveryverylongname:dhcp", "interface 'averyveryverylongname' is not an interface name",
                 id="a name longer than 15 characters"),
    pytest.param("keel.vlan=vlan20", "keel.vlan=vlan20: expected <vlan name>:<parent interface>", id="no parent"),
    pytest.param("keel.vlan=mgmt:eno1", "the VLAN name 'mgmt' must end in a VLAN id 1-4094", id="no id in the name"),
    pytest.param("keel.vlan=vlan4095:eno1", "must end in a VLAN id 1-4094", id="id 4095"),
    pytest.param("keel.vlan=vlan0:eno1", "must end in a VLAN id 1-4094", id="id 0"),
    pytest.param("keel.bond=bond0", "keel.bond=bond0: expected <bond name>:<nic>,<nic>", id="no NICs"),
    pytest.param("keel.bond=bond0:eno1,eno1", "a NIC is listed twice", id="a NIC twice"),
    pytest.param("keel.bond=bond0:eno1,eno2:mode=balance-rr", "mode 'balance-rr': expected active-backup or 802.3ad",
                 id="another bonding mode"),
    pytest.param("keel.bond=bond0:eno1,eno2:updelay=200", "option 'updelay=200': expected <option>=<value> with "
                 "option one of mode, miimon, primary, lacp_rate, xmit_hash_policy", id="an unknown option"),
    pytest.param("keel.bond=bond0:eno1,eno2:miimon=fast", "miimon 'fast': expected milliseconds", id="bad miimon"),
    pytest.param("keel.bond=bond0:eno1,eno2:primary=eno3", "primary 'eno3': expected one of the bond's NICs",
                 id="a primary outside the bond"),
    pytest.param("keel.bond=bond0:eno1,eno2:lacp_rate=fast", "lacp_rate and xmit_hash_policy need mode=802.3ad",
                 id="an LACP option for active-backup"),
    pytest.param("keel.bond=bond0:eno1,eno2:mode=802.3ad,lacp_rate=medium", "lacp_rate 'medium': expected slow or",
                 id="a bad LACP rate"),
    pytest.param("keel.bond=bond0:eno1,eno2:mode=802.3ad,xmit_hash_policy=layer4",
                 "xmit_hash_policy 'layer4': expected one of layer2, layer2+3", id="a bad hash policy"),
    pytest.param("keel.ifname=lan0", "keel.ifname=lan0: expected <name>:<MAC>", id="no MAC"),
    pytest.param("keel.ifname=lan0:52:54:00:00:01", "expected <name>:<MAC>", id="a short MAC"),
    pytest.param("keel.ifname=lan0:52:54:00:00:00:01 keel.ifname=lan0:52:54:00:00:00:02",
                 "keel.ifname: the name 'lan0' is given twice (also by keel.ifname=)", id="a name twice"),
    pytest.param("keel.ifname=a:52:54:00:00:00:01 keel.ifname=b:52:54:00:00:00:01",
                 "keel.ifname: MAC 52:54:00:00:00:01 is named twice ('a', 'b')", id="a MAC twice"),
    pytest.param("keel.bond=bond0:eno1 keel.vlan=bond0.5:eno2 keel.bond=bond1:bond0.5",
                 "keel.bond: bond 'bond1': 'bond0.5' is a vlan; expected NICs only", id="a VLAN in a bond"),
    pytest.param("keel.bond=bond0:eno1,eno2 keel.bond=bond1:eno2,eno3",
                 "keel.bond: NIC 'eno2' is in two bonds ('bond0', 'bond1')", id="a NIC in two bonds"),
    pytest.param("keel.vlan=vlan20:eno1 keel.vlan=vlan30:vlan20",
                 "keel.vlan: VLAN 'vlan30': the parent 'vlan20' is a VLAN; expected a NIC or a bond",
                 id="VLAN on VLAN"),
    pytest.param("keel.bond=bond0:eno1,eno2 keel.vlan=vlan20:eno1",
                 "the parent 'eno1' is in bond 'bond0'; expected the VLAN on the bond", id="a VLAN on a bond's NIC"),
    pytest.param("keel.bond=bond0:eno1,eno2 keel.ip=eno1:dhcp",
                 "keel.ip: 'eno1' is in bond 'bond0'; expected the address on the bond",
                 id="an address on a bond's NIC"),
    pytest.param("keel.ip=eno1:dhcp keel.ip=192.0.2.10:::24::eno1:none",
                 "keel.ip: 'eno1' is given twice; expected one keel.ip= per interface", id="two addresses on one NIC"),
])
def test_bad_values_name_the_parameter_and_what_was_expected(cmdline, message):
    with pytest.raises(KernelParamError) as err:
        parse_fetch_network(cmdline)
    assert message in str(err.value)
