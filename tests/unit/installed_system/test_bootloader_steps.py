"""Which boot loader commands run for which layout and firmware (reference §4.1)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace

import pytest

from installer.bootloader.setup import BootloaderError, boot_steps, install_bootloader
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
        ("grub-install", "--target=x86_64-efi", "--efi-directory=/boot/efi", "--bootloader-id=keel",
         "--removable", "--no-nvram", "/dev/sda"),
        ("update-grub",),
    ]


def test_lvm_on_bios_treats_efi_failures_as_warnings():
    steps = boot_steps(LVM_PLAN, HARDWARE)
    assert [s.fatal for s in steps] == [True, False, False, True]
    assert [s.esp for s in steps] == [None, "/dev/sda2", "/dev/sda2", None]


def test_lvm_on_efi_registers_a_boot_entry_and_the_removable_path():
    steps = boot_steps(LVM_PLAN, EFI)
    assert steps[1].argv[-2:] == ("--bootloader-id=keel", "/dev/sda")
    assert "--removable" in steps[2].argv
    assert [s.fatal for s in steps] == [False, True, True, True]


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
    assert ["update-grub"] in ran and len(ran) == 4, "the other steps still run"
    assert err.value.problems == [
        "/dev/sda: grub-install --target=i386-pc --no-floppy --bootloader-id=keel /dev/sda: exit status 1"]
    assert "no such disk" in err.value.detail
    assert len(warnings) == 2


def test_update_grub_runs_beside_the_grub_installs_and_its_failure_is_reported():
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
        yield esp

    assert [s.beside for s in boot_steps(LVM_PLAN, HARDWARE)] == [False, False, False, True]
    with pytest.raises(BootloaderError) as err:
        install_bootloader(LVM_PLAN, HARDWARE, run, mount_esp, lambda w: None, lambda f, t: None)
    assert err.value.problems == ["system: update-grub: exit status 1"]
    assert sorted(ran) == ["grub-install"] * 3 + ["update-grub"]
