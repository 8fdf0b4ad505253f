"""The join service's TLS certificate: made once with `openssl req` through the one runner into CERT_DIR (the key
0600), self-signed: nobody verifies it against a CA; the joiner binds its SHA-256 fingerprint into the proofs
(protocol.py), which is what makes it this member's."""

from __future__ import annotations

import ssl

from ..layout import Paths
from ..runner import Runner
from .protocol import fingerprint

CERT_DIR = "/etc/keel/join"
CERT = f"{CERT_DIR}/cert.pem"
KEY = f"{CERT_DIR}/key.pem"
DAYS = 36500                    # self-signed and pinned by the proofs: its expiry would only break joins


def ensure_certificate(paths: Paths, runner: Runner, name: str) -> str:
    """Make the key and certificate unless both are there; the certificate's fingerprint."""
    if not (paths.at(CERT).is_file() and paths.at(KEY).is_file()):
        paths.at(CERT_DIR).mkdir(mode=0o700, parents=True, exist_ok=True)
        runner.run(("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", KEY, "-out", CERT, "-days", str(DAYS), "-subj", f"/CN={name}"))
    paths.at(KEY).chmod(0o600)
    return certificate_fingerprint(paths)


def certificate_fingerprint(paths: Paths) -> str:
    return fingerprint(ssl.PEM_cert_to_DER_cert(paths.at(CERT).read_text()))


def server_context(paths: Paths) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(paths.at(CERT), paths.at(KEY))
    return context


def client_context() -> ssl.SSLContext:
    """No CA and no host name: the member is authenticated by its proof over the fingerprint instead."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context
