"""Step 8: the result: a reboot countdown after success, or the error with the log path and a debug shell."""

from __future__ import annotations

import urwid

from installer.core.events import Event
from installer.tui.controls import heading, note

REBOOT_SECONDS = 5


class FinishScreen(urwid.WidgetWrap):
    """Shows how the install ended; the app ticks the countdown (`tick`) and acts on the chosen outcome."""

    def __init__(self, event: Event, *, log_path: str, autoreboot: bool, reboot_mode: str = "reboot",
                 dry_run: bool = False, seconds: int = REBOOT_SECONDS, error: Event | None = None):
        self.ok = bool(event.ok)
        self.dry_run = dry_run
        self.autoreboot = autoreboot and self.ok
        self.remaining = seconds
        self.action = "exit" if dry_run else reboot_mode
        self.title = "Installation finished" if self.ok else "Installation failed"
        self.countdown = urwid.Text("")
        rows: list[urwid.Widget] = [urwid.Divider()]
        if self.ok:
            rows.append(heading(event.text or "Installation finished successfully."))
        else:
            # the engine's error event says what failed and how; the finished event only that it did
            rows.append(urwid.Text(("error", error.text if error else event.text)))
            detail = error.detail if error else event.detail
            if detail:
                rows += [urwid.Divider(), urwid.Text(detail)]
            rows += [urwid.Divider(), urwid.Text(f"The full log is in {log_path}."),
                     note("\"Debug shell\" (Alt+D) opens a root shell to look around; \"Reboot\" (Alt+R) "
                          "restarts the machine.")]
        rows += [urwid.Divider(), self.countdown]
        super().__init__(urwid.Filler(urwid.Pile(rows), valign="top"))
        self._show()

    @property
    def verb(self) -> str:
        return {"exit": "Leaving", "power-off": "Powering off", "reboot": "Rebooting"}[self.action]

    def tick(self) -> bool:
        """One second passed; True when the countdown reached zero and the app should act."""
        if not self.autoreboot:
            return False
        self.remaining -= 1
        self._show()
        return self.remaining <= 0

    def _show(self) -> None:
        if self.autoreboot:
            self.countdown.set_text(("warning", f"{self.verb} in {self.remaining} s ..."))
        elif self.ok:
            self.countdown.set_text("Automatic reboot is off: choose \"Reboot now\" when ready.")
