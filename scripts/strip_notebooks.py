"""Strip the outputs of Jupyter notebooks before committing them.

Usage::

    python scripts/strip_notebooks.py                 # every notebooks/*.ipynb
    python scripts/strip_notebooks.py a.ipynb b.ipynb
    python scripts/strip_notebooks.py --check         # exit 1 when a notebook has outputs

Removes every code cell's outputs and execution count and the execution timing metadata
Jupyter adds, and writes the notebook back the way Jupyter does (JSON, indent 1, UTF-8,
trailing newline). Only the standard library is used, so it runs in any environment
(``tests/test_notebooks_clean.py`` checks the committed notebooks are stripped).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: cell metadata keys Jupyter and its extensions write while executing
VOLATILE_CELL_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")
#: notebook metadata keys written by widgets or previous runs
VOLATILE_NOTEBOOK_METADATA = ("widgets", "varInspector", "toc")


def dirty_cells(notebook: dict) -> list[int]:
    """Indices of the code cells that hold outputs or an execution count.

    Parameters
    ----------
    notebook : dict
        A notebook as read from its JSON.

    Returns
    -------
    list of int
        Cell positions (0-based) that are not stripped.
    """
    return [
        i
        for i, cell in enumerate(notebook.get("cells", []))
        if cell.get("cell_type") == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]


def strip(notebook: dict) -> dict:
    """Return the notebook without outputs, execution counts or execution metadata.

    Parameters
    ----------
    notebook : dict
        A notebook as read from its JSON (left unchanged).

    Returns
    -------
    dict
        The stripped copy.
    """
    out = json.loads(json.dumps(notebook))
    for cell in out.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        for key in VOLATILE_CELL_METADATA:
            cell.get("metadata", {}).pop(key, None)
    for key in VOLATILE_NOTEBOOK_METADATA:
        out.get("metadata", {}).pop(key, None)
    return out


def dumps(notebook: dict) -> str:
    """Serialise a notebook as Jupyter does: indent 1, UTF-8 text, trailing newline.

    Parameters
    ----------
    notebook : dict
        The notebook.

    Returns
    -------
    str
        Its JSON text.
    """
    return json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Strip (or with ``--check`` only inspect) the notebooks named, or all of notebooks/.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 when done (or, with ``--check``, when every notebook is clean), else 1.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default notebooks/*)")
    parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    status = 0
    for path in paths:
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"{path}: cannot read the notebook ({exc})", file=sys.stderr)
            status = 1
            continue
        dirty = dirty_cells(notebook)
        if args.check:
            if dirty:
                print(f"{path}: outputs in cell(s) {dirty}; run scripts/strip_notebooks.py")
                status = 1
            continue
        text = dumps(strip(notebook))
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
            print(f"stripped {path}")
    return status


if __name__ == "__main__":
    sys.exit(main())
