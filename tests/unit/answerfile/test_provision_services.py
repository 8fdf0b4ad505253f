"""[provision.services] users, ssh-password-login, sysctl, firewall and packages in the answer file: what a valid
section reads as, each rejection with the key it names, the JSON Schema, and the firewall's networks resolved on
Keel's example server (management address 192.168.1.50/24 from DHCP)."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
import tomli_w

import answerfile
from answerfile import redaction
from answerfile.json_schema import answer_schema
from answerfile.parse import parse_text
from installer.core import services as service_rules
from installer.core.config import Firewall, InstallConfig, UserAccount
from keel_testing.compat import EXAMPLES

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEy+CzwdUoNTzg2abLiT953963nKTL82boaiIuJMp2E5 admin@example.com"
HASH = "$y$j9T$F5Jx5fExrKuJdvC0Mz1o0.$" + "h" * 43
BASE: dict[str, Any] = {
    "global": {"keyboard": "en-us", "country": "at", "fqdn": "pve1.example.com", "mailto": "admin@example.com",
               "timezone": "Europe/Vienna", "root-password": "change-me-please"},
    "network": {"source": "from-dhcp"},
    "disk-setup": {"filesystem": "ext4", "disk-list": ["sda"]},
    "provision": {
        "cluster": {"name": "rack1", "mode": "create", "cluster-secret": "kcs1-" + "A" * 43},
        "services": {
            "users": [{"name": "admin", "ssh-keys": [KEY], "groups": ["sudo"], "password-hashed": HASH}],
            "ssh-password-login": False,
            "sysctl": {"vm.swappiness": 10, "net.ipv4.tcp_rmem": "4096 87380 6291456"},
            "firewall": {"enabled": True, "allow-from": ["10.99.0.0/16"]},
            "packages": ["sudo"],
        },
    },
}


def answer(change: Callable[[dict[str, Any]], Any] | None = None) -> str:
    data = copy.deepcopy(BASE)
    if change:
        change(data)
    return tomli_w.dumps(data)


def services(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["provision"]["services"].update(values)


def user(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["provision"]["services"]["users"][0].update(values)


def firewall(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["provision"]["services"]["firewall"].update(values)


def test_a_valid_section_reads_into_typed_values():
    result = parse_text(answer())
    assert result.problems == [] and result.warnings == []
    svc = result.answer.provision.services
    assert svc.users == (UserAccount("admin", (KEY,), ("sudo",), HASH),)
    assert svc.ssh_password_login is False
    assert svc.sysctl == {"vm.swappiness": "10", "net.ipv4.tcp_rmem": "4096 87380 6291456"}
    assert svc.firewall == Firewall(cluster_networks=(), allow_from=("10.99.0.0/16",))
    assert svc.packages == ("sudo",)


def test_leaving_the_new_keys_out_changes_nothing():
    svc = parse_text(answer(lambda d: d["provision"].update(services={}))).answer.provision.services
    assert (svc.users, svc.ssh_password_login, svc.sysctl, svc.firewall, svc.packages) == ((), None, {}, None, ())


def test_an_unquoted_dotted_sysctl_key_is_the_key_it_looks_like():
    text = answer(lambda d: d["provision"]["services"].pop("sysctl")) + '\n[provision.services.sysctl]\n' \
        'vm.swappiness = 10\nnet.ipv4.conf.all.forwarding = 1\n"kernel.sysrq" = "176"\n'
    result = parse_text(text)
    assert result.problems == []
    assert result.answer.provision.services.sysctl == {"vm.swappiness": "10", "net.ipv4.conf.all.forwarding": "1",
                                                      "kernel.sysrq": "176"}


def test_a_disabled_firewall_is_none():
    assert parse_text(answer(firewall(enabled=False))).answer.provision.services.firewall is None


REJECTIONS = [
    ("root is set up by global, not as a user", user(name="root"), "provision.services.users[0].name",
     "'root' is set up by [global]"),
    ("a user name Debian's NAME_REGEX refuses", user(name="Admin"), "provision.services.users[0].name",
     "'Admin' is not a user name Debian accepts"),
    ("a user name beginning with a digit", user(name="1admin"), "provision.services.users[0].name",
     "is not a user name Debian accepts"),
    ("a user name longer than useradd takes", user(name="a" * 33), "provision.services.users[0].name",
     "at most 32 characters"),
    ("a system account's name", user(name="sshd"), "provision.services.users[0].name",
     "'sshd' is a system account or group"),
    ("a systemd account's name", user(name="systemd-network"), "provision.services.users[0].name",
     "is a system account or group"),
    ("a key cut short", user(**{"ssh-keys": [KEY[:40]]}), "provision.services.users[0].ssh-keys[0]",
     "cut short"),
    ("a placeholder instead of a key", user(**{"ssh-keys": ["{{ admin_key }}"]}),
     "provision.services.users[0].ssh-keys[0]", "a template placeholder was left unfilled"),
    ("a user without a key or a password", lambda d: d["provision"]["services"]["users"][0].update(
        {"ssh-keys": []}) or d["provision"]["services"]["users"][0].pop("password-hashed"),
     "provision.services.users[0].ssh-keys", "the user could not log in"),
    ("a plain password as the hash", user(**{"password-hashed": "secret123"}),
     "provision.services.users[0].password-hashed", "is not a crypt(3) password hash"),
    ("a group name with a capital", user(groups=["Sudo"]), "provision.services.users[0].groups[0]",
     "'Sudo' is not a group name"),
    ("the same user twice", lambda d: d["provision"]["services"]["users"].append(
        {"name": "admin", "ssh-keys": [KEY]}), "provision.services.users[1].name",
     "'admin' is the name of provision.services.users[0] too"),
    ("ssh password login as text", services(**{"ssh-password-login": "no"}),
     "provision.services.ssh-password-login", "expected true or false"),
    ("a sysctl key without a dot", services(sysctl={"swappiness": 10}), "provision.services.sysctl.swappiness",
     "'swappiness' is not a sysctl key"),
    ("a sysctl key with a space", services(sysctl={"vm.swap piness": 10}),
     "provision.services.sysctl.vm.swap piness", "is not a sysctl key"),
    ("a sysctl value that is a boolean", services(sysctl={"vm.overcommit_memory": True}),
     "provision.services.sysctl.vm.overcommit_memory", "expected a string or an integer, got boolean"),
    ("a sysctl value that is a float", services(sysctl={"vm.swappiness": 0.5}),
     "provision.services.sysctl.vm.swappiness", "expected a string or an integer, got float"),
    ("a sysctl value over two lines", services(sysctl={"kernel.x": "1\n2"}), "provision.services.sysctl.kernel.x",
     "a sysctl value is one line"),
    ("sysctl as a list", services(sysctl=["vm.swappiness=10"]), "provision.services.sysctl",
     "expected a table of keys and values"),
    ("a firewall without enabled", lambda d: d["provision"]["services"]["firewall"].pop("enabled"),
     "provision.services.firewall.enabled", "required key is missing"),
    ("an allowed network that is not one", firewall(**{"allow-from": ["office"]}),
     "provision.services.firewall.allow-from[0]", "'office' is not a network"),
    ("an allowed network without a prefix", firewall(**{"allow-from": ["10.0.0.1"]}),
     "provision.services.firewall.allow-from[0]", "has no prefix length"),
    ("cluster networks without a cluster", lambda d: [d["provision"].pop("cluster"), firewall(**{
        "cluster-networks": ["10.10.0.0/24"]})(d)], "provision.services.firewall.cluster-networks",
     "is for the links of [provision.cluster], and there is none"),
    ("a package name with a capital", services(packages=["Vim"]), "provision.services.packages[0]",
     "'Vim' is not a Debian package name"),
    ("a misspelt key gets a did-you-mean", services(**{"ssh-password-logins": True}),
     "provision.services.ssh-password-logins", "did you mean 'provision.services.ssh-password-login'?"),
    ("a misspelt user key gets a did-you-mean", user(**{"ssh-key": [KEY]}),
     "provision.services.users[0].ssh-key", "did you mean 'provision.services.users[0].ssh-keys'?"),
]


@pytest.mark.parametrize(("change", "key", "message"), [pytest.param(*case[1:], id=case[0]) for case in REJECTIONS])
def test_services_rejection(change, key, message):
    problems, _ = answerfile.validate_text(answer(change))
    assert any(p.key == key and message in p.message for p in problems), [str(p) for p in problems]


def test_the_password_hash_is_a_secret():
    text = answer()
    assert HASH not in redaction.redact_answer_text(text)
    assert HASH in redaction.secret_values(text)


def test_the_json_schema_takes_the_section_and_an_unquoted_dotted_sysctl_key():
    validator = jsonschema.Draft202012Validator(answer_schema())
    validator.validate(tomllib.loads(answer()))
    validator.validate(tomllib.loads(answer(services(sysctl={"vm": {"swappiness": 10}}))))
    assert not validator.is_valid(tomllib.loads(answer(services(sysctl={"vm.swappiness": True}))))
    assert not validator.is_valid(tomllib.loads(answer(firewall(ports=[80]))))


def test_the_example_answer_is_valid():
    problems, warnings = answerfile.validate_text((EXAMPLES / "provision-services.toml").read_text())
    assert problems == [] and warnings == []


def test_the_firewall_opens_the_cluster_to_the_management_network(example):
    config = answerfile.parse_install_config(answer(), example)
    assert config.provision.services.firewall == Firewall(("192.168.1.0/24",), ("10.99.0.0/16",))
    assert InstallConfig.from_json(config.to_json()) == config
    assert HASH not in config.redacted().to_json()


def test_a_second_link_in_a_listed_network_opens_that_network_too(example):
    def change(d: dict[str, Any]) -> None:
        d["provision"]["cluster"]["link1"] = "10.10.0.1"
        d["provision"]["services"]["firewall"]["cluster-networks"] = ["10.10.0.0/24"]
    config = answerfile.parse_install_config(answer(change), example)
    assert config.provision.services.firewall.cluster_networks == ("10.10.0.0/24", "192.168.1.0/24")


def test_a_link_outside_every_known_network_must_be_listed(example):
    problems, _ = answerfile.validate_text(answer(lambda d: d["provision"]["cluster"].update(link1="10.10.0.1")),
                                           example)
    assert [(p.key, p.message) for p in problems] == [(
        "provision.services.firewall.cluster-networks",
        "cluster link address 10.10.0.1 is outside the management network 192.168.1.0/24 and every network "
        "listed: add its network (like \"10.10.0.0/24\") to cluster-networks")]


def test_without_a_cluster_the_firewall_opens_no_cluster_port(example):
    config = answerfile.parse_install_config(answer(lambda d: d["provision"].pop("cluster")), example)
    assert config.provision.services.firewall.cluster_networks == ()


@pytest.mark.parametrize(("links", "listed", "networks"), [
    (["192.168.1.10"], [], ("192.168.1.0/24",)),
    (["192.168.1.10", "192.168.1.11"], [], ("192.168.1.0/24",)),
    (["10.0.0.5"], ["10.0.0.0/8"], ("10.0.0.0/8",)),
    (["fd00::5"], ["fd00::1/64"], ("fd00::/64",)),
], ids=["link0 from the network", "two links in the management network", "a listed network covers the link",
        "a listed network with host bits is its network"])
def test_cluster_networks_rule(links, listed, networks):
    assert service_rules.cluster_networks(links, "192.168.1.10/24", listed) == (networks, [])


def test_password_login_off_without_any_key_warns_that_ssh_is_closed():
    def change(d: dict[str, Any]) -> None:
        d["provision"]["services"]["users"][0]["ssh-keys"] = []
    problems, warnings = answerfile.validate_text(answer(change))
    assert problems == []
    assert [(w.key, w.message) for w in warnings] == [(
        "provision.services.ssh-password-login", "is false and no SSH key is given (global.root-ssh-keys or a "
        "user's ssh-keys): nobody can log in over SSH")]


def test_password_login_off_with_a_root_key_is_fine():
    def change(d: dict[str, Any]) -> None:
        d["provision"]["services"]["users"][0]["ssh-keys"] = []
        d["global"]["root-ssh-keys"] = [KEY]
    assert answerfile.validate_text(answer(change)) == ([], [])
