"""Step 6: every choice in one table, what will be erased, and an explicit confirmation before installing."""

from __future__ import annotations

import urwid

from installer.tui.controls import Field, heading, note
from installer.tui.model import Wizard, format_size
from installer.tui.screens.base import Host, Screen

ROW_LABEL = 18


class SummaryScreen(Screen):
    step = "summary"
    title = "Summary"
    next_label = "_Install"

    def __init__(self, wizard: Wizard, host: Host | None = None, answer_path: str | None = None,
                 dry_run: bool = False):
        self.answer_path = answer_path
        self.dry_run = dry_run
        super().__init__(wizard, host)

    def table_rows(self) -> list[tuple[str, str]]:
        w = self.wizard
        state = w.state
        setup = w.disk_setup()
        nic = w.hardware.nic(state.interface)
        net = w.network()
        sizes = sorted({format_size(d.size_bytes) for d in w.fs_disks()})
        interface = f"{state.interface} ({nic.mac})" if nic else state.interface
        if net.pin_names:
            interface += f", pinned as {net.pin_names.get(nic.mac, '?') if nic else '?'}"
        return [
            ("Filesystem", setup.label),
            ("Disks", f"{', '.join(d.removeprefix('/dev/') for d in setup.disks)} ({', '.join(sizes)})"),
            ("Location", f"{w.locale.country_name(state.country)} ({state.country}), {state.timezone}"),
            ("Keyboard layout", w.locale.keyboard_name(state.keyboard)),
            ("Email", state.email.strip()),
            ("Interface", interface),
            ("Hostname", state.fqdn.strip()),
            ("IP address", net.cidr),
            ("Gateway / DNS", f"{net.gateway} / {net.dns}"),
        ]

    def erase_lines(self) -> list[str]:
        """What the planner says will be destroyed or renamed (the selected disks are erased as a whole)."""
        from installer.storage.plan import PlanError, plan

        try:
            storage = plan(self.wizard.config(), self.wizard.hardware)
        except PlanError as err:
            return [f"! {p}" for p in err.problems]
        except Exception as err:  # a planner bug must not end the wizard; the install re-plans and reports it
            return [f"! the plan could not be computed ({type(err).__name__}: {err})"]
        lines = list(storage.destroy)
        lines += [f"{r.kind} '{r.old}' on other disks is renamed to '{r.new}'" for r in storage.rename]
        return lines

    def load(self) -> None:
        state = self.state
        table = [urwid.Columns([(ROW_LABEL, urwid.Text(("label", label))), urwid.Text(value)])
                 for label, value in self.table_rows()]
        self.reboot = urwid.CheckBox("Automatically reboot after successful installation", state.autoreboot)
        self.erase = urwid.CheckBox("I understand: the data listed above will be erased", state.erase_confirmed)
        self.fields = {"erase": Field("erase", "Confirm", urwid.AttrMap(self.erase, "button", "button focus"))}
        disks = ", ".join(d.removeprefix("/dev/") for d in self.wizard.disk_setup().disks)
        erase = [urwid.Text(("warning", f"  {line}")) for line in self.erase_lines()]
        notes = []
        if self.dry_run:
            notes.append("Dry run: writes the configuration, prints the plan, touches no disk.")
        if self.answer_path:
            notes.append(f"Answer file: {self.answer_path}")
        tail = [note(" ".join(notes))] if notes else []
        self.walker[:] = [
            *table,
            heading(f"Will be erased: everything on {disks}"),
            *erase,
            urwid.Divider(),
            urwid.AttrMap(self.reboot, "button", "button focus"),
            self.fields["erase"],
            *tail,
        ]
        self.walker.set_focus(len(table) + len(erase) + 3)

    def store(self) -> None:
        self.state.autoreboot = self.reboot.get_state()
        self.state.erase_confirmed = self.erase.get_state()
