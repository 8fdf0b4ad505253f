"""The harness itself, against its stand-in ISO (keel_harness.selftest_image): GRUB hotkeys, the debug shell,
command framing over a real serial line, login, power control. Seconds per boot instead of minutes."""

from pathlib import Path

import pytest

from keel_harness import (
    CommandFailed,
    Disk,
    HarnessError,
    Iso,
    Kernel,
    Machine,
    MiB,
    Pxe,
    UsbImage,
    selftest_image,
    timeouts,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def selftest_iso() -> Path:
    return selftest_image.build(REPO / "build" / "harness-selftest")


def test_framed_commands_return_exact_output_and_status_over_the_serial_console(machine, selftest_iso):
    m = machine("framing", firmware="bios", boot=Iso(selftest_iso))
    m.start()
    m.select_boot_entry("d", timeout=timeouts.GRUB_MENU)
    m.wait_for_debug_shell(timeout=timeouts.READY)
    assert m.execute("echo out; echo err >&2; exit 3") == (3, "out\nerr\n")
    assert m.succeed("printf 'a\\tb\\0c'") == "a\tb\0c"
    assert m.succeed("seq 1 3000") == "".join(f"{i}\n" for i in range(1, 3001))
    assert m.succeed("echo '__KEEL_RC_0=0__'") == "__KEEL_RC_0=0__\n"
    with pytest.raises(CommandFailed, match="exited 1") as failed:
        m.succeed("echo why it failed; false")
    assert failed.value.output == "why it failed\n"
    assert m.fail("test -e /nonexistent") == ""
    m.wait_until_succeeds("test -e /tmp/flag || { touch /tmp/flag; false; }", timeout=60)
    m.sendline("exit")
    m.wait_for_console_text("KEEL-READY mode=debug", timeout=timeouts.READY)


def test_login_then_a_clean_poweroff_ends_qemu(machine, selftest_iso):
    m = machine("login", firmware="uefi", boot=UsbImage(selftest_iso))
    m.start()
    m.select_boot_entry("s", timeout=timeouts.GRUB_MENU)
    m.wait_for_console_text("KEEL-READY mode=tui", timeout=timeouts.READY)
    m.login("root", "keel", timeout=timeouts.READY)
    assert m.succeed("id -u").strip() == "0"
    m.shutdown(timeout=120)
    assert not m.is_running()


def test_a_hard_reset_shows_the_boot_menu_again_and_crash_ends_qemu_at_once(machine, selftest_iso):
    m = machine("reset", firmware="bios", boot=Iso(selftest_iso))
    m.start()
    m.select_boot_entry("s", timeout=timeouts.GRUB_MENU)
    m.wait_for_console_text("KEEL-READY mode=tui", timeout=timeouts.READY)
    m.reset()
    m.wait_for_console_text("GNU GRUB", timeout=timeouts.GRUB_MENU)
    m.crash()
    assert not m.is_running()


def test_disks_keep_their_data_into_another_machine_and_a_removed_disk_is_gone(machine, selftest_iso):
    first = machine("writer", firmware="bios", disks=[Disk(64 * MiB), Disk(32 * MiB)], boot=Iso(selftest_iso))
    first.start()
    first.select_boot_entry("d", timeout=timeouts.GRUB_MENU)
    first.wait_for_debug_shell(timeout=timeouts.READY)
    first.succeed("test -b /dev/vda && test -b /dev/vdb")
    first.succeed("echo keel-marker-0 | dd of=/dev/vda conv=fsync && echo keel-marker-1 | dd of=/dev/vdb conv=fsync")
    first.shutdown(timeout=120)

    again = Machine.from_disks(first, name="reader", firmware="uefi", boot=Iso(selftest_iso), state_dir=None)
    try:
        again.start()
        again.select_boot_entry("d", timeout=timeouts.GRUB_MENU)
        again.wait_for_debug_shell(timeout=timeouts.READY)
        assert again.succeed("head -c 13 /dev/vda") == "keel-marker-0"
        again.boot_from_disks(remove=[0], boot=Iso(selftest_iso))
        again.select_boot_entry("d", timeout=timeouts.GRUB_MENU)
        again.wait_for_debug_shell(timeout=timeouts.READY)
        assert again.succeed("head -c 13 /dev/vda") == "keel-marker-1"
        assert again.fail("test -e /dev/vdb") == ""
    finally:
        again.stop()


def test_pxe_chains_keel_ipxe_over_tftp_and_the_guest_fetches_from_the_loopback_server(machine, selftest_iso):
    pxe = selftest_iso.parent / "pxe"
    m = machine("pxe", firmware="bios", boot=Pxe(pxe, http_root=pxe, menu_entry="debug-serial"))
    m.start()
    size = len(selftest_image.SQUASHFS_STANDIN)
    m.wait_for_console_text(rf"KEEL-FETCHED bytes={size}\b", timeout=timeouts.READY)
    m.wait_for_debug_shell(timeout=timeouts.READY)
    cmdline = m.succeed("cat /proc/cmdline").split()
    assert f"fetch=http://10.0.2.2:{m.http_server.port}/filesystem.squashfs" in cmdline
    assert cmdline[-2:] == ["keel.mode=debug", "console=ttyS0,115200"]
    assert m.http_server.requested_paths() == ["/filesystem.squashfs"]


def test_direct_kernel_boot_passes_extra_arguments_and_a_kernel_panic_ends_the_wait_at_once(machine, selftest_iso):
    pxe = selftest_iso.parent / "pxe"
    boot = Kernel(pxe / "vmlinuz", pxe / "initrd.img", "console=ttyS0,115200")
    m = machine("panic", firmware="bios", boot=boot, extra_kernel_args=["rdinit=/does-not-exist"])
    m.start()
    with pytest.raises(HarnessError, match="the kernel panicked"):
        m.wait_for_console_text("KEEL-READY", timeout=timeouts.READY)
    assert "rdinit=/does-not-exist" in m.console_log_path.read_text()
