"""build/pxe: the live system's files, the iPXE and GRUB menus, and iPXE loaders for BIOS and UEFI network boot."""

from pathlib import Path

import pytest

from keel_iso.image import PXE_LOADERS, pxe_artifacts, write_pxe


def staging_with_live(tmp_path: Path) -> Path:
    live = tmp_path / "staging" / "live"
    live.mkdir(parents=True)
    for name in ("vmlinuz", "initrd.img", "filesystem.squashfs"):
        (live / name).write_bytes(name.encode())
    return tmp_path / "staging"


def fake_ipxe(tmp_path: Path, names=PXE_LOADERS) -> Path:
    ipxe = tmp_path / "ipxe"
    ipxe.mkdir()
    for name in names:
        (ipxe / name).write_bytes(b"MZ" + name.encode())
    return ipxe


def test_the_pxe_tree_holds_a_uefi_and_a_bios_ipxe_loader_beside_the_live_files(tmp_path: Path):
    pxe = tmp_path / "pxe"
    write_pxe(staging_with_live(tmp_path), pxe, "0.1.0", ipxe_dir=fake_ipxe(tmp_path))
    assert sorted(p.name for p in pxe.iterdir()) == sorted(pxe_artifacts())
    assert {"ipxe.efi", "snponly.efi", "undionly.kpxe"} <= set(pxe_artifacts())
    assert (pxe / "ipxe.efi").read_bytes() == b"MZipxe.efi"
    assert (pxe / "vmlinuz").read_bytes() == b"vmlinuz"


def test_a_host_without_debians_ipxe_names_the_missing_loaders_and_the_package(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"snponly\.efi, undionly\.kpxe .*ipxe package"):
        write_pxe(staging_with_live(tmp_path), tmp_path / "pxe", "0.1.0",
                  ipxe_dir=fake_ipxe(tmp_path, names=("ipxe.efi",)))
    assert not (tmp_path / "pxe").exists()


@pytest.mark.skipif(not Path("/usr/lib/ipxe/ipxe.efi").is_file(), reason="Debian's ipxe package not installed")
def test_debians_uefi_loaders_are_efi_programs():
    for name in ("ipxe.efi", "snponly.efi"):
        assert Path("/usr/lib/ipxe", name).read_bytes()[:2] == b"MZ", f"{name} is a PE/COFF (EFI) image"
