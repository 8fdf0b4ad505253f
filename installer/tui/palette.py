"""The wizard's colours, chosen so every distinction also survives on a monochrome serial terminal.

Each entry is (name, 16-colour fg, 16-colour bg, mono, 256-colour fg, 256-colour bg). On a monochrome
terminal only the `mono` column applies, so focus is reverse video ("standout"), errors are bold and
mnemonics are underlined: nothing relies on colour alone.
"""

from __future__ import annotations

PALETTE: list[tuple[str, str, str, str]] = [
    ("body", "light gray", "black", ""),
    ("header", "white,bold", "dark blue", "standout"),
    ("step", "light gray", "dark blue", "standout"),
    ("step current", "yellow,bold", "dark blue", "bold,underline"),
    ("heading", "white,bold", "black", "bold"),
    ("label", "light gray", "black", ""),
    ("hint", "dark gray", "black", ""),
    ("field", "white", "dark gray", "underline"),
    ("field focus", "black", "light gray", "standout"),
    ("field error", "white", "dark red", "bold,underline"),
    ("button", "light gray", "black", ""),
    ("button focus", "black", "light gray", "standout"),
    ("mnemonic", "yellow,bold", "black", "underline"),
    ("mnemonic focus", "dark blue,bold", "light gray", "standout,underline"),
    ("error", "light red,bold", "black", "bold"),
    ("warning", "yellow", "black", "bold"),
    ("ok", "light green", "black", ""),
    ("dialog", "black", "light gray", ""),
    ("dialog border", "white", "dark blue", "standout"),
    ("progress", "white", "dark gray", ""),
    ("progress done", "black", "light green", "standout"),
    ("footer", "light gray", "black", ""),
]
