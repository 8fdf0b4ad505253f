"""Root filesystem trees: the cached debootstrap base, apt inside a chroot, squashfs images and file lists."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

from installer.runner import Runner

from .chroot import remove_tree
from .profiles import BASE_INCLUDE, COMPONENTS, SUITE

NICE = ["nice", "-n", "10"]
APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8",
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
APT_OPTS = ["-y", "-q", "--no-install-recommends", "-o", "Dpkg::Use-Pty=0",
            "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold"]
# Left out of every squashfs: per-machine identity and apt state the installed system recreates.
SQUASHFS_EXCLUDES = (
    "etc/hostid", "etc/ssh/ssh_host_*", "var/lib/apt/lists/*", "var/cache/apt/*.bin",
    "var/cache/apt/archives/*.deb", "var/log/*.log", "var/log/apt/*", "tmp/*", "root/.bash_history",
)

Progress = Callable[[str], None]


def render_sources_list(mirror: str, suite: str = SUITE, components: Sequence[str] = COMPONENTS) -> str:
    return f"deb {mirror} {suite} {' '.join(components)}\n"


def debootstrap_base(runner: Runner, mirror: str, target: Path, tarball: Path, debs: Path,
                     on_line: Progress) -> None:
    """debootstrap minbase trixie into `target`, then keep the finished tree as a tar for the next build."""
    remove_tree(runner, target)
    target.mkdir(parents=True)
    debs.mkdir(parents=True, exist_ok=True)
    runner.stream(
        [*NICE, "debootstrap", "--variant=minbase", f"--components={','.join(COMPONENTS)}",
         f"--include={','.join(BASE_INCLUDE)}", f"--cache-dir={debs}", SUITE, str(target), mirror],
        on_line, timeout=3600,
    )
    tarball.parent.mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".partial")
    runner.run(["tar", "-C", str(target), "--numeric-owner", "--xattrs", "-cf", str(partial), "."], timeout=900)
    partial.rename(tarball)


def unpack_base(runner: Runner, tarball: Path, target: Path) -> None:
    remove_tree(runner, target)
    target.mkdir(parents=True)
    runner.run(["tar", "-C", str(target), "--numeric-owner", "--xattrs", "-xf", str(tarball)], timeout=900)


def prepare_apt(root: Path, mirror: str, debconf: str) -> None:
    """Point the tree's apt at the mirror and leave the debconf answers where `apt_install` loads them."""
    (root / "etc/apt/sources.list").write_text(render_sources_list(mirror))
    (root / "etc/apt/apt.conf.d/90keel-build").write_text(
        'APT::Install-Recommends "false";\nAcquire::Retries "3";\nAPT::Keep-Downloaded-Packages "true";\n'
        'Binary::apt::APT::Keep-Downloaded-Packages "true";\n'
    )
    (root / "tmp/keel-debconf.txt").write_text(debconf)


def in_chroot(root: Path, *argv: str) -> list[str]:
    return [*NICE, "chroot", str(root), *argv]


def apt_update(runner: Runner, root: Path) -> None:
    runner.run(in_chroot(root, "apt-get", "-q", "update"), env=APT_ENV, timeout=900)
    runner.run(in_chroot(root, "debconf-set-selections", "/tmp/keel-debconf.txt"), env=APT_ENV, timeout=120)


def apt_install(runner: Runner, root: Path, packages: Sequence[str], on_line: Progress) -> None:
    runner.stream(in_chroot(root, "apt-get", *APT_OPTS, "install", *packages), on_line, env=APT_ENV,
                  timeout=5400)


def candidate_version(runner: Runner, root: Path, package: str) -> str:
    """The version apt would install for `package` (from `apt-cache policy`)."""
    out = runner.run(in_chroot(root, "apt-cache", "policy", package), env=APT_ENV, timeout=120).stdout
    for line in out.splitlines():
        if line.strip().startswith("Candidate:"):
            value = line.split(":", 1)[1].strip()
            if value and value != "(none)":
                return value
    raise RuntimeError(f"package {package} has no installation candidate in the trixie mirror")


def kernel_package(runner: Runner, root: Path) -> str:
    """The versioned kernel package linux-image-amd64 depends on, e.g. linux-image-6.12.38+deb13-amd64."""
    out = runner.run(in_chroot(root, "apt-cache", "depends", "linux-image-amd64"), env=APT_ENV, timeout=120).stdout
    for line in out.splitlines():
        line = line.strip()
        if line.startswith("Depends:") and "linux-image-" in line:
            return line.split(":", 1)[1].strip()
    raise RuntimeError("cannot tell which kernel linux-image-amd64 installs (apt-cache depends)")


def write_tree(source: Path, root: Path) -> list[Path]:
    """Copy a directory tree of files into `root`, keeping modes; returns the written paths (relative)."""
    written = []
    for path in sorted(source.rglob("*")):
        if path.is_file():
            rel = path.relative_to(source)
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, dest)
            written.append(rel)
    return written


def make_squashfs(runner: Runner, root: Path, output: Path, on_line: Progress,
                  extra_excludes: Sequence[str] = (), sort_file: Path | None = None) -> None:
    """`root` as a zstd squashfs; `sort_file` (mksquashfs -sort) puts the files it lists first."""
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.exists():
        output.unlink()
    runner.stream(
        [*NICE, "mksquashfs", str(root), str(output), "-comp", "zstd", "-Xcompression-level", "6",
         "-noappend", "-no-progress", *(["-sort", str(sort_file)] if sort_file else []),
         "-wildcards", "-e", "proc/*", "sys/*", "dev/*", "run/*", *SQUASHFS_EXCLUDES, *extra_excludes],
        on_line, timeout=3600,
    )


def squashfs_file_list(runner: Runner, image: Path) -> str:
    """`unsquashfs -l` output: one path per line (squashfs-root/...), the installer's progress denominator."""
    return runner.run(["unsquashfs", "-l", str(image)], timeout=600).stdout


# For the payload's own initramfs only: the fsck hook would otherwise look for the root file system in the build
# tree's (empty) fstab and put no fsck in. The installed system's later rebuilds use its real fstab.
GENERIC_INITRAMFS_CONF = "etc/initramfs-tools/conf.d/zz-keel-iso-build"
GENERIC_INITRAMFS_SETTINGS = "FSTYPE=ext4,xfs,btrfs\n"


def generic_initramfs(runner: Runner, root: Path, kernel_version: str) -> None:
    """Build the payload's initramfs once, for any host: every storage hook the payload has (LVM, thin, ZFS,
    Btrfs, XFS) and fsck for each root file system the installer makes, and no host's own /etc/hostid. The
    installer appends the installed host's files to it (installer/installed_system/initramfs.py) instead of
    running update-initramfs, which took minutes per install."""
    (root / "etc/hostid").unlink(missing_ok=True)
    conf = root / GENERIC_INITRAMFS_CONF
    conf.write_text("# the ISO build's setting for the payload's initramfs; removed when it is built\n"
                    + GENERIC_INITRAMFS_SETTINGS)
    try:
        runner.run(in_chroot(root, "update-initramfs", "-u", "-k", kernel_version), env=APT_ENV, timeout=1800)
    finally:
        conf.unlink()
