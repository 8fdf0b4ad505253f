"""What the real-boot tests share: Debian's kernel, systemd-boot and busybox, and initrds that say who booted.

Each initrd prints "KEEL-BOOTED <version> CMDLINE <its /proc/cmdline>" and powers off, so a boot test learns
which entry the boot loader chose and with which command line. The packages are downloaded once into
build/post-install-qemu/ with apt-get; without network the tests skip.
"""

from __future__ import annotations

import io
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "build" / "post-install-qemu" / "debs"
ESP_UUID = "4B45-454C"
OLDER = "6.1.0-56-amd64"
NEWER = "6.1.0-57-amd64"
CMDLINE = "root=ZFS=rpool/ROOT/pve-1 boot=zfs console=ttyS0,115200 keel.test=1"


def download(package: str, pattern: str) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(pattern))
    if found:
        return found[-1]
    result = subprocess.run(["apt-get", "download", package], cwd=CACHE, capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0:
        pytest.skip(f"cannot download {package}: {result.stderr.strip().splitlines()[-1:]}")
    return sorted(CACHE.glob(pattern))[-1]


def unpacked_parts(tmp_path_factory) -> dict[str, Path]:
    """systemd-boot, a Debian kernel and a static busybox, unpacked."""
    meta = download("linux-image-amd64", "linux-image-amd64_*.deb")
    image_package = subprocess.run(["dpkg-deb", "-f", str(meta), "Depends"], capture_output=True, text=True,
                                   check=True).stdout.split(",")[0].split()[0]
    debs = [download("systemd-boot-efi", "systemd-boot-efi_*.deb"),
            download("busybox-static", "busybox-static_*.deb"),
            download(image_package, f"{image_package}_*.deb")]
    root = tmp_path_factory.mktemp("parts")
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=300)
    return {
        "sd-boot": root / "usr/lib/systemd/boot/efi/systemd-bootx64.efi",
        "kernel": next((root / "boot").glob("vmlinuz-*")),
        "busybox": root / "bin/busybox",
    }


def newc(entries: list[tuple[str, int, bytes, int]]) -> bytes:
    """A cpio "newc" archive of (path, mode, data, rdev major<<8|minor) entries, as the kernel unpacks it."""
    out = io.BytesIO()
    for ino, (name, mode, data, rdev) in enumerate([*entries, ("TRAILER!!!", 0, b"", 0)], start=1):
        encoded = name.encode() + b"\0"
        fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev >> 8, rdev & 0xFF, len(encoded), 0]
        out.write(b"070701" + b"".join(b"%08X" % v for v in fields) + encoded)
        out.write(b"\0" * (-(110 + len(encoded)) % 4) + data + b"\0" * (-len(data) % 4))
    return out.getvalue()


def initrd_saying(version: str, busybox: Path) -> bytes:
    init = (
        "#!/bin/busybox sh\n"
        "/bin/busybox mount -t proc proc /proc\n"
        f'echo "KEEL-BOOTED {version} CMDLINE $(/bin/busybox cat /proc/cmdline)"\n'
        "/bin/busybox poweroff -f\n"
    )
    return newc([
        ("bin", stat.S_IFDIR | 0o755, b"", 0),
        ("dev", stat.S_IFDIR | 0o755, b"", 0),
        ("proc", stat.S_IFDIR | 0o755, b"", 0),
        ("dev/console", stat.S_IFCHR | 0o600, b"", (5 << 8) | 1),
        ("bin/busybox", stat.S_IFREG | 0o755, busybox.read_bytes(), 0),
        ("init", stat.S_IFREG | 0o755, init.encode(), 0),
    ])


def booted(console: str) -> tuple[str, list[str]]:
    """The version and command line the guest's initrd reported."""
    line = next((ln for ln in console.splitlines() if ln.startswith("KEEL-BOOTED ")), None)
    assert line is not None, console[-3000:]
    version, _, cmdline = line.removeprefix("KEEL-BOOTED ").partition(" CMDLINE ")
    return version, cmdline.split()
