"""The TFTP directory for PXE boots: build outputs linked in, plus the harness's boot.ipxe."""

import pytest

from keel_harness.pxe import prepare_tftp_dir, render_boot_ipxe
from keel_harness.spec import HarnessError


def test_boot_ipxe_sets_the_squashfs_base_and_chains_the_builds_script():
    assert render_boot_ipxe("http://10.0.2.2:8080") == (
        "#!ipxe\nset keel-base http://10.0.2.2:8080\nchain keel.ipxe\n"
    )


def test_boot_ipxe_can_preselect_a_menu_entry_and_append_kernel_arguments():
    script = render_boot_ipxe("http://10.0.2.2:8080/", "debug-serial", ["keel.fault=mkfs.ext4", "quiet"])
    assert script == (
        "#!ipxe\nset keel-base http://10.0.2.2:8080\nset keel-mode debug-serial\n"
        "set keel-args keel.fault=mkfs.ext4 quiet\nchain keel.ipxe\n"
    )


@pytest.mark.parametrize(
    ("base", "entry", "args"),
    [
        ("tftp://10.0.2.2", None, ()),
        ("http://10.0.2.2:80", "Debug Serial", ()),
        ("http://10.0.2.2:80", None, ("two words",)),
    ],
    ids=["a non-http base", "a menu entry with spaces", "a kernel argument with white space"],
)
def test_boot_ipxe_refuses(base, entry, args):
    with pytest.raises(HarnessError):
        render_boot_ipxe(base, entry, args)


def _fake_pxe(tmp_path):
    pxe = tmp_path / "pxe"
    pxe.mkdir()
    for name in ("vmlinuz", "initrd.img", "filesystem.squashfs", "keel.ipxe", "grub-netboot.cfg", "boot.ipxe"):
        (pxe / name).write_text(name)
    return pxe


def test_the_tftp_dir_links_every_build_file_and_never_writes_into_the_build(tmp_path):
    pxe = _fake_pxe(tmp_path)
    tftp = prepare_tftp_dir(pxe, tmp_path / "tftp", "http://10.0.2.2:1234")
    assert (tftp / "keel.ipxe").is_symlink()
    assert (tftp / "filesystem.squashfs").read_text() == "filesystem.squashfs"
    assert not (tftp / "boot.ipxe").is_symlink()
    assert "set keel-base http://10.0.2.2:1234" in (tftp / "boot.ipxe").read_text()
    assert (pxe / "boot.ipxe").read_text() == "boot.ipxe"


def test_a_second_preparation_replaces_the_first(tmp_path):
    pxe = _fake_pxe(tmp_path)
    prepare_tftp_dir(pxe, tmp_path / "tftp", "http://10.0.2.2:1")
    tftp = prepare_tftp_dir(pxe, tmp_path / "tftp", "http://10.0.2.2:2")
    assert "10.0.2.2:2\n" in (tftp / "boot.ipxe").read_text()


def test_a_pxe_dir_without_the_squashfs_is_named_in_the_error(tmp_path):
    pxe = _fake_pxe(tmp_path)
    (pxe / "filesystem.squashfs").unlink()
    with pytest.raises(HarnessError, match=r"missing filesystem\.squashfs"):
        prepare_tftp_dir(pxe, tmp_path / "tftp", "http://10.0.2.2:1")
