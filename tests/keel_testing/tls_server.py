"""Fixtures: local answer servers on 127.0.0.1, HTTPS with self-signed certificates made by `openssl req -x509`,
and one plain HTTP server as a redirect target that must never be reached.

Each server answers every request with `reply` (a dict: status, type, body, and optionally `headers`, `size` for
a body of that many filler bytes or the Content-Length announced for `body`, `length=False` for no
Content-Length, `drip` seconds between body bytes, `stall` seconds of silence after the body),
after first handing out the replies queued in `queue`, one per request. `received` records every request.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

FILLER = b"a" * 65536


def make_certificate(directory: Path, name: str) -> SimpleNamespace:
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert, key = directory / f"{name}.pem", directory / f"{name}-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", f"/CN={name}.invalid"],
                   check=True, capture_output=True, timeout=60)
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return SimpleNamespace(cert=cert, key=key, sha256=hashlib.sha256(der).hexdigest())


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"), "answers")


@pytest.fixture(scope="module")
def other_certificate(tmp_path_factory):
    return make_certificate(tmp_path_factory.mktemp("tls"), "elsewhere")


def serve(scheme: str, certificate: SimpleNamespace | None = None) -> Iterator[SimpleNamespace]:
    received: list[dict[str, Any]] = []
    queue: list[dict[str, Any]] = []
    reply: dict[str, Any] = {"status": 200, "type": "application/toml", "body": 'keyboard = "de"\n'}
    stopping = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            data = self.rfile.read(length) if length else b""
            self.answer(json.loads(data) if data else None)

        def do_GET(self) -> None:
            self.answer(None)

        def answer(self, body: Any) -> None:
            received.append({"method": self.command, "path": self.path, "host": self.headers.get("Host"),
                             "headers": dict(self.headers), "body": body})
            this = queue.pop(0) if queue else reply
            content = this.get("body", "")
            content = content.encode() if isinstance(content, str) else content
            size = this.get("size", len(content))
            self.send_response(this["status"])
            if this.get("type"):
                self.send_header("Content-Type", this["type"])
            if this.get("length", True):
                self.send_header("Content-Length", str(size))
            for name, value in this.get("headers", {}).items():
                self.send_header(name, value)
            self.end_headers()
            try:
                if this.get("drip"):
                    self.drip(content or FILLER[:size], this["drip"])
                elif "size" in this and not content:
                    self.fill(size)
                else:
                    self.wfile.write(content)
                stopping.wait(this.get("stall", 0))
            except OSError:
                pass                    # the client gave up, as it should on a huge or dripping body

        def drip(self, content: bytes, interval: float) -> None:
            for i in range(len(content)):
                if stopping.is_set():
                    return
                self.wfile.write(content[i:i + 1])
                self.wfile.flush()
                stopping.wait(interval)

        def fill(self, size: int) -> None:
            while size > 0 and not stopping.is_set():
                self.wfile.write(FILLER[:size])
                size -= len(FILLER)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert, certificate.key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    port = server.server_address[1]
    yield SimpleNamespace(url=f"{scheme}://127.0.0.1:{port}/answer", port=port, received=received, queue=queue,
                          reply=reply, fingerprint=certificate.sha256 if certificate else None)
    stopping.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def https_server(certificate):
    yield from serve("https", certificate)


@pytest.fixture
def other_https_server(other_certificate):
    """A second HTTPS server with a different certificate: a pin for the first must not accept it."""
    yield from serve("https", other_certificate)


@pytest.fixture
def http_server():
    yield from serve("http")
