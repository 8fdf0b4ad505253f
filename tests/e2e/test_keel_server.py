"""Issue 15: a PXE machine gets its own answer from keel-server, installs, is tracked, and then boots its disk.

keel-server runs on this host's loopback (HTTPS for answers and reports, plain HTTP for iPXE, as firmware iPXE
cannot pin a self-signed certificate); the guest reaches it at 10.0.2.2 through QEMU's user networking, whose
TFTP hands SeaBIOS's iPXE a two-line script that chains the server's /boot/<mac>.ipxe:
- the server knows the MAC from a profile, so the answer carries a hostname from the machine's number and an
  address from a pool;
- every phase of the install shows up in `keel-server machine show`, the webhook marks the machine installed
  with the host keys the booted system has;
- the next network boot gets the local-disk script, so the machine boots its disk instead of reinstalling;
- the answer's [provision] runs at first boot and reports to the server with the install's token: the machine
  goes on to "ready", with the first-boot events in its timeline.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from keel_harness import BuildOutputs, Disk, GiB, Nic, Outcome, Pxe, timeouts, wait_for_verdict
from keel_harness.verdicts import REBOOTING

pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "server-test-pw"
MAC = "52:54:00:4b:45:01"
INSTALL_TIMEOUT = timeouts.scaled(3600)
BOOT_TIMEOUT = timeouts.scaled(900)
HOST = "10.0.2.2"  # the host's loopback, seen from a guest on QEMU user networking

TEMPLATE = """\
[global]
keyboard = "en-us"
country = "at"
fqdn = "{{ "pxe%02d" | format(machine.number) }}.lab.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "@PASSWORD@"

[network]
source = "from-answer"
cidr = "{{ address.cidr }}"
gateway = "{{ address.gateway }}"
dns = "{{ address.dns }}"
filter.ID_NET_NAME_MAC = "enx{{ machine.mac | replace(':', '') }}"

[disk-setup]
filesystem = "ext4"
disk-list = ["vda"]

[provision.services.sysctl]
vm.swappiness = 13

[[provision.storage]]
id = "images"
type = "dir"
path = "/srv/images"
content = ["iso", "backup"]
""".replace("@PASSWORD@", PASSWORD)


def keel_server_argv() -> list[str]:
    beside = Path(sys.executable).parent / "keel-server"
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "keel_server.cli"]


def cli(*args: str) -> str:
    done = subprocess.run([*keel_server_argv(), *args], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"keel-server {' '.join(args)}: {done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Served:
    data: Path
    boot_url: str            # as the guest sees it
    boot_port: int
    log: Path

    def boot_script(self, mac: str) -> str:
        """What iPXE gets for `mac` now (asked from this host, as the guest's iPXE would)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.boot_port}/boot/{mac}.ipxe", timeout=30) as reply:
            return reply.read().decode()

    def machine(self, ref: str) -> dict:
        return json.loads(cli("machine", "show", "--data", str(self.data), ref, "--json"))


@pytest.fixture
def served(keel_build: BuildOutputs, tmp_path: Path) -> Iterator[Served]:
    data = tmp_path / "data"
    cli("init", "--data", str(data), "--json")
    template = tmp_path / "lab.toml.j2"
    template.write_text(TEMPLATE)
    cli("pool", "add", "--data", str(data), "lab", "--cidr", "10.0.2.0/24", "--gateway", HOST,
        "--dns", "10.0.2.3", "--range", "10.0.2.50-10.0.2.59")
    cli("profile", "add", "--data", str(data), "lab", str(template), "--mac", MAC, "--pool", "lab")
    port, boot_port = free_port(), free_port()
    log = tmp_path / "keel-server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [*keel_server_argv(), "serve", "--data", str(data), "--listen", f"127.0.0.1:{port}",
             "--boot-listen", f"127.0.0.1:{boot_port}", "--public-url", f"https://{HOST}:{port}",
             "--pxe-dir", str(keel_build.pxe_dir)], stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "boot scripts" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"keel-server serve did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield Served(data, f"http://{HOST}:{boot_port}", boot_port, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def chain_script(tftp: Path, boot_url: str) -> Pxe:
    """What a site's DHCP/TFTP hands iPXE (keel-server dnsmasq-config writes the same chain for dnsmasq)."""
    tftp.mkdir(parents=True, exist_ok=True)
    (tftp / "boot.ipxe").write_text(f"#!ipxe\nchain {boot_url}/boot/${{net0/mac}}.ipxe\n")
    return Pxe(tftp, bootfile="boot.ipxe")


@pytest.mark.test_timeout(5400)
def test_a_pxe_machine_gets_its_answer_is_tracked_to_installed_and_then_boots_its_disk(
    machine, served: Served, tmp_path: Path
):
    pxe = chain_script(tmp_path / "tftp", served.boot_url)
    # The kernel command line is the server's to choose (the boot script), so no harness arguments are added.
    m = machine("server-pxe", firmware="bios", memory=3072, disks=[Disk(24 * GiB)], nics=[Nic(mac=MAC)], boot=pxe)
    m.start()
    m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=timeouts.READY)
    verdict = wait_for_verdict(m, INSTALL_TIMEOUT)
    assert verdict.outcome is Outcome.FINISHED, f"{verdict.line}\n{m.console_tail(60)}"
    m.wait_for_line([REBOOTING], timeout=60)

    shown = served.machine(MAC)
    assert shown["state"] == "installed", json.dumps(shown, indent=1)[:3000]
    states = [t["state"] for t in shown["transitions"]]
    assert states[:4] == ["discovered", "answer-sent", "installing", "installed"], states
    phases = {e["phase"] for e in shown["events"] if e["type"] == "phase"}
    for phase in ("Partitioning disks", "Extracting the base system", "Making the disks bootable"):
        assert phase in phases, sorted(phases)
    assert any(e["type"] == "finished" and e["ok"] for e in shown["events"])
    assert PASSWORD not in json.dumps(shown) and PASSWORD not in served.log.read_text()

    # The next network boot: the server answers with the local-disk script and the installed system comes up.
    local = served.boot_script(MAC)
    assert "sanboot" in local and "vmlinuz" not in local, local
    m.boot_from_disks(boot=pxe)
    m.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    number = shown["number"]
    hostname = m.succeed("hostname").strip()
    assert hostname == f"pxe{number:02d}", hostname
    interfaces = m.succeed("cat /etc/network/interfaces")
    assert "address 10.0.2.50/24" in interfaces and f"gateway {HOST}" in interfaces, interfaces
    booted_key = m.succeed("cat /etc/ssh/ssh_host_ed25519_key.pub").split()[:2]
    shown = served.machine(MAC)
    assert shown["ssh_host_keys"]["ed25519"].split()[:2] == booted_key
    assert shown["state"] == "installed", "a network boot after the install must not rearm or reinstall"
    asked = served.log.read_text().count(f"GET /boot/{MAC.replace(':', '%3A')}.ipxe")  # iPXE escapes the colons
    assert asked >= 2, "both network boots asked the server"

    # First boot: keel-provision.service applies [provision] and reports it to the server that served the answer.
    m.execute("systemctl is-system-running --wait", timeout=BOOT_TIMEOUT)
    status = m.succeed("keel-firstboot status")
    assert "provision: succeeded" in status, status
    assert "reports:" in status and f"{HOST}:" in status, status
    assert m.succeed("sysctl -n vm.swappiness").strip() == "13"       # the installer wrote it
    storage = m.succeed("cat /etc/pve/storage.cfg")
    assert "dir: images" in storage and "\tpath /srv/images" in storage, storage       # first boot added it
    m.succeed("test -d /srv/images")
    deadline = time.monotonic() + 120           # the last report is sent as the unit ends
    while (shown := served.machine(MAC))["state"] != "ready" and time.monotonic() < deadline:
        time.sleep(2)
    assert shown["state"] == "ready", json.dumps(shown, indent=1)[-3000:]
    firstboot = [e for e in shown["events"] if e["type"] == "firstboot"]
    assert "provisioning" in {e["phase"] for e in firstboot}, firstboot       # a report per step
    assert firstboot[-1]["phase"] == "ready" and "provisioning succeeded" in firstboot[-1]["text"], firstboot
    assert [t["state"] for t in shown["transitions"]][-1] == "ready"
    assert PASSWORD not in json.dumps(shown) and PASSWORD not in served.log.read_text()
    shutil.copy(served.log, m.state_dir / "keel-server.log")
    # Kept beside the console log: the machine's timeline as an operator reads it (the acceptance quotes it).
    (m.state_dir / "machine-show.txt").write_text(cli("machine", "show", "--data", str(served.data), MAC))
