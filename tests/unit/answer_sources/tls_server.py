"""Fixtures: a local HTTPS server on 127.0.0.1 with a self-signed certificate made by `openssl req -x509`."""

from __future__ import annotations

import hashlib
import json
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "2", "-subj", "/CN=answers.invalid"],
                   check=True, capture_output=True, timeout=60)
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return SimpleNamespace(cert=cert, key=key, sha256=hashlib.sha256(der).hexdigest())


@pytest.fixture
def https_server(certificate):
    received: list[dict] = []
    reply = {"status": 200, "type": "application/toml", "body": 'keyboard = "de"\n'}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            received.append({"path": self.path, "headers": dict(self.headers),
                             "body": json.loads(self.rfile.read(length))})
            body = reply["body"].encode()
            self.send_response(reply["status"])
            self.send_header("Content-Type", reply["type"])
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(url=f"https://127.0.0.1:{server.server_address[1]}/answer", received=received,
                          reply=reply, fingerprint=certificate.sha256)
    server.shutdown()
    server.server_close()
