"""The join protocol's messages and proofs, as installer/core/provision.py specifies it: length-prefixed JSON over
TLS, nonces from both sides, and HMAC-SHA256 proofs under a key derived from the cluster secret, bound to the
SHA-256 fingerprint of the certificate the member serves.

  joiner -> member  {"type": "hello", "version": 1, "nonce": Nc}
  member -> joiner  {"type": "challenge", "nonce": Ns, "proof": HMAC(K, "member", Nc, Ns, fp)}
  joiner            checks the proof against the fingerprint it saw; if it fails, it sends nothing more
  joiner -> member  {"type": "join" | "update", "body": {...}, "proof": HMAC(K, "joiner", Ns, Nc, fp, type, body)}
  member -> joiner  {"type": "welcome" | "ok", ...} or {"type": "refused" | "error", "message": ...}

A relay in the middle serves another certificate, so the member's proof does not match the fingerprint the joiner
sees; the joiner's proof binds the same fingerprint and its whole request. Nothing secret is sent before both
proofs, and the secret itself never is.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import socket
import struct
import time
from typing import Any

from ..provision.execute import StepError

VERSION = 1
NONCE_BYTES = 32
HELLO_MAX = 4096                 # bytes a message may have before the sender proved the secret
MESSAGE_MAX = 1 << 20            # any message: a membership of many nodes with their host keys fits easily
IO_TIMEOUT = 30.0                # seconds for connecting, the TLS handshake and each whole message
REPLY_TIMEOUT = 180.0            # the member answers a join after it updated every other member
KEY_CONTEXT = b"keel-join-v1 key"
_LENGTH = struct.Struct(">I")


class JoinRefused(StepError):
    """Retrying cannot help: the peer does not hold the cluster secret, or it refused this node (another cluster,
    a node id that is another node's)."""


class PeerError(OSError):
    """The peer broke the protocol or could not finish now (a member it must update is down): worth retrying."""


def cluster_key(secret: str) -> bytes:
    """The HMAC key: derived from the secret, so the secret itself is never a MAC key on the wire."""
    return hmac.new(secret.encode(), KEY_CONTEXT, hashlib.sha256).digest()


def new_nonce() -> str:
    return secrets.token_hex(NONCE_BYTES)


def fingerprint(der: bytes) -> str:
    """SHA-256 of the certificate (DER), as `openssl x509 -fingerprint -sha256` prints it: AB:CD:..."""
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


def _mac(key: bytes, *parts: str) -> str:
    data = b"\0".join(part.encode() for part in parts)
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def canonical(body: Any) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


def member_proof(key: bytes, joiner_nonce: str, member_nonce: str, fp: str) -> str:
    return _mac(key, "member", joiner_nonce, member_nonce, fp)


def joiner_proof(key: bytes, member_nonce: str, joiner_nonce: str, fp: str, kind: str, body: Any) -> str:
    return _mac(key, "joiner", member_nonce, joiner_nonce, fp, kind, canonical(body))


def proof_holds(expected: str, got: Any) -> bool:
    # compare_digest raises TypeError on a non-ASCII str: a peer's "é" is a wrong proof, not a traceback
    return isinstance(got, str) and got.isascii() and hmac.compare_digest(expected, got)


def is_nonce(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 2 * NONCE_BYTES and all(c in "0123456789abcdef" for c in value)


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    data = json.dumps(message).encode()
    if len(data) > MESSAGE_MAX:
        raise PeerError(f"a {message.get('type')} message of {len(data)} bytes is over the limit of {MESSAGE_MAX}")
    sock.sendall(_LENGTH.pack(len(data)) + data)


def receive(sock: socket.socket, limit: int = MESSAGE_MAX) -> dict[str, Any]:
    """One message; PeerError when the peer closes, sends more than `limit` bytes or something not JSON, or takes
    longer than the socket's timeout for the whole message (a byte every few seconds does not keep it open)."""
    timeout = sock.gettimeout() or IO_TIMEOUT
    deadline = time.monotonic() + timeout
    try:
        (length,) = _LENGTH.unpack(_exactly(sock, _LENGTH.size, deadline, timeout))
        if length > limit:
            raise PeerError(f"the peer sent a message of {length} bytes, over the limit of {limit}")
        data = _exactly(sock, length, deadline, timeout)
    finally:
        sock.settimeout(timeout)
    try:
        message = json.loads(data)
    except (ValueError, RecursionError) as err:   # RecursionError: thousands of nested brackets
        raise PeerError(f"the peer sent something that is not JSON ({err})") from err
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise PeerError("the peer sent a message without a type")
    return message


def _exactly(sock: socket.socket, n: int, deadline: float, timeout: float) -> bytes:
    chunks, left = [], n
    too_slow = f"the peer took more than {timeout:g} s to send one message"
    while left:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PeerError(too_slow)
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(min(left, 65536))
        except TimeoutError:
            raise PeerError(too_slow) from None
        if not chunk:
            raise PeerError("the peer closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """"host:port" or "[v6]:port" -> (host, port)."""
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        raise JoinRefused(f"'{endpoint}' is not host:port")
    return host.strip("[]"), int(port)


def endpoint_of(address: str, port: int) -> str:
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
