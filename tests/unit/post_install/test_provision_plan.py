"""keel-firstboot's side of [provision]: provision.json read as the installer writes it, corosync.conf in Proxmox's
layout for 1, 2 and 3 nodes, and the steps first boot will take (shown by `keel-firstboot plan`, not run yet)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import replace
from pathlib import Path

import pytest

from installer.core import config as core_config
from installer.core import provision as core_provision
from installer.installed_system.render.provision import PATH as INSTALLER_PATH
from installer.installed_system.render.provision import render_provision_json
from keel_firstboot import cli
from keel_firstboot.provision import model
from keel_firstboot.provision.render_corosync import CorosyncNode, Link, render_corosync_conf
from keel_firstboot.provision.steps import JOIN_PORT, Facts, provision_steps, systemd_escape_path, with_port
from keel_testing.samples import CLUSTER_SECRET, PROVISION, PROVISION_CONFIG

GOLDEN = Path(__file__).parent / "golden_corosync"
PVE = [CorosyncNode("pve1", 1, ("192.168.1.10", "10.10.0.1")), CorosyncNode("pve2", 2, ("192.168.1.11", "10.10.0.2")),
       CorosyncNode("pve3", 3, ("192.168.1.12", "10.10.0.3"))]
ONE_LINK = [replace(n, addresses=n.addresses[:1]) for n in PVE]

COROSYNC = [
    pytest.param("corosync.conf-1-node-1-link", lambda: render_corosync_conf("rack1", ONE_LINK[:1], [Link(0)]),
                 id="a founder alone has one node, no two_node and one interface without priority"),
    pytest.param("corosync.conf-2-nodes-2-links",
                 lambda: render_corosync_conf("rack1", PVE[1::-1], [Link(1, 10), Link(0, 20)], config_version=2),
                 id="two nodes get two_node and both rings with each link's priority, sorted by name and number"),
    pytest.param("corosync.conf-3-nodes-1-link", lambda: render_corosync_conf("rack1", ONE_LINK, [Link(0)], 3),
                 id="three nodes have no two_node"),
]


@pytest.mark.parametrize(("golden", "render"), COROSYNC)
def test_corosync_conf_matches_golden(golden, render):
    assert render() == (GOLDEN / golden).read_text()


def test_every_corosync_golden_is_checked():
    assert {p.name for p in GOLDEN.iterdir()} == {case.values[0] for case in COROSYNC}


@pytest.mark.parametrize(("mine", "theirs"), [
    pytest.param(model.Cluster, core_config.ClusterSettings, id="cluster fields are the installer's"),
    pytest.param(model.MailRelay, core_config.MailRelay, id="mail relay fields are the installer's"),
    pytest.param(model.Services, core_config.ServicesSettings, id="services fields are the installer's"),
])
def test_the_file_contract_keeps_the_installers_field_names(mine, theirs):
    assert [f.name for f in dataclasses.fields(mine)] == [f.name for f in dataclasses.fields(theirs)]


def test_storage_fields_are_the_installers_plus_the_stanza():
    names = {f.name for f in dataclasses.fields(model.Storage)}
    assert names == {f.name for f in dataclasses.fields(core_config.StorageSpec)} | {"storage_cfg"}


def test_paths_and_port_are_the_installers():
    assert (model.PATH, JOIN_PORT) == (INSTALLER_PATH, core_provision.JOIN_PORT)


def test_the_installers_file_reads_back_whole():
    doc = model.parse(render_provision_json(PROVISION_CONFIG))
    assert doc.node == model.Node("pve1", "pve1.example.com", "192.168.1.10")
    assert doc.cluster.cluster_secret == CLUSTER_SECRET and doc.cluster.link1 == "10.10.0.1"
    assert [s.id for s in doc.storage] == [s.id for s in PROVISION.storage]
    assert doc.storage[2].disks == PROVISION.storage[2].disks
    assert doc.services.mail_relay == model.MailRelay("smtp.example.com", 587, "pve", "relay-pw")


@pytest.mark.parametrize(("text", "message"), [
    pytest.param("{", "not valid JSON", id="broken json is named"),
    pytest.param('{"version": 2, "node": {}}', "not a version 1 provision file", id="another version is refused"),
    pytest.param('{"version": 1, "node": {"name": "a", "fqdn": "a.b", "address": "x", "extra": 1}}',
                 "node: unknown keys extra", id="an unknown key is refused"),
])
def test_a_bad_provision_file_is_one_line_naming_it(text, message):
    with pytest.raises(model.ProvisionFileError, match=message):
        model.parse(text, "/etc/keel/provision.json")


def doc_of(provision=PROVISION, hostname="pve1") -> model.ProvisionDoc:
    config = replace(PROVISION_CONFIG, provision=provision,
                     network=replace(PROVISION_CONFIG.network, hostname=hostname))
    return model.parse(render_provision_json(config))


def summaries(doc: model.ProvisionDoc, facts: Facts | None = None) -> list[str]:
    return [f"{s.subject}: {s.summary}" for s in provision_steps(doc, facts or Facts("pve1"))]


def test_a_founder_makes_the_key_writes_its_conf_and_starts_corosync_and_the_join_service():
    steps = provision_steps(doc_of(replace(PROVISION, storage=())), Facts("pve1"))
    assert [(s.kind, s.argv or s.path) for s in steps] == [
        ("run", ("corosync-keygen",)), ("write", "/etc/corosync/corosync.conf"),
        ("run", ("systemctl", "enable", "corosync.service")), ("run", ("systemctl", "restart", "corosync.service")),
        ("run", ("systemctl", "enable", "--now", "keel-join.service"))]
    conf = steps[1].text
    assert "ring0_addr: 192.168.1.10\n    ring1_addr: 10.10.0.1" in conf and "knet_link_priority: 20" in conf


def test_a_joiner_joins_through_its_peer_on_the_join_port_then_serves_joins_itself():
    cluster = replace(PROVISION.cluster, mode="join", peer="pve1.example.com")
    steps = provision_steps(doc_of(replace(PROVISION, cluster=cluster, storage=()), "pve2"), Facts("pve2"))
    assert [(s.kind, s.argv) for s in steps] == [
        ("join", ()), ("run", ("systemctl", "enable", "corosync.service")),
        ("run", ("systemctl", "restart", "corosync.service")),
        ("run", ("systemctl", "enable", "--now", "keel-join.service"))]
    assert f"join through pve1.example.com:{JOIN_PORT}" in steps[0].summary


def test_corosync_is_restarted_unless_it_runs_this_clusters_conf():
    """Debian's corosync runs its example conf from the first boot on; `enable --now` would leave it running so."""
    restart = next(s for s in provision_steps(doc_of(replace(PROVISION, storage=())), Facts("pve1"))
                   if s.argv == ("systemctl", "restart", "corosync.service"))
    assert restart.checks == (
        ("systemctl", "is-active", "--quiet", "corosync.service"),
        ("sh", "-c", 'corosync-cmapctl -g totem.cluster_name | grep -qxF -- "$1"', "sh",
         "totem.cluster_name (str) = rack1"))


STORAGE_STEPS = [
    ("a zfspool mirror is one zpool create on its by-id disks", "tank",
     [("zpool", "create", "-o", "ashift=12", "-m", "/tank", "tank", "mirror", *PROVISION.storage[2].disks)]),
    ("an lvmthin storage is a pv, a vg and a thin pool named after it", "fast",
     [("pvcreate", "--yes", "/dev/nvme0n1"), ("vgcreate", "fast", "/dev/nvme0n1"),
      ("lvcreate", "--yes", "--type", "thin-pool", "--extents", "100%FREE", "--name", "fast", "fast")]),
    ("a dir on a disk is partitioned, formatted and mounted by a unit", "scratch",
     [("sgdisk", "--new=1:0:0", "--typecode=1:8300", PROVISION.storage[0].disks[0]),
      ("mkfs.ext4", "-L", "scratch", PROVISION.storage[0].disks[0] + "-part1"), ("mkdir", "-p", "/mnt/pve/scratch"),
      ("systemctl", "enable", "--now", "mnt-pve-scratch.mount")]),
    ("an iscsi storage discovers and logs in", "san",
     [("iscsiadm", "--mode", "discovery", "--type", "sendtargets", "--portal", "10.0.0.9:3260"),
      ("iscsiadm", "--mode", "node", "--targetname", "iqn.2024-01.com.example:storage.lun1", "--portal",
       "10.0.0.9:3260", "--login")]),
]


@pytest.mark.parametrize(("storage_id", "commands"), [pytest.param(*c[1:], id=c[0]) for c in STORAGE_STEPS])
def test_storage_commands(storage_id, commands):
    steps = [s for s in provision_steps(doc_of(), Facts("pve1")) if s.subject == f"storage {storage_id}"]
    assert [s.argv for s in steps if s.kind == "run"] == commands
    assert steps[-1].kind == "register" and steps[-1].text.startswith(f"{steps[-1].text.split(':')[0]}: {storage_id}")


def test_commands_that_write_disks_name_them_for_the_guard():
    tank = next(s for s in provision_steps(doc_of(), Facts("pve1")) if s.subject == "storage tank")
    assert tank.devices == PROVISION.storage[2].disks


def test_secrets_go_to_root_only_files_never_into_storage_cfg():
    steps = provision_steps(doc_of(), Facts("pve1"))
    secret = {s.path: s for s in steps if s.kind == "write" and s.mode == 0o600}
    assert set(secret) == {"/etc/pve/priv/storage/smb.pw", "/etc/pve/priv/ceph/ceph-vm.keyring",
                           "/etc/pve/priv/ceph/ceph-fs.secret"}
    assert "password=smb-pw" in secret["/etc/pve/priv/storage/smb.pw"].text
    assert not any("smb-pw" in s.text or "AQD-" in s.text for s in steps if s.kind == "register")


def test_a_storage_for_other_nodes_is_only_registered_here_with_its_nodes_line():
    steps = [s for s in provision_steps(doc_of(hostname="pve2"), Facts("pve2")) if s.subject == "storage scratch"]
    assert [s.kind for s in steps] == ["register"], "nothing is made on a node the storage does not name"
    assert "\tnodes pve1" in steps[0].text


def test_what_is_already_there_is_done():
    facts = Facts("pve1", registered_storage=frozenset({"tank"}), corosync_configured=True)
    steps = provision_steps(doc_of(), facts)
    assert all(s.done for s in steps if s.subject in ("storage tank", "cluster rack1"))
    assert not any(s.done for s in steps if s.subject == "storage fast")


def test_facts_are_read_from_the_system(tmp_path):
    (tmp_path / "etc/pve").mkdir(parents=True)
    (tmp_path / "etc/hostname").write_text("pve1\n")
    (tmp_path / "etc/pve/storage.cfg").write_text("dir: local\n\tpath /var/lib/vz\n\nzfspool: tank\n\tpool tank\n")
    assert Facts.of(tmp_path) == Facts("pve1", frozenset({"local", "tank"}), False)


@pytest.mark.parametrize(("peer", "address"), [
    pytest.param("pve1", f"pve1:{JOIN_PORT}", id="a host gets the join port"),
    pytest.param("pve1:9000", "pve1:9000", id="a given port is kept"),
    pytest.param("fd00::1", f"[fd00::1]:{JOIN_PORT}", id="a bare ipv6 address gets brackets and the port"),
    pytest.param("[fd00::1]:9000", "[fd00::1]:9000", id="a bracketed ipv6 address with port is kept"),
])
def test_peer_address(peer, address):
    assert with_port(peer) == address


def test_mount_unit_names_are_systemd_escaped():
    assert systemd_escape_path("/mnt/pve/ceph-fs") == "mnt-pve-ceph\\x2dfs"


def test_plan_lists_the_steps_without_secrets(tmp_path, capsys):
    (tmp_path / "etc/keel").mkdir(parents=True)
    (tmp_path / "etc/hostname").write_text("pve1\n")
    (tmp_path / "etc/keel/provision.json").write_text(render_provision_json(PROVISION_CONFIG))
    assert cli.main(["plan"], root=tmp_path) == 0
    out = capsys.readouterr().out
    assert "keel-provision.service runs them at first boot" in out
    assert "$ zpool create -o ashift=12 -m /tank tank mirror" in out
    assert cli.main(["plan", "--json"], root=tmp_path) == 0
    text = capsys.readouterr().out
    assert CLUSTER_SECRET not in text and "smb-pw" not in text and "AQD-" not in text
    assert json.loads(text)[0]["summary"] == "make /etc/corosync/authkey"


def test_plan_without_provision_says_so(tmp_path, capsys):
    assert cli.main(["plan"], root=tmp_path) == 0
    assert "provision: none" in capsys.readouterr().out
