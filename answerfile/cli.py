"""`keel-answer`: check answer files, resolve them for a machine, and explore the devices filters can match."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from answerfile import api as answerfile
from answerfile import filters
from answerfile.json_schema import answer_schema
from answerfile.media.contents import read_keel_iso
from answerfile.media.image import IsoError, require_xorriso
from answerfile.media.inspect import render_report
from answerfile.media.prepare import PXE_LOADERS, PrepareRequest, prepare
from installer.core import provision
from installer.core.fetch_mode import ANSWER_FILE, FIRST_BOOT_FILE, MODE_FILE
from installer.core.hardware import HardwareProfile
from installer.core.jsoncodec import FileError
from installer.hardware.pve_env import PveEnvError, load_pve_env
from installer.runner import Runner

PROG = "keel-answer"


class UsageError(Exception):
    """A command-line value is wrong; printed as one line, exit status 2."""


def _load_hardware(path: Path | None) -> HardwareProfile:
    """A recorded profile, or (no path) this machine probed now."""
    if path is None:
        from installer.hardware.probe import probe

        return probe()
    try:
        return HardwareProfile.read(path)
    except FileError as err:
        raise UsageError(str(err)) from err


def _print_problems(title: str, problems: list[answerfile.AnswerProblem], *, to_stderr: bool = False) -> None:
    stream = sys.stderr if to_stderr else sys.stdout
    print(title, file=stream)
    for problem in problems:
        print(f"  - {problem}", file=stream)


def cmd_validate(args: argparse.Namespace) -> int:
    hardware = _load_hardware(args.hardware) if args.hardware else None
    try:
        text = answerfile.read_answer_file(args.file)
    except answerfile.AnswerError as err:
        raise UsageError(str(err)) from err
    problems, warnings = answerfile.validate_text(text, hardware, unattended=not args.interactive,
                                                  strict=args.strict)
    if warnings:
        _print_problems(f"{args.file}: {len(warnings)} warning(s):", warnings, to_stderr=True)
    if problems:
        _print_problems(f"{args.file}: {len(problems)} problem(s):", problems)
        return 1
    scope = f"for {args.hardware}" if hardware else "offline checks only; add --hardware PROFILE to check a machine"
    print(f"{args.file}: valid ({scope})")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    hardware = _load_hardware(args.hardware)
    try:
        result = answerfile.resolve_text(answerfile.read_answer_file(args.file), hardware,
                                         unattended=not args.interactive)
    except answerfile.AnswerError as err:
        if err.warnings:
            _print_problems(f"{args.file}: {len(err.warnings)} warning(s):", err.warnings, to_stderr=True)
        _print_problems(f"{args.file}: {len(err.problems)} problem(s):", err.problems, to_stderr=True)
        return 1
    if result.warnings:
        _print_problems(f"{args.file}: {len(result.warnings)} warning(s):", result.warnings, to_stderr=True)
    config = result.config if args.show_secrets else result.config.redacted()
    print(config.to_json())
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(answer_schema(), indent=2))
    return 0


def cmd_cluster_secret(args: argparse.Namespace) -> int:
    print(provision.new_cluster_secret())
    return 0


def cmd_device_info(args: argparse.Namespace) -> int:
    from installer.hardware.probe import device_info

    print(json.dumps(device_info(_load_hardware(args.hardware), args.type), indent=2))
    return 0


def parse_filter_args(items: list[str]) -> dict[str, str]:
    """KEY=GLOB arguments as a filter table; a missing '=' or an empty side is a usage error."""
    out = {}
    for item in items:
        key, eq, glob = item.partition("=")
        if not eq:
            raise UsageError(f"filter {item!r} has no '=': write KEY=GLOB, like ID_SERIAL='*SSD*'")
        if not key or not glob:
            raise UsageError(f"filter {item!r} has an empty key or glob: write KEY=GLOB")
        out[key] = glob
    return out


def cmd_device_match(args: argparse.Namespace) -> int:
    wanted = parse_filter_args(args.filters)
    hardware = _load_hardware(args.hardware)
    if args.kind == "disk":
        names = [d.name for d in filters.match_disks(hardware, wanted, args.filter_match)]
    else:
        nic = filters.first_nic(hardware, wanted)
        names = [nic.name] if nic else []
    if not names:
        print(f"{PROG}: no {'disk' if args.kind == 'disk' else 'network interface'} matches", file=sys.stderr)
        return 1
    print("\n".join(names))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    try:
        profile = load_pve_env(args.run_env_info, args.run_env_udev, args.override)
    except PveEnvError as err:
        raise UsageError(str(err)) from err
    if args.output:
        try:
            profile.save(args.output)
        except OSError as err:
            raise UsageError(f"cannot write {args.output}: {err.strerror}") from err
    else:
        print(profile.to_json())
    return 0


def _print_lines(err: IsoError) -> int:
    for line in str(err).splitlines():
        print(f"{PROG}: {line}", file=sys.stderr)
    return 1


def cmd_prepare_iso(args: argparse.Namespace) -> int:
    request = PrepareRequest(
        iso=args.iso, fetch_from=args.fetch_from, output=args.output, answer_file=args.answer_file, url=args.url,
        cert_fingerprint=args.cert_fingerprint, token=args.answer_auth_token, partition_label=args.partition_label,
        on_first_boot=args.on_first_boot, pxe=args.pxe, pxe_loader=args.pxe_loader, tmp=args.tmp)
    try:
        done = prepare(request, Runner(), warn=lambda text: print(f"{PROG}: warning: {text}", file=sys.stderr))
    except IsoError as err:
        return _print_lines(err)
    mode = "mode 0600, as it holds secrets" if done.private else "no secrets in it"
    print(f"{done.iso}: Keel {done.version}, fetches its answer from {args.fetch_from} ({mode})")
    for extra in done.files[1:]:
        print(f"{extra}")
    return 0


def cmd_inspect_iso(args: argparse.Namespace) -> int:
    try:
        require_xorriso()
        iso = read_keel_iso(Runner(), args.iso)
    except IsoError as err:
        return _print_lines(err)
    print(render_report(iso, show_sensitive=args.show_sensitive), end="")
    return 0


def cmd_system_info(args: argparse.Namespace) -> int:
    from installer import __version__
    from installer.answer_sources.sysinfo import system_info
    from installer.core.live import LiveInfo, LiveInfoError

    try:
        version = LiveInfo.load().version or __version__
    except LiveInfoError:
        version = __version__
    print(json.dumps(system_info(_load_hardware(args.hardware), version=version), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Check Proxmox-compatible answer files (answer.toml), resolve them for a machine, and find "
                    "the udev properties disk and NIC filters can use.",
        epilog="Example: keel-answer validate answer.toml --hardware server.json",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, func: Callable[[argparse.Namespace], int], help_text: str, description: str,
                example: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=description, epilog=f"Example: {example}",
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.set_defaults(func=func)
        return p

    p = command("validate", cmd_validate, "check an answer file; every problem is listed",
                "Check an answer file. Without --hardware only what needs no machine is checked (syntax, keys, "
                "types, values, locale, passwords, combinations); with a recorded HardwareProfile the filters and "
                "disk-list must also resolve and the disk rules hold. Exit status 0 when valid, 1 with every "
                "problem listed (warnings go to stderr).\n\n"
                "An SSH key that does not decode and a password hash that is not a complete crypt(3) hash are "
                "warnings, as Proxmox checks neither, while root can still log in another way; with --strict "
                "they are problems.",
                "keel-answer validate answer.toml --hardware server.json --strict")
    p.add_argument("file", type=Path, help="the answer file (TOML)")
    p.add_argument("--hardware", type=Path, metavar="PROFILE", help="HardwareProfile JSON of the target machine")
    p.add_argument("--interactive", action="store_true",
                   help="check as for an attended install (disks of 2-8 GiB are then allowed)")
    p.add_argument("--strict", action="store_true",
                   help="also refuse what Proxmox accepts but cannot work: SSH keys and password hashes of the "
                        "wrong shape")

    p = command("config", cmd_config, "print the InstallConfig an answer gives on a machine",
                "Resolve an answer file for a machine and print the resulting InstallConfig as JSON: the exact "
                "disks, network, host name and options the installer would use. The root password (or its "
                "hash), the webhook token and the subscription key are shown as <redacted> unless "
                "--show-secrets is given.",
                "keel-answer config answer.toml --hardware server.json")
    p.add_argument("file", type=Path, help="the answer file (TOML)")
    p.add_argument("--hardware", type=Path, metavar="PROFILE", required=True,
                   help="HardwareProfile JSON (keel-installer probe, or convert-pve-env)")
    p.add_argument("--show-secrets", action="store_true",
                   help="print the password, hash, tokens and keys as written instead of <redacted>")
    p.add_argument("--redacted", action="store_true",
                   help="accepted for older scripts; secrets are redacted unless --show-secrets is given")
    p.add_argument("--interactive", action="store_true", help="resolve as for an attended install")

    command("schema", cmd_schema, "print the JSON Schema of answer files",
            "Print the JSON Schema (draft 2020-12) of the answer file, for editors that complete and check TOML "
            "against a schema (e.g. Taplo / Even Better TOML).",
            "keel-answer schema > answer.schema.json")

    command("cluster-secret", cmd_cluster_secret, "print a new secret for [provision.cluster] cluster-secret",
            "Print a new cluster secret (kcs1- and 256 random bits, base64url). Put the same value into the "
            "[provision.cluster] cluster-secret of every node of one cluster: a joining node and the member it "
            "joins through each prove that they hold it before the member hands out corosync's authkey. Treat it "
            "like a root password; a new cluster gets a new secret.",
            "keel-answer cluster-secret")

    p = command("device-info", cmd_device_info, "print the udev properties of this machine's disks and NICs",
                "Print the udev properties of the disks and network interfaces, keyed by kernel name: the names and "
                "values disk-setup.filter and network.filter can match. The install medium is left out.",
                "keel-answer device-info --type disk")
    p.add_argument("-t", "--type", choices=("all", "disk", "network"), default="all", help="which devices")
    p.add_argument("--hardware", type=Path, metavar="PROFILE", help="a recorded profile instead of this machine")

    p = command("device-match", cmd_device_match, "show which disks or NICs a filter selects",
                "Show which devices a filter selects, with the installer's rules: for disks every match "
                "(--filter-match any|all, as for ZFS/Btrfs), for network the first match. Globs are shell-style "
                "and case-sensitive; quote them for the shell.",
                "keel-answer device-match disk ID_MODEL='ST4000*' --filter-match all")
    p.add_argument("kind", choices=("disk", "network"), help="what to match")
    p.add_argument("filters", nargs="+", metavar="KEY=GLOB", help="udev property and glob")
    p.add_argument("--filter-match", choices=("any", "all"), default="any", help="how several filters combine")
    p.add_argument("--hardware", type=Path, metavar="PROFILE", help="a recorded profile instead of this machine")

    p = command("convert-pve-env", cmd_convert, "convert a Proxmox run-env recording into a HardwareProfile",
                "Convert the Proxmox installer's run-env-info.json and run-env-udev.json (optionally with a "
                "per-test NAME.run-env.json override) into a Keel HardwareProfile JSON.",
                "keel-answer convert-pve-env run-env-info.json run-env-udev.json -o server.json")
    p.add_argument("run_env_info", type=Path, metavar="RUN_ENV_INFO")
    p.add_argument("run_env_udev", type=Path, metavar="RUN_ENV_UDEV")
    p.add_argument("--override", type=Path, metavar="FILE", help="a NAME.run-env.json replacing parts of the info")
    p.add_argument("-o", "--output", type=Path, help="write to this file (default: stdout)")

    p = command("prepare-iso", cmd_prepare_iso, "make a copy of a Keel ISO that installs unattended",
                "Copy a Keel ISO and put an answer source into it, with the options of Proxmox's "
                "proxmox-auto-install-assistant prepare-iso. The copy boots the automated entry after a "
                f"countdown and stays a BIOS + UEFI, CD + USB hybrid. It carries /{MODE_FILE} (mode, "
                "partition_label, [http] url, cert_fingerprint, token), with --fetch-from iso the answer at "
                f"/{ANSWER_FILE}, and with --on-first-boot the executable at /{FIRST_BOOT_FILE}.\n\n"
                "The answer is checked offline first (as keel-answer validate does); any problem writes "
                "nothing. The ISO is changed with xorriso (install the xorriso package), not unpacked, so this "
                "takes seconds. An output holding secrets (an answer, a token, URL credentials, a first-boot "
                "script) is mode 0600.\n\n"
                "--pxe also writes vmlinuz, initrd.img and boot.ipxe beside the ISO: serve that directory over "
                "HTTP and chain boot.ipxe (set keel-base to the directory's URL); it boots the automated entry "
                "after 10 s, and offers the Terminal UI, the serial console and debug mode.\n\n"
                "More examples:\n"
                "  keel-answer prepare-iso keel.iso --output keel-http.iso --fetch-from http \\\n"
                "      --url https://answers.example.com/answer --cert-fingerprint AB:CD:...:EF\n"
                "  keel-answer prepare-iso keel.iso --output keel-usb.iso --fetch-from partition "
                "--partition-label MY-ANSWERS\n"
                "  keel-answer prepare-iso keel.iso --output /srv/pxe/keel-auto.iso --fetch-from iso "
                "--answer-file answer.toml --pxe",
                "keel-answer prepare-iso keel.iso --output keel-auto.iso --fetch-from iso --answer-file answer.toml")
    p.add_argument("iso", type=Path, metavar="ISO", help="a Keel ISO (make iso builds build/keel.iso)")
    p.add_argument("--output", type=Path, metavar="OUT",
                   help="the ISO to write, or a directory for it (default: beside ISO, named "
                        "<ISO name>-auto-from-<mode>.iso)")
    p.add_argument("--fetch-from", required=True, choices=("iso", "http", "partition"),
                   help="where the installer gets the answer: this ISO, an HTTPS answer server, or a partition "
                        "labelled --partition-label")
    p.add_argument("--answer-file", type=Path, metavar="FILE", help="the answer to put on the ISO (iso mode)")
    p.add_argument("--url", help="answer server URL (http mode; without it DHCP option 250 or DNS TXT name it)")
    p.add_argument("--cert-fingerprint", metavar="FP",
                   help="SHA-256 fingerprint of the answer server's certificate to pin (http mode)")
    p.add_argument("--answer-auth-token", metavar="TOKEN",
                   help="sent as 'Authorization: Bearer TOKEN' with the request (http mode)")
    p.add_argument("--partition-label", metavar="LABEL",
                   help="label of the answer partition (partition mode; default proxmox-ais, also tried in "
                        "upper case)")
    p.add_argument("--on-first-boot", type=Path, metavar="SCRIPT",
                   help="executable run once on the installed system's first boot (at most 1 MiB; the answer "
                        "needs [first-boot] source = \"from-iso\")")
    p.add_argument("--pxe", action="store_true", help="also write vmlinuz, initrd.img and boot.ipxe beside the ISO")
    p.add_argument("--pxe-loader", choices=PXE_LOADERS, help="the PXE boot loader to write a script for (ipxe)")
    p.add_argument("--tmp", type=Path, metavar="DIR", help="where to stage the files put into the ISO")

    p = command("inspect-iso", cmd_inspect_iso, "show what a prepared Keel ISO will do",
                "Show a Keel ISO's version and payload profile, its fetch mode with URL, certificate "
                "fingerprint, token and partition label, the first-boot script and the embedded answer. The "
                "token, URL credentials, root-password, root-password-hashed, subscription-key and auth-token "
                "are shown as <redacted> unless --show-sensitive is given.",
                "keel-answer inspect-iso keel-auto.iso")
    p.add_argument("iso", type=Path, metavar="ISO")
    p.add_argument("--show-sensitive", action="store_true", help="show secrets as written")

    p = command("system-info", cmd_system_info, "print the JSON the installer sends to an answer server",
                "Print the system information the installer POSTs to an HTTP answer server (Proxmox's format: "
                "product, ISO release, DMI serials and UUID, NIC names and MACs), for this machine or a "
                "recorded profile. An answer server can use it to pick each machine's answer.",
                "keel-answer system-info > this-server.json")
    p.add_argument("--hardware", type=Path, metavar="PROFILE", help="a recorded profile instead of this machine")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
