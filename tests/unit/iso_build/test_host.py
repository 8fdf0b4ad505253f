"""Host checks name the missing Debian package and say `make deps` installs it."""

import pytest

from keel_iso import host
from keel_iso.host import HostError, HostTool, missing_tools


def test_missing_tools_checks_programs_on_path_and_files_by_absolute_path():
    tools = (HostTool("xorriso", "xorriso"), HostTool("/usr/lib/grub/i386-pc/boot_hybrid.img", "grub-pc-bin"),
             HostTool("mksquashfs", "squashfs-tools"))
    missing = missing_tools(tools, which=lambda name: None if name == "xorriso" else f"/usr/bin/{name}",
                            exists=lambda path: False)
    assert [t.package for t in missing] == ["xorriso", "grub-pc-bin"]


def test_not_root_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(host.os, "geteuid", lambda: 1000)
    with pytest.raises(HostError, match=r"^the ISO build needs root"):
        host.check_host([])


def test_a_missing_package_is_named_with_make_deps(monkeypatch):
    monkeypatch.setattr(host.os, "geteuid", lambda: 0)
    monkeypatch.setattr(host, "missing_tools", lambda: [HostTool("xorriso", "xorriso")])
    with pytest.raises(HostError, match=r"missing host package\(s\) xorriso \(for xorriso\): `make deps` installs"):
        host.check_host([])


def test_too_little_disk_space_says_how_much_is_needed(monkeypatch, tmp_path):
    monkeypatch.setattr(host.os, "geteuid", lambda: 0)
    monkeypatch.setattr(host, "missing_tools", lambda: [])
    monkeypatch.setattr(host.shutil, "disk_usage", lambda path: type("U", (), {"free": 3 * 1024**3})())
    with pytest.raises(HostError, match=r"only 3.0 GiB free, the build needs about 10 GiB"):
        host.check_host([tmp_path / "not-yet-created"])
