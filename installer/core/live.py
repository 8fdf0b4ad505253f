"""The live.json contract: what the ISO build records about the live medium for the install engine.

iso-build writes it (`LiveInfo.render`) into the live environment as /etc/keel/live.json; the engine reads it
(`LiveInfo.load`). Both sides use this one type, so a key cannot be read that is never written.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

LIVE_INFO_PATH = Path("/etc/keel/live.json")


class LiveInfoError(ValueError):
    """/etc/keel/live.json is missing a key or has a wrong value."""


@dataclass(frozen=True)
class LiveInfo:
    """Where the live medium keeps things (read from /etc/keel/live.json in the live env)."""

    payload: Path                 # payload squashfs
    payload_files: Path | None    # file list for unpack progress
    version: str = ""
    profile: str = ""
    mirror: str = ""
    security_mirror: str = ""     # Debian security archive for the installed system's apt sources

    @classmethod
    def from_data(cls, data: dict[str, Any], source: str = str(LIVE_INFO_PATH)) -> LiveInfo:
        if not isinstance(data, dict):
            raise LiveInfoError(f"{source}: expected a JSON object")
        payload = data.get("payload")
        if not isinstance(payload, str) or not payload:
            raise LiveInfoError(f"{source}: key 'payload' must be the path of the payload squashfs")

        def opt_path(key: str) -> Path | None:
            value = data.get(key)
            if value in (None, ""):
                return None
            if not isinstance(value, str):
                raise LiveInfoError(f"{source}: key {key!r} must be a path string")
            return Path(value)

        def text(key: str) -> str:
            value = data.get(key, "")
            if not isinstance(value, str):
                raise LiveInfoError(f"{source}: key {key!r} must be a string")
            return value

        return cls(
            payload=Path(payload),
            payload_files=opt_path("payload_files"),
            version=text("version"),
            profile=text("profile"),
            mirror=text("mirror"),
            security_mirror=text("security_mirror"),
        )

    @classmethod
    def load(cls, path: str | Path = LIVE_INFO_PATH) -> LiveInfo:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError as err:
            raise LiveInfoError(f"{path}: not found (is this the Keel live environment?)") from err
        except json.JSONDecodeError as err:
            raise LiveInfoError(f"{path}: not valid JSON ({err.msg} at line {err.lineno})") from err
        return cls.from_data(data, str(path))

    def to_data(self) -> dict[str, str]:
        data = {key: str(value) if isinstance(value, Path) else value for key, value in asdict(self).items()}
        return {key: value for key, value in data.items() if value is not None}

    def render(self) -> str:
        """/etc/keel/live.json's text."""
        return json.dumps(self.to_data(), indent=2) + "\n"
