"""PXE boot directory for QEMU's built-in TFTP: the build's PXE artifacts plus a boot.ipxe that sets keel-base."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .spec import HarnessError

PXE_FILES = ("vmlinuz", "initrd.img", "filesystem.squashfs", "keel.ipxe")


def render_boot_ipxe(keel_base: str) -> str:
    """The first script iPXE runs: where the squashfs comes from, then the build's own keel.ipxe."""
    if not re.fullmatch(r"https?://[^\s]+", keel_base):
        raise HarnessError(f"keel-base {keel_base!r} is not an http(s) URL")
    return f"#!ipxe\necho keel-harness: keel-base={keel_base}\nset keel-base {keel_base.rstrip('/')}\nchain keel.ipxe\n"


def prepare_tftp_dir(pxe_dir: Path, dest: Path, keel_base: str) -> Path:
    """Fill `dest` with symlinks to the files of `pxe_dir` and a boot.ipxe; returns `dest`."""
    pxe_dir = Path(pxe_dir).resolve()
    missing = [name for name in PXE_FILES if not (pxe_dir / name).is_file()]
    if missing:
        raise HarnessError(f"PXE directory {pxe_dir}: missing {', '.join(missing)} (run `make iso`)")
    dest.mkdir(parents=True, exist_ok=True)
    for entry in pxe_dir.iterdir():
        if entry.name == "boot.ipxe":
            continue  # ours replaces any the build ships; never write through a link into build/pxe
        link = dest / entry.name
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(entry, link)
    boot = dest / "boot.ipxe"
    boot.unlink(missing_ok=True)
    boot.write_text(render_boot_ipxe(keel_base))
    return dest
