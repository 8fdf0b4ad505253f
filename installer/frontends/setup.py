"""What the frontends share before an install starts: loading a config or hardware profile, probing this machine."""

from __future__ import annotations

from pathlib import Path

from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile
from installer.core.jsoncodec import FileError


class SetupError(Exception):
    """A one-line reason the install cannot start (bad file, no hardware profile); nothing was written."""


def load_config(path: Path) -> InstallConfig:
    try:
        return InstallConfig.read(path)
    except FileError as err:
        raise SetupError(str(err)) from err


def load_hardware(path: Path | None) -> HardwareProfile:
    """The profile in `path`, or this machine's when no path is given."""
    if path is None:
        return probe_hardware()
    try:
        return HardwareProfile.read(path)
    except FileError as err:
        raise SetupError(str(err)) from err


def probe_hardware() -> HardwareProfile:
    """This machine's HardwareProfile, from the hardware probe."""
    try:
        from installer.hardware.probe import probe
    except ImportError as err:
        raise SetupError(f"this build cannot probe hardware ({err}); pass --hardware PROFILE.json") from err
    return probe()
