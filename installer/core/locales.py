"""Locale data for answers and the wizard: time zones and countries from the system's tzdata, keyboard layouts.

Time zones and countries are read from tzdata's tables (`zone1970.tab`, `zone.tab`, `iso3166.tab` under
$TZDIR or /usr/share/zoneinfo) so they are exactly what the installed system will know. The keyboard table is
Keel's own: the 25 layout ids Proxmox answer files use, each with its X11 (xkb) layout/variant for the console
and the installed system, and the keymap name QEMU/noVNC consoles use ("kvm", written to datacenter.cfg).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path


class LocaleDataError(RuntimeError):
    """The system's tzdata files are missing or unreadable."""


@dataclass(frozen=True)
class Keyboard:
    id: str            # the answer-file id: "de-ch"
    name: str          # shown in the wizard: "Swiss German"
    xkb_layout: str    # XKBLAYOUT: "ch"
    xkb_variant: str   # XKBVARIANT: "" for the layout's default
    kvm: str           # console keymap name for the VM console: "de-ch"


KEYBOARDS: dict[str, Keyboard] = {k.id: k for k in (
    Keyboard("de", "German", "de", "nodeadkeys", "de"),
    Keyboard("de-ch", "Swiss German", "ch", "", "de-ch"),
    Keyboard("dk", "Danish", "dk", "", "da"),
    Keyboard("en-gb", "English (UK)", "gb", "", "en-gb"),
    Keyboard("en-us", "English (US)", "us", "", "en-us"),
    Keyboard("es", "Spanish", "es", "", "es"),
    Keyboard("fi", "Finnish", "fi", "", "fi"),
    Keyboard("fr", "French", "fr", "", "fr"),
    Keyboard("fr-be", "Belgian French", "be", "", "fr-be"),
    Keyboard("fr-ca", "Canadian French", "ca", "", "fr-ca"),
    Keyboard("fr-ch", "Swiss French", "ch", "fr", "fr-ch"),
    Keyboard("hu", "Hungarian", "hu", "", "hu"),
    Keyboard("is", "Icelandic", "is", "", "is"),
    Keyboard("it", "Italian", "it", "", "it"),
    Keyboard("jp", "Japanese", "jp", "", "ja"),
    Keyboard("lt", "Lithuanian", "lt", "", "lt"),
    Keyboard("mk", "Macedonian", "mk", "", "mk"),
    Keyboard("nl", "Dutch", "nl", "", "nl"),
    Keyboard("no", "Norwegian", "no", "", "no"),
    Keyboard("pl", "Polish", "pl", "", "pl"),
    Keyboard("pt", "Portuguese", "pt", "", "pt"),
    Keyboard("pt-br", "Portuguese (Brazil)", "br", "", "pt-br"),
    Keyboard("se", "Swedish", "se", "", "sv"),
    Keyboard("si", "Slovenian", "si", "", "sl"),
    Keyboard("tr", "Turkish", "tr", "", "tr"),
)}


def zoneinfo_dir() -> Path:
    return Path(os.environ.get("TZDIR") or "/usr/share/zoneinfo")


def _table_rows(name: str) -> list[list[str]]:
    path = zoneinfo_dir() / name
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise LocaleDataError(
            f"cannot read {path} ({err.strerror}): the time zone and country lists come from tzdata; "
            "install Debian's tzdata package"
        ) from err
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@cache
def timezones() -> frozenset[str]:
    """Every zone some country uses (tzdata's zone1970.tab and zone.tab), plus "UTC"."""
    zones = {"UTC"}
    for table in ("zone1970.tab", "zone.tab"):
        try:
            zones.update(row[2] for row in _table_rows(table) if len(row) >= 3)
        except LocaleDataError:
            if table == "zone.tab":
                raise
    return frozenset(zones)


@cache
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code (lower case) -> country name, from tzdata's iso3166.tab."""
    return {row[0].lower(): row[1] for row in _table_rows("iso3166.tab") if len(row) >= 2}


@cache
def country_zones() -> dict[str, tuple[str, ...]]:
    """Country code (lower case) -> its zones, for the wizard's zone list after a country is chosen."""
    out: dict[str, list[str]] = {}
    for row in _table_rows("zone.tab"):
        if len(row) >= 3:
            out.setdefault(row[0].lower(), []).append(row[2])
    return {cc: tuple(sorted(zones)) for cc, zones in out.items()}


@dataclass(frozen=True)
class XkbLayout:
    """The console/X keyboard of a Proxmox keymap id, and the keymap name the VNC console uses."""

    layout: str              # "de"
    variant: str = ""        # "nodeadkeys"
    kvm: str | None = None   # "de"


def xkb_layout(keymap: str) -> XkbLayout:
    """The XKB layout of a Proxmox keymap id; an id the table does not know (a config saved by hand) falls back to
    the id's first part as the layout."""
    entry = KEYBOARDS.get(keymap)
    if entry is None:
        return XkbLayout(keymap.partition("-")[0], "", None)
    return XkbLayout(entry.xkb_layout, entry.xkb_variant, entry.kvm or None)
