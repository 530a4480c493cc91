"""VN-2000 zones, EPSG:6960, CRS checks."""

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
from shapely.geometry import Point

from ntmgis import crs as C
from ntmgis.errors import CRSError

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "vn2000"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason="../shared/data/vn2000 not present (CI has it)"
)


def test_province_zone_by_name():
    assert C.province_zone("Hà Tĩnh").epsg == 9209
    assert C.province_zone("ha tinh").central_meridian == 105.5
    assert C.province_zone("TỈNH HÀ TĨNH").epsg == 9209
    assert C.province_zone("TP Hồ Chí Minh").central_meridian == 105.75
    assert C.province_zone("Bà Rịa-Vũng Tàu").central_meridian == 107.75
    assert C.province_zone("Quang Ngai").epsg == 5898
    assert C.province_zone("Điện Biên").crs.name == "VN-2000 / TM-3 103-00"
    with pytest.raises(CRSError, match="not a Vietnamese province"):
        C.province_zone("Vientiane")


def test_sixty_three_provinces_and_the_2025_merger():
    table = C.provinces()
    assert len(table) == 63
    assert table["province_2025"].notna().all()
    assert table["province_2025"].nunique() == 34
    # each zone's EPSG code names the meridian it holds
    for _, row in table.iterrows():
        crs = pyproj.CRS.from_epsg(int(row["epsg"]))
        lon0 = [p.value for p in crs.coordinate_operation.params if "longitude" in p.name.lower()]
        assert lon0 == [pytest.approx(row["central_meridian_deg"])]


def test_post_2025_province_asks_to_choose():
    with pytest.raises(CRSError, match="Bắc Giang.*107"):
        C.province_zone("Bắc Ninh", post_2025=True)
    zones = C.province_zones("Phú Thọ")
    assert {z.province for z in zones} == {"Phú Thọ", "Vĩnh Phúc", "Hòa Bình"}
    assert {z.central_meridian for z in zones} == {104.75, 105.0, 106.0}
    # unchanged in 2025, or merged within one zone: one answer
    assert C.province_zone("Hà Tĩnh", post_2025=True).epsg == 9209
    assert C.province_zone("Huế").epsg == 9214
    assert C.province_zone("Khánh Hòa", post_2025=True).central_meridian == 108.25


def test_utm_and_custom_meridian():
    assert C.vn2000_utm(48).to_epsg() == 3405
    assert C.vn2000_utm(49).to_epsg() == 3406
    with pytest.raises(CRSError):
        C.vn2000_utm(47)
    custom = C.vn2000_tm3(104.25)
    assert C.is_vn2000(custom)
    x, _ = pyproj.Transformer.from_crs(custom.geodetic_crs, custom, always_xy=True).transform(
        104.25, 18.0
    )
    assert x == pytest.approx(500000.0)


def test_transformation_is_epsg_6960():
    t = C.wgs84_transformer("EPSG:9209", "EPSG:4326")
    assert "VN-2000 to WGS 84 (2)" in t.description
    # same parameters as EPSG's own record of 6960
    op = pyproj.crs.CoordinateOperation.from_epsg(6960)
    params = {p.name: p.value for p in op.params}
    assert params["X-axis translation"] == pytest.approx(C.TOWGS84_POSITION_VECTOR[0])
    assert params["X-axis rotation"] == pytest.approx(-C.TOWGS84_POSITION_VECTOR[3])


@needs_shared
def test_published_test_vector():
    readme = (SHARED / "README.md").read_text(encoding="utf-8")
    assert "568 262.924" in readme and "108.8772011" in readme
    lon, lat = C.to_wgs84(568262.924, 1255172.51, crs=C.vn2000_tm3(108.25))
    assert float(lon) == pytest.approx(108.8772011, abs=1e-6)
    assert float(lat) == pytest.approx(11.3493580, abs=1e-6)


def test_test_vector_without_shared():
    # the same published vector (webgis-vinhlong/VN2000), so the check runs everywhere
    lon, lat = C.to_wgs84([568262.924], [1255172.51], crs="EPSG:9217")
    assert lon[0] == pytest.approx(108.8772011, abs=1e-6)
    assert lat[0] == pytest.approx(11.3493580, abs=1e-6)


def test_sign_trap():
    good = "+proj=tmerc +lon_0=108.25 +k=0.9999 +x_0=500000 +ellps=WGS84 +towgs84={} +units=m"
    right = ",".join(repr(v) for v in C.TOWGS84_POSITION_VECTOR)
    v = list(C.TOWGS84_POSITION_VECTOR)
    v[3:6] = [-r for r in v[3:6]]
    wrong = ",".join(repr(x) for x in v)
    assert C.check_towgs84(good.format(right)) is None
    assert "signs" in C.check_towgs84(good.format(wrong))
    assert C.check_towgs84("EPSG:9209") is None
    # the wrong signs move the test vector by about half a metre
    lon_w, lat_w = pyproj.Transformer.from_crs(
        pyproj.CRS(good.format(wrong)), "EPSG:4326", always_xy=True
    ).transform(568262.924, 1255172.51)
    geod = pyproj.Geod(ellps="WGS84")
    _, _, dist = geod.inv(lon_w, lat_w, 108.8772011, 11.3493580)
    assert 0.3 < dist < 0.8
    lon_r, lat_r = pyproj.Transformer.from_crs(
        pyproj.CRS(good.format(right)), "EPSG:4326", always_xy=True
    ).transform(568262.924, 1255172.51)
    assert geod.inv(lon_r, lat_r, 108.8772011, 11.3493580)[2] < 0.2


def test_local_offset_is_about_225_m():
    dx, dy = C.local_vn2000_offset(105.8, 18.4, crs="EPSG:9209")
    assert 215 < np.hypot(dx, dy) < 235


def _box_gdf(crs):
    return gpd.GeoDataFrame(
        geometry=[Point(531000 + 100 * i, 2035000 + 50 * i).buffer(10) for i in range(5)],
        crs=crs,
    )


def test_diagnose_local_offset():
    data = _box_gdf("EPSG:9209")
    t = C.wgs84_transformer("EPSG:9209", "EPSG:4326")
    c = data.centroid
    lon, lat = t.transform(c.x.to_numpy(), c.y.to_numpy())
    truth = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    assert C.diagnose_offset(data, truth).verdict == "ok"
    ex, ey = C.local_vn2000_offset(float(np.mean(lon)), float(np.mean(lat)), crs="EPSG:9209")
    local = data.translate(ex, ey)
    from ntmgis.i18n import set_language

    for lang, words in (("en", "without the VN-2000 datum shift"),
                        ("vi", "không có phép chuyển datum VN-2000")):  # fmt: skip
        set_language(lang)
        try:
            result = C.diagnose_offset(gpd.GeoDataFrame(geometry=local), truth)
        finally:
            set_language(None)
        assert result.verdict == "local_vn2000"
        assert 215 < result.distance < 235
        assert words in result.message and "(CRS)" in result.message
        assert f"{-ex:+.1f}" in result.message  # the shift that undoes it
    assert C.diagnose_offset(data.translate(80, 0), truth).verdict == "unexplained"


def test_suggest_zone_from_coordinates_and_place():
    # a block of parcels in Thạch Hà, Hà Tĩnh, in EPSG:9209
    tips = C.suggest_crs((531000, 2035000, 532000, 2036000))
    assert tips[0]["epsg"] == 9209
    assert tips[0]["province"] == "Hà Tĩnh"
    tips = C.suggest_crs((531000, 2035000, 532000, 2036000), place="Xã Thanh Bình, tỉnh Hà Tĩnh")
    assert tips[0]["epsg"] == 9209 and "the zone of Hà Tĩnh" in tips[0]["reason"]
    # degrees
    assert [t["epsg"] for t in C.suggest_crs((105.7, 18.3, 105.8, 18.4))] == [4756, 4326]


def test_check_coordinates():
    with pytest.raises(CRSError, match="no coordinate reference system.*EPSG:9209"):
        C.check_coordinates((531000, 2035000, 532000, 2036000), None, source="a.shp")
    with pytest.raises(CRSError, match="degrees.*EPSG:4756"):
        C.check_coordinates((105.7, 18.3, 105.8, 18.4), "EPSG:9209", source="a.shp")
    with pytest.raises(CRSError, match="swapped"):
        C.check_coordinates((2035000, 531000, 2036000, 532000), "EPSG:9209", source="a.shp")
    C.check_coordinates((531000, 2035000, 532000, 2036000), "EPSG:9209")
    with pytest.raises(CRSError, match="longitude and latitude swapped"):
        C.check_coordinates((18.3, 105.7, 18.4, 105.8), "EPSG:4326", source="a.geojson")
    with pytest.raises(CRSError, match="not degrees.*EPSG:9209"):
        C.check_coordinates((531000, 2035000, 532000, 2036000), "EPSG:4756", source="a.shp")
    C.check_coordinates((105.7, 18.3, 105.8, 18.4), "EPSG:4756")


def test_bundled_tables_have_provenance():
    from importlib import resources

    for name in ("vn2000_provincial_meridians_pre2025.csv", "vn_provinces_2025.csv"):
        first = resources.files("ntmgis").joinpath("data", name).read_text("utf-8").splitlines()[0]
        assert first.startswith("# source:")
    data = json.loads(
        resources.files("ntmgis")
        .joinpath("data", "vn_provinces_2009_simplified.geojson")
        .read_text("utf-8")
    )
    assert "censusVN2009" in data["description"] and len(data["features"]) == 63


@needs_shared
def test_bundled_table_matches_shared():

    import pandas as pd

    shared = pd.read_csv(SHARED / "provincial_meridians_pre2025.csv")
    ours = C._table()
    pd.testing.assert_frame_equal(shared, ours)


def _synthetic_scene(seed=3):
    """Parcels of 15-45 m with their own NDVI, on a 10 m image with noise."""
    from affine import Affine
    from rasterio import features
    from shapely.geometry import box

    rng = np.random.default_rng(seed)
    x0, y0 = 531000.0, 2035000.0
    # irregular blocks, as real parcels are: a regular grid would also line up when
    # shifted by whole parcels
    geoms = []
    x = x0 + 300
    while x < x0 + 700:
        width = rng.uniform(15, 45)
        y = y0 + 300
        while y < y0 + 700:
            height = rng.uniform(15, 45)
            geoms.append(box(x, y, x + width, y + height))
            y += height
        x += width
    parcels = gpd.GeoDataFrame(geometry=geoms, crs="EPSG:9209")
    values = rng.uniform(0.1, 0.9, len(parcels))
    # drawn at 1 m, then averaged to 10 m pixels: boundary pixels are mixed, as in
    # Sentinel-2
    fine = features.rasterize(
        [(g, v) for g, v in zip(parcels.geometry, values)], out_shape=(1000, 1000),
        transform=Affine(1.0, 0, x0, 0, -1.0, y0 + 1000), fill=0.5, dtype="float64",
    )  # fmt: skip
    image = fine.reshape(100, 10, 100, 10).mean(axis=(1, 3))
    image += rng.normal(0, 0.03, image.shape)
    transform = Affine(10.0, 0, x0, 0, -10.0, y0 + 1000)
    return parcels, image, transform


def test_estimate_shift_recovers_a_known_offset():
    parcels, image, transform = _synthetic_scene()
    found = C.estimate_shift(parcels, image, transform=transform, crs="EPSG:9209")
    assert (found["dx"], found["dy"]) == (0.0, 0.0)
    assert found["score"] > 3  # edges on boundaries; ~1 for unrelated parcels
    moved = parcels.translate(-70, 40)
    found = C.estimate_shift(moved, image, transform=transform, crs="EPSG:9209")
    assert (found["dx"], found["dy"]) == (-70.0, 40.0)
    assert found["score_at_zero"] < 1.5


def test_check_alignment_spots_local_vn2000():
    parcels, image, transform = _synthetic_scene()
    lon, lat = C.to_wgs84(531500.0, 2035500.0, crs="EPSG:9209")
    ex, ey = C.local_vn2000_offset(float(lon), float(lat), crs="EPSG:9209")
    local = gpd.GeoDataFrame(geometry=parcels.translate(ex, ey), crs="EPSG:9209")
    result = C.check_alignment(local, image, transform=transform, crs="EPSG:9209")
    assert result.verdict == "local_vn2000"
    assert abs(result.dx - ex) <= 10 and abs(result.dy - ey) <= 10
    ok = C.check_alignment(parcels, image, transform=transform, crs="EPSG:9209")
    assert ok.verdict == "ok"
    with pytest.raises(CRSError, match="projected VN-2000"):
        C.check_alignment(parcels.to_crs(4326), image, transform=transform, crs="EPSG:9209")


LAYERS = Path(__file__).resolve().parents[1] / "layers"


@pytest.mark.skipif(not (LAYERS / "s2").is_dir(), reason="sample commune not in layers/")
def test_sample_commune_alignment_with_sentinel2():
    import rasterio

    scene = sorted((LAYERS / "s2").glob("*20200407*"))[0]
    with rasterio.open(scene / "B04.tif") as red, rasterio.open(scene / "B08.tif") as nir:
        r = red.read(1, masked=True).astype(float).filled(np.nan)
        n = nir.read(1, masked=True).astype(float).filled(np.nan)
        transform, crs = red.transform, red.crs
    ndvi = (n - r) / (n + r)
    parcels = gpd.read_file(LAYERS / "thanh_binh.gpkg", layer="parcels")
    assert C.check_alignment(parcels, ndvi, transform=transform, crs=crs).verdict == "ok"
    lon, lat = 105.6, 18.5
    ex, ey = C.local_vn2000_offset(lon, lat, crs="EPSG:9209")
    local = parcels.set_geometry(parcels.translate(ex, ey))
    result = C.check_alignment(local, ndvi, transform=transform, crs=crs)
    assert result.verdict == "local_vn2000", result.message


def test_shift_search_sums_equal_fftconvolve_and_a_direct_sum():
    """The shift search's summed correlations: scipy's fftconvolve, and the sum by hand."""
    from scipy.signal import fftconvolve

    from ntmgis.crs import _shift_sums

    rng = np.random.default_rng(3)
    # the two axes' operands, as the search makes them: masks one column / one row
    # narrower than the labels (47 x 61), images one narrower than the image (21 x 30)
    masks = [rng.random((47, 60)) > 0.5, rng.random((46, 61)) > 0.8]
    images = [rng.random((21, 29)) * 0.3, rng.random((20, 30)) * 0.3]
    got = _shift_sums(zip(masks, images), (47, 61), (27, 32))
    want = sum(
        np.maximum(fftconvolve(m.astype("float64"), i[::-1, ::-1], mode="valid"), 0.0)
        for m, i in zip(masks, images)
    )
    assert got.shape == (27, 32)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    # the shift (sy, sx) pairs image[r, c] with mask[r + sy, c + sx]
    for sy, sx in ((0, 0), (26, 31), (13, 5)):
        direct = sum(
            float((m[sy : sy + i.shape[0], sx : sx + i.shape[1]] * i).sum())
            for m, i in zip(masks, images)
        )
        assert got[sy, sx] == pytest.approx(direct, rel=1e-12)
    # an empty operand (a one-pixel-wide image has no pair along its rows) adds nothing
    empty = _shift_sums([(masks[0], np.zeros((21, 0))), (masks[1], images[1])], (47, 61),
                        (27, 32))  # fmt: skip
    np.testing.assert_allclose(
        empty, np.maximum(fftconvolve(masks[1].astype(float), images[1][::-1, ::-1], "valid"), 0),
        rtol=1e-12, atol=1e-12,
    )  # fmt: skip


def test_shift_search_burns_multipolygon_parcels_with_their_number():
    """A parcel of two parts is found as one: both parts carry its label."""
    from shapely.geometry import MultiPolygon, box

    parcels, image, transform = _synthetic_scene()
    two = MultiPolygon([parcels.geometry.iloc[0], parcels.geometry.iloc[-1]])
    merged = gpd.GeoDataFrame(geometry=[two, *parcels.geometry.iloc[1:-1], box(0, 0, 0, 0)],
                              crs=parcels.crs)  # fmt: skip
    found = C.estimate_shift(merged, image, transform=transform, crs="EPSG:9209")
    assert (found["dx"], found["dy"]) == (0.0, 0.0)
    moved = merged.translate(-70, 40)
    found = C.estimate_shift(moved, image, transform=transform, crs="EPSG:9209")
    assert (found["dx"], found["dy"]) == (-70.0, 40.0)


def test_datum_shift_centre_is_the_union_centroid_of_disjoint_parcels():
    from shapely.geometry import box

    from ntmgis.crs import _centre

    # two disjoint squares, 100 m² at (5, 5) and 400 m² at (40, 10): centroid (33, 9)
    geoms = gpd.GeoSeries([box(0, 0, 10, 10), box(30, 0, 50, 20), None], crs="EPSG:9209")
    x, y = _centre(geoms)
    assert x == pytest.approx(0.2 * 5 + 0.8 * 40) and y == pytest.approx(0.2 * 5 + 0.8 * 10)
    union = geoms.dropna().union_all().centroid
    assert (x, y) == pytest.approx((union.x, union.y), abs=1e-9)
    # points have no area: the union's centroid
    points = gpd.GeoSeries.from_xy([0, 10], [0, 4], crs="EPSG:9209")
    assert _centre(points) == pytest.approx((5.0, 2.0))
