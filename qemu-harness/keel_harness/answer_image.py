"""The answer-source disk image: a FAT filesystem labelled PROXMOX-AIS with /answer.toml, built with mtools.

This is the "partition" fetch mode of the Proxmox auto-installer: the installer looks for a filesystem with
that label and reads answer.toml from its root. No mount is needed (the build host cannot mount vfat).
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

from installer.runner import CommandError, Runner

from .spec import HarnessError, MiB

ANSWER_LABEL = "PROXMOX-AIS"
_LABEL_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_ ")
_MTOOLS_ENV = {"MTOOLS_SKIP_CHECK": "1"}


def check_label(label: str) -> None:
    if not 1 <= len(label) <= 11 or not set(label) <= _LABEL_CHARS:
        raise HarnessError(f"FAT label {label!r}: 1-11 characters from A-Z, 0-9, '-', '_' and space")


def answer_image_commands(image: Path, files: Mapping[str, Path], label: str = ANSWER_LABEL) -> list[list[str]]:
    """The commands that turn an empty file `image` into the FAT image holding `files` (name in image -> source)."""
    check_label(label)
    commands = [["mkfs.vfat", "-n", label, str(image)]]
    for name, source in files.items():
        if not name or "/" in name.strip("/") or name.startswith("."):
            raise HarnessError(f"answer image: file name {name!r} must be a plain name in the image's root")
        commands.append(["mcopy", "-o", "-i", str(image), str(source), f"::/{name.strip('/')}"])
    return commands


def build_answer_image(
    dest: Path,
    answer: str | bytes | Path,
    label: str = ANSWER_LABEL,
    size: int = 8 * MiB,
    extra_files: Mapping[str, str | bytes | Path] | None = None,
    runner: Runner | None = None,
) -> Path:
    """Write a FAT image to `dest` with `answer` as /answer.toml (plus `extra_files`) and return `dest`."""
    runner = runner or Runner(default_timeout=60)
    contents: dict[str, str | bytes | Path] = {"answer.toml": answer, **(extra_files or {})}
    dest = Path(dest)
    with tempfile.TemporaryDirectory(prefix="keel-answer-") as tmp:
        sources: dict[str, Path] = {}
        for name, content in contents.items():
            if isinstance(content, Path):
                if not content.is_file():
                    raise HarnessError(f"answer image: {name}: source file {content} does not exist")
                sources[name] = content
            else:
                path = Path(tmp) / name.strip("/")
                path.write_bytes(content.encode() if isinstance(content, str) else content)
                sources[name] = path
        commands = answer_image_commands(dest, sources, label)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "wb") as f:
            f.truncate(size)
        for argv in commands:
            try:
                runner.run(argv, env=_MTOOLS_ENV)
            except CommandError as err:
                raise HarnessError(f"answer image {dest}: {err}") from err
    return dest
