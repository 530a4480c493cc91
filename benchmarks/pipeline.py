"""One commune end to end, stage by stage, against the read floor measured in the same run.

    python benchmarks/pipeline.py                      # the sample commune + a generated one
    python benchmarks/pipeline.py --quick              # the sample commune only
    python benchmarks/pipeline.py --cases generated --parcels 2000 --dates 24 --seed 7
    python benchmarks/pipeline.py --reference-rev main # also run main's code and compare
    python benchmarks/pipeline.py --update-reference   # store this run's fingerprints
    python benchmarks/pipeline.py --code-rev 39b6590   # time an older revision's code

Cases:

* ``sample``: the sample commune of ``layers/`` (1,600 parcels, 16 dates, calibrated);
* ``generated``: ``ntmgis sample DIR --seed N --parcels P --dates D --no-followup``
  (default 2,000 parcels x 24 dates), written once under ``--workdir``.

Each case runs in a fresh interpreter (its peak memory is its own): the library and its
heavy dependencies are imported first (the import time is printed apart), then
``ntmgis.pipeline.run`` runs the whole chain on the commune's config (maps and report
on). Every library function that makes a stage is wrapped with a timer and the time of
each stage is its own (exclusive: nested stages are subtracted):

=============  ==================================================================
stage          functions
=============  ==================================================================
parcels        ``ntmgis.parcels.read_parcels``
survey         ``ntmgis.survey.join_survey``
imagery read   ``ntmgis.imagery.read_stacks`` (windows, reflectance, masks, indices)
coverage       ``ntmgis.zonal._coverage`` (exact pixel coverage, once per grid)
statistics     ``ntmgis.zonal._compute_stats`` (every layer through the coverage)
features       ``ntmgis.features.parcel_time_series`` + ``parcel_features``
calibration    ``ntmgis.flags.calibrate`` (random forest, cross-validated)
flags          ``ntmgis.flags.flag_parcels`` + ``survey_agreement`` (rules, reasons)
progress       ``ntmgis.progress.hamlet_progress``
report         ``ntmgis.report.write_report`` (XLSX, its PDF, CSVs)
maps           ``ntmgis.maps.render_maps`` (the PDF)
GeoPackage     ``ntmgis._io.write_gpkg`` (styles embedded; older: ``write_gpkg_atomic``)
other          the rest of ``run`` (config, joins of tables, hamlet counts)
=============  ==================================================================

The floor: during the run every ``rasterio`` read is recorded (file, bands, window);
after it, each distinct window of each file is read once more with rasterio, nothing
else (page cache warm for both). Every stage is printed as a multiple of that floor.
Peak memory is the process's ``ru_maxrss`` after each stage (interpreter and imports
included).

Results: the run's outputs are fingerprinted (every GeoPackage layer column by column:
exact hashes of text and geometry, sums and seeded weighted sums of numbers compared
within 1e-9 relative; the report's CSVs; the PDF's page count, each page's text and a
16 x 16 grid of its grey levels at 20 dpi when poppler is installed, for the maps and
the report's PDF alike; the report's workbook, every sheet's cells: coordinate, value
and number format, hashed) and compared with
the reference: the fingerprints stored in ``benchmarks/reference/pipeline_<case>.json``
(made by ``--update-reference``), or with ``--reference-rev REV`` the same case run by
the code of git revision REV (``git archive`` into the work folder). Volatile entries
(start time, versions, absolute paths, the date line of the maps and of the report's
form, today's date ``dd/mm/yyyy`` in a report cell) are left out. The
script exits with status 1 when any output differs, and says what.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
REFERENCE_DIR = HERE / "reference"

STAGES = {
    "parcels": ["ntmgis.parcels:read_parcels"],
    "survey": ["ntmgis.survey:join_survey"],
    "imagery read": ["ntmgis.imagery:read_stacks"],
    "coverage": ["ntmgis.zonal:_coverage"],
    "statistics": ["ntmgis.zonal:_compute_stats"],
    "features": ["ntmgis.features:parcel_time_series", "ntmgis.features:parcel_features"],
    "calibration": ["ntmgis.flags:calibrate"],
    "flags": ["ntmgis.flags:flag_parcels", "ntmgis.flags:survey_agreement"],
    "progress": ["ntmgis.progress:hamlet_progress"],
    "report": ["ntmgis.report:write_report"],
    "maps": ["ntmgis.maps:render_maps"],
    "GeoPackage": ["ntmgis._io:write_gpkg", "ntmgis.pipeline:write_gpkg_atomic"],
}
VOLATILE_META = re.compile(
    r"^(started_utc|finished_utc|run_id|python|ntmgis_version|version_.*|config|parcels|survey"
    r"|imagery|targets|rules|codebook|baseline|out_dir|.*_seconds|.*_path)$"
)
RTOL = 1e-9


# --------------------------------------------------------------------------------------
# the child: one instrumented run
# --------------------------------------------------------------------------------------


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class _Timers:
    """Exclusive wall time of the wrapped functions, grouped by stage."""

    def __init__(self):
        self.seconds = {name: 0.0 for name in STAGES}
        self.cpu = {name: 0.0 for name in STAGES}
        self.calls = {name: 0 for name in STAGES}
        self.peak = {}
        self._stack = []  # [stage, started, nested seconds]
        self.missing = []

    def wrap(self, stage, func):
        import functools

        @functools.wraps(func)
        def timed(*args, **kwargs):
            self._stack.append([stage, time.perf_counter(), 0.0, time.process_time(), 0.0])
            try:
                return func(*args, **kwargs)
            finally:
                _, started, nested, cpu_started, cpu_nested = self._stack.pop()
                elapsed = time.perf_counter() - started
                cpu = time.process_time() - cpu_started
                self.seconds[stage] += elapsed - nested
                self.cpu[stage] += cpu - cpu_nested
                self.calls[stage] += 1
                if self._stack:
                    self._stack[-1][2] += elapsed
                    self._stack[-1][4] += cpu
                self.peak[stage] = _peak_mb()

        timed.__wrapped_by_benchmark__ = True
        return timed

    def install(self):
        """Replace each stage function wherever an ntmgis module holds it."""
        import importlib

        for stage, targets in STAGES.items():
            found = False
            for target in targets:
                module_name, name = target.split(":")
                try:
                    module = importlib.import_module(module_name)
                    original = getattr(module, name)
                except (ImportError, AttributeError):
                    continue
                found = True
                if getattr(original, "__wrapped_by_benchmark__", False):
                    continue  # the same function under another name (an alias)
                wrapped = self.wrap(stage, original)
                for mod in list(sys.modules.values()):
                    if getattr(mod, "__name__", "").startswith("ntmgis"):
                        for attr, value in list(vars(mod).items()):
                            if value is original:
                                setattr(mod, attr, wrapped)
            if not found:
                self.missing.append(" or ".join(targets))


def _record_reads():
    """Record every rasterio read of the run: (file, bands, window)."""
    import rasterio.io

    reads = []
    original = rasterio.io.DatasetReader.read

    def read(self, indexes=None, *args, **kwargs):
        window = kwargs.get("window")
        if window is None and args:
            window = args[1] if len(args) > 1 else None
        if window is not None and not hasattr(window, "col_off"):
            from rasterio.windows import Window

            window = Window.from_slices(*window) if len(window) == 2 else None
        key = (
            self.name,
            json.dumps(indexes if not hasattr(indexes, "tolist") else indexes.tolist()),
            None
            if window is None
            else (int(window.col_off), int(window.row_off), int(window.width), int(window.height)),
        )
        reads.append(key)
        return original(self, indexes, *args, **kwargs)

    rasterio.io.DatasetReader.read = read
    return reads, original


def _floor(reads) -> dict:
    """Read each distinct recorded window of each file once, with rasterio only."""
    import rasterio
    from rasterio.windows import Window

    by_file: dict[str, set] = {}
    for name, indexes, window in reads:
        by_file.setdefault(name, set()).add((indexes, window))
    pixels = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    for name, todo in by_file.items():
        with rasterio.open(name) as ds:
            for indexes, window in sorted(todo, key=str):
                idx = json.loads(indexes)
                win = None if window is None else Window(*window)
                data = ds.read(idx, window=win)
                pixels += data.size
    return {
        "seconds": time.perf_counter() - started,
        "cpu": time.process_time() - cpu_started,
        "files": len(by_file),
        "windows": sum(len(v) for v in by_file.values()),
        "pixels": pixels,
    }


def _imports() -> float:
    started = time.perf_counter()
    import geopandas  # noqa: F401
    import lightgbm  # noqa: F401 - the calibration's learner
    import matplotlib  # noqa: F401
    import matplotlib.backends.backend_pdf  # noqa: F401
    import openpyxl  # noqa: F401
    import pyogrio  # noqa: F401
    import rasterio  # noqa: F401
    import reportlab.pdfgen.canvas  # noqa: F401 - the report's PDF
    import reportlab.platypus  # noqa: F401
    import scipy.sparse  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sklearn.model_selection  # noqa: F401

    import ntmgis  # noqa: F401
    import ntmgis.features  # noqa: F401
    import ntmgis.flags  # noqa: F401
    import ntmgis.imagery  # noqa: F401
    import ntmgis.maps  # noqa: F401
    import ntmgis.pipeline  # noqa: F401
    import ntmgis.progress  # noqa: F401
    import ntmgis.report  # noqa: F401
    import ntmgis.styles  # noqa: F401
    import ntmgis.zonal  # noqa: F401

    return time.perf_counter() - started


def child(config: Path, out_dir: Path, fingerprint_only: bool) -> dict:
    """One instrumented run of ``ntmgis.pipeline.run`` (or only its fingerprints)."""
    import warnings

    warnings.simplefilter("ignore")
    imports = _imports()
    from ntmgis.config import load_config
    from ntmgis.pipeline import run

    cfg = load_config(config)
    cfg.out_dir = out_dir
    cfg.maps = True
    cfg.report = True
    if out_dir.exists():
        shutil.rmtree(out_dir)
    timers = None if fingerprint_only else _Timers()
    reads = []
    if timers is not None:
        timers.install()
        reads, _ = _record_reads()
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run(cfg)
    total, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = _peak_mb()
    import ntmgis

    out = {"fingerprint": fingerprint(out_dir, config.parent), "parcels": len(result.parcels),
           "code": str(Path(ntmgis.__file__).parent.parent)}  # fmt: skip
    if timers is None:
        return out
    dates = result.metadata.get("imagery_dates", "")
    out.update(
        imports=imports,
        total=total,
        total_cpu=cpu,
        peak_mb=peak,
        stages=timers.seconds,
        stages_cpu=timers.cpu,
        calls=timers.calls,
        stage_peak_mb=timers.peak,
        missing=timers.missing,
        dates=len([d for d in str(dates).split(",") if d]),
        pages=out["fingerprint"].get("maps", {}).get("pages"),
        floor=_floor(reads),
        flag_mode=result.metadata.get("flag_mode"),
        load=os.getloadavg()[0],
    )
    return out


# --------------------------------------------------------------------------------------
# fingerprints of the outputs
# --------------------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


#: The commune's folder in text cells (a message naming an input file) is written
#: ``<config>``: the fingerprints do not depend on where the repository or workdir is.
_PLACEHOLDERS: list[tuple[str, str]] = []


def _column_print(values) -> dict:
    import numpy as np
    import pandas as pd

    series = pd.Series(values)
    if pd.api.types.is_bool_dtype(series):
        series = series.astype(int)
    if pd.api.types.is_numeric_dtype(series):
        x = series.to_numpy(dtype=float)
        finite = np.isfinite(x)
        w = np.random.default_rng(len(x)).uniform(0.5, 1.5, len(x))
        xf = np.where(finite, x, 0.0)
        return {
            "kind": "number",
            "n": len(x),
            "nan": int((~finite).sum()),
            "sum": float(xf.sum()),
            "abs": float(np.abs(xf).sum()),
            "wsum": float((w * xf).sum()),
            "wsq": float((w * xf * xf).sum()),
        }
    text = "\x1f".join("\x00" if v is None or v != v else str(v) for v in series.tolist())
    for path, placeholder in _PLACEHOLDERS:
        text = text.replace(path, placeholder)
    return {"kind": "text", "n": len(series), "sha": _sha(text.encode("utf-8"))}


def _layer_print(path: Path, layer: str) -> dict:
    import pyogrio
    import shapely

    frame = pyogrio.read_dataframe(path, layer=layer)
    cols = {}
    for col in frame.columns:
        if col == "geometry":
            wkb = shapely.to_wkb(frame.geometry.values, output_dimension=2)
            cols[col] = {"kind": "geometry", "n": len(wkb), "sha": _sha(b"|".join(
                b"" if g is None else g for g in wkb))}  # fmt: skip
        else:
            cols[col] = _column_print(frame[col])
    if layer == "run_metadata" and {"key", "value"} <= set(frame.columns):
        keep = [not VOLATILE_META.match(str(k)) for k in frame["key"]]
        meta = frame[keep]
        cols = {f"meta:{k}": {"kind": "text", "n": 1, "sha": _sha(str(v).encode())}
                for k, v in zip(meta["key"], meta["value"])}  # fmt: skip
    return {"rows": len(frame), "columns": cols}


def _pdf_pages(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def _normalise_page(text: str) -> str:
    text = re.sub(r"ngày \d+ tháng \d+ năm \d+", "ngày _ tháng _ năm _", text)
    text = re.sub(r"ntmgis \S+", "ntmgis _", text)
    for volatile, placeholder in _PLACEHOLDERS:
        text = text.replace(volatile, placeholder)
    return text


def _workbook_print(path: Path) -> dict:
    """Every sheet's cells (coordinate, value, number format) hashed, one entry a sheet.

    The form's date line, today's date and the commune's folder normalised like the
    PDFs' text.
    """
    import openpyxl

    book = openpyxl.load_workbook(path)
    sheets = {}
    for sheet in book.worksheets:
        cells = []
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                value = cell.value if not isinstance(cell.value, str) else _normalise_page(
                    cell.value)  # fmt: skip
                cells.append(f"{cell.coordinate}\x1f{type(value).__name__}\x1f{value!r}"
                             f"\x1f{cell.number_format}")  # fmt: skip
        sheets[sheet.title] = {"kind": "text", "n": len(cells),
                               "sha": _sha("\x1e".join(cells).encode("utf-8"))}  # fmt: skip
    return {"rows": len(sheets), "columns": sheets}


def _maps_print(pdf: Path) -> dict:
    """A PDF's pages, each page's text hashed, a 16 x 16 grid of its grey levels."""
    import numpy as np

    out = {"pages": _pdf_pages(pdf)}
    if shutil.which("pdftotext") and shutil.which("pdftoppm"):
        texts = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                               capture_output=True).stdout.decode().split("\f")  # fmt: skip
        out["text"] = [_sha(_normalise_page(t).encode()) for t in texts[: out["pages"]]]
        grids = []
        tmp = pdf.parent / ".fingerprint_pages"
        tmp.mkdir(exist_ok=True)
        subprocess.run(["pdftoppm", "-r", "20", "-gray", str(pdf), str(tmp / "p")], check=True)
        for page in sorted(tmp.glob("p-*.pgm")):
            grey = _read_pgm(page)
            h, w = grey.shape
            rows, cols = np.array_split(np.arange(h), 16), np.array_split(np.arange(w), 16)
            grids.append([[round(float(grey[np.ix_(r, c)].mean()), 2) for c in cols]
                          for r in rows])  # fmt: skip
        shutil.rmtree(tmp)
        out["grey"] = grids
    return out


def _read_pgm(path: Path):
    import numpy as np

    data = path.read_bytes()
    parts = data.split(maxsplit=4)  # P5 width height maxval data
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][-w * h :], dtype=np.uint8).reshape(h, w).astype(float)


def fingerprint(out_dir: Path, config_dir: Path | None = None) -> dict:
    """Fingerprints of a run's outputs: GeoPackage layers, report CSVs, maps.

    ``config_dir`` (the commune's folder) is written ``<config>`` in text cells.
    """
    import pyogrio

    _PLACEHOLDERS[:] = [] if config_dir is None else [(str(config_dir), "<config>")]
    # the report's date ("Ngày lập báo cáo", the form's date line): today's, volatile
    _PLACEHOLDERS.append((time.strftime("%d/%m/%Y"), "<today>"))

    out: dict = {}
    for gpkg in sorted(out_dir.glob("*.gpkg")):
        layers = [name for name, _ in pyogrio.list_layers(gpkg)]
        for layer in layers:
            if layer in ("layer_styles",):
                continue
            out[f"gpkg:{layer}"] = _layer_print(gpkg, layer)
    for csv in sorted(out_dir.glob("*.csv")):
        import pandas as pd

        frame = pd.read_csv(csv, dtype=str, keep_default_na=False)
        out[f"csv:{csv.name}"] = {
            "rows": len(frame),
            "columns": {c: _column_print(frame[c]) for c in frame.columns},
        }
    for book in sorted(out_dir.glob("*.xlsx")):
        out[f"xlsx:{book.name}"] = _workbook_print(book)
    for pdf in sorted(out_dir.glob("*.pdf")):  # the maps (ban_do_*) and the report's PDF
        out["maps" if pdf.name.startswith("ban_do") else f"pdf:{pdf.name}"] = _maps_print(pdf)
    return out


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= RTOL * max(abs(a), abs(b), 1.0)


def compare(run: dict, ref: dict) -> list[str]:
    """What differs between two fingerprints (empty: the outputs agree)."""
    problems = []
    for key in sorted(set(run) | set(ref)):
        if key not in run or key not in ref:
            problems.append(f"{key}: only in the {'reference' if key in ref else 'run'}")
            continue
        a, b = run[key], ref[key]
        if key == "maps" or key.startswith("pdf:"):
            if a["pages"] != b["pages"]:
                problems.append(f"{key}: {a['pages']} pages, reference {b['pages']}")
                continue
            if "text" in a and "text" in b:
                bad = [i + 1 for i, (x, y) in enumerate(zip(a["text"], b["text"])) if x != y]
                if bad:
                    problems.append(f"{key}: the text of page(s) {bad[:20]} differs")
            if "grey" in a and "grey" in b:
                import numpy as np

                for i, (x, y) in enumerate(zip(a["grey"], b["grey"])):
                    diff = float(np.max(np.abs(np.subtract(x, y))))
                    if diff > 4.0:  # grey levels of a 16 x 16 grid cell, 0-255
                        problems.append(f"{key}: page {i + 1} looks different (grey {diff:.1f})")
            continue
        if a["rows"] != b["rows"]:
            problems.append(f"{key}: {a['rows']} rows, reference {b['rows']}")
        for col in sorted(set(a["columns"]) | set(b["columns"])):
            x, y = a["columns"].get(col), b["columns"].get(col)
            if x is None or y is None:
                problems.append(f"{key}.{col}: only in the {'reference' if x is None else 'run'}")
            elif x["kind"] != y["kind"]:
                problems.append(f"{key}.{col}: {x['kind']}, reference {y['kind']}")
            elif x["kind"] == "number":
                if x["nan"] != y["nan"] or not all(
                    _close(x[s], y[s]) for s in ("sum", "abs", "wsum", "wsq")
                ):
                    problems.append(f"{key}.{col}: values differ (sums {x['sum']!r}, "
                                    f"reference {y['sum']!r})")  # fmt: skip
            elif x["sha"] != y["sha"]:
                problems.append(f"{key}.{col}: values differ")
    return problems


# --------------------------------------------------------------------------------------
# the parent: cases, reference, table
# --------------------------------------------------------------------------------------


def _case_config(case: str, args) -> Path:
    if case == "sample":
        return REPO / "layers" / "thanh_binh.toml"
    folder = args.workdir / f"xa_{args.seed}_{args.parcels}x{args.dates}"
    marker = folder / ".benchmark_sample"
    stamp = f"{args.seed} {args.parcels} {args.dates}"
    if not (marker.is_file() and marker.read_text() == stamp):
        if folder.exists():
            shutil.rmtree(folder)
        cmd = [sys.executable, "-c", "from ntmgis.cli import main; main()", "sample", str(folder),
               "--seed", str(args.seed), "--parcels", str(args.parcels), "--dates",
               str(args.dates), "--no-followup"]  # fmt: skip
        print(f"  writing the generated commune to {folder} ...", flush=True)
        subprocess.run(cmd, check=True, env=_env(REPO), capture_output=True)
        marker.write_text(stamp)
    return folder / "thanh_binh.toml"


def _env(code: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(code) + (os.pathsep + env["PYTHONPATH"] if "PYTHONPATH" in env else "")
    return env


def _run_child(code: Path, config: Path, out_dir: Path, fingerprint_only=False) -> dict:
    cmd = [sys.executable, str(HERE / "pipeline.py"), "--child", str(config), "--out",
           str(out_dir)] + (["--fingerprint-only"] if fingerprint_only else [])  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, env=_env(code))
    if done.returncode != 0:
        raise SystemExit(f"The run of {config} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _reference_code(rev: str, workdir: Path) -> Path:
    sha = subprocess.run(["git", "-C", str(REPO), "rev-parse", rev], check=True,
                         capture_output=True, text=True).stdout.strip()  # fmt: skip
    target = workdir / f"code_{sha[:12]}"
    if not (target / "ntmgis").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", sha], check=True,
                                 capture_output=True).stdout  # fmt: skip
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def _row(name, seconds, cpu, floor, floor_cpu, peak=None, calls=None):
    peak_s = f"{peak:,.0f}" if peak is not None else ""
    calls_s = "" if calls is None else str(calls)
    return (f"| {name} | {seconds:.3f} | {seconds / floor:.1f} | {cpu:.3f} | "
            f"{cpu / floor_cpu:.1f} | {peak_s} | {calls_s} |")  # fmt: skip


def table(case: str, res: dict) -> str:
    """The stage table of one case (markdown), times as multiples of the floor."""
    fl = res["floor"]
    floor = fl["seconds"]
    lines = [
        f"**{case}**: {res['parcels']:,} parcels x {res['dates']} dates, flags "
        f"{res['flag_mode']}, {res['pages']} map pages; floor {floor:.3f} s wall, "
        f"{fl['cpu']:.3f} s CPU ({fl['windows']} windows of {fl['files']} files, "
        f"{fl['pixels'] / 1e6:.1f} Mpx); imports {res['imports']:.1f} s (not counted); "
        f"load average {res.get('load', float('nan')):.1f}",
        "",
        "| stage | wall s | x floor | CPU s | x floor CPU | peak MB after | calls |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    counted = counted_cpu = 0.0
    for name, seconds in res["stages"].items():
        counted += seconds
        counted_cpu += res["stages_cpu"][name]
        lines.append(_row(name, seconds, res["stages_cpu"][name], floor, fl["cpu"],
                          res["stage_peak_mb"].get(name), res["calls"][name]))  # fmt: skip
    lines.append(_row("other", res["total"] - counted, res["total_cpu"] - counted_cpu, floor,
                      fl["cpu"]))  # fmt: skip
    lines.append(_row("**end to end**", res["total"], res["total_cpu"], floor, fl["cpu"],
                      res["peak_mb"]))  # fmt: skip
    if res["pages"]:
        maps_s, maps_cpu = res["stages"]["maps"], res["stages_cpu"]["maps"]
        lines += ["", f"maps: {maps_s / res['pages']:.3f} s a page ({maps_cpu / res['pages']:.3f}"
                      f" s CPU)"]  # fmt: skip
    if res["missing"]:
        lines.append(f"(not found, not timed: {', '.join(res['missing'])})")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="sample,generated")
    parser.add_argument("--quick", action="store_true", help="the sample commune only")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--parcels", type=int, default=2000)
    parser.add_argument("--dates", type=int, default=24)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/ntmgis_bench_pipeline"))
    parser.add_argument("--reference-rev", help="compare with the outputs of this git revision")
    parser.add_argument("--code-rev", help="time the code of this git revision instead")
    parser.add_argument("--update-reference", action="store_true",
                        help="store this run's fingerprints as the reference")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the measures here")
    parser.add_argument("--table", type=Path, help="print the tables of a --json file")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--fingerprint-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.out, args.fingerprint_only)))
        return 0
    if args.table:
        for case, res in json.loads(args.table.read_text()).items():
            print(table(case, res) + "\n")
        return 0
    cases = ["sample"] if args.quick else [c.strip() for c in args.cases.split(",") if c.strip()]
    args.workdir.mkdir(parents=True, exist_ok=True)
    ref_code = _reference_code(args.reference_rev, args.workdir) if args.reference_rev else None
    code = _reference_code(args.code_rev, args.workdir) if args.code_rev else REPO
    failed = False
    measures = {}
    for case in cases:
        config = _case_config(case, args)
        print(f"{case}: running {config} ...", flush=True)
        res = _run_child(code, config, args.workdir / f"out_{case}")
        measures[case] = res
        print(table(case, res), flush=True)
        name = case if case == "sample" else f"{case}_{args.seed}_{args.parcels}x{args.dates}"
        stored = REFERENCE_DIR / f"pipeline_{name}.json"
        if ref_code is not None:
            print(f"  reference: the same case with the code of {args.reference_rev} ...")
            ref = _run_child(ref_code, config, args.workdir / f"out_{case}_reference", True)
            ref = ref["fingerprint"]
            source = f"git revision {args.reference_rev}"
            if args.update_reference:
                REFERENCE_DIR.mkdir(exist_ok=True)
                stored.write_text(json.dumps(ref, indent=0, ensure_ascii=False) + "\n")
                print(f"  reference of {args.reference_rev} stored in {stored}")
        elif args.update_reference:
            REFERENCE_DIR.mkdir(exist_ok=True)
            stored.write_text(json.dumps(res["fingerprint"], indent=0, ensure_ascii=False) + "\n")
            print(f"  reference stored in {stored}")
            continue
        elif stored.is_file():
            ref, source = json.loads(stored.read_text()), str(stored.relative_to(REPO))
        else:
            print(f"  no reference for {case} (give --reference-rev or --update-reference)")
            continue
        problems = compare(res["fingerprint"], ref)
        if problems:
            failed = True
            print(f"  OUTPUTS DIFFER from {source}:")
            for p in problems[:40]:
                print(f"    {p}")
        else:
            n = sum(len(v.get("columns", {})) for v in ref.values() if isinstance(v, dict))
            print(f"  outputs equal to {source} ({len(ref)} outputs, {n} columns, maps "
                  f"{ref.get('maps', {}).get('pages')} pages)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(measures, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
