"""grub.cfg prepared at ISO build time: used only for exactly the inputs it was made from, with the install's ids."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from installer.bootloader import prepared_cfg
from installer.bootloader.prepared_cfg import (
    FS_UUID,
    LV_UUID,
    VG_UUID,
    PreparedCfgError,
    fill_in,
    input_digest,
    prepared_grub_cfg,
    prepared_path,
    write_grub_cfg,
)
from installer.core.config import Filesystem
from installer.runner import FakeRunner, Result

ENV = {"LANG": "C.UTF-8"}
DEVICE = "/dev/mapper/pve-root"
TEMPLATE = (f"menuentry 'Debian GNU/Linux' --id gnulinux-simple-{FS_UUID} {{\n"
            f"\tset root='lvmid/{VG_UUID}/{LV_UUID}'\n"
            f"\tsearch --no-floppy --fs-uuid --set=root --hint='lvmid/{VG_UUID}/{LV_UUID}' {FS_UUID}\n}}\n")


def payload(root: Path) -> Path:
    """The files grub-mkconfig reads, as a payload tree has them."""
    for rel, text in {"etc/default/grub": "GRUB_DEFAULT=0\n", "usr/sbin/grub-mkconfig": "#!/bin/sh\n",
                      "usr/sbin/update-grub": "#!/bin/sh\n", "usr/share/grub/grub-mkconfig_lib": "# lib\n",
                      "etc/grub.d/10_linux": "#!/bin/sh\n", "etc/grub.d/README": "read me\n",
                      "etc/default/grub.d/keel.cfg": "# Written by the Keel installer.\n",
                      "boot/vmlinuz-6.12": "kernel", "boot/initrd.img-6.12": "initrd"}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "etc/grub.d/10_linux").chmod(0o755)
    (root / "boot/grub").mkdir()
    return root


def digest(root: Path, **changes) -> str:
    return input_digest(root, **{"fs": "ext2", "device": DEVICE, "env": ENV, **changes})


def test_the_digest_is_the_same_for_the_same_inputs_and_ignores_what_grub_mkconfig_does_not_read(tmp_path):
    root = payload(tmp_path / "a")
    first = digest(root)
    (root / "boot/initrd.img-6.12").write_text("initrd with this host's files appended")
    (root / "boot/grub/grub.cfg").write_text("written by grub-install's neighbour")
    (root / "etc/hostname").write_text("pve1\n")
    assert digest(root) == first == digest(payload(tmp_path / "b"))
    assert digest(root, env={**ENV, "TERM": "vt100"}) == first


@pytest.mark.parametrize("change", [
    lambda root: (root / "etc/default/grub.d/keel.cfg").write_text('GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX x=1"\n'),
    lambda root: (root / "etc/default/grub.d/other.cfg").write_text("GRUB_TIMEOUT=1\n"),
    lambda root: (root / "etc/grub.d/10_linux").chmod(0o644),
    lambda root: (root / "etc/grub.d/40_custom").write_text("#!/bin/sh\n"),
    lambda root: (root / "boot/vmlinuz-6.13").write_text("another kernel"),
    lambda root: (root / "etc/default/grub").write_text("GRUB_DEFAULT=saved\n"),
    lambda root: (root / "usr/share/grub/grub-mkconfig_lib").unlink(),
], ids=["keel.cfg", "another grub.d file", "a script not executable", "another script", "another kernel",
        "the defaults", "the library gone"])
def test_any_change_to_what_grub_mkconfig_reads_changes_the_digest(tmp_path, change):
    root = payload(tmp_path)
    before = digest(root)
    change(root)
    assert digest(root) != before


def test_the_file_system_the_device_and_the_locale_are_part_of_the_digest(tmp_path):
    root = payload(tmp_path)
    base = digest(root)
    assert len({base, digest(root, fs="xfs"), digest(root, device="/dev/mapper/other-root"),
                digest(root, env={"LANG": "de_AT.UTF-8"}), digest(root, env={**ENV, "LC_ALL": "C"}),
                digest(root, env={})}) == 6


def test_fill_in_puts_the_install_s_identifiers_for_every_placeholder():
    text = fill_in(TEMPLATE, fs_uuid="c9f19799-669d-4334-964b-8f1c27d7a5b2",
                   vg_uuid="aBcDeF-1234-5678-9abc-defg-hijk-lmnopq", lv_uuid="zYxWvU-1234-5678-9abc-defg-hijk-lmnopq")
    assert text == (
        "menuentry 'Debian GNU/Linux' --id gnulinux-simple-c9f19799-669d-4334-964b-8f1c27d7a5b2 {\n"
        "\tset root='lvmid/aBcDeF-1234-5678-9abc-defg-hijk-lmnopq/zYxWvU-1234-5678-9abc-defg-hijk-lmnopq'\n"
        "\tsearch --no-floppy --fs-uuid --set=root --hint='lvmid/aBcDeF-1234-5678-9abc-defg-hijk-lmnopq/"
        "zYxWvU-1234-5678-9abc-defg-hijk-lmnopq' c9f19799-669d-4334-964b-8f1c27d7a5b2\n}\n")


def test_a_template_without_the_placeholder_or_an_identifier_that_brings_one_back_is_refused():
    with pytest.raises(PreparedCfgError, match="UUID placeholder"):
        fill_in("menuentry 'Debian' {}\n", fs_uuid="u", vg_uuid="v", lv_uuid="l")
    with pytest.raises(PreparedCfgError, match="left"):
        fill_in(TEMPLATE, fs_uuid="u", vg_uuid=VG_UUID, lv_uuid=VG_UUID)


def test_a_new_grub_cfg_is_private_to_root_and_an_existing_one_keeps_its_mode(tmp_path):
    write_grub_cfg(tmp_path, "first\n")
    path = tmp_path / "boot/grub/grub.cfg"
    assert path.read_text() == "first\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o444)
    path.chmod(0o644)
    write_grub_cfg(tmp_path, "second\n")
    assert path.read_text() == "second\n" and stat.S_IMODE(path.stat().st_mode) == 0o644


class Plan:
    """The parts of a StoragePlan the lookup reads."""

    def __init__(self, filesystem=Filesystem.EXT4, vg="pve"):
        self.filesystem = filesystem
        self.lvm = type("Lvm", (), {"vg": vg})() if filesystem.uses_lvm else None
        self.fs_uuids = {"root": "c9f19799-669d-4334-964b-8f1c27d7a5b2"}


def lvs_runner(stdout="  aBcDeF-1234-5678-9abc-defg-hijk-lmnopq zYxWvU-1234-5678-9abc-defg-hijk-lmnopq\n"):
    return FakeRunner(responders=[lambda argv, _: Result(argv, 0, stdout) if argv[0] == "lvs" else None])


def test_the_prepared_grub_cfg_for_this_install_s_inputs_comes_with_its_lvm_ids(tmp_path):
    target, prepared = payload(tmp_path / "target"), tmp_path / "prepared"
    prepared.mkdir()
    prepared_path(prepared, digest(target)).write_text(TEMPLATE)
    runner = lvs_runner()
    text = prepared_grub_cfg(target, Plan(), runner, directory=prepared, env=ENV)
    assert "set root='lvmid/aBcDeF-1234-5678-9abc-defg-hijk-lmnopq/zYxWvU-1234-5678-9abc-defg-hijk-lmnopq'" in text
    assert "gnulinux-simple-c9f19799-669d-4334-964b-8f1c27d7a5b2" in text
    assert runner.commands == [("lvs", "--noheadings", "--options", "vg_uuid,lv_uuid", "pve/root")]


def test_no_prepared_grub_cfg_for_other_inputs_or_layouts_and_nothing_is_asked_of_lvm(tmp_path):
    target, prepared = payload(tmp_path / "target"), tmp_path / "prepared"
    prepared.mkdir()
    prepared_path(prepared, digest(target)).write_text(TEMPLATE)
    runner = lvs_runner()
    assert prepared_grub_cfg(target, Plan(Filesystem.XFS), runner, directory=prepared, env=ENV) is None
    assert prepared_grub_cfg(target, Plan(Filesystem.ZFS), runner, directory=prepared, env=ENV) is None
    assert prepared_grub_cfg(target, Plan(), runner, directory=prepared, env={"LANG": "C"}) is None
    assert prepared_grub_cfg(target, Plan(), runner, directory=tmp_path / "none", env=ENV) is None
    (target / "etc/default/grub.d/keel.cfg").write_text('GRUB_CMDLINE_LINUX="$GRUB_CMDLINE_LINUX nomodeset"\n')
    assert prepared_grub_cfg(target, Plan(), runner, directory=prepared, env=ENV) is None
    assert runner.commands == []


def test_lvs_without_both_ids_is_an_error_naming_the_volume(tmp_path):
    target, prepared = payload(tmp_path / "target"), tmp_path / "prepared"
    prepared.mkdir()
    prepared_path(prepared, digest(target)).write_text(TEMPLATE)
    with pytest.raises(PreparedCfgError, match="pve/root"):
        prepared_grub_cfg(target, Plan(), lvs_runner("\n"), directory=prepared, env=ENV)


def test_grub_names_ext4_ext2():
    assert prepared_cfg.grub_fs(Filesystem.EXT4) == "ext2" and prepared_cfg.grub_fs(Filesystem.XFS) == "xfs"
