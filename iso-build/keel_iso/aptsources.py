"""Finds the Debian archive mirror in the build host's apt sources (one-line and deb822 formats)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Suites that mark an entry as the Debian archive itself (not security, not a third party).
DEBIAN_SUITES = frozenset({"bookworm", "trixie", "forky", "sid", "stable", "testing", "unstable"})


class MirrorError(ValueError):
    """No usable Debian archive entry was found in the apt sources."""


@dataclass(frozen=True)
class AptSource:
    types: tuple[str, ...]
    uris: tuple[str, ...]
    suites: tuple[str, ...]
    components: tuple[str, ...]
    origin: str  # "file:line" the entry came from, for error messages


def parse_one_line(text: str, origin: str) -> list[AptSource]:
    """Entries of a classic `deb [opts] URI suite component...` file; comments and blank lines skipped."""
    sources = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        words = line.split()
        kind, rest = words[0], words[1:]
        if kind not in ("deb", "deb-src"):
            continue
        if rest and rest[0].startswith("["):
            while rest and not rest[0].endswith("]"):
                rest = rest[1:]
            rest = rest[1:]
        if len(rest) < 2:
            continue
        sources.append(AptSource((kind,), (rest[0],), (rest[1],), tuple(rest[2:]), f"{origin}:{number}"))
    return sources


def parse_deb822(text: str, origin: str) -> list[AptSource]:
    """Stanzas of a deb822 `.sources` file; `Enabled: no` stanzas are skipped."""
    sources = []
    for stanza, first_line in _stanzas(text):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        types = tuple(stanza.get("types", "").split())
        uris = tuple(stanza.get("uris", "").split())
        suites = tuple(stanza.get("suites", "").split())
        if types and uris and suites:
            components = tuple(stanza.get("components", "").split())
            sources.append(AptSource(types, uris, suites, components, f"{origin}:{first_line}"))
    return sources


def _stanzas(text: str) -> Iterable[tuple[dict[str, str], int]]:
    fields: dict[str, str] = {}
    first = 0
    key = ""
    for number, raw in enumerate([*text.splitlines(), ""], start=1):
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if fields:
                yield fields, first
            fields, key = {}, ""
            continue
        if raw[0] in " \t" and key:
            fields[key] += " " + raw.strip()
            continue
        if ":" in raw:
            if not fields:
                first = number
            key, value = raw.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
    return


def debian_archive_uri(sources: Iterable[AptSource]) -> str | None:
    """The URI of the first binary entry whose suites are plain Debian releases (e.g. `bookworm`)."""
    for source in sources:
        if "deb" not in source.types:
            continue
        if any(suite in DEBIAN_SUITES for suite in source.suites):
            for uri in source.uris:
                if uri.startswith(("http://", "https://", "file:/")):
                    return uri.rstrip("/")
    return None


def security_archive_uri(sources: Iterable[AptSource]) -> str | None:
    """The URI of the first binary entry for Debian's security suites (e.g. `bookworm-security`)."""
    for source in sources:
        if "deb" in source.types and any(suite.endswith("-security") for suite in source.suites):
            for uri in source.uris:
                if uri.startswith(("http://", "https://", "file:/")):
                    return uri.rstrip("/")
    return None


def read_host_sources(etc_apt: Path = Path("/etc/apt")) -> list[AptSource]:
    """All entries of sources.list, sources.list.d/*.list and sources.list.d/*.sources, in apt's order."""
    sources: list[AptSource] = []
    main = etc_apt / "sources.list"
    if main.is_file():
        sources += parse_one_line(main.read_text(errors="replace"), str(main))
    directory = etc_apt / "sources.list.d"
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.suffix == ".list":
                sources += parse_one_line(path.read_text(errors="replace"), str(path))
            elif path.suffix == ".sources":
                sources += parse_deb822(path.read_text(errors="replace"), str(path))
    return sources


def host_mirror(etc_apt: Path = Path("/etc/apt")) -> str:
    """The build host's Debian mirror, or MirrorError naming where we looked."""
    uri = debian_archive_uri(read_host_sources(etc_apt))
    if uri is None:
        raise MirrorError(
            f"no Debian archive entry (suite bookworm/trixie) in {etc_apt}/sources.list or "
            f"{etc_apt}/sources.list.d/: pass --mirror URL"
        )
    return uri


def host_security_mirror(etc_apt: Path = Path("/etc/apt")) -> str:
    """The build host's Debian security archive, or "" when its apt sources have none."""
    return security_archive_uri(read_host_sources(etc_apt)) or ""
