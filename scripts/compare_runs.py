"""Compare two output folders of ``ntmgis run`` (e.g. before and after a refactoring).

Usage::

    python scripts/compare_runs.py OUT_A OUT_B [--tolerance 1e-9]

Compares, for every file of OUT_A (recursively): GeoPackage layers (columns, values and
geometries; ``run_metadata`` without its time and version rows), workbooks cell by cell
(openpyxl values), CSV files (text), PDF text (``pdftotext``, dates of the run left out).
Prints one line per file and exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

_VOLATILE_META = {"started_utc", "config", "parcels", "survey", "imagery", "run_id"}
_PATH = re.compile(r"(?:/[^\s/'\"()]+)+/")  # absolute folders (inputs live elsewhere)
_DATE = re.compile(r"\b\d{1,2}/\d{1,2}/\d{4}\b|\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?\S*")


def _frames_equal(a, b, tol: float) -> str | None:
    import numpy as np
    import pandas as pd

    if list(a.columns) != list(b.columns):
        return f"columns differ: {sorted(set(a.columns) ^ set(b.columns))}"
    if len(a) != len(b):
        return f"{len(a)} rows against {len(b)}"
    for col in a.columns:
        x, y = a[col], b[col]
        if col == "geometry":
            if not all(
                (g is None and h is None) or (g is not None and h is not None and g.equals(h))
                for g, h in zip(x, y)
            ):
                return "geometries differ"
            continue
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            xv, yv = x.to_numpy(float), y.to_numpy(float)
            if not np.allclose(xv, yv, rtol=tol, atol=tol, equal_nan=True):
                bad = int((~np.isclose(xv, yv, rtol=tol, atol=tol, equal_nan=True)).sum())
                return f"column {col}: {bad} values differ"
        else:

            def text(v):
                return "<none>" if v is None or v != v else _PATH.sub("<dir>/", str(v))

            xs, ys = x.astype(object).map(text), y.astype(object).map(text)
            diff = (xs != ys).to_numpy()
            if diff.any():
                i = int(diff.argmax())
                example = f"{xs.iloc[i]!r} / {ys.iloc[i]!r}"
                return f"column {col}: {int(diff.sum())} values differ, e.g. {example}"
    return None


def compare_gpkg(a: Path, b: Path, tol: float) -> list[str]:
    """Differences between two GeoPackages, layer by layer."""
    import pyogrio

    problems = []
    la = [n for n, _ in pyogrio.list_layers(a)]
    lb = [n for n, _ in pyogrio.list_layers(b)]
    if la != lb:
        problems.append(f"layers {la} against {lb}")
    for layer in la:
        if layer not in lb or layer == "layer_styles":
            continue
        fa = pyogrio.read_dataframe(a, layer=layer)
        fb = pyogrio.read_dataframe(b, layer=layer)
        if layer == "run_metadata":

            def keep(f):
                return f[~f["key"].isin(_VOLATILE_META) & ~f["key"].str.startswith("version_")]

            fa, fb = keep(fa).reset_index(drop=True), keep(fb).reset_index(drop=True)
        why = _frames_equal(fa, fb, tol)
        if why:
            problems.append(f"layer {layer}: {why}")
    return problems


def compare_xlsx(a: Path, b: Path) -> list[str]:
    """Differences between two workbooks, cell values sheet by sheet."""
    import openpyxl

    wa, wb = openpyxl.load_workbook(a), openpyxl.load_workbook(b)
    if wa.sheetnames != wb.sheetnames:
        return [f"sheets {wa.sheetnames} against {wb.sheetnames}"]
    problems = []
    for name in wa.sheetnames:
        va = [[c for c in row] for row in wa[name].iter_rows(values_only=True)]
        vb = [[c for c in row] for row in wb[name].iter_rows(values_only=True)]

        def clean(rows):
            return [[_DATE.sub("<date>", c) if isinstance(c, str) else c for c in r] for r in rows]

        if clean(va) != clean(vb):
            problems.append(f"sheet {name} differs")
    return problems


def compare_text(a: Path, b: Path) -> list[str]:
    """Differences between two text files, dates left out."""
    ta = _DATE.sub("<date>", a.read_text(encoding="utf-8-sig"))
    tb = _DATE.sub("<date>", b.read_text(encoding="utf-8-sig"))
    return [] if ta == tb else ["text differs"]


def compare_pdf(a: Path, b: Path) -> list[str]:
    """Differences between the text of two PDFs, dates left out."""

    def text(p):
        out = subprocess.run(["pdftotext", "-layout", str(p), "-"], capture_output=True, check=True)
        return _DATE.sub("<date>", out.stdout.decode("utf-8", "replace"))

    return [] if text(a) == text(b) else ["PDF text differs"]


def main(argv=None) -> int:
    """Compare the folders; 0 when everything is the same."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("--tolerance", type=float, default=1e-9)
    args = parser.parse_args(argv)
    failed = False
    for fa in sorted(p for p in args.a.rglob("*") if p.is_file()):
        rel = fa.relative_to(args.a)
        fb = args.b / rel
        if not fb.exists():
            print(f"MISSING  {rel}")
            failed = True
            continue
        kind = fa.suffix.lower()
        if kind == ".gpkg":
            problems = compare_gpkg(fa, fb, args.tolerance)
        elif kind == ".xlsx":
            problems = compare_xlsx(fa, fb)
        elif kind in (".csv", ".txt"):
            problems = compare_text(fa, fb)
        elif kind == ".pdf":
            problems = compare_pdf(fa, fb)
        else:
            continue
        failed |= bool(problems)
        print(("DIFFERS  " if problems else "same     ") + str(rel), "; ".join(problems))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
