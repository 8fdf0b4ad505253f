"""The text files keel-boot-tool writes onto an ESP: systemd-boot entries, loader.conf and GRUB's grub.cfg."""

from __future__ import annotations

import re

VENDOR_DIR = "EFI/keel"
ENTRY_PREFIX = "keel-"
DEFAULT_TIMEOUT = 3

_SERIAL_CONSOLE = re.compile(r"^console=ttyS(\d+)(?:,(\d+))?")
_GRUB_PLAIN = re.compile(r"^[A-Za-z0-9_.,:/=+@%-]+$")


def entry_name(version: str) -> str:
    """The loader entry file name; loader.conf's `default` names it."""
    return f"{ENTRY_PREFIX}{version}.conf"


def sd_kernel_path(version: str) -> str:
    return f"{VENDOR_DIR}/{version}/vmlinuz-{version}"


def sd_initrd_path(version: str) -> str:
    return f"{VENDOR_DIR}/{version}/initrd.img-{version}"


def render_loader_entry(title: str, version: str, cmdline: str) -> str:
    return (
        f"title   {title}\n"
        f"version {version}\n"
        f"options {cmdline}\n"
        f"linux   /{sd_kernel_path(version)}\n"
        f"initrd  /{sd_initrd_path(version)}\n"
    )


def render_loader_conf(existing: str | None, default_version: str) -> str:
    """loader.conf with `default` set to the entry of `default_version`; other settings a person made stay."""
    lines = (existing or "").splitlines()
    kept = [line for line in lines if line.split()[:1] != ["default"]]
    if not any(line.split()[:1] == ["timeout"] for line in kept):
        kept.insert(0, f"timeout {DEFAULT_TIMEOUT}")
    kept.append(f"default {entry_name(default_version)}")
    return "\n".join(kept) + "\n"


def _grub_quoted(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _grub_word(word: str) -> str:
    # GRUB's script parser expands $ and splits on ; { } etc.: quote anything beyond plain characters.
    return word if _GRUB_PLAIN.match(word) else _grub_quoted(word)


def _serial_setup(cmdline: str) -> list[str]:
    unit = speed = None
    for word in cmdline.split():
        match = _SERIAL_CONSOLE.match(word)
        if match:
            unit, speed = match.group(1), match.group(2) or "115200"
    if unit is None:
        return []
    return [
        f"serial --unit={unit} --speed={speed}",
        "terminal_input console serial",
        "terminal_output console serial",
    ]


def render_grub_cfg(uuid: str, title: str, versions: tuple[str, ...], default_version: str, cmdline: str) -> str:
    """grub.cfg for GRUB installed onto the ESP (BIOS or Secure Boot): one entry per synced kernel."""
    args = " ".join(_grub_word(w) for w in cmdline.split())
    lines = [
        "# Written by keel-boot-tool refresh from /etc/kernel/cmdline and the synced kernels;",
        "# edit those and run 'keel-boot-tool refresh' instead of this file.",
        "insmod part_gpt",
        "insmod part_msdos",
        "insmod fat",
        f"search --no-floppy --fs-uuid --set=root {uuid}",
        *_serial_setup(cmdline),
        f"set timeout={DEFAULT_TIMEOUT}",
        f"set default={_grub_quoted(ENTRY_PREFIX + default_version)}",
    ]
    for version in versions:
        lines += [
            "",
            f"menuentry {_grub_quoted(f'{title}, Linux {version}')} --id {_grub_quoted(ENTRY_PREFIX + version)} {{",
            f"\tlinux /vmlinuz-{version} {args}",
            f"\tinitrd /initrd.img-{version}",
            "}",
        ]
    return "\n".join(lines) + "\n"


def render_grub_pin_cfg(version: str, root_id: str) -> str:
    """/etc/default/grub.d snippet pinning a kernel on a plain GRUB system (no ESP sync).

    The ids are those Debian's 10_linux gives its "Advanced options" submenu and entries; `root_id` is the
    root filesystem's UUID as grub-probe reports it.
    """
    return (
        "# Written by keel-boot-tool kernel pin; 'keel-boot-tool kernel unpin' removes it.\n"
        f'GRUB_DEFAULT="gnulinux-advanced-{root_id}>gnulinux-{version}-advanced-{root_id}"\n'
    )
