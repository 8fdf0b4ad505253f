"""The lock that lets only one keel-boot-tool at a time change the ESPs or the /etc/kernel files.

It lives in a directory only we can write (/run/keel-boot-tool, made 0700), checked before use, and the lock
file is opened without following links and without truncating: a link planted at the lock once made root
empty another file (the lock was in /var/tmp/espmounts, which anyone can create).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

LOCK_NAME = "lock"


class LockError(RuntimeError):
    """The lock directory or file is not what it must be; the message names it and what to do."""


def _open_private_directory(directory: Path) -> int:
    """A descriptor of `directory`, made 0700 if missing; refused unless it is ours and nobody else can write it."""
    try:
        directory.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory, 0o700)
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise LockError(f"{directory} is not a directory (a symbolic link or a file): remove it") from exc
        raise LockError(f"cannot create or open the lock directory {directory}: {exc.strerror}") from exc
    info = os.fstat(fd)
    problem = None
    if info.st_uid != os.geteuid():
        problem = f"is owned by uid {info.st_uid}, not {os.geteuid()}"
    elif info.st_mode & 0o022:
        problem = f"has mode {stat.S_IMODE(info.st_mode):04o}, writable by others"
    if problem:
        os.close(fd)
        raise LockError(f"{directory} {problem}: remove it, keel-boot-tool makes it again (0700)")
    return fd


@contextlib.contextmanager
def exclusive_lock(directory: Path, on_wait: Callable[[Path], None]) -> Iterator[None]:
    """Holds the lock for the block; `on_wait` is told when another run holds it and we wait for it."""
    lock_file = directory / LOCK_NAME
    dir_fd = _open_private_directory(directory)
    try:
        fd = os.open(LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise LockError(f"{lock_file} is a symbolic link, not the lock file: remove it") from exc
        raise LockError(f"cannot open the lock file {lock_file}: {exc.strerror}") from exc
    finally:
        os.close(dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LockError(f"{lock_file} is not a regular file: remove it")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait(lock_file)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
