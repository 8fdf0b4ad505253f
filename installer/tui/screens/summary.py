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
        return [
            ("Filesystem", setup.label),
            ("Disks", ", ".join(d.removeprefix("/dev/") for d in setup.disks)),
            ("Country", f"{w.locale.country_name(state.country)} ({state.country})"),
            ("Time zone", state.timezone),
            ("Keyboard layout", f"{w.locale.keyboard_name(state.keyboard)} ({state.keyboard})"),
            ("Email", state.email.strip()),
            ("Interface", f"{state.interface} ({nic.mac})" if nic else state.interface),
            ("Hostname", state.fqdn.strip()),
            ("IP address", net.cidr),
            ("Gateway", net.gateway),
            ("DNS server", net.dns),
            ("Pinned names", "yes (nicN)" if net.pin_names else "no"),
        ]

    def erase_lines(self) -> list[str]:
        """Every selected disk, and what the planner says will be destroyed or renamed."""
        from installer.storage.plan import PlanError, plan

        lines = []
        for path in self.wizard.disk_setup().disks:
            disk = self.wizard.hardware.disk(path)
            if disk:
                lines.append(f"{disk.path} ({format_size(disk.size_bytes)}, {disk.model or 'unknown model'}): "
                             "everything on it")
        try:
            storage = plan(self.wizard.config(), self.wizard.hardware)
        except PlanError as err:
            return lines + [f"! {p}" for p in err.problems]
        lines += list(storage.destroy)
        lines += [f"{r.kind} '{r.old}' on other disks is renamed to '{r.new}'" for r in storage.rename]
        return lines

    def load(self) -> None:
        state = self.state
        table = [urwid.Columns([(ROW_LABEL, urwid.Text(("label", label))), urwid.Text(value)])
                 for label, value in self.table_rows()]
        self.reboot = urwid.CheckBox("Automatically reboot after successful installation", state.autoreboot)
        self.erase = urwid.CheckBox("I understand: the data listed above will be erased", state.erase_confirmed)
        self.fields = {"erase": Field("erase", "Confirm", urwid.AttrMap(self.erase, "button", "button focus"))}
        erase = [urwid.Text(("warning", f"  {line}")) for line in self.erase_lines()]
        tail = []
        if self.answer_path:
            tail.append(note(f"The choices will also be saved as an answer file: {self.answer_path}"))
        if self.dry_run:
            tail.append(note("Dry run: the configuration is written and the plan printed; no disk is touched."))
        self.walker[:] = [
            *table,
            urwid.Divider(),
            heading("Will be erased"),
            *erase,
            urwid.Divider(),
            urwid.AttrMap(self.reboot, "button", "button focus"),
            self.fields["erase"],
            *tail,
        ]
        self.walker.set_focus(len(table) + len(erase) + 4)

    def store(self) -> None:
        self.state.autoreboot = self.reboot.get_state()
        self.state.erase_confirmed = self.erase.get_state()
