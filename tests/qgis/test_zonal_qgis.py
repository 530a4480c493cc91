"""``ntmgis.zonal_stats`` against QGIS's own zonal statistics on grid-aligned polygons (issue 17).

QGIS's ``edge_problem`` case: a polygon whose edges lie on pixel boundaries. An
all-touched rasterizing that counts the pixels such an edge only touches from outside
gave fid 2 12 pixels instead of 6; ``ntmgis.zonal_stats`` counts the pixels on the
polygon's own side only (``box(0, 0, 2, 2)`` on a unit grid is 4 pixels), as GDAL's
rasterizer (``rasterio.features.rasterize(all_touched=True)``) does today.

The definitions compared, on the same raster:

- QGIS (``QgsZonalStatistics``, ``native:zonalstatisticsfb``): for a polygon larger than a
  pixel, the pixels whose **centre** lies inside it (its "middle point test");
- ``weights="centroid"``: the same rule, so the same pixels (no centre lies on an edge
  here: ties are where GDAL's fill rule and GEOS's ``contains`` could part);
- ``weights="all_touched"``: every pixel the polygon's **inside** touches. On a polygon
  whose edges all lie on pixel boundaries this is the centre rule's pixels too (QGIS's
  count); on a sloped or an off-grid edge it is more than QGIS counts, by design.

Raster: 8 x 8 unit pixels over x, y in [-2, 6]; the pixel of column x, row y (from the
bottom, both from 0 at the origin) holds ``10 y + x + 1``, so a sum names its pixels.
"""

import numpy as np
import pytest

#: wkt, then the hand-counted pixels: (centre rule count, its sum), all-touched count
CASES = {
    # edges on pixel boundaries: pixels (0..1, 0..1) -> 1 + 2 + 11 + 12
    "box(0, 0, 2, 2)": ("POLYGON((0 0,2 0,2 2,0 2,0 0))", 4, 26, 4),
    # the edge_problem fid 2: 3 x 2 pixels, (2 + 3 + 4) + (12 + 13 + 14)
    "box(1, 0, 4, 2)": ("POLYGON((1 0,4 0,4 2,1 2,1 0))", 6, 48, 6),
    # a sloped edge x/4 + y/3.5 = 1 (no pixel centre on it): rows of 3, 2, 1 centres
    # (1+2+3, 11+12, 21); touched: rows of 4, 3, 2, 1 pixels
    "triangle": ("POLYGON((0 0,4 0,0 3.5,0 0))", 6, 50, 10),
    # off-grid edges: centres x = 1.5, y = 2.5 and 3.5 (22 + 32); touched 3 x 2
    "thin box": ("POLYGON((0.75 2.25,2.25 2.25,2.25 3.75,0.75 3.75,0.75 2.25))", 2, 54, 6),
}


@pytest.fixture(scope="module")
def raster(tmp_path_factory):
    import rasterio
    from affine import Affine

    path = tmp_path_factory.mktemp("zonal") / "grid.tif"
    rows = np.arange(8)[:, None]  # raster row 0 is the top: map row y = 5 - row
    cols = np.arange(8)[None, :]
    values = (10 * (5 - rows) + (cols - 2) + 1).astype("float32")
    profile = {"driver": "GTiff", "width": 8, "height": 8, "count": 1, "dtype": "float32",
               "crs": "EPSG:32648", "transform": Affine(1, 0, -2, 0, -1, 6)}  # fmt: skip
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(values, 1)
    return path


def _polygons():
    from qgis.core import QgsFeature, QgsGeometry, QgsVectorLayer

    layer = QgsVectorLayer("Polygon?crs=EPSG:32648&field=name:string", "edges", "memory")
    features = []
    for name, (wkt, *_counts) in CASES.items():
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromWkt(wkt))
        feature.setAttribute("name", name)
        features.append(feature)
    ok, _ = layer.dataProvider().addFeatures(features)
    assert ok and layer.featureCount() == len(CASES)
    return layer


def _qgis_counts(raster):
    """Count and sum per polygon by ``QgsZonalStatistics`` (the class behind the tools)."""
    from qgis.analysis import QgsZonalStatistics
    from qgis.core import QgsRasterLayer

    layer = _polygons()
    grid = QgsRasterLayer(str(raster), "grid")
    assert grid.isValid()
    wanted = QgsZonalStatistics.Statistic.Count | QgsZonalStatistics.Statistic.Sum
    assert QgsZonalStatistics(layer, grid, "q_", 1, wanted).calculateStatistics(None) == 0
    return {f["name"]: (int(f["q_count"]), float(f["q_sum"])) for f in layer.getFeatures()}


def _ntmgis_counts(raster, weights):
    import geopandas as gpd
    from shapely import wkt

    import ntmgis

    parcels = gpd.GeoDataFrame(
        {"name": list(CASES)}, geometry=[wkt.loads(c[0]) for c in CASES.values()],
        crs="EPSG:32648",
    )  # fmt: skip
    table = ntmgis.zonal_stats(parcels, [str(raster)], stats=["count", "sum"], weights=weights)
    count = next(c for c in table.columns if c.endswith(":count"))
    total = next(c for c in table.columns if c.endswith(":sum"))
    return {n: (int(table[count][i]), float(table[total][i])) for i, n in enumerate(CASES)}


def test_qgis_counts_the_pixel_centres_inside(qgis_app, raster):
    got = _qgis_counts(raster)
    assert got == {name: (c[1], c[2]) for name, c in CASES.items()}


def test_processing_zonal_statistics_agrees(qgis_app, qgis_processing, raster):
    import processing
    from qgis.core import QgsRasterLayer

    done = processing.run(
        "native:zonalstatisticsfb",
        {"INPUT": _polygons(), "INPUT_RASTER": QgsRasterLayer(str(raster), "grid"),
         "RASTER_BAND": 1, "COLUMN_PREFIX": "q_", "STATISTICS": [0, 1],
         "OUTPUT": "memory:"},
    )  # fmt: skip
    got = {f["name"]: (int(f["q_count"]), float(f["q_sum"])) for f in done["OUTPUT"].getFeatures()}
    assert got == _qgis_counts(raster)


def test_centroid_mode_takes_the_same_pixels_as_qgis(qgis_app, raster):
    assert _ntmgis_counts(raster, "centroid") == _qgis_counts(raster)


def test_all_touched_equals_qgis_on_grid_aligned_edges_only(qgis_app, raster):
    touched = _ntmgis_counts(raster, "all_touched")
    qgis = _qgis_counts(raster)
    assert {n: count for n, (count, _) in touched.items()} == {n: c[3] for n, c in CASES.items()}
    # edges on pixel boundaries: a pixel touched only from outside is not counted (issue
    # 17: GDAL's all-touched counted 12 for the 6 pixels of box(1, 0, 4, 2))
    for name in ("box(0, 0, 2, 2)", "box(1, 0, 4, 2)"):
        assert touched[name] == qgis[name]
    # a sloped or off-grid edge: the pixels it crosses count too, which QGIS's centre
    # rule leaves out (the definitions differ there, by design)
    for name in ("triangle", "thin box"):
        assert touched[name][0] > qgis[name][0]


def test_all_touched_burns_the_pixels_gdal_burns(qgis_app):
    from affine import Affine
    from rasterio.features import rasterize
    from shapely import wkt

    for name, (text, _count, _sum, touched) in CASES.items():
        burned = rasterize([wkt.loads(text)], out_shape=(8, 8), all_touched=True,
                           transform=Affine(1, 0, -2, 0, -1, 6))  # fmt: skip
        assert int(burned.sum()) == touched, name
