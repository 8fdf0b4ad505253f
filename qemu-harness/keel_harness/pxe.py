"""PXE boot directory for QEMU's built-in TFTP: the build's PXE artifacts plus a boot.ipxe that sets keel-base."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from .spec import HarnessError

PXE_FILES = ("vmlinuz", "initrd.img", "filesystem.squashfs", "keel.ipxe")
# Debian's iPXE builds (package ipxe): where a UEFI PXE boot finds its loader when the PXE tree has none.
IPXE_DIR = Path("/usr/lib/ipxe")


def chain_command(bootfile: str) -> str:
    """What the harness types at the iPXE prompt of a UEFI PXE boot: configure the NIC, run the script.

    QEMU's DHCP server names one boot file for every client; OVMF must get the EFI loader, and iPXE asking
    again would get the loader again. A real network breaks that loop in its DHCP server (the services guest's
    dnsmasq does, with the "iPXE" user class); on user networking the harness does it at iPXE's prompt.
    """
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", bootfile):
        raise HarnessError(f"PXE boot file {bootfile!r}: a plain file name in the TFTP directory")
    return f"dhcp && chain tftp://${{next-server}}/{bootfile}"


def link_tree(source: Path, dest: Path, skip: Sequence[str] = ()) -> Path:
    """Make `dest` hold a symlink to each file of `source` (replacing older links), except `skip`."""
    source = Path(source).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name in skip:
            continue  # never write through a link into the build's own directory
        link = dest / entry.name
        if link.is_symlink() or link.exists():
            link.unlink()
        os.symlink(entry, link)
    return dest


def add_efi_loader(dest: Path, name: str, ipxe_dir: Path = IPXE_DIR) -> Path:
    """Make sure `dest/name` exists: the PXE tree's own loader if it has one, else Debian's build of it."""
    target = dest / name
    if target.exists():
        return target
    fallback = ipxe_dir / name
    if not fallback.is_file():
        raise HarnessError(f"UEFI PXE: no {name} in {dest} nor in {ipxe_dir} (Debian package ipxe; make deps)")
    if target.is_symlink():
        target.unlink()  # a dangling link
    os.symlink(fallback, target)
    return target


def render_boot_ipxe(keel_base: str, menu_entry: str | None = None, kernel_args: Sequence[str] = ()) -> str:
    """The first script iPXE runs: where the squashfs comes from, then the build's own keel.ipxe.

    `menu_entry` (e.g. "debug-serial") and `kernel_args` use keel.ipxe's optional `keel-mode` / `keel-args`
    variables to skip its menu and append kernel parameters; by default its menu runs as a user would see it.
    """
    if not re.fullmatch(r"https?://[^\s]+", keel_base):
        raise HarnessError(f"keel-base {keel_base!r} is not an http(s) URL")
    if menu_entry is not None and not re.fullmatch(r"[a-z0-9-]+", menu_entry):
        raise HarnessError(f"iPXE menu entry {menu_entry!r}: lowercase letters, digits and '-' only")
    for arg in kernel_args:
        if not arg or any(c.isspace() for c in arg):
            raise HarnessError(f"kernel argument {arg!r} is empty or contains white space")
    lines = ["#!ipxe", f"set keel-base {keel_base.rstrip('/')}"]
    if menu_entry:
        lines.append(f"set keel-mode {menu_entry}")
    if kernel_args:
        lines.append(f"set keel-args {' '.join(kernel_args)}")
    lines.append("chain keel.ipxe")
    return "\n".join(lines) + "\n"


def prepare_tftp_dir(
    pxe_dir: Path, dest: Path, keel_base: str, menu_entry: str | None = None, kernel_args: Sequence[str] = ()
) -> Path:
    """Fill `dest` with symlinks to the files of `pxe_dir` and a boot.ipxe; returns `dest`."""
    pxe_dir = Path(pxe_dir).resolve()
    missing = [name for name in PXE_FILES if not (pxe_dir / name).is_file()]
    if missing:
        raise HarnessError(f"PXE directory {pxe_dir}: missing {', '.join(missing)} (run `make iso`)")
    link_tree(pxe_dir, dest, skip=("boot.ipxe",))  # ours replaces any the build ships
    boot = dest / "boot.ipxe"
    boot.unlink(missing_ok=True)
    boot.write_text(render_boot_ipxe(keel_base, menu_entry, kernel_args))
    return dest
