"""Hostile inputs through the public entry points: one test per class of failure.

The corpus is tests/data/hostile/ (written by make_hostile.py, described in its README).
Each test asserts the error class (an NtmgisError that also is the fitting builtin, with a
message naming the file and what to do) or the right result, and that every input parcel
reaches the output with a status.
"""

from __future__ import annotations

import io
import json
import os
import sys
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Polygon, box

import ntmgis
from ntmgis import _io
from ntmgis.errors import (
    ConfigError,
    CRSError,
    DataNotFoundError,
    GeometryError,
    ImageryWarning,
    InputError,
    NtmgisError,
    OutputError,
    ParcelWarning,
)

HOSTILE = Path(__file__).resolve().parent / "data" / "hostile"
sys.path.insert(0, str(HOSTILE))
import make_hostile as corpus  # noqa: E402

OWNERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"]


def _recorded(func, *args, **kwargs):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    return value, [w for w in caught if issubclass(w.category, ntmgis.NtmgisWarning)]


# --------------------------------------------------------------------------------------
# Tables: encodings, sizes, broken files
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["survey_utf16.csv", "survey_utf16be_nobom.csv", "survey_utf16_tab.txt"]
)
def test_utf16_survey_is_read_not_called_binary(name):
    survey = ntmgis.read_survey(HOSTILE / name)
    assert survey["owner"].tolist() == OWNERS
    assert survey["parcel_no"].tolist() == [1, 2, 3, 4]
    assert survey["garden_area_m2"].tolist() == [1250.0, 800.0, 650.0, 900.0]


def test_vni_and_semicolon_surveys_give_the_same_rows():
    vni = ntmgis.read_survey(HOSTILE / "survey_vni.csv")
    semi = ntmgis.read_survey(HOSTILE / "survey_semicolon.csv")
    assert vni["owner"].tolist() == semi["owner"].tolist() == OWNERS
    assert semi["garden_area_m2"].tolist() == [55.5] * 4  # "55,5" under ';' separators
    assert vni["hamlet"].tolist() == ["Xóm 1", "Xóm 1", "Xóm 2", "Xóm 2"]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("survey_huge_cell.csv", ["line 4", "131,072"]),
        ("survey_binary.csv", ["not a text"]),
        ("survey_empty.csv", ["empty"]),
        ("survey_old.xls", [".xls", "save it as .xlsx"]),
        ("survey_truncated.xlsx", ["truncated", "save it again"]),
        ("survey_not_a_workbook.xlsx", ["save it again"]),
    ],
)
def test_broken_tables_are_input_errors_naming_the_file(name, words):
    with pytest.raises(InputError) as caught:
        ntmgis.read_survey(HOSTILE / name)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, NtmgisError)
    message = str(caught.value)
    assert name in message
    for word in words:
        assert word in message


def test_the_targets_reader_shares_the_table_reader(tmp_path):
    # the same UTF-16 / ';' logic reaches hamlet targets
    text = "Thôn;Số vườn hoang hóa đưa vào sử dụng;Tỷ lệ vườn đạt chuẩn (%);Số vườn mẫu\r\n"
    text += "Xóm 1;3;55,5;2\r\nXóm 2;;60;1\r\n"
    path = tmp_path / "targets.csv"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    from ntmgis.progress import read_targets

    targets = read_targets(path)
    rows = targets.set_index("hamlet")
    assert rows.loc["Xóm 1"].tolist()[:3] == [3, 55.5, 2]
    assert pd.isna(rows.loc["Xóm 2"].iloc[0])
    with pytest.raises(InputError, match="line 2"):
        bad = tmp_path / "bad.csv"
        bad.write_bytes(text.encode().split(b"\r\n")[0] + b'\r\n"Xom 1' + b"y" * 140_000)
        read_targets(bad)


# --------------------------------------------------------------------------------------
# Parcels: keys, encodings, CRS, geometries
# --------------------------------------------------------------------------------------


def test_split_parcel_numbers_join():
    parcels = ntmgis.read_parcels(corpus.parcels_frame(4, numbers=["3A", "3b", "12B", 4]))
    assert parcels["parcel_id"].tolist() == ["12-3a", "12-3b", "12-12b", "12-4"]
    joined, report = ntmgis.join_survey(parcels, HOSTILE / "survey_split_numbers.csv")
    assert joined["survey_status"].tolist() == ["matched"] * 4
    assert joined["survey_owner"].tolist() == ["Hộ 3a", "Hộ 3b", "Hộ 12b", "Hộ 4"]
    assert report.n_unmatched_rows == 0 and "bad_key" not in set(report.issues["kind"])


def test_shapefile_without_cpg_is_decoded_per_column():
    owners = json.loads((HOSTILE / "parcels_nocpg" / "owners.json").read_text("utf-8"))
    assert not (HOSTILE / "parcels_nocpg" / "parcels.cpg").exists()
    parcels, caught = _recorded(ntmgis.read_parcels, HOSTILE / "parcels_nocpg" / "parcels.shp")
    assert parcels["owner"].tolist() == owners  # "Phan Thị An", not "Phan Thò An"
    kinds = {(w.category, w.message.what) for w in caught}
    assert (ParcelWarning, "warning.text.encoding") in kinds


def test_vn2000_prj_without_towgs84_is_flagged():
    parcels, caught = _recorded(ntmgis.read_parcels, HOSTILE / "parcels_no_towgs84" / "parcels.shp")
    assert len(parcels) == 4
    what = [w.message.what for w in caught if w.category is ParcelWarning]
    assert "warning.parcels.vn2000_no_towgs84" in what
    assert not ntmgis.crs.lacks_datum_shift("EPSG:9209")


def test_every_geometry_problem_keeps_its_parcel_with_a_status():
    parcels, caught = _recorded(ntmgis.read_parcels, HOSTILE / "parcels_bad_geometries.gpkg")
    assert len(parcels) == 7  # nothing dropped
    assert parcels["parcel_status"].tolist() == [
        "repaired",  # bow-tie
        "empty_geometry",  # empty
        "repaired",  # collection: its polygon kept, the line dropped
        "empty_geometry",  # a line is no parcel
        "empty_geometry",  # missing
        "duplicate_key",
        "duplicate_key",
    ]
    types = parcels.geometry.geom_type.tolist()
    assert types[2] == "Polygon" and parcels.geometry.iloc[2].area == pytest.approx(1600.0)
    assert parcels.geometry.iloc[0].area == pytest.approx(800.0)  # two triangles of 400 m²
    assert all(w.category is ParcelWarning for w in caught)
    # and every one of them reaches the zonal table and a GeoPackage with its status
    raster = np.arange(100 * 30, dtype="float32").reshape(30, 100)
    transform = Affine(5, 0, corpus.X0 - 50, 0, -5, corpus.Y0 + 100)
    table = ntmgis.zonal_stats(parcels, (raster, transform, corpus.CRS), stats=["mean", "count"])
    assert len(table) == 7
    assert table["status"].iloc[1] == table["status"].iloc[3] == "empty_geometry"


def test_a_parcel_with_nan_or_stray_coordinates_does_not_cost_the_layer():
    import shapely

    frame = corpus.parcels_frame(10)
    frame.loc[2, "geometry"] = shapely.from_wkt(
        "POLYGON ((560000 2080000, nan 2080040, 560040 2080040, 560000 2080000))"
    )
    frame.loc[4, "geometry"] = box(0, 0, 10, 10)  # typed as 0, 0
    frame.loc[7, "geometry"] = box(1e300, 1e300, 2e300, 2e300)
    parcels, caught = _recorded(ntmgis.read_parcels, frame)
    status = parcels["parcel_status"].tolist()
    assert len(status) == 10
    assert [i for i, v in enumerate(status) if v != "ok"] == [2, 4, 7]
    assert {status[i] for i in (2, 4, 7)} == {"empty_geometry"}
    assert "not finite" in parcels["parcel_notes"][2]
    assert "outside Vietnam" in parcels["parcel_notes"][4]
    assert "warning.parcels.stray_coordinates" in [w.message.what for w in caught]
    table = ntmgis.zonal_stats(
        parcels, (np.ones((20, 100), "float32"), Affine(10, 0, corpus.X0, 0, -10, corpus.Y0 + 100),
                  corpus.CRS), stats=["count"],
    )  # fmt: skip
    assert len(table) == 10


def test_degrees_under_a_projected_crs_is_a_crs_error():
    with pytest.raises(CRSError, match="degrees"):
        ntmgis.read_parcels(HOSTILE / "parcels_degrees.geojson")


def test_truncated_geopackage_is_an_input_error():
    with pytest.raises(InputError, match="parcels_truncated.gpkg"):
        ntmgis.read_parcels(HOSTILE / "parcels_truncated.gpkg")


def test_missing_parcel_file_is_data_not_found():
    with pytest.raises(DataNotFoundError) as caught:
        ntmgis.read_parcels(HOSTILE / "no_such_file.gpkg")
    assert isinstance(caught.value, FileNotFoundError)


# --------------------------------------------------------------------------------------
# Rule conditions and index formulas: parsed, never executed, never a RecursionError
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("rules_deep.toml", ["deep", "too deeply nested"]),
        ("rules_long_chain.toml", ["chain", "too"]),
        ("rules_not_chain.toml", ["nots", "too deeply nested"]),
        ("rules_import.toml", ["import", "function call"]),
        ("rules_attribute.toml", ["attr", "attribute access"]),
    ],
)
def test_hostile_rule_conditions_are_config_errors(name, words):
    from ntmgis.flags import load_rules

    with pytest.raises(ConfigError) as caught:
        load_rules(HOSTILE / name)
    message = str(caught.value)
    assert name in message and "line 4" in message
    for word in words:
        assert word in message


@pytest.mark.parametrize("name", ["rules_utf16.toml", "rules_utf8_bom.toml"])
def test_rules_saved_as_utf16_or_with_a_bom_are_read(name):
    from ntmgis.flags import load_rules

    rules = load_rules(HOSTILE / name)
    assert [r.id for r in rules.rules] == ["bare"] and rules.rules[0].when == "ndvi_p90 < 0.3"


def test_rules_not_in_utf8_are_a_config_error():
    from ntmgis.flags import load_rules

    with pytest.raises(ConfigError, match="rules_cp1258.toml.*not UTF-8"):
        load_rules(HOSTILE / "rules_cp1258.toml")


@pytest.mark.parametrize(
    "formula",
    ["(" * 300 + "nir" + ")" * 300, "-" * 5000 + "nir", " + ".join(["nir"] * 3000)],
)
def test_hostile_index_formulas_are_input_errors(formula):
    from ntmgis.indices import parse_formula

    with pytest.raises(InputError, match="Index formula|Công thức chỉ số"):
        parse_formula(formula)


def test_one_engine_evaluates_both_grammars():
    from ntmgis._expr import FORMULA, RULES, ExpressionError, parse

    rule = parse("max(ndvi_p90, 0.2) < 0.42 and not events > 0", RULES)
    env = {"ndvi_p90": np.array([0.1, 0.5, np.nan]), "events": np.array([0.0, 0.0, 0.0])}
    assert rule(env).tolist() == [True, False, False]  # NaN never satisfies a condition
    formula = parse("(nir - red) / (nir + red) ** 1", FORMULA)
    out = formula({"nir": np.array([0.3, 0.0]), "red": np.array([0.1, 0.0])})
    assert out[0] == pytest.approx(0.5) and np.isnan(out[1])  # 0/0 is NaN, not a warning
    with pytest.raises(ExpressionError):
        parse("nir < red", FORMULA)  # comparisons belong to the rules' grammar
    with pytest.raises(ExpressionError):
        parse("nir ** 2", RULES)


# --------------------------------------------------------------------------------------
# Outputs: escaped, atomic, clear errors
# --------------------------------------------------------------------------------------


def _join_formulas():
    parcels = ntmgis.read_parcels(corpus.parcels_frame(6))
    return ntmgis.join_survey(parcels, HOSTILE / "survey_formulas.csv")


def test_join_report_xlsx_has_no_formula_and_no_illegal_character(tmp_path):
    from openpyxl import load_workbook

    joined, report = _join_formulas()
    assert len(joined) == 6 and set(joined["survey_status"]) == {"matched"}
    path = report.write(tmp_path / "report.xlsx")
    book = load_workbook(path)
    cells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no live formula
    texts = [c.value for c in cells if isinstance(c.value, str)]
    assert not [t for t in texts if any(ord(ch) < 32 and ch not in "\t\n\r" for ch in t)]
    # the dangerous values are there, as text with Excel's quote prefix
    assert book.sheetnames == ["Kết quả ghép", "Dòng chưa ghép", "Vấn đề"]  # print-ready
    risky = [c for c in cells if isinstance(c.value, str) and c.value.startswith(("=", "@"))]
    assert all(c.quotePrefix for c in risky)
    numbers = [
        c for c in cells if isinstance(c.value, int | float) and not isinstance(c.value, bool)
    ]
    assert numbers  # counts and row numbers stay numbers
    summary = {r[1]: r[2] for r in book["Kết quả ghép"].iter_rows(values_only=True)}
    assert summary["Số thửa đất trên bản đồ địa chính"] == 6
    assert summary["Số dòng trong bảng khảo sát"] == 6


def test_join_report_csv_is_escaped_per_owasp(tmp_path):
    frame = pd.DataFrame(
        {
            "text": corpus.FORMULAS + ["Vườn tạp", corpus.CONTROL],
            "number": [-0.25, 1, 2, 3, 4, 5, 6, 7, 8],
        }
    )
    path = _io.write_csv(tmp_path / "x.csv", frame)
    back = pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False)
    texts = back["text"].tolist()
    assert texts[:7] == ["'" + f for f in corpus.FORMULAS]
    assert texts[7] == "Vườn tạp"
    assert "\x01" not in texts[8] and "\ufffd" in texts[8]
    assert back["number"].iloc[0] == pytest.approx(-0.25)  # a negative number is not escaped


def test_failed_xlsx_write_leaves_no_file(tmp_path):
    class Boom:
        def __str__(self):
            raise RuntimeError("boom")

    target = tmp_path / "r.xlsx"
    with pytest.raises(RuntimeError):
        _io.write_xlsx({"s": pd.DataFrame({"a": [1, Boom()]})}, target)
    assert not target.exists() and not list(tmp_path.iterdir())


def _unwritable_folder(tmp_path) -> Path:
    if os.geteuid() == 0:  # root writes everywhere but in sysfs
        if not Path("/sys/kernel").is_dir():
            pytest.skip("no read-only folder for root on this machine")
        return Path("/sys/kernel")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    return folder


@pytest.mark.parametrize("kind", ["permission", "file_in_the_way", "parent_is_a_file", "is_dir"])
def test_unwritable_outputs_are_output_errors(tmp_path, kind):
    (tmp_path / "a_file").write_text("x")
    target = {
        "permission": _unwritable_folder(tmp_path) / "out" / "r.csv",
        "file_in_the_way": tmp_path / "a_file" / "r.csv",
        "parent_is_a_file": tmp_path / "a_file" / "sub" / "r.csv",
        "is_dir": tmp_path,
    }[kind]
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(OutputError) as caught:
        _io.write_csv(target, frame)
    assert isinstance(caught.value, OSError)
    assert str(target.parent if kind != "is_dir" else target) in str(caught.value)
    if kind != "is_dir":
        with pytest.raises(OutputError):
            _io.check_writable(target.parent)


def test_cli_survey_refuses_an_unwritable_output_before_reading(tmp_path, monkeypatch, capsys):
    from ntmgis.cli import main

    (tmp_path / "a_file").write_text("x")
    out = tmp_path / "a_file" / "survey.gpkg"
    parcels = tmp_path / "p.gpkg"
    corpus.parcels_frame(2).to_file(parcels, layer="parcels")
    # the survey is a huge unreadable file: the output folder is checked before reading it
    args = ["ntmgis", "survey", str(parcels), str(HOSTILE / "survey_huge_cell.csv"), "-o", str(out)]
    monkeypatch.setattr(sys, "argv", args)
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("ntmgis: Lỗi: Không ghi được")  # Vietnamese first
    assert "(Cannot write" in err and "a_file" in err and "Traceback" not in err


def test_messages_are_vietnamese_first_and_english_too(monkeypatch):
    from ntmgis.i18n import set_language

    try:
        set_language("en")
        with pytest.raises(InputError) as caught:
            ntmgis.read_survey(HOSTILE / "survey_empty.csv")
        assert str(caught.value).startswith("Survey file '") and "(Tệp '" in str(caught.value)
        set_language("vi")
        with pytest.raises(InputError) as caught:
            ntmgis.read_survey(HOSTILE / "survey_empty.csv")
        assert str(caught.value).startswith("Tệp '") and "is empty: export it again" in str(
            caught.value
        )
    finally:
        set_language(None)


def test_gpkg_writer_is_geopackage_1_2(tmp_path):
    import sqlite3

    parcels = ntmgis.read_parcels(corpus.parcels_frame(3))
    path = _io.write_gpkg(tmp_path / "p.gpkg", {"parcels": parcels})
    with sqlite3.connect(path) as db:
        (version,) = db.execute("PRAGMA user_version").fetchone()
    assert version == 10200
    from ntmgis.pipeline import write_gpkg_atomic  # the old name keeps working

    assert write_gpkg_atomic(tmp_path / "q.gpkg", {"parcels": parcels}).exists()


# --------------------------------------------------------------------------------------
# Imagery: one bad scene or band never costs the run; far parcels get a status
# --------------------------------------------------------------------------------------

S2 = {"blue": "B02", "green": "B03", "red": "B04", "nir": "B08"}


def _scene(folder: Path, date: str, *, x0=600000.0, y0=2000000.0, size=20, dtype="uint16"):
    folder = folder / f"S2A_48QWE_{date}_0_L2A"
    folder.mkdir(parents=True)
    values = {"blue": 300, "green": 500, "red": 400, "nir": 3000}
    for band, name in S2.items():
        data = np.full((1, size, size), values[band], dtype=dtype)
        with rasterio.open(
            folder / f"{name}.tif", "w", driver="GTiff", dtype=dtype, count=1, height=size,
            width=size, crs="EPSG:32648", transform=Affine(10, 0, x0, 0, -10, y0), nodata=0,
        ) as ds:  # fmt: skip
            ds.write(data)
    return folder


def _parcels_utm(far: bool = False):
    geoms = [box(600020 + 30 * i, 1999880, 600045 + 30 * i, 1999905) for i in range(4)]
    if far:
        geoms.append(box(650020, 1999880, 650045, 1999905))  # 50 km east
    return gpd.GeoDataFrame({"parcel_id": [f"p{i}" for i in range(len(geoms))]},
                            geometry=geoms, crs="EPSG:32648")  # fmt: skip


def test_truncated_and_missing_band_are_skipped_and_reported(tmp_path):
    good = _scene(tmp_path, "20200113")
    cut = _scene(tmp_path, "20200202")
    data = (cut / "B04.tif").read_bytes()
    (cut / "B04.tif").write_bytes(data[: len(data) // 2])  # truncated
    gone = _scene(tmp_path, "20200222")
    (gone / "B08.tif").unlink()  # a missing band
    with pytest.raises(NtmgisError):
        ntmgis.read_stacks(tmp_path, aoi=_parcels_utm(), indices=["ndvi"])
    stacks, caught = _recorded(
        ntmgis.read_stacks, tmp_path, aoi=_parcels_utm(), indices=["ndvi"], on_error="skip"
    )
    assert stacks[0].names == ["2020-01-13/ndvi"]
    skipped = {s["scene"].split("/")[-1] for s in stacks[0].meta["skipped"]}
    assert {cut.name, gone.name} <= {Path(s).name for s in skipped}
    assert all(w.category is ImageryWarning for w in caught)
    assert {w.message.what for w in caught} >= {"warning.imagery.skipped"}
    assert good.exists()


def test_a_parcel_50_km_away_gets_a_status_and_the_rest_completes(tmp_path):
    _scene(tmp_path, "20200113")
    parcels = _parcels_utm(far=True)
    stacks, _ = _recorded(ntmgis.read_stacks, tmp_path, aoi=parcels, indices=["ndvi"])
    grid = stacks[0].data.shape
    assert grid[1] * grid[2] < 40 * 40  # the window is the scene's part, not 50 km wide
    table = ntmgis.zonal_stats(parcels, stacks[0], stats=["mean", "count"])
    assert table["status"].tolist() == ["ok"] * 4 + ["outside"]
    ndvi = (3000 - 400) / (3000 + 400)
    assert table.filter(like=":mean").iloc[:4, 0].tolist() == pytest.approx([ndvi] * 4, abs=1e-6)


def test_invalid_aoi_is_repaired_and_a_line_aoi_is_a_geometry_error(tmp_path):
    _scene(tmp_path, "20200113")
    x, y = 600020, 1999880
    bowtie = Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])
    stacks = ntmgis.read_stacks(tmp_path, aoi=bowtie, aoi_crs="EPSG:32648", indices=["ndvi"])
    assert stacks[0].meta["aoi_pixels"] > 0
    with pytest.raises(GeometryError):
        _io.read_aoi(gpd.GeoSeries.from_wkt(["LINESTRING (0 0, 1 1)"], crs="EPSG:32648"))


def _landsat(folder: Path, name: str, dtype="uint16", value=9000):
    folder = folder / name
    folder.mkdir(parents=True)
    for band in ("SR_B4", "SR_B5", "QA_PIXEL"):
        v = 21824 if band == "QA_PIXEL" else value
        with rasterio.open(
            folder / f"{name}_{band}.TIF", "w", driver="GTiff", dtype=dtype if band != "QA_PIXEL"
            else "uint16", count=1, height=10, width=10, crs="EPSG:32648",
            transform=Affine(30, 0, 600000, 0, -30, 2000000), nodata=0,
        ) as ds:  # fmt: skip
            ds.write(np.full((1, 10, 10), v))
    return folder


def test_landsat_unknown_platform_and_8_bit_scale_are_warned(tmp_path):
    path = tmp_path / "scene_20200113.tif"  # a multi-band Landsat file, no platform anywhere
    with rasterio.open(
        path, "w", driver="GTiff", dtype="uint16", count=3, height=10, width=10,
        crs="EPSG:32648", transform=Affine(30, 0, 600000, 0, -30, 2000000), nodata=0,
    ) as ds:  # fmt: skip
        ds.write(np.full((3, 10, 10), 9000, dtype="uint16"))
        for i, name in enumerate(("SR_B4", "SR_B5", "QA_PIXEL"), start=1):
            ds.set_band_description(i, name)
    scenes, caught = _recorded(ntmgis.find_scenes, path)
    assert scenes[0].sensor == "landsat"
    assert [w.message.what for w in caught] == ["warning.imagery.landsat_platform"]
    _landsat(tmp_path / "b", "LC08_L2SP_125047_20200113_20200822_02_T1", dtype="uint8", value=200)
    aoi = box(600030, 1999730, 600200, 1999900)
    _, caught = _recorded(
        ntmgis.read_stacks, tmp_path / "b", aoi=aoi, aoi_crs="EPSG:32648", indices=["ndvi"]
    )
    assert "warning.imagery.landsat_scale" in [w.message.what for w in caught]
    _landsat(tmp_path / "c", "LC08_L2SP_125047_20200113_20200822_02_T1", value=9000)
    _, caught = _recorded(
        ntmgis.read_stacks, tmp_path / "c", aoi=aoi, aoi_crs="EPSG:32648", indices=["ndvi"]
    )
    scale = {"warning.imagery.landsat_scale", "warning.imagery.landsat_scale_low"}
    assert not scale & {w.message.what for w in caught}  # 9000 is a real C2 DN


# --------------------------------------------------------------------------------------
# A run's output folder: lock, staging, published together
# --------------------------------------------------------------------------------------


def test_run_outputs_publish_together_and_replace_the_previous_set(tmp_path):
    with _io.RunOutputs(tmp_path, run_id="run-1") as out:
        (out.path("a.txt")).write_text("1")
        (out.path("b.txt")).write_text("1")
        assert not (tmp_path / "a.txt").exists()  # nothing visible before the end
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "a.txt",
        "b.txt",
    ]
    with _io.RunOutputs(tmp_path, run_id="run-2") as out:
        out.path("a.txt").write_text("2")  # b.txt not written again: it was run-1's
    assert (tmp_path / "a.txt").read_text() == "2" and not (tmp_path / "b.txt").exists()
    manifest = json.loads((tmp_path / _io.MANIFEST_NAME).read_text())
    assert manifest["run_id"] == "run-2" and manifest["files"] == ["a.txt"]
    with pytest.raises(RuntimeError), _io.RunOutputs(tmp_path, run_id="run-3") as out:
        out.path("a.txt").write_text("3")
        raise RuntimeError("killed")
    assert (tmp_path / "a.txt").read_text() == "2"  # a failed run leaves the previous set
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(_io.STAGING_PREFIX)]


def test_a_second_run_into_the_same_folder_is_refused(tmp_path):
    with _io.RunOutputs(tmp_path, run_id="first"):
        with pytest.raises(OutputError, match="Another ntmgis run") as caught:
            with _io.RunOutputs(tmp_path, run_id="second"):
                pass
        assert "first" in str(caught.value)
    with _io.RunOutputs(tmp_path, run_id="third"):  # free again afterwards
        pass


def test_stale_staging_and_temporaries_are_cleaned(tmp_path):
    stale = tmp_path / f"{_io.STAGING_PREFIX}old"
    stale.mkdir()
    (stale / "half.gpkg").write_bytes(b"x")
    tmp = tmp_path / f".r{_io.TMP_MARK}abc.pdf"
    tmp.write_bytes(b"%PDF")
    old = 1_000_000_000
    os.utime(tmp, (old, old))
    with _io.RunOutputs(tmp_path):
        pass
    assert not stale.exists() and not tmp.exists()


def test_atomic_temporaries_carry_the_mark(tmp_path):
    seen = []
    with _io.atomic_path(tmp_path / "x.gpkg") as tmp:
        seen.append(tmp.name)
        tmp.write_bytes(b"1")
    assert _io.TMP_MARK in seen[0] and seen[0].endswith(".gpkg")


def _zip_names(data: bytes) -> list[str]:
    return zipfile.ZipFile(io.BytesIO(data)).namelist()


def test_committed_corpus_matches_its_generator(tmp_path):
    # the text and workbook cases are regenerated byte for byte
    written = corpus.write_tables(tmp_path)
    for path in written:
        assert path.read_bytes() == (HOSTILE / path.name).read_bytes(), path.name
    assert "[Content_Types].xml" in _zip_names((HOSTILE / "survey_ok.xlsx").read_bytes())


def test_report_workbook_takes_control_characters_and_formulas(tmp_path):
    from openpyxl import load_workbook

    from ntmgis.report import write_workbook

    table = pd.DataFrame(
        {"Chủ hộ": [corpus.CONTROL, "=1+1", "Vườn tạp"], "Diện tích (m²)": [-5.0, 12, 3.5]}
    )
    path = write_workbook({"visits": table}, tmp_path / "bao_cao.xlsx")
    sheet = load_workbook(path).active
    # the table's first data row: the row below the header cell "Chủ hộ"
    header = next(c for row in sheet.iter_rows() for c in row if c.value == "Chủ hộ")
    rows = range(header.row + 1, header.row + 4)
    col = header.column
    owners = [sheet.cell(row=r, column=col) for r in rows]
    assert owners[0].value == "Nguy\ufffdễn V\ufffdă\ufffdn A\ufffd"
    assert owners[1].value == "=1+1" and owners[1].data_type == "s" and owners[1].quotePrefix
    assert [sheet.cell(row=r, column=col + 1).value for r in rows] == [-5.0, 12, 3.5]
    assert [p.name for p in tmp_path.iterdir()] == ["bao_cao.xlsx"]


def _cache_formulas(path, values: dict) -> None:
    """Give the formula cells ``values`` (ref -> text), as Excel's save would."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    for ref, value in values.items():
        parts[sheet] = re.sub(rf'(<c r="{ref}"[^>]*>(?:<f>[^<]*</f>))<v ?/>'.encode(),
                              rb"\1<v>" + value.encode() + b"</v>", parts[sheet])  # fmt: skip
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def test_formula_cells_saved_without_their_values_are_said(tmp_path):
    """A workbook written by a program that does not compute formulas: its formula cells
    read as empty, and the reader says which, where, and what to do."""
    import warnings

    import openpyxl
    from _foreign import formula_targets

    from ntmgis import i18n
    from ntmgis.errors import ProgressWarning, SurveyWarning
    from ntmgis.progress import read_targets

    targets = formula_targets(tmp_path / "chi_tieu.xlsx")
    with i18n.language("en"), pytest.warns(ProgressWarning) as got:
        table = read_targets(targets).set_index("hamlet")
    assert str(got[0].message) == (
        f"Targets table '{targets}', sheet 'Chỉ tiêu': 2 formula cell(s) hold no computed "
        "value (B2, C3) and are read as empty. The file was saved by a program that does "
        "not compute formulas: open it in Excel or LibreOffice, save it again and run again."
    )
    assert pd.isna(table.loc["Thôn 1", "so_vuon_mau"]) and table.loc["Thôn 2", "so_vuon_mau"] == 4
    # saved with the values (as Excel and LibreOffice save): read, nothing said
    _cache_formulas(targets, {"B2": "3", "C3": "35"})
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProgressWarning)
        table = read_targets(targets).set_index("hamlet")
    assert table.loc["Thôn 1", "so_vuon_mau"] == 3
    assert table.loc["Thôn 2", "ty_le_dat_chuan"] == 35
    # the survey's reader says it too, in Vietnamese, as a survey warning
    book = openpyxl.Workbook()
    book.active.append(["STT", "Mã hộ", "Thôn", "Số tờ", "Số thửa", "Diện tích vườn (m²)",
                        "Phân loại vườn"])  # fmt: skip
    book.active.append([1, "HO1", "Thôn 1", 2, 15, "=20*30", "Vườn tạp"])
    book.active.append([2, "HO2", "Thôn 1", 2, 16, 450, "Vườn mẫu"])
    survey = tmp_path / "khao_sat.xlsx"
    book.save(survey)
    with i18n.language("vi"), pytest.warns(SurveyWarning, match="ô công thức") as got:
        rows = ntmgis.read_survey(survey)
    said = [str(w.message) for w in got if "ô công thức" in str(w.message)]
    assert said == [
        f"Tệp khảo sát '{survey}', trang tính 'Sheet': 1 ô công thức chưa có giá trị đã tính "
        "(F2) nên được đọc là ô trống. Tệp được lưu bởi một chương trình không tính công "
        "thức: mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi chạy lại."
    ]
    assert rows["garden_area_m2"].isna().tolist() == [True, False]


@pytest.mark.parametrize(
    ("name", "kind"),
    [("khao_sat.ods", "OpenDocument"), ("khao_sat.xlsb", "Excel Binary"),
     ("khao_sat.numbers", "Apple Numbers")],
)  # fmt: skip
def test_a_workbook_of_another_program_is_said_so_not_read_as_csv(tmp_path, name, kind):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 4)  # a zip-like binary body
    with pytest.raises(InputError) as caught:
        ntmgis.read_survey(path)
    message = str(caught.value)
    assert name in message and kind in message and "save it as .xlsx" in message
    assert "is an old" not in message  # not an old format: another program's
