"""The build cache outside the repo: where each artifact lives and the keys that say when it is stale."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CACHE_DIR = Path("/var/cache/keel-build")
# Bump when the way an artifact is made changes, so old cache entries are not reused.
RECIPE_VERSION = 1


def cache_key(**inputs: object) -> str:
    """A short stable hash of the inputs (order of keyword arguments does not matter)."""
    blob = json.dumps({"recipe": RECIPE_VERSION, **inputs}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def base_key(suite: str, mirror: str, components: tuple[str, ...], include: tuple[str, ...]) -> str:
    return cache_key(kind="debootstrap", suite=suite, mirror=mirror, components=list(components),
                     include=sorted(include))


def zfs_key(kernel_version: str, zfs_version: str) -> str:
    return cache_key(kind="zfs-modules", kernel=kernel_version, zfs=zfs_version)


def resolve_cache_dir(option: str | None, environ: dict[str, str] | None = None) -> Path:
    """--cache-dir, else $KEEL_CACHE_DIR, else /var/cache/keel-build."""
    environ = dict(os.environ) if environ is None else environ
    if option:
        return Path(option)
    if environ.get("KEEL_CACHE_DIR"):
        return Path(environ["KEEL_CACHE_DIR"])
    return DEFAULT_CACHE_DIR


@dataclass(frozen=True)
class CacheLayout:
    """Paths inside the cache directory."""

    root: Path

    @property
    def apt_archives(self) -> Path:
        return self.root / "apt-archives"

    @property
    def debootstrap_debs(self) -> Path:
        return self.root / "debootstrap-debs"

    def base_tarball(self, key: str) -> Path:
        return self.root / "base" / f"trixie-{key}.tar"

    def zfs_deb_dir(self, key: str) -> Path:
        return self.root / "zfs" / key

    @property
    def wheels(self) -> Path:
        return self.root / "wheels"

    @property
    def work(self) -> Path:
        return self.root / "work"
