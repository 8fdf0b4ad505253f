"""Step 5: the management interface (links that are up first), FQDN, address, gateway, DNS, name pinning."""

from __future__ import annotations

from collections.abc import Sequence

import urwid

from installer.core.hardware import Nic
from installer.tui.controls import ChoiceField, Field, edit, heading
from installer.tui.model import Problem, sorted_nics
from installer.tui.screens.base import Screen

PIN_LABEL_WIDTH = 36


def nic_label(nic: Nic) -> str:
    """"eno1            UP       b4:2e:99:ac:ad:b4  igb": name, link state, MAC, driver."""
    return f"{nic.name:<15} {nic.state:<7} {nic.mac}  {nic.driver}"


class NetworkScreen(Screen):
    step = "network"
    title = "Management network configuration"

    def load(self) -> None:
        state = self.state
        nics = sorted_nics(self.wizard.hardware)
        self.interface = ChoiceField([(n.name, nic_label(n)) for n in nics], state.interface,
                                     self.chooser("Management interface"))
        self.pin = urwid.CheckBox("Pin network interface names", state.pin_enabled,
                                  on_state_change=lambda _c, on: self._pin_toggled(on))
        self.fields = {
            "interface": Field("interface", "Management interface", self.interface),
            "fqdn": Field("fqdn", "Hostname (FQDN)", edit(state.fqdn)),
            "cidr": Field("cidr", "IP address (CIDR)", edit(state.cidr)),
            "gateway": Field("gateway", "Gateway", edit(state.gateway)),
            "dns": Field("dns", "DNS server", edit(state.dns)),
        }
        self.pin_edits: dict[str, urwid.Edit] = {}
        self.pin_problems = urwid.Text("")
        self.fields["pin_names"] = Field("pin_names", "", urwid.Text(""))
        self.walker[:] = [*list(self.fields.values())[:5], urwid.Divider(),
                          urwid.AttrMap(self.pin, "button", "button focus"), self.pin_problems,
                          *self._pin_rows()]
        self.walker.set_focus(0)

    def _pin_rows(self) -> list[urwid.Widget]:
        if not self.state.pin_enabled:
            return []
        rows: list[urwid.Widget] = [heading("Pinned names (physical NICs; the name stays across reboots)")]
        for nic in sorted(self.wizard.hardware.nics, key=lambda n: int(n.pinned_id or 0)):
            if nic.pinned_id is None:
                continue
            name = self.state.pin_names.get(nic.mac, f"nic{nic.pinned_id}")
            widget = edit(name)
            self.pin_edits[nic.mac] = widget
            label = f"{nic.name} ({nic.mac})"
            rows.append(urwid.Columns([(PIN_LABEL_WIDTH, urwid.Text(label, wrap="clip")),
                                       urwid.AttrMap(widget, "field", "field focus")], dividechars=1))
        return rows

    def _pin_toggled(self, on: bool) -> None:
        self.store()
        self.state.pin_enabled = on
        focus = self.walker.focus
        self.load()
        self.walker.set_focus(focus)

    def store(self) -> None:
        state = self.state
        state.interface = self.interface.value
        for name in ("fqdn", "cidr", "gateway", "dns"):
            setattr(state, name, self.fields[name].input.edit_text)
        state.pin_enabled = self.pin.get_state()
        for mac, widget in self.pin_edits.items():
            state.pin_names[mac] = widget.edit_text

    def show_problems(self, problems: Sequence[Problem]) -> None:
        super().show_problems(problems)
        pins = [p.message for p in problems if p.field == "pin_names"]
        self.pin_problems.set_text([("error", f"! {m}\n") for m in pins] if pins else "")
