"""The ZFS module package's metadata and the live environment's small rendered files."""

import json
import os
import zipfile
from pathlib import Path

import pytest

from installer.core.live import LiveInfo
from keel_iso import live
from keel_iso.image import volume_id
from keel_iso.live import (
    install_wheel,
    missing_unit_programs,
    render_launcher,
    render_live_info,
    unit_programs,
)
from keel_iso.rootfs import render_sources_list
from keel_iso.zfs import deb_name, render_control, upstream_version

KVER = "6.12.117+deb13-amd64"


@pytest.mark.parametrize(("debian", "upstream"), [
    ("2.3.9-0+deb13u1", "2.3.9"),
    ("2.3.2-2~bpo12+1", "2.3.2"),
    ("1:2.3.2-2", "2.3.2"),
    ("2.3.2", "2.3.2"),
])
def test_dkms_knows_zfs_by_the_upstream_version(debian, upstream):
    assert upstream_version(debian) == upstream


def test_module_package_provides_zfs_modules_for_exactly_that_kernel():
    control = render_control(KVER, "2.3.9-0+deb13u1")
    assert f"Package: keel-zfs-modules-{KVER}\n" in control
    assert "Version: 2.3.9-0+deb13u1\n" in control
    assert "Provides: zfs-modules\n" in control
    assert f"Depends: linux-image-{KVER}\n" in control
    assert deb_name(KVER) == f"keel-zfs-modules-{KVER}"


def test_live_json_points_into_the_live_squashfs_so_pxe_has_the_payload():
    info = json.loads(render_live_info("0.1.0", "minimal", "http://mirror.example/debian"))
    assert info == {
        "payload": "/usr/share/keel/payload.squashfs",
        "payload_files": "/usr/share/keel/payload.files",
        "profile": "minimal",
        "mirror": "http://mirror.example/debian",
        "version": "0.1.0",
        "security_mirror": "",
    }


def test_live_json_is_read_back_by_the_engine_as_written():
    text = render_live_info("0.1.0", "minimal", "http://mirror.example/debian", "http://mirror.example/security")
    info = LiveInfo.from_data(json.loads(text))
    assert info.render() == text
    assert info.security_mirror == "http://mirror.example/security"


def test_launcher_runs_the_console_script_entry_point():
    assert render_launcher("installer.cli") == (
        "#!/usr/bin/python3\nimport sys\n\nfrom installer.cli import main\n\nsys.exit(main())\n")


def test_sources_list_uses_the_mirror_for_trixie_main_contrib():
    expected = "deb http://mirror.example/debian trixie main contrib\n"
    assert render_sources_list("http://mirror.example/debian") == expected


def test_volume_id_is_upper_case_without_dots():
    assert volume_id("0.1.0") == "KEEL_0_1_0"


def test_wheel_unpacks_into_dist_packages_without_its_data_dir(tmp_path: Path):
    wheel = tmp_path / "blivet-3.12.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("blivet/__init__.py", "")
        archive.writestr("blivet-3.12.1.dist-info/METADATA", "Name: blivet\n")
        archive.writestr("blivet-3.12.1.data/data/share/dbus-1/x.conf", "")
    root = tmp_path / "root"
    assert install_wheel(wheel, root) == ["blivet", "blivet-3.12.1.dist-info"]
    site = root / "usr/lib/python3/dist-packages"
    assert (site / "blivet/__init__.py").is_file()
    assert not (site / "blivet-3.12.1.data").exists()


def test_leftover_mounts_below_the_work_tree_are_found_deepest_first():
    from keel_iso.chroot import mounts_below

    mounts = (
        "proc /proc proc rw 0 0\n"
        "udev /work/rootfs/dev devtmpfs rw 0 0\n"
        "devpts /work/rootfs/dev/pts devpts rw 0 0\n"
        "tmpfs /work/rootfs-other tmpfs rw 0 0\n"
        "x /work/root\\040fs/run tmpfs rw 0 0\n"
    )
    assert mounts_below(Path("/work/rootfs"), mounts) == [Path("/work/rootfs/dev/pts"), Path("/work/rootfs/dev")]


def test_unit_programs_are_the_exec_lines_absolute_paths():
    unit = "[Service]\nExecStart=\nExecStart=-/usr/bin/keel-live-start %I\nExecStartPre=/bin/mkdir -p /x\nUser=root\n"
    assert unit_programs(unit) == ["/usr/bin/keel-live-start", "/bin/mkdir"]


def test_a_unit_naming_a_missing_program_is_reported(tmp_path: Path):
    unit = Path("etc/systemd/system/keel-hostid.service")
    (tmp_path / unit.parent).mkdir(parents=True)
    (tmp_path / unit).write_text("[Service]\nExecStart=/usr/bin/zgenhostid\n")
    (tmp_path / "usr/sbin").mkdir(parents=True)
    (tmp_path / "usr/sbin/zgenhostid").write_text("")
    assert missing_unit_programs(tmp_path, [unit]) == [f"{unit}: /usr/bin/zgenhostid"]


def test_the_shipped_units_name_programs_debian_installs_there():
    live_units = Path(__file__).resolve().parents[3] / "iso-build/live/rootfs/etc/systemd/system"
    programs = {p for unit in live_units.rglob("*.service") for p in unit_programs(unit.read_text())}
    assert "/usr/sbin/zgenhostid" in programs  # zfsutils-linux ships it in /usr/sbin, not /usr/bin


def test_the_live_tree_is_marked_up_to_date_so_boot_skips_ldconfig_and_hwdb(tmp_path):
    (tmp_path / "usr").mkdir()
    (tmp_path / "etc").mkdir()
    (tmp_path / "var").mkdir()
    os.utime(tmp_path / "usr", (2_000_000_000, 2_000_000_000))
    live.mark_updated(tmp_path, now_ns=1_900_000_000 * 10**9)     # a clock behind /usr: the stamp follows /usr
    for stamp in ("etc/.updated", "var/.updated"):
        path = tmp_path / stamp
        assert path.stat().st_mtime_ns == 2_000_000_000 * 10**9
        assert "TIMESTAMP_NSEC=2000000000000000000" in path.read_text()


def test_the_live_trees_zfs_modules_are_unpacked_and_indexed(tmp_path):
    dkms = tmp_path / "usr/lib/modules/6.12.1-amd64/updates/dkms"
    dkms.mkdir(parents=True)
    (dkms / "zfs.ko.xz").write_bytes(b"")
    (dkms / "spl.ko.xz").write_bytes(b"")
    assert live.unpacked_module_argvs(tmp_path, "6.12.1-amd64") == [
        ["xz", "--decompress", "--force", str(dkms / "spl.ko.xz"), str(dkms / "zfs.ko.xz")],
        ["chroot", str(tmp_path), "depmod", "6.12.1-amd64"],
    ]
    assert live.unpacked_module_argvs(tmp_path, "6.12.2-amd64") == []
