"""The three-node cluster examples (answerfile/examples/cluster-node{1,2,3}.toml): each is valid on the example
server, they differ only in host name, address and mode, they share one cluster secret, and a join without the
secret is refused with a message that says what is missing and how to make it."""

from __future__ import annotations

import copy
import tomllib

import pytest

from answerfile import cli
from installer.core import provision
from keel_testing.compat import EXAMPLES

HARDWARE = str(EXAMPLES / "hardware" / "example-server.json")
NODES = [EXAMPLES / f"cluster-node{n}.toml" for n in (1, 2, 3)]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = cli.main(list(argv))
    except SystemExit as stop:
        code = stop.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("path", NODES, ids=lambda p: p.stem)
def test_each_node_answer_is_valid_on_the_example_server(capsys, path):
    code, out, err = run(capsys, "validate", str(path), "--hardware", HARDWARE)
    assert code == 0, out + err
    assert "valid" in out and err == ""


def without_identity(path) -> dict:
    data = tomllib.loads(path.read_text())
    rest = copy.deepcopy(data)
    del rest["global"]["fqdn"], rest["network"]["cidr"], rest["provision"]["cluster"]["mode"]
    rest["provision"]["cluster"].pop("peer", None)
    return rest


def test_the_answers_differ_only_in_host_name_address_and_mode():
    first, *others = (tomllib.loads(p.read_text()) for p in NODES)
    assert [d["global"]["fqdn"] for d in (first, *others)] == [f"node{n}.rack1.example.com" for n in (1, 2, 3)]
    assert [d["network"]["cidr"] for d in (first, *others)] == [f"192.168.1.1{n}/24" for n in (1, 2, 3)]
    assert first["provision"]["cluster"]["mode"] == "create" and "peer" not in first["provision"]["cluster"]
    node1 = first["network"]["cidr"].split("/")[0]
    for data in others:
        assert (data["provision"]["cluster"]["mode"], data["provision"]["cluster"]["peer"]) == ("join", node1)
    assert without_identity(NODES[0]) == without_identity(NODES[1]) == without_identity(NODES[2])


def test_one_cluster_secret_made_by_keel_answer_is_in_every_answer():
    secrets = {tomllib.loads(p.read_text())["provision"]["cluster"]["cluster-secret"] for p in NODES}
    (secret,) = secrets
    assert provision.cluster_secret_problem(secret) is None


def test_the_extra_disks_storage_is_made_on_node1_only_and_nfs_everywhere():
    storage = tomllib.loads(NODES[0].read_text())["provision"]["storage"]
    assert {s["type"]: s.get("nodes") for s in storage} == {"zfspool": ["node1"], "lvmthin": ["node1"], "nfs": None}
    assert all("filter" in s for s in storage if s["type"] in ("zfspool", "lvmthin"))


def test_a_join_without_the_cluster_secret_is_refused_saying_what_authenticates_it(capsys, tmp_path):
    text = "".join(line for line in NODES[1].read_text().splitlines(keepends=True)
                   if not line.startswith("cluster-secret"))
    answer = tmp_path / "join-without-secret.toml"
    answer.write_text(text)
    code, out, _ = run(capsys, "validate", str(answer))
    assert code == 1
    assert ("provision.cluster.cluster-secret: required key is missing (the same secret in every node's answer, "
            "made by 'keel-answer cluster-secret'; it authenticates a join both ways.)") in out


@pytest.mark.parametrize(("name", "ok"), [
    pytest.param("0.debian.pool.ntp.org", True, id="a pool server whose first label is a digit"),
    pytest.param("ntp1", True, id="a bare host name"),
    pytest.param("10.0.0.1", True, id="an address"),
    pytest.param("999.1.1.1", False, id="something that is neither a name nor an address"),
    pytest.param("ntp one", False, id="a space"),
])
def test_server_names_are_judged_as_other_machines_names(name, ok):
    assert (provision.host_problem(name) is None) is ok
    assert (provision.host_port_problem(f"{name}:123", what="server") is None) is ok
