"""The README's answer-file key tables, generated from `answerfile.schema` (a test keeps the README current).

    python -m answerfile.reference   # prints the Markdown tables
"""

from __future__ import annotations

import json

from answerfile import schema
from answerfile.schema import Key

KINDS = {
    "string": "string", "integer": "integer", "number": "number (GiB)", "boolean": "boolean",
    "string-list": "array of strings", "globs": "table: udev property = glob", "string-table": "table: MAC = name",
    "value-table": "table: key = string or integer",
    "fqdn": "string or table", "table": "table", "table-list": "array of tables",
}


def _type(key: Key) -> str:
    if key.kind == "string" and key.choices:
        text = " \\| ".join(f"`{c}`" for c in key.choices)
        return text + (" (any case)" if key.ignore_case else "")
    return KINDS[key.kind]


def _default(key: Key, nested: bool) -> str:
    if key.required:
        return "**required** in this table" if nested else "**required**"
    if key.when:
        return key.when
    if key.default in (None, {}, []):
        return "-"
    return f"`{json.dumps(key.default)}`"


def _number(value: float) -> str:
    """2, 0.5, 8589934592: whole numbers in full (":g" would print 8.58993e+09)."""
    return str(int(value)) if value == int(value) else f"{value:g}"


def _notes(key: Key) -> str:
    parts = [key.doc]
    if key.minimum is not None or key.maximum is not None:
        lo = "" if key.minimum is None else _number(key.minimum)
        hi = "" if key.maximum is None else _number(key.maximum)
        parts.append(f"Range {lo}..{hi}." if lo and hi else f"At least {lo}." if lo else f"At most {hi}.")
    if key.alias:
        parts.append(f"Deprecated spelling: `{key.alias}`.")
    if key.keel:
        parts.append("**Keel extension.**")
    return " ".join(parts).replace("|", "\\|")


def _rows(prefix: str, keys: tuple[Key, ...]) -> list[str]:
    rows = []
    for key in keys:
        path = f"{prefix}.{key.name}" if prefix else key.name
        if key.kind == "table":
            rows += _rows(path, key.keys)
            continue
        if key.kind == "table-list":
            rows += _rows(f"{path}[]", key.keys)
            continue
        nested = path.count(".") > 1
        rows.append(f"| `{path}` | {_type(key)} | {_default(key, nested)} | {_notes(key)} |")
        if key.kind == "fqdn":
            rows += _rows(path, key.keys)
    return rows


def markdown() -> str:
    """One table per section: key, type, default, notes."""
    out = []
    for section in schema.SECTIONS:
        optional = "" if section.required else " (optional)"
        out.append(f"#### `[{section.name}]`{optional}\n\n{section.doc}\n")
        out.append("| key | type | default | notes |\n|---|---|---|---|")
        out += [row.replace(f"`{section.name}.", "`", 1) for row in _rows(section.name, section.keys)]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
