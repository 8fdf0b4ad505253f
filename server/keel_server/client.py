"""The REST client the CLI uses with `--server URL --token T [--fingerprint FP]`: the same operations as the
local Service, through /api/v1, over HTTPS pinned to the server certificate's SHA-256 fingerprint.

Pinning with Keel's installer's own adapter (installer/answer_sources/http.py): with a fingerprint, CA and
host-name checks are replaced by one check of the leaf certificate's SHA-256.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import requests

from installer.answer_sources.http import PinnedAdapter
from keel_server.errors import ServerError

TIMEOUT = 30.0


def pinned_session(fingerprint: str | None) -> requests.Session:
    """A session pinned to `fingerprint` (CA checks off: the pin replaces them, as in Keel's installer); without
    one, the system's CA store decides."""
    session = requests.Session()
    session.trust_env = False
    if fingerprint:
        session.mount("https://", PinnedAdapter(fingerprint.replace(":", "").lower()))
        session.verify = False
    return session


class RemoteBackend:
    """Service's admin operations over HTTP; errors come back as ServerError with the server's message."""

    def __init__(self, url: str, token: str, fingerprint: str | None = None):
        self.url = url.rstrip("/")
        self.session = pinned_session(fingerprint)
        self.session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        try:
            reply = self.session.request(method, f"{self.url}/api/v1{path}", json=body, params=params,
                                         timeout=TIMEOUT)
        except requests.exceptions.SSLError as err:
            raise ServerError(0, f"{self.url}: TLS failed (wrong --fingerprint?): {err.__class__.__name__}") from err
        except requests.RequestException as err:
            raise ServerError(0, f"{self.url}: cannot reach the server: {err.__class__.__name__}") from err
        try:
            data = reply.json()
        except ValueError:
            data = {"error": reply.text[:200]}
        if reply.status_code >= 400:
            message = data.get("error", reply.reason) if isinstance(data, dict) else reply.reason
            problems = data.get("problems", []) if isinstance(data, dict) else []
            raise ServerError(reply.status_code, str(message), [str(p) for p in problems])
        return data

    def list_profiles(self) -> list[dict]:
        return self._call("GET", "/profiles")

    def show_profile(self, name: str) -> dict:
        return self._call("GET", f"/profiles/{quote(name, safe='')}")

    def add_profile(self, name: str, template: str, *, match: dict[str, str], macs: list[str],
                    labels: dict[str, str], priority: int, default: bool, pool: str | None) -> dict:
        return self._call("POST", "/profiles", {"name": name, "template": template, "match": match, "macs": macs,
                                                "labels": labels, "priority": priority, "default": default,
                                                "pool": pool})

    def remove_profile(self, name: str) -> dict:
        return self._call("DELETE", f"/profiles/{quote(name, safe='')}")

    def add_pool(self, name: str, cidr: str, gateway: str, dns: str, range_: str | None) -> dict:
        return self._call("POST", "/pools", {"name": name, "cidr": cidr, "gateway": gateway, "dns": dns,
                                             "range": range_})

    def list_pools(self) -> list[dict]:
        return self._call("GET", "/pools")

    def remove_pool(self, name: str) -> dict:
        return self._call("DELETE", f"/pools/{quote(name, safe='')}")

    def create_token(self, *, expires_in: int | None) -> dict:
        return self._call("POST", "/tokens", {"expires_in": expires_in})

    def list_tokens(self) -> list[dict]:
        return self._call("GET", "/tokens")

    def list_machines(self) -> list[dict]:
        return self._call("GET", "/machines")

    def show_machine(self, ref: str) -> dict:
        return self._call("GET", f"/machines/{quote(ref, safe='')}")

    def rearm(self, ref: str) -> dict:
        return self._call("POST", f"/machines/{quote(ref, safe='')}/rearm")

    def remove_machine(self, ref: str) -> dict:
        return self._call("DELETE", f"/machines/{quote(ref, safe='')}")

    def label(self, ref: str, set_: dict[str, str], unset: list[str]) -> dict:
        return self._call("POST", f"/machines/{quote(ref, safe='')}/labels", {"set": set_, "unset": unset})

    def assign(self, ref: str, profile: str | None) -> dict:
        return self._call("POST", f"/machines/{quote(ref, safe='')}/assign", {"profile": profile})

    def explain(self, sysinfo: Any) -> dict:
        return self._call("POST", "/explain", sysinfo)

    def audit_log(self, limit: int = 200) -> list[dict]:
        return self._call("GET", "/audit", params={"limit": limit})
