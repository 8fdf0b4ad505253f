"""/etc/corosync/corosync.conf in the layout `pvecm create` writes (sections and keys in alphabetical order,
two-space indentation): logging to syslog, the nodelist, votequorum (two_node with exactly two nodes), and totem
version 2 with secauth, knet links in passive mode and one interface block per link.

It lives with first boot because the nodelist changes on the host: the founder writes it with itself, and each
join adds a node on every member (then `corosync-cfgtool -R`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class CorosyncNode:
    name: str
    nodeid: int
    addresses: tuple[str, ...]          # ring0_addr, ring1_addr, ... (one per link)
    quorum_votes: int = 1


@dataclass(frozen=True)
class Link:
    number: int
    priority: int | None = None         # knet_link_priority; passive mode uses the highest


def render_corosync_conf(cluster_name: str, nodes: Sequence[CorosyncNode], links: Sequence[Link],
                         config_version: int = 1) -> str:
    out = ["logging {", "  debug: off", "  to_syslog: yes", "}", "", "nodelist {"]
    for node in sorted(nodes, key=lambda n: n.name):
        out += ["  node {", f"    name: {node.name}", f"    nodeid: {node.nodeid}",
                f"    quorum_votes: {node.quorum_votes}"]
        out += [f"    ring{i}_addr: {address}" for i, address in enumerate(node.addresses)]
        out.append("  }")
    out += ["}", "", "quorum {", "  provider: corosync_votequorum"]
    if len(nodes) == 2:
        out.append("  two_node: 1")
    out += ["}", "", "totem {", f"  cluster_name: {cluster_name}", f"  config_version: {config_version}"]
    for link in sorted(links, key=lambda k: k.number):
        out.append("  interface {")
        if link.priority is not None:
            out.append(f"    knet_link_priority: {link.priority}")
        out += [f"    linknumber: {link.number}", "  }"]
    out += ["  ip_version: ipv4-6", "  link_mode: passive", "  secauth: on", "  version: 2", "}"]
    return "\n".join(out) + "\n"
