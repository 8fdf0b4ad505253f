"""The command lines keel-boot-tool runs at the system edge, and the /etc/kernel files it reads."""

from pathlib import Path

import pytest

from keel_boot.partition import ESP_TYPE_GUID, BlockInfo, parse_lsblk
from keel_boot.state import (
    StateError,
    SystemPaths,
    installed_kernels,
    kernel_cmdline,
    os_title,
    read_uuids,
    write_uuids,
)
from keel_boot.system import GRUB_BIOS, GRUB_EFI, SYSTEMD_BOOT, System, choose_bootloader
from keel_boot.tree import DirectoryTree
from keel_testing.boot_fakes import FakeRunner

MOUNT = Path("/var/tmp/espmounts/1A2B-3C4D")


def system(tmp_path, outputs=None, efivars=False) -> tuple[System, FakeRunner]:
    runner = FakeRunner(outputs)
    paths = SystemPaths(tmp_path)
    if efivars:
        (tmp_path / "sys/firmware/efi/efivars").mkdir(parents=True)
        (tmp_path / "sys/firmware/efi/efivars/BootOrder-8be4df61").write_text("")
    return System(paths, runner), runner


@pytest.mark.parametrize(
    ("want_grub", "efi", "grub_present", "expected"),
    [(False, True, False, SYSTEMD_BOOT), (True, True, False, GRUB_EFI), (False, True, True, GRUB_EFI),
     (False, False, False, GRUB_BIOS), (True, False, False, GRUB_BIOS)],
    ids=["UEFI gets systemd-boot", "UEFI with 'grub' (Secure Boot) gets GRUB",
         "UEFI keeps GRUB where init put it before", "legacy BIOS gets GRUB for i386-pc",
         "legacy BIOS gets GRUB for i386-pc even when grub was asked for"],
)
def test_boot_loader_choice(want_grub, efi, grub_present, expected):
    assert choose_bootloader(want_grub, efi, grub_present) == expected


def test_systemd_boot_install_works_in_a_chroot_without_efi_variables(tmp_path):
    sys_, runner = system(tmp_path)
    sys_.install_bootloader(SYSTEMD_BOOT, MOUNT, "/dev/vda")
    assert runner.calls == [["env", "SYSTEMD_RELAX_ESP_CHECKS=1", "bootctl", "--graceful", f"--esp-path={MOUNT}",
                             "--make-entry-directory=no", "--no-variables", "install"]]


def test_grub_efi_install_goes_onto_the_esp_twice_normal_and_removable(tmp_path):
    sys_, runner = system(tmp_path, efivars=True)
    sys_.install_bootloader(GRUB_EFI, MOUNT, "/dev/vda")
    base = ["--target=x86_64-efi", "--no-floppy", "--bootloader-id=keel", f"--efi-directory={MOUNT}",
            f"--boot-directory={MOUNT}"]
    assert [call[1:] for call in runner.calls] == [base, [*base, "--removable"]]
    assert runner.calls[0][0].endswith("grub-install") or runner.calls[0][0].endswith("grub-install.real")


def test_grub_bios_install_writes_the_parent_disk(tmp_path):
    sys_, runner = system(tmp_path)
    sys_.install_bootloader(GRUB_BIOS, MOUNT, "/dev/vdb")
    assert runner.calls[0][1:] == ["--target=i386-pc", "--no-floppy", f"--boot-directory={MOUNT}", "/dev/vdb"]


def test_mounted_esp_is_unmounted_and_its_directory_removed_even_when_the_work_fails(tmp_path):
    sys_, runner = system(tmp_path)
    with pytest.raises(RuntimeError), sys_.mounted_esp("1A2B-3C4D", "/dev/vda2", read_only=True) as (_mnt, tree):
        assert isinstance(tree, DirectoryTree)
        raise RuntimeError("sync failed")
    mountpoint = str(tmp_path / "var/tmp/espmounts/1A2B-3C4D")
    assert runner.calls == [["mount", "-t", "vfat", "-o", "ro", "/dev/vda2", mountpoint], ["umount", mountpoint]]
    assert not Path(mountpoint).exists()


def test_an_esp_without_a_by_uuid_link_is_found_by_probing(tmp_path):
    sys_, runner = system(tmp_path, outputs={"blkid": "/dev/vdb2\n"})
    assert sys_.esp_device("5E6F-7A8B") == "/dev/vdb2"
    assert runner.calls == [["blkid", "-l", "-o", "device", "-t", "UUID=5E6F-7A8B"]]


def test_make_esp_sets_the_gpt_type_wipes_and_formats(tmp_path, monkeypatch):
    sys_, runner = system(tmp_path)
    monkeypatch.setattr(sys_, "partition_number", lambda device: 2)
    info = BlockInfo("/dev/sdc2", "part", 1 << 30, "sdc", "ext4", None, "0fc63daf-8483-4772-8e79-3d69d8477de4", (), ())
    sys_.make_esp(info, wipe=True)
    assert runner.calls == [
        ["sgdisk", f"--typecode=2:{ESP_TYPE_GUID.upper()}", "/dev/sdc"],
        ["wipefs", "--all", "/dev/sdc2"],
        ["mkfs.vfat", "-F", "32", "/dev/sdc2"],
    ]


def test_lsblk_json_of_a_partition():
    text = """{"blockdevices": [{"name": "vda2", "path": "/dev/vda2", "type": "part", "size": 536870912,
      "fstype": "vfat", "uuid": "1A2B-3C4D", "parttype": "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
      "pkname": "vda", "mountpoints": [null]}]}"""
    assert parse_lsblk(text) == BlockInfo("/dev/vda2", "part", 536870912, "vda", "vfat", "1A2B-3C4D",
                                          ESP_TYPE_GUID, (), ())


def test_uuid_list_is_read_upper_case_sorted_and_unique_and_written_back_sorted(tmp_path):
    paths = SystemPaths(tmp_path)
    assert read_uuids(paths) is None
    paths.uuids.parent.mkdir(parents=True)
    paths.uuids.write_text("5e6f-7a8b\n1A2B-3C4D\n\n5E6F-7A8B\n")
    assert read_uuids(paths) == ("1A2B-3C4D", "5E6F-7A8B")
    write_uuids(paths, ["5E6F-7A8B", "1A2B-3C4D", "1A2B-3C4D"])
    assert paths.uuids.read_text() == "1A2B-3C4D\n5E6F-7A8B\n"


def test_a_broken_uuid_list_names_the_file_and_the_line(tmp_path):
    paths = SystemPaths(tmp_path)
    paths.uuids.parent.mkdir(parents=True)
    paths.uuids.write_text("/dev/sda2\n")
    with pytest.raises(StateError, match=r"proxmox-boot-uuids: '/dev/sda2' is not a vfat UUID"):
        read_uuids(paths)


def test_without_etc_kernel_cmdline_the_running_one_is_used_minus_boot_loader_words(tmp_path):
    paths = SystemPaths(tmp_path)
    (tmp_path / "proc").mkdir()
    (tmp_path / "proc/cmdline").write_text(
        "BOOT_IMAGE=/vmlinuz-6.12.43+deb13-amd64 initrd=\\EFI\\keel\\x\\initrd.img root=ZFS=rpool/ROOT/pve-1 boot=zfs\n"
    )
    assert kernel_cmdline(paths) == "root=ZFS=rpool/ROOT/pve-1 boot=zfs"


def test_installed_kernels_ignore_package_tool_leftovers(tmp_path):
    boot = tmp_path / "boot"
    boot.mkdir()
    for name in ("vmlinuz-6.12.43+deb13-amd64", "vmlinuz-6.12.48+deb13-amd64.dpkg-tmp", "vmlinuz.old",
                 "vmlinuz-6.1.0-37-amd64"):
        (boot / name).write_text("")
    assert installed_kernels(SystemPaths(tmp_path)) == ("6.1.0-37-amd64", "6.12.43+deb13-amd64")


def test_entry_title_comes_from_os_release(tmp_path):
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/os-release").write_text('NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 13 (trixie)"\n')
    assert os_title(SystemPaths(tmp_path)) == "Debian GNU/Linux 13 (trixie)"
    assert os_title(SystemPaths(tmp_path / "nowhere")) == "Linux"
