"""keel-post-install in a Debian trixie chroot: its Depends resolve, Python 3.13 runs the tool, bootctl takes
our options and leaves the file keel-boot-tool recognises systemd-boot by, and `format` makes an ESP.

Root only (debootstrap, chroot, loop devices). The debootstrapped root is cached as
build/post-install-trixie/root.tar; everything runs in a private mount namespace, so no mount outlives it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
POST_INSTALL = REPO / "post-install"
CACHE = REPO / "build" / "post-install-trixie" / "root.tar"
PACKAGES = "python3,util-linux,mount,dosfstools,gdisk,systemd-boot-efi,systemd-boot-tools,grub-pc-bin"
MiB = 1024 * 1024

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (debootstrap, chroot, loop devices)"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("debootstrap", "unshare", "losetup", "partx", "sgdisk")),
                       reason="needs debootstrap, util-linux and gdisk"),
]


def _mirror() -> str:
    """The Debian mirror the host's apt uses (deb822 or one-line sources)."""
    for source in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if not source.is_file():
            continue
        for line in source.read_text().splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and not words[1].rstrip("/").endswith("-security"):
                return words[1]
            if words[:1] == ["deb"]:
                uri = next(w for w in words[1:] if "://" in w)
                if not uri.rstrip("/").endswith("-security"):
                    return uri
    pytest.skip("no Debian mirror in the host's apt sources")


@pytest.fixture(scope="module")
def trixie(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("trixie") / "root"
    if not CACHE.is_file():
        build = CACHE.parent / "root.tmp"
        shutil.rmtree(build, ignore_errors=True)
        result = subprocess.run(["debootstrap", "--variant=minbase", f"--include={PACKAGES}", "trixie", str(build),
                                 _mirror()], capture_output=True, text=True, timeout=1200)
        if result.returncode != 0:
            pytest.skip(f"debootstrap trixie failed: {result.stdout.strip().splitlines()[-1:]}")
        subprocess.run(["tar", "-C", str(build), "-cf", str(CACHE), "."], check=True, timeout=600)
        shutil.rmtree(build)
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "-xf", str(CACHE)], check=True, timeout=600)
    return root


@pytest.fixture
def esp_disk(tmp_path):
    image = tmp_path / "disk.img"
    with open(image, "wb") as f:
        f.truncate(700 * MiB)
    subprocess.run(["sgdisk", "-a", "1", "-n", "1:34:2047", "-t", "1:EF02", "-n", "2:2048:+512M", "-t", "2:8300",
                    str(image)], capture_output=True, check=True, timeout=60)
    loop = subprocess.run(["losetup", "-f", "--show", str(image)], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()
    try:
        subprocess.run(["partx", "-a", loop], check=True, timeout=60)
        yield loop
    finally:
        subprocess.run(["partx", "-d", loop], capture_output=True, timeout=60)
        subprocess.run(["losetup", "-d", loop], capture_output=True, timeout=60)


def in_chroot(root: Path, script: str) -> subprocess.CompletedProcess[str]:
    """`script` (sh) inside the chroot with /proc, /sys and /dev, as the installer provides them."""
    (root / "tmp/check.sh").write_text(script)
    outer = (
        f"mount -t proc proc {root}/proc && mount --rbind /sys {root}/sys && mount --rbind /dev {root}/dev && "
        f"mkdir -p {root}/tmp/esp && mount -t tmpfs tmpfs {root}/tmp/esp && "
        f"exec chroot {root} /bin/sh -e /tmp/check.sh"
    )
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", outer],
                          capture_output=True, text=True, timeout=600, env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})


def test_the_package_installs_and_works_in_trixie(trixie, esp_disk, tmp_path):
    built = subprocess.run([sys.executable, str(POST_INSTALL / "build_deb.py"), "--output", str(tmp_path)],
                           capture_output=True, text=True, check=True, timeout=300)
    shutil.copyfile(built.stdout.strip(), trixie / "tmp/keel-post-install.deb")
    script = f"""\
dpkg -i /tmp/keel-post-install.deb
dpkg-query -W -f='installed ${{Version}}\\n' keel-post-install
python3 -c 'import sys; print("python", sys.version_info[:2])'
keel-boot-tool status --quiet || echo "status exit $?"
proxmox-boot-tool status --quiet || echo "compat exit $?"
SYSTEMD_RELAX_ESP_CHECKS=1 bootctl --graceful --esp-path=/tmp/esp --make-entry-directory=no --no-variables \\
    install >/dev/null 2>&1
ls /tmp/esp/EFI/systemd/
keel-boot-tool format {esp_disk}p2
blkid -p -o value -s PART_ENTRY_TYPE {esp_disk}p2
blkid -p -o value -s TYPE {esp_disk}p2
test -L /etc/systemd/system/multi-user.target.wants/keel-boot-cleanup.service && echo unit enabled
"""
    result = in_chroot(trixie, script)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    version = (POST_INSTALL / "VERSION").read_text().strip()
    for expected in (f"installed {version}", "python (3, 13)", "status exit 2", "compat exit 2",
                     "systemd-bootx64.efi", "c12a7328-f81f-11d2-ba4b-00a0c93ec93b", "vfat", "unit enabled"):
        assert expected in lines, (expected, result.stdout, result.stderr)
