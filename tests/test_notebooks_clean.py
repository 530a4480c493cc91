"""The analysts' notebooks are committed without outputs, and stay what the generator writes.

Executing them is ``make test-notebooks`` (``pytest --nbmake notebooks``); this file only
reads JSON, so it runs in the library suite without Jupyter installed.
"""

import importlib.util
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXPECTED = [
    "01_quickstart.ipynb",
    "02_garden_time_series.ipynb",
    "03_calibrating_flags.ipynb",
    "04_hamlet_progress_and_maps.ipynb",
]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


strip_tool = _load(ROOT / "scripts" / "strip_notebooks.py")
generator = _load(ROOT / "notebooks" / "make_notebooks.py")


def test_the_four_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert code, "a notebook without code cells"
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [], f"{path.name}: cell {i} has outputs"
            assert cell["execution_count"] is None, f"{path.name}: cell {i} was executed"
        assert "execution" not in cell.get("metadata", {}), f"{path.name}: cell {i} timings"
    assert strip_tool.dirty_cells(notebook) == []
    # stripping a clean notebook changes nothing, byte for byte
    assert strip_tool.dumps(strip_tool.strip(notebook)) == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_valid_nbformat_4(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert (notebook["nbformat"], notebook["nbformat_minor"]) == (4, 5)
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"
    ids = [c["id"] for c in notebook["cells"]]
    assert len(set(ids)) == len(ids)
    nbformat = pytest.importorskip("nbformat")  # in the [notebook] extra
    nbformat.validate(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))


def test_committed_notebooks_are_what_the_generator_writes():
    built = generator.build()
    assert sorted(built) == EXPECTED
    for name, text in built.items():
        assert (ROOT / "notebooks" / name).read_text(encoding="utf-8") == text, (
            f"{name} differs from notebooks/make_notebooks.py: run "
            "'python notebooks/make_notebooks.py' (or strip it with scripts/strip_notebooks.py)"
        )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_use_the_public_api_and_relative_layers(path):
    source = "".join(
        "".join(c["source"]) for c in json.loads(path.read_text(encoding="utf-8"))["cells"]
    )
    assert 'LAYERS = Path("../layers")' in source
    assert re.findall(r"\bntmgis\.(_[a-z]\w*)", source) == []  # no private modules
    assert re.findall(r"import (_[a-z]\w*)", source) == []  # nor private names
    assert "/work/" not in source  # no absolute paths


def test_strip_tool_strips_an_executed_notebook(tmp_path):
    executed = {
        "cells": [
            {"cell_type": "markdown", "id": "a", "metadata": {}, "source": ["# Tiêu đề"]},
            {
                "cell_type": "code",
                "id": "b",
                "metadata": {"execution": {"iopub.status.idle": "2026-11-29T20:00:00Z"}},
                "execution_count": 3,
                "outputs": [{"output_type": "stream", "name": "stdout", "text": ["vườn\n"]}],
                "source": ["print('vườn')"],
            },
        ],
        "metadata": {"kernelspec": {"name": "python3"}, "widgets": {"state": {}}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(executed), encoding="utf-8")
    assert strip_tool.dirty_cells(executed) == [1]
    assert strip_tool.main(["--check", str(path)]) == 1
    assert strip_tool.main([str(path)]) == 0
    text = path.read_text(encoding="utf-8")
    stripped = json.loads(text)
    code = stripped["cells"][1]
    assert code["outputs"] == [] and code["execution_count"] is None
    assert code["metadata"] == {} and "widgets" not in stripped["metadata"]
    assert code["source"] == ["print('vườn')"] and "vườn" in text  # UTF-8, not \u escapes
    assert strip_tool.main(["--check", str(path)]) == 0
