"""read_parcels: standard schema, aliases, encodings, geometry hygiene, bad input."""

import sqlite3
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from ntmgis import read_parcels
from ntmgis.errors import (
    CRSError,
    DataNotFoundError,
    InputError,
    NtmgisWarning,
    ParcelWarning,
    SchemaError,
)
from ntmgis.parcels import is_garden_land_use, parcel_ids
from ntmgis.text import unicode_to_tcvn3, unicode_to_vni

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
needs_sample = pytest.mark.skipif(
    not (LAYERS / "thanh_binh.gpkg").exists(), reason="sample commune not in layers/"
)


@pytest.fixture(autouse=True)
def _english():
    """Messages in English: these tests match the English sentences (vi: see below)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


X0, Y0 = 531000.0, 2035000.0  # Thạch Hà, Hà Tĩnh, in EPSG:9209


def _parcels(n=4, **columns):
    geoms = [box(X0 + 10 * i, Y0, X0 + 10 * i + 10, Y0 + 10) for i in range(n)]
    data = {
        "SHBANDO": [12] * n,
        "SHTHUA": list(range(1, n + 1)),
        "DIENTICH": [100.0] * n,
        "KHLOAIDAT": ["ONT+CLN", "CLN", "LUC", "NTS"][:n],
        "TENCHU": ["Nguyễn Văn Hòa", "Trần Thị Lý", "Lê Văn An", "Phạm Thị Bình"][:n],
        "DIADANH": ["Thôn Đông Hòa"] * n,
    }
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:9209")


def _read(source, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = read_parcels(source, **kw)
    return out, [str(w.message) for w in caught if issubclass(w.category, NtmgisWarning)]


def test_standard_schema_from_geodataframe():
    out, warned = _read(_parcels())
    assert list(out.columns[:11]) == [
        "parcel_id", "sheet", "parcel_no", "area_m2", "land_use", "hamlet", "owner",
        "household_id", "parcel_status", "parcel_notes", "overlap_m2",
    ]  # fmt: skip
    assert out["parcel_id"].tolist() == ["12-1", "12-2", "12-3", "12-4"]
    assert out["sheet"].tolist() == [12] * 4
    assert out["area_m2"].tolist() == [100.0] * 4
    assert out["parcel_status"].tolist() == ["ok"] * 4
    # the original columns follow, unchanged
    for column in ("SHBANDO", "SHTHUA", "DIENTICH", "KHLOAIDAT", "TENCHU", "DIADANH"):
        assert column in out.columns
    assert out.crs.to_epsg() == 9209
    assert warned == []
    again, _ = _read(out)  # reading twice changes nothing
    assert again.columns.tolist() == out.columns.tolist()


@pytest.mark.parametrize(
    "names",
    [
        {"SHBANDO": "SoHieuToBanDo", "SHTHUA": "SoThuTuThua", "DIENTICH": "DienTich",
         "KHLOAIDAT": "KyHieuMucDichSuDung"},
        {"SHBANDO": "Số tờ", "SHTHUA": "Số thửa", "TENCHU": "Chủ sử dụng"},
        {"SHBANDO": "so_to", "SHTHUA": "so_thua", "DIADANH": "THON"},
        {"SHBANDO": "SO TO", "SHTHUA": "so thua"},
        # chủ sử dụng đất as cadastral DBFs shorten it
        {"SHBANDO": "SO_TO", "SHTHUA": "SO_THUA", "TENCHU": "CHUSDD", "KHLOAIDAT": "LOAIDAT"},
        {"TENCHU": "TENCHUSD"},
        {"TENCHU": "Họ tên chủ"},
    ],
)  # fmt: skip
def test_aliases(names):
    out, _ = _read(_parcels().rename(columns=names))
    assert out["parcel_id"].tolist() == ["12-1", "12-2", "12-3", "12-4"]
    assert out["owner"].tolist()[0] == "Nguyễn Văn Hòa"
    assert out["land_use"].tolist()[0] == "ONT+CLN"


def test_fields_override_and_bad_override():
    gdf = _parcels().rename(columns={"SHBANDO": "TO", "SHTHUA": "THUA_X"})
    out, _ = _read(gdf, fields={"sheet": "TO", "parcel_no": "THUA_X"})
    assert out["parcel_id"].tolist()[:2] == ["12-1", "12-2"]
    with pytest.raises(SchemaError, match="NOPE"):
        read_parcels(gdf, fields={"sheet": "NOPE"})


def test_no_key_column():
    gdf = _parcels().drop(columns=["SHTHUA"])
    with pytest.raises(SchemaError, match="No parcel-number column.*Rename .* to SHTHUA") as en:
        read_parcels(gdf)
    assert "fields=" not in str(en.value)  # what to change in the file, not in Python
    from ntmgis.i18n import set_language

    set_language("vi")
    with pytest.raises(ValueError) as vi:  # a SchemaError is also a ValueError and a KeyError
        read_parcels(gdf)
    assert isinstance(vi.value, KeyError)
    assert str(vi.value).startswith("'GeoDataFrame đã nạp' không có cột số thửa: đã tìm SHTHUA")
    assert "Đổi tên cột số thửa trong tệp thành SHTHUA" in str(vi.value)


def test_parcel_warnings_in_both_languages():
    from ntmgis.i18n import set_language

    gdf = _parcels()
    gdf.loc[1, "SHTHUA"] = gdf.loc[0, "SHTHUA"]
    kinds = {}
    for lang in ("en", "vi"):
        set_language(lang)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read_parcels(gdf.drop(columns=["SHBANDO"]))
        kinds[lang] = {w.message.what: str(w.message) for w in caught}
    assert (
        set(kinds["en"])
        == set(kinds["vi"])
        >= {
            "warning.parcels.no_sheet",
            "warning.parcels.duplicate_key",
        }
    )
    dup_en, dup_vi = (
        kinds["en"]["warning.parcels.duplicate_key"],
        kinds["vi"]["warning.parcels.duplicate_key"],
    )
    assert dup_en == (
        "'the GeoDataFrame': 2 parcel(s) with duplicate keys (status 'duplicate_key'): 1, 1#2. "
        "Correct the numbers in the source."
    )
    assert dup_vi == (
        "'GeoDataFrame đã nạp': 2 thửa trùng số tờ và số thửa (trạng thái 'duplicate_key'): "
        "1, 1#2. Sửa số thửa trong tệp gốc."
    )
    assert "rename it to SHBANDO" in kinds["en"]["warning.parcels.no_sheet"]
    assert "đổi tên cột đó thành SHBANDO" in kinds["vi"]["warning.parcels.no_sheet"]


FORMATS = [("GPKG", ".gpkg"), ("GeoJSON", ".geojson"), ("FlatGeobuf", ".fgb"),
           ("ESRI Shapefile", ".shp")]  # fmt: skip


@pytest.mark.parametrize(("driver", "suffix"), FORMATS)
def test_formats(tmp_path, driver, suffix):
    path = tmp_path / f"p{suffix}"
    _parcels().to_file(path, driver=driver)
    out, _ = _read(path)
    out = out.sort_values("parcel_no")  # FlatGeobuf's spatial index reorders features
    assert out["parcel_id"].tolist() == ["12-1", "12-2", "12-3", "12-4"]
    assert out["owner"].tolist()[1] == "Trần Thị Lý"
    assert out["hamlet"].tolist()[0] == "Thôn Đông Hòa"


@pytest.mark.parametrize(
    ("encode", "codec"),
    [(unicode_to_tcvn3, "latin1"), (unicode_to_vni, "cp1252"), (lambda s: s, "utf-8")],
)
def test_shapefile_without_cpg(tmp_path, encode, codec):
    gdf = _parcels()
    gdf["TENCHU"] = [encode(v) for v in gdf["TENCHU"]]
    gdf["DIADANH"] = [encode(v) for v in gdf["DIADANH"]]
    path = tmp_path / "p.shp"
    gdf.to_file(path, encoding=codec)
    path.with_suffix(".cpg").unlink()
    out, warned = _read(path)
    assert out["owner"].tolist() == ["Nguyễn Văn Hòa", "Trần Thị Lý", "Lê Văn An", "Phạm Thị Bình"]
    assert out["hamlet"].tolist() == ["Thôn Đông Hòa"] * 4
    assert out["TENCHU"].tolist()[0] == "Nguyễn Văn Hòa"  # originals repaired too
    # one warning for the file names both columns (one per column: the CLI and QGIS
    # show one warning of a kind, and the second column went unsaid)
    (said,) = [w for w in warned if "converted" in w]
    assert "column 'TENCHU'" in said and "column 'DIADANH'" in said
    assert said.count("4 value(s)") == 2


def test_mixed_encodings_in_a_column_warn():
    gdf = _parcels()
    gdf.loc[2, "TENCHU"] = unicode_to_tcvn3("Lê Văn Ánh")
    out, warned = _read(gdf)
    assert out["owner"].tolist()[2] == "Lê Văn ánh"  # TCVN3 has no capital Á
    message = next(w for w in warned if "mixes text encodings" in w)
    assert "TENCHU" in message and "tcvn3" in message and "row(s) 3" in message


def test_invalid_geometry_repaired_with_note():
    gdf = _parcels()
    bowtie = Polygon([(X0, Y0 + 20), (X0 + 10, Y0 + 30), (X0 + 10, Y0 + 20), (X0, Y0 + 30)])
    gdf.loc[1, "geometry"] = bowtie
    out, warned = _read(gdf)
    assert out.loc[1, "parcel_status"] == "repaired"
    assert "Self-intersection" in out.loc[1, "parcel_notes"]
    assert out.geometry.is_valid.all()
    assert out.geometry.iloc[1].area == pytest.approx(50.0)  # two triangles of 25 m²
    assert any("repaired invalid geometries: 12-2" in w for w in warned)


def test_empty_and_null_geometries_are_kept():
    gdf = _parcels()
    gdf.loc[0, "geometry"] = None
    gdf.loc[3, "geometry"] = Polygon()
    out, warned = _read(gdf)
    assert len(out) == 4
    assert out["parcel_status"].tolist() == ["empty_geometry", "ok", "ok", "empty_geometry"]
    assert any("empty or missing geometries" in w and "12-1, 12-4" in w for w in warned)


def test_multipart_kept_and_z_dropped():
    gdf = _parcels()
    gdf.loc[0, "geometry"] = MultiPolygon([box(X0, Y0 + 50, X0 + 5, Y0 + 55),
                                           box(X0 + 10, Y0 + 50, X0 + 15, Y0 + 55)])  # fmt: skip
    gdf.loc[1, "geometry"] = shapely.force_3d(gdf.loc[1, "geometry"], 7.0)
    out, _ = _read(gdf)
    assert out.geometry.iloc[0].geom_type == "MultiPolygon"
    assert out.geometry.iloc[0].area == pytest.approx(50.0)
    assert not shapely.has_z(out.geometry.to_numpy()).any()
    assert "Z coordinates dropped" in out.loc[1, "parcel_notes"]


def test_duplicate_keys_get_distinct_ids():
    gdf = _parcels(SHTHUA=[1, 2, 2, 2])
    out, warned = _read(gdf)
    assert out["parcel_id"].tolist() == ["12-1", "12-2", "12-2#2", "12-2#3"]
    assert out["parcel_id"].is_unique
    assert out["parcel_status"].tolist() == [
        "ok",
        "duplicate_key",
        "duplicate_key",
        "duplicate_key",
    ]
    assert any("duplicate keys" in w for w in warned)


def test_missing_key_gets_row_id():
    gdf = _parcels()
    gdf["SHTHUA"] = pd.array([1, None, 3, 4], dtype="Int64")
    out, _ = _read(gdf)
    assert out["parcel_id"].tolist() == ["12-1", "row-2", "12-3", "12-4"]
    assert out.loc[1, "parcel_status"] == "missing_key"


def test_overlaps_reported_with_area():
    gdf = _parcels(n=2)
    # parcel 2 shifted 2 m west: a 2 m x 10 m strip is shared
    gdf.loc[1, "geometry"] = box(X0 + 8, Y0, X0 + 18, Y0 + 10)
    out, warned = _read(gdf)
    assert out["overlap_m2"].tolist() == [20.0, 20.0]
    assert "overlaps 12-2 by 20.0 m²" in out.loc[0, "parcel_notes"]
    assert any("overlaps" in w for w in warned)
    # touching parcels do not overlap
    out, _ = _read(_parcels())
    assert out["overlap_m2"].sum() == 0


def test_area_from_geometry_when_missing():
    gdf = _parcels(DIENTICH=[None, "1.250", 100.0, 100.0])
    out, _ = _read(gdf)
    assert out["area_m2"].tolist()[:2] == [100.0, 1250.0]
    assert "area computed from the geometry" in out.loc[0, "parcel_notes"]


def test_missing_crs_suggests_zone(tmp_path):
    gdf = _parcels().set_crs(None, allow_override=True)
    with pytest.raises(CRSError, match=r"no coordinate reference system.*EPSG:9209.*Hà Tĩnh"):
        read_parcels(gdf)
    out, _ = _read(gdf, crs="EPSG:9209")
    assert out.crs.to_epsg() == 9209
    # a shapefile without .prj
    path = tmp_path / "noprj.shp"
    _parcels().to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match="noprj.shp"):
        read_parcels(path)
    # given the province, its cadastral zone is taken (the run config can name no CRS),
    # with a warning naming it; the coordinates are those of the file, unmoved
    with pytest.warns(ParcelWarning, match=r"noprj.shp.*Hà Tĩnh.*EPSG:9209"):
        out = read_parcels(path, province="Hà Tĩnh")
    assert out.crs.to_epsg() == 9209
    assert out.total_bounds == pytest.approx(_parcels().total_bounds)


def test_degrees_in_projected_crs():
    gdf = _parcels().to_crs("EPSG:4326").set_crs("EPSG:9209", allow_override=True)
    with pytest.raises(CRSError, match="coordinates are degrees.*EPSG:4756"):
        read_parcels(gdf)
    out, _ = _read(gdf, crs="EPSG:4326")  # told the truth: fine
    assert out.crs.to_epsg() == 4326
    assert out["overlap_m2"].sum() == pytest.approx(0.0, abs=1e-6)
    # areas of a geographic layer are computed in metres (UTM)
    out, _ = _read(gdf.drop(columns=["DIENTICH"]), crs="EPSG:4326")
    assert out["area_m2"].tolist() == pytest.approx([100.0] * 4, abs=0.2)


def test_not_found_and_unreadable(tmp_path):
    with pytest.raises(DataNotFoundError, match="nothere.gpkg"):
        read_parcels(tmp_path / "nothere.gpkg")
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Fea')
    with pytest.raises(InputError, match="bad.geojson"):
        read_parcels(bad)
    good = tmp_path / "p.gpkg"
    _parcels().to_file(good)
    truncated = tmp_path / "truncated.gpkg"
    truncated.write_bytes(good.read_bytes()[:3000])
    with pytest.raises(InputError, match="truncated.gpkg"):
        read_parcels(truncated)


def test_layer_choice(tmp_path):
    path = tmp_path / "two.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(X0, Y0)], crs=9209).to_file(path, layer="roads")
    _parcels().to_file(path, layer="thua_dat")
    out, _ = _read(path)
    assert len(out) == 4
    other = tmp_path / "other.gpkg"
    gpd.GeoDataFrame({"a": [1]}, geometry=[Point(X0, Y0)], crs=9209).to_file(other, layer="a")
    _parcels().to_file(other, layer="b")
    with pytest.raises(SchemaError, match="several layers.*parcels_layer in the run config"):
        read_parcels(other)
    assert len(read_parcels(other, layer="b")) == 4
    with pytest.raises(SchemaError, match="Layer 'zz' not found"):
        read_parcels(other, layer="zz")


def test_parcel_ids_and_garden_codes():
    ids, dup, missing = parcel_ids([12, 12, None, 3.0], [345, 345, 7, None])
    assert ids == ["12-345", "12-345#2", "7", "row-4"]
    assert dup == [True, True, False, False]
    assert missing == [False, False, False, True]
    assert is_garden_land_use("ONT+CLN") and is_garden_land_use("cln")
    assert not is_garden_land_use("LUC") and not is_garden_land_use(None)


@needs_sample
def test_sample_commune_parcels():
    out, warned = _read(LAYERS / "thanh_binh.gpkg")
    raw = gpd.read_file(LAYERS / "thanh_binh.gpkg", layer="parcels")
    assert len(out) == len(raw)
    assert out["parcel_id"].is_unique
    expected = [f"{s}-{p}" for s, p in zip(raw["SHBANDO"], raw["SHTHUA"])]
    assert out["parcel_id"].tolist() == expected
    np.testing.assert_allclose(out["area_m2"].astype(float), raw["DIENTICH"])
    assert set(out["parcel_status"]) == {"ok"}
    assert out["overlap_m2"].sum() == 0
    assert warned == []


def test_gpkg_written_by_cli_is_version_1_2(tmp_path):
    from click.testing import CliRunner

    from ntmgis.cli import cli

    parcels = tmp_path / "p.gpkg"
    _parcels().to_file(parcels)
    survey = tmp_path / "s.csv"
    survey.write_text("Số tờ,Số thửa,Phân loại vườn\n12,1,Vườn tạp\n12,9,VM\n", encoding="utf-8")
    out = tmp_path / "out.gpkg"
    result = CliRunner().invoke(cli, ["survey", str(parcels), str(survey), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "survey rows: 2 = 1 matched + 1 unmatched" in result.output
    with sqlite3.connect(out) as con:
        assert con.execute("pragma user_version").fetchone()[0] == 10200
    import pyogrio

    assert [n for n, _ in pyogrio.list_layers(out)] == [
        "parcels",
        "survey_unmatched",
        "join_issues",
    ]
    joined = gpd.read_file(out, layer="parcels")
    assert joined["survey_status"].tolist() == ["matched", "no_survey", "no_survey", "no_survey"]
    unmatched = pyogrio.read_dataframe(out, layer="survey_unmatched")
    assert unmatched["survey_row"].tolist() == [3]
    assert unmatched["reason"].tolist() == ["parcel_not_found"]
    # headers the aliases do not know, named on the command line
    survey.write_text("Tờ,Thửa,Xếp hạng\n12,2,Vườn mẫu\n", encoding="utf-8")
    args = ["survey", str(parcels), str(survey), "-o", str(out), "--survey-field",
            "sheet=Tờ", "--survey-field", "parcel_no=Thửa", "--survey-field",
            "garden_class_raw=Xếp hạng", "--report", str(tmp_path / "r.xlsx")]  # fmt: skip
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    joined = gpd.read_file(out, layer="parcels")
    assert joined["garden_class"].tolist()[1] == "Vườn mẫu"
    assert (tmp_path / "r.xlsx").exists()
    # an error is one clear message, not a traceback
    bad = CliRunner().invoke(cli, ["survey", str(tmp_path / "none.gpkg"), str(survey), "-o",
                                   str(out)])  # fmt: skip
    assert bad.exit_code != 0 and isinstance(bad.exception, DataNotFoundError)


def _dxf(polylines, texts, closed=True):
    """A minimal R12 DXF written by hand: POLYLINE/VERTEX entities and TEXT labels."""
    out = ["0", "SECTION", "2", "ENTITIES"]
    for pts in polylines:
        out += ["0", "POLYLINE", "8", "THUA", "66", "1", "70", "1" if closed else "0"]
        for x, y in pts:
            out += ["0", "VERTEX", "8", "THUA", "10", str(x), "20", str(y), "30", "0.0"]
        out += ["0", "SEQEND", "8", "THUA"]
    for (x, y), text in texts:
        out += ["0", "TEXT", "8", "NHAN", "10", str(x), "20", str(y), "30", "0.0", "40", "2.0"]
        out += ["1", text]
    out += ["0", "ENDSEC", "0", "EOF"]
    return "\n".join(out) + "\n"


def test_dxf_closed_polylines_with_labels(tmp_path):
    squares = [[(X0 + a, Y0), (X0 + a + 10, Y0), (X0 + a + 10, Y0 + 10), (X0 + a, Y0 + 10)]
               for a in (0, 10, 20)]  # fmt: skip
    texts = [((X0 + 5, Y0 + 5), "7"), ((X0 + 5, Y0 + 3), "ONT+CLN"), ((X0 + 5, Y0 + 1), "100.0"),
             ((X0 + 15, Y0 + 5), "8"), ((X0 + 15, Y0 + 2), "LUC")]  # fmt: skip
    path = tmp_path / "to12.dxf"
    path.write_text(_dxf(squares, texts), encoding="ascii")
    out, warned = _read(path, crs="EPSG:9209", sheet=12)
    assert out["parcel_id"].tolist() == ["12-7", "12-8", "row-3"]
    assert out["land_use"].tolist()[:2] == ["ONT+CLN", "LUC"]
    assert out["area_m2"].tolist() == [100.0, 100.0, 100.0]  # 2 and 3 from the geometry
    assert out["parcel_status"].tolist() == ["ok", "ok", "missing_key"]
    assert out["DXF_TEXT"].tolist()[0] == "7 | ONT+CLN | 100.0"
    assert any("no parcel number" in w for w in warned)
    with pytest.raises(SchemaError, match="sheet column"):
        read_parcels(_parcels(), sheet=3)


def test_dxf_open_lines_are_polygonized(tmp_path):
    # a 20 x 10 block cut in two by a middle line: three open polylines
    lines = [[(X0, Y0), (X0 + 20, Y0), (X0 + 20, Y0 + 10), (X0, Y0 + 10), (X0, Y0)],
             [(X0 + 10, Y0), (X0 + 10, Y0 + 10)]]  # fmt: skip
    path = tmp_path / "open.dxf"
    path.write_text(_dxf(lines, [((X0 + 5, Y0 + 5), "1"), ((X0 + 15, Y0 + 5), "2")], closed=False))
    out, _ = _read(path, crs="EPSG:9209", sheet=3)
    assert sorted(out["parcel_id"]) == ["3-1", "3-2"]
    assert out.geometry.area.round(6).tolist() == [100.0, 100.0]
