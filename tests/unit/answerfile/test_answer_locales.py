"""Locale data: tzdata's zones and countries, and Keel's keyboard table checked against xkb-data."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from installer.core import locales

BASE_LST = Path("/usr/share/X11/xkb/rules/base.lst")


def test_zones_come_from_tzdata_and_include_utc():
    zones = locales.timezones()
    assert {"Europe/Vienna", "America/New_York", "Asia/Tokyo", "UTC"} <= zones
    assert "Europe/Atlantis" not in zones


def test_countries_come_from_iso3166_tab_in_lower_case():
    countries = locales.countries()
    assert countries["at"] == "Austria"
    assert len(countries) > 240
    assert all(len(cc) == 2 and cc.islower() for cc in countries)


def test_country_zones_list_the_zones_of_a_country():
    assert "Europe/Vienna" in locales.country_zones()["at"]


def test_the_25_proxmox_keyboard_ids_are_all_there():
    assert sorted(locales.KEYBOARDS) == sorted([
        "de", "de-ch", "dk", "en-gb", "en-us", "es", "fi", "fr", "fr-be", "fr-ca", "fr-ch", "hu", "is", "it",
        "jp", "lt", "mk", "nl", "no", "pl", "pt", "pt-br", "se", "si", "tr",
    ])


@pytest.mark.skipif(not BASE_LST.is_file(), reason="xkb-data is not installed (make deps installs it)")
@pytest.mark.parametrize("keyboard", sorted(locales.KEYBOARDS))
def test_each_keyboard_maps_to_an_existing_xkb_layout_and_variant(keyboard):
    text = BASE_LST.read_text()
    layouts = text.split("! layout", 1)[1].split("!", 1)[0]
    variants = text.split("! variant", 1)[1].split("!", 1)[0]
    entry = locales.KEYBOARDS[keyboard]
    assert re.search(rf"^  {re.escape(entry.xkb_layout)}\s", layouts, re.MULTILINE)
    if entry.xkb_variant:
        assert re.search(rf"^  {re.escape(entry.xkb_variant)}\s+{re.escape(entry.xkb_layout)}:", variants,
                         re.MULTILINE)


def test_missing_tzdata_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TZDIR", str(tmp_path))
    locales.countries.cache_clear()
    try:
        with pytest.raises(locales.LocaleDataError, match=r"iso3166.tab .*install Debian's tzdata package"):
            locales.countries()
    finally:
        locales.countries.cache_clear()


def test_an_answer_checked_without_tzdata_gets_one_clear_problem(tmp_path, monkeypatch):
    import answerfile
    from keel_testing.compat import EXAMPLES

    monkeypatch.setenv("TZDIR", str(tmp_path))
    locales.countries.cache_clear()
    locales.timezones.cache_clear()
    try:
        problems, _ = answerfile.validate_text((EXAMPLES / "minimal-ext4.toml").read_text())
    finally:
        locales.countries.cache_clear()
        locales.timezones.cache_clear()
    assert len(problems) == 1 and "install Debian's tzdata package" in problems[0].message
