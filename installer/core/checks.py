"""Per-value checks shared by the answer file and the wizard, so both say the same thing about the same mistake.

Every check takes one value and returns None when it is fine, or a message (without the key: the caller
knows whether it is `global.fqdn` or the wizard's hostname field). The rules follow the Proxmox installer
(reference §5.2, §5.3, §6); the wording is Keel's.

    fqdn_problem("pve1")            -> "'pve1' is not a fully-qualified domain name: ..."
    password_problem("12345")       -> "must be at least 8 characters long (got 5)"
    keyboard_problem("us")          -> "keyboard layout 'us' is not valid; did you mean 'en-us'? ..."
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
import struct
import unicodedata
from dataclasses import dataclass

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
_FINGERPRINT = re.compile(r"^(?:[0-9a-f]{2}:){31}[0-9a-f]{2}$|^[0-9a-f]{64}$", re.IGNORECASE)
_SUBSCRIPTION = re.compile(r"^(?:pve[0-9]+|pbs|pmg)[cbsp]-[0-9a-f]{10}$")
# A placeholder of the template languages answer files are made with (Jinja/Ansible, Mustache, Go): {{ fqdn }}.
_TEMPLATE = re.compile(r"\{\{[^{}\n]*\}\}")
TEMPLATE_UNFILLED = "a template placeholder was left unfilled"


def _suggest(value: str, choices: list[str] | set[str] | frozenset[str], n: int = 3) -> str:
    close = difflib.get_close_matches(value, sorted(choices), n=n, cutoff=0.6)
    if not close and value.lower() != value:
        close = difflib.get_close_matches(value.lower(), sorted(choices), n=n, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def template_placeholder(value: str) -> str | None:
    """The first template placeholder ("{{ fqdn }}") in a value, or None."""
    found = _TEMPLATE.search(value)
    return found[0] if found else None


def template_problem(value: str) -> str | None:
    """A value that still holds a placeholder of the template it was made from: say so, rather than what the
    placeholder's characters break (a suggestion built from them would be just as wrong)."""
    placeholder = template_placeholder(value)
    return f"{TEMPLATE_UNFILLED}: {placeholder}" if placeholder else None


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
    if problem := template_problem(domain):
        return problem
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
    if problem := template_problem(fqdn):
        return problem
    if len(fqdn) > MAX_FQDN_LENGTH:
        return f"FQDN is too long: {len(fqdn)} > {MAX_FQDN_LENGTH} characters"
    if "." not in fqdn:
        host = fqdn if fqdn and hostname_problem(fqdn) is None else "pve1"
        return (f"'{fqdn}' is not a fully-qualified domain name: give host and domain, like "
                f"'{host}.example.com', or use fqdn.source = \"from-dhcp\"")
    host, domain = fqdn.split(".", 1)
    return hostname_problem(host) or domain_problem(domain)


def email_problem(email: str) -> str | None:
    if problem := template_problem(email):
        return problem
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
    if template_placeholder(password):
        return TEMPLATE_UNFILLED   # without the placeholder: the rest of the value may be a real password
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long (got {len(password)})"
    return None


@dataclass(frozen=True)
class CryptScheme:
    """One crypt(5) hash format: what follows its `$id$` prefix, in words and as a pattern."""

    name: str
    prefix: str
    rest: str         # a regular expression for everything after the prefix
    shape: str        # the same in words, for the message
    method: str       # mkpasswd -m METHOD


_H = "[./0-9A-Za-z]"   # crypt's base-64 alphabet
_SALT = r"[^$:\s]"
# The schemes libxcrypt (Debian's crypt, used by chpasswd -e) makes, strongest first; the order is the message's.
CRYPT_SCHEMES = (
    CryptScheme("yescrypt", "$y$", rf"{_H}+\${_H}+\${_H}{{43}}",
                f"parameters, '$', a salt, '$' and 43 characters of {_H[1:-1]}", "yescrypt"),
    CryptScheme("gost-yescrypt", "$gy$", rf"{_H}+\${_H}+\${_H}{{43}}",
                f"parameters, '$', a salt, '$' and 43 characters of {_H[1:-1]}", "gost-yescrypt"),
    CryptScheme("SHA-512 crypt", "$6$", rf"(?:rounds=\d+\$)?{_SALT}{{0,16}}\${_H}{{86}}",
                f"an optional 'rounds=N$', a salt of up to 16 characters, '$' and 86 characters of {_H[1:-1]}",
                "sha512crypt"),
    CryptScheme("SHA-256 crypt", "$5$", rf"(?:rounds=\d+\$)?{_SALT}{{0,16}}\${_H}{{43}}",
                f"an optional 'rounds=N$', a salt of up to 16 characters, '$' and 43 characters of {_H[1:-1]}",
                "sha256crypt"),
    CryptScheme("bcrypt", "$2b$", rf"\d\d\${_H}{{53}}",
                f"a two-digit cost, '$' and 53 characters of {_H[1:-1]}", "bcrypt"),
    CryptScheme("scrypt", "$7$", rf"{_H}{{11,}}\${_H}{{43}}",
                f"parameters and a salt, '$' and 43 characters of {_H[1:-1]}", "scrypt"),
    CryptScheme("SHA-1 crypt", "$sha1$", rf"\d+\${_SALT}{{1,64}}\${_H}{{28}}",
                f"rounds, '$', a salt, '$' and 28 characters of {_H[1:-1]}", "sha1crypt"),
    CryptScheme("MD5 crypt", "$1$", rf"{_SALT}{{0,8}}\${_H}{{22}}",
                f"a salt of up to 8 characters, '$' and 22 characters of {_H[1:-1]}", "md5crypt"),
)
_BCRYPT_PREFIXES = ("$2a$", "$2x$", "$2y$")
_DES = re.compile(rf"^{_H}{{13}}$|^_{_H}{{19}}$")


def password_hash_problem(hashed: str) -> str | None:
    """A crypt(3) hash as `chpasswd -e` takes it: each scheme's fields and lengths, so that a placeholder like
    "$6$YOUR_HASH" or a hash cut short while copying is caught (the scheme is named by its `$id$` prefix)."""
    if problem := control_character_problem(hashed) or template_problem(hashed):
        return problem
    if _DES.match(hashed):
        return None
    prefix = re.match(r"^\$[0-9a-z]+\$", hashed)
    if not prefix or len(hashed) <= len(prefix[0]):
        return "is not a crypt(3) password hash like '$y$j9T$...' (create one with: mkpasswd)"
    wanted = "$2b$" if prefix[0] in _BCRYPT_PREFIXES else prefix[0]
    scheme = next((s for s in CRYPT_SCHEMES if s.prefix == wanted), None)
    if scheme is None:
        known = ", ".join(f"{s.name} {s.prefix}" for s in CRYPT_SCHEMES)
        return f"'{prefix[0]}' is not a crypt(3) hash scheme Keel knows ({known})"
    if not re.fullmatch(scheme.rest, hashed[len(prefix[0]):]):
        return (f"is not a complete {scheme.name} hash: after '{prefix[0]}' come {scheme.shape} "
                f"(create one with: mkpasswd -m {scheme.method})")
    return None


def ip_problem(address: str) -> str | None:
    if problem := template_problem(address):
        return problem
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return f"'{address}' is not a valid IPv4 or IPv6 address"
    return None


def cidr_problem(cidr: str) -> str | None:
    """An address with its prefix length: "192.168.1.10/24" or "2001:db8::10/64"."""
    if problem := template_problem(cidr):
        return problem
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


def gateway_warning(cidr: str, gateway: str) -> str | None:
    """A gateway the host cannot use: its own address, or one outside its subnet (an IPv6 link-local gateway is
    fine: routers announce themselves that way). None also when cidr or gateway is invalid (errors elsewhere)."""
    try:
        interface = ipaddress.ip_interface(cidr if "/" in cidr else "")
        router = ipaddress.ip_address(gateway)
    except ValueError:
        return None
    if router.version != interface.version:
        return None
    if router == interface.ip:
        return (f"{gateway} is the host's own address (cidr {cidr}); the gateway is another machine, usually the "
                "router")
    if router not in interface.network and not (router.version == 6 and router.is_link_local):
        return (f"{gateway} is outside {interface.network}, the subnet of cidr {cidr}: the host cannot reach it "
                "directly")
    return None


def timezone_problem(zone: str) -> str | None:
    if problem := template_problem(zone):
        return problem
    zones = locales.timezones()
    if zone in zones:
        return None
    return f"timezone '{zone}' is not valid (a tzdata zone like 'Europe/Vienna', or 'UTC'){_suggest(zone, zones)}"


def keyboard_problem(keyboard: str) -> str | None:
    if problem := template_problem(keyboard):
        return problem
    if keyboard in locales.KEYBOARDS:
        return None
    by_layout = [k.id for k in locales.KEYBOARDS.values() if k.xkb_layout == keyboard.lower()]
    hint = f"; did you mean {by_layout[0]!r}?" if by_layout else _suggest(keyboard, set(locales.KEYBOARDS))
    return (f"keyboard layout '{keyboard}' is not valid{hint} "
            f"(one of: {', '.join(sorted(locales.KEYBOARDS))})")


def country_problem(country: str) -> str | None:
    if problem := template_problem(country):
        return problem
    known = locales.countries()
    if country in known:
        return None
    if country.lower() in known:
        return f"country code '{country}' is not valid: write it in lower case, '{country.lower()}'"
    matches = [cc for cc, name in known.items() if name.lower() == country.lower()]
    hint = f"; did you mean '{matches[0]}' ({known[matches[0]]})?" if matches else ""
    return f"country code '{country}' is not valid: use an ISO 3166-1 two-letter code like 'at'{hint}"


def mac_problem(mac: str) -> str | None:
    if problem := template_problem(mac):
        return problem
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
    if problem := template_problem(fingerprint):
        return problem
    if not _FINGERPRINT.match(fingerprint):
        return ("is not a SHA-256 certificate fingerprint (64 hex digits, with or without colons; get it with "
                "openssl x509 -noout -fingerprint -sha256)")
    return None


def url_problem(url: str) -> str | None:
    if problem := template_problem(url):
        return problem
    if not re.match(r"^https?://[^\s/]+", url):
        return f"'{url}' is not an http:// or https:// URL"
    return None


# How many length-prefixed fields a public key's blob holds, its type name included (RFC 4253 6.6,
# RFC 5656 3.1, RFC 8709 4, OpenSSH PROTOCOL.u2f). Certificates are only checked for their type.
SSH_KEY_FIELDS = {
    "ssh-ed25519": 2, "ssh-rsa": 3, "ecdsa-sha2-nistp256": 3, "ecdsa-sha2-nistp384": 3, "ecdsa-sha2-nistp521": 3,
    "sk-ssh-ed25519@openssh.com": 3, "sk-ecdsa-sha2-nistp256@openssh.com": 4, "ssh-dss": 5,
}
_SSH_KEY_TYPE = re.compile(r"^(?:ssh-|ecdsa-sha2-|sk-)[A-Za-z0-9@.-]+$")
_ED25519_KEY_BYTES = 32


def _ssh_strings(blob: bytes) -> tuple[list[bytes], bool]:
    """The blob as SSH wire-format strings (a 4-byte big-endian length, then that many bytes), and whether they
    fill it exactly (False: the key was cut short, or has bytes after its last field)."""
    fields, at = [], 0
    while at + 4 <= len(blob):
        (length,) = struct.unpack_from(">I", blob, at)
        if at + 4 + length > len(blob):
            return fields, False
        fields.append(blob[at + 4:at + 4 + length])
        at += 4 + length
    return fields, at == len(blob)


def _key_type_and_data(line: str) -> tuple[str, str] | None:
    """The key type and base-64 data of an authorized_keys line, after its options (which may quote blanks)."""
    text = line.strip()
    if not _SSH_KEY_TYPE.match(text.split(maxsplit=1)[0] if text else ""):
        quoted, end = False, len(text)
        for i, char in enumerate(text):
            if char == '"' and text[i - 1:i] != "\\":
                quoted = not quoted
            elif char.isspace() and not quoted:
                end = i
                break
        text = text[end:].strip()
    parts = text.split()
    if len(parts) < 2 or not _SSH_KEY_TYPE.match(parts[0]):
        return None
    return parts[0], parts[1]


def ssh_key_problem(line: str) -> str | None:
    """One authorized_keys line: options (like from="...") may come first, then the key type and the key. The
    key data must decode and begin with the same type, so that a placeholder or a key cut short is caught."""
    if problem := template_problem(line):
        return problem
    found = _key_type_and_data(line)
    if found is None:
        return "does not look like an SSH public key ('ssh-ed25519 AAAA... comment')"
    key_type, data = found
    certificate = key_type.endswith("-cert-v01@openssh.com")
    if not certificate and key_type not in SSH_KEY_FIELDS:
        return (f"'{key_type}' is not an SSH key type Keel knows (ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256, "
                "...)")
    try:
        blob = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return f"the key data after '{key_type}' is not base64 text: a placeholder, or a key cut short?"
    fields, whole = _ssh_strings(blob)
    inner = fields[0].decode("ascii", "replace") if fields else ""
    if not _SSH_KEY_TYPE.match(inner):
        return f"the key data after '{key_type}' does not start with its type: a placeholder, or a key cut short?"
    if inner != key_type:
        return f"the key data is an '{inner}' key, but the line says '{key_type}'"
    if certificate:
        return None
    if (not whole or len(fields) != SSH_KEY_FIELDS[key_type]
            or (key_type == "ssh-ed25519" and len(fields[1]) != _ED25519_KEY_BYTES)):
        return f"the {key_type} key data is cut short or has extra bytes: was it copied whole?"
    return None


@dataclass(frozen=True)
class LoginProblem:
    """What is wrong with one root login value: `value` names it ("root-password", "root-ssh-keys[1]").
    `refused` is False for a key or hash that Proxmox would take as written while another way in still works."""

    value: str
    message: str
    refused: bool


def root_login_problems(password: str | None, hashed: str | None, ssh_keys: tuple[str, ...] | list[str]) -> list[
        LoginProblem]:
    """The root password, its hash and the SSH keys, checked together. Proxmox checks neither keys nor hashes, so
    a key or hash of the wrong shape is refused only when no other root login would work. A control character or
    a short password is always refused."""
    refused: list[LoginProblem] = []
    doubtful: list[tuple[str, str]] = []
    password_works = key_works = False
    if password is not None:
        problem = password_problem(password)
        if problem:
            refused.append(LoginProblem("root-password", problem, True))
        password_works = problem is None
    if hashed is not None:
        if problem := control_character_problem(hashed):
            refused.append(LoginProblem("root-password-hashed", problem, True))
        elif problem := password_hash_problem(hashed):
            doubtful.append(("root-password-hashed", problem))
        else:
            password_works = True
    for i, line in enumerate(ssh_keys):
        if problem := ssh_key_problem(line):
            doubtful.append((f"root-ssh-keys[{i}]", problem))
        else:
            key_works = True
    out = list(refused)
    for value, problem in doubtful:
        is_key = value.startswith("root-ssh-keys")
        ways = ["the password"] if password_works else []
        if key_works:
            ways.append("another SSH key" if is_key else "an SSH key")
        if ways:
            out.append(LoginProblem(value, f"{problem} (Proxmox does not check this, and root can still log in "
                                           f"with {' or '.join(ways)})", False))
        else:
            out.append(LoginProblem(value, f"{problem} (and no other root login would work: no usable password "
                                           "or SSH key)", True))
    return out


def subscription_key_problem(key: str) -> str | None:
    if problem := template_problem(key):
        return problem
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
