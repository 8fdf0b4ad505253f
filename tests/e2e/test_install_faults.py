"""Installs that go wrong on purpose (make e2e): the power cut in the middle of extracting the payload, and a
failing command with each value of reboot-on-error; the successful install's power-off reboot-mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from keel_harness import Disk, GiB, Kernel, Machine, Outcome, build_answer_image, ensure_built, wait_for_verdict

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "install-test-pw"
INSTALL_TIMEOUT = 3600
BOOT_TIMEOUT = 900
AUTO_ARGS = "boot=live keel.mode=auto console=tty0 console=ttyS0,115200"
EXTRACT_PHASE = r"^\[\s*\d+%\] Extracting the base system$"
EXTRACTING = r"^\[\s*\d+%\] Extracting the base system: /"


def answer(host: str, extra: str = "") -> str:
    return (
        "[global]\n"
        'keyboard = "en-us"\ncountry = "at"\n'
        f'fqdn = "{host}.example.com"\nmailto = "admin@example.com"\ntimezone = "Europe/Vienna"\n'
        f'root-password = "{PASSWORD}"\n{extra}\n'
        '[network]\nsource = "from-dhcp"\n\n'
        '[disk-setup]\nfilesystem = "ext4"\ndisk-list = ["vda"]\n'
    )


@pytest.fixture(scope="module")
def build():
    return ensure_built(REPO)


def machine(build, tmp_path: Path, name: str, text: str, extra_args: list[str] = (), *,
            allow_reboot: bool = True) -> Machine:
    """The live system booted directly (kernel + initrd, the ISO as medium) in auto mode, the answer on a
    PROXMOX-AIS image. With allow_reboot=False, QEMU ends when the guest reboots (so a test sees the reboot)."""
    boot = Kernel(build.pxe_dir / "vmlinuz", build.pxe_dir / "initrd.img", AUTO_ARGS, medium=build.iso)
    return Machine(name=name, firmware="bios", disks=[Disk(24 * GiB)], boot=boot, extra_kernel_args=list(extra_args),
                   answer_image=build_answer_image(tmp_path / "answer.img", text), state_dir=tmp_path / "vm",
                   allow_reboot=allow_reboot)


def test_a_power_cut_while_extracting_then_the_same_install_again_gives_a_system_that_boots(build, tmp_path):
    m = machine(build, tmp_path, "power-cut", answer("faults1", 'reboot-mode = "power-off"'))
    with m:
        m.start()
        m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
        m.wait_for_line([EXTRACT_PHASE], timeout=INSTALL_TIMEOUT)
        m.wait_for_line([EXTRACTING], timeout=INSTALL_TIMEOUT)      # files are being written
        m.crash()
        # the same medium, answer and disk: the half-written disk is torn down and installed afresh
        m.start()
        m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
        assert wait_for_verdict(m, INSTALL_TIMEOUT).outcome is Outcome.FINISHED
        m.wait_for_line([r"^Powering off now\b"], timeout=120)
        m.wait_for_shutdown(timeout=300)                          # reboot-mode = "power-off" powers off
        m.boot_from_disks()
        m.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
        assert m.succeed("hostname").strip() == "faults1"
        plan = json.loads(m.succeed("cat /var/log/keel/storage-plan.json"))
        assert plan["filesystem"] == "ext4"
        assert m.succeed("findmnt -n -o SOURCE /").strip() == "/dev/mapper/pve-root"


def test_a_failing_command_with_reboot_on_error_names_the_phase_then_reboots(build, tmp_path):
    m = machine(build, tmp_path, "fault-reboot", answer("faults2", "reboot-on-error = true"),
                ["keel.fault=mkfs.ext4"], allow_reboot=False)
    with m:
        m.start()
        m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
        verdict = wait_for_verdict(m, INSTALL_TIMEOUT)
        assert verdict.outcome is Outcome.FAILED
        assert "Installation failed in phase 'Creating file systems'" in verdict.line
        m.wait_for_line([r"^reboot-on-error is set: rebooting in \d+ s\.$"], timeout=120)
        m.wait_for_shutdown(timeout=300)                          # allow_reboot=False: QEMU ends on the reboot


def test_a_failing_command_without_reboot_on_error_names_the_phase_and_stays_at_a_shell(build, tmp_path):
    m = machine(build, tmp_path, "fault-shell", answer("faults3"), ["keel.fault=vgcreate"])
    with m:
        m.start()
        m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=BOOT_TIMEOUT)
        verdict = wait_for_verdict(m, INSTALL_TIMEOUT)
        assert verdict.outcome is Outcome.FAILED
        assert "Installation failed in phase 'Creating volumes'" in verdict.line
        m.wait_for_line([r"^Keel: the installer exited with status 1\.$"], timeout=120)
        assert "reboot-on-error is set" not in m.console_tail(60)
        assert m.is_running()
