"""Random and mutated answers only ever give Keel's own AnswerError (or a config), never another exception."""

from __future__ import annotations

import copy
import tomllib
from typing import Any

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import answerfile
from answerfile import schema
from keel_testing.compat import EXAMPLES, compat_dir, example_server

HARDWARE = example_server()
SOURCES = sorted(EXAMPLES.glob("*.toml")) + sorted((compat_dir() / "parse_answer").glob("*.toml"))
EXAMPLE_DATA = [tomllib.loads(p.read_text()) for p in SOURCES]
KEY_NAMES = sorted({p.rsplit(".", 1)[-1] for p in schema.all_key_paths()} | {"raid", "ID_SERIAL", "disk_list"})

scalars = st.one_of(
    st.text(max_size=20), st.integers(-(2**40), 2**40), st.floats(),
    st.booleans(), st.sampled_from(["RAID1", "raidz-2", "from-dhcp", "from-answer", "zfs", "ext4", "btrfs", "sda",
                                    "*", "[", "10.0.0.1/24", "fe80::1", "any", "all", "", "Europe/Vienna"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(KEY_NAMES), inner, max_size=4)), max_leaves=8)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out += _paths(value, (*prefix, key))
    return out


def _set(data: dict, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        data = data[key]
    data[path[-1]] = value


def _delete(data: dict, path: tuple) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


def _resolve(text: str) -> None:
    try:
        answerfile.parse_install_config(text, HARDWARE)
    except answerfile.AnswerError as err:
        assert err.problems and all(isinstance(p.message, str) and p.message for p in err.problems)
    answerfile.validate_text(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(example=st.sampled_from(EXAMPLE_DATA), data=st.data())
def test_mutated_examples_give_only_answer_errors(example, data):
    answer = copy.deepcopy(example)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(answer)
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        action = data.draw(st.sampled_from(["replace", "delete", "rename", "add"]))
        if action == "replace":
            _set(answer, path, data.draw(values))
        elif action == "delete":
            _delete(answer, path)
        elif action == "rename":
            value = copy.deepcopy(_get(answer, path))
            _delete(answer, path)
            _set(answer, (*path[:-1], data.draw(st.sampled_from(KEY_NAMES))), value)
        else:
            parent = path[:-1]
            if not parent or isinstance(_get(answer, parent), dict):
                _set(answer, (*parent, data.draw(st.sampled_from(KEY_NAMES))), data.draw(values))
    _resolve(tomli_w.dumps(answer))


def _get(data: Any, path: tuple) -> Any:
    for key in path:
        data = data[key]
    return data


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_random_text_gives_only_answer_errors(text):
    _resolve(text)


@settings(max_examples=100, deadline=None)
@given(example=st.sampled_from([p.read_text() for p in sorted(EXAMPLES.glob("*.toml"))]), data=st.data())
def test_truncated_or_spliced_toml_gives_only_answer_errors(example, data):
    cut = data.draw(st.integers(0, len(example)))
    insert = data.draw(st.text(max_size=10))
    _resolve(example[:cut] + insert + example[cut:][: data.draw(st.integers(0, 40))])
