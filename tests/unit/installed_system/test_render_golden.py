"""Every rendered file of the installed system against a golden file written by hand from the reference."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from installer.core import rules
from installer.core.config import FirstBoot
from installer.core.hardware import Nic
from installer.core.locales import xkb_layout
from installer.installed_system.render import first_boot, fstab, kernel, network, pve, system
from keel_testing.samples import BTRFS_PLAN, CONFIG, HARDWARE, LVM_PLAN, NETWORK, ZFS_CONFIG, ZFS_PLAN

GOLDEN = Path(__file__).parent / "golden"
FIRST_BOOT_ORDERINGS = ("before-network", "network-online", "fully-up")

SERIAL_CONFIG = replace(CONFIG, target_cmdline="console=ttyS0,115200 nomodeset")
IPV6_PINNED = replace(NETWORK, cidr="2001:db8::10/64", gateway="2001:db8::1", dns="2001:db8::2",
                      pin_names={"52:54:00:12:34:56": "nic0", "52:54:00:ab:cd:ef": "nic1"})

CASES = [
    pytest.param("hostname", lambda: network.render_hostname(NETWORK), id="hostname is the short name"),
    pytest.param("hosts", lambda: network.render_hosts(NETWORK), id="hosts maps the address to fqdn and name"),
    pytest.param("resolv.conf", lambda: network.render_resolv_conf(NETWORK), id="resolv.conf searches the domain"),
    pytest.param("interfaces", lambda: network.render_interfaces(NETWORK, HARDWARE),
                 id="interfaces bridges vmbr0 over the management nic and lists the others as manual"),
    pytest.param("interfaces-ipv6-pinned", lambda: network.render_interfaces(IPV6_PINNED, HARDWARE),
                 id="interfaces uses inet6 and the pinned names"),
    pytest.param("50-keel-nic1.link",
                 lambda: network.render_link_files(IPV6_PINNED, HARDWARE)["/etc/systemd/network/50-keel-nic1.link"],
                 id="a link file pins a nic name to its lower case mac"),
    pytest.param("fstab-lvm", lambda: fstab.render_fstab(LVM_PLAN), id="fstab for lvm has root swap and proc"),
    pytest.param("fstab-zfs", lambda: fstab.render_fstab(ZFS_PLAN), id="fstab for zfs has only proc"),
    pytest.param("fstab-btrfs", lambda: fstab.render_fstab(BTRFS_PLAN),
                 id="fstab for btrfs mounts by uuid with compression"),
    pytest.param("timezone", lambda: system.render_timezone("Europe/Vienna"), id="timezone names the zone"),
    pytest.param("keyboard-de", lambda: system.render_keyboard(xkb_layout("de")),
                 id="german keyboard is de nodeadkeys"),
    pytest.param("keyboard-fr-ch", lambda: system.render_keyboard(xkb_layout("fr-ch")),
                 id="swiss french keyboard is ch with the fr variant"),
    pytest.param("debian.sources",
                 lambda: system.render_apt_sources("http://mirror.invalid/debian",
                                                   "http://mirror.invalid/debian-security"),
                 id="apt sources are deb822 for trixie with non-free-firmware"),
    pytest.param("sources.list", system.render_sources_list_pointer,
                 id="sources list only points at the deb822 file"),
    pytest.param("cmdline-lvm-serial", lambda: kernel.render_kernel_cmdline(LVM_PLAN, SERIAL_CONFIG),
                 id="kernel cmdline carries the installer's console and nomodeset"),
    pytest.param("cmdline-zfs", lambda: kernel.render_kernel_cmdline(ZFS_PLAN, ZFS_CONFIG),
                 id="kernel cmdline for zfs boots rpool root"),
    pytest.param("zfs.conf-zfs-410mib", lambda: kernel.render_zfs_conf(ZFS_PLAN, 4096),
                 id="zfs conf gives the planned arc max in bytes"),
    pytest.param("zfs.conf-ext4-8gib-ram", lambda: kernel.render_zfs_conf(LVM_PLAN, 8192),
                 id="zfs conf is written for ext4 too with ten percent of ram"),
    pytest.param("storage.cfg-lvm", lambda: pve.render_storage_cfg(LVM_PLAN.storage),
                 id="storage cfg for lvm has local and local-lvm"),
    pytest.param("storage.cfg-zfs", lambda: pve.render_storage_cfg(ZFS_PLAN.storage),
                 id="storage cfg for zfs has a sparse local-zfs"),
    pytest.param("storage.cfg-btrfs", lambda: pve.render_storage_cfg(BTRFS_PLAN.storage),
                 id="storage cfg for btrfs disables local"),
    pytest.param("datacenter.cfg", lambda: pve.render_datacenter_cfg(xkb_layout("de").kvm),
                 id="datacenter cfg sets the vnc keyboard"),
    pytest.param("user.cfg", lambda: pve.render_user_cfg("admin@example.com"), id="user cfg has root with mail"),
    pytest.param("grub-keel.cfg-lvm-serial", lambda: kernel.render_grub_defaults(LVM_PLAN, SERIAL_CONFIG),
                 id="grub on a serial console gets serial terminal settings"),
    pytest.param("grub-keel.cfg-zfs-vga", lambda: kernel.render_grub_defaults(ZFS_PLAN, ZFS_CONFIG),
                 id="grub for zfs root gets the zfs root argument and no serial"),
    pytest.param("sshd-keel.conf", system.render_sshd_root_login, id="sshd permits root login"),
    pytest.param("authorized_keys", lambda: system.render_authorized_keys(CONFIG.root.ssh_keys),
                 id="authorized keys one per line"),
    pytest.param("mailname", lambda: system.render_mailname(NETWORK), id="mailname is the fqdn"),
    pytest.param("main.cf", lambda: system.render_postfix_main_cf(NETWORK), id="postfix listens on loopback only"),
    pytest.param("aliases", lambda: system.render_aliases("admin@example.com"), id="root's mail goes to mailto"),
    *(pytest.param(f"first-boot-pending-{ordering}",
                   lambda ordering=ordering: first_boot.render_pending_flag(FirstBoot("from-iso", ordering)),
                   id=f"the first-boot flag names the unit and the ordering {ordering}")
      for ordering in FIRST_BOOT_ORDERINGS),
    *(pytest.param(f"first-boot-links-{ordering}",
                   lambda ordering=ordering: "".join(
                       f"{link} -> {points_to}\n"
                       for link, points_to in first_boot.render_unit_links(FirstBoot("from-iso", ordering)).items()),
                   id=f"the first-boot unit for {ordering} is enabled under its target with the alias")
      for ordering in FIRST_BOOT_ORDERINGS),
]


@pytest.mark.parametrize(("golden", "render"), CASES)
def test_rendered_file_matches_golden(golden, render):
    assert render() == (GOLDEN / golden).read_text()


def test_every_golden_file_is_checked():
    names = {case.values[0] for case in CASES}
    assert {p.name for p in GOLDEN.iterdir()} == names


def test_an_address_without_a_bridge_sits_on_the_nic():
    text = network.render_interfaces(replace(NETWORK, bridge=""), HARDWARE)
    assert "auto eno1\niface eno1 inet static\n\taddress 192.168.1.10/24\n\tgateway 192.168.1.1\n" in text
    assert "vmbr0" not in text


def test_no_link_files_without_pinning():
    assert network.render_link_files(NETWORK, HARDWARE) == {}


def test_a_nic_the_pin_map_does_not_know_keeps_its_name():
    hw = replace(HARDWARE, nics=(*HARDWARE.nics, Nic("enp9s0", "52:54:00:00:00:09", index=9)))
    text = network.render_interfaces(IPV6_PINNED, hw)
    assert "iface enp9s0 inet6 manual" in text


@pytest.mark.parametrize(("memory_mib", "arc_mib"), [
    pytest.param(1024, 102, id="1 GiB of RAM gives 102 MiB"),
    pytest.param(4096, 410, id="4 GiB of RAM gives 410 MiB"),
    pytest.param(8192, 819, id="8 GiB of RAM gives 819 MiB"),
    pytest.param(150 * 1024, 15360, id="150 GiB of RAM gives 15360 MiB"),
    pytest.param(200 * 1024, 16384, id="200 GiB of RAM is capped at 16 GiB"),
    pytest.param(256, 64, id="tiny RAM still gets 64 MiB"),
])
def test_default_arc_max_follows_the_reference_table(memory_mib, arc_mib):
    assert rules.default_arc_max_mib(memory_mib) == arc_mib


@pytest.mark.parametrize(("cmdline", "expected"), [
    pytest.param("console=ttyS1,38400n8", (1, 38400), id="unit and speed are read"),
    pytest.param("console=tty0 console=ttyS0", (0, 9600), id="a console without speed is 9600 baud"),
    pytest.param("console=tty0 nomodeset", None, id="a vga console is not serial"),
])
def test_serial_console_detection(cmdline, expected):
    assert kernel.serial_console(cmdline) == expected


def test_apt_sources_without_a_mirror_is_only_a_comment():
    text = system.render_apt_sources("")
    assert all(line.startswith("#") for line in text.splitlines())


def test_an_unknown_keymap_falls_back_to_its_first_part():
    assert xkb_layout("xx-yy").layout == "xx"
