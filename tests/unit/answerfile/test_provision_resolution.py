"""[provision] resolved on Keel's example server: link0 from the network, storage disks with the install's guard."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import tomli_w

import answerfile
from installer.core.config import InstallConfig

SECRET = "kcs1-" + "B" * 43
BY_ID = "/dev/disk/by-id/ata-ST4000NM0035-1V4107_ZC10AAA"
BASE: dict[str, Any] = {
    "global": {"keyboard": "en-us", "country": "at", "fqdn": "pve1.example.com", "mailto": "admin@example.com",
               "timezone": "Europe/Vienna", "root-password": "change-me-please"},
    "network": {"source": "from-dhcp"},
    "disk-setup": {"filesystem": "zfs", "disk-list": ["sda", "sdb"], "zfs": {"raid": "RAID1"}},
    "provision": {
        "cluster": {"name": "rack1", "mode": "create", "cluster-secret": SECRET},
        "storage": [{"id": "tank", "type": "zfspool", "raid": "RAID1", "filter": {"ID_SERIAL": "*ZC10AAA[34]"}}],
    },
}


def answer(change: Callable[[dict[str, Any]], Any] | None = None) -> str:
    data = copy.deepcopy(BASE)
    if change:
        change(data)
    return tomli_w.dumps(data)


def tank(**values: Any) -> Callable[[dict[str, Any]], None]:
    def apply(d: dict[str, Any]) -> None:
        entry = d["provision"]["storage"][0]
        if "disk-list" in values:
            entry.pop("filter")
        entry.update(values)
    return apply


def test_link0_from_network_is_the_management_address_and_disks_are_named_by_id(example):
    config = answerfile.parse_install_config(answer(), example)
    assert config.provision.cluster.link0 == "192.168.1.50"
    assert config.provision.storage[0].disks == (f"{BY_ID}3", f"{BY_ID}4")


def test_the_provision_survives_the_config_json_round_trip(example):
    config = answerfile.parse_install_config(answer(), example)
    assert InstallConfig.from_json(config.to_json()) == config
    assert SECRET not in config.redacted().to_json()


def test_a_storage_listed_for_other_nodes_takes_no_disks_here(example):
    config = answerfile.parse_install_config(answer(tank(nodes=["pve2", "pve3"])), example)
    assert config.provision.storage[0].disks == ()


GUARD = [
    ("a disk the install takes is refused", tank(**{"disk-list": ["sda", "sde"]}), "provision.storage[0].disk-list",
     "disk sda is also selected by [disk-setup]: the install puts the system on it"),
    ("a filter that also matches the install's disks is refused", tank(filter={"ID_MODEL": "SAMSUNG*"}),
     "provision.storage[0].filter", "disk sda is also selected by [disk-setup]"),
    ("a disk holding a zfs pool is refused as in use", tank(**{"disk-list": ["sdc", "sde"]}),
     "provision.storage[0].disk-list", "disk sdc is in use or holds data (/dev/sdc"),
    ("the install medium is refused", tank(**{"disk-list": ["sdg", "sde"]}), "provision.storage[0].disk-list",
     "disk sdg holds the running Keel install medium"),
    ("a mirror of one matching disk is refused", tank(filter={"ID_SERIAL": "*ZC10AAA3"}),
     "provision.storage[0].filter", "(selected: sde)"),
    ("a filter that matches nothing lists the candidates", tank(filter={"ID_SERIAL": "nothing*"}),
     "provision.storage[0].filter", "no disk matches ID_SERIAL='nothing*'; candidates: sda"),
    ("a listed disk that is not there is named", tank(**{"disk-list": ["sdz", "sde"]}),
     "provision.storage[0].disk-list", "disk 'sdz' not found; disks on this machine:"),
    ("two storages on one disk are refused",
     lambda d: d["provision"]["storage"].append({"id": "scratch", "type": "dir", "disk-list": ["sde"]}),
     "provision.storage[1].disk-list", "disk sde is already taken by provision.storage[0] ('tank')"),
    ("more disks wanted than match", tank(**{"disk-count": 3}), "provision.storage[0].disk-count",
     "wants 3 disks but only 2 match: sde, sdf"),
]


@pytest.mark.parametrize(("change", "key", "message"), [pytest.param(*case[1:], id=case[0]) for case in GUARD])
def test_the_install_disk_guard_applies_to_storage_disks(example, change, key, message):
    with pytest.raises(answerfile.AnswerError) as refused:
        answerfile.resolve_text(answer(change), example)
    problems = refused.value.problems
    assert any(p.key == key and message in p.message for p in problems), [str(p) for p in problems]


def test_a_bare_partition_table_does_not_count_as_data(example):
    def change(d: dict[str, Any]) -> None:
        d["disk-setup"] = {"filesystem": "ext4", "disk-list": ["nvme0n1"]}
        tank(**{"disk-list": ["sdb", "sde"]})(d)

    config = answerfile.parse_install_config(answer(change), example)
    assert config.provision.storage[0].disks == ("/dev/disk/by-id/ata-SAMSUNG_MZ7KM240HAGR-00005_S2HRNX0J400002",
                                                 f"{BY_ID}3")
