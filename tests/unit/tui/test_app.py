"""The whole wizard as one widget: navigation, mnemonics, abort, dialogs, resizing, the run to the finish."""

from __future__ import annotations

import pytest
from tui_helpers import press, screen_text

from installer.core.events import Event
from installer.tui.app import Options, WizardApp


@pytest.fixture
def app(wizard):
    return WizardApp(wizard, Options(license_text="EULA text", reboot_seconds=1))


def step_title(app: WizardApp) -> str:
    return screen_text(app).splitlines()[1].strip()


def test_starts_on_the_license_with_i_agree_and_abort(app):
    text = screen_text(app)
    assert "[License]" in text and "EULA text" in text
    assert "< I agree >" in text and "< Abort >" in text
    assert "< Back >" not in text


def test_the_mnemonic_letter_presses_a_button_and_esc_goes_back(app):
    press(app, "g")
    assert step_title(app) == "Target disks and options"
    press(app, "esc")
    assert step_title(app) == "License agreement"


def test_alt_letter_presses_next_even_inside_a_text_field(app):
    press(app, "meta g", "meta n", "meta n")
    assert step_title(app) == "Administration password and email address"
    press(app, "n")                               # typed into the password field, not a mnemonic
    assert step_title(app) == "Administration password and email address"
    assert app.wizard.state.password == "" and app.screens["password"].fields["password"].input.edit_text == "n"


def test_next_refuses_a_step_with_problems_and_says_why_in_the_footer(app):
    press(app, "meta g", "meta n", "meta n", "abc", "meta n")
    text = screen_text(app)
    assert step_title(app) == "Administration password and email address"
    assert "! password must be at least 8 characters long (got 3) (and 1 more)" in text


def test_back_and_next_keep_what_was_entered(app):
    press(app, "meta g", "meta n", "meta n", "install-test-pw", "meta b", "meta n")
    assert app.screens["password"].fields["password"].input.edit_text == "install-test-pw"
    assert app.wizard.state.password == "install-test-pw"


def test_abort_asks_first_and_no_keeps_going(app):
    press(app, "meta g", "meta a")
    assert "Abort the installation? Nothing has been written to any disk." in screen_text(app)
    press(app, "n")
    assert app.outcome is None and "Abort the installation?" not in screen_text(app)
    press(app, "ctrl c")
    assert "Abort the installation?" in screen_text(app)
    press(app, "y")
    assert app.outcome == "aborted"


def test_enter_on_a_choice_opens_its_list_and_typing_jumps(app):
    press(app, "meta g", "meta n", "enter")        # Location: the country list
    assert "type to find" in screen_text(app)
    press(app, "swit", "enter")
    assert app.screens["location"].country.value == "ch"
    assert "Switzerland" in screen_text(app) and "Europe/Zurich" in screen_text(app)


def test_escape_in_a_list_keeps_the_old_value(app):
    press(app, "meta g", "meta n", "enter", "fr", "esc")
    assert app.screens["location"].country.value == "de"
    assert step_title(app) == "Location, time zone and keyboard"


def test_tab_walks_the_fields_then_the_buttons(app):
    press(app, "meta g", "meta n", "meta n", "tab", "tab", "tab")
    assert app.frame.focus_position == "footer"
    press(app, "tab", "tab", "tab")
    assert app.frame.focus_position == "body"


@pytest.mark.parametrize("size", [(80, 24), (132, 43), (60, 20)], ids=["80x24", "132x43", "60x20"])
def test_the_wizard_survives_resizing(app, size):
    press(app, "meta g")
    text = screen_text(app, size)
    assert len(text.splitlines()) == size[1]
    assert "Target disks and options" in text


def test_a_tiny_terminal_gets_a_message_instead_of_a_crash(app):
    assert "Terminal too small" in screen_text(app, (30, 8))


def run_installer(events):
    """An installer that emits `events` from the wizard's install thread; `done` is set once it has."""
    import threading

    done = threading.Event()

    def installer(config, emit):
        for event in events:
            emit(event)
        done.set()

    return installer, done


def test_a_dry_run_goes_from_the_summary_through_progress_to_the_finish(wizard, tmp_path):
    import threading

    from installer.engine.install import InstallSettings
    from installer.tui.install import engine_installer

    seen: list[str] = []
    finished = threading.Event()
    engine = engine_installer(wizard.hardware, dry_run=True, settings=InstallSettings(live_path=tmp_path / "none"))

    def installer(config, emit):
        engine(config, emit)
        finished.set()

    app = WizardApp(wizard, Options(license_text="EULA", dry_run=True), installer=installer,
                    on_install=lambda config: seen.append(config.network.fqdn))
    press(app, "meta g", "meta n", "meta n", "install-test-pw", "down", "install-test-pw", "down", "ctrl e",
          "ctrl u", "root@lab.example", "meta n", "meta n")
    assert step_title(app) == "Summary"
    press(app, "meta i")
    assert "! Confirm that the listed disks will be erased before installing." in screen_text(app)
    app.screens["summary"].erase.set_state(True)
    press(app, "meta i")
    assert seen == ["node7.lab.example"]
    assert finished.wait(60)
    app._drain()
    text = screen_text(app)
    assert app.finish is not None and app.finish.ok, text
    assert "Installation finished" in text
    press(app, "q")
    assert app.outcome == "exit"


def test_a_failed_install_offers_the_debug_shell(wizard):
    installer, done = run_installer([
        Event("phase", text="Partitioning disks", ratio=0.1),
        Event("error", text="Installation failed in phase 'Partitioning disks'", detail="sgdisk: exit 4"),
        Event("finished", text="Installation failed - see /var/log/keel/install.log", ok=False)])
    app = WizardApp(wizard, Options(license_text="EULA"), installer=installer)
    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.email = "root@lab.example"
    wizard.state.erase_confirmed = True
    wizard.state.accepted_license = True
    app.show_step(5)
    press(app, "meta i")
    assert done.wait(5)
    app._drain()
    text = screen_text(app)
    assert "< Debug shell >" in text and "< Reboot now >" in text
    press(app, "meta d")
    assert app.outcome == "shell"


def test_a_disk_below_8_gib_is_accepted_only_after_asking(wizard):
    app = WizardApp(wizard, Options(license_text="EULA"))
    wizard.state.lvm_disk = "/dev/sdc"            # the 6 GiB USB stick: above the 2 GiB hard limit
    app.show_step(1)
    app.screens["disks"].load()
    press(app, "meta n")
    text = screen_text(app)
    assert "Disk sdc has only 6 GiB, below the recommended minimum of 8 GiB" in text
    press(app, "n")                               # No
    assert step_title(app) == "Target disks and options"
    press(app, "meta n", "meta y")                # Yes, continue
    assert step_title(app) == "Location, time zone and keyboard"


def test_a_real_install_streams_engine_events_from_its_thread(wizard):
    import threading

    done = threading.Event()

    def installer(config, emit):
        emit(Event("phase", text="Unpacking the system", phase="Unpacking the system", ratio=0.4))
        emit(Event("finished", text="Installation finished", ok=True, ratio=1.0))
        done.set()

    app = WizardApp(wizard, Options(license_text="EULA"), installer=installer)
    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.email = "root@lab.example"
    wizard.state.erase_confirmed = True
    wizard.state.accepted_license = True
    app.show_step(5)
    press(app, "meta i")
    assert done.wait(5)
    app._drain()                                  # what the main loop does when the thread wakes it
    text = screen_text(app)
    assert "Installation finished" in text and "Rebooting in 5 s" in text
    press(app, "r")
    assert app.outcome == "reboot"


def test_no_automatic_reboot_waits_for_the_button(wizard):
    installer, done = run_installer([Event("finished", text="Installation finished", ok=True)])
    app = WizardApp(wizard, Options(license_text="EULA"), installer=installer)
    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.email = "root@lab.example"
    wizard.state.erase_confirmed = True
    wizard.state.accepted_license = True
    wizard.state.autoreboot = False
    app.show_step(5)
    app.screens["summary"].reboot.set_state(False)
    press(app, "meta i")
    assert done.wait(5)
    app._drain()
    assert "Automatic reboot is off" in screen_text(app)
    assert app.finish is not None and app.finish.tick() is False


def test_do_not_use_can_be_picked_from_a_slots_list(app):
    press(app, "meta g", "right", "right", "right", "down", "enter", "-- do", "enter")
    assert app.screens["disks"].fields["slot0"].input.value is None
    assert app.dialog is None


def test_while_installing_the_progress_screen_follows_the_install_log(wizard, tmp_path):
    log = tmp_path / "install.log"
    log.write_text("".join(f"$ command {i}\n  | output {i}\n" for i in range(40)))
    app = WizardApp(wizard, Options(license_text="EULA", log_path=str(log)), installer=lambda config, emit: None)
    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.email = "root@lab.example"
    wizard.state.erase_confirmed = True
    wizard.state.accepted_license = True
    app.show_step(5)
    press(app, "meta i")
    app.tail_log()
    text = screen_text(app)
    assert "$ command 39" in text and "  | output 39" in text and "$ command 30" not in text


def test_the_engine_behind_the_wizard_runs_every_phase_in_its_own_dry_run(wizard, tmp_path):
    import threading

    from installer.tui.install import engine_installer

    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.email = "root@lab.example"
    wizard.state.erase_confirmed = True
    wizard.state.accepted_license = True
    engine = engine_installer(wizard.hardware, tmp_path / "install.log", dry_run=True)
    finished = threading.Event()

    def installer(config, emit):
        engine(config, emit)
        finished.set()

    app = WizardApp(wizard, Options(license_text="EULA", log_path=str(tmp_path / "install.log")),
                    installer=installer)
    app.show_step(5)
    press(app, "meta i")
    assert finished.wait(60)
    app._drain()
    text = screen_text(app)
    assert app.finish is not None and app.finish.ok, text
    assert "Installation finished" in text
    assert "install-test-pw" not in (tmp_path / "install.log").read_text()


def test_install_checks_every_step_again_and_returns_to_the_first_with_a_problem(wizard):
    app = WizardApp(wizard, Options(license_text="EULA"), on_install=lambda config: [])
    wizard.state.accepted_license = True
    wizard.state.password = wizard.state.password_confirm = "install-test-pw"
    wizard.state.erase_confirmed = True           # but the email is still the placeholder
    app.show_step(5)
    press(app, "meta i")
    assert step_title(app) == "Administration password and email address"
    assert app.progress is None
    assert "! 'mail@example.invalid' is the placeholder address" in screen_text(app)
