"""Mounting with guaranteed unmounting, and the one parser of /proc/self/mountinfo."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from installer.runner import CommandError, Runner

MOUNTINFO = Path("/proc/self/mountinfo")
MOUNT_TIMEOUT = 120.0


@dataclass(frozen=True)
class MountEntry:
    """One line of /proc/self/mountinfo: where something is mounted, what it is and from which source."""

    point: str
    fstype: str
    source: str


def _unescape(field: str) -> str:
    # mountinfo writes space, tab, newline and backslash as octal escapes
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def parse_mountinfo(text: str) -> list[MountEntry]:
    """The mounts of a mountinfo text in mount order; malformed lines are skipped."""
    entries = []
    for line in text.splitlines():
        before, sep, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if not sep or len(fields) < 5 or len(tail) < 2:
            continue
        entries.append(MountEntry(point=_unescape(fields[4]), fstype=tail[0], source=_unescape(tail[1])))
    return entries


def current_mounts() -> list[MountEntry]:
    """This machine's mounts now."""
    return parse_mountinfo(MOUNTINFO.read_text())


def mounts_under(entries: list[MountEntry], target: Path) -> list[str]:
    """Mount points at or below `target` in the order to unmount them (the reverse of mounting)."""
    base = str(target).rstrip("/") or "/"
    found = [e.point for e in entries if e.point == base or e.point.startswith(base + "/")]
    found.reverse()
    return found


def mounts_of(entries: list[MountEntry], devices: set[str]) -> list[str]:
    """Mount points whose source is one of `devices`, the most recently mounted first."""
    found = [e.point for e in entries if e.source in devices]
    found.reverse()
    return found


def mount_source(entries: list[MountEntry], mount_point: str) -> str | None:
    """The source device of the filesystem mounted at `mount_point`."""
    return next((e.source for e in entries if e.point == mount_point), None)


@contextmanager
def mounted(runner: Runner, source: str, mountpoint: Path, *, fstype: str | None = None,
            options: str | None = None, bind: bool = False) -> Iterator[Path]:
    """Mount `source` on `mountpoint` for the duration of the block; unmount on every way out."""
    if not mountpoint.exists():       # a bind mount may go over a file, which is left as it is
        mountpoint.mkdir(parents=True)
    argv = ["mount"]
    if bind:
        argv.append("--bind")
    if fstype:
        argv += ["-t", fstype]
    if options:
        argv += ["-o", options]
    runner.run([*argv, source, str(mountpoint)], timeout=MOUNT_TIMEOUT)
    try:
        yield mountpoint
    finally:
        unmount(runner, mountpoint)


def unmount(runner: Runner, mountpoint: Path) -> None:
    """Unmount `mountpoint`; a busy mount is retried lazily so cleanup never leaves the target half-mounted."""
    try:
        runner.run(["umount", str(mountpoint)], timeout=MOUNT_TIMEOUT)
    except CommandError:
        runner.run(["umount", "--lazy", str(mountpoint)], timeout=MOUNT_TIMEOUT)
