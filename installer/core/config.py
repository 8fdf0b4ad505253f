"""InstallConfig: the one typed configuration both frontends produce and the engine consumes.

The answer file (`answerfile.resolve`) and the urwid wizard each build one; `keel-installer run --config`
runs the engine from a saved one. Every value here is already validated and resolved against the hardware:
disks are device paths, the management NIC is a kernel name, network values are concrete.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Literal

from installer.core import jsoncodec
from installer.core.files import open_private


class Filesystem(StrEnum):
    EXT4 = "ext4"
    XFS = "xfs"
    ZFS = "zfs"
    BTRFS = "btrfs"

    @property
    def uses_lvm(self) -> bool:
        return self in (Filesystem.EXT4, Filesystem.XFS)


class ZfsRaid(StrEnum):
    RAID0 = "RAID0"
    RAID1 = "RAID1"
    RAID10 = "RAID10"
    RAIDZ1 = "RAIDZ-1"
    RAIDZ2 = "RAIDZ-2"
    RAIDZ3 = "RAIDZ-3"


class BtrfsRaid(StrEnum):
    RAID0 = "RAID0"
    RAID1 = "RAID1"
    RAID10 = "RAID10"


class ZfsCompress(StrEnum):
    """The compression values the installer offers for the pool (Proxmox's list)."""

    ON = "on"
    OFF = "off"
    LZJB = "lzjb"
    LZ4 = "lz4"
    ZLE = "zle"
    GZIP = "gzip"
    ZSTD = "zstd"


class ZfsChecksum(StrEnum):
    ON = "on"
    FLETCHER4 = "fletcher4"
    SHA256 = "sha256"


class BtrfsCompress(StrEnum):
    OFF = "off"
    ON = "on"
    ZLIB = "zlib"
    LZO = "lzo"
    ZSTD = "zstd"


@dataclass(frozen=True)
class LvmOptions:
    """ext4/xfs on LVM. Sizes in GiB; None means Proxmox's heuristic (reference §2.4)."""

    hdsize: float | None = None     # use only this much of the disk for partition 3's end
    swapsize: float | None = None   # swap LV size; 0 = no swap
    maxroot: float | None = None    # cap for the root LV (default 96 GiB)
    minfree: float | None = None    # space left free in the VG (snapshots)
    maxvz: float | None = None      # cap for the data thin pool; 0 = no data pool


@dataclass(frozen=True)
class ZfsOptions:
    raid: ZfsRaid
    ashift: int = 12                # rules.ZFS_ASHIFT
    compress: ZfsCompress = ZfsCompress.ON
    checksum: ZfsChecksum = ZfsChecksum.ON
    copies: int = 1                 # rules.ZFS_COPIES
    arc_max_mib: int = 0            # zfs_arc_max in MiB; 0 = ZFS's own default
    hdsize: float | None = None     # GiB used on every disk; None = whole disk


@dataclass(frozen=True)
class BtrfsOptions:
    raid: BtrfsRaid
    compress: BtrfsCompress = BtrfsCompress.OFF
    hdsize: float | None = None     # GiB used on every disk; None = whole disk


@dataclass(frozen=True)
class DiskSetup:
    filesystem: Filesystem
    disks: tuple[str, ...]          # device paths in selection order ("/dev/sda"); one for ext4/xfs
    lvm: LvmOptions | None = None   # set exactly for ext4/xfs
    zfs: ZfsOptions | None = None   # set exactly for zfs
    btrfs: BtrfsOptions | None = None  # set exactly for btrfs

    @property
    def hdsize(self) -> float | None:
        opts = self.lvm or self.zfs or self.btrfs
        return opts.hdsize if opts else None

    @property
    def label(self) -> str:
        """Proxmox's name for the layout: "ext4", "zfs (RAID10)", "btrfs (RAID1)"."""
        if self.zfs:
            return f"zfs ({self.zfs.raid})"
        if self.btrfs:
            return f"btrfs ({self.btrfs.raid})"
        return str(self.filesystem)


@dataclass(frozen=True)
class NetworkConfig:
    interface: str                  # management NIC, current kernel name ("eno1")
    hostname: str                   # "pve1"
    domain: str                     # "example.com"
    cidr: str                       # "192.168.1.10/24" or "2001:db8::10/64"
    gateway: str
    dns: str
    bridge: str = "vmbr0"           # bridge on the management NIC; "" = address on the NIC itself
    pin_names: dict[str, str] = field(default_factory=dict)  # MAC (lower case) -> pinned name; empty = off

    @property
    def fqdn(self) -> str:
        return f"{self.hostname}.{self.domain}"

    @property
    def address(self) -> str:
        return self.cidr.split("/")[0]

    @property
    def prefix(self) -> int:
        return int(self.cidr.split("/")[1])


@dataclass(frozen=True)
class RootAccess:
    password: str | None = None         # plain text, set through chpasswd on stdin; never logged
    password_hashed: str | None = None  # crypt(3) string
    ssh_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class FirstBoot:
    source: Literal["from-iso", "from-url"]
    ordering: Literal["before-network", "network-online", "fully-up"] = "fully-up"
    url: str | None = None
    cert_fingerprint: str | None = None


@dataclass(frozen=True)
class Webhook:
    url: str
    cert_fingerprint: str | None = None
    auth_token: str | None = None


@dataclass(frozen=True)
class ClusterSettings:
    """[provision.cluster]: create a corosync cluster or join one (installer.core.provision has the rules)."""

    name: str                               # cluster_name, at most 15 characters
    mode: Literal["create", "join"]
    link0: str                              # this node's address on link 0 (resolved: never "from-network")
    cluster_secret: str                     # the same on every node (keel-answer cluster-secret); a secret
    link1: str | None = None
    link0_priority: int | None = None       # knet_link_priority; only the founder's count
    link1_priority: int | None = None
    node_id: int | None = None              # None: the founder takes 1, a joiner the next free id
    peer: str | None = None                 # join: host[:port] of a member's join service


@dataclass(frozen=True)
class StorageSpec:
    """One [[provision.storage]] entry. Local types (dir, lvmthin, zfspool, btrfs) name the disks they are made
    on; the others name a server. Only the keys of the entry's type are set."""

    id: str
    type: str                               # dir | lvmthin | zfspool | btrfs | nfs | cifs | iscsi | rbd | cephfs
    content: tuple[str, ...]                # Proxmox content types, in the answer's order
    nodes: tuple[str, ...] = ()             # () = every node
    shared: bool = False
    disks: tuple[str, ...] = ()             # resolved: by-id links (else kernel paths) of this node's disks
    raid: str | None = None                 # zfspool / btrfs: "RAID1", "RAIDZ-2", ...
    path: str | None = None                 # dir: the directory (the mount point when made on a disk)
    server: str | None = None               # nfs, cifs
    export: str | None = None               # nfs
    share: str | None = None                # cifs
    username: str | None = None             # cifs, rbd, cephfs
    password: str | None = None             # cifs; a secret
    portal: str | None = None               # iscsi
    target: str | None = None               # iscsi
    monhost: str | None = None              # rbd, cephfs: monitor addresses, space-separated
    pool: str | None = None                 # rbd
    keyring: str | None = None              # rbd (keyring), cephfs (secret key); a secret

    @property
    def local(self) -> bool:
        """Made on this node's own disks (or a directory of it)."""
        return self.type in ("dir", "lvmthin", "zfspool", "btrfs")


@dataclass(frozen=True)
class MailRelay:
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None             # a secret


@dataclass(frozen=True)
class UserAccount:
    """One [[provision.services.users]] entry (installer.core.services has the name rules)."""

    name: str
    ssh_keys: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()            # supplementary groups ("sudo"); they exist on the installed system
    password_hashed: str | None = None      # crypt(3); None = no password (SSH keys only); a secret


@dataclass(frozen=True)
class Firewall:
    """The nftables baseline: SSH and ICMP from anywhere, corosync and the join service from cluster_networks,
    everything from allow_from, nothing else in."""

    cluster_networks: tuple[str, ...] = ()  # resolved: the listed networks and those of the node's link addresses
    allow_from: tuple[str, ...] = ()        # networks allowed to reach every port


@dataclass(frozen=True)
class ServicesSettings:
    ntp_servers: tuple[str, ...] = ()
    mail_relay: MailRelay | None = None
    apt_proxy: str | None = None
    apt_repositories: tuple[str, ...] = ()  # one-line sources ("deb https://... trixie main")
    users: tuple[UserAccount, ...] = ()
    ssh_password_login: bool | None = None  # sshd's PasswordAuthentication; None = sshd's default
    sysctl: dict[str, str] = field(default_factory=dict)   # key -> value, in the answer's order
    firewall: Firewall | None = None        # None = no firewall written (the payload's nftables stays off)
    packages: tuple[str, ...] = ()          # Debian packages the installed system must have


@dataclass(frozen=True)
class Provision:
    """[provision]: what the host should be after its first boot (Keel extension)."""

    cluster: ClusterSettings | None = None
    storage: tuple[StorageSpec, ...] = ()
    services: ServicesSettings | None = None

    def redacted(self) -> Provision:
        from dataclasses import replace

        def hide(value: str | None) -> str | None:
            return "<redacted>" if value else value

        cluster = self.cluster and replace(self.cluster, cluster_secret=hide(self.cluster.cluster_secret) or "")
        storage = tuple(replace(s, password=hide(s.password), keyring=hide(s.keyring)) for s in self.storage)
        services = self.services
        if services is not None and services.mail_relay is not None:
            services = replace(services, mail_relay=replace(services.mail_relay,
                                                            password=hide(services.mail_relay.password)))
        if services is not None and services.users:
            services = replace(services, users=tuple(replace(u, password_hashed=hide(u.password_hashed))
                                                     for u in services.users))
        return replace(self, cluster=cluster, storage=storage, services=services)


@dataclass(frozen=True)
class InstallConfig:
    disk_setup: DiskSetup
    network: NetworkConfig
    root: RootAccess
    country: str                        # ISO 3166-1 alpha-2, lower case
    timezone: str                       # "Europe/Vienna" or "UTC"
    keyboard: str                       # Proxmox keymap id: "en-us", "de", ...
    mailto: str
    reboot_mode: Literal["reboot", "power-off"] = "reboot"
    reboot_on_error: bool = False
    autoreboot: bool = True             # reboot (or power off) by itself after success
    unattended: bool = False            # no person at the console: every prompt is an error
    subscription_key: str | None = None
    first_boot: FirstBoot | None = None
    webhook: Webhook | None = None
    provision: Provision | None = None  # carried to the installed system for keel-firstboot
    target_cmdline: str = ""            # kernel parameters carried to the installed system
    product: str = "pve"                # VG name, dataset names, storage.cfg flavour

    def to_json(self) -> str:
        return jsoncodec.to_json(self)

    @classmethod
    def from_json(cls, text: str) -> InstallConfig:
        return jsoncodec.from_json(cls, text)

    @classmethod
    def load(cls, path: str | Path) -> InstallConfig:
        return jsoncodec.load(cls, path)

    @classmethod
    def read(cls, path: str | Path) -> InstallConfig:
        """`load` for a file a person named: jsoncodec.FileError names the file and the problem."""
        return jsoncodec.load_file(cls, path, "InstallConfig")

    def save(self, path: str | Path) -> None:
        """Write the config readable by its owner only (0600): it may hold the root password."""
        with open_private(path, append=False) as file:
            file.write(self.to_json() + "\n")

    def redacted(self) -> InstallConfig:
        """A copy safe for logs and webhooks: passwords, tokens and keys replaced."""
        from dataclasses import replace

        root = replace(
            self.root,
            password="<redacted>" if self.root.password else None,
            password_hashed="<redacted>" if self.root.password_hashed else None,
        )
        webhook = self.webhook and replace(
            self.webhook, auth_token="<redacted>" if self.webhook.auth_token else None
        )
        key = "<redacted>" if self.subscription_key else None
        provision = self.provision and self.provision.redacted()
        return replace(self, root=root, webhook=webhook, subscription_key=key, provision=provision)
