"""Reporting provisioning's progress and its end to the keel-server the install came from, or to the answer's
[post-installation-webhook], without ever holding provisioning up.

The installer writes /etc/keel/report.json (0600) when the answer has [provision] and either a keel-server served
it (its Keel-Report-URL and -Token headers: keel-server's /api/v1/report/firstboot beside the events endpoint, and
the install's token) or it names a webhook (its URL, cert-fingerprint and auth-token). Each event is one POST of
{"id", "state", "text", "detail", "host"} (keel-server's report_firstboot body; it stores an id once), state
"provisioning" for a step begun, "ready" after success, "failed" with the reason; the token goes as
`Authorization: Bearer`, and for a webhook also as "token" in the body, where Proxmox's webhook puts it.

With a fingerprint the server's certificate is pinned: the SHA-256 of its DER certificate must equal it, checked
after the TLS handshake and before a byte of the request (the token) is sent; without one the system's CA store
and the host name decide. Redirects are not followed. A connection error, a timeout or a 5xx/408/409/429 reply is
tried again (`attempts`, short timeouts, doubling waits); after an event that never got through, the next progress
events get one try each, so an unreachable server costs seconds, not minutes. Anything else (401, 404, a
certificate that does not match) stops reporting for this run with one line. A report never fails provisioning,
and the token is never logged.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import ssl
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .layout import Paths

REPORT = "/etc/keel/report.json"
VERSION = 1
KINDS = ("keel-server", "webhook")
RETRIED = (408, 409, 429)
MAX_DETAIL = 16384


class ReportError(Exception):
    """An event that cannot be delivered; `transient` when trying again later may help."""

    def __init__(self, message: str, transient: bool):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class Target:
    url: str
    token: str | None
    fingerprint: str | None         # 64 lower-case hex digits, or None: the CA store decides
    kind: str = "keel-server"

    def __repr__(self) -> str:      # never the token
        return f"Target(url={self.shown!r}, fingerprint={self.fingerprint!r}, kind={self.kind!r})"

    @property
    def shown(self) -> str:
        """The URL without user:password or query, for messages."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"


def normalize_fingerprint(value: str) -> str | None:
    hexes = value.strip().replace(":", "").lower()
    return hexes if len(hexes) == 64 and all(c in "0123456789abcdef" for c in hexes) else None


def load(paths: Paths) -> tuple[Target | None, str | None]:
    """(the target, None), (None, None) without report.json, or (None, why it cannot be used)."""
    path = paths.at(REPORT)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"{path}: cannot read it ({err})"
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("url"), str):
        return None, f"{path}: not a version {VERSION} report file"
    url, token, pin = data["url"], data.get("token"), data.get("fingerprint")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None, f"{path}: url is not an http(s) URL"
    try:
        _ = parts.port
    except ValueError:
        return None, f"{path}: url has a port that is not a number from 0 to 65535"
    fingerprint = normalize_fingerprint(pin) if isinstance(pin, str) else None
    if pin is not None and fingerprint is None:
        return None, f"{path}: fingerprint is not a SHA-256 fingerprint"
    kind = data.get("kind", "keel-server")
    if kind not in KINDS:
        return None, f"{path}: kind is not one of {', '.join(KINDS)}"
    return Target(url, token if isinstance(token, str) and token else None, fingerprint, kind), None


class _PinnedConnection(http.client.HTTPSConnection):
    """HTTPS whose one check is the certificate's SHA-256, made before anything is sent."""

    def __init__(self, host: str, port: int | None, fingerprint: str, timeout: float):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        super().__init__(host, port, timeout=timeout, context=context)
        self.fingerprint = fingerprint

    def connect(self) -> None:
        super().connect()
        assert isinstance(self.sock, ssl.SSLSocket)
        der = self.sock.getpeercert(binary_form=True) or b""
        seen = hashlib.sha256(der).hexdigest()
        if seen != self.fingerprint:
            self.sock.close()
            raise ReportError(f"the server's certificate has fingerprint {seen}, not the pinned {self.fingerprint}",
                              transient=False)


def post(target: Target, body: dict[str, Any], timeout: float) -> None:
    """One POST of `body` as JSON; ReportError unless the reply is 2xx."""
    parts = urlsplit(target.url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # an explicit port always: given a bare IPv6 address and no port, http.client takes its last group for one
    port = parts.port or (443 if parts.scheme == "https" else 80)
    conn: http.client.HTTPConnection
    if parts.scheme == "https" and target.fingerprint:
        conn = _PinnedConnection(parts.hostname or "", port, target.fingerprint, timeout)
    elif parts.scheme == "https":
        conn = http.client.HTTPSConnection(parts.hostname or "", port, timeout=timeout,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(parts.hostname or "", port, timeout=timeout)
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               "User-Agent": "keel-firstboot"}
    if target.token:
        headers["Authorization"] = f"Bearer {target.token}"
    try:
        conn.request("POST", path, body=json.dumps(body).encode(), headers=headers)
        reply = conn.getresponse()
        excerpt = reply.read(512).decode(errors="replace").strip()
    except ReportError:
        raise
    except ssl.SSLCertVerificationError as err:
        raise ReportError(f"the server's certificate is not trusted ({err.verify_message})", transient=False) from err
    except (OSError, http.client.HTTPException) as err:
        raise ReportError(f"{type(err).__name__}: {err}", transient=True) from err
    finally:
        conn.close()
    if 200 <= reply.status < 300:
        return
    transient = reply.status >= 500 or reply.status in RETRIED
    raise ReportError(f"HTTP {reply.status}" + (f": {excerpt[:200]}" if excerpt else ""), transient=transient)


@dataclass
class Reporter:
    """Sends provisioning's events to `target`; `warn` gets a line for people (the log), never the token."""

    target: Target
    host: str
    warn: Callable[[str], None]
    redact: Callable[[str], str] = lambda text: text
    timeout: float = 5.0
    attempts: int = 3
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    stopped: bool = False
    unreachable: bool = False       # the last event never got through: progress gets one try until one does
    sent: list[str] = field(default_factory=list)   # the ids delivered

    def progress(self, text: str) -> None:
        self._send("provisioning", text, "", final=False)

    def ready(self, text: str) -> None:
        self._send("ready", text, "", final=True)

    def failed(self, text: str, detail: str = "") -> None:
        self._send("failed", text, detail, final=True)

    def _clean(self, text: str) -> str:
        text = self.redact(text)
        return text.replace(self.target.token, "<redacted>") if self.target.token else text

    def _send(self, state: str, text: str, detail: str, final: bool) -> None:
        if self.stopped:
            return
        body: dict[str, Any] = {"id": uuid.uuid4().hex, "state": state, "text": self._clean(text),
                                "detail": self._clean(detail)[-MAX_DETAIL:], "host": self.host}
        if self.target.kind == "webhook":
            body["type"] = "keel-firstboot"
            if self.target.token:
                body["token"] = self.target.token
        tries = self.attempts if final or not self.unreachable else 1
        delay = self.backoff
        for attempt in range(1, tries + 1):
            try:
                post(self.target, body, self.timeout)
            except ReportError as err:
                message = self._clean(str(err))
                if not err.transient:
                    self.stopped = True
                    self.warn(f"reports to {self.target.shown} stopped: {message}; provisioning goes on unreported")
                    return
                if attempt == tries:
                    self.unreachable = True
                    self.warn(f"report to {self.target.shown} not delivered after {tries} "
                              f"tr{'ies' if tries > 1 else 'y'} ({message}); provisioning goes on")
                    return
                self.sleep(delay)
                delay *= 2
                continue
            self.unreachable = False
            self.sent.append(body["id"])
            return
