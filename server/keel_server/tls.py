"""The server's own TLS certificate: self-signed, with the host's names and addresses as SANs, and its SHA-256
fingerprint as Proxmox pins it (the DER of the leaf certificate, lower-case hex pairs joined by colons)."""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import ipaddress
import os
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from keel_server.errors import ServerError

CERT_FILE = "tls/server.crt"
KEY_FILE = "tls/server.key"
VALID_DAYS = 3650


def host_names() -> list[str]:
    """What a machine on the LAN may call this host: its names, their addresses, and loopback."""
    names = ["localhost", "127.0.0.1", "::1"]
    for name in (socket.gethostname(), socket.getfqdn()):
        names.append(name)
        with contextlib.suppress(OSError):
            names += [info[4][0] for info in socket.getaddrinfo(name, None)]
    return list(dict.fromkeys(n for n in names if n))


def _san(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def make_certificate(names: list[str]) -> tuple[bytes, bytes]:
    """(certificate PEM, private key PEM) of a new self-signed P-256 certificate for `names`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"keel-server {names[-1]}"[:64])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(x509.SubjectAlternativeName([_san(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


def write_certificate(data: Path, names: list[str]) -> str:
    """Create the data dir's certificate and key (the key readable by its owner only); the fingerprint."""
    cert_pem, key_pem = make_certificate(names)
    (data / "tls").mkdir(parents=True, exist_ok=True)
    key_path = data / KEY_FILE
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key_pem)
    (data / CERT_FILE).write_bytes(cert_pem)
    return fingerprint_of_pem(cert_pem)


def fingerprint_of_pem(cert_pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return format_fingerprint(hashlib.sha256(der).hexdigest())


def format_fingerprint(hex64: str) -> str:
    return ":".join(hex64[i:i + 2] for i in range(0, 64, 2))


def read_fingerprint(data: Path) -> str:
    try:
        return fingerprint_of_pem((data / CERT_FILE).read_bytes())
    except OSError as err:
        raise ServerError(400, f"{data / CERT_FILE}: cannot read the certificate ({err.strerror}); "
                               f"run keel-server init --data {data} first") from err
