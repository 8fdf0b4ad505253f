"""Read answer text into a typed Answer, checking everything that needs no hardware and collecting every problem.

The reader walks the TOML document against `answerfile.schema`: legacy snake_case keys are renamed with a
deprecation warning, unknown keys are reported with their full path and the closest valid key, values are
type-, choice- and range-checked. Then the rules that span keys are applied per section. A section with
problems comes back as None, so hardware resolution can still check the others and report everything at once.
"""

from __future__ import annotations

import datetime
import difflib
import ipaddress
import math
import re
import sys
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from answerfile import schema
from answerfile.errors import AnswerProblem
from answerfile.schema import Key
from installer.core import checks, limits, provision, rules, services
from installer.core.config import (
    ClusterSettings,
    Firewall,
    FirstBoot,
    MailRelay,
    ServicesSettings,
    StorageSpec,
    UserAccount,
    Webhook,
)
from installer.core.locales import LocaleDataError


@dataclass(frozen=True)
class FqdnFromDhcp:
    """`fqdn = {source = "from-dhcp", domain = ...}`: host name from DHCP; domain from here, else DHCP."""

    domain: str | None = None


@dataclass(frozen=True)
class GlobalAnswer:
    keyboard: str
    country: str
    fqdn: str | FqdnFromDhcp
    mailto: str
    timezone: str
    root_password: str | None
    root_password_hashed: str | None
    root_ssh_keys: tuple[str, ...] = ()
    reboot_on_error: bool = False
    reboot_mode: str = "reboot"
    subscription_key: str | None = None


@dataclass(frozen=True)
class NetworkAnswer:
    source: str                                   # "from-dhcp" | "from-answer"
    cidr: str | None = None
    dns: str | None = None
    gateway: str | None = None
    filter: dict[str, str] = field(default_factory=dict)
    pinning: bool = False
    pin_mapping: dict[str, str] = field(default_factory=dict)   # MAC (lower case) -> name


@dataclass(frozen=True)
class DiskAnswer:
    filesystem: str
    disk_list: tuple[str, ...] | None = None
    filter: dict[str, str] | None = None
    filter_match: str = "any"
    size_min: float | None = None                 # Keel extension, GiB
    size_max: float | None = None                 # Keel extension, GiB
    disk_count: int | None = None                 # Keel extension
    raid: str | None = None                       # canonical "RAID1", "RAIDZ-2"
    options: dict[str, Any] = field(default_factory=dict)   # the chosen filesystem's option table



@dataclass(frozen=True)
class DiskSelection:
    """A [[provision.storage]] entry's disks, as the answer selects them (resolved against the hardware later)."""

    disk_list: tuple[str, ...] | None = None
    filter: dict[str, str] | None = None
    filter_match: str = "any"
    size_min: float | None = None                 # GiB
    size_max: float | None = None                 # GiB
    disk_count: int | None = None


@dataclass(frozen=True)
class StorageAnswer:
    spec: StorageSpec                             # `disks` empty until resolved
    selection: DiskSelection | None = None        # local types made on disks


@dataclass(frozen=True)
class ProvisionAnswer:
    """[provision], checked offline: cluster.link0 may still be "from-network", disks are still filters."""

    cluster: ClusterSettings | None = None
    storage: tuple[StorageAnswer, ...] = ()
    services: ServicesSettings | None = None


@dataclass(frozen=True)
class Answer:
    """An answer file's content, checked offline. A section that had problems is None."""

    global_: GlobalAnswer | None
    network: NetworkAnswer | None
    disk_setup: DiskAnswer | None
    webhook: Webhook | None = None
    first_boot: FirstBoot | None = None
    provision: ProvisionAnswer | None = None


@dataclass
class ParseResult:
    answer: Answer | None
    problems: list[AnswerProblem]
    warnings: list[AnswerProblem]


_TYPE_NAMES = {str: "string", bool: "boolean", int: "integer", float: "float", list: "array", dict: "table"}


def _type_name(value: Any) -> str:
    if isinstance(value, (datetime.date, datetime.time)):
        return "date/time"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _shown(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


# Bounds on single values, far above any real answer, that keep every check fast on a file of the 1 MiB the
# reader accepts: the value checks, glob matching and the hints for unknown keys all grow with these.
MAX_TEXT_CHARS = 16 * 1024      # a string value (an SSH key of 16384 bits has about 2,800 characters)
MAX_GLOB_CHARS = 256            # a filter glob (udev property values are shorter)
MAX_ENTRIES = 1024              # the entries of an array or of a table of names (disk-list, filter, mapping)
MAX_KEY_CHARS = 200             # a key path as a problem shows it
HINTS = 100                     # unknown keys that get a "did you mean" (a file of thousands is not an answer)


class Collector:
    def __init__(self) -> None:
        self.problems: list[AnswerProblem] = []
        self.warnings: list[AnswerProblem] = []

    def error(self, key: str, message: str) -> None:
        self.problems.append(AnswerProblem(_cut(key), _one_line(message)))

    def warn(self, key: str, message: str) -> None:
        self.warnings.append(AnswerProblem(_cut(key), _one_line(message)))

    def check(self, key: str, problem: str | None) -> bool:
        if problem:
            self.error(key, problem)
        return problem is None


def _one_line(text: str) -> str:
    """Text for one line of a problem: a line break or other control character in a key or value escaped."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _cut(key: str) -> str:
    """A key path as a problem shows it: on one line, at most MAX_KEY_CHARS."""
    key = _one_line(key)
    return key if len(key) <= MAX_KEY_CHARS else key[:MAX_KEY_CHARS - 3] + "..."


def _too_long(value: str, limit: int) -> str | None:
    return f"is too long: {len(value)} characters, at most {limit}" if len(value) > limit else None


def _unknown_key_hint(name: str, spec: Key, path: str) -> str:
    local = [k.name for k in spec.keys] + [k.alias for k in spec.keys if k.alias]
    close = difflib.get_close_matches(name.replace("_", "-").lower(), local, n=2, cutoff=0.6)
    if close:
        canonical = []
        for c in close:
            key = next(k for k in spec.keys if c in (k.name, k.alias))
            if key.name not in canonical:
                canonical.append(key.name)
        return "; did you mean " + " or ".join(f"'{path}.{c}'" if path else f"[{c}]" for c in canonical) + "?"
    elsewhere = [p for p in schema.all_key_paths()
                 if p.rsplit(".", 1)[-1] == name.replace("_", "-").lower() and p != f"{path}.{name}"]
    if elsewhere:
        return "; it belongs in " + " or ".join(f"'{p}'" for p in elsewhere[:2])
    return ""


def _read_value(value: Any, spec: Key, path: str, out: Collector) -> tuple[bool, Any]:
    """Type-check one value against its spec; returns (ok, cleaned value)."""
    kind = spec.kind
    if kind == "table-list":
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            out.error(path, f"expected an array of tables (one [[{path}]] each), got {_type_name(value)} "
                            f"{_shown(value)}")
            return False, None
        return True, tuple(_read_table(v, spec, f"{path}[{i}]", out) for i, v in enumerate(value))
    if kind == "table":
        if not isinstance(value, dict):
            out.error(path, f"expected a table, got {_type_name(value)} {_shown(value)}")
            return False, None
        return True, _read_table(value, spec, path, out)
    if kind == "fqdn":
        if isinstance(value, dict):
            return True, _read_table(value, Key(spec.name, "table", spec.doc, keys=spec.keys), path, out)
        if not isinstance(value, str):
            out.error(path, f"expected a host name like \"pve1.example.com\" or a table "
                            f"{{source = \"from-dhcp\"}}, got {_type_name(value)} {_shown(value)}")
            return False, None
        return True, value
    if kind in ("globs", "string-table"):
        if not isinstance(value, dict):
            out.error(path, f"expected a table of names and strings (like {path}.ID_SERIAL = \"*\"), "
                            f"got {_type_name(value)} {_shown(value)}")
            return False, None
        ok = True
        limit = MAX_GLOB_CHARS if kind == "globs" else MAX_TEXT_CHARS
        for k, v in value.items():
            if not isinstance(v, str):
                out.error(f"{path}.{k}", f"expected a string, got {_type_name(v)} {_shown(v)}")
                ok = False
            elif not out.check(f"{path}.{k}", _too_long(v, limit)):
                ok = False
            elif kind == "globs":
                ok = out.check(f"{path}.{k}", checks.glob_problem(v)) and ok
        return ok, dict(value) if ok else None
    if kind == "value-table":
        return _read_value_table(value, path, out)
    if kind == "string-list":
        if not isinstance(value, list):
            hint = f" (write [{_shown(value)}])" if isinstance(value, str) else ""
            out.error(path, f"expected an array of strings, got {_type_name(value)} {_shown(value)}{hint}")
            return False, None
        bad = [i for i, v in enumerate(value) if not isinstance(v, str)]
        for i in bad:
            out.error(f"{path}[{i}]", f"expected a string, got {_type_name(value[i])} {_shown(value[i])}")
        long = [i for i, v in enumerate(value) if isinstance(v, str) and len(v) > MAX_TEXT_CHARS]
        for i in long:
            out.error(f"{path}[{i}]", str(_too_long(value[i], MAX_TEXT_CHARS)))
        return not bad and not long, tuple(value) if not bad and not long else None
    if kind == "boolean":
        if not isinstance(value, bool):
            out.error(path, f"expected true or false, got {_type_name(value)} {_shown(value)}")
            return False, None
        return True, value
    if kind in ("integer", "number"):
        wanted = (int,) if kind == "integer" else (int, float)
        if isinstance(value, bool) or not isinstance(value, wanted):
            noun = "an integer" if kind == "integer" else "a number"
            out.error(path, f"expected {noun}, got {_type_name(value)} {_shown(value)}")
            return False, None
        if not math.isfinite(value):
            out.error(path, f"expected a finite number, got {_shown(value)}")
            return False, None
        if spec.minimum is not None and value < spec.minimum:
            out.error(path, f"must be at least {rules.format_gib(spec.minimum)}, got {_shown(value)}")
            return False, None
        if spec.maximum is not None and value > spec.maximum:
            out.error(path, f"must be at most {rules.format_gib(spec.maximum)}, got {_shown(value)}")
            return False, None
        return True, float(value) if kind == "number" else value
    # string
    if not isinstance(value, str):
        out.error(path, f"expected a string, got {_type_name(value)} {_shown(value)}")
        return False, None
    if not out.check(path, _too_long(value, MAX_TEXT_CHARS)):
        return False, None
    if spec.choices and not spec.checked_elsewhere:
        if value in spec.choices:
            return True, value
        folded = {c.lower(): c for c in spec.choices}
        if spec.ignore_case and value.lower() in folded:
            return True, folded[value.lower()]
        close = [folded[c] for c in difflib.get_close_matches(value.lower(), list(folded), n=1, cutoff=0.5)]
        hint = f"; did you mean '{close[0]}'?" if close else ""
        out.error(path, f"expected one of {', '.join(repr(c) for c in spec.choices)}, got {_shown(value)}{hint}")
        return False, None
    return True, value


def _read_value_table(value: Any, path: str, out: Collector) -> tuple[bool, Any]:
    """Free keys -> a string or an integer. TOML reads an unquoted dotted key (vm.swappiness = 10) as nested tables,
    which are joined back into the dotted key the person wrote."""
    if not isinstance(value, dict):
        out.error(path, f"expected a table of keys and values (like {path}.\"vm.swappiness\" = 10), got "
                        f"{_type_name(value)} {_shown(value)}")
        return False, None
    flat: dict[str, Any] = {}
    ok = True
    stack: list[tuple[str, Any]] = list(reversed(list(value.items())))
    while stack:
        name, item = stack.pop()
        if isinstance(item, dict):
            stack += reversed([(f"{name}.{k}", v) for k, v in item.items()])
        elif isinstance(item, bool) or not isinstance(item, (str, int)):
            out.error(f"{path}.{name}", f"expected a string or an integer, got {_type_name(item)} {_shown(item)}")
            ok = False
        elif isinstance(item, str) and not out.check(f"{path}.{name}", _too_long(item, MAX_TEXT_CHARS)):
            ok = False
        else:
            flat[name] = item
    return ok, flat if ok else None


def _read_table(raw: Mapping[str, Any], spec: Key, path: str, out: Collector) -> dict[str, Any]:
    """Normalise one table: aliases renamed (warning), unknown keys reported, each value checked.
    Returns only the keys whose values passed; a failed key is absent (its problem is recorded)."""
    by_alias = {k.alias: k for k in spec.keys if k.alias}
    clean: dict[str, Any] = {}
    given: dict[str, str] = {}
    for name, value in raw.items():
        key_path = f"{path}.{name}" if path else name
        key = spec.child(name)
        if key is None and name in by_alias:
            key = by_alias[name]
            out.warn(key_path, f"deprecated key '{name}', use '{key.name}' instead")
        if key is None:
            hint = _unknown_key_hint(name, spec, path) if len(out.problems) < HINTS else ""
            out.error(key_path, f"unknown key{hint}")
            continue
        if key.name in given:
            out.error(key_path, f"'{given[key.name]}' and '{name}' are the same key; keep only '{key.name}'")
            continue
        given[key.name] = name
        ok, cleaned = _read_value(value, key, f"{path}.{key.name}" if path else key.name, out)
        if ok:
            clean[key.name] = cleaned
    for key in spec.keys:
        if key.required and key.name not in given:
            doc = key.doc[:1].lower() + key.doc[1:]
            out.error(f"{path}.{key.name}", f"required key is missing ({doc})")
    return clean


def _syntax_problem(err: Exception, text: str) -> AnswerProblem:
    message = str(err)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
    message = message[:1].lower() + message[1:]
    if not found:
        return AnswerProblem("", f"TOML syntax error at the end of the file: {message}")
    line = text.splitlines()[int(found[1]) - 1] if int(found[1]) <= len(text.splitlines()) else ""
    bare = re.match(r"^\s*[\w.\"-]+\s*=\s*([A-Za-z*?][^\s\"'#]*)\s*(#.*)?$", line)
    hint = ""
    if placeholder := checks.template_placeholder(line):
        message, hint = f"{checks.TEMPLATE_UNFILLED}: {placeholder}", " (fill it in; text goes in quotes)"
    elif bare and bare[1] not in ("true", "false", "inf", "nan"):
        hint = f" (text needs quotes: \"{bare[1]}\")"
    elif line.strip():
        hint = f" in: {line.strip()[:60]}"
    return AnswerProblem("", f"TOML syntax error at line {found[1]}, column {found[2]}: {message}{hint}")


def read_data(data: Mapping[str, Any], out: Collector) -> dict[str, Any]:
    """Normalise an already-decoded answer (TOML, or JSON from an answer server) against the schema."""
    doc: dict[str, Any] = {}
    for name, value in data.items():
        spec = next((s for s in schema.SECTIONS if s.name == name), None)
        if spec is None:
            if name in schema.RENAMED_SECTIONS:
                out.error(f"[{name}]", f"this section is now called [{schema.RENAMED_SECTIONS[name]}]")
            else:
                names = [s.name for s in schema.SECTIONS]
                close = difflib.get_close_matches(name.replace("_", "-"), names, n=1, cutoff=0.6)
                hint = f"; did you mean [{close[0]}]?" if close else f" (sections: {', '.join(names)})"
                out.error(f"[{name}]" if isinstance(value, dict) else name, f"unknown section{hint}")
            continue
        if not isinstance(value, dict):
            out.error(name, f"expected the section [{name}], got {_type_name(value)} {_shown(value)}")
            continue
        doc[name] = _read_table(value, spec, name, out)
    for spec in schema.SECTIONS:
        if spec.required and spec.name not in data:
            out.error(f"[{spec.name}]", "required section is missing")
    return doc


def _present(raw: Any, spec: Key) -> set[str]:
    if not isinstance(raw, dict):
        return set()
    names = set()
    for name in raw:
        key = spec.child(name) or next((k for k in spec.keys if k.alias == name), None)
        if key:
            names.add(key.name)
    return names


def _section(out: Collector, build: Callable[[], Any]) -> Any:
    """Build one section; missing tzdata is one problem for the whole file, not a traceback."""
    try:
        return build()
    except LocaleDataError as err:
        out.error("", str(err))
        return None


def _global(g: dict[str, Any], raw: Any, out: Collector) -> GlobalAnswer | None:
    spec = schema.GLOBAL
    for key, check in (("keyboard", checks.keyboard_problem), ("country", checks.country_problem),
                       ("timezone", checks.timezone_problem), ("mailto", checks.email_problem)):
        if key in g:
            out.check(f"global.{key}", check(g[key]))
    fqdn = g.get("fqdn")
    if isinstance(fqdn, str):
        out.check("global.fqdn", checks.fqdn_problem(fqdn))
    elif isinstance(fqdn, dict):
        domain = fqdn.get("domain") or None
        if domain:
            out.check("global.fqdn.domain", checks.domain_problem(domain))
        fqdn = FqdnFromDhcp(domain=domain)
    password, hashed = g.get("root-password"), g.get("root-password-hashed")
    raw_keys = _present(raw, spec)
    if password is not None and hashed is not None:
        out.error("global.root-password", "root-password and root-password-hashed cannot be set at the same "
                                          "time; keep one of them")
    elif not ({"root-password", "root-password-hashed"} & raw_keys):
        out.error("global.root-password", "one of root-password or root-password-hashed must be set")
    for login in checks.root_login_problems(password, hashed, g.get("root-ssh-keys", ())):
        problem = AnswerProblem(f"global.{login.value}", login.message, strict=not login.refused)
        (out.problems if login.refused else out.warnings).append(problem)
    if "subscription-key" in g:
        out.check("global.subscription-key", checks.subscription_key_problem(g["subscription-key"]))
    if not all(k in g for k in ("keyboard", "country", "mailto", "timezone")) or fqdn is None:
        return None
    return GlobalAnswer(
        keyboard=g["keyboard"], country=g["country"], fqdn=fqdn, mailto=g["mailto"], timezone=g["timezone"],
        root_password=password, root_password_hashed=hashed, root_ssh_keys=tuple(g.get("root-ssh-keys", ())),
        reboot_on_error=g.get("reboot-on-error", False), reboot_mode=g.get("reboot-mode", "reboot"),
        subscription_key=g.get("subscription-key"),
    )


def _network(n: dict[str, Any], raw: Any, out: Collector) -> NetworkAnswer | None:
    spec = schema.NETWORK
    source = n.get("source")
    manual = ("cidr", "dns", "gateway", "filter")
    if source == "from-dhcp":
        for key in manual:
            if key in n:
                out.error(f"network.{key}", "only used with source = \"from-answer\" (this answer uses DHCP)")
    elif source == "from-answer":
        present = _present(raw, spec)
        for key in manual:
            if key not in present:
                out.error(f"network.{key}", "required with source = \"from-answer\"")
        if "cidr" in n:
            out.check("network.cidr", checks.cidr_problem(n["cidr"]))
        for key in ("dns", "gateway"):
            if key in n:
                out.check(f"network.{key}", checks.ip_problem(n[key]))
        if "filter" in n and not n["filter"]:
            out.error("network.filter", "is empty: give at least one udev property = glob (see keel-answer "
                                        "device-info --type network)")
        families = {k: _family(n.get(k)) for k in ("cidr", "gateway", "dns")}
        if families["cidr"] and families["gateway"] and families["cidr"] != families["gateway"]:
            out.error("network.gateway", f"is IPv{families['gateway']} but cidr is IPv{families['cidr']}; "
                                         "the management network uses one address family")
        if "cidr" in n and "gateway" in n and (warning := checks.gateway_warning(n["cidr"], n["gateway"])):
            out.warn("network.gateway", warning)
    pin = n.get("interface-name-pinning") or {}
    mapping: dict[str, str] = {}
    for mac, name in (pin.get("mapping") or {}).items():
        key = f"network.interface-name-pinning.mapping.\"{mac}\""
        ok = out.check(key, checks.mac_problem(mac))
        ok = out.check(key, checks.pin_name_problem(name, mac.lower())) and ok
        if ok:
            mapping[mac.lower()] = name
    for problem in checks.duplicate_pin_name_problems(mapping):
        out.error("network.interface-name-pinning.mapping", problem)
    if pin and not pin.get("enabled", False) and mapping:
        out.warn("network.interface-name-pinning", "mapping is ignored because enabled = false")
    if source is None:
        return None
    return NetworkAnswer(source=source, cidr=n.get("cidr"), dns=n.get("dns"), gateway=n.get("gateway"),
                         filter=n.get("filter") or {}, pinning=bool(pin.get("enabled", False)),
                         pin_mapping=mapping)


def _family(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return ipaddress.ip_address(value.split("/")[0]).version
    except ValueError:
        return None


_FS_OPTION_TABLE = {"ext4": "lvm", "xfs": "lvm", "zfs": "zfs", "btrfs": "btrfs"}


def _disk_setup(d: dict[str, Any], raw: Any, out: Collector, *, offline_counts: bool) -> DiskAnswer | None:
    spec = schema.DISK_SETUP
    present = _present(raw, spec)
    fs = d.get("filesystem")
    has_list, has_filter = "disk-list" in present, "filter" in present
    by_size = bool({"filter-size-min", "filter-size-max"} & present)
    if has_list and (has_filter or by_size):
        out.error("disk-setup.disk-list", "use either disk-list or filter (with filter-size-min/-max), not both")
    elif not has_list and not has_filter and not by_size:
        out.error("disk-setup", "no disks selected: set disk-list (like [\"sda\"]) or filter (like "
                                "filter.ID_SERIAL = \"*\"), see keel-answer device-info")
    if has_list and "disk-count" in present:
        out.error("disk-setup.disk-count", "only works with filter selection; disk-list names the disks itself")
    if "filter" in d and not d["filter"] and not by_size:
        out.error("disk-setup.filter", "is empty: give at least one udev property = glob")
    lo, hi = d.get("filter-size-min"), d.get("filter-size-max")
    if lo is not None and hi is not None and lo > hi:
        out.error("disk-setup.filter-size-min", f"is larger than filter-size-max ({rules.format_gib(lo)} > "
                                                f"{rules.format_gib(hi)} GiB): no disk can match")
    disk_list = d.get("disk-list")
    if disk_list is not None:
        if not disk_list:
            out.error("disk-setup.disk-list", "is empty: name at least one disk")
        for problem in rules.duplicate_disk_problems(disk_list):
            out.error("disk-setup.disk-list", problem)
    raid = None
    options: dict[str, Any] = {}
    if fs is not None:
        wanted = _FS_OPTION_TABLE[fs]
        for table in ("lvm", "zfs", "btrfs"):
            if table != wanted and table in present:
                users = "ext4 and xfs" if table == "lvm" else table
                out.error(f"disk-setup.{table}", f"{table} options apply to {users} only, and this answer "
                                                 f"installs {fs}; use disk-setup.{wanted} options")
        options = dict(d.get(wanted) or {})
        if fs in ("zfs", "btrfs"):
            raid = options.pop("raid", None)
            if raid is None and "raid" not in _present((raw or {}).get(wanted), schema.section("disk-setup")
                                                        .child(wanted)):
                title = "ZFS" if fs == "zfs" else "Btrfs"
                out.error(f"disk-setup.{wanted}.raid", f"{title} needs a RAID level: set disk-setup.{wanted}.raid "
                                                      f"(one of {', '.join(_raid_levels(fs))})")
        if fs in ("ext4", "xfs") and disk_list is not None and len(set(disk_list)) > 1:
            out.check("disk-setup.disk-list", rules.raid_count_problem(fs, None, len(set(disk_list))))
        elif offline_counts and disk_list and raid:
            count = len({name.removeprefix("/dev/") for name in disk_list})
            out.check("disk-setup.disk-list", rules.raid_count_problem(fs, raid, count))
        out.check(f"disk-setup.{wanted}.hdsize", rules.hdsize_root_problem(fs, options.get("hdsize")))
        if fs in ("ext4", "xfs"):
            out.check("disk-setup.lvm.swapsize", rules.swap_problem(options.get("swapsize"), options.get("hdsize")))
            out.check("disk-setup.lvm.maxroot", rules.maxroot_problem(options.get("maxroot")))
        if "filter-match" in present and fs in ("ext4", "xfs"):
            out.warn("disk-setup.filter-match", f"ignored for {fs}: a single disk is the first match")
        if fs in ("ext4", "xfs") and (d.get("disk-count") or 1) > 1:
            out.error("disk-setup.disk-count", f"{fs} installs on exactly one disk, got disk-count = "
                                               f"{d['disk-count']}")
    if fs is None:
        return None
    return DiskAnswer(
        filesystem=fs, disk_list=disk_list, filter=d.get("filter") if not has_list else None,
        filter_match=d.get("filter-match", "any"), size_min=lo, size_max=hi, disk_count=d.get("disk-count"),
        raid=raid, options=options,
    )


def _raid_levels(fs: str) -> tuple[str, ...]:
    return schema.ZFS_RAID if fs == "zfs" else schema.BTRFS_RAID


def _webhook(w: dict[str, Any], raw: Any, out: Collector) -> Webhook | None:
    if "url" in w:
        out.check("post-installation-webhook.url", checks.url_problem(w["url"]))
    if "cert-fingerprint" in w:
        out.check("post-installation-webhook.cert-fingerprint", checks.fingerprint_problem(w["cert-fingerprint"]))
    if "url" not in w:
        return None
    return Webhook(url=w["url"], cert_fingerprint=w.get("cert-fingerprint"), auth_token=w.get("auth-token"))


def _first_boot(f: dict[str, Any], raw: Any, out: Collector) -> FirstBoot | None:
    source = f.get("source")
    if source == "from-url" and "url" not in _present(raw, schema.FIRST_BOOT):
        out.error("first-boot.url", "required with source = \"from-url\": where to download the executable")
    if source == "from-iso" and "url" in f:
        out.warn("first-boot.url", "ignored with source = \"from-iso\"")
    if "url" in f:
        out.check("first-boot.url", checks.url_problem(f["url"]))
    if "cert-fingerprint" in f:
        out.check("first-boot.cert-fingerprint", checks.fingerprint_problem(f["cert-fingerprint"]))
    if source is None:
        return None
    return FirstBoot(source=source, ordering=f.get("ordering", "fully-up"),
                     url=f.get("url") if source == "from-url" else None, cert_fingerprint=f.get("cert-fingerprint"))


def _provision(p: dict[str, Any], raw: Any, out: Collector) -> ProvisionAnswer:
    raw = raw if isinstance(raw, dict) else {}
    cluster = _cluster(p["cluster"], raw.get("cluster"), out) if "cluster" in p else None
    entries = p.get("storage") or ()
    raw_entries = raw.get("storage") if isinstance(raw.get("storage"), list) else []
    storage = tuple(_storage(e, raw_entries[i] if i < len(raw_entries) else {}, f"provision.storage[{i}]", out)
                    for i, e in enumerate(entries))
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        if (sid := entry.get("id")) is not None:
            if sid in seen:
                out.error(f"provision.storage[{i}].id", f"'{sid}' is the id of provision.storage[{seen[sid]}] too; "
                                                        "storage ids are unique")
            seen.setdefault(sid, i)
    services = _services(p["services"], raw.get("services"), out, clustered="cluster" in raw) \
        if "services" in p else None
    return ProvisionAnswer(cluster=cluster, storage=tuple(s for s in storage if s is not None), services=services)


def _cluster(c: dict[str, Any], raw: Any, out: Collector) -> ClusterSettings | None:
    key = "provision.cluster"
    present = _present(raw, schema.CLUSTER)
    if "name" in c:
        out.check(f"{key}.name", provision.cluster_name_problem(c["name"]))
    if "cluster-secret" in c:
        out.check(f"{key}.cluster-secret", provision.cluster_secret_problem(c["cluster-secret"]))
    mode = c.get("mode")
    if mode == "join" and "peer" not in present:
        out.error(f"{key}.peer", "required with mode = \"join\": host[:port] of a member's join service (the "
                                 "member and this node prove to each other that they hold cluster-secret)")
    if mode == "create" and "peer" in present:
        out.error(f"{key}.peer", "only used with mode = \"join\"; this node creates the cluster")
    if "peer" in c:
        out.check(f"{key}.peer", provision.host_port_problem(c["peer"], what="host"))
    link0 = c.get("link0", "from-network")
    if link0 != "from-network":
        out.check(f"{key}.link0", checks.ip_problem(link0) and f"{checks.ip_problem(link0)}; or write "
                                                              "\"from-network\" for the management address")
    if "link1" in c and out.check(f"{key}.link1", checks.ip_problem(c["link1"])) and c["link1"] == link0:
        out.error(f"{key}.link1", "is the same address as link0; a second link needs its own network")
    if "link1-priority" in c and "link1" not in present:
        out.error(f"{key}.link1-priority", "is set but link1 is not")
    if mode == "join":
        for name in ("link0-priority", "link1-priority"):
            if name in c:
                out.warn(f"{key}.{name}", "ignored when joining: the cluster's corosync.conf, written by the "
                                          "founder, sets the link priorities")
    if not all(k in c for k in ("name", "mode", "cluster-secret")):
        return None
    return ClusterSettings(name=c["name"], mode=mode, link0=link0, cluster_secret=c["cluster-secret"],
                           link1=c.get("link1"), link0_priority=c.get("link0-priority"),
                           link1_priority=c.get("link1-priority"), node_id=c.get("node-id"), peer=c.get("peer"))


_IQN = re.compile(r"^(iqn\.\d{4}-\d{2}\.[^\s:]+(:\S+)?|eui\.[0-9A-Fa-f]{16}|naa\.[0-9A-Fa-f]{16,32})$")


def _storage(e: dict[str, Any], raw: Any, key: str, out: Collector) -> StorageAnswer | None:
    present = _present(raw, schema.STORAGE)
    kind, sid = e.get("type"), e.get("id")
    if sid is not None:
        out.check(f"{key}.id", provision.storage_id_problem(sid))
        if kind is not None:
            out.check(f"{key}.id", provision.pool_name_problem(kind, sid))
    if kind is None:
        return None
    allowed = provision.TYPE_KEYS[kind]
    for name in provision.TYPE_SPECIFIC_KEYS:
        if name in present and name not in allowed:
            users = [t for t, keys in provision.TYPE_KEYS.items() if name in keys]
            out.error(f"{key}.{name}", f"applies to {', '.join(users)} storage, and this one is {kind}")
    for name in provision.REQUIRED_KEYS.get(kind, ()):
        if name not in present:
            out.error(f"{key}.{name}", f"required with type = \"{kind}\"")
    content = tuple(e["content"]) if "content" in e else provision.CONTENT[kind][1]
    for problem in provision.content_problems(kind, list(content)):
        out.error(f"{key}.content", problem)
    nodes = tuple(e.get("nodes", ()))
    for i, node in enumerate(nodes):
        out.check(f"{key}.nodes[{i}]", checks.hostname_problem(node))
    for problem in rules.duplicate_disk_problems(nodes):
        out.error(f"{key}.nodes", problem.replace("disk", "node"))
    selection = _disk_selection(e, present, kind, key, out) if kind in provision.LOCAL_TYPES else None
    if e.get("shared"):
        if kind in provision.SHARED_BY_NATURE:
            out.error(f"{key}.shared", f"{kind} storage is always shared; leave shared out")
        elif kind not in provision.SHARED_FLAG_TYPES or selection is not None:
            out.error(f"{key}.shared", "a storage made on this node's own disks is local to it; shared = true is "
                                       "for a directory on a cluster file system")
    raid = e.get("raid")
    if raid is not None:
        levels = schema.ZFS_RAID if kind == "zfspool" else schema.BTRFS_RAID
        if raid not in levels:
            out.error(f"{key}.raid", f"{raid} is not a {kind} RAID level (one of {', '.join(levels)})")
        elif selection is not None and selection.disk_list:
            fs = "zfs" if kind == "zfspool" else "btrfs"
            out.check(f"{key}.disk-list", rules.raid_count_problem(fs, raid, len(set(selection.disk_list))))
    path = e.get("path")
    if path is not None and (not path.startswith("/") or any(c.isspace() for c in path) or path == "/"):
        out.error(f"{key}.path", f"'{path}' is not an absolute directory path without spaces")
    if kind == "dir" and path is None and selection is None and "disk-list" not in present and \
            "filter" not in present:
        out.error(f"{key}.path", "required for a dir storage without disks: the directory to use")
    if kind in ("dir", "btrfs") and selection is not None and path is None:
        path = f"{provision.MOUNT_BASE}/{sid}"
    for name in ("server", "portal"):
        if name in e:
            out.check(f"{key}.{name}", provision.host_port_problem(e[name], what="server"))
    if "export" in e and not e["export"].startswith("/"):
        out.error(f"{key}.export", f"'{e['export']}' is not an export path (it starts with /)")
    if "target" in e and not _IQN.match(e["target"]):
        out.error(f"{key}.target", f"'{e['target']}' is not an iSCSI target name (iqn.YYYY-MM.domain:name)")
    for i, mon in enumerate(e.get("monhost", "").split()):
        out.check(f"{key}.monhost", provision.host_port_problem(mon, what="monitor") and
                  f"monitor {i + 1}: {provision.host_port_problem(mon, what='monitor')}")
    if "password" in e and "username" not in present:
        out.error(f"{key}.password", "is set but username is not")
    if sid is None:
        return None
    spec = StorageSpec(id=sid, type=kind, content=content, nodes=nodes, shared=bool(e.get("shared")), raid=raid,
                       path=path, server=e.get("server"), export=e.get("export"), share=e.get("share"),
                       username=e.get("username"), password=e.get("password"), portal=e.get("portal"),
                       target=e.get("target"), monhost=e.get("monhost"), pool=e.get("pool"),
                       keyring=e.get("keyring"))
    return StorageAnswer(spec, selection)


def _disk_selection(e: dict[str, Any], present: set[str], kind: str, key: str,
                    out: Collector) -> DiskSelection | None:
    """The disks of a local storage, checked as [disk-setup]'s are; None when it names none (a dir on a path)."""
    has_list, has_filter = "disk-list" in present, "filter" in present
    by_size = bool({"filter-size-min", "filter-size-max"} & present)
    if has_list and (has_filter or by_size):
        out.error(f"{key}.disk-list", "use either disk-list or filter (with filter-size-min/-max), not both")
    elif not (has_list or has_filter or by_size):
        if kind != "dir":
            out.error(key, f"no disks selected for the {kind} storage: set disk-list (like [\"sdb\"]) or filter "
                           "(like filter.ID_SERIAL = \"*\"), see keel-answer device-info")
        return None
    if has_list and "disk-count" in present:
        out.error(f"{key}.disk-count", "only works with filter selection; disk-list names the disks itself")
    if "filter" in e and not e["filter"] and not by_size:
        out.error(f"{key}.filter", "is empty: give at least one udev property = glob")
    lo, hi = e.get("filter-size-min"), e.get("filter-size-max")
    if lo is not None and hi is not None and lo > hi:
        out.error(f"{key}.filter-size-min", f"is larger than filter-size-max ({rules.format_gib(lo)} > "
                                            f"{rules.format_gib(hi)} GiB): no disk can match")
    disk_list = e.get("disk-list")
    if disk_list is not None:
        if not disk_list:
            out.error(f"{key}.disk-list", "is empty: name at least one disk")
        for problem in rules.duplicate_disk_problems(disk_list):
            out.error(f"{key}.disk-list", problem)
    if kind == "dir" and ((disk_list and len(set(disk_list)) > 1) or (e.get("disk-count") or 1) > 1):
        out.error(f"{key}.disk-list" if disk_list else f"{key}.disk-count",
                  "a dir storage is made on exactly one disk")
    return DiskSelection(disk_list=tuple(disk_list) if disk_list is not None else None,
                         filter=e.get("filter") if not has_list else None,
                         filter_match=e.get("filter-match", "any"), size_min=lo, size_max=hi,
                         disk_count=e.get("disk-count"))


def _services(v: dict[str, Any], raw: Any, out: Collector, *, clustered: bool) -> ServicesSettings:
    key = "provision.services"
    raw = raw if isinstance(raw, dict) else {}
    for i, server in enumerate(v.get("ntp-servers", ())):
        out.check(f"{key}.ntp-servers[{i}]", provision.host_problem(server))
    relay = None
    if (m := v.get("mail-relay")) is not None:
        if "host" in m:
            out.check(f"{key}.mail-relay.host", provision.host_problem(m["host"]))
        if ("username" in m) != ("password" in m):
            missing = "password" if "username" in m else "username"
            out.error(f"{key}.mail-relay.{missing}", "username and password go together (SASL login)")
        for name in ("username", "password"):
            if name in m:
                out.check(f"{key}.mail-relay.{name}", checks.control_character_problem(m[name]) or
                          (f"{name} contains a space or a colon, which sasl_passwd cannot hold"
                           if name == "username" and any(c in m[name] for c in " :") else None))
        if "host" in m:
            relay = MailRelay(host=m["host"], port=m.get("port", 25), username=m.get("username"),
                              password=m.get("password"))
    if "apt-proxy" in v:
        out.check(f"{key}.apt-proxy", checks.url_problem(v["apt-proxy"]))
    for i, line in enumerate(v.get("apt-repositories", ())):
        out.check(f"{key}.apt-repositories[{i}]", provision.apt_repository_problem(line))
    raw_users = raw.get("users") if isinstance(raw.get("users"), list) else []
    users = tuple(_user(u, raw_users[i] if i < len(raw_users) else {}, f"{key}.users[{i}]", out)
                  for i, u in enumerate(v.get("users", ())))
    seen: dict[str, int] = {}
    for i, user in enumerate(v.get("users", ())):
        if (name := user.get("name")) is not None:
            if name in seen:
                out.error(f"{key}.users[{i}].name", f"'{name}' is the name of {key}.users[{seen[name]}] too")
            seen.setdefault(name, i)
    sysctl = {name: services.sysctl_value(value) for name, value in v.get("sysctl", {}).items()}
    for name, value in v.get("sysctl", {}).items():
        out.check(f"{key}.sysctl.{name}", services.sysctl_key_problem(name) or services.sysctl_value_problem(value))
    for i, package in enumerate(v.get("packages", ())):
        out.check(f"{key}.packages[{i}]", services.package_name_problem(package))
    firewall = _firewall(v["firewall"], f"{key}.firewall", out, clustered=clustered) if "firewall" in v else None
    return ServicesSettings(ntp_servers=tuple(v.get("ntp-servers", ())), mail_relay=relay,
                            apt_proxy=v.get("apt-proxy"), apt_repositories=tuple(v.get("apt-repositories", ())),
                            users=tuple(u for u in users if u is not None),
                            ssh_password_login=v.get("ssh-password-login"), sysctl=sysctl, firewall=firewall,
                            packages=tuple(dict.fromkeys(v.get("packages", ()))))


def _user(u: dict[str, Any], raw: Any, key: str, out: Collector) -> UserAccount | None:
    present = _present(raw, schema.USERS)
    if "name" in u:
        out.check(f"{key}.name", services.user_name_problem(u["name"]))
    for i, line in enumerate(u.get("ssh-keys", ())):
        out.check(f"{key}.ssh-keys[{i}]", checks.ssh_key_problem(line))
    for i, group in enumerate(u.get("groups", ())):
        out.check(f"{key}.groups[{i}]", services.group_name_problem(group))
    if "password-hashed" in u:
        out.check(f"{key}.password-hashed", checks.password_hash_problem(u["password-hashed"]))
    if not u.get("ssh-keys") and "password-hashed" not in present:
        out.error(f"{key}.ssh-keys", "the user could not log in: give ssh-keys or password-hashed (or both)")
    if "name" not in u:
        return None
    return UserAccount(name=u["name"], ssh_keys=tuple(u.get("ssh-keys", ())),
                       groups=tuple(dict.fromkeys(u.get("groups", ()))), password_hashed=u.get("password-hashed"))


def _firewall(f: dict[str, Any], key: str, out: Collector, *, clustered: bool) -> Firewall | None:
    """The listed networks only; resolution adds the networks of the node's link addresses."""
    for name in ("cluster-networks", "allow-from"):
        for i, cidr in enumerate(f.get(name, ())):
            out.check(f"{key}.{name}[{i}]", services.network_problem(cidr))
    if f.get("cluster-networks") and not clustered:
        out.error(f"{key}.cluster-networks", "is for the links of [provision.cluster], and there is none")
    if not f.get("enabled", False):
        return None
    return Firewall(cluster_networks=tuple(f.get("cluster-networks", ())), allow_from=tuple(f.get("allow-from", ())))


# TOML integers are 64-bit: "an integer that cannot be represented losslessly must be an error" (tomllib and
# json read any size, which would overflow the float a size option becomes).
INT64 = (-(2**63), 2**63 - 1)


def structure_problems(data: Any) -> list[AnswerProblem]:
    """Nesting deeper than limits.MAX_DEPTH, arrays and tables of more than MAX_ENTRIES entries and integers
    beyond 64 bits, found without recursion: such an answer never reaches the readers below (or the repr in a
    problem message), which recurse and grow with the entries."""
    problems: list[AnswerProblem] = []
    # (container, depth, key in its parent, the parent's entry): paths are spelled only for a problem
    stack: list[tuple[Any, int, str, Any]] = [(data, 0, "", None)]
    while stack:
        entry = stack.pop()
        value, depth = entry[0], entry[1]
        items = list(value.items()) if isinstance(value, Mapping) else list(enumerate(value))
        if len(items) > MAX_ENTRIES or (items and depth >= limits.MAX_DEPTH):
            message = (f"has too many entries: {len(items)}, at most {MAX_ENTRIES}" if len(items) > MAX_ENTRIES
                       else f"nested too deeply: more than {limits.MAX_DEPTH} levels")
            problems.append(AnswerProblem(_path(entry), message))
            continue
        for key, child in reversed(items):
            if isinstance(child, (Mapping, list)):
                stack.append((child, depth + 1, key, entry))
            elif isinstance(child, int) and not isinstance(child, bool) and not INT64[0] <= child <= INT64[1]:
                problems.append(AnswerProblem(_path((child, depth + 1, key, entry)), f"integer out of range: "
                                              f"{child.bit_length()} bits, TOML integers have at most 64"))
    return problems


def _path(entry: tuple[Any, int, Any, Any]) -> str:
    """The key path of a structure_problems entry: global.root-ssh-keys[0]."""
    parts: list[str] = []
    while entry is not None and entry[3] is not None:
        key = entry[2]
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
        entry = entry[3]
    return _cut("".join(reversed(parts)).lstrip("."))


def parse_data(data: Mapping[str, Any], *, offline_counts: bool = True) -> ParseResult:
    """Check a decoded answer (a TOML document or the same structure as JSON)."""
    if problems := structure_problems(data):
        return ParseResult(None, problems, [])
    out = Collector()
    doc = read_data(data, out)
    return _build(doc, data, out, offline_counts)


def parse_text(text: str, *, offline_counts: bool = True) -> ParseResult:
    """Check answer TOML text. `offline_counts` checks RAID disk counts on disk-list alone (no hardware).
    Text beyond `installer.core.limits` (size, nesting, dotted-key length) is refused before it is parsed."""
    if problem := limits.text_problem(text):
        return ParseResult(None, [AnswerProblem("", problem)], [])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        return ParseResult(None, [_syntax_problem(err, text)], [])
    except ValueError:  # Python's limit on int() of a string, which tomllib does not turn into a TOMLDecodeError
        digits = sys.get_int_max_str_digits()
        found = next((m for m in re.finditer(r"[\d_]+", text) if len(m[0]) > digits), None)
        line = text.count("\n", 0, found.start()) + 1 if found else 0
        where = f" at line {line}" if line else ""
        return ParseResult(None, [AnswerProblem("", f"TOML syntax error{where}: an integer of more than {digits} "
                                                    "digits (TOML integers have at most 64 bits)")], [])
    return parse_data(data, offline_counts=offline_counts)


def _build(doc: dict[str, Any], data: Mapping[str, Any], out: Collector, offline_counts: bool) -> ParseResult:
    def part(name: str, build: Callable[[dict[str, Any], Any, Collector], Any]) -> Any:
        if name not in doc:
            return None
        value = _section(out, lambda: build(doc[name], data.get(name), out))
        # A section with any problem (also a bad value found while reading it) is not resolved further.
        if any(p.key == name or p.key.startswith(f"{name}.") for p in out.problems):
            return None
        return value

    answer = Answer(
        global_=part("global", _global),
        network=part("network", _network),
        disk_setup=part("disk-setup", lambda d, r, o: _disk_setup(d, r, o, offline_counts=offline_counts)),
        webhook=part("post-installation-webhook", _webhook),
        first_boot=part("first-boot", _first_boot),
        provision=part("provision", _provision),
    )
    _ssh_lockout_warning(answer, out)
    return ParseResult(answer, in_file_order(out.problems), in_file_order(out.warnings))


def _ssh_lockout_warning(answer: Answer, out: Collector) -> None:
    """Password login off with no SSH key anywhere leaves only the console: legal, but rarely meant."""
    svc = answer.provision.services if answer.provision is not None else None
    if svc is None or svc.ssh_password_login is not False or answer.global_ is None:
        return
    if not answer.global_.root_ssh_keys and not any(u.ssh_keys for u in svc.users):
        out.warn("provision.services.ssh-password-login", "is false and no SSH key is given (global.root-ssh-keys "
                                                          "or a user's ssh-keys): nobody can log in over SSH")


def in_file_order(problems: list[AnswerProblem]) -> list[AnswerProblem]:
    """Problems grouped by section in the order the reference lists them (stable within a section)."""
    order = [s.name for s in schema.SECTIONS]

    def rank(problem: AnswerProblem) -> int:
        section = problem.key.strip("[]").split(".", 1)[0]
        return order.index(section) if section in order else -1

    return sorted(problems, key=rank)
