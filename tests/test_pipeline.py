"""The whole chain on the sample commune: outputs, every parcel, targets of the flags issue."""

import os
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from ntmgis.errors import CancelledError
from ntmgis.features import parcel_features
from ntmgis.flags import evaluate, flag_parcels
from ntmgis.imagery import read_time_series
from ntmgis.pipeline import run, sample_config
from ntmgis.sample import sample_paths


@pytest.fixture(scope="module")
def sample_run(layers_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = run(sample_config(layers_dir, out=out))
    return result, out


def test_outputs_and_every_parcel(sample_run, layers_dir):
    result, out = sample_run
    gpkg = out / "thanh_binh.gpkg"
    layers = dict(pyogrio.list_layers(gpkg))
    assert {"parcels", "hamlets", "survey_unmatched", "run_metadata"} <= set(layers)
    parcels = gpd.read_file(gpkg, layer="parcels")
    source = gpd.read_file(sample_paths(layers_dir)["gpkg"], layer="parcels")
    assert len(parcels) == len(source)
    assert set(zip(parcels["sheet"], parcels["parcel_no"])) == set(
        zip(source["SHBANDO"], source["SHTHUA"])
    )
    garden = parcels["is_garden"].astype(bool)
    assert (
        parcels.loc[garden, "flag"]
        .isin(["hoang_hoa", "nghi_van", "binh_thuong", "thieu_du_lieu"])
        .all()
    )
    assert parcels.loc[~garden, "flag"].isna().all()
    assert parcels.loc[garden, "flag_reasons"].str.len().gt(0).all()
    assert parcels.loc[garden, "agreement"].notna().all()
    unmatched = pyogrio.read_dataframe(gpkg, layer="survey_unmatched")
    assert len(unmatched) == 1  # the row whose parcel does not exist
    meta = pyogrio.read_dataframe(gpkg, layer="run_metadata").set_index("key")["value"]
    assert meta["flag_mode"] == "calibrated"
    assert len(meta["imagery_dates"].split(",")) == 16
    assert (out / "bao_cao_tien_do.xlsx").is_file()
    assert result.outputs["gpkg"] == gpkg and result.outputs["maps_pdf"].suffix == ".pdf"
    assert result.outputs["report_xlsx"] == out / "bao_cao_tien_do.xlsx"
    hidden = [p for p in os.listdir(out) if p.startswith(".")]
    assert hidden == [".ntmgis-run.json"]  # the run's manifest; no temporary left


def test_calibrated_flags_meet_the_targets(sample_run, layers_dir):
    result, _ = sample_run
    ev = evaluate(result.parcels, sample_paths(layers_dir)["truth"])
    assert ev.recall >= 0.9, ev.summary()
    assert ev.f1 >= 0.9, ev.summary()


def test_rules_alone_meet_their_target(sample_run, layers_dir):
    result, _ = sample_run
    p = result.parcels
    features = p[[c for c in p.columns if c in {
        "clear_obs", "coverage_fraction", "ndvi_p90", "ndvi_median", "ndvi_resid_std",
        "ndvi_max_drop", "ndvi_trend", "ndvi_amplitude", "events"}]]  # fmt: skip
    flags, cal = flag_parcels(features, is_garden=p["is_garden"], calibration="rules")
    assert cal.mode == "rules"
    ev = evaluate(p[["sheet", "parcel_no"]].assign(flag=flags["flag"]),
                  sample_paths(layers_dir)["truth"])  # fmt: skip
    assert ev.f1 >= 0.8, ev.summary()


def test_field_visit_list_catches_false_renovation_claims(sample_run, layers_dir):
    result, _ = sample_run
    truth = pd.read_csv(sample_paths(layers_dir)["truth"])
    p = result.parcels.merge(truth, left_on=["sheet", "parcel_no"],
                             right_on=["SHBANDO", "SHTHUA"])  # fmt: skip
    false_claims = (p["survey_claim"] == "Vườn đã cải tạo") & (p["abandoned"] == 1)
    assert false_claims.sum() >= 5
    assert p.loc[false_claims, "visit"].mean() >= 0.8


def test_cancel_leaves_no_output(layers_dir, tmp_path):
    cfg = sample_config(layers_dir, out=tmp_path)
    cfg.maps = False

    def progress(fraction, message):
        return not message.startswith("writing")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(CancelledError):
            run(cfg, progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_imagery_over_part_of_the_commune_leaves_the_rest_without_data(layers_dir):
    paths = sample_paths(layers_dir)
    parcels = gpd.read_file(paths["gpkg"], layer="parcels")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stack = read_time_series(paths["scenes"], aoi=parcels, indices=["ndvi", "bsi"])
    half = stack.shape[1] // 2
    stack.data = np.ascontiguousarray(stack.data[:, :, :half])  # the west half only
    features = parcel_features(parcels, stack, indices=("ndvi", "bsi"))
    flags, _ = flag_parcels(features, calibration="rules")
    east = parcels.to_crs(stack.crs).centroid.x > stack.transform.c + half * stack.transform.a + 20
    assert east.sum() > 100
    assert (flags.loc[east, "flag"] == "thieu_du_lieu").all()
    assert (
        flags.loc[~east & (features["coverage_fraction"] == 1), "flag"] != "thieu_du_lieu"
    ).all()
    assert len(flags) == len(parcels)


def test_followup_campaign_shows_progress_against_the_baseline(sample_run, layers_dir):
    _, out = sample_run
    cfg = sample_config(layers_dir, out=out, followup=2022)
    cfg.maps = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        later = run(cfg)
    table = later.progress
    assert table is not None and len(table) == 6
    assert table["reward_priority"].notna().sum() >= 1  # some hamlets exceed their targets
    first = table.sort_values("rank").iloc[0]
    assert first["status"] in ("vuot", "dat")
    assert (table["renovated_confirmed"] > 0).all()
    hamlets = gpd.read_file(out / "theo_doi_2022" / "thanh_binh_2022.gpkg", layer="hamlets")
    assert hamlets["status"].notna().all()
    ev = evaluate(later.parcels, sample_paths(layers_dir, followup=2022)["truth"])
    assert ev.recall >= 0.85 and ev.f1 >= 0.85, ev.summary()


def test_followup_needs_the_baseline_run(layers_dir, tmp_path):
    from ntmgis.errors import ConfigError

    with pytest.raises(ConfigError, match="baseline run .* does not exist yet"):
        sample_config(layers_dir, out=tmp_path, followup=2022)
