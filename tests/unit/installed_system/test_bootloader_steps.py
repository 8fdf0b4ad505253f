"""Which boot loader commands run for which layout and firmware (reference §4.1)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest

from installer.bootloader.setup import BootloaderError, boot_steps, install_bootloader, removable_copies
from installer.runner import CommandError
from keel_testing.samples import BTRFS_PLAN, HARDWARE, LVM_PLAN, ZFS_PLAN

EFI = replace(HARDWARE, boot_mode="efi")


def argvs(plan, hardware):
    return [step.argv for step in boot_steps(plan, hardware)]


def test_lvm_on_bios_installs_grub_for_bios_and_the_efi_fallback_without_nvram():
    assert argvs(LVM_PLAN, HARDWARE) == [
        ("grub-install", "--target=i386-pc", "--no-floppy", "--bootloader-id=keel", "/dev/sda"),
        ("grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi", "--bootloader-id=keel",
         "--no-nvram", "/dev/sda"),
        ("update-grub",),
    ]
    assert [s.removable for s in boot_steps(LVM_PLAN, HARDWARE)] == [False, True, False]


def test_lvm_on_bios_treats_efi_failures_as_warnings():
    steps = boot_steps(LVM_PLAN, HARDWARE)
    assert [s.fatal for s in steps] == [True, False, True]
    assert [s.esp for s in steps] == [None, "/dev/sda2", None]


def test_lvm_on_efi_registers_a_boot_entry_and_the_removable_path():
    steps = boot_steps(LVM_PLAN, EFI)
    assert steps[1].argv[-2:] == ("--bootloader-id=keel", "/dev/sda")
    assert steps[1].removable and "EFI/BOOT" in steps[1].describe()
    assert [s.fatal for s in steps] == [False, True, True]


def test_a_4kn_disk_gets_no_bios_grub():
    disk = replace(LVM_PLAN.disks[0], logical_block_size=4096,
                   partitions=tuple(p for p in LVM_PLAN.disks[0].partitions if p.type != "bios-boot"))
    plan = replace(LVM_PLAN, disks=(disk,))
    assert not any("--target=i386-pc" in argv for argv in argvs(plan, EFI))


@pytest.mark.parametrize("plan", [pytest.param(ZFS_PLAN, id="zfs"), pytest.param(BTRFS_PLAN, id="btrfs")])
def test_zfs_and_btrfs_init_every_esp_in_one_keel_boot_tool_call_which_syncs_them_all_once(plan):
    assert argvs(plan, EFI) == [("keel-boot-tool", "init", "/dev/sda2", "/dev/sdb2")]


def test_secure_boot_asks_keel_boot_tool_for_grub():
    assert argvs(ZFS_PLAN, replace(EFI, secure_boot=True))[0] == ("keel-boot-tool", "init", "/dev/sda2", "/dev/sdb2",
                                                                   "grub")


def test_failures_are_collected_and_reported_together():
    ran, warnings = [], []

    def run(argv):
        ran.append(argv)
        if argv[0] == "grub-install":
            raise CommandError(argv, "exit status 1", "grub-install: error: no such disk\n", 1)

    @contextmanager
    def mount_esp(esp):
        yield esp

    with pytest.raises(BootloaderError) as err:
        install_bootloader(LVM_PLAN, HARDWARE, run, mount_esp, warnings.append, lambda f, t: None)
    assert ["update-grub"] in ran and len(ran) == 3, "the other steps still run"
    assert err.value.problems == [
        "/dev/sda: grub-install --target=i386-pc --no-floppy --bootloader-id=keel /dev/sda: exit status 1"]
    assert "no such disk" in err.value.detail
    assert len(warnings) == 1


def test_update_grub_runs_beside_the_grub_installs_and_its_failure_is_reported(tmp_path):
    import threading
    started, release, ran = threading.Event(), threading.Event(), []

    def run(argv):
        ran.append(argv[0])
        if argv == ["update-grub"]:
            started.set()
            assert release.wait(5), "grub-install never ran while update-grub was running"
            raise CommandError(argv, "exit status 1", "grub-probe: error: failed\n", 1)
        assert started.wait(5)
        release.set()

    @contextmanager
    def mount_esp(esp):
        yield esp_after_grub_install(tmp_path / "esp", ["grubx64.efi"])

    assert [s.beside for s in boot_steps(LVM_PLAN, HARDWARE)] == [False, False, True]
    with pytest.raises(BootloaderError) as err:
        install_bootloader(LVM_PLAN, HARDWARE, run, mount_esp, lambda w: None, lambda f, t: None)
    assert err.value.problems == ["system: update-grub: exit status 1"]
    assert sorted(ran) == ["grub-install"] * 2 + ["update-grub"]


# What grub-install wrote to EFI/keel in a trixie guest (shim-signed in the payload), and what a second
# `grub-install --removable` wrote to EFI/BOOT there: the same bytes, shimx64.efi as BOOTX64.EFI, no fbx64.efi.
SIGNED = ["BOOTX64.CSV", "fbx64.efi", "grub.cfg", "grubx64.efi", "mmx64.efi", "shimx64.efi"]


def test_the_removable_path_gets_shim_as_bootx64_and_the_rest_under_their_names_but_not_the_fallback():
    assert removable_copies(SIGNED) == {
        "BOOTX64.CSV": "BOOTX64.CSV", "grub.cfg": "grub.cfg", "grubx64.efi": "grubx64.efi",
        "mmx64.efi": "mmx64.efi", "shimx64.efi": "BOOTX64.EFI"}


def test_without_shim_grub_itself_is_the_removable_loader():
    assert removable_copies(["grubx64.efi"]) == {"grubx64.efi": "BOOTX64.EFI"}


def test_nothing_to_copy_is_an_error_naming_what_is_missing():
    with pytest.raises(ValueError, match=r"neither shimx64\.efi nor grubx64\.efi"):
        removable_copies(["grub.cfg"])


def esp_after_grub_install(root, names):
    (root / "EFI/keel").mkdir(parents=True)
    for name in names:
        (root / "EFI/keel" / name).write_bytes(name.encode())
    return root


def test_lvm_efi_install_copies_the_boot_entry_to_the_removable_path_on_the_mounted_esp(tmp_path):
    esp = esp_after_grub_install(tmp_path / "esp", SIGNED)
    mounted = []

    @contextmanager
    def mount_esp(device):
        mounted.append(device)
        yield esp

    install_bootloader(LVM_PLAN, EFI, lambda argv: None, mount_esp, lambda w: None, lambda f, t: None)
    assert mounted == ["/dev/sda2"]
    assert sorted(p.name for p in (esp / "EFI/BOOT").iterdir()) == [
        "BOOTX64.CSV", "BOOTX64.EFI", "grub.cfg", "grubx64.efi", "mmx64.efi"]
    assert (esp / "EFI/BOOT/BOOTX64.EFI").read_bytes() == b"shimx64.efi"


def test_a_dry_run_copies_nothing(tmp_path):
    esp = esp_after_grub_install(tmp_path / "esp", SIGNED)

    @contextmanager
    def mount_esp(device):
        yield esp

    install_bootloader(LVM_PLAN, EFI, lambda argv: None, mount_esp, lambda w: None, lambda f, t: None, dry_run=True)
    assert not (esp / "EFI/BOOT").exists()


def test_an_efi_install_that_left_no_loader_fails_naming_the_disk_and_what_is_missing(tmp_path):
    esp = tmp_path / "esp"
    esp.mkdir()

    @contextmanager
    def mount_esp(device):
        yield esp

    with pytest.raises(BootloaderError) as err:
        install_bootloader(LVM_PLAN, EFI, lambda argv: None, mount_esp, lambda w: None, lambda f, t: None)
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith("/dev/sda: grub-install --target=x86_64-efi")
    assert "copying the boot loader to EFI/BOOT failed: neither shimx64.efi nor grubx64.efi" in err.value.problems[0]
