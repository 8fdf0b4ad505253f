"""The prepared medium's contract: auto-installer-mode.toml and where the answer and first-boot script lie.

`keel-answer prepare-iso` writes the mode file (`FetchMode.render`) at the ISO's root, where Proxmox's
prepare-iso puts it; the installer reads it (`FetchMode.parse`) from there or from Keel's own place under
/keel/. Keys are snake_case, as Proxmox writes them:

    mode = "http"                   # iso | http | partition
    partition_label = "proxmox-ais"
    [http]
    url = "https://answers.example.com/answer"
    cert_fingerprint = "AB:CD:..."
    token = "name:secret"

Paths here are relative to the medium's root (/run/live/medium in the live environment, / in the ISO).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from typing import Any

import tomli_w

MODES = ("iso", "http", "partition")
DEFAULT_PARTITION_LABEL = "proxmox-ais"

MODE_FILE = "auto-installer-mode.toml"              # where prepare-iso (Keel's and Proxmox's) writes it
KEEL_MODE_FILE = "keel/auto-installer-mode.toml"    # Keel's own place, for ISOs built with a mode file
MODE_FILES = (MODE_FILE, KEEL_MODE_FILE)            # read in this order: the first one present counts
ANSWER_FILE = "keel/answer.toml"                    # the answer of mode iso
FIRST_BOOT_FILE = "keel/first-boot"                 # [first-boot] source = "from-iso": the executable
BUILD_INFO_FILE = "keel/build.json"                 # iso-build's record; its presence marks a Keel ISO
FIRST_BOOT_MAX_BYTES = 1024 * 1024                  # Proxmox's limit for the first-boot executable


class FetchModeError(ValueError):
    """A mode file that is not valid TOML or has a wrong key; the message names the file and the key."""


@dataclass(frozen=True)
class FetchMode:
    """Where auto mode gets its answer: the medium (iso), a labelled partition, or an HTTP(S) answer server."""

    mode: str
    partition_label: str = DEFAULT_PARTITION_LABEL
    url: str | None = None                  # http without a URL: found by DHCP or DNS
    cert_fingerprint: str | None = None
    token: str | None = None                # sent as "Authorization: Bearer <token>"

    @classmethod
    def parse(cls, text: str, source: str = MODE_FILE) -> FetchMode:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise FetchModeError(f"{source}: not valid TOML: {err}") from err
        mode = data.get("mode")
        if mode not in MODES:
            raise FetchModeError(f"{source}: key 'mode' must be iso, http or partition, not {mode!r}")
        label = _text(data, "partition_label", source) or DEFAULT_PARTITION_LABEL
        http = data.get("http", {})
        if not isinstance(http, dict):
            raise FetchModeError(f"{source}: key 'http' must be a table")
        return cls(mode, label, *(_text(http, key, source, "http.") or None
                                  for key in ("url", "cert_fingerprint", "token")))

    def render(self) -> str:
        """The mode file's text: mode and partition_label always, [http] with the keys that are set."""
        data: dict[str, Any] = {"mode": self.mode, "partition_label": self.partition_label}
        http = {key: value for key, value in (("url", self.url), ("cert_fingerprint", self.cert_fingerprint),
                                              ("token", self.token)) if value}
        if http:
            data["http"] = http
        return tomli_w.dumps(data)


def _text(table: dict[str, Any], key: str, source: str, prefix: str = "") -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise FetchModeError(f"{source}: key '{prefix}{key}' must be a string, not {type(value).__name__}")
    return value
