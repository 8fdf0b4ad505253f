"""grub.cfg for the LVM layouts, made at build time so an install need not run update-grub
(installer/bootloader/prepared_cfg.py says why and how the install uses them).

The payload's own grub-mkconfig runs in the payload tree, once per root file system (ext4, xfs) and per keel.cfg
the boot menu's entries lead to, with a stand-in grub-probe. It answers what the real grub-probe answered in the
chroot of an install (every question update-grub asked, recorded in a guest on 2026-12-03) but with placeholder
identifiers; a question it does not know fails the build, naming the question, rather than producing a grub.cfg
that could differ from update-grub's. Each output is stored as <digest of its inputs>.cfg.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from installer.bootloader import prepared_cfg
from installer.core.cmdline import target_cmdline
from installer.installed_system.render.kernel import grub_defaults
from installer.runner import Runner

FILESYSTEMS = ("ext4", "xfs")
VG = "pve"
DEVICE = prepared_cfg.root_device(VG)
KEEL_CFG = "etc/default/grub.d/keel.cfg"
PROBE = "usr/sbin/grub-probe"
PROBE_ASIDE = "usr/sbin/grub-probe.keel-build"
UNKNOWN_LOG = "var/tmp/keel-grub-probe.unknown"
OUTPUT = "var/tmp/keel-grub.cfg"
ENV = {"LANG": "C.UTF-8"}     # what keel-live-start gives the installer (LANGUAGE and LC_* unset)
LVMID = f"lvmid/{prepared_cfg.VG_UUID}/{prepared_cfg.LV_UUID}"

# The stand-in: the answer to each question (the --target; grub-probe's default target is fs), whatever device or
# path it is asked about: on an LVM install / and /boot are the same LV. These are the eight questions update-grub
# asked on an ext4 and an xfs install (24 times in all), answered as there: the LV has no partition UUID (an empty
# line, status 0), and the hints string ends in a space.
STAND_IN = f"""#!/bin/sh
# Keel ISO build: grub-probe's answers on an LVM install, with placeholder identifiers (iso-build/keel_iso/grubcfg.py)
target=fs
for arg in "$@"; do
    case "$prev" in -t|--target) target=$arg ;; esac
    case "$arg" in --target=*) target=${{arg#--target=}} ;; esac
    prev=$arg
done
case "$target" in
    device) echo {DEVICE} ;;
    fs) echo "$KEEL_GRUB_FS" ;;
    fs_uuid) echo {prepared_cfg.FS_UUID} ;;
    partmap) echo gpt ;;
    abstraction) echo lvm ;;
    compatibility_hint) echo "{LVMID}" ;;
    hints_string) echo "--hint='{LVMID}' " ;;
    partuuid) echo ;;
    *) echo "$*" >> /{UNKNOWN_LOG}; exit 1 ;;
esac
"""


def keel_cfgs(entry_args: Iterable[str]) -> list[str]:
    """The distinct keel.cfg files the installer writes for boot menu entries with these kernel parameters."""
    return list(dict.fromkeys(grub_defaults(target_cmdline(args)) for args in entry_args))


def prepare(runner: Runner, tree: Path, out: Path, entry_args: Iterable[str]) -> list[Path]:
    """Run the payload's grub-mkconfig in `tree` (a chroot with /proc, /sys and /dev mounted) for each file system
    and keel.cfg; write <digest>.cfg files into `out` and return them. The tree is left as it was."""
    out.mkdir(parents=True, exist_ok=True)
    probe, aside, keel_cfg = tree / PROBE, tree / PROBE_ASIDE, tree / KEEL_CFG
    unknown, output = tree / UNKNOWN_LOG, tree / OUTPUT
    if keel_cfg.exists():
        raise RuntimeError(f"the payload already has /{KEEL_CFG}: the installer's would replace it")
    # 05_debian_theme works in /boot/grub (and fails without it); on an install grub-install has made it
    grub_dir = tree / "boot/grub"
    made_grub_dir = not grub_dir.exists()
    written = []
    os.rename(probe, aside)
    try:
        grub_dir.mkdir(parents=True, exist_ok=True)
        probe.write_text(STAND_IN)
        probe.chmod(0o755)
        keel_cfg.parent.mkdir(parents=True, exist_ok=True)
        for fs in FILESYSTEMS:
            for text in keel_cfgs(entry_args):
                keel_cfg.write_text(text)
                unknown.unlink(missing_ok=True)
                env = {**ENV, "KEEL_GRUB_FS": prepared_cfg.grub_fs(fs)}
                runner.run(["env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", *(f"{k}={v}" for k, v in env.items()),
                            "chroot", str(tree), "grub-mkconfig", "-o", f"/{OUTPUT}"], timeout=600)
                if unknown.exists():
                    raise RuntimeError("grub-mkconfig asked grub-probe what the build's stand-in does not know: "
                                       + "; ".join(unknown.read_text().splitlines()))
                digest = prepared_cfg.input_digest(tree, fs=prepared_cfg.grub_fs(fs), device=DEVICE, env=ENV)
                path = prepared_cfg.prepared_path(out, digest)
                path.write_text(output.read_text())
                written.append(path)
    finally:
        for path in (keel_cfg, unknown, output):
            path.unlink(missing_ok=True)
        if made_grub_dir:
            grub_dir.rmdir()
        os.replace(aside, probe)
    return written
