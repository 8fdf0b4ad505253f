"""The chroot the configuration phases run in: the kernel filesystems mounted into the target, and unmounted."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from installer.host.mounts import mounted
from installer.runner import Runner

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
