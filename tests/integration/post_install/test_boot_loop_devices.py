"""keel-boot-tool's real system edges (lsblk, blkid, sgdisk, mkfs.vfat) on a GPT disk image attached as a loop.

vfat cannot be mounted on the build host, so the ESP that `format` makes is checked and filled with mtools
straight on the loop partition.
"""

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from keel_boot import cli
from keel_boot.command import Runner
from keel_boot.commands import BootTool
from keel_boot.layout import BootSpec, KernelImage
from keel_boot.partition import ESP_TYPE_GUID
from keel_boot.state import SystemPaths
from keel_boot.sync import sync_esp
from keel_boot.system import SYSTEMD_BOOT, System
from keel_testing.boot_fakes import LOADER_FILES, MtoolsTree, install_kernel

MiB = 1024 * 1024
LINUX_DATA = "0fc63daf-8483-4772-8e79-3d69d8477de4"
TOOLS = ("losetup", "partx", "sgdisk", "mkfs.vfat", "wipefs", "lsblk", "blkid", "mdir", "mcopy")

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for loop devices"),
    pytest.mark.skipif(not all(shutil.which(t) for t in TOOLS), reason=f"needs {', '.join(TOOLS)}"),
]


def sh(*argv: str) -> str:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120, check=True).stdout


@pytest.fixture
def disk(tmp_path):
    """A GPT disk like the installer makes, but with the ESP typed as Linux data and too small a p3."""
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(700 * MiB)
    sh("sgdisk", "-a", "1", "-n", "1:34:2047", "-t", "1:EF02",
       "-n", "2:2048:+512M", "-t", "2:8300", "-n", "3:0:+100M", "-t", "3:8300", str(image))
    loop = sh("losetup", "-f", "--show", str(image)).strip()
    try:
        sh("partx", "-a", loop)
        yield loop
    finally:
        subprocess.run(["partx", "-d", loop], capture_output=True, timeout=60)
        subprocess.run(["losetup", "-d", loop], capture_output=True, timeout=60)


@pytest.fixture
def tool(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    paths = SystemPaths(root)
    return BootTool(paths, System(paths, Runner()), out=io.StringIO(), err=io.StringIO())


def test_block_info_reads_partition_facts(disk, tool):
    info = tool.system.block_info(f"{disk}p2")
    assert (info.type, info.parent, info.size) == ("part", Path(disk).name, 512 * MiB)
    assert info.parttype == LINUX_DATA
    assert info.fstype is None
    assert info.mountpoints == ()


@pytest.mark.parametrize(
    ("device", "message"),
    [("", "is a whole disk (loop): please provide a partition, not a full disk"),
     ("p3", "is too small (<256M): 100 MiB")],
    ids=["the whole disk", "a 100 MiB partition"],
)
def test_format_refuses_on_real_devices(disk, tool, device, message):
    assert cli.main(["format", f"{disk}{device}"], tool=tool) == 1
    assert message in tool.err.getvalue()


def test_format_makes_an_esp_that_init_accepts_and_the_sync_fills(disk, tool):
    esp = f"{disk}p2"
    assert cli.main(["format", esp], tool=tool) == 0, tool.err.getvalue()
    info = tool.system.block_info(esp)
    assert (info.fstype, info.parttype) == ("vfat", ESP_TYPE_GUID)
    assert tool.system.esp_device(info.uuid) == esp

    assert cli.main(["format", esp], tool=tool) == 1
    assert "contains a filesystem (vfat); pass --force" in tool.err.getvalue()
    assert cli.main(["format", esp, "--force"], tool=tool) == 0
    assert tool.system.block_info(esp).uuid != info.uuid

    tree = MtoolsTree(Path(esp))
    for path in LOADER_FILES[SYSTEMD_BOOT]:
        tree.write_text(path, "systemd-boot\n")
    install_kernel(tool.paths.root, "6.12.43+deb13-amd64")
    boot = tool.paths.root / "boot"
    spec = BootSpec(
        kernels=(KernelImage("6.12.43+deb13-amd64", boot / "vmlinuz-6.12.43+deb13-amd64",
                             boot / "initrd.img-6.12.43+deb13-amd64"),),
        default="6.12.43+deb13-amd64",
        cmdline="root=ZFS=rpool/ROOT/pve-1 boot=zfs",
        title="Debian GNU/Linux 13 (trixie)",
    )
    sync_esp(tree, "ABCD-1234", spec)
    assert tree.read_text("loader/loader.conf") == "timeout 3\ndefault keel-6.12.43+deb13-amd64.conf\n"
    assert "EFI/keel/6.12.43+deb13-amd64/initrd.img-6.12.43+deb13-amd64" in tree.files()


def test_init_refuses_a_partition_of_the_wrong_type(disk, tool):
    sh("mkfs.vfat", "-F", "32", f"{disk}p3")
    assert cli.main(["init", f"{disk}p3"], tool=tool) == 1
    assert f"'{disk}p3' is not an EFI system partition (GPT type {LINUX_DATA}" in tool.err.getvalue()


def test_a_vanished_esp_is_not_found(tool):
    assert tool.system.esp_device("DEAD-BEEF") is None
