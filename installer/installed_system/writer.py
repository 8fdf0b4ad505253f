"""The one way files get onto the installed system: path inside the target, text, owner and mode."""

from __future__ import annotations

import os
from pathlib import Path


class TargetPathError(ValueError):
    """A path meant for the target would land outside it."""


def target_path(target: Path, inside: str) -> Path:
    """The host path of absolute path `inside` on the target; refuses `..` escapes."""
    if not inside.startswith("/"):
        raise TargetPathError(f"{inside}: target paths must be absolute")
    path = target / inside.lstrip("/")
    if ".." in Path(inside).parts:
        raise TargetPathError(f"{inside}: '..' is not allowed in a target path")
    return path


def write_file(target: Path, inside: str, text: str | bytes, *, mode: int = 0o644,
               uid: int = 0, gid: int = 0, dir_mode: int = 0o755) -> Path:
    """Write `text` to `inside` on the target atomically, creating parent directories, then set owner and mode.

    Ownership is only changed when running as root (unit tests run as anybody).
    """
    path = target_path(target, inside)
    parent = path.parent
    if not parent.is_dir():
        parent.mkdir(mode=dir_mode, parents=True, exist_ok=True)
    tmp = parent / f".{path.name}.keel-tmp"
    data = text.encode() if isinstance(text, str) else text
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fchmod(fd, mode)
        if os.geteuid() == 0:
            os.fchown(fd, uid, gid)
    finally:
        os.close(fd)
    if path.is_symlink():
        path.unlink()
    os.replace(tmp, path)
    return path


def make_dir(target: Path, inside: str, *, mode: int = 0o755, uid: int = 0, gid: int = 0) -> Path:
    path = target_path(target, inside)
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, mode)
    if os.geteuid() == 0:
        os.chown(path, uid, gid)
    return path


def make_symlink(target: Path, inside: str, points_to: str) -> Path:
    """Create (or replace) symlink `inside` on the target pointing at `points_to` (as the target sees it)."""
    path = target_path(target, inside)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    path.symlink_to(points_to)
    return path


def remove_file(target: Path, inside: str) -> None:
    path = target_path(target, inside)
    if path.is_symlink() or path.exists():
        path.unlink()
