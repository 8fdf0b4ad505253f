"""The installed system's initramfs: the payload's image with this host's files appended as a newc archive."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest

from installer.core.events import EventBus, ListSink
from installer.installed_system.initramfs import (
    ArchiveFile,
    append_archive,
    host_files,
    kernel_versions,
    newc_archive,
    prepare_initramfs,
)
from installer.runner import FakeRunner

KERNEL = "6.12.57+deb13-amd64"


def cpio_list(data: bytes, tmp_path: Path) -> list[str]:
    """What GNU cpio (a real reader of the format) finds in `data`, with the bytes of each file extracted."""
    out = subprocess.run(["cpio", "-i", "--list", "--quiet"], input=data, capture_output=True, check=True)
    return out.stdout.decode().split()


def cpio_extract(data: bytes, dest: Path) -> None:
    dest.mkdir()
    subprocess.run(["cpio", "-i", "-d", "--quiet", "--no-absolute-filenames"], input=data, cwd=dest, check=True)


def make_target(tmp_path: Path) -> Path:
    t = tmp_path / "target"
    for d in ("etc/modprobe.d", "etc/systemd/network", "boot"):
        (t / d).mkdir(parents=True)
    (t / "etc/hostid").write_bytes(b"\x0b\xad\xca\xfe")
    (t / "etc/hostname").write_text("pve1\n")
    (t / "etc/modprobe.d/zfs.conf").write_text("options zfs zfs_arc_max=1073741824\n")
    (t / "etc/systemd/network/50-keel-nic0.link").write_text("[Match]\nMACAddress=52:54:00:12:34:56\n")
    (t / "etc/systemd/network/README").write_text("not a link file\n")
    (t / f"boot/vmlinuz-{KERNEL}").write_bytes(b"kernel")
    (t / f"boot/initrd.img-{KERNEL}").write_bytes(b"x" * 4097)   # a generic image whose size is not 4-aligned
    return t


def test_the_archive_is_a_valid_newc_archive_with_parent_directories_first(tmp_path):
    files = [ArchiveFile("etc/hostid", b"\x0b\xad\xca\xfe"), ArchiveFile("etc/modprobe.d/zfs.conf", b"options\n")]
    archive = newc_archive(files)
    assert len(archive) % 4 == 0
    assert cpio_list(archive, tmp_path) == ["etc", "etc/modprobe.d", "etc/hostid", "etc/modprobe.d/zfs.conf"]
    cpio_extract(archive, tmp_path / "out")
    assert (tmp_path / "out/etc/hostid").read_bytes() == b"\x0b\xad\xca\xfe"
    assert (tmp_path / "out/etc/modprobe.d/zfs.conf").read_text() == "options\n"


def test_the_host_files_are_the_ones_the_initramfs_hooks_copy(tmp_path):
    t = make_target(tmp_path)
    names = [f.name for f in host_files(t)]
    assert names == ["etc/hostid", "etc/hostname", "etc/modprobe.d/zfs.conf",
                     "usr/lib/systemd/network/50-keel-nic0.link"]
    (t / "etc/modprobe.d/zfs.conf").unlink()
    assert "etc/modprobe.d/zfs.conf" not in [f.name for f in host_files(t)]


def test_the_archive_is_appended_on_a_four_byte_boundary_and_the_image_keeps_its_start(tmp_path):
    image = tmp_path / "initrd.img"
    image.write_bytes(b"y" * 4097)
    archive = newc_archive([ArchiveFile("etc/hostid", b"1234")])
    added = append_archive(image, archive)
    data = image.read_bytes()
    assert added == 3 + len(archive)
    assert data[:4097] == b"y" * 4097 and data[4097:4100] == b"\0\0\0"
    assert data[4100:] == archive
    assert cpio_list(data[4100:], tmp_path) == ["etc", "etc/hostid"]


def test_a_symlinked_image_is_not_followed(tmp_path):
    (tmp_path / "elsewhere").write_bytes(b"")
    (tmp_path / "initrd.img").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError):
        append_archive(tmp_path / "initrd.img", newc_archive([]))
    assert (tmp_path / "elsewhere").read_bytes() == b""


def context(tmp_path: Path, target: Path, *, dry_run: bool = False) -> SimpleNamespace:
    sink = ListSink()
    ctx = SimpleNamespace(target=target, dry_run=dry_run, events=EventBus([sink]), runner=FakeRunner(), sink=sink)
    ctx.path = lambda inside: target / inside.lstrip("/")
    ctx.chroot_run = lambda argv, **kw: ctx.runner.run(["chroot", str(target), *argv], **kw)
    return ctx


def test_every_kernel_gets_this_hosts_files_and_no_rebuild(tmp_path):
    t = make_target(tmp_path)
    ctx = context(tmp_path, t)
    prepare_initramfs(ctx)
    data = (t / f"boot/initrd.img-{KERNEL}").read_bytes()
    cpio_extract(data[4100:], tmp_path / "out")
    assert (tmp_path / "out/etc/hostid").read_bytes() == b"\x0b\xad\xca\xfe"
    assert (tmp_path / "out/etc/hostname").read_text() == "pve1\n"
    assert (tmp_path / "out/usr/lib/systemd/network/50-keel-nic0.link").is_file()
    assert ctx.runner.commands == []
    assert any("/etc/hostid" in e.text for e in ctx.sink.of_type("message"))


def test_a_kernel_without_an_initramfs_gets_one_built_in_the_chroot(tmp_path):
    t = make_target(tmp_path)
    (t / f"boot/initrd.img-{KERNEL}").unlink()
    ctx = context(tmp_path, t)
    prepare_initramfs(ctx)
    assert ctx.runner.commands == [("chroot", str(t), "update-initramfs", "-c", "-k", KERNEL)]
    assert any(KERNEL in e.text for e in ctx.sink.of_type("warning"))


def test_a_payload_without_a_kernel_is_an_error_naming_the_directory(tmp_path):
    t = make_target(tmp_path)
    (t / f"boot/vmlinuz-{KERNEL}").unlink()
    with pytest.raises(FileNotFoundError, match=r"boot holds no vmlinuz-<version>"):
        prepare_initramfs(context(tmp_path, t))
    prepare_initramfs(context(tmp_path, t, dry_run=True))      # a dry run's scratch target has no kernel


def test_kernel_versions_sorted_and_only_files(tmp_path):
    (tmp_path / "vmlinuz-6.12.2").write_bytes(b"")
    (tmp_path / "vmlinuz-6.1.0").write_bytes(b"")
    (tmp_path / "vmlinuz-dir").mkdir()
    assert kernel_versions(tmp_path) == ["6.1.0", "6.12.2"]
    assert kernel_versions(tmp_path / "missing") == []
