"""The sync of one ESP, against a plain directory and against a vfat image read back with mtools."""

from pathlib import Path

import pytest

from keel_boot.layout import BootSpec, KernelImage, plan_sync
from keel_boot.render import render_grub_cfg
from keel_boot.sync import sync_esp
from keel_boot.system import GRUB_BIOS, GRUB_EFI, SYSTEMD_BOOT
from keel_boot.tree import DirectoryTree
from keel_testing.boot_fakes import HAVE_MTOOLS, LOADER_FILES, MtoolsTree, install_kernel, make_vfat_image

UUID = "1A2B-3C4D"
TITLE = "Debian GNU/Linux 13 (trixie)"
CMDLINE = "root=ZFS=rpool/ROOT/pve-1 boot=zfs"
K38 = "6.12.38+deb13-amd64"
K41 = "6.12.41+deb13-amd64"
K43 = "6.12.43+deb13-amd64"


@pytest.fixture(params=["directory", "vfat image"])
def esp(request, tmp_path):
    if request.param == "directory":
        root = tmp_path / "esp"
        root.mkdir()
        return DirectoryTree(root)
    if not HAVE_MTOOLS:
        pytest.skip("mtools/dosfstools are not installed (make deps installs them)")
    return MtoolsTree(make_vfat_image(tmp_path / "esp.img", UUID))


@pytest.fixture
def boot(tmp_path) -> Path:
    for version in (K38, K41, K43):
        install_kernel(tmp_path / "root", version)
    return tmp_path / "root" / "boot"


def spec_for(boot: Path, versions: tuple[str, ...], default: str, cmdline: str = CMDLINE) -> BootSpec:
    kernels = tuple(KernelImage(v, boot / f"vmlinuz-{v}", boot / f"initrd.img-{v}") for v in versions)
    return BootSpec(kernels=kernels, default=default, cmdline=cmdline, title=TITLE)


def with_loader(esp, kind: str) -> None:
    for path in LOADER_FILES[kind]:
        esp.write_text(path, f"{kind} binary\n")


def directories(esp) -> set[str]:
    if isinstance(esp, MtoolsTree):
        return set(esp.dirs())
    return {p.relative_to(esp.root).as_posix() for p in esp.root.rglob("*") if p.is_dir()}


def test_systemd_boot_esp_gets_kernels_entries_and_loader_conf(esp, boot):
    with_loader(esp, SYSTEMD_BOOT)
    sync_esp(esp, UUID, spec_for(boot, (K43, K41), K43))
    assert esp.files() == {
        *LOADER_FILES[SYSTEMD_BOOT],
        f"EFI/keel/{K43}/vmlinuz-{K43}",
        f"EFI/keel/{K43}/initrd.img-{K43}",
        f"EFI/keel/{K41}/vmlinuz-{K41}",
        f"EFI/keel/{K41}/initrd.img-{K41}",
        f"loader/entries/keel-{K43}.conf",
        f"loader/entries/keel-{K41}.conf",
        "loader/loader.conf",
    }
    assert esp.read_text(f"EFI/keel/{K41}/initrd.img-{K41}") == f"initrd {K41}\n"
    assert esp.read_text("loader/loader.conf") == f"timeout 3\ndefault keel-{K43}.conf\n"
    assert esp.read_text(f"loader/entries/keel-{K41}.conf") == (
        f"title   {TITLE}\n"
        f"version {K41}\n"
        f"options {CMDLINE}\n"
        f"linux   /EFI/keel/{K41}/vmlinuz-{K41}\n"
        f"initrd  /EFI/keel/{K41}/initrd.img-{K41}\n"
    )


def test_stale_kernels_and_entries_go_but_foreign_files_stay(esp, boot):
    with_loader(esp, SYSTEMD_BOOT)
    sync_esp(esp, UUID, spec_for(boot, (K43, K41, K38), K43))
    esp.write_text("loader/entries/debian-other.conf", "title other\n")
    esp.write_text("EFI/keel/grubx64.efi.bak", "kept\n")
    report = sync_esp(esp, UUID, spec_for(boot, (K43, K41), K43))
    assert set(report.removed) == {
        f"EFI/keel/{K38}/vmlinuz-{K38}",
        f"EFI/keel/{K38}/initrd.img-{K38}",
        f"loader/entries/keel-{K38}.conf",
    }
    files = esp.files()
    assert not any(K38 in f for f in files)
    assert f"EFI/keel/{K38}" not in directories(esp)
    assert {"loader/entries/debian-other.conf", "EFI/keel/grubx64.efi.bak"} <= files


def test_a_second_sync_copies_and_writes_nothing(esp, boot):
    with_loader(esp, SYSTEMD_BOOT)
    spec = spec_for(boot, (K43, K41), K43)
    sync_esp(esp, UUID, spec)
    again = sync_esp(esp, UUID, spec)
    assert (again.copied, again.written, again.removed) == ((), (), ())
    assert len(again.unchanged) == 4


def test_a_rebuilt_initrd_is_copied_again(esp, boot):
    with_loader(esp, SYSTEMD_BOOT)
    spec = spec_for(boot, (K43,), K43)
    sync_esp(esp, UUID, spec)
    (boot / f"initrd.img-{K43}").write_text(f"initrd {K43} rebuilt with zfs hostid\n")
    report = sync_esp(esp, UUID, spec)
    assert report.copied == (f"EFI/keel/{K43}/initrd.img-{K43}",)
    assert esp.read_text(f"EFI/keel/{K43}/initrd.img-{K43}") == f"initrd {K43} rebuilt with zfs hostid\n"


def test_pinned_default_and_new_cmdline_reach_the_esp(esp, boot):
    with_loader(esp, SYSTEMD_BOOT)
    sync_esp(esp, UUID, spec_for(boot, (K43, K41), K43))
    sync_esp(esp, UUID, spec_for(boot, (K43, K41), K41, cmdline=f"{CMDLINE} quiet"))
    assert esp.read_text("loader/loader.conf") == f"timeout 3\ndefault keel-{K41}.conf\n"
    for version in (K43, K41):
        assert f"options {CMDLINE} quiet\n" in esp.read_text(f"loader/entries/keel-{version}.conf")


@pytest.mark.parametrize("kind", [GRUB_BIOS, GRUB_EFI], ids=["GRUB for legacy BIOS", "GRUB with shim for UEFI"])
def test_grub_esp_gets_kernels_at_its_root_and_a_grub_cfg(esp, boot, kind):
    with_loader(esp, kind)
    esp.write_text(f"vmlinuz-{K38}", "old\n")
    esp.write_text(f"initrd.img-{K38}", "old\n")
    sync_esp(esp, UUID, spec_for(boot, (K43, K41), K43))
    assert esp.files() == {
        *LOADER_FILES[kind],
        f"vmlinuz-{K43}",
        f"initrd.img-{K43}",
        f"vmlinuz-{K41}",
        f"initrd.img-{K41}",
        "grub/grub.cfg",
    }
    assert esp.read_text("grub/grub.cfg") == render_grub_cfg(UUID, TITLE, (K43, K41), K43, CMDLINE)
    assert esp.read_text(f"vmlinuz-{K43}") == f"kernel {K43}\n"


def test_an_esp_without_a_boot_loader_is_left_alone(esp, boot):
    report = sync_esp(esp, UUID, spec_for(boot, (K43,), K43))
    assert report.modes == ()
    assert esp.files() == frozenset()


def test_plan_for_an_esp_with_both_boot_loaders_syncs_both_layouts(boot):
    files = frozenset({*LOADER_FILES[SYSTEMD_BOOT], *LOADER_FILES[GRUB_BIOS], f"vmlinuz-{K38}"})
    plan = plan_sync(UUID, files, None, spec_for(boot, (K43,), K43))
    assert plan.modes == ("uefi", "grub")
    assert [path for path, _ in plan.copies] == [
        f"EFI/keel/{K43}/vmlinuz-{K43}",
        f"EFI/keel/{K43}/initrd.img-{K43}",
        f"vmlinuz-{K43}",
        f"initrd.img-{K43}",
    ]
    assert [path for path, _ in plan.writes] == [f"loader/entries/keel-{K43}.conf", "loader/loader.conf",
                                                  "grub/grub.cfg"]
    assert plan.removals == (f"vmlinuz-{K38}",)


@pytest.mark.parametrize("sendfile_works", [True, False], ids=["sendfile", "sendfile refused: a buffer"])
def test_a_kernel_is_copied_whole_and_byte_for_byte(tmp_path, monkeypatch, sendfile_works):
    import errno
    import os

    if not sendfile_works:
        def refuse(*args):
            raise OSError(errno.EINVAL, "Invalid argument")
        monkeypatch.setattr(os, "sendfile", refuse)
    source = tmp_path / "initrd.img"
    data = os.urandom(3 * 1024 * 1024 + 17)       # more than one chunk, not a whole number of them
    source.write_bytes(data)
    (tmp_path / "esp").mkdir()
    tree = DirectoryTree(tmp_path / "esp")
    tree.copy_in("initrd.img-6.12", source)
    assert (tmp_path / "esp/initrd.img-6.12").read_bytes() == data
    assert tree.matches("initrd.img-6.12", source)
    assert tree.files() == {"initrd.img-6.12"}, "no temporary file left"
