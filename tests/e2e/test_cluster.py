"""Issue 16, e2e: from bare metal to a two-node cluster with storage and services, declared in the answers.

pve1 and pve2 share a harness LAN (10.77.0.0/24, static addresses, no DHCP on it) and install at the same time
from answers that differ only in the host name, the address (and the NIC filter naming the machine's own NIC)
and the cluster mode: pve1 creates cluster "keeltest", pve2 joins it through pve1's join service, both with one
secret from `keel-answer cluster-secret`. pve1 also gets a `zfspool` storage on one extra disk and an `lvmthin`
storage on another, each selected by a serial-number filter that leaves the install disk out. Both get the same
services: a user with an SSH key, vm.swappiness, the nftables baseline and an NTP server.

At first boot keel-provision.service runs `keel-firstboot provision` on each; pve2's join is retried until pve1
serves it. Then the test checks the cluster (quorum on both, one corosync.conf and authkey, names that resolve
and answer), pve1's storage (a zvol and a thin LV made on it), the services (an SSH login with the key from the
other node, checked against the known_hosts the join wrote), and that a reboot of pve2 runs nothing again. The
outputs the issue's closing note quotes are saved beside the console logs, in build/e2e/<test>/.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pytest

from installer.core.provision import new_cluster_secret
from keel_harness import (
    Disk,
    GiB,
    HarnessError,
    Iso,
    Machine,
    Network,
    Nic,
    Outcome,
    build_answer_image,
    timeouts,
    wait_for_verdict,
)
from keel_harness.qemu_argv import nic_mac
from keel_harness.verdicts import REBOOTING

pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "cluster-test-pw"
INSTALL_TIMEOUT = timeouts.scaled(3600)
BOOT_TIMEOUT = timeouts.scaled(1200)
PROVISION_TIMEOUT = timeouts.scaled(2400)    # the join waits up to 30 min for its peer
CLUSTER = "keeltest"
DOMAIN = "keel.test"
NODES = {"pve1": "10.77.0.11", "pve2": "10.77.0.12"}
NTP_SERVER = "10.77.0.1"                     # nobody answers there: the test checks chrony's configuration
ZFS_STORAGE, THIN_STORAGE = "tank", "thin"
# the extra disks' serials (udev's ID_SERIAL of a virtio disk); the storage filters select them by these
ZFS_SERIAL, THIN_SERIAL = "KEELZFS1", "KEELTHIN1"

ANSWER = """\
[global]
keyboard = "en-us"
country = "at"
fqdn = "{host}.{domain}"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "{password}"

[network]
source = "from-answer"
cidr = "{address}/24"
gateway = "10.77.0.1"
dns = "10.77.0.1"
filter.ID_NET_NAME_MAC = "enx{mac}"

[disk-setup]
filesystem = "ext4"
disk-list = ["vda"]

[provision.cluster]
name = "{cluster}"
{mode}
cluster-secret = "{secret}"

[[provision.storage]]
id = "{zfs_id}"
type = "zfspool"
raid = "raid0"
filter.ID_SERIAL = "KEELZFS*"
nodes = ["pve1"]

[[provision.storage]]
id = "{thin_id}"
type = "lvmthin"
filter.ID_SERIAL = "KEELTHIN*"
nodes = ["pve1"]

[provision.services]
ntp-servers = ["{ntp}"]

[[provision.services.users]]
name = "admin"
ssh-keys = ["{ssh_key}"]

[provision.services.sysctl]
vm.swappiness = 10

[provision.services.firewall]
enabled = true
"""


def answer(host: str, mac: str, secret: str, ssh_key: str) -> str:
    mode = 'mode = "create"' if host == "pve1" else f'mode = "join"\npeer = "{NODES["pve1"]}"'
    return ANSWER.format(host=host, domain=DOMAIN, password=PASSWORD, address=NODES[host],
                         mac=mac.replace(":", ""), cluster=CLUSTER, mode=mode, secret=secret, zfs_id=ZFS_STORAGE,
                         thin_id=THIN_STORAGE, ntp=NTP_SERVER, ssh_key=ssh_key)


def install(m: Machine) -> None:
    """The ISO's automated entry installs from the answer stick; the machine is stopped at the reboot."""
    m.select_boot_entry("a")
    m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=timeouts.READY)
    verdict = wait_for_verdict(m, INSTALL_TIMEOUT)
    assert verdict.outcome is Outcome.FINISHED, f"{m.name}: {verdict.line}\n{m.console_tail(60)}"
    m.wait_for_line([REBOOTING], timeout=60)
    m.stop()


def log_in(m: Machine) -> None:
    m.login("root", PASSWORD, timeout=BOOT_TIMEOUT)


def first_boot(m: Machine) -> None:
    m.boot_from_disks()
    log_in(m)


def at_once(action: Callable[[Machine], None], *machines: Machine) -> None:
    """`action` on the (started) machines at once, each in its own thread: a console nobody reads stalls its
    guest. When one fails, the others are stopped rather than waited for. QEMU is started here, in the test's
    thread, never in a worker: it gets SIGKILL when the thread that started it ends (PR_SET_PDEATHSIG)."""
    with ThreadPoolExecutor(len(machines)) as pool:
        running = [pool.submit(action, m) for m in machines]
        try:
            for done in as_completed(running):
                done.result()
        except BaseException:
            for m in machines:
                m.stop()
            raise


def install_all(*machines: Machine) -> None:
    for m in machines:
        m.start()
    at_once(install, *machines)


def first_boot_all(*machines: Machine) -> None:
    for m in machines:
        m.boot_from_disks()
    at_once(log_in, *machines)


def nodes(machine: Callable[..., Machine], iso: Path, lan: Network, public_key: str, tmp_path: Path
          ) -> tuple[Machine, Machine]:
    """pve1 and pve2, each with its answer stick, the LAN NIC first and the install disk; pve1 with the disks of
    its two storages. User networking beside the LAN only so that the live system's DHCP wait ends at once."""
    secret = new_cluster_secret()
    made = []
    for host in NODES:
        nic = lan.nic()
        extra = [Disk(4 * GiB, serial=ZFS_SERIAL), Disk(4 * GiB, serial=THIN_SERIAL)] if host == "pve1" else []
        stick = build_answer_image(tmp_path / f"{host}-answer.img",
                                   answer(host, nic_mac(host, 0, nic) or "", secret, public_key))
        made.append(machine(host, disks=[Disk(24 * GiB), *extra], nics=[nic, Nic()], boot=Iso(iso),
                            answer_image=stick))
    return made[0], made[1]


def provisioned(m: Machine) -> dict:
    """Once the boot is done (keel-provision.service ended with it): keel-firstboot's status as JSON."""
    m.execute("systemctl is-system-running --wait", timeout=PROVISION_TIMEOUT)
    return json.loads(m.execute("keel-firstboot status --json")[1])


def save(out: Path, name: str, text: str) -> str:
    (out / name).write_text(text)
    return text


def quorate(m: Machine) -> str:
    """`corosync-quorumtool -s` once it says quorate (the second node's votes take a moment to arrive)."""
    return m.wait_until_succeeds("corosync-quorumtool -s | grep -q 'Quorate: *Yes' && corosync-quorumtool -s",
                                 timeout=timeouts.scaled(300), interval=5)


@contextlib.contextmanager
def logs_kept(out: Path, *machines: Machine) -> Iterator[None]:
    """What provisioning, the join service and corosync said on each machine, saved beside its console log
    whatever the test's outcome."""
    try:
        yield
    finally:
        for m in machines:
            with contextlib.suppress(HarnessError):
                save(out, f"{m.name}-first-boot.log", m.execute(
                    "cat /var/log/keel/first-boot.log; journalctl -b --no-pager -u keel-provision -u keel-join "
                    "-u corosync -u nftables | tail -n 400", timeout=120)[1])


def sha256(m: Machine, path: str) -> str:
    return m.succeed(f"sha256sum {path}").split()[0]


@pytest.fixture
def lan() -> Iterator[Network]:
    with Network("lan") as network:
        yield network


@pytest.fixture
def ssh_key(tmp_path: Path) -> tuple[str, str]:
    """A fresh ed25519 key pair: (private key, public key line)."""
    key = tmp_path / "admin_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "admin@keel-e2e", "-f", str(key)],
                   check=True)
    return key.read_text(), key.with_suffix(".pub").read_text().strip()


@pytest.mark.test_timeout(7200)
def test_two_nodes_install_into_one_quorate_cluster_with_storage_and_services(machine, iso, lan, ssh_key, tmp_path):
    private_key, public_key = ssh_key
    pve1, pve2 = nodes(machine, iso, lan, public_key, tmp_path)
    out = pve1.state_dir.parent

    install_all(pve1, pve2)
    first_boot_all(pve1, pve2)
    with logs_kept(out, pve1, pve2):
        check_the_cluster(pve1, pve2, out, private_key, public_key)


def check_the_cluster(pve1: Machine, pve2: Machine, out: Path, private_key: str, public_key: str) -> None:
    status1, status2 = provisioned(pve1), provisioned(pve2)
    save(out, "pve1-keel-firstboot-status.txt", pve1.execute("keel-firstboot status")[1])
    save(out, "pve2-keel-firstboot-status.txt", pve2.execute("keel-firstboot status")[1])
    assert status1["provision"]["state"] == "succeeded", pve1.execute("keel-firstboot status")[1]
    assert status2["provision"]["state"] == "succeeded", pve2.execute("keel-firstboot status")[1]

    # the cluster: both nodes, quorate, one configuration
    for m in (pve1, pve2):
        shown = save(out, f"{m.name}-corosync-quorumtool.txt", quorate(m))
        for host in NODES:
            assert re.search(rf"^\s*\d+\s+1\s+{host}\b", shown, re.MULTILINE), shown
    assert sha256(pve1, "/etc/corosync/corosync.conf") == sha256(pve2, "/etc/corosync/corosync.conf")
    assert sha256(pve1, "/etc/corosync/authkey") == sha256(pve2, "/etc/corosync/authkey")
    conf = save(out, "corosync.conf", pve1.succeed("cat /etc/corosync/corosync.conf"))
    assert "two_node: 1" in conf and f"cluster_name: {CLUSTER}" in conf, conf
    for m, other in ((pve1, "pve2"), (pve2, "pve1")):
        assert m.succeed(f"getent hosts {other}").split()[0] == NODES[other]
        m.succeed(f"ping -c 1 -W 10 {other}", timeout=timeouts.COMMAND)

    # pve1's storage: made, registered, usable
    pve1.succeed(f"zpool list {ZFS_STORAGE}")
    storage_cfg = save(out, "pve1-storage.cfg", pve1.succeed("cat /etc/pve/storage.cfg"))
    assert f"zfspool: {ZFS_STORAGE}" in storage_cfg and f"lvmthin: {THIN_STORAGE}" in storage_cfg, storage_cfg
    # registered on pve2 too, with the nodes line that keeps it to pve1 (Proxmox's one storage.cfg for the cluster)
    pve2_cfg = save(out, "pve2-storage.cfg", pve2.succeed("cat /etc/pve/storage.cfg"))
    for storage_id in (ZFS_STORAGE, THIN_STORAGE):
        stanza = pve2_cfg.split(f": {storage_id}\n", 1)[1].split("\n\n", 1)[0]
        assert "\tnodes pve1" in stanza, pve2_cfg
    pve2.fail(f"zpool list {ZFS_STORAGE}")
    assert f"/dev/disk/by-id/virtio-{ZFS_SERIAL}" in pve1.succeed(f"zpool status -P {ZFS_STORAGE}")
    pve1.succeed(f"zfs create -V 64M {ZFS_STORAGE}/test && udevadm settle && test -b /dev/zvol/{ZFS_STORAGE}/test")
    pve1.succeed(f"lvcreate -V 64M -T {THIN_STORAGE}/{THIN_STORAGE} -n test && "
                 f"lvs --noheadings -o lv_name,pool_lv {THIN_STORAGE}/test")
    assert "vda" not in pve1.succeed(f"pvs --noheadings -o pv_name,vg_name | grep -w {THIN_STORAGE}")

    # the services, on both
    for m in (pve1, pve2):
        assert m.succeed("sysctl -n vm.swappiness").strip() == "10"
        ruleset = save(out, f"{m.name}-nft-ruleset.txt", m.succeed("nft list ruleset"))
        assert "policy drop" in ruleset and "udp dport 5405-5412 accept" in ruleset, ruleset
        assert "tcp dport 8106 accept" in ruleset and "10.77.0.0/24" in ruleset, ruleset
        assert m.succeed("cat /home/admin/.ssh/authorized_keys").strip() == public_key
        assert f"server {NTP_SERVER} iburst" in m.succeed("cat /etc/chrony/chrony.conf")
    # an SSH login from pve2 to pve1 with the key; pve1's host key comes from the known_hosts the join wrote
    encoded = base64.b64encode(private_key.encode()).decode()
    pve2.succeed(f"install -d -m 700 /root/.ssh && echo {encoded} | base64 -d > /root/.ssh/admin_ed25519 && "
                 "chmod 600 /root/.ssh/admin_ed25519")
    login = pve2.succeed("ssh -i /root/.ssh/admin_ed25519 -o BatchMode=yes -o StrictHostKeyChecking=yes "
                         "admin@pve1 'id -un; hostname'", timeout=timeouts.COMMAND)
    assert login.split()[-2:] == ["admin", "pve1"], login

    # a reboot of pve2: provisioning does not run again, the node is back in the quorate cluster
    runs_before = pve2.succeed("grep -c 'keel-firstboot: provisioning: .* steps, run' /var/log/keel/first-boot.log")
    pve2.power_cycle(timeout=BOOT_TIMEOUT)
    pve2.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    again = provisioned(pve2)
    assert again["provision"] == status2["provision"], "the provision record changed after a reboot"
    assert pve2.succeed("grep -c 'keel-firstboot: provisioning: .* steps, run' "
                        "/var/log/keel/first-boot.log") == runs_before
    assert pve2.succeed("systemctl show -P ConditionResult keel-provision.service").strip() == "no"
    save(out, "pve2-corosync-quorumtool-after-reboot.txt", quorate(pve2))




@pytest.mark.test_timeout(7200)
def test_a_join_to_a_peer_that_is_down_fails_with_the_reason_and_retry_completes_it(machine, iso, lan, ssh_key,
                                                                                    tmp_path):
    pve1, pve2 = nodes(machine, iso, lan, ssh_key[1], tmp_path)
    out = pve1.state_dir.parent
    install_all(pve1, pve2)             # pve1 stays off after its install: its join service is down

    first_boot(pve2)
    with logs_kept(out, pve1, pve2):
        # the first boot's join is retried while pve1 is down
        pve2.wait_until_succeeds("grep -q 'attempt 2 failed: cannot reach the join service at 10.77.0.11:8106' "
                                 "/var/log/keel/first-boot.log", timeout=timeouts.scaled(600), interval=5)
        # the same run with a join deadline of 60 s (a runtime drop-in): it stops, failed, with the reason
        pve2.succeed("mkdir -p /run/systemd/system/keel-provision.service.d && printf '[Service]\\n"
                     "Environment=KEEL_FIRSTBOOT_JOIN_DEADLINE=60\\n' "
                     ">/run/systemd/system/keel-provision.service.d/deadline.conf && systemctl daemon-reload")
        pve2.fail("systemctl restart keel-provision.service", timeout=timeouts.scaled(900))
        shown = save(out, "pve2-keel-firstboot-status-failed.txt", pve2.fail("keel-firstboot status"))
        # six steps: pve2 also registers the storage pve1 makes (its nodes line names pve1)
        assert "provision: FAILED: step 1/6, cluster keeltest: join through 10.77.0.11:8106" in shown, shown
        assert "cannot reach the join service at 10.77.0.11:8106" in shown, shown
        assert pve2.succeed("systemctl is-failed keel-provision.service").strip() == "failed"
        pve2.fail("test -e /etc/corosync/authkey")

        # pve1 comes up and founds the cluster; a retry on pve2 joins it
        first_boot(pve1)
        assert provisioned(pve1)["provision"]["state"] == "succeeded", pve1.execute("keel-firstboot status")[1]
        retried = pve2.succeed("keel-firstboot retry --now", timeout=timeouts.scaled(900))
        assert "provisioning succeeded" in retried, retried
        shown = save(out, "pve2-keel-firstboot-status-retried.txt", pve2.succeed("keel-firstboot status"))
        assert "provision: succeeded" in shown, shown
        for m in (pve1, pve2):
            shown = save(out, f"{m.name}-corosync-quorumtool.txt", quorate(m))
            assert all(re.search(rf"^\s*\d+\s+1\s+{host}\b", shown, re.MULTILINE) for host in NODES), shown
