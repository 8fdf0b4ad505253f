"""The checks and locale data the wizard validates with: the answer file's own, reached through one interface.

The wizard must never accept what the answer file would reject, so it holds no rules of its own beyond
what only an interactive form has (a password typed twice, a placeholder it pre-filled). `answerfile_checks()`
binds the interface to the answer-file package and the shared storage rules; tests pass stand-ins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from installer.core.hardware import Disk


@dataclass(frozen=True)
class Locale:
    """The choices of the location screen: (code, name) pairs, zones per country, keyboards."""

    countries: tuple[tuple[str, str], ...]          # ("at", "Austria"), sorted by name
    zones: dict[str, tuple[str, ...]]              # country code -> time zones ("Europe/Vienna", ...)
    keyboards: tuple[tuple[str, str], ...]         # ("de", "German"), Proxmox keymap ids
    country_keyboard: dict[str, str]               # country code -> default keymap id

    def country_name(self, code: str) -> str:
        return next((name for c, name in self.countries if c == code), code)

    def keyboard_name(self, kmap: str) -> str:
        return next((name for k, name in self.keyboards if k == kmap), kmap)

    def zones_of(self, country: str) -> tuple[str, ...]:
        """The zones offered for `country`: its own, then UTC last (as Proxmox does)."""
        return (*self.zones.get(country, ()), "UTC")


@dataclass(frozen=True)
class Checks:
    """Per-field checks returning a message or None, as the answer file words them."""

    fqdn: Callable[[str], str | None]
    email: Callable[[str], str | None]
    password: Callable[[str], str | None]
    cidr: Callable[[str], str | None]
    ip: Callable[[str], str | None]
    timezone: Callable[[str], str | None]
    keyboard: Callable[[str], str | None]
    country: Callable[[str], str | None]
    pin_names: Callable[[dict[str, str]], list[str]]        # MAC -> name; every problem
    disk_selection: Callable[..., list[str]]                # storage.rules.disk_selection_problems
    swap: Callable[[float | None, float | None], str | None]
    disk_size_warning: Callable[..., str | None]
    locale: Callable[[], Locale]


def selection_problems(checks: Checks, filesystem: str, raid: str | None, disks: Sequence[Disk], *,
                       boot_mode: str, hdsize: float | None) -> list[str]:
    """The storage rules for an interactive install (a person may accept a small disk, so not unattended)."""
    return checks.disk_selection(filesystem, raid, disks, boot_mode=boot_mode, unattended=False, hdsize=hdsize)


# The wizard proposes a country's keyboard; where no layout id equals the country code, this says which.
COUNTRY_KEYBOARD = {"at": "de", "li": "de-ch", "ca": "en-us", "ie": "en-gb", "lu": "fr"}


def default_keyboard(country: str, keyboards: dict[str, str]) -> str:
    """The layout proposed for `country`: an override, the id equal to the code ("de", "it"), the id whose
    xkb layout is the code ("gb" -> "en-gb", "br" -> "pt-br"), else en-us. `keyboards` maps id -> xkb layout."""
    if country in COUNTRY_KEYBOARD:
        return COUNTRY_KEYBOARD[country]
    if country in keyboards:
        return country
    return next((kid for kid, layout in keyboards.items() if layout == country), "en-us")


def pin_mapping_problems(mapping: dict[str, str]) -> list[str]:
    """Each pinned name checked as the answer file checks it, then names given to more than one NIC."""
    from installer.core import checks as af

    problems = [p for mac, name in mapping.items() if (p := af.pin_name_problem(name, mac))]
    owners: dict[str, list[str]] = {}
    for mac, name in mapping.items():
        owners.setdefault(name.lower(), []).append(mac)
    problems += [f"interface name '{name}' is given to more than one MAC: {', '.join(sorted(macs))}"
                 for name, macs in owners.items() if len(macs) > 1]
    return problems


def answerfile_checks() -> Checks:
    """The real checks: answer-file field rules, locale data and the shared storage rules."""
    from installer.core import checks as af
    from installer.core import locales, rules

    def locale() -> Locale:
        layouts = {k.id: k.xkb_layout for k in locales.KEYBOARDS.values()}
        countries = locales.countries()
        return Locale(
            countries=tuple(sorted(countries.items(), key=lambda item: item[1])),
            zones=dict(locales.country_zones()),
            keyboards=tuple((k.id, f"{k.name} ({k.id})") for k in locales.KEYBOARDS.values()),
            country_keyboard={cc: default_keyboard(cc, layouts) for cc in countries},
        )

    def password(value: str) -> str | None:
        problem = af.password_problem(value)
        return f"password {problem}" if problem else None

    return Checks(
        fqdn=af.fqdn_problem,
        email=af.email_problem,
        password=password,
        cidr=af.cidr_problem,
        ip=af.ip_problem,
        timezone=af.timezone_problem,
        keyboard=af.keyboard_problem,
        country=af.country_problem,
        pin_names=pin_mapping_problems,
        disk_selection=rules.disk_selection_problems,
        swap=rules.swap_problem,
        disk_size_warning=rules.disk_size_warning,
        locale=locale,
    )
