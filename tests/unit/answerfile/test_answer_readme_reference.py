"""The README's "Every key" tables are the ones generated from the schema, so docs and parser agree."""

from __future__ import annotations

from answerfile.reference import markdown
from keel_testing.compat import REPO


def test_readme_key_tables_are_current():
    readme = (REPO / "README.md").read_text()
    start = readme.index("<!-- answer-reference:start")
    start = readme.index("\n", start) + 1
    end = readme.index("<!-- answer-reference:end -->")
    assert readme[start:end].strip() == markdown().strip(), "run: python -m answerfile.reference"


def test_every_schema_key_is_in_the_reference():
    from answerfile import schema

    text = markdown()

    def leaves(prefix: str, keys: tuple[schema.Key, ...]) -> list[str]:
        out = []
        for key in keys:
            path = f"{prefix}.{key.name}" if prefix else key.name
            if key.kind == "table-list":
                path += "[]"
            out += leaves(path, key.keys) if key.kind in ("table", "table-list") else [path]
        return out

    for section in schema.SECTIONS:
        for path in leaves("", section.keys):
            assert f"| `{path}` |" in text, f"{section.name}.{path}"
