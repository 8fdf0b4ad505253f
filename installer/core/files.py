"""Files only their owner may read: the install log, the event stream and saved configs (which may hold secrets)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO


def open_private(path: str | Path, *, append: bool = True) -> TextIO:
    """`path` opened for appending (or rewriting), mode 0600 also when it existed with a wider mode."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return open(fd, "a" if append else "w", encoding="utf-8")
