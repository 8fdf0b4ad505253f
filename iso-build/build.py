"""`make iso`: builds build/keel-<version>.iso and build/pxe/ from Debian trixie (see iso-build/README.md)."""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from installer import __version__
from installer.bootloader import prepared_cfg
from installer.runner import CommandError, Runner
from keel_iso import bootmenu, grubcfg, image, live, rootfs, zfs
from keel_iso.aptsources import MirrorError, host_mirror, host_security_mirror
from keel_iso.cache import CacheLayout, base_key, resolve_cache_dir, zfs_key
from keel_iso.chroot import chroot, remove_tree
from keel_iso.host import HostError, check_host
from keel_iso.profiles import (
    BASE_INCLUDE,
    BLIVET_REQUIREMENT,
    COMPONENTS,
    DEBCONF_SELECTIONS,
    LIVE,
    PROFILES,
    SUITE,
    payload_packages,
)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
STEPS = 11
# apt/debootstrap/dkms lines worth showing on the console, at most one every SHOW_EVERY seconds
# (everything goes to the log).
SHOWN_PREFIXES = ("I: Retrieving", "I: Extracting", "I: Configuring", "I: Base system", "Setting up ",
                  "Get:", "Building module", "Building initial module", "update-initramfs")
SHOW_EVERY = 5.0
LIVE_IMPORT_CHECK = "import blivet, urwid, pyudev, parted, requests, tomli_w, gi; import installer.cli"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="iso-build/build.py",
        description="Build Keel's hybrid BIOS/UEFI ISO and PXE artifacts from Debian trixie (needs root).",
        epilog="Example: make iso ISO_ARGS='--profile standard'   (or: .venv/bin/python iso-build/build.py "
               "--profile minimal --mirror http://mirror.example/debian)",
    )
    parser.add_argument("--profile", choices=sorted(PROFILES), default="minimal",
                        help="payload package set: minimal (fast e2e) or standard (hypervisor host)")
    parser.add_argument("--mirror", help="Debian archive URL (default: the build host's apt sources)")
    parser.add_argument("--security-mirror", help="Debian security archive URL for the installed system's apt "
                                                  "sources (default: the build host's, unless --mirror is given)")
    parser.add_argument("--no-cache", action="store_true",
                        help="ignore cached debootstrap base, ZFS modules and downloaded packages (refreshes them)")
    parser.add_argument("--cache-dir", help="build cache (default $KEEL_CACHE_DIR or /var/cache/keel-build)")
    parser.add_argument("--output", default=str(REPO / "build"), help="output directory (default build/)")
    return parser


@dataclass
class Console:
    """Progress on the console, everything in the build log."""

    log: TextIO
    started: float
    last_shown: float = 0.0

    def step(self, number: int, text: str) -> None:
        line = f"[{number:2d}/{STEPS}] {text}  (+{time.monotonic() - self.started:.0f} s)"
        print(line, flush=True)
        self.log.write(f"\n==== {line}\n")
        self.log.flush()

    def note(self, text: str) -> None:
        print(f"        {text}", flush=True)
        self.log.write(f"---- {text}\n")
        self.log.flush()

    def line(self, text: str) -> None:
        self.log.write(text + "\n")
        now = time.monotonic()
        if text.startswith(SHOWN_PREFIXES) and now - self.last_shown >= SHOW_EVERY:
            self.last_shown = now
            print(f"        {text[:110]}", flush=True)


def post_install_deb(runner: Runner, output: Path, console: Console) -> Path | None:
    """Build keel-post-install with its own script when it exists; None (and a warning) when it does not."""
    script = REPO / "post-install/build_deb.py"
    if not script.is_file():
        console.note("WARNING: post-install/build_deb.py is missing: the payload has no keel-post-install")
        return None
    runner.run([sys.executable, str(script), "--output", str(output)], timeout=600, cwd=REPO)
    debs = sorted(output.glob("keel-post-install_*_all.deb"), key=lambda p: p.stat().st_mtime)
    if not debs:
        raise RuntimeError(f"{script} ran but left no keel-post-install_*_all.deb in {output}")
    return debs[-1]


def blivet_wheel(runner: Runner, wheels: Path) -> Path:
    wheels.mkdir(parents=True, exist_ok=True)
    name = BLIVET_REQUIREMENT.replace("==", "-")
    found = sorted(wheels.glob(f"{name}-*.whl"))
    if not found:
        runner.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "-d", str(wheels), BLIVET_REQUIREMENT], timeout=600)
        found = sorted(wheels.glob(f"{name}-*.whl"))
    if not found:
        raise RuntimeError(f"pip download {BLIVET_REQUIREMENT} produced no wheel in {wheels}")
    return found[-1]


def copy_into(source: Path, root: Path, dest: str) -> str:
    target = root / dest.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source, target)
    return dest


def lock_cache(root: Path) -> None:
    """One build per cache directory at a time (they share work/); the lock ends with the process."""
    root.mkdir(parents=True, exist_ok=True)
    handle = (root / "build.lock").open("a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        raise HostError(f"{root} is in use by another ISO build ({owner}): wait for it or use --cache-dir") from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()}\n")
    handle.flush()
    _LOCKS.append(handle)


_LOCKS: list = []


def build(args: argparse.Namespace, runner: Runner, console: Console) -> dict:
    started = console.started
    output = Path(args.output).resolve()
    layout = CacheLayout(resolve_cache_dir(args.cache_dir))
    version = __version__

    console.step(1, f"Checking the build host (cache {layout.root}, output {output})")
    check_host([layout.root, output])
    lock_cache(layout.root)
    mirror = (args.mirror or host_mirror()).rstrip("/")
    console.note(f"mirror {mirror}, suite {SUITE} ({' '.join(COMPONENTS)}), profile {args.profile}")
    work = layout.work
    remove_tree(runner, work)
    work.mkdir(parents=True)
    apt_archives = work / "apt-archives" if args.no_cache else layout.apt_archives
    debootstrap_debs = work / "debootstrap-debs" if args.no_cache else layout.debootstrap_debs
    warm = True

    console.step(2, "Debian base system (debootstrap, cached)")
    base = layout.base_tarball(base_key(SUITE, mirror, COMPONENTS, BASE_INCLUDE))
    if args.no_cache or not base.is_file():
        warm = False
        rootfs.debootstrap_base(runner, mirror, work / "base", base, debootstrap_debs, console.line)
        remove_tree(runner, work / "base")
    else:
        console.note(f"reusing {base}")

    console.step(3, "Payload tree: apt sources and package versions")
    tree = work / "rootfs"
    rootfs.unpack_base(runner, base, tree)
    rootfs.prepare_apt(tree, mirror, DEBCONF_SELECTIONS)
    rootfs.write_tree(HERE / "payload/rootfs", tree)
    with chroot(runner, tree, apt_archives):
        rootfs.apt_update(runner, tree)
        kernel_pkg = rootfs.kernel_package(runner, tree)
        kernel_version = kernel_pkg.removeprefix("linux-image-")
        zfs_version = rootfs.candidate_version(runner, tree, "zfs-dkms")
    console.note(f"kernel {kernel_version}, ZFS {zfs_version}")

    console.step(4, "ZFS kernel module (zfs-dkms, cached by kernel and ZFS version)")
    zfs_dir = layout.zfs_deb_dir(zfs_key(kernel_version, zfs_version))
    zfs_debs = sorted(zfs_dir.glob("*.deb")) if zfs_dir.is_dir() else []
    if args.no_cache or not zfs_debs:
        warm = False
        if zfs_dir.exists():
            shutil.rmtree(zfs_dir)
        zfs_deb = zfs.build_zfs_deb(runner, base, work / "zfs-build", mirror, DEBCONF_SELECTIONS, apt_archives,
                                    kernel_version, zfs_version, zfs_dir, console.line)
    else:
        zfs_deb = zfs_debs[-1]
        console.note(f"reusing {zfs_deb}")

    console.step(5, f"Payload packages ({args.profile})")
    local_debs = [copy_into(zfs_deb, tree, f"/tmp/{zfs_deb.name}")]
    post_deb = post_install_deb(runner, output, console)
    if post_deb is not None:
        local_debs.append(copy_into(post_deb, tree, f"/tmp/{post_deb.name}"))
    with chroot(runner, tree, apt_archives):
        rootfs.apt_install(runner, tree, [*payload_packages(args.profile), kernel_pkg, *local_debs], console.line)
        runner.run(rootfs.in_chroot(tree, "systemctl", "enable", "keel-ssh-hostkeys.service"), timeout=120)
        rootfs.generic_initramfs(runner, tree, kernel_version)
        grub_cfgs = grubcfg.prepare(runner, tree, work / "grub-cfg", [e.args for e in bootmenu.IPXE_ENTRIES])
    console.note(f"grub.cfg prepared for {len(grub_cfgs)} kinds of LVM install (ext4, xfs; each boot menu entry's "
                 "kernel parameters)")
    for deb in local_debs:
        (tree / deb.lstrip("/")).unlink()
    (tree / "etc/machine-id").write_text("")
    (tree / "etc/hostid").unlink(missing_ok=True)

    console.step(6, "Payload squashfs and file list")
    payload_img = work / "payload.squashfs"
    rootfs.make_squashfs(runner, tree, payload_img, console.line)
    files = rootfs.squashfs_file_list(runner, payload_img)
    (work / "payload.files").write_text(files)
    console.note(f"payload {payload_img.stat().st_size / 2**20:.0f} MiB, {len(files.splitlines())} paths")

    console.step(7, "Live environment: installer packages, Keel, blivet")
    wheel = blivet_wheel(runner, layout.wheels)
    sort_file = work / "live-startup.sort"
    with chroot(runner, tree, apt_archives):
        rootfs.apt_install(runner, tree, LIVE, console.line)
        written = rootfs.write_tree(HERE / "live/rootfs", tree) + rootfs.write_tree(HERE / "payload/rootfs", tree)
        missing = live.missing_unit_programs(tree, written)
        if missing:
            raise RuntimeError(f"unit programs missing in the live environment: {', '.join(missing)}")
        live.install_keel(REPO, tree)
        wheel_packages = live.install_wheel(wheel, tree)
        (tree / "etc/keel").mkdir(parents=True, exist_ok=True)
        security = args.security_mirror or ("" if args.mirror else host_security_mirror())
        (tree / "etc/keel/live.json").write_text(live.render_live_info(version, args.profile, mirror,
                                                                       security.rstrip("/")))
        runner.run(rootfs.in_chroot(tree, "systemctl", "enable", *live.LIVE_UNITS), timeout=120)
        runner.run(rootfs.in_chroot(tree, "systemctl", "mask", *live.LIVE_MASKED_UNITS), timeout=120)
        runner.run(rootfs.in_chroot(tree, *live.CONSOLE_CACHE_ARGV), env=rootfs.APT_ENV, timeout=600)
        for argv in live.unpacked_module_argvs(tree, kernel_version):
            runner.run(argv, env=rootfs.APT_ENV, timeout=300)
        (tree / "etc/hostid").unlink(missing_ok=True)
        runner.run(rootfs.in_chroot(tree, "update-initramfs", "-u", "-k", kernel_version), env=rootfs.APT_ENV,
                   timeout=1800)
        runner.run(rootfs.in_chroot(tree, "python3", "-c", LIVE_IMPORT_CHECK), env=rootfs.APT_ENV, timeout=300)
        runner.run(rootfs.in_chroot(tree, *live.compile_argv([*live.KEEL_PACKAGES, *wheel_packages])),
                   env=rootfs.APT_ENV, timeout=600)
        startup = runner.run(rootfs.in_chroot(tree, *live.startup_files_argv()), env=rootfs.APT_ENV, timeout=600)
        sort_file.write_text(live.render_sort_file(startup.stdout, tree))
        console.note(f"{len(sort_file.read_text().splitlines())} files the installer reads on its way to the first "
                     "phase go first in the live squashfs")
    live.write_identity(tree)
    keel_dir = tree / live.PAYLOAD_DIR.relative_to("/")
    keel_dir.mkdir(parents=True, exist_ok=True)
    shutil.move(payload_img, keel_dir / "payload.squashfs")
    shutil.move(work / "payload.files", keel_dir / "payload.files")
    prepared = tree / prepared_cfg.PREPARED_DIR.relative_to("/")
    prepared.mkdir(parents=True, exist_ok=True)
    for path in grub_cfgs:
        shutil.copy2(path, prepared / path.name)
    live.mark_updated(tree)

    console.step(8, "Live squashfs, kernel and initrd")
    staging = work / "iso"
    (staging / "live").mkdir(parents=True)
    shutil.copy2(tree / f"boot/vmlinuz-{kernel_version}", staging / "live/vmlinuz")
    shutil.copy2(tree / f"boot/initrd.img-{kernel_version}", staging / "live/initrd.img")
    rootfs.make_squashfs(runner, tree, staging / "live/filesystem.squashfs", console.line, sort_file=sort_file)
    remove_tree(runner, tree)

    console.step(9, "Hybrid ISO (grub-mkrescue, BIOS + UEFI)")
    record = {"version": version, "profile": args.profile, "mirror": mirror, "kernel_version": kernel_version,
              "zfs_version": zfs_version, "cache": "warm" if warm else "cold"}
    image.write_iso_tree(staging, version, args.profile, json.dumps(record, indent=2) + "\n")
    iso = output / f"keel-{version}.iso"
    image.make_iso(runner, staging, iso, version)
    alias = output / "keel.iso"
    if alias.exists() or alias.is_symlink():
        alias.unlink()
    alias.symlink_to(iso.name)

    console.step(10, "PXE artifacts")
    image.write_pxe(staging, output / "pxe", version)
    remove_tree(runner, work)

    console.step(11, "Build record")
    record.update(iso_size_bytes=iso.stat().st_size, build_seconds=round(time.monotonic() - started, 1))
    (output / "iso-build.json").write_text(json.dumps(record, indent=2) + "\n")
    with (output / "iso-build-history.jsonl").open("a") as history:
        history.write(json.dumps(record) + "\n")
    return record


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    output = Path(args.output).resolve()
    output.mkdir(parents=True, exist_ok=True)
    log_path = output / "iso-build.log"
    with log_path.open("w") as log:
        runner = Runner(log=log, default_timeout=1800)
        console = Console(log, time.monotonic())
        try:
            record = build(args, runner, console)
        except (HostError, MirrorError, ValueError) as err:
            print(f"iso-build: error: {err}", file=sys.stderr)
            return 2
        except (CommandError, RuntimeError, OSError) as err:
            first, _, rest = str(err).partition("\n")
            print(f"iso-build: error: {first}", file=sys.stderr)
            if rest:
                print(rest, file=sys.stderr)
            print(f"iso-build: the full log is {log_path}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("iso-build: interrupted", file=sys.stderr)
            return 130
    iso = output / f"keel-{record['version']}.iso"
    print(f"Built {iso} ({record['iso_size_bytes'] / 2**20:.0f} MiB, {record['profile']}, cache {record['cache']})"
          f" in {record['build_seconds']:.0f} s; PXE files in {output / 'pxe'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
