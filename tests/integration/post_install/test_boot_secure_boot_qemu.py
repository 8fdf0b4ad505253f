"""Secure Boot: OVMF with Microsoft's keys enrolled boots shim, Debian's signed GRUB, then the kernel that
refresh copied onto the ESP with the grub.cfg it rendered (the `init <partition> grub` layout).

Debian's signed GRUB has /EFI/debian built in and falls back to the grub.cfg next to itself; grub-install
(Debian, --uefi-secure-boot) writes that small grub.cfg pointing at <ESP>/grub, as built here by hand
because the ESP cannot be mounted on the build host. No root needed.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from boot_fakes import FakeSystem, MtoolsTree, make_vfat_image
from keel_testing.boot_guest import CMDLINE, ESP_UUID, NEWER, OLDER, booted, download, initrd_saying
from keel_boot import cli
from keel_boot.commands import BootTool
from keel_boot.state import SystemPaths

OVMF_CODE_SB = Path("/usr/share/OVMF/OVMF_CODE_4M.ms.fd")
OVMF_VARS_SB = Path("/usr/share/OVMF/OVMF_VARS_4M.ms.fd")
MiB = 1024 * 1024

pytestmark = pytest.mark.skipif(
    not (shutil.which("qemu-system-x86_64") and OVMF_CODE_SB.is_file() and OVMF_VARS_SB.is_file()),
    reason="needs qemu-system-x86 and ovmf (with the Microsoft-keys variant)",
)


@pytest.fixture(scope="module")
def signed(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("signed")
    for deb in (download("shim-signed", "shim-signed_*.deb"),
                download("grub-efi-amd64-signed", "grub-efi-amd64-signed_*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True, timeout=300)
    return {
        "shim": root / "usr/lib/shim/shimx64.efi.signed",
        "grub": root / "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed",
    }


def test_shim_and_signed_grub_boot_the_synced_kernel_with_secure_boot_on(tmp_path, parts, signed):
    root = tmp_path / "root"
    (root / "etc/kernel").mkdir(parents=True)
    (root / "etc/kernel/cmdline").write_text(CMDLINE + "\n")
    (root / "boot").mkdir()
    for version in (OLDER, NEWER):
        shutil.copyfile(parts["kernel"], root / f"boot/vmlinuz-{version}")
        (root / f"boot/initrd.img-{version}").write_bytes(initrd_saying(version, parts["busybox"]))
    esp_image = make_vfat_image(tmp_path / "esp.img", ESP_UUID, size_mib=96)
    tree = MtoolsTree(esp_image)
    stub = f"search.fs_uuid {ESP_UUID} root\nset prefix=($root)'/grub'\nconfigfile $prefix/grub.cfg\n"
    for directory, shim_name in (("EFI/keel", "shimx64.efi"), ("EFI/BOOT", "BOOTX64.EFI")):
        tree.copy_in(f"{directory}/{shim_name}", signed["shim"])
        tree.copy_in(f"{directory}/grubx64.efi", signed["grub"])
        tree.write_text(f"{directory}/grub.cfg", stub)
    (root / "etc/kernel/proxmox-boot-uuids").write_text(f"{ESP_UUID}\n")
    paths = SystemPaths(root)
    system = FakeSystem(paths, efi=True, running="6.0.0-not-installed")
    system.add_esp("/dev/vda1", ESP_UUID, tree, parent="vda")
    tool = BootTool(paths, system, out=io.StringIO(), err=io.StringIO())
    assert cli.main(["kernel", "pin", OLDER], tool=tool) == 0, tool.err.getvalue()

    disk = tmp_path / "disk.img"
    with open(disk, "wb") as f:
        f.truncate(esp_image.stat().st_size + 2 * MiB)
    subprocess.run(["sgdisk", "-n", f"1:2048:+{esp_image.stat().st_size // 1024}K", "-t", "1:EF00", str(disk)],
                   capture_output=True, check=True, timeout=60)
    with open(disk, "r+b") as f, open(esp_image, "rb") as esp:
        f.seek(MiB)
        shutil.copyfileobj(esp, f)
    vars_copy = tmp_path / "OVMF_VARS.fd"
    shutil.copyfile(OVMF_VARS_SB, vars_copy)
    argv = ["qemu-system-x86_64", "-machine", "q35,smm=on,accel=tcg", "-cpu", "max", "-m", "1024", "-nographic",
            "-no-reboot", "-nic", "none", "-global", "driver=cfi.pflash01,property=secure,value=on",
            "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE_SB}",
            "-drive", f"if=pflash,format=raw,unit=1,file={vars_copy}",
            "-drive", f"file={disk},format=raw,if=virtio"]
    try:
        console = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=300,
                                 stdin=subprocess.DEVNULL).stdout
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the guest did not power off in time; console:\n{(exc.stdout or b'')[-3000:]!r}")
    assert "Secure boot enabled" in console, console[-3000:]
    version, cmdline = booted(console)
    assert version == OLDER
    assert cmdline == [f"BOOT_IMAGE=/vmlinuz-{OLDER}", *CMDLINE.split()]
