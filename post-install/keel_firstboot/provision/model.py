"""/etc/keel/provision.json read into frozen dataclasses with the standard library only.

The installer writes the file (installer/installed_system/render/provision.py, from installer.core.config's
Provision); the field names are the same on both sides and a unit test keeps them so, as neither package may import
the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from typing import Any

PATH = "/etc/keel/provision.json"
VERSION = 1


class ProvisionFileError(Exception):
    """provision.json cannot be read or is not version 1; the message names the file and the problem."""


@dataclass(frozen=True)
class Node:
    name: str
    fqdn: str
    address: str


@dataclass(frozen=True)
class Cluster:
    name: str
    mode: str                               # "create" | "join"
    link0: str
    cluster_secret: str
    link1: str | None = None
    link0_priority: int | None = None
    link1_priority: int | None = None
    node_id: int | None = None
    peer: str | None = None


@dataclass(frozen=True)
class Storage:
    id: str
    type: str
    content: tuple[str, ...]
    storage_cfg: str                        # the stanza to append to /etc/pve/storage.cfg once it is made
    nodes: tuple[str, ...] = ()
    shared: bool = False
    disks: tuple[str, ...] = ()
    raid: str | None = None
    path: str | None = None
    server: str | None = None
    export: str | None = None
    share: str | None = None
    username: str | None = None
    password: str | None = None
    portal: str | None = None
    target: str | None = None
    monhost: str | None = None
    pool: str | None = None
    keyring: str | None = None


@dataclass(frozen=True)
class MailRelay:
    host: str
    port: int = 25
    username: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class UserAccount:
    name: str
    ssh_keys: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    password_hashed: str | None = None


@dataclass(frozen=True)
class Firewall:
    cluster_networks: tuple[str, ...] = ()
    allow_from: tuple[str, ...] = ()


@dataclass(frozen=True)
class Services:
    """The installer already made all of these true on the installed system (files, users, the firewall's unit);
    they are here for `keel-firstboot plan` and for reports, not for a step."""

    ntp_servers: tuple[str, ...] = ()
    mail_relay: MailRelay | None = None
    apt_proxy: str | None = None
    apt_repositories: tuple[str, ...] = ()
    users: tuple[UserAccount, ...] = ()
    ssh_password_login: bool | None = None
    sysctl: dict[str, str] = field(default_factory=dict)
    firewall: Firewall | None = None
    packages: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProvisionDoc:
    node: Node
    cluster: Cluster | None = None
    storage: tuple[Storage, ...] = ()
    services: Services | None = None


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ProvisionFileError(f"{where}: expected an object")
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise ProvisionFileError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
    try:
        return cls(**values)
    except TypeError as err:
        raise ProvisionFileError(f"{where}: {err}") from err


def parse(text: str, source: str = PATH) -> ProvisionDoc:
    try:
        data = json.loads(text)
    except ValueError as err:
        raise ProvisionFileError(f"{source}: not valid JSON ({err})") from err
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise ProvisionFileError(f"{source}: not a version {VERSION} provision file")
    services = data.get("services")
    if isinstance(services, dict) and services.get("mail_relay") is not None:
        services = {**services, "mail_relay": _build(MailRelay, services["mail_relay"], f"{source}: mail_relay")}
    if isinstance(services, dict) and services.get("firewall") is not None:
        services = {**services, "firewall": _build(Firewall, services["firewall"], f"{source}: firewall")}
    if isinstance(services, dict) and isinstance(services.get("users"), list):
        services = {**services, "users": [_build(UserAccount, u, f"{source}: users[{i}]")
                                          for i, u in enumerate(services["users"])]}
    return ProvisionDoc(
        node=_build(Node, data.get("node"), f"{source}: node"),
        cluster=_build(Cluster, data["cluster"], f"{source}: cluster") if data.get("cluster") else None,
        storage=tuple(_build(Storage, s, f"{source}: storage[{i}]") for i, s in enumerate(data.get("storage", []))),
        services=_build(Services, services, f"{source}: services") if services else None,
    )


def load(path: Any) -> ProvisionDoc | None:
    """The file at `path`, or None when there is none (the answer had no [provision])."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise ProvisionFileError(f"{path}: cannot read it ({err})") from err
    return parse(text, str(path))
