"""Runs the engine for the wizard: the same session and phases as `keel-installer run`, events to the screen."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from installer.config import InstallConfig
from installer.engine.events import Event
from installer.hardware.profile import HardwareProfile

DEFAULT_LOG = Path("/var/log/keel/install.log")
Emit = Callable[[Event], None]


def engine_installer(hardware: HardwareProfile, log_path: Path = DEFAULT_LOG, *,
                     live_path: Path | None = None, cmdline: Path = Path("/proc/cmdline"),
                     dry_run: bool = False, target: Path | None = None) -> Callable[[InstallConfig, Emit], None]:
    """An installer function for WizardApp: plans with fresh filesystem UUIDs, then runs every engine phase.

    `dry_run` runs the engine's own dry run (a recording runner, the target rendered under `target`): the
    wizard's --dry-run does not use it, tests do, to drive the real phases behind the screens.
    """

    def install(config: InstallConfig, emit: Emit) -> None:
        from installer.answer_sources.cmdline import read_kernel_params
        from installer.engine import launch
        from installer.engine.context import LIVE_INFO_PATH, LiveInfo
        from installer.engine.engine import InstallFailed
        from installer.storage.plan import PlanError, plan

        try:
            storage = plan(config, hardware, uuids=None if dry_run else launch.random_uuids(config))
        except PlanError as err:
            emit(Event("error", text="the storage plan is impossible on this hardware", detail=str(err)))
            emit(Event("finished", text="Installation failed: nothing was written", ok=False))
            return
        live = LiveInfo.load(live_path or LIVE_INFO_PATH) if not (dry_run and live_path is None) else \
            LiveInfo(Path("/usr/share/keel/payload.squashfs"), None)
        fault = read_kernel_params(cmdline).fault if cmdline.is_file() and not dry_run else None
        session = launch.open_session(config, hardware, storage, live, sinks=[emit], log_path=log_path,
                                      events_path=None if dry_run else launch.EVENTS_PATH,
                                      target=target or Path("/target"), fault=fault,
                                      dry_run=dry_run)
        try:
            with contextlib.suppress(InstallFailed):   # already reported as events: the finish screen shows it
                launch.install(session)
        finally:
            session.close()

    return install
