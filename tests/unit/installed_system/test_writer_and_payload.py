"""The target file writer (modes, symlinks, no escapes) and payload unpacking with progress from a real squashfs."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from installer.installed_system import payload, writer
from installer.runner import Runner


def test_a_file_is_written_with_its_mode_and_parent_directories(tmp_path):
    path = writer.write_file(tmp_path, "/root/.ssh/authorized_keys", "key\n", mode=0o600)
    assert path == tmp_path / "root/.ssh/authorized_keys"
    assert path.read_text() == "key\n"
    assert path.stat().st_mode & 0o777 == 0o600


def test_a_symlink_in_the_payload_is_replaced_not_followed(tmp_path):
    (tmp_path / "etc").mkdir()
    outside = tmp_path / "outside"
    outside.write_text("untouched\n")
    (tmp_path / "etc/resolv.conf").symlink_to(outside)
    writer.write_file(tmp_path, "/etc/resolv.conf", "nameserver 192.0.2.1\n")
    assert not (tmp_path / "etc/resolv.conf").is_symlink()
    assert outside.read_text() == "untouched\n"


@pytest.mark.parametrize("bad", [pytest.param("etc/hosts", id="a relative path"),
                                 pytest.param("/etc/../../x", id="a path with dot dot")])
def test_paths_that_could_leave_the_target_are_refused(tmp_path, bad):
    with pytest.raises(writer.TargetPathError):
        writer.write_file(tmp_path, bad, "x")


@pytest.mark.skipif(not shutil.which("mksquashfs"), reason="squashfs-tools not installed")
def test_unpack_reports_progress_up_to_one_and_extracts_everything(tmp_path):
    src = tmp_path / "src"
    for i in range(30):
        (src / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (src / f"d{i % 3}/f{i}").write_text(str(i))
    image = tmp_path / "payload.squashfs"
    subprocess.run(["mksquashfs", str(src), str(image), "-quiet", "-noappend"], check=True,
                   stdout=subprocess.DEVNULL)
    runner = Runner()
    total = payload.count_payload_files(runner, image, None)
    assert total == 34        # the root, 3 directories, 30 files
    target = tmp_path / "target"
    seen = []
    count = payload.unpack_payload(runner, image, target, total, lambda f, t: seen.append(f), steps=10)
    assert count == 34
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) > 5
    assert (target / "d2/f29").read_text() == "29"


def test_a_file_list_gives_the_total_without_listing_the_image(tmp_path):
    listing = tmp_path / "payload.files"
    listing.write_text("a\nb\nc\n")
    assert payload.count_payload_files(Runner(), tmp_path / "absent.squashfs", listing) == 3
