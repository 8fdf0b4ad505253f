"""mount_target / unmount_target: plan order in, reverse order out, and error paths that still unmount."""

from __future__ import annotations

import pytest

from installer.core.config import Filesystem
from installer.host.mounts import mounts_under, parse_mountinfo
from installer.runner import Result
from installer.storage.apply import ApplyError, mount_target, unmount_target
from keel_testing.plans import lvm_plan, zfs_plan

MOUNTINFO = """\
22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw
90 22 253:1 / /target rw,noatime shared:40 - ext4 /dev/mapper/pve-root rw
91 90 8:2 / /target/boot/efi rw,noatime shared:41 - vfat /dev/sda2 rw
92 90 0:5 / /target/proc rw shared:42 - proc proc rw
93 22 0:40 / /target2 rw shared:43 - tmpfs tmpfs rw
94 90 0:41 / /target/var/with\\040space rw shared:44 - tmpfs tmpfs rw
"""


def test_mounts_below_the_target_come_deepest_last_mounted_first():
    assert mounts_under(parse_mountinfo(MOUNTINFO), __import__("pathlib").Path("/target")) == [
        "/target/var/with space", "/target/proc", "/target/boot/efi", "/target",
    ]


@pytest.mark.parametrize("fs,options", [(Filesystem.EXT4, "noatime,errors=remount-ro"), (Filesystem.XFS, "noatime")],
                         ids=["ext4 keeps errors=remount-ro", "xfs mounts with noatime only"])
def test_the_lvm_root_is_mounted_and_the_esp_left_to_the_bootloader(harness, fs, options):
    mount_target(harness.context(lvm_plan(fs)))
    assert harness.commands() == [
        ["mount", "-t", str(fs), "-o", options, "/dev/pve/root", "/target"],
    ]



def test_zfs_datasets_that_are_not_mounted_get_mounted(harness):
    harness.runner.responders.append(
        lambda argv, _: Result(argv, 0, "yes\n" if argv[-1] == "rpool/ROOT/pve-1" else "no\n")
        if argv[:2] == ("zfs", "get") else None)
    mount_target(harness.context(zfs_plan()))
    assert harness.commands() == [
        ["zfs", "get", "-H", "-o", "value", "mounted", "rpool/ROOT/pve-1"],
        ["zfs", "get", "-H", "-o", "value", "mounted", "rpool/var-lib-vz"],
        ["zfs", "mount", "rpool/var-lib-vz"],
    ]


def test_unmount_goes_in_reverse_and_detaches_a_busy_mount_lazily(harness, monkeypatch):
    import installer.storage.apply.mount as mount

    text = MOUNTINFO.replace("/target", str(harness.target))
    monkeypatch.setattr(mount, "read_mountinfo", lambda: text)
    busy = f"{harness.target}/proc"
    harness.runner.responders.append(
        lambda argv, _: Result(argv, 32, "", "target is busy") if argv == ("umount", busy) else None)
    unmount_target(harness.context(lvm_plan()))
    assert harness.commands() == [
        ["umount", "/target/var/with space"],
        ["umount", "/target/proc"],
        ["umount", "--lazy", "/target/proc"],
        ["umount", "/target/boot/efi"],
        ["umount", "/target"],
    ]
    assert harness.warnings() == ["/target/proc is busy: detaching it lazily".replace("/target", str(harness.target))]


def test_unmount_with_nothing_mounted_runs_nothing(harness, monkeypatch):
    import installer.storage.apply.mount as mount

    monkeypatch.setattr(mount, "read_mountinfo", lambda: MOUNTINFO.split("\n")[0])
    unmount_target(harness.context(lvm_plan()))
    assert harness.commands() == []


def test_unmount_reports_what_could_not_be_detached(harness, monkeypatch):
    import installer.storage.apply.mount as mount

    text = MOUNTINFO.replace("/target", str(harness.target))
    monkeypatch.setattr(mount, "read_mountinfo", lambda: text)
    harness.runner.responders.append(lambda argv, _: Result(argv, 32) if argv[0] == "umount" else None)
    with pytest.raises(ApplyError, match="could not unmount"):
        unmount_target(harness.context(lvm_plan()))


def test_the_write_back_syncs_the_target_file_system_or_for_zfs_its_pool(tmp_path):
    from installer.storage.apply.mount import write_back_argv

    assert write_back_argv(lvm_plan(), tmp_path) == ["sync", "--file-system", str(tmp_path)]
    assert write_back_argv(lvm_plan(Filesystem.XFS), tmp_path) == ["sync", "--file-system", str(tmp_path)]
    # sync=disabled during the install makes syncfs on a dataset return at once: the pool's txg is synced instead
    assert write_back_argv(zfs_plan(), tmp_path) == ["zpool", "sync", "rpool"]
