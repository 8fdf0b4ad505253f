"""`keel-installer`: the live environment's command line. Each subcommand lives in the module that owns it."""

from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> module providing `add_parser(subparsers)` and `run(args) -> int`
SUBCOMMANDS = {
    "plan": "installer.frontends.plan",
    "run": "installer.frontends.run",
    "auto": "installer.frontends.auto",
    "tui": "installer.tui.cli",
    "probe": "installer.hardware.cli",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The command line; with `command` one of SUBCOMMANDS, only that subcommand's module is imported (the wizard's
    urwid and the other frontends cost `keel-installer auto` 0.2-1 s of imports under TCG before its first step)."""
    parser = argparse.ArgumentParser(
        prog="keel-installer",
        description="Keel's installer: show the storage plan for a machine, run the wizard, or install.",
        epilog="Example: keel-installer plan --hardware server.json --answer answer.toml",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = [SUBCOMMANDS[command]] if command in SUBCOMMANDS else dict.fromkeys(SUBCOMMANDS.values())
    for module_name in wanted:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name and module_name.startswith(err.name):
                continue  # that part of Keel is not built yet
            raise
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv[0] if argv else None)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("keel-installer: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
