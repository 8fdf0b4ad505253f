"""Issue 14, part 5: answers reach a machine without a hand-made medium, then it installs, reboots and is checked.

- a prepared ISO (`keel-answer prepare-iso --fetch-from iso`) with no other medium attached;
- a prepared ISO in http mode without a URL: DHCP option 250 names the HTTPS answer server, 251 its fingerprint;
- the same through DNS TXT records, DHCP giving only an address and a search domain;
- a static fetch network on VLAN 42 of a LAN without DHCP (keel.ifname=, keel.vlan=, keel.ip=, keel.answer=);
- the `--pxe` output, network-booted under SeaBIOS and OVMF.

DHCP and DNS come from dnsmasq in the harness's services guest on a Network (a vde_switch on this host). The
installing machine has a NIC on that LAN and, where the answer comes from the host's HTTPS server (10.0.2.2), a
second one on user networking. The LAN's DHCP gives no default route, so the installer reaches 10.0.2.2 on the
user NIC while it finds the URL on the LAN.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from installer.runner import Runner
from keel_harness import (
    SERVICES_READY,
    BuildOutputs,
    Disk,
    DnsmasqConfig,
    GiB,
    HostServer,
    Iso,
    Kernel,
    Machine,
    Network,
    Nic,
    Outcome,
    Pxe,
    ServicesSpec,
    services_machine,
    timeouts,
    wait_for_verdict,
)
from keel_harness.qemu_argv import nic_mac
from keel_harness.verdicts import REBOOTING

pytestmark = [pytest.mark.e2e, pytest.mark.installs]

PASSWORD = "delivery-test-pw"
INSTALL_TIMEOUT = timeouts.scaled(3600)
BOOT_TIMEOUT = timeouts.scaled(900)
SERVICES_TIMEOUT = timeouts.scaled(300)
DOMAIN = "keel.test"
# The installer and live system wait for ttyS0 under a loaded TCG host (see test_pxe.py).
SLOW_DEVICES = "systemd.default_device_timeout_sec=1800"

ANSWER = """\
[global]
keyboard = "en-us"
country = "at"
fqdn = "{host}.example.com"
mailto = "admin@example.com"
timezone = "Europe/Vienna"
root-password = "{password}"

[network]
{network}

[disk-setup]
filesystem = "ext4"
disk-list = ["vda"]
"""
FROM_DHCP = 'source = "from-dhcp"'


def answer(host: str, network: str = FROM_DHCP) -> str:
    return ANSWER.format(host=host, password=PASSWORD, network=network)


def keel_answer() -> str:
    """The keel-answer script of this Python environment (make's PATH has it; a bare pytest run may not)."""
    beside = Path(sys.executable).parent / "keel-answer"
    return str(beside) if beside.exists() else (shutil.which("keel-answer") or "keel-answer")


def prepare_iso(iso: Path, out: Path, *args: str) -> Path:
    """`keel-answer prepare-iso ISO --output OUT ...`: the tool under test, run as a user would."""
    out.parent.mkdir(parents=True, exist_ok=True)
    Runner(default_timeout=timeouts.scaled(600)).run([keel_answer(), "prepare-iso", str(iso), "--output", str(out),
                                                      *args])
    assert out.is_file(), f"prepare-iso wrote no {out}"
    return out


def install_and_reboot(m: Machine, host: str, ready_already: bool = False) -> None:
    """From a started machine in the automated entry: installed, rebooted into the disk, root logged in."""
    if not ready_already:
        m.wait_for_console_text(r"KEEL-READY mode=auto", timeout=timeouts.READY)
    verdict = wait_for_verdict(m, INSTALL_TIMEOUT)
    assert verdict.outcome is Outcome.FINISHED, f"{verdict.line}\n{m.console_tail(60)}"
    m.wait_for_line([REBOOTING], timeout=60)
    m.boot_from_disks()
    m.login("root", PASSWORD, timeout=BOOT_TIMEOUT)
    assert m.succeed("hostname").strip() == host
    assert f"{host}.example.com {host}" in m.succeed("cat /etc/hosts")


def check_bridge(m: Machine) -> str:
    """The answer's network on the installed system: Proxmox's vmbr0 bridge over the chosen NIC."""
    interfaces = m.succeed("cat /etc/network/interfaces")
    assert "auto vmbr0" in interfaces and "bridge-ports" in interfaces, interfaces
    return interfaces


@pytest.fixture(scope="module")
def build(keel_build: BuildOutputs) -> BuildOutputs:
    return keel_build


@pytest.fixture
def lan() -> Iterator[Network]:
    with Network("lan") as network:
        yield network


@pytest.fixture
def services(machine: Callable[..., Machine], lan: Network, tmp_path: Path) -> Callable[[ServicesSpec], Machine]:
    """Factory: the services guest for `spec`, started and ready (its shell attached) on the `lan`."""

    def start(spec: ServicesSpec) -> Machine:
        guest = services_machine(machine, lan, spec, tmp_path)
        guest.start()
        guest.wait_for_console_text(SERVICES_READY, timeout=SERVICES_TIMEOUT)
        guest.attach_shell(timeout=SERVICES_TIMEOUT)
        assert "KEEL-SERVICES-FAILED" not in guest.console_tail(80)
        return guest

    return start


def https_answer_server(http_server: Callable[..., HostServer], host: str) -> HostServer:
    server = http_server(https=True)
    server.serve("answer", answer(host))
    return server


@pytest.mark.smoke  # CI's answer-delivery check: prepare-iso as users run it, then an install from it alone
@pytest.mark.test_timeout(5400)
def test_a_prepared_iso_with_fetch_from_iso_installs_with_no_other_medium(machine, build, tmp_path):
    host = "deliver-iso"
    answer_file = tmp_path / "answer.toml"
    answer_file.write_text(answer(host))
    prepared = prepare_iso(build.iso, tmp_path / "prepared.iso", "--fetch-from", "iso", "--answer-file",
                           str(answer_file))
    m = machine(host, disks=[Disk(24 * GiB)], boot=Iso(prepared))  # no answer stick, no URL: the ISO is all
    m.start()  # the prepared ISO boots its automated entry after a short countdown, no key pressed
    install_and_reboot(m, host)
    check_bridge(m)


@pytest.mark.test_timeout(5400)
def test_dhcp_option_250_names_the_answer_server_and_251_pins_its_certificate(
    machine, build, lan, services, http_server, tmp_path
):
    host = "deliver-dhcp"
    server = https_answer_server(http_server, host)
    dnsmasq = DnsmasqConfig(domain=DOMAIN, dhcp_options=((250, server.guest_url("answer")), (251, server.fingerprint)))
    lan_services = services(ServicesSpec(dnsmasq=dnsmasq))
    prepared = prepare_iso(build.iso, tmp_path / "prepared.iso", "--fetch-from", "http")  # no --url
    m = machine(host, disks=[Disk(24 * GiB)], nics=[lan.nic(), Nic()], boot=Iso(prepared))
    m.start()
    install_and_reboot(m, host)
    posts = server.posts("/answer")
    assert posts, f"the installer never POSTed to the answer server: {server.requested_paths()}"
    assert posts[0].body.lstrip().startswith(b"{"), "the installer POSTs its system information as JSON"
    mac = nic_mac(host, 0, lan.nic())
    log = lan_services.succeed("cat /var/log/dnsmasq.log")
    assert re.search(rf"DHCPACK\(eth0\) 10\.77\.0\.\d+ {mac}", log), log[-3000:]
    assert re.search(r"option:\s*250\b", log) and re.search(r"option:\s*251\b", log)  # log-dhcp: options sent
    check_bridge(m)


@pytest.mark.test_timeout(5400)
def test_dns_txt_records_under_the_dhcp_search_domain_name_the_answer_server(
    machine, build, lan, services, http_server, tmp_path
):
    host = "deliver-dns"
    server = https_answer_server(http_server, host)
    dnsmasq = DnsmasqConfig(domain=DOMAIN, txt_records=(
        (f"proxmox-auto-installer.{DOMAIN}", server.guest_url("answer")),
        (f"proxmox-auto-installer-cert-fingerprint.{DOMAIN}", server.fingerprint or ""),
    ))  # DHCP: an address and the search domain, no option 250/251
    lan_services = services(ServicesSpec(dnsmasq=dnsmasq))
    prepared = prepare_iso(build.iso, tmp_path / "prepared.iso", "--fetch-from", "http")
    m = machine(host, disks=[Disk(24 * GiB)], nics=[lan.nic(), Nic()], boot=Iso(prepared))
    m.start()
    install_and_reboot(m, host)
    assert server.posts("/answer"), f"no POST to the answer server: {server.requested_paths()}"
    log = lan_services.succeed("cat /var/log/dnsmasq.log")
    assert f"query[TXT] proxmox-auto-installer.{DOMAIN}" in log, log[-3000:]
    assert f"query[TXT] proxmox-auto-installer-cert-fingerprint.{DOMAIN}" in log
    check_bridge(m)


@pytest.mark.test_timeout(5400)
def test_a_static_fetch_network_on_a_vlan_without_dhcp_fetches_the_answer_and_installs(
    machine, build, lan, services
):
    host = "deliver-vlan"
    mac = nic_mac(host, 0, lan.nic())
    static = "\n".join([
        'source = "from-answer"',
        'cidr = "10.77.0.50/24"',
        'gateway = "10.77.0.1"',
        'dns = "10.77.0.1"',
        f'filter.ID_NET_NAME_MAC = "enx{mac.replace(":", "")}"',
    ])
    # No dnsmasq at all: nobody on the LAN answers DHCP. The answer is served on VLAN 42 only.
    lan_services = services(ServicesSpec(dnsmasq=None, vlans=((42, "192.168.42.1/24"),),
                                         answers={"answer": answer(host, static)}))
    kernel_args = [
        "boot=live", "keel.mode=auto", "console=tty0", "console=ttyS0,115200", SLOW_DEVICES,
        f"keel.ifname=lan0:{mac}",
        "keel.vlan=lan0.42:lan0",
        "keel.ip=192.168.42.50::192.168.42.1:255.255.255.0::lan0.42:none",
        "keel.answer=http://192.168.42.1/cgi-bin/answer",
    ]
    m = machine(host, disks=[Disk(24 * GiB)], nics=[lan.nic()],  # the LAN NIC only: no user networking
                boot=Kernel(build.pxe_dir / "vmlinuz", build.pxe_dir / "initrd.img", " ".join(kernel_args),
                            medium=build.iso))
    m.start()
    install_and_reboot(m, host)
    interfaces = check_bridge(m)
    assert "10.77.0.50/24" in interfaces and "gateway 10.77.0.1" in interfaces, interfaces
    m.succeed("ping -c 1 -W 10 10.77.0.1", timeout=timeouts.COMMAND)  # the answer's network really works
    assert "192.168.42.1/24" in lan_services.succeed("ip address show eth0.42")  # busybox ip: no -brief


@pytest.mark.test_timeout(7200)
@pytest.mark.parametrize("firmware", ["bios", "uefi"])
def test_the_pxe_output_of_prepare_iso_network_boots_into_the_automated_install(
    machine, build, http_server, tmp_path, firmware
):
    host = f"deliver-pxe-{firmware}"
    answer_file = tmp_path / "answer.toml"
    answer_file.write_text(answer(host))
    out = tmp_path / "pxe-out"
    prepared = prepare_iso(build.iso, out / "prepared.iso", "--fetch-from", "iso", "--answer-file",
                           str(answer_file), "--pxe")
    for name in ("vmlinuz", "initrd.img", "boot.ipxe"):
        assert (out / name).is_file(), f"--pxe wrote no {name}"
    server = http_server(root=out)  # live-boot fetches the prepared ISO from keel-base
    tftp = tmp_path / "tftp"
    tftp.mkdir()
    for entry in out.iterdir():
        (tftp / entry.name).symlink_to(entry)
    # What a site's own first script does: say where keel-base is, then run the generated boot.ipxe.
    (tftp / "site.ipxe").write_text(f"#!ipxe\nset keel-base {server.guest_url().rstrip('/')}\nchain boot.ipxe\n")
    # The whole prepared ISO is loaded into RAM besides the live system.
    m = machine(host, firmware=firmware, memory=4096, disks=[Disk(24 * GiB)],
                boot=Pxe(tftp, bootfile="site.ipxe"))
    m.start()  # under OVMF this also has the EFI iPXE chain site.ipxe (Machine.chain_ipxe_script)
    install_and_reboot(m, host)
    assert f"/{prepared.name}" in server.requested_paths()
    if firmware == "uefi":
        assert (m.state_dir / "tftp" / "ipxe.efi").exists()
    check_bridge(m)
