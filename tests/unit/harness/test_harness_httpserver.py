"""The loopback HTTP(S) server guests reach as 10.0.2.2: serving, recording, certificate fingerprint."""

import http.client
import shutil
import ssl
import subprocess

import pytest

from keel_harness.httpserver import HostServer, certificate_fingerprint


def fetch(server: HostServer, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    if server.https:
        ctx = ssl.create_default_context(cafile=str(server.cert_path))
        conn = http.client.HTTPSConnection("127.0.0.1", server.port, context=ctx, timeout=10)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request(method, path, body=body)
    response = conn.getresponse()
    return response.status, response.read()


def test_it_listens_on_loopback_and_names_itself_to_the_guest_as_10_0_2_2(tmp_path):
    with HostServer(root=tmp_path) as server:
        assert server._server.server_address[0] == "127.0.0.1"
        assert server.guest_url("answer.toml") == f"http://10.0.2.2:{server.port}/answer.toml"


def test_it_serves_a_directory_and_records_the_paths_asked_for(tmp_path):
    (tmp_path / "filesystem.squashfs").write_bytes(b"squash")
    with HostServer(root=tmp_path) as server:
        assert fetch(server, "GET", "/filesystem.squashfs") == (200, b"squash")
        assert fetch(server, "GET", "/missing")[0] == 404
        assert server.requested_paths() == ["/filesystem.squashfs", "/missing"]


def test_fixed_contents_answer_both_get_and_post_and_post_bodies_are_kept():
    with HostServer() as server:
        server.serve("answer", '[global]\nkeyboard = "de"\n')
        assert fetch(server, "GET", "/answer") == (200, b'[global]\nkeyboard = "de"\n')
        assert fetch(server, "POST", "/answer", b'{"dmi": {}}') == (200, b'[global]\nkeyboard = "de"\n')
        assert fetch(server, "POST", "/webhook", b'{"status": "ok"}')[0] == 200
        assert [(p.path, p.body) for p in server.posts()] == [
            ("/answer", b'{"dmi": {}}'),
            ("/webhook", b'{"status": "ok"}'),
        ]
        assert [p.body for p in server.posts("/webhook")] == [b'{"status": "ok"}']


@pytest.mark.skipif(not shutil.which("openssl"), reason="needs openssl")
def test_https_uses_a_self_signed_certificate_whose_fingerprint_matches_openssls():
    with HostServer(https=True) as server:
        server.serve("answer", "x")
        assert fetch(server, "GET", "/answer") == (200, b"x")
        out = subprocess.run(
            ["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(server.cert_path)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert out.strip().split("=", 1)[1] == server.fingerprint
        assert server.guest_url().startswith("https://10.0.2.2:")


def test_the_fingerprint_is_sha256_of_the_der_bytes_in_colon_hex():
    # A certificate is opaque here: only the DER -> SHA-256 -> "AB:CD:..." formatting is checked, on a
    # PEM whose DER body is the three bytes "abc" (SHA-256 "abc" = ba7816bf...15ad, FIPS 180-2 example).
    pem = "-----BEGIN CERTIFICATE-----\nYWJj\n-----END CERTIFICATE-----\n"
    fp = certificate_fingerprint(pem)
    assert fp.startswith("BA:78:16:BF:")
    assert fp.endswith(":F2:00:15:AD")
    assert len(fp) == 32 * 3 - 1
