"""From a Proxmox keymap id ("de-ch") to the XKB layout of /etc/default/keyboard and the VNC keymap name.

The table belongs to the answer file (`answerfile.locales.KEYBOARDS`, which also validates `keyboard`); an id
the table does not know (a config saved by hand) falls back to the id's first part as the XKB layout.
"""

from __future__ import annotations

from answerfile.locales import KEYBOARDS
from installer.target.render.system import XkbLayout


def xkb_layout(keymap: str) -> XkbLayout:
    entry = KEYBOARDS.get(keymap)
    if entry is None:
        return XkbLayout(keymap.partition("-")[0], "", None)
    return XkbLayout(entry.xkb_layout, entry.xkb_variant, entry.kvm or None)
