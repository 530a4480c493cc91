"""ntmgis:fetch_imagery ("Tải ảnh Sentinel-2 cho xã") against the real test servers.

The STAC API (pgstac + stac-fastapi) and nginx of tests/stac/ run on 127.0.0.1 with the
first three sample dates; the algorithm's folder must equal the library's
(``ntmgis.fetch_scenes``) and feed "flag abandoned gardens" in a model.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest
from plugin_cases import GPKG, SURVEY, sample_present

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from stac import servers as _servers  # noqa: E402
from stac import setup_servers  # noqa: E402

PERIOD = "2020-01-01:2020-02-28"
pytestmark = pytest.mark.skipif(not sample_present(), reason="sample commune not in layers/")


@pytest.fixture(scope="module")
def stac(tmp_path_factory):
    missing = _servers.missing_tools()
    if missing:
        message = f"fetch test servers need {', '.join(missing)} (make fetch-deps)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    servers = setup_servers.start(tmp_path_factory.mktemp("stac"), limit=3)
    try:
        yield servers
    finally:
        servers.stop()


def _commune():
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{GPKG}|layername=commune", "commune", "ogr")
    assert layer.isValid()
    return layer


def test_fetch_algorithm_equals_the_library(provider, stac, tmp_path):
    import processing
    import rasterio
    from qgis.core import QgsProcessingFeedback

    import ntmgis

    alg = provider.algorithm("fetch_imagery")
    assert alg is not None and alg.group()
    out = tmp_path / "anh"
    feedback = QgsProcessingFeedback()
    results = processing.run(
        "ntmgis:fetch_imagery",
        {"COMMUNE": _commune(), "PERIOD": PERIOD, "MAX_CLOUD": 100, "CATALOG_URL": stac.es.url,
         "OUTPUT": str(out)},
        feedback=feedback,
    )  # fmt: skip
    assert results["SCENES"] == 3 and results["OUTPUT"] == str(out)
    lib = ntmgis.fetch_scenes(
        GPKG, aoi_layer="commune", period=PERIOD, out=tmp_path / "lib", catalog=stac.es.url,
        max_cloud=100,
    )  # fmt: skip
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(s.id for s in lib)
    for scene in lib:
        for f in sorted((tmp_path / "lib" / scene.id).glob("*.tif")):
            with rasterio.open(f) as a, rasterio.open(out / scene.id / f.name) as b:
                np.testing.assert_array_equal(a.read(1), b.read(1))
                assert a.transform == b.transform


def test_fetch_then_flag_gardens_in_a_model(provider, stac, tmp_path):
    import processing
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelParameter,
        QgsProcessingParameterVectorLayer,
        QgsVectorLayer,
    )

    model = QgsProcessingModelAlgorithm("fetch_then_flag", "ntmgis")
    for name in ("commune", "parcels"):
        model.addModelParameter(
            QgsProcessingParameterVectorLayer(name, name), QgsProcessingModelParameter(name)
        )
    static = QgsProcessingModelChildParameterSource.fromStaticValue
    fetch = QgsProcessingModelChildAlgorithm("ntmgis:fetch_imagery")
    fetch.setChildId("fetch")
    fetch.addParameterSources(
        "COMMUNE", [QgsProcessingModelChildParameterSource.fromModelParameter("commune")]
    )
    for name, value in (("PERIOD", PERIOD), ("MAX_CLOUD", 100), ("CATALOG_URL", stac.es.url),
                        ("OUTPUT", str(tmp_path / "anh"))):  # fmt: skip
        fetch.addParameterSources(name, [static(value)])
    model.addChildAlgorithm(fetch)
    flag = QgsProcessingModelChildAlgorithm("ntmgis:flag_abandoned_gardens")
    flag.setChildId("flag")
    flag.addParameterSources(
        "PARCELS", [QgsProcessingModelChildParameterSource.fromModelParameter("parcels")]
    )
    flag.addParameterSources(
        "IMAGERY", [QgsProcessingModelChildParameterSource.fromChildOutput("fetch", "OUTPUT")]
    )
    for name, value in (("SURVEY", str(SURVEY)), ("PERIOD", PERIOD), ("MAPS", False),
                        ("NAME", "xa"), ("OUTPUT_FOLDER", str(tmp_path / "ket_qua"))):  # fmt: skip
        flag.addParameterSources(name, [static(value)])
    model.addChildAlgorithm(flag)
    parcels = QgsVectorLayer(f"{GPKG}|layername=parcels", "parcels", "ogr")
    processing.run(model, {"commune": _commune(), "parcels": parcels})
    import geopandas as gpd

    got = gpd.read_file(tmp_path / "ket_qua" / "xa.gpkg", layer="parcels")
    assert len(got) == 1600  # every parcel, flagged from the three fetched dates
    assert got["flag"].notna().sum() > 1000
