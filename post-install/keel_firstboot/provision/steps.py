"""What first boot will do for [provision], as data: `provision_steps(doc, facts)` lists every command, file and
storage.cfg entry in order, pure, so `keel-firstboot plan` shows it and tests check it (like the installer's
boot_steps). A step already true on this system is marked done, which is how a re-run skips it.

A "run" step carries its `checks`: commands that all exit 0 when the step is already true on this system, so the
executor (run.py) skips it, and a power cut between a command and its record is followed by a clean re-run. A
"write" step is true when the file has its text and mode, a "register" step when storage.cfg has its id, a "join"
step once the authkey is there (the join client, keel_firstboot.join, writes it last). A step's `devices` are the
disks it writes: the executor checks that they are still blank before the first of a storage's steps writes them
(the install's guard, checked again at boot), as the answer's resolution did at install time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .model import Cluster, ProvisionDoc, Storage
from .render_corosync import CorosyncNode, Link, render_corosync_conf

COROSYNC_CONF = "/etc/corosync/corosync.conf"
AUTHKEY = "/etc/corosync/authkey"
STORAGE_CFG = "/etc/pve/storage.cfg"
PRIV_STORAGE = "/etc/pve/priv/storage"
PRIV_CEPH = "/etc/pve/priv/ceph"
MOUNT_UNIT_DIR = "/etc/systemd/system"
JOIN_PORT = 8106            # installer/core/provision.py JOIN_PORT (a unit test keeps the two equal)
ZFS_VDEV = {"RAID0": "", "RAID1": "mirror", "RAIDZ-1": "raidz1", "RAIDZ-2": "raidz2", "RAIDZ-3": "raidz3"}
BTRFS_PROFILE = {"RAID0": "raid0", "RAID1": "raid1", "RAID10": "raid10"}


@dataclass(frozen=True)
class Facts:
    """What the installed system already has: the inputs that make steps done."""

    hostname: str
    registered_storage: frozenset[str] = frozenset()   # ids in /etc/pve/storage.cfg
    corosync_configured: bool = False                   # /etc/corosync/authkey exists

    @classmethod
    def of(cls, root: Path) -> Facts:
        def text(path: str) -> str:
            try:
                return (root / path.lstrip("/")).read_text()
            except (OSError, UnicodeDecodeError):
                return ""

        ids = {line.split(":", 1)[1].strip() for line in text(STORAGE_CFG).splitlines()
               if line[:1].strip() and ":" in line}
        return cls(hostname=text("/etc/hostname").strip(), registered_storage=frozenset(ids),
                   corosync_configured=(root / AUTHKEY.lstrip("/")).exists())


@dataclass(frozen=True)
class ProvisionStep:
    kind: str                           # "run" | "write" | "join" | "register"
    subject: str                        # "cluster rack1", "storage tank"
    summary: str                        # one line for people
    argv: tuple[str, ...] = ()          # run: the command
    path: str = ""                      # write, register: the file
    text: str = ""                      # write: the content; register: the stanza appended
    mode: int = 0o644
    devices: tuple[str, ...] = field(default=())
    done: bool = False
    checks: tuple[tuple[str, ...], ...] = ()  # run: each exits 0 when the step is already true


def is_active(unit: str) -> tuple[tuple[str, ...], ...]:
    """The checks of `systemctl enable --now unit`: enabled, and running (or mounted) now."""
    return (("systemctl", "is-enabled", "--quiet", unit), ("systemctl", "is-active", "--quiet", unit))


def exists(test: str, path: str) -> tuple[tuple[str, ...], ...]:
    return (("test", test, path),)


def provision_steps(doc: ProvisionDoc, facts: Facts) -> list[ProvisionStep]:
    steps: list[ProvisionStep] = []
    if doc.cluster is not None:
        steps += _cluster_steps(doc, facts)
    for storage in doc.storage:
        if storage.nodes and doc.node.name not in storage.nodes:
            # made on the nodes it names only, but registered on every member, with its `nodes` line, as
            # Proxmox's one cluster-wide storage.cfg has it: every member's storage.cfg holds the same entries
            steps.append(_register(storage, f"storage {storage.id}", storage.id in facts.registered_storage))
            continue
        steps += _storage_steps(storage, facts)
    return steps


def _cluster_steps(doc: ProvisionDoc, facts: Facts) -> list[ProvisionStep]:
    c = doc.cluster
    assert c is not None
    subject, done = f"cluster {c.name}", facts.corosync_configured
    addresses = (c.link0, c.link1) if c.link1 else (c.link0,)
    # Debian's corosync is enabled and runs its example corosync.conf from the first boot on: `enable --now` would
    # find it active and leave it so; a restart makes it read this cluster's file (and authkey)
    corosync = [
        ProvisionStep("run", subject, "enable corosync at boot", ("systemctl", "enable", "corosync.service"),
                      done=done, checks=(("systemctl", "is-enabled", "--quiet", "corosync.service"),)),
        ProvisionStep("run", subject, f"restart corosync with cluster {c.name}'s corosync.conf",
                      ("systemctl", "restart", "corosync.service"), done=done,
                      checks=(("systemctl", "is-active", "--quiet", "corosync.service"),
                              ("sh", "-c", 'corosync-cmapctl -g totem.cluster_name | grep -qxF -- "$1"', "sh",
                               f"totem.cluster_name (str) = {c.name}"))),
    ]
    join_service = ProvisionStep("run", subject, f"start the join service on port {JOIN_PORT}",
                                 ("systemctl", "enable", "--now", "keel-join.service"), done=done,
                                 checks=is_active("keel-join.service"))
    if c.mode == "join":
        # a joiner serves joins too once it is a member, so a later node may join through any member
        peer = with_port(c.peer or "")
        return [ProvisionStep("join", subject, f"join through {peer}: both prove the cluster secret, then the "
                              f"member adds {doc.node.name} ({', '.join(addresses)}) on every member and sends "
                              f"{AUTHKEY} and {COROSYNC_CONF}", path=COROSYNC_CONF, done=done), *corosync,
                join_service]
    conf = render_corosync_conf(c.name, [CorosyncNode(doc.node.name, c.node_id or 1, addresses)], cluster_links(c))
    return [
        ProvisionStep("run", subject, f"make {AUTHKEY}", ("corosync-keygen",), done=done,
                      checks=exists("-s", AUTHKEY)),
        ProvisionStep("write", subject, f"write {COROSYNC_CONF} with {doc.node.name} as node {c.node_id or 1}",
                      path=COROSYNC_CONF, text=conf, done=done),
        *corosync,
        join_service,
    ]


def cluster_links(c: Cluster) -> list[Link]:
    return [Link(0, c.link0_priority)] + ([Link(1, c.link1_priority)] if c.link1 else [])


def with_port(peer: str) -> str:
    """host:port of the join service: the answer's port, else JOIN_PORT (a bare IPv6 address gets brackets)."""
    if "]:" in peer or peer.count(":") == 1:
        return peer
    if peer.startswith("["):
        return f"{peer}:{JOIN_PORT}"
    return f"[{peer}]:{JOIN_PORT}" if ":" in peer else f"{peer}:{JOIN_PORT}"


def systemd_escape_path(path: str) -> str:
    """`systemd-escape --path`: the unit name of a mount point (/mnt/pve/a-b -> mnt-pve-a\\x2db)."""
    def escape(part: str) -> str:
        return "".join(c if c.isalnum() or (c in "_." and i) else f"\\x{ord(c):02x}" for i, c in enumerate(part))
    return "-".join(escape(part) for part in path.strip("/").split("/"))


def render_mount_unit(what: str, where: str, fstype: str, options: str = "defaults") -> str:
    return ("[Unit]\nDescription=Keel storage mount " + where + "\n\n[Mount]\n"
            f"What={what}\nWhere={where}\nType={fstype}\nOptions={options}\n\n[Install]\nWantedBy=multi-user.target\n")


def _mount(subject: str, what: str, where: str, fstype: str, done: bool, options: str = "defaults"
           ) -> list[ProvisionStep]:
    unit = f"{systemd_escape_path(where)}.mount"
    return [
        ProvisionStep("write", subject, f"mount {what} on {where}", path=f"{MOUNT_UNIT_DIR}/{unit}",
                      text=render_mount_unit(what, where, fstype, options), done=done),
        ProvisionStep("run", subject, f"mount {where} now and at every boot", ("systemctl", "enable", "--now", unit),
                      done=done, checks=is_active(unit)),
    ]


def _secret(subject: str, path: str, text: str, done: bool) -> ProvisionStep:
    return ProvisionStep("write", subject, f"write {path} (0600)", path=path, text=text, mode=0o600, done=done)


def _storage_steps(s: Storage, facts: Facts) -> list[ProvisionStep]:
    subject, done = f"storage {s.id}", s.id in facts.registered_storage
    where = s.path or f"/mnt/pve/{s.id}"
    disks = s.disks
    steps: list[ProvisionStep] = []
    if s.type == "zfspool":
        raid = s.raid or "RAID0"
        steps.append(ProvisionStep("run", subject, f"create ZFS pool {s.id} ({raid}) on {_count(disks)}",
                                   ("zpool", "create", "-o", "ashift=12", "-m", f"/{s.id}", s.id,
                                    *_zfs_vdevs(raid, disks)),
                                   devices=disks, done=done, checks=(("zpool", "list", "-H", "-o", "name", s.id),)))
    elif s.type == "lvmthin":
        steps += [
            ProvisionStep("run", subject, "make the disks LVM PVs", ("pvcreate", "--yes", *disks), devices=disks,
                          done=done, checks=(("pvs", *disks),)),
            ProvisionStep("run", subject, f"create volume group {s.id}", ("vgcreate", s.id, *disks), devices=disks,
                          done=done, checks=(("vgs", s.id),)),
            ProvisionStep("run", subject, f"create thin pool {s.id}/{s.id}",
                          ("lvcreate", "--yes", "--type", "thin-pool", "--extents", "100%FREE", "--name", s.id, s.id),
                          done=done, checks=(("lvs", f"{s.id}/{s.id}"),)),
        ]
    elif s.type in ("dir", "btrfs") and disks:
        if s.type == "dir":
            disk = disks[0]
            part = f"{disk}-part1" if disk.startswith("/dev/disk/") else f"{disk}1"
            steps += [
                ProvisionStep("run", subject, f"partition {disk}", ("sgdisk", "--new=1:0:0", "--typecode=1:8300",
                                                                    disk), devices=disks, done=done,
                              checks=exists("-b", part)),
                ProvisionStep("run", subject, f"make ext4 on {part}", ("mkfs.ext4", "-L", s.id[:16], part),
                              devices=disks, done=done, checks=(("blkid", "--match-token", "TYPE=ext4", part),)),
            ]
            what, fstype = part, "ext4"
        else:
            profile = BTRFS_PROFILE.get(s.raid or "RAID0", "raid0")
            steps.append(ProvisionStep("run", subject, f"make btrfs ({profile}) on {_count(disks)}",
                                       ("mkfs.btrfs", "-L", s.id, "-d", profile, "-m", profile, *disks),
                                       devices=disks, done=done,
                                       checks=(("blkid", "--match-token", "TYPE=btrfs", disks[0]),)))
            what, fstype = disks[0], "btrfs"
        steps += [ProvisionStep("run", subject, f"make {where}", ("mkdir", "-p", where), done=done,
                                checks=exists("-d", where)),
                  *_mount(subject, what, where, fstype, done)]
    elif s.type == "dir":
        steps.append(ProvisionStep("run", subject, f"make {where}", ("mkdir", "-p", where), done=done,
                                   checks=exists("-d", where)))
    elif s.type == "nfs":
        steps += [ProvisionStep("run", subject, f"make {where}", ("mkdir", "-p", where), done=done,
                                checks=exists("-d", where)),
                  *_mount(subject, f"{s.server}:{s.export}", where, "nfs", done)]
    elif s.type == "cifs":
        creds = f"{PRIV_STORAGE}/{s.id}.pw"
        if s.password:
            steps.append(_secret(subject, creds, f"username={s.username}\npassword={s.password}\n", done))
        options = f"credentials={creds}" if s.password else "guest"
        steps += [ProvisionStep("run", subject, f"make {where}", ("mkdir", "-p", where), done=done,
                                checks=exists("-d", where)),
                  *_mount(subject, f"//{s.server}/{s.share}", where, "cifs", done, options)]
    elif s.type == "iscsi":
        steps += [
            ProvisionStep("run", subject, f"discover {s.portal}", ("iscsiadm", "--mode", "discovery", "--type",
                                                                   "sendtargets", "--portal", s.portal or ""),
                          done=done, checks=(("iscsiadm", "--mode", "node", "--targetname", s.target or "",
                                              "--portal", s.portal or ""),)),
            ProvisionStep("run", subject, f"log in to {s.target}", ("iscsiadm", "--mode", "node", "--targetname",
                                                                    s.target or "", "--portal", s.portal or "",
                                                                    "--login"), done=done,
                          checks=(("sh", "-c", 'iscsiadm --mode session | grep -qwF -- "$1"', "sh",
                                   s.target or ""),)),
        ]
    elif s.type == "rbd" and s.keyring:
        steps.append(_secret(subject, f"{PRIV_CEPH}/{s.id}.keyring", s.keyring, done))
    elif s.type == "cephfs":
        secret = f"{PRIV_CEPH}/{s.id}.secret"
        if s.keyring:
            steps.append(_secret(subject, secret, s.keyring, done))
        options = f"name={s.username or 'admin'}" + (f",secretfile={secret}" if s.keyring else "")
        steps += [ProvisionStep("run", subject, f"make {where}", ("mkdir", "-p", where), done=done,
                                checks=exists("-d", where)),
                  *_mount(subject, f"{s.monhost.replace(' ', ',') if s.monhost else ''}:/", where, "ceph", done,
                          options)]
    steps.append(_register(s, subject, done))
    return steps


def _register(s: Storage, subject: str, done: bool) -> ProvisionStep:
    return ProvisionStep("register", subject, f"add {s.type}: {s.id} to {STORAGE_CFG}", path=STORAGE_CFG,
                         text=s.storage_cfg, done=done)


def _zfs_vdevs(raid: str, disks: tuple[str, ...]) -> list[str]:
    if raid == "RAID10":
        return [item for i in range(0, len(disks) - 1, 2) for item in ("mirror", disks[i], disks[i + 1])]
    kind = ZFS_VDEV.get(raid, "")
    return [kind, *disks] if kind else list(disks)


def _count(disks: tuple[str, ...]) -> str:
    return f"{len(disks)} disk{'' if len(disks) == 1 else 's'}"
