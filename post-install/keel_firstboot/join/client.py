"""The joiner's side of the join protocol, and a member's push of a new membership to the others: connect over TLS,
check the member's proof against the certificate seen, prove the secret over the request, read the answer."""

from __future__ import annotations

import base64
import binascii
import socket
import ssl
from typing import Any

from ..layout import Paths
from ..provision.model import ProvisionDoc
from ..provision.steps import AUTHKEY, with_port
from ..runner import Runner
from .cert import client_context
from .local import apply_membership
from .members import Member, Membership, own_entry, read_membership
from .protocol import (
    HELLO_MAX,
    IO_TIMEOUT,
    REPLY_TIMEOUT,
    VERSION,
    JoinRefused,
    PeerError,
    cluster_key,
    fingerprint,
    is_nonce,
    joiner_proof,
    member_proof,
    new_nonce,
    proof_holds,
    receive,
    send,
    split_endpoint,
)


def exchange(endpoint: str, key: bytes, kind: str, body: dict[str, Any], *, timeout: float = IO_TIMEOUT,
             reply_timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
    """One authenticated request to the join service at `endpoint`; its answer. JoinRefused when the member does
    not prove the secret (then nothing but a nonce was sent) or refuses; PeerError (an OSError) when it cannot be
    reached or breaks off: worth retrying."""
    host, port = split_endpoint(endpoint)
    try:
        raw = socket.create_connection((host, port), timeout=timeout)
    except OSError as err:
        raise PeerError(f"cannot reach the join service at {endpoint}: {err.strerror or err}") from err
    try:
        with client_context().wrap_socket(raw) as tls:
            return _converse(tls, endpoint, key, kind, body, reply_timeout)
    except ssl.SSLError as err:
        raise PeerError(f"TLS with the join service at {endpoint} failed: {err.reason or err}") from err
    except TimeoutError as err:
        raise PeerError(f"the join service at {endpoint} did not answer in time") from err
    finally:
        raw.close()


def _converse(tls: ssl.SSLSocket, endpoint: str, key: bytes, kind: str, body: dict[str, Any],
              reply_timeout: float) -> dict[str, Any]:
    der = tls.getpeercert(binary_form=True)
    if not der:
        raise PeerError(f"the join service at {endpoint} served no certificate")
    fp = fingerprint(der)
    nonce = new_nonce()
    send(tls, {"type": "hello", "version": VERSION, "nonce": nonce})
    challenge = _answer(receive(tls, HELLO_MAX), endpoint)
    if challenge["type"] != "challenge" or not is_nonce(challenge.get("nonce")):
        raise PeerError(f"the join service at {endpoint} sent a {challenge['type']!r} instead of its challenge")
    if not proof_holds(member_proof(key, nonce, challenge["nonce"], fp), challenge.get("proof")):
        raise JoinRefused(f"the join service at {endpoint} does not hold the cluster secret (or something between "
                          f"us does not; it served certificate {fp}); nothing was sent to it")
    send(tls, {"type": kind, "body": body, "proof": joiner_proof(key, challenge["nonce"], nonce, fp, kind, body)})
    tls.settimeout(reply_timeout)
    return _answer(receive(tls), endpoint)


def _answer(message: dict[str, Any], endpoint: str) -> dict[str, Any]:
    text = str(message.get("message", ""))[:500]
    if message["type"] == "refused":
        raise JoinRefused(f"the join service at {endpoint} refused: {text}")
    if message["type"] == "error":
        raise PeerError(f"the join service at {endpoint} failed: {text}")
    return message


def push_update(member: Member, membership: Membership, key: bytes) -> int:
    """Send `membership` to `member`'s join service; the config_version it holds afterwards."""
    reply = exchange(member.endpoint, key, "update", {"membership": membership.to_json()})
    if reply["type"] != "ok" or not isinstance(reply.get("config_version"), int):
        raise PeerError(f"{member.name} at {member.endpoint} answered the update with a {reply['type']!r}")
    return reply["config_version"]


def join_cluster(paths: Paths, runner: Runner, doc: ProvisionDoc, *, endpoint: str | None = None) -> Membership:
    """The join step: through the answer's peer, then this node's files (members, corosync.conf, hosts,
    known_hosts, authkey last). Nothing to do when this node is a member already. `endpoint`, where this node's
    own join service will listen, is announced to the others (default: link 0 and the join port)."""
    c = doc.cluster
    assert c is not None and c.peer
    held = read_membership(paths.root)
    if held is not None and held.member(doc.node.name) and paths.at(AUTHKEY).exists():
        runner.log(f"{doc.node.name} is node {held.member(doc.node.name).nodeid} of cluster {held.cluster} already")
        return held
    peer = with_port(c.peer)
    runner.log(f"join cluster {c.name} through {peer}")
    me = own_entry(doc, paths.root, endpoint)
    reply = exchange(peer, cluster_key(c.cluster_secret), "join", {"cluster": c.name, "node": me.to_json()})
    if reply["type"] != "welcome":
        raise PeerError(f"the join service at {peer} answered the join with a {reply['type']!r}")
    membership = Membership.from_json(reply.get("membership"))
    if membership.member(doc.node.name) is None:
        raise PeerError(f"the membership from {peer} leaves {doc.node.name} out")
    if reply.get("corosync_conf") != membership.corosync_conf():
        raise PeerError(f"the corosync.conf from {peer} is not the one of the membership it sent")
    try:
        authkey = base64.b64decode(reply.get("authkey", ""), validate=True)
    except (binascii.Error, TypeError) as err:
        raise PeerError(f"the authkey from {peer} is not base64") from err
    if not authkey:
        raise PeerError(f"{peer} sent no authkey")
    apply_membership(paths, runner, membership, doc.node.name, authkey=authkey, reload=False)
    runner.log(f"joined cluster {c.name} as node {membership.member(doc.node.name).nodeid} "
               f"(config_version {membership.config_version}, {len(membership.members)} members)")
    return membership
