"""The palette must work without colour: on a monochrome serial terminal only the mono column applies."""

from __future__ import annotations

import pytest

from installer.tui.palette import PALETTE

MONO = {name: mono for name, _fg, _bg, mono in PALETTE}


@pytest.mark.parametrize("name", ["field focus", "button focus", "mnemonic focus", "progress done", "header"],
                         ids=lambda n: f"{n} is reverse video")
def test_focus_and_progress_are_reverse_video_without_colour(name):
    assert "standout" in MONO[name]


@pytest.mark.parametrize("name", ["error", "field error", "warning"], ids=lambda n: f"{n} is bold")
def test_problems_are_bold_without_colour(name):
    assert "bold" in MONO[name]


def test_mnemonics_are_underlined_without_colour():
    assert "underline" in MONO["mnemonic"]


def test_focused_and_unfocused_fields_look_different_without_colour():
    assert MONO["field"] != MONO["field focus"] and MONO["button"] != MONO["button focus"]
