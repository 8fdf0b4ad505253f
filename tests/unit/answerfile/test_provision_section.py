"""[provision] in the answer file, offline: what a valid section reads as, and each rejection with its message."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import tomli_w

import answerfile
from answerfile import redaction
from answerfile.json_schema import answer_schema
from answerfile.parse import parse_text
from installer.core import provision
from installer.core.config import ClusterSettings, MailRelay, ServicesSettings

SECRET = "kcs1-" + "A" * 43
BASE: dict[str, Any] = {
    "global": {"keyboard": "en-us", "country": "at", "fqdn": "pve2.example.com", "mailto": "admin@example.com",
               "timezone": "Europe/Vienna", "root-password": "change-me-please"},
    "network": {"source": "from-dhcp"},
    "disk-setup": {"filesystem": "ext4", "disk-list": ["sda"]},
    "provision": {
        "cluster": {"name": "rack1", "mode": "join", "cluster-secret": SECRET, "peer": "pve1.example.com"},
        "storage": [
            {"id": "tank", "type": "zfspool", "raid": "raid1", "filter": {"ID_MODEL": "DATA*"}},
            {"id": "backups", "type": "nfs", "server": "nas.example.com", "export": "/srv/backup",
             "content": ["backup", "iso"]},
        ],
        "services": {"ntp-servers": ["ntp1.example.com", "10.0.0.1"],
                     "mail-relay": {"host": "smtp.example.com", "port": 587, "username": "pve",
                                    "password": "relay-pw"},
                     "apt-proxy": "http://proxy.example.com:3142",
                     "apt-repositories": ["deb http://deb.example.com/debian trixie main"]},
    },
}


def answer(change: Callable[[dict[str, Any]], Any] | None = None) -> str:
    data = copy.deepcopy(BASE)
    if change:
        change(data)
    return tomli_w.dumps(data)


def cluster(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["provision"]["cluster"].update(values)


def without(*keys: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: [d["provision"]["cluster"].pop(k) for k in keys]


def storage(index: int, **values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["provision"]["storage"][index].update(values)


def add_storage(**entry: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["provision"]["storage"].append(entry)


def services(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["provision"]["services"].update(values)


def test_a_valid_section_reads_into_typed_values():
    result = parse_text(answer())
    assert result.problems == [] and result.warnings == []
    p = result.answer.provision
    assert p.cluster == ClusterSettings(name="rack1", mode="join", link0="from-network", cluster_secret=SECRET,
                                        peer="pve1.example.com")
    tank, backups = p.storage
    assert (tank.spec.id, tank.spec.type, tank.spec.raid, tank.spec.content) == ("tank", "zfspool", "RAID1",
                                                                                ("images", "rootdir"))
    assert tank.selection.filter == {"ID_MODEL": "DATA*"} and tank.selection.filter_match == "any"
    assert (backups.spec.server, backups.spec.export, backups.spec.content, backups.selection) == (
        "nas.example.com", "/srv/backup", ("backup", "iso"), None)
    assert p.services == ServicesSettings(
        ntp_servers=("ntp1.example.com", "10.0.0.1"),
        mail_relay=MailRelay("smtp.example.com", 587, "pve", "relay-pw"),
        apt_proxy="http://proxy.example.com:3142",
        apt_repositories=("deb http://deb.example.com/debian trixie main",))


def test_an_answer_without_provision_has_none():
    assert parse_text(answer(lambda d: d.pop("provision"))).answer.provision is None


REJECTIONS = [
    ("a join without the cluster secret is refused as unauthenticated", without("cluster-secret"),
     "provision.cluster.cluster-secret", "required key is missing (the same secret in every node's answer"),
    ("a join without a peer names what peer is", without("peer"), "provision.cluster.peer",
     "required with mode = \"join\": host[:port] of a member's join service"),
    ("a founder with a peer is told peer is for joining", cluster(mode="create"), "provision.cluster.peer",
     "only used with mode = \"join\""),
    ("a typed-in password is not a cluster secret and is not repeated", cluster(**{"cluster-secret": "hunter22"}),
     "provision.cluster.cluster-secret", "is not a cluster secret made by 'keel-answer cluster-secret' "
     "(kcs1- and 43 base64url characters, 256 random bits); got 8 characters"),
    ("a mistyped cluster key suggests the right one", cluster(**{"link-0": "10.0.0.2"}), "provision.cluster.link-0",
     "unknown key; did you mean 'provision.cluster.link0'"),
    ("an unknown mode suggests one", cluster(mode="joins"), "provision.cluster.mode",
     "expected one of 'create', 'join', got 'joins'; did you mean 'join'?"),
    ("a cluster name longer than fifteen characters", cluster(name="a-very-long-cluster-name"),
     "provision.cluster.name", "'a-very-long-cluster-name' is not a cluster name: 1-15 letters"),
    ("link0 that is neither an address nor from-network", cluster(link0="eth0"), "provision.cluster.link0",
     "'eth0' is not a valid IPv4 or IPv6 address; or write \"from-network\""),
    ("link1 equal to link0", cluster(link0="10.0.0.2", link1="10.0.0.2"), "provision.cluster.link1",
     "is the same address as link0"),
    ("a link1 priority without link1", cluster(**{"link1-priority": 5}),
     "provision.cluster.link1-priority", "is set but link1 is not"),
    ("a peer with a bad port", cluster(peer="pve1.example.com:99999"), "provision.cluster.peer",
     "'pve1.example.com:99999': the port must be a number from 1 to 65535"),
    ("node-id zero", cluster(**{"node-id": 0}), "provision.cluster.node-id", "must be at least 1, got 0"),
    ("a storage entry must be a table array", lambda d: d["provision"].update(storage={"id": "x"}),
     "provision.storage", "expected an array of tables (one [[provision.storage]] each), got table"),
    ("a mistyped storage key suggests the right one with the entry's index", storage(1, exports="/x"),
     "provision.storage[1].exports", "unknown key; did you mean 'provision.storage[1].export'"),
    ("a storage id with a space", storage(1, id="my backups"), "provision.storage[1].id",
     "'my backups' is not a storage id: a letter first"),
    ("a storage id of the installer's own storage", storage(1, id="local-lvm"), "provision.storage[1].id",
     "'local-lvm' is the installer's own storage"),
    ("two storages with one id", storage(1, id="tank"), "provision.storage[1].id",
     "'tank' is the id of provision.storage[0] too; storage ids are unique"),
    ("a zfspool named rpool", storage(0, id="rpool"), "provision.storage[0].id", "'rpool' is the install's ZFS pool"),
    ("an lvmthin storage named pve", add_storage(id="pve", type="lvmthin", **{"disk-list": ["sdc"]}),
     "provision.storage[2].id", "'pve' is the install's volume group"),
    ("iso content on a zfspool", storage(0, content=["images", "iso"]), "provision.storage[0].content",
     "'iso' is not a content type of zfspool storage (it takes images, rootdir)"),
    ("images on cephfs", add_storage(id="cfs", type="cephfs", monhost="10.0.0.7", content=["images"]),
     "provision.storage[2].content", "'images' is not a content type of cephfs storage"),
    ("an empty content list", storage(1, content=[]), "provision.storage[1].content", "is empty: name what"),
    ("an nfs storage without export", lambda d: d["provision"]["storage"][1].pop("export"),
     "provision.storage[1].export", "required with type = \"nfs\""),
    ("an nfs key on a cifs storage", storage(1, type="cifs", share="backup"), "provision.storage[1].export",
     "applies to nfs storage, and this one is cifs"),
    ("disks on an nfs storage", storage(1, **{"disk-list": ["sdb"]}), "provision.storage[1].disk-list",
     "applies to dir, lvmthin, zfspool, btrfs storage, and this one is nfs"),
    ("a zfspool without disks", lambda d: d["provision"]["storage"][0].pop("filter"), "provision.storage[0]",
     "no disks selected for the zfspool storage"),
    ("a zfspool without raid", lambda d: d["provision"]["storage"][0].pop("raid"), "provision.storage[0].raid",
     "required with type = \"zfspool\""),
    ("a raidz level on btrfs", add_storage(id="bt", type="btrfs", raid="RAIDZ-1", **{"disk-list": ["sdc", "sdd"]}),
     "provision.storage[2].raid", "RAIDZ-1 is not a btrfs RAID level"),
    ("a mirror of one listed disk", lambda d: d["provision"]["storage"][0].update({"disk-list": ["sdb"]}) or
     d["provision"]["storage"][0].pop("filter"), "provision.storage[0].disk-list", "RAID1"),
    ("a dir on two disks", add_storage(id="scratch", type="dir", **{"disk-list": ["sdc", "sdd"]}),
     "provision.storage[2].disk-list", "a dir storage is made on exactly one disk"),
    ("a dir with neither path nor disks", add_storage(id="scratch", type="dir"), "provision.storage[2].path",
     "required for a dir storage without disks"),
    ("a relative dir path", add_storage(id="scratch", type="dir", path="srv/vz"), "provision.storage[2].path",
     "'srv/vz' is not an absolute directory path"),
    ("shared on nfs", storage(1, shared=True), "provision.storage[1].shared", "nfs storage is always shared"),
    ("shared on a zfspool", storage(0, shared=True), "provision.storage[0].shared",
     "a storage made on this node's own disks is local to it"),
    ("a node name that is not a host name", storage(1, nodes=["pve_1"]), "provision.storage[1].nodes[0]",
     "'pve_1' is not a valid name part"),
    ("an iscsi target that is not an iqn", add_storage(id="san", type="iscsi", portal="10.0.0.9", target="disk1"),
     "provision.storage[2].target", "'disk1' is not an iSCSI target name"),
    ("a cifs password without a user", add_storage(id="smb", type="cifs", server="nas", share="vm",
                                                   password="pw-smb"),
     "provision.storage[2].password", "is set but username is not"),
    ("an ntp server that is not a host", services(**{"ntp-servers": ["ntp one"]}),
     "provision.services.ntp-servers[0]", "'ntp one' is not a host name or IP address"),
    ("a relay user without a password", lambda d: d["provision"]["services"]["mail-relay"].pop("password"),
     "provision.services.mail-relay.password", "username and password go together"),
    ("an apt proxy that is not a URL", services(**{"apt-proxy": "proxy:3142"}), "provision.services.apt-proxy",
     "'proxy:3142' is not an http:// or https:// URL"),
    ("an apt source in deb822 form", services(**{"apt-repositories": ["Types: deb"]}),
     "provision.services.apt-repositories[0]", "'Types: deb' is not a one-line apt source"),
]


@pytest.mark.parametrize(("change", "key", "message"), [pytest.param(*case[1:], id=case[0]) for case in REJECTIONS])
def test_provision_rejection(change, key, message):
    problems, _ = answerfile.validate_text(answer(change))
    assert any(p.key == key and message in p.message for p in problems), [str(p) for p in problems]


def test_link_priorities_on_a_joiner_are_a_warning_only():
    problems, warnings = answerfile.validate_text(answer(cluster(**{"link0-priority": 10})))
    assert problems == []
    assert [w.key for w in warnings] == ["provision.cluster.link0-priority"]
    assert "ignored when joining" in warnings[0].message


def test_the_founder_needs_no_peer():
    problems, _ = answerfile.validate_text(answer(lambda d: d["provision"]["cluster"].update(mode="create")
                                                  or d["provision"]["cluster"].pop("peer")))
    assert problems == []


def test_every_provision_secret_is_redacted_and_registered():
    text = answer(lambda d: d["provision"]["storage"].append(
        {"id": "ceph", "type": "rbd", "monhost": "10.0.0.7", "keyring": "ceph-key"}))
    shown = redaction.redact_answer_text(text)
    for value in (SECRET, "relay-pw", "ceph-key"):
        assert value not in shown
        assert value in redaction.secret_values(text)


def test_the_json_schema_describes_storage_as_an_array_and_requires_a_peer_to_join():
    schema = answer_schema()["properties"]["provision"]
    assert schema["properties"]["storage"]["type"] == "array"
    assert schema["properties"]["storage"]["items"]["required"] == ["id", "type"]
    assert schema["properties"]["cluster"]["then"] == {"required": ["peer"]}


def test_a_new_cluster_secret_passes_its_own_check_and_differs_each_time():
    first, second = provision.new_cluster_secret(), provision.new_cluster_secret()
    assert first != second
    assert provision.cluster_secret_problem(first) is None
    assert len(first) == len("kcs1-") + 43
