"""Test doubles for keel-boot-tool: a scratch system root, ESPs as directories or vfat images read via mtools."""

from __future__ import annotations

import contextlib
import filecmp
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

from keel_boot.command import Result, Runner
from keel_boot.partition import ESP_TYPE_GUID, BlockInfo, DeviceError
from keel_boot.state import SystemPaths
from keel_boot.system import GRUB_BIOS, GRUB_EFI, SYSTEMD_BOOT, System
from keel_boot.tree import DirectoryTree, EspTree

MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
HAVE_MTOOLS = all(shutil.which(tool) for tool in ("mkfs.vfat", "mcopy", "mdir", "mtype", "mmd", "mdel", "mrd"))


def _mtools(*argv: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(argv), capture_output=True, env=MTOOLS_ENV, timeout=60, check=check)


def make_vfat_image(path: Path, uuid: str, size_mib: int = 64) -> Path:
    """A FAT32 image like the ESP `format` makes, with a fixed volume id so tests can name it."""
    with open(path, "wb") as image:
        image.truncate(size_mib * 1024 * 1024)
    subprocess.run(["mkfs.vfat", "-F", "32", "-i", uuid.replace("-", ""), str(path)],
                   capture_output=True, timeout=60, check=True)
    return path


class MtoolsTree:
    """An ESP image (a file holding a vfat filesystem) accessed with mtools, since vfat cannot be mounted here."""

    def __init__(self, image: Path):
        self.image = str(image)

    def _listing(self) -> list[str]:
        result = _mtools("mdir", "-i", self.image, "-/", "-b", "::/", check=False)
        return [line.removeprefix("::/") for line in result.stdout.decode().splitlines() if line.startswith("::/")]

    def files(self) -> frozenset[str]:
        return frozenset(p for p in self._listing() if not p.endswith("/"))

    def dirs(self) -> frozenset[str]:
        return frozenset(p.rstrip("/") for p in self._listing() if p.endswith("/"))

    def read_text(self, path: str) -> str | None:
        result = _mtools("mtype", "-i", self.image, f"::/{path}", check=False)
        return result.stdout.decode() if result.returncode == 0 else None

    def matches(self, path: str, source: Path) -> bool:
        if path not in self.files():
            return False
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "copy"
            _mtools("mcopy", "-n", "-i", self.image, f"::/{path}", str(copy))
            return filecmp.cmp(copy, source, shallow=False)

    def copy_in(self, path: str, source: Path) -> None:
        existing = self.dirs()
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            directory = "/".join(parts[:depth])
            if directory not in existing:
                _mtools("mmd", "-i", self.image, f"::/{directory}")
        _mtools("mcopy", "-o", "-i", self.image, str(source), f"::/{path}")

    def write_text(self, path: str, text: str) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "text"
            source.write_text(text)
            self.copy_in(path, source)

    def remove(self, path: str) -> None:
        _mtools("mdel", "-i", self.image, f"::/{path}", check=False)

    def remove_dir(self, path: str) -> None:
        _mtools("mrd", "-i", self.image, f"::/{path}", check=False)


class FakeRunner(Runner):
    """Records command lines instead of running them; `outputs` maps a program name to what it prints."""

    def __init__(self, outputs: dict[str, str] | None = None) -> None:
        super().__init__()
        self.calls: list[list[str]] = []
        self.outputs = outputs or {}

    def run(self, argv, *, input=None, timeout=None, check=True):  # type: ignore[override]
        self.calls.append([str(a) for a in argv])
        return Result(tuple(str(a) for a in argv), 0, self.outputs.get(str(argv[0]), ""))


# Files a boot-loader install leaves on an ESP, as far as keel-boot-tool looks at them.
LOADER_FILES = {
    SYSTEMD_BOOT: ("EFI/systemd/systemd-bootx64.efi", "EFI/BOOT/BOOTX64.EFI"),
    GRUB_EFI: ("EFI/keel/grubx64.efi", "EFI/BOOT/BOOTX64.EFI", "grub/x86_64-efi/normal.mod"),
    GRUB_BIOS: ("grub/i386-pc/core.img", "grub/i386-pc/normal.mod"),
}


class FakeSystem(System):
    """A System whose devices, mounts and boot-loader installs are test fixtures under a scratch root.

    ESPs are registered by UUID with a tree (a directory or a vfat image); "mounting" yields that tree.
    """

    def __init__(self, paths: SystemPaths, efi: bool = True, running: str = "6.12.43+deb13-amd64"):
        super().__init__(paths, FakeRunner())
        self.efi = efi
        self.running = running
        self.trees: dict[str, EspTree] = {}
        self.devices: dict[str, BlockInfo] = {}
        self.gone: set[str] = set()
        self.installed: list[tuple[str, str]] = []  # (boot loader, device)
        self.mount_log: list[tuple[str, bool]] = []
        self.namespace_entered = 0
        self.formatted: list[tuple[str, bool]] = []
        self.update_grub_runs = 0

    def add_esp(self, device: str, uuid: str, tree: EspTree, parent: str = "sda") -> None:
        self.trees[uuid] = tree
        self.devices[device] = BlockInfo(device, "part", 512 * 1024 * 1024, parent, "vfat", uuid,
                                         ESP_TYPE_GUID, (), ())

    def efi_booted(self) -> bool:
        return self.efi

    def running_kernel(self) -> str:
        return self.running

    def is_root(self) -> bool:
        return True

    def enter_private_mount_namespace(self) -> None:
        self.namespace_entered += 1

    def block_info(self, device: str) -> BlockInfo:
        if device not in self.devices:
            raise DeviceError(f"'{device}' does not exist")
        return self.devices[device]

    def esp_device(self, uuid: str) -> str | None:
        if uuid in self.gone:
            return None
        return next((d for d, info in self.devices.items() if info.uuid == uuid), None)

    @contextlib.contextmanager
    def mounted_esp(self, uuid: str, device: str, read_only: bool = False) -> Iterator[tuple[Path, EspTree]]:
        self.mount_log.append((uuid, read_only))
        yield self.paths.esp_mounts / uuid, self.trees[uuid]

    def install_bootloader(self, kind: str, mountpoint: Path, disk: str) -> None:
        uuid = mountpoint.name
        self.installed.append((kind, disk))
        for path in LOADER_FILES[kind]:
            self.trees[uuid].write_text(path, f"{kind} binary\n")

    def make_esp(self, info: BlockInfo, wipe: bool) -> None:
        self.formatted.append((info.path, wipe))

    def grub_root_id(self) -> str:
        return "0f3c2d1e-aaaa-4bbb-8ccc-123456789abc"

    def update_grub(self) -> None:
        self.update_grub_runs += 1


def directory_tree(base: Path, uuid: str) -> DirectoryTree:
    root = base / f"esp-{uuid}"
    root.mkdir(parents=True, exist_ok=True)
    return DirectoryTree(root)


def install_kernel(root: Path, version: str, initrd: bool = True) -> None:
    """A kernel as a Debian linux-image package leaves it in /boot (contents name the file, for checks)."""
    boot = root / "boot"
    boot.mkdir(parents=True, exist_ok=True)
    (boot / f"vmlinuz-{version}").write_text(f"kernel {version}\n")
    if initrd:
        (boot / f"initrd.img-{version}").write_text(f"initrd {version}\n")


def remove_kernel(root: Path, version: str) -> None:
    for name in (f"vmlinuz-{version}", f"initrd.img-{version}"):
        (root / "boot" / name).unlink(missing_ok=True)
