"""keel-post-install installed with dpkg into a scratch root; its hooks and grub-install guard run for real.

Root only: dpkg --root with chrootless maintainer scripts (they honour DPKG_ROOT), and a private mount
namespace where the scratch root's /etc/kernel and /usr/sbin are bind-mounted over the host's paths, so the
scripts see their absolute paths while the host's files stay untouched.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

POST_INSTALL = Path(__file__).resolve().parents[3] / "post-install"

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (dpkg --root, mount namespaces)"),
    pytest.mark.skipif(not all(shutil.which(t) for t in ("dpkg", "dpkg-deb", "unshare", "mount")),
                       reason="needs dpkg, dpkg-deb, unshare and mount"),
]

FAKE_TOOL = '#!/bin/sh\necho "keel-boot-tool $*"\n'


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def deb(tmp_path_factory):
    out = tmp_path_factory.mktemp("deb")
    result = run([sys.executable, str(POST_INSTALL / "build_deb.py"), "--output", str(out)])
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip())


@pytest.fixture
def scratch(tmp_path, deb):
    """A dpkg root with a pretend grub2-common grub-install and keel-post-install installed into it."""
    root = tmp_path / "root"
    for directory in ("var/lib/dpkg/info", "var/lib/dpkg/updates", "usr/sbin", "etc/kernel"):
        (root / directory).mkdir(parents=True)
    (root / "var/lib/dpkg/status").touch()
    grub = root / "usr/sbin/grub-install"
    grub.write_text('#!/bin/sh\necho "real grub-install $*"\n')
    grub.chmod(0o755)
    host_grub = Path("/usr/sbin/grub-install")
    host_grub_before = host_grub.stat() if host_grub.exists() else None
    result = run(["dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends", "-i", str(deb)])
    assert result.returncode == 0, result.stderr
    yield root
    # The host's own grub-install must never be touched by the chrootless scripts.
    assert (host_grub.stat() if host_grub.exists() else None) == host_grub_before


def test_dpkg_lists_the_files_and_status_shows_the_version(scratch):
    listed = run(["dpkg", f"--root={scratch}", "-L", "keel-post-install"]).stdout.splitlines()
    for path in ("/usr/sbin/keel-boot-tool", "/usr/sbin/proxmox-boot-tool", "/usr/lib/keel/keel_boot/cli.py",
                 "/etc/kernel/postinst.d/zz-keel-boot", "/etc/initramfs/post-update.d/keel-boot-sync",
                 "/usr/lib/systemd/system/keel-boot-cleanup.service"):
        assert path in listed
    status = run(["dpkg", f"--root={scratch}", "-s", "keel-post-install"]).stdout
    assert "Status: install ok installed" in status
    assert f"Version: {(POST_INSTALL / 'VERSION').read_text().strip()}" in status


def test_install_diverts_grub_install_and_enables_the_cleanup_unit(scratch):
    diversions = run(["dpkg-divert", "--root", str(scratch), "--list"]).stdout
    assert "diversion of /usr/sbin/grub-install to /usr/sbin/grub-install.real by keel-post-install" in diversions
    assert (scratch / "usr/sbin/grub-install.real").read_text().startswith("#!/bin/sh\necho \"real grub-install")
    wants = scratch / "etc/systemd/system/multi-user.target.wants/keel-boot-cleanup.service"
    assert os.readlink(wants) == "/usr/lib/systemd/system/keel-boot-cleanup.service"


def test_remove_gives_grub_install_back(scratch):
    provision = scratch / "etc/systemd/system/multi-user.target.wants/keel-provision.service"
    provision.symlink_to("/usr/lib/systemd/system/keel-provision.service")     # as the installer enables it
    result = run(["dpkg", f"--root={scratch}", "--force-script-chrootless", "-r", "keel-post-install"])
    assert result.returncode == 0, result.stderr
    assert (scratch / "usr/sbin/grub-install").read_text() == '#!/bin/sh\necho "real grub-install $*"\n'
    assert not (scratch / "usr/sbin/grub-install.real").exists()
    assert not (scratch / "etc/systemd/system/multi-user.target.wants/keel-boot-cleanup.service").exists()
    assert not provision.is_symlink()


def in_scratch_namespace(scratch: Path, command: str, env: dict[str, str] | None = None, synced: bool = False):
    """Runs `command` with the scratch /etc/kernel and /usr/sbin over the host's, in a private mount namespace."""
    if synced:
        (scratch / "etc/kernel/proxmox-boot-uuids").write_text("1A2B-3C4D\n")
    tool = scratch / "usr/sbin/keel-boot-tool"
    tool.write_text(FAKE_TOOL)  # records how the scripts call the tool
    script = (
        f"mount --bind {scratch}/etc/kernel /etc/kernel && "
        f"mount --bind {scratch}/usr/sbin /usr/sbin && "
        f"{command}"
    )
    clean_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **(env or {})}
    return run(["unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", script], env=clean_env)


CASES = [
    ("usr/sbin/grub-install --target=i386-pc /dev/sdz", {}, False, 0,
     "real grub-install --target=i386-pc /dev/sdz", "grub-install runs the real one on a system without ESP sync"),
    ("usr/sbin/grub-install --target=i386-pc /dev/sdz", {}, True, 1, "",
     "grub-install refuses on an ESP-synced system"),
    ("usr/sbin/grub-install", {"DPKG_MAINTSCRIPT_PACKAGE": "grub-efi-amd64"}, True, 0, "keel-boot-tool reinit",
     "a GRUB package upgrade gets reinit instead"),
    ("etc/kernel/postinst.d/zz-keel-boot 6.12.48+deb13-amd64 /boot/vmlinuz-6.12.48+deb13-amd64", {}, True, 0,
     "keel-boot-tool refresh --hook zz-keel-boot --kernel-version 6.12.48+deb13-amd64",
     "the kernel postinst hook refreshes with the new version"),
    ("etc/kernel/postinst.d/zz-keel-boot 6.12.48+deb13-amd64 /boot/vmlinuz-6.12.48+deb13-amd64", {}, False, 0, "",
     "the kernel postinst hook does nothing without ESP sync"),
    ("etc/kernel/postrm.d/zz-keel-boot 6.12.41+deb13-amd64", {}, True, 0, "keel-boot-tool refresh --hook zz-keel-boot",
     "the kernel postrm hook refreshes"),
    ("etc/initramfs/post-update.d/keel-boot-sync 6.12.48+deb13-amd64 /boot/initrd.img-6.12.48+deb13-amd64",
     {"DPKG_MAINTSCRIPT_PACKAGE": "zfs-initramfs"}, True, 0, "keel-boot-tool refresh --hook keel-boot-sync",
     "a rebuilt initrd is synced"),
    ("etc/initramfs/post-update.d/keel-boot-sync 6.12.48+deb13-amd64 /boot/initrd.img-6.12.48+deb13-amd64",
     {"DPKG_MAINTSCRIPT_PACKAGE": "linux-image-6.12.48+deb13-amd64"}, True, 0, "",
     "the initramfs hook leaves a kernel package's own install to zz-keel-boot"),
]


@pytest.mark.parametrize(("script", "env", "synced", "code", "output"), [c[:5] for c in CASES],
                         ids=[c[5] for c in CASES])
def test_installed_hooks_and_guard(scratch, script, env, synced, code, output):
    result = in_scratch_namespace(scratch, f"{scratch}/{script}", env, synced)
    assert result.returncode == code, result.stderr
    assert result.stdout.strip() == output
    if code == 1:
        assert "grub-install is disabled because this system boots from ESPs synced by keel-boot-tool" in result.stderr


@pytest.mark.parametrize(
    ("env", "says_refresh"),
    [({}, True), ({"DPKG_MAINTSCRIPT_PACKAGE": "linux-image-6.12.48+deb13-amd64"}, False)],
    ids=["update-grub by hand refreshes the ESPs", "update-grub from a kernel package leaves it to zz-keel-boot"],
)
def test_update_grub_header_writes_nothing_into_grub_cfg(scratch, env, says_refresh):
    result = in_scratch_namespace(scratch, f"{scratch}/etc/grub.d/000_keel-boot-header", env, synced=True)
    assert result.returncode == 0
    assert result.stdout == ""
    assert "boots from ESPs synced by keel-boot-tool" in result.stderr
    assert ("keel-boot-tool refresh" in result.stderr) == says_refresh
