"""Step 3: country, time zone and keyboard layout; a new layout applies to the console at once."""

from __future__ import annotations

import urwid

from installer.tui.controls import ChoiceField, Field, note
from installer.tui.screens.base import Screen


class LocationScreen(Screen):
    step = "location"
    title = "Location, time zone and keyboard"

    def load(self) -> None:
        state = self.state
        locale = self.wizard.locale
        self.country = ChoiceField(locale.countries, state.country, self.chooser("Country"))
        self.timezone = ChoiceField([(z, z) for z in locale.zones_of(state.country)], state.timezone,
                                    self.chooser("Time zone"))
        self.keyboard = ChoiceField(locale.keyboards, state.keyboard, self.chooser("Keyboard layout"))
        urwid.connect_signal(self.country, "change", self._country_changed)
        urwid.connect_signal(self.keyboard, "change", self._keyboard_changed)
        self.fields = {
            "country": Field("country", "Country", self.country),
            "timezone": Field("timezone", "Time zone", self.timezone),
            "keyboard": Field("keyboard", "Keyboard layout", self.keyboard),
        }
        self.walker[:] = [
            note("The country sets the default time zone and keyboard layout. Enter opens a list "
                 "(type to jump), Left/Right step through it."),
            urwid.Divider(),
            *self.fields.values(),
        ]
        self.walker.set_focus(2)

    def store(self) -> None:
        self.state.country = self.country.value
        self.state.timezone = self.timezone.value
        self.state.keyboard = self.keyboard.value

    def _country_changed(self, _field: ChoiceField, country: str) -> None:
        self.wizard.set_country(self.state, country)
        self.timezone.set_options([(z, z) for z in self.wizard.locale.zones_of(country)], self.state.timezone)
        self.keyboard.set_value(self.state.keyboard)

    def _keyboard_changed(self, _field: ChoiceField, kmap: str) -> None:
        self.state.keyboard = kmap
        self.host.apply_keyboard(kmap)
