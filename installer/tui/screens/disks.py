"""Step 2: filesystem, target disks (one slot per disk for RAID), their options, and a live preview of the plan."""

from __future__ import annotations

from collections.abc import Sequence

import urwid

from installer.core.config import Filesystem
from installer.core.hardware import Disk, ExistingContent
from installer.tui import preview
from installer.tui.controls import LABEL_WIDTH, ChoiceField, Field, MnemonicButton, ScrollPane, edit, heading, note
from installer.tui.model import (
    BTRFS_COMPRESS,
    DO_NOT_USE,
    FS_CHOICES,
    ZFS_CHECKSUM,
    ZFS_COMPRESS,
    Problem,
    Wizard,
    format_size,
)
from installer.tui.screens.base import Host, Screen

WIDE_COLUMNS = 160       # from this width the preview (80 columns of plan) sits beside the options
PREVIEW_WIDTH = 82
EXISTING_KIND = {
    "partition-table": "partition table",
    "partition": "partition",
    "filesystem": "filesystem",
    "lvm-pv": "LVM PV",
    "zfs-member": "ZFS pool member",
    "md-member": "md RAID member",
    "btrfs-member": "Btrfs member",
    "luks": "LUKS",
}
LVM_FIELDS = (
    ("hdsize", "Total size (hdsize)", "GiB"),
    ("swapsize", "Swap size", "GiB, empty = auto"),
    ("maxroot", "Max root volume", "GiB, empty = auto"),
    ("maxvz", "Max data volume", "GiB, empty = auto"),
    ("minfree", "Min free LVM space", "GiB, empty = auto"),
)


def disk_label(disk: Disk) -> str:
    """One line per disk for the selectors: name, size, model, bus."""
    bus = disk.bus or "?"
    return f"{disk.name:<9} {format_size(disk.size_bytes):>11}  {disk.model[:24]:<24} {bus}"


def existing_summary(items: Sequence[ExistingContent]) -> str:
    """What a disk holds now, in a few words: "gpt, LVM PV (pve), ext4"."""
    words: list[str] = []
    for item in items:
        if item.kind == "partition":
            continue
        what = item.detail if item.kind in ("partition-table", "filesystem") and item.detail else \
            EXISTING_KIND[item.kind]
        if item.group:
            what += f" ({item.group})"
        if what not in words:
            words.append(what)
    return ", ".join(words) if words else "empty"


class DisksScreen(Screen):
    step = "disks"
    title = "Target disks and options"

    def __init__(self, wizard: Wizard, host: Host | None = None):
        self.preview_pane = ScrollPane()
        self._fs_field: Field | None = None
        self._slots: list[tuple[Field, urwid.WidgetPlaceholder]] = []
        self._holds: dict[str | None, urwid.Widget] = {}
        self._setting_hdsize = False
        self._preview_key: object = None
        super().__init__(wizard, host)

    def build(self) -> urwid.Widget:
        title = "Plan preview (Tab into it, arrows scroll)"
        self._narrow = urwid.Pile([("weight", 3, self.listbox),
                                   ("pack", urwid.AttrMap(urwid.Text(f"--- {title} " + "-" * 40, wrap="clip"),
                                                          "hint")),
                                   ("weight", 2, self.preview_pane)])
        self._wide = urwid.Columns([("weight", 1, self.listbox),
                                    (PREVIEW_WIDTH, urwid.LineBox(self.preview_pane, title=title))],
                                   dividechars=1)
        self._layout = urwid.WidgetPlaceholder(self._narrow)
        return self._layout

    def _choose_layout(self, size: tuple[int, ...]) -> None:
        wanted = self._wide if size and size[0] >= WIDE_COLUMNS else self._narrow
        if self._layout.original_widget is not wanted:
            self._layout.original_widget = wanted

    def render(self, size: tuple[int, ...], focus: bool = False) -> urwid.Canvas:
        self._choose_layout(size)
        self._update_preview()
        return super().render(size, focus)

    def keypress(self, size: tuple[int, ...], key: str) -> str | None:
        self._choose_layout(size)
        return super().keypress(size, key)

    def buttons(self) -> Sequence[MnemonicButton]:
        if self.state.fs.multi_disk and len(self.wizard.hardware.target_disks) > 3:
            return (MnemonicButton("_Deselect all", self.deselect_all),)
        return ()

    # ---- widgets ------------------------------------------------------------------------------------------

    def load(self) -> None:
        state = self.state
        self.wizard.follow_disks(state)
        self.fields = {}
        if self._fs_field is None:
            # built once: with dozens of disks, building the slot rows is the costly part of a redraw
            self._fs_field = Field("fs", "Filesystem", ChoiceField([(c, c.label) for c in FS_CHOICES], state.fs,
                                                                   self.chooser("Filesystem")))
            urwid.connect_signal(self._fs_field.input, "change", self._fs_changed)
        self._fs_field.input.set_value(state.fs, notify=False)
        self.fields["fs"] = self._fs_field
        items: list[urwid.Widget] = [self._fs_field]
        if state.fs.multi_disk:
            if state.fs.raid == "RAID10":
                items.append(heading("Disks: RAID10 mirrors Harddisk 0+1, 2+3, ... in this order"))
            else:
                items.append(heading(f"Disks: one slot per disk; {DO_NOT_USE} leaves a slot out"))
            for i, (field, holds) in enumerate(self._slot_rows()):
                field.input.set_value(state.slots[i], notify=False)
                holds.original_widget = self._existing_line(state.slots[i])
                self.fields[field.name] = field
                items += [field, holds]
        else:
            disks = self.wizard.hardware.target_disks
            choice = ChoiceField([(d.path, disk_label(d)) for d in disks], state.lvm_disk,
                                 self.chooser("Target harddisk"))
            urwid.connect_signal(choice, "change", self._changed)
            items.append(self._field("disk", "Target harddisk", choice))
            items.append(urwid.WidgetPlaceholder(self._existing_line(state.lvm_disk)))
        self.disk_problems = urwid.Text("")
        items.append(self.disk_problems)
        items.append(heading("Options"))
        items += self._option_fields()
        self.walker[:] = items
        self.walker.set_focus(0)
        self._preview_key = None

    def _slot_rows(self) -> list[tuple[Field, urwid.WidgetPlaceholder]]:
        if not self._slots:
            disks = self.wizard.hardware.target_disks
            options = [(d.path, disk_label(d)) for d in disks] + [(None, DO_NOT_USE)]
            for i in range(len(self.state.slots)):
                choice = ChoiceField(options, None, self.chooser(f"Harddisk {i}"))
                urwid.connect_signal(choice, "change", self._changed)
                holds = urwid.WidgetPlaceholder(urwid.Pile([]))
                self._slots.append((Field(f"slot{i}", f"Harddisk {i}", choice), holds))
        return self._slots

    def _field(self, name: str, label: str, widget: urwid.Widget, hint: str = "") -> Field:
        field = Field(name, label, widget, hint)
        self.fields[name] = field
        return field

    def _existing_line(self, path: str | None) -> urwid.Widget:
        if path not in self._holds:   # one widget per disk, made once: dozens of slots redraw on every change
            disk = self.wizard.disk(path)
            self._holds[path] = urwid.Pile([]) if disk is None else urwid.Columns(   # an unused slot: no row
                [(LABEL_WIDTH, urwid.Text("")), urwid.Text(("hint", f"holds: {existing_summary(disk.existing)}"))],
                dividechars=1)
        return self._holds[path]

    def _option_fields(self) -> list[urwid.Widget]:
        state = self.state
        fs = state.fs.filesystem
        out: list[urwid.Widget] = []
        if fs == Filesystem.ZFS:
            out.append(note("ZFS is not compatible with hardware RAID controllers, for details see the "
                            "documentation."))
            out.append(self._edit("ashift", "ashift", state.ashift))
            out.append(self._choice("zfs_compress", "compress", ZFS_COMPRESS, state.zfs_compress))
            out.append(self._choice("checksum", "checksum", ZFS_CHECKSUM, state.checksum))
            out.append(self._edit("copies", "copies", state.copies, "1-3"))
            out.append(self._edit("arc_max", "ARC max size", state.arc_max, "MiB"))
            out.append(self._edit("hdsize", "hdsize", state.hdsize, "GiB per disk"))
        elif fs == Filesystem.BTRFS:
            out.append(note("Btrfs as the root filesystem is a technology preview."))
            out.append(self._choice("btrfs_compress", "compress", BTRFS_COMPRESS, state.btrfs_compress))
            out.append(self._edit("hdsize", "hdsize", state.hdsize, "GiB per disk"))
        else:
            out += [self._edit(name, label, getattr(state, name), hint) for name, label, hint in LVM_FIELDS]
        return out

    def _edit(self, name: str, label: str, value: str, hint: str = "") -> Field:
        widget = edit(value)
        if name == "hdsize":
            urwid.connect_signal(widget, "postchange", self._hdsize_typed)
        urwid.connect_signal(widget, "postchange", lambda *_: self._changed())
        return self._field(name, label, widget, hint)

    def _choice(self, name: str, label: str, values: Sequence[str], value: str) -> Field:
        widget = ChoiceField([(v, v) for v in values], value, self.chooser(label))
        urwid.connect_signal(widget, "change", self._changed)
        return self._field(name, label, widget)

    # ---- state ----------------------------------------------------------------------------------------

    def store(self) -> None:
        state = self.state
        f = self.fields
        if state.fs.multi_disk:
            state.slots = [f[f"slot{i}"].input.value for i in range(len(state.slots))]
        else:
            state.lvm_disk = f["disk"].input.value
        for name in ("hdsize", "swapsize", "maxroot", "minfree", "maxvz", "ashift", "copies", "arc_max"):
            if name in f:
                setattr(state, name, f[name].input.edit_text)
        for name in ("zfs_compress", "checksum", "btrfs_compress"):
            if name in f:
                setattr(state, name, f[name].input.value)

    def _fs_changed(self, _field: ChoiceField, choice: object) -> None:
        self.store()
        self.state.fs = choice
        self.wizard.reset_fs_options(self.state)
        self.load()
        self.host.refresh()

    def _changed(self, *_args: object) -> None:
        if self._setting_hdsize:
            return
        self.store()
        if self.state.hdsize_auto and "hdsize" in self.fields:
            self.wizard.follow_disks(self.state)
            self._setting_hdsize = True
            self.fields["hdsize"].input.set_edit_text(self.state.hdsize)
            self._setting_hdsize = False
        self._preview_key = None
        self._refresh_existing()

    def _hdsize_typed(self, *_args: object) -> None:
        if not self._setting_hdsize:
            self.state.hdsize_auto = False

    def _refresh_existing(self) -> None:
        """Keep each disk's "holds:" line under its selector."""
        for index, widget in enumerate(self.walker):
            if isinstance(widget, Field) and (widget.name.startswith("slot") or widget.name == "disk"):
                holds, line = self.walker[index + 1], self._existing_line(widget.input.value)
                if holds.original_widget is not line:
                    holds.original_widget = line

    def deselect_all(self) -> None:
        self.store()
        self.state.slots = [None] * len(self.state.slots)
        self.load()
        self.walker.set_focus(self._index_of("slot0"))

    def _index_of(self, name: str) -> int:
        return next(i for i, w in enumerate(self.walker) if isinstance(w, Field) and w.name == name)

    def validate(self) -> list[Problem]:
        problems = super().validate()
        if not problems:
            problems = self.wizard.plan_problems()
            self.show_problems(problems)
        return problems

    def show_problems(self, problems: Sequence[Problem]) -> None:
        super().show_problems(problems)
        disk_msgs = [p.message for p in problems if p.field == "disks"]
        self.disk_problems.set_text([("error", f"! {m}\n") for m in disk_msgs] if disk_msgs else "")
        if disk_msgs:
            self.walker.set_focus(1)

    def _update_preview(self) -> None:
        if self._preview_key is not None:
            return
        self._preview_key = True
        self.preview_pane.set_markup(preview.describe(self.wizard))
