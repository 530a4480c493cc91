"""The peers' own test suites through ntmgis.zonal_stats.

* rasterstats (BSD-3): its ``tests/data`` and the expectations of its
  ``tests/test_zonal.py`` (each test below names the rasterstats test it ports);
* exactextractr (Apache-2.0): ``inst/sao_miguel`` and the values its documentation
  publishes (the island's population 145,603; 9 % of it outside the concelhos),
  plus agreement with exactextract itself (the peer library) on every raster.

Provenance: ``tests/data/README.md``. Every deliberate difference from a peer is a test
here that states it (``test_difference_*``).
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from affine import Affine

from ntmgis.errors import CRSError
from ntmgis.zonal import zonal_stats


@pytest.fixture(autouse=True)
def _english():
    """Messages in English here (their Vietnamese is tested on its own)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


PEERS = Path(__file__).resolve().parent / "data" / "peers"
RS = PEERS / "rasterstats"
SM = PEERS / "sao_miguel"
SLOPE = RS / "slope.tif"
POLYGONS = RS / "polygons.shp"


def _zs(vector, raster, stats, weights="centroid", **kwargs):
    """rasterstats' default rule is GDAL's centroid rule: ``weights="centroid"``."""
    return zonal_stats(vector, raster, stats=stats, weights=weights, names=["v"], **kwargs)


# --------------------------------------------------------------------------------------
# rasterstats tests/test_zonal.py
# --------------------------------------------------------------------------------------


def test_main():  # test_main, test_zonal_global_extent, test_ndarray
    table = _zs(POLYGONS, SLOPE, ["count", "min", "max", "mean"])
    assert table["v:count"].tolist() == [75, 50]
    assert round(table["v:mean"].iloc[0], 2) == 14.66
    # the same from an array with its transform (rasterstats' ndarray + affine)
    with rasterio.open(SLOPE) as src:
        arr, affine, crs = src.read(1), src.transform, src.crs
    from_array = zonal_stats(
        POLYGONS, (arr, affine, crs), stats=["count", "mean"], weights="centroid",
        nodata=-9999.0, names=["v"],
    )  # fmt: skip
    np.testing.assert_array_equal(from_array[["v:count", "v:mean"]], table[["v:count", "v:mean"]])


def test_zonal_nodata():
    assert _zs(POLYGONS, SLOPE, ["count"], nodata=0)["v:count"].tolist() == [75, 50]


def test_multipolygons():
    # the file says EPSG:4326 but holds metres (see test_difference_metres_labelled_4326)
    with rasterio.open(SLOPE) as src:
        crs = src.crs.to_wkt()
    parcels = gpd.read_file(RS / "multipolygons.shp").set_crs(crs, allow_override=True)
    assert _zs(parcels, SLOPE, ["count"])["v:count"].tolist() == [125]


def test_optional_stats():
    table = _zs(POLYGONS, SLOPE, ["min", "max", "sum", "median", "std"])
    assert (table["v:min"] <= table["v:median"]).all()
    assert (table["v:median"] <= table["v:max"]).all()


def test_nodata():  # slope_classes.tif with nodata=1.0
    table = _zs(POLYGONS, RS / "slope_classes.tif", ["count", "min"], nodata=1.0)
    assert table["v:count"].tolist() == [0, 49]  # "used to be 50 if we allowed 1.0"
    assert np.isnan(table["v:min"].iloc[0])
    assert table["v:min"].iloc[1] == 2.0  # rasterstats' minority there is 2.0


def test_dataset_mask():
    table = _zs(POLYGONS, RS / "dataset_mask.tif", ["count"])
    assert table["v:count"].iloc[0] == 75  # the per-dataset mask honoured
    assert table["status"].iloc[1] == "outside"  # rasterstats: count 0, see below


def test_partial_overlap():
    table = _zs(RS / "polygons_partial_overlap.shp", SLOPE, ["count"])
    assert (table["v:count"] > 0).all() and (table["status"] == "partial").all()


def test_all_touched():
    table = _zs(POLYGONS, SLOPE, ["count"], weights="all_touched")
    assert table["v:count"].tolist() == [95, 73]  # 75 and 50 without ALL_TOUCHED


def test_percentile_good():
    table = _zs(POLYGONS, SLOPE, ["median", "p50", "p90"])
    np.testing.assert_array_equal(table["v:p50"], table["v:median"])
    assert (table["v:p50"] <= table["v:p90"]).all()


def test_percentile_nodata():
    # rasterstats: [None, 5.0] (numpy's per-pixel percentile); quantiles="pixels" is that
    table = _zs(POLYGONS, RS / "slope_classes.tif", ["p90"], nodata=1, quantiles="pixels")
    assert np.isnan(table["v:p90"].iloc[0]) and table["v:p90"].iloc[1] == 5.0


def test_all_nodata():
    table = _zs(POLYGONS, RS / "all_nodata.tif", ["count", "valid"])
    assert table["v:count"].tolist() == [0, 0]
    assert table["v:valid"].tolist() == [0, 0]


def test_some_nodata():
    table = _zs(POLYGONS, RS / "slope_nodata.tif", ["count", "valid"])
    assert table["v:count"].tolist() == [39, 31]
    # rasterstats' nodata counts 36 and 19: the pixels not valid (75 and 50 in all)
    np.testing.assert_allclose(table["v:valid"], [39 / 75, 31 / 50])


def test_nan_nodata():
    polygon = shapely.Polygon([[0, 0], [2, 0], [2, 2], [0, 2]])
    arr = np.array([[np.nan, 12.25], [-999, 12.75]])
    table = zonal_stats(
        [polygon], (arr, Affine(1, 0, 0, 0, -1, 2)), nodata=-999, weights="centroid",
        stats=["count", "sum", "mean", "min", "max"], names=["v"],
    )  # fmt: skip
    row = table.iloc[0]
    assert (row["v:count"], row["v:mean"], row["v:min"], row["v:max"]) == (2, 12.5, 12.25, 12.75)


def test_some_nodata_ndarray():
    with rasterio.open(RS / "slope_nodata.tif") as src:
        arr, affine, crs = src.read(1), src.transform, src.crs
    # without nodata, -9999 is a value; with it, masked
    table = zonal_stats(POLYGONS, (arr, affine, crs), stats=["count", "min"], weights="centroid")
    assert table["band1:min"].iloc[0] == -9999.0 and table["band1:count"].iloc[0] == 75
    table = zonal_stats(
        POLYGONS, (arr, affine, crs), stats=["count", "min"], weights="centroid", nodata=-9999.0
    )
    assert table["band1:min"].iloc[0] >= 0.0 and table["band1:count"].iloc[0] == 39


def test_geojson_out_with_no_properties():
    polygon = shapely.Polygon([[0, 0], [0, 0.5], [1, 1.5], [1.5, 2], [2, 2], [2, 0]])
    arr = np.array([[100, 1], [100, 1]])
    table = zonal_stats(
        [polygon], (arr, Affine(1, 0, 0, 0, -1, 2)), stats=["mean"], weights="centroid"
    )
    assert table["band1:mean"].iloc[0] == 34


def test_nan_counts():
    data = np.array([[np.nan, np.nan, np.nan], [0, 0, 0], [1, 4, 5]])
    geom = shapely.from_wkt("POLYGON ((1 0, 4 0, 4 3, 1 3, 1 0))")
    table = zonal_stats(
        [geom], (data, Affine(1, 0, 1, 0, -1, 3)), nodata=0.0, stats=["count", "valid"],
        weights="centroid",
    )  # fmt: skip
    assert table["band1:count"].iloc[0] == 3  # 3 valid pixels (3 nodata, 3 NaN)
    assert table["band1:valid"].iloc[0] == pytest.approx(1 / 3)


# --- deliberate differences from rasterstats ------------------------------------------


def test_difference_no_overlap_is_a_status_not_count_zero():
    # rasterstats: count 0 for polygons off the raster; ntmgis: status "outside", NaN
    # (no pixel was looked at: "0 clear pixels" would be a claim about the ground)
    table = _zs(RS / "polygons_no_overlap.shp", SLOPE, ["count"])
    assert (table["status"] == "outside").all() and table["v:count"].isna().all()
    assert (table["coverage_fraction"] == 0).all()


def test_difference_points_and_lines_are_not_parcels():
    # rasterstats: a point reads its pixel (3 points: 3 pixels, means 11.386 and 35.547),
    # a line the pixels it touches. ntmgis computes statistics of polygons (parcels):
    # other geometries are kept with status "empty_geometry"
    with rasterio.open(SLOPE) as src:
        crs = src.crs.to_wkt()
    for name in ("points", "lines", "multipoints", "multilines"):
        geoms = gpd.read_file(RS / f"{name}.shp").set_crs(crs, allow_override=True)
        table = _zs(geoms, SLOPE, ["count"])
        assert (table["status"] == "empty_geometry").all(), name
        assert table["v:count"].isna().all()


def test_difference_metres_labelled_4326():
    # rasterstats ignores CRSs; multipolygons.shp says WGS 84 over Oregon metres: ntmgis
    # refuses it, naming the file and what to pass
    with pytest.raises(CRSError, match="multipolygons.shp"):
        _zs(RS / "multipolygons.shp", SLOPE, ["count"])


def test_difference_quantiles_by_exactextract_definition():
    # rasterstats uses numpy's per-pixel percentile (5.0 here); ntmgis's default is
    # exactextract's (equal values merged first): 4.7 on these five classes
    table = _zs(POLYGONS, RS / "slope_classes.tif", ["p90"], nodata=1)
    assert table["v:p90"].iloc[1] == pytest.approx(4.7)


def test_difference_no_categorical_stats():
    # rasterstats' categorical=True (class counts), majority, minority, unique, range and
    # nodata are not statistics of ntmgis; class shares are above_T/below_T, and nodata
    # counts are count / valid (test_some_nodata)
    from ntmgis.errors import InputError

    for stat in ("majority", "minority", "unique", "range", "nodata"):
        with pytest.raises(InputError, match="Unknown statistic"):
            _zs(POLYGONS, SLOPE, [stat])


# --- exactextract on rasterstats' data (coverage weights) ------------------------------


def test_rasterstats_data_agrees_with_exactextract():
    from exactextract import exact_extract

    ops = ["count", "mean", "sum", "min", "max", "stdev"]
    for raster in ("slope.tif", "slope_nodata.tif", "dataset_mask.tif"):
        parcels = gpd.read_file(POLYGONS)
        ee = exact_extract(str(RS / raster), parcels, ops, output="pandas")
        ours = zonal_stats(parcels, RS / raster, stats=["count", "mean", "sum", "min", "max",
                                                         "std"], names=["v"])  # fmt: skip
        seen = ours["status"] != "outside"
        for op, stat in zip(ops, ["count", "mean", "sum", "min", "max", "std"]):
            np.testing.assert_allclose(
                ours.loc[seen, f"v:{stat}"], ee.loc[seen.to_numpy(), op].to_numpy(float),
                rtol=1e-6, atol=1e-9, err_msg=f"{raster} {stat}",
            )  # fmt: skip
    # dataset_mask.tif: 50 clear pixels' worth of coverage where exactextract counts 50
    assert ee["count"].iloc[0] == pytest.approx(ours["v:count"].iloc[0], rel=1e-6)


# --------------------------------------------------------------------------------------
# exactextractr inst/sao_miguel
# --------------------------------------------------------------------------------------


def test_sao_miguel_population_published_values():
    count = SM / "gpw_v411_2020_count_2020.tif"
    with rasterio.open(count) as src:
        island = shapely.box(*src.bounds)
    total = zonal_stats([island], count, stats=["sum"], names=["pop"])["pop:sum"].iloc[0]
    assert round(total) == 145_603  # "the value of 145,603 ... by summing the entire raster"
    concelhos = gpd.read_file(SM / "concelhos.gpkg")
    by_concelho = zonal_stats(concelhos, count, stats=["sum"], names=["pop"])
    missing = 1 - by_concelho["pop:sum"].sum() / total
    assert int(100 * missing) == 9  # "9% of the population is unaccounted for"
    assert len(by_concelho) == 6 and (by_concelho["status"] == "ok").all()


@pytest.mark.parametrize(
    "raster",
    [
        "clc2018_v2020_20u1.tif",  # CORINE land cover: uint8 classes, 7.4 Mpx
        "eu_dem_v11.tif",
        "gpw_v411_2020_density_2020.tif",
        "gpw_v411_2020_count_2020.tif",
    ],
)
def test_sao_miguel_agrees_with_exactextract(raster):
    from exactextract import exact_extract

    concelhos = gpd.read_file(SM / "concelhos.gpkg")
    pairs = {
        "mean": "mean", "count": "count", "sum": "sum", "min": "min", "max": "max",
        "std": "stdev", "median": "median", "p10": "quantile(q=0.1)", "p90": "quantile(q=0.9)",
    }  # fmt: skip
    ee = exact_extract(str(SM / raster), concelhos, list(pairs.values()), output="pandas")
    ee.columns = list(pairs)
    ours = zonal_stats(concelhos, SM / raster, stats=list(pairs), names=["v"])
    with rasterio.open(SM / raster) as src:
        integer = src.dtypes[0].startswith("uint")
    for stat in pairs:
        got = ours[f"v:{stat}"].to_numpy(float)
        want = ee[stat].to_numpy(float)
        if stat in ("median", "p10", "p90"):
            if integer:
                # exactextract casts quantiles to the raster's type (truncates uint8)
                got = np.trunc(got + 1e-9)
            rtol = 1e-6  # exactextract returns float32 quantiles on float32 rasters
        else:
            rtol = 1e-9 if stat in ("min", "max") else 1e-6
        np.testing.assert_allclose(got, want, rtol=rtol, err_msg=f"{raster} {stat}")
