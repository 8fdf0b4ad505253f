"""Checks that the build host can build the ISO, each failure a one-line message saying what to do."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MIN_FREE_BYTES = 10 * 1024**3


@dataclass(frozen=True)
class HostTool:
    path: str      # a program name (looked up on PATH) or an absolute path that must exist
    package: str   # the Debian package providing it


HOST_TOOLS = (
    HostTool("debootstrap", "debootstrap"),
    HostTool("mksquashfs", "squashfs-tools"),
    HostTool("unsquashfs", "squashfs-tools"),
    HostTool("xorriso", "xorriso"),
    HostTool("grub-mkrescue", "grub-common"),
    HostTool("/usr/lib/grub/i386-pc/boot_hybrid.img", "grub-pc-bin"),
    HostTool("/usr/lib/grub/x86_64-efi/linux.mod", "grub-efi-amd64-bin"),
    HostTool("mformat", "mtools"),
    HostTool("dpkg-deb", "dpkg"),
    HostTool("chroot", "coreutils"),
    HostTool("xz", "xz-utils"),
)


class HostError(RuntimeError):
    """The build host lacks something the build needs."""


def missing_tools(tools=HOST_TOOLS, which: Callable[[str], str | None] = shutil.which,
                  exists: Callable[[str], bool] = os.path.exists) -> list[HostTool]:
    return [t for t in tools if not (exists(t.path) if t.path.startswith("/") else which(t.path))]


def check_host(dirs: list[Path]) -> None:
    """Raise HostError when not root, a host package is missing, or a build directory has < 10 GiB free."""
    if os.geteuid() != 0:
        raise HostError("the ISO build needs root (debootstrap, chroot, mounts): run it as root")
    missing = missing_tools()
    if missing:
        packages = sorted({t.package for t in missing})
        names = ", ".join(t.path for t in missing)
        raise HostError(f"missing host package(s) {' '.join(packages)} (for {names}): `make deps` installs them")
    for directory in dirs:
        probe = directory
        while not probe.exists():
            probe = probe.parent
        free = shutil.disk_usage(probe).free
        if free < MIN_FREE_BYTES:
            raise HostError(f"{directory}: only {free / 1024**3:.1f} GiB free, the build needs about 10 GiB")
