"""The front door: an answer too large, too deep, with a key too long or a number beyond 64 bits is one problem
naming what is wrong, found in well under a second; never a traceback, never a minute of parsing."""

from __future__ import annotations

import time

import pytest

import answerfile
from answerfile import cli
from answerfile.parse import MAX_ENTRIES, MAX_GLOB_CHARS, MAX_TEXT_CHARS, parse_data, parse_text
from installer.core import limits
from keel_testing.compat import EXAMPLES, example_server

MINIMAL = (EXAMPLES / "minimal-ext4.toml").read_text()
HARDWARE = str(EXAMPLES / "hardware" / "example-server.json")


def with_disk_setup(lines: str) -> str:
    return MINIMAL.replace('disk-list = ["sda"]', f'disk-list = ["sda"]\n{lines}')


def problems(text: str) -> list[str]:
    return [str(p) for p in answerfile.validate_text(text)[0]]


@pytest.mark.parametrize(("text", "expected"), [
    pytest.param(with_disk_setup("lvm.hdsize = " + "9" * 310),
                 "disk-setup.lvm.hdsize: integer out of range: 1030 bits, TOML integers have at most 64",
                 id="a size of 310 digits (was OverflowError)"),
    pytest.param(with_disk_setup("lvm.swapsize = " + "9" * 4400),
                 "TOML syntax error at line 16: an integer of more than 4300 digits (TOML integers have at most "
                 "64 bits)", id="a size of 4,400 digits (was ValueError)"),
    pytest.param(MINIMAL + "\n[first-boot]\nsource = " + "[" * 1000 + "]" * 1000,
                 "nested too deeply: more than 32 levels at line 18",
                 id="arrays nested 1,000 deep (was RecursionError)"),
    pytest.param(with_disk_setup("filter." + ".".join(["a"] * 1000) + " = 1"),
                 "a dotted key is too long: more than 32 parts at line 16",
                 id="a dotted key of 1,000 parts (was RecursionError in the problem message)"),
    pytest.param(MINIMAL + "#" * limits.MAX_INPUT_BYTES, "too large: more than 1 MiB", id="more than 1 MiB"),
    pytest.param(MINIMAL.replace('"change-me-please"', '"' + "x" * (MAX_TEXT_CHARS + 1) + '"'),
                 f"global.root-password: is too long: {MAX_TEXT_CHARS + 1} characters, at most {MAX_TEXT_CHARS}",
                 id="a string of more than 16 KiB"),
    pytest.param(MINIMAL.replace('disk-list = ["sda"]', 'filter.ID_SERIAL = "' + "*a" * MAX_GLOB_CHARS + '"'),
                 f"disk-setup.filter.ID_SERIAL: is too long: {2 * MAX_GLOB_CHARS} characters, at most "
                 f"{MAX_GLOB_CHARS}", id="a glob of more than 256 characters (matching it took seconds)"),
    pytest.param(MINIMAL.replace('disk-list = ["sda"]', "disk-list = [" + '"sda", ' * (MAX_ENTRIES + 1) + "]"),
                 f"disk-setup.disk-list: has too many entries: {MAX_ENTRIES + 1}, at most {MAX_ENTRIES}",
                 id="a disk-list of more than 1024 disks"),
])
def test_an_answer_beyond_the_bounds_is_one_problem(text, expected) -> None:
    assert problems(text) == [expected]


def test_a_dotted_key_of_20000_parts_is_refused_at_once() -> None:
    text = MINIMAL + "\n[x]\n" + ".".join(["a"] * 20000) + " = 1\n"     # 40 KB: tomllib took 36 s
    started = time.monotonic()
    assert problems(text) == ["a dotted key is too long: more than 32 parts at line 18"]
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("text", [
    pytest.param(MINIMAL.replace("[global]\n", "[global]\n" + "".join(f"k{i} = 1\n" for i in range(MAX_ENTRIES))),
                 id="1024 unknown keys"),
    pytest.param(MINIMAL + "[x]\n" + "".join(f"x{i} = " + "[" * 31 + "]" * 31 + "\n" for i in range(10000)),
                 id="700 KB of arrays 31 deep"),
])
def test_a_large_answer_is_checked_in_seconds(text) -> None:
    started = time.monotonic()
    assert problems(text)
    assert time.monotonic() - started < 10       # about 1-2 s; a hint per unknown key took 17 s


def test_unknown_keys_beyond_the_first_hundred_get_no_hint() -> None:
    text = MINIMAL.replace("[global]\n", "[global]\n" + "".join(f"keybord{i} = 1\n" for i in range(300)))
    found = problems(text)
    assert len(found) == 300
    assert found[0] == "global.keybord0: unknown key; did you mean 'global.keyboard'?"
    assert found[-1] == "global.keybord299: unknown key"


@pytest.mark.parametrize(("data", "expected"), [
    pytest.param({"global": {"keyboard": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["de"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},
                 "global.keyboard" + "[0]" * 30 + ": nested too deeply: more than 32 levels",
                 id="JSON arrays 34 deep"),
    pytest.param({"disk-setup": {"lvm": {"maxvz": 10**400}}},
                 "disk-setup.lvm.maxvz: integer out of range: 1329 bits, TOML integers have at most 64",
                 id="a JSON number of 400 digits"),
    pytest.param({"network": {"filter": {f"P{i}": "*" for i in range(MAX_ENTRIES + 1)}}},
                 f"network.filter: has too many entries: {MAX_ENTRIES + 1}, at most {MAX_ENTRIES}",
                 id="a filter of 1025 globs"),
])
def test_a_json_answer_is_bounded_the_same_way(data, expected) -> None:
    assert [str(p) for p in parse_data(data).problems] == [expected]
    with pytest.raises(answerfile.AnswerError) as err:
        answerfile.resolve_data(data, example_server())
    assert [str(p) for p in err.value.problems] == [expected]


def test_a_problem_shows_at_most_200_characters_of_a_key() -> None:
    (problem,) = parse_text(MINIMAL.replace("[global]\n", "[global]\n" + "k" * 5000 + " = 1\n")).problems
    assert problem.key == "global." + "k" * 190 + "..."


def test_a_problem_is_one_line_whatever_the_key_or_value_holds() -> None:
    text = MINIMAL.replace("[global]\n", '[global]\n"a\\nb" = 1\n').replace('"sda"', '"s\\nda"')
    found = [str(p) for p in answerfile.validate_text(text, example_server())[0]]
    assert "global.a\\nb: unknown key" in found
    assert any(p.startswith("disk-setup.disk-list: disk 's\\nda' not found") for p in found)
    assert all("\n" not in p for p in found)


def run(capsys, *argv: str) -> tuple[int, list[str], list[str]]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


def test_keel_answer_validate_lists_a_bound_as_a_problem(capsys, tmp_path) -> None:
    answer = tmp_path / "answer.toml"
    answer.write_text(with_disk_setup("lvm.hdsize = " + "9" * 310))
    code, out, _ = run(capsys, "validate", str(answer), "--hardware", HARDWARE)
    assert (code, out) == (1, [f"{answer}: 1 problem(s):",
                               "  - disk-setup.lvm.hdsize: integer out of range: 1030 bits, TOML integers have at "
                               "most 64"])


@pytest.mark.parametrize(("content", "reason"), [
    pytest.param(MINIMAL.encode() + b"#" * limits.MAX_INPUT_BYTES, "too large: more than 1 MiB", id="over 1 MiB"),
    pytest.param(b"# K\xf6ln\n" + MINIMAL.encode(), "not UTF-8 text (byte 4, line 1)", id="not UTF-8"),
])
def test_keel_answer_validate_cannot_read_what_is_too_large_or_not_utf8(capsys, tmp_path, content, reason) -> None:
    answer = tmp_path / "answer.toml"
    answer.write_bytes(content)
    code, out, err = run(capsys, "validate", str(answer))
    assert (code, out, err) == (2, [], [f"keel-answer: {answer}: cannot read the answer file ({reason})"])


@pytest.mark.parametrize(("content", "reason"), [
    pytest.param(b'{"disks": [\xff]}', "not UTF-8 text (byte 12, line 1)", id="not UTF-8"),
    pytest.param(b"[" * 1000 + b"]" * 1000, "nested too deeply: more than 32 levels at line 1", id="nested 1,000 deep"),
])
def test_keel_answer_validate_refuses_a_broken_hardware_profile_in_one_line(capsys, tmp_path, content,
                                                                            reason) -> None:
    profile = tmp_path / "server.json"
    profile.write_bytes(content)
    code, out, err = run(capsys, "validate", str(EXAMPLES / "minimal-ext4.toml"), "--hardware", str(profile))
    assert (code, out, err) == (2, [], [f"keel-answer: {profile}: not a valid hardware profile: {reason}"])
