"""The answer-source disk image (FAT, label PROXMOX-AIS, /answer.toml), built with mkfs.vfat + mtools."""

import shutil
import subprocess

import pytest

from keel_harness.answer_image import ANSWER_LABEL, answer_image_commands, build_answer_image
from keel_harness.spec import HarnessError

ANSWER = '[global]\nkeyboard = "en-us"\ncountry = "at"\n'
needs_mtools = pytest.mark.skipif(
    not (shutil.which("mkfs.vfat") and shutil.which("mtype")), reason="needs dosfstools and mtools (make deps)"
)


def test_the_label_is_the_one_the_proxmox_partition_fetch_mode_looks_for():
    assert ANSWER_LABEL == "PROXMOX-AIS"


def test_the_image_is_made_by_mkfs_vfat_then_one_mcopy_per_file(tmp_path):
    commands = answer_image_commands(tmp_path / "a.img", {"answer.toml": tmp_path / "src.toml"})
    assert commands == [
        ["mkfs.vfat", "-n", "PROXMOX-AIS", str(tmp_path / "a.img")],
        ["mcopy", "-o", "-i", str(tmp_path / "a.img"), str(tmp_path / "src.toml"), "::/answer.toml"],
    ]


@pytest.mark.parametrize(
    ("label", "files"),
    [("PROXMOX-AIS-2", {}), ("proxmox-ais", {}), ("PROXMOX-AIS", {"sub/answer.toml": "x"})],
    ids=["a label over 11 characters", "a lower-case label", "a file in a subdirectory"],
)
def test_the_image_plan_refuses(tmp_path, label, files):
    with pytest.raises(HarnessError):
        answer_image_commands(tmp_path / "a.img", files, label)


@needs_mtools
def test_the_built_image_holds_the_answer_at_its_root_in_a_directory_made_for_it(tmp_path):
    image = build_answer_image(tmp_path / "vm" / "answer.img", ANSWER, extra_files={"first-boot.sh": b"#!/bin/sh\n"})
    env = {"MTOOLS_SKIP_CHECK": "1", "PATH": "/usr/bin:/bin"}
    out = subprocess.run(["mtype", "-i", str(image), "::/answer.toml"], capture_output=True, text=True, env=env)
    assert out.stdout == ANSWER
    out = subprocess.run(["mtype", "-i", str(image), "::/first-boot.sh"], capture_output=True, text=True, env=env)
    assert out.stdout == "#!/bin/sh\n"


@needs_mtools
def test_the_built_image_carries_the_label_in_its_fat_boot_sector(tmp_path):
    image = build_answer_image(tmp_path / "answer.img", ANSWER)
    sector = image.read_bytes()[:512]
    # An 8 MiB image is FAT12/16: the extended BPB's volume label is the 11 bytes at offset 0x2B,
    # and the boot sector ends with the 0x55 0xAA signature.
    assert sector[0x2B:0x36] == b"PROXMOX-AIS"
    assert sector[510:512] == b"\x55\xaa"
    assert image.stat().st_size == 8 * 1024 * 1024


def test_a_missing_source_file_is_named(tmp_path):
    with pytest.raises(HarnessError, match="does not exist"):
        build_answer_image(tmp_path / "a.img", tmp_path / "nope.toml")
