"""The boot media: the hybrid BIOS/UEFI ISO (grub-mkrescue + xorriso) and the PXE directory."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from installer.runner import Runner

from .bootmenu import render_grub_cfg, render_grub_netboot, render_ipxe

# Debian's iPXE builds (package ipxe), shipped in build/pxe so a network's DHCP server can hand firmware PXE one
# of them: ipxe.efi (UEFI, iPXE's own NIC drivers), snponly.efi (UEFI, through the firmware's network driver) and
# undionly.kpxe (BIOS, through the NIC's PXE ROM). Each then runs an iPXE script: keel.ipxe, or a boot.ipxe
# that sets keel-base and chains it.
IPXE_DIR = Path("/usr/lib/ipxe")
PXE_LOADERS = ("ipxe.efi", "snponly.efi", "undionly.kpxe")
PXE_FILES = ("vmlinuz", "initrd.img", "filesystem.squashfs")


def pxe_artifacts() -> tuple[str, ...]:
    """Every file write_pxe puts in build/pxe."""
    return (*PXE_FILES, "keel.ipxe", "grub-netboot.cfg", *PXE_LOADERS)


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


def write_pxe(staging: Path, pxe: Path, version: str, ipxe_dir: Path = IPXE_DIR) -> None:
    """build/pxe: the same kernel, initrd and squashfs as the ISO, keel.ipxe, grub-netboot.cfg and the iPXE
    loaders (PXE_LOADERS) for BIOS and UEFI network boot."""
    missing = [name for name in PXE_LOADERS if not (ipxe_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"PXE loaders {', '.join(missing)} are not in {ipxe_dir}: install Debian's "
                                "ipxe package (make deps)")
    pxe.mkdir(parents=True, exist_ok=True)
    for name in PXE_FILES:
        link_or_copy(staging / "live" / name, pxe / name)
    for name in PXE_LOADERS:
        shutil.copyfile(ipxe_dir / name, pxe / name)
    (pxe / "keel.ipxe").write_text(render_ipxe(version))
    (pxe / "grub-netboot.cfg").write_text(render_grub_netboot(version))
