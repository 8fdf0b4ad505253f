"""`keel-installer run`: install from a saved InstallConfig (JSON), or show what would happen with --dry-run."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from installer.config import InstallConfig
from installer.engine.context import LIVE_INFO_PATH, LiveInfo, LiveInfoError
from installer.engine.engine import InstallFailed
from installer.engine.events import ConsoleSink
from installer.engine.launch import EVENTS_PATH, LOG_PATH, install, interrupt_on_sigterm, open_session, random_uuids
from installer.hardware.profile import HardwareProfile
from installer.runner import FakeRunner

EXAMPLE = """\
examples:
  keel-installer run --config /tmp/config.json
  keel-installer run --config config.json --hardware server.json --dry-run
"""


class SetupError(Exception):
    """A one-line reason the install cannot start (bad file, no hardware profile)."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="install from a saved configuration",
        description="Install this machine from an InstallConfig JSON file (as `keel-answer resolve` or the "
                    "wizard saves it). With --dry-run nothing is written to any disk: the storage steps are only "
                    "named, commands are recorded, and the target's files are rendered into a temporary directory.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, type=Path, help="InstallConfig JSON file")
    p.add_argument("--hardware", type=Path, help="HardwareProfile JSON (default: probe this machine)")
    p.add_argument("--dry-run", action="store_true", help="write nothing to disks; show the commands instead")
    p.add_argument("--live", type=Path, default=LIVE_INFO_PATH, help=f"live-medium info (default {LIVE_INFO_PATH})")
    p.add_argument("--log", type=Path, help=f"install log (default {LOG_PATH}; dry run: in the temp dir)")
    p.add_argument("--target", type=Path, default=Path("/target"), help="where the target is mounted")
    p.set_defaults(func=run)


def load_config(path: Path) -> InstallConfig:
    try:
        return InstallConfig.load(path)
    except OSError as err:
        raise SetupError(f"{path}: cannot read the configuration ({err.strerror})") from err
    except (ValueError, TypeError, KeyError) as err:
        raise SetupError(f"{path}: not a valid InstallConfig: {str(err).splitlines()[0]}") from err


def load_hardware(path: Path | None) -> HardwareProfile:
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
        from installer.hardware import probe
    except ImportError as err:
        raise SetupError("this build cannot probe hardware; pass --hardware PROFILE.json") from err
    for name in ("probe", "probe_hardware", "probe_system"):
        func = getattr(probe, name, None)
        if callable(func):
            return func()
    raise SetupError("installer.hardware.probe has no probe function; pass --hardware PROFILE.json")


def make_plan(config: InstallConfig, hardware: HardwareProfile, *, fresh_uuids: bool):
    from installer.storage.plan import PlanError, plan

    try:
        return plan(config, hardware, uuids=random_uuids(config) if fresh_uuids else None)
    except PlanError as err:
        raise SetupError("the storage plan is impossible on this hardware:\n" +
                         "\n".join(f"  {p}" for p in err.problems)) from err


def load_live(path: Path, *, dry_run: bool) -> LiveInfo:
    try:
        return LiveInfo.load(path)
    except LiveInfoError as err:
        if dry_run:
            return LiveInfo(Path("/usr/share/keel/payload.squashfs"), None)
        raise SetupError(str(err)) from err


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        hardware = load_hardware(args.hardware)
        plan = make_plan(config, hardware, fresh_uuids=not args.dry_run)
        live = load_live(args.live, dry_run=args.dry_run)
    except SetupError as err:
        print(f"keel-installer run: {err}", file=sys.stderr)
        return 2
    console = ConsoleSink(sys.stdout)
    if args.dry_run:
        work = Path(tempfile.mkdtemp(prefix="keel-dry-run-"))
        target, log_path, events = work / "target", args.log or work / "install.log", work / "events.jsonl"
    else:
        target, log_path, events = args.target, args.log or LOG_PATH, EVENTS_PATH
    session = open_session(config, hardware, plan, live, sinks=[console], log_path=log_path, events_path=events,
                           target=target, dry_run=args.dry_run)
    try:
        with interrupt_on_sigterm():
            install(session)
        status = 0
    except InstallFailed:
        status = 1
    finally:
        session.close()
    if args.dry_run:
        runner = session.ctx.runner
        assert isinstance(runner, FakeRunner)
        print(f"\nDry run: {len(runner.commands)} commands would run (stdin never shown):")
        for argv in runner.commands:
            print("  " + runner.redact(" ".join(argv)))
        print(f"The target's files were rendered under {target}; events in {events}.")
    return status
