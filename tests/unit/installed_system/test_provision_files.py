"""[provision] on the installed system: the services' files, the storage.cfg stanzas and provision.json for
keel-firstboot, each against a golden file written by hand from Proxmox's formats."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from installer.core.config import MailRelay
from installer.core.live import LiveInfo
from installer.installed_system.configure import target_files
from installer.installed_system.render import provision, pve, services, system
from installer.storage.plan.storagecfg import provision_entries
from keel_testing.samples import (
    CLUSTER_SECRET,
    CONFIG,
    HARDWARE,
    LVM_PLAN,
    NETWORK,
    PROVISION,
    PROVISION_CONFIG,
)

GOLDEN = Path(__file__).parent / "golden_provision"
LIVE = LiveInfo(Path("/payload.squashfs"), None, mirror="http://mirror.invalid/debian")
SVC = PROVISION.services

CASES = [
    pytest.param("storage.cfg-every-type", lambda: pve.render_storage_cfg(provision_entries(PROVISION.storage)),
                 id="every storage type is a stanza with its fixed keys first and no secret in it"),
    pytest.param("chrony.conf", lambda: services.render_chrony_conf(SVC.ntp_servers),
                 id="chrony uses the answer's servers instead of the debian pool"),
    pytest.param("main.cf-relay-with-login", lambda: system.render_postfix_main_cf(NETWORK, SVC.mail_relay),
                 id="postfix relays through the answer's host with sasl over tls"),
    pytest.param("sasl_passwd", lambda: services.render_sasl_passwd(SVC.mail_relay),
                 id="sasl passwd holds the relay's login"),
    pytest.param("80keel-proxy", lambda: services.render_apt_proxy(SVC.apt_proxy), id="apt uses the http proxy"),
    pytest.param("keel-provision.list", lambda: services.render_apt_repositories(SVC.apt_repositories),
                 id="extra apt sources are one line each"),
    pytest.param("10-keel-password-login.conf", lambda: services.render_sshd_password_login(SVC.ssh_password_login),
                 id="sshd refuses passwords when the answer turns password login off"),
    pytest.param("90-keel.conf", lambda: services.render_sysctl_conf(SVC.sysctl),
                 id="sysctl settings are one key = value line each in the answer's order"),
    pytest.param("nftables.conf", lambda: services.render_nftables_conf(SVC.firewall),
                 id="nftables drops input but ssh icmp and corosync and the join service from the cluster"),
    pytest.param("provision.json", lambda: provision.render_provision_json(PROVISION_CONFIG),
                 id="provision json carries the node the cluster the storage with stanzas and the services"),
]


@pytest.mark.parametrize(("golden", "render"), CASES)
def test_rendered_file_matches_golden(golden, render):
    assert render() == (GOLDEN / golden).read_text()


def test_every_golden_file_is_checked():
    assert {p.name for p in GOLDEN.iterdir()} == {case.values[0] for case in CASES}


def test_a_relay_without_login_only_sets_relayhost():
    text = system.render_postfix_main_cf(NETWORK, MailRelay("smtp.example.com"))
    assert "relayhost = [smtp.example.com]:25\n\n" in text
    assert "sasl" not in text


def test_an_install_without_provision_writes_none_of_its_files():
    paths = {f.path for f in target_files(CONFIG, LVM_PLAN, HARDWARE, LIVE)}
    assert not paths & {provision.PATH, services.CHRONY_CONF, services.SASL_PASSWD, services.APT_PROXY,
                        services.APT_SOURCES}


def test_an_install_with_provision_writes_its_files_and_keeps_secrets_root_only():
    files = {f.path: f for f in target_files(PROVISION_CONFIG, LVM_PLAN, HARDWARE, LIVE)}
    assert files[provision.PATH].mode == 0o600 and files[services.SASL_PASSWD].mode == 0o600
    assert files["/etc/postfix/main.cf"].text == system.render_postfix_main_cf(NETWORK, SVC.mail_relay)
    assert {services.CHRONY_CONF, services.APT_PROXY, services.APT_SOURCES} <= files.keys()
    leaked = [path for path, f in files.items() if f.mode & 0o077 and CLUSTER_SECRET in str(f.text)]
    assert leaked == []


def test_only_the_services_the_answer_names_get_files():
    config = replace(PROVISION_CONFIG, provision=replace(PROVISION, services=replace(SVC, ntp_servers=(),
                                                                                       apt_proxy=None)))
    paths = {f.path for f in target_files(config, LVM_PLAN, HARDWARE, LIVE)}
    assert services.CHRONY_CONF not in paths and services.APT_PROXY not in paths
    assert services.APT_SOURCES in paths


def test_provision_json_secrets_are_there_for_the_executor():
    data = json.loads(provision.render_provision_json(PROVISION_CONFIG))
    assert data["cluster"]["cluster_secret"] == CLUSTER_SECRET
    assert "smb-pw" not in data["storage"][6]["storage_cfg"] and data["storage"][6]["password"] == "smb-pw"
