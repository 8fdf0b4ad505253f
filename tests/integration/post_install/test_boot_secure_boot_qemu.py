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

from keel_boot import cli
from keel_boot.commands import BootTool
from keel_boot.state import SystemPaths
from keel_harness import Disk, Machine, esp_disk_image
from keel_harness.qemu_argv import OVMF_SECURE_BOOT
from keel_testing.boot_fakes import FakeSystem, MtoolsTree, make_vfat_image
from keel_testing.boot_guest import CMDLINE, ESP_UUID, NEWER, OLDER, booted, download, initrd_saying

BOOT_TIMEOUT = 300

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(
        not (shutil.which("qemu-system-x86_64") and OVMF_SECURE_BOOT.code.is_file()
             and OVMF_SECURE_BOOT.vars_template.is_file()),
        reason="needs qemu-system-x86 and ovmf (with the Microsoft-keys variant)",
    ),
]


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

    disk = esp_disk_image(esp_image, tmp_path / "disk.img")
    with Machine("secure-boot", firmware="uefi", secure_boot=True, memory=1024, cpus=1, nics=(),
                 disks=[Disk(image=disk)], allow_reboot=False, state_dir=tmp_path / "vm") as machine:
        machine.wait_for_line([r"Secure boot enabled"], timeout=BOOT_TIMEOUT)
        _, said = machine.wait_for_line([r"^KEEL-BOOTED "], timeout=BOOT_TIMEOUT)
        machine.wait_for_shutdown(timeout=60)
    version, cmdline = booted(said.string)
    assert version == OLDER
    assert cmdline == [f"BOOT_IMAGE=/vmlinuz-{OLDER}", *CMDLINE.split()]
