"""Scene discovery, windowed reads, reflectance, masks and bad input (tiny synthetic rasters)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import rasterio
from affine import Affine
from shapely.geometry import box

import ntmgis
from ntmgis.errors import CancelledError, CRSError, ImageryError, NtmgisWarning, SchemaError
from ntmgis.imagery import (
    boa_offset,
    find_scenes,
    landsat_reflectance,
    qa_pixel_mask,
    read_stacks,
    read_time_series,
    s2_reflectance,
    scl_mask,
)

pytestmark = pytest.mark.usefixtures("english")  # messages matched in English


X0, Y0 = 600000.0, 2000000.0
H, W = 8, 8  # 10 m pixels; 20 m bands are 4 x 4

S2_FILES = {
    "blue": ("B02", 10),
    "green": ("B03", 10),
    "red": ("B04", 10),
    "nir": ("B08", 10),
    "swir16": ("B11", 20),
    "swir22": ("B12", 20),
    "scl": ("SCL", 20),
}


def write_tif(path, array, *, res, x0=X0, y0=Y0, crs="EPSG:32648", nodata=0, **extra):
    array = np.asarray(array)
    if array.ndim == 2:
        array = array[np.newaxis]
    profile = {
        "driver": "GTiff",
        "dtype": array.dtype.name,
        "count": array.shape[0],
        "height": array.shape[1],
        "width": array.shape[2],
        "crs": crs,
        "transform": Affine(res, 0, x0, 0, -res, y0),
        "nodata": nodata,
        **extra,
    }
    tags = profile.pop("tags", None)
    descriptions = profile.pop("descriptions", None)
    with rasterio.open(path, "w", **profile) as ds:
        ds.write(array)
        if tags:
            ds.update_tags(**tags)
        for i, desc in enumerate(descriptions or [], start=1):
            ds.set_band_description(i, desc)
    return Path(path)


def default_dn(offset=0, shape=(H, W)):
    """Vegetation-like DNs with a per-pixel ramp; ``offset`` = 1000 for baseline 04.00."""
    h, w = shape
    ramp = np.arange(h * w).reshape(h, w) % 1000  # stays within uint16 for big tiles
    return {
        "blue": 200 + ramp + offset,
        "green": 500 + ramp + offset,
        "red": 300 + 2 * ramp + offset,
        "nir": 3000 + 10 * ramp + offset,
        "swir16": 1500 + 20 * (np.arange(h * w // 4).reshape(h // 2, w // 2) % 1000) + offset,
        "swir22": 900 + np.zeros((h // 2, w // 2), dtype=int) + offset,
        "scl": np.full((h // 2, w // 2), 4),
    }


def make_scene(
    root,
    name,
    *,
    dn=None,
    item=None,
    x0=X0,
    y0=Y0,
    crs="EPSG:32648",
    skip=(),
    shape=(H, W),
    **tif_extra,
):
    """Write one per-band scene folder (and an item.json when ``item`` gives properties)."""
    folder = Path(root) / name
    folder.mkdir(parents=True)
    dn = dn or default_dn(shape=shape)
    assets = {}
    for band, (file_id, res) in S2_FILES.items():
        if band in skip:
            continue
        dtype = "uint8" if band == "scl" else "uint16"
        write_tif(
            folder / f"{file_id}.tif",
            np.asarray(dn[band]).astype(dtype),
            res=res,
            x0=x0,
            y0=y0,
            crs=crs,
            **tif_extra,
        )
        assets[band] = {
            "href": f"./{file_id}.tif",
            "type": "image/tiff; application=geotiff",
            "raster:bands": [{"nodata": 0, "scale": 0.0001, "offset": 0.0}],
        }
    if item is not None:
        doc = {
            "type": "Feature",
            "stac_version": "1.0.0",
            "id": name,
            "geometry": None,
            "properties": {"platform": "sentinel-2a", **item},
            "assets": assets,
            "links": [],
        }
        (folder / "item.json").write_text(json.dumps(doc), encoding="utf-8")
    return folder


def aoi_box(minx, miny, maxx, maxy, crs="EPSG:32648"):
    return gpd.GeoDataFrame(geometry=[box(minx, miny, maxx, maxy)], crs=crs)


# --------------------------------------------------------------------------- discovery


def test_discover_scene_folders_without_metadata(tmp_path):
    make_scene(tmp_path, "S2B_48QWE_20200113_0_L2A")
    make_scene(tmp_path, "S2A_MSIL2A_20200202T033021_N0214_R018_T48QWE_20200202T060000.SAFE")
    scenes = find_scenes(tmp_path)
    assert [s.date.isoformat() for s in scenes] == ["2020-01-13", "2020-02-02"]
    assert [s.sensor for s in scenes] == ["sentinel-2", "sentinel-2"]
    assert scenes[0].platform == "sentinel-2b"
    assert scenes[0].processing_baseline is None
    assert scenes[1].processing_baseline == "02.14"  # from N0214 in the SAFE name
    assert sorted(scenes[0].bands) == sorted(S2_FILES)
    assert scenes[0].bands["red"].href.endswith("B04.tif")
    assert scenes[0].crs.to_epsg() == 32648
    assert scenes[0].bounds == (X0, Y0 - 80, X0 + 80, Y0)
    assert len(find_scenes(tmp_path, period="2020-02-01:2020-02-28")) == 1


def test_discover_item_json_and_item_collection(tmp_path):
    make_scene(
        tmp_path, "a", item={"datetime": "2022-03-01T03:00:00Z", "s2:processing_baseline": "04.00"}
    )
    scenes = find_scenes(tmp_path)
    assert len(scenes) == 1
    s = scenes[0]
    assert (s.id, s.date.isoformat(), s.processing_baseline) == ("a", "2022-03-01", "04.00")
    assert s.platform == "sentinel-2a"
    assert Path(s.bands["nir"].href) == (tmp_path / "a" / "B08.tif").resolve()
    # the same item in an ItemCollection one folder up, hrefs relative to the collection
    doc = json.loads((tmp_path / "a" / "item.json").read_text())
    for asset in doc["assets"].values():
        asset["href"] = "a/" + asset["href"][2:]
    (tmp_path / "items.json").write_text(
        json.dumps({"type": "FeatureCollection", "features": [doc]}), encoding="utf-8"
    )
    from_collection = find_scenes(tmp_path / "items.json")
    assert Path(from_collection[0].bands["scl"].href) == (tmp_path / "a" / "SCL.tif").resolve()
    assert from_collection[0].processing_baseline == "04.00"


def test_discover_static_stac_catalog(tmp_path):
    import pystac

    make_scene(
        tmp_path / "data",
        "S2B_48QWE_20220301_0_L2A",
        dn=default_dn(1000),
        item={"datetime": "2022-03-01T03:00:00Z", "s2:processing_baseline": "04.00"},
    )
    item = pystac.Item.from_file(str(tmp_path / "data" / "S2B_48QWE_20220301_0_L2A" / "item.json"))
    item.make_asset_hrefs_absolute()
    catalog = pystac.Catalog("thanh-binh", "test catalogue")
    catalog.add_item(item)
    catalog.normalize_hrefs(str(tmp_path / "catalog"))
    catalog.save(pystac.CatalogType.SELF_CONTAINED)
    for source in (tmp_path / "catalog", tmp_path / "catalog" / "catalog.json", catalog):
        (scene,) = find_scenes(source)
        assert scene.id == "S2B_48QWE_20220301_0_L2A" and scene.processing_baseline == "04.00"
    st = read_time_series(tmp_path / "catalog", bands=["red"])
    assert st.layer("2022-03-01/red")[0, 0] == pytest.approx(0.03)  # (1300 - 1000) / 10000


_RANGE_SERVER = """
import functools, http.server, io, os, re, sys

class RangeHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def send_head(self):
        rng = self.headers.get("Range")
        path = self.translate_path(self.path)
        if not rng or not os.path.isfile(path):
            return super().send_head()
        data = open(path, "rb").read()
        m = re.match(r"bytes=(\\d+)-(\\d*)", rng)
        start = int(m.group(1))
        end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
        self.send_response(206)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        return io.BytesIO(data[start : end + 1])

server = http.server.ThreadingHTTPServer(
    ("127.0.0.1", 0), functools.partial(RangeHandler, directory=sys.argv[1])
)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def test_stac_item_collection_over_http(tmp_path):
    """COG assets are read over HTTP (GDAL /vsicurl/) like local files; hrefs resolve."""
    import subprocess
    import sys

    make_scene(
        tmp_path, "a", item={"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    )
    doc = json.loads((tmp_path / "a" / "item.json").read_text())
    for asset in doc["assets"].values():
        asset["href"] = "a/" + asset["href"][2:]
    (tmp_path / "items.json").write_text(
        json.dumps({"type": "FeatureCollection", "features": [doc]}), encoding="utf-8"
    )
    # a separate process: rasterio holds the GIL while GDAL reads, so no server thread
    server = subprocess.Popen(
        [sys.executable, "-c", _RANGE_SERVER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        port = int(server.stdout.readline())
        base = f"http://127.0.0.1:{port}"
        (scene,) = find_scenes(f"{base}/items.json")
        assert scene.bands["red"].href == f"{base}/a/B04.tif"
        with rasterio.Env(GDAL_HTTP_TIMEOUT="10", GDAL_HTTP_MAX_RETRY="0"):
            st = read_time_series(
                [scene], aoi=aoi_box(X0 + 20, Y0 - 40, X0 + 40, Y0 - 20), margin=0
            )
    finally:
        server.terminate()
        server.wait(timeout=10)
    # pixel (2, 2): ramp 18 -> red 336, nir 3180
    assert st.shape == (2, 2)
    assert st.data[0, 0, 0] == pytest.approx((3180 - 336) / (3180 + 336), abs=1e-6)


def test_discover_multiband_geotiff_band_descriptions(tmp_path):
    dn = default_dn()
    stack = np.stack([dn["nir"], dn["red"], dn["blue"]]).astype("uint16")
    path = write_tif(
        tmp_path / "S2A_20210505_crop.tif",
        stack,
        res=10,
        descriptions=["B08 (nir)", "red", "B02_blue"],
    )
    (scene,) = find_scenes(path)
    assert {b: s.index for b, s in scene.bands.items()} == {"nir": 1, "red": 2, "blue": 3}
    assert scene.date.isoformat() == "2021-05-05"
    # no descriptions: an error that says what to do, or band_names=
    bare = write_tif(tmp_path / "bare.tif", stack, res=10)
    with pytest.raises(ImageryError, match="band_names"):
        find_scenes(bare)
    (named,) = find_scenes(bare, band_names=["nir", "red", "blue"])
    assert named.bands["blue"].index == 3


# --------------------------------------------------------------------------- reflectance


def test_reflectance_and_indices_before_and_after_baseline_04(tmp_path):
    # 20 January 2022: baseline 03.01, offset 0; 30 January 2022: baseline 04.00, offset -1000.
    # Both scenes see the same surface, so reflectance and NDVI must agree pixel by pixel.
    make_scene(
        tmp_path,
        "before",
        dn=default_dn(0),
        item={"datetime": "2022-01-20T03:00:00Z", "s2:processing_baseline": "03.01"},
    )
    make_scene(
        tmp_path,
        "after",
        dn=default_dn(1000),
        item={"datetime": "2022-01-30T03:00:00Z", "s2:processing_baseline": "04.00"},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", NtmgisWarning)  # metadata and values agree: no warning
        st = read_time_series(tmp_path, bands=["red", "B08"], indices=["ndvi", "evi"])
    assert st.names == [
        "2022-01-20/red",
        "2022-01-20/nir",
        "2022-01-20/ndvi",
        "2022-01-20/evi",
        "2022-01-30/red",
        "2022-01-30/nir",
        "2022-01-30/ndvi",
        "2022-01-30/evi",
    ]
    # pixel (0, 0): blue 200, red 300, nir 3000 (+1000 after) -> 0.02, 0.03, 0.30
    # pixel (1, 2) (ramp 10): blue 210, red 320, nir 3100 -> 0.021, 0.032, 0.31
    for date in ("2022-01-20", "2022-01-30"):
        red, nir = st.layer(f"{date}/red"), st.layer(f"{date}/nir")
        assert red[0, 0] == pytest.approx(0.03)
        assert nir[0, 0] == pytest.approx(0.30)
        assert red[1, 2] == pytest.approx(0.032)
        assert st.layer(f"{date}/ndvi")[0, 0] == pytest.approx(0.27 / 0.33, abs=1e-6)
        assert st.layer(f"{date}/ndvi")[1, 2] == pytest.approx(0.278 / 0.342, abs=1e-6)
        # EVI = 2.5 (0.30 - 0.03) / (0.30 + 6*0.03 - 7.5*0.02 + 1) = 0.675 / 1.33
        assert st.layer(f"{date}/evi")[0, 0] == pytest.approx(0.675 / 1.33, abs=1e-6)
    offsets = {m["scene"]: (m["boa_offset"], m["offset_source"]) for m in st.meta["scenes"]}
    assert offsets == {"before": (0.0, "baseline"), "after": (-1000.0, "baseline")}
    assert st.meta["layers"][0] == {
        "name": "2022-01-20/red",
        "date": "2022-01-20",
        "variable": "red",
        "scene": "before",
        "sensor": "sentinel-2",
        "clear_pixels": 64,
        "valid_pixels": 64,
        "aoi_pixels": 64,
        "boa_offset": 0.0,
        "offset_source": "baseline",
    }


def test_offset_from_date_when_baseline_unknown_warns(tmp_path):
    # no item.json, no N04xx in the name: the date decides, a warning says so
    make_scene(tmp_path, "S2A_48QWE_20220124_0_L2A", dn=default_dn(0))
    make_scene(tmp_path, "S2A_48QWE_20220125_0_L2A", dn=default_dn(1000))
    with pytest.warns(NtmgisWarning, match="Processing baseline unknown for 2"):
        st = read_time_series(tmp_path, bands=["red"], indices=["ndvi"])
    assert st.layer("2022-01-24/red")[0, 0] == pytest.approx(0.03)
    assert st.layer("2022-01-25/red")[0, 0] == pytest.approx(0.03)
    assert st.layer("2022-01-25/ndvi")[0, 0] == pytest.approx(0.27 / 0.33, abs=1e-6)
    assert [m["offset_source"] for m in st.meta["scenes"]] == ["date", "date"]


def test_value_check_catches_a_wrong_catalogue_flag(tmp_path):
    # Catalogue says 04.00 (offset -1000) but the DNs are already harmonised (red 300):
    # with -1000 every pixel would be negative reflectance; read with offset 0 + warning.
    make_scene(
        tmp_path,
        "wrong",
        dn=default_dn(0),
        item={"datetime": "2023-05-01T03:00:00Z", "s2:processing_baseline": "05.09"},
    )
    with pytest.warns(NtmgisWarning, match="negative reflectance"):
        st = read_time_series(tmp_path, bands=["red"])
    assert st.layer("2023-05-01/red")[0, 0] == pytest.approx(0.03)
    assert st.meta["scenes"][0]["offset_source"] == "values"


def test_unknown_baseline_and_no_date_decided_by_values(tmp_path):
    dn = default_dn(1000)
    stack = np.stack([dn["blue"], dn["red"], dn["nir"]]).astype("uint16")
    path = write_tif(tmp_path / "crop.tif", stack, res=10, descriptions=["blue", "red", "nir"])
    with pytest.warns(NtmgisWarning) as record:
        st = read_time_series(path, bands=["red"])
    messages = " ".join(str(w.message) for w in record)
    assert "Processing baseline unknown for 1" in messages
    assert "no visible-band DN below 1000 among 64, so offset -1000" in messages
    assert st.names == ["crop/red"]
    assert st.layer("crop/red")[0, 0] == pytest.approx(0.03)
    assert st.meta["scenes"][0]["boa_offset"] == -1000.0


def test_boa_offset_rule_directly():
    import datetime as dt

    from ntmgis.imagery import Scene

    s = Scene("x", dt.date(2022, 1, 25), "sentinel-2", {})
    assert boa_offset(s)[:2] == (-1000.0, "date")
    s = Scene("x", dt.date(2022, 1, 24), "sentinel-2", {})
    assert boa_offset(s)[:2] == (0.0, "date")
    s = Scene("x", dt.date(2019, 1, 24), "sentinel-2", {}, processing_baseline="05.00")
    assert boa_offset(s)[:2] == (-1000.0, "baseline")  # reprocessed archive
    # a user override is checked but never replaced
    offset, source, notes = boa_offset(s, np.full(500, 400.0), override=-1000)
    assert (offset, source) == (-1000.0, "user") and "negative reflectance" in notes[0]


def test_reflectance_helpers():
    np.testing.assert_allclose(
        s2_reflectance(np.array([0, 1000, 2500], dtype="uint16"), offset=-1000), [np.nan, 0.0, 0.15]
    )
    np.testing.assert_allclose(s2_reflectance(np.array([2500])), [0.25])
    # Landsat C2 L2: 7273 -> ~0.0, 20000 -> 0.35, 43636 -> ~1.0
    np.testing.assert_allclose(
        landsat_reflectance(np.array([0, 20000, 43636], dtype="uint16")),
        [np.nan, 0.35, 43636 * 2.75e-5 - 0.2],
        rtol=1e-6,
    )


# --------------------------------------------------------------------------- masks


def test_scl_masking_default_and_custom_classes(tmp_path):
    dn = default_dn()
    dn["scl"] = np.array([[4, 9, 4, 4], [3, 5, 4, 4], [4, 4, 10, 4], [4, 4, 4, 6]])
    make_scene(tmp_path, "S2A_48QWE_20200301_0_L2A", dn=dn)
    with pytest.warns(NtmgisWarning):  # baseline unknown
        st = read_time_series(tmp_path, indices=["ndvi"])
    ndvi = st.data[0]
    # each 20 m SCL pixel masks 2 x 2 ten-metre pixels
    expected_masked = np.zeros((H, W), dtype=bool)
    expected_masked[0:2, 2:4] = True  # 9 cloud high
    expected_masked[2:4, 0:2] = True  # 3 shadow
    expected_masked[4:6, 4:6] = True  # 10 cirrus
    np.testing.assert_array_equal(np.isnan(ndvi), expected_masked)
    assert st.meta["scenes"][0]["clear_pixels"] == 64 - 12
    with pytest.warns(NtmgisWarning):
        only_cloud = read_time_series(tmp_path, indices=["ndvi"], scl_classes=[9])
    assert np.isnan(only_cloud.data[0]).sum() == 4
    with pytest.warns(NtmgisWarning):
        unmasked = read_time_series(tmp_path, indices=["ndvi"], mask="none")
    assert not np.isnan(unmasked.data[0]).any()
    np.testing.assert_array_equal(
        scl_mask(np.arange(12)), np.isin(np.arange(12), [0, 1, 3, 8, 9, 10, 11])
    )


def test_landsat_scene_scale_and_qa_pixel(tmp_path):
    folder = tmp_path / "LC08_L2SP_125047_20200112_20200823_02_T1"
    folder.mkdir()
    stem = folder.name
    red = np.full((4, 4), 10000, dtype="uint16")
    nir = np.full((4, 4), 20000, dtype="uint16")
    qa = np.full((4, 4), 21824, dtype="uint16")  # clear land
    qa[0, 0] = 22280  # cloud (bit 3)
    qa[1, 1] = 23888  # cloud shadow (bit 4)
    qa[2, 2] = 1  # fill
    for suffix, arr in (("SR_B4", red), ("SR_B5", nir), ("QA_PIXEL", qa)):
        write_tif(
            folder / f"{stem}_{suffix}.TIF", arr, res=30, nodata=0 if suffix != "QA_PIXEL" else 1
        )
    (scene,) = find_scenes(tmp_path)
    assert scene.sensor == "landsat" and scene.platform == "landsat-8"
    assert scene.date.isoformat() == "2020-01-12"  # acquisition, not processing date
    assert sorted(scene.bands) == ["nir", "qa_pixel", "red"]
    st = read_time_series([scene], bands=["red"], indices=["ndvi"])
    red_r, ndvi = st.data
    assert red_r[3, 3] == pytest.approx(10000 * 2.75e-5 - 0.2)  # 0.075
    assert ndvi[3, 3] == pytest.approx((0.35 - 0.075) / (0.35 + 0.075), abs=1e-6)
    assert np.isnan(ndvi[[0, 1, 2], [0, 1, 2]]).all()
    assert np.isfinite(ndvi).sum() == 13
    np.testing.assert_array_equal(
        qa_pixel_mask(np.array([21824, 22280, 23888, 1])), [False, True, True, True]
    )
    np.testing.assert_array_equal(qa_pixel_mask(np.array([22280, 23888]), bits=[4]), [False, True])


# --------------------------------------------------------------------------- grids and windows


def test_20m_bands_replicated_on_10m_grid_and_averaged_on_20m(tmp_path):
    make_scene(
        tmp_path, "s", item={"datetime": "2020-06-01T00:00:00Z", "s2:processing_baseline": "02.14"}
    )
    st = read_time_series(tmp_path, bands=["swir16", "red"], grid="10m")
    swir = st.layer("2020-06-01/swir16")
    assert swir.shape == (H, W)
    expected = np.repeat(np.repeat(default_dn()["swir16"] / 10000, 2, 0), 2, 1)
    np.testing.assert_allclose(swir, expected, rtol=1e-6)
    st20 = read_time_series(tmp_path, bands=["swir16", "red"], grid="20m")
    assert st20.shape == (H // 2, W // 2)
    assert st20.transform == Affine(20, 0, X0, 0, -20, Y0)
    np.testing.assert_allclose(
        st20.layer("2020-06-01/swir16"), default_dn()["swir16"] / 10000, rtol=1e-6
    )
    red10 = default_dn()["red"] / 10000
    red20 = red10.reshape(4, 2, 4, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(st20.layer("2020-06-01/red"), red20, rtol=1e-6)
    # default grid: the finest band read (20 m when only 20 m bands are asked for)
    assert read_time_series(tmp_path, bands=["swir22"]).meta["grid"] == 20.0


def test_windowed_read_touches_only_the_aoi_window(tmp_path, monkeypatch):
    big = (256, 256)  # 2.56 km tile, 16 x 16 px blocks
    make_scene(
        tmp_path,
        "S2A_48QWE_20200301_N0214",
        dn=default_dn(shape=big),
        shape=big,
        tiled=True,
        blockxsize=16,
        blockysize=16,
    )
    reads = []
    original = rasterio.io.DatasetReader.read

    def spy(self, *args, **kwargs):
        reads.append((Path(self.name).name, kwargs.get("window")))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    # AOI: 100 m x 60 m, 1 km east and 500 m south of the tile corner, no margin
    aoi = aoi_box(X0 + 1000, Y0 - 560, X0 + 1100, Y0 - 500)
    st = read_time_series(tmp_path, aoi=aoi, indices=["ndvi"], margin=0)
    assert st.shape == (6, 10)
    assert st.transform == Affine(10, 0, X0 + 1000, 0, -10, Y0 - 500)
    windows = {name: (w.col_off, w.row_off, w.width, w.height) for name, w in reads}
    assert windows == {
        "B04.tif": (100, 50, 10, 6),
        "B08.tif": (100, 50, 10, 6),
        "SCL.tif": (50, 25, 5, 3),
    }
    pixels_read = sum(w.width * w.height for _, w in reads)
    assert pixels_read == 60 + 60 + 15  # not 2 x 65,536 + 16,384
    # the values are those of that window: ramp index = row * 256 + col
    ramp = (50 * 256 + 100) % 1000
    assert st.data[0, 0, 0] == pytest.approx(
        ((3000 + 10 * ramp) - (300 + 2 * ramp)) / ((3000 + 10 * ramp) + (300 + 2 * ramp)), abs=1e-6
    )
    # a margin widens the window, snapped outward to whole pixels
    reads.clear()
    st = read_time_series(tmp_path, aoi=aoi, indices=["ndvi"], margin=15)
    assert st.shape == (6 + 4, 10 + 4)
    assert st.meta["aoi_pixels"] == 60


def test_aoi_in_another_crs_is_reprojected(tmp_path):
    make_scene(tmp_path, "S2A_48QWE_20200301_N0214")
    from pyproj import Transformer

    to_ll = Transformer.from_crs(32648, 4326, always_xy=True)
    lon0, lat0 = to_ll.transform(X0 + 20, Y0 - 60)
    lon1, lat1 = to_ll.transform(X0 + 40, Y0 - 20)
    aoi = aoi_box(lon0, lat0, lon1, lat1, crs="EPSG:4326")
    st = read_time_series(tmp_path, aoi=aoi, margin=0)
    assert st.crs.to_epsg() == 32648
    # the box (20 m x 40 m, slightly rotated by grid convergence) snapped outward
    left, top = st.transform.c, st.transform.f
    right, bottom = left + 10 * st.shape[1], top - 10 * st.shape[0]
    assert X0 + 10 <= left <= X0 + 20 and X0 + 40 <= right <= X0 + 50
    assert Y0 - 70 <= bottom <= Y0 - 60 and Y0 - 20 <= top <= Y0 - 10


# --------------------------------------------------------------------------- bad input


def _zone_scene(root, name, epsg, lon, lat, dn_offset):
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, epsg, always_xy=True).transform(lon, lat)
    x0, y0 = round(x / 10) * 10 - 40, round(y / 10) * 10 + 40  # 80 m around the point
    dn = default_dn()
    dn["red"] = np.full((H, W), 500 + dn_offset)
    dn["nir"] = np.full((H, W), 2500 + dn_offset)
    return make_scene(
        root,
        name,
        dn=dn,
        x0=x0,
        y0=y0,
        crs=f"EPSG:{epsg}",
        item={"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"},
    )


def test_two_utm_zones_read_each_in_its_own_crs(tmp_path):
    lon, lat = 108.0, 16.0  # the 48N / 49N boundary
    _zone_scene(tmp_path, "S2A_48QZD_20200301", 32648, lon, lat, 0)
    _zone_scene(tmp_path, "S2A_49QBD_20200301", 32649, lon, lat, 500)
    aoi = aoi_box(lon - 0.0001, lat - 0.0001, lon + 0.0001, lat + 0.0001, crs="EPSG:4326")
    stacks = read_stacks(tmp_path, aoi=aoi, margin=0)
    assert [s.crs.to_epsg() for s in stacks] == [32648, 32649]
    assert [s.meta["crs_name"] for s in stacks] == ["EPSG:32648", "EPSG:32649"]
    # each zone keeps its own pixels: NDVI from its own DNs, nothing mixed
    ndvi48 = stacks[0].layer("2020-03-01/ndvi")
    ndvi49 = stacks[1].layer("2020-03-01/ndvi")
    np.testing.assert_allclose(ndvi48, 2000 / 3000, rtol=1e-6)
    np.testing.assert_allclose(ndvi49, 2000 / 4000, rtol=1e-6)
    # grids are in each zone's own coordinates (10 m pixels, origins on the source grid)
    for stack in stacks:
        assert stack.transform.a == 10 and stack.transform.c % 10 == 0
    assert stacks[0].transform.c > 700000 and stacks[1].transform.c < 300000
    with pytest.raises(CRSError, match="read_stacks"):
        read_time_series(tmp_path, aoi=aoi, margin=0)


def test_adjacent_tiles_of_one_date_fill_one_layer(tmp_path):
    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "S2A_48QWE_20200301", item=item)
    east = default_dn()
    east["nir"] = np.full((H, W), 2000)
    make_scene(tmp_path, "S2A_48QXE_20200301", item=item, dn=east, x0=X0 + 80)
    aoi = aoi_box(X0 + 40, Y0 - 80, X0 + 120, Y0)
    st = read_time_series(tmp_path, aoi=aoi, margin=0)
    assert st.names == ["2020-03-01/ndvi"] and st.shape == (8, 8)
    ndvi = st.data[0]
    assert np.isfinite(ndvi).all()
    # west half from the first tile (pixel column 4 of it), east half from the second
    assert ndvi[0, 0] == pytest.approx((3040 - 308) / (3040 + 308), abs=1e-6)
    assert ndvi[0, 4] == pytest.approx((2000 - 300) / (2000 + 300), abs=1e-6)
    assert st.meta["layers"][0]["scene"] == "S2A_48QWE_20200301+S2A_48QXE_20200301"
    assert st.meta["layers"][0]["clear_pixels"] == 64


def test_scene_missing_the_aoi_is_skipped_and_reported(tmp_path):
    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "here", item=item)
    make_scene(tmp_path, "far", item={**item, "datetime": "2020-03-11T03:00:00Z"}, x0=X0 + 50000)
    aoi = aoi_box(X0 + 10, Y0 - 50, X0 + 50, Y0 - 10)
    with pytest.warns(NtmgisWarning, match="'far'.*does not cover"):
        st = read_time_series(tmp_path, aoi=aoi)
    assert st.names == ["2020-03-01/ndvi"]
    assert [s["scene"] for s in st.meta["skipped"]] == ["far"]
    assert "does not cover" in st.meta["skipped"][0]["reason"]
    with pytest.raises(ImageryError, match="far"), pytest.warns(NtmgisWarning, match="far"):
        read_time_series(tmp_path, aoi=aoi_box(0, 0, 10, 10), period="2020-03-05:2020-03-31")


def test_fully_cloudy_date_kept_with_zero_clear_pixels(tmp_path):
    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "clear", item=item)
    cloudy = default_dn()
    cloudy["scl"] = np.full((H // 2, W // 2), 9)
    make_scene(tmp_path, "cloudy", dn=cloudy, item={**item, "datetime": "2020-03-11T03:00:00Z"})
    with pytest.warns(NtmgisWarning, match="'cloudy'.*no clear pixel.*fully cloudy"):
        st = read_time_series(tmp_path)
    assert st.names == ["2020-03-01/ndvi", "2020-03-11/ndvi"]
    assert np.isnan(st.layer("2020-03-11/ndvi")).all()
    assert np.isfinite(st.layer("2020-03-01/ndvi")).all()
    info = {m["scene"]: (m["clear_pixels"], m["status"]) for m in st.meta["scenes"]}
    assert info == {"clear": (64, "ok"), "cloudy": (0, "no clear pixel")}
    assert st.meta["layers"][1]["clear_pixels"] == 0


def test_missing_band_names_band_and_scene(tmp_path):
    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "complete", item=item)
    make_scene(tmp_path, "no_nir", item={**item, "datetime": "2020-03-11T03:00:00Z"}, skip=("nir",))
    with pytest.raises(SchemaError, match=r"'no_nir' \(2020-03-11\) has no band nir"):
        read_time_series(tmp_path, indices=["ndvi"])
    # bands that are there still read
    assert read_time_series(tmp_path, bands=["red"]).names == ["2020-03-01/red", "2020-03-11/red"]
    with pytest.warns(NtmgisWarning, match="no_nir"):
        st = read_time_series(tmp_path, indices=["ndvi"], on_error="skip")
    assert st.names == ["2020-03-01/ndvi"]
    assert st.meta["skipped"][0]["scene"] == "no_nir"


def test_corrupt_geotiff_names_the_file_and_others_stay_usable(tmp_path):
    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    big = (64, 64)
    make_scene(tmp_path, "good", item=item, dn=default_dn(shape=big), shape=big)
    make_scene(
        tmp_path,
        "bad",
        item={**item, "datetime": "2020-03-11T03:00:00Z"},
        dn=default_dn(shape=big),
        shape=big,
    )
    broken = tmp_path / "bad" / "B04.tif"
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 2])  # truncated download
    with pytest.raises(ImageryError, match=r"bad[/\\]B04\.tif"):
        read_time_series(tmp_path)
    with pytest.warns(NtmgisWarning, match="B04.tif"):
        st = read_time_series(tmp_path, on_error="skip")
    assert st.names == ["2020-03-01/ndvi"]
    assert st.meta["skipped"][0]["scene"] == "bad"
    assert "B04.tif" in st.meta["skipped"][0]["reason"]
    # the same corruption as the *first* scene (the grid reference) is skipped too
    (tmp_path / "good" / "B08.tif").write_bytes(b"II*\x00garbage")
    with pytest.raises(ImageryError, match="No scene could be read"):
        with pytest.warns(NtmgisWarning):
            read_time_series(tmp_path, on_error="skip")


def test_progress_and_cancel(tmp_path):
    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "a", item=item)
    make_scene(tmp_path, "b", item={**item, "datetime": "2020-03-11T03:00:00Z"})
    seen = []
    read_time_series(tmp_path, progress=lambda f, m: seen.append((f, m)))
    assert seen[0] == (0.0, "Reading a") and seen[-1][0] == 1.0
    with pytest.raises(CancelledError):
        read_time_series(tmp_path, progress=lambda f, m: f < 0.4)


def test_public_names_exposed():
    assert ntmgis.read_time_series is read_time_series
    assert ntmgis.find_scenes is find_scenes
    assert callable(ntmgis.composite) and callable(ntmgis.register_index)


# --------------------------------------------------------------------------- CLI


def test_cli_indices_writes_cogs(tmp_path):
    from click.testing import CliRunner

    from ntmgis.cli import cli

    scenes = tmp_path / "scenes"
    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(scenes, "a", item=item)
    dn = default_dn()
    dn["nir"] = dn["nir"] + 1000
    make_scene(scenes, "b", dn=dn, item={**item, "datetime": "2020-04-01T03:00:00Z"})
    make_scene(scenes, "c", item={**item, "datetime": "2021-04-01T03:00:00Z"})
    aoi_path = tmp_path / "aoi.gpkg"
    aoi_box(X0 + 10, Y0 - 70, X0 + 70, Y0 - 10).to_file(aoi_path, layer="commune")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "indices",
            str(scenes),
            "-o",
            str(out),
            "--period",
            "2020-01-01:2020-12-31",
            "--aoi",
            str(aoi_path),
            "--aoi-layer",
            "commune",
            "--margin",
            "0",
            "--index",
            "ndvi",
            "--index",
            "NDMI",
            "--formula",
            "nirx2=2 * B08",
        ],
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "ndmi_composite.tif",
        "ndmi_series.tif",
        "ndvi_composite.tif",
        "ndvi_series.tif",
        "nirx2_composite.tif",
        "nirx2_series.tif",
        "scenes.csv",
    ]
    with rasterio.open(out / "nirx2_series.tif") as ds:
        assert ds.read(1)[0, 0] == pytest.approx(2 * 0.309, abs=1e-6)  # 2 x (3090 / 10000)
    with rasterio.open(out / "ndvi_series.tif") as ds:
        assert ds.descriptions == ("2020-03-01/ndvi", "2020-04-01/ndvi")
        assert ds.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        assert ds.shape == (6, 6)
        series = ds.read()
    with rasterio.open(out / "ndvi_composite.tif") as ds:
        assert ds.descriptions[:2] == ("ndvi/median", "ndvi/max")
        median, mx, mn, amp, count = ds.read()
    # pixel (0, 0) of the window = source pixel (1, 1), ramp 9: red 318, nir 3090 / 4090
    a = (3090 - 318) / (3090 + 318)
    b = (4090 - 318) / (4090 + 318)
    assert series[0, 0, 0] == pytest.approx(a, abs=1e-6)
    assert median[0, 0] == pytest.approx((a + b) / 2, abs=1e-6)
    assert mx[0, 0] == pytest.approx(b, abs=1e-6) and mn[0, 0] == pytest.approx(a, abs=1e-6)
    assert amp[0, 0] == pytest.approx(0.8 * (b - a), abs=1e-6)  # p90 - p10 of two values
    assert (count == 2).all()
    csv_text = (out / "scenes.csv").read_text(encoding="utf-8")
    assert "a,2020-03-01,EPSG:32648,36,36,0,ok" in csv_text  # one CSV writer: whole numbers


# --------------------------------------------------------------------------- real data


def test_real_sentinel2_crop_band_order_and_ndvi(shared_data):
    path = shared_data / "sentinel2_real" / "s2_10m_blue_green_red_nir.tif"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    (scene,) = find_scenes(path)
    assert {b: s.index for b, s in scene.bands.items()} == {
        "blue": 1,
        "green": 2,
        "red": 3,
        "nir": 4,
    }
    assert scene.crs.to_epsg() == 32719 and scene.date is None
    with rasterio.open(path) as ds:
        dn = ds.read().astype(np.float64)
    # undated, no baseline: decided from values (1.1% of red DNs < 1000 -> offset 0)
    with pytest.warns(NtmgisWarning) as record:
        st = read_time_series(path, bands=["blue", "red", "nir"], indices=["ndvi"])
    messages = " ".join(str(w.message) for w in record)
    assert "Processing baseline unknown for 1" in messages
    assert "below 1000, so offset 0" in messages
    assert st.names == [
        "s2_10m_blue_green_red_nir/blue",
        "s2_10m_blue_green_red_nir/red",
        "s2_10m_blue_green_red_nir/nir",
        "s2_10m_blue_green_red_nir/ndvi",
    ]
    assert st.shape == (200, 300) and st.crs.to_epsg() == 32719
    np.testing.assert_allclose(st.layer("s2_10m_blue_green_red_nir/blue"), dn[0] / 10000, rtol=1e-6)
    np.testing.assert_allclose(st.layer("s2_10m_blue_green_red_nir/red"), dn[2] / 10000, rtol=1e-6)
    hand = (dn[3] - dn[2]) / (dn[3] + dn[2])
    np.testing.assert_allclose(st.layer("s2_10m_blue_green_red_nir/ndvi"), hand, atol=1e-6)
    # one pixel spelled out
    r, n = dn[2, 0, 0], dn[3, 0, 0]
    assert st.layer("s2_10m_blue_green_red_nir/ndvi")[0, 0] == pytest.approx(
        (n - r) / (n + r), abs=1e-6
    )


# --------------------------------------------------------------------------- the sample commune


def test_sample_commune_scenes_and_stack(layers_dir):
    s2 = layers_dir / "s2"
    gpkg = layers_dir / "thanh_binh.gpkg"
    if not (s2.is_dir() and gpkg.exists()):
        pytest.skip("the sample commune (layers/s2, layers/thanh_binh.gpkg) is not there")
    scenes = find_scenes(s2)
    assert len(scenes) == 16
    assert all(s.date.year == 2020 and s.processing_baseline.startswith("02.") for s in scenes)
    assert {s.crs.to_epsg() for s in scenes} == {32648}
    assert len(find_scenes(s2 / "items.json")) == 16
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        st = read_time_series(scenes, aoi=gpkg, aoi_layer="commune", indices=["ndvi", "bsi"])
    # only the cloudy date may be reported; metadata and values agree on every offset
    assert all("no clear pixel" in str(w.message) for w in record)
    assert len(st) == 32 and st.crs.to_epsg() == 32648
    info = st.meta["scenes"]
    assert {m["offset_source"] for m in info} <= {"metadata", "baseline"}
    assert all(m["boa_offset"] == 0.0 for m in info)
    fractions = sorted(m["clear_fraction"] for m in info)
    assert fractions[0] < 0.05  # the almost fully cloudy date
    swath = [m for m in info if m["valid_pixels"] < m["aoi_pixels"]]
    assert len(swath) == 1  # the swath-edge date
    # reflectance check on one pixel against the raw DNs of the first scene
    first = scenes[0]
    row, col = st.shape[0] // 2, st.shape[1] // 2
    x, y = st.transform @ (col + 0.5, row + 0.5)
    with rasterio.open(first.bands["red"].href) as r, rasterio.open(first.bands["nir"].href) as n:
        red = float(next(r.sample([(x, y)]))[0])
        nir = float(next(n.sample([(x, y)]))[0])
    ndvi = st.layer(f"{first.date.isoformat()}/ndvi")[row, col]
    if np.isfinite(ndvi):
        assert ndvi == pytest.approx((nir - red) / (nir + red), abs=1e-6)
    values = st.data[0::2]
    assert 0.2 < np.nanmean(values) < 0.9


def test_sample_followup_campaign_2022_offsets(small_sample):
    """The follow-up campaign spans 25 January 2022: offsets 0 then -1000, same surface."""
    root = Path(small_sample.root)
    scenes = find_scenes(root / "s2_2022")
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        st22 = read_time_series(
            scenes, aoi=root / "thanh_binh.gpkg", aoi_layer="commune", bands=["red"]
        )
        st20 = read_time_series(
            root / "s2", aoi=root / "thanh_binh.gpkg", aoi_layer="commune", bands=["red"]
        )
    assert not [w for w in record if "BOA_ADD_OFFSET" in str(w.message)]  # checks agree
    for m in st22.meta["scenes"]:
        expected = 0.0 if m["date"] < "2022-01-25" else -1000.0
        assert m["boa_offset"] == expected, m
    assert {m["boa_offset"] for m in st22.meta["scenes"]} == {0.0, -1000.0}
    # one pixel by hand: reflectance = (DN - 1000) / 10000 after the baseline change
    late = next(s for s in scenes if s.date.isoformat() >= "2022-01-25")
    layer = st22.layer(f"{late.date.isoformat()}/red")
    row, col = np.argwhere(np.isfinite(layer))[len(np.argwhere(np.isfinite(layer))) // 2]
    x, y = st22.transform @ (col + 0.5, row + 0.5)
    with rasterio.open(late.bands["red"].href) as ds:
        dn = float(next(ds.sample([(x, y)]))[0])
    assert layer[row, col] == pytest.approx((dn - 1000) / 10000, abs=1e-6)
    # the same commune two years apart: red reflectance in the same range
    assert np.nanmedian(st22.data) == pytest.approx(np.nanmedian(st20.data), abs=0.02)


# --------------------------------------------------------------------------- issue 17


def _landsat_folder(root, name, *, dtype="uint16", value=9000):
    """A Landsat C2 L2 scene folder (SR_B4, SR_B5, QA_PIXEL), 30 m, 8 x 8 pixels."""
    folder = Path(root) / name
    folder.mkdir(parents=True)
    for band in ("SR_B4", "SR_B5", "QA_PIXEL"):
        kind = "uint16" if band == "QA_PIXEL" else dtype
        fill = 21824 if band == "QA_PIXEL" else value  # 21824: clear land
        write_tif(folder / f"{band}.TIF", np.full((1, H, W), fill).astype(kind), res=30)
    return folder


def test_landsat_folder_without_platform_is_warned_naming_the_scene(tmp_path):
    folder = _landsat_folder(tmp_path, "landsat_scene_20200113")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (scene,) = find_scenes(tmp_path)
    assert scene.sensor == "landsat" and scene.platform is None
    # the OLI numbering it was given, and said so, naming the scene
    assert scene.bands["red"].href.endswith("SR_B4.TIF")
    assert scene.bands["nir"].href.endswith("SR_B5.TIF")
    (w,) = [w for w in caught if getattr(w.message, "what", "").endswith("landsat_platform")]
    assert w.message.where == folder.name and folder.name in str(w.message)
    assert "LT05_" in str(w.message)  # what to do: name the platform
    # a named platform (Landsat 5 TM) numbers the bands its own way, without a warning
    tm = _landsat_folder(tmp_path / "tm", "LT05_L2SP_125047_20100113_20200825_02_T1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (scene,) = find_scenes(tm)
    assert scene.platform == "landsat-5" and scene.bands["nir"].href.endswith("SR_B4.TIF")
    assert not [w for w in caught if "landsat_platform" in str(getattr(w.message, "what", ""))]


def test_landsat_scale_on_8_bit_data_warns_and_gives_negative_reflectance(tmp_path):
    name = "LC08_L2SP_125047_20200113_20200822_02_T1"
    _landsat_folder(tmp_path, name, dtype="uint8", value=200)
    aoi = aoi_box(X0 + 10, Y0 - 230, X0 + 230, Y0 - 10)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        stack = read_time_series(tmp_path, aoi=aoi, bands=["red"], indices=[])
    (w,) = [w for w in caught if getattr(w.message, "what", "") == "warning.imagery.landsat_scale"]
    assert w.message.where == name and "8-bit" in str(w.message)
    # what the warning is about: 200 * 0.0000275 - 0.2 = -0.1945 everywhere
    assert np.nanmax(stack.data) == pytest.approx(200 * 0.0000275 - 0.2, abs=1e-6)


def test_a_run_skips_and_reports_a_truncated_and_a_missing_band_file(tmp_path):
    """By default a run skips a scene with a truncated band or a band file gone."""
    import shutil

    import ntmgis
    from ntmgis._toml import tomllib

    layers = Path(__file__).resolve().parents[1] / "layers"
    s2 = tmp_path / "s2"
    shutil.copytree(layers / "s2", s2)
    scenes = sorted(p for p in s2.iterdir() if p.is_dir())
    cut, gone = scenes[1], scenes[2]
    data = (cut / "B04.tif").read_bytes()
    (cut / "B04.tif").write_bytes(data[: len(data) // 2])  # a download cut in half
    (gone / "B08.tif").unlink()  # a band file gone (its item.json still lists it)
    raw = tomllib.loads((layers / "thanh_binh.toml").read_text(encoding="utf-8"))
    raw["inputs"]["imagery"] = str(s2)
    raw["outputs"].update(dir=str(tmp_path / "out"), maps=False, report=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ntmgis.run(ntmgis.load_config(raw, base=layers))
    meta = gpd.read_file(tmp_path / "out" / "thanh_binh.gpkg", layer="run_metadata")
    dates = dict(zip(meta["key"], meta["value"], strict=True))["imagery_dates"].split(",")
    assert len(dates) == len(scenes) - 2
    for folder in (cut, gone):
        assert find_scenes(folder)[0].date.isoformat() not in dates
    skipped = {w.message.where for w in caught if w.message.__class__.__name__ == "ImageryWarning"
               and getattr(w.message, "what", None) == "warning.imagery.skipped"}  # fmt: skip
    assert {cut.name, gone.name} <= {Path(str(where)).name for where in skipped}
    # and one line names them both (a console that counts repeats shows only the first)
    (summary,) = {str(w.message) for w in caught
                  if getattr(w.message, "what", None) == "warning.imagery.skipped_all"}  # fmt: skip
    assert summary.startswith("2 unreadable scenes were skipped")
    assert cut.name in summary and gone.name in summary


def test_reading_session_discovers_and_opens_once_with_the_same_result(tmp_path, monkeypatch):
    from ntmgis.imagery import reading_session

    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "a", item=item)
    make_scene(tmp_path, "b", item={**item, "datetime": "2020-03-11T03:00:00Z"})
    (tmp_path / "c").mkdir()
    for name in ("B04.tif", "B08.tif"):  # an unreadable scene
        (tmp_path / "c" / name).write_bytes(b"II*\x00garbage")
    aoi = aoi_box(X0 + 10, Y0 - 70, X0 + 60, Y0 - 20)
    outside = read_time_series(tmp_path, aoi=aoi, indices=["ndvi", "ndmi"], on_error="skip")
    opened = []
    original = rasterio.open

    def spy(path, *args, **kwargs):
        opened.append(Path(str(path)).relative_to(tmp_path).as_posix())
        return original(path, *args, **kwargs)

    monkeypatch.setattr(rasterio, "open", spy)
    with reading_session():
        with pytest.warns(NtmgisWarning) as first:
            scenes = find_scenes(tmp_path, on_error="skip")
        with pytest.warns(NtmgisWarning) as second:  # the skipped scene is said again
            again = find_scenes(tmp_path, period="2020-03-05:2020-03-31", on_error="skip")
        read_time_series(tmp_path, aoi=aoi, indices=["ndvi"], on_error="skip")
        inside = read_time_series(tmp_path, aoi=aoi, indices=["ndvi", "ndmi"], on_error="skip")
    assert [str(w.message) for w in first] == [str(w.message) for w in second]
    assert any("c" == Path(str(w.message.where)).name for w in first)
    assert [s.id for s in scenes] == ["a", "b"] and [s.id for s in again] == ["b"]
    # each file once: the unreadable one (failed, not kept) at each discovery
    kept = [name for name in opened if not name.startswith("c/")]
    assert sorted(kept) == sorted(set(kept))
    assert {"a/B04.tif", "a/B08.tif", "a/B11.tif", "a/SCL.tif", "b/B04.tif"} <= set(kept)
    assert inside.names == outside.names
    np.testing.assert_array_equal(inside.data, outside.data)
    assert inside.transform == outside.transform
    # the session closed what it opened; outside one, nothing is kept
    opened.clear()
    read_time_series(tmp_path / "a", aoi=aoi, indices=["ndvi"])
    read_time_series(tmp_path / "a", aoi=aoi, indices=["ndvi"])
    assert {"a/B04.tif", "a/B08.tif", "a/SCL.tif"} <= set(opened)
    assert all(opened.count(name) % 2 == 0 for name in opened)  # as often by each read


def test_reading_sessions_of_a_process_discover_an_unchanged_folder_once(tmp_path, monkeypatch):
    from ntmgis.imagery import reading_session

    make_scene(tmp_path, "S2B_48QWE_20200113_0_L2A")
    make_scene(tmp_path, "S2B_48QWE_20200123_0_L2A")
    opened = []
    original = rasterio.open

    def spy(path, *args, **kwargs):
        opened.append(Path(str(path)).name)
        return original(path, *args, **kwargs)

    monkeypatch.setattr(rasterio, "open", spy)
    with reading_session():
        first = find_scenes(tmp_path)
    assert opened == ["B02.tif", "B02.tif"]  # one header a scene (no item.json)
    with reading_session():
        again = find_scenes(tmp_path)
    assert opened == ["B02.tif", "B02.tif"]  # nothing changed: not discovered again
    assert [(s.id, s.bounds) for s in again] == [(s.id, s.bounds) for s in first]
    # a scene whose file changed is discovered again, its new header read
    write_tif(tmp_path / "S2B_48QWE_20200123_0_L2A" / "B02.tif", np.ones((4, 4)), res=20,
              x0=X0 + 1000)  # fmt: skip
    opened.clear()
    with reading_session():
        moved = find_scenes(tmp_path)
    assert opened == ["B02.tif", "B02.tif"]
    assert moved[1].bounds == (X0 + 1000, Y0 - 80, X0 + 1080, Y0)
    # outside a session, every call discovers
    find_scenes(tmp_path)
    assert len(opened) == 4


def test_reading_session_keeps_at_most_max_open_files(tmp_path, monkeypatch):
    from ntmgis import imagery
    from ntmgis.imagery import reading_session

    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "a", item=item)
    make_scene(tmp_path, "b", item={**item, "datetime": "2020-03-11T03:00:00Z"})
    aoi = aoi_box(X0 + 10, Y0 - 70, X0 + 60, Y0 - 20)
    alone = read_time_series(tmp_path, aoi=aoi, indices=["ndvi", "ndmi"])
    monkeypatch.setattr(imagery._SessionCache, "MAX_OPEN", 2)
    with reading_session():
        bounded = read_time_series(tmp_path, aoi=aoi, indices=["ndvi", "ndmi"])
        cache = imagery._SESSION.cache
        kept = [ds for ds, _ in cache.datasets.values()]
        assert len(kept) == 2 and not any(ds.closed for ds in kept)
    assert all(ds.closed for ds in kept)  # closed when the session ends
    assert imagery._SESSION.cache is None
    assert bounded.names == alone.names
    np.testing.assert_array_equal(bounded.data, alone.data)


def test_windows_kept_by_the_alignment_read_serve_the_features_read_unchanged(
    tmp_path, monkeypatch
):
    import rasterio.io

    from ntmgis.imagery import _keeping_reads, reading_session

    item = {"datetime": "2020-03-01T03:00:00Z", "s2:processing_baseline": "02.14"}
    make_scene(tmp_path, "a", item=item)
    make_scene(tmp_path, "b", item={**item, "datetime": "2020-03-11T03:00:00Z"})
    small = aoi_box(X0 + 10, Y0 - 70, X0 + 60, Y0 - 20)
    outside = read_time_series(tmp_path, aoi=small, indices=["ndvi", "ndmi"], margin=10)
    reads = []
    original = rasterio.io.DatasetReader.read

    def spy(self, *args, **kwargs):
        out = original(self, *args, **kwargs)
        reads.append(Path(self.name).relative_to(tmp_path).as_posix())
        return out

    monkeypatch.setattr(rasterio.io.DatasetReader, "read", spy)
    with reading_session():
        with _keeping_reads():  # as the alignment check: NDVI bands, a wider margin
            read_time_series(tmp_path, aoi=small, indices=["ndvi"], margin=30)
        kept = sorted(reads)
        reads.clear()
        inside = read_time_series(tmp_path, aoi=small, indices=["ndvi", "ndmi"], margin=10)
        again = read_time_series(tmp_path, aoi=small, indices=["ndvi", "ndmi"], margin=10)
    # the red, NIR and SCL windows of both scenes were read once, by the first read only
    assert kept == ["a/B04.tif", "a/B08.tif", "a/SCL.tif", "b/B04.tif", "b/B08.tif", "b/SCL.tif"]
    assert sorted(reads) == ["a/B11.tif", "a/B11.tif", "b/B11.tif", "b/B11.tif"]  # SWIR only
    for stack in (inside, again):  # the same pixels as read outside a session
        assert stack.names == outside.names and stack.transform == outside.transform
        np.testing.assert_array_equal(stack.data, outside.data)
    # outside _keeping_reads nothing is kept: a wider read inside a session reads again
    reads.clear()
    with reading_session():
        read_time_series(tmp_path, aoi=small, indices=["ndvi"], margin=30)
        read_time_series(tmp_path, aoi=small, indices=["ndvi"], margin=10)
    assert len(reads) == 12


def test_polygon_shapes_burn_the_pixels_of_each_shapes_geo_interface():
    import shapely
    from affine import Affine
    from rasterio.features import geometry_mask

    from ntmgis.imagery import _polygon_shapes

    rng = np.random.default_rng(5)
    ring = shapely.box(20, 20, 80, 80).difference(shapely.box(40, 40, 60, 60))  # a hole
    multi = shapely.MultiPolygon([shapely.box(0, 0, 15, 15), shapely.box(85, 85, 100, 99)])
    edges = shapely.box(30, 5, 50, 15)  # edges on pixel boundaries and centres
    centres = rng.uniform(0, 100, size=(300, 2))
    small = shapely.buffer(shapely.points(centres), rng.uniform(0.5, 6, size=300), 3)
    geoms = [ring, multi, edges, shapely.Polygon(), *small]
    transform = Affine(2.5, 0.0, -1.0, 0.0, -2.5, 101.0)  # pixel centres on some edges
    want = geometry_mask(geoms, out_shape=(41, 41), transform=transform, invert=True)
    got = geometry_mask(_polygon_shapes(geoms), out_shape=(41, 41), transform=transform,
                        invert=True)  # fmt: skip
    np.testing.assert_array_equal(got, want)
    assert 200 < want.sum() < 41 * 41  # a real mix of inside and outside
    shapes = _polygon_shapes([ring, multi])  # the multipolygon split, the hole kept
    assert [len(s["coordinates"]) for s in shapes] == [2, 1, 1]
    assert shapes[0]["coordinates"][0] == [list(c) for c in ring.exterior.coords]
    lines = [shapely.LineString([(0, 0), (1, 1)])]
    assert _polygon_shapes(lines) == lines  # not polygons: as given


def test_aoi_clipped_to_the_scenes_only_where_it_leaves_them():
    """A part inside the scenes is kept as it is, one across their edge is cut, one
    outside is left out; with two scenes side by side their union is the cover."""
    import datetime as dt

    import shapely

    from ntmgis.imagery import Scene, _clip_to_scenes

    day = dt.date(2022, 1, 5)
    scenes = [Scene("a", day, "sentinel-2", {}, bounds=(0, 0, 100, 100)),
              Scene("b", day, "sentinel-2", {}, bounds=(100, 0, 200, 100))]  # fmt: skip
    inside, across = box(10, 10, 20, 20), box(190, 40, 230, 60)
    seam, outside = box(90, 40, 110, 60), box(300, 300, 310, 310)
    got = _clip_to_scenes(np.array([inside, across, seam, outside], dtype=object), scenes)
    assert len(got) == 3
    assert got[0] is inside
    assert shapely.equals(got[1], box(190, 40, 200, 60))
    assert shapely.equals(got[2], seam) and shapely.area(got[2]) == 400
    # every part inside: the AOI as given
    parts = np.array([inside, box(30, 30, 40, 40)], dtype=object)
    assert _clip_to_scenes(parts, scenes[:1]) is parts
