"""Machines on one harness LAN: the QEMU argv of LAN and mixed NICs, and the vde_switch a Network owns.

The lifecycle tests start a real vde_switch on this host (a process, not a guest) and need the vde2 package.
"""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from keel_harness.network import Network, switch_argv
from keel_harness.qemu_argv import MachineFiles, nic_mac, qemu_argv
from keel_harness.spec import HarnessError, MachineSpec, Nic, Pxe

LAN = Path("/tmp/keel-lan-x/switch")
needs_vde = pytest.mark.skipif(shutil.which("vde_switch") is None, reason="vde_switch (Debian vde2) not installed")


def values(argv: list[str], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def argv_of(spec: MachineSpec) -> list[str]:
    return qemu_argv(spec, MachineFiles(qmp_socket=Path("/run/t/qmp.sock")))


def test_a_lan_nic_is_a_vde_port_with_a_mac_of_its_own():
    argv = argv_of(MachineSpec("node1", nics=(Nic(network=LAN),)))
    assert values(argv, "-netdev") == [f"vde,id=net0,sock={LAN}"]
    mac = nic_mac("node1", 0, Nic(network=LAN))
    assert values(argv, "-device")[-1] == f"virtio-net-pci,netdev=net0,addr=0x18,mac={mac}"


def test_a_machine_with_a_lan_nic_and_a_user_nic_gets_both_in_order():
    argv = argv_of(MachineSpec("node1", nics=(Nic(network=LAN), Nic("e1000e"))))
    assert values(argv, "-netdev") == [f"vde,id=net0,sock={LAN}", "user,id=net1"]
    assert values(argv, "-device")[-1] == "e1000e,netdev=net1,addr=0x19"  # user networking: QEMU's default MAC


def test_lan_macs_are_the_same_on_every_boot_and_differ_between_machines_and_nics():
    lan = Nic(network=LAN)
    assert nic_mac("node1", 0, lan) == nic_mac("node1", 0, lan)
    macs = {nic_mac(name, i, lan) for name in ("node1", "node2", "services") for i in range(3)}
    assert len(macs) == 9
    assert all(m.startswith("52:54:00:") and len(m) == 17 for m in macs)


def test_a_mac_given_for_a_lan_nic_is_kept():
    assert nic_mac("node1", 0, Nic(mac="52:54:00:AA:00:01", network=LAN)) == "52:54:00:aa:00:01"
    assert nic_mac("node1", 0, Nic()) is None


def test_pxe_from_a_lan_nic_leaves_dhcp_and_tftp_to_the_lan():
    argv = argv_of(MachineSpec("node1", nics=(Nic(network=LAN), Nic()), boot=Pxe(Path("/t"))))
    assert values(argv, "-netdev") == [f"vde,id=net0,sock={LAN}", "user,id=net1"]
    assert values(argv, "-device")[-1] == "virtio-net-pci,netdev=net1,addr=0x19"
    devices = values(argv, "-device")
    assert any(d.startswith("virtio-net-pci,netdev=net0") and d.endswith("bootindex=0") for d in devices)


def test_uefi_pxe_on_user_networking_hands_out_the_efi_loader():
    spec = MachineSpec("node1", firmware="uefi", boot=Pxe(Path("/t")))
    argv = qemu_argv(spec, MachineFiles(qmp_socket=Path("/q"), ovmf_vars=Path("/v"), tftp_dir=Path("/run/t/tftp")))
    assert values(argv, "-netdev") == ["user,id=net0,tftp=/run/t/tftp,bootfile=ipxe.efi"]


def test_the_switch_is_a_hub_so_vlan_tagged_frames_reach_every_port():
    assert switch_argv(Path("/tmp/x/switch")) == [
        "vde_switch", "--hub", "--numports", "32", "--sock", "/tmp/x/switch"]


def test_a_network_name_must_be_usable_in_a_path():
    with pytest.raises(HarnessError, match="Network name"):
        Network("a/b")


def test_a_nic_needs_a_started_network():
    with pytest.raises(HarnessError, match="not started"):
        Network("lan").nic()


@needs_vde
def test_a_network_starts_its_switch_and_stop_ends_it_and_removes_the_sockets():
    with Network("unit") as lan:
        pid = lan.pid
        assert lan.is_running() and (lan.socket / "ctl").is_socket()
        assert lan.nic().network == lan.socket
        directory = lan.socket.parent
        assert len(str(lan.socket / "ctl")) < 100, "unix socket paths are limited to 107 bytes"
    assert not lan.is_running()
    assert not directory.exists()
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    lan.stop()  # again: harmless


@needs_vde
def test_the_switch_ends_when_the_harness_process_dies():
    script = (
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[3] / 'qemu-harness')!r})\n"
        "from keel_harness.network import Network\n"
        "lan = Network('orphan').start()\n"
        "print(lan.pid, lan.socket.parent, flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pid_text, directory = child.stdout.readline().split()
        pid = int(pid_text)
        assert Path(f"/proc/{pid}").exists()
        child.kill()  # no atexit, no finally: only the pipe and the parent-death signal are left
        child.wait()
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(pid), "vde_switch outlived the harness"
    finally:
        if child.poll() is None:
            child.kill()
        shutil.rmtree(directory, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status and os.path.exists(f"/proc/{pid}")
