"""Fetching an answer over HTTPS by POSTing the system information, optionally pinned to a certificate fingerprint.

With a fingerprint, CA and host name checks are replaced by one check: the SHA-256 of the server's leaf
certificate (DER) must equal the fingerprint. Without one, the system's CA store decides.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
from typing import Any
from urllib.parse import urlsplit

import requests
import tomli_w
from requests.adapters import HTTPAdapter

from installer.answer_sources import AnswerSourceError

TIMEOUT = 60.0
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def normalize_fingerprint(fingerprint: str) -> str:
    """'AB:CD:...' or 'abcd...' -> 64 lower-case hex digits; a clear error for anything else."""
    value = fingerprint.strip().replace(":", "").lower()
    if not HEX64.match(value):
        raise AnswerSourceError(
            f"keel.fingerprint: {fingerprint!r} is not a SHA-256 fingerprint (64 hex digits, colons allowed)")
    return value


def format_fingerprint(hex64: str) -> str:
    return ":".join(hex64[i:i + 2] for i in range(0, len(hex64), 2)).upper()


class PinnedAdapter(HTTPAdapter):
    """Accepts exactly the server certificate whose SHA-256 is `fingerprint` (urllib3's assert_fingerprint)."""

    def __init__(self, fingerprint: str, **kwargs: Any):
        self.fingerprint = fingerprint
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self.fingerprint
        kwargs["cert_reqs"] = "CERT_NONE"
        kwargs["assert_hostname"] = False
        super().init_poolmanager(*args, **kwargs)


def presented_fingerprint(url: str) -> str | None:
    """The SHA-256 of the certificate the server at `url` presents, for the error message; None if unreachable."""
    parts = urlsplit(url)
    try:
        pem = ssl.get_server_certificate((parts.hostname or "", parts.port or 443), timeout=10)
    except (OSError, ValueError):
        return None
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def fetch_answer(url: str, body: dict[str, Any], *, fingerprint: str | None = None,
                 token: str | None = None, timeout: float = TIMEOUT, purpose: str = "the answer") -> str:
    """POST `body` to `url` and return the answer as TOML text (a JSON answer is converted)."""
    if not url.lower().startswith(("https://", "http://")):
        raise AnswerSourceError(f"{url!r} is not an http(s) URL")
    pin = normalize_fingerprint(fingerprint) if fingerprint else None
    session = requests.Session()
    session.trust_env = False            # no proxy from the live environment's variables
    if pin:
        session.mount("https://", PinnedAdapter(pin))
    headers = {"Content-Type": "application/json; charset=utf-8",
               "Accept": "application/json, application/toml;q=0.5"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        response = session.post(url, data=json.dumps(body).encode(), headers=headers, timeout=timeout,
                                verify=pin is None)
    except requests.exceptions.SSLError as err:
        if pin and "fingerprint" in str(err).lower():
            got = presented_fingerprint(url)
            seen = f", the server presented {format_fingerprint(got)}" if got else ""
            raise AnswerSourceError(
                f"{url}: refused: the server's certificate does not match keel.fingerprint "
                f"{format_fingerprint(pin)}{seen}") from err
        raise AnswerSourceError(f"{url}: TLS error: {_short(err)}") from err
    except requests.exceptions.RequestException as err:
        raise AnswerSourceError(f"{url}: cannot fetch {purpose}: {_short(err)}") from err
    finally:
        session.close()
    if response.status_code not in (200, 201):
        raise AnswerSourceError(f"{url}: http error: {response.status_code}: {response.text.strip()[:200]}")
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/json":
        try:
            return tomli_w.dumps(response.json())
        except (ValueError, TypeError) as err:
            raise AnswerSourceError(f"{url}: the JSON answer cannot be turned into TOML: {err}") from err
    return response.text


def _short(err: Exception) -> str:
    return str(err).splitlines()[0][:300]
