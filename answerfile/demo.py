"""`make demo`: validate every example answer and show what each would install on the recorded example server.

    python -m answerfile.demo [--hardware PROFILE.json] [ANSWER.toml ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from answerfile import api as answerfile
from installer.core.config import InstallConfig
from installer.core.hardware import GiB, HardwareProfile
from installer.core.rules import format_gib

EXAMPLES = Path(__file__).resolve().parent / "examples"
EXAMPLE_HARDWARE = EXAMPLES / "hardware" / "example-server.json"


def _first_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# ").strip())
    return " ".join(lines)


def _disks(config: InstallConfig, hardware: HardwareProfile) -> str:
    ds = config.disk_setup
    names = []
    for path in ds.disks:
        disk = hardware.disk(path)
        names.append(f"{path} ({format_gib(disk.size_bytes / GiB)} GiB)" if disk else path)
    return f"{ds.label} on {', '.join(names)}"


def _sizes(config: InstallConfig) -> str:
    ds = config.disk_setup
    parts = [f"hdsize {format_gib(ds.hdsize)} GiB" if ds.hdsize is not None else "whole disks"]
    if ds.lvm:
        for name in ("swapsize", "maxroot", "minfree", "maxvz"):
            value = getattr(ds.lvm, name)
            parts.append(f"{name} {format_gib(value)} GiB" if value is not None else f"{name} auto")
    if ds.zfs:
        z = ds.zfs
        parts += [f"ashift {z.ashift}", f"compress {z.compress}", f"checksum {z.checksum}", f"copies {z.copies}",
                  f"ARC max {z.arc_max_mib} MiB"]
    if ds.btrfs:
        parts.append(f"compress {ds.btrfs.compress}")
    return ", ".join(parts)


KIND_NAMES = {"partition-table": "partition table", "lvm-pv": "LVM VG", "zfs-member": "ZFS pool",
              "md-member": "md array", "btrfs-member": "btrfs", "luks": "LUKS volume", "filesystem": "filesystem"}


def _existing(config: InstallConfig, hardware: HardwareProfile) -> str:
    """What is on the selected disks now (and will be wiped), one entry per structure."""
    found: dict[tuple[str, str], list[str]] = {}
    for path in config.disk_setup.disks:
        disk = hardware.disk(path)
        for item in disk.existing if disk else ():
            if item.kind == "partition":
                continue
            label = KIND_NAMES.get(item.kind, item.kind)
            name = item.group or item.detail
            key = (label, f"'{name}'" if name and item.kind != "partition-table" else item.detail)
            if disk.name not in found.setdefault(key, []):
                found[key].append(disk.name)
    if not found:
        return "nothing found on the selected disks"
    return "; ".join(f"{label} {name} on {', '.join(disks)}" for (label, name), disks in found.items())


def summary(config: InstallConfig, hardware: HardwareProfile) -> list[str]:
    """A compact, readable account of a resolved configuration (secrets never shown)."""
    net = config.network
    pins = ""
    if net.pin_names:
        mac = hardware.nic(net.interface).mac if hardware.nic(net.interface) else ""
        pins = f"; pinned names: {len(net.pin_names)} NICs, {net.interface} -> {net.pin_names.get(mac, '?')}"
    root = "password" if config.root.password else "hashed password"
    keys = f", {len(config.root.ssh_keys)} SSH key(s)" if config.root.ssh_keys else ""
    first_boot = (f"{config.first_boot.source} at {config.first_boot.ordering}" if config.first_boot else "none")
    webhook = config.webhook.url if config.webhook else "none"
    return [
        f"disks      {_disks(config, hardware)}",
        f"sizes      {_sizes(config)}",
        f"wipes      {_existing(config, hardware)}",
        f"network    {net.interface} {net.cidr} gateway {net.gateway} dns {net.dns} (bridge {net.bridge}){pins}",
        f"host       {net.fqdn}",
        f"locale     country {config.country}, timezone {config.timezone}, keyboard {config.keyboard}",
        f"root       {root}{keys}; mail to {config.mailto}",
        f"afterwards {config.reboot_mode}; first boot: {first_boot}; webhook: {webhook}",
        f"kernel     {config.target_cmdline or '(no extra parameters)'}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m answerfile.demo",
        description="Validate example answer files and print what each would install on a recorded machine.",
        epilog="Example: python -m answerfile.demo --hardware server.json my-answer.toml",
    )
    parser.add_argument("answers", nargs="*", type=Path, help="answer files (default: answerfile/examples/*.toml)")
    parser.add_argument("--hardware", type=Path, default=EXAMPLE_HARDWARE,
                        help="HardwareProfile JSON (default: the recorded example server)")
    args = parser.parse_args(argv)
    try:
        hardware = HardwareProfile.load(args.hardware)
    except (OSError, ValueError) as err:
        print(f"demo: cannot load hardware profile {args.hardware}: {err}", file=sys.stderr)
        return 2
    answers = args.answers or sorted(EXAMPLES.glob("*.toml"))
    disks = ", ".join(f"{d.name} {format_gib(d.size_gib)} GiB" + (" (install medium)" if d.install_medium else "")
                      for d in hardware.disks)
    print(f"Hardware: {args.hardware.name}: {hardware.boot_mode.upper()}, {hardware.memory_mib} MiB RAM; "
          f"disks {disks}; NICs {', '.join(n.name for n in hardware.nics)}\n")
    failed = 0
    for path in answers:
        try:
            text = answerfile.read_answer_file(path)
            result = answerfile.resolve_text(text, hardware)
        except answerfile.AnswerError as err:
            failed += 1
            print(f"== {path.name}: INVALID")
            for problem in err.problems:
                print(f"   {problem}")
            print()
            continue
        note = _first_comment(text)
        print(f"== {path.name}: valid" + (f" - {note}" if note else ""))
        for line in summary(result.config, hardware):
            print(f"   {line}")
        for warning in result.warnings:
            print(f"   warning: {warning}")
        print()
    print(f"{len(answers) - failed} of {len(answers)} answers valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
