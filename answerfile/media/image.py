"""Reading files out of an ISO image and writing a copy with files added or removed, with xorriso.

Nothing is unpacked: xorriso reads the input's directory tree, and writes the copy with the boot equipment
replayed (`-boot_image any replay`: the commands `-report_el_torito cmd` prints, so the El Torito BIOS and
UEFI images, the grub2 MBR, the protective MBR, the GPT with its EFI partition, and the volume's modification
date, which GRUB's `search --fs-uuid` on a grub-mkrescue ISO looks for, come out as they went in). Two settings
keep it a plain hybrid image: `-compliance no_emul_toc` starts it at block 0 as mkisofs would (not after a
64 KiB multi-session header), and `-padding included` keeps the backup GPT at the image's end.

HFS+ is switched off: xorriso 1.5.4 cannot replay grub-mkrescue's HFS+/APM hybrid ("GPT partitions 1 and 2
overlap"), and it serves only Intel Macs booting from a blessed HFS+ file; BIOS and UEFI, from CD or USB, boot
as before. Keel's ISOs are about 750 MB; the copy takes a few seconds.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from installer.runner import CommandError, Runner

XORRISO = "xorriso"
READ_TIMEOUT = 300.0
WRITE_TIMEOUT = 1800.0


class IsoError(Exception):
    """An ISO cannot be read or written; the message is one line a person can act on."""


@dataclass(frozen=True)
class Added:
    """A file to put into the image: its content on disk and its mode there (owner and group become root)."""

    source: Path
    mode: int = 0o444


def require_xorriso() -> None:
    if shutil.which(XORRISO) is None:
        raise IsoError("xorriso is not installed: install the xorriso package (apt install xorriso)")


def read_files(runner: Runner, iso: Path, paths: Sequence[str], workdir: Path,
               max_bytes: int) -> dict[str, bytes]:
    """The files among `paths` (relative to the image's root) that `iso` holds, each at most `max_bytes`
    (a larger one is returned cut to max_bytes + 1, so the caller can tell). A file that is not an ISO image
    holds none of them."""
    if not iso.is_file():
        raise IsoError(f"{iso}: no such file")
    argv = [XORRISO, "-abort_on", "NEVER", "-return_with", "ABORT", "32", "-osirrox", "on",
            "-indev", str(iso.resolve())]
    for number, path in enumerate(paths):
        argv += ["-extract", f"/{path}", str(workdir / str(number))]
    try:
        runner.run(argv, timeout=READ_TIMEOUT)
    except CommandError as err:
        raise IsoError(f"{iso}: xorriso cannot read it: {_last_line(err)}") from err
    found = {}
    for number, path in enumerate(paths):
        extracted = workdir / str(number)
        if extracted.is_file():
            with extracted.open("rb") as file:
                found[path] = file.read(max_bytes + 1)
            extracted.unlink()
    return found


def extract_file(runner: Runner, iso: Path, path: str, dest: Path) -> None:
    """One file of the image written to `dest` (replacing it), mode 0644."""
    dest.unlink(missing_ok=True)
    try:
        runner.run([XORRISO, "-osirrox", "on", "-indev", str(iso.resolve()), "-extract", f"/{path}", str(dest)],
                   timeout=READ_TIMEOUT)
    except CommandError as err:
        raise IsoError(f"{iso}: cannot extract /{path}: {_last_line(err)}") from err
    dest.chmod(0o644)


def write_copy(runner: Runner, source: Path, target: Path, add: Mapping[str, Added],
               remove: Sequence[str] = ()) -> None:
    """Write `source` with the files of `add` put in (replacing any there) and those of `remove` taken out to
    `target`, which must exist and be empty (the caller creates it with the mode it should have)."""
    argv = [XORRISO, "-indev", str(source.resolve()), "-outdev", str(target.resolve()),
            "-compliance", "no_emul_toc", "-padding", "included"]
    if remove:
        argv += ["-rm", *(f"/{path}" for path in remove), "--"]
    for path, added in add.items():
        argv += ["-map", str(added.source), f"/{path}"]
    if add:
        inside = [f"/{path}" for path in add]
        argv += ["-chown", "0", *inside, "--", "-chgrp", "0", *inside, "--"]
        for path, added in add.items():
            argv += ["-chmod", f"{added.mode:04o}", f"/{path}", "--"]
    argv += ["-boot_image", "any", "replay", "-hfsplus", "off"]
    try:
        runner.run(argv, timeout=WRITE_TIMEOUT)
    except CommandError as err:
        raise IsoError(f"xorriso could not write {target}: {_last_line(err)}") from err


def _last_line(err: CommandError) -> str:
    """xorriso's last FAILURE/SORRY line, else the error's first line: the one that says what went wrong."""
    lines = [line.strip() for line in err.output.splitlines() if line.strip()]
    for line in reversed(lines):
        if "FAILURE" in line or "SORRY" in line or "FATAL" in line:
            return line
    return str(err).splitlines()[0]
