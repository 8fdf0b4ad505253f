#!/usr/bin/env python3
"""Builds the keel-post-install Debian package (Architecture: all) from post-install/ with dpkg-deb.

usage: python3 post-install/build_deb.py --output build/
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = "keel-post-install"

DEPENDS = [
    "python3 (>= 3.11)",
    "util-linux",
    "mount",
    "dosfstools",
    "gdisk",
    # A boot loader to put onto the ESPs: systemd-boot on UEFI, GRUB for BIOS or Secure Boot.
    "systemd-boot-efi | grub-efi-amd64-bin | grub-pc-bin",
]
RECOMMENDS = ["systemd-boot-efi", "systemd-boot-tools", "grub-pc-bin"]
SUGGESTS = ["grub-efi-amd64-signed", "shim-signed"]
# proxmox-kernel-helper ships /usr/sbin/proxmox-boot-tool and the same grub-install diversion.
CONFLICTS = ["proxmox-kernel-helper"]

DESCRIPTION = """\
Keel's tools for the installed system
 keel-boot-tool keeps the kernels on the EFI system partitions of every boot
 disk in sync (systemd-boot on UEFI, GRUB for legacy BIOS and Secure Boot), so
 that a ZFS or Btrfs system boots from any one of its disks. It uses the same
 files as proxmox-boot-tool (/etc/kernel/proxmox-boot-uuids, /etc/kernel/cmdline,
 the pin files), which it also answers to.
 .
 Kernel, initramfs and grub-install hooks keep the ESPs current.
 .
 keel-firstboot runs the installer's [first-boot] hook once, at the ordering
 the answer names, and records its output and exit status; keel-provision.service
 runs the answer's [provision] steps once at first boot."""


FIRSTBOOT_UNITS = ("keel-firstboot-network-pre.service", "keel-firstboot-network-online.service",
                   "keel-firstboot-multi-user.service")
PROVISION_UNIT = "keel-provision.service"     # [provision]; the installer enables it when it writes provision.json


@dataclass(frozen=True)
class Entry:
    source: str  # relative to post-install/
    target: str  # absolute path on the installed system
    mode: int


def payload() -> list[Entry]:
    """Every file of the package."""
    entries = [Entry("bin/keel-boot-tool", "/usr/sbin/keel-boot-tool", 0o755),
               Entry("bin/keel-firstboot", "/usr/sbin/keel-firstboot", 0o755)]
    for package in ("keel_boot", "keel_firstboot"):
        for module in sorted((HERE / package).rglob("*.py")):       # subpackages too (keel_firstboot.provision)
            name = module.relative_to(HERE).as_posix()
            entries.append(Entry(name, f"/usr/lib/keel/{name}", 0o644))
    entries += [
        Entry("hooks/zz-keel-boot.postinst", "/etc/kernel/postinst.d/zz-keel-boot", 0o755),
        Entry("hooks/zz-keel-boot.postrm", "/etc/kernel/postrm.d/zz-keel-boot", 0o755),
        Entry("hooks/keel-boot-sync", "/etc/initramfs/post-update.d/keel-boot-sync", 0o755),
        Entry("hooks/000_keel-boot-header", "/etc/grub.d/000_keel-boot-header", 0o755),
        Entry("hooks/grub-install", "/usr/sbin/grub-install", 0o755),
        Entry("systemd/keel-boot-cleanup.service", "/usr/lib/systemd/system/keel-boot-cleanup.service", 0o644),
        # keel-firstboot: one unit per [first-boot] ordering; the installer enables the one the answer names
        *(Entry(f"systemd/{unit}", f"/usr/lib/systemd/system/{unit}", 0o644) for unit in FIRSTBOOT_UNITS),
        # the cluster's join service: a founder's and a joiner's provision steps enable it
        Entry("systemd/keel-join.service", "/usr/lib/systemd/system/keel-join.service", 0o644),
        Entry(f"systemd/{PROVISION_UNIT}", f"/usr/lib/systemd/system/{PROVISION_UNIT}", 0o644),
        Entry("README.md", f"/usr/share/doc/{PACKAGE}/README.md", 0o644),
    ]
    return entries


SYMLINKS = {"/usr/sbin/proxmox-boot-tool": "keel-boot-tool"}
MAINTAINER_SCRIPTS = ("preinst", "postinst", "prerm", "postrm")


class BuildError(RuntimeError):
    pass


def package_version() -> str:
    version_file = HERE / "VERSION"
    if version_file.is_file():
        version = version_file.read_text().strip()
    else:
        match = re.search(r'^version\s*=\s*"([^"]+)"', (HERE.parent / "pyproject.toml").read_text(), re.M)
        if not match:
            raise BuildError("no post-install/VERSION and no version in pyproject.toml")
        version = match.group(1)
    if not re.fullmatch(r"[0-9][A-Za-z0-9.+~-]*", version):
        raise BuildError(f"post-install/VERSION: '{version}' is not a Debian version")
    return version


def render_control(version: str, installed_kib: int) -> str:
    return (
        f"Package: {PACKAGE}\n"
        f"Version: {version}\n"
        "Architecture: all\n"
        "Maintainer: Keel developers <keel@localhost>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(DEPENDS)}\n"
        f"Recommends: {', '.join(RECOMMENDS)}\n"
        f"Suggests: {', '.join(SUGGESTS)}\n"
        f"Conflicts: {', '.join(CONFLICTS)}\n"
        "Section: admin\n"
        "Priority: optional\n"
        f"Description: {DESCRIPTION}\n"
    )


def stage(root: Path, version: str) -> None:
    files = payload()
    for entry in files:
        dest = root / entry.target.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / entry.source, dest)
        dest.chmod(entry.mode)
    for link, target in SYMLINKS.items():
        (root / link.lstrip("/")).symlink_to(target)
    debian = root / "DEBIAN"
    debian.mkdir()
    for script in MAINTAINER_SCRIPTS:
        shutil.copyfile(HERE / "debian" / script, debian / script)
        (debian / script).chmod(0o755)
    conffiles = sorted(e.target for e in files if e.target.startswith("/etc/"))
    (debian / "conffiles").write_text("".join(f"{c}\n" for c in conffiles))
    md5sums = "".join(
        f"{hashlib.md5((root / e.target.lstrip('/')).read_bytes()).hexdigest()}  {e.target.lstrip('/')}\n"
        for e in sorted(files, key=lambda e: e.target)
    )
    (debian / "md5sums").write_text(md5sums)
    size = sum((root / e.target.lstrip("/")).stat().st_size for e in files)
    (debian / "control").write_text(render_control(version, (size + 1023) // 1024))
    for path in [root, *root.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o755)


def build(output: Path) -> Path:
    if shutil.which("dpkg-deb") is None:
        raise BuildError("dpkg-deb is not installed (package dpkg)")
    version = package_version()
    output.mkdir(parents=True, exist_ok=True)
    deb = output / f"{PACKAGE}_{version}_all.deb"
    with tempfile.TemporaryDirectory(prefix="keel-deb-") as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        stage(root, version)
        env = dict(os.environ)
        env.setdefault("SOURCE_DATE_EPOCH", "0")
        proc = subprocess.run(
            ["dpkg-deb", "--root-owner-group", "-Zxz", "--build", str(root), str(deb)],
            capture_output=True,
            text=True,
            timeout=300,
            env=env,
            check=False,
        )
        if proc.returncode != 0:
            raise BuildError(f"dpkg-deb --build failed: {(proc.stderr or proc.stdout).strip()}")
    return deb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Build the keel-post-install .deb (keel-boot-tool, its hooks and units).",
        epilog="example:\n  python3 post-install/build_deb.py --output build/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--output", type=Path, required=True, help="directory for the .deb")
    args = parser.parse_args(argv)
    try:
        deb = build(args.output)
    except BuildError as exc:
        print(f"build_deb: {exc}", file=sys.stderr)
        return 1
    print(deb)
    return 0


if __name__ == "__main__":
    sys.exit(main())
