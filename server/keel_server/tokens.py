"""Tokens: `<id>:<secret>` as Proxmox's `--answer-auth-token name:secret` has them. Only the SHA-256 of the whole
token is stored; the id finds the row. Durations for `--expires` ("30d", "12h", "90m", "3600s")."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

DURATION = re.compile(r"^(\d+)([smhdw])$")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def new_token() -> tuple[str, str]:
    """(id, whole token)."""
    token_id = secrets.token_hex(6)
    return token_id, f"{token_id}:{secrets.token_urlsafe(32)}"


def new_secret() -> str:
    """A per-install token: no id, found by its hash."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(token: str, stored: str) -> bool:
    return hmac.compare_digest(token_hash(token), stored)


def token_id_of(token: str) -> str:
    return token.partition(":")[0]


def parse_duration(text: str) -> int:
    """Seconds in "30d" / "12h" / "90m" / "3600s" / "2w"; ValueError naming the forms otherwise."""
    found = DURATION.match(text.strip())
    if not found or int(found.group(1)) == 0:
        raise ValueError(f"--expires {text!r}: give a positive number and a unit: 3600s, 90m, 12h, 30d or 2w")
    return int(found.group(1)) * UNIT_SECONDS[found.group(2)]
