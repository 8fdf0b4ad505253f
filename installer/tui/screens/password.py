"""Step 4: the root password, typed twice, and the administrator's email address."""

from __future__ import annotations

import urwid

from installer.tui.controls import Field, edit, note
from installer.tui.screens.base import Screen


class PasswordScreen(Screen):
    step = "password"
    title = "Administration password and email address"

    def load(self) -> None:
        state = self.state
        self.fields = {
            "password": Field("password", "Root password", edit(state.password, mask="*")),
            "password_confirm": Field("password_confirm", "Confirm password",
                                      edit(state.password_confirm, mask="*")),
            "email": Field("email", "Email", edit(state.email)),
        }
        self.walker[:] = [
            note("The password of the root account (at least 8 characters). The email address receives "
                 "notifications from the installed system."),
            urwid.Divider(),
            *self.fields.values(),
        ]
        self.walker.set_focus(2)

    def store(self) -> None:
        self.state.password = self.fields["password"].input.edit_text
        self.state.password_confirm = self.fields["password_confirm"].input.edit_text
        self.state.email = self.fields["email"].input.edit_text
