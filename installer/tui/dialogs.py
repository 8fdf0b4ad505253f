"""Pop-up dialogs drawn over the wizard: a list to choose from (type to jump) and a yes/no question."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import urwid

from installer.tui.controls import MnemonicButton

CANCELLED = object()   # what a ChoiceDialog reports on Esc (None is a real choice: "-- do not use --")


class _Row(urwid.WidgetWrap):
    def __init__(self, value: Any, label: str):
        self.value = value
        self.label = label
        super().__init__(urwid.AttrMap(urwid.SelectableIcon(f" {label}", 0), "dialog", "button focus"))


class ChoiceDialog(urwid.WidgetWrap):
    """The full list of a ChoiceField: arrows/PgUp/PgDn move, typing jumps to the first entry starting with
    what was typed, Enter takes it, Esc keeps the old value."""

    def __init__(self, title: str, options: Sequence[tuple[Any, str]], current: Any,
                 on_done: Callable[[Any], None]):
        self.on_done = on_done
        self.typed = ""
        self.entries = [_Row(v, label) for v, label in options]
        self.walker = urwid.SimpleFocusListWalker(self.entries)
        index = next((i for i, r in enumerate(self.entries) if r.value == current), 0)
        if self.entries:
            self.walker.set_focus(index)
        self.search = urwid.Text("")
        body = urwid.Frame(urwid.ListBox(self.walker), footer=urwid.AttrMap(self.search, "dialog"))
        self.height = len(self.entries) + 3
        self.width = max(44, max((len(r.label) for r in self.entries), default=10) + 4)
        super().__init__(urwid.AttrMap(urwid.LineBox(body, title=title), "dialog"))
        self._show_typed()

    def _show_typed(self) -> None:
        self.search.set_text(f" find: {self.typed}" if self.typed else " type to find; Enter takes, Esc cancels")

    def keypress(self, size: tuple[int, ...], key: str) -> str | None:
        if key == "esc" or (key == "enter" and not self.entries):
            self.on_done(CANCELLED)
            return None
        if key == "enter":
            self.on_done(self.entries[self.walker.focus].value)
            return None
        if key == "backspace":
            self.typed = self.typed[:-1]
            self._show_typed()
            return None
        if len(key) == 1 and key.isprintable() and (key != " " or self.typed):
            self.typed += key
            needle = self.typed.lower()
            match = next((i for i, r in enumerate(self.entries) if r.label.strip().lower().startswith(needle)), None)
            if match is None:
                match = next((i for i, r in enumerate(self.entries) if needle in r.label.lower()), None)
            if match is not None:
                self.walker.set_focus(match)
            self._show_typed()
            return None
        return super().keypress(size, key)


class QuestionDialog(urwid.WidgetWrap):
    """A question with buttons; each button's marked letter answers it, Esc picks the last (safe) one."""

    def __init__(self, title: str, text: str, answers: Sequence[tuple[str, Callable[[], None]]]):
        self.buttons = [MnemonicButton(label, action) for label, action in answers]
        row = urwid.Columns([(b.width, b) for b in self.buttons], dividechars=2)
        body = urwid.Pile([urwid.Text(text), urwid.Divider(), urwid.Padding(row, "center",
                                                                              sum(b.width + 2 for b in self.buttons))])
        self.width = max(40, min(76, max(len(line) for line in text.splitlines() or [""]) + 4))
        self.height = len(text.splitlines()) + 6 + sum(len(line) // (self.width - 4) for line in text.splitlines())
        super().__init__(urwid.AttrMap(urwid.LineBox(urwid.Filler(body), title=title), "dialog"))
        body.focus_position = 2

    def keypress(self, size: tuple[int, ...], key: str) -> str | None:
        letter = key.removeprefix("meta ")
        for button in self.buttons:
            if button.key and letter.lower() == button.key:
                button.on_press()
                return None
        if key == "esc":
            self.buttons[-1].on_press()
            return None
        return super().keypress(size, key)
