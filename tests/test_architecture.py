"""The architecture's rules, checked on the source (docs/architecture.md).

- no import cycle between the library's modules, counting imports inside functions;
- the library never imports QGIS or Qt (the plugin is a layer over the public API);
- the plugin imports only ntmgis's public names (no ``ntmgis._x`` private module).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ntmgis"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Every ntmgis module that ``path`` imports, at any level of the file."""
    name = _module_name(path)
    base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets = []
        if isinstance(node, ast.ImportFrom):
            if node.level:
                head = base[: len(base) - (node.level - 1)]
                mod = ".".join(head + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            subs = [f"{mod}.{a.name}" for a in node.names]
            targets = [sub if sub in modules else mod for sub in subs]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target not in (name, "ntmgis"):
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the ntmgis modules it imports (function-level imports included)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {name: _imports(path, set(files)) for name, path in files.items()}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    # pipeline.run imports the block features inside the function
    assert "ntmgis.blocks" in graph["ntmgis.pipeline"]
    assert "ntmgis.pipeline" in graph["ntmgis.distributed"]


def test_no_import_cycle_in_the_library():
    assert find_cycles(import_graph()) == []


def test_the_core_never_imports_the_dask_adapter():
    graph = import_graph()
    users = sorted(m for m, deps in graph.items() if "ntmgis.distributed" in deps)
    # only the dispatch of operations.run_config (what the CLI and the plugin call)
    assert users == ["ntmgis.operations"], users


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_the_library_never_imports_qgis_or_qt(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        for name in names:
            assert name.split(".")[0] not in ("qgis", "PyQt5", "PyQt6", "PySide2", "PySide6"), (
                f"{path.relative_to(ROOT)} imports {name}"
            )


def test_the_plugin_uses_only_the_public_api():
    plugin = ROOT / "qgis_plugin" / "ntmgis_qgis"
    bad = []
    for path in plugin.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and not node.level and node.module:
                mod = node.module
            elif isinstance(node, ast.Import):
                mod = node.names[0].name
            else:
                continue
            parts = mod.split(".")
            if parts[0] == "ntmgis" and any(p.startswith("_") for p in parts[1:]):
                bad.append(f"{path.relative_to(ROOT)}: {mod}")
    assert bad == []


def test_progress_stages_are_logged(caplog):
    import logging

    from ntmgis._progress import report

    with caplog.at_level(logging.DEBUG, logger="ntmgis"):
        report(None, 0.25, "hamlet maps")
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        ("ntmgis.progress", " 25% hamlet maps")
    ]


def test_library_errors_are_ntmgis_errors_and_builtins():
    import ntmgis
    from ntmgis.stack import RasterStack

    with pytest.raises(ntmgis.InputError) as info:
        RasterStack(__import__("numpy").zeros((2, 3, 3)), None, None, ["a"])
    assert isinstance(info.value, ValueError) and "2 layers but 1 names" in str(info.value)
    with pytest.raises(ntmgis.SchemaError) as info:
        ntmgis.get_theme("flag")["khong_co"]
    assert isinstance(info.value, KeyError)
