"""`keel-installer probe`: record this machine's HardwareProfile as JSON (for dry runs, tests and answer checks)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from installer.hardware.probe import probe


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="probe this machine and print (or save) its hardware profile as JSON",
        description="Probe this machine's disks, NICs, network, memory, firmware and DMI data and write the "
                    "HardwareProfile JSON that `keel-answer validate --hardware` and `keel-installer plan` read.",
        epilog="Example: keel-installer probe -o server.json",
    )
    parser.add_argument("-o", "--output", type=Path, help="write the profile to this file (default: stdout)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    profile = probe()
    if args.output:
        try:
            profile.save(args.output)
        except OSError as err:
            print(f"keel-installer probe: cannot write {args.output}: {err.strerror}", file=sys.stderr)
            return 1
        print(f"wrote {args.output}: {len(profile.disks)} disks, {len(profile.nics)} NICs", file=sys.stderr)
    else:
        print(profile.to_json())
    return 0
