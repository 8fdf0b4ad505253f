"""Keel's import graph keeps DESIGN.md's layers: no cycles, no import upward, no submodule through its __init__."""

from __future__ import annotations

from pathlib import Path

from keel_testing.import_graph import build, layer_of, summary


def test_the_tree_has_no_cycle_no_layer_break_and_no_package_init_import():
    graph = build()
    text = summary(graph)
    print(text)           # `pytest -s` shows the counts (and the closing note quotes them)
    assert graph.cycles() == [], text
    assert graph.layer_breaks() == [], text
    assert graph.package_init_imports() == [], text
    assert len(graph.modules) > 100, "the graph should cover every package of the tree"


def test_the_layers_are_the_designs(tmp_path: Path):
    assert layer_of("installer.core.config") == "core"
    assert layer_of("installer.storage.plan.planner") == "storage-plan"
    assert layer_of("installer.storage.apply.steps") == "storage-apply"
    assert layer_of("installer.frontends.auto") == "frontend"
    assert layer_of("answerfile.cli") == "frontend"
    assert layer_of("answerfile.parse") == "answerfile"
    assert layer_of("answerfile.media.prepare") == "answer-media"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_cycle_an_upward_import_and_an_init_import_are_each_found(tmp_path: Path):
    installer = write(tmp_path / "installer", {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/config.py": "from installer.engine import run\n",          # the core reaching up
        "engine/__init__.py": "from installer.engine.run import go\n",
        "engine/run.py": "from installer.engine import other\n",          # through its package's __init__
        "engine/other.py": "from . import run\n",
    })
    graph = build({"installer": installer})
    assert graph.layer_breaks() == ["installer.core.config (core) -> installer.engine.run (engine)"]
    assert ["installer.engine.other", "installer.engine.run"] in graph.cycles()
    assert "installer.engine.run -> installer.engine" not in graph.package_init_imports()
    planted = build({"installer": write(tmp_path / "again" / "installer", {
        "__init__.py": "", "engine/__init__.py": "X = 1\n", "engine/run.py": "from installer.engine import X\n"})})
    assert planted.package_init_imports() == ["installer.engine.run -> installer.engine"]
