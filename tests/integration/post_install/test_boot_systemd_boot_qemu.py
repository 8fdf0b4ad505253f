"""A real systemd-boot reads what keel-boot-tool wrote: OVMF boots an ESP filled by `refresh` (via mtools).

Two kernel "versions" (the same Debian kernel binary, each with its own tiny initrd that prints its
version and the command line, then powers off) show which loader entry systemd-boot chose: the newest by
default, the pinned one after `kernel pin`. No root needed; the Debian packages are downloaded once into
build/post-install-qemu/ (skipped without network or without QEMU/OVMF).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from boot_fakes import FakeSystem, MtoolsTree, make_vfat_image
from keel_testing.boot_guest import CMDLINE, ESP_UUID, NEWER, OLDER, booted, initrd_saying
from keel_boot import cli
from keel_boot.commands import BootTool
from keel_boot.state import SystemPaths

OVMF_CODE = Path("/usr/share/OVMF/OVMF_CODE_4M.fd")
OVMF_VARS = Path("/usr/share/OVMF/OVMF_VARS_4M.fd")
MiB = 1024 * 1024

pytestmark = [
    pytest.mark.skipif(not shutil.which("qemu-system-x86_64") or not OVMF_CODE.is_file(),
                       reason="needs qemu-system-x86 and ovmf"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("mkfs.vfat", "mcopy", "sgdisk", "apt-get", "dpkg-deb")),
                       reason="needs dosfstools, mtools, gdisk, apt-get and dpkg-deb"),
]


@pytest.fixture
def host(tmp_path, parts):
    """An installed system with two kernels and one ESP image on which systemd-boot is "installed"."""
    root = tmp_path / "root"
    (root / "etc/kernel").mkdir(parents=True)
    (root / "etc/kernel/cmdline").write_text(CMDLINE + "\n")
    (root / "boot").mkdir()
    for version in (OLDER, NEWER):
        shutil.copyfile(parts["kernel"], root / f"boot/vmlinuz-{version}")
        (root / f"boot/initrd.img-{version}").write_bytes(initrd_saying(version, parts["busybox"]))
    esp_image = make_vfat_image(tmp_path / "esp.img", ESP_UUID, size_mib=96)
    tree = MtoolsTree(esp_image)
    # What `bootctl install` leaves (its own copy and the removable fallback OVMF boots); timeout 0 so that
    # systemd-boot boots the default entry at once.
    tree.copy_in("EFI/systemd/systemd-bootx64.efi", parts["sd-boot"])
    tree.copy_in("EFI/BOOT/BOOTX64.EFI", parts["sd-boot"])
    tree.write_text("loader/loader.conf", "timeout 0\n")
    (root / "etc/kernel/proxmox-boot-uuids").write_text(f"{ESP_UUID}\n")
    paths = SystemPaths(root)
    system = FakeSystem(paths, efi=True, running="6.0.0-not-installed")
    system.add_esp("/dev/vda1", ESP_UUID, tree, parent="vda")
    tool = BootTool(paths, system, out=io.StringIO(), err=io.StringIO())
    return tool, esp_image, tmp_path


def boot_with_ovmf(esp_image: Path, work: Path) -> str:
    """Put the ESP into a GPT disk, boot it with OVMF under TCG, return the serial console output."""
    disk = work / "disk.img"
    esp_size = esp_image.stat().st_size
    with open(disk, "wb") as f:
        f.truncate(esp_size + 2 * MiB)
    subprocess.run(["sgdisk", "-n", f"1:2048:+{esp_size // 1024}K", "-t", "1:EF00", str(disk)],
                   capture_output=True, check=True, timeout=60)
    with open(disk, "r+b") as f, open(esp_image, "rb") as esp:
        f.seek(MiB)
        shutil.copyfileobj(esp, f)
    vars_copy = work / "OVMF_VARS.fd"
    shutil.copyfile(OVMF_VARS, vars_copy)
    argv = [
        "qemu-system-x86_64", "-machine", "q35,accel=tcg", "-cpu", "max", "-m", "1024", "-smp", "1",
        "-nographic", "-no-reboot", "-nic", "none",
        "-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
        "-drive", f"if=pflash,format=raw,file={vars_copy}",
        "-drive", f"file={disk},format=raw,if=virtio",
    ]
    try:
        result = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=240,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the guest did not power off in time; console:\n{(exc.stdout or b'')[-3000:]!r}")
    return result.stdout



def test_systemd_boot_boots_the_newest_entry_then_the_pinned_one(host):
    tool, esp_image, work = host
    assert cli.main(["refresh"], tool=tool) == 0, tool.err.getvalue()
    version, cmdline = booted(boot_with_ovmf(esp_image, work))
    assert version == NEWER
    assert CMDLINE.split() == [w for w in cmdline if not w.startswith("initrd=")]
    assert f"initrd=\\EFI\\keel\\{NEWER}\\initrd.img-{NEWER}" in cmdline

    assert cli.main(["kernel", "pin", OLDER], tool=tool) == 0, tool.err.getvalue()
    version, _ = booted(boot_with_ovmf(esp_image, work))
    assert version == OLDER
