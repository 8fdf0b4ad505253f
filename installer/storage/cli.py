"""`keel-installer plan`: show what an installation would do to the disks, without touching anything."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installer.config import InstallConfig
from installer.hardware.profile import HardwareProfile
from installer.jsoncodec import DecodeError
from installer.storage.plan import PlanError, plan
from installer.storage.render import render_plan

PROG = "keel-installer plan"

EPILOG = """\
examples:
  keel-installer plan --hardware server.json --answer answer.toml
  keel-installer plan --hardware server.json --config config.json --json

The hardware profile is what `keel-installer probe` records (or a recording
converted from a Proxmox run-env). Nothing is written to any disk: the plan
lists the partitions (logical sectors, inclusive), LVM volumes, ZFS pool or
Btrfs profile, mounts, and what would be destroyed or renamed.

exit status: 0 the plan is possible, 1 the configuration is refused (one
reason per line), 2 an input file cannot be read."""


class InputError(Exception):
    """A file given on the command line cannot be read or decoded; the message names the file."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "plan",
        help="show the storage plan (partitions, volumes, pool, mounts) without touching any disk",
        description="Show exactly what Keel would do to which disk, before anything is written.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--hardware", required=True, metavar="PROFILE.json",
                        help="hardware profile of the machine (JSON)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--answer", metavar="ANSWER.toml", help="a Proxmox-compatible answer file")
    source.add_argument("--config", metavar="CONFIG.json", help="a saved InstallConfig (JSON)")
    parser.add_argument("--json", action="store_true", help="print the plan as JSON (sizes in bytes)")
    parser.set_defaults(func=run)
    return parser


def _load_hardware(path: str) -> HardwareProfile:
    try:
        return HardwareProfile.load(path)
    except OSError as err:
        raise InputError(f"{path}: cannot read hardware profile: {err.strerror}") from err
    except DecodeError as err:
        raise InputError(f"{path}: not a hardware profile: {err}") from err


def _load_config(args: argparse.Namespace, hardware: HardwareProfile) -> InstallConfig:
    if args.config:
        try:
            return InstallConfig.load(args.config)
        except OSError as err:
            raise InputError(f"{args.config}: cannot read config: {err.strerror}") from err
        except DecodeError as err:
            raise InputError(f"{args.config}: not an InstallConfig: {err}") from err
    if not Path(args.answer).is_file():
        raise InputError(f"{args.answer}: no such answer file")
    try:
        from answerfile import AnswerError, load_install_config
    except ImportError as err:
        raise InputError("answer files cannot be read: the answerfile package is not available") from err
    try:
        return load_install_config(args.answer, hardware)
    except AnswerError as err:
        raise PlanError(str(err).splitlines() or [f"{args.answer}: not accepted"]) from err


def run(args: argparse.Namespace) -> int:
    try:
        hardware = _load_hardware(args.hardware)
        config = _load_config(args, hardware)
        result = plan(config, hardware)
    except InputError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    except PlanError as err:
        for problem in err.problems:
            print(f"{PROG}: {problem}", file=sys.stderr)
        return 1
    print(result.to_json() if args.json else render_plan(result), end="\n" if args.json else "")
    return 0
