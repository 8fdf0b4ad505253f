"""Runs the real engine for the wizard: builds the install context and streams its events back to the screen."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from installer.config import InstallConfig
from installer.engine.events import Event
from installer.hardware.profile import HardwareProfile

DEFAULT_LOG = Path("/var/log/keel/install.log")


def engine_installer(hardware: HardwareProfile, log_path: Path = DEFAULT_LOG
                     ) -> Callable[[InstallConfig, Callable[[Event], None]], None]:
    """An installer function for WizardApp: plans, then runs every engine phase, emitting events."""

    def install(config: InstallConfig, emit: Callable[[Event], None]) -> None:
        from installer.engine.context import InstallContext, LiveInfo
        from installer.engine.engine import InstallFailed, register_secrets, run_install
        from installer.engine.events import EventBus, LogSink
        from installer.engine.phases import build_phases, weights
        from installer.runner import Runner
        from installer.storage.plan import plan

        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("a", encoding="utf-8") as log:
            runner = Runner(log=log)
            register_secrets(runner, config)
            phases = build_phases()
            bus = EventBus([emit, LogSink(log)], weights=weights(phases), redact=runner.redact)
            ctx = InstallContext(config=config, plan=plan(config, hardware), hardware=hardware, runner=runner,
                                 events=bus, live=LiveInfo.load(), log_path=log_path)
            with contextlib.suppress(InstallFailed):   # already reported as events: the finish screen shows it
                run_install(ctx, phases)

    return install
