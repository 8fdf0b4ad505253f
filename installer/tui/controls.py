"""The wizard's building blocks: buttons with a mnemonic, choice fields, and labelled fields that show a problem."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import urwid

LABEL_WIDTH = 22
EDIT_WIDTH = 34


def mnemonic_markup(label: str) -> list[Any]:
    """"_Next" -> markup with the N underlined (attribute `mnemonic`); the underscore marks the key."""
    before, mark, after = label.partition("_")
    if not mark or not after:
        return [label]
    return [before, ("mnemonic", after[0]), after[1:]]


def mnemonic_key(label: str) -> str | None:
    _, mark, after = label.partition("_")
    return after[0].lower() if mark and after else None


class MnemonicButton(urwid.WidgetWrap):
    """A button drawn as `< Next >` whose marked letter (Alt+letter, or the letter alone when no text field
    has focus) presses it from anywhere on its screen."""

    def __init__(self, label: str, on_press: Callable[[], None]):
        self.label = label
        self.key = mnemonic_key(label)
        self.on_press = on_press
        self._button = urwid.Button(mnemonic_markup(label), on_press=lambda _b: on_press())
        width = len(label.replace("_", "", 1)) + 4
        super().__init__(urwid.AttrMap(self._button, "button",
                                       {"button": "button focus", "mnemonic": "mnemonic focus", None: "button focus"}))
        self.width = width

    @property
    def text(self) -> str:
        return self.label.replace("_", "", 1)


class ChoiceField(urwid.WidgetWrap):
    """One value out of a list: Left/Right (or -/+) step through it, Enter opens the full list when the
    wizard provides an opener (long lists: countries, time zones), otherwise Enter steps too."""

    signals: ClassVar[list[str]] = ["change"]

    def __init__(self, options: Sequence[tuple[Any, str]], value: Any,
                 opener: Callable[[ChoiceField], None] | None = None):
        self.options = list(options)
        self.opener = opener
        self._value = value
        self._text = urwid.Text("", wrap="clip")
        super().__init__(urwid.AttrMap(urwid.Columns([self._text, (3, urwid.Text("[v]"))]), "field",
                                       "field focus"))
        self._refresh()

    @property
    def value(self) -> Any:
        return self._value

    def set_value(self, value: Any, *, notify: bool = True) -> None:
        changed = value != self._value
        self._value = value
        self._refresh()
        if changed and notify:
            urwid.emit_signal(self, "change", self, value)

    def set_options(self, options: Sequence[tuple[Any, str]], value: Any) -> None:
        self.options = list(options)
        self.set_value(value, notify=False)

    def label_of(self, value: Any) -> str:
        return next((label for v, label in self.options if v == value), str(value))

    def _refresh(self) -> None:
        self._text.set_text(self.label_of(self._value))

    def selectable(self) -> bool:
        return True

    def _index(self) -> int:
        return next((i for i, (v, _) in enumerate(self.options) if v == self._value), 0)

    def keypress(self, size: tuple[int, ...], key: str) -> str | None:
        if not self.options:
            return key
        if key in ("right", "+", " "):
            self.set_value(self.options[(self._index() + 1) % len(self.options)][0])
        elif key in ("left", "-"):
            self.set_value(self.options[(self._index() - 1) % len(self.options)][0])
        elif key == "enter":
            if self.opener:
                self.opener(self)
            else:
                self.set_value(self.options[(self._index() + 1) % len(self.options)][0])
        else:
            return key
        return None

    def mouse_event(self, size: tuple[int, ...], event: str, button: int, col: int, row: int,
                    focus: bool) -> bool:
        if event == "mouse press" and button == 1 and self.opener:
            self.opener(self)
            return True
        return False


class Field(urwid.WidgetWrap):
    """A label, an input widget and an optional hint on one line; a problem shows on the line below and
    marks the label, so it is visible without colour."""

    def __init__(self, name: str, label: str, widget: urwid.Widget, hint: str = ""):
        self.name = name
        self.label = label
        self.input = widget
        self._label = urwid.Text(label)
        self._label_map = urwid.AttrMap(self._label, "label")
        inner: Any = widget if isinstance(widget, ChoiceField) else urwid.AttrMap(widget, "field", "field focus")
        if isinstance(widget, urwid.Edit):
            inner = (EDIT_WIDTH, inner)
        columns: list[Any] = [(LABEL_WIDTH, self._label_map), inner]
        if hint:
            columns.append((len(hint) + 1, urwid.Text(("hint", " " + hint))))
        self._row = urwid.Columns(columns, dividechars=1)
        self._message = urwid.Text("")
        self._error: urwid.Widget | None = None   # the problem row, made when first needed (64-disk machines)
        self._pile = urwid.Pile([self._row])
        super().__init__(self._pile)

    def set_error(self, message: str | None) -> None:
        has_row = len(self._pile.contents) > 1
        if not message and not has_row:
            return
        self._message.set_text(("error", f"! {message}") if message else "")
        self._label.set_text(f"! {self.label}" if message else self.label)
        self._label_map.set_attr_map({None: "error" if message else "label"})
        if message and not has_row:
            if self._error is None:
                self._error = urwid.Columns([(LABEL_WIDTH, urwid.Text("")), self._message], dividechars=1)
            self._pile.contents.append((self._error, self._pile.options()))
        elif not message and has_row:
            self._pile.contents.pop()
        self._pile.focus_position = 0


class LineEdit(urwid.Edit):
    """A text field with the line-editing keys serial-console users expect: Ctrl-U clears before the cursor,
    Ctrl-K after it, Ctrl-A/Ctrl-E jump to the start/end."""

    def keypress(self, size: tuple[int, ...], key: str) -> str | None:
        text, pos = self.edit_text, self.edit_pos
        if key == "ctrl u":
            self.set_edit_text(text[pos:])
            self.set_edit_pos(0)
        elif key == "ctrl k":
            self.set_edit_text(text[:pos])
        elif key == "ctrl a":
            self.set_edit_pos(0)
        elif key == "ctrl e":
            self.set_edit_pos(len(text))
        else:
            return super().keypress(size, key)
        return None


def edit(text: str, *, mask: str | None = None) -> urwid.Edit:
    return LineEdit("", edit_text=text, mask=mask)


def heading(text: str) -> urwid.Widget:
    return urwid.AttrMap(urwid.Text(text), "heading")


def note(text: str, attr: str = "hint") -> urwid.Widget:
    return urwid.Text((attr, text))


class ScrollPane(urwid.ListBox):
    """Read-only text that takes focus so arrows and PgUp/PgDn scroll it (the plan preview)."""

    def __init__(self) -> None:
        self._rows: list[urwid.Text] = [urwid.Text("")]
        self._walker = urwid.SimpleFocusListWalker(list(self._rows))
        super().__init__(self._walker)

    def selectable(self) -> bool:
        return True

    def set_markup(self, markup: Any) -> None:
        """Show `markup` (a string, or a list of strings and (attr, string) pairs) one line per row."""
        lines: list[list[Any]] = [[]]
        for part in markup if isinstance(markup, list) else [markup]:
            attr, text = part if isinstance(part, tuple) else (None, part)
            for i, chunk in enumerate(text.split("\n")):
                if i:
                    lines.append([])
                if chunk:
                    lines[-1].append((attr, chunk) if attr else chunk)
        while len(lines) > 1 and not lines[-1]:
            lines.pop()
        while len(self._rows) < len(lines):   # rows are reused: building hundreds of Text widgets is slow
            self._rows.append(urwid.Text(""))
        for row, line in zip(self._rows, lines, strict=False):
            row.set_text(line or "")
        self._walker[:] = self._rows[:len(lines)]
        self._walker.set_focus(0)
