"""Starting an install from a config: fresh filesystem UUIDs, the runner, the event sinks and the context."""

from __future__ import annotations

import secrets
import signal
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import TextIO

from installer.config import InstallConfig
from installer.engine.context import InstallContext, LiveInfo
from installer.engine.engine import register_secrets, run_install
from installer.engine.events import Event, EventBus, JsonLinesSink, LogSink
from installer.engine.phases import build_phases, weights
from installer.hardware.profile import HardwareProfile
from installer.runner import FakeRunner, Runner
from installer.storage.plan import StoragePlan

LOG_PATH = Path("/var/log/keel/install.log")
EVENTS_PATH = Path("/var/log/keel/events.jsonl")
STORAGE_STEPS = ("teardown_existing", "partition_disks", "create_volumes", "make_filesystems", "mount_target",
                 "unmount_target", "finalize_storage")


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """While installing, SIGTERM unwinds like Ctrl-C so the cleanup stack unmounts the target (main thread)."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def random_uuids(config: InstallConfig) -> dict[str, str]:
    """New filesystem UUIDs for a real install, so two machines installed from one answer never share them."""
    out = {"root": str(uuid.uuid4())}
    for disk in config.disk_setup.disks:
        raw = secrets.token_hex(4).upper()
        out[f"esp:{disk}"] = f"{raw[:4]}-{raw[4:]}"
    return out


def dry_run_storage() -> ModuleType:
    """Stand-ins for the storage phases that only say what they would do (blivet and pyparted bypass the runner)."""
    def step(name: str) -> Callable[[InstallContext], None]:
        return lambda ctx: ctx.events.message(f"dry run: would {name.replace('_', ' ')}")
    return SimpleNamespace(**{name: step(name) for name in STORAGE_STEPS})  # type: ignore[return-value]


@dataclass
class Session:
    """One install's context plus the files it keeps open."""

    ctx: InstallContext
    log: TextIO
    jsonl: JsonLinesSink | None

    def close(self) -> None:
        if self.jsonl:
            self.jsonl.close()
        self.log.close()


def open_session(config: InstallConfig, hardware: HardwareProfile, plan: StoragePlan, live: LiveInfo, *,
                 sinks: list[Callable[[Event], None]], log_path: Path = LOG_PATH,
                 events_path: Path | None = EVENTS_PATH, target: Path = Path("/target"),
                 fault: str | None = None, dry_run: bool = False) -> Session:
    """The runner (a recording one for a dry run, which must then get a scratch `target`), sinks and context."""
    if dry_run and target == Path("/target"):
        raise ValueError("a dry run renders the target into a scratch directory, never /target")
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("a", encoding="utf-8")
    runner: Runner = FakeRunner() if dry_run else Runner(log=log, fault=fault)
    register_secrets(runner, config)
    jsonl = JsonLinesSink(events_path) if events_path else None
    all_sinks = [*sinks, LogSink(log), *([jsonl] if jsonl else [])]
    bus = EventBus(all_sinks, redact=runner.redact)
    ctx = InstallContext(config=config, plan=plan, hardware=hardware, runner=runner, events=bus, live=live,
                         target=target, log_path=log_path, dry_run=dry_run)
    return Session(ctx, log, jsonl)


def install(session: Session, storage: ModuleType | None = None) -> None:
    """Run every phase; raises InstallFailed (already reported as events) when the install fails."""
    ctx = session.ctx
    if ctx.dry_run and storage is None:
        storage = dry_run_storage()
    phases = build_phases(storage)
    ctx.events.weights.update(weights(phases))
    setup = ctx.config.disk_setup
    ctx.events.message(f"installing {ctx.config.network.fqdn}: {setup.label} on {', '.join(setup.disks)}")
    run_install(ctx, phases)
