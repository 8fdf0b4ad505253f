"""`keel-answer prepare-iso`: a copy of a Keel ISO that installs unattended, with Proxmox's options.

The copy carries `/auto-installer-mode.toml` (where Proxmox puts it; `installer.core.fetch_mode` is the format),
for `--fetch-from iso` the answer at `/keel/answer.toml`, and with `--on-first-boot` the executable at
`/keel/first-boot` (mode 0555). Its boot menu starts the automated entry after a countdown. Every option and the
answer are checked first (the answer offline, as `keel-answer validate` does), so a problem writes nothing.

Secrets: the output is mode 0600 when it holds one (an answer, with its root password or hash; a token; a URL
with credentials; a first-boot script, which may hold anything), since anyone who can read the file can read
them; otherwise it gets the usual mode (0644 under umask 022), so a web server can serve it for PXE. It is
written under a temporary name created with its final mode and renamed when complete, so no reader ever sees a
wider mode or half an image. The staged files go to a private (0700) directory under --tmp, which is removed.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from answerfile import api as answerfile
from answerfile.media.contents import INITRD, KERNEL, KeelIso, automated_by_default, read_keel_iso
from answerfile.media.image import Added, IsoError, extract_file, require_xorriso, write_copy
from installer.core import checks
from installer.core.fetch_mode import (
    ANSWER_FILE,
    DEFAULT_PARTITION_LABEL,
    FIRST_BOOT_FILE,
    FIRST_BOOT_MAX_BYTES,
    MODE_FILE,
    MODES,
    FetchMode,
)
from installer.core.redact import redact_url
from installer.runner import Runner

PXE_LOADERS = ("ipxe",)
BOOT_IPXE = "boot.ipxe"


@dataclass(frozen=True)
class PrepareRequest:
    """The command line of prepare-iso (Proxmox's option names)."""

    iso: Path
    fetch_from: str
    output: Path | None = None          # the ISO to write, or a directory for it; default beside the input
    answer_file: Path | None = None
    url: str | None = None
    cert_fingerprint: str | None = None
    token: str | None = None
    partition_label: str | None = None
    on_first_boot: Path | None = None
    pxe: bool = False
    pxe_loader: str | None = None
    tmp: Path | None = None

    def fetch_mode(self) -> FetchMode:
        return FetchMode(self.fetch_from, self.partition_label or DEFAULT_PARTITION_LABEL, self.url or None,
                         self.cert_fingerprint or None, self.token or None)


@dataclass(frozen=True)
class Prepared:
    iso: Path
    version: str
    files: tuple[Path, ...]     # everything written, the ISO first
    private: bool               # the ISO holds secrets and is mode 0600


def option_problems(request: PrepareRequest) -> list[str]:
    """What is wrong with the options themselves, each a line naming the option (Proxmox's combination rules)."""
    problems = []
    mode = request.fetch_from
    if mode not in MODES:
        return [f"--fetch-from must be iso, http or partition, not {mode!r}"]
    if mode == "iso" and request.answer_file is None:
        problems.append("--fetch-from iso needs --answer-file: the answer to put on the ISO")
    if mode != "iso" and request.answer_file is not None:
        problems.append("--answer-file is only for --fetch-from iso (with http or partition the answer comes "
                        "from the server or the partition)")
    for option, value in (("--url", request.url), ("--cert-fingerprint", request.cert_fingerprint),
                          ("--answer-auth-token", request.token)):
        if value is not None and mode != "http":
            problems.append(f"{option} is only for --fetch-from http")
    if request.url is not None and (problem := checks.url_problem(request.url)):
        problems.append(f"--url: {problem}")
    if request.cert_fingerprint is not None and (problem := checks.fingerprint_problem(request.cert_fingerprint)):
        problems.append(f"--cert-fingerprint: {problem}")
    if request.token is not None and (not request.token or not request.token.isprintable() or " " in request.token):
        problems.append("--answer-auth-token: must be one word of printable characters")
    if request.partition_label is not None:
        if mode != "partition":
            problems.append("--partition-label is only for --fetch-from partition")
        elif not request.partition_label or not request.partition_label.isprintable():
            problems.append("--partition-label: must be a non-empty label of printable characters")
    if request.pxe_loader is not None and not request.pxe:
        problems.append("--pxe-loader is only for --pxe")
    if request.pxe_loader is not None and request.pxe_loader not in PXE_LOADERS:
        problems.append(f"--pxe-loader: only {', '.join(PXE_LOADERS)} is supported, not {request.pxe_loader!r}")
    if request.tmp is not None and not request.tmp.is_dir():
        problems.append(f"--tmp {request.tmp}: not a directory")
    return problems


def default_name(iso: Path, mode: str) -> str:
    """Proxmox's output name: <input stem>-auto-from-<mode>.iso."""
    return f"{iso.stem}-auto-from-{mode}.iso"


def output_path(request: PrepareRequest) -> Path:
    """The ISO to write: --output as given, inside it when it is a directory, else beside the input."""
    if request.output is None:
        return request.iso.with_name(default_name(request.iso, request.fetch_from))
    if request.output.is_dir():
        return request.output / default_name(request.iso, request.fetch_from)
    return request.output


def prepare(request: PrepareRequest, runner: Runner, warn: Callable[[str], None] = lambda text: None) -> Prepared:
    """Check everything, then write the prepared ISO (and with --pxe the PXE files beside it).

    IsoError lists every problem found in the options and the answer, one per line; nothing is written then."""
    problems = option_problems(request)
    if problems:
        raise IsoError("\n".join(problems))
    answer = _checked_answer(request, warn) if request.answer_file is not None else None
    first_boot = _checked_first_boot(request.on_first_boot) if request.on_first_boot is not None else None
    if answer is not None:
        _check_first_boot_matches(request, answer, first_boot is not None, warn)
    target = output_path(request)
    if not target.parent.is_dir():
        raise IsoError(f"--output {request.output}: directory {target.parent} does not exist")
    if target.exists() and target.resolve() == request.iso.resolve():
        raise IsoError(f"--output {target}: is the input ISO; write the prepared copy to another file")
    require_xorriso()
    if request.pxe:
        _bootmenu()     # before anything is written: the live environment has no iso-build package
    if request.token:
        runner.add_secret(request.token)
    source = read_keel_iso(runner, request.iso)
    mode = request.fetch_mode()
    files = {MODE_FILE: mode.render().encode()}
    if answer is not None:
        files[ANSWER_FILE] = answer.encode()
    if first_boot is not None:
        files[FIRST_BOOT_FILE] = first_boot
    if not automated_by_default(source.boot_menu, tuple(files)):
        warn(f"{request.iso}: its boot menu predates prepare-iso and does not start the automated entry for "
             f"/{MODE_FILE}; rebuild the ISO (make iso), or choose 'Install (automated)' at boot")
    private = answer is not None or first_boot is not None or bool(mode.token) or (
        mode.url is not None and redact_url(mode.url) != mode.url)
    _write(request, runner, source, target, files, private)
    written = [target]
    if request.pxe:
        written += _write_pxe(runner, target, source.version)
    return Prepared(target, source.version, tuple(written), private)


def _checked_answer(request: PrepareRequest, warn: Callable[[str], None]) -> str:
    path = request.answer_file
    assert path is not None
    try:
        text = answerfile.read_answer_file(path)
    except answerfile.AnswerError as err:
        raise IsoError(str(err)) from err
    problems, warnings = answerfile.validate_text(text)
    for warning in warnings:
        warn(f"{path}: {warning}")
    if problems:
        raise IsoError("\n".join(f"{path}: {problem}" for problem in problems))
    return text


def _checked_first_boot(path: Path) -> bytes:
    try:
        with path.open("rb") as file:
            data = file.read(FIRST_BOOT_MAX_BYTES + 1)
    except OSError as err:
        raise IsoError(f"--on-first-boot {path}: cannot read it ({err.strerror})") from err
    if len(data) > FIRST_BOOT_MAX_BYTES:
        raise IsoError(f"--on-first-boot {path}: larger than {FIRST_BOOT_MAX_BYTES // 1024 // 1024} MiB, the "
                       "most a first-boot executable may be")
    if not data:
        raise IsoError(f"--on-first-boot {path}: the file is empty")
    return data


def _check_first_boot_matches(request: PrepareRequest, answer: str, have_script: bool,
                              warn: Callable[[str], None]) -> None:
    """The answer's [first-boot] source = "from-iso" needs the script on the ISO; a script it does not ask for
    is put there all the same (an answer from elsewhere may ask for it) but is worth a word."""
    section = tomllib.loads(answer).get("first-boot")
    wants_script = isinstance(section, dict) and section.get("source") == "from-iso"
    if wants_script and not have_script:
        raise IsoError(f"{request.answer_file}: first-boot.source: \"from-iso\" needs the executable on the ISO: "
                       "add --on-first-boot SCRIPT")
    if have_script and not wants_script:
        warn(f"{request.answer_file}: has no [first-boot] source = \"from-iso\", so the script from "
             "--on-first-boot will not run")


def _write(request: PrepareRequest, runner: Runner, source: KeelIso, target: Path, files: dict[str, bytes],
           private: bool) -> None:
    partial = target.with_name(f".{target.name}.partial")
    with tempfile.TemporaryDirectory(prefix="keel-prepare-", dir=request.tmp) as staging:
        added = {}
        for number, (path, content) in enumerate(files.items()):
            staged = Path(staging) / str(number)
            staged.write_bytes(content)
            added[path] = Added(staged, 0o555 if path == FIRST_BOOT_FILE else 0o444)
        stale = [path for path in source.present if path not in files]
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o666))
        try:
            write_copy(runner, request.iso, partial, added, remove=stale)
            partial.replace(target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise


def _bootmenu() -> ModuleType:
    try:
        from keel_iso import bootmenu
    except ImportError as err:
        raise IsoError("--pxe renders iso-build's iPXE menu, and Keel's iso-build package (keel_iso) is not "
                       "installed here: run prepare-iso --pxe where Keel is installed from its source") from err
    return bootmenu


def _write_pxe(runner: Runner, iso: Path, version: str) -> list[Path]:
    """vmlinuz and initrd.img from the ISO's /live/, and boot.ipxe, beside the prepared ISO. boot.ipxe has
    live-boot fetch the whole ISO over HTTP (from ${keel-base}, as keel.ipxe fetches the squashfs) and
    loop-mount it as the medium, so the installer finds the mode file and the answer as on a CD."""
    bootmenu = _bootmenu()
    directory = iso.parent
    written = []
    for inside, name in ((KERNEL, "vmlinuz"), (INITRD, "initrd.img")):
        extract_file(runner, iso, inside, directory / name)
        written.append(directory / name)
    script = directory / BOOT_IPXE
    script.write_text(bootmenu.render_ipxe(version, fetch=iso.name, default=bootmenu.AUTO,
                                           timeout=bootmenu.AUTO_TIMEOUT))
    return [*written, script]
