"""Step 1: the license text of the install medium, start-up warnings, and "I agree"."""

from __future__ import annotations

from pathlib import Path

import urwid

from installer.core.hardware import HardwareProfile
from installer.tui.controls import heading, note
from installer.tui.model import Wizard
from installer.tui.screens.base import Host, Screen

EULA_PATHS = (Path("/run/live/medium/EULA"), Path("/run/live/medium/keel/EULA"))
BUILTIN_LICENSE = """\
Keel is free software: you can redistribute it and/or modify it under the terms of the GNU Affero General \
Public License as published by the Free Software Foundation, either version 3 of the License, or (at your \
option) any later version.

The installed system consists of Debian packages, each under its own license; see \
/usr/share/doc/*/copyright on the installed system.

This software comes WITHOUT ANY WARRANTY, to the extent permitted by applicable law. Installing erases the \
disks you select on the next screens."""


def startup_warnings(hardware: HardwareProfile) -> list[str]:
    """What Proxmox warns about before the first question: too little memory, no hardware virtualisation."""
    warnings = []
    if hardware.memory_mib < 1024:
        warnings.append("Less than 1 GiB of usable memory detected, installation will probably fail.")
    if not hardware.hvm:
        warnings.append("No support for hardware-accelerated KVM virtualization detected. "
                        "Check BIOS settings for Intel VT / AMD-V / SVM.")
    return warnings


def read_license(path: Path | None = None) -> str:
    for candidate in (path, *EULA_PATHS):
        if candidate and candidate.is_file():
            return candidate.read_text(errors="replace")
    return BUILTIN_LICENSE


class LicenseScreen(Screen):
    step = "license"
    title = "License agreement"
    next_label = "I a_gree"
    can_go_back = False

    def __init__(self, wizard: Wizard, host: Host | None = None, text: str | None = None):
        self.text = text if text is not None else read_license()
        super().__init__(wizard, host)

    def load(self) -> None:
        items: list[urwid.Widget] = [urwid.AttrMap(urwid.Text(("warning", f"Warning: {w}")), "warning")
                                     for w in startup_warnings(self.wizard.hardware)]
        if items:
            items.append(urwid.Divider())
        items.append(heading("End-user license agreement"))
        items += self._paragraphs()
        items += [urwid.Divider(), note("Up/Down and PgUp/PgDn scroll; \"I agree\" (Alt+G) continues.")]
        self.walker[:] = items
        self.walker.set_focus(0)

    def _paragraphs(self) -> list[urwid.Widget]:
        out: list[urwid.Widget] = []
        for paragraph in self.text.strip().split("\n\n"):
            if out:
                out.append(urwid.Divider())
            out.append(urwid.Text(paragraph.strip()))
        return out

    def store(self) -> None:
        self.state.accepted_license = True
