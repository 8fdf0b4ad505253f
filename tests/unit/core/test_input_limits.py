"""Text from outside is bounded before it is parsed (installer.core.limits), and a JSON file (hardware profile,
InstallConfig) that is too large, not UTF-8, too deep or holds a number beyond 64 bits is one DecodeError
saying what is wrong: never a RecursionError, UnicodeDecodeError, ValueError or OverflowError."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.core import limits
from installer.core.config import InstallConfig
from installer.core.hardware import HardwareProfile
from installer.core.jsoncodec import DecodeError
from keel_testing.compat import EXAMPLES

DEEP = "nested too deeply: more than 32 levels at line"
DOTTED = "a dotted key is too long: more than 32 parts at line"


@pytest.mark.parametrize(("text", "problem"), [
    pytest.param("a = " + "[" * 1000 + "]" * 1000, f"{DEEP} 1", id="arrays nested 1,000 deep"),
    pytest.param('{"a": ' * 40 + "1" + "}" * 40, f"{DEEP} 1", id="JSON objects nested 40 deep"),
    pytest.param("a = [" + "{b = [" * 20 + "]}" * 20 + "]", f"{DEEP} 1", id="arrays and inline tables, 41 deep"),
    pytest.param("[x]\n" + ".".join(["a"] * 1000) + " = 1", f"{DOTTED} 2", id="a dotted key of 1,000 parts"),
    pytest.param("[" + ".".join(["a"] * 40) + "]", f"{DOTTED} 1", id="a table header of 40 parts"),
    pytest.param('"a" . ' * 40 + '"b" = 1', f"{DOTTED} 1", id="quoted key parts count too"),
    pytest.param("x" * (limits.MAX_INPUT_BYTES + 1), "too large: more than 1 MiB", id="more than 1 MiB"),
])
def test_text_beyond_the_bounds_is_refused_before_parsing(text, problem) -> None:
    assert limits.text_problem(text) == problem


@pytest.mark.parametrize("text", [
    pytest.param('a = "' + "[{" * 100 + '"', id="brackets in a basic string"),
    pytest.param("a = '" + "[" * 100 + "'", id="brackets in a literal string"),
    pytest.param('a = """\n' + "[" * 100 + '\n"""', id="brackets in a multi-line basic string"),
    pytest.param("a = '''\n" + "{" * 100 + "\n'''", id="brackets in a multi-line literal string"),
    pytest.param("# " + "[" * 100, id="brackets in a comment"),
    pytest.param('a = "' + "." * 100 + '"', id="dots in a string"),
    pytest.param('"' + "." * 100 + '" = 1', id="dots in a quoted key"),
    pytest.param("a = [" + "1.5, " * 100 + "]", id="floats in an array"),
    pytest.param("a = 1979-05-27T07:32:00.999\nb = 3.25", id="a date-time and a float"),
    pytest.param("a = [" + "[" * 31 + "]" * 31 + "]", id="32 levels"),
    pytest.param(".".join(["a"] * 32) + " = 1", id="a key of 32 parts"),
])
def test_strings_comments_and_values_do_not_count(text) -> None:
    assert limits.text_problem(text) is None


@pytest.mark.parametrize("text", [
    pytest.param("a = '''x'''''\nb = " + "[" * 40, id="a multi-line literal string ends after 2 more quotes"),
    pytest.param('a = """ \\""" """\nb = ' + "[" * 40, id="an escaped quote does not end a basic string"),
    pytest.param('a = "\\"[["\nb = ' + "[" * 40, id="an escaped quote in a one-line basic string"),
    pytest.param("a = 'x\nb = " + "[" * 40, id="a literal string left open ends with its line"),
])
def test_the_scanner_finds_where_a_string_ends(text) -> None:
    assert limits.text_problem(text) == f"{DEEP} 2"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")) + sorted((EXAMPLES / "hardware").glob("*.json")),
                         ids=lambda p: f"{p.name} is within the bounds")
def test_every_example_is_within_the_bounds(path: Path) -> None:
    assert limits.text_problem(path.read_text()) is None


def test_read_text_refuses_a_large_file_without_reading_it_whole(tmp_path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (limits.MAX_INPUT_BYTES + 1))
    with pytest.raises(limits.InputLimitError, match=r"^too large: more than 1 MiB$"):
        limits.read_text(big)
    with pytest.raises(limits.InputLimitError, match=r"^too large"):
        limits.read_text("/dev/zero")
    big.write_bytes(b" " * limits.MAX_INPUT_BYTES)
    assert len(limits.read_text(big)) == limits.MAX_INPUT_BYTES


def test_read_text_names_the_first_byte_that_is_not_utf8(tmp_path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{\n"dmi": {"vendor": "M\xfcller"}}')
    with pytest.raises(limits.InputLimitError, match=r"^not UTF-8 text \(byte 23, line 2\)$"):
        limits.read_text(path)


def _profile(tmp_path: Path, data: bytes | str) -> Path:
    path = tmp_path / "server.json"
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


SERVER = json.loads((EXAMPLES / "hardware" / "example-server.json").read_text())


@pytest.mark.parametrize(("data", "message"), [
    pytest.param(b'{"disks": [\xff]}', r"not UTF-8 text \(byte 12, line 1\)", id="not UTF-8"),
    pytest.param("[" * 1000 + "]" * 1000, f"{DEEP} 1", id="nested 1,000 deep"),
    pytest.param('{"memory_mib": ' + "9" * 4400 + "}", "not valid JSON: a number of more than 4300 digits",
                 id="a number of 4,400 digits"),
    pytest.param('{"memory_mib": ' + "9" * 310 + "}",
                 r"HardwareProfile.memory_mib: integer out of range \(at most 64 bits\), got a number of 1030 bits",
                 id="a number of 310 digits"),
    pytest.param(json.dumps({**SERVER, "dmi": {"x": "y" * limits.MAX_INPUT_BYTES}}), "too large: more than 1 MiB",
                 id="more than 1 MiB"),
    pytest.param('{"disks": [{"name": "sda", "path": "/dev/sda", "size_bytes": 1e999}]}',
                 r"HardwareProfile.disks\[0\].size_bytes: expected int, got inf", id="a size of 1e999"),
])
def test_a_broken_hardware_profile_is_one_decode_error(tmp_path, data, message) -> None:
    with pytest.raises(DecodeError, match=f"^{message}$"):
        HardwareProfile.load(_profile(tmp_path, data))


def test_an_install_config_is_read_through_the_same_bounds(tmp_path) -> None:
    path = tmp_path / "config.json"
    path.write_text('{"disk_setup": {"filesystem": "ext4", "disks": ["/dev/sda"], "lvm": {"hdsize": '
                    + "9" * 400 + "}}}")
    with pytest.raises(DecodeError, match=r"InstallConfig.disk_setup.lvm.hdsize: number out of range"):
        InstallConfig.load(path)
    path.write_bytes(b"\xfe\xff")
    with pytest.raises(DecodeError, match=r"^not UTF-8 text"):
        InstallConfig.load(path)


def test_a_decode_error_is_one_line_whatever_the_document_holds(tmp_path) -> None:
    path = _profile(tmp_path, json.dumps({"disks": [{"name": "sda", "path": "/dev/sda", "size_bytes": 1,
                                                       "two\nlines": 1}]}))
    with pytest.raises(DecodeError) as err:
        HardwareProfile.load(path)
    assert str(err.value) == "HardwareProfile.disks[0]: unknown key(s) two\\nlines"
