"""The per-value checks the answer file and the wizard share (installer.core.checks)."""

from __future__ import annotations

import base64
import re
import struct

import pytest

from installer.core import checks


@pytest.mark.parametrize("fqdn", ["pve1.example.com", "a.b", "pve-1.sub.example.org", "x" * 63 + ".example.com"],
                         ids=["plain", "shortest", "dash and subdomain", "63-character host"])
def test_good_fqdns_pass(fqdn):
    assert checks.fqdn_problem(fqdn) is None


@pytest.mark.parametrize(
    ("fqdn", "message"),
    [
        ("pve1", "'pve1' is not a fully-qualified domain name"),
        ("1234.example.com", "host name '1234' cannot be purely numeric"),
        ("-pve.example.com", "'-pve' is not a valid name part"),
        ("pve-.example.com", "'pve-' is not a valid name part"),
        ("pve..com", "'' is not a valid name part"),
        ("x" * 64 + ".example.com", "is not a valid name part"),
        ("a." + "b" * 252, "FQDN is too long: 254 > 253 characters"),
    ],
    ids=["host only", "numeric host", "leading dash", "trailing dash", "empty label", "64-character label",
         "254 characters"],
)
def test_bad_fqdns_name_the_problem(fqdn, message):
    assert message in (checks.fqdn_problem(fqdn) or "")


@pytest.mark.parametrize(("email", "ok"), [("admin@example.com", True), ("mail@no.invalid", True),
                                           ("a.b+c@sub.example.org", True), ("mail@example.invalid", False),
                                           ("admin", False), ("admin@", False), ("@example.com", False),
                                           ("a b@example.com", False)])
def test_email_rule(email, ok):
    assert (checks.email_problem(email) is None) is ok


@pytest.mark.parametrize("fqdn", ["my_host", "{{ fqdn }}", "1234"], ids=["underscore", "placeholder", "numeric"])
def test_a_suggested_fqdn_is_itself_valid(fqdn):
    suggestions = re.findall(r"like '([^']+)'", checks.fqdn_problem(fqdn) or "")
    assert all(checks.fqdn_problem(s) is None for s in suggestions)


@pytest.mark.parametrize(("value", "placeholder"), [("{{ fqdn }}", "{{ fqdn }}"), ("{{fqdn}}.lan", "{{fqdn}}"),
                                                    ("{{{ raw }}}", "{{ raw }}"), ("{{ .Host }}", "{{ .Host }}"),
                                                    ("pve1.example.com", None), ("a{b}c", None)],
                         ids=["Jinja", "in a longer value", "Mustache triple", "Go template", "no template",
                              "single braces"])
def test_template_placeholders_are_found(value, placeholder):
    assert checks.template_placeholder(value) == placeholder


@pytest.mark.parametrize(("cidr", "gateway", "warning"), [
    ("10.0.0.5/24", "10.0.0.1", None),
    ("10.0.0.5/24", "10.0.1.1", "10.0.1.1 is outside 10.0.0.0/24, the subnet of cidr 10.0.0.5/24: the host cannot "
                                "reach it directly"),
    ("10.0.0.5/24", "10.0.0.5", "10.0.0.5 is the host's own address (cidr 10.0.0.5/24); the gateway is another "
                                "machine, usually the router"),
    ("2001:db8::5/64", "fe80::1", None),
    ("10.0.0.5/24", "2001:db8::1", None),
    ("10.0.0.5", "10.0.0.1", None),
], ids=["same subnet", "other subnet", "own address", "IPv6 link-local gateway", "other family (an error elsewhere)",
        "no prefix (an error elsewhere)"])
def test_gateway_warning(cidr, gateway, warning):
    assert checks.gateway_warning(cidr, gateway) == warning


def test_password_needs_eight_characters():
    assert checks.password_problem("1234567") == "must be at least 8 characters long (got 7)"
    assert checks.password_problem("12345678") is None


@pytest.mark.parametrize(("password", "found"), [
    ("secret-pw\nnobody:x", "a line break at character 10"),
    ("secret-pw\r", "a carriage return at character 10"),
    ("secret\tpw", "a tab at character 7"),
    ("\x00secret-pw", "U+0000 at character 1"),
    ("secret-pw\x7f", "U+007F at character 10"),
    ("secret-pw\x85", "U+0085 at character 10"),
], ids=["a line break would give chpasswd a second line", "carriage return", "tab", "NUL", "DEL",
        "C1 next-line"])
def test_password_with_a_control_character_is_refused(password, found):
    assert checks.password_problem(password) == (
        f"must not contain control characters such as line breaks or tabs (found {found})")


def test_password_may_hold_spaces_colons_and_non_ascii_letters():
    assert checks.password_problem("correct horse: bätterÿ") is None


def test_password_hash_with_a_control_character_is_refused():
    hashed = "$y$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr/EmjuaTz5Bt4kYiX2Iezz6omzoqVEwj9"
    assert checks.password_hash_problem(hashed + "\nnobody:x") == (
        "must not contain control characters such as line breaks or tabs (found a line break at character 74)")


# Hashes made by mkpasswd, openssl passwd and libxcrypt for "install-test-pw"; yescrypt is Proxmox's fixture.
GOOD_HASHES = [
    ("yescrypt", "$y$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr/EmjuaTz5Bt4kYiX2Iezz6omzoqVEwj9"),
    ("gost-yescrypt", "$gy$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr/EmjuaTz5Bt4kYiX2Iezz6omzoqVEwj9"),
    ("SHA-512", "$6$Wn.WD6jR.YsxPsvw$vE.ng1Iv7Ukmeoe.c0PVyWQd8snc0dmCmu4xW9HjFFZ4pP3d/1gYUu1LieJveGWkBNmKcVSYZEk"
                ".pHrxx7//V1"),
    ("SHA-512 with rounds", "$6$rounds=10000$abcdefgh$" + "x" * 86),
    ("SHA-256", "$5$abcdefgh$uMLZhA462Q8CCV55Y2YO8bH6wRECHx7/ucS.z81LN51"),
    ("MD5", "$1$RjIpO1oU$uwUaNlSBIom0yjZSQxGnt."),
    ("bcrypt 2b", "$2b$12$Mez/n52pk6xGAMVZsv8NyO5QJ8wHin5W/rrKhJVzpFaSCQSL2Eoaa"),
    ("bcrypt 2y", "$2y$10$abcdefghijklmnopqrstuuh2/u04PAoYBy/583IJvSBYs/v2x.d8G"),
    ("scrypt", "$7$CU..../....abcdefghijklmnop$CDWRm7mlHVRt0ujHOarf1aSEPUbTUqwHGYIZV61NWXA"),
    ("SHA-1", "$sha1$40000$abcdefgh$SE0xEoQ7YbU4YhVhdr9IDwH1oXxy"),
    ("DES", "abM23KQns5gNc"),
    ("extended DES", "_J9..abcdzo0X9mW5LOo"),
]


@pytest.mark.parametrize("hashed", [h for _, h in GOOD_HASHES], ids=[name for name, _ in GOOD_HASHES])
def test_crypt_hashes_of_every_scheme_pass(hashed):
    assert checks.password_hash_problem(hashed) is None


@pytest.mark.parametrize(("hashed", "message"), [
    ("$6$YOUR_HASH", "is not a complete SHA-512 crypt hash: after '$6$' come an optional 'rounds=N$', a salt of "
                     "up to 16 characters, '$' and 86 characters of ./0-9A-Za-z (create one with: mkpasswd -m "
                     "sha512crypt)"),
    ("$6$salt$abcdefghijk", "is not a complete SHA-512 crypt hash"),
    ("$6$Wn.WD6jR.YsxPsvw$vE.ng1Iv7Ukmeoe.c0PVyWQd8snc0dmCmu4xW9HjFFZ4pP3d/1gYUu1LieJveGWkBNmKcVSYZEk",
     "is not a complete SHA-512 crypt hash"),
    ("$5$abcdefgh$" + "x" * 86, "is not a complete SHA-256 crypt hash"),
    ("$y$j9T$CHANGEME", "is not a complete yescrypt hash: after '$y$' come parameters, '$', a salt, '$' and 43 "
                        "characters of ./0-9A-Za-z (create one with: mkpasswd -m yescrypt)"),
    ("$1$saltsalt$short", "is not a complete MD5 crypt hash"),
    ("$2b$12$tooshort", "is not a complete bcrypt hash"),
    ("$9$abc$def", "'$9$' is not a crypt(3) hash scheme Keel knows (yescrypt $y$, gost-yescrypt $gy$, "
                   "SHA-512 crypt $6$, SHA-256 crypt $5$, bcrypt $2b$, scrypt $7$, SHA-1 crypt $sha1$, "
                   "MD5 crypt $1$)"),
    ("plain text", "is not a crypt(3) password hash like '$y$j9T$...' (create one with: mkpasswd)"),
    ("$6", "is not a crypt(3) password hash like '$y$j9T$...'"),
    ("x" * 13 + "!", "is not a crypt(3) password hash like '$y$j9T$...'"),
], ids=["SHA-512 placeholder without salt and hash", "SHA-512 hash far too short", "SHA-512 hash cut short",
        "SHA-256 with a SHA-512 length", "yescrypt placeholder", "MD5 too short", "bcrypt too short",
        "unknown scheme", "plain text", "a dollar and a digit", "text of a DES length"])
def test_hash_placeholders_and_cut_hashes_name_the_expected_shape(hashed, message):
    assert message in (checks.password_hash_problem(hashed) or "")


@pytest.mark.parametrize(("cidr", "ok"), [("10.0.0.1/24", True), ("10.0.0.1/0", True), ("10.0.0.1/32", True),
                                          ("2001:db8::1/64", True), ("2001:db8::1/128", True),
                                          ("10.0.0.1/33", False), ("2001:db8::1/129", False),
                                          ("10.0.0.1", False), ("10.0.0.256/24", False), ("10.0.0.1/x", False)])
def test_cidr_rule(cidr, ok):
    assert (checks.cidr_problem(cidr) is None) is ok


def test_ip_rule():
    assert checks.ip_problem("192.168.1.1") is None
    assert checks.ip_problem("fe80::1") is None
    assert checks.ip_problem("192.168.1") == "'192.168.1' is not a valid IPv4 or IPv6 address"


def test_locale_values_come_from_tzdata_and_the_keyboard_table():
    assert checks.timezone_problem("Europe/Vienna") is None
    assert checks.timezone_problem("UTC") is None
    assert checks.country_problem("at") is None
    assert checks.keyboard_problem("de-ch") is None
    assert "did you mean 'Europe/Vienna'" in checks.timezone_problem("Europe/Viena")
    assert "did you mean 'at'" in checks.country_problem("Austria")
    assert "did you mean 'de-ch'" in checks.keyboard_problem("ch")


@pytest.mark.parametrize(("name", "ok"), [("lan0", True), ("mgmt", True), ("nic_10", True), ("eth0.100", True),
                                          ("a", False), ("0lan", False), ("lan-0", False), ("a" * 16, False)])
def test_pin_name_rule(name, ok):
    assert (checks.pin_name_problem(name, "aa:bb:cc:dd:ee:ff") is None) is ok


def test_fingerprint_with_or_without_colons():
    assert checks.fingerprint_problem("ab" * 32) is None
    assert checks.fingerprint_problem(":".join(["AB"] * 32)) is None
    assert checks.fingerprint_problem("ab" * 31) is not None


@pytest.mark.parametrize(("pattern", "ok"), [("*SSD*", True), ("sd[a-c]", True), ("sd[!a]", True),
                                             ("[]]", True), ("sd[a", False)])
def test_glob_rule(pattern, ok):
    assert (checks.glob_problem(pattern) is None) is ok


def test_subscription_key_rule():
    assert checks.subscription_key_problem("pve4c-0123456789") is None
    assert checks.subscription_key_problem("pve4c-012345678") is not None


ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILMC05fsoW1rmFFXxBTMSiTO4iKpRSyaqHYbyHSXLD6Q admin@host"
ECDSA = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBDZfy/yLc7J/7vwnC6J7dnz3Nrlty+oPMj"
         "slz13EpMel/YJbJzBJXC5iqlBVvlZpVcj//aA+pHd0A9y/VDn0jIM= ops")
RSA = ("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDHi4WFjgqIdszdYx/G/bEsL4VYURVHECoXB0yCzQqnwEhs4C5fniokn8Wde8sAJYdzQ/92"
       "y10GwgiLe/dOIoWuI3RBM62DjDSchYEbRAY5rnX4XivGEOXzWQOSSolmjbEYmvHUdXzl4vlZLzjT+SYENmygGfI/45DyIwR6zJocOQ== old")


def _ssh_blob(*fields: bytes) -> str:
    """A key blob as the SSH wire format defines it: each field a 4-byte big-endian length and its bytes."""
    return base64.b64encode(b"".join(struct.pack(">I", len(f)) + f for f in fields)).decode()


SK_ED25519 = "sk-ssh-ed25519@openssh.com " + _ssh_blob(b"sk-ssh-ed25519@openssh.com", b"k" * 32, b"ssh:") + " yubi"


@pytest.mark.parametrize("line", [
    ED25519, ECDSA, RSA, SK_ED25519, ED25519.rsplit(" ", 1)[0],
    'from="10.0.0.0/8",no-pty ' + ED25519, 'command="echo a b",restrict ' + RSA],
    ids=["ed25519 (ssh-keygen)", "ecdsa (ssh-keygen)", "rsa (ssh-keygen)", "security-key ed25519", "no comment",
         "with options", "with a quoted option holding spaces"])
def test_ssh_public_keys_pass(line):
    assert checks.ssh_key_problem(line) is None


@pytest.mark.parametrize(("line", "message"), [
    ("hello", "does not look like an SSH public key ('ssh-ed25519 AAAA... comment')"),
    ("ssh-ed25519", "does not look like an SSH public key"),
    ("ssh-ed25519 ChangeMeChangeMeChangeMe ChangeMe",
     "the key data after 'ssh-ed25519' does not start with its type: a placeholder, or a key cut short?"),
    ("ssh-ed25519 ChangeMe…", "the key data after 'ssh-ed25519' is not base64 text: a placeholder, or a key cut "
                             "short?"),
    ("ssh-ed25519 " + ED25519.split()[1][:-3], "the key data after 'ssh-ed25519' is not base64 text"),
    ("ssh-rsa " + ED25519.split()[1], "the key data is an 'ssh-ed25519' key, but the line says 'ssh-rsa'"),
    ("ssh-ed25519 " + _ssh_blob(b"ssh-ed25519", b"k" * 31), "the ssh-ed25519 key data is cut short or has extra "
                                                           "bytes"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeelExample admin@host", "the ssh-ed25519 key data is cut short"),
    ("ssh-foo " + _ssh_blob(b"ssh-foo", b"k"), "'ssh-foo' is not an SSH key type Keel knows (ssh-ed25519, "
                                               "ssh-rsa, ecdsa-sha2-nistp256, ...)"),
], ids=["no key", "type without key", "placeholder of valid base64", "placeholder with an ellipsis",
        "key with its end cut off", "type that differs from the key data", "ed25519 key one byte short",
        "made-up key of the old tests", "unknown key type"])
def test_ssh_key_placeholders_and_cut_keys_are_named(line, message):
    assert message in (checks.ssh_key_problem(line) or "")


def test_a_pin_map_is_checked_whole_for_the_wizard():
    assert checks.pin_mapping_problems({"AA:BB:CC:DD:EE:01": "lan0", "aa:bb:cc:dd:ee:02": "LAN0", "zz": "x"}) == [
        "'zz' is not a MAC address like 'aa:bb:cc:dd:ee:ff'",
        "interface name for 'zz' must be at least 2 characters long",
        "interface name 'lan0' is given to more than one MAC: aa:bb:cc:dd:ee:01, aa:bb:cc:dd:ee:02",
    ]
