"""`keel-installer tui`: the interactive installation wizard, for real or as a dry run on a recorded machine."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile

EPILOG = """\
examples:
  keel-installer tui                                  # the live installer: probe this machine, install
  keel-installer tui --hardware server.json --dry-run --output config.json --save-answer answer.toml
                                                      # demo: write the config and print the plan instead

Keys: Tab/arrows move, Enter presses or opens a list, Esc goes back, Alt+letter presses the button with that
underlined letter (the letter alone works outside text fields), Ctrl-C asks before aborting.
Exit status: 0 finished (dry run or installed), 1 bad input, 2 aborted, 3 install failed (debug shell wanted).
"""

EXIT_OK, EXIT_INPUT, EXIT_ABORTED, EXIT_SHELL = 0, 1, 2, 3


class InputError(Exception):
    """A command-line input cannot be used; the message names it."""


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "tui", help="run the installation wizard (terminal UI)",
        description="Run Keel's installation wizard. With --dry-run the engine runs its own dry run (every "
                    "command recorded, no disk written), then the configuration (the password only as a hash) is "
                    "written and the storage plan printed.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hardware", metavar="PROFILE.json",
                        help="a recorded HardwareProfile instead of probing this machine")
    parser.add_argument("--dry-run", action="store_true",
                        help="do not install: run the engine's dry run, write the InstallConfig (--output, "
                             "the password only as a hash) and print the plan")
    parser.add_argument("--output", metavar="CONFIG.json",
                        help="where to write the InstallConfig (default with --dry-run: keel-config.json)")
    parser.add_argument("--save-answer", metavar="ANSWER.toml",
                        help="also save the choices as an answer file for unattended installs")
    parser.add_argument("--license", metavar="FILE", help="license text to show (default: the medium's EULA)")
    parser.add_argument("--log", metavar="FILE", default="/var/log/keel/install.log",
                        help="install log (default: %(default)s)")
    parser.set_defaults(func=run)
    return parser


def load_hardware(path: str | None) -> HardwareProfile:
    from installer.core.jsoncodec import FileError

    if path is None:
        from installer.hardware import probe

        return probe.probe()
    try:
        return HardwareProfile.read(path)
    except FileError as err:
        raise InputError(f"--hardware {err}") from err


def apply_keyboard_live(kmap: str) -> None:
    """Switch the live console's layout at once (setupcon reads /etc/default/keyboard)."""
    from installer.core.locales import KEYBOARDS
    from installer.runner import CommandError, Runner

    keyboard = KEYBOARDS.get(kmap)
    if keyboard is None:
        return
    Path("/etc/default/keyboard").write_text(
        f'XKBMODEL="pc105"\nXKBLAYOUT="{keyboard.xkb_layout}"\nXKBVARIANT="{keyboard.xkb_variant}"\n'
        'XKBOPTIONS=""\nBACKSPACE="guess"\n')
    # a layout that does not switch must not stop the wizard; the installed system still gets it
    with contextlib.suppress(CommandError):
        Runner().run(["setupcon", "--force", "--keyboard-only"], timeout=30)


def run(args: argparse.Namespace) -> int:
    from installer.tui.app import Options, WizardApp
    from installer.tui.checks import answerfile_checks
    from installer.tui.model import Wizard
    from installer.tui.screens.license import read_license

    try:
        if args.license and not Path(args.license).is_file():
            raise InputError(f"--license {args.license}: no such file")
        license_text = read_license(Path(args.license) if args.license else None)
        for option, path in (("--output", args.output), ("--save-answer", args.save_answer)):
            check_writable(option, path)
        hardware = load_hardware(args.hardware)
        if not hardware.target_disks:
            raise InputError("The installer could not find any supported hard disks.")
        if not hardware.nics:
            raise InputError("The installer could not find any network interface cards.")
    except InputError as err:
        print(f"keel-installer tui: {err}", file=sys.stderr)
        return EXIT_INPUT
    output = args.output or ("keel-config.json" if args.dry_run else None)
    wizard = Wizard(hardware, answerfile_checks())
    saved: list[InstallConfig] = []
    notes: list[str] = []

    def on_install(config: InstallConfig) -> None:
        """Save what was chosen before the engine starts; a dry run's config holds the password only hashed."""
        from installer.runner import CommandError

        saved.append(config)
        try:
            if output:
                (with_hashed_password(config) if args.dry_run else config).save(output)
            if args.save_answer:
                save_answer(config, hardware, args.save_answer)
        except (OSError, CommandError) as err:   # saving is a convenience: it must not stop the install
            notes.append(f"could not save the choices: {str(err).splitlines()[0]}")

    options = Options(dry_run=args.dry_run, answer_path=args.save_answer, license_text=license_text,
                      log_path=args.log)
    from installer.engine.install import InstallSettings
    from installer.tui.install import engine_installer

    # a dry run keeps its log in its scratch directory, never in the live system's /var/log/keel
    installer = engine_installer(hardware, dry_run=args.dry_run,
                                 settings=InstallSettings(log_path=None if args.dry_run else Path(args.log)))
    keyboard = None if args.dry_run else apply_keyboard_live
    app = WizardApp(wizard, options, on_install=on_install, installer=installer, keyboard=keyboard)
    outcome = app.run()
    for note in notes:
        print(f"keel-installer tui: {note}", file=sys.stderr)
    return finish(outcome, saved, hardware, args, output)


def check_writable(option: str, path: str | None) -> None:
    """A file the wizard writes at the end must be writable now, not after twenty minutes of questions."""
    if path is None:
        return
    parent = Path(path).resolve().parent
    if not parent.is_dir():
        raise InputError(f"{option} {path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"{option} {path}: the directory {parent} is not writable")


def with_hashed_password(config: InstallConfig) -> InstallConfig:
    """`config` with its plain root password replaced by its SHA-512 crypt hash (still installable, and a file
    left behind by a demo never shows the password)."""
    from dataclasses import replace

    from installer.runner import Runner
    from installer.tui.answer import hash_password

    if not config.root.password:
        return config
    hashed = hash_password(Runner(), config.root.password)
    return replace(config, root=replace(config.root, password=None, password_hashed=hashed))


def save_answer(config: InstallConfig, hardware: HardwareProfile, path: str) -> None:
    from installer.runner import Runner
    from installer.tui.answer import answer_toml, hash_password

    hashed = hash_password(Runner(), config.root.password or "")
    Path(path).write_text(answer_toml(config, hardware, hashed))


def finish(outcome: str, saved: list[InstallConfig], hardware: HardwareProfile, args: argparse.Namespace,
           output: str | None) -> int:
    """After the screen is gone: print what a dry run would have done, or act on the finish screen's choice."""
    if outcome == "aborted":
        print("keel-installer tui: aborted, nothing was written to any disk", file=sys.stderr)
        return EXIT_ABORTED
    if args.dry_run and saved:
        from installer.storage.plan import plan
        from installer.storage.plan.table import format_plan

        print(format_plan(plan(saved[0], hardware)))
        print(f"configuration written to {output}")
        if args.save_answer:
            print(f"answer file written to {args.save_answer}")
        return EXIT_OK
    if outcome == "shell":
        print(f"Installation failed; the log is {args.log}. Starting a debug shell.", file=sys.stderr)
        return EXIT_SHELL
    if outcome in ("reboot", "power-off"):
        from installer.runner import Runner

        Runner().run(["systemctl", "poweroff" if outcome == "power-off" else "reboot"], timeout=60)
    return EXIT_OK
