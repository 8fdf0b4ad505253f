"""keel-server's pure rules: SHA-512 crypt (the specification's vectors), Accept negotiation, selectors,
address pools, the dnsmasq configuration (checked by dnsmasq itself when installed) and the CLI's errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from keel_server import dnsmasq, matching
from keel_server.cli import main
from keel_server.ipam import PoolError, make_pool, next_free
from keel_server.passwords import PasswordError, hash_template_passwords, sha512_crypt
from keel_server.service import wants_json

FP = "a6:bf:11:76:0c:5f:1f:cd:32:61:d1:a3:7d:54:24:9b:66:3c:bb:41:a3:30:50:27:77:d3:5e:30:52:47:90:18"


@pytest.mark.parametrize(("salt", "rounds", "expected"), [
    ("saltstring", 5000, "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEO"
                         "faS35inz1"),
    ("saltstringsaltstring", 10000, "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/"
                                    "UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."),
], ids=["default rounds", "10000 rounds and a salt cut to 16"])
def test_sha512_crypt_gives_the_specifications_test_vectors(salt, rounds, expected):
    assert sha512_crypt("Hello world!", salt, rounds) == expected


def test_a_templates_literal_root_password_becomes_its_hash_and_an_expression_is_refused():
    out = hash_template_passwords('[global]\nroot-password = "pw-12345678"  # set by ops\nkeyboard = "de"\n')
    line = out.splitlines()[1]
    assert line.startswith('root-password-hashed = "$6$') and "pw-12345678" not in out
    with pytest.raises(PasswordError, match="Jinja"):
        hash_template_passwords('root-password = "{{ machine.serial }}"\n')
    with pytest.raises(PasswordError, match="line of its own"):
        hash_template_passwords('global = { root-password = "pw-12345678" }\n')


@pytest.mark.parametrize(("accept", "json_wanted"), [
    ("application/json, application/toml;q=0.5", False),
    ("application/json", True),
    ("application/json, */*;q=0.1", False),
    ("application/toml", False),
    (None, False),
    ("application/json, application/toml;q=0", True),
], ids=["proxmox gets toml", "json only gets json", "anything else accepted gets toml", "toml", "no accept",
        "toml refused gets json"])
def test_the_answer_is_json_only_when_toml_is_not_acceptable(accept, json_wanted):
    assert wants_json(accept) is json_wanted


def test_a_star_pointer_matches_any_array_element_and_a_miss_says_what_was_found():
    subject = matching.Subject({"network_interfaces": [{"mac": "aa:00:00:00:00:01"}, {"mac": "bb:00:00:00:00:02"}],
                                "dmi": {"system": {"name": "R650"}}}, ("aa:00:00:00:00:01",))
    hit = matching.Candidate("a", match={"/network_interfaces/*/mac": "bb:*"})
    miss = matching.Candidate("b", match={"/dmi/system/sku": "X*"})
    assert matching.miss(hit, subject) is None
    assert matching.miss(miss, subject) == "/dmi/system/sku=X*: /dmi/system/sku is not in the system info"
    assert matching.decide([hit, miss], subject).profile == "a"


def test_pool_addresses_skip_the_gateway_and_dns_and_a_full_pool_says_so():
    pool = make_pool("p", "10.0.0.0/29", "10.0.0.1", "10.0.0.2")
    assert (pool.first, pool.last) == ("10.0.0.1", "10.0.0.6")
    assert next_free(pool, []) == "10.0.0.3"
    assert next_free(pool, ["10.0.0.3", "10.0.0.4"]) == "10.0.0.5"
    with pytest.raises(PoolError, match="no free address"):
        next_free(pool, ["10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"])
    with pytest.raises(PoolError, match="not in"):
        make_pool("p", "10.0.0.0/24", "10.9.0.1", "10.0.0.2")


def _options(**changes) -> dnsmasq.DnsmasqOptions:
    values = {"interface": "lo", "answer_url": "https://192.0.2.1:8443/answer", "fingerprint": FP,
              "boot_url": "http://192.0.2.1:8080", "pxe_dir": "/tmp", "dhcp_range": ("192.0.2.100", "192.0.2.199")}
    values.update(changes)
    return dnsmasq.DnsmasqOptions(**values)


@pytest.mark.parametrize("mode", ["full", "proxy"])
def test_the_dnsmasq_configuration_chains_ipxe_to_the_machines_boot_script_and_dnsmasq_accepts_it(mode, tmp_path):
    options = _options() if mode == "full" else _options(dhcp_range=None, proxy_subnet="192.0.2.0/24")
    text = dnsmasq.render(options)
    assert "dhcp-boot=tag:ipxe,http://192.0.2.1:8080/boot/${mac}.ipxe" in text
    assert 'dhcp-option-force=250,"https://192.0.2.1:8443/answer"' in text
    assert f'dhcp-option-force=251,"{FP}"' in text
    assert "undionly.kpxe" in text and "tftp-root=/tmp" in text
    assert ("dhcp-range=192.0.2.100,192.0.2.199,12h" in text) == (mode == "full")
    assert ("dhcp-range=192.0.2.0,proxy,255.255.255.0" in text) == (mode == "proxy")
    dnsmasq_bin = shutil.which("dnsmasq") or ("/usr/sbin/dnsmasq" if Path("/usr/sbin/dnsmasq").exists() else None)
    if dnsmasq_bin is None:
        pytest.skip("dnsmasq is not installed")
    conf = tmp_path / "keel.conf"
    conf.write_text(text)
    result = subprocess.run([dnsmasq_bin, "--test", f"--conf-file={conf}"], capture_output=True, text=True,
                            check=False, timeout=30)
    assert result.returncode == 0, result.stderr
    assert "syntax check OK" in result.stderr


def test_a_cli_error_is_one_line_and_an_exit_code(tmp_path, capsys):
    assert main(["machine", "list", "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "keel-server init --data" in err
    assert main(["init", "--data", str(tmp_path / "d"), "--json"]) == 0
    capsys.readouterr()
    assert main(["init", "--data", str(tmp_path / "d")]) == 1
    assert "already initialised" in capsys.readouterr().err
    assert main(["machine", "show", "--data", str(tmp_path / "d"), "99"]) == 1
    assert capsys.readouterr().err == "keel-server: no machine 99 (give its number, a MAC, its serial or its UUID)\n"
    assert main(["token", "create", "--data", str(tmp_path / "d"), "--expires", "soon"]) == 2
    assert main(["token", "create", "--data", str(tmp_path / "d"), "--expires", "30d"]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert len(last.split(":")) == 2 and len(last) > 40
