"""Tests for ntmgis.zonal: exact coverage, statistics, statuses, peers' agreement."""

from __future__ import annotations

import glob
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
import shapely.affinity
from affine import Affine
from hypothesis import given, settings
from hypothesis import strategies as st

import ntmgis
from ntmgis.errors import CancelledError, ImageryError, InputError
from ntmgis.stack import RasterStack
from ntmgis.zonal import Coverage, compute_coverage, split_column, zonal_stats

ROOT = Path(__file__).resolve().parents[1]
S2_REAL = next(
    (
        base / "shared" / "data" / "sentinel2_real" / "s2_10m_blue_green_red_nir.tif"
        for base in (ROOT.parent, ROOT.parent.parent)  # /work/main or /work/wt/<name>
        if (base / "shared" / "data" / "sentinel2_real").exists()
    ),
    ROOT.parent / "shared" / "data" / "sentinel2_real" / "s2_10m_blue_green_red_nir.tif",
)
SAMPLE = ROOT / "layers" / "thanh_binh.gpkg"

# a 10 m grid at (500000, 2000000) in UTM 48N
T = Affine(10, 0, 500000, 0, -10, 2000000)
CRS = "EPSG:32648"


@pytest.fixture(autouse=True)
def _english():
    """Messages in English here (their Vietnamese is tested on its own)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


def _box(col0, row0, col1, row1):
    """A box given in pixel coordinates of T (columns/rows, may be fractional)."""
    return shapely.box(
        500000 + 10 * col0, 2000000 - 10 * row1, 500000 + 10 * col1, 2000000 - 10 * row0
    )


def _write(path, data, *, nodata=None, transform=T, crs=CRS, descriptions=None):
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[np.newaxis]
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        height=data.shape[1],
        width=data.shape[2],
        count=data.shape[0],
        dtype=data.dtype,
        crs=crs,
        transform=transform,
        nodata=nodata,
    ) as dst:
        dst.write(data)
        if descriptions:
            for i, d in enumerate(descriptions, start=1):
                dst.set_band_description(i, d)
    return path


def _random_parcels(rng, n, width, height, *, transform=T, margin=3):
    """Rotated rectangles of 10-60 m, some partly outside, a few sub-pixel, some holed."""
    x0, y0 = transform.c, transform.f
    cx = rng.uniform(x0 - margin * 10, x0 + width * 10 + margin * 10, n)
    cy = rng.uniform(y0 - height * 10 - margin * 10, y0 + margin * 10, n)
    w = rng.uniform(10, 60, n)
    h = rng.uniform(10, 60, n)
    small = rng.random(n) < 0.1
    w[small], h[small] = rng.uniform(1, 8, small.sum()), rng.uniform(1, 8, small.sum())
    geoms = []
    for i in range(n):
        g = shapely.affinity.rotate(
            shapely.box(cx[i] - w[i] / 2, cy[i] - h[i] / 2, cx[i] + w[i] / 2, cy[i] + h[i] / 2),
            rng.uniform(0, 90),
        )
        if i % 7 == 3 and w[i] > 25 and h[i] > 25:
            g = g.difference(shapely.Point(cx[i], cy[i]).buffer(min(w[i], h[i]) / 4))
        geoms.append(g)
    return gpd.GeoDataFrame({"pid": np.arange(n)}, geometry=geoms, crs=CRS)


# --------------------------------------------------------------------------------------
# exact coverage against hand-computed and independent (shapely) areas
# --------------------------------------------------------------------------------------


def test_coverage_hand_computed():
    grid = (T, (3, 3))
    holed = shapely.Polygon(
        shapely.box(*_box(0, 0, 3, 3).bounds).exterior.coords,
        [shapely.box(*_box(0.5, 0.5, 2.5, 2.5).bounds).exterior.coords],
    )
    cov = compute_coverage([_box(0.5, 0.5, 1.5, 1.5), _box(0.1, 0.2, 0.4, 0.9), holed], grid)
    dense = np.zeros((3, 9))
    dense[:, cov.pixels] = cov.matrix.toarray()
    np.testing.assert_allclose(dense[0], [0.25, 0.25, 0, 0.25, 0.25, 0, 0, 0, 0], atol=1e-12)
    np.testing.assert_allclose(dense[1], [0.3 * 0.7, 0, 0, 0, 0, 0, 0, 0, 0], atol=1e-12)
    ring = [0.75, 0.5, 0.75, 0.5, 0.0, 0.5, 0.75, 0.5, 0.75]
    np.testing.assert_allclose(dense[2], ring, atol=1e-12)
    assert list(cov.status) == ["ok", "ok", "ok"]
    pixels = cov.pixel_table()
    first = pixels[pixels["parcel"] == 0].sort_values(["row", "col"])
    assert first[["row", "col"]].values.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    np.testing.assert_allclose(first["weight"], 0.25)
    assert len(pixels) == 4 + 1 + 8


def test_coverage_matches_shapely_intersection_areas():
    rng = np.random.default_rng(5)
    # random star-shaped polygons (concave, many vertices) and multipolygons
    geoms = []
    for _ in range(25):
        k = rng.integers(5, 14)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(3, 25, k)
        cx, cy = rng.uniform(500030, 500170), rng.uniform(1999830, 1999970)
        geoms.append(shapely.Polygon(np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]))
    geoms.append(shapely.MultiPolygon([_box(1.2, 1.3, 2.7, 4.1), _box(6.5, 6.5, 9.9, 7.2)]))
    cov = compute_coverage(geoms, (T, (20, 20)))
    pix = cov.pixels
    cells = shapely.box(
        500000 + 10 * (pix % 20), 2000000 - 10 * (pix // 20 + 1),
        500000 + 10 * (pix % 20 + 1), 2000000 - 10 * (pix // 20),
    )  # fmt: skip
    dense = cov.matrix.toarray()
    for i, g in enumerate(geoms):
        expected = shapely.area(shapely.intersection(cells, g)) / 100.0
        np.testing.assert_allclose(dense[i], expected, atol=1e-9)
        assert dense[i].sum() == pytest.approx(g.area / 100.0, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 80.0), st.floats(0.0, 80.0)), min_size=3, max_size=12),
    st.floats(0.05, 2.0),
)
def test_coverage_property_areas(points, scale):
    # any polygon (concave, tiny, on pixel edges): weights in [0, 1], summing to its area
    poly = shapely.Polygon([(500000 + x * scale, 2000000 - y * scale) for x, y in points])
    poly = shapely.make_valid(poly)
    if poly.is_empty or poly.area < 1e-6 or poly.geom_type not in ("Polygon", "MultiPolygon"):
        return
    cov = compute_coverage([poly], (T, (20, 20)))
    weights = cov.matrix.data
    assert (weights > 0).all() and (weights <= 1 + 1e-12).all()
    # pixel coordinates come from x ~ 5e5 m: ~1e-11 pixel of absolute rounding
    assert weights.sum() == pytest.approx(poly.area / 100.0, rel=1e-9, abs=1e-10)


def test_rotated_grid_coverage_sums_to_area():
    rotated = Affine.translation(500000, 2000000) @ Affine.rotation(30) @ Affine.scale(10, -10)
    centres = [rotated * (c, r) for c, r in ((10, 10), (15.3, 12.7), (20, 21), (0.0, 15.0))]
    geoms = [shapely.Point(x, y).buffer(12) for x, y in centres]
    cov = compute_coverage(geoms, (rotated, (30, 30)))
    np.testing.assert_allclose(cov.pixel_count[:3], [g.area / 100 for g in geoms[:3]], rtol=1e-9)
    assert list(cov.status) == ["ok", "ok", "ok", "partial"]
    # the last circle is centred on the grid's left edge: half of it is inside
    assert cov.coverage_fraction[3] == pytest.approx(0.5, rel=1e-9)
    assert cov.pixel_count[3] == pytest.approx(geoms[3].area / 200, rel=1e-9)


# --------------------------------------------------------------------------------------
# statistics, statuses, masks
# --------------------------------------------------------------------------------------


def test_stats_hand_computed_and_statuses():
    values = np.arange(16, dtype="float32").reshape(4, 4)
    parcels = gpd.GeoDataFrame(
        {"name": ["quarter", "sub", "half_out", "outside", "none", "empty"]},
        geometry=[
            _box(0.5, 0.5, 1.5, 1.5),  # a quarter of pixels 0, 1, 4, 5
            _box(2.2, 1.2, 2.6, 1.7),  # inside pixel (1, 2) = 6
            _box(3.0, 0.0, 5.0, 1.0),  # pixel 3 inside, the rest outside
            _box(10, 10, 12, 12),
            None,
            shapely.Polygon(),
        ],
        crs=CRS,
        index=pd.Index(["a", "b", "c", "d", "e", "f"], name="key"),
    )
    table = zonal_stats(
        parcels,
        (values, T, CRS),
        stats=["mean", "sum", "count", "min", "max", "std", "median", "valid", "above_3"],
    )
    assert list(table.index) == ["a", "b", "c", "d", "e", "f"]
    assert table.index.name == "key"
    assert list(table["status"]) == ["ok", "ok", "partial", "outside", "empty_geometry"] + [
        "empty_geometry"
    ]
    np.testing.assert_allclose(table["coverage_fraction"].iloc[:4], [1, 1, 0.5, 0])
    assert table["coverage_fraction"].iloc[4:].isna().all()
    a = table.loc["a"]
    assert a["band1:mean"] == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert a["band1:count"] == pytest.approx(1.0)
    assert a["band1:sum"] == pytest.approx(2.5)
    assert (a["band1:min"], a["band1:max"]) == (0.0, 5.0)
    assert a["band1:std"] == pytest.approx(np.std([0, 1, 4, 5]))
    assert a["band1:median"] == pytest.approx(2.5)  # equal weights: the usual median
    assert a["band1:above_3"] == pytest.approx(0.5)
    assert a["band1:valid"] == pytest.approx(1.0)
    b = table.loc["b"]
    assert b["band1:mean"] == 6.0 and b["band1:count"] == pytest.approx(0.2)
    c = table.loc["c"]
    assert c["band1:mean"] == 3.0 and c["band1:count"] == pytest.approx(1.0)
    assert table.loc[["d", "e", "f"], "band1:mean"].isna().all()
    assert table.loc[["d", "e", "f"], "band1:count"].isna().all()


def test_odd_geometries_are_kept_with_a_status():
    values = np.arange(16, dtype="float32").reshape(4, 4)
    bowtie = shapely.Polygon(
        [(500000, 2000000), (500020, 1999980), (500020, 2000000), (500000, 1999980)]
    )  # self-intersecting: repaired (two triangles of 100 m² each)
    geoms = [
        bowtie,
        shapely.Point(500015, 1999985),
        shapely.LineString([(500000, 2000000), (500030, 1999970)]),
        shapely.MultiPolygon([_box(0, 0, 1, 1), _box(3, 3, 5, 5)]),  # 2nd part half outside
    ]
    table = zonal_stats(geoms, (values, T, CRS), stats=["mean", "count"])
    assert list(table["status"]) == ["ok", "empty_geometry", "empty_geometry", "partial"]
    assert table["band1:count"].iloc[0] == pytest.approx(2.0)
    # each triangle covers half of two pixels: 0 and 4 (left), 1 and 5 (right)
    assert table["band1:mean"].iloc[0] == pytest.approx((0 + 1 + 4 + 5) / 4)
    assert table["coverage_fraction"].iloc[3] == pytest.approx(2 / 5)
    assert table["band1:mean"].iloc[3] == pytest.approx((0 + 15) / 2)


def test_list_of_files_names_layers_by_folder(tmp_path):
    paths = []
    for i, day in enumerate(["20200113", "20200222"]):
        (tmp_path / day).mkdir()
        paths.append(_write(tmp_path / day / "B08.tif", np.full((3, 3), i + 1, "uint16"), nodata=0))
    table = zonal_stats([_box(0, 0, 2, 2)], paths, stats=["mean"])
    assert list(table.columns[2:]) == ["20200113/B08:mean", "20200222/B08:mean"]
    assert table.iloc[0, 2:].tolist() == [1.0, 2.0]


def test_weighted_quantile_definition():
    # centroid mode: weights 1, values 1..4 -> exactextract's (type 7) quantiles
    values = np.array([[1, 2], [3, 4]], dtype="float32")
    table = zonal_stats(
        [_box(0, 0, 2, 2)], (values, T), stats=["median", "p10", "p90", "p0", "p100"],
        weights="centroid",
    )  # fmt: skip
    row = table.iloc[0]
    assert row["band1:median"] == pytest.approx(2.5)
    assert row["band1:p10"] == pytest.approx(1.3)
    assert row["band1:p90"] == pytest.approx(3.7)
    assert (row["band1:p0"], row["band1:p100"]) == (1.0, 4.0)


def test_masks_per_layer_and_stack():
    data = np.ones((3, 4, 4), dtype="float32")
    data[1] *= 2
    data[2] *= 3
    data[1, 0, 0] = np.nan  # cloud on date 2 over pixel (0, 0)
    data[2, :2, :2] = np.nan  # date 3: the parcel is fully clouded
    stack = RasterStack(data, T, CRS, names=["d1/ndvi", "d2/ndvi", "d3/ndvi"])
    table = zonal_stats([_box(0.5, 0.5, 1.5, 1.5)], stack, stats=["mean", "count", "valid"])
    assert table["d1/ndvi:count"].iloc[0] == pytest.approx(1.0)
    assert table["d2/ndvi:count"].iloc[0] == pytest.approx(0.75)
    assert table["d2/ndvi:valid"].iloc[0] == pytest.approx(0.75)
    assert table["d2/ndvi:mean"].iloc[0] == pytest.approx(2.0)
    assert table["d3/ndvi:count"].iloc[0] == 0.0
    assert np.isnan(table["d3/ndvi:mean"].iloc[0])
    assert table["status"].iloc[0] == "ok"
    assert split_column("d2/ndvi:valid") == ("d2/ndvi", "valid")


def test_nodata_of_integer_raster_is_masked(tmp_path):
    values = np.array([[0, 100], [200, 300]], dtype="uint16")
    path = _write(tmp_path / "u16.tif", values, nodata=0)
    table = zonal_stats([_box(0, 0, 2, 2)], path, stats=["mean", "count", "below_250"])
    # a one-band file without band description: the layer is named after the file
    assert table["u16:mean"].iloc[0] == pytest.approx(200.0)
    assert table["u16:count"].iloc[0] == pytest.approx(3.0)
    assert table["u16:below_250"].iloc[0] == pytest.approx(2 / 3)


def test_blocked_equals_unblocked_and_in_memory(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.random((2, 60, 50)).astype("float32")
    data[0, 10:20, 5:25] = -9999
    path = _write(tmp_path / "two.tif", data, nodata=-9999, descriptions=["nir", "red"])
    parcels = _random_parcels(rng, 200, 50, 60)
    stats = ["mean", "std", "median", "min", "max", "count", "p90"]
    full = zonal_stats(parcels, path, stats=stats, block_rows=10_000)
    blocked = zonal_stats(parcels, path, stats=stats, block_rows=7)
    pd.testing.assert_frame_equal(full, blocked)
    masked = np.where(data == -9999, np.nan, data)
    memory = zonal_stats(parcels, RasterStack(masked, T, CRS, names=["nir", "red"]), stats=stats)
    pd.testing.assert_frame_equal(full, memory)
    as_array = zonal_stats(parcels, (data, T, CRS), stats=stats, nodata=-9999, names=["nir", "red"])
    pd.testing.assert_frame_equal(full, as_array)
    with rasterio.open(path) as ds:  # an open dataset is used and left open
        opened = zonal_stats(parcels, ds, stats=stats, block_rows=13)
        assert not ds.closed
    pd.testing.assert_frame_equal(full, opened)
    assert {"nir:mean", "red:p90"} <= set(full.columns)


def test_coverage_reused_for_every_layer(tmp_path):
    rng = np.random.default_rng(4)
    data = rng.random((4, 40, 40)).astype("float32")
    stack = RasterStack(data, T, CRS, names=[f"2020-0{i + 1}-01/ndvi" for i in range(4)])
    parcels = _random_parcels(rng, 60, 40, 40)
    cov = compute_coverage(parcels, stack)
    assert isinstance(cov, Coverage) and len(cov) == 60
    direct = zonal_stats(parcels, stack, stats=["mean", "p10"])
    reused = cov.zonal_stats(stack, stats=["mean", "p10"])
    via_kw = zonal_stats(None, stack, stats=["mean", "p10"], coverage=cov)
    pd.testing.assert_frame_equal(direct, reused)
    pd.testing.assert_frame_equal(direct, via_kw)
    # one layer alone gives the same numbers as inside the stack
    one = zonal_stats(parcels, (data[2], T, CRS), stats=["mean"])
    np.testing.assert_array_equal(one["band1:mean"], direct["2020-03-01/ndvi:mean"])
    other_grid = RasterStack(data[:, :30], T, CRS, names=list(stack.names))
    with pytest.raises(ImageryError, match="grid"):
        cov.zonal_stats(other_grid)
    other_crs = RasterStack(data, T, "EPSG:32649", names=list(stack.names))
    with pytest.raises(ImageryError, match="EPSG:32649"):
        zonal_stats(None, other_crs, coverage=cov)


def test_parcels_reprojected_to_raster_crs(tmp_path):
    rng = np.random.default_rng(6)
    data = rng.random((30, 30)).astype("float32")
    path = _write(tmp_path / "r.tif", data)
    parcels = _random_parcels(rng, 40, 30, 30, margin=0)
    here = zonal_stats(parcels, path, stats=["mean", "count"])
    there = zonal_stats(parcels.to_crs("EPSG:4326"), path, stats=["mean", "count"])
    np.testing.assert_allclose(there["r:mean"], here["r:mean"], rtol=1e-6)
    np.testing.assert_allclose(there["r:count"], here["r:count"], rtol=1e-5)


def test_progress_and_cancel():
    data = np.ones((3, 20, 20), dtype="float32")
    stack = RasterStack(data, T, CRS, names=["a", "b", "c"])
    seen = []
    zonal_stats([_box(1, 1, 3, 3)], stack, progress=lambda f, m: seen.append((f, m)))
    assert seen and seen[-1][0] == pytest.approx(1.0)
    assert all(b[0] >= a[0] for a, b in zip(seen, seen[1:]))
    with pytest.raises(CancelledError):
        zonal_stats([_box(1, 1, 3, 3)], stack, progress=lambda f, m: False)


def test_bad_options_are_clear_errors():
    with pytest.raises(InputError, match="Unknown statistic 'mode'"):
        zonal_stats([_box(0, 0, 1, 1)], (np.ones((2, 2)), T), stats=["mode"])
    with pytest.raises(InputError, match="weights must be one of"):
        zonal_stats([_box(0, 0, 1, 1)], (np.ones((2, 2)), T), weights="area")
    with pytest.raises(InputError, match="layer names"):
        zonal_stats([_box(0, 0, 1, 1)], (np.ones((2, 2, 2)), T), names=["only_one"])


def test_all_outside_warns_about_crs():
    with pytest.warns(ntmgis.NtmgisWarning, match="CRS"):
        table = zonal_stats([_box(100, 100, 101, 101)], (np.ones((2, 2)), T, CRS))
    assert table["status"].iloc[0] == "outside"


def test_public_names_registered():
    assert ntmgis.zonal_stats is zonal_stats
    assert ntmgis.compute_coverage is compute_coverage


# --------------------------------------------------------------------------------------
# agreement with the peers
# --------------------------------------------------------------------------------------

EE_OPS = ["mean", "count", "sum", "stdev", "min", "max", "median", "quantile(q=0.9)"]
EE_COLS = {
    "mean": "mean",
    "count": "count",
    "sum": "sum",
    "stdev": "std",
    "min": "min",
    "max": "max",
    "median": "median",
    "quantile_90": "p90",
}


def _exactextract(path, gdf, band_names):
    from exactextract import exact_extract

    out = exact_extract(str(path), gdf, EE_OPS, output="pandas")
    return out


def _assert_agrees_with_exactextract(path, gdf, ours, band_names):
    ee = _exactextract(path, gdf, band_names)
    with rasterio.open(path) as ds:
        float_data = ds.dtypes[0].startswith("float")
    for band_i, band in enumerate(band_names):
        for ee_op, stat in EE_COLS.items():
            col = ee_op if len(band_names) == 1 else f"band_{band_i + 1}_{ee_op}"
            expected = ee[col].to_numpy(dtype=float)
            got = ours[f"{band}:{stat}"].to_numpy()
            # exactextract stores coverage fractions in float32: 1e-6 relative
            if stat in ("median", "p90") and not float_data:
                # exactextract truncates quantiles of integer rasters to integers, and its
                # result then depends on the order of tied values: not a reference there
                continue
            rtol = 1e-6 if stat in ("mean", "count", "sum", "std", "min", "max") else 1e-4
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=1e-9, err_msg=col)


def test_agrees_with_exactextract_synthetic(tmp_path):
    rng = np.random.default_rng(7)
    data = rng.normal(0.4, 0.2, (80, 90)).astype("float32")
    data[30:40, 30:60] = -1.0  # nodata block
    path = _write(tmp_path / "syn.tif", data, nodata=-1.0)
    gdf = _random_parcels(rng, 600, 90, 80)
    ours = zonal_stats(gdf, path, stats=list(EE_COLS.values()), names=["band1"])
    statuses = set(ours["status"])
    assert {"ok", "partial", "outside"} <= statuses
    assert (gdf.area < 100).sum() > 20  # sub-pixel parcels are part of the test
    assert (shapely.get_num_interior_rings(gdf.geometry.values) > 0).sum() > 5
    inside = ours["status"].isin(["ok", "partial"]).to_numpy()
    # exactextract reports count 0 / NaN for parcels outside: compare where it overlaps
    _assert_agrees_with_exactextract(path, gdf[inside], ours[inside], ["band1"])
    assert ours.loc[~inside, "band1:mean"].isna().all()


@pytest.mark.skipif(not S2_REAL.exists(), reason=f"real Sentinel-2 crop not found: {S2_REAL}")
def test_agrees_with_exactextract_real_sentinel2():
    rng = np.random.default_rng(8)
    with rasterio.open(S2_REAL) as ds:
        transform, width, height = ds.transform, ds.width, ds.height
        names = list(ds.descriptions)
        crs = ds.crs
    gdf = _random_parcels(rng, 400, width, height, transform=transform, margin=2)
    gdf = gdf.set_crs(crs.to_wkt(), allow_override=True)
    # parcels arrive in geographic coordinates: ntmgis reprojects them to UTM 19S
    ours = zonal_stats(gdf.to_crs("EPSG:4326"), S2_REAL, stats=list(EE_COLS.values()))
    inside = ours["status"].isin(["ok", "partial"]).to_numpy()
    ours_utm = zonal_stats(gdf, S2_REAL, stats=list(EE_COLS.values()))
    np.testing.assert_allclose(
        ours.filter(like=":mean").to_numpy()[inside],
        ours_utm.filter(like=":mean").to_numpy()[inside],
        rtol=1e-6,
    )
    _assert_agrees_with_exactextract(S2_REAL, gdf[inside], ours_utm[inside], names)


@pytest.mark.parametrize("mode", ["centroid", "all_touched"])
def test_agrees_with_rasterstats(tmp_path, mode):
    from rasterstats import zonal_stats as rs_zonal_stats

    rng = np.random.default_rng(9)
    data = rng.integers(1, 1000, (70, 70)).astype("float32")
    # a nodata value on the file avoids rasterstats' no-nodata bug (GUIDE.md)
    path = _write(tmp_path / "rs.tif", data, nodata=-9999)
    gdf = _random_parcels(rng, 300, 70, 70, margin=-4)
    ours = zonal_stats(
        gdf, path, stats=["mean", "count", "min", "max"], weights=mode, names=["band1"]
    )
    theirs = pd.DataFrame(
        rs_zonal_stats(
            gdf, str(path), stats=["mean", "count", "min", "max"], all_touched=mode == "all_touched"
        )
    )
    np.testing.assert_array_equal(ours["band1:count"].to_numpy(), theirs["count"].to_numpy())
    np.testing.assert_allclose(
        ours["band1:mean"].to_numpy(), theirs["mean"].to_numpy(dtype=float), rtol=1e-12
    )
    np.testing.assert_array_equal(ours["band1:min"], theirs["min"].to_numpy(dtype=float))
    np.testing.assert_array_equal(ours["band1:max"], theirs["max"].to_numpy(dtype=float))
    if mode == "centroid":
        empty = theirs["count"].to_numpy() == 0
        assert empty.sum() > 0  # sub-pixel parcels holding no pixel centre
        assert (ours.loc[empty, "status"] == "no_pixels").all()


@pytest.mark.skipif(not SAMPLE.exists(), reason="sample commune (layers/) not generated yet")
def test_agrees_with_exactextract_sample_commune():
    from exactextract import exact_extract

    parcels = gpd.read_file(SAMPLE, layer="parcels")  # VN-2000 / TM-3 105°30' (EPSG:9209)
    bands = sorted(glob.glob(str(ROOT / "layers" / "s2" / "*" / "B08.tif")))
    assert len(bands) >= 2
    # every date in one call: one coverage (parcels reprojected to UTM 48N), all dates
    stats = ["mean", "count", "sum", "std", "valid"]
    ours = zonal_stats(SAMPLE, bands, stats=stats, parcels_layer="parcels")
    assert len(ours) == len(parcels) and (ours.index == parcels.index).all()
    assert (ours["status"] == "ok").mean() > 0.9
    with rasterio.open(bands[0]) as ds:
        utm = parcels.to_crs(ds.crs.to_wkt())
    counts = []
    for band in bands:
        name = f"{Path(band).parent.name}/B08"
        ee = exact_extract(band, utm, ["mean", "count", "sum", "stdev"], output="pandas")
        has = ee["count"].to_numpy() > 0
        for ee_op, stat in (("mean", "mean"), ("count", "count"), ("sum", "sum"), ("stdev", "std")):
            np.testing.assert_allclose(
                ours[f"{name}:{stat}"].to_numpy()[has],
                ee[ee_op].to_numpy(dtype=float)[has],
                rtol=1e-6,
                atol=1e-9,
                err_msg=f"{name}:{stat}",
            )
        counts.append(ours[f"{name}:valid"].mean())
    # masks are per date: the swath-edge date (nodata over part of the commune) sees less
    assert max(counts) == pytest.approx(1.0, abs=1e-6)
    assert min(counts) < 0.99


def test_cli_zonal_writes_csv_and_gpkg(tmp_path):
    from click.testing import CliRunner

    from ntmgis.cli import cli

    raster = _write(tmp_path / "nir.tif", np.arange(16, dtype="float32").reshape(4, 4))
    parcels = gpd.GeoDataFrame(
        {"SHTHUA": [1, 2]}, geometry=[_box(0.5, 0.5, 1.5, 1.5), _box(10, 10, 11, 11)], crs=CRS
    )
    vector = tmp_path / "parcels.gpkg"
    parcels.to_file(vector, layer="parcels")
    runner = CliRunner()
    csv = tmp_path / "out" / "stats.csv"
    args = ["zonal", str(vector), str(raster), "--layer", "parcels", "--stats", "mean,count"]
    result = runner.invoke(cli, [*args, "-o", str(csv)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv, encoding="utf-8-sig")
    assert table["nir:mean"].tolist()[0] == pytest.approx(2.5)
    assert table["status"].tolist() == ["ok", "outside"]
    gpkg = tmp_path / "out" / "stats.gpkg"
    result = runner.invoke(cli, [*args, "-o", str(gpkg)])
    assert result.exit_code == 0, result.output
    back = gpd.read_file(gpkg)
    assert back["nir:count"].tolist()[0] == pytest.approx(1.0) and len(back) == 2


# --------------------------------------------------------------------------------------
# GDAL's rasterizer rules (rasterstats' centroid and all_touched) on ties
# --------------------------------------------------------------------------------------


def _lattice_polygons(rng, n, transform, size, step):
    """Random polygons with vertices on a ``step``-pixel lattice: pixel centres on edges,
    edges on pixel boundaries, vertices on pixel corners; some cross the raster's left,
    top or bottom edge. Not its right edge: there GDAL 3.10's all-touched line drawing
    can write past the end of its buffer (the reference itself corrupts the heap)."""
    geoms = []
    while len(geoms) < n:
        k = rng.integers(3, 9)
        cx, cy = rng.uniform(1, size - 4.5), rng.uniform(1, size - 1)
        ang = np.sort(rng.uniform(0, 2 * np.pi, k))
        rad = rng.uniform(0.5, 4, k)
        cols = np.round((cx + rad * np.cos(ang)) / step) * step
        rows = np.round((cy + rad * np.sin(ang)) / step) * step
        g = shapely.make_valid(shapely.Polygon([transform * (c, r) for c, r in zip(cols, rows)]))
        if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0:
            geoms.append(g if rng.random() < 0.5 else shapely.reverse(g))  # both windings
    return geoms


def _membership(geom, transform, size, weights):
    cov = compute_coverage([geom], (transform, (size, size)), weights=weights)
    out = np.zeros(size * size, dtype=bool)
    out[cov.pixels[cov.matrix.indices]] = cov.matrix.data > 0
    return out.reshape(size, size)


@pytest.mark.parametrize("weights", ["centroid", "all_touched"])
def test_gdal_rasterizer_ties_on_fuzzed_lattice_polygons(weights):
    from rasterio.features import rasterize

    rng = np.random.default_rng(21)
    size = 16
    transforms = [
        Affine(1, 0, 0, 0, -1, size),
        T,  # 10 m at (500000, 2000000)
        Affine(10, 0, 499985, 0, -10, 2000005),
    ]
    checked = differ = 0
    for transform in transforms:
        for step in (0.5, 0.25):
            for g in _lattice_polygons(rng, 60, transform, size, step):
                gdal = rasterize(
                    [g], out_shape=(size, size), transform=transform,
                    all_touched=weights == "all_touched",
                ).astype(bool)  # fmt: skip
                differ += int((gdal != _membership(g, transform, size, weights)).any())
                checked += 1
    assert checked == 360
    assert differ == 0


def test_all_touched_grid_aligned_edges_touch_from_inside_only():
    unit = Affine(1, 0, 0, 0, -1, 4)
    grid = (unit, (4, 4))
    # box(0, 0, 2, 2): its four pixels (rasterstats/GDAL: 4), not the 2 x 2 + neighbours
    cov = compute_coverage([shapely.box(0, 0, 2, 2)], grid, weights="all_touched")
    assert sorted(cov.pixels[cov.matrix.indices].tolist()) == [8, 9, 12, 13]
    # an aligned square inside the raster: 4, not 9 (its right and bottom neighbours)
    cov = compute_coverage([shapely.box(1, 1, 3, 3)], grid, weights="all_touched")
    assert sorted(cov.pixels[cov.matrix.indices].tolist()) == [5, 6, 9, 10]
    # a hair inside the boundary (1e-6 pixel) is still "on" it, as in GDAL (1e-4)
    cov = compute_coverage([shapely.box(1 - 1e-6, 1, 3, 3)], grid, weights="all_touched")
    assert cov.pixel_count[0] == 4
    # ... but 0.01 pixel over it touches the next column
    cov = compute_coverage([shapely.box(0.99, 1, 3, 3)], grid, weights="all_touched")
    assert cov.pixel_count[0] == 6


def test_centroid_centres_on_edges_follow_gdal():
    # square (0.5, 0.5)-(2.5, 2.5) in pixels: centres on all four edges. GDAL: a centre on
    # the left edge is out, on the right edge in; on a north-up grid both the top and the
    # bottom rows are in (the bottom one through GDAL's horizontal-edge rule)
    unit = Affine(1, 0, 0, 0, -1, 4)
    sq = shapely.box(0.5, 0.5, 2.5, 2.5)
    for g in (sq, shapely.reverse(sq)):
        got = _membership(g, unit, 4, "centroid").astype(int).tolist()
        assert got == [[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0]]


# --------------------------------------------------------------------------------------
# quantiles: exactextract's definition (equal values merged before weighting)
# --------------------------------------------------------------------------------------


def test_quantiles_merge_equal_values_as_exactextract():
    values = np.array([[1, 1], [1, 2]], dtype="float32")
    args = ([_box(0, 0, 2, 2)], (values, T))
    merged = zonal_stats(*args, stats=["median", "p25", "p75"], weights="centroid")
    # distinct values 1 (weight 3) and 2 (weight 1): S = [0, 4], S_n = 4 -> median 1.5
    assert merged["band1:median"].iloc[0] == pytest.approx(1.5)
    assert merged["band1:p25"].iloc[0] == pytest.approx(1.25)
    assert merged["band1:p75"].iloc[0] == pytest.approx(1.75)
    pixels = zonal_stats(*args, stats=["median"], weights="centroid", quantiles="pixels")
    assert pixels["band1:median"].iloc[0] == pytest.approx(1.0)  # every pixel on its own
    with pytest.raises(InputError, match="quantiles must be one of"):
        zonal_stats(*args, stats=["median"], quantiles="type7")


def test_quantiles_agree_with_exactextract_on_repeated_values(tmp_path):
    from exactextract import exact_extract

    rng = np.random.default_rng(31)
    # few distinct values (a classified or quantised raster): ties in every parcel
    data = (rng.integers(0, 6, (60, 60)) / 4).astype("float32")
    path = _write(tmp_path / "classes.tif", data, nodata=-1.0)
    gdf = _random_parcels(rng, 300, 60, 60, margin=-3)
    ops = ["median", "quantile(q=0.1)", "quantile(q=0.9)"]
    ee = exact_extract(str(path), gdf, ops, output="pandas")
    ours = zonal_stats(gdf, path, stats=["median", "p10", "p90"], names=["b"])
    for col, stat in (("median", "median"), ("quantile_10", "p10"), ("quantile_90", "p90")):
        np.testing.assert_allclose(
            ours[f"b:{stat}"], ee[col].to_numpy(float), rtol=1e-6, atol=1e-7, err_msg=col
        )
    # the per-pixel definition differs on these parcels: the parameter matters
    alt = zonal_stats(gdf, path, stats=["median"], names=["b"], quantiles="pixels")
    assert (np.abs(alt["b:median"] - ours["b:median"]) > 1e-3).sum() > 30


# --------------------------------------------------------------------------------------
# GDAL mask bands; a truncated raster
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("internal", [True, False])
def test_gdal_mask_bands_are_honoured(tmp_path, internal):
    from exactextract import exact_extract
    from rasterstats import zonal_stats as rs_zonal_stats

    data = np.arange(100, dtype="float32").reshape(10, 10) + 1
    mask = np.full((10, 10), 255, dtype="uint8")
    mask[:, :5] = 0  # the left half is masked (no nodata value on the file)
    path = tmp_path / "masked.tif"
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=internal):
        with rasterio.open(
            path, "w", driver="GTiff", width=10, height=10, count=1, dtype="float32",
            crs=CRS, transform=T,
        ) as dst:  # fmt: skip
            dst.write(data, 1)
            dst.write_mask(mask)
    assert (tmp_path / "masked.tif.msk").exists() != internal
    parcels = gpd.GeoDataFrame(geometry=[_box(0, 0, 10, 10), _box(0, 0, 4, 4)], crs=CRS)
    ours = zonal_stats(parcels, path, stats=["count", "mean"], names=["b"])
    ee = exact_extract(str(path), parcels, ["count", "mean"], output="pandas")
    rs = pd.DataFrame(rs_zonal_stats(parcels, str(path), stats=["count", "mean"]))
    # 50 clear pixels, as exactextract and rasterstats count them (not 100)
    assert ours["b:count"].tolist() == [50.0, 0.0]
    assert ee["count"].tolist()[0] == pytest.approx(50.0) and rs["count"].tolist() == [50, 0]
    expected = data[:, 5:].mean()
    assert ours["b:mean"].iloc[0] == pytest.approx(expected)
    assert ee["mean"].iloc[0] == pytest.approx(expected) and rs["mean"].iloc[0] == expected
    assert np.isnan(ours["b:mean"].iloc[1])


def _truncated_raster(tmp_path, fraction=0.6):
    import os

    rng = np.random.default_rng(41)
    data = rng.random((2, 128, 128)).astype("float32")
    path = tmp_path / "cut.tif"
    with rasterio.open(
        path, "w", driver="GTiff", width=128, height=128, count=2, dtype="float32", crs=CRS,
        transform=T, tiled=True, blockxsize=32, blockysize=32, compress="deflate",
    ) as dst:  # fmt: skip
        dst.write(data)
    full = tmp_path / "full.tif"
    full.write_bytes(path.read_bytes())
    with open(path, "r+b") as f:
        f.truncate(int(os.path.getsize(path) * fraction))
    return path, full


def test_truncated_raster_parcels_over_lost_blocks_get_a_status(tmp_path):
    from ntmgis.errors import ZonalWarning

    path, full = _truncated_raster(tmp_path)
    rng = np.random.default_rng(42)
    parcels = _random_parcels(rng, 300, 128, 128, margin=-3)
    with pytest.warns(ZonalWarning) as caught:
        table = zonal_stats(parcels, path, stats=["mean", "count"])
    found = [w.message for w in caught if isinstance(w.message, ZonalWarning)]
    assert "cut.tif" in str(found[0]) and found[0].where.endswith("cut.tif")
    assert found[0].what == "zonal.unreadable_blocks"
    reference = zonal_stats(parcels, full, stats=["mean", "count"])
    lost = table["status"] == "unreadable"
    assert 0 < lost.sum() < len(parcels)  # every parcel has a status, none dropped
    assert len(table) == len(parcels)
    means = table.loc[lost, ["band1:mean", "band2:mean"]]
    assert means.isna().any(axis=1).all()  # no value from the readable rest of a block
    # where a layer was readable, its value is the intact file's
    both = reference.loc[lost, ["band1:mean", "band2:mean"]]
    np.testing.assert_array_equal(means.to_numpy()[means.notna()], both.to_numpy()[means.notna()])
    pd.testing.assert_frame_equal(table[~lost], reference[~lost])


def test_unreadable_raster_is_an_imagery_error_naming_the_file(tmp_path):
    path, _ = _truncated_raster(tmp_path, fraction=0.02)  # the header and nothing else
    parcels = [_box(2, 2, 6, 6)]
    try:
        zonal_stats(parcels, path, stats=["mean"])
    except ImageryError as exc:
        assert "cut.tif" in str(exc)
    else:  # pragma: no cover - the test must fail if nothing is raised
        pytest.fail("no ImageryError for a raster whose blocks cannot be read")


def test_gdal_block_cache_is_restored_after_reading_an_open_dataset(tmp_path):
    from rasterio.env import get_gdal_config

    path = _write(tmp_path / "r.tif", np.ones((2, 20, 20), "float32"))
    before = get_gdal_config("GDAL_CACHEMAX")
    with rasterio.open(path) as ds:
        zonal_stats([_box(1, 1, 3, 3)], ds, stats=["mean"])
        assert get_gdal_config("GDAL_CACHEMAX") == before
    zonal_stats([_box(1, 1, 3, 3)], path, stats=["mean"])
    assert get_gdal_config("GDAL_CACHEMAX") == before


# --------------------------------------------------------------------------------------
# CRS mistakes: metres labelled EPSG:4326; a raster without CRS
# --------------------------------------------------------------------------------------


def test_metres_labelled_as_degrees_is_a_crs_error_naming_the_file(tmp_path):
    from ntmgis.errors import CRSError

    path = _write(tmp_path / "r.tif", np.ones((10, 10), "float32"))
    wrong = gpd.GeoDataFrame(geometry=[_box(1, 1, 3, 3), _box(4, 4, 6, 6)], crs="EPSG:4326")
    vector = tmp_path / "thua_dat.gpkg"
    wrong.to_file(vector, layer="parcels")  # UTM metres under a WGS 84 label
    with pytest.raises(CRSError) as caught:
        zonal_stats(vector, path, parcels_layer="parcels")
    assert "thua_dat.gpkg" in str(caught.value) and "EPSG:9209" in str(caught.value)
    assert isinstance(caught.value, ntmgis.NtmgisError)
    with pytest.raises(CRSError):  # the same for a GeoDataFrame
        zonal_stats(wrong, path)


def test_raster_without_crs_is_taken_in_the_parcels_crs_when_they_overlap(tmp_path):
    from ntmgis.errors import CRSError, ZonalWarning

    data = np.arange(100, dtype="float32").reshape(10, 10)
    with_crs = _write(tmp_path / "with.tif", data)
    without = _write(tmp_path / "without.tif", data, crs=None)
    parcels = gpd.GeoDataFrame(geometry=[_box(1, 1, 3, 3), _box(2.5, 4, 7, 6.5)], crs=CRS)
    with pytest.warns(ZonalWarning) as caught:
        got = zonal_stats(parcels, without, stats=["mean", "count"])
    assert any(getattr(w.message, "what", None) == "zonal.raster_no_crs" for w in caught)
    expected = zonal_stats(parcels, with_crs, stats=["mean", "count"])
    np.testing.assert_array_equal(got.iloc[:, 2:].to_numpy(), expected.iloc[:, 2:].to_numpy())
    # parcels in degrees beside a raster without CRS in metres: nowhere near it
    with pytest.raises(CRSError) as err:
        zonal_stats(parcels.to_crs("EPSG:4326"), without)
    assert "gdal_edit.py -a_srs" in str(err.value)


# --------------------------------------------------------------------------------------
# large parcels: runs of whole pixels summed as runs
# --------------------------------------------------------------------------------------


def _large_parcels():
    outer = shapely.affinity.rotate(_box(10.3, 12.7, 80.6, 70.2), 17)
    holed = outer.difference(_box(40.5, 30.5, 55.25, 44.8))
    return gpd.GeoDataFrame(
        geometry=[holed, _box(2.5, 85.2, 97.7, 99.6), _box(85, 5, 120, 60)], crs=CRS
    )  # the last one half outside the raster


def test_runs_give_the_statistics_of_every_pixel(tmp_path, monkeypatch):
    import ntmgis.zonal as zonal

    rng = np.random.default_rng(51)
    data = rng.random((2, 100, 100)).astype("float32")
    data[0, 20:30, 20:60] = -1.0  # nodata inside the runs
    data[1, 50:52, :] = np.nan
    path = _write(tmp_path / "big.tif", data, nodata=-1.0)
    parcels = _large_parcels()
    dense = compute_coverage(parcels, path)  # small enough for dense local grids
    assert dense.runs is None
    # as for parcels too large for a dense grid: touched cells and runs
    monkeypatch.setattr(zonal, "_CHUNK_CELLS", 1000)
    cov = compute_coverage(parcels, path)
    assert cov.runs is not None and len(cov.runs) > 50  # the interiors are runs
    stats = ["mean", "sum", "count", "valid"]
    with_runs = cov.zonal_stats(path, stats=stats)
    in_memory = cov.zonal_stats((np.where(data == -1, np.nan, data), T, CRS), stats=stats)
    monkeypatch.setattr(zonal, "_RUN_MIN", 10**9)  # every pixel an entry, as before
    pixels = compute_coverage(parcels, path)
    assert pixels.runs is None
    every = pixels.zonal_stats(path, stats=stats)
    for table in (with_runs, in_memory):
        np.testing.assert_allclose(
            table.iloc[:, 2:].to_numpy(float), every.iloc[:, 2:].to_numpy(float), rtol=1e-12
        )
    assert list(with_runs["status"]) == ["ok", "ok", "partial"]
    # the public matrix holds every pixel: the same as without runs
    a = cov.pixel_table().sort_values(["parcel", "row", "col"]).reset_index(drop=True)
    b = pixels.pixel_table().sort_values(["parcel", "row", "col"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a[["parcel", "row", "col"]], b[["parcel", "row", "col"]])
    np.testing.assert_allclose(a["weight"], b["weight"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(cov.pixel_count, pixels.pixel_count, rtol=1e-12)
    np.testing.assert_allclose(
        dense.zonal_stats(path, stats=stats).iloc[:, 2:].to_numpy(float),
        every.iloc[:, 2:].to_numpy(float),
        rtol=1e-12,
    )
    # statistics needing each pixel (std, quantiles...) use the whole matrix
    np.testing.assert_allclose(
        cov.zonal_stats(path, stats=["std", "median"]).iloc[:, 2:].to_numpy(float),
        pixels.zonal_stats(path, stats=["std", "median"]).iloc[:, 2:].to_numpy(float),
        rtol=1e-12,
    )


def test_runs_agree_with_exactextract_and_lost_blocks(tmp_path, monkeypatch):
    from exactextract import exact_extract

    import ntmgis.zonal as zonal
    from ntmgis.errors import ZonalWarning

    monkeypatch.setattr(zonal, "_CHUNK_CELLS", 1000)  # runs, as for large parcels
    path, full = _truncated_raster(tmp_path, fraction=0.7)
    parcels = gpd.GeoDataFrame(
        geometry=[_box(3.2, 4.6, 60.1, 50.3), _box(5.5, 90.5, 120.2, 126.7)], crs=CRS
    )
    assert len(compute_coverage(parcels, full).runs) > 50
    ours = zonal_stats(parcels, full, stats=["mean", "count"])
    ee = exact_extract(str(full), parcels, ["mean", "count"], output="pandas")
    np.testing.assert_allclose(
        ours[["band1:mean", "band1:count", "band2:mean", "band2:count"]].to_numpy(float),
        ee[["band_1_mean", "band_1_count", "band_2_mean", "band_2_count"]].to_numpy(float),
        rtol=1e-6,
    )
    with pytest.warns(ZonalWarning):
        cut = zonal_stats(parcels, path, stats=["mean", "count"])
    # the lower parcel lies over blocks past the cut: a status, no number
    assert cut["status"].tolist() == ["ok", "unreadable"]
    assert cut.loc[1, ["band1:mean", "band2:mean"]].isna().any()
    np.testing.assert_array_equal(cut.iloc[0, 2:].to_numpy(float), ours.iloc[0, 2:].to_numpy(float))


def test_polygons_on_the_raster_edge_in_degrees_cover_every_pixel():
    # 1/120 degree pixels are not exact in binary: the raster's own edge lands a hair
    # (1e-13 pixel) outside it in pixel coordinates; no row may be lost to that
    geo = Affine(1 / 120, 0, -25.9, 0, -1 / 120, 37.95)
    h, w = 48, 96
    bounds = shapely.box(-25.9, 37.95 - h / 120, -25.9 + w / 120, 37.95)
    bigger = shapely.box(-26.5, 37.0, -24.5, 38.5)
    cov = compute_coverage([bounds, bigger], (geo, (h, w)))
    np.testing.assert_allclose(cov.pixel_count, [h * w, h * w], rtol=1e-9)
    values = np.arange(h * w, dtype="float64").reshape(h, w)
    table = zonal_stats([bounds, bigger], (values, geo), stats=["sum", "count"])
    np.testing.assert_allclose(table["band1:sum"], values.sum(), rtol=1e-9)
    assert list(table["status"]) == ["ok", "partial"]


def _staircases(rng, n, size):
    """Rectilinear polygons (staircases and L shapes, in pixel units) with edges exactly
    on pixel lines, their vertices moved by a hair (1e-6 pixel: each end still on a
    pixel line for GDAL, even when the two ends are on different lines, as along a
    staircase's step) or by up to 0.004 pixel (edges nearly axis-parallel: one column or
    one row of GDAL's line drawing)."""
    geoms = []
    for k in range(n):
        x0, y0 = rng.uniform(1, size / 2, 2)  # ends before 1 + size / 2 + 12.5
        steps = rng.integers(2, 6)
        dx, dy = rng.uniform(0.3, 2.5, steps), rng.uniform(0.3, 2.5, steps)
        xs = x0 + np.concatenate([[0], np.cumsum(dx)])
        ys = y0 + np.concatenate([[0], np.cumsum(dy)])
        if k % 3 == 0:
            xs, ys = np.round(xs), np.round(ys)
        ring = [(xs[0], ys[0])]
        for i in range(steps):
            ring += [(xs[i + 1], ys[i]), (xs[i + 1], ys[i + 1])]
        ring.append((xs[0], ys[-1]))
        ring = np.array(ring)
        jitter = (1e-6, 0.004)[k % 2] * rng.choice([-1.0, 0.0, 1.0], ring.shape)
        geoms.append(shapely.make_valid(shapely.Polygon(ring + jitter)))
    return [g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0]


@pytest.mark.parametrize("weights", ["coverage", "centroid", "all_touched"])
def test_axis_parallel_edges_in_every_weight_mode(weights):
    # the near-vertical and near-horizontal edges of GDAL's line drawing (one helper for
    # both): pixels as GDAL's rasterizer burns them, areas as shapely intersects them
    from rasterio.features import rasterize

    size = 32  # staircases end before x = 26: GDAL's right edge is not exercised
    unit = Affine(1, 0, 0, 0, -1, size)
    geoms = [shapely.affinity.scale(g, 1, -1, origin=(0, size / 2)) for g in
             _staircases(np.random.default_rng(8), 90, 26)]  # fmt: skip
    assert len(geoms) >= 80
    if weights == "coverage":
        cov = compute_coverage(geoms, (unit, (size, size)), weights=weights)
        dense = np.zeros((len(geoms), size * size))
        dense[:, cov.pixels] = cov.matrix.toarray()
        pix = np.arange(size * size)
        cells = shapely.box(pix % size, size - pix // size - 1, pix % size + 1, size - pix // size)
        for i, g in enumerate(geoms):
            np.testing.assert_allclose(dense[i], shapely.area(shapely.intersection(cells, g)),
                                       atol=1e-9)  # fmt: skip
        return
    differ = 0
    for g in geoms:
        gdal = rasterize([g], out_shape=(size, size), transform=unit,
                         all_touched=weights == "all_touched").astype(bool)  # fmt: skip
        differ += int((gdal != _membership(g, unit, size, weights)).any())
    assert differ == 0


def test_errors_and_warnings_are_vietnamese_by_default():
    from ntmgis.i18n import set_language

    set_language("vi")
    with pytest.raises(InputError, match="Không có cách tính trọng số 'area'"):
        zonal_stats([_box(0, 0, 1, 1)], (np.ones((2, 2)), T), weights="area")
    with pytest.raises(InputError, match="Không có chỉ số thống kê 'mode'"):
        zonal_stats([_box(0, 0, 1, 1)], (np.ones((2, 2)), T), stats=["mode"])
    with pytest.warns(ntmgis.NtmgisWarning, match="Không thửa nào trong 1 thửa") as caught:
        zonal_stats([_box(100, 100, 101, 101)], (np.ones((2, 2)), T, CRS))
    assert "warning.zonal.no_overlap" in {getattr(w.message, "what", None) for w in caught}
    set_language("en")
    with pytest.raises(InputError, match="weights must be one of coverage, centroid"):
        zonal_stats([_box(0, 0, 1, 1)], (np.ones((2, 2)), T), weights="area")


@pytest.mark.parametrize("chunk", [64, 2**20])
def test_run_sums_are_numpys_in_any_order_and_span(monkeypatch, chunk):
    # the runs of whole pixels are summed span by span (cast into one buffer, in order
    # of their starts): every run's sum must be NumPy's reduction of that run, bit for bit
    import ntmgis.zonal as zonal

    monkeypatch.setattr(zonal, "_REDUCE_CHUNK", chunk)
    rng = np.random.default_rng(17)
    for kind in ("float32", "uint16", "bool", "float64"):
        n = 20_000
        if kind == "bool":
            flat = rng.random(n) > 0.4
        elif kind == "uint16":
            flat = rng.integers(0, 65535, n).astype(np.uint16)
        else:
            flat = (rng.normal(size=n) * 10 ** rng.uniform(-4, 6, n)).astype(kind)
            flat[rng.random(n) < 0.01] = np.nan
        start = rng.integers(0, n, 400)  # unsorted, overlapping
        stop = np.minimum(start + rng.integers(1, 3000, 400), n)
        stop[:3] = n  # runs ending at the last value
        dtype = np.int64 if kind == "bool" else np.float64
        got = zonal._run_reduce(flat, start, stop, dtype=dtype)
        want = [
            flat[a:b].sum(dtype=dtype) if b == n
            else np.add.reduceat(flat, [a, b], dtype=dtype)[0]
            for a, b in zip(start, stop)
        ]  # fmt: skip
        np.testing.assert_array_equal(got, np.array(want, dtype=float), err_msg=kind)
