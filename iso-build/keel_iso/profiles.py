"""The package sets: the base debootstrap, the payload profiles (minimal, standard) and the live environment."""

from __future__ import annotations

SUITE = "trixie"
COMPONENTS = ("main", "contrib")

# debootstrap --variant=minbase --include: just enough for apt to work inside the chroot.
BASE_INCLUDE = ("ca-certificates", "apt-utils", "debconf-utils", "gnupg")

# Everything the installer needs on the target, whatever the profile: it boots, networks, is reachable, and
# the install engine's tools (LVM, ZFS, Btrfs, XFS, ESPs, both boot loaders, keel-post-install) are present.
MINIMAL = (
    # zstd: Debian's initramfs compressor (COMPRESS=zstd); without it update-initramfs falls back to gzip
    "linux-image-amd64", "initramfs-tools", "zstd", "systemd", "systemd-sysv", "udev", "dbus", "kmod",
    "ifupdown2", "iproute2", "iputils-ping", "bridge-utils", "openssh-server", "ca-certificates",
    "lvm2", "thin-provisioning-tools", "xfsprogs", "btrfs-progs", "dosfstools", "e2fsprogs",
    "zfsutils-linux", "zfs-initramfs",
    "grub-common", "grub2-common", "grub-pc-bin", "grub-efi-amd64-bin", "grub-efi-amd64-signed", "shim-signed",
    "systemd-boot", "systemd-boot-efi", "efibootmgr",
    "keyboard-configuration", "console-setup", "locales", "tzdata",
    # libsasl2-modules: postfix's SASL login to a [provision.services] mail-relay with credentials
    "postfix", "libsasl2-modules", "chrony",
    # [provision] at first boot: the cluster (keel-firstboot's join service runs corosync, its certificate comes
    # from openssl), the firewall baseline ([provision.services] firewall loads /etc/nftables.conf) and the
    # clients of nfs, cifs and iscsi storage; the e2e cluster test installs these
    "corosync", "nftables", "openssl", "nfs-common", "cifs-utils", "open-iscsi",
    "python3", "python3-requests",
    "less", "procps", "nano",
)

# A hypervisor host (the Proxmox VE package set, Debian's own packages).
STANDARD = (
    *MINIMAL,
    "qemu-system-x86", "qemu-utils", "ovmf", "lxc",
    "smartmontools", "ethtool", "rsync", "curl", "wget",
    "lzop", "gdisk", "parted", "pciutils", "usbutils", "vim", "sudo", "bash-completion",
    "ksmtuned", "ceph-common", "lm-sensors", "dnsutils", "tcpdump", "sysstat",
)

PROFILES = {"minimal": MINIMAL, "standard": STANDARD}

# What the live installer environment adds on top of the payload.
LIVE = (
    "live-boot", "live-boot-initramfs-tools", "busybox", "systemd-resolved",
    "python3-urwid", "python3-pyudev", "python3-parted", "python3-requests", "python3-tomli-w",
    "python3-gi", "gir1.2-blockdev-3.0", "python3-blockdev", "python3-bytesize", "python3-six", "python3-dbus",
    "libblockdev-btrfs3", "libblockdev-crypto3", "libblockdev-dm3", "libblockdev-fs3", "libblockdev-loop3",
    "libblockdev-lvm3", "libblockdev-mdraid3", "libblockdev-mpath3", "libblockdev-nvme3", "libblockdev-part3",
    "libblockdev-swap3", "libblockdev-utils3",
    "parted", "gdisk", "mtools", "squashfs-tools", "mdadm", "cryptsetup", "pciutils", "kbd", "util-linux",
    "zstd",
    # preloaded into the install's chroot commands, which then skip their fsync calls
    # (installer/installed_system/nosync.py)
    "libeatmydata1",
    # DNS TXT discovery of the answer URL (installer.answer_sources.discovery)
    "python3-dnspython",
)

# blivet is not packaged by Debian: the release matching trixie's libblockdev 3.3 comes from PyPI.
BLIVET_REQUIREMENT = "blivet==3.12.1"

# Answers debconf would otherwise ask: postfix must stay local ("No configuration").
DEBCONF_SELECTIONS = """\
postfix postfix/main_mailer_type select No configuration
locales locales/default_environment_locale select en_US.UTF-8
locales locales/locales_to_be_generated multiselect en_US.UTF-8 UTF-8
keyboard-configuration keyboard-configuration/layoutcode string us
keyboard-configuration keyboard-configuration/model select Generic 105-key PC
"""


def payload_packages(profile: str) -> tuple[str, ...]:
    """The payload package list for `profile`; ValueError naming the profile when unknown."""
    try:
        return PROFILES[profile]
    except KeyError:
        raise ValueError(f"unknown profile {profile!r}: expected one of {', '.join(PROFILES)}") from None
