"""The answer file's JSON Schema accepts the examples and the Proxmox corpus and rejects what Keel rejects."""

from __future__ import annotations

import tomllib

import jsonschema
import pytest

from answerfile.json_schema import answer_schema
from keel_testing.compat import EXAMPLES, compat_dir

SCHEMA = answer_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_the_schema_itself_is_valid_draft_2020_12():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.stem)
def test_every_example_answer_fits_the_schema(path):
    VALIDATOR.validate(tomllib.loads(path.read_text()))


@pytest.mark.parametrize("path", sorted((compat_dir() / "parse_answer").glob("*.toml")), ids=lambda p: p.stem)
def test_every_accepted_proxmox_answer_fits_the_schema(path):
    VALIDATOR.validate(tomllib.loads(path.read_text()))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda d: d["global"].update({"root-pasword": "x"}), "unknown key"),
        (lambda d: d["global"].update({"reboot-on-error": "yes"}), "wrong type"),
        (lambda d: d["disk-setup"].update(filesystem="zsf"), "value outside the choices"),
        (lambda d: d["global"].pop("root-password"), "no root password"),
        (lambda d: d["global"].update({"root-password": "short"}), "short password"),
        (lambda d: d["disk-setup"].update(filter={"ID_SERIAL": "*"}), "disk-list and filter together"),
        (lambda d: d["network"].update(source="from-answer"), "static network without its keys"),
        (lambda d: d["disk-setup"].update(filesystem="zfs"), "zfs without a RAID level"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_the_schema_rejects_what_keel_rejects(change, why):
    data = tomllib.loads((EXAMPLES / "minimal-ext4.toml").read_text())
    change(data)
    assert list(VALIDATOR.iter_errors(data)), why


def test_deprecated_aliases_are_marked_deprecated():
    assert SCHEMA["properties"]["global"]["properties"]["root_password"]["deprecated"] is True
