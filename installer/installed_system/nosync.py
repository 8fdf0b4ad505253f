"""The install's commands in the target chroot run without their own fsync calls: libeatmydata (Debian's
libeatmydata1, in the live environment) is preloaded into them.

grub-install syncs every file it writes, about 280 GRUB modules per platform, and each sync waits for a journal
commit of the target's file system. In the chroot of an ext4 install under TCG (2026-12-04, a cold page cache each
time), `grub-install --target=i386-pc` took 8.9 and 8.2 s, 6.1 and 5.4 s with the syncs taken out; the EFI one
5.9 and 6.2 s, 2.5 and 4.3 s. Nothing in the install needs those files on the disk rather than in the page cache
before its end: the Finishing phase unmounts the target (which writes every file system back) and runs `sync`
(which writes the disks' own page cache back too, where grub-install put its boot code) before the install reports
success, and a power loss before that is a failed install either way. The installed system's later commands
(update-grub, keel-boot-tool, apt) run without it and sync as they always do.

The library is copied into the target's /tmp, the chroot's own tmpfs, and is gone with it; `env LD_PRELOAD=...`
comes first in each chroot command line (InstallContext.chroot_run), so the install log shows it. A live
environment without the library installs as before, only slower.
"""

from __future__ import annotations

import shutil
from pathlib import Path

# Debian's multiarch path on amd64, the installer's only architecture
LIBRARY = "/usr/lib/x86_64-linux-gnu/libeatmydata.so.1"     # in the live environment
INSIDE = "/tmp/keel-nosync/libeatmydata.so.1"               # in the target


def install_library(target: Path, host_root: Path = Path("/")) -> str | None:
    """Copy the library from the live environment (whose root is `host_root`) into the target's /tmp; the path to
    preload inside the target, or None when the live environment has no such library."""
    library = host_root / LIBRARY.lstrip("/")
    if not library.is_file():
        return None
    copy = target / INSIDE.lstrip("/")
    copy.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
    shutil.copyfile(library, copy)
    copy.chmod(0o644)
    return INSIDE
