"""The JSON Schema (draft 2020-12) of answer files, generated from `answerfile.schema` for editors and tools.

It describes the structure (sections, keys, types, choices, ranges, defaults, deprecated aliases) and the
simple cross-key rules a schema can say; Keel's own validation (`keel-answer validate`) checks the rest.
"""

from __future__ import annotations

from typing import Any

from answerfile import schema
from answerfile.schema import Key

SCHEMA_ID = "https://keel.invalid/schemas/answer.schema.json"


def _value_schema(key: Key) -> dict[str, Any]:
    doc = key.doc + (" (Keel extension.)" if key.keel else "")
    out: dict[str, Any] = {"description": doc}
    if key.kind == "string":
        out["type"] = "string"
        if key.choices:
            choices = list(key.choices)
            if key.ignore_case:
                choices += [c.lower() for c in key.choices if c.lower() not in choices]
            out["enum"] = choices
    elif key.kind in ("integer", "number", "boolean"):
        out["type"] = key.kind
    elif key.kind == "string-list":
        out.update(type="array", items={"type": "string"})
    elif key.kind in ("globs", "string-table"):
        out.update(type="object", additionalProperties={"type": "string"})
    elif key.kind == "value-table":
        # an unquoted dotted key is a nested table in TOML ("vm.swappiness = 10" is {"vm": {"swappiness": 10}})
        out.update(type="object", additionalProperties={"$ref": "#/$defs/value-table"})
    elif key.kind == "fqdn":
        out["oneOf"] = [{"type": "string", "pattern": r"^[^.]+\..+$"}, _table_schema(key)]
    elif key.kind == "table":
        out.update(_table_schema(key))
    elif key.kind == "table-list":
        out.update(type="array", items=_table_schema(key))
    if key.minimum is not None:
        out["minimum"] = key.minimum
    if key.maximum is not None:
        out["maximum"] = key.maximum
    if key.default is not None and key.kind not in ("table", "table-list"):
        out["default"] = key.default
    return out


def _table_schema(spec: Key) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for key in spec.keys:
        properties[key.name] = _value_schema(key)
        if key.alias:
            properties[key.alias] = {**_value_schema(key), "deprecated": True,
                                     "description": f"Deprecated spelling of '{key.name}'."}
    out: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    required = [k.name for k in spec.keys if k.required]
    if required:
        out["required"] = required
    return out


def answer_schema() -> dict[str, Any]:
    """The whole schema as a JSON-compatible dict."""
    root = _table_schema(Key("answer", "table", "", keys=schema.SECTIONS))
    root.update({
        "$defs": {"value-table": {"anyOf": [{"type": "string"}, {"type": "integer"}, {
            "type": "object", "additionalProperties": {"$ref": "#/$defs/value-table"}}]}},
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Keel / Proxmox VE automated installation answer file",
    })
    glob = root["properties"]["global"]
    glob["anyOf"] = [{"required": [name]} for name in
                     ("root-password", "root-password-hashed", "root_password", "root_password_hashed")]
    glob["not"] = {"required": ["root-password", "root-password-hashed"]}
    glob["properties"]["root-password"]["minLength"] = 8
    glob["properties"]["root_password"]["minLength"] = 8
    net = root["properties"]["network"]
    net["if"] = {"properties": {"source": {"const": "from-answer"}}}
    net["then"] = {"required": ["cidr", "dns", "gateway", "filter"]}
    net["else"] = {"not": {"anyOf": [{"required": [k]} for k in ("cidr", "dns", "gateway", "filter")]}}
    disks = root["properties"]["disk-setup"]
    disks["allOf"] = [
        {"not": {"required": ["disk-list", "filter"]}},
        {"if": {"properties": {"filesystem": {"const": "zfs"}}},
         "then": {"properties": {"zfs": {"required": ["raid"]}}, "required": ["zfs"]}},
        {"if": {"properties": {"filesystem": {"const": "btrfs"}}},
         "then": {"properties": {"btrfs": {"required": ["raid"]}}, "required": ["btrfs"]}},
    ]
    cluster = root["properties"]["provision"]["properties"]["cluster"]
    cluster["if"] = {"properties": {"mode": {"const": "join"}}}
    cluster["then"] = {"required": ["peer"]}
    cluster["else"] = {"not": {"required": ["peer"]}}
    return root
