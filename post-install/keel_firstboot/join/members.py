"""The cluster's members as data: each node's name, node id, link addresses, join endpoint and SSH host keys, the
cluster's links and config_version; corosync.conf, the /etc/hosts block and ssh_known_hosts are rendered from it,
so every member that holds the same membership writes the same files.

Every node keeps it in MEMBERS; a join adds a node (its id the answer's, else the lowest free one) and bumps
config_version, and the member that admits it pushes the new membership to every other member.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ..provision.model import ProvisionDoc
from ..provision.render_corosync import CorosyncNode, Link, render_corosync_conf
from ..provision.steps import JOIN_PORT, cluster_links
from .protocol import JoinRefused, PeerError, endpoint_of

MEMBERS = "/var/lib/keel/cluster/members.json"
NODE_ID_MAX = 2**32 - 1
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_ADDRESS = re.compile(r"[A-Za-z0-9:][A-Za-z0-9.:-]{0,252}")             # IPv4, IPv6 or a DNS name
_ENDPOINT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]{0,252}):[0-9]{1,5}")
_HOST_KEY = re.compile(r"[a-z0-9@.-]{3,64} [A-Za-z0-9+/]{16,16384}={0,2}")
HOSTS = "/etc/hosts"
KNOWN_HOSTS = "/etc/ssh/ssh_known_hosts"
SSH_DIR = "/etc/ssh"


@dataclass(frozen=True)
class Member:
    name: str
    nodeid: int                             # 0 in a join request: "the member picks"
    addresses: tuple[str, ...]              # ring0_addr, ring1_addr, ...
    endpoint: str                           # where its join service listens (host:port)
    fqdn: str = ""
    address: str = ""                       # the management address, for /etc/hosts (else link 0's)
    host_keys: tuple[str, ...] = ()         # "ssh-ed25519 AAAA...", from /etc/ssh/ssh_host_*_key.pub

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Member:
        """An entry from a peer, checked field by field: each goes into corosync.conf, /etc/hosts or known_hosts
        as it is, so a line break or a brace in one would be a line of those files."""
        try:
            member = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})
        except (TypeError, AttributeError) as err:
            raise PeerError(f"not a member entry ({err})") from err
        problem = member.problem()
        if problem:
            raise JoinRefused(f"member entry {str(member.name)[:64]!r}: {problem}")
        return member

    def problem(self) -> str | None:
        if not (isinstance(self.name, str) and _NAME.fullmatch(self.name)):
            return "the name is not a host name"
        if not (isinstance(self.nodeid, int) and 0 <= self.nodeid <= NODE_ID_MAX):
            return f"the node id is not 0-{NODE_ID_MAX}"
        if not self.addresses or not all(isinstance(a, str) and _ADDRESS.fullmatch(a) for a in self.addresses):
            return "a link address is not an address or a host name"
        if not (isinstance(self.endpoint, str) and _ENDPOINT.fullmatch(self.endpoint)):
            return "the join endpoint is not host:port"
        if not all(isinstance(x, str) and (not x or _ADDRESS.fullmatch(x)) for x in (self.fqdn, self.address)):
            return "the FQDN or the management address is not one"
        if not all(isinstance(k, str) and _HOST_KEY.fullmatch(k) for k in self.host_keys):
            return "a host key is not 'type base64'"
        return None


@dataclass(frozen=True)
class Membership:
    cluster: str
    config_version: int
    links: tuple[Link, ...]
    members: tuple[Member, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "config_version": self.config_version,
                "links": [asdict(link) for link in self.links], "members": [m.to_json() for m in self.members]}

    @classmethod
    def from_json(cls, data: Any) -> Membership:
        try:
            return cls(data["cluster"], int(data["config_version"]), tuple(Link(**link) for link in data["links"]),
                       tuple(Member.from_json(m) for m in data["members"]))
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise PeerError(f"not a membership ({err})") from err

    def member(self, name: str) -> Member | None:
        return next((m for m in self.members if m.name == name), None)

    def corosync_conf(self) -> str:
        nodes = [CorosyncNode(m.name, m.nodeid, m.addresses) for m in self.members]
        return render_corosync_conf(self.cluster, nodes, self.links, self.config_version)

    def admit(self, joiner: Member, cluster: str) -> Membership:
        """The membership with `joiner` in it: the same when it is in it already as it is (a join run again),
        else with its entry added or replaced and config_version bumped."""
        if cluster != self.cluster:
            raise JoinRefused(f"this is cluster {self.cluster}, not {cluster}")
        if len(joiner.addresses) != len(self.links):
            raise JoinRefused(f"cluster {self.cluster} has {len(self.links)} link(s); {joiner.name} gave "
                              f"{len(joiner.addresses)} address(es)")
        current = self.member(joiner.name)
        if current is not None and set(current.host_keys) != set(joiner.host_keys):
            # a join run again sends the same host keys; other keys are another machine under a member's name
            # (two answers with one host name), which would take that member's place in every nodelist
            raise JoinRefused(f"{joiner.name} is a member of cluster {self.cluster} already, with other SSH host "
                              "keys: another machine cannot join under its name")
        taken = {m.nodeid: m.name for m in self.members if m.name != joiner.name}
        wanted = joiner.nodeid or (current.nodeid if current else 0)
        if wanted in taken:
            raise JoinRefused(f"node id {wanted} is {taken[wanted]}'s in cluster {self.cluster}")
        nodeid = wanted or next(n for n in range(1, len(taken) + 2) if n not in taken)
        entry = replace(joiner, nodeid=nodeid)
        if current == entry:
            return self
        others = tuple(m for m in self.members if m.name != joiner.name)
        return replace(self, config_version=self.config_version + 1,
                       members=tuple(sorted((*others, entry), key=lambda m: m.nodeid)))


def own_entry(doc: ProvisionDoc, root: Path, endpoint: str | None = None) -> Member:
    """This node as the answer and its SSH host keys describe it; node id 0 when the answer leaves it to the
    member; its join service on link 0 and the join port unless `endpoint` says otherwise."""
    c = doc.cluster
    assert c is not None
    return Member(doc.node.name, c.node_id or 0, (c.link0, c.link1) if c.link1 else (c.link0,),
                  endpoint or endpoint_of(c.link0, JOIN_PORT), doc.node.fqdn, doc.node.address.split("/")[0],
                  host_keys(root))


def founder_membership(doc: ProvisionDoc, root: Path, endpoint: str | None = None) -> Membership:
    """The founder's cluster before any join: itself, as node 1 (or the answer's id), config_version 1; its
    corosync.conf is the one the founder's steps wrote."""
    assert doc.cluster is not None
    me = own_entry(doc, root, endpoint)
    return Membership(doc.cluster.name, 1, tuple(cluster_links(doc.cluster)),
                      (replace(me, nodeid=me.nodeid or 1),))


def read_membership(root: Path) -> Membership | None:
    path = root / MEMBERS.lstrip("/")
    try:
        return Membership.from_json(json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except ValueError as err:
        raise PeerError(f"{path}: not JSON ({err})") from err


def render_membership(membership: Membership) -> str:
    return json.dumps(membership.to_json(), indent=2) + "\n"


def host_keys(root: Path) -> tuple[str, ...]:
    """This node's SSH host public keys ("type base64"), in name order."""
    keys = []
    for pub in sorted((root / SSH_DIR.lstrip("/")).glob("ssh_host_*_key.pub")):
        fields = pub.read_text().split()
        if len(fields) >= 2:
            keys.append(f"{fields[0]} {fields[1]}")
    return tuple(keys)


def _marks(cluster: str) -> tuple[str, str]:
    return (f"# keel cluster {cluster}: its members (keel-firstboot rewrites this block)",
            f"# end of keel cluster {cluster}")


def hosts_block(membership: Membership, self_name: str) -> str:
    """/etc/hosts lines for the other members: "address fqdn name" (this node's own line is the installer's)."""
    begin, end = _marks(membership.cluster)
    lines = [" ".join(dict.fromkeys(x for x in ((m.address or m.addresses[0]).split("/")[0], m.fqdn, m.name) if x))
             for m in membership.members if m.name != self_name]
    return "\n".join([begin, *lines, end]) + "\n"


def known_hosts_block(membership: Membership) -> str:
    """ssh_known_hosts lines for every member: its names and addresses, then each host key."""
    begin, end = _marks(membership.cluster)
    lines = []
    for m in membership.members:
        names = ",".join(dict.fromkeys(x for x in (m.name, m.fqdn, (m.address or "").split("/")[0], *m.addresses)
                                       if x))
        lines += [f"{names} {key}" for key in m.host_keys]
    return "\n".join([begin, *lines, end]) + "\n"


def with_block(text: str, block: str) -> str:
    """`text` with the marked block (its first and last lines) replaced, or appended when it has none."""
    begin, end = block.splitlines()[0], block.splitlines()[-1]
    lines = text.splitlines(keepends=True)
    try:
        start = lines.index(begin + "\n")
        stop = lines.index(end + "\n", start)
    except ValueError:
        sep = "" if not text or text.endswith("\n") else "\n"
        return text + sep + block
    return "".join(lines[:start]) + block + "".join(lines[stop + 1:])
