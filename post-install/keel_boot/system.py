"""The system edges of keel-boot-tool: devices, mounts, the private mount namespace and boot-loader installs."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from .command import Runner
from .partition import ESP_TYPE_GUID, BlockInfo, DeviceError, parse_lsblk
from .render import VENDOR_DIR
from .state import SystemPaths
from .tree import DirectoryTree, EspTree

NAMESPACE_MARKER = "KEEL_BOOT_TOOL_PRIVATE_MOUNTS"
BOOTLOADER_ID = VENDOR_DIR.split("/")[1]

SYSTEMD_BOOT = "systemd-boot"
GRUB_EFI = "grub-efi"
GRUB_BIOS = "grub-bios"


def choose_bootloader(want_grub: bool, efi_booted: bool, grub_efi_present: bool) -> str:
    """systemd-boot on UEFI, GRUB when asked (Secure Boot) or already there, GRUB i386-pc on legacy BIOS."""
    if not efi_booted:
        return GRUB_BIOS
    return GRUB_EFI if want_grub or grub_efi_present else SYSTEMD_BOOT


class System:
    """The real machine (or the installer's target chroot) behind one Runner."""

    def __init__(self, paths: SystemPaths, runner: Runner, reexec_argv: list[str] | None = None):
        self.paths = paths
        self.runner = runner
        # How to start this very command again under unshare(1) where os.unshare is missing (Python < 3.12);
        # only the command line entry point sets it, a library caller is never replaced by a new process.
        self.reexec_argv = reexec_argv

    # -- facts -------------------------------------------------------------------------------------------
    def efi_booted(self) -> bool:
        return self.paths.efi_firmware.is_dir()

    def running_kernel(self) -> str:
        return os.uname().release

    def is_root(self) -> bool:
        return os.geteuid() == 0

    def block_info(self, device: str) -> BlockInfo:
        try:
            mode = os.stat(device).st_mode
        except FileNotFoundError as exc:
            raise DeviceError(f"'{device}' does not exist") from exc
        if not stat.S_ISBLK(mode):
            raise DeviceError(f"'{device}' is not a block device")
        out = self.runner.run(
            ["lsblk", "--json", "--bytes", "--nodeps", "-o",
             "NAME,PATH,TYPE,SIZE,FSTYPE,UUID,PARTTYPE,PKNAME,MOUNTPOINTS", device],
            timeout=30,
        ).stdout
        info = parse_lsblk(out)
        holders = self._holders(device)
        probed = self._probe(device)
        return BlockInfo(
            path=info.path,
            type=info.type,
            size=info.size,
            parent=info.parent,
            fstype=probed.get("TYPE") or info.fstype,
            uuid=probed.get("UUID") or info.uuid,
            parttype=(probed.get("PART_ENTRY_TYPE") or info.parttype or "").lower() or None,
            mountpoints=info.mountpoints,
            children=holders,
        )

    def _holders(self, device: str) -> tuple[str, ...]:
        name = Path(os.path.realpath(device)).name
        holders = Path("/sys/class/block") / name / "holders"
        return tuple(sorted(p.name for p in holders.iterdir())) if holders.is_dir() else ()

    def _probe(self, device: str) -> dict[str, str]:
        # A low-level probe: fresh after mkfs, and needs no udev database (chroots, no udevd).
        result = self.runner.run(["blkid", "-p", "-o", "export", device], timeout=30, check=False)
        return dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)

    def partition_number(self, device: str) -> int:
        name = Path(os.path.realpath(device)).name
        return int((Path("/sys/class/block") / name / "partition").read_text())

    def esp_device(self, uuid: str) -> str | None:
        """The partition holding the vfat filesystem `uuid`, or None when it is gone."""
        link = self.paths.by_uuid / uuid
        if link.exists():
            return str(link)
        result = self.runner.run(["blkid", "-l", "-o", "device", "-t", f"UUID={uuid}"], timeout=30, check=False)
        device = result.stdout.strip()
        return device or None

    # -- mounts ------------------------------------------------------------------------------------------
    def enter_private_mount_namespace(self) -> None:
        """Mounts made from here on are invisible to the rest of the system and vanish when we exit."""
        if os.environ.get(NAMESPACE_MARKER):
            return
        if hasattr(os, "unshare"):
            os.unshare(os.CLONE_NEWNS)
            os.environ[NAMESPACE_MARKER] = "1"
            # Fails where "/" is no mount point (some chroots); our mounts are unmounted on every path anyway.
            self.runner.run(["mount", "--make-rprivate", "/"], timeout=30, check=False)
            return
        if not self.reexec_argv:
            raise DeviceError("cannot make a private mount namespace: Python < 3.12 and no command to re-run")
        os.environ[NAMESPACE_MARKER] = "1"
        argv = ["unshare", "--mount", "--propagation", "private", *self.reexec_argv]
        sys.stdout.flush()
        sys.stderr.flush()
        os.execvp(argv[0], argv)

    @contextlib.contextmanager
    def mounted_esp(self, uuid: str, device: str, read_only: bool = False) -> Iterator[tuple[Path, EspTree]]:
        """The ESP mounted at /var/tmp/espmounts/<uuid> for the duration of the block, never longer."""
        mountpoint = self.paths.esp_mounts / uuid
        mountpoint.mkdir(parents=True, exist_ok=True)
        options = ["-o", "ro"] if read_only else []
        try:
            self.runner.run(["mount", "-t", "vfat", *options, device, str(mountpoint)], timeout=60)
        except BaseException:
            with contextlib.suppress(OSError):
                mountpoint.rmdir()
            raise
        try:
            yield mountpoint, DirectoryTree(mountpoint)
        finally:
            self.runner.run(["umount", str(mountpoint)], timeout=120)
            with contextlib.suppress(OSError):
                mountpoint.rmdir()

    # -- boot loaders ------------------------------------------------------------------------------------
    def _grub_install(self) -> str:
        # Past the diversion, the real grub-install is grub-install.real; our guard wrapper refuses to run.
        for candidate in ("/usr/sbin/grub-install.real", "/usr/sbin/grub-install"):
            if os.access(candidate, os.X_OK):
                return candidate
        found = shutil.which("grub-install")
        if not found:
            raise DeviceError("grub-install is not installed (grub2-common with grub-pc-bin or grub-efi-amd64-bin)")
        return found

    def efivars_available(self) -> bool:
        efivars = self.paths.efi_firmware / "efivars"
        return efivars.is_dir() and any(efivars.iterdir())

    def install_bootloader(self, kind: str, mountpoint: Path, disk: str) -> None:
        esp = str(mountpoint)
        if kind == SYSTEMD_BOOT:
            # Relaxed ESP checks: in the installer's chroot there is no udev database to confirm the GPT type
            # (init checked it itself with blkid).
            argv = ["env", "SYSTEMD_RELAX_ESP_CHECKS=1", "bootctl", "--graceful", f"--esp-path={esp}",
                    "--make-entry-directory=no"]
            if not self.efivars_available():
                argv.append("--no-variables")
            self.runner.run([*argv, "install"], timeout=120)
        elif kind == GRUB_EFI:
            base = [self._grub_install(), "--target=x86_64-efi", "--no-floppy", f"--bootloader-id={BOOTLOADER_ID}",
                    f"--efi-directory={esp}", f"--boot-directory={esp}"]
            if not self.efivars_available():
                base.append("--no-nvram")
            self.runner.run(base, timeout=300)
            self.runner.run([*base, "--removable"], timeout=300)
        elif kind == GRUB_BIOS:
            self.runner.run([self._grub_install(), "--target=i386-pc", "--no-floppy", f"--boot-directory={esp}",
                             disk], timeout=300)
        else:
            raise ValueError(kind)

    def grub_root_id(self) -> str:
        """The root filesystem's id in Debian's GRUB menu entry ids (grub-mkconfig's grub_get_device_id)."""
        device = self.runner.run(["grub-probe", "--target=device", "/"], timeout=60).stdout.strip()
        return self.runner.run(["grub-probe", "--device", device, "--target=fs_uuid"], timeout=60).stdout.strip()

    def update_grub(self) -> None:
        self.runner.run(["update-grub"], timeout=600)

    # -- format ------------------------------------------------------------------------------------------
    def make_esp(self, info: BlockInfo, wipe: bool) -> None:
        if info.parttype != ESP_TYPE_GUID:
            number = self.partition_number(info.path)
            self.runner.run(["sgdisk", f"--typecode={number}:{ESP_TYPE_GUID.upper()}", f"/dev/{info.parent}"],
                            timeout=60)
        if wipe:
            self.runner.run(["wipefs", "--all", info.path], timeout=60)
        self.runner.run(["mkfs.vfat", "-F", "32", info.path], timeout=300)

    # -- Debian's own systemd-boot hooks -----------------------------------------------------------------
    def disable_debian_systemd_boot_hooks(self) -> list[Path]:
        """Takes the execute bits off systemd-boot's kernel hooks, which would fight over the ESPs."""
        disabled = []
        for hook in self.paths.debian_systemd_boot_hooks:
            if hook.is_file() and os.access(hook, os.X_OK):
                hook.chmod(hook.stat().st_mode & ~0o111)
                disabled.append(hook)
        return disabled
