"""The wizard state: defaults from the hardware, the checks per step (the answer file's wording), the config."""

from __future__ import annotations

from dataclasses import replace

import pytest
from tui_helpers import small_machine

from installer.core.config import (
    DiskSetup,
    Filesystem,
    InstallConfig,
    LvmOptions,
    NetworkConfig,
    RootAccess,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import Disk, GiB, NetworkRuntime
from installer.tui.checks import answerfile_checks
from installer.tui.model import FS_CHOICES, FsChoice, Problem, Wizard, sorted_nics

ZFS_RAID1 = FsChoice(Filesystem.ZFS, "RAID1")
ZFS_RAID10 = FsChoice(Filesystem.ZFS, "RAID10")


def messages(wizard: Wizard, step: str, field: str | None = None) -> list[str]:
    return [p.message for p in wizard.problems(step) if field is None or p.field == field]


def choose(wizard: Wizard, fs: FsChoice, slots: list[str | None]) -> None:
    wizard.state.fs = fs
    wizard.state.slots = slots
    wizard.reset_fs_options(wizard.state)


def test_filesystem_list_has_ext4_xfs_six_zfs_levels_and_three_btrfs_levels():
    assert [c.label for c in FS_CHOICES] == [
        "ext4", "xfs", "zfs (RAID0)", "zfs (RAID1)", "zfs (RAID10)", "zfs (RAIDZ-1)", "zfs (RAIDZ-2)",
        "zfs (RAIDZ-3)", "btrfs (RAID0)", "btrfs (RAID1)", "btrfs (RAID10)",
    ]


def test_defaults_come_from_dhcp_and_the_detected_country(wizard):
    s = wizard.state
    assert (s.interface, s.cidr, s.gateway, s.dns) == ("enp0s1", "10.0.2.15/24", "10.0.2.2", "10.0.2.3")
    assert s.fqdn == "node7.lab.example"
    assert (s.country, s.timezone, s.keyboard) == ("de", "Europe/Berlin", "de")
    assert s.email == "mail@example.invalid"
    assert s.fs.label == "ext4" and s.lvm_disk == "/dev/sda"
    assert s.slots == ["/dev/sda", "/dev/sdb", "/dev/nvme0n1", "/dev/sdc"]
    assert s.pin_enabled and s.pin_names == {"52:54:00:00:00:01": "nic0", "52:54:00:00:00:02": "nic1",
                                             "52:54:00:00:00:03": "nic2"}


def test_without_a_dhcp_lease_the_network_falls_back_to_proxmox_defaults():
    w = Wizard(small_machine(network=NetworkRuntime()), answerfile_checks())
    assert (w.state.cidr, w.state.gateway, w.state.dns) == ("192.168.100.2/24", "192.168.100.1", "192.168.100.1")
    assert w.state.fqdn == "pve.example.invalid"
    assert w.state.interface == "enp0s1"   # the first UP link, lowest index


def test_unknown_country_falls_back_to_austria_with_vienna_and_german_keys():
    w = Wizard(small_machine(country=None), answerfile_checks())
    assert (w.state.country, w.state.timezone, w.state.keyboard) == ("at", "Europe/Vienna", "de")


def test_nics_are_listed_up_first_then_by_index(machine):
    assert [n.name for n in sorted_nics(machine)] == ["enp0s1", "enp2s0", "enp1s0"]


def test_changing_country_brings_its_first_zone_and_its_keyboard(wizard):
    wizard.set_country(wizard.state, "ch")
    assert (wizard.state.timezone, wizard.state.keyboard) == ("Europe/Zurich", "de-ch")
    wizard.set_country(wizard.state, "gb")
    assert (wizard.state.timezone, wizard.state.keyboard) == ("Europe/London", "en-gb")


def test_time_zone_list_ends_with_utc(wizard):
    assert wizard.locale.zones_of("de") == ("Europe/Berlin", "Europe/Busingen", "UTC")


@pytest.mark.parametrize(("password", "confirm", "field", "message"), [
    ("short", "short", "password", "password must be at least 8 characters long (got 5)"),
    ("long enough", "long enougH", "password_confirm", "passwords do not match"),
    ("secret-pw\nnobody:x", "secret-pw\nnobody:x", "password",
     "password must not contain control characters such as line breaks or tabs (found a line break at "
     "character 10)"),
], ids=["a five character password is refused", "a confirmation that differs is refused",
        "a pasted line break is refused, as in the answer file"])
def test_password_step_refuses(wizard, password, confirm, field, message):
    wizard.state.password, wizard.state.password_confirm = password, confirm
    wizard.state.email = "root@lab.example"
    assert wizard.problems("password") == [Problem(field, message)]


@pytest.mark.parametrize(("email", "message"), [
    ("mail@example.invalid",
     "'mail@example.invalid' is the placeholder address; give a real address for the administrator's mail"),
    ("root@", "'root@' does not look like an email address (user@domain.tld)"),
], ids=["the pre-filled placeholder address is refused", "an address without a domain is refused"])
def test_email_is_checked_like_the_answer_files_mailto(wizard, email, message):
    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.email = email
    assert messages(wizard, "password") == [message]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("fqdn", "node7", "'node7' is not a fully-qualified domain name: give host and domain, like "
                      "'node7.example.com', or use fqdn.source = \"from-dhcp\""),
    ("fqdn", "123.lab.example", "host name '123' cannot be purely numeric"),
    ("fqdn", "node7.example.invalid", "Hostname does not look like a valid fully qualified domain name"),
    ("cidr", "10.0.2.15", "invalid IP address '10.0.2.15': the prefix length is missing (like '10.0.2.15/24')"),
    ("gateway", "10.0.2.300", "'10.0.2.300' is not a valid IPv4 or IPv6 address"),
    ("dns", "2001:db8::1", "dns is IPv6 but the IP address is IPv4; the management network uses one address family"),
], ids=[
    "a hostname without domain is refused",
    "a purely numeric hostname is refused",
    "the pre-filled .invalid domain is refused",
    "an address without prefix length is refused",
    "a gateway that is no address is refused",
    "a DNS server of the other address family is refused",
])
def test_network_step_refuses(wizard, field, value, message):
    setattr(wizard.state, field, value)
    assert messages(wizard, "network") == [message]


def test_pinned_names_are_checked_like_the_answer_files_mapping(wizard):
    wizard.state.pin_names["52:54:00:00:00:02"] = "nic0"
    wizard.state.pin_names["52:54:00:00:00:03"] = "3com"
    assert messages(wizard, "network", "pin_names") == [
        "interface name '3com' for '52:54:00:00:00:03' is invalid: it must start with a letter and contain "
        "only ASCII letters, digits and underscores",
        "interface name 'nic0' is given to more than one MAC: 52:54:00:00:00:01, 52:54:00:00:00:02",
    ]


def test_pinned_names_are_not_checked_when_pinning_is_off(wizard):
    wizard.state.pin_names["52:54:00:00:00:02"] = "x"
    wizard.state.pin_enabled = False
    assert wizard.problems("network") == []
    assert wizard.network().pin_names == {}


@pytest.mark.parametrize(("fs", "slots", "message"), [
    (ZFS_RAID10, ["/dev/sda", "/dev/sdb", "/dev/nvme0n1", None], "ZFS RAID10 needs at least 4 disks, got 3"),
    (FsChoice(Filesystem.ZFS, "RAIDZ-1"), ["/dev/sda", None, None, None],
     "ZFS RAIDZ-1 needs at least 3 disks, got 1"),
    (FsChoice(Filesystem.BTRFS, "RAID1"), [None, None, "/dev/nvme0n1", None],
     "Btrfs RAID1 needs at least 2 disks, got 1"),
    (ZFS_RAID1, ["/dev/sda", "/dev/nvme0n1", None, None],
     "mirrored disks must have about the same size (within 10 %): sda has 32 GiB, nvme0n1 has 64 GiB"),
    (ZFS_RAID1, ["/dev/sda", "/dev/sda", None, None],
     "disk sda is selected more than once (the disk list contains a duplicate device)"),
], ids=[
    "ZFS RAID10 with three disks is refused",
    "RAIDZ-1 with one disk is refused",
    "Btrfs RAID1 with one disk is refused",
    "a ZFS mirror of 32 and 64 GiB disks is refused",
    "the same disk in two slots is refused",
])
def test_disk_step_refuses(wizard, fs, slots, message):
    choose(wizard, fs, slots)
    assert message in messages(wizard, "disks", "disks")


def test_a_4kn_disk_is_refused_for_bios_boot():
    disk = Disk("sda", "/dev/sda", 100 * GiB, logical_block_size=4096, physical_block_size=4096, bus="sata")
    w = Wizard(small_machine(disks=(disk,), boot_mode="bios"), answerfile_checks())
    assert messages(w, "disks") == [
        "Booting from 4Kn drive in legacy BIOS mode is not supported: sda has 4096-byte logical sectors"]


def test_swap_may_use_at_most_half_of_hdsize(wizard):
    # sda is 32 GiB; hdsize 20 allows at most 10 GiB of swap
    wizard.state.hdsize, wizard.state.swapsize = "20", "10.5"
    assert messages(wizard, "disks") == [
        "Swap size 10.5 GiB cannot be greater than 10 GiB (hard disk size / 2)"]


def test_hdsize_above_the_disk_and_words_instead_of_numbers_are_refused(wizard):
    wizard.state.hdsize, wizard.state.maxroot = "40", "lots"
    assert wizard.problems("disks") == [Problem("maxroot", "'lots' is not a number"),
                                        Problem("hdsize", "hdsize 40 GiB is larger than the disk (32.00 GiB)")]


def test_zfs_options_are_range_checked(wizard):
    choose(wizard, ZFS_RAID1, ["/dev/sda", "/dev/sdb", None, None])
    wizard.state.ashift, wizard.state.copies, wizard.state.arc_max = "17", "4", "32"
    assert [p.field for p in wizard.problems("disks")] == ["ashift", "copies", "arc_max"]


def test_changing_the_filesystem_resets_its_options_to_defaults(wizard):
    wizard.state.swapsize, wizard.state.ashift = "4", "9"
    choose(wizard, ZFS_RAID1, ["/dev/sda", "/dev/sdb", None, None])
    # 8192 MiB of RAM: ARC default 10 % = 819 MiB; hdsize pre-filled with the smaller disk (32 GiB)
    assert (wizard.state.swapsize, wizard.state.ashift, wizard.state.arc_max, wizard.state.hdsize) == \
        ("", "12", "819", "32.00")


def complete(wizard: Wizard) -> None:
    s = wizard.state
    s.password = s.password_confirm = "install-test-pw"
    s.email = "root@lab.example"
    s.erase_confirmed = True


def test_config_of_a_default_ext4_install_is_what_the_answer_file_would_give(wizard):
    complete(wizard)
    assert all(wizard.problems(step) == [] for step in ("disks", "location", "password", "network", "summary"))
    assert wizard.config() == InstallConfig(
        disk_setup=DiskSetup(Filesystem.EXT4, ("/dev/sda",), lvm=LvmOptions(hdsize=32.0)),
        network=NetworkConfig("enp0s1", "node7", "lab.example", "10.0.2.15/24", "10.0.2.2", "10.0.2.3",
                              pin_names={"52:54:00:00:00:01": "nic0", "52:54:00:00:00:02": "nic1",
                                         "52:54:00:00:00:03": "nic2"}),
        root=RootAccess(password="install-test-pw"),
        country="de", timezone="Europe/Berlin", keyboard="de", mailto="root@lab.example",
    )


def test_config_of_zfs_raid10_keeps_the_slot_order_and_a_typed_hdsize():
    disks = tuple(Disk(f"sd{c}", f"/dev/sd{c}", 100 * GiB, index=i, bus="sata") for i, c in enumerate("abcd"))
    w = Wizard(small_machine(disks=disks), answerfile_checks())
    complete(w)
    choose(w, ZFS_RAID10, ["/dev/sdd", "/dev/sda", "/dev/sdc", "/dev/sdb"])
    w.state.hdsize, w.state.zfs_compress = "80", "zstd"
    assert w.problems("disks") == []
    assert w.config().disk_setup == DiskSetup(
        Filesystem.ZFS, ("/dev/sdd", "/dev/sda", "/dev/sdc", "/dev/sdb"),
        zfs=ZfsOptions(ZfsRaid.RAID10, ashift=12, compress="zstd", checksum="on", copies=1, arc_max_mib=819,
                       hdsize=80.0))


def test_saved_answer_file_resolves_to_the_same_config(wizard):
    import answerfile
    from installer.tui.answer import answer_toml

    complete(wizard)
    choose(wizard, ZFS_RAID1, ["/dev/sdb", "/dev/sda", None, None])
    wizard.state.interface = "enp2s0"
    config = wizard.config()
    hashed = "$y$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr/EmjuaTz5Bt4kYiX2Iezz6omzoqVEwj9"
    text = answer_toml(config, wizard.hardware, hashed)
    again = answerfile.parse_install_config(text, wizard.hardware, unattended=False)
    assert again == replace(config, root=RootAccess(password_hashed=hashed))
    assert "install-test-pw" not in text


def test_hdsize_follows_the_selected_disks_until_someone_types_it(wizard):
    from installer.tui.screens.disks import DisksScreen

    screen = DisksScreen(wizard)
    screen.fields["disk"].input.set_value("/dev/nvme0n1")
    assert wizard.state.hdsize == "64.00"
    screen.fields["hdsize"].input.set_edit_text("50")
    screen.fields["disk"].input.set_value("/dev/sda")
    assert (wizard.state.hdsize, wizard.state.hdsize_auto) == ("50", False)


def test_an_ipv6_only_lease_fills_the_ipv6_address():
    from installer.core.hardware import Address, Nic, Route

    nic = Nic("eno1", "52:54:00:00:00:09", index=2, state="UP", pinned_id="0",
              addresses=(Address("inet", "192.0.2.7", 24), Address("inet6", "2001:db8::7", 64)))
    runtime = NetworkRuntime(gateway6=Route("eno1", "2001:db8::1"), dns=("2001:db8::53",), domain="v6.example",
                             hostname="six")
    w = Wizard(small_machine(nics=(nic,), network=runtime), answerfile_checks())
    assert (w.state.cidr, w.state.gateway, w.state.dns) == ("2001:db8::7/64", "2001:db8::1", "2001:db8::53")
    assert w.problems("network") == []
