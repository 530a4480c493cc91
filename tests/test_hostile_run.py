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
    assert "ImageryError" in row["partition_error"]  # the block's own message (vi or en)
    assert "S2A_48QWE_20200113_0_L2A" in row["partition_error"]
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


# --------------------------------------------------------------------------- a province


def _province(sample, root: Path, communes: dict) -> Path:
    """A province config over ``communes`` (folder -> parcels file of the sample)."""
    for folder, parcels in communes.items():
        text = (sample.root / "thanh_binh.toml").read_text("utf-8")
        text = text.replace('name = "Xã Thanh Bình"', f'name = "Xã {folder}"')
        for key in ("survey", "imagery", "targets", "hamlets"):  # absolute input paths
            text = text.replace(f'{key} = "', f'{key} = "{sample.root.as_posix()}/')
        text = text.replace('parcels = "thanh_binh.gpkg"', f'parcels = "{parcels}"')
        text = text.replace("maps = true", "maps = false").replace(
            "report = true", "report = false"
        )
        (root / folder).mkdir(parents=True, exist_ok=True)
        (root / folder / "xa.toml").write_text(text, "utf-8")
    path = root / "tinh.toml"
    path.write_text('[province]\nname = "Tỉnh thử"\ncommunes = ["xa_*/xa.toml"]\n', "utf-8")
    return path


def _cli(args):
    from click.testing import CliRunner

    from ntmgis.cli import cli
    from ntmgis.i18n import set_language

    try:
        return CliRunner().invoke(cli, ["--lang", "en", *args])
    finally:
        set_language(None)


def test_province_one_bad_commune_errors_the_others_complete(small_sample, tmp_path):
    bad = tmp_path / "hong.gpkg"
    bad.write_bytes(b"SQLite format 3\x00 but cut short")
    good = (small_sample.root / "thanh_binh.gpkg").as_posix()
    prov = _province(small_sample, tmp_path / "tinh", {"xa_a": good, "xa_b": bad.as_posix()})
    out = tmp_path / "out"
    res = _cli(["run", str(prov), "-o", str(out)])
    assert res.exit_code == 1, res.output  # a commune failed: exit 1, after the others ran
    assert "1 complete, 0 with failed blocks, 1 failed" in res.output
    report = pd.read_csv(out / "run_report.csv", encoding="utf-8-sig")
    assert report["commune"].tolist() == ["Xã xa_a", "Xã xa_b"]
    assert report["status"].tolist() == ["ok", "error"]
    assert "hong.gpkg" in report["error"].iloc[1]
    assert report["parcels"].iloc[0] == 300
    # the good commune's set is published whole, under its manifest; the bad one has none
    done = _io.verify_run_folder(out / "xa_a")
    assert done["files"] == ["thanh_binh.gpkg"] and not done["missing"] and not done["changed"]
    assert _io.verify_run_folder(out / "xa_b")["files"] == []
    assert not [p for p in out.rglob("*") if p.name.startswith(_io.STAGING_PREFIX)]
    assert not [p for p in out.rglob("*") if _io.TMP_MARK in p.name]
    layers = gpd.read_file(out / "xa_a" / "thanh_binh.gpkg", layer="parcels")
    gardens = layers["is_garden"].astype(bool)
    assert len(layers) == 300 and layers.loc[gardens, "flag"].notna().all() and gardens.sum() > 100


def test_province_into_an_unwritable_folder_stops_before_any_work(small_sample, tmp_path):
    good = (small_sample.root / "thanh_binh.gpkg").as_posix()
    prov = _province(small_sample, tmp_path / "tinh", {"xa_a": good, "xa_b": good})
    (tmp_path / "a_file").write_text("x")
    started = time.perf_counter()
    with pytest.raises(OutputError, match="a_file"):
        ntmgis.run_config(prov, out=tmp_path / "a_file" / "out")
    assert time.perf_counter() - started < 10  # no commune was read (one takes ~10 s)
    res = _cli(["run", str(prov), "-o", str(tmp_path / "a_file" / "out")])
    assert res.exit_code == 1 and "a_file" in str(res.exception or res.output)


def test_kill_9_mid_province_leaves_every_commune_consistent(small_sample, tmp_path):
    good = (small_sample.root / "thanh_binh.gpkg").as_posix()
    prov = _province(small_sample, tmp_path / "tinh", {"xa_a": good, "xa_b": good})
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-m", "ntmgis", "run", str(prov), "-o", str(out)],
        env=_children_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and child.poll() is None:
        if (out / "xa_a" / _io.MANIFEST_NAME).is_file() and list(
            (out / "xa_b").glob(f"{_io.STAGING_PREFIX}*")
        ):  # the first commune published, the second at work
            break
        time.sleep(0.05)
    assert child.poll() is None, "the province run ended before it could be killed"
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    first = _io.verify_run_folder(out / "xa_a")
    assert first["files"] == ["thanh_binh.gpkg"] and not first["missing"] + first["changed"]
    assert _io.verify_run_folder(out / "xa_b")["files"] == []  # nothing half-published
    assert not (out / "xa_b" / "thanh_binh.gpkg").exists()
    assert not (out / "run_report.csv").exists()  # written once, at the end
    assert not [p for p in out.rglob("*") if _io.TMP_MARK in p.name and p.is_file()
                and _io.STAGING_PREFIX not in str(p)]  # fmt: skip
    # the next run cleans the killed staging folder and completes both
    res = _cli(["run", str(prov), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert not [p for p in out.rglob("*") if p.name.startswith(_io.STAGING_PREFIX)]
    report = pd.read_csv(out / "run_report.csv", encoding="utf-8-sig")
    assert report["status"].tolist() == ["ok", "ok"]
    second = _io.verify_run_folder(out / "xa_a")
    assert second["run_id"] != first["run_id"] and not second["changed"]
