"""Finding the answer URL in Proxmox's order: the ISO, DHCP options 250/251, DNS TXT; with fake leases and resolvers."""

from __future__ import annotations

from pathlib import Path

import pytest

from installer.answer_sources import AnswerSourceError
from installer.answer_sources.discovery import (
    TxtLookupError,
    lookup_txt,
    parse_networkd_lease,
    resolv_search_domains,
    txt_record_text,
)
from installer.answer_sources.fetch import Places, fetch
from installer.core.cmdline import KernelParams
from installer.runner import FakeRunner

ANSWER = 'keyboard = "de"\n'

# What systemd-networkd 257 writes (sd-dhcp-lease.c, dhcp_lease_save): private options as lower-case hex bytes.
LEASE = """\
# This is private data. Do not parse.
ADDRESS=10.0.2.15
NETMASK=255.255.255.0
ROUTER=10.0.2.2
SERVER_ADDRESS=10.0.2.2
T1=30min
T2=52min 30s
LIFETIME=1h
DNS=10.0.2.3
DOMAINNAME=lab.example
DOMAIN_SEARCH_LIST=lab.example example.org
CLIENTID=ffb6220feb00020000ab11f1b2
"""


def option_lines(url: str | None = None, fingerprint: str | None = None) -> str:
    lines = ""
    if url is not None:
        lines += f"OPTION_250={url.encode().hex()}\n"
    if fingerprint is not None:
        lines += f"OPTION_251={fingerprint.encode().hex()}\n"
    return lines


class Setup:
    """A medium, a leases directory, a resolv.conf and a fake resolver, all in a temporary directory."""

    def __init__(self, tmp_path: Path):
        self.places = Places(medium=tmp_path / "medium", by_label=tmp_path / "by-label", mountpoint=tmp_path / "mnt",
                             leases=tmp_path / "leases", resolv_conf=tmp_path / "resolv.conf",
                             interface_name=lambda index: {2: "ens3", 3: "ens4"}.get(index, f"ifindex {index}"))
        for directory in (self.places.medium / "keel", self.places.by_label, self.places.leases):
            directory.mkdir(parents=True)
        self.records: dict[str, list[str]] = {}
        self.asked: list[str] = []
        self.servers: dict[str, tuple[str, ...]] = {}       # name -> the DNS servers it was asked of
        self.logged: list[str] = []

    def lease(self, ifindex: int, text: str) -> None:
        (self.places.leases / str(ifindex)).write_text(text)

    def resolv_conf(self, text: str) -> None:
        self.places.resolv_conf.write_text(text)

    def mode(self, text: str) -> None:
        (self.places.medium / "keel/auto-installer-mode.toml").write_text(text)

    def lookup(self, name: str, servers: tuple[str, ...]) -> list[str]:
        self.asked.append(name)
        self.servers[name] = servers
        if name not in self.records:
            raise TxtLookupError("no such name (NXDOMAIN)")
        return self.records[name]

    def fetch(self, params: KernelParams | None = None):
        return fetch(params or KernelParams(), FakeRunner(), lambda: {"$schema": {"version": "1.0"}}, self.places,
                     log=self.logged.append, lookup_txt=self.lookup)


@pytest.fixture
def setup(tmp_path) -> Setup:
    return Setup(tmp_path)


def test_a_networkd_lease_gives_its_private_options_and_search_domains():
    lease = parse_networkd_lease(LEASE + "OPTION_250=68747470733a2f2f612f\nOPTION_224=zz\n", "ens3")
    assert lease.options == {250: b"https://a/"}, "a line that is not hex is skipped"
    assert lease.search_domains == ("lab.example", "example.org")
    assert lease.interface == "ens3"
    assert lease.dns_servers == ("10.0.2.3",)


def test_without_a_search_list_the_lease_domain_name_is_the_search_domain():
    lease = parse_networkd_lease("ADDRESS=10.0.2.15\nDOMAINNAME=lab.example\n", "ens3")
    assert lease.search_domains == ("lab.example",)


@pytest.mark.parametrize(("text", "domains"), [
    pytest.param("nameserver 10.0.2.3\nsearch lab.example example.org.\n", ("lab.example", "example.org"),
                 id="search list with a trailing dot"),
    pytest.param("domain old.example\nsearch new.example # comment\n", ("new.example",), id="the last line wins"),
    pytest.param("nameserver 10.0.2.3\n", (), id="no search line"),
])
def test_resolv_conf_search_domains(text, domains):
    assert resolv_search_domains(text) == domains


def test_dhcp_option_250_with_251_fetches_the_answer_pinned_to_the_leases_fingerprint(setup, https_server):
    setup.lease(2, LEASE + option_lines(https_server.url, https_server.fingerprint))
    answer = setup.fetch()
    assert answer.text == ANSWER
    assert answer.source == f"{https_server.url} (from DHCP option 250 on ens3)"
    assert setup.asked == [], "DHCP comes before DNS"
    assert f"DHCP: option 250 on ens3: {https_server.url}, option 251: fingerprint {https_server.fingerprint}" \
        in setup.logged


def test_the_first_nic_whose_lease_has_option_250_wins(setup, https_server):
    setup.lease(2, LEASE)
    setup.lease(3, LEASE + option_lines(https_server.url, https_server.fingerprint))
    assert setup.fetch().source.endswith("(from DHCP option 250 on ens4)")
    assert "DHCP: the lease on ens3 has no option 250" in setup.logged


def test_a_fingerprint_baked_into_the_iso_wins_over_option_251(setup, https_server):
    setup.mode(f'mode = "http"\n[http]\ncert_fingerprint = "{https_server.fingerprint}"\n')
    setup.lease(2, LEASE + option_lines(https_server.url, "00" * 32))
    assert setup.fetch().text == ANSWER
    assert "The fingerprint from the ISO wins over the one from DHCP option 250 on ens3" in setup.logged


def test_a_fingerprint_on_the_kernel_command_line_wins_over_option_251(setup, https_server):
    setup.lease(2, LEASE + option_lines(https_server.url, "00" * 32))
    assert setup.fetch(KernelParams(mode="auto", fingerprint=https_server.fingerprint)).text == ANSWER


def test_the_token_of_the_iso_goes_with_the_discovered_url_and_is_kept_secret(setup, https_server):
    setup.mode('mode = "http"\n[http]\ntoken = "node1:s3cr3t"\n')
    setup.lease(2, LEASE + option_lines(https_server.url, https_server.fingerprint))
    answer = setup.fetch()
    assert https_server.received[0]["headers"]["Authorization"] == "Bearer node1:s3cr3t"
    assert answer.secrets == ("node1:s3cr3t",)


def test_without_option_250_the_dns_txt_record_of_the_search_domain_is_used(setup, https_server):
    setup.mode('mode = "http"\n')
    setup.lease(2, LEASE)
    setup.resolv_conf("nameserver 10.0.2.3\nsearch lab.example\n")
    setup.records["proxmox-auto-installer.lab.example"] = [https_server.url]
    setup.records["proxmox-auto-installer-cert-fingerprint.lab.example"] = [https_server.fingerprint]
    answer = setup.fetch()
    assert answer.text == ANSWER
    assert answer.source == f"{https_server.url} (from DNS TXT proxmox-auto-installer.lab.example)"


def test_a_domain_from_a_lease_is_asked_of_that_leases_dns_servers(setup, https_server):
    # networkd tells systemd-resolved a lease's servers and domains on its own time: the stub, asked before, sends
    # the name to any link that has a server (user networking's forwarder on another NIC answered NXDOMAIN)
    setup.mode('mode = "http"\n')
    setup.lease(2, "ADDRESS=10.0.2.15\nDNS=10.0.2.3\n")
    setup.lease(3, "ADDRESS=10.77.0.50\nDNS=10.77.0.1 10.77.0.2\nDOMAINNAME=keel.test\n")
    setup.resolv_conf("nameserver 127.0.0.53\nsearch keel.test other.example\n")
    setup.records["proxmox-auto-installer.keel.test"] = [https_server.url]
    setup.records["proxmox-auto-installer-cert-fingerprint.keel.test"] = [https_server.fingerprint]
    assert setup.fetch().text == ANSWER
    assert setup.servers == {"proxmox-auto-installer.keel.test": ("10.77.0.1", "10.77.0.2"),
                             "proxmox-auto-installer-cert-fingerprint.keel.test": ("10.77.0.1", "10.77.0.2")}
    assert f"DNS: TXT proxmox-auto-installer.keel.test (asked 10.77.0.1, 10.77.0.2): {https_server.url}, " \
           f"fingerprint {https_server.fingerprint}" in setup.logged


def test_a_domain_only_resolv_conf_names_is_asked_of_its_servers(setup):
    setup.mode('mode = "http"\n')
    setup.lease(2, "ADDRESS=10.0.2.15\nDNS=10.0.2.3\nDOMAINNAME=lab.example\n")
    setup.resolv_conf("nameserver 10.9.9.9\nsearch static.example\n")
    with pytest.raises(AnswerSourceError):
        setup.fetch()
    assert setup.servers == {"proxmox-auto-installer.static.example": ()}


def test_each_search_domain_is_tried_in_turn(setup, https_server):
    setup.mode('mode = "http"\n')
    setup.resolv_conf("search first.example second.example\n")
    setup.records["proxmox-auto-installer.second.example"] = [https_server.url]
    setup.records["proxmox-auto-installer-cert-fingerprint.second.example"] = [https_server.fingerprint]
    assert setup.fetch().text == ANSWER
    assert setup.asked == ["proxmox-auto-installer.first.example", "proxmox-auto-installer.second.example",
                           "proxmox-auto-installer-cert-fingerprint.second.example"]
    assert "DNS: TXT proxmox-auto-installer.first.example: no such name (NXDOMAIN)" in setup.logged


def test_the_lease_gives_the_search_domain_when_resolv_conf_has_none(setup, https_server):
    setup.mode('mode = "http"\n')
    setup.lease(2, "ADDRESS=10.0.2.15\nDOMAINNAME=lab.example\n")
    setup.resolv_conf("nameserver 10.0.2.3\n")
    setup.records["proxmox-auto-installer.lab.example"] = [https_server.url]
    setup.records["proxmox-auto-installer-cert-fingerprint.lab.example"] = [https_server.fingerprint]
    assert setup.fetch().text == ANSWER


def test_a_url_in_the_iso_is_used_without_looking_at_dhcp_or_dns(setup, https_server):
    setup.mode(f'mode = "http"\n[http]\nurl = "{https_server.url}"\ncert_fingerprint = "{https_server.fingerprint}"\n')
    setup.lease(2, LEASE + option_lines("https://elsewhere.invalid/answer", "00" * 32))
    assert setup.fetch().source == https_server.url
    assert setup.asked == [] and setup.logged == []


def test_an_answer_on_the_medium_comes_before_discovery_on_a_stock_iso(setup):
    (setup.places.medium / "keel/answer.toml").write_text(ANSWER)
    setup.lease(2, LEASE + option_lines("https://elsewhere.invalid/answer"))
    assert setup.fetch().text == ANSWER


def test_a_stock_iso_without_an_answer_uses_dhcp_discovery(setup, https_server):
    setup.lease(2, LEASE + option_lines(https_server.url, https_server.fingerprint))
    assert setup.fetch().text == ANSWER


def test_an_option_250_that_is_no_url_is_ignored_and_said(setup):
    setup.mode('mode = "http"\n')
    setup.lease(2, LEASE + "OPTION_250=ff00\n")
    with pytest.raises(AnswerSourceError):
        setup.fetch()
    assert "DHCP: option 250 on ens3 is not an http(s) URL; ignored" in setup.logged


def test_urls_are_logged_without_their_credentials(setup, https_server):
    url = https_server.url.replace("https://", "https://user:pw@") + "?token=abc123"
    setup.lease(2, LEASE + option_lines(url, https_server.fingerprint))
    answer = setup.fetch()
    assert not any("abc123" in line or "user:pw" in line for line in [*setup.logged, answer.source])


def test_http_mode_with_nothing_found_names_every_source_tried(setup):
    setup.mode('mode = "http"\n')
    setup.lease(2, LEASE)
    setup.resolv_conf("search lab.example\n")
    with pytest.raises(AnswerSourceError) as err:
        setup.fetch()
    assert str(err.value).splitlines() == [
        "no answer URL found; looked at:",
        f"  {setup.places.medium}/keel/auto-installer-mode.toml: mode http, no [http] url",
        "  DHCP option 250: not in the lease of ens3",
        "  DNS TXT proxmox-auto-installer.lab.example (asked 10.0.2.3): no such name (NXDOMAIN)",
        "  kernel command line: no keel.answer=<url>",
    ]


def test_no_lease_and_no_search_domain_are_each_said(setup):
    setup.mode('mode = "http"\n')
    with pytest.raises(AnswerSourceError, match="DHCP option 250: no DHCP lease"):
        setup.fetch()
    assert setup.logged[1:] == ["DHCP: no lease from systemd-networkd; no option 250 to read",
                                "DNS: no search domain (resolv.conf, DHCP lease); no TXT record to look up"]


def test_a_long_txt_record_is_its_strings_joined():
    assert txt_record_text((b"https://answers.example/" + b"a" * 231, b"b" * 10)) == \
        "https://answers.example/" + "a" * 231 + "b" * 10


def test_the_dnspython_lookup_says_why_it_found_nothing(monkeypatch):
    resolver = pytest.importorskip("dns.resolver")

    def nxdomain(self, name, rdtype, search=None):
        assert (name, rdtype, search) == ("proxmox-auto-installer.lab.example.", "TXT", False)
        raise resolver.NXDOMAIN()

    monkeypatch.setattr(resolver.Resolver, "__init__", lambda self, *a, **k: None)
    monkeypatch.setattr(resolver.Resolver, "resolve", nxdomain)
    with pytest.raises(TxtLookupError, match=r"no such name \(NXDOMAIN\)"):
        lookup_txt("proxmox-auto-installer.lab.example")


def test_the_dnspython_lookup_asks_the_given_servers_and_not_resolv_conf(monkeypatch):
    resolver = pytest.importorskip("dns.resolver")
    asked = []

    def answer_from(self, name, rdtype, search=None):
        asked.append(list(self.nameservers))
        raise resolver.NoAnswer()

    monkeypatch.setattr(resolver.Resolver, "resolve", answer_from)
    with pytest.raises(TxtLookupError, match="the name has no TXT record"):
        lookup_txt("proxmox-auto-installer.lab.example", ("10.77.0.1",))
    assert [str(s) for s in asked[0]] == ["10.77.0.1"]


def test_the_live_dhcp_client_asks_for_options_250_and_251():
    drop_in = (Path(__file__).resolve().parents[3] / "iso-build/live/rootfs/etc/systemd/network"
               / "80-keel-dhcp.network.d/answer-discovery.conf").read_text()
    assert "[DHCPv4]\nRequestOptions=250 251\nUseDomains=yes\n" in drop_in


def test_a_malformed_fingerprint_from_dhcp_names_its_source(setup, https_server):
    setup.lease(2, LEASE + option_lines(https_server.url, "not-a-fingerprint"))
    with pytest.raises(AnswerSourceError, match=r"^DHCP option 250 on ens3: the fingerprint 'not-a-fingerprint' "
                                                r"is not a SHA-256 fingerprint"):
        setup.fetch()
