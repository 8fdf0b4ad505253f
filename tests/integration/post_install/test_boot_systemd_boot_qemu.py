"""A real systemd-boot reads what keel-boot-tool wrote: OVMF boots an ESP filled by `refresh` (via mtools).

Two kernel "versions" (the same Debian kernel binary, each with its own tiny initrd that prints its
version and the command line, then powers off) show which loader entry systemd-boot chose: the newest by
default, the pinned one after `kernel pin`. No root needed; the Debian packages are downloaded once into
build/post-install-qemu/ (skipped without network or without QEMU/OVMF).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from keel_boot import cli
from keel_boot.commands import BootTool
from keel_boot.state import SystemPaths
from keel_harness import Disk, Machine, esp_disk_image
from keel_harness.qemu_argv import OVMF
from keel_testing.boot_fakes import FakeSystem, MtoolsTree, make_vfat_image
from keel_testing.boot_guest import CMDLINE, ESP_UUID, NEWER, OLDER, booted, initrd_saying

BOOT_TIMEOUT = 240

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(not shutil.which("qemu-system-x86_64") or not OVMF.code.is_file(),
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
    """Boot the ESP (as a GPT disk's only partition) with OVMF; the line the initrd printed before powering off."""
    disk = esp_disk_image(esp_image, work / "disk.img")
    with Machine("sd-boot", firmware="uefi", memory=1024, cpus=1, nics=(), disks=[Disk(image=disk)],
                 allow_reboot=False, state_dir=work / "vm") as machine:
        _, said = machine.wait_for_line([r"^KEEL-BOOTED "], timeout=BOOT_TIMEOUT)
        machine.wait_for_shutdown(timeout=60)
    return said.string


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
