"""The wizard app: header with the steps, the current screen, the button bar, dialogs, and the install run.

`WizardApp` is an ordinary urwid widget, so tests drive it with keypress() and render() exactly like the
real terminal does; `run()` wraps it in a MainLoop. Keys: Tab/Shift-Tab and arrows move, Enter presses,
Esc goes back, Alt+letter (or the letter alone outside text fields) presses the button with that mnemonic,
Ctrl-C asks whether to abort.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

import urwid

from installer.core.config import InstallConfig
from installer.core.events import Event
from installer.tui.controls import ChoiceField, MnemonicButton
from installer.tui.dialogs import CANCELLED, ChoiceDialog, QuestionDialog
from installer.tui.model import Problem, Wizard
from installer.tui.palette import PALETTE
from installer.tui.screens.base import Screen
from installer.tui.screens.disks import DisksScreen
from installer.tui.screens.finish import FinishScreen
from installer.tui.screens.license import LicenseScreen
from installer.tui.screens.location import LocationScreen
from installer.tui.screens.network import NetworkScreen
from installer.tui.screens.password import PasswordScreen
from installer.tui.screens.progress import ProgressScreen
from installer.tui.screens.summary import SummaryScreen

STEPS = (
    ("license", "License", LicenseScreen),
    ("disks", "Disks", DisksScreen),
    ("location", "Location", LocationScreen),
    ("password", "Password", PasswordScreen),
    ("network", "Network", NetworkScreen),
    ("summary", "Summary", SummaryScreen),
)
MIN_COLS, MIN_ROWS = 40, 12
LOG_POLL_SECONDS = 1.0
KEYS_HINT = "Tab/arrows: move  Enter: choose  Esc: back  Alt+letter: button  Ctrl-C: abort"
LOG_TAIL_BYTES = 8192

# An install function runs the engine for `config`, handing each event to `emit`; it runs in a thread.
Installer = Callable[[InstallConfig, Callable[[Event], None]], None]


class TerminalScreen(urwid.display.raw.Screen):
    """The terminal, with a size even where the line reports none: a serial console says 0x0 unless someone
    ran `stty rows/cols`; then $LINES/$COLUMNS or 80x24 apply (urwid itself only falls back for vt100/ansi)."""

    def get_cols_rows(self) -> tuple[int, int]:
        cols, rows = super().get_cols_rows()
        if cols <= 0 or rows <= 0:
            cols = int(os.environ.get("COLUMNS") or 0) or 80
            rows = int(os.environ.get("LINES") or 0) or 24
            self.maxrow = rows
        return cols, rows


@dataclass
class Options:
    dry_run: bool = False
    answer_path: str | None = None
    license_text: str | None = None
    log_path: str = "/var/log/keel/install.log"
    reboot_seconds: int = 5


class WizardApp(urwid.WidgetWrap):
    """The whole wizard as one widget. `outcome` is set when it is done: "installed", "aborted",
    "reboot", "power-off", "shell" or "exit" (dry run); `on_exit` is called with it."""

    def __init__(self, wizard: Wizard, options: Options | None = None, *,
                 on_install: Callable[[InstallConfig], None] | None = None,
                 installer: Installer | None = None,
                 keyboard: Callable[[str], None] | None = None,
                 on_exit: Callable[[str], None] | None = None):
        self.wizard = wizard
        self.options = options or Options()
        self.on_install = on_install
        self.installer = installer
        self.keyboard = keyboard
        self.on_exit = on_exit
        self.outcome: str | None = None
        self.message = urwid.Text("")
        self.steps_text = urwid.Text("", wrap="clip")
        self.title = urwid.Text("", wrap="clip")
        self.button_row = urwid.WidgetPlaceholder(urwid.Text(""))
        self.footer = urwid.Pile([urwid.AttrMap(self.message, "footer"), self.button_row])
        header = urwid.Pile([urwid.AttrMap(self.steps_text, "step"), urwid.AttrMap(self.title, "heading"),
                             urwid.AttrMap(urwid.Divider("-"), "hint")])
        self.frame = urwid.Frame(urwid.Text(""), header=header, footer=self.footer)
        self.body = urwid.AttrMap(self.frame, "body")
        self.dialog: urwid.Widget | None = None
        self._dialog_size = (0, 0)
        self.screens: dict[str, Screen] = {}
        self.index = 0
        self.progress: ProgressScreen | None = None
        self.finish: FinishScreen | None = None
        self.events: queue.Queue[Event] = queue.Queue()
        self.loop: urwid.MainLoop | None = None
        self._wake: int | None = None
        self._error: Event | None = None
        self._small_disks_accepted: tuple[str, ...] | None = None
        self.buttons: list[MnemonicButton] = []
        super().__init__(self.body)
        self.show_step(0)

    # ---- Host interface for screens -------------------------------------------------------------------

    def open_choice(self, field: ChoiceField, title: str) -> None:
        def done(value: object) -> None:
            self.close_dialog()
            if value is not CANCELLED:
                field.set_value(value)

        dialog = ChoiceDialog(title, field.options, field.value, done)
        self.open_dialog(dialog, dialog.width, dialog.height)

    def apply_keyboard(self, kmap: str) -> None:
        if self.keyboard:
            self.keyboard(kmap)

    def refresh(self) -> None:
        self._show_buttons()

    # ---- screens --------------------------------------------------------------------------------------

    @property
    def screen(self) -> urwid.Widget:
        return self.frame.body

    def show_step(self, index: int) -> None:
        self.index = index
        step, _label, cls = STEPS[index]
        screen = self.screens.get(step)
        if screen is None:
            kwargs: dict[str, object] = {}
            if cls is LicenseScreen:
                kwargs["text"] = self.options.license_text
            if cls is SummaryScreen:
                kwargs = {"answer_path": self.options.answer_path, "dry_run": self.options.dry_run}
            screen = cls(self.wizard, self, **kwargs)
            self.screens[step] = screen
        elif step == "summary":
            screen.load()   # the summary always shows the current choices
        self.frame.body = screen
        self.frame.focus_position = "body"
        self._set_header(screen.title)
        self.set_message("")
        self._show_buttons()

    def _set_header(self, title: str) -> None:
        parts: list[object] = [" Keel installer  "]
        for i, (_step, label, _cls) in enumerate(STEPS):
            current = i == self.index and self.progress is None
            parts.append(("step current", f"[{label}]") if current else f" {label} ")
        self.steps_text.set_text(parts)
        self.title.set_text(f" {title}")

    def _show_buttons(self) -> None:
        buttons: list[MnemonicButton] = []
        if self.finish is not None:
            buttons = self._finish_buttons()
            left: list[MnemonicButton] = []
        elif self.progress is not None:
            left = []
        else:
            screen = self.screens[STEPS[self.index][0]]
            left = [MnemonicButton("_Abort", self.ask_abort)]
            if screen.can_go_back:
                buttons.append(MnemonicButton("_Back", self.back))
            buttons = [*screen.buttons(), *buttons, MnemonicButton(screen.next_label, self.next)]
        self.buttons = left + buttons
        cols: list[object] = [(b.width, b) for b in left] + [urwid.Text("")] + [(b.width, b) for b in buttons]
        row = urwid.Columns(cols, dividechars=1) if self.buttons else urwid.Text("")
        if self.buttons:
            row.focus_position = len(cols) - 1
        self.button_row.original_widget = row

    def _finish_buttons(self) -> list[MnemonicButton]:
        assert self.finish is not None
        if self.finish.dry_run:
            return [MnemonicButton("_Quit", lambda: self.exit("exit"))]
        action = "power-off" if self.finish.action == "power-off" else "reboot"
        now = MnemonicButton("_Reboot now" if action == "reboot" else "_Power off now", lambda: self.exit(action))
        if self.finish.ok:
            return [now]
        return [MnemonicButton("_Debug shell", lambda: self.exit("shell")), now]

    def set_message(self, text: str, attr: str = "error") -> None:
        """The footer line: a problem or a notice, else the keys (while the wizard asks questions)."""
        if not text and self.progress is None:
            text, attr = KEYS_HINT, "hint"
        self.message.set_text((attr, text) if text else "")

    # ---- navigation -----------------------------------------------------------------------------------

    def next(self) -> None:
        screen = self.screens[STEPS[self.index][0]]
        problems = screen.validate()
        if problems:
            self._report(problems)
            return
        if screen.step == "disks" and self._ask_small_disk():
            return
        if self.index + 1 < len(STEPS):
            self.show_step(self.index + 1)
        elif self._all_steps_pass():
            self.start_install()

    def _all_steps_pass(self) -> bool:
        """Before installing, every step once more: go back to the first one with a problem."""
        for index, (step, _label, _cls) in enumerate(STEPS):
            problems = self.wizard.problems(step) or (self.wizard.plan_problems() if step == "disks" else [])
            if problems:
                self.show_step(index)
                self.screens[step].show_problems(problems)
                self._report(problems)
                return False
        return True

    def _report(self, problems: list[Problem]) -> None:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self.set_message(f"! {problems[0].message}{more}")
        self.frame.focus_position = "body"

    def _ask_small_disk(self) -> bool:
        """Between 2 and 8 GiB a person may go on anyway (Proxmox asks the same); True while asking."""
        setup = self.wizard.disk_setup()
        if self._small_disks_accepted == setup.disks:
            return False
        for disk in self.wizard.fs_disks():
            question = self.wizard.checks.disk_size_warning(disk, hdsize=setup.hdsize)
            if question:
                def accept() -> None:
                    self._small_disks_accepted = setup.disks
                    self.close_dialog()
                    self.next()

                self.ask("Small disk", question, [("_Yes, continue", accept), ("_No", self.close_dialog)])
                return True
        return False

    def back(self) -> None:
        if self.progress is not None or self.index == 0:
            return
        screen = self.screens[STEPS[self.index][0]]
        screen.store()   # Back keeps what was entered, even if it does not pass the checks yet
        self.show_step(self.index - 1)

    def ask(self, title: str, text: str, answers: list[tuple[str, Callable[[], None]]]) -> None:
        dialog = QuestionDialog(title, text, answers)
        self.open_dialog(dialog, dialog.width, dialog.height)

    def ask_abort(self) -> None:
        if self.progress is not None and self.finish is None:
            self.set_message("The installation is running and cannot be stopped safely.", "warning")
            return
        self.ask("Abort", "Abort the installation? Nothing has been written to any disk.",
                 [("_Yes, abort", lambda: self.exit("aborted")), ("_No", self.close_dialog)])

    def exit(self, outcome: str) -> None:
        self.close_dialog()
        self.outcome = outcome
        if self.on_exit:
            self.on_exit(outcome)

    # ---- dialogs --------------------------------------------------------------------------------------

    def open_dialog(self, dialog: urwid.Widget, width: int, height: int) -> None:
        self.dialog = dialog
        self._dialog_size = (width, height)
        self._invalidate()   # the overlay is drawn by render(): urwid's canvas cache must not keep the old one

    def close_dialog(self) -> None:
        self.dialog = None
        self._invalidate()

    def _overlay(self, size: tuple[int, int]) -> urwid.Widget:
        cols, rows = size
        width, height = self._dialog_size
        return urwid.Overlay(self.dialog, self.body, "center", min(width, cols - 2), "middle",
                             min(height, rows - 2))

    # ---- the install ----------------------------------------------------------------------------------

    def start_install(self) -> None:
        config = self.wizard.config()
        self.progress = ProgressScreen()
        self.frame.body = self.progress
        self._set_header(self.progress.title)
        self.set_message("")
        self._show_buttons()
        if self.on_install is not None:
            self.on_install(config)
        if self.installer is not None:
            threading.Thread(target=self._install_thread, args=(config,), daemon=True).start()
            if self.loop is not None:
                self.loop.set_alarm_in(LOG_POLL_SECONDS, self._follow_log)

    def _follow_log(self, *_args: object) -> None:
        """While installing, show the install log's tail (the runner writes it redacted) once a second."""
        if self.progress is None or self.finish is not None:
            return
        self.tail_log()
        if self.loop is not None:
            self.loop.set_alarm_in(LOG_POLL_SECONDS, self._follow_log)

    def tail_log(self) -> None:
        assert self.progress is not None
        try:
            with open(self.options.log_path, "rb") as log:
                log.seek(0, os.SEEK_END)
                log.seek(max(0, log.tell() - LOG_TAIL_BYTES))
                text = log.read().decode(errors="replace")
        except OSError:
            return
        lines = [line for line in text.splitlines()[1:] if line.strip()]
        if lines:
            self.progress.show_log(lines)

    def _install_thread(self, config: InstallConfig) -> None:
        try:
            assert self.installer is not None
            self.installer(config, self._emit_from_thread)
        except Exception as err:  # the engine reports its own failures; this is the last resort
            self._emit_from_thread(Event("finished", text=f"the installer stopped: {err}", ok=False))

    def _emit_from_thread(self, event: Event) -> None:
        self.events.put(event)
        if self.loop is not None and self._wake is not None:
            os.write(self._wake, b".")   # wakes the main loop, which drains the queue in its own thread

    def _drain(self, _data: bytes = b"") -> bool:
        while not self.events.empty():
            self.handle_event(self.events.get())
        return True

    def handle_event(self, event: Event) -> None:
        """Show one engine event; a "finished" event brings the finish screen."""
        assert self.progress is not None
        self.progress.handle(event)
        if event.type == "error":
            self._error = event
        if event.type == "finished":
            config = self.wizard.config()
            self.finish = FinishScreen(event, log_path=self.options.log_path, autoreboot=config.autoreboot,
                                       reboot_mode=config.reboot_mode, dry_run=self.options.dry_run,
                                       seconds=self.options.reboot_seconds, error=self._error)
            self.frame.body = self.finish
            self._set_header(self.finish.title)
            self._show_buttons()
            self.frame.focus_position = "footer"
            if self.loop is not None:
                self.loop.set_alarm_in(1, self._tick)

    def _tick(self, *_args: object) -> None:
        if self.finish is None or self.outcome is not None:
            return
        if self.finish.tick():
            self.exit(self.finish.action)
        elif self.loop is not None and self.finish.autoreboot:
            self.loop.set_alarm_in(1, self._tick)

    # ---- keys and drawing -----------------------------------------------------------------------------

    def render(self, size: tuple[int, int], focus: bool = False) -> urwid.Canvas:
        cols, rows = size
        if cols < MIN_COLS or rows < MIN_ROWS:
            text = urwid.Text(f"Terminal too small ({cols}x{rows}); the installer needs {MIN_COLS}x{MIN_ROWS}.")
            return urwid.Filler(text).render(size, focus)
        if self.dialog is not None:
            return self._overlay(size).render(size, focus)
        return super().render(size, focus)

    def keypress(self, size: tuple[int, int], key: str) -> str | None:
        if self.dialog is not None:
            self._overlay(size).keypress(size, key)
            return None
        if key == "ctrl c":
            self.ask_abort()
            return None
        if key == "esc":
            self.back()
            return None
        if key.startswith("meta ") and self._press_mnemonic(key[5:]):
            return None
        if key in ("tab", "shift tab"):
            return self._tab(size, key)
        rest = super().keypress(size, key)
        if rest is None:
            return None
        if rest == "down" and self.frame.focus_position == "body" and self.buttons:
            self.frame.focus_position = "footer"
            return None
        if rest == "up" and self.frame.focus_position == "footer" and self.progress is None:
            self.frame.focus_position = "body"
            return None
        if len(rest) == 1 and self._press_mnemonic(rest):
            return None
        return rest

    def _press_mnemonic(self, letter: str) -> bool:
        for button in self.buttons:
            if button.key == letter.lower():
                button.on_press()
                return True
        return False

    def _tab(self, size: tuple[int, int], key: str) -> str | None:
        """Tab walks the fields, then the buttons, then wraps around; Shift-Tab goes the other way."""
        forward = key == "tab"
        if self.frame.focus_position == "body":
            if super().keypress(size, "down" if forward else "up") is None:
                return None
            if self.buttons:
                self.frame.focus_position = "footer"
            return None
        row = self.button_row.original_widget
        if isinstance(row, urwid.Columns) and row.keypress((size[0],), "right" if forward else "left") is None:
            return None
        if self.progress is None:
            self.frame.focus_position = "body"
        return None

    # ---- running --------------------------------------------------------------------------------------

    def run(self, screen: urwid.BaseScreen | None = None) -> str:
        """Run in the terminal until the wizard is done; return the outcome."""
        self.loop = urwid.MainLoop(self, PALETTE, screen=screen or TerminalScreen(), handle_mouse=False)
        self._wake = self.loop.watch_pipe(self._drain)
        if hasattr(self.loop.screen, "tty_signal_keys"):
            self.loop.screen.tty_signal_keys(intr="undefined")   # Ctrl-C becomes a key: "Abort installation?"

        def stop(_outcome: str) -> None:
            raise urwid.ExitMainLoop()

        self.on_exit = stop
        try:
            self.loop.run()
        finally:
            os.close(self._wake)
        return self.outcome or "aborted"
