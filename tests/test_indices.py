"""Index registry, safe formula parsing, composites and COG writing (hand-computed values)."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from affine import Affine

from ntmgis.errors import InputError, SchemaError
from ntmgis.indices import (
    INDICES,
    composite,
    compute_index,
    get_index,
    parse_formula,
    parse_period,
    register_index,
    write_cog,
)
from ntmgis.stack import RasterStack

pytestmark = pytest.mark.usefixtures("english")  # messages matched in English


# one pixel of reflectance: blue, green, red, nir, swir16
PIXEL = {"blue": 0.05, "green": 0.08, "red": 0.04, "nir": 0.40, "swir16": 0.20}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ndvi", 0.36 / 0.44),  # (0.40 - 0.04) / (0.40 + 0.04)
        ("evi", 2.5 * 0.36 / (0.40 + 6 * 0.04 - 7.5 * 0.05 + 1)),  # 0.9 / 1.265
        ("savi", 1.5 * 0.36 / (0.44 + 0.5)),
        ("osavi", 0.36 / (0.44 + 0.16)),
        ("ndmi", 0.20 / 0.60),
        ("bsi", ((0.20 + 0.04) - (0.40 + 0.05)) / ((0.20 + 0.04) + (0.40 + 0.05))),
    ],
)
def test_builtin_indices_hand_values(name, expected):
    bands = {k: np.full((2, 2), v, dtype=np.float32) for k, v in PIXEL.items()}
    out = compute_index(name, bands)
    assert out.dtype == np.float32
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_hand_values_spelled_out():
    bands = {k: np.float32(v) for k, v in PIXEL.items()}
    assert compute_index("ndvi", bands) == pytest.approx(0.8181818, abs=1e-6)
    assert compute_index("evi", bands) == pytest.approx(0.7114625, abs=1e-6)
    assert compute_index("bsi", bands) == pytest.approx(-0.3043478, abs=1e-6)


def test_division_by_zero_and_nan_are_masked():
    red = np.array([0.0, 0.1, np.nan, 0.2], dtype=np.float32)
    nir = np.array([0.0, 0.3, 0.5, -0.2], dtype=np.float32)
    out = compute_index("ndvi", {"red": red, "nir": nir})
    assert np.isnan(out[0])  # 0 / 0
    assert out[1] == pytest.approx(0.5)
    assert np.isnan(out[2])  # NaN input
    assert np.isnan(out[3])  # (−0.2−0.2)/(0): denominator zero


def test_sentinel2_ids_accepted_as_band_keys():
    out = compute_index("ndvi", {"B04": np.float32(0.1), "B08": np.float32(0.3)})
    assert out == pytest.approx(0.5)


def test_missing_band_is_named():
    with pytest.raises(SchemaError, match="swir16"):
        compute_index("ndmi", {"nir": np.ones(2)})


def test_parse_formula_uses_bands_and_operators():
    f, bands = parse_formula("-(B08 - swir22) / (nir + B12) + 2 ** 3")
    assert bands == ("nir", "swir22")
    value = f(nir=np.array(0.5), swir22=np.array(0.1))
    assert float(value) == pytest.approx(-(0.4 / 0.6) + 8)


@pytest.mark.parametrize(
    "formula",
    [
        "__import__('os').system('echo hi')",
        "nir.real",
        "nir[0]",
        "nir > red",
        "abs(nir)",
        "lambda: 1",
        "nir if red else 1",
        "'text'",
        "nir // red",
        "nir % red",
        "[nir]",
    ],
)
def test_parse_formula_rejects_everything_else(formula):
    with pytest.raises(InputError):
        parse_formula(formula)


def test_parse_formula_unknown_band_and_syntax_error():
    with pytest.raises(InputError, match="'foo'"):
        parse_formula("(nir - foo) / 2")
    with pytest.raises(InputError, match="not a valid expression"):
        parse_formula("(nir - red")


def test_register_index_by_formula_and_by_function():
    try:
        idx = register_index("gndvi_test", "(nir - green) / (nir + green)")
        assert idx.bands == ("nir", "green")
        value = compute_index("GNDVI_test", {"nir": np.float32(0.4), "green": np.float32(0.1)})
        assert value == pytest.approx(0.6)

        def nbr(nir, swir22):
            return (nir - swir22) / (nir + swir22)

        idx2 = register_index("nbr_test", nbr, description="normalised burn ratio")
        assert idx2.bands == ("nir", "swir22")
        assert compute_index("nbr_test", {"nir": 0.5, "swir22": 0.3}) == pytest.approx(0.25)
        # a function dividing by zero still gives NaN, not inf
        assert np.isnan(compute_index("nbr_test", {"nir": 0.0, "swir22": 0.0}))
        with pytest.raises(InputError, match="already exists"):
            register_index("gndvi_test", "nir")
        register_index("gndvi_test", "nir * 2", overwrite=True)
        assert compute_index("gndvi_test", {"nir": 0.25}) == pytest.approx(0.5)
        with pytest.raises(InputError, match="not a band name"):
            register_index("bad_test", lambda foo: foo)
        with pytest.raises(InputError, match="not usable"):
            register_index("2bad", "nir")
    finally:
        for name in ("gndvi_test", "nbr_test"):
            INDICES.pop(name, None)


def test_unknown_index_lists_known_ones():
    with pytest.raises(InputError, match="ndvi"):
        get_index("nvdi")


def test_parse_period():
    import datetime as dt

    assert parse_period("2020-01-01:2020-12-31") == (dt.date(2020, 1, 1), dt.date(2020, 12, 31))
    assert parse_period(":2020-06-30")[0] == dt.date.min
    with pytest.raises(InputError, match="starts after"):
        parse_period("2020-12-31:2020-01-01")
    with pytest.raises(InputError, match="not a date"):
        parse_period("2020-13-01:2020-12-31")


def _series():
    nan = np.nan
    # 5 dates x 1 x 3 pixels
    values = np.array(
        [
            [[0.1, 0.2, nan]],
            [[0.2, nan, nan]],
            [[0.3, 0.6, nan]],
            [[0.4, nan, nan]],
            [[0.5, 0.4, nan]],
        ],
        dtype=np.float32,
    )
    dates = ["2020-01-15", "2020-02-15", "2020-03-15", "2020-04-15", "2020-05-15"]
    return RasterStack(
        values,
        Affine(10, 0, 600000, 0, -10, 2000000),
        "EPSG:32648",
        [f"{d}/ndvi" for d in dates],
        meta={"layers": [{"date": d, "variable": "ndvi"} for d in dates]},
    )


def test_composite_known_answers():
    comp = composite(_series())
    assert comp.names == ["ndvi/median", "ndvi/max", "ndvi/min", "ndvi/amplitude", "ndvi/count"]
    med, mx, mn, amp, count = comp.data[:, 0, :]
    # pixel 0: 0.1..0.5 -> p90 = 0.46, p10 = 0.14 (linear interpolation)
    np.testing.assert_allclose([med[0], mx[0], mn[0], amp[0]], [0.3, 0.5, 0.1, 0.32], atol=1e-6)
    # pixel 1: clear values 0.2, 0.6, 0.4 -> p90 = 0.56, p10 = 0.24
    np.testing.assert_allclose([med[1], mx[1], mn[1], amp[1]], [0.4, 0.6, 0.2, 0.32], atol=1e-6)
    # pixel 2: never clear
    assert np.isnan([med[2], mx[2], mn[2], amp[2]]).all()
    np.testing.assert_array_equal(count, [5, 3, 0])
    assert comp.transform == Affine(10, 0, 600000, 0, -10, 2000000)


def test_composite_period_and_stats():
    comp = composite(_series(), period="2020-02-01:2020-04-30", stats=("median", "amplitude"))
    assert comp.meta["dates"] == ["2020-02-15", "2020-03-15", "2020-04-15"]
    med, amp = comp.data[:, 0, :]
    # pixel 0: 0.2, 0.3, 0.4 -> median 0.3, p90 0.38 - p10 0.22 = 0.16
    assert med[0] == pytest.approx(0.3)
    assert amp[0] == pytest.approx(0.16, abs=1e-6)
    # pixel 1: only 0.6 -> amplitude 0
    assert med[1] == pytest.approx(0.6)
    assert amp[1] == pytest.approx(0.0)
    with pytest.raises(InputError, match="No 'ndvi' layer"):
        composite(_series(), period="2021-01-01:2021-12-31")
    with pytest.raises(InputError, match="Unknown composite"):
        composite(_series(), stats=("mean",))


def test_composite_needs_variable_when_several():
    st = _series()
    st2 = RasterStack(
        np.concatenate([st.data, st.data]),
        st.transform,
        st.crs,
        st.names + [n.replace("ndvi", "bsi") for n in st.names],
    )
    with pytest.raises(InputError, match="several variables"):
        composite(st2)
    comp = composite(st2, variable="bsi", stats=("count",))
    np.testing.assert_array_equal(comp.data[0, 0], [5, 3, 0])


def test_write_cog_roundtrip(tmp_path):
    comp = composite(_series())
    path = write_cog(comp, tmp_path / "sub" / "ndvi_composite.tif")
    with rasterio.open(path) as ds:
        assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
        assert ds.descriptions == tuple(comp.names)
        assert ds.crs.to_epsg() == 32648
        assert ds.transform == comp.transform
        data = ds.read()
    np.testing.assert_array_equal(np.isnan(data), np.isnan(comp.data))
    np.testing.assert_allclose(data[np.isfinite(data)], comp.data[np.isfinite(comp.data)])
