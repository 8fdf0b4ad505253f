"""The boot configuration files keel-boot-tool reads and writes (the same paths as proxmox-boot-tool)."""

from __future__ import annotations

import contextlib
import os
import re
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

UUID_PATTERN = re.compile(r"^[0-9A-F]{4}-[0-9A-F]{4}$")

_TEMP_SUFFIXES = (".dpkg-tmp", ".dpkg-new", ".dpkg-old", ".dpkg-bak", ".dpkg-dist", ".bak", ".old")


class StateError(RuntimeError):
    """A boot configuration file is missing or says something unusable; the message names the file."""


@dataclass(frozen=True)
class SystemPaths:
    """Where everything lives; `root` is "/" on a real system and a scratch directory in tests."""

    root: Path = Path("/")

    def _at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def uuids(self) -> Path:
        return self._at("/etc/kernel/proxmox-boot-uuids")

    @property
    def cmdline(self) -> Path:
        return self._at("/etc/kernel/cmdline")

    @property
    def proc_cmdline(self) -> Path:
        return self._at("/proc/cmdline")

    @property
    def manual_kernels(self) -> Path:
        return self._at("/etc/kernel/proxmox-boot-manual-kernels")

    @property
    def pin(self) -> Path:
        return self._at("/etc/kernel/proxmox-boot-pin")

    @property
    def next_boot_pin(self) -> Path:
        return self._at("/etc/kernel/next-boot-pin")

    @property
    def grub_pin(self) -> Path:
        return self._at("/etc/default/grub.d/proxmox-kernel-pin.cfg")

    @property
    def boot(self) -> Path:
        return self._at("/boot")

    @property
    def os_release(self) -> Path:
        return self._at("/etc/os-release")

    @property
    def esp_mounts(self) -> Path:
        return self._at("/var/tmp/espmounts")

    @property
    def lock_dir(self) -> Path:
        return self._at("/run/keel-boot-tool")

    @property
    def by_uuid(self) -> Path:
        return self._at("/dev/disk/by-uuid")

    @property
    def efi_firmware(self) -> Path:
        return self._at("/sys/firmware/efi")

    @property
    def debian_systemd_boot_hooks(self) -> tuple[Path, ...]:
        return (
            self._at("/etc/kernel/postinst.d/zz-systemd-boot"),
            self._at("/etc/kernel/postrm.d/zz-systemd-boot"),
            self._at("/etc/initramfs/post-update.d/systemd-boot"),
        )


def _read(path: Path) -> str | None:
    """The text of `path`, None when it does not exist; unreadable or not UTF-8 is a StateError naming it."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateError(f"{path}: cannot be read ({exc.strerror})") from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise StateError(f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from exc


def _numbered_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, text) of the lines that say something: no blank lines, no # comments."""
    text = _read(path) or ""
    lines = ((number, line.strip()) for number, line in enumerate(text.split("\n"), 1))
    return [(number, line) for number, line in lines if line and not line.startswith("#")]


def _lines(path: Path) -> list[str]:
    return [line for _number, line in _numbered_lines(path)]


def _quoted(text: str, limit: int = 40) -> str:
    """`text` for a one-line message: control and non-ASCII characters escaped, a long text cut short."""
    return ascii(text[:limit]) + ("..." if len(text) > limit else "")


def write_text(path: Path, text: str) -> None:
    """Writes a configuration file so that readers see the old or the new text, never half of it."""
    _write_atomically(path, text)


def _write_atomically(path: Path, text: str) -> None:
    # A temporary file of its own next to `path` (two writers once shared one name, and the one whose file the
    # other had renamed failed), on disk before the rename, and the rename on disk before we report success:
    # a crash leaves the old text or the new one, never an empty file.
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".keel-tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_uuids(paths: SystemPaths) -> tuple[str, ...] | None:
    """The ESP list (sorted, unique; empty when the file lists none), or None when the system keeps no ESP list."""
    if not paths.uuids.exists():
        return None
    uuids = set()
    for number, line in _numbered_lines(paths.uuids):
        # The Proxmox tool stores UUIDs upper case; older lists may also carry a "uuid mode" suffix.
        uuid = line.split()[0].upper()
        if not UUID_PATTERN.match(uuid):
            raise StateError(f"{paths.uuids}: {_quoted(line)} is not a vfat UUID (XXXX-XXXX), line {number}")
        uuids.add(uuid)
    return tuple(sorted(uuids))


def write_uuids(paths: SystemPaths, uuids: tuple[str, ...] | list[str] | set[str]) -> None:
    _write_atomically(paths.uuids, "".join(f"{u}\n" for u in sorted(set(uuids))))


def kernel_cmdline(paths: SystemPaths) -> str:
    """The command line for the synced kernels: /etc/kernel/cmdline, else the running one minus boot-loader args."""
    text = _read(paths.cmdline)
    if text is not None:
        lines = text.splitlines()
        cmdline = " ".join(lines[0].split()) if lines else ""
        source = str(paths.cmdline)
    else:
        running = _read(paths.proc_cmdline)
        if running is None:
            raise StateError(f"{paths.cmdline} does not exist and {paths.proc_cmdline} cannot be read")
        words = running.split()
        cmdline = " ".join(w for w in words if not w.startswith(("initrd=", "BOOT_IMAGE=")))
        source = str(paths.proc_cmdline)
    if not any(word.startswith("root=") for word in cmdline.split()):
        raise StateError(f"No root= parameter in {source} found!")
    return cmdline


def read_manual_kernels(paths: SystemPaths) -> tuple[str, ...]:
    return tuple(dict.fromkeys(_lines(paths.manual_kernels)))


def write_manual_kernels(paths: SystemPaths, versions: tuple[str, ...]) -> None:
    if versions:
        _write_atomically(paths.manual_kernels, "".join(f"{v}\n" for v in versions))
    else:
        paths.manual_kernels.unlink(missing_ok=True)


def read_pin(path: Path) -> str | None:
    lines = _lines(path)
    return lines[0] if lines else None


def write_pin(path: Path, version: str | None) -> bool:
    """Writes or (with None) removes a pin file; True when something changed."""
    if version is None:
        existed = path.exists()
        path.unlink(missing_ok=True)
        return existed
    if read_pin(path) == version:
        return False
    _write_atomically(path, f"{version}\n")
    return True


def installed_kernels(paths: SystemPaths) -> tuple[str, ...]:
    """Versions with a /boot/vmlinuz-<version>, any version string, leftovers of package tools excluded."""
    if not paths.boot.is_dir():
        return ()
    versions = []
    for image in paths.boot.glob("vmlinuz-*"):
        version = image.name.removeprefix("vmlinuz-")
        if version and not version.endswith(_TEMP_SUFFIXES) and image.is_file():
            versions.append(version)
    return tuple(sorted(versions))


def os_title(paths: SystemPaths) -> str:
    """The title of boot entries: PRETTY_NAME from os-release, else a generic one."""
    for line in _lines(paths.os_release):
        key, _, value = line.partition("=")
        if key == "PRETTY_NAME" and value.strip("\"'"):
            return value.strip("\"'")
    return "Linux"
