"""`keel-installer plan`: show what an installation would do to the disks, without touching anything."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from installer.bootloader.setup import boot_steps
from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile
from installer.core.jsoncodec import FileError
from installer.core.live import LiveInfo
from installer.engine.install import DRY_RUN_PAYLOAD, TARGET
from installer.installed_system.configure import target_files
from installer.installed_system.initramfs import HOST_FILES
from installer.installed_system.render.fstab import fstab_line
from installer.installed_system.render.pve import render_storage_cfg
from installer.storage.apply.guard import ApplyError
from installer.storage.apply.steps import storage_steps
from installer.storage.plan import PlanError, StoragePlan, plan
from installer.storage.plan.table import format_plan

PROG = "keel-installer plan"

EPILOG = """\
examples:
  keel-installer plan --hardware server.json --answer answer.toml
  keel-installer plan --hardware server.json --config config.json --json
  keel-installer plan --hardware server.json --answer answer.toml --steps

The hardware profile is what `keel-installer probe` records (or a recording
converted from a Proxmox run-env). Nothing is written to any disk: the plan
lists the partitions (logical sectors, inclusive), LVM volumes, ZFS pool or
Btrfs profile, mounts, and what would be destroyed or renamed. --steps lists
every storage command the install runs, in order, with the device it writes
and why, then the boot loader's commands.

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
    parser.add_argument("--steps", action="store_true",
                        help="print every storage and boot loader step of the install, in order")
    parser.set_defaults(func=run)
    return parser


def _load_hardware(path: str) -> HardwareProfile:
    try:
        return HardwareProfile.read(path)
    except FileError as err:
        raise InputError(str(err)) from err


def _load_config(args: argparse.Namespace, hardware: HardwareProfile) -> InstallConfig:
    if args.config:
        try:
            return InstallConfig.read(args.config)
        except FileError as err:
            raise InputError(str(err)) from err
    if not Path(args.answer).is_file():
        raise InputError(f"{args.answer}: no such answer file")
    try:
        from answerfile import AnswerError, parse_install_config, read_answer_file
    except ImportError as err:
        raise InputError("answer files cannot be read: the answerfile package is not available") from err
    try:
        text = read_answer_file(args.answer)       # too large or not UTF-8: it cannot be read
    except AnswerError as err:
        raise InputError(str(err)) from err
    try:
        return parse_install_config(text, hardware)
    except AnswerError as err:
        # a problem of the file as a whole (nested too deeply, TOML syntax) names the file
        problems = [str(p) if p.key else f"{args.answer}: {p}" for p in err.problems]
        raise PlanError(problems or [f"{args.answer}: not accepted"]) from err


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
    if args.steps:
        try:
            print(format_steps(result, config, hardware), end="")
        except ApplyError as err:
            print(f"{PROG}: {err}", file=sys.stderr)
            return 1
    elif args.json:
        print(json.dumps(plan_json(result), indent=2))
    else:
        print(format_plan(result), end="")
    return 0


def plan_json(result: StoragePlan) -> dict:
    """The plan's data plus the two files rendered from it, by the renderers the install uses."""
    data = result.to_data()
    data["fstab"] = [fstab_line(m) for m in result.mounts if m.in_fstab]
    data["storage_cfg"] = render_storage_cfg(result.storage)
    return data


def format_steps(result: StoragePlan, config: InstallConfig, hardware: HardwareProfile) -> str:
    """Every step of the install in order: the storage steps (command, or action and why, with the devices each
    writes), the payload, the files written into the target, the initramfs, the boot loader, then the hand-over."""
    lines: list[str] = []
    phase = ""
    number = 0

    def storage(phases: tuple[str, ...]) -> None:
        nonlocal phase, number
        for step in storage_steps(result):
            if step.phase not in phases:
                continue
            number += 1
            if step.phase != phase:
                phase = step.phase
                lines.append(f"# storage: {phase}")
            writes = f"  [writes {', '.join(step.devices)}]" if step.devices else ""
            lines.append(f"{number:3}. {step.describe()}{writes}")
            if step.argv:
                lines.append(f"     why: {step.why}")

    storage(("teardown", "partition", "volumes", "filesystems", "mount"))
    lines.append("# extract the base system")
    lines.append(f"     {shlex.join(['unsquashfs', '-f', '-i', '-d', str(TARGET), str(DRY_RUN_PAYLOAD)])}")
    storage(("written",))       # beside the configuration and the boot loader
    files = target_files(config, result, hardware, LiveInfo(DRY_RUN_PAYLOAD, None))
    lines.append(f"# configure the installed system: {len(files)} files")
    lines += [f"     write {f.path} (mode {f.mode:o})" for f in files]
    lines.append("     chroot /target chpasswd  (the root password on stdin, never shown)")
    lines.append("# initramfs: the payload's, built with the ISO; this host's files appended as a cpio archive")
    lines += [f"     append {inside} to /boot/initrd.img-<version>" for inside, _ in HOST_FILES]
    lines.append("# boot loader (inside the target)")
    for step in boot_steps(result, hardware):
        esp = f"  [ESP {step.esp} on /boot/efi]" if step.esp else ""
        lines.append(f"     {step.describe()}{esp}")
    storage(("finalize",))
    return "\n".join(lines) + "\n"
