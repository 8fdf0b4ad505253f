"""The rules of [provision] in one place for the answer file, its resolution and the installed-system files:
storage types and the content each takes, Proxmox's id and name syntax, the cluster secret, the disk guard.

The join protocol the cluster secret serves (keel-firstboot's join service, post-install/keel_firstboot/join):
every node's answer carries the same 256-bit secret made by `keel-answer cluster-secret`. A joiner connects over
TLS to a member's join service (`peer`, port JOIN_PORT by default) and sends a nonce; the member answers with its own
nonce and an HMAC-SHA256, under a key derived from the secret, over both nonces and the SHA-256 fingerprint of
the certificate it serves. The joiner checks it against the fingerprint it saw, so it knows it talks to a holder
of the secret and that nobody sits between them; it then proves the same over the other nonce order and its
node name, and only then does the member add it to the nodelist and send the corosync authkey and
corosync.conf, inside that TLS session. Nothing that lacks the secret receives the authkey; every answer of the
cluster can be written ahead, differing only in host name, address and mode.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence

from installer.core import checks, rules
from installer.core.hardware import Disk, describe_existing

STORAGE_TYPES = ("dir", "lvmthin", "zfspool", "btrfs", "nfs", "cifs", "iscsi", "rbd", "cephfs")
LOCAL_TYPES = ("dir", "lvmthin", "zfspool", "btrfs")         # made on this node's disks
SHARED_BY_NATURE = ("nfs", "cifs", "iscsi", "rbd", "cephfs")   # Proxmox marks these shared itself
SHARED_FLAG_TYPES = ("dir", "btrfs")                          # where `shared` is a storage.cfg option
CONTENT_TYPES = ("images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import")

# type -> (content types it takes, the default when the answer names none), as Proxmox's storage plugins say
_FILES = ("images", "rootdir", "vztmpl", "iso", "backup", "snippets", "import")
CONTENT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "dir": (_FILES, ("images", "rootdir")),
    "btrfs": (_FILES, ("images", "rootdir")),
    "nfs": (_FILES, ("images",)),
    "cifs": (_FILES, ("images",)),
    "lvmthin": (("images", "rootdir"), ("images", "rootdir")),
    "zfspool": (("images", "rootdir"), ("images", "rootdir")),
    "rbd": (("images", "rootdir"), ("images",)),
    "iscsi": (("images",), ("images",)),
    "cephfs": (("vztmpl", "iso", "backup", "snippets", "import"), ("backup",)),
}

DISK_KEYS = ("disk-list", "filter", "filter-match", "filter-size-min", "filter-size-max", "disk-count")
# type -> the type-specific answer keys it takes (and those it requires)
TYPE_KEYS: dict[str, tuple[str, ...]] = {
    "dir": ("path", *DISK_KEYS),
    "lvmthin": DISK_KEYS,
    "zfspool": ("raid", *DISK_KEYS),
    "btrfs": ("raid", *DISK_KEYS),
    "nfs": ("server", "export"),
    "cifs": ("server", "share", "username", "password"),
    "iscsi": ("portal", "target"),
    "rbd": ("monhost", "pool", "username", "keyring"),
    "cephfs": ("monhost", "username", "keyring"),
}
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "zfspool": ("raid",), "btrfs": ("raid",), "nfs": ("server", "export"), "cifs": ("server", "share"),
    "iscsi": ("portal", "target"), "rbd": ("monhost",), "cephfs": ("monhost",),
}
TYPE_SPECIFIC_KEYS = tuple(dict.fromkeys(k for keys in TYPE_KEYS.values() for k in keys))

MOUNT_BASE = "/mnt/pve"                 # where Proxmox mounts nfs, cifs, cephfs and disks made into storage
RBD_DEFAULT_POOL = "rbd"
CEPH_DEFAULT_USER = "admin"
# the entries the installer writes itself (installer.storage.plan.storagecfg) and the install's pool
INSTALL_STORAGE_IDS = ("local", "local-lvm", "local-zfs", "local-btrfs")
INSTALL_POOL = "rpool"
INSTALL_VG = "pve"
ZPOOL_RESERVED = ("mirror", "raidz", "draid", "spare", "log", "cache", "special", "dedup")

JOIN_PORT = 8106                        # keel-firstboot's join service (TCP, TLS)
CLUSTER_NAME_MAX = 15                   # Proxmox's pve-cluster-name
NODE_ID_MAX = 2**32 - 1                 # corosync's nodeid is an unsigned 32-bit number, 0 is not one
LINK_PRIORITY_MAX = 255                 # knet_link_priority
CLUSTER_SECRET_PREFIX = "kcs1-"
CLUSTER_SECRET_BYTES = 32

_STORAGE_ID = re.compile(r"^[a-z][a-z0-9\-_.]*[a-z0-9]$", re.IGNORECASE)   # Proxmox's pve-storage-id
_CLUSTER_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$")


def new_cluster_secret() -> str:
    """A fresh cluster secret: kcs1- and 256 random bits in unpadded base64url (43 characters)."""
    raw = secrets.token_bytes(CLUSTER_SECRET_BYTES)
    return CLUSTER_SECRET_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cluster_secret_problem(secret: str) -> str | None:
    """Whether `secret` is one `keel-answer cluster-secret` made; the message never repeats the value."""
    body = secret.removeprefix(CLUSTER_SECRET_PREFIX)
    wanted = "made by 'keel-answer cluster-secret' (kcs1- and 43 base64url characters, 256 random bits)"
    if not secret.startswith(CLUSTER_SECRET_PREFIX) or not re.fullmatch(r"[A-Za-z0-9_-]{43}", body):
        return f"is not a cluster secret {wanted}; got {len(secret)} characters"
    return None


def cluster_name_problem(name: str) -> str | None:
    if not _CLUSTER_NAME.match(name) or len(name) > CLUSTER_NAME_MAX:
        return (f"'{name}' is not a cluster name: 1-{CLUSTER_NAME_MAX} letters, digits and hyphens, not starting or "
                "ending with a hyphen")
    return None


def storage_id_problem(storage_id: str) -> str | None:
    if not _STORAGE_ID.match(storage_id):
        return (f"'{storage_id}' is not a storage id: a letter first, then letters, digits, '-', '_' or '.', "
                "ending with a letter or digit (at least 2 characters)")
    if storage_id in INSTALL_STORAGE_IDS:
        return f"'{storage_id}' is the installer's own storage ({', '.join(INSTALL_STORAGE_IDS)}); choose another id"
    return None


def pool_name_problem(storage_type: str, storage_id: str) -> str | None:
    """The zpool or VG a local storage makes is named after its id: not the install's, not a reserved word."""
    if storage_type == "zfspool":
        if storage_id == INSTALL_POOL:
            return f"'{storage_id}' is the install's ZFS pool; a zfspool storage makes a pool named after its id"
        if storage_id.startswith(ZPOOL_RESERVED) or re.match(r"^c[0-9]", storage_id) or "." in storage_id:
            return (f"'{storage_id}' cannot name a ZFS pool (the pool is named after the id: no '.', no "
                    f"{', '.join(ZPOOL_RESERVED)} or c<digit> at the start)")
    if storage_type == "lvmthin" and storage_id == INSTALL_VG:
        return f"'{storage_id}' is the install's volume group; an lvmthin storage makes a VG named after its id"
    return None


def content_problems(storage_type: str, content: Sequence[str]) -> list[str]:
    allowed = CONTENT[storage_type][0]
    problems = [f"'{c}' is not a content type of {storage_type} storage (it takes {', '.join(allowed)})"
                for c in content if c not in allowed]
    problems += [f"'{c}' is listed twice" for i, c in enumerate(content) if c in content[:i]]
    if not content:
        problems.append(f"is empty: name what the storage holds ({', '.join(allowed)})")
    return problems


def host_port_problem(value: str, *, what: str) -> str | None:
    """`host`, `host:port`, `[v6]:port` or a bare IPv6 address."""
    host, port = split_host_port(value)
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return f"'{value}': the port must be a number from 1 to 65535"
    if not host:
        return f"'{value}' names no {what}"
    if checks.ip_problem(host) is None or _server_name(host):
        return None
    return f"'{value}' is not a host name or IP address (with an optional :port)"


def host_problem(value: str) -> str | None:
    """A host name, FQDN or IP address (no port)."""
    if checks.ip_problem(value) is None or _server_name(value):
        return None
    return f"'{value}' is not a host name or IP address"


def _server_name(name: str) -> bool:
    """Another machine's DNS name: a host name, or dot-separated labels whose last one is not all digits. Unlike
    this machine's own FQDN, a first label may be numeric: pool servers are 0.debian.pool.ntp.org."""
    if checks.hostname_problem(name) is None:
        return True
    return checks.domain_problem(name) is None and not name.rsplit(".", 1)[-1].isdigit()


def split_host_port(value: str) -> tuple[str, str | None]:
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else None
    if value.count(":") == 1:
        host, _, port = value.partition(":")
        return host, port
    return value, None


def apt_repository_problem(line: str) -> str | None:
    """A one-line apt source: deb|deb-src, optional [options], URI, suite, components."""
    match = re.match(r"^(deb|deb-src)\s+(\[[^\]]*\]\s+)?(\S+)\s+(\S+)(\s+\S+)*\s*$", line)
    if not match:
        return (f"'{line[:60]}' is not a one-line apt source: 'deb [options] URI suite [components]' "
                "(see sources.list(5))")
    return checks.url_problem(match[3])


def disk_in_use_problem(disk: Disk) -> str | None:
    """A disk for a new storage must be empty: anything on it but a bare partition table is someone's data.

    Unlike the install's own disks (which the answer hands over whole, and the install wipes), a provisioned
    storage only takes disks nothing lives on; clear one with `wipefs -a` first to use it."""
    if problem := rules.install_medium_problem(disk):
        return problem
    held = [item for item in disk.existing if item.kind != "partition-table"]
    if held:
        found = "; ".join(describe_existing(item) for item in held[:3])
        more = f" and {len(held) - 3} more" if len(held) > 3 else ""
        return (f"disk {disk.name} is in use or holds data ({found}{more}); a storage is made only on empty "
                "disks: clear it first (wipefs -a) or select another")
    return None
