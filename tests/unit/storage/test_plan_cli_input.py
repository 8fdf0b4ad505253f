"""`keel-installer plan` on broken input: one line naming the file and what is wrong, exit 2 when a file cannot be
read (too large, not UTF-8, not a hardware profile) and 1 when the answer is refused; never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from installer.cli import main
from installer.core import limits
from keel_testing.compat import EXAMPLES

SERVER = EXAMPLES / "hardware" / "example-server.json"
MINIMAL = (EXAMPLES / "minimal-ext4.toml").read_text()


def plan(capsys, hardware: Path, answer: Path) -> tuple[int, list[str]]:
    code = main(["plan", "--hardware", str(hardware), "--answer", str(answer)])
    out, err = capsys.readouterr()
    assert code == 0 or not out
    return code, err.splitlines()


def server_with_disk(**changes: object) -> bytes:
    data = json.loads(SERVER.read_text())
    data["disks"][0].update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(("content", "reason"), [
    pytest.param(b'{"disks": [\xff]}', "not UTF-8 text (byte 12, line 1)", id="not UTF-8 (was UnicodeDecodeError)"),
    pytest.param(b"[" * 1000 + b"]" * 1000, "nested too deeply: more than 32 levels at line 1",
                 id="nested 1,000 deep (was RecursionError)"),
    pytest.param(b'{"memory_mib": ' + b"9" * 4400 + b"}", "not valid JSON: a number of more than 4300 digits",
                 id="a number of 4,400 digits (was ValueError)"),
    pytest.param(b" " * (limits.MAX_INPUT_BYTES + 1), "too large: more than 1 MiB", id="more than 1 MiB"),
])
def test_a_hardware_profile_that_cannot_be_read_exits_2(capsys, tmp_path, content, reason) -> None:
    hardware, answer = tmp_path / "server.json", tmp_path / "answer.toml"
    hardware.write_bytes(content)
    answer.write_text(MINIMAL)
    assert plan(capsys, hardware, answer) == (2, [f"keel-installer plan: {hardware}: not a valid hardware profile: "
                                                  f"{reason}"])


def test_a_disk_without_a_name_is_refused_in_one_line(capsys, tmp_path) -> None:
    hardware, answer = tmp_path / "server.json", tmp_path / "answer.toml"
    hardware.write_bytes(server_with_disk(name=""))              # was an IndexError naming its partitions
    answer.write_text(MINIMAL)
    code, err = plan(capsys, hardware, answer)
    assert code == 1
    assert len(err) == 1 and err[0].startswith("keel-installer plan: disk (no name): ")


@pytest.mark.parametrize(("text", "line"), [
    pytest.param(MINIMAL.replace('disk-list = ["sda"]', 'disk-list = ["sda"]\nlvm.hdsize = ' + "9" * 310),
                 "disk-setup.lvm.hdsize: integer out of range: 1030 bits, TOML integers have at most 64",
                 id="a size of 310 digits (was OverflowError)"),
    pytest.param(MINIMAL.replace('disk-list = ["sda"]', 'disk-list = ["sda"]\nlvm.hdsize = ' + "9" * 4400),
                 "{answer}: TOML syntax error at line 16: an integer of more than 4300 digits (TOML integers have "
                 "at most 64 bits)", id="a size of 4,400 digits (was ValueError)"),
    pytest.param(MINIMAL + "\n[first-boot]\nsource = " + "[" * 1000 + "]" * 1000,
                 "{answer}: nested too deeply: more than 32 levels at line 18",
                 id="arrays nested 1,000 deep (was RecursionError)"),
    pytest.param(MINIMAL.replace('disk-list = ["sda"]', "filter." + ".".join(["a"] * 1000) + " = 1"),
                 "{answer}: a dotted key is too long: more than 32 parts at line 15",
                 id="a dotted key of 1,000 parts (was RecursionError)"),
])
def test_an_answer_beyond_the_bounds_is_refused_in_one_line(capsys, tmp_path, text, line) -> None:
    answer = tmp_path / "answer.toml"
    answer.write_text(text)
    assert plan(capsys, SERVER, answer) == (1, ["keel-installer plan: " + line.format(answer=answer)])


@pytest.mark.parametrize(("content", "reason"), [
    pytest.param(MINIMAL.encode() + b"#" * limits.MAX_INPUT_BYTES, "too large: more than 1 MiB", id="over 1 MiB"),
    pytest.param(b"# K\xf6ln\n" + MINIMAL.encode(), "not UTF-8 text (byte 4, line 1)", id="not UTF-8"),
])
def test_an_answer_that_cannot_be_read_exits_2(capsys, tmp_path, content, reason) -> None:
    answer = tmp_path / "answer.toml"
    answer.write_bytes(content)
    assert plan(capsys, SERVER, answer) == (2, [f"keel-installer plan: {answer}: cannot read the answer file "
                                                f"({reason})"])
