"""Which kernels go onto the ESPs and which one boots by default: pure decisions over version strings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .kversion import newest_first, series

# Why a kernel was kept, in the order `kernel list` explains them.
RUNNING = "running"
INSTALLING = "being installed"
NEWEST = "newest"
PREVIOUS_SERIES = "newest of the previous series"
MANUAL = "manually added"
PINNED = "pinned"
NEXT_BOOT = "pinned for the next boot"


@dataclass(frozen=True)
class KernelSelection:
    versions: tuple[str, ...]  # newest first
    reasons: tuple[tuple[str, tuple[str, ...]], ...]  # (version, why) in the order of `versions`
    missing: tuple[tuple[str, str], ...] = ()  # (version, why it was wanted) for versions not installed
    default: str | None = None  # the kernel that boots when nobody picks one

    def why(self, version: str) -> tuple[str, ...]:
        return dict(self.reasons).get(version, ())


def select_kernels(
    installed: Iterable[str],
    *,
    running: str | None = None,
    installing: str | None = None,
    manual: Iterable[str] = (),
    pinned: str | None = None,
    next_boot: str | None = None,
) -> KernelSelection:
    """The kernels to keep on every ESP (proxmox-boot-tool's rules, reference §4.2).

    Kept: the running kernel, the one being installed, the two newest, the newest of the series before the
    newest kernel's major.minor, manually added ones and the pinned ones (persistent and next boot) - each
    only when its /boot/vmlinuz-<version> is installed.
    """
    ordered = newest_first(tuple(installed))
    available = set(ordered)
    wanted: dict[str, list[str]] = {}
    missing: list[tuple[str, str]] = []

    def want(version: str | None, reason: str) -> None:
        if version is None:
            return
        if version in available:
            wanted.setdefault(version, []).append(reason)
        elif reason != RUNNING:
            missing.append((version, reason))

    want(running, RUNNING)
    want(installing, INSTALLING)
    for version in ordered[:2]:
        want(version, NEWEST)
    if ordered:
        newest_series = series(ordered[0])
        for version in ordered:
            if newest_series is not None and series(version) not in (None, newest_series):
                want(version, PREVIOUS_SERIES)
                break
    for version in manual:
        want(version, MANUAL)
    want(pinned, PINNED)
    want(next_boot, NEXT_BOOT)

    versions = newest_first(tuple(wanted))
    default = None
    for candidate in (next_boot, pinned):
        if candidate in wanted:
            default = candidate
            break
    else:
        default = versions[0] if versions else None
    return KernelSelection(
        versions=versions,
        reasons=tuple((v, tuple(wanted[v])) for v in versions),
        missing=tuple(missing),
        default=default,
    )
