"""Every rejection rule of the answer file, each with the message a person sees (key and wording)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import tomli_w

import answerfile
from installer.core.hardware import Disk, GiB, HardwareProfile, NetworkRuntime

BASE: dict[str, Any] = {
    "global": {"keyboard": "en-us", "country": "at", "fqdn": "pve1.example.com", "mailto": "admin@example.com",
               "timezone": "Europe/Vienna", "root-password": "change-me-please"},
    "network": {"source": "from-dhcp"},
    "disk-setup": {"filesystem": "ext4", "disk-list": ["sda"]},
}


def answer(change: Callable[[dict[str, Any]], Any] | None = None) -> str:
    data = copy.deepcopy(BASE)
    if change:
        change(data)
    return tomli_w.dumps(data)


def g(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["global"].update(values)


def net(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["network"].update(values)


def disks(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["disk-setup"].update(values)


def drop(section: str, key: str | None = None) -> Callable[[dict[str, Any]], None]:
    return lambda d: d.pop(section) if key is None else d[section].pop(key)


def both(*changes: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        for change in changes:
            change(d)
    return apply


STATIC = {"source": "from-answer", "cidr": "10.0.0.5/24", "gateway": "10.0.0.1", "dns": "10.0.0.1",
          "filter": {"ID_NET_NAME": "eno1"}}

OFFLINE = [
    ("unknown section suggests the right one", lambda d: d.update(globl={"a": "b"}), "[globl]",
     "unknown section; did you mean [global]?"),
    ("the old posthook section is named", lambda d: d.update(posthook={"url": "https://x"}), "[posthook]",
     "this section is now called [post-installation-webhook]"),
    ("mistyped key names its full path and the closest key", g(**{"root-pasword": "x" * 9}),
     "global.root-pasword", "unknown key; did you mean 'global.root-password'?"),
    ("key in the wrong section says where it belongs", g(filesystem="zfs"), "global.filesystem",
     "unknown key; it belongs in 'disk-setup.filesystem'"),
    ("alias and kebab spelling together", g(root_password="change-me-please"), "global.root_password",
     "are the same key; keep only 'root-password'"),
    ("string where a boolean belongs", g(**{"reboot-on-error": "yes"}), "global.reboot-on-error",
     "expected true or false, got string 'yes'"),
    ("string where a list belongs", disks(**{"disk-list": "sda"}), "disk-setup.disk-list",
     "expected an array of strings, got string 'sda' (write ['sda'])"),
    ("number where a string belongs", g(country=43), "global.country", "expected a string, got integer 43"),
    ("float where an integer belongs", lambda d: d["disk-setup"].update(filesystem="zfs", **{"disk-list": ["sda"]},
     zfs={"raid": "RAID0", "copies": 1.5}), "disk-setup.zfs.copies", "expected an integer, got float 1.5"),
    ("value outside the choices suggests one", disks(filesystem="zsf"), "disk-setup.filesystem",
     "expected one of 'ext4', 'xfs', 'zfs', 'btrfs', got 'zsf'; did you mean 'zfs'?"),
    ("infinite size", disks(lvm={"hdsize": float("inf")}), "disk-setup.lvm.hdsize",
     "expected a finite number, got inf"),
    ("number below the minimum", lambda d: d["disk-setup"].update(filesystem="zfs", zfs={"raid": "RAID0",
     "arc-max": 32}), "disk-setup.zfs.arc-max", "must be at least 64, got 32"),
    ("number above the maximum", lambda d: d["disk-setup"].update(filesystem="zfs", zfs={"raid": "RAID0",
     "copies": 4}), "disk-setup.zfs.copies", "must be at most 3, got 4"),
    ("missing section", drop("network"), "[network]", "required section is missing"),
    ("missing key", drop("global", "mailto"), "global.mailto", "required key is missing"),
    ("unknown keyboard suggests the Proxmox id", g(keyboard="us"), "global.keyboard",
     "keyboard layout 'us' is not valid; did you mean 'en-us'?"),
    ("upper-case country", g(country="AT"), "global.country",
     "country code 'AT' is not valid: write it in lower case, 'at'"),
    ("unknown country", g(country="xx"), "global.country", "country code 'xx' is not valid"),
    ("misspelt timezone suggests the zone", g(timezone="Europe/Viena"), "global.timezone",
     "timezone 'Europe/Viena' is not valid (a tzdata zone like 'Europe/Vienna', or 'UTC'); did you mean "
     "'Europe/Vienna'"),
    ("placeholder email", g(mailto="mail@example.invalid"), "global.mailto", "is the placeholder address"),
    ("address without @", g(mailto="admin"), "global.mailto", "'admin' does not look like an email address"),
    ("host name without domain", g(fqdn="pve1"), "global.fqdn", "'pve1' is not a fully-qualified domain name"),
    ("purely numeric host name", g(fqdn="123.example.com"), "global.fqdn",
     "host name '123' cannot be purely numeric"),
    ("label with an underscore", g(fqdn="pve_1.example.com"), "global.fqdn", "'pve_1' is not a valid name part"),
    ("FQDN longer than 253 characters", g(fqdn="a." + ("b" * 60 + ".") * 5 + "com"),
     "global.fqdn", "FQDN is too long: 310 > 253 characters"),
    ("bad domain in the DHCP form", g(fqdn={"source": "from-dhcp", "domain": "-bad.example"}), "global.fqdn.domain",
     "'-bad' is not a valid name part"),
    ("unknown fqdn source", g(fqdn={"source": "from-dns"}), "global.fqdn.source",
     "expected one of 'from-dhcp', got 'from-dns'"),
    ("both passwords", g(**{"root-password-hashed": "$y$j9T$abc$def"}), "global.root-password",
     "root-password and root-password-hashed cannot be set at the same time"),
    ("no password", drop("global", "root-password"), "global.root-password",
     "one of root-password or root-password-hashed must be set"),
    ("short password", g(**{"root-password": "12345"}), "global.root-password",
     "must be at least 8 characters long (got 5)"),
    ("password with a line break", g(**{"root-password": "secret-pw\nnobody:x"}), "global.root-password",
     "must not contain control characters such as line breaks or tabs (found a line break at character 10)"),
    ("hash with a line break", both(drop("global", "root-password"), g(**{"root-password-hashed":
     "$y$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr/EmjuaTz5Bt4kYiX2Iezz6omzoqVEwj9\nnobody:x"})),
     "global.root-password-hashed", "must not contain control characters such as line breaks or tabs"),
    ("hash that is not crypt(3)", both(drop("global", "root-password"), g(**{"root-password-hashed": "secret"})),
     "global.root-password-hashed", "is not a crypt(3) password hash"),
    ("bad subscription key", g(**{"subscription-key": "abc"}), "global.subscription-key",
     "'abc' is not a subscription key"),
    ("network without source", drop("network", "source"), "network.source",
     "required key is missing (\"from-dhcp\": keep what DHCP gave the live system (as static configuration); "
     "\"from-answer\": use cidr, dns, gateway and filter from this section.)"),
    ("static keys with DHCP", net(cidr="10.0.0.5/24"), "network.cidr",
     "only used with source = \"from-answer\""),
    ("static network without gateway", net(source="from-answer", cidr="10.0.0.5/24", dns="10.0.0.1",
     filter={"ID_NET_NAME": "eno1"}), "network.gateway", "required with source = \"from-answer\""),
    ("prefix length 33", lambda d: d.update(network={**STATIC, "cidr": "10.0.0.5/33"}), "network.cidr",
     "invalid IP address '10.0.0.5/33': the prefix length must be a number from 0 to 32 for IPv4, got '33'"),
    ("address without prefix", lambda d: d.update(network={**STATIC, "cidr": "10.0.0.5"}), "network.cidr",
     "the prefix length is missing"),
    ("bad DNS address", lambda d: d.update(network={**STATIC, "dns": "10.0.0.256"}), "network.dns",
     "'10.0.0.256' is not a valid IPv4 or IPv6 address"),
    ("IPv6 gateway for an IPv4 address", lambda d: d.update(network={**STATIC, "gateway": "fe80::1"}),
     "network.gateway", "is IPv6 but cidr is IPv4"),
    ("empty NIC filter", lambda d: d.update(network={**STATIC, "filter": {}}), "network.filter", "is empty"),
    ("unclosed glob bracket", lambda d: d.update(network={**STATIC, "filter": {"ID_NET_NAME": "eno[1"}}),
     "network.filter.ID_NET_NAME", "invalid glob 'eno[1': '[' at position 4 is never closed"),
    ("pinning a bad MAC", net(**{"interface-name-pinning": {"enabled": True, "mapping": {"aa:bb": "lan0"}}}),
     "network.interface-name-pinning.mapping.\"aa:bb\"", "'aa:bb' is not a MAC address"),
    ("pin name of one character", net(**{"interface-name-pinning": {"enabled": True,
     "mapping": {"aa:bb:cc:dd:ee:ff": "a"}}}), "network.interface-name-pinning.mapping.\"aa:bb:cc:dd:ee:ff\"",
     "interface name for 'aa:bb:cc:dd:ee:ff' must be at least 2 characters long"),
    ("pin name of 16 characters", net(**{"interface-name-pinning": {"enabled": True,
     "mapping": {"aa:bb:cc:dd:ee:ff": "a" * 16}}}), "network.interface-name-pinning.mapping.\"aa:bb:cc:dd:ee:ff\"",
     "cannot be longer than 15 characters"),
    ("pin name starting with a digit", net(**{"interface-name-pinning": {"enabled": True,
     "mapping": {"aa:bb:cc:dd:ee:ff": "0lan"}}}), "network.interface-name-pinning.mapping.\"aa:bb:cc:dd:ee:ff\"",
     "must start with a letter"),
    ("one pin name for two MACs", net(**{"interface-name-pinning": {"enabled": True,
     "mapping": {"aa:bb:cc:dd:ee:01": "lan0", "aa:bb:cc:dd:ee:02": "lan0"}}}),
     "network.interface-name-pinning.mapping", "interface name 'lan0' is given to more than one MAC"),
    ("pinning table without enabled", net(**{"interface-name-pinning": {"mapping": {}}}),
     "network.interface-name-pinning.enabled", "required key is missing"),
    ("disk-list and filter together", disks(filter={"ID_SERIAL": "*"}), "disk-setup.disk-list",
     "use either disk-list or filter"),
    ("no disk selection at all", drop("disk-setup", "disk-list"), "disk-setup", "no disks selected"),
    ("disk-count with disk-list", disks(**{"disk-count": 1}), "disk-setup.disk-count",
     "only works with filter selection"),
    ("empty disk filter", both(drop("disk-setup", "disk-list"), disks(filter={})), "disk-setup.filter", "is empty"),
    ("size range that cannot match", both(drop("disk-setup", "disk-list"), disks(**{"filter-size-min": 100,
     "filter-size-max": 50})), "disk-setup.filter-size-min", "is larger than filter-size-max (100 > 50 GiB)"),
    ("empty disk-list", disks(**{"disk-list": []}), "disk-setup.disk-list", "is empty"),
    ("the same disk twice", lambda d: d["disk-setup"].update(filesystem="zfs", zfs={"raid": "RAID1"},
     **{"disk-list": ["sda", "sdb", "/dev/sda"]}), "disk-setup.disk-list", "disk sda is selected more than once"),
    ("zfs options with ext4", disks(zfs={"compress": "lz4"}), "disk-setup.zfs",
     "zfs options apply to zfs only, and this answer installs ext4"),
    ("lvm options with btrfs", lambda d: d["disk-setup"].update(filesystem="btrfs", btrfs={"raid": "RAID0"},
     lvm={"swapsize": 4}), "disk-setup.lvm", "lvm options apply to ext4 and xfs only"),
    ("zfs without RAID level", disks(filesystem="zfs"), "disk-setup.zfs.raid", "ZFS needs a RAID level"),
    ("btrfs without RAID level", disks(filesystem="btrfs"), "disk-setup.btrfs.raid", "Btrfs needs a RAID level"),
    ("ext4 on two disks", disks(**{"disk-list": ["sda", "sdb"]}), "disk-setup.disk-list",
     "ext4 installs on exactly one disk, got 2"),
    ("ext4 with disk-count 2", both(drop("disk-setup", "disk-list"), disks(filter={"ID_SERIAL": "*"},
     **{"disk-count": 2})), "disk-setup.disk-count", "ext4 installs on exactly one disk, got disk-count = 2"),
    ("swap above half the hdsize", disks(lvm={"hdsize": 32, "swapsize": 16.01}), "disk-setup.lvm.swapsize",
     "Swap size 16.01 GiB cannot be greater than 16 GiB (hard disk size / 2)"),
    ("RAID10 on one listed disk", lambda d: d["disk-setup"].update(filesystem="zfs", zfs={"raid": "raid10"}),
     "disk-setup.disk-list", "ZFS RAID10 needs at least 4 disks, got 1"),
    ("webhook without url", lambda d: d.update({"post-installation-webhook": {"auth-token": "t"}}),
     "post-installation-webhook.url", "required key is missing"),
    ("webhook with a bad fingerprint", lambda d: d.update({"post-installation-webhook": {
     "url": "https://h.example", "cert-fingerprint": "abc"}}), "post-installation-webhook.cert-fingerprint",
     "is not a SHA-256 certificate fingerprint"),
    ("first boot from URL without URL", lambda d: d.update({"first-boot": {"source": "from-url"}}),
     "first-boot.url", "required with source = \"from-url\""),
    ("first boot URL that is not http", lambda d: d.update({"first-boot": {"source": "from-url",
     "url": "ftp://h/x"}}), "first-boot.url", "'ftp://h/x' is not an http:// or https:// URL"),
]


@pytest.mark.parametrize(("change", "key", "message"), [c[1:] for c in OFFLINE], ids=[c[0] for c in OFFLINE])
def test_offline_rejection(change, key, message):
    problems, _ = answerfile.validate_text(answer(change))
    assert any(p.key == key and message in p.message for p in problems), "\n".join(map(str, problems))


PLACEHOLDER = "a template placeholder was left unfilled"


@pytest.mark.parametrize(("change", "key", "message"), [
    (g(fqdn="{{ fqdn }}"), "global.fqdn", f"{PLACEHOLDER}: {{{{ fqdn }}}}"),
    (g(fqdn="{{ inventory_hostname }}.example.com"), "global.fqdn", f"{PLACEHOLDER}: {{{{ inventory_hostname }}}}"),
    (g(fqdn={"source": "from-dhcp", "domain": "{{domain}}"}), "global.fqdn.domain", f"{PLACEHOLDER}: {{{{domain}}}}"),
    (g(mailto="{{ admin_email }}"), "global.mailto", f"{PLACEHOLDER}: {{{{ admin_email }}}}"),
    (g(**{"root-password": "{{ vault_root_password }}"}), "global.root-password", PLACEHOLDER),
    (lambda d: d.update(network={**STATIC, "cidr": "{{ ip }}/24"}), "network.cidr", f"{PLACEHOLDER}: {{{{ ip }}}}"),
    (lambda d: d.update(network={**STATIC, "gateway": "{{ gw }}"}), "network.gateway", f"{PLACEHOLDER}: {{{{ gw }}}}"),
], ids=["fqdn", "host part of the fqdn", "domain", "mailto", "root password, not echoed", "cidr", "gateway"])
def test_an_unfilled_template_placeholder_is_named_as_such(change, key, message):
    problems, _ = answerfile.validate_text(answer(change))
    assert [(p.key, p.message) for p in problems] == [(key, message)]


def test_an_unquoted_template_placeholder_is_named_in_the_toml_error():
    text = answer().replace('fqdn = "pve1.example.com"', "fqdn = {{ fqdn }}")
    problems, _ = answerfile.validate_text(text)
    assert [str(p) for p in problems] == [f"TOML syntax error at line 4, column 9: {PLACEHOLDER}: {{{{ fqdn }}}} "
                                          "(fill it in; text goes in quotes)"]


GATEWAY_WARNINGS = [
    ("gateway outside the subnet", {"gateway": "10.0.1.1"},
     "10.0.1.1 is outside 10.0.0.0/24, the subnet of cidr 10.0.0.5/24: the host cannot reach it directly"),
    ("gateway equal to the host's address", {"gateway": "10.0.0.5"},
     "10.0.0.5 is the host's own address (cidr 10.0.0.5/24); the gateway is another machine, usually the router"),
    ("IPv6 gateway outside the prefix", {"cidr": "2001:db8:1::5/64", "gateway": "2001:db8:2::1", "dns": "2001:db8::53"},
     "2001:db8:2::1 is outside 2001:db8:1::/64, the subnet of cidr 2001:db8:1::5/64: the host cannot reach it "
     "directly"),
]


@pytest.mark.parametrize(("values", "message"), [c[1:] for c in GATEWAY_WARNINGS], ids=[c[0] for c in GATEWAY_WARNINGS])
def test_a_gateway_the_host_cannot_use_is_a_warning(values, message):
    problems, warnings = answerfile.validate_text(answer(lambda d: d.update(network={**STATIC, **values})))
    assert problems == []
    assert [(w.key, w.message) for w in warnings] == [("network.gateway", message)]


@pytest.mark.parametrize("values", [{}, {"cidr": "2001:db8:1::5/64", "gateway": "fe80::1", "dns": "2001:db8::53"}],
                         ids=["gateway in the subnet", "IPv6 link-local gateway (the usual router address)"])
def test_a_usable_gateway_gives_no_warning(values):
    assert answerfile.validate_text(answer(lambda d: d.update(network={**STATIC, **values}))) == ([], [])


def test_the_base_answer_is_valid_offline():
    assert answerfile.validate_text(answer()) == ([], [])


def test_toml_syntax_error_names_line_and_column():
    problems, _ = answerfile.validate_text('[global]\nkeyboard = "de"\ncountry = at\n')
    assert [str(p) for p in problems] == [
        'TOML syntax error at line 3, column 11: invalid value (text needs quotes: "at")']


def test_toml_syntax_error_shows_the_line():
    problems, _ = answerfile.validate_text('[global]\nkeyboard = "de\n')
    assert [str(p) for p in problems] == [
        "TOML syntax error at line 2, column 15: illegal character '\\n' in: keyboard = \"de"]


def test_all_problems_are_reported_at_once():
    text = answer(both(g(keyboard="us", country="AT", fqdn="pve1"), g(**{"root-password": "short"}),
                       disks(filesystem="zsf")))
    problems, _ = answerfile.validate_text(text)
    assert [p.key for p in problems] == ["global.keyboard", "global.country", "global.fqdn",
                                         "global.root-password", "disk-setup.filesystem"]


def test_deprecated_snake_case_keys_warn_and_still_work(example):
    text = answer(both(drop("global", "root-password"), g(root_password="change-me-please"),
                       drop("disk-setup", "disk-list"), disks(disk_list=["sda"])))
    result = answerfile.resolve_text(text, example)
    assert [str(w) for w in result.warnings] == [
        "global.root_password: deprecated key 'root_password', use 'root-password' instead",
        "disk-setup.disk_list: deprecated key 'disk_list', use 'disk-list' instead",
    ]
    assert result.config.root.password == "change-me-please"


def test_error_text_lists_one_problem_per_line():
    with pytest.raises(answerfile.AnswerError) as caught:
        answerfile.parse_install_config(answer(g(keyboard="us", country="AT")), HardwareProfile())
    assert str(caught.value).splitlines()[0].startswith("global.keyboard: keyboard layout 'us' is not valid")
    assert str(caught.value).splitlines()[1].startswith("global.country: country code 'AT'")


GOOD_HASH = "$y$j9T$VgMv8lsz/TEvzesCZU3xD.$SK.h4QW51Jr/EmjuaTz5Bt4kYiX2Iezz6omzoqVEwj9"
GOOD_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILMC05fsoW1rmFFXxBTMSiTO4iKpRSyaqHYbyHSXLD6Q admin@host"
HASH_PLACEHOLDER = "$6$YOUR_HASH"
KEY_PLACEHOLDER = "ssh-ed25519 ChangeMe… ChangeMe"
HASH_SHAPE = "is not a complete SHA-512 crypt hash"
KEY_SHAPE = "the key data after 'ssh-ed25519' is not base64 text"


def hashed(value: str, *keys: str) -> Callable[[dict[str, Any]], None]:
    return both(drop("global", "root-password"), g(**{"root-password-hashed": value, "root-ssh-keys": list(keys)}))


# What Proxmox accepts as written (it checks neither keys nor hashes) stays a warning while root can still log in.
LOGIN_WARNINGS = [
    ("a key placeholder beside a password", g(**{"root-ssh-keys": [KEY_PLACEHOLDER]}), "global.root-ssh-keys[0]",
     f"{KEY_SHAPE}: a placeholder, or a key cut short? (Proxmox does not check this, and root can still log in "
     "with the password)"),
    ("a hash placeholder beside a working key", hashed(HASH_PLACEHOLDER, GOOD_KEY), "global.root-password-hashed",
     f"{HASH_SHAPE}: after '$6$' come an optional 'rounds=N$', a salt of up to 16 characters, '$' and 86 "
     "characters of ./0-9A-Za-z (create one with: mkpasswd -m sha512crypt) (Proxmox does not check this, and "
     "root can still log in with an SSH key)"),
    ("a key placeholder beside a working key", hashed(HASH_PLACEHOLDER, KEY_PLACEHOLDER, GOOD_KEY),
     "global.root-ssh-keys[0]", "(Proxmox does not check this, and root can still log in with another SSH key)"),
    ("a text that is no key beside a working hash", hashed(GOOD_HASH, "hello"), "global.root-ssh-keys[0]",
     "does not look like an SSH public key ('ssh-ed25519 AAAA... comment') (Proxmox does not check this, and root "
     "can still log in with the password)"),
]


@pytest.mark.parametrize(("change", "key", "message"), [c[1:] for c in LOGIN_WARNINGS],
                         ids=[c[0] for c in LOGIN_WARNINGS])
def test_login_values_proxmox_accepts_only_warn_while_root_can_log_in(change, key, message):
    problems, warnings = answerfile.validate_text(answer(change))
    assert problems == []
    assert any(w.key == key and message in w.message for w in warnings), "\n".join(map(str, warnings))


@pytest.mark.parametrize(("change", "key", "message"), [c[1:] for c in LOGIN_WARNINGS],
                         ids=[c[0] for c in LOGIN_WARNINGS])
def test_strict_validation_refuses_what_only_warns(change, key, message):
    problems, warnings = answerfile.validate_text(answer(change), strict=True)
    assert any(p.key == key and message in p.message for p in problems), "\n".join(map(str, problems))
    assert not any(w.key == key for w in warnings)


NO_LOGIN = "(and no other root login would work: no usable password or SSH key)"


@pytest.mark.parametrize(("change", "expected"), [
    (hashed(HASH_PLACEHOLDER), [("global.root-password-hashed", HASH_SHAPE)]),
    (hashed("secret"), [("global.root-password-hashed", "is not a crypt(3) password hash")]),
    (hashed(HASH_PLACEHOLDER, KEY_PLACEHOLDER, "hello"), [("global.root-password-hashed", HASH_SHAPE),
                                                          ("global.root-ssh-keys[0]", KEY_SHAPE),
                                                          ("global.root-ssh-keys[1]", "does not look like")]),
], ids=["a hash placeholder and no key", "plain text as the hash", "a hash placeholder and only bad keys"])
def test_login_values_are_refused_when_root_could_not_log_in(change, expected):
    problems, _ = answerfile.validate_text(answer(change))
    assert [p.key for p in problems] == [key for key, _ in expected]
    for problem, (_, start) in zip(problems, expected, strict=True):
        assert problem.message.startswith(start) and problem.message.endswith(NO_LOGIN), problem.message


def test_a_bad_key_beside_a_short_password_is_refused_too():
    problems, _ = answerfile.validate_text(answer(g(**{"root-password": "short", "root-ssh-keys": ["hello"]})))
    assert [p.key for p in problems] == ["global.root-password", "global.root-ssh-keys[0]"]


def _with(example: HardwareProfile, **changes: Any) -> HardwareProfile:
    return replace(example, **changes)


def _small(name: str, gib: float, index: int, block: int = 512) -> Disk:
    return Disk(name=name, path=f"/dev/{name}", size_bytes=int(gib * GiB), index=index, logical_block_size=block,
                udev={"ID_SERIAL": f"small-{name}"})


HARDWARE = [
    ("ext4 disk not on the machine", disks(**{"disk-list": ["sdz"]}), None, "disk-setup.disk-list",
     "disk 'sdz' not found; disks on this machine: sda, sdb, sdc, sdd, sde, sdf, nvme0n1, sdg"),
    ("no listed RAID disk on the machine", lambda d: d["disk-setup"].update(filesystem="zfs",
     zfs={"raid": "RAID0"}, **{"disk-list": ["sdx", "sdy"]}), None, "disk-setup.disk-list",
     "none of the listed disks is on this machine"),
    ("filter that matches nothing lists the candidates", both(drop("disk-setup", "disk-list"),
     disks(filter={"ID_MODEL": "WD*"})), None, "disk-setup.filter",
     "no disk matches ID_MODEL='WD*'; candidates: sda (ID_MODEL='SAMSUNG_MZ7KM240HAGR-00005', "
     "223.57 GiB)"),
    ("an ext4 filter of two keys takes the first disk matching either, whatever filter-match says",
     both(drop("disk-setup", "disk-list"), disks(filter={"ID_MODEL": "PERC*", "ID_WWN": "0x5000c5*"},
                                                 **{"filter-match": "all"})), None, "disk-setup.filter",
     "no disk matches ID_MODEL='PERC*' or ID_WWN='0x5000c5*' (ext4 takes the first disk that matches any of them; "
     "filter-match does not apply to ext4); candidates: sda (ID_MODEL='SAMSUNG_MZ7KM240HAGR-00005', "
     "ID_WWN='0x5002538c40000001', 223.57 GiB)"),
    ("a ZFS filter with filter-match = all needs every key", lambda d: d.update({"disk-setup": {
     "filesystem": "zfs", "zfs": {"raid": "RAID1"}, "filter": {"ID_MODEL": "PERC*", "ID_SERIAL": "X*"},
     "filter-match": "all"}}), None, "disk-setup.filter",
     "no disk matches ID_MODEL='PERC*' and ID_SERIAL='X*' (filter-match = all); candidates:"),
    ("a ZFS filter with filter-match = any needs one key", lambda d: d.update({"disk-setup": {
     "filesystem": "zfs", "zfs": {"raid": "RAID1"}, "filter": {"ID_MODEL": "PERC*", "ID_SERIAL": "X*"}}}), None,
     "disk-setup.filter", "no disk matches ID_MODEL='PERC*' or ID_SERIAL='X*' (filter-match = any); candidates:"),
    ("a size bound with a filter", both(drop("disk-setup", "disk-list"), disks(filter={"ID_MODEL": "ST4000*"},
     **{"filter-size-min": 5000})), None, "disk-setup.filter",
     "no disk of >= 5000 GiB matches ID_MODEL='ST4000*'; candidates:"),
    ("only size bounds", both(drop("disk-setup", "disk-list"), disks(**{"filter-size-min": 5000,
     "filter-size-max": 6000})), None, "disk-setup.filter-size-min",
     "no disk is >= 5000 GiB and <= 6000 GiB; candidates:"),
    ("install medium never matches a filter", both(drop("disk-setup", "disk-list"),
     disks(filter={"ID_MODEL": "Ultra*"})), None, "disk-setup.filter", "no disk matches ID_MODEL='Ultra*'"),
    ("install medium named in disk-list", disks(**{"disk-list": ["sdg"]}), None, "disk-setup.disk-list",
     "disk sdg holds the running Keel install medium and cannot be an install target"),
    ("disk-count larger than the matches", lambda d: d.update({"disk-setup": {"filesystem": "zfs",
     "zfs": {"raid": "RAID1"}, "filter": {"ID_MODEL": "SAMSUNG*"}, "disk-count": 3}}), None,
     "disk-setup.disk-count", "wants 3 disks but only 2 match: sda, sdb"),
    ("RAIDZ-2 on too few filtered disks names them", lambda d: d.update({"disk-setup": {"filesystem": "zfs",
     "zfs": {"raid": "RAIDZ-2"}, "filter": {"ID_MODEL": "SAMSUNG*"}}}), None, "disk-setup.filter",
     "ZFS RAIDZ-2 needs at least 4 disks, got 2 (the filter selected: sda, sdb)"),
    ("mirror of very different disks", lambda d: d["disk-setup"].update(filesystem="zfs", zfs={"raid": "RAID1"},
     **{"disk-list": ["sda", "sdc"]}), None, "disk-setup.disk-list",
     "mirrored disks must have about the same size (within 10 %): sda has 223.57 GiB, sdc has 3726.02 GiB"),
    ("swap above half the disk", disks(lvm={"swapsize": 200}), None, "disk-setup.lvm.swapsize",
     "Swap size 200 GiB cannot be greater than 111.79 GiB (hard disk size / 2)"),
    ("NIC filter that matches nothing lists the candidates", lambda d: d.update(network={**STATIC,
     "filter": {"ID_NET_DRIVER": "e1000*"}}), None, "network.filter",
     "no network interface matches ID_NET_DRIVER='e1000*'; candidates: eno1 (ID_NET_DRIVER='igb')"),
    ("pinned name colliding with a default name", net(**{"interface-name-pinning": {"enabled": True,
     "mapping": {"3c:ec:ef:10:00:01": "nic1"}}}), None, "network.interface-name-pinning.mapping",
     "interface name 'nic1' would be used twice"),
    ("from-dhcp FQDN without a DHCP host name", g(fqdn={"source": "from-dhcp"}),
     {"network": NetworkRuntime(domain="lab.example")}, "global.fqdn.source",
     "set to \"from-dhcp\", but the DHCP server did not provide a host name"),
    ("from-dhcp FQDN without any domain", g(fqdn={"source": "from-dhcp", "domain": ""}),
     {"network": NetworkRuntime(hostname="pve-demo")}, "global.fqdn.domain",
     "no domain received from DHCP server and global.fqdn.domain is unset"),
    ("machine without NICs", None, {"nics": ()}, "network", "no network interface found on this machine"),
    ("4Kn disk with BIOS boot", disks(**{"disk-list": ["nvme9n1"]}),
     {"boot_mode": "bios", "disks": (_small("nvme9n1", 100, 0, block=4096),)}, "disk-setup.disk-list",
     "Booting from 4Kn drive in legacy BIOS mode is not supported: nvme9n1 has 4096-byte logical sectors"),
    ("disk below 2 GiB", disks(**{"disk-list": ["sdq"]}), {"disks": (_small("sdq", 1.5, 0),)},
     "disk-setup.disk-list", "disk sdq is too small: 1 GiB usable, at least 2 GiB needed"),
    ("disk below 8 GiB unattended", disks(**{"disk-list": ["sdq"]}), {"disks": (_small("sdq", 6, 0),)},
     "disk-setup.disk-list", "disk sdq is too small for an unattended install: 6 GiB usable"),
]


@pytest.mark.parametrize(("change", "hardware", "key", "message"), [c[1:] for c in HARDWARE],
                         ids=[c[0] for c in HARDWARE])
def test_hardware_rejection(example, change, hardware, key, message):
    profile = _with(example, **hardware) if hardware else example
    problems, _ = answerfile.validate_text(answer(change), profile)
    assert any(p.key == key and message in p.message for p in problems), "\n".join(map(str, problems))


def test_disk_below_8_gib_is_allowed_interactively(example):
    profile = _with(example, disks=(_small("sdq", 6, 0),))
    problems, _ = answerfile.validate_text(answer(disks(**{"disk-list": ["sdq"]})), profile, unattended=False)
    assert problems == []


def test_unknown_raid_disk_is_skipped_with_a_warning(example):
    text = answer(lambda d: d["disk-setup"].update(filesystem="zfs", zfs={"raid": "RAID1"},
                                                   **{"disk-list": ["sda", "sdx", "sdb"]}))
    result = answerfile.resolve_text(text, example)
    assert result.config.disk_setup.disks == ("/dev/sda", "/dev/sdb")
    assert [w.message for w in result.warnings] == [
        "disk 'sdx' is not on this machine and is skipped (disks here: sda, sdb, sdc, sdd, sde, sdf, nvme0n1, sdg)"]


def test_unknown_pinned_mac_only_warns(example):
    text = answer(net(**{"interface-name-pinning": {"enabled": True, "mapping": {"aa:bb:cc:dd:ee:ff": "lan9"}}}))
    result = answerfile.resolve_text(text, example)
    assert [w.message for w in result.warnings] == ["MAC aa:bb:cc:dd:ee:ff is not on this machine; ignored"]
