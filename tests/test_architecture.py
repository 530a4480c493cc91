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


# --------------------------------------------------------------------------- issue 14

BUILTIN_RAISES = {"ValueError", "KeyError", "RuntimeError", "TypeError", "IndexError"}

#: (module file, what) -> how many are allowed. Keep it short: every entry is commented.
RAISE_ALLOW = {
    # a programming error (warn() given a category that is not an NtmgisWarning), not input
    ("errors.py", "TypeError"): 1,
    # internal invariants of join_survey (every survey row and every parcel accounted
    # for), not checks of input: a failure is a bug in ntmgis, never the user's file
    ("survey.py", "assert"): 2,
}

#: functions allowed over 120 lines: the named numeric kernels (issue 14, at most four)
KERNELS = {
    ("zonal.py", "_coverage"),
    ("sample.py", "make_sample"),
    ("sample.py", "_campaign"),
    ("sample.py", "_write_scenes"),
}
MAX_LINES = 120


def _library_files():
    return sorted(PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def builtin_raises(path: Path) -> list[tuple[str, int]]:
    """``(what, line)`` of every ``raise <builtin>`` and ``assert`` in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Raise) and node.exc is not None:
            func = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(func, ast.Name) and func.id in BUILTIN_RAISES:
                found.append((func.id, node.lineno))
        elif isinstance(node, ast.Assert):
            found.append(("assert", node.lineno))
    return sorted(found, key=lambda f: f[1])


def long_functions(path: Path, limit: int = MAX_LINES) -> list[tuple[str, int]]:
    """``(name, lines)`` of every function (methods and nested ones too) over ``limit``."""
    return [
        (node.name, node.end_lineno - node.lineno + 1)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > limit
    ]


_IO_CALLS = {
    "open", "read_file", "to_file", "to_csv", "to_excel", "write_text", "read_text",
    "write_bytes", "read_bytes", "write_dataframe", "read_dataframe", "save",
}  # fmt: skip


def io_or_warnings(path: Path) -> bool:
    """Whether a module emits warnings, reads or writes files, or uses the I/O layer."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == "_io":
            return True
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name == "warn" or name in _IO_CALLS:
                return True
    return False


def has_module_logger(path: Path) -> bool:
    """``logger = logging.getLogger(__name__)`` at the top level of the module."""
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["logger"]
            and isinstance(node.value, ast.Call)
            and ast.unparse(node.value) == "logging.getLogger(__name__)"
        ):
            return True
    return False


def test_the_scanners_see_what_they_look_for(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import logging\n"
        "def f(x):\n"
        "    assert x\n"
        "    if x > 1:\n"
        "        raise ValueError('no')\n"
        "    raise KeyError\n"
        "def g():\n" + "    y = 1\n" * 121 + "    open('a').read()\n",
        encoding="utf-8",
    )
    assert builtin_raises(bad) == [("assert", 3), ("ValueError", 5), ("KeyError", 6)]
    assert long_functions(bad) == [("g", 123)]
    assert io_or_warnings(bad) and not has_module_logger(bad)
    good = tmp_path / "good.py"
    good.write_text(
        "import logging\nfrom .errors import InputError\n"
        "logger = logging.getLogger(__name__)\n"
        "def f(x):\n    raise InputError('Row 3: ...')\n",
        encoding="utf-8",
    )
    assert builtin_raises(good) == [] and long_functions(good) == []
    assert has_module_logger(good) and not io_or_warnings(good)


def test_no_bare_builtin_raise_or_assert_in_the_library():
    from collections import Counter

    seen = Counter()
    where = {}
    for path in _library_files():
        for what, line in builtin_raises(path):
            seen[(_rel(path), what)] += 1
            where.setdefault((_rel(path), what), []).append(line)
    extra = {
        f"{f}:{where[(f, w)]} {w}": n - RAISE_ALLOW.get((f, w), 0)
        for (f, w), n in seen.items()
        if n > RAISE_ALLOW.get((f, w), 0)
    }
    assert not extra, (
        "raise an ntmgis.errors subclass with a message naming the file, row or parcel "
        f"and what to do (no bare builtin, no assert for input): {extra}"
    )


def test_at_most_four_long_functions_and_those_are_the_numeric_kernels():
    assert len(KERNELS) <= 4
    long = {(_rel(p), name): n for p in _library_files() for name, n in long_functions(p)}
    offenders = {k: n for k, n in long.items() if k not in KERNELS}
    assert not offenders, f"functions over {MAX_LINES} lines: split them: {offenders}"


@pytest.mark.parametrize(
    "module, functions",
    [("pipeline.py", ("run", "finish", "prepare")), ("config.py", None),
     ("operations.py", None), ("distributed.py", None), ("result.py", None)],
)  # fmt: skip
def test_core_functions_fit_in_a_screen(module, functions):
    long = dict(long_functions(PACKAGE / module))
    names = functions or long
    assert not {n: long[n] for n in names if n in long}


def test_modules_that_do_io_or_warn_have_a_module_logger():
    missing = [_rel(p) for p in _library_files() if io_or_warnings(p) and not has_module_logger(p)]
    assert not missing, "add logger = logging.getLogger(__name__) to: " + ", ".join(missing)


CORE_MODULES = [
    "config.py",
    "_io.py",
    "_expr.py",
    "i18n.py",
    "result.py",
    "crs.py",
    "sample.py",
    "pipeline.py",
    "distributed.py",
    "operations.py",
    "errors.py",
] + [f"cli/{p.name}" for p in sorted((PACKAGE / "cli").glob("*.py")) if p.name != "plan.py"]


@pytest.mark.parametrize("module", CORE_MODULES)
def test_every_core_module_has_a_module_logger(module):
    assert has_module_logger(PACKAGE / module)
