"""The join service every member runs (keel-join.service, `keel-firstboot join-service`): TLS on JOIN_PORT, the
member's half of protocol.py, then a join (admit the node, write this member's files, push the new membership to
every other member, answer with the authkey, corosync.conf and the members) or an update (a newer membership from
another member: write it and reload corosync).

One request at a time changes a member's membership (a lock; an update waits for it 10 s at most, then is
refused as busy). A join fails, retryably for the joiner, while a member it must update cannot be reached or is
busy: the admitting member writes its own files only after every other member took the update, so the joiner's
retry makes the same membership again, and the members that took it already answer "unchanged". Two joins through
two members at the same moment: one of them finds the other busy or holding another membership of the same
config_version (a conflict), fails before writing its own files, and succeeds on its joiner's retry.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import os
import socket
import socketserver
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..layout import Paths
from ..provision import model
from ..provision.execute import secrets_of
from ..provision.steps import AUTHKEY, JOIN_PORT
from ..runner import CommandFailed, Redactor, Runner
from .cert import ensure_certificate, server_context
from .client import push_update
from .local import apply_membership
from .members import Member, Membership, founder_membership, read_membership
from .protocol import (
    HELLO_MAX,
    IO_TIMEOUT,
    VERSION,
    JoinRefused,
    PeerError,
    cluster_key,
    is_nonce,
    joiner_proof,
    member_proof,
    new_nonce,
    proof_holds,
    receive,
    send,
)

NOT_PROVEN = "the request's proof does not hold: the sender does not hold the cluster secret"


@dataclass
class JoinService:
    paths: Paths
    runner: Runner
    key: bytes
    name: str                               # this member's node name
    fingerprint: str                        # of the certificate it serves
    say: Callable[[str], None]
    lock: threading.Lock = field(default_factory=threading.Lock)
    # an update waits this long for a join this member is handling; two members each pushing to the other while
    # handling a join would otherwise wait for each other until the reply timeout
    update_wait: float = 10.0

    def handle(self, tls: ssl.SSLSocket, peer: str) -> None:
        hello = receive(tls, HELLO_MAX)
        if hello["type"] != "hello" or hello.get("version") != VERSION or not is_nonce(hello.get("nonce")):
            send(tls, {"type": "refused", "message": f"expected a version {VERSION} hello"})
            return
        nonce = new_nonce()
        send(tls, {"type": "challenge", "nonce": nonce,
                   "proof": member_proof(self.key, hello["nonce"], nonce, self.fingerprint)})
        request = receive(tls)
        kind, body = request["type"], request.get("body")
        if kind not in ("join", "update") or not isinstance(body, dict):
            send(tls, {"type": "refused", "message": f"expected a join or an update, not a {kind!r}"})
            return
        if not proof_holds(joiner_proof(self.key, nonce, hello["nonce"], self.fingerprint, kind, body),
                           request.get("proof")):
            self.say(f"refused a {kind} from {peer}: it does not hold the cluster secret")
            send(tls, {"type": "refused", "message": NOT_PROVEN})
            return
        try:
            reply = self.join(body, peer) if kind == "join" else self.update(body, peer)
        except JoinRefused as err:
            self.say(f"refused a {kind} from {peer}: {err}")
            reply = {"type": "refused", "message": str(err)}
        except (PeerError, CommandFailed, OSError) as err:
            message = self.runner.redact(str(err))
            self.say(f"a {kind} from {peer} failed: {message}")
            reply = {"type": "error", "message": message}
        send(tls, reply)

    def _membership(self) -> Membership:
        held = read_membership(self.paths.root)
        if held is None or held.member(self.name) is None:
            raise PeerError(f"{self.name} is not a cluster member yet")
        return held

    def join(self, body: dict[str, Any], peer: str) -> dict[str, Any]:
        joiner = Member.from_json(body.get("node"))
        with self.lock:
            current = self._membership()
            new = current.admit(joiner, str(body.get("cluster")))
            if new is not current:
                self.say(f"{joiner.name} ({peer}) joins as node {new.member(joiner.name).nodeid}: config_version "
                         f"{new.config_version}, {len(new.members)} members")
            # every other member first, also when the joiner is in already (a join retried after a member was
            # down); this member's own file last, so a join that failed half-way leaves it as it was and the
            # retry makes the same membership again (admit is a function of this member's file and the entry)
            for member in new.members:
                if member.name in (self.name, joiner.name):
                    continue
                try:
                    push_update(member, new, self.key)
                except (PeerError, OSError) as err:
                    raise PeerError(f"could not update member {member.name}: {err}") from err
            apply_membership(self.paths, self.runner, new, self.name)
            authkey = self.paths.at(AUTHKEY).read_bytes()
        return {"type": "welcome", "membership": new.to_json(), "corosync_conf": new.corosync_conf(),
                "authkey": base64.b64encode(authkey).decode()}

    def update(self, body: dict[str, Any], peer: str) -> dict[str, Any]:
        new = Membership.from_json(body.get("membership"))
        if not self.lock.acquire(timeout=self.update_wait):
            raise PeerError(f"{self.name} is busy with another join; try again")
        try:
            current = self._membership()
            if new.cluster != current.cluster:
                raise JoinRefused(f"this is cluster {current.cluster}, not {new.cluster}")
            if new.member(self.name) is None:
                raise JoinRefused(f"the membership leaves {self.name} out")
            if new.config_version > current.config_version:
                self.say(f"update from {peer}: config_version {current.config_version} -> {new.config_version}")
                apply_membership(self.paths, self.runner, new, self.name)
                current = new
            elif new.config_version < current.config_version:
                # the sender missed a later membership: admitting with its old one would hand the joiner a nodelist
                # the members have left behind (corosync drops a node whose config_version differs)
                raise PeerError(f"stale: config_version {new.config_version} is older than {current.config_version} "
                                f"here, which {peer} has not got")
            elif new.config_version == current.config_version and new != current:
                raise PeerError(f"conflict: config_version {new.config_version} here has other members "
                                "(two joins at once?)")
        finally:
            self.lock.release()
        return {"type": "ok", "config_version": current.config_version}


class _Handler(socketserver.BaseRequestHandler):
    server: JoinServer

    def handle(self) -> None:
        peer = str(self.client_address[0])
        self.request.settimeout(IO_TIMEOUT)
        # the handshake as a whole within IO_TIMEOUT, not IO_TIMEOUT per byte: a peer that trickles it is cut off
        cutoff = threading.Timer(IO_TIMEOUT, self._cut_off)
        cutoff.start()
        try:
            try:
                tls = self.server.context.wrap_socket(self.request, server_side=True)
            finally:
                cutoff.cancel()
            with tls:
                self.server.service.handle(tls, peer)
        except (PeerError, OSError) as err:
            self.server.service.say(f"connection from {peer}: {err}")

    def _cut_off(self) -> None:
        with contextlib.suppress(OSError):          # closed already
            self.request.shutdown(socket.SHUT_RDWR)


class JoinServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    max_connections = 16                # at once; more are closed at accept (a join needs one, an update one)

    def __init__(self, service: JoinService, context: ssl.SSLContext, address: tuple[str, int]):
        self.service, self.context = service, context
        self.slots = threading.BoundedSemaphore(self.max_connections)
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def process_request(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        if not self.slots.acquire(blocking=False):
            self.service.say(f"connection from {client_address[0]} closed: {self.max_connections} are open already")
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:  # type: ignore[no-untyped-def]
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def server_bind(self) -> None:
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)   # IPv4 too
        super().server_bind()


def prepare(paths: Paths, runner: Runner, doc: model.ProvisionDoc, say: Callable[[str], None],
            address: tuple[str, int] = ("::", JOIN_PORT), endpoint: str | None = None) -> JoinServer:
    """The service bound and ready to serve: its certificate, and this node's membership (the founder's first one
    when it has none yet) written out."""
    c = doc.cluster
    if c is None:
        raise JoinRefused("the answer has no [provision.cluster]")
    held = read_membership(paths.root)
    if held is None and c.mode == "create":
        held = founder_membership(doc, paths.root, endpoint)
    if held is None or held.member(doc.node.name) is None:
        raise JoinRefused(f"{doc.node.name} has not joined cluster {c.name} yet ('keel-firstboot provision' joins)")
    fp = ensure_certificate(paths, runner, doc.node.name)
    apply_membership(paths, runner, held, doc.node.name)
    service = JoinService(paths, runner, cluster_key(c.cluster_secret), doc.node.name, fp, say)
    try:
        server = JoinServer(service, server_context(paths), address)
    except OSError as err:
        if address[0] != "::" or err.errno != errno.EAFNOSUPPORT:
            raise
        server = JoinServer(service, server_context(paths), ("0.0.0.0", address[1]))   # booted with ipv6.disable=1
    say(f"join service of cluster {c.name} on port {server.server_address[1]}, certificate SHA-256 {fp}, "
        f"config_version {held.config_version}, {len(held.members)} members")
    return server


def serve(paths: Paths, out: TextIO | None = None) -> int:
    """`keel-firstboot join-service`: serve until stopped."""
    out = out or sys.stdout
    doc = model.load(paths.at(model.PATH))
    if doc is None:
        print(f"E: no {model.PATH}: the answer had no [provision]", file=sys.stderr)
        return 1
    redact = Redactor(secrets_of(doc))

    def line(text: str) -> None:
        print(redact(text), file=out, flush=True)

    runner = Runner(line, redact, paths.root)
    try:
        server = prepare(paths, runner, doc, lambda text: line(f"keel-join: {text}"))
    except (JoinRefused, PeerError, CommandFailed) as err:
        print(f"E: {redact(str(err))}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"E: cannot serve joins on port {JOIN_PORT}: {err.strerror or err}", file=sys.stderr)
        return 1
    with server:
        notify_ready()
        server.serve_forever()
    return 0


def notify_ready() -> None:
    """READY=1 to systemd (keel-join.service is Type=notify): `systemctl enable --now` returns once the port is
    bound, and a service that cannot bind is failed, not active. Nothing when not run by systemd."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return
    if address.startswith("@"):
        address = "\0" + address[1:]             # the abstract namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.connect(address)
        sock.sendall(b"READY=1")
