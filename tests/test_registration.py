"""Co-registration of a time series (ntmgis.registration): each date's displacement found
and undone, on a field moved by hand and on a sample commune whose scenes record theirs."""

import json
import warnings

import numpy as np
import pytest
from rasterio.transform import from_origin
from scipy import ndimage

from ntmgis.registration import MIN_SHIFT, apply_shifts, estimate_shifts
from ntmgis.stack import RasterStack


def _ground(shape=(90, 90)):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return 0.4 + 0.3 * np.sin(xx / 3.1 + 0.5) * np.cos(yy / 4.3) + 0.1 * np.sin((xx + yy) / 2.3)


def _stack(layers, dates):
    return RasterStack(np.stack(layers).astype(np.float32), from_origin(500000, 2000000, 10, 10),
                       "EPSG:32648", [f"{d}/ndvi" for d in dates])  # fmt: skip


def test_a_date_moved_by_hand_is_found_and_moved_back():
    ground = _ground()
    # the image of 3 m east and 2 m south: what lies at p is shown at p + (0.2 px, 0.3 px)
    moved = ndimage.shift(ground, (0.2, 0.3), order=3, mode="nearest")
    cloudy = moved.copy()
    cloudy[10:30, 10:40] = np.nan  # a cloud over part of it
    slight = ndimage.shift(ground, (0.0, 0.05), order=3, mode="nearest")  # 0.5 m
    dates = ["2020-01-05", "2020-02-04", "2020-03-05", "2020-04-04", "2020-05-04"]
    stack = _stack([ground, ground, cloudy, slight, ground], dates)
    shifts = estimate_shifts(stack)
    assert shifts["2020-03-05"] == pytest.approx((3.0, -2.0), abs=0.15)
    assert shifts["2020-01-05"] == pytest.approx((0.0, 0.0), abs=0.15)
    assert shifts["2020-04-04"][0] == pytest.approx(0.5, abs=0.15)
    back = apply_shifts(stack, shifts)
    fixed = back.data[2]
    inner = (slice(35, 85), slice(5, 85))  # off the cloud and the edges
    # moved back, the date is the ground again to the bilinear resampling's error (under
    # 0.01), where as read it was up to 0.05 off (0.018 on average)
    assert np.nanmax(np.abs(fixed[inner] - ground[inner])) < 0.01
    assert np.nanmean(np.abs(cloudy[inner] - ground[inner])) > 0.015
    # the cloud and the pixels that would mix with it stay masked
    # (moved back by 0.2 row and 0.3 column, row 9 and column 9 take some of the cloud)
    assert np.isnan(fixed[10:30, 10:40]).all() and np.isnan(fixed[9, 20]) and np.isnan(fixed[20, 9])
    assert np.isfinite(fixed[30, 20]) and np.isfinite(fixed[20, 40])
    # 0.5 m is under MIN_SHIFT (a pixel's tenth): left exactly as read
    assert MIN_SHIFT * 10 > 0.5
    np.testing.assert_array_equal(back.data[3], stack.data[3])
    np.testing.assert_array_equal(back.data[0], stack.data[0])
    # nothing to move: the stack itself
    assert apply_shifts(stack, {"2020-03-05": (0.4, 0.0)}) is stack


def test_a_date_too_cloudy_to_measure_is_not_moved():
    ground = _ground((40, 40))
    cloud = np.full_like(ground, np.nan)
    cloud[:10, :10] = ground[:10, :10]  # 100 clear pixels, half with texture
    stack = _stack([ground, ground, cloud], ["2020-01-05", "2020-02-04", "2020-10-20"])
    shifts = estimate_shifts(stack)
    assert shifts["2020-10-20"] is None and shifts["2020-01-05"] is not None
    assert apply_shifts(stack, shifts) is stack


@pytest.fixture(scope="module")
def misregistered(tmp_path_factory):
    from ntmgis.sample import make_sample

    root = tmp_path_factory.mktemp("misregistered")
    make_sample(root, seed=5, n_parcels=200, n_dates=12, followup_year=None, misregistration=4.0)
    return root


def test_the_samples_recorded_displacements_are_found(misregistered):
    from ntmgis.pipeline import sample_config
    from ntmgis.registration import estimate_shifts as est

    cfg = sample_config(misregistered, out=misregistered / "out")
    from ntmgis.blocks import commune_shifts
    from ntmgis.pipeline import prepare

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels = prepare(cfg).joined
        ((crs, shifts),) = commune_shifts(cfg.imagery, parcels)
    assert est is estimate_shifts and crs.endswith("32648 10x10")
    truth, cover = {}, {}
    for item in (misregistered / "s2").glob("*/item.json"):
        props = json.loads(item.read_text())["properties"]
        truth[props["datetime"][:10]] = np.array(props["ntmgis:displacement_m"])
        cover[props["datetime"][:10]] = props["eo:cloud_cover"]
    assert set(shifts) == set(truth)
    measured = [d for d, s in shifts.items() if s is not None]
    # the almost wholly cloudy date cannot be measured; the others can
    assert all(cover[d] > 90 for d in set(shifts) - set(measured)) and len(measured) >= 10
    # the median's own place is the dates' mean displacement: each date is found from it
    true = np.array([truth[d] for d in measured])
    found = np.array([shifts[d] for d in measured])
    err = found - (true - true.mean(0))
    assert np.sqrt((err**2).mean()) < 1.0  # metres, on displacements of up to ~10 m
    assert np.abs(true - true.mean(0)).max() > 4.0  # not found by leaving all alone


def test_a_commune_read_in_blocks_is_moved_as_the_whole_commune(misregistered):
    import pandas as pd

    from ntmgis.blocks import commune_features, plan_blocks
    from ntmgis.pipeline import prepare, sample_config

    cfg = sample_config(misregistered, out=misregistered / "out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels = prepare(cfg).joined
        cfg.block = 96
        assert len(plan_blocks(parcels, cfg.imagery, block=cfg.block)) > 1
        blocks, _ = commune_features(cfg, parcels)
        cfg.block = 4096
        whole, _ = commune_features(cfg, parcels)
    exact = ["n_dates", "clear_obs", "pixels", "imagery_status"]
    pd.testing.assert_frame_equal(blocks[exact], whole[exact])
    num = whole.select_dtypes("number").columns
    np.testing.assert_allclose(blocks[num], whole[num], rtol=0, atol=1e-12)


def test_the_series_says_which_dates_were_moved(misregistered):
    from ntmgis.features import parcel_time_series
    from ntmgis.pipeline import prepare, sample_config

    cfg = sample_config(misregistered, out=misregistered / "out")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels = prepare(cfg).joined.iloc[:60]
        moved = parcel_time_series(parcels, cfg.imagery, indices=cfg.indices)
        plain = parcel_time_series(parcels, cfg.imagery, indices=cfg.indices, coregister=False)
    assert plain.shifts is None and len(moved.shifts) == 12
    big = [k for k, d in enumerate(moved.dates.astype(str))
           if moved.shifts[d] is not None and max(map(abs, moved.shifts[d])) > 2.0]  # fmt: skip
    assert big
    # a date moved back reads other values; a date not moved reads the same
    k = big[0]
    assert not np.allclose(moved.mean["ndvi"][:, k], plain.mean["ndvi"][:, k], equal_nan=True)


def test_the_bilinear_move_is_scipys():
    from ntmgis.registration import _bilinear

    x = np.random.default_rng(1).random((3, 40, 50))
    for dr, dc in [(0.3, -0.7), (-1.2, 0.45), (2.0, 0.0), (0.0, -0.05)]:
        ours = _bilinear(x, dr, dc)
        scipy = ndimage.shift(x, (0, dr, dc), order=1, mode="nearest")
        np.testing.assert_allclose(ours, scipy, rtol=0, atol=1e-13)


def test_the_series_median_is_numpys():
    from ntmgis.registration import _nanmedian

    rng = np.random.default_rng(0)
    for dates in (16, 7):
        x = rng.random((dates, 300))
        x[rng.random(x.shape) < 0.4] = np.nan
        x[:, 5] = np.nan  # never clear
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_array_equal(_nanmedian(x), np.nanmedian(x, axis=0))


def test_an_integer_stack_with_nodata_is_moved_as_floats():
    ground = (_ground((60, 60)) * 10000).round()
    moved = ndimage.shift(ground, (0.0, 0.4), order=3, mode="nearest").round()
    moved[:5, :5] = 0  # nodata in the corner
    names = [f"2020-0{m}-01/ndvi" for m in range(1, 4)]
    stack = RasterStack(np.stack([ground, moved, ground]).astype(np.int16),
                        from_origin(0, 600, 10, 10), "EPSG:32648", names, nodata=0)  # fmt: skip
    shifts = estimate_shifts(stack)
    assert shifts["2020-02-01"][0] == pytest.approx(4.0, abs=0.3)
    back = apply_shifts(stack, shifts)
    assert back.data.dtype == np.float32 and np.isnan(back.nodata)
    # the unmoved dates are the integers as read; nodata is NaN now, and stays masked
    np.testing.assert_array_equal(back.data[0], ground.astype(np.float32))
    assert np.isnan(back.data[1][:5, :5]).all()
    inner = (slice(10, 50), slice(10, 50))
    assert np.abs(back.data[1][inner] - ground[inner]).max() < 100  # of +-4,000


def test_one_date_or_none_has_nothing_to_move():
    ground = _ground((40, 40))
    one = _stack([ground], ["2020-01-05"])
    assert estimate_shifts(one) == {"2020-01-05": pytest.approx((0.0, 0.0), abs=1e-9)}
    assert apply_shifts(one, estimate_shifts(one)) is one
    other = RasterStack(ground[None].astype(np.float32), one.transform, one.crs, ["2020-01-05/bsi"])
    assert estimate_shifts(other) == {}


def test_a_stack_larger_than_max_pixels_is_measured_on_its_central_window(monkeypatch):
    """A district-sized stack is measured on its centre: the same displacements as the
    central window's own, and still the one moved by hand."""
    import ntmgis.registration as R

    ground = _ground((120, 90))
    moved = ndimage.shift(ground, (0.2, 0.3), order=3, mode="nearest")
    dates = ["2020-01-05", "2020-02-04", "2020-03-05", "2020-04-04"]
    stack = _stack([ground, moved, ground, ground], dates)
    whole = estimate_shifts(stack)
    monkeypatch.setattr(R, "MAX_PIXELS", 3000)  # 120 x 90 = 10,800 pixels
    rows, cols = R._central_window(120, 90, 3000)
    assert (rows, cols) == (slice(28, 91), slice(21, 68))  # 63 x 47 = 2,961 pixels
    centre = RasterStack(stack.data[:, rows, cols], stack.transform, stack.crs, stack.names)
    capped = estimate_shifts(stack)
    assert capped == estimate_shifts(centre)
    assert capped != whole  # measured on fewer pixels: not the same digits
    assert capped["2020-02-04"] == pytest.approx((3.0, -2.0), abs=0.15)
    assert capped["2020-01-05"] == pytest.approx((0.0, 0.0), abs=0.15)
