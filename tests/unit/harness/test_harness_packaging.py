"""The harness, the e2e tests and the bench scripts import installed packages by name; none edits sys.path."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def lines_using_sys_path(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr == "path"
        and isinstance(node.value, ast.Name) and node.value.id == "sys"
    ]


@pytest.mark.parametrize("tree", ["qemu-harness", "tests/e2e", "bench"])
def test_no_file_touches_sys_path(tree):
    found = {
        str(path.relative_to(REPO)): lines
        for path in sorted((REPO / tree).rglob("*.py"))
        if (lines := lines_using_sys_path(path))
    }
    assert found == {}, "packaging (pyproject's package roots, pytest's pythonpath) makes these importable"


def test_the_demo_runs_by_module_name_from_outside_the_repository(tmp_path):
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-m", "keel_harness.demo", "--help"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Example: .venv/bin/python -m keel_harness.demo" in result.stdout
