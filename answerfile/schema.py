"""The answer file's keys as data: names, types, defaults, choices, legacy aliases and documentation.

One table drives the parser's unknown-key and type checks, the JSON Schema (`keel-answer schema`) and the
README's reference, so the three cannot drift apart. Semantics that span keys (one of two passwords,
`disk-list` xor `filter`, options only for the chosen filesystem) live in `answerfile.parse`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from installer.core import provision, rules, services
from installer.core.config import (
    BtrfsCompress,
    BtrfsOptions,
    BtrfsRaid,
    Filesystem,
    ZfsChecksum,
    ZfsCompress,
    ZfsOptions,
    ZfsRaid,
)
from installer.core.hardware import GiB
from installer.core.locales import KEYBOARDS

Kind = Literal[
    "string",        # a TOML string
    "integer",
    "number",        # integer or float
    "boolean",
    "string-list",   # array of strings
    "globs",         # table: udev property name -> glob (free keys)
    "string-table",  # table: free keys -> strings (MAC -> name)
    "value-table",   # table: free keys -> strings or integers (sysctl); nested tables join their keys with "."
    "fqdn",          # a string, or a table {source, domain}
    "table",         # a table with the fixed keys in `keys`
    "table-list",    # an array of tables ([[section.name]]), each with the fixed keys in `keys`
]


@dataclass(frozen=True)
class Key:
    name: str
    kind: Kind
    doc: str
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    ignore_case: bool = False       # choices accepted in any case ("raid1" = "RAID1")
    alias: str | None = None        # legacy snake_case name (accepted with a deprecation warning)
    minimum: float | None = None
    maximum: float | None = None
    keys: tuple[Key, ...] = ()      # for kinds "table" and "table-list" (and the table form of "fqdn")
    keel: bool = False              # a Keel extension Proxmox does not have
    when: str = ""                  # short note on when the key applies / is required
    checked_elsewhere: bool = False  # choices listed in the JSON Schema, checked by installer.core.checks
    secret: bool = False            # shown as <redacted> (inspect-iso) unless asked for

    def child(self, name: str) -> Key | None:
        return next((k for k in self.keys if k.name == name), None)


def _gib_range(name: str) -> dict[str, float]:
    """A size option's minimum and maximum, from the one table the planner checks too (rules.SIZE_GIB)."""
    low, high = rules.SIZE_GIB[name]
    return {"minimum": low, "maximum": high}


ZFS_RAID = tuple(map(str, ZfsRaid))
BTRFS_RAID = tuple(map(str, BtrfsRaid))
FILESYSTEMS = tuple(map(str, Filesystem))

FQDN_TABLE = (
    Key("source", "string", "Where the host name comes from; only DHCP (option 12) is supported.",
        default="from-dhcp", choices=("from-dhcp",)),
    Key("domain", "string", "Domain to use; takes precedence over the DHCP domain. Empty = unset."),
)

GLOBAL = Key("global", "table", "Locale, host name, administrator and root login.", required=True, keys=(
    Key("keyboard", "string", "Keyboard layout of the console and the installed system.", required=True,
        choices=tuple(KEYBOARDS), checked_elsewhere=True),
    Key("country", "string", "ISO 3166-1 alpha-2 country code in lower case (\"at\", \"us\"); from tzdata.",
        required=True),
    Key("fqdn", "fqdn", "Host name and domain (\"pve1.example.com\"), or the table {source = \"from-dhcp\", "
        "domain = \"...\"} to take them from DHCP.", required=True, keys=FQDN_TABLE),
    Key("mailto", "string", "Administrator's email address (notifications, root@pam's address).", required=True),
    Key("timezone", "string", "Time zone from tzdata (\"Europe/Vienna\") or \"UTC\".", required=True),
    Key("root-password", "string", "Root password in plain text, at least 8 characters.",
        alias="root_password", secret=True, when="one of root-password / root-password-hashed"),
    Key("root-password-hashed", "string", "Root password as a crypt(3) hash (mkpasswd).",
        alias="root_password_hashed", secret=True, when="one of root-password / root-password-hashed"),
    Key("root-ssh-keys", "string-list", "SSH public keys for root's authorized_keys.", default=[],
        alias="root_ssh_keys"),
    Key("reboot-on-error", "boolean", "Reboot when the installation fails (instead of stopping at a shell).",
        default=False, alias="reboot_on_error"),
    Key("reboot-mode", "string", "What to do after a successful installation.", default="reboot",
        choices=("reboot", "power-off"), alias="reboot_mode"),
    Key("subscription-key", "string", "Subscription key to activate on first boot.", alias="subscription_key",
        secret=True),
))

PINNING = Key("interface-name-pinning", "table", "Give NICs stable names on the installed system (by MAC).",
              keys=(
    Key("enabled", "boolean", "Pin every physical NIC's name: mapped names, else nic<N>.", required=True),
    Key("mapping", "string-table", "MAC address -> interface name (2-15 characters, letter first, letters, "
        "digits, underscores). MACs may be in any case.", default={}),
))

NETWORK = Key("network", "table", "Management network of the installed system.", required=True, keys=(
    Key("source", "string", "\"from-dhcp\": keep what DHCP gave the live system (as static configuration); "
        "\"from-answer\": use cidr, dns, gateway and filter from this section.", required=True,
        choices=("from-dhcp", "from-answer")),
    Key("cidr", "string", "Address with prefix length, \"192.168.1.10/24\".", when="from-answer, required"),
    Key("dns", "string", "DNS server address.", when="from-answer, required"),
    Key("gateway", "string", "Default gateway address.", when="from-answer, required"),
    Key("filter", "globs", "udev property -> glob selecting the management NIC (the first match).",
        when="from-answer, required"),
    PINNING,
))

ZFS = Key("zfs", "table", "ZFS options (filesystem = \"zfs\").", keys=(
    Key("raid", "string", "RAID level.", choices=ZFS_RAID, ignore_case=True, when="zfs, required"),
    Key("ashift", "integer", "Pool ashift (log2 of the sector size).", default=ZfsOptions.ashift,
        minimum=rules.ZFS_ASHIFT[0], maximum=rules.ZFS_ASHIFT[1]),
    Key("arc-max", "integer", f"ZFS ARC maximum in MiB (default: 10 % of RAM, within {rules.ARC_MIN_MIB}-"
        f"{rules.ARC_MAX_DEFAULT_MIB}; more than RAM - 1 GiB is lowered to that, with a warning).",
        minimum=rules.ARC_MIN_MIB, alias="arc_max"),
    Key("checksum", "string", "Checksum algorithm.", default=str(ZfsOptions.checksum),
        choices=tuple(map(str, ZfsChecksum))),
    Key("compress", "string", "Compression.", default=str(ZfsOptions.compress), choices=tuple(map(str, ZfsCompress))),
    Key("copies", "integer", "Data copies (ZFS copies property).", default=ZfsOptions.copies,
        minimum=rules.ZFS_COPIES[0], maximum=rules.ZFS_COPIES[1]),
    Key("hdsize", "number", "GiB of every disk to use (default: the first selected disk's size).",
        **_gib_range("hdsize")),
))

LVM = Key("lvm", "table", "LVM sizes in GiB (filesystem = \"ext4\" or \"xfs\").", keys=(
    Key("hdsize", "number", "GiB of the disk to use (default: the whole disk).", **_gib_range("hdsize")),
    Key("swapsize", "number", "Swap LV size; 0 = no swap (default: from RAM, 0.5-8 GiB, at most hdsize/8). "
        "At most hdsize / 2.", **_gib_range("swapsize")),
    Key("maxroot", "number", "Maximum root LV size (default 96 GiB; root is hdsize/4 + 12 GiB above 48 GiB); "
        f"0 = the default, else at least {rules.format_gib(rules.MIN_ROOT_BYTES / GiB)}.", **_gib_range("maxroot")),
    Key("minfree", "number", "Space left free in the VG for snapshots (default: 16 GiB above 128 GiB, "
        "else hdsize/8).", **_gib_range("minfree")),
    Key("maxvz", "number", "Maximum size of the data thin pool; 0 = no data pool.", **_gib_range("maxvz")),
))

BTRFS = Key("btrfs", "table", "Btrfs options (filesystem = \"btrfs\").", keys=(
    Key("raid", "string", "RAID level.", choices=BTRFS_RAID, ignore_case=True, when="btrfs, required"),
    Key("compress", "string", "Compression mount option.", default=str(BtrfsOptions.compress),
        choices=tuple(map(str, BtrfsCompress))),
    Key("hdsize", "number", "GiB of every disk to use (default: the first selected disk's size).",
        **_gib_range("hdsize")),
))

DISK_SETUP = Key("disk-setup", "table", "Target disks and filesystem.", required=True, keys=(
    Key("filesystem", "string", "Root filesystem; ext4/xfs use LVM on one disk.", required=True,
        choices=FILESYSTEMS),
    Key("disk-list", "string-list", "Disks by name (\"sda\") or path (\"/dev/sda\"), in order.",
        alias="disk_list", when="exactly one of disk-list / filter"),
    Key("filter", "globs", "udev property -> glob selecting the disks (see device-info).",
        when="exactly one of disk-list / filter"),
    Key("filter-match", "string", "ZFS/Btrfs: a disk matches if any filter matches, or unless one fails "
        "(all; a missing property does not count as failing).", default="any", choices=("any", "all"),
        alias="filter_match"),
    Key("filter-size-min", "number", "Only disks of at least this many GiB match.", keel=True,
        **_gib_range("filter-size-min")),
    Key("filter-size-max", "number", "Only disks of at most this many GiB match.", keel=True,
        **_gib_range("filter-size-max")),
    Key("disk-count", "integer", "Take this many matching disks, the smallest first.", minimum=1, keel=True),
    ZFS,
    LVM,
    BTRFS,
))

WEBHOOK = Key("post-installation-webhook", "table", "POST an installation report here when done.", keys=(
    Key("url", "string", "http(s) URL to POST the JSON report to.", required=True),
    Key("cert-fingerprint", "string", "SHA-256 fingerprint of the server certificate to pin.",
        alias="cert_fingerprint"),
    Key("auth-token", "string", "Token sent back in the report as \"token\".", alias="auth_token",
        secret=True),
))

FIRST_BOOT = Key("first-boot", "table", "Run an executable once on the installed system's first boot.", keys=(
    Key("source", "string", "Where the executable comes from.", required=True, choices=("from-iso", "from-url")),
    Key("ordering", "string", "When it runs.", default="fully-up",
        choices=("before-network", "network-online", "fully-up")),
    Key("url", "string", "Where to download it from.", when="from-url, required"),
    Key("cert-fingerprint", "string", "SHA-256 fingerprint of the server certificate to pin.",
        alias="cert_fingerprint"),
))

CLUSTER = Key("cluster", "table", "Create a corosync cluster on this node, or join one.", keys=(
    Key("name", "string", f"Cluster name: 1-{provision.CLUSTER_NAME_MAX} letters, digits and hyphens.",
        required=True),
    Key("mode", "string", "\"create\": this node founds the cluster; \"join\": it joins through peer.",
        required=True, choices=("create", "join")),
    Key("cluster-secret", "string", "The same secret in every node's answer, made by 'keel-answer "
        "cluster-secret'; it authenticates a join both ways.", required=True, secret=True),
    Key("link0", "string", "This node's address on corosync link 0; \"from-network\" = the management "
        "address.", default="from-network"),
    Key("link1", "string", "This node's address on a second, redundant link."),
    Key("link0-priority", "integer", "knet_link_priority of link 0 (passive mode uses the highest; equal "
        "priorities prefer the lower link number). Only the founder's count.", minimum=0,
        maximum=provision.LINK_PRIORITY_MAX),
    Key("link1-priority", "integer", "knet_link_priority of link 1.", minimum=0,
        maximum=provision.LINK_PRIORITY_MAX),
    Key("node-id", "integer", "corosync nodeid (default: 1 for the founder, the next free one for a joiner).",
        minimum=1, maximum=provision.NODE_ID_MAX),
    Key("peer", "string", f"host[:port] of a member's join service (port {provision.JOIN_PORT}).",
        when="join, required"),
))

STORAGE = Key("storage", "table-list", "Storage to make and register in /etc/pve/storage.cfg, one [[provision."
              "storage]] table each.", keys=(
    Key("id", "string", "Storage id (letters, digits, - _ .); local types also name their pool / VG after it.",
        required=True),
    Key("type", "string", "Storage type.", required=True, choices=provision.STORAGE_TYPES),
    Key("content", "string-list", "What it holds: images, rootdir, vztmpl, iso, backup, snippets, import, as the "
        "type allows (default: the type's Proxmox default)."),
    Key("nodes", "string-list", "Host names of the nodes that have it (default: all); a local storage is made "
        "only on the nodes listed.", default=[]),
    Key("shared", "boolean", "dir / btrfs: the path is the same storage on every node.", default=False),
    Key("path", "string", "dir: the directory; with disks, where the disk is mounted (default /mnt/pve/<id>).",
        when="dir"),
    Key("disk-list", "string-list", "Disks by name or path.", when="dir, lvmthin, zfspool, btrfs: one of "
        "disk-list / filter"),
    Key("filter", "globs", "udev property -> glob selecting the disks, as in disk-setup.",
        when="dir, lvmthin, zfspool, btrfs: one of disk-list / filter"),
    Key("filter-match", "string", "A disk matches if any filter matches, or unless one fails (all).",
        default="any", choices=("any", "all")),
    Key("filter-size-min", "number", "Only disks of at least this many GiB match.", **_gib_range("filter-size-min")),
    Key("filter-size-max", "number", "Only disks of at most this many GiB match.", **_gib_range("filter-size-max")),
    Key("disk-count", "integer", "Take this many matching disks, the smallest first.", minimum=1),
    Key("raid", "string", "zfspool: a ZFS RAID level; btrfs: RAID0, RAID1 or RAID10.",
        choices=tuple(dict.fromkeys(ZFS_RAID + BTRFS_RAID)), ignore_case=True, when="zfspool, btrfs, required"),
    Key("server", "string", "NFS / CIFS server.", when="nfs, cifs, required"),
    Key("export", "string", "NFS export path.", when="nfs, required"),
    Key("share", "string", "CIFS share name.", when="cifs, required"),
    Key("username", "string", "CIFS user; Ceph user for rbd / cephfs (default admin).", when="cifs, rbd, cephfs"),
    Key("password", "string", "CIFS password.", when="cifs", secret=True),
    Key("portal", "string", "iSCSI portal, host[:port].", when="iscsi, required"),
    Key("target", "string", "iSCSI target IQN.", when="iscsi, required"),
    Key("monhost", "string", "Ceph monitor addresses, space-separated.", when="rbd, cephfs, required"),
    Key("pool", "string", f"rbd: the Ceph pool (default {provision.RBD_DEFAULT_POOL}).", when="rbd"),
    Key("keyring", "string", "rbd: the client keyring; cephfs: the client's secret key.", when="rbd, cephfs",
        secret=True),
))

MAIL_RELAY = Key("mail-relay", "table", "Send the host's mail through this relay (postfix relayhost).", keys=(
    Key("host", "string", "Relay host name or address.", required=True),
    Key("port", "integer", "Relay port (587 with credentials is submission, STARTTLS).", default=25, minimum=1,
        maximum=65535),
    Key("username", "string", "SASL user name (with password; the relay is then used over TLS only)."),
    Key("password", "string", "SASL password.", secret=True),
))

USERS = Key("users", "table-list", "Login accounts, one [[provision.services.users]] table each; the installer "
            "creates them (home directory, bash).", keys=(
    Key("name", "string", f"User name: a lower-case letter, then lower-case letters, digits, _ and - (Debian's "
        f"NAME_REGEX), at most {services.USER_NAME_MAX} characters; not root (see global.root-ssh-keys) or a system "
        "account.", required=True),
    Key("ssh-keys", "string-list", "SSH public keys for the user's authorized_keys.", default=[],
        when="one of ssh-keys / password-hashed"),
    Key("groups", "string-list", "Supplementary groups (\"sudo\"); each must exist on the installed system.",
        default=[]),
    Key("password-hashed", "string", "Password as a crypt(3) hash (mkpasswd); without it the user logs in with a "
        "key only.", secret=True, when="one of ssh-keys / password-hashed"),
))

FIREWALL = Key("firewall", "table", "An nftables baseline in /etc/nftables.conf (nftables.service enabled): "
               f"established traffic, loopback, ICMP and SSH ({services.SSH_PORT}/tcp) from anywhere; corosync "
               f"({services.COROSYNC_PORTS[0]}-{services.COROSYNC_PORTS[1]}/udp) and the join service "
               f"({provision.JOIN_PORT}/tcp) from the cluster networks; the rest of the input is dropped.", keys=(
    Key("enabled", "boolean", "Write and enable the baseline (false: leave the payload's nftables off).",
        required=True),
    Key("cluster-networks", "string-list", "Networks (CIDR) of the cluster links; needed only for a link address "
        "outside the management network, whose network is added by itself.", default=[]),
    Key("allow-from", "string-list", "Further networks (CIDR) allowed to reach every port (an admin network).",
        default=[]),
))

SERVICES = Key("services", "table", "Time, mail, package sources, accounts, kernel settings and the firewall of the "
               "installed system.", keys=(
    Key("ntp-servers", "string-list", "NTP servers for chrony (host names or addresses).", default=[]),
    MAIL_RELAY,
    Key("apt-proxy", "string", "http(s) URL of a proxy for apt (Acquire::http::Proxy)."),
    Key("apt-repositories", "string-list", "Extra apt sources, one line each: \"deb [options] URI suite "
        "components\".", default=[]),
    USERS,
    Key("ssh-password-login", "boolean", "sshd's PasswordAuthentication for every user, root included (an "
        "sshd_config.d drop-in); unset: sshd's default, which allows it."),
    Key("sysctl", "value-table", "Kernel settings for /etc/sysctl.d/90-keel.conf: key = value (\"vm.swappiness\" "
        "= 10); a dotted key may be written unquoted.", default={}),
    FIREWALL,
    Key("packages", "string-list", "Debian packages the installed system must have. Only packages already in the "
        "ISO's payload can be named: the medium carries no package pool yet, and the installer never uses the "
        "network.", default=[]),
))

PROVISION = Key("provision", "table", "Keel extension: what the host should be once it has booted: cluster, storage, "
                "services. "
                "In progress: see the README.", keel=True, keys=(CLUSTER, STORAGE, SERVICES))

SECTIONS: tuple[Key, ...] = (GLOBAL, NETWORK, DISK_SETUP, WEBHOOK, FIRST_BOOT, PROVISION)
RENAMED_SECTIONS = {"posthook": "post-installation-webhook"}


def section(name: str) -> Key:
    found = next((s for s in SECTIONS if s.name == name), None)
    if found is None:
        raise KeyError(name)
    return found


def all_key_paths() -> list[str]:
    """Every fixed key path ("disk-setup.zfs.raid"), for suggestions across sections."""
    paths: list[str] = []

    def walk(prefix: str, keys: tuple[Key, ...]) -> None:
        for key in keys:
            path = f"{prefix}.{key.name}" if prefix else key.name
            paths.append(path)
            if key.kind in ("table", "table-list"):
                walk(path, key.keys)

    walk("", SECTIONS)
    return paths


def secret_names() -> frozenset[str]:
    """The names (and legacy aliases) of the keys whose values are secrets."""
    names: set[str] = set()

    def walk(keys: tuple[Key, ...]) -> None:
        for key in keys:
            if key.secret:
                names.update(n for n in (key.name, key.alias) if n)
            walk(key.keys)

    walk(SECTIONS)
    return frozenset(names)
