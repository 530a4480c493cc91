"""The generated QML styles and the styles embedded in a GeoPackage, loaded by QGIS itself."""

import re
from pathlib import Path

import pytest

from ntmgis import palette, styles

ROOT = Path(__file__).resolve().parents[2]
STYLE_DIR = ROOT / "styles"
QML_FILES = sorted(STYLE_DIR.glob("*.qml"))

FIELDS = [
    ("parcel_no", "int"),
    ("SHTHUA", "int"),
    ("hamlet", "string"),
    ("KHLOAIDAT", "string"),
    ("flag", "string"),
    ("survey_class", "string"),
    ("agreement", "string"),
    ("is_garden", "boolean"),
    ("status", "string"),
]
# rows: parcel_no, SHTHUA, hamlet, KHLOAIDAT, flag, survey_class, agreement, is_garden, status
ROWS = [
    (1, None, "Thôn A", "ONT+CLN", "hoang_hoa", "vuon_tap", "khao_sat_tot_anh_hoang", True, "vuot"),
    (2, None, "Thôn A", "LUC", None, None, None, False, None),
    (3, None, "Thôn B", "CLN", "binh_thuong", None, None, True, "chua_dat"),
    (4, None, "Thôn B", "XYZ", "thieu_du_lieu", "hoang_hoa", "phu_hop", True, "dat"),
]


def _memory_layer():
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    spec = "&".join(f"field={name}:{kind}" for name, kind in FIELDS)
    layer = QgsVectorLayer(f"Polygon?crs=EPSG:9209&{spec}", "test", "memory")
    assert layer.isValid()
    features = []
    for i, row in enumerate(ROWS):
        feature = QgsFeature(layer.fields())
        feature.setAttributes(list(row))
        x = 512000 + 40 * i
        feature.setGeometry(
            QgsGeometry.fromWkt(
                f"POLYGON(({x} 2052000, {x + 30} 2052000, {x + 30} 2052030, {x} 2052030, "
                f"{x} 2052000))"
            )
        )
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


def _python_keys(theme):
    import warnings

    import pandas as pd

    frame = pd.DataFrame(ROWS, columns=[name for name, _ in FIELDS])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "XYZ" is not a land-use code: drawn as "khac"
        return palette.classify(frame, theme).tolist()


def test_every_style_file_is_generated_and_present():
    assert {p.name for p in QML_FILES} == set(styles.STYLE_FILES)


@pytest.mark.parametrize("qml_path", QML_FILES, ids=[p.name for p in QML_FILES])
def test_style_loads_in_qgis_with_palette_colours(qgis_app, qml_path):
    from qgis.core import QgsExpression, QgsExpressionContext, QgsExpressionContextUtils

    layer = _memory_layer()
    message, ok = layer.loadNamedStyle(str(qml_path))
    assert ok, message
    assert layer.labelsEnabled()
    labeling = layer.labeling()
    assert labeling is not None
    settings = labeling.settings()
    assert settings.isExpression
    assert settings.format().font().family().startswith("DejaVu")
    kind, theme = styles.STYLE_FILES[qml_path.name]
    renderer = layer.renderer()
    if theme is None:
        assert renderer.type() == "singleSymbol"
        return
    assert renderer.type() == "categorizedSymbol"
    spec = palette.get_theme(theme)
    categories = renderer.categories()
    assert [c.value() for c in categories] == spec.keys
    assert [c.label() for c in categories] == [c.label_vi for c in spec.categories]
    for category, expected in zip(categories, spec.categories):
        symbol = category.symbol()
        fill = symbol.symbolLayer(0)
        assert fill.fillColor().name().upper() == expected.color.upper()
        assert symbol.symbolLayerCount() == (2 if expected.hatch else 1)
    # QGIS's expression gives each feature the key palette.classify gives it
    expression = QgsExpression(renderer.classAttribute())
    assert not expression.hasParserError(), expression.parserErrorString()
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(layer))
    got = []
    for feature in layer.getFeatures():
        context.setFeature(feature)
        got.append(expression.evaluate(context))
        assert not expression.hasEvalError(), expression.evalErrorString()
    assert got == _python_keys(theme)
    # labels: the parcel number or the hamlet name, whichever field the layer has
    label = QgsExpression(settings.fieldName)
    context.setFeature(next(layer.getFeatures()))
    assert label.evaluate(context) == (1 if kind == "parcels" else "Thôn A")


def test_geopackage_opens_with_embedded_default_style(qgis_app, tmp_path):
    import geopandas as gpd
    from qgis.core import QgsVectorLayer
    from shapely.geometry import box

    from ntmgis.pipeline import write_gpkg_atomic

    geoms = [box(512000 + 40 * i, 2052000, 512030 + 40 * i, 2052030) for i in range(len(ROWS))]
    columns = [name for name, _ in FIELDS]
    parcels = gpd.GeoDataFrame(
        [dict(zip(columns, row)) for row in ROWS], geometry=geoms, crs="EPSG:9209"
    ).drop(columns=["status", "SHTHUA", "KHLOAIDAT"])
    hamlets = gpd.GeoDataFrame(
        {"hamlet": ["Thôn A", "Thôn B"], "status": ["vuot", "chua_dat"]},
        geometry=[box(511990, 2051990, 512080, 2052040), box(512080, 2051990, 512200, 2052040)],
        crs="EPSG:9209",
    )
    path = write_gpkg_atomic(tmp_path / "result.gpkg", {"parcels": parcels, "hamlets": hamlets})
    written = styles.embed_styles(path)
    assert ("parcels", "ntmgis – Hiện trạng vườn (ảnh vệ tinh)", True) in written

    layer = QgsVectorLayer(f"{path}|layername=parcels", "parcels", "ogr")
    assert layer.isValid()
    renderer = layer.renderer()
    assert renderer.type() == "categorizedSymbol"
    assert '"flag"' in renderer.classAttribute()
    assert [c.value() for c in renderer.categories()] == palette.get_theme("flag").keys
    assert layer.labelsEnabled()
    # the other themes are there too, for the style drop-down of the layer properties
    count, ids, names, descriptions, error = layer.listStylesInDatabase()
    assert count == 3, error
    assert "ntmgis – Phân loại vườn (khảo sát)" in names

    hamlet_layer = QgsVectorLayer(f"{path}|layername=hamlets", "hamlets", "ogr")
    assert hamlet_layer.renderer().type() == "categorizedSymbol"
    assert [c.value() for c in hamlet_layer.renderer().categories()] == palette.get_theme(
        "status"
    ).keys


def _project_layers(path):
    """``{name: (source, renderer XML)}`` of the layers of a project file, each valid."""
    from qgis.core import QgsProject, QgsReadWriteContext
    from qgis.PyQt.QtXml import QDomDocument

    project = QgsProject()
    assert project.read(str(path)), path
    layers = {}
    for layer in project.mapLayers().values():
        assert layer.isValid(), f"{path.name}: layer {layer.name()} is not valid"
        document = QDomDocument()
        element = layer.renderer().save(document, QgsReadWriteContext())
        document.appendChild(element)
        labels = layer.labelsEnabled() and layer.labeling().settings().fieldName
        # QGIS 3.30+ gives each symbol layer a fresh random id on every read: not the style
        xml = re.sub(r' id="\{[0-9a-f-]{36}\}"', "", document.toString())
        layers[layer.name()] = (layer.source(), layer.renderer().type(), labels,
                                xml)  # fmt: skip
    project.clear()
    return layers


def test_sample_project_opens_with_every_layer_valid_and_styled(qgis_app, tmp_path):
    import os
    import subprocess
    import sys

    project_file = ROOT / "layers" / "thanh_binh.qgz"
    assert project_file.is_file(), "layers/thanh_binh.qgz: run styles/make_project.py"
    layers = _project_layers(project_file)
    gpkg = str(ROOT / "layers" / "thanh_binh.gpkg")
    assert {name: value[0] for name, value in layers.items()} == {
        "Ranh giới xã": f"{gpkg}|layername=commune",
        "Ranh giới thôn": f"{gpkg}|layername=hamlets",
        "Đường ngõ": f"{gpkg}|layername=lanes",
        "Thửa đất (loại đất)": f"{gpkg}|layername=parcels",
    }  # every layer of the sample, from the GeoPackage beside the project (relative paths)
    parcels = layers["Thửa đất (loại đất)"]
    assert parcels[1] == "categorizedSymbol" and parcels[2]  # land use, numbered
    # what the project's own script makes today, renderer for renderer: not stale
    fresh = tmp_path / "thanh_binh.qgz"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, str(STYLE_DIR / "make_project.py"), str(fresh)],
                          capture_output=True, text=True, timeout=300, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert _project_layers(fresh) == layers


def test_sample_project_parcels_use_the_land_use_palette(qgis_app):
    from qgis.core import QgsProject

    project = QgsProject()
    assert project.read(str(ROOT / "layers" / "thanh_binh.qgz"))
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    parcels = layers["Thửa đất (loại đất)"]
    categories = parcels.renderer().categories()
    theme = palette.get_theme("land_use")
    assert [c.value() for c in categories] == theme.keys
    assert [c.symbol().color().name() for c in categories] == [
        c.color.lower() for c in theme.categories
    ]
    assert [c.label() for c in categories] == [c.label_vi for c in theme.categories]
    assert layers["Đường ngõ"].renderer().symbol().color().name() == "#999999"
    commune = layers["Ranh giới xã"].renderer().symbol().symbolLayer(0)
    assert commune.brushStyle() == 0 and commune.strokeWidth() == 1.0  # outline only


def test_value_maps_show_labels_instead_of_codes(qgis_app):
    # the attribute table and the forms (QGIS, QField) read "Vườn hoang hóa", not hoang_hoa
    layer = _memory_layer()
    message, ok = layer.loadNamedStyle(str(STYLE_DIR / "parcels_flag.qml"))
    assert ok, message
    for field in ("flag", "survey_class", "agreement"):
        setup = layer.editorWidgetSetup(layer.fields().indexOf(field))
        assert setup.type() == "ValueMap", field
        pairs = {k: v for entry in setup.config()["map"] for k, v in entry.items()}
        theme = palette.get_theme(field)
        assert pairs == {c.label_vi: c.key for c in theme.categories}
    from qgis.core import QgsApplication

    formatter = QgsApplication.fieldFormatterRegistry().fieldFormatter("ValueMap")
    index = layer.fields().indexOf("flag")
    config = layer.editorWidgetSetup(index).config()
    assert formatter.representValue(layer, index, config, None, "hoang_hoa") == "Vườn hoang hóa"
    hamlets = _memory_layer()
    message, ok = hamlets.loadNamedStyle(str(STYLE_DIR / "hamlets_status.qml"))
    assert ok, message
    assert hamlets.editorWidgetSetup(hamlets.fields().indexOf("status")).type() == "ValueMap"
