"""Step 7: the install running: overall bar, current phase, and the last lines of its messages."""

from __future__ import annotations

from collections import deque

import urwid

from installer.core.events import Event
from installer.tui.controls import heading

LOG_LINES = 12


class ProgressScreen(urwid.WidgetWrap):
    """Fed engine events by the app (`handle`); shows nothing it was not told."""

    title = "Installing"

    def __init__(self, log_lines: int = LOG_LINES):
        self.bar = urwid.ProgressBar("progress", "progress done", 0, 1000)
        self.phase = urwid.Text("Starting ...")
        self.lines: deque[tuple[str, str]] = deque(maxlen=log_lines)
        self.log = urwid.Text("")
        self.finished: Event | None = None
        self.following_log = False
        body = urwid.Pile([
            urwid.Divider(),
            self.phase,
            urwid.Divider(),
            self.bar,
            urwid.Divider(),
            heading("Recent messages (the full log is on tty2)"),
            self.log,
        ])
        super().__init__(urwid.Filler(body, valign="top"))

    def handle(self, event: Event) -> None:
        self.bar.set_completion(int(event.ratio * 1000))
        match event.type:
            case "phase":
                self.phase.set_text(("heading", event.text))
                self._add("label", event.text)
            case "progress":
                if event.text:
                    self.phase.set_text(("heading", f"{event.phase}: {event.text}"))
            case "message":
                self._add("label", event.text)
            case "warning":
                self._add("warning", f"warning: {event.text}")
            case "error":
                self._add("error", f"error: {event.text}")
            case "finished":
                self.finished = event
                self._add("ok" if event.ok else "error", event.text)

    def show_log(self, lines: list[str]) -> None:
        """Show the install log's last lines (commands and their output) instead of the event messages."""
        self.following_log = True
        self.log.set_text("\n".join(line[:200] for line in lines[-self.lines.maxlen:]) if self.lines.maxlen else "")

    def _add(self, attr: str, text: str) -> None:
        for line in text.splitlines() or [""]:
            self.lines.append((attr, line))
        if not self.following_log or attr == "error":
            self.log.set_text([(a, f"{t}\n") for a, t in self.lines] or "")
