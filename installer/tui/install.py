"""The wizard's installer: the engine's one entry, with the wizard's event sink (for a dry run too)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from installer.core.config import InstallConfig
from installer.core.events import Event
from installer.core.hardware import HardwareProfile
from installer.engine.install import LOG_PATH, InstallSettings, start_install

Emit = Callable[[Event], None]


def engine_installer(hardware: HardwareProfile, log_path: Path = LOG_PATH, *, dry_run: bool = False,
                     settings: InstallSettings | None = None) -> Callable[[InstallConfig, Emit], None]:
    """An installer function for WizardApp: `start_install` with the wizard's events as the only extra sink.

    A dry run is the engine's own: a recording runner, the target rendered into a scratch directory, the real
    phase names on the progress screen.
    """
    def install(config: InstallConfig, emit: Emit) -> None:
        start_install(config, hardware, [emit], dry_run=dry_run,
                      settings=settings or InstallSettings(log_path=log_path))

    return install
