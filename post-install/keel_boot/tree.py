"""File access to one ESP's contents; the sync works on this interface, a mounted directory on a real system."""

from __future__ import annotations

import errno
import filecmp
import os
import shutil
from pathlib import Path
from typing import Protocol


class EspTree(Protocol):
    """An ESP's files by POSIX path relative to its root ("EFI/keel/6.12.43+deb13-amd64/vmlinuz-...")."""

    def files(self) -> frozenset[str]: ...

    def read_text(self, path: str) -> str | None: ...

    def matches(self, path: str, source: Path) -> bool: ...

    def copy_in(self, path: str, source: Path) -> None: ...

    def write_text(self, path: str, text: str) -> None: ...

    def remove(self, path: str) -> None: ...

    def remove_dir(self, path: str) -> None: ...


class DirectoryTree:
    """An ESP mounted (or unpacked) at a directory; every write lands under a temporary name, then is renamed."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, path: str) -> Path:
        return self.root / path

    def files(self) -> frozenset[str]:
        found = set()
        for dirpath, _dirs, names in os.walk(self.root):
            rel = Path(dirpath).relative_to(self.root)
            for name in names:
                found.add((rel / name).as_posix())
        return frozenset(found)

    def read_text(self, path: str) -> str | None:
        try:
            return self._path(path).read_text()
        except FileNotFoundError:
            return None

    def matches(self, path: str, source: Path) -> bool:
        target = self._path(path)
        return (
            target.is_file()
            and target.stat().st_size == source.stat().st_size
            and filecmp.cmp(target, source, shallow=False)
        )

    def _replace(self, path: str, fill) -> None:
        target = self._path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".keel-tmp")
        try:
            with open(tmp, "wb") as out:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, target)
        except BaseException:
            # A full ESP must not keep half a kernel: the old file (if any) stays as it was.
            tmp.unlink(missing_ok=True)
            raise

    def copy_in(self, path: str, source: Path) -> None:
        with open(source, "rb") as src:
            self._replace(path, lambda out: _copy(src, out))

    def write_text(self, path: str, text: str) -> None:
        self._replace(path, lambda out: out.write(text.encode()))

    def remove(self, path: str) -> None:
        self._path(path).unlink(missing_ok=True)

    def remove_dir(self, path: str) -> None:
        target = self._path(path)
        if target.is_dir() and not any(target.iterdir()):
            target.rmdir()


def _copy(src, out) -> None:
    """Copy the open file `src` into `out` in the kernel (sendfile: no pass through this process's memory, which cost
    a kernel and an initrd of 57 MB two copies per ESP); where the kernel refuses, through a buffer."""
    size = os.fstat(src.fileno()).st_size
    done = 0
    try:
        while done < size:
            sent = os.sendfile(out.fileno(), src.fileno(), done, size - done)
            if sent == 0:
                raise OSError(f"{src.name}: ended after {done} of {size} bytes")
            done += sent
    except OSError as err:
        if done or err.errno not in (errno.EINVAL, errno.ENOSYS):
            raise
        shutil.copyfileobj(src, out, 1024 * 1024)
