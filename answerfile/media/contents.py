"""What a Keel ISO holds that prepare-iso and inspect-iso care about, read with xorriso without unpacking it."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from answerfile.media.image import IsoError, read_files
from installer.core import limits
from installer.core.fetch_mode import (
    ANSWER_FILE,
    BUILD_INFO_FILE,
    FIRST_BOOT_FILE,
    FIRST_BOOT_MAX_BYTES,
    MODE_FILES,
    FetchMode,
    FetchModeError,
)
from installer.runner import Runner

GRUB_CFG = "boot/grub/grub.cfg"
DISK_INFO = ".disk/info"
KERNEL = "live/vmlinuz"
INITRD = "live/initrd.img"
PREPARED_FILES = (*MODE_FILES, ANSWER_FILE, FIRST_BOOT_FILE)


@dataclass(frozen=True)
class KeelIso:
    path: Path
    version: str
    profile: str
    boot_menu: str                      # /boot/grub/grub.cfg
    mode_file: str | None = None        # which of MODE_FILES counts (the installer's order)
    fetch_mode: FetchMode | None = None
    answer: str | None = None           # /keel/answer.toml
    first_boot: bytes | None = None     # /keel/first-boot
    present: tuple[str, ...] = ()       # which of PREPARED_FILES the image holds

    @property
    def boots_automated(self) -> bool:
        return automated_by_default(self.boot_menu, self.present)


def automated_by_default(boot_menu: str, present: tuple[str, ...]) -> bool:
    """Whether a GRUB menu (iso-build's grub.cfg) makes the automated entry the default with these files on
    the medium: it tests for the files it knows, and menus built before prepare-iso existed do not know the
    mode file at the root."""
    return any(f"-f /{name}" in boot_menu for name in present if name != FIRST_BOOT_FILE)


def read_keel_iso(runner: Runner, iso: Path) -> KeelIso:
    """The Keel ISO at `iso`; IsoError when it is not one (no /keel/build.json, which iso-build writes)."""
    wanted = (BUILD_INFO_FILE, GRUB_CFG, *PREPARED_FILES)
    with tempfile.TemporaryDirectory(prefix="keel-iso-") as workdir:
        found = read_files(runner, iso, wanted, Path(workdir), max(limits.MAX_INPUT_BYTES, FIRST_BOOT_MAX_BYTES))
    if BUILD_INFO_FILE not in found:
        raise IsoError(f"{iso} is not a Keel ISO (it has no /{BUILD_INFO_FILE}); build one with `make iso`")
    try:
        build = json.loads(_text(found, BUILD_INFO_FILE, iso))
    except json.JSONDecodeError as err:
        raise IsoError(f"{iso}: /{BUILD_INFO_FILE} is not JSON ({err.msg})") from err
    if not isinstance(build, dict):
        raise IsoError(f"{iso}: /{BUILD_INFO_FILE} is not a JSON object")
    mode_file = next((name for name in MODE_FILES if name in found), None)
    fetch_mode = None
    if mode_file is not None:
        try:
            fetch_mode = FetchMode.parse(_text(found, mode_file, iso), f"{iso}:/{mode_file}")
        except FetchModeError as err:
            raise IsoError(str(err)) from err
    return KeelIso(
        path=iso,
        version=str(build.get("version", "unknown")),
        profile=str(build.get("profile", "unknown")),
        boot_menu=_text(found, GRUB_CFG, iso) if GRUB_CFG in found else "",
        mode_file=mode_file,
        fetch_mode=fetch_mode,
        answer=_text(found, ANSWER_FILE, iso) if ANSWER_FILE in found else None,
        first_boot=found.get(FIRST_BOOT_FILE),
        present=tuple(name for name in PREPARED_FILES if name in found),
    )


def _text(found: dict[str, bytes], name: str, iso: Path) -> str:
    data = found[name]
    if len(data) > limits.MAX_INPUT_BYTES:
        raise IsoError(f"{iso}: /{name} is {limits.TOO_LARGE}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise IsoError(f"{iso}: /{name} is not UTF-8 text") from err
