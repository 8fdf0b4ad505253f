"""The hardware probe: its parsers on canned tool output, and the probe itself on a fake sysfs and on this host."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from installer.core.hardware import Address, Route
from installer.hardware import probe as p
from installer.runner import FakeRunner, Result

ZPOOL_IMPORT = """\
   pool: rpool
     id: 1234567890123456789
  state: ONLINE
 action: The pool can be imported using its name or numeric identifier.
 config:

        rpool       ONLINE
          mirror-0  ONLINE
            sda3    ONLINE
            sdb3    ONLINE

   pool: tank
     id: 987654321
  state: DEGRADED
 config:

        tank                                  DEGRADED
          raidz1-0                            DEGRADED
            ata-ST4000NM0035_ZC10AAA1-part1   ONLINE
            sdd1                              UNAVAIL
"""

MDADM = """\
ARRAY /dev/md/0  level=raid1 metadata=1.2 num-devices=2 UUID=3aaa0122:29827cfa:5331ad66:ca767371 name=host:0
   devices=/dev/sdc1,/dev/sdd1
"""

PVS = json.dumps({"report": [{"pv": [
    {"pv_name": "/dev/sda3", "vg_name": "pve", "vg_uuid": "abc-123"},
    {"pv_name": "/dev/sdb", "vg_name": "", "vg_uuid": ""}]}]})

IP_ADDR = json.dumps([
    {"ifindex": 1, "ifname": "lo", "operstate": "UNKNOWN", "address": "00:00:00:00:00:00",
     "addr_info": [{"family": "inet", "local": "127.0.0.1", "prefixlen": 8, "scope": "host"}]},
    {"ifindex": 2, "ifname": "eno1", "operstate": "UP", "address": "3C:EC:EF:10:00:01", "link_type": "ether",
     "addr_info": [{"family": "inet", "local": "192.168.1.50", "prefixlen": 24, "scope": "global"},
                   {"family": "inet6", "local": "fe80::1", "prefixlen": 64, "scope": "link"},
                   {"family": "inet6", "local": "2001:db8::50", "prefixlen": 64, "scope": "global"}]},
    {"ifindex": 3, "ifname": "eno2", "operstate": "DOWN", "address": "3c:ec:ef:10:00:02", "link_type": "ether",
     "addr_info": [{"family": "inet", "local": "10.0.0.1", "prefixlen": 8, "scope": "global"}]},
])


def test_meminfo_in_mib_with_the_proxmox_fallback():
    assert p.parse_meminfo("MemTotal:       65843200 kB\nMemFree: 1 kB\n") == 64300
    assert p.parse_meminfo("") == 512


def test_cpuinfo_vendor_and_virtualisation_flag():
    assert p.parse_cpuinfo("vendor_id\t: GenuineIntel\nflags\t\t: fpu vmx sse\n") == ("GenuineIntel", True)
    assert p.parse_cpuinfo("vendor_id\t: AuthenticAMD\nflags\t\t: fpu sse\n") == ("AuthenticAMD", False)


def test_resolv_conf_servers_and_search_domain():
    text = "# generated\nsearch lab.example. other.example\nnameserver 192.168.1.1\nnameserver 2001:db8::53\n"
    assert p.parse_resolv_conf(text) == (("192.168.1.1", "2001:db8::53"), "lab.example")


def test_dhclient_lease_gives_the_last_host_name():
    leases = 'lease {\n  option host-name "old";\n}\nlease {\n  option host-name "pve-demo";\n}\n'
    assert p.parse_dhclient_leases(leases) == "pve-demo"
    assert p.parse_networkd_lease("ADDRESS=10.0.0.5\nHOSTNAME=pve7\n") == "pve7"


def test_ip_addr_keeps_global_addresses_of_up_links_only():
    links = p.parse_ip_addr(IP_ADDR)
    assert links["eno1"].addresses == (Address("inet", "192.168.1.50", 24), Address("inet6", "2001:db8::50", 64))
    assert links["eno1"].mac == "3c:ec:ef:10:00:01"
    assert links["eno2"].addresses == ()


def test_default_route_from_ip_route_json():
    text = json.dumps([{"dst": "default", "gateway": "192.168.1.1", "dev": "eno1", "protocol": "dhcp"}])
    assert p.parse_default_route(text) == Route("eno1", "192.168.1.1")
    assert p.parse_default_route("[]") is None


def test_pvs_report_maps_pv_to_vg():
    assert p.parse_pvs(PVS) == {"/dev/sda3": ("pve", "abc-123"), "/dev/sdb": ("", "")}


def test_zpool_import_lists_pools_with_their_member_devices():
    assert p.parse_zpool_import(ZPOOL_IMPORT) == [
        p.ImportablePool("rpool", "1234567890123456789", "ONLINE", ("sda3", "sdb3")),
        p.ImportablePool("tank", "987654321", "DEGRADED", ("ata-ST4000NM0035_ZC10AAA1-part1", "sdd1")),
    ]
    assert p.parse_zpool_import("no pools available to import\n") == []


def test_mdadm_scan_gives_arrays_with_devices():
    assert p.parse_mdadm_scan(MDADM) == [
        p.MdArray("host:0", "3aaa0122:29827cfa:5331ad66:ca767371", ("/dev/sdc1", "/dev/sdd1"))]


def test_btrfs_show_lists_filesystems_with_their_devices():
    text = ("Label: 'data'  uuid: 6f1c2a4e-0000-4000-8000-000000000001\n"
            "\tTotal devices 2 FS bytes used 144.00KiB\n"
            "\tdevid    1 size 1.00GiB used 236.00MiB path /dev/sdc1\n"
            "\tdevid    2 size 1.00GiB used 236.00MiB path /dev/sdd1\n\n"
            "Label: none  uuid: 6f1c2a4e-0000-4000-8000-000000000002\n"
            "\tdevid    1 size 2.00GiB used 0.00B path /dev/sde\n")
    assert p.parse_btrfs_show(text) == [
        p.BtrfsFilesystem("data", "6f1c2a4e-0000-4000-8000-000000000001", ("/dev/sdc1", "/dev/sdd1")),
        p.BtrfsFilesystem("", "6f1c2a4e-0000-4000-8000-000000000002", ("/dev/sde",)),
    ]


def test_secure_boot_is_the_fifth_byte_of_the_efivar():
    assert p.secure_boot_enabled(b"\x06\x00\x00\x00\x01")
    assert not p.secure_boot_enabled(b"\x06\x00\x00\x00\x00")


# ---- the probe on a fake machine ----

def _dev(sys_name: str, props: dict[str, str], children: tuple = (), device_type: str = "disk"):
    return SimpleNamespace(sys_name=sys_name, properties=props, children=children, device_type=device_type)


class FakeContext:
    def __init__(self, block: list, net: list):
        self.block, self.net = block, net

    def list_devices(self, subsystem: str, **_: str) -> list:
        return self.block if subsystem == "block" else self.net


def _write(root: Path, path: str, text: str) -> None:
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)


@pytest.fixture
def fake_machine(tmp_path: Path) -> p.Probe:
    root = tmp_path
    for name, sectors, block, rot in (("sda", 468862128, 512, "0"), ("sdg", 30031872, 512, "0"),
                                      ("nvme0n1", 1953525168, 4096, "0"), ("loop0", 100, 512, "0")):
        _write(root, f"/sys/block/{name}/size", f"{sectors}\n")
        _write(root, f"/sys/block/{name}/queue/logical_block_size", f"{block}\n")
        _write(root, f"/sys/block/{name}/queue/physical_block_size", f"{block}\n")
        _write(root, f"/sys/block/{name}/queue/rotational", rot)
        _write(root, f"/sys/block/{name}/removable", "1" if name == "sdg" else "0")
    _write(root, "/sys/block/sda/device/model", "SAMSUNG MZ7KM240  \n")
    _write(root, "/proc/self/mountinfo", "40 27 8:97 / /run/live/medium ro - iso9660 /dev/sdg1 ro\n")
    (root / "sys/class/block/sdg/sdg1").mkdir(parents=True)
    (root / "sys/class/block/sdg/sdg1/partition").write_text("1")
    (root / "sys/class/block/sdg1").symlink_to(root / "sys/class/block/sdg/sdg1")
    _write(root, "/proc/meminfo", "MemTotal: 8388608 kB\n")
    _write(root, "/proc/cpuinfo", "vendor_id : GenuineIntel\nflags : vmx\n")
    _write(root, "/proc/cmdline", "BOOT_IMAGE=/live/vmlinuz boot=live console=ttyS0\n")
    _write(root, "/etc/resolv.conf", "search lab.example\nnameserver 192.168.1.1\n")
    _write(root, "/var/lib/dhcp/dhclient.eno1.leases", 'lease {\n  option host-name "pve-demo.lab.example";\n}\n')
    _write(root, "/sys/devices/virtual/dmi/id/product_serial", "EX2U-0001\n")
    (root / "sys/firmware/efi/efivars").mkdir(parents=True)
    (root / "sys/firmware/efi/efivars" / p.SECURE_BOOT_VAR).write_bytes(b"\x06\x00\x00\x00\x01")
    _write(root, "/sys/class/net/eno1/type", "1")
    (root / "sys/class/net/eno1/device").mkdir(parents=True)
    part = _dev("sda3", {"DEVNAME": "/dev/sda3", "ID_FS_TYPE": "LVM2_member"}, device_type="partition")
    block = [
        _dev("sda", {"DEVNAME": "/dev/sda", "DEVTYPE": "disk", "ID_BUS": "ata", "ID_SERIAL_SHORT": "S1"}, (part,)),
        _dev("sdg", {"DEVNAME": "/dev/sdg", "DEVTYPE": "disk", "ID_BUS": "usb"}),
        _dev("nvme0n1", {"DEVNAME": "/dev/nvme0n1", "DEVTYPE": "disk"}),
        _dev("loop0", {"DEVNAME": "/dev/loop0", "DEVTYPE": "disk"}),
        _dev("sr0", {"DEVNAME": "/dev/sr0", "DEVTYPE": "disk", "ID_CDROM": "1"}),
    ]
    net = [_dev("eno1", {"INTERFACE": "eno1", "ID_NET_DRIVER": "igb"}), _dev("lo", {"INTERFACE": "lo"})]

    def tools(argv: tuple[str, ...], _input: str | None) -> Result | None:
        outputs = {"pvs": PVS, "ip": IP_ADDR}
        if argv[:3] == ("ip", "-j", "route"):
            return Result(argv, 0, json.dumps([{"dst": "default", "gateway": "192.168.1.1", "dev": "eno1"}]))
        if argv[:4] == ("ip", "-j", "-6", "route"):
            return Result(argv, 0, "[]")
        return Result(argv, 0, outputs.get(argv[0], ""))

    return p.Probe(FakeRunner(responders=[tools]), root=root, context=FakeContext(block, net))


def test_probe_lists_disks_like_proxmox_and_marks_the_live_medium(fake_machine):
    disks = fake_machine.disks()
    assert [d.name for d in disks] == ["nvme0n1", "sda", "sdg"]
    by_name = {d.name: d for d in disks}
    assert by_name["sdg"].install_medium and not by_name["sda"].install_medium
    assert by_name["nvme0n1"].logical_block_size == 4096 and by_name["nvme0n1"].bus == "nvme"
    assert by_name["sda"].model == "SAMSUNG MZ7KM240" and by_name["sda"].size_bytes == 468862128 * 512
    pv = next(e for e in by_name["sda"].existing if e.kind == "lvm-pv")
    assert (pv.device, pv.group, pv.group_id) == ("/dev/sda3", "pve", "abc-123")


def test_probe_runs_every_tool_through_the_runner(fake_machine):
    fake_machine.profile()
    programs = {argv[0] for argv in fake_machine.runner.commands}
    assert programs == {"lsblk", "pvs", "zpool", "mdadm", "btrfs", "ip"}


def test_probe_profile_of_the_fake_machine(fake_machine):
    profile = fake_machine.profile()
    assert [n.name for n in profile.nics] == ["eno1", "eno2"]
    eno1 = profile.nic("eno1")
    assert (eno1.pinned_id, eno1.driver, eno1.state) == ("0", "igb", "UP")
    assert profile.nic("eno2").pinned_id is None  # no device link in sysfs: not a physical NIC
    assert profile.network.gateway4 == Route("eno1", "192.168.1.1")
    assert (profile.network.hostname, profile.network.domain) == ("pve-demo", "lab.example")
    assert (profile.memory_mib, profile.boot_mode, profile.secure_boot) == (8192, "efi", True)
    assert (profile.cpu_vendor, profile.hvm) == ("GenuineIntel", True)
    assert profile.dmi == {"system.serial": "EX2U-0001"}


def test_probe_of_this_host_gives_a_loadable_profile():
    pytest.importorskip("pyudev")
    profile = p.probe()
    assert all(not d.name.startswith(("loop", "ram", "zram")) for d in profile.disks)
    assert profile.memory_mib > 0
    assert type(profile).from_json(profile.to_json()) == profile
