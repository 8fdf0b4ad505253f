"""Mounting with guaranteed unmounting, and the chroot context the configuration phases run in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from installer.runner import CommandError, Runner

UMOUNT_TIMEOUT = 120.0


@contextmanager
def mounted(runner: Runner, source: str, mountpoint: Path, *, fstype: str | None = None,
            options: str | None = None, bind: bool = False) -> Iterator[Path]:
    """Mount `source` on `mountpoint` for the duration of the block; unmount on every way out."""
    mountpoint.mkdir(parents=True, exist_ok=True)
    argv = ["mount"]
    if bind:
        argv.append("--bind")
    if fstype:
        argv += ["-t", fstype]
    if options:
        argv += ["-o", options]
    runner.run([*argv, source, str(mountpoint)], timeout=120)
    try:
        yield mountpoint
    finally:
        unmount(runner, mountpoint)


def unmount(runner: Runner, mountpoint: Path) -> None:
    """Unmount `mountpoint`; a busy mount is retried lazily so cleanup never leaves the target half-mounted."""
    try:
        runner.run(["umount", str(mountpoint)], timeout=UMOUNT_TIMEOUT)
    except CommandError:
        runner.run(["umount", "--lazy", str(mountpoint)], timeout=UMOUNT_TIMEOUT)


# (source, path inside the target, fstype, options, bind)
CHROOT_MOUNTS: tuple[tuple[str, str, str | None, str | None, bool], ...] = (
    ("proc", "/proc", "proc", None, False),
    ("sysfs", "/sys", "sysfs", None, False),
    ("/dev", "/dev", None, None, True),
    ("devpts", "/dev/pts", "devpts", "gid=5,mode=620", False),
    ("tmpfs", "/tmp", "tmpfs", "mode=1777", False),
    ("/run", "/run", None, None, True),
)
EFIVARS = ("efivarfs", "/sys/firmware/efi/efivars", "efivarfs", None, False)


@contextmanager
def chroot_mounts(runner: Runner, target: Path, *, efi: bool = False) -> Iterator[Path]:
    """The kernel filesystems a chroot needs (proc, sys, dev, run; efivars on EFI), unmounted in reverse order."""
    mounts = CHROOT_MOUNTS + ((EFIVARS,) if efi else ())
    with ExitStack() as stack:
        for source, inside, fstype, options, bind in mounts:
            stack.enter_context(mounted(runner, source, target / inside.lstrip("/"), fstype=fstype,
                                        options=options, bind=bind))
        yield target
