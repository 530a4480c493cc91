"""Whole runs under hostile conditions: a far parcel, a "local" VN-2000 file, an
unwritable or busy output folder, and ``kill -9`` in the middle of writing.

Uses the session's small sample commune (300 parcels, 12 dates); maps are switched off
where they are not the point, to keep the suite fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.affinity import translate

import ntmgis
from ntmgis import _io
from ntmgis.errors import OutputError

ROOT = Path(__file__).resolve().parents[1]


def _config(sample, out: Path, name: str, *, parcels: str = "thanh_binh.gpkg", maps=False,
            report=False) -> Path:  # fmt: skip
    text = (sample.root / "thanh_binh.toml").read_text("utf-8")
    text = text.replace('dir = "../out"', f'dir = "{out.as_posix()}"')
    text = text.replace('parcels = "thanh_binh.gpkg"', f'parcels = "{parcels}"')
    text = text.replace("maps = true", f"maps = {str(maps).lower()}")
    text = text.replace("report = true", f"report = {str(report).lower()}")
    path = sample.root / f"{name}.toml"
    path.write_text(text, "utf-8")
    return path


def _run(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ntmgis.run(path)
    return result, [w for w in caught if issubclass(w.category, ntmgis.NtmgisWarning)]


def test_one_far_parcel_gets_thieu_du_lieu_and_the_rest_completes(small_sample, tmp_path):
    parcels = gpd.read_file(small_sample.root / "thanh_binh.gpkg", layer="parcels")
    far = parcels.index[0]
    parcels.loc[far, "geometry"] = translate(parcels.geometry[far], xoff=50_000)
    path = small_sample.root / "far.gpkg"
    parcels.to_file(path, layer="parcels", engine="pyogrio")
    for layer in ("hamlets",):
        gpd.read_file(small_sample.root / "thanh_binh.gpkg", layer=layer).to_file(
            path, layer=layer, engine="pyogrio"
        )
    result, caught = _run(_config(small_sample, tmp_path / "out", "far", parcels="far.gpkg"))
    out = result.parcels
    assert len(out) == len(parcels)  # every parcel reaches the output
    row = out.iloc[far]
    assert row["flag"] == "thieu_du_lieu" or not row["is_garden"]
    assert row["imagery_status"] == "error"
    assert "No scene could be read over the area of interest" in row["partition_error"]
    others = out.drop(index=out.index[far])
    assert (others["imagery_status"] == "ok").mean() > 0.95
    assert set(others.loc[others["is_garden"], "flag"]) - {"thieu_du_lieu"}  # flags decided
    assert (tmp_path / "out" / "thanh_binh.gpkg").exists()


def test_local_vn2000_parcels_are_found_and_moved_back(small_sample, tmp_path):
    parcels = gpd.read_file(small_sample.root / "thanh_binh.gpkg", layer="parcels")
    centre = parcels.to_crs(4326).geometry.union_all().centroid
    ex, ey = ntmgis.crs.local_vn2000_offset(centre.x, centre.y, crs=parcels.crs)
    local = parcels.set_geometry(parcels.geometry.translate(ex, ey))
    path = small_sample.root / "local.gpkg"
    local.to_file(path, layer="parcels", engine="pyogrio")
    gpd.read_file(small_sample.root / "thanh_binh.gpkg", layer="hamlets").to_file(
        path, layer="hamlets", engine="pyogrio"
    )
    moved, meta = ntmgis.crs.align_to_imagery(
        ntmgis.read_parcels(path), small_sample.root / "s2", period="2020-01-01:2020-12-31"
    )
    assert meta["alignment"] == "local_vn2000"
    back = moved.geometry.centroid
    truth = parcels.geometry.centroid
    assert float((back.x - truth.x).abs().max()) < 1.0
    assert float((back.y - truth.y).abs().max()) < 1.0
    assert "local' VN-2000" in moved["parcel_notes"].iloc[0]
    same, meta = ntmgis.crs.align_to_imagery(
        ntmgis.read_parcels(small_sample.root / "thanh_binh.gpkg"), small_sample.root / "s2"
    )
    assert meta["alignment"] == "ok"


def test_a_run_into_an_unwritable_folder_stops_before_any_work(small_sample, tmp_path):
    (tmp_path / "a_file").write_text("x")
    cfg = _config(small_sample, tmp_path / "a_file" / "out", "unwritable")
    started = time.perf_counter()
    with pytest.raises(OutputError, match="a_file"):
        ntmgis.run(cfg)
    assert time.perf_counter() - started < 10  # no imagery was read (a full run takes ~30 s)


def test_a_second_run_into_a_busy_folder_is_refused(small_sample, tmp_path):
    out = tmp_path / "out"
    cfg = _config(small_sample, out, "busy")
    with _io.RunOutputs(out, run_id="someone-else"):
        with pytest.raises(OutputError, match="someone-else"):
            ntmgis.run(cfg)


def _children_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_kill_9_mid_run_leaves_the_previous_consistent_set(small_sample, tmp_path):
    out = tmp_path / "out"
    cfg = _config(small_sample, out, "killed", maps=True, report=True)
    first = ntmgis.run(cfg)
    before = _io.verify_run_folder(out)
    assert before["run_id"] and not before["missing"] and not before["changed"]
    gpkg = out / "thanh_binh.gpkg"
    meta = pd.read_csv(_metadata_csv(gpkg, tmp_path))
    run_id = meta.set_index("key").loc["run_id", "value"]
    assert run_id == before["run_id"]  # the GeoPackage carries its run's id
    assert set(before["files"]) >= {"thanh_binh.gpkg", "bao_cao_tien_do.xlsx"}
    from openpyxl import load_workbook

    book = load_workbook(out / "bao_cao_tien_do.xlsx", read_only=True)
    assert book.properties.identifier == run_id  # so does the workbook
    assert any(name.endswith(".pdf") for name in before["files"])
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == sorted(before["files"])
    assert str(first.outputs["gpkg"]) == str(gpkg)

    # a second run, killed once its GeoPackage is written (report and maps still to come)
    child = subprocess.Popen(
        [sys.executable, "-m", "ntmgis", "run", str(cfg)],
        env=_children_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    staged = None
    while time.monotonic() < deadline and child.poll() is None:
        staged = next(iter(out.glob(f"{_io.STAGING_PREFIX}*/thanh_binh.gpkg")), None)
        if staged is not None:
            break
        time.sleep(0.05)
    assert staged is not None, "the second run ended before its GeoPackage was staged"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    after = _io.verify_run_folder(out)
    assert after == before  # the previous run's files, byte for byte, and nothing else
    visible = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert visible == sorted(before["files"])
    leftovers = [p for p in out.iterdir() if _io.TMP_MARK in p.name]
    assert not leftovers  # temporaries live in the staging folder only
    assert list(out.glob(f"{_io.STAGING_PREFIX}*"))  # the killed run's staging is there...
    removed = _io.clean_run_folder(out)  # ...until the next run (or this) cleans it
    assert removed and not list(out.glob(f"{_io.STAGING_PREFIX}*"))
    assert _io.verify_run_folder(out) == before
    manifest = json.loads((out / _io.MANIFEST_NAME).read_text("utf-8"))
    assert manifest["run_id"] == run_id


def _metadata_csv(gpkg: Path, tmp_path: Path) -> Path:
    import pyogrio

    table = pyogrio.read_dataframe(gpkg, layer="run_metadata")
    path = tmp_path / "meta.csv"
    table.to_csv(path, index=False)
    return path
