"""The boot media: the hybrid BIOS/UEFI ISO (grub-mkrescue + xorriso) and the PXE directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from installer.runner import Runner

from .bootmenu import render_grub_cfg, render_grub_netboot, render_ipxe


def volume_id(version: str) -> str:
    """ISO volume id (max 32 chars, upper case, no dots): KEEL_0_1_0."""
    return ("KEEL_" + version.upper().replace(".", "_").replace("-", "_"))[:32]


def link_or_copy(source: Path, dest: Path) -> None:
    if dest.exists() or dest.is_symlink():
        dest.unlink()
    try:
        os.link(source, dest)
    except OSError:
        shutil.copy2(source, dest)


def write_iso_tree(staging: Path, version: str, profile: str, build_json: str) -> None:
    """grub.cfg, .disk/info and keel/build.json next to live/ (vmlinuz, initrd.img, filesystem.squashfs)."""
    (staging / "boot/grub").mkdir(parents=True, exist_ok=True)
    (staging / "boot/grub/grub.cfg").write_text(render_grub_cfg(version, profile))
    (staging / ".disk").mkdir(exist_ok=True)
    (staging / ".disk/info").write_text(f"Keel {version} ({profile}) amd64\n")
    (staging / "keel").mkdir(exist_ok=True)
    (staging / "keel/build.json").write_text(build_json)


def make_iso(runner: Runner, staging: Path, iso: Path, version: str) -> None:
    iso.parent.mkdir(parents=True, exist_ok=True)
    partial = iso.with_suffix(".partial.iso")
    runner.run(["nice", "-n", "10", "grub-mkrescue", "-o", str(partial), str(staging), "--",
                "-volid", volume_id(version)], timeout=1800)
    partial.replace(iso)


def write_pxe(staging: Path, pxe: Path, version: str) -> None:
    """build/pxe: the same kernel, initrd and squashfs as the ISO, plus keel.ipxe and grub-netboot.cfg."""
    pxe.mkdir(parents=True, exist_ok=True)
    for name in ("vmlinuz", "initrd.img", "filesystem.squashfs"):
        link_or_copy(staging / "live" / name, pxe / name)
    (pxe / "keel.ipxe").write_text(render_ipxe(version))
    (pxe / "grub-netboot.cfg").write_text(render_grub_netboot(version))
