"""Each screen driven through urwid's widget API: keys in, the rendered 80x24 canvas out."""

from __future__ import annotations

import pytest
from tui_helpers import press, screen_text, small_machine

from installer.core.config import Filesystem
from installer.core.events import Event
from installer.tui.checks import answerfile_checks
from installer.tui.controls import ChoiceField
from installer.tui.model import FsChoice, Wizard
from installer.tui.screens.disks import DisksScreen
from installer.tui.screens.finish import FinishScreen
from installer.tui.screens.license import LicenseScreen
from installer.tui.screens.location import LocationScreen
from installer.tui.screens.network import NetworkScreen
from installer.tui.screens.password import PasswordScreen
from installer.tui.screens.progress import ProgressScreen
from installer.tui.screens.summary import SummaryScreen


class RecordingHost:
    """Stands in for the app: records keyboard switches, steps choice lists instead of popping them up."""

    def __init__(self) -> None:
        self.keyboards: list[str] = []

    def open_choice(self, field: ChoiceField, title: str) -> None:
        field.keypress((0,), "right")

    def apply_keyboard(self, kmap: str) -> None:
        self.keyboards.append(kmap)

    def refresh(self) -> None:
        pass


# ---- license ------------------------------------------------------------------------------------------------

def test_license_shows_the_text_and_no_warning_on_a_capable_machine(wizard):
    text = screen_text(LicenseScreen(wizard, text="First paragraph.\n\nSecond paragraph."))
    assert "First paragraph." in text and "Second paragraph." in text
    assert "Warning" not in text


def test_license_warns_about_little_memory_and_missing_virtualisation():
    w = Wizard(small_machine(memory_mib=768, hvm=False), answerfile_checks())
    text = screen_text(LicenseScreen(w, text="EULA"))
    assert "Less than 1 GiB of usable memory detected, installation will probably" in text
    assert "No support for hardware-accelerated KVM virtualization detected." in text


def test_long_license_scrolls_with_page_down(wizard):
    screen = LicenseScreen(wizard, text="\n\n".join(f"Paragraph {i}." for i in range(40)))
    assert "Paragraph 39." not in screen_text(screen)
    press(screen, *["page down"] * 6)
    assert "Paragraph 39." in screen_text(screen)


# ---- disks --------------------------------------------------------------------------------------------------

def test_ext4_shows_one_target_disk_with_size_model_bus_and_lvm_options(wizard):
    text = screen_text(DisksScreen(wizard))
    assert "Filesystem             ext4" in text
    assert "Target harddisk        sda         32.00 GiB  QEMU HARDDISK            sata" in text
    for label in ("Total size (hdsize)", "Swap size", "Max root volume", "Max data volume", "Min free LVM space"):
        assert label in text


def test_existing_content_of_the_chosen_disk_is_shown(wizard):
    screen = DisksScreen(wizard, RecordingHost())
    press(screen, "down", "right", "right")       # Target harddisk: sda -> sdb -> nvme0n1
    assert "holds: gpt, LVM PV (pve)" in screen_text(screen)


def test_zfs_gives_one_slot_per_disk_and_the_do_not_use_choice(wizard):
    screen = DisksScreen(wizard, RecordingHost())
    press(screen, "right", "right", "right")      # ext4 -> xfs -> zfs (RAID0) -> zfs (RAID1)
    screen.store()
    assert wizard.state.fs == FsChoice(Filesystem.ZFS, "RAID1")
    text = screen_text(screen, (80, 40))
    for i, name in enumerate(("sda", "sdb", "nvme0n1", "sdc")):
        assert f"Harddisk {i}             {name}" in text
    assert "ZFS is not compatible with hardware RAID controllers" in text
    press(screen, "down", "left", size=(80, 40))  # slot 0: sda -> "-- do not use --" (the last choice)
    assert "Harddisk 0             -- do not use --" in screen_text(screen, (80, 40))


def test_zfs_refusal_is_shown_on_the_screen_and_in_the_preview(wizard):
    screen = DisksScreen(wizard, RecordingHost())
    # zfs (RAID10) over all four disks mirrors sda+sdb (32/32 GiB: fine) and nvme0n1+sdc (64/6 GiB: refused)
    press(screen, *["right"] * 4)
    problems = screen.validate()
    assert [p.field for p in problems] == ["disks"]
    text = screen_text(screen, (80, 50))
    assert "! mirrored disks must have about the same size (within 10 %): nvme0n1 has 64" in text
    assert "No plan yet:" in text


def test_preview_shows_the_plan_and_what_is_destroyed(wizard):
    screen = DisksScreen(wizard, RecordingHost())
    press(screen, "down", "right", "right")       # nvme0n1, which holds the old VG 'pve'
    text = screen_text(screen, (80, 80))
    assert "Storage plan: ext4 on 1 disk" in text
    assert "/dev/nvme0n1p3" in text
    assert "Destroyed" in text


def test_a_wide_terminal_shows_the_preview_beside_the_options(wizard):
    lines = screen_text(DisksScreen(wizard), (170, 30)).splitlines()
    assert "Filesystem" in lines[0] and "Plan preview" in lines[0]


def test_hdsize_above_the_disk_is_marked_on_its_field(wizard):
    screen = DisksScreen(wizard)
    press(screen, "down", "down", "ctrl e", "ctrl u", "40")   # hdsize: "32.00" replaced by "40"
    screen.validate()
    text = screen_text(screen)
    assert "! Total size (hdsize)" in text
    assert "! hdsize 40 GiB is larger than the disk (32.00 GiB)" in text


def test_deselect_all_clears_every_slot(wizard):
    screen = DisksScreen(wizard, RecordingHost())
    press(screen, "right", "right", "right")
    [button] = screen.buttons()
    assert button.text == "Deselect all" and button.key == "d"
    button.on_press()
    assert wizard.state.slots == [None, None, None, None]


# ---- location -----------------------------------------------------------------------------------------------

def test_location_shows_country_zone_and_keyboard(wizard):
    text = screen_text(LocationScreen(wizard))
    assert "Country                Germany" in text
    assert "Time zone              Europe/Berlin" in text
    assert "Keyboard layout        German (de)" in text


def test_a_new_country_brings_its_zone_and_the_keyboard_applies_at_once(wizard):
    host = RecordingHost()
    screen = LocationScreen(wizard, host)
    screen.country.set_value("fr")
    assert "Europe/Paris" in screen_text(screen)
    assert "French (fr)" in screen_text(screen)
    press(screen, "down", "down", "right")        # keyboard: fr -> fr-be
    assert host.keyboards == ["fr", "fr-be"]   # the country's layout, then the chosen one
    screen.store()
    assert (wizard.state.country, wizard.state.timezone, wizard.state.keyboard) == ("fr", "Europe/Paris", "fr-be")


# ---- password -----------------------------------------------------------------------------------------------

def test_password_is_masked_and_a_short_one_is_refused(wizard):
    screen = PasswordScreen(wizard)
    press(screen, "secret1", "down", "secret1", "down", "ctrl e", "ctrl u", "root@lab.example")
    text = screen_text(screen)
    assert "secret1" not in text and "*******" in text
    screen.validate()
    text = screen_text(screen)
    assert "! Root password" in text
    assert "! password must be at least 8 characters long (got 7)" in text
    assert wizard.state.email == "root@lab.example"


def test_passwords_that_differ_are_refused_on_the_confirmation(wizard):
    screen = PasswordScreen(wizard)
    press(screen, "install-test-pw", "down", "install-test-PW", "down", "ctrl e", "ctrl u", "root@lab.example")
    assert [p.field for p in screen.validate()] == ["password_confirm"]
    assert "! passwords do not match" in screen_text(screen)


# ---- network ------------------------------------------------------------------------------------------------

def test_network_lists_the_interface_with_state_mac_and_driver_and_dhcp_values(wizard):
    text = screen_text(NetworkScreen(wizard))
    assert "Management interface   enp0s1          UP      52:54:00:00:00:01  virtio_net" in text
    assert "Hostname (FQDN)        node7.lab.example" in text
    assert "IP address (CIDR)      10.0.2.15/24" in text
    assert "[X] Pin network interface names" in text
    assert "enp1s0 (52:54:00:00:00:02)" in text


def test_interface_choices_put_links_that_are_up_first(wizard):
    screen = NetworkScreen(wizard)
    assert [value for value, _label in screen.interface.options] == ["enp0s1", "enp2s0", "enp1s0"]


def test_a_bad_gateway_is_marked_with_the_answer_files_message(wizard):
    screen = NetworkScreen(wizard)
    screen.fields["gateway"].input.set_edit_text("10.0.2.256")
    screen.validate()
    text = screen_text(screen)
    assert "! Gateway" in text
    assert "! '10.0.2.256' is not a valid IPv4 or IPv6 address" in text


def test_turning_pinning_off_hides_the_names(wizard):
    screen = NetworkScreen(wizard)
    screen.pin.set_state(False)
    assert "enp1s0 (52:54:00:00:00:02)" not in screen_text(screen)
    assert wizard.network().pin_names == {}


# ---- summary ------------------------------------------------------------------------------------------------

def ready(wizard: Wizard) -> None:
    s = wizard.state
    s.password = s.password_confirm = "install-test-pw"
    s.email = "root@lab.example"


def test_summary_lists_every_choice_and_what_will_be_erased(wizard):
    ready(wizard)
    wizard.state.lvm_disk = "/dev/nvme0n1"
    text = screen_text(SummaryScreen(wizard), (80, 30))
    for row in ("Filesystem        ext4", "Disks             nvme0n1 (64.00 GiB)",
                "Location          Germany (de), Europe/Berlin", "Keyboard layout   German (de)",
                "Email             root@lab.example", "Interface         enp0s1 (52:54:00:00:00:01), pinned as nic0",
                "Hostname          node7.lab.example", "IP address        10.0.2.15/24",
                "Gateway / DNS     10.0.2.2 / 10.0.2.3"):
        assert row in text
    assert "Will be erased: everything on nvme0n1" in text
    assert "[X] Automatically reboot after successful installation" in text


def test_summary_refuses_to_install_before_the_erase_is_confirmed(wizard):
    ready(wizard)
    screen = SummaryScreen(wizard)
    assert [p.field for p in screen.validate()] == ["erase"]
    screen.erase.set_state(True)
    assert screen.validate() == []


def test_summary_says_where_the_answer_file_goes(wizard):
    ready(wizard)
    text = screen_text(SummaryScreen(wizard, answer_path="/root/answer.toml", dry_run=True), (80, 30))
    assert "Dry run: writes the configuration, prints the plan, touches no disk." in text
    assert "/root/answer.toml" in text


# ---- progress and finish ------------------------------------------------------------------------------------

def test_progress_shows_phase_bar_and_recent_messages():
    screen = ProgressScreen()
    screen.handle(Event("phase", text="Partitioning disks", phase="Partitioning disks", ratio=0.25))
    screen.handle(Event("message", text="sgdisk -Z /dev/sda", phase="Partitioning disks", ratio=0.25))
    screen.handle(Event("progress", text="/dev/sdb", phase="Partitioning disks", ratio=0.5))
    text = screen_text(screen)
    assert "Partitioning disks: /dev/sdb" in text
    assert "50 %" in text
    assert "sgdisk -Z /dev/sda" in text


def test_progress_keeps_only_the_last_lines():
    screen = ProgressScreen(log_lines=3)
    for i in range(10):
        screen.handle(Event("message", text=f"line {i}"))
    text = screen_text(screen)
    assert "line 6" not in text and all(f"line {i}" in text for i in (7, 8, 9))


def test_finish_after_success_counts_down_to_the_reboot():
    screen = FinishScreen(Event("finished", text="Installation finished", ok=True), log_path="/var/log/keel/x",
                          autoreboot=True, seconds=2)
    assert "Rebooting in 2 s" in screen_text(screen)
    assert screen.tick() is False
    assert "Rebooting in 1 s" in screen_text(screen)
    assert screen.tick() is True


def test_finish_after_failure_shows_the_error_the_detail_and_the_log_path():
    error = Event("error", text="Installation failed in phase 'Creating volumes'",
                  detail="command: zpool create ...\nresult: exit status 1")
    event = Event("finished", text="Installation failed - see /var/log/keel/install.log", ok=False)
    screen = FinishScreen(event, log_path="/var/log/keel/install.log", autoreboot=True, error=error)
    text = screen_text(screen)
    assert "Installation failed in phase 'Creating volumes'" in text
    assert "command: zpool create ..." in text
    assert "The full log is in /var/log/keel/install.log." in text
    assert "Debug shell" in text
    assert screen.tick() is False                  # no countdown after a failure


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (200, 60)], ids=["80x24", "100x30", "200x60"])
def test_every_screen_fits_the_terminal(wizard, size):
    ready(wizard)
    for screen in (LicenseScreen(wizard, text="EULA"), DisksScreen(wizard), LocationScreen(wizard),
                   PasswordScreen(wizard), NetworkScreen(wizard), SummaryScreen(wizard), ProgressScreen()):
        lines = screen_text(screen, size).splitlines()
        assert len(lines) == size[1] and all(len(line) == size[0] for line in lines)


def test_next_is_refused_when_the_planner_refuses_the_disks():
    from dataclasses import replace

    from installer.core.hardware import ExistingContent

    machine = small_machine()
    sda, sdb, *rest = machine.disks
    vg = ("lvm-pv", "LVM2_member", "data", "vg-x")
    sda = replace(sda, existing=(ExistingContent(vg[0], "/dev/sda1", *vg[1:]),))
    sdb = replace(sdb, existing=(ExistingContent(vg[0], "/dev/sdb1", *vg[1:]),))
    wizard = Wizard(replace(machine, disks=(sda, sdb, *rest)), answerfile_checks())
    screen = DisksScreen(wizard)
    assert [p.message for p in screen.validate()] == [
        "LVM volume group 'data' spans selected disk(s) /dev/sda and unselected disk(s) /dev/sdb: select all of "
        "its disks or none, or remove it first"]
    assert "! LVM volume group 'data' spans selected disk(s) /dev/sda" in screen_text(screen, (100, 40))
