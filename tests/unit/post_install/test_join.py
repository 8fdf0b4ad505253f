"""The cluster join for real on loopback: a founder's join service in a thread (real TLS, a certificate made by the
real openssl), a joiner that joins through it, a second joiner that joins through the first joiner (whose update
reaches the founder), each node on its own scratch root with a fake runner for everything but openssl."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from installer.installed_system.render.provision import render_provision_json
from keel_firstboot import cli
from keel_firstboot.join.cert import CERT, KEY, client_context
from keel_firstboot.join.client import exchange, join_cluster, push_update
from keel_firstboot.join.members import (
    KNOWN_HOSTS,
    MEMBERS,
    Member,
    Membership,
    hosts_block,
    read_membership,
    with_block,
)
from keel_firstboot.join.protocol import (
    HELLO_MAX,
    VERSION,
    JoinRefused,
    PeerError,
    cluster_key,
    fingerprint,
    joiner_proof,
    new_nonce,
    receive,
    send,
)
from keel_firstboot.join.server import NOT_PROVEN, JoinServer, prepare
from keel_firstboot.layout import Paths
from keel_firstboot.provision import model
from keel_firstboot.provision.execute import Timing
from keel_firstboot.provision.record import read_record
from keel_firstboot.provision.render_corosync import Link
from keel_firstboot.provision.steps import Facts, provision_steps
from keel_firstboot.runner import Redactor, Runner
from keel_testing.samples import CLUSTER_SECRET, PROVISION, PROVISION_CONFIG

OTHER_SECRET = "kcs1-" + "D" * 43
AUTHKEY = bytes(range(256))
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Node:
    """One installed system: its root, its answer's provision.json, what its runner ran and logged."""

    name: str
    root: Path
    port: int
    active: set[str] = field(default_factory=lambda: {"corosync.service"})     # units running now
    running_version: int = 1                # corosync's totem.config_version: the file's at its last reload
    reload_fails: bool = False
    ran: list[tuple[str, ...]] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @property
    def paths(self) -> Paths:
        return Paths(self.root)

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def doc(self) -> model.ProvisionDoc:
        return model.load(self.paths.at(model.PATH))

    def runner(self, log=None, redact: Redactor | None = None, root: Path | None = None) -> Runner:
        node = self

        class Fake(Runner):
            def execute(self, argv, timeout):
                assert argv[:2] == ("chroot", str(node.root)), "commands run inside the node's system"
                argv = argv[2:]
                node.ran.append(argv)
                if argv[0] == "openssl":       # the real one, with the node's paths under its root
                    real = [str(node.root / a.lstrip("/")) if a.startswith("/etc/") else a for a in argv]
                    proc = subprocess.run(real, capture_output=True, check=False)
                    return proc.returncode, proc.stdout + proc.stderr, f"exit status {proc.returncode}"
                if argv == ("corosync-cfgtool", "-R") and node.reload_fails:
                    return 1, b"Could not reload configuration: CS_ERR_TRY_AGAIN\n", "exit status 1"
                if argv == ("corosync-cfgtool", "-R"):
                    conf = node.text("/etc/corosync/corosync.conf")
                    node.running_version = int(conf.split("config_version: ")[1].split()[0])
                if argv == ("corosync-cmapctl", "-g", "totem.config_version"):
                    return 0, f"totem.config_version (u64) = {node.running_version}\n".encode(), ""
                if argv[:3] == ("systemctl", "enable", "--now") or argv[:2] == ("systemctl", "restart"):
                    node.active.add(argv[-1])
                if argv[:2] == ("sh", "-c") and "corosync-cmapctl" in argv[2]:
                    return (0 if "corosync.service" in node.active else 1), b"", "exit status 1"
                if argv[:2] in (("systemctl", "is-active"), ("systemctl", "is-enabled")):
                    return (0 if argv[3] in node.active else 3), b"", "exit status 3"
                return 0, b"", ""

        return Fake(log or self.log.append, redact or Redactor([CLUSTER_SECRET]), self.root)

    @property
    def reloads(self) -> int:
        return self.ran.count(("corosync-cfgtool", "-R"))

    def text(self, path: str) -> str:
        return self.paths.at(path).read_text()


def make_node(tmp_path: Path, name: str, number: int, *, mode: str = "join", peer: Node | None = None,
              secret: str = CLUSTER_SECRET, node_id: int | None = None) -> Node:
    cluster = replace(PROVISION.cluster, mode=mode, link0=f"192.168.1.{10 + number}", link1=f"10.10.0.{number}",
                      peer=peer.endpoint if peer else None, cluster_secret=secret, node_id=node_id)
    network = replace(PROVISION_CONFIG.network, hostname=name, cidr=f"192.168.1.{10 + number}/24")
    config = replace(PROVISION_CONFIG, provision=replace(PROVISION, cluster=cluster, storage=()), network=network)
    root = tmp_path / name
    for path, text in {"etc/hostname": f"{name}\n", "etc/keel/provision.json": render_provision_json(config),
                       "etc/hosts": f"127.0.0.1 localhost\n192.168.1.{10 + number} {name}.example.com {name}\n",
                       "etc/ssh/ssh_host_ed25519_key.pub": HOST_KEY.format(number) + f" root@{name}\n",
                       "etc/ssh/ssh_host_rsa_key": "private, never read\n"}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    node = Node(name, root, free_port(), active=set() if mode == "join" else {"corosync.service"})
    if mode == "create":                # what the founder's steps did before its service starts
        write = next(s for s in provision_steps(node.doc, Facts(name)) if s.kind == "write")
        (root / "etc/corosync").mkdir(parents=True)
        (root / "etc/corosync/corosync.conf").write_text(write.text)
        (root / "etc/corosync/authkey").write_bytes(AUTHKEY)
    return node


@contextlib.contextmanager
def serving(node: Node) -> Iterator[JoinServer]:
    server = prepare(node.paths, node.runner(), node.doc, node.log.append, ("127.0.0.1", node.port), node.endpoint)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def join(node: Node) -> Membership:
    return join_cluster(node.paths, node.runner(), node.doc, endpoint=node.endpoint)


@pytest.fixture
def founder(tmp_path: Path) -> Iterator[Node]:
    node = make_node(tmp_path, "pve1", 1, mode="create")
    with serving(node):
        yield node


def nodelist(conf: str) -> str:
    return conf[conf.index("nodelist {"):conf.index("quorum {")]


def test_the_founder_serves_its_own_cluster_with_a_fresh_certificate(founder):
    membership = read_membership(founder.root)
    assert [(m.name, m.nodeid, m.addresses) for m in membership.members] == [
        ("pve1", 1, ("192.168.1.11", "10.10.0.1"))]
    assert membership.config_version == 1 and membership.links == (Link(0, 20), Link(1, 10))
    assert stat.S_IMODE(founder.paths.at(KEY).stat().st_mode) == 0o600
    assert founder.ran[0][:3] == ("openssl", "req", "-x509")
    der = subprocess.run(["openssl", "x509", "-in", str(founder.paths.at(CERT)), "-outform", "DER"],
                         capture_output=True, check=True).stdout
    assert fingerprint(der) in " ".join(founder.log), "the log names the fingerprint the proofs bind"
    assert "cluster_name: rack1" in founder.text("/etc/corosync/corosync.conf")
    assert membership.member("pve1").host_keys == (HOST_KEY.format(1),)


def test_two_joiners_one_through_the_other_leave_one_nodelist_on_all_three(tmp_path, founder):
    pve2 = make_node(tmp_path, "pve2", 2, peer=founder)
    first = join(pve2)
    assert [(m.name, m.nodeid) for m in first.members] == [("pve1", 1), ("pve2", 2)]
    assert first.config_version == 2 and "two_node: 1" in pve2.text("/etc/corosync/corosync.conf")
    assert founder.reloads == 1, "the founder reloads corosync for the new nodelist"
    assert pve2.paths.at("/etc/corosync/authkey").read_bytes() == AUTHKEY
    assert stat.S_IMODE(pve2.paths.at("/etc/corosync/authkey").stat().st_mode) == 0o400
    assert pve2.reloads == 0, "the joiner's corosync starts in the next step, nothing to reload"
    pve2.active.add("corosync.service")         # the next step: it starts with the new file
    pve2.running_version = 2

    pve3 = make_node(tmp_path, "pve3", 3, peer=pve2)
    with serving(pve2):
        third = join(pve3)
    assert [(m.name, m.nodeid) for m in third.members] == [("pve1", 1), ("pve2", 2), ("pve3", 3)]
    assert third.config_version == 3
    confs = {n.name: n.text("/etc/corosync/corosync.conf") for n in (founder, pve2, pve3)}
    assert len(set(confs.values())) == 1, "corosync.conf is identical on every member"
    conf = confs["pve1"]
    assert "two_node" not in conf and "config_version: 3" in conf
    assert [line.strip() for line in nodelist(conf).splitlines() if "addr" in line or "name:" in line] == [
        "name: pve1", "ring0_addr: 192.168.1.11", "ring1_addr: 10.10.0.1",
        "name: pve2", "ring0_addr: 192.168.1.12", "ring1_addr: 10.10.0.2",
        "name: pve3", "ring0_addr: 192.168.1.13", "ring1_addr: 10.10.0.3"]
    assert len({n.text(MEMBERS) for n in (founder, pve2, pve3)}) == 1
    assert founder.reloads == 2 and pve2.reloads == 1, "the update through pve2 reached the founder"
    assert pve3.paths.at("/etc/corosync/authkey").read_bytes() == AUTHKEY

    hosts = founder.text("/etc/hosts")
    assert hosts.startswith("127.0.0.1 localhost\n192.168.1.11 pve1.example.com pve1\n# keel cluster rack1")
    assert "192.168.1.12 pve2.example.com pve2\n192.168.1.13 pve3.example.com pve3\n# end of keel cluster rack1\n" \
        in hosts and hosts.count("pve1") == 2, "the others' lines; its own is the installer's"
    assert "192.168.1.11 pve1.example.com pve1\n192.168.1.12" in pve3.text("/etc/hosts")
    known = pve3.text(KNOWN_HOSTS)
    assert f"pve1,pve1.example.com,192.168.1.11,10.10.0.1 {HOST_KEY.format(1)}\n" in known
    assert f"pve3,pve3.example.com,192.168.1.13,10.10.0.3 {HOST_KEY.format(3)}\n" in known
    assert len({n.text(KNOWN_HOSTS) for n in (founder, pve2, pve3)}) == 1


def test_a_join_run_again_changes_nothing(tmp_path, founder):
    pve2 = make_node(tmp_path, "pve2", 2, peer=founder)
    join(pve2)
    files = {p: founder.text(p) for p in ("/etc/hosts", KNOWN_HOSTS, MEMBERS, "/etc/corosync/corosync.conf")}
    assert join(pve2).config_version == 2, "a member already: nothing is sent"
    pve2.paths.at("/etc/corosync/authkey").unlink()          # a power cut before the authkey: it asks again
    again = join(pve2)
    assert again.config_version == 2 and founder.reloads == 1
    assert {p: founder.text(p) for p in files} == files
    prepare(founder.paths, founder.runner(), founder.doc, founder.log.append, ("127.0.0.1", 0),
            founder.endpoint).server_close()
    assert {p: founder.text(p) for p in files} == files, "the service started again rewrites nothing"


def test_a_reload_that_failed_is_made_when_the_joiner_tries_again(tmp_path, founder):
    pve2 = make_node(tmp_path, "pve2", 2, peer=founder)
    founder.reload_fails = True
    with pytest.raises(PeerError, match="corosync-cfgtool -R: exit status 1: Could not reload"):
        join(pve2)
    assert not pve2.paths.at("/etc/corosync/authkey").exists(), "no authkey before every member runs the new conf"
    founder.reload_fails = False
    assert join(pve2).config_version == 2
    assert founder.running_version == 2 and founder.reloads == 2


def test_a_join_while_another_member_is_busy_changes_nothing_and_succeeds_when_retried(tmp_path, founder):
    pve2 = make_node(tmp_path, "pve2", 2, peer=founder)
    join(pve2)
    pve2.active.add("corosync.service")
    pve2.running_version = 2
    pve3 = make_node(tmp_path, "pve3", 3, peer=founder)
    with serving(pve2) as server:
        server.service.update_wait = 0.1
        with server.service.lock, pytest.raises(PeerError, match=r"could not update member pve2: .* busy"):
            join(pve3)                                  # pve2 is handling a join of its own
        assert read_membership(founder.root).config_version == 2, "the founder kept its files"
        assert join(pve3).config_version == 3
    assert len({n.text("/etc/corosync/corosync.conf") for n in (founder, pve2, pve3)}) == 1


def test_the_answers_node_id_is_kept_and_one_that_is_taken_is_refused_for_good(tmp_path, founder):
    assert join(make_node(tmp_path, "pve7", 7, peer=founder, node_id=7)).member("pve7").nodeid == 7
    clash = make_node(tmp_path, "pve2", 2, peer=founder, node_id=1)
    with pytest.raises(JoinRefused, match=r"refused: node id 1 is pve1's in cluster rack1"):
        join(clash)
    assert read_membership(founder.root).member("pve2") is None


def test_a_joiner_with_another_secret_sends_nothing_after_the_founders_proof_fails(tmp_path, founder):
    before = founder.text(MEMBERS)
    intruder = make_node(tmp_path, "pve9", 9, peer=founder, secret=OTHER_SECRET)
    with pytest.raises(JoinRefused, match=r"does not hold the cluster secret.*nothing was sent to it"):
        join(intruder)
    assert founder.text(MEMBERS) == before
    assert not intruder.paths.at("/etc/corosync/authkey").exists()
    assert not intruder.paths.at(MEMBERS).exists()


def test_a_client_that_skips_the_check_is_refused_by_the_member_without_the_secret(tmp_path, founder):
    """The member's side: a sender whose proof does not hold gets a refusal and nothing else."""
    before = founder.text(MEMBERS)
    with socket.create_connection(("127.0.0.1", founder.port), timeout=10) as raw, \
            client_context().wrap_socket(raw) as tls:
        fp = fingerprint(tls.getpeercert(binary_form=True))
        nonce = new_nonce()
        send(tls, {"type": "hello", "version": VERSION, "nonce": nonce})
        challenge = receive(tls, HELLO_MAX)
        body = {"cluster": "rack1", "node": Member("pve9", 0, ("192.168.1.19", "10.10.0.9"), "x:1").to_json()}
        proof = joiner_proof(cluster_key(OTHER_SECRET), challenge["nonce"], nonce, fp, "join", body)
        send(tls, {"type": "join", "body": body, "proof": proof})
        reply = receive(tls)
    assert reply == {"type": "refused", "message": NOT_PROVEN}
    assert founder.text(MEMBERS) == before
    assert any("refused a join from 127.0.0.1: it does not hold the cluster secret" in line for line in founder.log)


def test_an_oversized_hello_is_cut_off(founder):
    with socket.create_connection(("127.0.0.1", founder.port), timeout=10) as raw, \
            client_context().wrap_socket(raw) as tls:
        tls.sendall((HELLO_MAX + 1).to_bytes(4, "big") + b"x" * 16)
        with pytest.raises((PeerError, OSError)):
            receive(tls)


def test_an_update_while_the_member_handles_a_join_is_refused_as_busy_not_left_waiting(founder):
    server = prepare(founder.paths, founder.runner(), founder.doc, founder.log.append, ("127.0.0.1", 0),
                     founder.endpoint)
    server.service.update_wait = 0.1
    membership = read_membership(founder.root)
    target = replace(membership.members[0], endpoint=f"127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        # while a join holds the lock
        with server.service.lock, pytest.raises(PeerError, match="pve1 is busy with another join; try again"):
            push_update(target, replace(membership, config_version=2), cluster_key(CLUSTER_SECRET))
        assert push_update(target, membership, cluster_key(CLUSTER_SECRET)) == 1, "then it answers"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_connections_over_the_limit_are_closed_at_once(founder):
    server = prepare(founder.paths, founder.runner(), founder.doc, founder.log.append, ("127.0.0.1", 0),
                     founder.endpoint)
    server.max_connections, server.slots = 1, threading.BoundedSemaphore(1)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with socket.create_connection(server.server_address, timeout=10) as first, \
                socket.create_connection(server.server_address, timeout=10) as second:
            assert second.recv(1) == b"", "the second is closed without a handshake"
            first.sendall(b"not TLS")
        assert any("closed: 1 are open already" in line for line in founder.log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_join_service_that_is_not_up_is_a_retryable_error(tmp_path):
    with pytest.raises(PeerError, match=r"cannot reach the join service at 127\.0\.0\.1:"):
        exchange(f"127.0.0.1:{free_port()}", cluster_key(CLUSTER_SECRET), "join", {})
    assert issubclass(PeerError, OSError) and not issubclass(PeerError, JoinRefused)


@pytest.mark.parametrize(("joiner", "message"), [
    pytest.param(Member("pve2", 1, ("a", "b"), "e:1"), "node id 1 is pve1's", id="a node id that is taken"),
    pytest.param(Member("pve2", 0, ("a",), "e:1"), "has 2 link", id="one address for two links"),
])
def test_the_member_refuses_what_cannot_be_admitted(joiner, message):
    membership = Membership("rack1", 1, (Link(0), Link(1)), (Member("pve1", 1, ("x", "y"), "e:1"),))
    with pytest.raises(JoinRefused, match=message):
        membership.admit(joiner, "rack1")
    with pytest.raises(JoinRefused, match="this is cluster rack1, not rack2"):
        membership.admit(Member("pve2", 0, ("a", "b"), "e:1"), "rack2")


GOOD = Member("pve2", 0, ("192.168.1.12", "fd00::2"), "[fd00::2]:8106", "pve2.example.com", "192.168.1.12",
              (HOST_KEY.format(2),))


@pytest.mark.parametrize("entry", [
    pytest.param(replace(GOOD, name="pve2\n}\nquorum {"), id="a name with a line break and a brace"),
    pytest.param(replace(GOOD, addresses=("192.168.1.12 }",)), id="a link address with a brace"),
    pytest.param(replace(GOOD, host_keys=("ssh-ed25519 AAAA\n10.0.0.1 evil",)), id="a host key with a line break"),
    pytest.param(replace(GOOD, endpoint="pve2"), id="an endpoint without a port"),
    pytest.param(replace(GOOD, nodeid=2**32), id="a node id over 32 bits"),
])
def test_an_entry_that_would_write_other_lines_into_the_files_is_refused(entry):
    assert Member.from_json(GOOD.to_json()) == GOOD
    with pytest.raises(JoinRefused, match="member entry"):
        Member.from_json(json.loads(json.dumps(entry.to_json())))


def test_the_lowest_free_node_id_or_the_answers():
    membership = Membership("rack1", 4, (Link(0),), (Member("pve1", 1, ("x",), "e:1"), Member("pve3", 3, ("z",),
                                                                                                 "e:1")))
    assert membership.admit(Member("pve2", 0, ("y",), "e:1"), "rack1").member("pve2").nodeid == 2
    admitted = membership.admit(Member("pve7", 7, ("y",), "e:1"), "rack1")
    assert admitted.member("pve7").nodeid == 7 and admitted.config_version == 5


def test_the_hosts_block_replaces_itself():
    membership = Membership("rack1", 1, (Link(0),), (Member("pve1", 1, ("10.0.0.1",), "e:1", "pve1.lan"),
                                                     Member("pve2", 2, ("10.0.0.2",), "e:1", "pve2.lan")))
    once = with_block("127.0.0.1 localhost\n", hosts_block(membership, "pve1"))
    assert once == ("127.0.0.1 localhost\n# keel cluster rack1: its members (keel-firstboot rewrites this block)\n"
                    "10.0.0.2 pve2.lan pve2\n# end of keel cluster rack1\n")
    assert with_block(once + "10.9.9.9 other\n", hosts_block(membership, "pve1")) == once + "10.9.9.9 other\n"


def provision(node: Node, timing: Timing) -> tuple[int, str]:
    out = io.StringIO()
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    code = cli.provision(node.paths, make_runner=node.runner, timing=timing, clock=lambda: now[0], sleep=sleep,
                         out=out)
    return code, out.getvalue()


def test_keel_firstboot_provision_joins_then_starts_corosync_and_the_join_service(tmp_path, founder):
    pve2 = make_node(tmp_path, "pve2", 2, peer=founder)
    code, out = provision(pve2, Timing())
    assert code == 0, out
    assert [s.state for s in read_record(pve2.paths).steps] == ["done"] * 4
    assert ("systemctl", "restart", "corosync.service") in pve2.ran
    assert ("systemctl", "enable", "--now", "keel-join.service") in pve2.ran
    assert read_membership(founder.root).member("pve2").nodeid == 2
    key = base64.b64encode(AUTHKEY).decode()
    for text in (out, pve2.paths.log.read_text(), json.dumps(read_record(pve2.paths).steps, default=vars),
                 "\n".join(founder.log)):
        assert CLUSTER_SECRET not in text and key not in text


def test_provision_retries_a_peer_that_is_down_and_stops_at_once_on_a_wrong_secret(tmp_path, founder):
    down = make_node(tmp_path, "pve2", 2, peer=make_node(tmp_path, "gone", 8))
    code, out = provision(down, Timing(deadline=10, join_deadline=20))
    failed = read_record(down.paths).failed_step
    assert code == 1 and failed.attempts > 2 and "cannot reach the join service" in failed.last_error
    wrong = make_node(tmp_path, "pve3", 3, peer=founder, secret=OTHER_SECRET)
    code, out = provision(wrong, Timing(deadline=10, join_deadline=20))
    failed = read_record(wrong.paths).failed_step
    assert code == 1 and failed.attempts == 1 and "does not hold the cluster secret" in failed.last_error
    assert OTHER_SECRET not in out


POST_INSTALL = Path(__file__).resolve().parents[3] / "post-install"


def test_keel_join_service_is_packaged_and_runs_the_join_service_command():
    unit = (POST_INSTALL / "systemd" / "keel-join.service").read_text()
    assert "ExecStart=/usr/sbin/keel-firstboot join-service\n" in unit and "WantedBy=multi-user.target\n" in unit
    assert ('Entry("systemd/keel-join.service", "/usr/lib/systemd/system/keel-join.service", 0o644)'
            in (POST_INSTALL / "build_deb.py").read_text())
    with pytest.raises(SystemExit) as done:
        cli.build_parser().parse_args(["join-service", "--help"])
    assert done.value.code == 0


def test_the_join_service_of_a_node_that_has_not_joined_yet_says_so(tmp_path, capsys):
    pve2 = make_node(tmp_path, "pve2", 2, peer=make_node(tmp_path, "pve1", 1))
    assert cli.main(["join-service"], root=pve2.root) == 1
    assert capsys.readouterr().err == ("E: pve2 has not joined cluster rack1 yet ('keel-firstboot provision' "
                                       "joins)\n")
    assert cli.main(["join-service"], root=tmp_path / "empty") == 1
    assert "E: no /etc/keel/provision.json" in capsys.readouterr().err


def test_a_non_ascii_proof_or_deeply_nested_json_is_a_peer_error_not_a_traceback():
    from keel_firstboot.join.protocol import proof_holds

    assert proof_holds("ab" * 32, "\u00e9") is False
    a, b = socket.socketpair()
    with a, b:
        data = b"[" * 4000
        a.sendall(len(data).to_bytes(4, "big") + data)
        with pytest.raises(PeerError, match="not JSON"):
            receive(b)


def test_another_machine_under_a_members_name_is_refused_and_a_join_run_again_is_not():
    founder = Member("pve1", 1, ("x",), "e:1", host_keys=(HOST_KEY.format(1),))
    membership = Membership("rack1", 1, (Link(0),), (founder,))
    with pytest.raises(JoinRefused, match="pve1 is a member of cluster rack1 already, with other SSH host keys"):
        membership.admit(Member("pve1", 0, ("y",), "e:1", host_keys=(HOST_KEY.format(9),)), "rack1")
    again = membership.admit(Member("pve1", 1, ("x",), "e:1", host_keys=(HOST_KEY.format(1),)), "rack1")
    assert again == membership


def test_an_update_older_than_the_members_is_refused_as_stale(founder):
    server = prepare(founder.paths, founder.runner(), founder.doc, founder.log.append, ("127.0.0.1", 0),
                     founder.endpoint)
    membership = read_membership(founder.root)
    target = replace(membership.members[0], endpoint=f"127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with pytest.raises(PeerError, match="stale: config_version 0 is older than 1 here"):
            push_update(target, replace(membership, config_version=0), cluster_key(CLUSTER_SECRET))
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_a_message_trickled_a_byte_at_a_time_is_cut_off_at_one_deadline_for_the_whole_message():
    a, b = socket.socketpair()
    stop = threading.Event()

    def trickle() -> None:
        data = b"\x00\x00\x00\x40" + b"x" * 64
        for byte in data:
            if stop.wait(0.05):
                return
            try:
                a.send(bytes([byte]))
            except OSError:
                return

    with a, b:
        b.settimeout(0.5)               # every byte comes within it; the whole message does not
        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        started = time.monotonic()
        with pytest.raises(PeerError, match=r"took more than 0\.5 s to send one message"):
            receive(b)
        assert time.monotonic() - started < 2
        assert b.gettimeout() == 0.5
        stop.set()
        sender.join()


def test_a_tls_handshake_trickled_a_byte_at_a_time_is_cut_off(founder, monkeypatch):
    from keel_firstboot.join import server as join_server

    monkeypatch.setattr(join_server, "IO_TIMEOUT", 0.5)
    server = prepare(founder.paths, founder.runner(), founder.doc, founder.log.append, ("127.0.0.1", 0),
                     founder.endpoint)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as sock:
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 5:
                try:
                    sock.send(b"\x16")      # a byte of a TLS record header, every 0.1 s: never a whole ClientHello
                    if sock.recv(1, socket.MSG_DONTWAIT) == b"":
                        closed = True
                        break
                except BlockingIOError:
                    pass
                except OSError:
                    closed = True
                    break
                time.sleep(0.1)
            assert closed, "the join service kept a trickled handshake open"
            assert time.monotonic() - started < 3
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_join_service_tells_systemd_it_is_ready(tmp_path, monkeypatch):
    from keel_firstboot.join.server import notify_ready

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notify_ready()                                  # not under systemd: nothing, no error
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        notify_ready()
        assert listener.recv(64) == b"READY=1"
