"""Package sets: minimal still carries everything the installer needs on the target; standard is a superset."""

import pytest

from keel_iso.profiles import DEBCONF_SELECTIONS, LIVE, MINIMAL, STANDARD, payload_packages

# From the brief: what the install engine needs on every target, whatever the profile.
INSTALLER_NEEDS = (
    "linux-image-amd64", "initramfs-tools", "zstd", "systemd", "udev", "ifupdown2", "openssh-server", "lvm2",
    "thin-provisioning-tools", "xfsprogs", "btrfs-progs", "dosfstools", "zfsutils-linux", "zfs-initramfs",
    "grub-pc-bin", "grub-efi-amd64-bin", "grub-efi-amd64-signed", "shim-signed", "systemd-boot-efi",
    "systemd-boot", "efibootmgr", "keyboard-configuration", "console-setup", "locales", "tzdata", "postfix",
    "chrony", "python3", "python3-requests", "bridge-utils",
    # keel-firstboot's [provision]: the cluster and the firewall baseline (issue 16's e2e installs minimal)
    "corosync", "nftables",
)


@pytest.mark.parametrize("package", INSTALLER_NEEDS)
def test_minimal_payload_has_what_the_installer_needs(package):
    assert package in MINIMAL


@pytest.mark.parametrize("package", ["qemu-system-x86", "lxc", "corosync", "bridge-utils", "chrony"])
def test_standard_payload_is_a_hypervisor_host(package):
    assert package in STANDARD


def test_standard_contains_all_of_minimal_and_no_duplicates():
    assert set(MINIMAL) <= set(STANDARD)
    assert len(set(STANDARD)) == len(STANDARD)
    assert len(set(LIVE)) == len(LIVE)


@pytest.mark.parametrize("package", ["python3-urwid", "python3-pyudev", "python3-parted", "python3-blockdev",
                                     "gir1.2-blockdev-3.0", "libblockdev-mpath3", "libblockdev-nvme3",
                                     "live-boot", "mdadm", "cryptsetup", "squashfs-tools", "mtools", "gdisk"])
def test_live_environment_adds_the_installer_stack(package):
    assert package in LIVE


def test_postfix_is_preseeded_to_local_only():
    assert "postfix postfix/main_mailer_type select No configuration" in DEBCONF_SELECTIONS


def test_unknown_profile_names_the_choices():
    with pytest.raises(ValueError, match="unknown profile 'tiny': expected one of minimal, standard"):
        payload_packages("tiny")


def test_the_blivet_the_iso_installs_is_the_one_pyproject_declares():
    import tomllib

    from keel_iso.profiles import BLIVET_REQUIREMENT
    from keel_testing.compat import REPO

    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert BLIVET_REQUIREMENT in extras["live-env"]
