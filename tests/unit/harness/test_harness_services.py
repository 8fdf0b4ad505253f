"""The services guest's configuration: dnsmasq.conf, the LAN addresses, the per-test archive, the image's parts.

Expected lines follow dnsmasq(8): options as quoted strings, `port=0` turns DNS off, no dhcp-range means no DHCP.
"""

import gzip
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from keel_harness.services import (
    DnsmasqConfig,
    ServicesImage,
    ServicesSpec,
    config_archive,
    modinfo_depends,
    module_load_order,
    render_dnsmasq_conf,
    render_network_script,
    services_initrd,
    shared_libraries,
)
from keel_harness.spec import HarnessError

URL = "https://10.0.2.2:8443/answer"
FP = "AB:CD:" + ":".join(["EF"] * 30)


def lines(cfg: DnsmasqConfig) -> list[str]:
    return render_dnsmasq_conf(cfg).splitlines()


def test_options_250_and_251_are_sent_as_quoted_text_so_a_fingerprint_is_not_raw_bytes():
    got = lines(DnsmasqConfig(dhcp_options=((250, URL), (251, FP))))
    assert f'dhcp-option=250,"{URL}"' in got
    assert f'dhcp-option=251,"{FP}"' in got
    assert "dhcp-range=10.77.0.100,10.77.0.199,255.255.255.0,1h" in got


def test_a_search_domain_goes_out_as_domain_and_option_119_and_txt_records_are_served():
    got = lines(DnsmasqConfig(domain="keel.test", txt_records=(("proxmox-auto-installer.keel.test", URL),)))
    assert "domain=keel.test" in got and "dhcp-option=option:domain-search,keel.test" in got
    assert f'txt-record=proxmox-auto-installer.keel.test,"{URL}"' in got
    assert "port=0" not in got and "log-queries" in got


def test_no_dhcp_range_means_no_dhcp_at_all():
    text = render_dnsmasq_conf(DnsmasqConfig(dhcp_range=None, dns=False))
    assert "dhcp-range" not in text and "dhcp-option" not in text
    assert "port=0" in text.splitlines()


def test_the_lan_gives_no_default_route_unless_asked():
    assert "dhcp-option=option:router" in lines(DnsmasqConfig())
    assert "dhcp-option=option:router,10.77.0.1" in lines(DnsmasqConfig(router="10.77.0.1"))


def test_pxe_hands_firmware_the_loader_and_ipxe_the_script():
    got = lines(DnsmasqConfig(tftp=True, ipxe_script="boot.ipxe", efi_loader="ipxe.efi",
                              bios_loader="undionly.kpxe"))
    assert "enable-tftp" in got and "tftp-root=/srv/tftp" in got
    assert "dhcp-userclass=set:ipxe,iPXE" in got
    assert "dhcp-boot=tag:ipxe,boot.ipxe" in got
    assert "dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi" in got
    assert "dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe" in got


@pytest.mark.parametrize("cfg, message", [
    (lambda: DnsmasqConfig(dhcp_options=((251, 'a"b'),)), "quotes"),
    (lambda: DnsmasqConfig(dhcp_options=((0, "x"),)), "between 1 and 254"),
    (lambda: DnsmasqConfig(txt_records=(("bad name", "x"),)), "not a DNS name"),
    (lambda: DnsmasqConfig(ipxe_script="boot.ipxe"), "tftp=True"),
    (lambda: DnsmasqConfig(tftp=True, efi_loader="ipxe.efi"), "needs ipxe_script"),
    (lambda: DnsmasqConfig(extra=("a\nb",)), "line break"),
], ids=["a quote in an option", "option code 0", "a TXT name with a space", "a script without TFTP",
        "a loader without a script", "a line break in an extra line"])
def test_a_config_dnsmasq_would_misread_is_refused(cfg, message):
    with pytest.raises(HarnessError, match=message):
        cfg()


@pytest.mark.skipif(shutil.which("dnsmasq") is None, reason="dnsmasq (Debian dnsmasq-base) not installed")
def test_dnsmasq_itself_accepts_a_full_config(tmp_path: Path):
    cfg = DnsmasqConfig(domain="keel.test", dhcp_options=((250, URL), (251, FP)),
                        txt_records=(("proxmox-auto-installer.keel.test", URL),), tftp=True,
                        ipxe_script="boot.ipxe", efi_loader="ipxe.efi", bios_loader="undionly.kpxe")
    conf = tmp_path / "dnsmasq.conf"
    conf.write_text(render_dnsmasq_conf(cfg).replace("/srv/tftp", str(tmp_path)))
    result = subprocess.run(["dnsmasq", "--test", "-C", str(conf)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax check OK" in result.stderr


def test_the_network_script_adds_the_address_and_each_vlan():
    script = render_network_script(ServicesSpec(dnsmasq=None, vlans=((42, "192.168.42.1/24"),)))
    assert script.splitlines() == [
        "set -e",
        "ip link set eth0 up",
        "ip address add 10.77.0.1/24 dev eth0",
        "ip link add link eth0 name eth0.42 type vlan id 42",
        "ip link set eth0.42 up",
        "ip address add 192.168.42.1/24 dev eth0.42",
    ]


def test_bad_vlans_and_file_names_are_refused():
    with pytest.raises(HarnessError, match="VLAN id 4095"):
        ServicesSpec(vlans=((4095, "10.1.0.1/24"),))
    with pytest.raises(HarnessError, match="plain name"):
        ServicesSpec(answers={"../x": ""})


def cpio_names(data: bytes) -> list[str]:
    names, stream = [], io.BytesIO(data)
    while True:
        header = stream.read(110)
        size, namesize = int(header[54:62], 16), int(header[94:102], 16)
        name = stream.read(namesize)[:-1].decode()
        stream.read(-(110 + namesize) % 4)
        if name == "TRAILER!!!":
            return names
        names.append(name)
        stream.read(size + (-size % 4))


def test_the_per_test_archive_holds_config_tftp_files_and_answer_cgi(tmp_path: Path):
    loader = tmp_path / "ipxe.efi"
    loader.write_bytes(b"MZ")
    spec = ServicesSpec(tftp_files={"ipxe.efi": loader}, answers={"answer": "[global]\n"})
    names = cpio_names(config_archive(spec))
    for name in ("etc/keel-services/network.sh", "etc/keel-services/dnsmasq.conf", "srv/tftp/ipxe.efi",
                 "srv/answers/answer", "srv/www/cgi-bin/answer"):
        assert name in names
    assert names.index("srv/tftp") < names.index("srv/tftp/ipxe.efi")


def test_the_test_archive_follows_the_base_initramfs_on_a_4_byte_boundary(tmp_path: Path):
    base = tmp_path / "initrd.gz"
    base.write_bytes(gzip.compress(b"x" * 10))
    image = ServicesImage(tmp_path / "vmlinuz", base)
    out = services_initrd(image, ServicesSpec(dnsmasq=None), tmp_path / "t" / "initrd")
    data = out.read_bytes()
    offset = len(base.read_bytes()) + (-len(base.read_bytes()) % 4)
    assert data[offset:offset + 6] == b"070701"


def test_modules_load_after_what_they_depend_on_and_built_in_ones_are_skipped():
    deps = {"virtio_net": ["net_failover", "virtio"], "net_failover": ["failover"], "failover": [],
            "virtio": ["virtio_ring"], "virtio_ring": [], "8021q": ["garp", "mrp"], "garp": ["stp", "llc"],
            "stp": ["llc"], "llc": [], "mrp": []}
    order = module_load_order(("virtio_net", "8021q", "af_packet"), deps.get)
    assert sorted(order) == sorted(deps)
    for module, needs in deps.items():
        assert all(order.index(n) < order.index(module) for n in needs)


def test_modinfo_depends_reads_the_field_from_module_bytes():
    blob = b"\x7fELF...\0license=GPL\0depends=net_failover,virtio-ring\0retpoline=Y\0"
    assert modinfo_depends(blob) == ["net_failover", "virtio_ring"]
    assert modinfo_depends(b"\0depends=\0") == []


def test_shared_libraries_come_from_ldd_output_loader_included():
    out = ("\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n"
           "\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n")
    assert shared_libraries(out) == [Path("/lib/x86_64-linux-gnu/libc.so.6"), Path("/lib64/ld-linux-x86-64.so.2")]
