"""ntmgis.fetch against real servers on 127.0.0.1 (tests/stac/): pgstac + stac-fastapi, nginx.

The served assets are the sample commune's scenes embedded in 1536 x 1536 px COGs (15 km),
so a fetch must read windows, not files; the Earth Search and Planetary Computer
conventions are both served, as is a misbehaving catalogue for the retry paths.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
AOI = LAYERS / "thanh_binh.gpkg"  # the commune layer is in VN-2000 (EPSG:9209)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from stac import servers as _servers  # noqa: E402
from stac import setup_servers  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("english")]


@pytest.fixture(scope="module")
def stac(tmp_path_factory):
    missing = _servers.missing_tools()
    if missing:
        message = (
            f"fetch test servers need {', '.join(missing)} (make test installs them: "
            f"make test-fetch-deps)"
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path_factory.mktemp("stac")
    servers = setup_servers.start(root)
    try:
        yield servers
    finally:
        servers.stop()


def _fetch(stac, out, period, **kw):
    from ntmgis.fetch import fetch_scenes

    kw.setdefault("catalog", stac.es.url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fetch_scenes(AOI, aoi_layer="commune", period=period, out=out, **kw)


@pytest.fixture(scope="module")
def fetched_2020(stac, tmp_path_factory):
    out = tmp_path_factory.mktemp("fetched_2020")
    since = stac.nginx.log_size()
    result = _fetch(stac, out, "2020-01-01:2020-12-31", max_cloud=100)
    sent, requests = stac.nginx.bytes_sent(since)
    return result, out, sent, requests


def _config(imagery, out):
    import ntmgis

    cfg = ntmgis.load_config(LAYERS / "thanh_binh.toml")
    cfg.imagery = imagery
    cfg.out_dir = out
    cfg.calibration = "auto"
    return cfg


def _features_and_flags(cfg):
    from ntmgis.distributed import commune_features
    from ntmgis.flags import flag_parcels
    from ntmgis.pipeline import prepare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare(cfg)
        features, dates = commune_features(cfg, prepared.joined)
        joined = prepared.joined
        flags, _ = flag_parcels(
            features,
            survey_class=prepared.survey_class,
            groups=joined["hamlet"],
            is_garden=joined["is_garden"],
            calibration="rules",
        )
    return features, dates, flags


# --------------------------------------------------------------------------- the main path


def test_fetched_scenes_give_the_local_features_and_flags(fetched_2020, tmp_path):
    result, out, _, _ = fetched_2020
    assert len(result) == 16  # every 2020 date, max_cloud=100 keeps even the 97% cloudy one
    local_f, local_d, local_flags = _features_and_flags(_config(LAYERS / "s2", tmp_path))
    got_f, got_d, got_flags = _features_and_flags(_config(out, tmp_path))
    assert list(got_d) == list(local_d)
    assert list(got_f.columns) == list(local_f.columns)
    num = local_f.select_dtypes("number").columns
    np.testing.assert_array_equal(got_f[num].to_numpy(), local_f[num].to_numpy())
    import pandas as pd

    pd.testing.assert_frame_equal(got_flags, local_flags)
    assert got_flags["flag"].value_counts().get("hoang_hoa", 0) > 50


def test_band_files_are_the_source_pixels_on_the_source_grid(fetched_2020):
    import rasterio
    from rasterio.windows import from_bounds

    result, out, _, _ = fetched_2020
    scene = "S2A_48QWE_20200113_0_L2A"
    for name, src_name in (("blue", "B02"), ("swir16", "B11"), ("scl", "SCL")):
        with rasterio.open(out / scene / f"{name}.tif") as got:
            data = got.read(1)
            t = got.transform
            with rasterio.open(LAYERS / "s2" / scene / f"{src_name}.tif") as src:
                # same grid: the origin falls on a source pixel corner, same pixel size
                assert t.a == src.transform.a and t.e == src.transform.e
                assert ((t.c - src.transform.c) / t.a) % 1 == 0
                assert ((t.f - src.transform.f) / t.e) % 1 == 0
                window = from_bounds(*got.bounds, transform=src.transform).round_offsets()
                expected = src.read(1, window=window, boundless=True, fill_value=0)
            assert got.profile["driver"] == "GTiff" and got.profile["tiled"]
        np.testing.assert_array_equal(data, expected[: data.shape[0], : data.shape[1]])
    # window = commune bounds in UTM 48N plus the 100 m margin, snapped outward to 10 m
    import geopandas as gpd

    left, bottom, right, top = gpd.read_file(AOI, layer="commune").to_crs(32648).total_bounds + [
        -100,
        -100,
        100,
        100,
    ]
    with rasterio.open(out / scene / "blue.tif") as ds:
        b = ds.bounds
    assert b.left <= left < b.left + 10 and b.right - 10 < right <= b.right
    assert b.bottom <= bottom < b.bottom + 10 and b.top - 10 < top <= b.top


def test_item_json_records_source_baseline_offset_and_clear_share(fetched_2020):
    import ntmgis

    result, out, _, _ = fetched_2020
    doc = json.loads((out / "S2B_48QWE_20200202_0_L2A" / "item.json").read_text("utf-8"))
    props = doc["properties"]
    assert props["s2:processing_baseline"] == "02.14"
    assert props["s2:boa_add_offset"] == 0.0 and props["ntmgis:boa_offset_source"] == "baseline"
    assert props["earthsearch:boa_offset_applied"] is True  # consistent with offset 0
    assert props["ntmgis:source_earthsearch_boa_offset_applied"] is False  # what it said
    assert props["ntmgis:source_item"].endswith("/items/S2B_48QWE_20200202_0_L2A")
    assert sorted(doc["assets"]) == ["blue", "green", "nir", "red", "scl", "swir16", "swir22"]
    # the clear share is the reader's own count on the same date, to a pixel or so
    stack = ntmgis.read_time_series(
        out / "S2B_48QWE_20200202_0_L2A", aoi=AOI, aoi_layer="commune", indices=["ndvi"]
    )
    meta = stack.meta["scenes"][0]
    reader_share = meta["clear_pixels"] / stack.meta["aoi_pixels"]
    assert abs(props["ntmgis:clear_share"] - reader_share) < 0.03
    # find_scenes reads the folder unchanged, with the fetched metadata
    scenes = ntmgis.find_scenes(out)
    assert len(scenes) == 16 and scenes[0].processing_baseline == "02.14"
    assert all(s.crs.to_epsg() == 32648 for s in scenes)
    report = json.loads((out / "fetch_report.json").read_text("utf-8"))
    assert report["bytes_read"] == result.bytes_read
    statuses = {i["id"]: i["status"] for i in report["items"]}
    assert statuses["S2A_49QAE_20200113_0_L2A"] == "duplicate"


def test_bytes_moved_are_a_small_share_and_reported(stac, fetched_2020):
    result, out, sent, requests = fetched_2020
    served = stac.root / "www" / "s2"
    total = sum(
        f.stat().st_size for d in served.iterdir() if "49QAE" not in d.name for f in d.glob("*")
    )
    assert requests > 16 * 7  # range requests, not one download per file
    assert sent < 0.2 * total, (sent, total)
    # the report's count (tiles of the windows plus headers) is the server's, within 25%
    assert abs(result.bytes_read - sent) < 0.25 * sent, (result.bytes_read, sent)
    assert result.bytes_source > 4 * result.bytes_read
    assert "MB" in result.summary() and "16 fetched" in result.summary()


def test_duplicate_date_from_another_utm_zone_keeps_one_grid(stac, tmp_path):
    import ntmgis

    result = _fetch(stac, tmp_path, "2020-01-01:2020-01-31", max_cloud=100)
    ids = sorted(s.id for s in result)
    assert ids == ["S2A_48QWE_20200113_0_L2A"]
    dup = [i for i in result.items if i["status"] == "duplicate"]
    assert [d["id"] for d in dup] == ["S2A_49QAE_20200113_0_L2A"]
    assert "EPSG:32649" in dup[0]["reason"]
    assert len(ntmgis.read_stacks(result, aoi=AOI, aoi_layer="commune")) == 1


def test_adjacent_tiles_of_one_date_on_one_grid_are_both_kept(stac, tmp_path):
    import ntmgis

    result = _fetch(stac, tmp_path, "2019-11-01:2019-11-30", max_cloud=100)
    assert sorted(s.id for s in result) == ["S2A_48QWE_20191115_0_L2A", "S2A_48QXE_20191115_0_L2A"]
    stacks = ntmgis.read_stacks(result, aoi=AOI, aoi_layer="commune")
    assert len(stacks) == 1 and stacks[0].names == ["2019-11-15/ndvi"]  # one layer from both


def test_cloud_screening_on_the_aoi_pixels(stac, tmp_path):
    result = _fetch(stac, tmp_path, "2020-09-01:2020-11-30", max_cloud=50)
    by_id = {i["id"]: i for i in result.items}
    cloudy = by_id["S2A_48QWE_20201004_0_L2A"]
    assert cloudy["status"] == "cloudy" and cloudy["clear_share"] < 0.1
    assert "max_cloud 50%" in cloudy["reason"]
    assert not (tmp_path / "S2A_48QWE_20201004_0_L2A").exists()
    fetched = {k for k, v in by_id.items() if v["status"] == "fetched"}
    assert {s.id for s in result} == fetched and len(fetched) >= 2
    for v in by_id.values():  # the AOI's own share decides, not the tile's cloud cover
        assert (v["status"] == "fetched") == (v["clear_share"] >= 0.5), v


def test_every_date_cloudy_says_which_threshold_to_relax(stac, tmp_path):
    from ntmgis.errors import ImageryError

    with pytest.raises(ImageryError, match="max-cloud") as err:
        _fetch(stac, tmp_path, "2020-10-01:2020-10-10", max_cloud=20)
    assert "2020-10-04" in str(err.value) and "too cloudy" in str(err.value)


def test_period_without_scene_gives_the_nearest_dates(stac, tmp_path):
    from ntmgis.errors import DataNotFoundError

    with pytest.raises(DataNotFoundError, match="2020-12-08") as err:
        _fetch(stac, tmp_path, "2021-03-01:2021-03-31")
    assert "Widen --period" in str(err.value)
    assert isinstance(err.value, FileNotFoundError)


def test_missing_asset_and_missing_file_are_reported_not_fatal(stac, tmp_path):
    from ntmgis.errors import ImageryError, ImageryWarning
    from ntmgis.fetch import fetch_scenes

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageryError, match="No scene could be fetched"):
            fetch_scenes(
                AOI,
                aoi_layer="commune",
                period="2019-12-01:2019-12-31",
                out=tmp_path,
                catalog=stac.es.url,
                retries=0,
            )
    report = json.loads((tmp_path / "fetch_report.json").read_text("utf-8"))
    statuses = {i["date"]: (i["status"], i["reason"]) for i in report["items"]}
    assert statuses["2019-12-20"][0] == "missing asset" and "scl" in statuses["2019-12-20"][1]
    assert statuses["2019-12-25"][0] == "error" and "swir16" in statuses["2019-12-25"][1]
    assert sum(issubclass(w.category, ImageryWarning) for w in caught) >= 2
    assert not list(tmp_path.glob(".*.part"))  # nothing half-done left behind


def test_planetary_computer_conventions_read_the_same(stac, fetched_2020, tmp_path):
    import ntmgis
    from ntmgis.fetch import Catalog

    cat = Catalog("planetary-computer", stac.pc.url, sign="planetary-computer")
    result = _fetch(stac, tmp_path, "2020-01-01:2020-02-28", catalog=cat, max_cloud=100)
    assert len(result) == 3
    doc = json.loads((tmp_path / result[0].id / "item.json").read_text("utf-8"))
    assert sorted(doc["assets"]) == ["B02", "B03", "B04", "B08", "B11", "B12", "SCL"]
    es_out = fetched_2020[1]
    pc = ntmgis.read_time_series(result, aoi=AOI, aoi_layer="commune", indices=["ndvi", "bsi"])
    es = ntmgis.read_time_series(
        es_out,
        aoi=AOI,
        aoi_layer="commune",
        indices=["ndvi", "bsi"],
        period="2020-01-01:2020-02-28",
    )
    assert pc.names == es.names
    np.testing.assert_array_equal(pc.data, es.data)


def test_unknown_catalogue_and_collection_list_the_known_ones(stac, tmp_path):
    from ntmgis.errors import InputError
    from ntmgis.fetch import fetch_scenes

    with pytest.raises(InputError, match="earth-search.*planetary-computer.*cdse"):
        fetch_scenes(AOI, aoi_layer="commune", period="2020-01:2020-02", out=tmp_path, catalog="x")
    with pytest.raises(InputError, match="sentinel-2-l2a, landsat-c2-l2"):
        fetch_scenes(
            AOI, aoi_layer="commune", period="2020-01-01:2020-02-01", out=tmp_path,
            collection="sentinel-1-grd",
        )  # fmt: skip
    with pytest.raises(InputError, match="has no collection 'landsat-c2-l2'.*sentinel-2-l2a"):
        _fetch(stac, tmp_path, "2020-01-01:2020-02-01", catalog=stac.pc.url,
               collection="landsat-c2-l2")  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "expect"),
    [("500", "answers HTTP 500"), ("429", "429"), ("slow", "does not answer in time")],
)
def test_misbehaving_catalogue_is_retried_then_named(stac, tmp_path, mode, expect):
    from ntmgis.errors import ImageryError

    url = f"{stac.bad.url}/{mode}"
    before = stac.bad.hits.get(mode, 0)
    with pytest.raises(ImageryError, match=expect) as err:
        _fetch(stac, tmp_path, "2020-01-01:2020-01-31", catalog=url, retries=2, timeout=1)
    assert url in str(err.value) and "\n" not in str(err.value)
    assert stac.bad.hits[mode] - before >= 2  # retried before giving up


def test_catalogue_down_is_one_sentence(stac, tmp_path):
    from ntmgis.errors import ImageryError
    from ntmgis.i18n import set_language

    url = f"http://127.0.0.1:{_servers.free_port()}/v1"
    with pytest.raises(ImageryError, match="cannot be reached") as err:
        _fetch(stac, tmp_path, "2020-01-01:2020-01-31", catalog=url, retries=1, timeout=2)
    assert url in str(err.value) and "Traceback" not in str(err.value)
    set_language("vi")  # Vietnamese first: the same sentence from the catalogue
    with pytest.raises(ImageryError, match="không kết nối được") as err:
        _fetch(stac, tmp_path, "2020-01-01:2020-01-31", catalog=url, retries=0, timeout=2)
    assert str(err.value).startswith(f"Danh mục {url.split('://')[1]} ({url})")


def test_retries_are_not_a_trace_on_the_console(stac, tmp_path, caplog):
    """urllib3 logs a WARNING per retry ('Retrying (...) after connection broken by
    NewConnectionError(...)'): the user gets the one sentence, the retries go to debug."""
    import logging

    from ntmgis.errors import ImageryError

    caplog.set_level(logging.DEBUG)
    for url in (f"http://127.0.0.1:{_servers.free_port()}/v1", f"{stac.bad.url}/slow"):
        caplog.clear()
        with pytest.raises(ImageryError, match="cannot be reached|does not answer in time"):
            _fetch(stac, tmp_path, "2020-01-01:2020-01-31", catalog=url, retries=2, timeout=1)
        loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert not [r for r in loud if r.name.startswith("urllib3")], loud
        retried = [r for r in caplog.records if r.name == "ntmgis.fetch" and "retried" in r.msg]
        assert len(retried) == 2  # each retry is still in the debug log


def test_cli_fetch_reports_a_missing_asset_in_vietnamese(stac, tmp_path):
    from click.testing import CliRunner

    from ntmgis.cli import cli

    res = CliRunner().invoke(
        cli,
        [
            "--lang", "vi", "fetch", str(AOI), "--aoi-layer", "commune", "--period",
            "2019-12-01:2020-01-20", "-o", str(tmp_path), "--catalog", stac.es.url,
            "--retries", "0",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "Cảnh báo: Bỏ qua S2A_48QWE_20191220_0_L2A: mục này không có tệp cho scl" in res.output
    assert "Cảnh báo: Bỏ qua S2A_48QWE_20191225_0_L2A: Không đọc được kênh swir16" in res.output
    assert "warning:" not in res.output
    report = json.loads((tmp_path / "fetch_report.json").read_text("utf-8"))
    fates = {i["id"]: i["status"] for i in report["items"]}
    assert fates["S2A_48QWE_20200113_0_L2A"] == "fetched"
    assert fates["S2A_48QWE_20191220_0_L2A"] == "missing asset"


def test_flaky_catalogue_succeeds_after_retries(stac, tmp_path):
    before = stac.bad.hits.get("flaky", 0)
    result = _fetch(
        stac, tmp_path, "2020-01-01:2020-01-31", catalog=f"{stac.bad.url}/flaky", max_cloud=100
    )
    assert [s.id for s in result] == ["S2A_48QWE_20200113_0_L2A"]
    assert stac.bad.hits["flaky"] - before >= 3


# --------------------------------------------------------------------------- resume


_KILLED = """
import sys, time
from pathlib import Path
from ntmgis.fetch import fetch_scenes
marker = Path(sys.argv[2])
seen = []
def progress(fraction, message):
    if "reading bands" in message:
        seen.append(message)
        if len(seen) == 4:  # in the middle of the 4th date
            marker.write_text(message)
            time.sleep(120)
fetch_scenes({aoi!r}, aoi_layer="commune", period="2020-01-01:2020-06-30", out=sys.argv[1],
             catalog={url!r}, max_cloud=100, progress=progress)
"""


def test_resume_after_a_killed_fetch(stac, tmp_path):
    out, marker = tmp_path / "out", tmp_path / "marker"
    script = _KILLED.format(aoi=str(AOI), url=stac.es.url)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", script, str(out), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), "the fetch subprocess did not reach its 4th date"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    done = sorted(p.name for p in out.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(done) == 3
    partial = list(out.glob(".*.part"))
    assert len(partial) == 1  # the 4th date, under a hidden name the reader skips
    (partial[0] / ".blue.left_by_a_crash.tif").write_bytes(b"II*\x00half")
    # a final-name file damaged since: checked against its record, not trusted
    damaged = out / done[1] / "nir.tif"
    damaged.write_bytes(damaged.read_bytes()[:1000])
    since = stac.nginx.log_size()
    result = _fetch(stac, out, "2020-01-01:2020-06-30", max_cloud=100)
    sent, _ = stac.nginx.bytes_sent(since)
    statuses = {i["id"]: i["status"] for i in result.items}
    assert [statuses[d] for d in done] == ["complete", "fetched", "complete"]
    assert list(statuses.values()).count("fetched") == len(result) - 2
    assert not list(out.glob(".*"))[:1] or all(
        p.name == "fetch_report.json" for p in out.glob(".*")
    )
    assert not list(out.glob(".*.part"))
    # the resumed folders equal a clean fetch of the same period
    clean = _fetch(stac, tmp_path / "clean", "2020-01-01:2020-06-30", max_cloud=100)
    assert sorted(s.id for s in clean) == sorted(s.id for s in result)
    import rasterio

    for scene in clean:
        for f in sorted((tmp_path / "clean" / scene.id).glob("*.tif")):
            with rasterio.open(f) as a, rasterio.open(out / scene.id / f.name) as b:
                np.testing.assert_array_equal(a.read(1), b.read(1))
                assert a.transform == b.transform
    assert sent < clean.bytes_read  # the complete dates were not moved again


def test_cancel_leaves_no_scene_folder_and_the_next_call_finishes(stac, tmp_path):
    from ntmgis.errors import CancelledError

    calls = []

    def cancel_on_second_date(fraction, message):
        calls.append(message)
        return not (fraction > 0.5 and "reading bands" in message)

    with pytest.raises(CancelledError):
        _fetch(stac, tmp_path, "2020-01-01:2020-02-28", max_cloud=100,
               progress=cancel_on_second_date)  # fmt: skip
    assert len([p for p in tmp_path.iterdir() if p.is_dir() and p.name[0] != "."]) <= 2
    result = _fetch(stac, tmp_path, "2020-01-01:2020-02-28", max_cloud=100)
    assert len(result) == 3


def test_cli_fetch_then_run_config(stac, tmp_path):
    from click.testing import CliRunner

    from ntmgis.cli import cli

    out = tmp_path / "anh"
    res = CliRunner().invoke(
        cli,
        [
            "fetch", str(AOI), "--aoi-layer", "commune", "--period", "2020-01-01:2020-02-28",
            "-o", str(out), "--catalog", stac.es.url, "--max-cloud", "100",
            "--bands", "red,nir",
        ],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "3 scene(s)" in res.output and "MB" in res.output
    assert len([p for p in out.iterdir() if p.is_dir()]) == 3
    assert sorted(f.name for f in next(p for p in out.iterdir() if p.is_dir()).glob("*.tif")) == [
        "nir.tif", "red.tif", "scl.tif",
    ]  # fmt: skip


def test_landsat_collection_2_with_qa_pixel(stac, tmp_path):
    import ntmgis

    result = _fetch(
        stac, tmp_path, "2020-03-01:2020-05-31", collection="landsat-c2-l2", max_cloud=100
    )
    assert [s.date.isoformat() for s in result] == ["2020-03-20", "2020-04-29"]
    assert all(s.sensor == "landsat" for s in result)
    doc = json.loads((tmp_path / result[0].id / "item.json").read_text("utf-8"))
    assert "qa_pixel" in doc["assets"] and "s2:boa_add_offset" not in doc["properties"]
    ls = ntmgis.read_time_series(result, aoi=AOI, aoi_layer="commune", indices=["ndvi"])
    s2 = ntmgis.read_time_series(
        LAYERS / "s2", aoi=AOI, aoi_layer="commune", indices=["ndvi"],
        period="2020-03-18:2020-04-27",
    )  # fmt: skip
    assert ls.meta["grid"] == 30.0
    for k, s2_date in enumerate(("2020-03-18", "2020-04-27")):
        s2_ndvi = s2.data[s2.names.index(f"{s2_date}/ndvi")]
        # DN x 0.0000275 - 0.2 undoes the encoding: the 30 m mean NDVI is the 10 m one's
        assert abs(np.nanmean(ls.data[k]) - np.nanmean(s2_ndvi)) < 0.02
        # QA_PIXEL masks what SCL masked: the clear shares agree
        s2_meta = [m for m in s2.meta["scenes"] if str(m["date"]) == s2_date][0]
        s2_clear = s2_meta["clear_pixels"] / s2.meta["aoi_pixels"]
        ls_clear = ls.meta["scenes"][k]["clear_pixels"] / ls.meta["aoi_pixels"]
        assert abs(s2_clear - ls_clear) < 0.05


# --------------------------------------------------------------------------- the run config


def _raw(**imagery):
    raw = {
        "commune": {"name": "Xã Thanh Bình", "year": 2020},
        "inputs": {
            "parcels": str(AOI),
            "parcels_layer": "parcels",
            "hamlets": str(AOI),
            "hamlets_layer": "hamlets",
            "survey": str(LAYERS / "survey_2020.xlsx"),
        },
        "imagery": {"period": "2020-01-01:2020-12-31", **imagery},
        "outputs": {"maps": False, "report": False, "name": "xa"},
    }
    return raw


def test_config_imagery_source_is_validated_before_work(tmp_path):
    import ntmgis
    from ntmgis.errors import ConfigError

    cfg = ntmgis.load_config(_raw(source="earth-search", max_cloud=60), base=tmp_path)
    assert cfg.imagery_source == "earth-search" and cfg.max_cloud == 60
    assert cfg.imagery == cfg.imagery_cache == tmp_path / "out" / "imagery"
    with pytest.raises(ConfigError, match="Known catalogues: earth-search"):
        ntmgis.load_config(_raw(source="google-earth-engine"), base=tmp_path)
    with pytest.raises(ConfigError, match="Known collections"):
        ntmgis.load_config(_raw(source="earth-search", collection="modis"), base=tmp_path)
    raw = _raw(source="earth-search")
    del raw["imagery"]["period"]
    with pytest.raises(ConfigError, match=r"\[imagery\] period .* required"):
        ntmgis.load_config(raw, base=tmp_path)
    raw = _raw(source="earth-search")
    raw["inputs"]["imagery"] = str(LAYERS / "s2")
    with pytest.raises(ConfigError, match="both"):
        ntmgis.load_config(raw, base=tmp_path)
    with pytest.raises(ConfigError, match=r"\[imagery\] max_cloud .* needs \[imagery\] source"):
        ntmgis.load_config(_raw(max_cloud=50), base=tmp_path)
    with pytest.raises(ConfigError, match=r"\[inputs\] imagery .* required"):
        ntmgis.load_config(_raw(), base=tmp_path)
    with pytest.raises(ConfigError, match="percentage"):
        ntmgis.load_config(_raw(source="earth-search", max_cloud=150), base=tmp_path)


def test_run_fetches_first_when_the_config_names_a_source(stac, fetched_2020, tmp_path):
    import geopandas as gpd

    import ntmgis

    raw = _raw(source=stac.es.url, max_cloud=100, cache=str(tmp_path / "anh"))
    raw["outputs"]["dir"] = str(tmp_path / "out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ntmgis.run(ntmgis.load_config(raw))
    scenes = sorted(p.name for p in (tmp_path / "anh").iterdir() if p.is_dir())
    assert scenes == sorted(s.id for s in fetched_2020[0])
    got = gpd.read_file(tmp_path / "out" / "xa.gpkg", layer="parcels")
    assert len(got) == 1600 and got["flag"].notna().sum() > 1000
    # the run's metadata names the fetched dates (equal features: the first test above)
    meta = gpd.read_file(tmp_path / "out" / "xa.gpkg", layer="run_metadata")
    assert "2020-12-08" in str(meta.to_dict())
    assert result is not None


def test_bbox_area_in_degrees_and_a_vn2000_outline_make_the_same_search():
    import geopandas as gpd

    from ntmgis.errors import InputError
    from ntmgis.fetch import _aoi

    commune = gpd.read_file(AOI, layer="commune")
    assert commune.crs.to_epsg() == 9209
    series, wgs84 = _aoi(AOI, "commune", None)
    assert series.crs.to_epsg() == 9209  # the AOI keeps its CRS: windows use it
    w, s, e, n = wgs84.bounds
    assert 105.5 < w < e < 105.7 and 18.5 < s < n < 18.6
    box_series, box_wgs84 = _aoi(f"{w},{s},{e},{n}", None, None)
    assert box_wgs84.bounds == pytest.approx((w, s, e, n))
    with pytest.raises(InputError, match="west < east"):
        _aoi((e, s, w, n), None, None)


def test_the_parcels_as_area_are_searched_with_a_small_geometry():
    """A run fetches for its parcels: their union (1600 parcels, ~2500 vertices) is sent to
    the catalogue as its convex hull, which holds every parcel; the outline goes as it is."""
    import json as _json

    import shapely
    from shapely.geometry import mapping

    from ntmgis.fetch import _aoi, _search_geometry
    from ntmgis.parcels import read_parcels

    parcels = read_parcels(AOI, layer="parcels")
    _, union = _aoi(parcels, None, None)
    assert shapely.get_num_coordinates(union) > 2000
    sent = _search_geometry(union)
    assert shapely.get_num_coordinates(sent) < 200 and sent.covers(union)
    assert len(_json.dumps(mapping(sent))) < 0.05 * len(_json.dumps(mapping(union)))
    _, outline = _aoi(AOI, "commune", None)
    assert _search_geometry(outline) is outline


def test_fetch_for_run_reads_the_parcels_as_the_config_names_them(tmp_path, layers_dir,
                                                                  monkeypatch):  # fmt: skip
    """A .prj-less Shapefile: the run's fetch reads it with [inputs] parcels_crs/fields."""
    from types import SimpleNamespace

    import geopandas as gpd

    import ntmgis.fetch
    from ntmgis.config import load_config

    parcels = gpd.read_file(layers_dir / "thanh_binh.gpkg", layer="parcels").head(5)
    shp = tmp_path / "thua.shp"
    parcels.rename(columns={"SHBANDO": "MANH", "SHTHUA": "ODAT"})[
        ["MANH", "ODAT", "geometry"]
    ].to_file(shp)
    shp.with_suffix(".prj").unlink()
    config = tmp_path / "run.toml"
    config.write_text(
        f'[commune]\nname = "Xã Thử"\n\n[inputs]\nparcels = "{shp.as_posix()}"\n'
        f"parcels_crs = {parcels.crs.to_epsg()}\n"
        'parcels_fields = { sheet = "MANH", parcel_no = "ODAT" }\n'
        f'survey = "{(layers_dir / "survey_2020.xlsx").as_posix()}"\n\n'
        '[imagery]\nsource = "http://127.0.0.1:9/stac"\nperiod = "2020-01-01:2020-12-31"\n',
        encoding="utf-8",
    )
    seen = {}

    def fetch_scenes(p, **kw):  # the catalogue's part (tested above on a real STAC API)
        seen["p"] = p
        return SimpleNamespace(summary=lambda: "no scene")

    monkeypatch.setattr(ntmgis.fetch, "fetch_scenes", fetch_scenes)
    ntmgis.fetch.fetch_for_run(load_config(config))
    got = seen["p"]
    assert got.crs.to_epsg() == parcels.crs.to_epsg()
    assert got["sheet"].tolist() == parcels["SHBANDO"].tolist()
    assert got["parcel_no"].tolist() == parcels["SHTHUA"].tolist()
