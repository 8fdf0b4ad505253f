"""The answer source the ISO carries: /keel/answer.toml, or /keel/auto-installer-mode.toml saying where to look."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from installer.answer_sources.errors import AnswerSourceError

MEDIUM = Path("/run/live/medium")


@dataclass(frozen=True)
class FetchMode:
    """auto-installer-mode.toml (as Proxmox's prepare-iso writes it): mode iso | http | partition."""

    mode: str
    partition_label: str = "proxmox-ais"
    url: str | None = None
    cert_fingerprint: str | None = None
    token: str | None = None


def read_fetch_mode(medium: Path = MEDIUM) -> FetchMode | None:
    path = medium / "keel" / "auto-installer-mode.toml"
    if not path.is_file():
        return None
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise AnswerSourceError(f"{path}: not valid TOML: {err}") from err
    mode = data.get("mode")
    if mode not in ("iso", "http", "partition"):
        raise AnswerSourceError(f"{path}: key 'mode' must be iso, http or partition, not {mode!r}")
    http = data.get("http") or {}
    return FetchMode(mode, str(data.get("partition_label") or "proxmox-ais"), http.get("url"),
                     http.get("cert_fingerprint"), http.get("token"))


def answer_on_medium(medium: Path = MEDIUM) -> Path | None:
    """The answer file on the medium, <medium>/keel/answer.toml, when it is there."""
    path = medium / "keel" / "answer.toml"
    return path if path.is_file() else None
