"""The per-value checks the answer file and the wizard share (installer.core.checks)."""

from __future__ import annotations

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


@pytest.mark.parametrize(("hashed", "ok"), [("$y$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr", True),
                                            ("$6$salt$abcdefghijk", True), ("abcdefghijklm", True),
                                            ("plain text", False), ("$6", False)])
def test_password_hash_looks_like_crypt(hashed, ok):
    assert (checks.password_hash_problem(hashed) is None) is ok


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


@pytest.mark.parametrize(("line", "ok"), [
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKeelExample admin@host", True),
    ('from="10.0.0.0/8",no-pty ssh-rsa AAAAB3NzaC1yc2EAAAADAQAB admin', True),
    ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=", True),
    ("hello", False), ("ssh-ed25519", False)],
    ids=["plain key", "key with options", "ecdsa key", "no key", "type without key"])
def test_ssh_key_lines(line, ok):
    assert (checks.ssh_key_problem(line) is None) is ok


def test_a_pin_map_is_checked_whole_for_the_wizard():
    assert checks.pin_mapping_problems({"AA:BB:CC:DD:EE:01": "lan0", "aa:bb:cc:dd:ee:02": "LAN0", "zz": "x"}) == [
        "'zz' is not a MAC address like 'aa:bb:cc:dd:ee:ff'",
        "interface name for 'zz' must be at least 2 characters long",
        "interface name 'lan0' is given to more than one MAC: aa:bb:cc:dd:ee:01, aa:bb:cc:dd:ee:02",
    ]
