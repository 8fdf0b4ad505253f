"""An HTTP(S) server on the host's loopback that guests reach as 10.0.2.2 through QEMU user networking.

It serves a directory and/or fixed contents per path (for GET and POST, since the answer fetch POSTs its
hardware report), records every request (POST bodies included), and with `https=True` uses a fresh
self-signed certificate whose SHA-256 fingerprint the test hands to the guest for pinning.
"""

from __future__ import annotations

import hashlib
import ssl
import tempfile
import threading
from dataclasses import dataclass
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from installer.runner import CommandError, Runner

from .spec import HarnessError

GUEST_HOST_ADDRESS = "10.0.2.2"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


def certificate_fingerprint(pem: str) -> str:
    """SHA-256 over the certificate's DER bytes, as colon-separated upper-case hex (openssl's format)."""
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def self_signed_cert_command(cert: Path, key: Path, days: int = 7) -> list[str]:
    return [
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256",
        "-days", str(days), "-subj", f"/CN={GUEST_HOST_ADDRESS}",
        "-addext", f"subjectAltName=IP:{GUEST_HOST_ADDRESS},IP:127.0.0.1",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip


class HostServer:
    """`with HostServer(root=dir, https=True) as srv:` then give the guest `srv.guest_url("answer.toml")`."""

    def __init__(self, root: Path | None = None, https: bool = False, runner: Runner | None = None):
        self.root = Path(root) if root else None
        self.https = https
        self.runner = runner or Runner(default_timeout=60)
        self.contents: dict[str, bytes] = {}
        self.requests: list[Request] = []
        self.fingerprint: str | None = None
        self.cert_path: Path | None = None
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def serve(self, path: str, content: str | bytes) -> None:
        """Answer GET and POST on `path` with `content`."""
        self.contents["/" + path.lstrip("/")] = content.encode() if isinstance(content, str) else content

    @property
    def port(self) -> int:
        if self._server is None:
            raise HarnessError("HTTP server: not started")
        return self._server.server_address[1]

    @property
    def scheme(self) -> str:
        return "https" if self.https else "http"

    def guest_url(self, path: str = "") -> str:
        return f"{self.scheme}://{GUEST_HOST_ADDRESS}:{self.port}/{path.lstrip('/')}"

    def host_url(self, path: str = "") -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}/{path.lstrip('/')}"

    def posts(self, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.method == "POST" and (path is None or r.path == path)]

    def requested_paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def start(self) -> HostServer:
        handler = partial(_Handler, self, directory=str(self.root) if self.root else tempfile.gettempdir())
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        if self.https:
            self._tmp = tempfile.TemporaryDirectory(prefix="keel-https-")
            cert, key = Path(self._tmp.name) / "cert.pem", Path(self._tmp.name) / "key.pem"
            try:
                self.runner.run(self_signed_cert_command(cert, key))
            except CommandError as err:
                server.server_close()
                raise HarnessError(f"HTTPS server: could not make a certificate: {err}") from err
            self.cert_path = cert
            self.fingerprint = certificate_fingerprint(cert.read_text())
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="keel-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> HostServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)


class _Handler(SimpleHTTPRequestHandler):
    def __init__(self, owner: HostServer, *args, **kwargs):
        self.owner = owner
        super().__init__(*args, **kwargs)

    def log_message(self, format: str, *args: object) -> None:
        pass  # requests are recorded, not printed

    def _path(self) -> str:
        return self.path.split("?", 1)[0]

    def _send_fixed(self, body: bytes, head_only: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head_only:
            self.wfile.write(body)

    def do_GET(self) -> None:
        self.owner._record(Request("GET", self._path(), dict(self.headers), b""))
        fixed = self.owner.contents.get(self._path())
        if fixed is not None:
            self._send_fixed(fixed)
        elif self.owner.root is None:
            self.send_error(404)
        else:
            super().do_GET()

    def do_HEAD(self) -> None:
        fixed = self.owner.contents.get(self._path())
        if fixed is not None:
            self._send_fixed(fixed, head_only=True)
        elif self.owner.root is None:
            self.send_error(404)
        else:
            super().do_HEAD()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.owner._record(Request("POST", self._path(), dict(self.headers), body))
        fixed = self.owner.contents.get(self._path())
        if fixed is not None:
            self._send_fixed(fixed)
        else:
            self._send_fixed(b"{}")
