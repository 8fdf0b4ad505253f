"""keel-boot-tool's commands end to end over a scratch system root, with ESPs as directories."""

import fcntl
import io
import os
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from keel_boot import cli
from keel_boot.commands import BootTool
from keel_boot.state import SystemPaths
from keel_boot.system import GRUB_BIOS, GRUB_EFI, SYSTEMD_BOOT
from keel_testing.boot_fakes import FakeSystem, directory_tree, install_kernel

ESP_A, ESP_B, ESP_C = "1A2B-3C4D", "5E6F-7A8B", "9C0D-1E2F"
K41 = "6.12.41+deb13-amd64"
K43 = "6.12.43+deb13-amd64"
K48 = "6.12.48+deb13-amd64"
CMDLINE = "root=ZFS=rpool/ROOT/pve-1 boot=zfs"


class Host:
    """A scratch installed system: /etc, /boot and two ESPs (sda2, sdb2) that the fake system mounts."""

    def __init__(self, tmp_path, efi=True):
        self.root = tmp_path / "root"
        (self.root / "etc/kernel").mkdir(parents=True)
        (self.root / "etc/kernel/cmdline").write_text(CMDLINE + "\n")
        (self.root / "etc/os-release").write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nID=debian\n')
        for version in (K41, K43):
            install_kernel(self.root, version)
        self.paths = SystemPaths(self.root)
        self.system = FakeSystem(self.paths, efi=efi, running=K43)
        self.esps = {}
        for device, uuid, disk in (("/dev/sda2", ESP_A, "sda"), ("/dev/sdb2", ESP_B, "sdb")):
            self.add_disk(device, uuid, disk, tmp_path)
        self.out = io.StringIO()
        self.err = io.StringIO()

    def add_disk(self, device, uuid, disk, base):
        self.esps[uuid] = directory_tree(base, uuid)
        self.system.add_esp(device, uuid, self.esps[uuid], parent=disk)

    def run(self, *argv):
        self.out.seek(0)
        self.out.truncate()
        self.err.seek(0)
        self.err.truncate()
        tool = BootTool(self.paths, self.system, out=self.out, err=self.err)
        code = cli.main(list(argv), tool=tool)
        return code, self.out.getvalue(), self.err.getvalue()

    def uuids_file(self):
        return (self.root / "etc/kernel/proxmox-boot-uuids").read_text()

    def loader_default(self, uuid):
        return self.esps[uuid].read_text("loader/loader.conf").splitlines()[-1]

    def entry(self, uuid, version):
        return self.esps[uuid].read_text(f"loader/entries/keel-{version}.conf")


@pytest.fixture
def host(tmp_path):
    return Host(tmp_path)


@pytest.fixture
def synced(host):
    assert host.run("init", "/dev/sda2")[0] == 0
    assert host.run("init", "/dev/sdb2")[0] == 0
    return host


def test_init_installs_systemd_boot_on_uefi_lists_the_esp_and_syncs_it(host):
    code, out, _ = host.run("init", "/dev/sda2")
    assert code == 0
    assert host.system.installed == [(SYSTEMD_BOOT, "/dev/sda")]
    assert host.uuids_file() == f"{ESP_A}\n"
    assert f"Adding '{ESP_A}' to list of synced ESPs..." in out
    assert host.loader_default(ESP_A) == f"default keel-{K43}.conf"
    assert f"options {CMDLINE}\n" in host.entry(ESP_A, K41)
    assert host.system.namespace_entered >= 1


def test_init_on_every_esp_keeps_the_list_sorted_and_both_esps_in_sync(synced):
    assert synced.uuids_file() == f"{ESP_A}\n{ESP_B}\n"
    assert synced.esps[ESP_A].files() == synced.esps[ESP_B].files()


def test_init_of_two_esps_at_once_installs_both_and_syncs_them_alike(host):
    code, out, _ = host.run("init", "/dev/sda2", "/dev/sdb2")
    assert code == 0
    # the two boot loaders go on in threads of their own: either may come first
    assert sorted(host.system.installed) == [(SYSTEMD_BOOT, "/dev/sda"), (SYSTEMD_BOOT, "/dev/sdb")]
    assert host.uuids_file() == f"{ESP_A}\n{ESP_B}\n"
    assert host.esps[ESP_A].files() == host.esps[ESP_B].files()
    assert out.count("Copying and configuring kernels") == 1, "one refresh for both"


def test_init_copies_the_kernels_on_in_the_mount_it_installed_the_boot_loader_in(synced):
    synced.system.mount_log.clear()
    install_kernel(synced.root, K48)
    assert synced.run("init", "/dev/sda2", "/dev/sdb2")[0] == 0
    assert sorted(synced.system.mount_log) == [(ESP_A, False), (ESP_B, False)], "one mount per ESP"
    for uuid in (ESP_A, ESP_B):
        assert synced.loader_default(uuid) == f"default keel-{K48}.conf"


def test_init_of_a_new_esp_brings_the_esps_listed_before_up_to_date_too(host):
    assert host.run("init", "/dev/sda2")[0] == 0
    install_kernel(host.root, K48)
    code, out, _ = host.run("init", "/dev/sdb2")
    assert code == 0
    assert host.uuids_file() == f"{ESP_A}\n{ESP_B}\n"
    assert host.loader_default(ESP_A) == host.loader_default(ESP_B) == f"default keel-{K48}.conf"
    assert f"{ESP_A} (uefi): 2 files copied" in out, "the ESP listed before got the new kernel"


def test_init_without_a_kernel_still_installs_and_lists_the_esp_then_fails(host):
    for path in (host.root / "boot").glob("initrd.img-*"):
        path.unlink()
    code, _, err = host.run("init", "/dev/sda2")
    assert code != 0 and "no kernel with both vmlinuz-<version> and initrd.img-<version>" in err
    assert host.system.installed == [(SYSTEMD_BOOT, "/dev/sda")]
    assert host.uuids_file() == f"{ESP_A}\n"


def test_init_with_only_the_word_grub_names_no_partition(host):
    code, _, err = host.run("init", "grub")
    assert code != 0 and "name at least one ESP partition" in err
    assert host.system.installed == []


def test_init_with_grub_on_uefi_installs_grub_for_secure_boot(host):
    assert host.run("init", "/dev/sda2", "grub")[0] == 0
    assert host.system.installed == [(GRUB_EFI, "/dev/sda")]
    assert "grub/grub.cfg" in host.esps[ESP_A].files()
    assert f"vmlinuz-{K43}" in host.esps[ESP_A].files()


def test_init_on_legacy_bios_installs_grub_into_the_parent_disk(tmp_path):
    host = Host(tmp_path, efi=False)
    assert host.run("init", "/dev/sdb2")[0] == 0
    assert host.system.installed == [(GRUB_BIOS, "/dev/sdb")]
    assert f"set default='keel-{K43}'" in host.esps[ESP_B].read_text("grub/grub.cfg")


def test_a_new_kernel_reaches_every_esp_and_becomes_the_default(synced):
    install_kernel(synced.root, K48)
    code, _, _ = synced.run("refresh", "--hook", "zz-keel-boot", "--kernel-version", K48)
    assert code == 0
    for uuid in (ESP_A, ESP_B):
        assert f"EFI/keel/{K48}/vmlinuz-{K48}" in synced.esps[uuid].files()
        assert synced.loader_default(uuid) == f"default keel-{K48}.conf"


def test_pin_changes_the_default_entry_on_every_esp_and_unpin_restores_it(synced):
    code, _, _ = synced.run("kernel", "pin", K41)
    assert code == 0
    assert (synced.root / "etc/kernel/proxmox-boot-pin").read_text() == f"{K41}\n"
    assert [synced.loader_default(u) for u in (ESP_A, ESP_B)] == [f"default keel-{K41}.conf"] * 2
    assert synced.run("kernel", "unpin")[0] == 0
    assert [synced.loader_default(u) for u in (ESP_A, ESP_B)] == [f"default keel-{K43}.conf"] * 2


def test_next_boot_pin_is_the_default_until_the_cleanup_unit_unpins_it(synced):
    synced.run("kernel", "pin", K43)
    assert synced.run("kernel", "pin", K41, "--next-boot")[0] == 0
    assert synced.loader_default(ESP_A) == f"default keel-{K41}.conf"
    # what keel-boot-cleanup.service runs after the boot
    code, _, _ = synced.run("kernel", "unpin", "--next-boot")
    assert code == 0
    assert not (synced.root / "etc/kernel/next-boot-pin").exists()
    assert (synced.root / "etc/kernel/proxmox-boot-pin").exists()
    assert synced.loader_default(ESP_B) == f"default keel-{K43}.conf"


def test_a_next_boot_unpin_cut_short_by_a_shutdown_keeps_the_pin_so_the_next_boot_finishes_it(synced, monkeypatch):
    """The cleanup unit runs at boot; a reboot right after it started once stopped it between the two ESPs.
    The pin file goes only when every ESP is synced, so the next boot's run brings them back in line."""
    synced.run("kernel", "pin", K43)
    synced.run("kernel", "pin", K41, "--next-boot")
    mount = synced.system.mounted_esp

    def stopped_on_the_second_esp(uuid, device, read_only=False):
        if uuid == ESP_B:
            raise SystemExit("SIGTERM: the system is shutting down")
        return mount(uuid, device, read_only)

    monkeypatch.setattr(synced.system, "mounted_esp", stopped_on_the_second_esp)
    with pytest.raises(SystemExit):
        synced.run("kernel", "unpin", "--next-boot")
    assert (synced.root / "etc/kernel/next-boot-pin").read_text() == f"{K41}\n"
    monkeypatch.setattr(synced.system, "mounted_esp", mount)
    assert synced.run("kernel", "unpin", "--next-boot")[0] == 0
    assert not (synced.root / "etc/kernel/next-boot-pin").exists()
    assert [synced.loader_default(u) for u in (ESP_A, ESP_B)] == [f"default keel-{K43}.conf"] * 2


def test_pin_on_a_plain_grub_system_sets_grub_default_and_runs_update_grub(host):
    code, _, _ = host.run("kernel", "pin", K41)
    assert code == 0
    pin_cfg = host.root / "etc/default/grub.d/proxmox-kernel-pin.cfg"
    root_id = "0f3c2d1e-aaaa-4bbb-8ccc-123456789abc"
    assert pin_cfg.read_text().splitlines()[-1] == (
        f'GRUB_DEFAULT="gnulinux-advanced-{root_id}>gnulinux-{K41}-advanced-{root_id}"'
    )
    assert host.system.update_grub_runs == 1
    assert host.run("kernel", "unpin")[0] == 0
    assert not pin_cfg.exists()
    assert host.system.update_grub_runs == 2
    assert host.system.mount_log == []


def test_next_boot_pin_needs_esp_sync(host):
    code, _, err = host.run("kernel", "pin", K41, "--next-boot")
    assert code == 1
    assert err == "E: a next-boot pin needs ESPs synced by keel-boot-tool; on plain GRUB use grub-reboot\n"
    assert not (host.root / "etc/kernel/next-boot-pin").exists()


def test_an_edited_cmdline_reaches_the_options_line_on_every_esp(synced):
    (synced.root / "etc/kernel/cmdline").write_text(f"{CMDLINE} console=ttyS0,115200\n")
    assert synced.run("refresh")[0] == 0
    for uuid in (ESP_A, ESP_B):
        assert f"options {CMDLINE} console=ttyS0,115200\n" in synced.entry(uuid, K43)


def test_a_cmdline_without_root_is_an_error_naming_the_file(synced):
    (synced.root / "etc/kernel/cmdline").write_text("boot=zfs quiet\n")
    code, _, err = synced.run("refresh")
    assert code == 3
    assert f"E: No root= parameter in {synced.root}/etc/kernel/cmdline found!\n" in err


def test_status_lists_the_boot_mode_and_each_esp_with_its_kernels(synced):
    code, out, _ = synced.run("status")
    assert code == 0
    assert out == (
        "System currently booted with uefi\n"
        f"{ESP_A} is configured with: uefi (versions: {K41}, {K43})\n"
        f"{ESP_B} is configured with: uefi (versions: {K41}, {K43})\n"
    )
    assert all(read_only for _uuid, read_only in synced.system.mount_log[-2:])


def test_status_without_an_esp_list_exits_2(host):
    assert host.run("status", "--quiet") == (2, "", "")
    code, _, err = host.run("status")
    assert code == 2
    assert err == f"E: {host.root}/etc/kernel/proxmox-boot-uuids does not exist.\n"


def test_refresh_without_an_esp_list_does_nothing(host):
    code, out, _ = host.run("refresh")
    assert code == 0
    assert "skipping ESP sync" in out
    assert host.system.mount_log == []


@pytest.mark.parametrize(
    "argv",
    [["refresh"], ["refresh", "--hook", "zz-keel-boot", "--kernel-version", K43], ["reinit"], ["init", "/dev/sda2"],
     ["clean"], ["status"], ["status", "--quiet"], ["kernel", "pin", K41], ["kernel", "unpin"]],
    ids=" ".join,
)
def test_an_esp_list_that_is_not_utf8_is_one_line_and_exit_3(host, argv):
    """A list with garbage bytes in it used to end every command in a UnicodeDecodeError traceback."""
    (host.root / "etc/kernel/proxmox-boot-pin").write_text(f"{K43}\n")
    (host.root / "etc/kernel/proxmox-boot-uuids").write_bytes(b"1A2B-3C4D\n\xff\xfe\n")
    code, _, err = host.run(*argv)
    uuids = host.root / "etc/kernel/proxmox-boot-uuids"
    assert (code, err) == (3, f"E: {uuids}: not UTF-8 text (byte 0xff at offset 10)\n")
    assert host.system.mount_log == []


def test_an_esp_list_line_that_is_no_vfat_uuid_is_one_line_and_exit_3(synced):
    (synced.root / "etc/kernel/proxmox-boot-uuids").write_text(f"{ESP_A}\n/dev/sdb2\n")
    code, _, err = synced.run("refresh")
    assert (code, err) == (3, f"E: {synced.root}/etc/kernel/proxmox-boot-uuids: '/dev/sdb2' is not a vfat UUID "
                              "(XXXX-XXXX), line 2\n")


NO_ESP = "E: {root}/etc/kernel/proxmox-boot-uuids lists no ESP: no ESP is configured (see 'keel-boot-tool init')\n"


@pytest.mark.parametrize(
    "argv",
    [["refresh"], ["refresh", "--hook", "zz-keel-boot", "--kernel-version", K43], ["reinit"], ["status"],
     ["kernel", "pin", K41], ["kernel", "pin", K41, "--next-boot"]],
    ids=" ".join,
)
def test_an_empty_esp_list_is_one_line_and_exit_4(host, argv):
    """An empty list used to make refresh succeed silently, with no ESP getting the new kernel."""
    (host.root / "etc/kernel/proxmox-boot-uuids").write_text("")
    code, out, err = host.run(*argv)
    assert (code, err) == (4, NO_ESP.format(root=host.root))
    assert "Copying" not in out
    assert not (host.root / "etc/kernel/proxmox-boot-pin").exists()
    assert not (host.root / "etc/kernel/next-boot-pin").exists()


def test_unpin_with_an_empty_esp_list_exits_4_and_keeps_the_pin(host):
    (host.root / "etc/kernel/proxmox-boot-pin").write_text(f"{K41}\n")
    (host.root / "etc/kernel/proxmox-boot-uuids").write_text("")
    assert host.run("kernel", "unpin") == (4, "", NO_ESP.format(root=host.root))
    assert (host.root / "etc/kernel/proxmox-boot-pin").read_text() == f"{K41}\n"


def test_status_quiet_with_an_empty_esp_list_exits_4_without_a_word(host):
    (host.root / "etc/kernel/proxmox-boot-uuids").write_text("# emptied by clean\n")
    assert host.run("status", "--quiet") == (4, "", "")


def test_clean_of_an_empty_esp_list_has_nothing_to_do(host):
    (host.root / "etc/kernel/proxmox-boot-uuids").write_text("")
    assert host.run("clean")[0] == 0


def test_replacing_a_dead_disk_format_init_and_clean(synced, tmp_path):
    synced.system.gone.add(ESP_B)
    code, _, err = synced.run("status")
    assert code == 0
    assert f"WARN: {synced.root}/dev/disk/by-uuid/{ESP_B} does not exist" in err

    synced.add_disk("/dev/sdc2", ESP_C, "sdc", tmp_path)
    new = synced.system.devices["/dev/sdc2"]
    synced.system.devices["/dev/sdc2"] = replace(new, fstype=None, uuid=None)
    assert synced.run("format", "/dev/sdc2")[0] == 0
    assert synced.system.formatted == [("/dev/sdc2", False)]
    synced.system.devices["/dev/sdc2"] = new  # what mkfs.vfat leaves
    assert synced.run("init", "/dev/sdc2")[0] == 0

    code, out, _ = synced.run("clean", "--dry-run")
    assert f"Would remove '{ESP_B}'" in out
    assert ESP_B in synced.uuids_file()
    code, out, _ = synced.run("clean")
    assert out.splitlines()[:3] == [
        f"Checking whether ESP '{ESP_A}' exists.. Found!",
        f"Checking whether ESP '{ESP_B}' exists.. Not found!",
        f"Checking whether ESP '{ESP_C}' exists.. Found!",
    ]
    assert synced.uuids_file() == f"{ESP_A}\n{ESP_C}\n"
    assert synced.esps[ESP_C].files() == synced.esps[ESP_A].files()


def test_a_link_planted_where_the_lock_used_to_be_truncates_nothing(synced):
    """/var/tmp is everyone's: a user linked /var/tmp/espmounts/.keel-boot-tool.lock to a root-owned file and
    the next refresh, opening its lock with "w", emptied that file."""
    victim = synced.root / "etc/shadow"
    victim.write_text("root:$y$j9T$secret:20000:0:99999:7:::\n")
    planted = synced.root / "var/tmp/espmounts/.keel-boot-tool.lock"
    planted.parent.mkdir(parents=True, exist_ok=True)
    planted.symlink_to(victim)
    assert synced.run("refresh")[0] == 0
    assert victim.read_text() == "root:$y$j9T$secret:20000:0:99999:7:::\n"


def test_a_link_at_the_lock_file_is_refused_and_its_target_left_alone(synced):
    victim = synced.root / "etc/shadow"
    victim.write_text("secret\n")
    lock_dir = synced.root / "run/keel-boot-tool"
    (lock_dir / "lock").unlink()  # left by the inits, as on a real system
    (lock_dir / "lock").symlink_to(victim)
    code, _, err = synced.run("refresh")
    assert code == 1
    assert err == f"E: {lock_dir}/lock is a symbolic link, not the lock file: remove it\n"
    assert victim.read_text() == "secret\n"


class WatchedStream(io.StringIO):
    """stderr of a command run in a thread: `noticed` is set once the command says it waits for the lock."""

    def __init__(self, noticed: threading.Event):
        super().__init__()
        self.noticed = noticed

    def write(self, text: str) -> int:
        if "Waiting for another keel-boot-tool" in text:
            self.noticed.set()
        return super().write(text)


def _pin(host):
    return host.root / "etc/kernel/proxmox-boot-pin"


def _manual(host):
    return host.root / "etc/kernel/proxmox-boot-manual-kernels"


# (command, preparation, "the command has done its work") for every command that changes something
MUTATING = {
    "clean": (["clean"], lambda h: h.system.gone.add(ESP_B), lambda h: h.uuids_file() == f"{ESP_A}\n"),
    "kernel add": (["kernel", "add", K41], lambda h: None, lambda h: _manual(h).exists()),
    "kernel remove": (["kernel", "remove", K41], lambda h: _manual(h).write_text(f"{K41}\n"),
                      lambda h: not _manual(h).exists()),
    "kernel pin": (["kernel", "pin", K41], lambda h: None, lambda h: _pin(h).exists()),
    "kernel unpin": (["kernel", "unpin"], lambda h: _pin(h).write_text(f"{K41}\n"), lambda h: not _pin(h).exists()),
    "refresh": (["refresh", "--kernel-version", K48], lambda h: install_kernel(h.root, K48),
                lambda h: f"loader/entries/keel-{K48}.conf" in h.esps[ESP_A].files()),
    "reinit": (["reinit"], lambda h: h.system.installed.clear(), lambda h: len(h.system.installed) == 2),
    "init": (["init", "/dev/sdc2"], lambda h: h.add_disk("/dev/sdc2", ESP_C, "sdc", h.root.parent),
             lambda h: ESP_C in h.uuids_file()),
    "format": (["format", "/dev/sda2", "--force"], lambda h: None, lambda h: h.system.formatted != []),
}


@pytest.mark.parametrize("name", MUTATING, ids=lambda name: f"{name} waits while another run holds the lock")
def test_every_command_that_changes_something_takes_the_lock(synced, name):
    argv, prepare, done = MUTATING[name]
    prepare(synced)
    lock_dir = synced.root / "run/keel-boot-tool"
    noticed = threading.Event()
    err = WatchedStream(noticed)
    tool = BootTool(synced.paths, synced.system, out=io.StringIO(), err=err)
    codes = []

    def command():
        try:
            codes.append(cli.main(argv, tool=tool))
        finally:
            noticed.set()

    with open(lock_dir / "lock", "a") as other_run:
        fcntl.flock(other_run, fcntl.LOCK_EX)
        worker = threading.Thread(target=command)
        worker.start()
        assert noticed.wait(timeout=30)
        assert worker.is_alive(), f"'{' '.join(argv)}' ran without the lock: {err.getvalue()}"
        assert not done(synced)
    worker.join(timeout=30)
    assert codes == [0], err.getvalue()
    assert done(synced)


# (changes to the partition, force, expected refusal) for `format`
FORMAT_REFUSALS = [
    ({"type": "disk", "parent": None}, False, "'/dev/sda2' is a whole disk (disk): please provide a partition"),
    ({"fstype": None, "size": 255 * 1024 * 1024}, False, "'/dev/sda2' is too small (<256M): 255 MiB"),
    ({"fstype": None, "mountpoints": ("/boot/efi",)}, False, "'/dev/sda2' is mounted on /boot/efi"),
    ({"fstype": "ext4"}, False, "'/dev/sda2' contains a filesystem (ext4); pass --force to format it anyway"),
    ({"fstype": None, "children": ("dm-0",)}, True, "'/dev/sda2' is in use by dm-0"),
]


@pytest.mark.parametrize(
    ("change", "force", "message"),
    FORMAT_REFUSALS,
    ids=["a whole disk", "a partition under 256 MiB", "a mounted partition", "an existing filesystem",
         "a partition something sits on, even with --force"],
)
def test_format_refuses(host, change, force, message):
    host.system.devices["/dev/sda2"] = replace(host.system.devices["/dev/sda2"], **change)
    code, _, err = host.run("format", "/dev/sda2", *(["--force"] if force else []))
    assert code == 1
    assert err.startswith(f"E: {message}")
    assert host.system.formatted == []


def test_format_with_force_wipes_an_existing_filesystem(host):
    code, _, _ = host.run("format", "/dev/sda2", "--force")
    assert code == 0
    assert host.system.formatted == [("/dev/sda2", True)]


def test_init_refuses_a_partition_that_is_not_an_esp(host):
    linux_data = "0fc63daf-8483-4772-8e79-3d69d8477de4"
    host.system.devices["/dev/sda2"] = replace(host.system.devices["/dev/sda2"], parttype=linux_data)
    code, _, err = host.run("init", "/dev/sda2")
    assert code == 1
    assert err.startswith("E: '/dev/sda2' is not an EFI system partition")
    assert not (host.root / "etc/kernel/proxmox-boot-uuids").exists()


def test_reinit_puts_the_boot_loader_on_every_esp_again_and_reports_a_broken_one(synced):
    synced.system.installed.clear()
    assert synced.run("reinit")[0] == 0
    assert synced.system.installed == [(SYSTEMD_BOOT, "/dev/sda"), (SYSTEMD_BOOT, "/dev/sdb")]
    synced.system.installed.clear()
    synced.system.devices["/dev/sda2"] = replace(synced.system.devices["/dev/sda2"], fstype="ext4")
    code, _, err = synced.run("reinit")
    assert code == 1
    assert f"WARN: ESP {ESP_A} (/dev/sda2): '/dev/sda2' holds no vfat filesystem" in err
    assert synced.system.installed == [(SYSTEMD_BOOT, "/dev/sdb")]


def test_refresh_disables_debians_systemd_boot_hooks(synced):
    hook = synced.root / "etc/kernel/postinst.d/zz-systemd-boot"
    hook.parent.mkdir(parents=True)
    hook.write_text("#!/bin/sh\n")
    hook.chmod(0o755)
    assert synced.run("refresh")[0] == 0
    assert not os.access(hook, os.X_OK)


def test_kernel_add_list_and_remove(synced):
    old = "6.1.0-37-amd64"
    code, _, err = synced.run("kernel", "add", old)
    assert code == 1
    assert err == f"E: no kernel image {synced.root}/boot/vmlinuz-{old} for '{old}'\n"
    install_kernel(synced.root, old)
    code, out, _ = synced.run("kernel", "add", old)
    assert out == f"Added kernel '{old}' to the manual kernel list.\nUse the 'refresh' command to update the ESPs.\n"
    synced.run("kernel", "pin", K41)
    code, out, _ = synced.run("kernel", "list")
    assert out == (
        f"Manually selected kernels:\n{old}\n\n"
        f"Automatically selected kernels:\n{K43}\n{K41}\n\n"
        f"Pinned kernel:\n{K41}\n"
    )
    assert synced.run("kernel", "remove", old)[0] == 0
    assert synced.run("kernel", "remove", old)[0] == 1


COMMANDS = [
    ["format"], ["init"], ["reinit"], ["clean"], ["refresh"], ["kernel"], ["kernel", "add"], ["kernel", "remove"],
    ["kernel", "list"], ["kernel", "pin"], ["kernel", "unpin"], ["status"], ["help"], [],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "the tool itself")
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*command, "--help"])
    assert exit_info.value.code == 0
    assert "example" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [["frobnicate"], ["format"], ["init", "/dev/sda2", "systemd"], ["kernel", "pin"], ["kernel", "hold", "x"],
     ["status", "--loud"], []],
    ids=["an unknown command", "format without a partition", "init with an unknown mode",
         "pin without a version", "an unknown kernel command", "an unknown option", "no command"],
)
def test_wrong_arguments_give_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("keel-boot-tool")


def test_help_and_the_readme_document_every_exit_code(capsys):
    readme = (Path(__file__).resolve().parents[3] / "post-install/README.md").read_text()
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    helped = capsys.readouterr().out
    assert [code for code, _ in cli.EXIT_CODES] == [0, 1, 2, 3, 4, 130]
    for code, meaning in cli.EXIT_CODES:
        assert f"\n  {code:<4} {meaning}\n" in helped
        assert f"\n| {code} | {meaning} |\n" in readme


def test_help_command_prints_the_usage(capsys):
    assert cli.main(["help"]) == 0
    assert "keel-boot-tool" in capsys.readouterr().out
