"""The payload's initramfs is built once at ISO build time, for any host."""

from __future__ import annotations

import pytest

from installer.runner import CommandError, FakeRunner, Result
from keel_iso import rootfs


def test_it_is_built_with_fsck_for_every_root_fs_and_without_the_build_hosts_hostid(tmp_path):
    (tmp_path / "etc/initramfs-tools/conf.d").mkdir(parents=True)
    (tmp_path / "etc/hostid").write_bytes(b"1234")
    seen = {}

    def respond(argv, stdin):
        if "update-initramfs" in argv:
            seen["conf"] = (tmp_path / rootfs.GENERIC_INITRAMFS_CONF).read_text()
            seen["hostid"] = (tmp_path / "etc/hostid").exists()
        return Result(argv, 0, "")

    runner = FakeRunner(responders=[respond])
    rootfs.generic_initramfs(runner, tmp_path, "6.12.57+deb13-amd64")
    assert runner.commands[-1][-6:] == ("chroot", str(tmp_path), "update-initramfs", "-u", "-k",
                                        "6.12.57+deb13-amd64")
    assert "FSTYPE=ext4,xfs,btrfs" in seen["conf"]
    assert seen["hostid"] is False
    assert not (tmp_path / rootfs.GENERIC_INITRAMFS_CONF).exists(), "the build's setting is not left in the payload"


def test_the_build_setting_is_removed_when_the_build_fails(tmp_path):
    (tmp_path / "etc/initramfs-tools/conf.d").mkdir(parents=True)
    runner = FakeRunner(responders=[lambda argv, stdin: Result(argv, 1, "", "E: zstd failed\n")])
    with pytest.raises(CommandError):
        rootfs.generic_initramfs(runner, tmp_path, "6.12.57+deb13-amd64")
    assert not (tmp_path / rootfs.GENERIC_INITRAMFS_CONF).exists()
