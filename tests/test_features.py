"""Per-parcel features on hand-made series, and through the zonal engine on a tiny stack."""

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from affine import Affine

from ntmgis.features import ParcelSeries, parcel_features, parcel_time_series
from ntmgis.stack import RasterStack


@pytest.fixture(autouse=True)
def _english():
    """Messages in English here (their Vietnamese is tested on its own)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


DATES = np.array(
    ["2020-01-15", "2020-03-01", "2020-04-15", "2020-06-01", "2020-07-15", "2020-09-01",
     "2020-10-15", "2020-12-01"],
    dtype="datetime64[D]",
)  # fmt: skip


def _series(ndvi, bsi, valid=None, std=None):
    ndvi, bsi = np.atleast_2d(ndvi).astype(float), np.atleast_2d(bsi).astype(float)
    n, t = ndvi.shape
    return ParcelSeries(
        index=pd.RangeIndex(n),
        dates=DATES[:t],
        mean={"ndvi": ndvi, "bsi": bsi},
        std={"ndvi": np.full_like(ndvi, 0.05) if std is None else std, "bsi": np.zeros_like(bsi)},
        valid=np.ones((n, t)) if valid is None else np.asarray(valid, float),
        pixels=np.full(n, 5.0),
        status=np.array(["ok"] * n, dtype=object),
        coverage_fraction=np.ones(n),
    )


def test_flat_linear_series_has_exact_trend_and_no_events():
    years = (pd.DatetimeIndex(DATES) - pd.Timestamp("2020-01-01")).days.to_numpy() / 365.25
    ndvi = 0.4 + 0.1 * years
    f = parcel_features(None, None, series=_series(ndvi, np.full(8, 0.05)))
    row = f.iloc[0]
    assert row["clear_obs"] == 8
    assert row["ndvi_trend"] == pytest.approx(0.1, abs=1e-12)
    assert row["ndvi_resid_std"] == pytest.approx(0.0, abs=1e-12)
    assert row["events"] == 0 and not row["renovation_seen"]
    assert row["ndvi_median"] == pytest.approx(np.median(ndvi))
    assert row["ndvi_amplitude"] == pytest.approx(np.percentile(ndvi, 90) - np.percentile(ndvi, 10))
    assert row["bsi_spike"] == pytest.approx(0.0)


def test_cultivation_events_are_counted_and_are_not_a_renovation():
    #          tilled            tilled
    ndvi = [0.6, 0.2, 0.6, 0.7, 0.3, 0.65, 0.7, 0.7]
    bsi = [-0.1, 0.1, -0.1, -0.1, 0.08, -0.1, -0.1, -0.1]
    f = parcel_features(None, None, series=_series(ndvi, bsi)).iloc[0]
    assert f["events"] == 2  # falls of 0.4 and 0.4, each with a BSI rise >= 0.03
    assert f["ndvi_max_drop"] == pytest.approx(0.4)
    # two tillage cycles: a vegetable garden, not a renovation (nothing flat before)
    assert not f["renovation_seen"] and pd.isna(f["clearing_date"])
    # the dry season (March-August) holds 0.2, 0.6, 0.7, 0.3: median 0.45, minimum 0.2
    assert f["ndvi_dry_median"] == pytest.approx(0.45)
    assert f["ndvi_dry_min"] == pytest.approx(0.2)
    assert f["ndvi_wet_median"] == pytest.approx(np.median([0.6, 0.65, 0.7, 0.7]))


def test_a_clearing_after_a_flat_spell_then_regrowth_is_a_dated_renovation():
    # flat shrubs (0.50 +- 0.01) on three dates, cleared by 1 June, grown back by 1 Sept
    ndvi = [0.5, 0.51, 0.5, 0.25, 0.28, 0.45, 0.55, 0.6]
    bsi = [0.0, 0.0, 0.0, 0.12, 0.1, 0.02, -0.05, -0.07]
    f = parcel_features(None, None, series=_series(ndvi, bsi)).iloc[0]
    assert f["renovation_seen"]
    assert str(f["clearing_date"])[:10] == "2020-06-01"  # the first date seen bare
    assert str(f["regrowth_date"])[:10] == "2020-09-01"  # 0.45 >= 0.25 + 0.1
    # the same clearing on a series tilled before it is a cultivation cycle
    tilled = [0.6, 0.3, 0.6, 0.25, 0.28, 0.45, 0.55, 0.6]
    bsi2 = [0.0, 0.1, 0.0, 0.12, 0.1, 0.02, -0.05, -0.07]
    assert not parcel_features(None, None, series=_series(tilled, bsi2)).iloc[0]["renovation_seen"]


def test_a_clearing_with_too_few_dates_before_it_is_only_possible():
    # cleared on 15 April after two clear dates only (the survey must vouch for the spell)
    ndvi = [0.5, 0.51, 0.25, 0.28, 0.45, 0.55, 0.6, 0.6]
    bsi = [0.0, 0.0, 0.12, 0.1, 0.02, -0.05, -0.07, -0.07]
    f = parcel_features(None, None, series=_series(ndvi, bsi)).iloc[0]
    assert not f["renovation_seen"] and f["renovation_possible"]
    assert str(f["clearing_date"])[:10] == "2020-04-15"
    assert str(f["regrowth_date"])[:10] == "2020-07-15"  # 0.45 >= 0.25 + 0.08
    # a spell within 0.12 but not 0.1 (0.50 to 0.61) is only possible too
    loose = [0.5, 0.61, 0.55, 0.3, 0.32, 0.45, 0.55, 0.6]
    bsi2 = [0.0, 0.0, 0.0, 0.12, 0.1, 0.02, -0.05, -0.07]
    g = parcel_features(None, None, series=_series(loose, bsi2)).iloc[0]
    assert not g["renovation_seen"] and g["renovation_possible"]


def test_a_small_gardens_clearing_is_read_on_its_core_pixel_share():
    # the mean of a garden with no pixel wholly inside it: the neighbours' unchanged
    # shrubs dilute the clearing to a fall of 0.06 (under the 0.12 a clearing needs)
    mean = np.array([[0.60, 0.61, 0.60, 0.54, 0.56, 0.59, 0.62, 0.62]] * 3)
    bsi = np.array([[0.0, 0.0, 0.0, 0.03, 0.02, 0.0, -0.02, -0.02]] * 3)
    # its core pixel, 60 % inside it: 0.65 to 0.50, a fall of 0.15 of which the garden's
    # own is 0.15 / 0.6 = 0.25, from 0.65 to 0.40 (bare enough: <= 0.45)
    core = np.array([[0.65, 0.66, 0.65, 0.50, 0.52, 0.60, 0.66, 0.67]] * 3)
    core_bsi = np.array([[0.0, 0.0, 0.0, 0.08, 0.06, 0.0, -0.03, -0.03]] * 3)
    s = _series(mean, bsi)
    s.core = {"ndvi": core, "bsi": core_bsi}
    s.core_weight = np.array([0.6, 1.0, 0.6])
    s.full_pixels = np.array([0.0, 0.0, 9.0])
    f = parcel_features(None, None, series=s)
    assert not f["renovation_seen"].any()
    # read on the core pixel's share: possible (the survey decides); a pixel wholly the
    # garden's leaves a low of 0.50, an orchard's weeding; a garden of 9 full pixels is
    # read on its mean only
    assert list(f["renovation_possible"]) == [True, False, False]
    assert str(f.loc[0, "clearing_date"])[:10] == "2020-06-01"
    assert pd.isna(f.loc[1, "clearing_date"]) and pd.isna(f.loc[2, "clearing_date"])


def test_a_clearing_on_the_last_clear_date_is_only_possible_and_undated_regrowth():
    # flat shrubs on five dates, cleared by 1 September; clouds hide the rest (no clear
    # date after it shows the regrowth): the survey must vouch for it
    ndvi = [0.5, 0.51, 0.5, 0.5, 0.51, 0.25, 0.6, 0.6]
    bsi = [0.0, 0.0, 0.0, 0.0, 0.0, 0.12, -0.05, -0.05]
    valid = [[1, 1, 1, 1, 1, 1, 0, 0]]
    f = parcel_features(None, None, series=_series(ndvi, bsi, valid=valid)).iloc[0]
    assert not f["renovation_seen"] and f["renovation_possible"]
    assert str(f["clearing_date"])[:10] == "2020-09-01" and pd.isna(f["regrowth_date"])
    # with only two clear dates before it, nothing says the garden was untended
    short = [[0, 0, 0, 1, 1, 1, 0, 0]]
    g = parcel_features(None, None, series=_series(ndvi, bsi, valid=short)).iloc[0]
    assert not g["renovation_seen"] and not g["renovation_possible"]
    assert pd.isna(g["clearing_date"])


def test_a_core_pixel_fall_under_a_clearing_is_not_scaled_into_one():
    # a garden with no full pixel, its core pixel 60 % inside it: the pixel falls by 0.09
    # (0.09 / 0.6 = 0.15 would be the garden's own, but a 0.09 fall is under the 0.12 a
    # clearing needs on the pixel itself: a mixed pixel's noise); 0.15 is a clearing
    mean = np.array([[0.60, 0.61, 0.60, 0.56, 0.57, 0.59, 0.62, 0.62]] * 2)
    bsi = np.array([[0.0, 0.0, 0.0, 0.03, 0.02, 0.0, -0.02, -0.02]] * 2)
    core = np.array([[0.55, 0.56, 0.55, 0.46, 0.48, 0.55, 0.60, 0.61],
                     [0.65, 0.66, 0.65, 0.50, 0.52, 0.60, 0.66, 0.67]])  # fmt: skip
    core_bsi = np.array([[0.0, 0.0, 0.0, 0.08, 0.06, 0.0, -0.03, -0.03]] * 2)
    s = _series(mean, bsi)
    s.core = {"ndvi": core, "bsi": core_bsi}
    s.core_weight = np.array([0.6, 0.6])
    s.full_pixels = np.array([0.0, 0.0])
    f = parcel_features(None, None, series=s)
    assert list(f["renovation_possible"]) == [False, True]
    assert pd.isna(f.loc[0, "clearing_date"])
    assert str(f.loc[1, "clearing_date"])[:10] == "2020-06-01"


def test_clouded_dates_are_left_out_and_counted():
    ndvi = np.array([[0.5, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], [0.5] * 8])
    valid = np.array([[1, 0.3, 1, 1, 1, 1, 1, 1], [0.2] * 8])  # parcel 2: always clouded
    f = parcel_features(None, None, series=_series(ndvi, np.zeros((2, 8)), valid=valid))
    assert f.loc[0, "clear_obs"] == 7
    assert f.loc[0, "ndvi_max_drop"] == pytest.approx(0.0)  # the 0.9 (cloud edge) is unseen
    assert f.loc[1, "clear_obs"] == 0
    assert np.isnan(f.loc[1, "ndvi_median"]) and f.loc[1, "events"] == 0


def test_time_series_through_the_zonal_engine_uses_exact_coverage():
    # 3 x 3 grid of 10 m pixels; a parcel covering a quarter of 4 pixels each
    t = Affine(10, 0, 0, 0, -10, 30)
    ndvi = np.array(
        [[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]],
         [[0.1, 0.2, 0.3], [0.4, np.nan, 0.6], [0.7, 0.8, 0.9]]], dtype="float32"
    )  # fmt: skip
    bsi = np.zeros_like(ndvi)
    data = np.stack([ndvi[0], bsi[0], ndvi[1], bsi[1]])
    stack = RasterStack(
        data, t, "EPSG:32648", ["2020-01-15/ndvi", "2020-01-15/bsi", "2020-03-01/ndvi",
                                "2020-03-01/bsi"],
    )  # fmt: skip
    import geopandas as gpd

    parcels = gpd.GeoDataFrame(
        geometry=[shapely.box(5, 5, 15, 15), shapely.box(100, 100, 110, 110)], crs="EPSG:32648"
    )
    s = parcel_time_series(parcels, stack, indices=("ndvi", "bsi"))
    # date 1: the four pixels 0.4, 0.5, 0.7, 0.8 with equal weight
    assert s.mean["ndvi"][0, 0] == pytest.approx((0.4 + 0.5 + 0.7 + 0.8) / 4, abs=1e-6)
    assert s.valid[0, 0] == pytest.approx(1.0)
    # date 2: the centre pixel is masked: three quarters of the parcel seen clear
    assert s.mean["ndvi"][0, 1] == pytest.approx((0.4 + 0.7 + 0.8) / 3, abs=1e-6)
    assert s.valid[0, 1] == pytest.approx(0.75)
    assert s.pixels[0] == pytest.approx(1.0)
    # the second parcel lies outside: kept, with no clear observation
    assert s.status[1] == "outside" and s.valid[1].sum() == 0
    f = parcel_features(parcels, None, series=s, min_valid=0.6)
    assert list(f["clear_obs"]) == [2, 0]
    assert list(f.index) == list(parcels.index)


# --------------------------------------------------------------------------- the registry
def test_the_registry_is_the_one_list_of_features():
    from ntmgis import config, flags
    from ntmgis.features import (
        DEFAULT_INDICES,
        FEATURES,
        MODEL_FEATURES,
        REGISTRY,
        feature,
        features_needing,
    )

    names = [f.name for f in REGISTRY]
    assert len(names) == len(set(names)) and list(FEATURES) == names
    assert MODEL_FEATURES == tuple(f.name for f in REGISTRY if f.model)
    assert flags.MODEL_FEATURES == MODEL_FEATURES
    # the default indices are what the model's features need, NDVI first
    assert DEFAULT_INDICES == ("ndvi", "evi", "ndmi", "bsi")
    assert config.RunConfig(parcels=None, imagery=None).indices == DEFAULT_INDICES
    assert set(features_needing(DEFAULT_INDICES)) == set(names)
    for f in REGISTRY:
        assert f.description_vi and f.description_en
        assert f.abandoned_when in (None, "low", "high")
        if f.abandoned_when:  # a feature a reason may state has its phrase in both languages
            assert "{value}" in f.phrase_vi and "{value}" in f.phrase_en, f.name
    assert feature("ndvi_p90").indices == ("ndvi",)


def test_a_misspelt_feature_or_index_is_an_error_never_dropped():
    from ntmgis.errors import ConfigError, InputError
    from ntmgis.features import select_features

    with pytest.raises(InputError, match="Unknown feature 'ndvi_p09'.*Did you mean 'ndvi_p90'"):
        select_features(["ndvi_p90", "ndvi_p09"])
    s = _series([0.5] * 8, [0.0] * 8)
    with pytest.raises(InputError, match="Unknown index name.*'?bsy"):
        parcel_time_series(None, None, indices=("ndvi", "bsy"))
    from ntmgis.config import load_config

    with pytest.raises(ConfigError, match="unknown index 'evii'"):
        load_config({"inputs": {"parcels": ".", "imagery": "."},
                     "imagery": {"indices": ["ndvi", "evii"]}})  # fmt: skip
    assert s.full_pixels is None


def test_produced_columns_follow_the_registry_and_the_indices_read():
    from ntmgis.features import REGISTRY

    f = parcel_features(None, None, series=_series([0.5] * 8, [0.0] * 8))
    assert list(f.columns) == [r.name for r in REGISTRY if r.available({"ndvi", "bsi"})]
    assert "evi_median" not in f and "bsi_spike" in f


def test_full_and_partial_pixels_come_from_the_coverage():
    import geopandas as gpd

    t = Affine(10, 0, 0, 0, -10, 30)
    ndvi = np.arange(9, dtype="float32").reshape(1, 3, 3) / 10
    stack = RasterStack(np.concatenate([ndvi, ndvi * 0]), t, "EPSG:32648",
                        ["2020-01-15/ndvi", "2020-01-15/bsi"])  # fmt: skip
    parcels = gpd.GeoDataFrame(
        geometry=[shapely.box(5, 5, 15, 15), shapely.box(0, 0, 20, 20), shapely.box(0, 0, 25, 20)],
        crs="EPSG:32648",
    )
    s = parcel_time_series(parcels, stack, indices=("ndvi", "bsi"))
    assert list(s.full_pixels) == [0, 4, 4]  # a quarter of 4 pixels; 2 x 2 whole; + half a column
    assert list(s.partial_pixels) == [4, 0, 2]
    # the core pixel: the most covered one (the first of equals in grid order)
    assert s.core_weight.tolist() == [0.25, 1.0, 1.0]
    assert s.core["ndvi"][0, 0] == pytest.approx(0.3)  # row 1, col 0 -> value 3 / 10
    f = parcel_features(parcels, None, series=s, min_valid=0.6)
    assert list(f["full_pixels"]) == [0, 4, 4] and list(f["partial_pixels"]) == [4, 0, 2]


@pytest.mark.parametrize("q", [0, 10, 25, 50, 75, 90, 100, 33.3])
def test_row_percentiles_equal_numpys_to_the_last_bit(q):
    from ntmgis.features import _nanpercentile

    rng = np.random.default_rng(4)
    x = np.round(rng.normal(0.5, 0.2, (400, 24)), 3)  # rounded: ties within rows
    x[rng.random(x.shape) < 0.4] = np.nan
    x[0, :] = np.nan  # nothing clear
    x[1, 0], x[1, 1:] = 0.37, np.nan  # one clear date
    x[2, :2], x[2, 2:] = [0.2, 0.7], np.nan  # two
    x[3, :] = 0.41  # constant
    got = _nanpercentile(x, q=q)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanpercentile(x, q, axis=1)  # row by row in NumPy
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0]) and got[1] == x[1, 0] and got[3] == 0.41
    assert got[2] == pytest.approx(0.2 + 0.5 * q / 100)


def test_percentile_features_are_numpys():
    # the feature table's percentiles: NumPy's nanpercentile over each parcel's clear dates
    rng = np.random.default_rng(9)
    n, t = 300, 24
    ndvi = rng.uniform(0.1, 0.9, (n, t))
    valid = (rng.random((n, t)) < 0.7).astype(float)
    dates = np.arange("2020-01-01", t * 15, 15, dtype="datetime64[D]")[:t]
    series = ParcelSeries(
        index=pd.RangeIndex(n), dates=dates, mean={"ndvi": ndvi}, std={"ndvi": ndvi * 0},
        valid=valid, pixels=np.full(n, 4.0), status=np.full(n, "ok", dtype=object),
        coverage_fraction=np.ones(n),
    )  # fmt: skip
    table = parcel_features(None, None, series=series)
    masked = np.where(valid >= 0.6, ndvi, np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p10, p25, p75, p90 = (np.nanpercentile(masked, q, axis=1) for q in (10, 25, 75, 90))
    np.testing.assert_array_equal(table["ndvi_p10"], p10)
    np.testing.assert_array_equal(table["ndvi_p90"], p90)
    np.testing.assert_array_equal(table["ndvi_amplitude"], p90 - p10)
    np.testing.assert_array_equal(table["ndvi_iqr"], p75 - p25)


def test_row_medians_equal_numpys_to_the_last_bit():
    from ntmgis.features import _nanmedian

    rng = np.random.default_rng(6)
    x = rng.normal(0.3, 0.25, (500, 24))  # unrounded: halving sums shows any other formula
    x[rng.random(x.shape) < 0.45] = np.nan
    x[0, :] = np.nan
    x[1, 0], x[1, 1:] = 0.37, np.nan
    x[2, :2], x[2, 2:] = [0.1, 0.2], np.nan
    got = _nanmedian(x)
    with np.errstate(all="ignore"), pytest.warns(RuntimeWarning):
        want = np.nanmedian(x, axis=1)
    np.testing.assert_array_equal(got, want)
    assert np.isnan(got[0]) and got[1] == 0.37 and got[2] == (0.1 + 0.2) / 2


def test_errors_are_vietnamese_by_default():
    from ntmgis.blocks import plan_blocks
    from ntmgis.errors import InputError
    from ntmgis.features import feature
    from ntmgis.i18n import set_language

    set_language("vi")
    with pytest.raises(InputError, match="Không có đặc trưng 'ndvi_p09'. Có phải là 'ndvi_p90'"):
        feature("ndvi_p09")
    with pytest.raises(InputError, match="phải có NDVI"):
        parcel_features(None, None, indices=["bsi"])
    parcels = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:32648")
    with pytest.raises(InputError, match="Kích thước khối ảnh phải là một số điểm ảnh dương"):
        plan_blocks(parcels, None, block=0)
    set_language("en")
    with pytest.raises(InputError, match="The block size must be a positive number of pixels"):
        plan_blocks(parcels, None, block=0)


# --------------------------------------------------------------------------- unmixing
def _strip(values, bounds):
    """A 1 x len(values) strip of 10 m pixels and parcels spanning ``bounds`` along it."""
    t = Affine(10, 0, 0, 0, -10, 10)
    v = np.asarray(values, dtype="float32").reshape(1, 1, -1)
    stack = RasterStack(np.concatenate([v, v * 0]), t, "EPSG:32648",
                        ["2020-01-15/ndvi", "2020-01-15/bsi"])  # fmt: skip
    parcels = gpd.GeoDataFrame(
        geometry=[shapely.box(a, 0, b, 10) for a, b in bounds], crs="EPSG:32648"
    )
    return stack, parcels


def test_a_pixel_seen_through_the_optics_holds_its_neighbours_ground():
    from ntmgis.features import UNMIX_PSF, _psf_shares
    from ntmgis.zonal import compute_coverage

    # a garden that is exactly the centre pixel of a 3 x 3 grid
    t = Affine(10, 0, 0, 0, -10, 30)
    stack = RasterStack(np.zeros((1, 3, 3), "float32"), t, "EPSG:32648", ["2020-01-15/ndvi"])
    garden = gpd.GeoDataFrame(geometry=[shapely.box(10, 10, 20, 20)], crs="EPSG:32648")
    cov = compute_coverage(garden, stack)
    shares, pixels = _psf_shares(cov, UNMIX_PSF)
    assert UNMIX_PSF == 0.45 and pixels.tolist() == list(range(9))
    # by hand: g = exp(-1 / (2 * 0.45^2)) = 0.084658 a pixel away, (1 + 2 g)^2 = 1.367300
    # in all: the centre keeps 0.731368, each side 0.061916, each corner 0.005242
    got = shares.toarray()[0].reshape(3, 3)
    assert got[1, 1] == pytest.approx(0.731368, abs=1e-6)
    assert got[0, 1] == got[1, 0] == got[2, 1] == got[1, 2] == pytest.approx(0.061916, abs=1e-6)
    assert got[0, 0] == got[2, 2] == pytest.approx(0.005242, abs=1e-6)
    assert got.sum() == pytest.approx(1.0, abs=1e-12)
    # no PSF: the footprint only
    assert _psf_shares(cov, 0.0)[0] is cov.matrix


def test_a_small_gardens_own_value_is_unmixed_from_its_neighbours(monkeypatch):
    from ntmgis import features
    from ntmgis.features import unmix
    from ntmgis.zonal import compute_coverage

    # gardens A (0-15 m), B (15-25 m: no whole pixel) and C (25-40 m) hold 0.8, 0.2, 0.6;
    # the pixels hold their area mixtures: 0.8, (0.8 + 0.2) / 2, (0.2 + 0.6) / 2, 0.6 (box
    # pixels: the shares counted without the optics' point-spread function)
    monkeypatch.setattr(features, "UNMIX_PSF", 0.0)
    stack, parcels = _strip([0.8, 0.5, 0.4, 0.6], [(0, 15), (15, 25), (25, 40)])
    s = parcel_time_series(parcels, stack, indices=("ndvi", "bsi"))
    # B's mean is its neighbours' as much as its own: (0.5 + 0.4) / 2
    assert s.mean["ndvi"][:, 0] == pytest.approx([0.7, 0.45, 0.8 / 1.5], abs=1e-6)
    cov = compute_coverage(parcels, stack)
    pixels = stack.data[0].ravel()[cov.pixels][None, :]
    exact = unmix(cov.matrix, pixels, ridge=0.0, sweeps=300)[0]
    assert exact == pytest.approx([0.8, 0.2, 0.6], abs=1e-6)
    # the run's own values: the default ridge 0.2 and two sweeps. By hand: the residuals
    # of the means on the four pixels are 0.1, -0.075, -0.0917, 0.0667, so A'r = (0.0625,
    # -0.0833, 0.0208) and diag(A'A) = (1.25, 0.5, 1.25); sweep 1 moves B by
    # -0.0833 / 0.7 = -0.1190 (A by 0.0431, C by 0.0144), sweep 2 by
    # (-0.0833 - 0.25 * 0.0431 - 0.25 * 0.0144) / 0.7 = -0.1396: 0.45 -> 0.3104
    own = s.unmixed["ndvi"][:, 0]
    assert own == pytest.approx(unmix(cov.matrix, pixels)[0], abs=1e-12)
    assert own[:2] == pytest.approx([0.7 + 0.0923 / 1.45, 0.3104], abs=1e-4)
    f = parcel_features(parcels, None, series=s, min_valid=0.6)
    assert f["ndvi_median"].to_numpy() == pytest.approx(own, abs=1e-12)
    # the long table carries both: the mean the pixels show and the garden's own value
    long = s.to_frame().query("index == 'ndvi'").set_index("parcel")
    assert long["mean"].to_numpy() == pytest.approx([0.7, 0.45, 0.8 / 1.5], abs=1e-6)
    assert long["own"].to_numpy() == pytest.approx(own, abs=1e-12)


def test_unmixing_reaches_two_shared_pixels_and_no_further():
    from ntmgis.features import unmix
    from ntmgis.zonal import compute_coverage

    rng = np.random.default_rng(3)
    # a chain of gardens each sharing a pixel with the next
    stack, parcels = _strip(rng.uniform(0.1, 0.9, 8), [(10 * k, 10 * k + 15) for k in range(7)])
    cov = compute_coverage(parcels, stack)
    values = stack.data[0].ravel()[cov.pixels][None, :]
    whole = unmix(cov.matrix, values)[0]
    first_three = unmix(cov.matrix[:3], values)[0]
    # garden 0 needs gardens 1 and 2 (two shared pixels away), not garden 3 ...
    assert first_three[0] == whole[0]
    # ... garden 1 does: garden 3 covers half of a pixel garden 2 shares with it
    assert abs(first_three[1] - whole[1]) > 1e-4


def test_a_blocks_context_is_its_neighbours_two_rings_out():
    from ntmgis.blocks import block_context

    parcels = gpd.GeoDataFrame(
        geometry=[shapely.box(10 * k, 0, 10 * k + 10, 10) for k in range(12)], crs="EPSG:32648"
    )
    # rings of three 10 m pixels: boxes 1-4 are within 30 m of box 0, boxes 5-8 of box 4
    ctx = block_context(parcels, np.array([0]), None, grid=("EPSG:32648", 10.0))
    assert ctx.tolist() == [1, 2, 3, 4, 5, 6, 7, 8]
    assert block_context(parcels, np.arange(12), None, grid=("EPSG:32648", 10.0)).size == 0
