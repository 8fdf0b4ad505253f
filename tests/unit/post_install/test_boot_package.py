"""The keel-post-install .deb: it builds, lists the right files and control fields, and its tool runs."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

POST_INSTALL = Path(__file__).resolve().parents[3] / "post-install"
VERSION = (POST_INSTALL / "VERSION").read_text().strip()

pytestmark = pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="dpkg-deb is not installed")


def run(argv, **kwargs):
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=120, **kwargs)


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build")
    result = run([sys.executable, POST_INSTALL / "build_deb.py", "--output", out])
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == out / f"keel-post-install_{VERSION}_all.deb"
    return path


def test_control_fields(deb):
    fields = {}
    for name in ("Package", "Version", "Architecture", "Depends", "Conflicts", "Maintainer"):
        fields[name] = run(["dpkg-deb", "-f", deb, name]).stdout.strip()
    assert fields["Package"] == "keel-post-install"
    assert fields["Version"] == VERSION
    assert fields["Architecture"] == "all"
    assert fields["Depends"] == (
        "python3 (>= 3.11), util-linux, mount, dosfstools, gdisk, systemd-boot-efi | grub-efi-amd64-bin | grub-pc-bin"
    )
    assert fields["Conflicts"] == "proxmox-kernel-helper"
    info = run(["dpkg-deb", "-I", deb]).stdout
    for script in ("preinst", "postinst", "prerm", "postrm", "conffiles", "md5sums"):
        assert f" {script} " in info


def test_contents(deb):
    listing = run(["dpkg-deb", "-c", deb]).stdout
    entries = {line.split()[5].removeprefix("."): line.split()[0] for line in listing.splitlines()}
    expected_modes = {
        "/usr/sbin/keel-boot-tool": "-rwxr-xr-x",
        "/usr/sbin/grub-install": "-rwxr-xr-x",
        "/usr/lib/keel/keel_boot/cli.py": "-rw-r--r--",
        "/usr/lib/keel/keel_boot/sync.py": "-rw-r--r--",
        "/etc/kernel/postinst.d/zz-keel-boot": "-rwxr-xr-x",
        "/etc/kernel/postrm.d/zz-keel-boot": "-rwxr-xr-x",
        "/etc/initramfs/post-update.d/keel-boot-sync": "-rwxr-xr-x",
        "/etc/grub.d/000_keel-boot-header": "-rwxr-xr-x",
        "/usr/lib/systemd/system/keel-boot-cleanup.service": "-rw-r--r--",
        "/usr/sbin/proxmox-boot-tool": "lrwxrwxrwx",
        "/usr/sbin/keel-firstboot": "-rwxr-xr-x",
        "/usr/lib/keel/keel_firstboot/cli.py": "-rw-r--r--",
        "/usr/lib/systemd/system/keel-firstboot-network-pre.service": "-rw-r--r--",
        "/usr/lib/systemd/system/keel-firstboot-network-online.service": "-rw-r--r--",
        "/usr/lib/systemd/system/keel-firstboot-multi-user.service": "-rw-r--r--",
        "/usr/lib/systemd/system/keel-provision.service": "-rw-r--r--",
        "/usr/lib/keel/keel_firstboot/report.py": "-rw-r--r--",
        "/usr/lib/keel/keel_firstboot/console.py": "-rw-r--r--",
    }
    for path, mode in expected_modes.items():
        assert entries.get(path) == mode, path
    assert "/usr/sbin/proxmox-boot-tool -> keel-boot-tool" in listing.replace("./usr", "/usr")
    assert not any("__pycache__" in path for path in entries)


def test_conffiles_are_the_hooks_under_etc(deb, tmp_path):
    run(["dpkg-deb", "-e", deb, tmp_path / "control"])
    assert (tmp_path / "control/conffiles").read_text() == (
        "/etc/grub.d/000_keel-boot-header\n"
        "/etc/initramfs/post-update.d/keel-boot-sync\n"
        "/etc/kernel/postinst.d/zz-keel-boot\n"
        "/etc/kernel/postrm.d/zz-keel-boot\n"
    )
    for script in ("preinst", "postinst", "prerm", "postrm"):
        assert run(["sh", "-n", tmp_path / "control" / script]).returncode == 0


def test_extracted_tool_runs_with_plain_python3_and_no_esp_list(deb, tmp_path):
    run(["dpkg-deb", "-x", deb, tmp_path / "x"])
    python3 = shutil.which("python3", path="/usr/bin") or sys.executable
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "PYTHONPATH": str(tmp_path / "x/usr/lib/keel"),
        "KEEL_BOOT_TOOL_ROOT": str(tmp_path / "empty-root"),
    }
    tool = tmp_path / "x/usr/sbin/keel-boot-tool"
    assert run([python3, "-s", tool, "status", "--quiet"], env=env).returncode == 2
    helped = run([python3, "-s", tool, "--help"], env=env)
    assert helped.returncode == 0
    assert "keel-boot-tool" in helped.stdout
    assert not (tmp_path / "x/usr/lib/keel/keel_boot/__pycache__").exists()


def test_extracted_firstboot_runs_with_plain_python3(deb, tmp_path):
    run(["dpkg-deb", "-x", deb, tmp_path / "x"])
    python3 = shutil.which("python3", path="/usr/bin") or sys.executable
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "PYTHONPATH": str(tmp_path / "x/usr/lib/keel"),
        "KEEL_FIRSTBOOT_ROOT": str(tmp_path / "empty-root"),
    }
    tool = tmp_path / "x/usr/sbin/keel-firstboot"
    status = run([python3, "-s", tool, "status"], env=env)
    assert status.returncode == 0, status.stderr
    assert "first-boot hook: none" in status.stdout
    assert not (tmp_path / "x/usr/lib/keel/keel_firstboot/__pycache__").exists()


@pytest.mark.parametrize("package", ["keel_boot", "keel_firstboot"])
def test_modules_use_the_standard_library_only(package):
    stdlib = set(sys.stdlib_module_names)
    for module in sorted((POST_INSTALL / package).rglob("*.py")):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            for name in names:
                assert name.split(".")[0] in stdlib | {"__future__", package}, f"{module.name} imports {name}"


@pytest.mark.skipif(shutil.which("dpkg") is None, reason="dpkg is not installed")
def test_version_file_is_a_debian_version():
    assert run(["dpkg", "--validate-version", VERSION]).returncode == 0


def test_postinst_compiles_the_modules_with_the_system_python_and_prerm_removes_the_pyc(deb, tmp_path):
    run(["dpkg-deb", "-e", deb, tmp_path / "control"])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "python3-calls"
    (bin_dir / "python3").write_text(f'#!/bin/sh\necho "$@" >> {calls}\n')
    (bin_dir / "deb-systemd-helper").write_text("#!/bin/sh\nexit 0\n")   # the host's units stay untouched
    for tool in ("python3", "deb-systemd-helper"):
        (bin_dir / tool).chmod(0o755)
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin"}
    assert run(["sh", tmp_path / "control/postinst", "configure"], env=env).returncode == 0
    assert calls.read_text() == "-m compileall -q /usr/lib/keel\n"
    calls.unlink()
    root = tmp_path / "root"
    assert run(["sh", tmp_path / "control/postinst", "configure"], env={**env, "DPKG_ROOT": str(root)}
               ).returncode == 0
    assert not calls.exists(), "DPKG_ROOT's python3 would be the host's: nothing is compiled"
    for cache in ("keel_boot/__pycache__", "keel_firstboot/provision/__pycache__"):
        (root / "usr/lib/keel" / cache).mkdir(parents=True)
        (root / "usr/lib/keel" / cache / "cli.cpython-313.pyc").write_bytes(b"pyc")
    for action in ("upgrade", "remove"):
        assert run(["sh", tmp_path / "control/prerm", action], env={**env, "DPKG_ROOT": str(root)}).returncode == 0
        assert not list(root.rglob("__pycache__")), action
        (root / "usr/lib/keel/keel_boot/__pycache__").mkdir()
