"""Per-value checks shared by the answer file and the wizard, so both say the same thing about the same mistake.

Every check takes one value and returns None when it is fine, or a message (without the key: the caller
knows whether it is `global.fqdn` or the wizard's hostname field). The rules follow the Proxmox installer
(reference §5.2, §5.3, §6); the wording is Keel's.

    fqdn_problem("pve1")            -> "'pve1' is not a fully-qualified domain name: ..."
    password_problem("12345")       -> "must be at least 8 characters long (got 5)"
    keyboard_problem("us")          -> "keyboard layout 'us' is not valid; did you mean 'en-us'? ..."
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import unicodedata

from installer.core import locales

MIN_PASSWORD_LENGTH = 8
MAX_FQDN_LENGTH = 253
PLACEHOLDER_EMAIL = "mail@example.invalid"

_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# The address rule of the HTML specification's <input type=email>, as the Proxmox installers use.
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_PIN_NAME = re.compile(r"^[a-z][a-z0-9_]{1,20}(?:[:.]\d+)?$", re.IGNORECASE)
_MAC = re.compile(r"^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$", re.IGNORECASE)
_CRYPT = re.compile(r"^\$[0-9a-z]+\$[^\s:]+$|^[./0-9A-Za-z]{13}$")
_FINGERPRINT = re.compile(r"^(?:[0-9a-f]{2}:){31}[0-9a-f]{2}$|^[0-9a-f]{64}$", re.IGNORECASE)
_SSH_KEY = re.compile(r"(?:^|\s)(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-\S+|sk-\S+)\s+[A-Za-z0-9+/=]{16,}(?:\s|$)")
_SUBSCRIPTION = re.compile(r"^(?:pve[0-9]+|pbs|pmg)[cbsp]-[0-9a-f]{10}$")


def _suggest(value: str, choices: list[str] | set[str] | frozenset[str], n: int = 3) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=n, cutoff=0.6)
    if not close and value.lower() != value:
        close = difflib.get_close_matches(value.lower(), sorted(choices), n=n, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def label_problem(label: str) -> str | None:
    """One DNS label: 1-63 letters, digits and dashes, starting and ending with a letter or digit."""
    if not _LABEL.match(label):
        return (f"'{label}' is not a valid name part: use 1-63 letters, digits and dashes, "
                "starting and ending with a letter or digit")
    return None


def hostname_problem(hostname: str) -> str | None:
    """The host part of an FQDN (the wizard asks for it on its own): a DNS label that is not all digits."""
    problem = label_problem(hostname)
    if problem:
        return problem
    if hostname.isdigit():
        return f"host name '{hostname}' cannot be purely numeric"
    return None


def domain_problem(domain: str) -> str | None:
    """A domain name: dot-separated DNS labels, at most 253 characters in total."""
    if not domain:
        return "domain name is empty"
    if len(domain) > MAX_FQDN_LENGTH:
        return f"domain name is too long: {len(domain)} > {MAX_FQDN_LENGTH} characters"
    for label in domain.split("."):
        problem = label_problem(label)
        if problem:
            return problem
    return None


def fqdn_problem(fqdn: str) -> str | None:
    """A fully-qualified domain name: host and domain ("pve1.example.com"), host not purely numeric."""
    if len(fqdn) > MAX_FQDN_LENGTH:
        return f"FQDN is too long: {len(fqdn)} > {MAX_FQDN_LENGTH} characters"
    if "." not in fqdn:
        return (f"'{fqdn}' is not a fully-qualified domain name: give host and domain, like "
                f"'{fqdn or 'pve1'}.example.com', or use fqdn.source = \"from-dhcp\"")
    host, domain = fqdn.split(".", 1)
    return hostname_problem(host) or domain_problem(domain)


def email_problem(email: str) -> str | None:
    if email == PLACEHOLDER_EMAIL:
        return f"'{email}' is the placeholder address; give a real address for the administrator's mail"
    if not _EMAIL.match(email):
        return f"'{email}' does not look like an email address (user@domain.tld)"
    return None


_CONTROL_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab"}


def control_character_problem(secret: str) -> str | None:
    """A password or hash goes to `chpasswd` as one line: a line break would start another account's line."""
    for position, char in enumerate(secret, 1):
        if unicodedata.category(char) == "Cc":
            name = _CONTROL_NAMES.get(char, f"U+{ord(char):04X}")
            return ("must not contain control characters such as line breaks or tabs "
                    f"(found {name} at character {position})")
    return None


def password_problem(password: str) -> str | None:
    if problem := control_character_problem(password):
        return problem
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long (got {len(password)})"
    return None


def password_hash_problem(hashed: str) -> str | None:
    if problem := control_character_problem(hashed):
        return problem
    if not _CRYPT.match(hashed):
        return "is not a crypt(3) password hash like '$y$j9T$...' (create one with: mkpasswd)"
    return None


def ip_problem(address: str) -> str | None:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return f"'{address}' is not a valid IPv4 or IPv6 address"
    return None


def cidr_problem(cidr: str) -> str | None:
    """An address with its prefix length: "192.168.1.10/24" or "2001:db8::10/64"."""
    address, slash, prefix = cidr.partition("/")
    if not slash:
        return f"invalid IP address '{cidr}': the prefix length is missing (like '{cidr}/24')"
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"invalid IP address '{cidr}': '{address}' is not an IPv4 or IPv6 address"
    limit = 32 if ip.version == 4 else 128
    if not prefix.isdigit() or not 0 <= int(prefix) <= limit:
        return (f"invalid IP address '{cidr}': the prefix length must be a number from 0 to {limit} "
                f"for IPv{ip.version}, got '{prefix}'")
    return None


def timezone_problem(zone: str) -> str | None:
    zones = locales.timezones()
    if zone in zones:
        return None
    return f"timezone '{zone}' is not valid (a tzdata zone like 'Europe/Vienna', or 'UTC'){_suggest(zone, zones)}"


def keyboard_problem(keyboard: str) -> str | None:
    if keyboard in locales.KEYBOARDS:
        return None
    by_layout = [k.id for k in locales.KEYBOARDS.values() if k.xkb_layout == keyboard.lower()]
    hint = f"; did you mean {by_layout[0]!r}?" if by_layout else _suggest(keyboard, set(locales.KEYBOARDS))
    return (f"keyboard layout '{keyboard}' is not valid{hint} "
            f"(one of: {', '.join(sorted(locales.KEYBOARDS))})")


def country_problem(country: str) -> str | None:
    known = locales.countries()
    if country in known:
        return None
    if country.lower() in known:
        return f"country code '{country}' is not valid: write it in lower case, '{country.lower()}'"
    matches = [cc for cc, name in known.items() if name.lower() == country.lower()]
    hint = f"; did you mean '{matches[0]}' ({known[matches[0]]})?" if matches else ""
    return f"country code '{country}' is not valid: use an ISO 3166-1 two-letter code like 'at'{hint}"


def mac_problem(mac: str) -> str | None:
    if not _MAC.match(mac):
        return f"'{mac}' is not a MAC address like 'aa:bb:cc:dd:ee:ff'"
    return None


def pin_name_problem(name: str, mac: str) -> str | None:
    """A pinned interface name: 2-15 characters, a letter first, then letters, digits and underscores."""
    if len(name) < 2:
        return f"interface name for '{mac}' must be at least 2 characters long"
    if len(name) > 15:
        return f"interface name '{name}' for '{mac}' cannot be longer than 15 characters"
    if not _PIN_NAME.match(name):
        return (f"interface name '{name}' for '{mac}' is invalid: it must start with a letter and contain "
                "only ASCII letters, digits and underscores")
    return None


def duplicate_pin_name_problems(mapping: dict[str, str]) -> list[str]:
    """Each pinned name may be given to one MAC only (names compare case-insensitively)."""
    owners: dict[str, list[str]] = {}
    for mac, name in mapping.items():
        owners.setdefault(name.lower(), []).append(mac.lower())
    return [f"interface name '{name}' is given to more than one MAC: {', '.join(sorted(macs))}"
            for name, macs in owners.items() if len(macs) > 1]


def pin_mapping_problems(mapping: dict[str, str]) -> list[str]:
    """A whole MAC -> name pin map: every MAC and name, then names used twice (the wizard's check)."""
    problems = []
    for mac, name in mapping.items():
        problems += [p for p in (mac_problem(mac), pin_name_problem(name, mac.lower())) if p]
    return problems + duplicate_pin_name_problems(mapping)


def fingerprint_problem(fingerprint: str) -> str | None:
    if not _FINGERPRINT.match(fingerprint):
        return ("is not a SHA-256 certificate fingerprint (64 hex digits, with or without colons; get it with "
                "openssl x509 -noout -fingerprint -sha256)")
    return None


def url_problem(url: str) -> str | None:
    if not re.match(r"^https?://[^\s/]+", url):
        return f"'{url}' is not an http:// or https:// URL"
    return None


def ssh_key_problem(line: str) -> str | None:
    """One authorized_keys line: options (like from="...") may come first, then the key type and the key."""
    if not _SSH_KEY.search(line.strip()):
        return "does not look like an SSH public key ('ssh-ed25519 AAAA... comment')"
    return None


def subscription_key_problem(key: str) -> str | None:
    if not _SUBSCRIPTION.match(key):
        return f"'{key}' is not a subscription key like 'pve4c-0123456789'"
    return None


def glob_problem(pattern: str) -> str | None:
    """A filter glob: `*`, `?`, `[abc]`, `[a-z]`, `[!a]`; an unclosed `[` is a mistake, not a literal."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "[":
            j = i + 1
            if j < len(pattern) and pattern[j] == "!":
                j += 1
            if j < len(pattern) and pattern[j] == "]":
                j += 1
            end = pattern.find("]", j)
            if end < 0:
                return f"invalid glob '{pattern}': '[' at position {i + 1} is never closed"
            i = end
        i += 1
    return None
