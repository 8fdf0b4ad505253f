"""Turns the payload tree into the live installer environment: units, start script, Keel itself, blivet, live.json."""

from __future__ import annotations

import os
import shutil
import time
import zipfile
from pathlib import Path, PurePosixPath

from installer.core.live import LiveInfo

PAYLOAD_DIR = Path("/usr/share/keel")
DIST_PACKAGES = Path("usr/lib/python3/dist-packages")
KEEL_PACKAGES = ("installer", "answerfile")
LIVE_UNITS = ("keel-log.service", "keel-hostid.service", "keel-zfs-module.service", "keel-fs-modules.service",
              "keel-host-keys.service", "getty@tty1.service", "getty@tty3.service", "systemd-networkd.service",
              "systemd-resolved.service")
# Services of the payload that have no job in the installer environment and cost boot time under emulation
# (or touch disks: multipathd would claim them). systemd-networkd does DHCP instead of ifupdown2.
LIVE_MASKED_UNITS = (
    "zfs-load-module.service", "networking.service", "multipathd.service", "multipathd.socket", "postfix.service",
    "chrony.service",
    "ssh.service", "ssh.socket", "keel-ssh-hostkeys.service", "keel-boot-cleanup.service",
    "zfs-import-cache.service", "zfs-import-scan.service", "zfs-mount.service", "zfs-share.service",
    "zfs-zed.service", "zfs-volume-wait.service", "lvm2-monitor.service", "mdmonitor.service",
    "e2scrub_reap.service", "apt-daily.timer", "apt-daily-upgrade.timer", "dpkg-db-backup.timer",
    "e2scrub_all.timer", "fstrim.timer", "xfs_scrub_all.timer", "man-db.timer", "systemd-timesyncd.service",
    # the payload's first-boot provisioning clients: corosync started with Debian's sample config and waited for
    # network-online (7-10 s under TCG, on the way to multi-user), rpcbind and the NFS client units another 5-10 s
    # (issue 13, systemd-analyze blame of the live boot)
    "corosync.service", "rpcbind.service", "rpcbind.socket", "nfs-client.target", "nfs-blkmap.service",
    "rpc-statd.service", "rpc-statd-notify.service", "rpc_pipefs.target", "run-rpc_pipefs.mount",
    "iscsid.socket", "iscsid.service", "open-iscsi.service", "nftables.service",
)
LAUNCHERS = {"keel-installer": "installer.cli", "keel-answer": "answerfile.cli"}
# console-setup.service compiles the keymap and font with ckbcomp (perl) at every boot unless its cached_* files
# exist and are newer than /etc/default/keyboard and console-setup: 99 s of a live boot under TCG, beside the
# units on the way to the installer on a 2-vCPU guest (issue 13, systemd-analyze blame). Made once at build time.
CONSOLE_CACHE_ARGV = ("setupcon", "--save-only")
LIVE_HOSTNAME = "keel"


def render_live_info(version: str, profile: str, mirror: str, security_mirror: str = "") -> str:
    """/etc/keel/live.json: where the install engine finds the payload (inside the live squashfs, so PXE has it)."""
    return LiveInfo(payload=PAYLOAD_DIR / "payload.squashfs", payload_files=PAYLOAD_DIR / "payload.files",
                    version=version, profile=profile, mirror=mirror, security_mirror=security_mirror).render()


def render_launcher(module: str) -> str:
    return f"#!/usr/bin/python3\nimport sys\n\nfrom {module} import main\n\nsys.exit(main())\n"


def render_hosts(hostname: str = LIVE_HOSTNAME) -> str:
    return (f"127.0.0.1\tlocalhost\n127.0.1.1\t{hostname}\n\n"
            "::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n")


def install_keel(repo: Path, root: Path) -> None:
    """Copy Keel's Python packages into the live env and write the command launchers."""
    site = root / DIST_PACKAGES
    for package in KEEL_PACKAGES:
        dest = site / package
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(repo / package, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name, module in LAUNCHERS.items():
        launcher = root / "usr/bin" / name
        launcher.write_text(render_launcher(module))
        launcher.chmod(0o755)


def install_wheel(wheel: Path, root: Path) -> list[str]:
    """Unpack a pure-Python wheel into dist-packages (what pip --no-deps would do); returns top-level names."""
    site = root / DIST_PACKAGES
    tops: set[str] = set()
    with zipfile.ZipFile(wheel) as archive:
        for member in archive.infolist():
            top = member.filename.split("/", 1)[0]
            if top.endswith(".data"):
                continue  # scripts and dbus service files of the wheel: not used by Keel
            archive.extract(member, site)
            tops.add(top)
    return sorted(tops)


def unpacked_module_argvs(root: Path, kernel_version: str) -> list[list[str]]:
    """Commands that store the live tree's out-of-tree modules (ZFS, SPL: updates/) uncompressed and rebuild the
    module index. `modprobe zfs` then skips an xz decompression that cost the live boot seconds under TCG; the
    live squashfs compresses them anyway. The payload keeps Debian's .ko.xz."""
    updates = root / "usr/lib/modules" / kernel_version / "updates"
    found = sorted(updates.rglob("*.ko.xz")) if updates.is_dir() else []
    if not found:
        return []
    return [["xz", "--decompress", "--force", *map(str, found)], ["chroot", str(root), "depmod", kernel_version]]


def compile_argv(packages: list[str]) -> list[str]:
    """Byte-compile Keel and the wheel's packages in the live tree: without .pyc files every boot compiled them
    again before the installer could start (seconds under TCG, on the way to KEEL-READY and into every install)."""
    return ["python3", "-m", "compileall", "-q", "-j", "0",
            *(f"/{DIST_PACKAGES}/{name}" for name in packages if not name.endswith(".dist-info"))]


# What the installer reads from the live squashfs on its way to the first phase: its modules and every module
# they import, and the programs the hardware probe, the answer lookup and the storage phases start (with their
# libraries). A cold `keel-installer --help` took 8-14 s under TCG against 2.8 s warm, most of it decompressing:
# each small file sits in a 128 KiB fragment block, the kernel caches three of them, and the modules were spread
# over the whole image. Listed first in the image (mksquashfs -sort), in the order they are imported, neighbours
# in time share fragment blocks.
STARTUP_PROGRAMS = (
    "python3", "lsblk", "blkid", "udevadm", "lvm", "zpool", "zfs", "mdadm", "btrfs", "ip", "mount", "umount",
    "wipefs", "sgdisk", "dd", "mkfs.ext4", "mkfs.xfs", "mkfs.btrfs", "mkfs.vfat", "unsquashfs", "chroot",
)
# The modules `keel-installer auto` imports, in its order (the rest of Keel's packages follow, walked by name).
STARTUP_MODULES = ("installer.cli", "installer.frontends.auto", "answerfile", "installer.hardware.probe", "pyudev",
                   "installer.engine.phases", "installer.storage.apply", "parted")
STARTUP_FILES_SCRIPT = """
import importlib, importlib.util, pkgutil, shutil, subprocess, sys
args = sys.argv[1:]
modules, packages, programs = args[:args.index("--walk")], args[args.index("--walk") + 1:args.index("--")], \\
    args[args.index("--") + 1:]
print(sys.executable)
for name in modules:
    importlib.import_module(name)
for name in packages:
    for info in pkgutil.walk_packages(importlib.import_module(name).__path__, name + "."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
for module in list(sys.modules.values()):   # in the order they were imported
    path = getattr(module, "__file__", None) or ""
    print(importlib.util.cache_from_source(path) if path.endswith(".py") else path)
for program in programs:
    found = shutil.which(program)
    if found:
        print(found)
        libraries = subprocess.run(["ldd", found], capture_output=True, text=True).stdout
        print("\\n".join(word for word in libraries.split() if word.startswith("/")))
"""
# mksquashfs writes higher priorities first (every other file has 0); the first file printed gets the highest.
STARTUP_PRIORITY_TOP = 32767


def startup_files_argv() -> list[str]:
    """python3 in the live tree (chroot) printing the paths of STARTUP_FILES_SCRIPT, one per line: every module of
    Keel's packages and what they import (blivet's own modules only as far as Keel imports them)."""
    return ["python3", "-c", STARTUP_FILES_SCRIPT, *STARTUP_MODULES, "--walk", *KEEL_PACKAGES, "--",
            *STARTUP_PROGRAMS]


def render_sort_file(printed: str, root: Path) -> str:
    """mksquashfs -sort lines (paths relative to `root`, the squashfs source) for the regular files `printed` names
    inside `root`, each once, priorities falling in the order printed; symbolic links are followed inside `root`."""
    found: dict[str, None] = {}
    for line in printed.splitlines():
        name = line.strip()
        if not name.startswith("/") or any(c.isspace() for c in name):
            continue
        path = resolve_inside(root, name)
        if path is not None and path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = None
    return "".join(f"{name} {max(1, STARTUP_PRIORITY_TOP - index)}\n" for index, name in enumerate(found))


def resolve_inside(root: Path, name: str, max_links: int = 40) -> Path | None:
    """Where the absolute path `name` of the tree `root` leads, every symbolic link (absolute ones too) followed as
    seen from inside `root`; None for a link loop."""
    parts = list(PurePosixPath(name).parts[1:])
    current, links = root, 0
    while parts:
        part = parts.pop(0)
        if part == "..":
            current = current.parent if current != root else root
            continue
        candidate = current / part
        if not candidate.is_symlink():
            current = candidate
            continue
        links += 1
        if links > max_links:
            return None
        target = PurePosixPath(os.readlink(candidate))
        if target.is_absolute():
            current, parts = root, [*target.parts[1:], *parts]
        else:
            parts = [*target.parts, *parts]
    return current


def write_identity(root: Path) -> None:
    """Hostname keel, an empty machine-id (systemd makes one per boot), no hostid (made at boot)."""
    (root / "etc/hostname").write_text(LIVE_HOSTNAME + "\n")
    (root / "etc/hosts").write_text(render_hosts())
    (root / "etc/machine-id").write_text("")
    (root / "etc/hostid").unlink(missing_ok=True)
    resolv = root / "etc/resolv.conf"
    if resolv.exists() or resolv.is_symlink():
        resolv.unlink()
    resolv.symlink_to("/run/systemd/resolve/resolv.conf")


UPDATED_STAMPS = ("etc/.updated", "var/.updated")


def mark_updated(root: Path, now_ns: int | None = None) -> None:
    """Tell systemd that /etc and /var are up to date with /usr (what systemd-update-done records), so the live
    boot skips the ConditionNeedsUpdate= units: ldconfig.service alone took 14 s of every boot under TCG, and
    the ld.so cache, hwdb and journal catalog were made when the packages were installed in the build.

    The stamp's mtime must not be older than /usr's; squashfs keeps whole seconds, so the nanoseconds are 0.
    """
    seconds = max((now_ns if now_ns is not None else time.time_ns()) // 10**9, int((root / "usr").stat().st_mtime))
    text = ("# Written by Keel's ISO build in place of systemd-update-done: the live system is up to date.\n"
            f"TIMESTAMP_NSEC={seconds * 10**9}\n")
    for stamp in UPDATED_STAMPS:
        path = root / stamp
        path.write_text(text)
        os.utime(path, ns=(seconds * 10**9, seconds * 10**9))


def unit_programs(unit_text: str) -> list[str]:
    """Absolute program paths of a unit's Exec* lines (prefixes like `-` and `@` dropped, empty resets skipped)."""
    programs = []
    for line in unit_text.splitlines():
        key, _, value = line.partition("=")
        if key.strip().startswith("Exec") and value.strip():
            program = value.split()[0].lstrip("-@:+!")
            if program.startswith("/"):
                programs.append(program)
    return programs


def missing_unit_programs(root: Path, written: list[Path]) -> list[str]:
    """`unit: program` for each Exec* program of the written units that does not exist in the tree."""
    missing = []
    for rel in written:
        if rel.suffix not in (".service", ".conf") or "systemd" not in rel.parts:
            continue
        for program in unit_programs((root / rel).read_text()):
            target = root / program.lstrip("/")
            if not (target.exists() or target.is_symlink()):
                missing.append(f"{rel}: {program}")
    return missing
