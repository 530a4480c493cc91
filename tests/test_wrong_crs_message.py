"""A parcel layer with a wrong CRS gets a short message that says it is the CRS (issue 19)."""

from pathlib import Path

import geopandas as gpd
import pytest

import ntmgis
from ntmgis import i18n
from ntmgis.errors import ImageryError

LAYERS = Path(__file__).resolve().parents[1] / "layers"
pytestmark = pytest.mark.skipif(not (LAYERS / "s2").is_dir(), reason="sample not in layers/")


@pytest.mark.parametrize("lang, words", [("en", "coordinate reference system (CRS)"),
                                         ("vi", "hệ tọa độ (CRS)")])  # fmt: skip
def test_parcels_in_a_wrong_crs_are_named_as_a_crs_problem(tmp_path, lang, words):
    commune = gpd.read_file(LAYERS / "thanh_binh.gpkg", layer="commune")
    # the same numbers declared in the wrong VN-2000 zone (107°E instead of 105°30')
    wrong = commune.set_crs("EPSG:9214", allow_override=True)
    scenes = ntmgis.find_scenes(LAYERS / "s2")
    i18n.set_language(lang)
    try:
        with pytest.raises(ImageryError) as caught:
            ntmgis.read_time_series(scenes, aoi=wrong, indices=["ndvi"])
    finally:
        i18n.set_language(None)
    text = str(caught.value)
    assert words in text
    assert "EPSG:9214" in text
    assert f"{len(scenes)}" in text
    assert len(text) < 800  # not a list of every scene
    # where the parcels landed: 1.5° east of the scenes (107° - 105.5°)
    lon = float(text.split("EPSG:9214")[1].split("–")[0].split()[-1])
    assert 107.0 < lon < 107.3
