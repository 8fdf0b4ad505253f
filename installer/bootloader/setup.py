"""Boot loader installation on the mounted target, per reference §4.1, as a list of problems rather than a crash.

ext4/xfs (LVM): GRUB for BIOS on every selected disk that is not 4Kn, GRUB EFI into every ESP, then the boot
entry's files copied to the removable fallback path (EFI/BOOT/BOOTX64.EFI, which firmware without boot entries, like
OVMF, boots), and update-grub. The copy is what Proxmox does and what a second `grub-install --removable` would
write (compared file by file in a guest), without its second pass over GRUB's ~300 modules (6-8 s under TCG).
update-grub runs beside the grub-install steps: it writes only /boot/grub/grub.cfg, which they neither read nor
write, and its grub-probe calls only read the disks. On LVM it is the longest step after the extraction: 43.6 s
under TCG with nothing cached, 24 runs of grub-probe for 12 questions (see installer/bootloader/probe_cache.py).
It does not run at all when the ISO build prepared the grub.cfg for this install's inputs
(installer/bootloader/prepared_cfg.py).

ZFS/Btrfs: one `keel-boot-tool init <esp>...` for all ESPs: a boot loader and the kernels onto each in one mount,
which keeps kernels on all ESPs in sync from then on (one init per ESP re-synced the earlier ESPs each time).
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from installer.core.config import Filesystem
from installer.core.hardware import HardwareProfile
from installer.runner import CommandError
from installer.storage.plan import StoragePlan

BOOTLOADER_ID = "keel"
REMOVABLE_DIR = "EFI/BOOT"
REMOVABLE_LOADER = "BOOTX64.EFI"
SHIM = "shimx64.efi"
GRUB_EFI_IMAGE = "grubx64.efi"
# shim's fallback: on the removable path it would make boot entries from BOOTX64.CSV and reboot
SHIM_FALLBACK = "fbx64.efi"
GRUB_TIMEOUT = 600.0


class BootloaderError(RuntimeError):
    """One or more disks could not be made bootable; one line per problem."""

    def __init__(self, problems: list[str], detail: str = ""):
        self.problems = problems
        self.detail = detail          # the failing commands' output tails
        if len(problems) == 1:      # the one problem on the first line, which is what the error event shows
            super().__init__(f"boot loader setup failed: {problems[0]}")
        else:
            super().__init__(f"boot loader setup failed ({len(problems)} problems):\n"
                             + "\n".join(f"- {p}" for p in problems))


@dataclass(frozen=True)
class BootStep:
    """One command of the boot loader setup, run inside the target chroot."""

    argv: tuple[str, ...]
    disk: str                       # the disk it is for ("" for whole-system steps)
    fatal: bool = True              # a failure fails the install; else it is a warning
    esp: str | None = None          # the ESP to mount on /boot/efi while it runs
    beside: bool = False            # starts first and runs beside the other steps (touches nothing they use)
    removable: bool = False         # then the boot entry's files are copied to the removable path of the ESP

    def describe(self) -> str:
        text = shlex.join(self.argv)
        if self.removable:
            text += (f"; then EFI/{BOOTLOADER_ID}/* copied to {REMOVABLE_DIR}/"
                     f" ({SHIM} or {GRUB_EFI_IMAGE} as {REMOVABLE_LOADER})")
        return text


def removable_copies(names: Iterable[str]) -> dict[str, str]:
    """Which of the files grub-install put in EFI/<id>/ go to the removable path, under which name: shim (or, without
    it, GRUB) becomes BOOTX64.EFI, the rest keep their names; shim's fallback stays behind. Nothing to copy from
    (no loader among `names`) raises ValueError."""
    present = set(names)
    loader = SHIM if SHIM in present else GRUB_EFI_IMAGE
    if loader not in present:
        raise ValueError(f"neither {SHIM} nor {GRUB_EFI_IMAGE} is in EFI/{BOOTLOADER_ID}")
    return {name: REMOVABLE_LOADER if name == loader else name
            for name in sorted(present) if name != SHIM_FALLBACK}


def copy_to_removable_path(esp_root: Path) -> None:
    """Copy the boot entry's files (EFI/<id>/) to the removable path on the ESP mounted at `esp_root`."""
    source = esp_root / "EFI" / BOOTLOADER_ID
    files = [p.name for p in source.iterdir() if p.is_file()] if source.is_dir() else []
    dest = esp_root / REMOVABLE_DIR
    dest.mkdir(parents=True, exist_ok=True)
    for name, as_name in removable_copies(files).items():
        shutil.copyfile(source / name, dest / as_name)


def esp_of(disk) -> str | None:
    esp = next((p for p in disk.partitions if p.type == "esp"), None)
    return esp.path if esp else None


def boot_steps(plan: StoragePlan, hardware: HardwareProfile, update_grub: bool = True) -> list[BootStep]:
    """The commands that make the planned disks bootable, in order; pure, so the plan can be shown and tested.
    Without `update_grub` (the install wrote a grub.cfg the ISO build prepared), GRUB's configuration is left alone."""
    efi = hardware.boot_mode == "efi"
    steps: list[BootStep] = []
    if plan.filesystem in (Filesystem.ZFS, Filesystem.BTRFS):
        mode = ("grub",) if hardware.secure_boot else ()
        esps = [esp for esp in map(esp_of, plan.disks) if esp]
        disks = ", ".join(disk.path for disk in plan.disks if esp_of(disk))
        return [BootStep(("keel-boot-tool", "init", *esps, *mode), disks)] if esps else []
    for disk in plan.disks:
        if disk.logical_block_size != 4096 and any(p.type == "bios-boot" for p in disk.partitions):
            steps.append(BootStep(("grub-install", "--target=i386-pc", "--no-floppy",
                                   f"--bootloader-id={BOOTLOADER_ID}", disk.path), disk.path, fatal=not efi))
        esp = esp_of(disk)
        if esp:
            common = ("grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi",
                      f"--bootloader-id={BOOTLOADER_ID}")
            nvram = () if efi else ("--no-nvram",)
            steps.append(BootStep((*common, *nvram, disk.path), disk.path, fatal=efi, esp=esp, removable=True))
    if update_grub:
        steps.append(BootStep(("update-grub",), "", beside=True))
    return steps


StepError = CommandError | OSError | ValueError     # a failed command, or a failed copy to the removable path
MountEsp = Callable[[str], AbstractContextManager[Path]]      # the ESP mounted on the target's /boot/efi
RunInChroot = Callable[[list[str]], object]


def install_bootloader(plan: StoragePlan, hardware: HardwareProfile, run: RunInChroot, mount_esp: MountEsp,
                       warn: Callable[[str], None], progress: Callable[[float, str], None], *,
                       dry_run: bool = False, update_grub: bool = True) -> None:
    """Run every boot step, the `beside` ones in a second thread from the start; collect failures and raise
    BootloaderError once at the end, as Proxmox does. A dry run only records the commands (no files are copied)."""
    steps = boot_steps(plan, hardware, update_grub)
    problems: list[str] = []
    outputs: list[str] = []

    def outcome(step: BootStep, err: StepError | None) -> None:
        if err is None:
            return
        if not isinstance(err, CommandError):       # the copy to the removable path
            err = CommandError(step.argv, f"copying the boot loader to {REMOVABLE_DIR} failed: {err}")
        line = str(err).splitlines()[0]
        if not step.fatal:
            warn(f"{step.disk}: {line} - ignored (the machine did not boot in this mode)")
            return
        problems.append(f"{step.disk or 'system'}: {line}")
        tail = err.output.strip().splitlines()[-10:]
        if tail:
            outputs.append("\n".join([f"output of {' '.join(step.argv)}:", *(f"  {t}" for t in tail)]))

    def attempt(step: BootStep) -> StepError | None:
        try:
            if step.esp:
                with mount_esp(step.esp) as esp_root:
                    run(list(step.argv))
                    if step.removable and not dry_run:
                        copy_to_removable_path(esp_root)
            else:
                run(list(step.argv))
        except (CommandError, OSError, ValueError) as err:
            return err
        return None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="boot-beside") as pool:
        beside: list[tuple[BootStep, Future[StepError | None]]] = [
            (step, pool.submit(attempt, step)) for step in steps if step.beside]
        for i, step in enumerate(steps):
            progress(i / len(steps), " ".join(step.argv[:2]) + (f" {step.disk}" if step.disk else ""))
            if step.beside:
                continue
            outcome(step, attempt(step))
        for step, future in beside:
            outcome(step, future.result())
    progress(1.0, "")
    if problems:
        raise BootloaderError(problems, "\n".join(outputs))
