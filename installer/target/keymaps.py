"""From a Proxmox keymap id ("de-ch") to the XKB layout of /etc/default/keyboard and the VNC keymap name.

The table itself belongs to the answer file (it validates `keyboard`); this module only adapts it, with a
fallback for the plain cases so the target is still configured when the table is not importable.
"""

from __future__ import annotations

from installer.target.render.system import XkbLayout


def xkb_layout(keymap: str) -> XkbLayout:
    entry = _table_entry(keymap)
    if entry is not None:
        return entry
    if keymap in ("en-us", "us"):
        return XkbLayout("us", "", "en-us")
    layout = keymap.partition("-")[0]
    return XkbLayout(layout, "", keymap)


def _table_entry(keymap: str) -> XkbLayout | None:
    try:
        from answerfile import keymaps  # type: ignore[attr-defined]
    except ImportError:
        return None
    lookup = getattr(keymaps, "lookup", None)
    entry = lookup(keymap) if lookup else getattr(keymaps, "KEYMAPS", {}).get(keymap)
    if entry is None:
        return None
    return XkbLayout(layout=entry.x11, variant=entry.x11var or "", kvm=entry.kvm or None)
