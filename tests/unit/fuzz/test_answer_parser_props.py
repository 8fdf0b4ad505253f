"""Properties of the answer parser over generated text, TOML documents and JSON answers: nothing escapes but
AnswerError, every problem is one non-empty line, and the input bounds hold at any depth."""

from __future__ import annotations

import datetime
import math

import tomli_w
from hypothesis import given
from hypothesis import strategies as st

import answerfile
from answerfile import schema
from answerfile.errors import AnswerProblem
from answerfile.parse import parse_data, parse_text
from installer.core import limits, rules
from keel_testing.strategies import BASE_ANSWER, PROPERTY, SERVER, machines, nested, toml_ish

KEYS = sorted({path.rsplit(".", 1)[-1] for path in schema.all_key_paths()}
              | {"raid", "ID_SERIAL", "disk_list", "root_password", "x"})
scalars = st.one_of(
    st.text(max_size=30), st.booleans(), st.floats(),
    st.integers(min_value=-(2**70), max_value=2**70), st.integers(min_value=-10, max_value=300),
    st.datetimes(min_value=datetime.datetime(1, 1, 2)), st.dates(), st.times(),
    st.sampled_from(["RAID1", "raidz-2", "from-dhcp", "from-answer", "zfs", "ext4", "btrfs", "sda", "*", "[",
                     "10.0.0.1/24", "any", "all", "", "Europe/Vienna", "de", "at"]),
)
key_names = st.sampled_from(KEYS) | st.text(max_size=6)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(key_names, inner, max_size=4)), max_leaves=12)
documents = st.fixed_dictionaries(
    {}, optional={name: st.dictionaries(key_names, values, max_size=6) | values
                  for name in ("global", "network", "disk-setup", "post-installation-webhook", "first-boot", "x")})


def assert_lines(problems: list[AnswerProblem]) -> None:
    for problem in problems:
        assert isinstance(problem, AnswerProblem) and problem.message
        assert "\n" not in str(problem), str(problem)


def check_text(text: str) -> None:
    problems, warnings = answerfile.validate_text(text)
    assert_lines(problems + warnings)
    try:
        resolution = answerfile.resolve_text(text, SERVER)
    except answerfile.AnswerError as err:
        assert err.problems
        assert_lines(err.problems + err.warnings)
    else:
        assert not problems
        assert_lines(resolution.warnings)


@PROPERTY
@given(toml_ish)
def test_any_text_gives_problems_never_an_exception(text) -> None:
    check_text(text)


@PROPERTY
@given(documents)
def test_any_toml_document_gives_problems_never_an_exception(document) -> None:
    check_text(tomli_w.dumps(document))


@PROPERTY
@given(st.fixed_dictionaries({}, optional={k: values for k in ("disk-setup", "network", "first-boot")}))
def test_a_valid_answer_with_any_section_replaced_is_checked(sections) -> None:
    check_text(tomli_w.dumps({**BASE_ANSWER, **sections}))


json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(key_names, inner, max_size=3),
    max_leaves=20)


@PROPERTY
@given(st.dictionaries(st.sampled_from(["global", "network", "disk-setup", "first-boot", "x"]), json_values,
                       max_size=5), st.integers(0, 60))
def test_a_json_answer_of_any_shape_and_depth_gives_problems(data, depth) -> None:
    deep: object = "de"
    for _ in range(depth):
        deep = [deep]
    data = {**data, "global": {**BASE_ANSWER["global"], "keyboard": deep}}
    result = parse_data(data)
    assert_lines(result.problems + result.warnings)
    try:
        answerfile.resolve_data(data, SERVER)
    except answerfile.AnswerError as err:
        assert_lines(err.problems)


@PROPERTY
@given(nested())
def test_nesting_and_dotted_keys_beyond_the_bounds_are_one_problem(text) -> None:
    result = parse_text(text)
    assert_lines(result.problems)
    if limits.text_problem(text):
        assert [p.message for p in result.problems] == [limits.text_problem(text)]


@PROPERTY
@given(st.integers(min_value=-(2**200), max_value=2**200) | st.floats() | st.floats(min_value=0, max_value=8))
def test_a_size_of_any_magnitude_is_accepted_or_one_problem(value) -> None:
    text = tomli_w.dumps({**BASE_ANSWER, "disk-setup": {"filesystem": "ext4", "disk-list": ["sda"],
                                                        "lvm": {"hdsize": value}}})
    problems = [str(p) for p in answerfile.validate_text(text)[0]]
    fits = math.isfinite(value) and 2 <= value <= 2**33 and rules.hdsize_root_problem("ext4", value) is None
    assert problems == [] if fits else len(problems) == 1 and problems[0].startswith("disk-setup.lvm.hdsize: ")


@PROPERTY
@given(machines(), toml_ish)
def test_any_text_on_any_machine_gives_problems(machine, text) -> None:
    try:
        answerfile.resolve_text(text, machine)
    except answerfile.AnswerError as err:
        assert_lines(err.problems)
