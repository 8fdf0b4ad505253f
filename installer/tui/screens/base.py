"""What every wizard screen has: its step name, its fields, loading and storing the state, marking problems."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import urwid

from installer.tui.controls import ChoiceField, Field, MnemonicButton
from installer.tui.model import Problem, Wizard, WizardState


class Host(Protocol):
    """What a screen may ask of the app around it."""

    def open_choice(self, field: ChoiceField, title: str) -> None: ...

    def apply_keyboard(self, kmap: str) -> None: ...

    def refresh(self) -> None: ...


class NullHost:
    """A host for screens driven on their own (tests, captures): choice lists step instead of popping up."""

    def open_choice(self, field: ChoiceField, title: str) -> None:
        field.keypress((0,), "right")

    def apply_keyboard(self, kmap: str) -> None:
        pass

    def refresh(self) -> None:
        pass


class Screen(urwid.WidgetWrap):
    """A wizard step. Subclasses build `self.fields` and the body, and implement load/store."""

    step = ""
    title = ""
    next_label = "_Next"
    can_go_back = True

    def __init__(self, wizard: Wizard, host: Host | None = None):
        self.wizard = wizard
        self.host: Host = host or NullHost()
        self.fields: dict[str, Field] = {}
        self.walker = urwid.SimpleFocusListWalker([])
        self.listbox = urwid.ListBox(self.walker)
        self.problems: list[Problem] = []
        super().__init__(self.build())
        self.load()

    @property
    def state(self) -> WizardState:
        return self.wizard.state

    def build(self) -> urwid.Widget:
        return self.listbox

    def buttons(self) -> Sequence[MnemonicButton]:
        """Buttons of this screen besides Back/Next/Abort (e.g. "Deselect all")."""
        return ()

    def load(self) -> None:
        """Show the state's values in the widgets."""

    def store(self) -> None:
        """Write the widgets' values into the state."""

    def chooser(self, title: str) -> Callable[[ChoiceField], None]:
        """The opener for a ChoiceField: the app shows its full list as a dialog."""
        return lambda field: self.host.open_choice(field, title)

    def show_problems(self, problems: Sequence[Problem]) -> None:
        """Mark each field with its first problem, clear the others, and focus the first marked field."""
        self.problems = list(problems)
        first: dict[str, str] = {}
        for p in problems:
            first.setdefault(p.field, p.message)
        for name, field in self.fields.items():
            field.set_error(first.get(name))
        for index, widget in enumerate(self.walker):
            if isinstance(widget, Field) and widget.name in first and widget.selectable():
                self.walker.set_focus(index)
                break

    def validate(self) -> list[Problem]:
        self.store()
        problems = self.wizard.problems(self.step)
        self.show_problems(problems)
        return problems
