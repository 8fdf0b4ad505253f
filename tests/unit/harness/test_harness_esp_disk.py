"""A GPT disk image around an ESP image, so a test can boot under OVMF what it wrote onto an ESP with mtools."""

import os
import shutil
import subprocess

import pytest

from keel_harness.esp_disk import esp_disk_image
from keel_harness.spec import HarnessError, MiB

ESP_TYPE = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"  # the UEFI specification's EFI system partition type
needs_sgdisk = pytest.mark.skipif(not shutil.which("sgdisk"), reason="needs gdisk (make deps)")


@needs_sgdisk
def test_the_esp_is_the_disks_only_partition_byte_for_byte_at_1_mib(tmp_path):
    esp = tmp_path / "esp.img"
    content = os.urandom(3 * MiB + 512)
    esp.write_bytes(content)
    disk = esp_disk_image(esp, tmp_path / "disk.img")
    info = subprocess.run(["sgdisk", "-i", "1", str(disk)], capture_output=True, text=True, check=True).stdout
    assert f"Partition GUID code: {ESP_TYPE} (EFI system partition)" in info
    assert "First sector: 2048 " in info
    assert f"Partition size: {len(content) // 512} sectors" in info
    assert "Partition 2" not in subprocess.run(["sgdisk", "-p", str(disk)], capture_output=True, text=True).stdout
    with open(disk, "rb") as f:
        f.seek(MiB)
        assert f.read(len(content)) == content


def test_an_esp_image_of_part_sectors_is_refused(tmp_path):
    esp = tmp_path / "esp.img"
    esp.write_bytes(b"\0" * 1000)
    with pytest.raises(HarnessError, match=r"esp.img: 1000 bytes is not a whole number of 512-byte sectors"):
        esp_disk_image(esp, tmp_path / "disk.img")
