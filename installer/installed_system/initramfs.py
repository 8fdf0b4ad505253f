"""The installed system's initramfs without rebuilding it during the install.

The ISO build makes the payload's initramfs once, with every storage hook the installed system can need (LVM,
thin, ZFS, Btrfs, XFS, fsck for ext4/XFS) and none of a host's own files. At install time only what belongs to
this host is added, as a small uncompressed cpio archive appended to it: the kernel unpacks concatenated
archives in order, so these files win over anything of the same name before them. What goes in is what the
initramfs-tools hooks would have copied from this host's /etc: /etc/hostid and /etc/hostname (the ZFS hook:
the pool imports without -f only when the hostid in the initramfs is the pool's), the modprobe options written
by the installer (the ZFS ARC limit) and the NIC name pins (the udev hook copies .link files).

A later `update-initramfs -u` on the installed system rebuilds the whole image from the system as it is then;
nothing here has to be undone.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from installer.phase import InstallContext

CPIO_MAGIC = b"070701"
TRAILER = "TRAILER!!!"

# (path on the installed system, path inside the initramfs): the host's files the hooks copy
HOST_FILES = (
    ("/etc/hostid", "etc/hostid"),
    ("/etc/hostname", "etc/hostname"),
    ("/etc/modprobe.d/zfs.conf", "etc/modprobe.d/zfs.conf"),
)
LINK_DIR = ("/etc/systemd/network", "usr/lib/systemd/network")   # the udev hook copies *.link files here


@dataclass(frozen=True)
class ArchiveFile:
    name: str        # path inside the initramfs, relative: "etc/hostid"
    data: bytes
    mode: int = 0o644
    mtime: int = 0


def kernel_versions(boot: Path) -> list[str]:
    """The versions of the kernels in `boot` (vmlinuz-<version>), sorted."""
    if not boot.is_dir():
        return []
    return sorted(p.name.removeprefix("vmlinuz-") for p in boot.glob("vmlinuz-*") if p.is_file())


def host_files(target: Path) -> list[ArchiveFile]:
    """This host's files that the initramfs must hold, read from the target (the ones it has)."""
    wanted = list(HOST_FILES)
    links = target / LINK_DIR[0].lstrip("/")
    if links.is_dir():
        wanted += [(f"{LINK_DIR[0]}/{p.name}", f"{LINK_DIR[1]}/{p.name}") for p in sorted(links.glob("*.link"))]
    files = []
    for inside, name in wanted:
        path = target / inside.lstrip("/")
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            files.append(ArchiveFile(name, path.read_bytes(), stat.S_IMODE(st.st_mode), int(st.st_mtime)))
    return files


def _entry(name: str, mode: int, data: bytes, mtime: int, ino: int) -> bytes:
    encoded = name.encode() + b"\0"
    fields = (ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, mtime, len(data), 0, 0, 0, 0, len(encoded), 0)
    header = CPIO_MAGIC + b"".join(b"%08X" % value for value in fields)
    head = header + encoded
    return head + b"\0" * (-len(head) % 4) + data + b"\0" * (-len(data) % 4)


def newc_archive(files: list[ArchiveFile]) -> bytes:
    """A cpio archive in the "newc" format the kernel unpacks, with the parent directories of every file first.

    Directories that exist already in an earlier archive are left as they are by the kernel (mkdir fails, the
    unpacking goes on); files replace what is there.
    """
    dirs: list[str] = []
    for f in files:
        parts = f.name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in dirs:
                dirs.append(d)
    out = []
    ino = 1
    for d in dirs:
        out.append(_entry(d, stat.S_IFDIR | 0o755, b"", 0, ino))
        ino += 1
    for f in files:
        out.append(_entry(f.name, stat.S_IFREG | f.mode, f.data, f.mtime, ino))
        ino += 1
    out.append(_entry(TRAILER, 0, b"", 0, 0))
    return b"".join(out)


def append_archive(initrd: Path, archive: bytes) -> int:
    """Append `archive` to the initramfs image `initrd`, starting on a 4-byte boundary (where the kernel looks
    for the next archive); returns the bytes added. The image is not followed if it is a symlink. No fsync: the
    Finishing phase's unmount writes it with everything else (an fsync waited 1-2 s for the extraction's write-back
    running beside it under TCG)."""
    fd = os.open(initrd, os.O_WRONLY | os.O_APPEND | os.O_NOFOLLOW)
    try:
        size = os.fstat(fd).st_size
        data = b"\0" * (-size % 4) + archive
        os.write(fd, data)
    finally:
        os.close(fd)
    return len(data)



def prepare_initramfs(ctx: InstallContext) -> None:
    """Give every kernel on the target an initramfs for this host: the payload's one with this host's files
    appended, or, for a kernel the payload has no initramfs for, one built in the chroot."""
    boot = ctx.path("/boot")
    versions = kernel_versions(boot)
    if not versions:
        if ctx.dry_run:
            ctx.events.message(f"dry run: no kernel in {boot}; an install appends this host's files to its initramfs")
            return
        raise FileNotFoundError(f"{boot} holds no vmlinuz-<version>: the payload has no kernel to boot")
    files = host_files(ctx.target)
    archive = newc_archive(files)
    for version in versions:
        initrd = boot / f"initrd.img-{version}"
        if initrd.is_file() and not initrd.is_symlink():
            added = append_archive(initrd, archive)
            ctx.events.message(f"{initrd.name}: added {', '.join('/' + f.name for f in files)} ({added} bytes)")
        else:
            ctx.events.warning(f"the payload has no initramfs for kernel {version}: building one (slow)")
            ctx.chroot_run(["update-initramfs", "-c", "-k", version], timeout=1800)
