"""The answer source the ISO carries: an auto-installer-mode.toml saying where to look, or /keel/answer.toml.

The mode file is read at the medium's root (where prepare-iso writes it) or, on ISOs built with one, at
/keel/auto-installer-mode.toml; its format and the paths are the contract in `installer.core.fetch_mode`.
"""

from __future__ import annotations

from pathlib import Path

from installer.answer_sources.errors import AnswerSourceError
from installer.core import limits
from installer.core.fetch_mode import ANSWER_FILE, MODE_FILES, FetchMode, FetchModeError

MEDIUM = Path("/run/live/medium")

__all__ = ["MEDIUM", "FetchMode", "answer_on_medium", "mode_file_on_medium", "read_fetch_mode"]


def mode_file_on_medium(medium: Path = MEDIUM) -> Path | None:
    """The mode file that counts: the one at the medium's root, else Keel's own under /keel/."""
    return next((medium / name for name in MODE_FILES if (medium / name).is_file()), None)


def read_fetch_mode(medium: Path = MEDIUM) -> FetchMode | None:
    path = mode_file_on_medium(medium)
    if path is None:
        return None
    try:
        return FetchMode.parse(limits.read_text(path), str(path))
    except (OSError, limits.InputLimitError, FetchModeError) as err:
        reason = err.strerror if isinstance(err, OSError) else str(err)
        raise AnswerSourceError(reason if isinstance(err, FetchModeError) else f"{path}: {reason}") from err


def answer_on_medium(medium: Path = MEDIUM) -> Path | None:
    """The answer file on the medium, <medium>/keel/answer.toml, when it is there."""
    path = medium / ANSWER_FILE
    return path if path.is_file() else None
