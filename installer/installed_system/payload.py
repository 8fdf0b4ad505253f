"""Unpacking the payload squashfs onto the target with progress counted from the files unsquashfs reports."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from installer.runner import Runner

UNPACK_TIMEOUT = 3 * 3600.0


def count_payload_files(runner: Runner, payload: Path, file_list: Path | None) -> int:
    """How many entries unsquashfs will report: lines of the ISO's file list, else unsquashfs's own listing."""
    if file_list is not None and file_list.is_file():
        with file_list.open("rb") as fh:
            return sum(1 for _ in fh)
    listing = runner.run(["unsquashfs", "-l", "-no-progress", str(payload)], timeout=600)
    return sum(1 for line in listing.stdout.splitlines() if line.startswith("squashfs-root"))


def unpack_payload(runner: Runner, payload: Path, target: Path, total: int,
                   progress: Callable[[float, str], None], *, steps: int = 200) -> int:
    """Extract `payload` into `target` (overwriting), reporting the fraction done about `steps` times.

    unsquashfs -i prints one line per extracted entry; the count against `total` is the progress.
    Returns the number of entries extracted.
    """
    every = max(1, total // steps)
    seen = 0

    def on_line(line: str) -> None:
        nonlocal seen
        if not line.startswith(str(target)):
            return
        seen += 1
        if seen % every == 0:
            progress(min(1.0, seen / total) if total else 0.0, line[len(str(target)):] or "/")

    runner.stream(["unsquashfs", "-f", "-i", "-d", str(target), str(payload)], on_line, timeout=UNPACK_TIMEOUT)
    progress(1.0, "")
    return seen
