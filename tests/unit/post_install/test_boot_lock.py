"""The lock of keel-boot-tool: a directory only root can write, a lock file no planted link can redirect."""

import os
import stat
import threading

import pytest

from keel_boot.lock import LockError, exclusive_lock


def never_waits(lock_file):
    raise AssertionError(f"nobody else holds {lock_file}")


def test_the_lock_directory_is_made_0700_and_the_lock_file_0600(tmp_path):
    lock_dir = tmp_path / "run/keel-boot-tool"
    with exclusive_lock(lock_dir, never_waits):
        assert stat.S_IMODE(lock_dir.stat().st_mode) == 0o700
        assert stat.S_IMODE((lock_dir / "lock").stat().st_mode) == 0o600


def test_an_existing_lock_file_is_not_emptied(tmp_path):
    lock_dir = tmp_path / "keel-boot-tool"
    lock_dir.mkdir(mode=0o700)
    (lock_dir / "lock").write_text("left by an earlier run\n")
    with exclusive_lock(lock_dir, never_waits):
        pass
    assert (lock_dir / "lock").read_text() == "left by an earlier run\n"


def test_a_second_run_waits_until_the_first_lets_go(tmp_path):
    lock_dir = tmp_path / "keel-boot-tool"
    waiting = threading.Event()
    order = []

    def second_run():
        with exclusive_lock(lock_dir, lambda lock_file: waiting.set()):
            order.append("second")

    with exclusive_lock(lock_dir, never_waits):
        worker = threading.Thread(target=second_run)
        worker.start()
        assert waiting.wait(timeout=30)
        order.append("first")
    worker.join(timeout=30)
    assert order == ["first", "second"]


def _group_writable(lock_dir):
    lock_dir.mkdir(mode=0o700)
    lock_dir.chmod(0o770)


def _world_writable(lock_dir):
    lock_dir.mkdir(mode=0o700)
    lock_dir.chmod(0o1777)


def _a_link_to_a_directory(lock_dir):
    (lock_dir.parent / "elsewhere").mkdir(mode=0o700)
    lock_dir.symlink_to(lock_dir.parent / "elsewhere")


def _a_file(lock_dir):
    lock_dir.write_text("")


def _a_link_at_the_lock_file(lock_dir):
    lock_dir.mkdir(mode=0o700)
    (lock_dir / "lock").symlink_to(lock_dir.parent / "victim")


def _a_directory_at_the_lock_file(lock_dir):
    lock_dir.mkdir(mode=0o700)
    (lock_dir / "lock").mkdir()


# (what is found where the lock goes, the refusal)
REFUSALS = [
    (_group_writable, "{d} has mode 0770, writable by others: remove it, keel-boot-tool makes it again (0700)"),
    (_world_writable, "{d} has mode 1777, writable by others: remove it, keel-boot-tool makes it again (0700)"),
    (_a_link_to_a_directory, "{d} is not a directory (a symbolic link or a file): remove it"),
    (_a_file, "{d} is not a directory (a symbolic link or a file): remove it"),
    (_a_link_at_the_lock_file, "{d}/lock is a symbolic link, not the lock file: remove it"),
    (_a_directory_at_the_lock_file, "cannot open the lock file {d}/lock: Is a directory"),
]


@pytest.mark.parametrize(
    ("plant", "message"),
    REFUSALS,
    ids=["a group-writable lock directory is refused", "a world-writable lock directory is refused",
         "a link in place of the lock directory is refused", "a file in place of the lock directory is refused",
         "a link at the lock file is refused", "a directory at the lock file is refused"],
)
def test_refuses(tmp_path, plant, message):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    lock_dir = tmp_path / "keel-boot-tool"
    plant(lock_dir)
    with pytest.raises(LockError) as refused, exclusive_lock(lock_dir, never_waits):
        pytest.fail("got the lock")
    assert str(refused.value) == message.format(d=lock_dir)
    assert victim.read_text() == "precious\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_lock_directory_owned_by_another_user_is_refused(tmp_path):
    lock_dir = tmp_path / "keel-boot-tool"
    lock_dir.mkdir(mode=0o700)
    os.chown(lock_dir, 65534, 65534)
    with pytest.raises(LockError, match=r"keel-boot-tool is owned by uid 65534, not 0: remove it"), \
            exclusive_lock(lock_dir, never_waits):
        pytest.fail("got the lock")
