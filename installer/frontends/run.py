"""`keel-installer run`: install from a saved InstallConfig (JSON), or show what would happen with --dry-run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installer.core.events import ConsoleSink
from installer.core.live import LIVE_INFO_PATH
from installer.engine.install import LOG_PATH, InstallSettings, start_install
from installer.frontends.setup import SetupError, load_config, load_hardware

EXAMPLE = """\
examples:
  keel-installer run --config /tmp/config.json
  keel-installer run --config config.json --hardware server.json --dry-run

exit status: 0 installed (or the dry run went through), 1 the install failed, 2 it could not start (nothing
was written)."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "run", help="install from a saved configuration",
        description="Install this machine from an InstallConfig JSON file (as `keel-answer resolve` or the "
                    "wizard saves it). With --dry-run nothing is written to any disk: every command is recorded "
                    "and listed, and the target's files are rendered into a scratch directory that is removed.",
        epilog=EXAMPLE, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", required=True, type=Path, help="InstallConfig JSON file")
    p.add_argument("--hardware", type=Path, help="HardwareProfile JSON (default: probe this machine)")
    p.add_argument("--dry-run", action="store_true", help="write nothing to disks; show the commands instead")
    p.add_argument("--live", type=Path, default=LIVE_INFO_PATH, help=f"live-medium info (default {LIVE_INFO_PATH})")
    p.add_argument("--log", type=Path, help=f"install log (default {LOG_PATH}; a dry run keeps none)")
    p.add_argument("--target", type=Path, default=Path("/target"), help="where the target is mounted")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
        hardware = load_hardware(args.hardware)
    except SetupError as err:
        print(f"keel-installer run: {err}", file=sys.stderr)
        return 2
    settings = InstallSettings(live_path=args.live, log_path=args.log, target=args.target)
    outcome = start_install(config, hardware, [ConsoleSink(sys.stdout)], dry_run=args.dry_run, settings=settings)
    if args.dry_run and outcome.started:
        print(f"\nDry run: {len(outcome.commands)} commands would run (stdin never shown):")
        for argv in outcome.commands:
            print("  " + " ".join(argv))
    if not outcome.started:
        return 2
    return 0 if outcome.ok else 1
