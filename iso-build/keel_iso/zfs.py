"""The ZFS kernel module, built once with zfs-dkms against the ISO's kernel and packaged as a small .deb."""

from __future__ import annotations

import shutil
from pathlib import Path

from installer.runner import Runner

from .chroot import chroot, remove_tree
from .rootfs import APT_ENV, Progress, apt_install, apt_update, in_chroot, prepare_apt, unpack_base

MODULE_DIR = "usr/lib/modules/{kver}/updates/dkms"


def upstream_version(debian_version: str) -> str:
    """`2.3.2-2~bpo12+1` -> `2.3.2`: the version dkms knows the zfs source by."""
    version = debian_version.split(":", 1)[-1]
    return version.rsplit("-", 1)[0] if "-" in version else version


def deb_name(kernel_version: str) -> str:
    return f"keel-zfs-modules-{kernel_version}"


def render_control(kernel_version: str, zfs_version: str) -> str:
    return (
        f"Package: {deb_name(kernel_version)}\n"
        f"Version: {zfs_version}\n"
        "Architecture: amd64\n"
        "Maintainer: Keel ISO build <root@localhost>\n"
        f"Depends: linux-image-{kernel_version}\n"
        "Provides: zfs-modules\n"
        "Section: kernel\n"
        "Priority: optional\n"
        f"Description: OpenZFS {zfs_version} kernel modules for Linux {kernel_version}\n"
        " Built by Keel's ISO build with zfs-dkms, so neither the live environment nor the installed\n"
        " system needs a compiler to use ZFS.\n"
    )


def render_maintscript(kernel_version: str) -> str:
    return f"#!/bin/sh\nset -e\nif [ -d /usr/lib/modules/{kernel_version} ]; then depmod -a {kernel_version}; fi\n"


def build_zfs_deb(runner: Runner, base_tarball: Path, tree: Path, mirror: str, debconf: str, apt_archives: Path,
                  kernel_version: str, zfs_version: str, out_dir: Path, on_line: Progress) -> Path:
    """Build spl/zfs modules for `kernel_version` in a throwaway chroot; return the .deb in `out_dir`."""
    unpack_base(runner, base_tarball, tree)
    prepare_apt(tree, mirror, debconf)
    module_version = upstream_version(zfs_version)
    with chroot(runner, tree, apt_archives):
        apt_update(runner, tree)
        apt_install(runner, tree, [f"linux-headers-{kernel_version}", f"zfs-dkms={zfs_version}"], on_line)
        built = tree / MODULE_DIR.format(kver=kernel_version)
        if not any(built.glob("zfs.ko*")):
            runner.stream(in_chroot(tree, "dkms", "install", "-m", "zfs", "-v", module_version, "-k", kernel_version),
                          on_line, env=APT_ENV, timeout=5400)
    modules = sorted(p for p in built.glob("*.ko*"))
    if not any(p.name.startswith("zfs.ko") for p in modules):
        raise RuntimeError(f"zfs-dkms built no zfs.ko for {kernel_version} (look in the build log)")
    staging = tree.parent / "zfs-deb"
    if staging.exists():
        shutil.rmtree(staging)
    dest = staging / MODULE_DIR.format(kver=kernel_version)
    dest.mkdir(parents=True)
    for module in modules:
        shutil.copy2(module, dest / module.name)
    debian = staging / "DEBIAN"
    debian.mkdir()
    (debian / "control").write_text(render_control(kernel_version, zfs_version))
    for script in ("postinst", "postrm"):
        (debian / script).write_text(render_maintscript(kernel_version))
        (debian / script).chmod(0o755)
    out_dir.mkdir(parents=True, exist_ok=True)
    deb = out_dir / f"{deb_name(kernel_version)}_{zfs_version}_amd64.deb"
    runner.run(["dpkg-deb", "--root-owner-group", "--build", str(staging), str(deb)], timeout=600)
    shutil.rmtree(staging)
    remove_tree(runner, tree)
    return deb
