"""A real GRUB under SeaBIOS boots what refresh wrote onto the ESP: the grub.cfg, its default and pins.

GRUB is put onto the disk image the way `grub-install --target=i386-pc --boot-directory=<ESP>` does it
(boot.img in the MBR, core.img in the BIOS boot partition with its prefix on the ESP, the modules in
<ESP>/grub/i386-pc), but by hand, because the ESP cannot be mounted on the build host. The kernel and the
tiny version-printing initrds are those of the systemd-boot test. No root needed.
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from keel_boot import cli
from keel_boot.commands import BootTool
from keel_boot.state import SystemPaths
from keel_harness import Disk, Machine
from keel_testing.boot_fakes import FakeSystem, MtoolsTree, make_vfat_image
from keel_testing.boot_guest import CMDLINE, ESP_UUID, NEWER, OLDER, booted, initrd_saying

MiB = 1024 * 1024
SECTOR = 512
GRUB_PC = Path("/usr/lib/grub/i386-pc")
CORE_SECTOR = 34  # the BIOS boot partition (EF02) the installer makes: sectors 34-2047
ESP_START = 2048
BOOT_TIMEOUT = 240

pytestmark = [
    pytest.mark.qemu,
    pytest.mark.skipif(
        not (shutil.which("qemu-system-x86_64") and shutil.which("grub-mkimage") and (GRUB_PC / "boot.img").is_file()),
        reason="needs qemu-system-x86 and grub-pc-bin",
    ),
]


def disk_with_grub(work: Path, esp_image: Path) -> Path:
    """GPT disk: p1 BIOS boot with core.img, p2 the ESP; boot.img in the MBR pointing at core.img."""
    disk = work / "disk.img"
    esp_size = esp_image.stat().st_size
    with open(disk, "wb") as f:
        f.truncate(ESP_START * SECTOR + esp_size + MiB)
    subprocess.run(["sgdisk", "-a", "1", "-n", f"1:{CORE_SECTOR}:{ESP_START - 1}", "-t", "1:EF02",
                    "-n", f"2:{ESP_START}:+{esp_size // 1024}K", "-t", "2:EF00", str(disk)],
                   capture_output=True, check=True, timeout=60)
    core = work / "core.img"
    subprocess.run(["grub-mkimage", "-O", "i386-pc", "-o", str(core), "-p", "(hd0,gpt2)/grub",
                    "biosdisk", "part_gpt", "fat"], capture_output=True, check=True, timeout=120)
    core_bytes = bytearray(core.read_bytes())
    # diskboot's block list: the rest of core.img follows its first sector.
    core_bytes[0x1F4:0x1FC] = struct.pack("<Q", CORE_SECTOR + 1)
    boot = bytearray((GRUB_PC / "boot.img").read_bytes())
    boot[0x5C:0x64] = struct.pack("<Q", CORE_SECTOR)  # where boot.img finds core.img
    with open(disk, "r+b") as f:
        f.seek(0)
        f.write(boot[:440])  # keep the disk signature and the protective MBR's partition entry
        f.seek(CORE_SECTOR * SECTOR)
        f.write(core_bytes)
        f.seek(ESP_START * SECTOR)
        with open(esp_image, "rb") as esp:
            shutil.copyfileobj(esp, f)
    return disk


def boot_with_seabios(disk: Path) -> str:
    """Boot the disk with SeaBIOS; the line the initrd printed before powering off."""
    with Machine("grub-bios", firmware="bios", memory=1024, cpus=1, nics=(), disks=[Disk(image=disk)],
                 allow_reboot=False, state_dir=disk.parent / "vm") as machine:
        _, said = machine.wait_for_line([r"^KEEL-BOOTED "], timeout=BOOT_TIMEOUT)
        machine.wait_for_shutdown(timeout=60)
    return said.string


@pytest.fixture
def bios_host(tmp_path, parts):
    root = tmp_path / "root"
    (root / "etc/kernel").mkdir(parents=True)
    (root / "etc/kernel/cmdline").write_text(CMDLINE + "\n")
    (root / "boot").mkdir()
    for version in (OLDER, NEWER):
        shutil.copyfile(parts["kernel"], root / f"boot/vmlinuz-{version}")
        (root / f"boot/initrd.img-{version}").write_bytes(initrd_saying(version, parts["busybox"]))
    esp_image = make_vfat_image(tmp_path / "esp.img", ESP_UUID, size_mib=96)
    tree = MtoolsTree(esp_image)
    mtools_env = {"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run(["mmd", "-i", str(esp_image), "::/grub"], check=True, timeout=60, env=mtools_env)
    subprocess.run(["mcopy", "-s", "-i", str(esp_image), str(GRUB_PC), "::/grub/"], check=True, timeout=120,
                   capture_output=True, env=mtools_env)
    tree.write_text("grub/i386-pc/core.img", "placeholder: the real core.img sits in the BIOS boot partition\n")
    (root / "etc/kernel/proxmox-boot-uuids").write_text(f"{ESP_UUID}\n")
    paths = SystemPaths(root)
    system = FakeSystem(paths, efi=False, running="6.0.0-not-installed")
    system.add_esp("/dev/vda2", ESP_UUID, tree, parent="vda")
    return BootTool(paths, system, out=io.StringIO(), err=io.StringIO()), esp_image, tmp_path


def test_grub_on_the_esp_boots_the_newest_kernel_then_the_pinned_one(bios_host):
    tool, esp_image, work = bios_host
    assert cli.main(["refresh"], tool=tool) == 0, tool.err.getvalue()
    version, cmdline = booted(boot_with_seabios(disk_with_grub(work, esp_image)))
    assert version == NEWER
    assert cmdline == [f"BOOT_IMAGE=/vmlinuz-{NEWER}", *CMDLINE.split()]

    assert cli.main(["kernel", "pin", OLDER], tool=tool) == 0, tool.err.getvalue()
    version, _ = booted(boot_with_seabios(disk_with_grub(work, esp_image)))
    assert version == OLDER
