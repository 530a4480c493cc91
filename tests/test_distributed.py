"""Province-scale runs on Dask distributed: partitions, identity with run(), faults.

The cluster tests share one LocalCluster of 2 worker processes on 127.0.0.1. The sample
commune is cut into blocks of 128 px (4 blocks); run() with the same config goes through
the same blocks, so the distributed result must equal it exactly.
"""

from __future__ import annotations

import shutil
import warnings

import numpy as np
import pandas as pd
import pytest

from ntmgis.config import load_communes, load_config
from ntmgis.distributed import (
    assemble_features,
    commune_features,
    plan_blocks,
    run_distributed,
)
from ntmgis.errors import ConfigError
from ntmgis.pipeline import prepare, run, sample_config

distributed = pytest.importorskip("distributed")

BLOCK = 128


def _english(func, lang="en"):
    """What ``func()`` says in ``lang`` (the summaries are said in the user's language)."""
    from ntmgis.i18n import language

    with language(lang):
        return func()


def _cfg(layers_dir, out, *, calibration="rules", block=BLOCK):
    cfg = sample_config(layers_dir, out=out)
    cfg.maps = False
    cfg.report = False
    cfg.calibration = calibration
    cfg.block = block
    return cfg


@pytest.fixture(scope="module")
def client():
    from distributed import Client

    from ntmgis.distributed import local_cluster

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cluster = local_cluster(2, dashboard=False)  # the cluster `--workers 2` starts
        client = Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def reference(layers_dir, tmp_path_factory):
    """The single-process run of the sample (rules, blocks of 128 px), and its warnings."""
    from ntmgis.errors import NtmgisWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(_cfg(layers_dir, tmp_path_factory.mktemp("single")))
    result.warned = {str(w.message) for w in caught if issubclass(w.category, NtmgisWarning)}
    result.warned_kinds = {
        (str(w.message), w.category, getattr(w.message, "what", None))
        for w in caught
        if issubclass(w.category, NtmgisWarning)
    }
    return result


@pytest.fixture(scope="module")
def joined(layers_dir, tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cfg = _cfg(layers_dir, tmp_path_factory.mktemp("prep"))
        return cfg, prepare(cfg).joined


# --------------------------------------------------------------------------- partitions


def test_blocks_hold_every_parcel_once_within_their_square(joined):
    cfg, parcels = joined
    blocks = plan_blocks(parcels, cfg.imagery, block=BLOCK)
    assert len(blocks) == 4
    pos = np.concatenate(blocks)
    assert np.array_equal(np.sort(pos), np.arange(len(parcels)))
    pts = parcels.geometry.representative_point().to_crs(32648)
    x0, y1 = pts.x.min(), pts.y.max()
    for b in blocks:  # a block's points lie in one 1,280 m square of the imagery grid
        col = np.floor((pts.x.iloc[b] - x0) / 1280.0)
        row = np.floor((y1 - pts.y.iloc[b]) / 1280.0)
        assert col.nunique() == 1 and row.nunique() == 1
    # a block bigger than the commune: one block, the parcels in order (run() as before)
    (whole,) = plan_blocks(parcels, cfg.imagery, block=512)
    assert np.array_equal(whole, np.arange(len(parcels)))


def test_block_size_moves_features_only_by_rounding(joined):
    cfg, parcels = joined
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        small, dates_small = commune_features(cfg, parcels)
        cfg.block = 4096
        whole, dates_whole = commune_features(cfg, parcels)
        cfg.block = BLOCK
    assert np.array_equal(dates_small, dates_whole) and len(dates_whole) == 16
    assert small.index.equals(parcels.index)
    exact = ["n_dates", "clear_obs", "pixels", "events", "renovation_seen", "imagery_status"]
    pd.testing.assert_frame_equal(small[exact], whole[exact])
    num = whole.select_dtypes("number").columns
    np.testing.assert_allclose(small[num], whole[num], rtol=0, atol=1e-12)


def test_assemble_marks_failed_block_and_keeps_order(joined):
    cfg, parcels = joined
    sub = parcels.iloc[:40]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats, dates = commune_features(cfg, sub)
    from ntmgis.distributed import BlockResult

    odd, even = np.arange(1, 40, 2), np.arange(0, 40, 2)
    parts = [
        BlockResult(odd, error="ImageryError: window unreadable"),
        BlockResult(even, feats.iloc[even], dates),
    ]
    out, out_dates, errors = assemble_features(sub.index, parts, indices=cfg.indices)
    assert errors == [{"block": 0, "parcels": 20, "error": "ImageryError: window unreadable"}]
    assert out.index.equals(sub.index) and np.array_equal(out_dates, dates)
    pd.testing.assert_frame_equal(out.iloc[even].drop(columns="partition_error"), feats.iloc[even])
    assert (out["imagery_status"].iloc[odd] == "error").all()
    assert (out["clear_obs"].iloc[odd] == 0).all() and out["ndvi_median"].iloc[odd].isna().all()
    assert out["partition_error"].iloc[even].isna().all()
    assert (out["n_dates"] == 16).all()


# --------------------------------------------------------------------------- configs


def test_province_config_lists_communes(tmp_path, layers_dir):
    for name in ("xa_a", "xa_b"):
        (tmp_path / name).mkdir()
        text = (layers_dir / "thanh_binh.toml").read_text(encoding="utf-8")
        text = text.replace('"thanh_binh.gpkg"', f'"{(layers_dir / "thanh_binh.gpkg").as_posix()}"')
        for key in ("survey_2020.xlsx", "targets_2020.csv"):
            text = text.replace(f'"{key}"', f'"{(layers_dir / key).as_posix()}"')
        text = text.replace('imagery = "s2"', f'imagery = "{(layers_dir / "s2").as_posix()}"')
        (tmp_path / name / "xa.toml").write_text(text, encoding="utf-8")
    prov = tmp_path / "tinh.toml"
    prov.write_text(
        '[province]\nname = "Tỉnh thử"\ncommunes = ["xa_*/xa.toml"]\nout_dir = "ket_qua"\n'
        "maps = false\n",
        encoding="utf-8",
    )
    a, b = load_communes(prov)
    assert a.out_dir == (tmp_path / "ket_qua" / "xa_a").resolve()
    assert b.out_dir == (tmp_path / "ket_qua" / "xa_b").resolve()
    assert a.maps is False and b.maps is False and a.report is True
    assert load_communes(tmp_path / "xa_a" / "xa.toml")[0].out_dir == (tmp_path / "out").resolve()
    with pytest.raises(ConfigError, match="province config"):
        load_config(prov)
    prov.write_text('[province]\ncommunes = ["xa_*/xa.toml"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="would both write"):
        load_communes(prov)  # both communes' configs say dir = "../out"
    prov.write_text('[province]\ncommunes = ["huyen_*/xa.toml"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="matches no file"):
        load_communes(prov)


# --------------------------------------------------------------------------- on the cluster


def test_cluster_result_equals_single_process_exactly(layers_dir, tmp_path, client):
    """Survey-calibrated flags (one classifier per commune) on 4 blocks over 2 workers."""
    from concurrent.futures import ThreadPoolExecutor

    with warnings.catch_warnings(), ThreadPoolExecutor(1) as pool:
        warnings.simplefilter("ignore")  # the single-process run beside the cluster's
        single = pool.submit(run, _cfg(layers_dir, tmp_path / "single", calibration="auto"))
        out = run_distributed(
            _cfg(layers_dir, tmp_path / "dist", calibration="auto"), client=client
        )  # fmt: skip
        single = single.result()
    (commune,) = out.communes
    assert commune.status == "ok" and commune.blocks == 4 and out.lost_workers == []
    assert out.workers == 2
    dist = commune.result
    assert single.calibration.mode == dist.calibration.mode == "calibrated"
    pd.testing.assert_frame_equal(dist.parcels, single.parcels, check_exact=True)
    pd.testing.assert_frame_equal(dist.hamlets, single.hamlets, check_exact=True)
    assert dist.messages[0] == single.messages[0]
    skip = {"started_utc", "partitions", "partition_block_px", "run_id"}
    assert {k: v for k, v in dist.metadata.items() if k not in skip} == {
        k: v for k, v in single.metadata.items() if k not in skip
    }
    assert dist.metadata["partitions"] == 4
    assert out.bytes_read > 0 and set(out.peak_memory) == set(client.scheduler_info()["workers"])


def test_one_block_commune_runs_in_its_own_task_and_equals_run(
    layers_dir, tmp_path, client, reference
):
    """At the default block the sample is one block: one commune task does it all."""
    from distributed import get_task_stream

    cfg = _cfg(layers_dir, tmp_path / "dist", block=512)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert len(plan_blocks(prepare(cfg).joined, cfg.imagery, block=512)) == 1
    with warnings.catch_warnings(), get_task_stream(client) as ts:
        warnings.simplefilter("ignore")
        out = run_distributed(cfg, client=client)
    (commune,) = out.communes
    assert commune.status == "ok" and commune.blocks == 1
    assert commune.parcels == len(reference.parcels)
    keys = {str(t["key"]).split("-")[1] for t in ts.data if "ntmgis-" in str(t["key"])}
    assert keys == {"prepare", "plan"}  # no features or finish task, nothing moved
    # a 512-px window has another origin than the reference's 128-px blocks (weights
    # ~1e-14 apart), so the single-process run compared with is run at 512 too
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        single = run(_cfg(layers_dir, tmp_path / "single", block=512))
    pd.testing.assert_frame_equal(commune.result.parcels, single.parcels, check_exact=True)
    assert commune.result.metadata["partitions"] == 1
    assert commune.stats["features_cpu_seconds"] > 0 and commune.stats["bytes_read"] > 0
    # the commune's warnings come back from its one task, as run() emits them
    from ntmgis.errors import NtmgisWarning

    said = {str(w.message) for w in caught if issubclass(w.category, NtmgisWarning)}
    assert {w[0] for w in commune.warnings} == said and len(said) >= 2


def test_killed_worker_tasks_rerun_and_result_complete(layers_dir, tmp_path, client, reference):
    from distributed.diagnostics.plugin import WorkerPlugin

    marker = tmp_path / "killed"

    class KillOnFirstBlock(WorkerPlugin):
        """Kill this worker's process when it starts the run's first block task."""

        name = "kill-on-first-block"

        def __init__(self, marker):
            self.marker = str(marker)

        def transition(self, key, start, finish, **kwargs):
            import os
            import signal
            from pathlib import Path

            if finish == "executing" and "ntmgis-features" in str(key):
                try:
                    fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
                except FileExistsError:
                    return
                os.write(fd, str(os.getpid()).encode())
                os.close(fd)
                Path(self.marker).with_suffix(".key").write_text(str(key))
                os.kill(os.getpid(), signal.SIGKILL)

    client.register_plugin(KillOnFirstBlock(marker))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = run_distributed(_cfg(layers_dir, tmp_path / "dist"), client=client)
    finally:
        client.unregister_worker_plugin("kill-on-first-block")
    assert marker.is_file(), "no worker was killed"
    killed_key = marker.with_suffix(".key").read_text()
    (commune,) = out.communes
    assert commune.status == "ok" and commune.blocks == 4
    assert len(out.lost_workers) == 1
    assert killed_key in out.lost_workers[0]["tasks"]
    assert "was lost during the run" in _english(out.summary)
    pd.testing.assert_frame_equal(commune.result.parcels, reference.parcels, check_exact=True)
    # the workers' warnings (survey defects, cloudy dates per block) come back, once each
    # (text, category, where, what): re-emitted as they were, category and key included
    assert {w[0] for w in commune.warnings} == reference.warned and len(reference.warned) >= 3
    assert {(w[0], w[1], w[3]) for w in commune.warnings} == reference.warned_kinds
    client.wait_for_workers(2, timeout=60)


def _retile_and_corrupt_one_block(path, parcels, blocks, tile=64):
    """Rewrite a band with small tiles and break the one tile that a single block reads.

    Returns the position of that block in ``blocks``.
    """
    import rasterio

    with rasterio.open(path) as src:
        profile, data = src.profile, src.read()
        windows = []
        for b in blocks:  # the block's window: its parcels' bounds plus the 40 m margin
            x0, y0, x1, y1 = parcels.iloc[b].to_crs(src.crs).total_bounds
            r0, c0 = src.index(x0 - 40, y1 + 40)
            r1, c1 = src.index(x1 + 40, y0 - 40)
            windows.append((r0 // tile, r1 // tile, c0 // tile, c1 // tile))
    profile.update(blockxsize=tile, blockysize=tile, tiled=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
    for row in range(data.shape[1] // tile + 1):
        for col in range(data.shape[2] // tile + 1):
            hit = [k for k, (a, b, c, d) in enumerate(windows) if a <= row <= b and c <= col <= d]
            if len(hit) == 1:
                with rasterio.open(path) as ds:
                    offset = int(ds.get_tag_item(f"BLOCK_OFFSET_{col}_{row}", "TIFF", bidx=1))
                with open(path, "r+b") as f:
                    f.seek(offset)
                    f.write(b"\xff" * 64)
                return hit[0]
    raise AssertionError("no tile is read by exactly one block")


def test_bad_block_and_bad_commune_reported_rest_completes(
    layers_dir, tmp_path, client, reference, joined
):
    s2 = tmp_path / "s2"
    shutil.copytree(layers_dir / "s2", s2)
    scenes = sorted(p for p in s2.iterdir() if p.is_dir())
    scene = scenes[3]
    cfg, parcels = joined
    blocks = plan_blocks(parcels, cfg.imagery, block=BLOCK)
    # one bad scene is skipped and reported (issue 17); a block that no scene can be read
    # for fails: break the same tile of every scene
    for one in scenes:
        broken_block = _retile_and_corrupt_one_block(one / "B04.tif", parcels, blocks)
    good = _cfg(layers_dir, tmp_path / "a")
    good.imagery = s2
    broken = _cfg(layers_dir, tmp_path / "b")
    broken.commune = "Xã Hỏng"
    broken.parcels = tmp_path / "hong.gpkg"
    broken.parcels.write_bytes(b"not a geopackage at all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run_distributed([good, broken], client=client)
    a, b = out.communes
    assert a.status == "partial" and b.status == "error"
    assert "hong.gpkg" in b.error and b.result is None
    (err,) = a.block_errors
    assert err["block"] == broken_block and err["parcels"] == len(blocks[broken_block])
    assert "B04.tif" in err["error"] and scene.name in err["error"]
    parcels = a.result.parcels
    bad = parcels["imagery_status"] == "error"
    assert np.array_equal(np.flatnonzero(bad), blocks[broken_block])
    assert parcels.loc[bad, "partition_error"].str.contains("B04.tif").all()
    assert (parcels.loc[bad & parcels["is_garden"], "flag"] == "thieu_du_lieu").all()
    ref = reference.parcels
    cols = ["flag", "flag_score", "ndvi_median", "clear_obs", "bsi_spike", "imagery_status"]
    pd.testing.assert_frame_equal(parcels.loc[~bad, cols], ref.loc[~bad, cols], check_exact=True)
    assert "block" in a.result.metadata["partition_errors"]
    text = _english(out.summary)
    assert "1 with failed blocks, 1 failed" in text and "Xã Hỏng: FAILED" in text
    vi = _english(out.summary, lang="vi")
    assert "1 xã có khối ảnh lỗi, 1 xã lỗi" in vi and "Xã Hỏng: LỖI" in vi
    table = out.table()
    assert list(table["status"]) == ["partial", "error"]
    assert table["parcels_in_failed_blocks"].iloc[0] == err["parcels"]


def test_cli_province_on_scheduler(layers_dir, tmp_path, client):
    from click.testing import CliRunner

    from ntmgis.cli import cli as main

    folder = tmp_path / "xa_a"
    folder.mkdir()
    (folder / "xa.toml").write_text(
        '[commune]\nname = "Xã A"\n[inputs]\n'
        f'parcels = "{(layers_dir / "thanh_binh.gpkg").as_posix()}"\nparcels_layer = "parcels"\n'
        f'imagery = "{(layers_dir / "s2").as_posix()}"\n'
        '[imagery]\nperiod = "2020-01-01:2020-06-30"\nblock = 128\n'
        '[flags]\ncalibration = "rules"\n[outputs]\nmaps = false\n',
        encoding="utf-8",
    )
    (tmp_path / "tinh.toml").write_text(
        '[province]\ncommunes = ["xa_*/xa.toml"]\n', encoding="utf-8"
    )
    address = client.scheduler.address
    res = CliRunner().invoke(
        main, ["--lang", "en", "run", str(tmp_path / "tinh.toml"), "--scheduler", address,
               "-o", str(tmp_path / "out")],
    )  # fmt: skip
    from ntmgis.i18n import set_language

    set_language(None)
    assert res.exit_code == 0, res.output
    assert "1 commune(s), 1600 parcels" in res.output and "1 complete" in res.output
    report = pd.read_csv(tmp_path / "out" / "run_report.csv", encoding="utf-8-sig")
    assert report["status"].tolist() == ["ok"] and report["blocks"].tolist() == [4]
    assert (tmp_path / "out" / "xa_a" / "thanh_binh.gpkg").is_file()


def test_without_cluster_communes_run_in_process_with_the_same_report(small_sample, tmp_path):
    cfg = load_config(small_sample.root / "thanh_binh.toml")
    cfg.maps, cfg.report, cfg.calibration, cfg.out_dir = False, False, "rules", tmp_path / "a"
    broken = load_config(small_sample.root / "thanh_binh.toml")
    broken.commune, broken.out_dir = "Xã Hỏng", tmp_path / "b"
    broken.imagery = tmp_path / "khong_co_anh"
    broken.imagery.mkdir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = run_distributed([cfg, broken])
        single = run(cfg)
    assert [c.status for c in out.communes] == ["ok", "error"]
    assert out.workers == out.cores == 1 and out.lost_workers == []
    assert "khong_co_anh" in out.communes[1].error
    pd.testing.assert_frame_equal(out.communes[0].result.parcels, single.parcels)
    assert out.communes[0].parcels == 300 and out.communes[1].parcels == 300
    assert out.communes[0].stats["features_seconds"] > 0
    assert "Xã Hỏng: FAILED" in _english(out.summary)


def test_block_task_ships_features_not_pixels(joined):
    """What travels between tasks is configs, positions and per-parcel tables."""
    import pickle

    from ntmgis.distributed import _block_task

    cfg, parcels = joined
    blocks = plan_blocks(parcels, cfg.imagery, block=BLOCK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = _block_task(cfg, (type("P", (), {"joined": parcels})(), None, {}), blocks[0])
    assert res.error is None and len(res.features) == len(blocks[0]) == 763
    sent = len(pickle.dumps((cfg, blocks[0])))
    back = len(pickle.dumps(res))
    # the block read its window of 16 dates x 7 bands itself (~8 MB of tiles and headers)
    assert sent < 20_000 and back < 400 * len(blocks[0])
    assert res.stats["bytes_read"] > 10 * back


# --------------------------------------------------------------------------- the report file


def _province_result():
    from ntmgis.distributed import CommuneOutcome, DistributedResult

    ok = CommuneOutcome('=HYPERLINK("http://x")', None, parcels=12, blocks=1)
    ok.result = type("R", (), {"outputs": {"gpkg": "out/xa.gpkg"}})()
    bad = CommuneOutcome("Xã Hỏng", None, error="-1+1 cannot be read")
    return DistributedResult(communes=[ok, bad], seconds=1.5)


def test_province_report_is_written_atomically_and_escaped(tmp_path):
    path = _province_result().write(tmp_path / "sub" / "run_report.csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a BOM, for Excel
    table = pd.read_csv(path, encoding="utf-8-sig")
    assert table["commune"].tolist() == ['\'=HYPERLINK("http://x")', "Xã Hỏng"]
    assert table["error"].tolist()[1] == "'-1+1 cannot be read"
    assert table["status"].tolist() == ["ok", "error"]
    assert table["geopackage"].tolist()[0] == "out/xa.gpkg"
    assert table["parcels"].tolist() == [12, 0]


def test_failed_province_report_leaves_no_file_under_its_name(tmp_path, monkeypatch):
    from ntmgis.errors import OutputError

    final = tmp_path / "run_report.csv"
    import csv

    original = csv.writer

    class HalfThenDiskFull:  # the header and half a row reach the disk, then it is full
        def __init__(self, out, *args, **kwargs):
            self.out = out

        def writerow(self, row):
            self.out.write("commune,status\r\nX")

        def writerows(self, rows):
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(csv, "writer", HalfThenDiskFull)
    with pytest.raises(OutputError, match="disk is full"):
        _province_result().write(final)
    assert list(tmp_path.iterdir()) == []  # neither the final name nor a temporary
    final.write_text("previous report", encoding="utf-8")
    with pytest.raises(OutputError):
        _province_result().write(final)
    assert final.read_text(encoding="utf-8") == "previous report"  # left as it was
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run_report.csv"]
    monkeypatch.setattr(csv, "writer", original)
    _province_result().write(final)
    assert "Xã Hỏng" in final.read_text(encoding="utf-8-sig")


def test_the_local_clusters_workers_run_without_the_dask_profiler(client):
    """``local_cluster`` (what ``--workers`` starts) gives each worker WORKER_CONFIG: no
    stack sampling every 10 ms, also in a worker restarted after one was lost (the
    module's killed-worker test runs first); one thread each, on 127.0.0.1 only."""
    import dask

    from ntmgis.distributed import WORKER_CONFIG

    assert WORKER_CONFIG == {"distributed.worker.profile.enabled": False}
    assert dask.config.get("distributed.worker.profile.enabled") is True  # here: untouched
    enabled = client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert len(enabled) == 2 and set(enabled.values()) == {False}
    info = client.scheduler_info()["workers"]
    assert all(w["nthreads"] == 1 and w["host"] == "127.0.0.1" for w in info.values())
