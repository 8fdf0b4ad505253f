"""The /etc/kernel files: written so that concurrent writers and crashes leave the old or the new text."""

import os
import re
import stat
import threading

import pytest

from keel_boot import state
from keel_boot.state import SystemPaths

WRITERS = 8
WRITES_EACH = 75


def test_concurrent_writers_of_the_esp_list_all_succeed_and_leave_one_whole_list(tmp_path):
    """Every write used to go through the one temporary name proxmox-boot-uuids.keel-tmp: a writer whose
    temporary file another had already renamed failed (43 of 600 writes in the report)."""
    paths = SystemPaths(tmp_path)
    failures = []
    written = set()

    def writer(number: int) -> None:
        for count in range(WRITES_EACH):
            uuids = (f"{number:04X}-{count:04X}", f"FFFF-{number:04X}")
            written.add("".join(f"{u}\n" for u in sorted(uuids)))
            try:
                state.write_uuids(paths, uuids)
            except OSError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert paths.uuids.read_text() in written
    assert os.listdir(paths.uuids.parent) == ["proxmox-boot-uuids"]


@pytest.mark.parametrize(
    ("write", "target"),
    [(lambda p: state.write_uuids(p, ["1A2B-3C4D"]), "etc/kernel/proxmox-boot-uuids"),
     (lambda p: state.write_pin(p.pin, "6.12.43+deb13-amd64"), "etc/kernel/proxmox-boot-pin"),
     (lambda p: state.write_pin(p.next_boot_pin, "6.12.43+deb13-amd64"), "etc/kernel/next-boot-pin"),
     (lambda p: state.write_manual_kernels(p, ("6.1.0-37-amd64",)), "etc/kernel/proxmox-boot-manual-kernels"),
     (lambda p: state.write_text(p.grub_pin, "GRUB_DEFAULT=0\n"), "etc/default/grub.d/proxmox-kernel-pin.cfg")],
    ids=["the ESP list", "the pin", "the next-boot pin", "the manual kernel list", "the GRUB_DEFAULT pin"],
)
def test_a_state_file_is_synced_before_its_rename_and_its_directory_after(tmp_path, monkeypatch, write, target):
    """A power cut after the rename must not leave an empty file: the data is on disk before the new name,
    and the new name is on disk before the command reports success."""
    events = []
    fsync, replace = os.fsync, os.replace

    def recording_fsync(fd):
        kind = "directory" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"
        events.append(("fsync", kind, os.readlink(f"/proc/self/fd/{fd}")))
        fsync(fd)

    def recording_replace(src, dst):
        events.append(("rename", str(src), str(dst)))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", recording_fsync)
    monkeypatch.setattr(os, "replace", recording_replace)
    write(SystemPaths(tmp_path))
    path = tmp_path / target
    assert [event[:2] for event in events] == [("fsync", "file"), ("rename", events[0][2]), ("fsync", "directory")]
    temporary = events[0][2]
    assert os.path.dirname(temporary) == str(path.parent)
    assert events[1][2] == str(path)
    assert events[2][2] == str(path.parent)


def test_state_files_stay_readable_by_everyone_and_keep_a_mode_set_by_hand(tmp_path):
    paths = SystemPaths(tmp_path)
    state.write_uuids(paths, ["1A2B-3C4D"])
    assert stat.S_IMODE(paths.uuids.stat().st_mode) == 0o644
    paths.uuids.chmod(0o600)
    state.write_uuids(paths, ["5E6F-7A8B"])
    assert stat.S_IMODE(paths.uuids.stat().st_mode) == 0o600


def _write_bytes(data: bytes):
    def plant(path):
        path.write_bytes(data)
    return plant


def _a_directory(path):
    path.mkdir()


# (what the ESP list holds, the one line that says what is wrong with it)
BROKEN_ESP_LISTS = [
    (_write_bytes(b"1A2B-3C4D\n\xff\xfe\x00garbage\n"), "{f}: not UTF-8 text (byte 0xff at offset 10)"),
    (_write_bytes(b"1A2B-3C4D\n\x00\x01\x02\n"), r"{f}: '\x00\x01\x02' is not a vfat UUID (XXXX-XXXX), line 2"),
    (_write_bytes(b"/dev/sda2\n"), "{f}: '/dev/sda2' is not a vfat UUID (XXXX-XXXX), line 1"),
    (_write_bytes(b"# ESPs\n\n0f3c2d1e-aaaa-4bbb-8ccc-123456789abc\n"),
     "{f}: '0f3c2d1e-aaaa-4bbb-8ccc-123456789abc' is not a vfat UUID (XXXX-XXXX), line 3"),
    (_write_bytes(b"\xc3\xa9t" * 30 + b"\n"),
     r"{f}: '\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t\xe9t'..."
     " is not a vfat UUID (XXXX-XXXX), line 1"),
    (_a_directory, "{f}: cannot be read (Is a directory)"),
]


@pytest.mark.parametrize(
    ("plant", "message"),
    BROKEN_ESP_LISTS,
    ids=["bytes that are not UTF-8", "control characters, shown escaped", "a device path instead of a UUID",
         "a filesystem UUID that is no vfat volume id", "a long line, cut short", "a directory in its place"],
)
def test_a_broken_esp_list_is_one_line_naming_the_file_and_what_is_wrong(tmp_path, plant, message):
    paths = SystemPaths(tmp_path)
    paths.uuids.parent.mkdir(parents=True)
    plant(paths.uuids)
    with pytest.raises(state.StateError) as broken:
        state.read_uuids(paths)
    assert str(broken.value) == message.format(f=paths.uuids)


def test_an_empty_esp_list_reads_as_no_esp_and_a_missing_one_as_none(tmp_path):
    paths = SystemPaths(tmp_path)
    assert state.read_uuids(paths) is None
    paths.uuids.parent.mkdir(parents=True)
    paths.uuids.write_text("# no ESP yet\n\n")
    assert state.read_uuids(paths) == ()


@pytest.mark.parametrize(
    ("path", "read"),
    [("etc/kernel/proxmox-boot-pin", lambda p: state.read_pin(p.pin)),
     ("etc/kernel/proxmox-boot-manual-kernels", state.read_manual_kernels),
     ("etc/kernel/cmdline", state.kernel_cmdline)],
    ids=["the pin", "the manual kernel list", "the kernel command line"],
)
def test_other_state_files_that_are_not_utf8_are_named_too(tmp_path, path, read):
    (tmp_path / path).parent.mkdir(parents=True)
    (tmp_path / path).write_bytes(b"root=\xff\n")
    expected = f"{tmp_path / path}: not UTF-8 text (byte 0xff at offset 5)"
    with pytest.raises(state.StateError, match=f"^{re.escape(expected)}$"):
        read(SystemPaths(tmp_path))
