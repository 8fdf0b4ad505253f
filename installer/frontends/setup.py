"""What the frontends share before an install starts: loading a config or hardware profile, probing this machine."""

from __future__ import annotations

from pathlib import Path

from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile


class SetupError(Exception):
    """A one-line reason the install cannot start (bad file, no hardware profile); nothing was written."""


def load_config(path: Path) -> InstallConfig:
    try:
        return InstallConfig.load(path)
    except OSError as err:
        raise SetupError(f"{path}: cannot read the configuration ({err.strerror})") from err
    except (ValueError, TypeError, KeyError) as err:
        raise SetupError(f"{path}: not a valid InstallConfig: {str(err).splitlines()[0]}") from err


def load_hardware(path: Path | None) -> HardwareProfile:
    """The profile in `path`, or this machine's when no path is given."""
    if path is None:
        return probe_hardware()
    try:
        return HardwareProfile.load(path)
    except OSError as err:
        raise SetupError(f"{path}: cannot read the hardware profile ({err.strerror})") from err
    except (ValueError, TypeError, KeyError) as err:
        raise SetupError(f"{path}: not a valid HardwareProfile: {str(err).splitlines()[0]}") from err


def probe_hardware() -> HardwareProfile:
    """This machine's HardwareProfile, from the hardware probe."""
    try:
        from installer.hardware.probe import probe
    except ImportError as err:
        raise SetupError(f"this build cannot probe hardware ({err}); pass --hardware PROFILE.json") from err
    return probe()
