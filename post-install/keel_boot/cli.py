"""Command line of keel-boot-tool: argument parsing, one-line errors and exit codes."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .command import Runner
from .commands import (
    EXIT_BAD_STATE,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_NO_ESP,
    EXIT_NO_ESP_LIST,
    USER_ERRORS,
    BootTool,
    ToolError,
    exit_code,
)
from .state import SystemPaths
from .system import System

PROG = "keel-boot-tool"

DESCRIPTION = """\
Keeps the kernels on the EFI system partitions (ESPs) of every boot disk in sync, so that a ZFS or Btrfs
system boots from any one of its disks. The synced ESPs are listed in /etc/kernel/proxmox-boot-uuids; the
kernel command line comes from /etc/kernel/cmdline. Files and paths are those of proxmox-boot-tool."""

EXAMPLES = {
    "format": "keel-boot-tool format /dev/sdb2\n  keel-boot-tool format /dev/nvme1n1p2 --force",
    "init": "keel-boot-tool init /dev/sdb2\n  keel-boot-tool init /dev/sdb2 grub    # GRUB with shim (Secure Boot)\n"
            "  keel-boot-tool init /dev/sda2 /dev/sdb2    # several ESPs, one refresh",
    "reinit": "keel-boot-tool reinit",
    "clean": "keel-boot-tool clean --dry-run\n  keel-boot-tool clean",
    "refresh": "keel-boot-tool refresh",
    "kernel": "keel-boot-tool kernel list\n  keel-boot-tool kernel pin 6.12.43+deb13-amd64 --next-boot",
    "kernel add": "keel-boot-tool kernel add 6.12.43+deb13-amd64",
    "kernel remove": "keel-boot-tool kernel remove 6.12.43+deb13-amd64",
    "kernel list": "keel-boot-tool kernel list",
    "kernel pin": "keel-boot-tool kernel pin 6.12.43+deb13-amd64\n"
    "  keel-boot-tool kernel pin 6.12.43+deb13-amd64 --next-boot",
    "kernel unpin": "keel-boot-tool kernel unpin\n  keel-boot-tool kernel unpin --next-boot",
    "status": "keel-boot-tool status\n  keel-boot-tool status --quiet || echo 'no synced ESPs'",
    "help": "keel-boot-tool help",
}


# What each exit code means, for --help and the README (a test keeps both in step with this table).
EXIT_CODES = (
    (0, "done"),
    (EXIT_FAILED, "refused or failed ('E: <message>' on stderr), or an ESP could not be synced ('WARN: ...')"),
    (EXIT_NO_ESP_LIST, "wrong arguments; for status: /etc/kernel/proxmox-boot-uuids does not exist"),
    (EXIT_BAD_STATE, "a boot configuration file is unusable: unreadable, not UTF-8, a bad line, no root="),
    (EXIT_NO_ESP, "/etc/kernel/proxmox-boot-uuids lists no ESP: none is configured (see 'keel-boot-tool init')"),
    (EXIT_INTERRUPTED, "interrupted"),
)


class OneLineParser(argparse.ArgumentParser):
    """Wrong arguments give one line on stderr naming the problem and where to look, and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def _sub(subparsers, name: str, help_text: str, full_name: str | None = None) -> argparse.ArgumentParser:
    return subparsers.add_parser(
        name,
        help=help_text,
        description=help_text,
        epilog=f"example:\n  {EXAMPLES[full_name or name]}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description=DESCRIPTION,
        epilog="examples:\n  keel-boot-tool status\n  keel-boot-tool init /dev/sdb2\n"
        "  keel-boot-tool <command> --help\n\nexit codes:\n"
        + "".join(f"  {code:<4} {meaning}\n" for code, meaning in EXIT_CODES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="print every external command it runs")
    commands = parser.add_subparsers(dest="command", metavar="<command>", parser_class=OneLineParser)
    commands.required = True

    p = _sub(commands, "format", "Format a partition as an ESP (vfat, GPT type EFI system).")
    p.add_argument("partition", help="the partition, e.g. /dev/sdb2 (never a whole disk)")
    p.add_argument("--force", action="store_true", help="format even if the partition holds a filesystem")
    p.set_defaults(action=lambda tool, a: tool.format(a.partition, a.force))

    p = _sub(commands, "init", "Install a boot loader onto each ESP given, add them to the synced ESPs and refresh.")
    p.add_argument("partition", nargs="+", metavar="partition [grub]", type=_partition_or_grub,
                   help="the ESP partition(s), e.g. /dev/sdb2; a last word 'grub' installs GRUB (shim) instead of "
                        "systemd-boot on UEFI")
    p.set_defaults(action=lambda tool, a: tool.init(*_init_args(a.partition)))

    p = _sub(commands, "reinit", "Reinstall the boot loader on every synced ESP, then refresh.")
    p.set_defaults(action=lambda tool, a: tool.reinit())

    p = _sub(commands, "clean", "Drop ESPs that no longer exist from /etc/kernel/proxmox-boot-uuids.")
    p.add_argument("--dry-run", action="store_true", help="only report what would be dropped")
    p.set_defaults(action=lambda tool, a: tool.clean(a.dry_run))

    p = _sub(commands, "refresh", "Copy the selected kernels and boot entries onto every synced ESP.")
    p.add_argument("--hook", metavar="NAME", help="name of the calling hook, for the log")
    p.add_argument("--kernel-version", metavar="VERSION", help="the kernel being installed (kernel hooks)")
    p.set_defaults(action=lambda tool, a: tool.refresh(a.hook, a.kernel_version))

    kernel = _sub(commands, "kernel", "Manage the kernels kept on the ESPs: add, remove, list, pin, unpin.")
    kernels = kernel.add_subparsers(dest="kernel_command", metavar="<kernel command>", parser_class=OneLineParser)
    kernels.required = True
    p = _sub(kernels, "add", "Keep a kernel on the ESPs in addition to the automatic choice.", "kernel add")
    p.add_argument("version", help="a version with /boot/vmlinuz-<version>")
    p.set_defaults(action=lambda tool, a: tool.kernel_add(a.version))
    p = _sub(kernels, "remove", "Stop keeping a manually added kernel.", "kernel remove")
    p.add_argument("version")
    p.set_defaults(action=lambda tool, a: tool.kernel_remove(a.version))
    p = _sub(kernels, "list", "List the kernels kept on the ESPs and the pins.", "kernel list")
    p.set_defaults(action=lambda tool, a: tool.kernel_list())
    p = _sub(kernels, "pin", "Make a kernel the default (or only for the next boot), then refresh.", "kernel pin")
    p.add_argument("version", help="a version with /boot/vmlinuz-<version>")
    p.add_argument("--next-boot", action="store_true", help="only for the next boot")
    p.set_defaults(action=lambda tool, a: tool.kernel_pin(a.version, a.next_boot))
    p = _sub(kernels, "unpin", "Remove the pins (or only the next-boot pin), then refresh.", "kernel unpin")
    p.add_argument("--next-boot", action="store_true", help="only remove the next-boot pin")
    p.set_defaults(action=lambda tool, a: tool.kernel_unpin(a.next_boot))

    p = _sub(commands, "status", "Show the boot mode and the kernels on every synced ESP; exit 2 without an ESP list.")
    p.add_argument("--quiet", action="store_true", help="no output, only the exit code")
    p.set_defaults(action=lambda tool, a: tool.status(a.quiet))

    p = _sub(commands, "help", "Show this help.")
    p.set_defaults(action=None)
    return parser


def _partition_or_grub(word: str) -> str:
    if word != "grub" and not word.startswith("/"):
        raise argparse.ArgumentTypeError(f"{word!r} is neither a partition (/dev/...) nor the mode 'grub'")
    return word


def _init_args(words: list[str]) -> tuple[list[str], bool]:
    """`init P [P...] [grub]`: the partitions and whether GRUB was asked for (Proxmox's `init <partition> [grub]`,
    with more partitions allowed)."""
    want_grub = words[-1] == "grub"
    partitions = words[:-1] if want_grub else words
    if not partitions:
        raise ToolError("init: name at least one ESP partition, e.g. /dev/sdb2")
    return partitions, want_grub


def main(argv: Sequence[str] | None = None, tool: BootTool | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.action is None:
        parser.print_help()
        return 0
    if tool is None:
        paths = SystemPaths(Path(os.environ.get("KEEL_BOOT_TOOL_ROOT", "/")))
        reexec = [sys.executable, sys.argv[0], *(sys.argv[1:] if argv is None else argv)]
        tool = BootTool(paths, System(paths, Runner(verbose=args.verbose), reexec_argv=reexec))
    try:
        return args.action(tool, args)
    except USER_ERRORS as exc:
        print(f"E: {exc}", file=tool.err)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("E: interrupted", file=tool.err)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())

