"""Filters (reference §6) and resolution defaults: network from DHCP, FQDN, pinning, sizes, ARC, cmdline."""

from __future__ import annotations

from dataclasses import replace

import pytest

import answerfile
from answerfile import filters
from installer.core.cmdline import target_cmdline
from installer.core.hardware import Address, Disk, GiB, HardwareProfile, NetworkRuntime, Nic, Route
from installer.core.rules import default_arc_max_mib

HEAD = """
[global]
keyboard = "de"
country = "at"
fqdn = "pve1.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "change-me-please"
"""
DHCP = '[network]\nsource = "from-dhcp"\n'


def disks_by_index(*indexes: int) -> HardwareProfile:
    return HardwareProfile(disks=tuple(
        Disk(name=f"d{i}", path=f"/dev/d{i}", size_bytes=(100 + i) * GiB, index=i, udev={"ID_MODEL": "M"})
        for i in indexes))


def test_disk_sets_are_sorted_by_index_as_strings():
    hw = disks_by_index(1, 2, 10, 11)
    assert [d.index for d in filters.match_disks(hw, {"ID_MODEL": "M"})] == [1, 10, 11, 2]


@pytest.mark.parametrize(
    ("props", "mode", "matches"),
    [
        ({"A": "x", "B": "y"}, "any", True),
        ({"A": "x", "B": "nope"}, "any", True),
        ({"A": "nope", "B": "nope"}, "any", False),
        ({}, "any", False),
        ({"A": "x", "B": "y"}, "all", True),
        ({"A": "x", "B": "nope"}, "all", False),
        ({"A": "x"}, "all", True),
        ({}, "all", True),
    ],
    ids=["any: both match", "any: one matches", "any: none matches", "any: keys absent",
         "all: both match", "all: one fails", "all: a missing key does not disqualify",
         "all: no key present matches everything"],
)
def test_filter_match_semantics(props, mode, matches):
    assert filters.props_match(props, {"A": "x", "B": "y"}, mode) is matches


@pytest.mark.parametrize(("glob", "value", "matches"), [
    ("*SSD*", "Samsung_SSD_970", True), ("*ssd*", "Samsung_SSD_970", False), ("sd?", "sda", True),
    ("sd[a-c]", "sdd", False), ("sd[!a]", "sdb", True), ("nvme*", "/dev/nvme0n1", False)],
    ids=["star", "case-sensitive", "question mark", "range", "negated set", "anchored at the start"])
def test_globs_are_shell_style_and_case_sensitive(glob, value, matches):
    assert filters.glob_match(glob, value) is matches


def test_disk_count_takes_the_smallest_matching_disks(example):
    text = HEAD + DHCP + ('[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "RAID1"\nfilter.ID_SERIAL = "*"\n'
                          'disk-count = 2\n')
    config = answerfile.parse_install_config(text, example)
    assert config.disk_setup.disks == ("/dev/sda", "/dev/sdb")


def test_size_filters_bound_the_candidates_in_gib(example):
    text = HEAD + DHCP + ('[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "RAID0"\n'
                          'filter-size-min = 500\nfilter-size-max = 1000\n')
    assert answerfile.parse_install_config(text, example).disk_setup.disks == ("/dev/nvme0n1",)


def test_single_disk_filter_takes_the_first_match_in_key_order(example):
    text = HEAD + DHCP + '[disk-setup]\nfilesystem = "ext4"\nfilter.ID_MODEL = "*"\n'
    assert answerfile.parse_install_config(text, example).disk_setup.disks == ("/dev/sda",)


def test_disk_list_accepts_names_paths_and_by_id_links(example):
    by_id = example.disk("sdb").udev["DEVLINKS"].split()[0]
    text = HEAD + DHCP + f'[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "RAID1"\ndisk-list = ["/dev/sda", "{by_id}"]\n'
    assert answerfile.parse_install_config(text, example).disk_setup.disks == ("/dev/sda", "/dev/sdb")


def test_hdsize_defaults_to_the_first_selected_disk_in_gib(example):
    text = HEAD + DHCP + '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["nvme0n1"]\n'
    assert answerfile.parse_install_config(text, example).disk_setup.hdsize == 1953525168 * 512 / 1024**3


@pytest.mark.parametrize(("memory_mib", "arc"), [(1024, 102), (4096, 410), (8192, 819), (150 * 1024, 15360),
                                                 (160 * 1024, 16384), (512, 64)],
                         ids=["1 GiB", "4 GiB", "8 GiB", "150 GiB", "160 GiB", "512 MiB clamps to 64"])
def test_default_arc_max_is_ten_percent_of_ram_within_limits(memory_mib, arc):
    assert default_arc_max_mib(memory_mib) == arc


def test_zfs_answer_without_arc_max_gets_the_default(example):
    text = HEAD + DHCP + '[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "RAID1"\ndisk-list = ["sda", "sdb"]\n'
    assert answerfile.parse_install_config(text, example).disk_setup.zfs.arc_max_mib == 6554


def _nic(name: str, index: int, *addresses: Address) -> Nic:
    return Nic(name=name, mac=f"02:00:00:00:00:{index:02x}", index=index, state="UP", addresses=addresses,
               pinned_id=str(index))


def _dhcp_network(example: HardwareProfile, nics: tuple[Nic, ...], runtime: NetworkRuntime):
    text = HEAD + DHCP + '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["sda"]\n'
    return answerfile.resolve_text(text, replace(example, nics=nics, network=runtime))


def test_dhcp_network_uses_the_nic_of_the_ipv4_default_route(example):
    nics = (_nic("eth0", 2, Address("inet", "10.1.1.5", 16)), _nic("eth1", 3, Address("inet", "10.2.2.5", 24)))
    result = _dhcp_network(example, nics, NetworkRuntime(gateway4=Route("eth1", "10.2.2.1"), dns=("10.2.2.2",)))
    net = result.config.network
    assert (net.interface, net.cidr, net.gateway, net.dns) == ("eth1", "10.2.2.5/24", "10.2.2.1", "10.2.2.2")


def test_dhcp_network_falls_back_to_the_ipv6_route(example):
    nics = (_nic("eth0", 2, Address("inet6", "2001:db8::5", 64)),)
    result = _dhcp_network(example, nics, NetworkRuntime(gateway6=Route("eth0", "fe80::1"), dns=("2001:db8::53",)))
    net = result.config.network
    assert (net.cidr, net.gateway, net.dns) == ("2001:db8::5/64", "fe80::1", "2001:db8::53")


def test_no_lease_falls_back_to_192_168_100_2_on_the_lowest_index_nic_with_a_warning(example):
    result = _dhcp_network(example, (_nic("eth1", 5), _nic("eth0", 3)), NetworkRuntime())
    net = result.config.network
    assert (net.interface, net.cidr, net.gateway, net.dns) == ("eth0", "192.168.100.2/24", "192.168.100.1",
                                                               "192.168.100.1")
    assert result.warnings[0].key == "network.source"


def test_fqdn_from_dhcp_prefers_the_answer_domain(example):
    text = HEAD.replace('fqdn = "pve1.example.com"', 'fqdn = {source = "from-dhcp", domain = "corp.example"}')
    config = answerfile.parse_install_config(text + DHCP + '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["sda"]\n',
                                             example)
    assert (config.network.hostname, config.network.domain) == ("pve-demo", "corp.example")


def test_pinning_names_every_physical_nic_and_keeps_the_kernel_name_as_interface(server):
    text = HEAD + DHCP + ('[network.interface-name-pinning]\nenabled = true\n'
                          '[network.interface-name-pinning.mapping]\n"B4:2E:99:AC:AD:B4" = "mgmt"\n'
                          '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["sda"]\n')
    net = answerfile.parse_install_config(text, server).network
    assert net.interface == "eno1"
    assert net.pin_names["b4:2e:99:ac:ad:b4"] == "mgmt"
    assert net.pin_names["b4:2e:99:ac:ad:b5"] == "nic1"
    assert len(net.pin_names) == 9


@pytest.mark.parametrize(("cmdline", "kept"), [
    ("BOOT_IMAGE=/boot/linux26 ro ramdisk_size=16777216 rw splash=verbose proxdebug vga=788", ""),
    ("BOOT_IMAGE=/live/vmlinuz boot=live quiet keel.mode=auto console=ttyS0,115200 nomodeset",
     "console=ttyS0,115200 nomodeset"),
    ("root=/dev/sda1 proxmox-start-auto-installer iommu=pt", "iommu=pt"),
], ids=["proxmox fixture keeps nothing", "keel switches dropped, console kept", "root and proxmox words dropped"])
def test_target_cmdline_keeps_only_what_the_installed_system_needs(cmdline, kept):
    assert target_cmdline(cmdline) == kept


def test_resolved_config_survives_a_json_round_trip(example):
    from installer.core.config import InstallConfig

    text = HEAD + DHCP + '[disk-setup]\nfilesystem = "zfs"\nzfs.raid = "RAID1"\ndisk-list = ["sda", "sdb"]\n'
    config = answerfile.parse_install_config(text, example)
    assert InstallConfig.from_json(config.to_json()) == config


def test_hdsize_larger_than_a_disk_only_warns(example):
    text = HEAD + DHCP + '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["sda"]\nlvm.hdsize = 500\n'
    result = answerfile.resolve_text(text, example)
    assert [str(w) for w in result.warnings] == [
        "disk-setup.lvm.hdsize: 500 GiB is more than sda has (223.57 GiB); that disk is used whole"]
    assert result.config.disk_setup.hdsize == 500


def test_an_answer_as_json_data_resolves_like_its_toml(example):
    import tomllib

    text = HEAD + DHCP + '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["sda"]\n'
    assert answerfile.resolve_data(tomllib.loads(text), example) == answerfile.resolve_text(text, example)
    with pytest.raises(answerfile.AnswerError, match="must be a JSON object"):
        answerfile.resolve_data([], example)
