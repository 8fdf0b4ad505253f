"""Where the ISO build leaves its outputs, and getting them built (through `make iso`, never its internals)."""

from __future__ import annotations

import fcntl
import json
import os
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from installer.runner import CommandError, Runner

from .spec import HarnessError

REPO_ROOT = Path(__file__).resolve().parents[2]
ISO_BUILD_TIMEOUT = 3 * 3600.0


@dataclass(frozen=True)
class BuildOutputs:
    iso: Path
    pxe_dir: Path
    info: dict

    @property
    def version(self) -> str:
        return str(self.info.get("version", "unknown"))

    def bench_header(self) -> dict:
        """What a VM benchmark records about the ISO it booted and the host it ran on, before its own numbers."""
        return {
            "iso": self.iso.name,
            "version": self.version,
            "profile": self.info.get("profile"),
            "iso_size_bytes": self.iso.stat().st_size,
            "accel": "tcg",
            "host_cpus": os.cpu_count(),
            "host": platform.platform(),
        }


def build_outputs(repo: Path = REPO_ROOT) -> BuildOutputs | None:
    """The ISO and PXE directory if the build has produced them, else None."""
    iso = repo / "build" / "keel.iso"
    if not iso.is_file():
        return None
    info_path = repo / "build" / "iso-build.json"
    try:
        info = json.loads(info_path.read_text())
    except (OSError, ValueError):
        info = {}
    return BuildOutputs(iso=iso.resolve(), pxe_dir=repo / "build" / "pxe", info=info)


def ensure_built(repo: Path = REPO_ROOT, runner: Runner | None = None) -> BuildOutputs:
    """Return the build outputs, running `make iso` first when build/keel.iso is missing.

    Test processes running in parallel (pytest -n) all ask; a lock makes one of them build while the others wait
    and then find the ISO.
    """
    outputs = build_outputs(repo)
    if outputs is not None:
        return outputs
    with one_at_a_time(repo / "build" / ".ensure-built.lock"):
        return build_outputs(repo) or _build(repo, runner or Runner(default_timeout=ISO_BUILD_TIMEOUT))


@contextmanager
def one_at_a_time(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `lock_path` (created with its directory) for the block: test processes that build
    the same cached thing at once (pytest -n) build it one after the other, and the later ones find it built."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _build(repo: Path, runner: Runner) -> BuildOutputs:
    # The build takes minutes: its progress goes to the real stderr, past pytest's capturing.
    try:
        runner.stream(["make", "-C", str(repo), "iso"], on_line=_show, timeout=ISO_BUILD_TIMEOUT)
    except CommandError as err:
        raise HarnessError(f"`make iso` failed, so there is no ISO to boot: {err}") from err
    outputs = build_outputs(repo)
    if outputs is None:
        raise HarnessError("`make iso` succeeded but build/keel.iso is not there")
    return outputs


def _show(line: str) -> None:
    print(f"make iso: {line}", file=sys.__stderr__, flush=True)
