"""grub.cfg prepared when the ISO is built, so an LVM install need not run update-grub.

update-grub was the longest step of an LVM install after the extraction: Debian's grub-mkconfig starts about 145
programs for one kernel (sed, cat, gettext, grub-probe ...), 15-20 s under TCG even with grub-probe's answers
cached (installer/bootloader/probe_cache.py). What it writes depends on:

- the payload's GRUB scripts and defaults (/etc/grub.d, /etc/default/grub, grub-mkconfig and its library), the
  kernels in /boot, and /etc/default/grub.d/keel.cfg, which the installer writes from the kernel command line;
- grub-probe's answers about / and /boot: the root device (/dev/mapper/<vg>-root), its file system (ext2 for
  ext4, xfs), its partition map and LVM, and three identifiers: the file system's UUID and the LVM ids of the
  volume group and of the root LV (`lvmid/<vg uuid>/<lv uuid>`);
- the locale it runs in.

The ISO build (iso-build/keel_iso/grubcfg.py) runs the payload's grub-mkconfig with a stand-in grub-probe that
answers as the real one does on an install (recorded in a guest) but with placeholder identifiers, once for each
file system and for each keel.cfg the boot menu's entries lead to, and stores each output under the digest of its
inputs. The install computes the same digest from the target's files: a prepared grub.cfg is used only when every
input is the one the build saw, with the real identifiers put in for the placeholders; otherwise update-grub runs
as before. The e2e tests compare the result with the installed system's own update-grub byte for byte.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

from installer.runner import Runner
from installer.storage.plan import StoragePlan

PREPARED_DIR = Path("/usr/share/keel/grub-cfg")      # in the live environment, beside the payload
GRUB_CFG = "/boot/grub/grub.cfg"

# The placeholders the build's grub-probe gives for the three identifiers; the formats of the real ones (an LVM
# UUID is 32 letters and digits in groups of 6-4-4-4-4-4-6), so no script treats them differently.
FS_UUID = "00000000-0000-4000-8000-6b65656c0001"
VG_UUID = "KEELvg-0000-0000-0000-0000-0000-grubvg"
LV_UUID = "KEELlv-0000-0000-0000-0000-0000-grublv"

# What grub-mkconfig reads from the system, relative to its root (besides grub-probe's answers)
INPUT_FILES = ("etc/default/grub", "usr/sbin/grub-mkconfig", "usr/sbin/update-grub", "usr/share/grub/grub-mkconfig_lib")
INPUT_DIRS = ("etc/default/grub.d", "etc/grub.d")
LOCALE_VARS = ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")


class PreparedCfgError(ValueError):
    """A prepared grub.cfg that does not hold the placeholders it was made with (a broken ISO build)."""


def grub_fs(filesystem: str) -> str:
    """GRUB's name for a root file system type of the LVM layouts: ext4 is GRUB's "ext2" module."""
    return {"ext4": "ext2", "xfs": "xfs"}[filesystem]


def root_device(vg: str) -> str:
    """The root LV's device as grub-probe names it: the digest's device, and the stand-in's answer at build time."""
    return f"/dev/mapper/{vg}-root"


def input_digest(root: Path, *, fs: str, device: str, env: Mapping[str, str]) -> str:
    """The digest of everything grub-mkconfig's output depends on but the three identifiers: the files under `root`
    it reads, the regular files in /boot (by name: the installer appends to the initrd, which GRUB only looks for),
    GRUB's name of the root file system, the root device, and the locale variables of `env`."""
    digest = hashlib.sha256()

    def add(label: str, data: bytes) -> None:
        digest.update(f"{label}\0{len(data)}\0".encode())
        digest.update(data)

    add("fs", fs.encode())
    add("device", device.encode())
    for var in LOCALE_VARS:
        add(f"env {var}", env.get(var, "\0unset").encode())
    for rel in INPUT_FILES:
        path = root / rel
        add(rel, path.read_bytes() if path.is_file() else b"\0missing")
    for rel in INPUT_DIRS:
        directory = root / rel
        entries = sorted(directory.iterdir()) if directory.is_dir() else []
        for path in entries:
            if path.is_file():
                executable = os.access(path, os.X_OK)
                add(f"{rel}/{path.name} x={executable}", path.read_bytes())
    boot = root / "boot"
    names = sorted(p.name for p in boot.iterdir() if p.is_file()) if boot.is_dir() else []
    add("boot", "\n".join(names).encode())
    return digest.hexdigest()[:32]


def fill_in(template: str, *, fs_uuid: str, vg_uuid: str, lv_uuid: str) -> str:
    """The prepared grub.cfg with the install's identifiers for the placeholders. A template without the file
    system's placeholder, or with one left over after the substitution, raises PreparedCfgError."""
    if FS_UUID not in template:
        raise PreparedCfgError("the prepared grub.cfg does not name the root file system's UUID placeholder")
    text = template.replace(FS_UUID, fs_uuid).replace(VG_UUID, vg_uuid).replace(LV_UUID, lv_uuid)
    if any(token in text for token in (FS_UUID, VG_UUID, LV_UUID)):
        raise PreparedCfgError("a placeholder is left in the prepared grub.cfg")
    return text


def prepared_path(directory: Path, digest: str) -> Path:
    return directory / f"{digest}.cfg"


def write_grub_cfg(target: Path, text: str) -> None:
    """Write /boot/grub/grub.cfg into `target` as grub-mkconfig does: an existing file keeps its mode, a new one is
    private to root (grub-mkconfig writes under umask 077)."""
    path = target / GRUB_CFG.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)


def lvm_ids(runner: Runner, lv: str) -> tuple[str, str]:
    """(VG UUID, LV UUID) of `lv` ("pve/root"), as LVM prints them and GRUB names them in lvmid/<vg>/<lv>."""
    words = runner.run(["lvs", "--noheadings", "--options", "vg_uuid,lv_uuid", lv], timeout=120).stdout.split()
    if len(words) != 2:
        raise PreparedCfgError(f"lvs gave no VG and LV UUID for {lv}: {' '.join(words) or 'nothing'}")
    return words[0], words[1]


def prepared_grub_cfg(target: Path, plan: StoragePlan, runner: Runner, *, directory: Path = PREPARED_DIR,
                      env: Mapping[str, str] = os.environ) -> str | None:
    """The grub.cfg the ISO build prepared for this install's inputs, with its identifiers, or None when there is
    none for them (not an LVM layout, a keel.cfg no boot menu entry leads to, an ISO built without them): then
    update-grub has to run."""
    if plan.lvm is None or not plan.filesystem.uses_lvm:
        return None
    vg = plan.lvm.vg
    digest = input_digest(target, fs=grub_fs(plan.filesystem), device=root_device(vg), env=env)
    path = prepared_path(directory, digest)
    if not path.is_file():
        return None
    vg_uuid, lv_uuid = lvm_ids(runner, f"{vg}/root")
    return fill_in(path.read_text(), fs_uuid=plan.fs_uuids["root"], vg_uuid=vg_uuid, lv_uuid=lv_uuid)
