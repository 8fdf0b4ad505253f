"""The answer on a partition labelled PROXMOX-AIS (or the label the ISO names): found via /dev/disk/by-label,
tried as given, upper case and lower case, mounted read-only just long enough to read answer.toml."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from installer.answer_sources.errors import AnswerSourceError
from installer.host.mounts import mounted
from installer.runner import CommandError, Runner

DEFAULT_LABEL = "PROXMOX-AIS"
BY_LABEL = Path("/dev/disk/by-label")
MOUNTPOINT = Path("/mnt/answer")
SAFE_LABEL_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789#+-.:=@_")


def udev_escape(label: str) -> str:
    """The name udev gives a label under /dev/disk/by-label: unsafe bytes as \\xHH."""
    return "".join(c if c in SAFE_LABEL_CHARS else "".join(f"\\x{b:02x}" for b in c.encode()) for c in label)


def label_variants(label: str) -> list[str]:
    """The label as given, upper case, lower case; each once."""
    return list(dict.fromkeys([label, label.upper(), label.lower()]))


def find_labelled_device(label: str = DEFAULT_LABEL, by_label: Path = BY_LABEL) -> Path | None:
    for variant in label_variants(label):
        link = by_label / udev_escape(variant)
        if link.exists():
            return link
    return None


def read_answer_from_partition(runner: Runner, label: str = DEFAULT_LABEL, *, by_label: Path = BY_LABEL,
                               mountpoint: Path = MOUNTPOINT,
                               warn: Callable[[str], None] = lambda text: None) -> str | None:
    """answer.toml from the labelled partition; None when there is no such partition."""
    device = find_labelled_device(label, by_label)
    if device is None:
        return None
    answer = mountpoint / "answer.toml"
    try:
        with mounted(runner, str(device), mountpoint, options="ro"):
            if not answer.is_file():
                raise AnswerSourceError(f"{device} (label {label}): has no answer.toml in its top directory")
            return answer.read_text()
    except CommandError as err:
        warn(f"{device} (label {label}): cannot be mounted read-only: {str(err).splitlines()[0]}")
        return None
