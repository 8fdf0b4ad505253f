"""The import graph of Keel's packages and the layer rules it must keep (DESIGN.md, "Layers").

`python -m keel_testing.import_graph` prints the summary; tests/unit/test_import_graph.py asserts it. Every
import counts: at module level, inside functions and under TYPE_CHECKING alike.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = {
    "installer": REPO / "installer",
    "answerfile": REPO / "answerfile",
    "keel_harness": REPO / "qemu-harness" / "keel_harness",
    "keel_iso": REPO / "iso-build" / "keel_iso",
    "keel_boot": REPO / "post-install" / "keel_boot",
    "keel_firstboot": REPO / "post-install" / "keel_firstboot",
    "keel_server": REPO / "server" / "keel_server",
    "keel_testing": REPO / "tests" / "keel_testing",
}

# Layers, lowest first: a module may import its own layer's modules and those of the layers listed for it.
CORE = "core"
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "runner": {"core"},
    "host": {"core", "runner"},
    "hardware": {"core", "runner", "host"},
    "answer-sources": {"core", "runner", "host"},
    "answerfile": {"core"},
    # prepare-iso / inspect-iso: change and read ISO images with xorriso, render iso-build's iPXE menu
    "answer-media": {"core", "runner", "answerfile", "iso-build"},
    "storage-plan": {"core"},
    "phase": {"core", "runner", "storage-plan"},
    "storage-apply": {"core", "runner", "host", "storage-plan", "phase"},
    "installed-system": {"core", "runner", "host", "storage-plan", "phase"},
    "bootloader": {"core", "runner", "storage-plan"},
    "engine": {"core", "runner", "host", "storage-plan", "phase", "storage-apply", "installed-system",
               "bootloader", "answer-sources"},
    "frontend": {"*"},
    # the build prepares grub.cfg for the LVM installs: it renders keel.cfg with the installer's own renderer and
    # names each file by the installer's digest of its inputs (installer/bootloader/prepared_cfg.py), one home each
    "iso-build": {"core", "runner", "installed-system", "bootloader"},
    "harness": {"core", "runner"},
    "boot-tool": set(),
    "firstboot": set(),     # installed system, python3 + stdlib: like the boot tool, imports nothing of Keel
    # keel-server: validates every answer it renders with answerfile, reads HardwareProfile from the core, and
    # boots Keel's live system with iso-build's kernel arguments (keel_iso.bootmenu)
    # the REST client pins certificates with the installer's own adapter (answer_sources/http.py), one home
    "server": {"core", "answerfile", "iso-build", "answer-sources"},
    "test-builders": {"*"},
}
FRONTEND_MODULES = ("installer.cli", "answerfile.cli", "answerfile.demo", "installer.hardware.cli", "keel_server.cli")


def layer_of(module: str) -> str:
    """Which layer a module belongs to."""
    if module in FRONTEND_MODULES or module.startswith(("installer.frontends", "installer.tui")):
        return "frontend"
    prefixes = (
        ("installer.core", "core"), ("installer.runner", "runner"), ("installer.host", "host"),
        ("installer.hardware", "hardware"), ("installer.answer_sources", "answer-sources"),
        ("installer.storage.plan", "storage-plan"), ("installer.phase", "phase"),
        ("installer.storage.apply", "storage-apply"), ("installer.installed_system", "installed-system"),
        ("installer.bootloader", "bootloader"), ("installer.engine", "engine"),
        ("answerfile.media", "answer-media"), ("answerfile", "answerfile"), ("keel_iso", "iso-build"),
        ("keel_harness", "harness"),
        ("keel_boot", "boot-tool"), ("keel_firstboot", "firstboot"),
        ("keel_server", "server"), ("keel_testing", "test-builders"),
    )
    for prefix, layer in prefixes:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    # the bare packages (installer: its version; installer.storage: a docstring) sit with the core
    return CORE


@dataclass
class Graph:
    modules: dict[str, Path]
    edges: dict[str, set[str]]

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one module (Tarjan), each sorted."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []
        counter = 0

        def visit(node: str) -> None:
            nonlocal counter
            index[node] = low[node] = counter
            counter += 1
            stack.append(node)
            on_stack.add(node)
            for nxt in sorted(self.edges[node]):
                if nxt not in index:
                    visit(nxt)
                    low[node] = min(low[node], low[nxt])
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if low[node] == index[node]:
                component = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    component.append(top)
                    if top == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))

        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 10 * len(self.modules)))
        try:
            for node in sorted(self.modules):
                if node not in index:
                    visit(node)
        finally:
            sys.setrecursionlimit(limit)
        return found

    def layer_breaks(self) -> list[str]:
        """Every import that reaches a layer its module may not import, as "a (layer) -> b (layer)"."""
        breaks = []
        for source in sorted(self.edges):
            mine = layer_of(source)
            allowed = LAYERS[mine]
            for target in sorted(self.edges[source]):
                theirs = layer_of(target)
                if theirs == mine or "*" in allowed or theirs in allowed:
                    continue
                breaks.append(f"{source} ({mine}) -> {target} ({theirs})")
        return breaks

    def package_init_imports(self) -> list[str]:
        """Submodules importing their own package's __init__ (they must import their siblings directly)."""
        out = []
        for source, targets in sorted(self.edges.items()):
            parent = source.rpartition(".")[0]
            if parent and parent in targets and self.modules[parent].name == "__init__.py":
                out.append(f"{source} -> {parent}")
        return out


def _module_name(package: str, root: Path, path: Path) -> str:
    parts = [package, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def build(packages: dict[str, Path] = PACKAGES) -> Graph:
    modules = {_module_name(name, root, path): path
               for name, root in packages.items() for path in sorted(root.rglob("*.py"))}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        wanted: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                wanted.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[:len(base) - (node.level - 1)]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    origin = node.module or ""
                for alias in node.names:
                    wanted.add(f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin)
        resolved = set()
        for target in wanted:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                resolved.add(target)
        edges[name] = resolved
    return Graph(modules, edges)


def summary(graph: Graph) -> str:
    cycles, breaks, inits = graph.cycles(), graph.layer_breaks(), graph.package_init_imports()
    lines = [f"modules: {len(graph.modules)}, imports: {sum(map(len, graph.edges.values()))}, "
             f"cycles: {len(cycles)}, layer breaks: {len(breaks)}, package-init imports: {len(inits)}"]
    lines += [f"cycle: {' <-> '.join(c)}" for c in cycles]
    lines += [f"layer break: {b}" for b in breaks]
    lines += [f"package-init import: {i}" for i in inits]
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(build()))
