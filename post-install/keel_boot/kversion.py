"""Kernel version strings: Debian's version ordering (dpkg --compare-versions) and the major.minor series."""

from __future__ import annotations

import functools
import re

_SERIES = re.compile(r"^(\d+)\.(\d+)")


def _order(char: str) -> int:
    # dpkg's ordering of the non-digit parts: '~' sorts before everything, even the end of the string;
    # letters sort before every other character.
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    """dpkg's verrevcmp over one part (upstream version or revision)."""
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return -1 if ac < bc else 1
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = (a[i] > b[j]) - (a[i] < b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _split(version: str) -> tuple[int, str, str]:
    epoch = 0
    if ":" in version:
        head, version = version.split(":", 1)
        epoch = int(head) if head.isdigit() else 0
    upstream, _, revision = version.rpartition("-") if "-" in version else (version, "", "")
    return epoch, upstream, revision


def compare_versions(a: str, b: str) -> int:
    """-1, 0 or 1 as `dpkg --compare-versions a lt|eq|gt b` would decide."""
    ea, ua, ra = _split(a)
    eb, ub, rb = _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


version_key = functools.cmp_to_key(compare_versions)


def newest_first(versions: set[str] | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The distinct versions, newest first."""
    return tuple(sorted(set(versions), key=version_key, reverse=True))


def series(version: str) -> tuple[int, int] | None:
    """The (major, minor) series of a kernel version, or None when it does not start with N.N."""
    match = _SERIES.match(version)
    return (int(match.group(1)), int(match.group(2))) if match else None
