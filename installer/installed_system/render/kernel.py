"""Kernel-related files: /etc/kernel/cmdline, the ZFS module options and GRUB's defaults (serial console)."""

from __future__ import annotations

import re

from installer.core import rules
from installer.core.config import Filesystem, InstallConfig
from installer.storage.plan import StoragePlan

MiB = 1024**2
SERIAL_CONSOLE = re.compile(r"^console=ttyS(\d+)(?:,(\d+))?")


def kernel_cmdline(plan: StoragePlan, config: InstallConfig) -> str:
    return " ".join(part for part in (plan.kernel_root, config.target_cmdline.strip()) if part)


def render_kernel_cmdline(plan: StoragePlan, config: InstallConfig) -> str:
    """/etc/kernel/cmdline: what keel-boot-tool puts on the kernel line of ESP-synced boot entries."""
    return kernel_cmdline(plan, config) + "\n"


def arc_max_bytes(plan: StoragePlan, memory_mib: int) -> int:
    """The ARC limit the installed system gets: the ZFS plan's value, else the default for this much RAM."""
    mib = plan.zfs.arc_max_mib if plan.zfs else rules.default_arc_max_mib(memory_mib)
    return mib * MiB


def render_zfs_conf(plan: StoragePlan, memory_mib: int) -> str:
    """/etc/modprobe.d/zfs.conf, written on every install so a later ZFS pool gets a sane ARC limit."""
    return f"options zfs zfs_arc_max={arc_max_bytes(plan, memory_mib)}\n"


def serial_console(cmdline: str) -> tuple[int, int] | None:
    """(unit, speed) of the last `console=ttyS<n>[,<baud>]` on a kernel command line, or None."""
    found = None
    for word in cmdline.split():
        match = SERIAL_CONSOLE.match(word)
        if match:
            found = (int(match.group(1)), int(match.group(2) or 9600))
    return found


def render_grub_defaults(plan: StoragePlan, config: InstallConfig) -> str:
    """/etc/default/grub.d/keel.cfg: the installer's kernel parameters and, on a serial console, GRUB on it too."""
    return grub_defaults(config.target_cmdline, plan.kernel_root if plan.filesystem == Filesystem.ZFS else "")


def grub_defaults(target_cmdline: str, root: str = "") -> str:
    """keel.cfg for a target command line, `root` (ZFS's root= and boot=) first. The ISO build prepares grub.cfg
    for the keel.cfg of each boot menu entry (installer/bootloader/prepared_cfg.py)."""
    lines = ["# Written by the Keel installer."]
    extra = [part for part in (root, target_cmdline.strip()) if part]
    if extra:
        lines.append(f'GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX {" ".join(extra)}"')
    serial = serial_console(target_cmdline)
    if serial:
        unit, speed = serial
        lines += [
            'GRUB_TERMINAL_INPUT="console serial"',
            'GRUB_TERMINAL_OUTPUT="gfxterm serial"',
            f'GRUB_SERIAL_COMMAND="serial --unit={unit} --speed={speed}"',
        ]
    return "\n".join(lines) + "\n"
