import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
from shapely.geometry import box

from ntmgis import palette, styles
from ntmgis.errors import DataNotFoundError, InputError
from ntmgis.pipeline import write_gpkg_atomic

pytestmark = pytest.mark.usefixtures("english")  # messages matched in English


ROOT = Path(__file__).resolve().parents[1]
QGIS_COLUMNS = [
    "id",
    "f_table_catalog",
    "f_table_schema",
    "f_table_name",
    "f_geometry_column",
    "styleName",
    "styleQML",
    "styleSLD",
    "useAsDefault",
    "description",
    "owner",
    "ui",
    "update_time",
]


def _rgb(hex_color):
    return ",".join(str(int(hex_color[i : i + 2], 16)) for i in (1, 3, 5)) + ",255"


def test_committed_styles_are_generated_from_the_palette(tmp_path):
    written = styles.write_styles(tmp_path)
    assert [p.name for p in written] == list(styles.STYLE_FILES)
    for path in written:
        committed = ROOT / "styles" / path.name
        assert committed.exists(), f"run `python styles/make_styles.py` ({path.name} missing)"
        assert committed.read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"styles/{path.name} is out of date: run `python styles/make_styles.py`"
        )


@pytest.mark.parametrize("name", list(styles.STYLE_FILES))
def test_qml_categories_match_palette(name):
    kind, theme = styles.STYLE_FILES[name]
    root = ET.parse(ROOT / "styles" / name).getroot()
    assert root.tag == "qgis" and root.get("labelsEnabled") == "1"
    text_style = root.find("labeling/settings/text-style")
    assert text_style.get("fontFamily") == "DejaVu Sans"
    expected_label = styles.PARCEL_LABEL if kind == "parcels" else styles.HAMLET_LABEL
    assert text_style.get("fieldName") == expected_label
    renderer = root.find("renderer-v2")
    if theme is None:
        assert renderer.get("type") == "singleSymbol"
        return
    spec = palette.get_theme(theme)
    assert renderer.get("type") == "categorizedSymbol"
    categories = renderer.findall("categories/category")
    assert [c.get("value") for c in categories] == spec.keys
    assert [c.get("label") for c in categories] == [c.label_vi for c in spec.categories]
    symbols = {s.get("name"): s for s in renderer.findall("symbols/symbol")}
    for category, expected in zip(categories, spec.categories):
        symbol = symbols[category.get("symbol")]
        layers = symbol.findall("layer")
        props = {p.get("k"): p.get("v") for p in layers[0].findall("prop")}
        assert props["color"] == _rgb(expected.color)
        assert [layer.get("class") for layer in layers] == (
            ["SimpleFill", "LinePatternFill"] if expected.hatch else ["SimpleFill"]
        )
    if kind == "parcels":
        rendering = root.find("labeling/settings/rendering")
        assert rendering.get("scaleVisibility") == "1"
        assert rendering.get("scaleMax") == str(styles.LABEL_MAX_SCALE)
        placement = root.find("labeling/settings/placement")
        assert placement.get("fitInPolygonOnly") == "1"


def _result(tmp_path, *, status=True):
    parcels = gpd.GeoDataFrame(
        {
            "parcel_no": [1, 2],
            "flag": ["hoang_hoa", None],
            "survey_class": ["vuon_tap", None],
            "agreement": ["khao_sat_tot_anh_hoang", None],
            "is_garden": [True, False],
        },
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)],
        crs="EPSG:9209",
    )
    hamlets = gpd.GeoDataFrame(
        {"hamlet": ["Thôn A"]}, geometry=[box(-5, -5, 25, 15)], crs="EPSG:9209"
    )
    if status:
        hamlets["status"] = ["dat"]
    return write_gpkg_atomic(tmp_path / "r.gpkg", {"parcels": parcels, "hamlets": hamlets})


def test_embed_styles_writes_the_qgis_layer_styles_table(tmp_path):
    path = _result(tmp_path)
    written = styles.embed_styles(path, default="survey")
    assert [(layer, default) for layer, _, default in written] == [
        ("parcels", False),
        ("parcels", True),
        ("parcels", False),
        ("hamlets", True),
    ]
    with sqlite3.connect(path) as con:
        columns = [row[1] for row in con.execute("PRAGMA table_info(layer_styles)")]
        assert columns == QGIS_COLUMNS
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleName, useAsDefault, styleQML "
            "FROM layer_styles ORDER BY id"
        ).fetchall()
        contents = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert contents == ("attributes",)
    assert {r[1] for r in rows} == {"geom"}
    defaults = [(r[0], r[2]) for r in rows if r[3]]
    assert defaults == [
        ("parcels", "ntmgis – Phân loại vườn (khảo sát)"),
        ("hamlets", "ntmgis – Tiến độ của thôn"),
    ]
    assert rows[1][4] == styles.qml("survey_class")
    # the file is still a GeoPackage GDAL reads, with the styles table beside the layers
    names = [name for name, _ in pyogrio.list_layers(path)]
    assert {"parcels", "hamlets", "layer_styles"} <= set(names)
    assert len(gpd.read_file(path, layer="parcels")) == 2


def test_embed_styles_again_replaces_and_keeps_one_default(tmp_path):
    path = _result(tmp_path, status=False)
    styles.embed_styles(path)
    written = styles.embed_styles(path, default="agreement")
    assert ("hamlets", "ntmgis – Ranh giới thôn", True) in written
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT f_table_name, styleName, useAsDefault FROM layer_styles")
        rows = rows.fetchall()
    assert len(rows) == 4
    assert sorted(r[:2] for r in rows if r[2]) == [
        ("hamlets", "ntmgis – Ranh giới thôn"),
        ("parcels", "ntmgis – Đối chiếu khảo sát và ảnh vệ tinh"),
    ]


def test_embed_styles_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="(?i)geopackage not found"):
        styles.embed_styles(tmp_path / "none.gpkg")
    not_gpkg = tmp_path / "x.gpkg"
    with sqlite3.connect(not_gpkg) as con:
        con.execute("CREATE TABLE t (a)")
    with pytest.raises(InputError, match="not a GeoPackage"):
        styles.embed_styles(not_gpkg)
    with pytest.raises(InputError, match="Unknown layer kind"):
        styles.qml("flag", layer="lanes")
