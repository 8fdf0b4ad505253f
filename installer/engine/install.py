"""The one way to start an install: `start_install(config, hardware, sinks, dry_run)`.

Every frontend (`keel-installer run`, `keel-installer auto`, the wizard) calls it and keeps only its argument
parsing and its choice of event sinks. It plans the storage (fresh filesystem UUIDs for a real install), finds
the live medium's payload, reads `keel.fault=`, opens the install log and the event stream, runs every phase
and reports. A dry run is the same install on a recording runner: the storage steps are only recorded, the
target's files are rendered into a scratch directory that is removed afterwards, and every command is listed.
The [first-boot] executable is obtained here too, before the first phase, so that a missing one writes nothing.
"""

from __future__ import annotations

import secrets
import shutil
import signal
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from installer.answer_sources.medium import MEDIUM
from installer.core.cmdline import PROC_CMDLINE, read_kernel_params
from installer.core.config import InstallConfig
from installer.core.events import Event, EventBus, JsonLinesSink, LogSink
from installer.core.files import open_private
from installer.core.hardware import HardwareProfile
from installer.core.live import LIVE_INFO_PATH, LiveInfo, LiveInfoError
from installer.core.reporting import ReportTarget
from installer.engine.engine import InstallFailed, register_secrets, run_install
from installer.engine.first_boot import FirstBootError, check_payload, check_provision_payload, obtain_script
from installer.engine.phases import build_phases, weights
from installer.installed_system import provision_services
from installer.phase import InstallContext
from installer.runner import FakeRunner, Runner
from installer.storage.plan import PlanError, StoragePlan, plan

LOG_PATH = Path("/var/log/keel/install.log")
EVENTS_PATH = Path("/var/log/keel/events.jsonl")
TARGET = Path("/target")
# What a dry run away from the live medium names as the payload (nothing reads it: the runner only records).
DRY_RUN_PAYLOAD = Path("/usr/share/keel/payload.squashfs")
NOTHING_WRITTEN = "Nothing was written to any disk."

Sink = Callable[[Event], None]


@dataclass(frozen=True)
class InstallSettings:
    """Where an install finds and puts things; the defaults are the live environment's."""

    live_path: Path = LIVE_INFO_PATH
    log_path: Path | None = None          # None: LOG_PATH (a dry run: its scratch directory, unless given)
    events_path: Path | None = None       # None: EVENTS_PATH (a dry run: inside its scratch directory)
    target: Path = TARGET
    cmdline: Path = PROC_CMDLINE          # keel.fault= is read from here (never in a dry run)
    runner: Runner | None = None          # tests hand in their own (a FakeRunner with canned output)
    uuids: dict[str, str] | None = None   # filesystem UUIDs; None: fresh ones (a dry run: the plan's stable ones)
    medium: Path = MEDIUM                 # the live medium: [first-boot] source = "from-iso" reads keel/first-boot
    secrets: tuple[str, ...] = ()         # beyond the config's: the answer fetch's and the event report's tokens
    report: ReportTarget | None = None    # the answer server's report target: kept for first boot's reports


@dataclass
class InstallOutcome:
    """What happened: `started` is False when the install stopped before the first phase (nothing written)."""

    ok: bool
    started: bool
    plan: StoragePlan | None = None
    ctx: InstallContext | None = None
    failure: InstallFailed | None = None
    commands: list[list[str]] = field(default_factory=list)   # a dry run's recorded commands (redacted)

    @property
    def report(self) -> dict | None:
        """The webhook payload gathered before the target was unmounted."""
        return self.ctx.report if self.ctx else None


@contextmanager
def interrupt_on_sigterm() -> Iterator[None]:
    """While installing, SIGTERM unwinds like Ctrl-C so the cleanup stack unmounts the target (main thread)."""
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")
    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:        # not the main thread (the wizard installs in a worker): nothing to install
        yield
        return
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


def load_live(path: Path, *, dry_run: bool) -> LiveInfo:
    """live.json of the medium; a dry run away from the live environment gets a stand-in."""
    try:
        return LiveInfo.load(path)
    except LiveInfoError:
        if dry_run:
            return LiveInfo(DRY_RUN_PAYLOAD, None)
        raise


def _refuse(sinks: list[Sink], reason: str, detail: str = "") -> InstallOutcome:
    bus = EventBus(sinks)
    bus.error(reason, detail)
    bus.finished(False, NOTHING_WRITTEN)
    return InstallOutcome(ok=False, started=False)


def start_install(config: InstallConfig, hardware: HardwareProfile, sinks: list[Sink], dry_run: bool = False,
                  settings: InstallSettings = InstallSettings()) -> InstallOutcome:
    """Plan, then run every phase of the install, sending events to `sinks`. Never raises for a failed install:
    the outcome says what happened, and the events have already told the person watching."""
    uuids = settings.uuids if settings.uuids is not None else (None if dry_run else random_uuids(config))
    try:
        storage = plan(config, hardware, uuids=uuids)
    except PlanError as err:
        return _refuse(sinks, "the storage plan is impossible on this hardware",
                       "\n".join(f"  {p}" for p in err.problems))
    try:
        live = load_live(settings.live_path, dry_run=dry_run)
    except LiveInfoError as err:
        return _refuse(sinks, str(err))
    first_boot_script = None
    if config.first_boot is not None:
        try:
            if not dry_run:
                check_payload(config.first_boot, live.payload_files)
            first_boot_script = obtain_script(config.first_boot, settings.medium, dry_run=dry_run,
                                              say=EventBus(sinks).message)
        except FirstBootError as err:
            return _refuse(sinks, str(err))
    if config.provision is not None and not dry_run:
        try:
            check_provision_payload(live.payload_files)
        except FirstBootError as err:
            return _refuse(sinks, str(err))
        packages = config.provision.services.packages if config.provision.services else ()
        if missing := provision_services.packages_missing_from_payload(packages, live.payload_files):
            return _refuse(sinks, provision_services.missing_packages_message(missing))

    scratch = Path(tempfile.mkdtemp(prefix="keel-dry-run-")) if dry_run else None
    try:
        return _run(config, hardware, storage, live, sinks, dry_run, settings, scratch, first_boot_script)
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def _run(config: InstallConfig, hardware: HardwareProfile, storage: StoragePlan, live: LiveInfo,
         sinks: list[Sink], dry_run: bool, settings: InstallSettings, scratch: Path | None,
         first_boot_script: bytes | None = None) -> InstallOutcome:
    if scratch is not None:
        target = scratch / "target"
        log_path, events_path = settings.log_path or scratch / "install.log", scratch / "events.jsonl"
    else:
        target = settings.target
        log_path, events_path = settings.log_path or LOG_PATH, settings.events_path or EVENTS_PATH
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open_private(log_path) as log:
        runner = settings.runner
        if runner is None:
            fault = None if dry_run else read_kernel_params(settings.cmdline).fault
            runner = FakeRunner() if dry_run else Runner(log=log, fault=fault)
        register_secrets(runner, config)
        for secret in settings.secrets:
            runner.add_secret(secret)
        jsonl = JsonLinesSink(events_path)
        try:
            bus = EventBus([*sinks, LogSink(log), jsonl], redact=runner.redact)
            ctx = InstallContext(config=config, plan=storage, hardware=hardware, runner=runner, events=bus,
                                 live=live, target=target, log_path=log_path, events_path=events_path,
                                 dry_run=dry_run, first_boot_script=first_boot_script,
                                 report_target=settings.report)
            phases = build_phases()
            bus.weights.update(weights(phases))
            _announce(bus, config, storage, dry_run)
            outcome = InstallOutcome(ok=True, started=True, plan=storage, ctx=ctx)
            try:
                with interrupt_on_sigterm():
                    run_install(ctx, phases)
            except InstallFailed as failure:
                outcome.ok, outcome.failure = False, failure
        finally:
            jsonl.close()
    if isinstance(runner, FakeRunner):
        outcome.commands = [[runner.redact(word) for word in argv] for argv in runner.commands]
    return outcome


def _announce(bus: EventBus, config: InstallConfig, storage: StoragePlan, dry_run: bool) -> None:
    setup = config.disk_setup
    if dry_run:
        bus.message("dry run: no disk is written; commands are recorded and the target's files rendered "
                    "into a scratch directory")
    bus.message(f"installing {config.network.fqdn}: {setup.label} on {', '.join(setup.disks)}")
    for warning in storage.warnings:
        bus.warning(warning)
    for line in storage.destroy:
        bus.message(f"will destroy: {line}")
