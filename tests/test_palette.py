import itertools
import unicodedata

import numpy as np
import pandas as pd
import pytest

from ntmgis import palette
from ntmgis.errors import InputError, NtmgisWarning, SchemaError

pytestmark = pytest.mark.usefixtures("english")  # messages matched in English


colorspacious = pytest.importorskip("colorspacious")

CVD = [None, "deuteranomaly", "protanomaly", "tritanomaly"]
PRINT_THEMES = [name for name, t in palette.THEMES.items() if t.print_safe]

# the keys the result contract (issue 6) and hamlet progress (issue 7) write
CONTRACT_KEYS = {
    "flag": {"hoang_hoa", "nghi_van", "binh_thuong", "thieu_du_lieu"},
    "survey_class": {"vuon_mau", "dat_chuan", "da_cai_tao", "vuon_tap", "hoang_hoa"},
    "agreement": {
        "phu_hop",
        "khao_sat_tot_anh_hoang",
        "khao_sat_hoang_anh_tot",
        "cai_tao_chua_thay",
        "khong_du_lieu",
    },
    "status": {"vuot", "dat", "chua_dat", "khong_chi_tieu"},
}


def _srgb(hex_color):
    return np.array([int(hex_color[i : i + 2], 16) / 255 for i in (1, 3, 5)])


def _seen(hex_color, cvd):
    rgb = _srgb(hex_color)
    if cvd is None:
        return rgb
    space = {"name": "sRGB1+CVD", "cvd_type": cvd, "severity": 100}
    return np.clip(colorspacious.cspace_convert(rgb, space, "sRGB1"), 0, 1)


def _lightness(hex_color):
    return colorspacious.cspace_convert(_srgb(hex_color), "sRGB1", "CIELab")[0]


@pytest.mark.parametrize("theme", sorted(CONTRACT_KEYS))
def test_every_contract_key_has_a_colour_and_two_labels(theme):
    spec = palette.get_theme(theme)
    assert CONTRACT_KEYS[theme] <= set(spec.keys)
    assert len(set(spec.keys)) == len(spec.keys)
    for category in spec.categories:
        assert category.label_vi and category.label_en
        assert unicodedata.is_normalized("NFC", category.label_vi)
        assert len(category.color) == 7 and category.color.startswith("#")


def test_labels_and_colours_by_name():
    assert palette.label("flag", "hoang_hoa") == "Vườn hoang hóa"
    assert palette.label("survey", "vuon_tap", "en") == "Mixed, low value"
    assert palette.color("status", "vuot") == "#004488"
    assert palette.get_theme("progress") is palette.THEMES["status"]
    with pytest.raises(InputError, match="Unknown palette theme 'colour'"):
        palette.get_theme("colour")


@pytest.mark.parametrize("theme", PRINT_THEMES)
def test_greyscale_lightness_separates_unhatched_classes(theme):
    # classes drawn with the same hatch (or none) must differ in CIE L* by >= 10
    spec = palette.get_theme(theme)
    for a, b in itertools.combinations(spec.categories, 2):
        if a.hatch == b.hatch:
            gap = abs(_lightness(a.color) - _lightness(b.color))
            assert gap >= 10, f"{theme}: {a.key} and {b.key} differ by L* {gap:.1f} only"


@pytest.mark.parametrize("cvd", CVD)
@pytest.mark.parametrize("theme", PRINT_THEMES)
def test_colour_blind_readers_tell_classes_apart(theme, cvd):
    # Machado et al. (2009) at full severity, distance in CAM02-UCS
    spec = palette.get_theme(theme)
    for a, b in itertools.combinations(spec.categories, 2):
        if a.hatch != b.hatch:
            continue
        d = colorspacious.deltaE(_seen(a.color, cvd), _seen(b.color, cvd), input_space="sRGB1")
        assert d >= 10, f"{theme}/{cvd}: {a.key} and {b.key} at ΔE {d:.1f}"


def test_simulation_is_the_published_machado_matrix():
    # Machado, Oliveira & Fernandes 2009, deuteranomaly severity 1.0, on linear RGB
    matrix = np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    )
    rgb = _srgb("#EE7733")
    linear = colorspacious.cspace_convert(rgb, "sRGB1", "sRGB1-linear")
    expected = colorspacious.cspace_convert(matrix @ linear, "sRGB1-linear", "sRGB1")
    got = colorspacious.cspace_convert(
        rgb, {"name": "sRGB1+CVD", "cvd_type": "deuteranomaly", "severity": 100}, "sRGB1"
    )
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_classify_resolves_nulls_and_non_gardens():
    frame = pd.DataFrame(
        {
            "flag": ["hoang_hoa", None, "binh_thuong", None],
            "survey_class": ["vuon_tap", None, None, None],
            "agreement": ["phu_hop", None, None, "khong_du_lieu"],
            "is_garden": [True, False, True, True],
        }
    )
    assert palette.classify(frame, "flag").tolist() == [
        "hoang_hoa",
        "khong_phai_vuon",
        "binh_thuong",
        "thieu_du_lieu",
    ]
    assert palette.classify(frame, "survey").tolist() == [
        "vuon_tap",
        "khong_phai_vuon",
        "chua_khao_sat",
        "chua_khao_sat",
    ]
    assert palette.classify(frame, "agreement").tolist() == [
        "phu_hop",
        "khong_phai_vuon",
        "khong_du_lieu",
        "khong_du_lieu",
    ]
    # without is_garden a null flag is a non-garden parcel (the contract's rule)
    no_garden_col = frame.drop(columns="is_garden")
    assert palette.classify(no_garden_col, "flag").tolist()[1] == "khong_phai_vuon"


def test_classify_reports_unknown_values_and_missing_column():
    frame = pd.DataFrame({"status": ["vuot", "xong", None]})
    with pytest.warns(NtmgisWarning, match="xong"):
        keys = palette.classify(frame, "status")
    assert keys.tolist() == ["vuot", "khong_chi_tieu", "khong_chi_tieu"]
    with pytest.raises(SchemaError, match="Column 'flag'"):
        palette.classify(frame, "flag")


def test_qgis_expression_lists_every_data_key():
    expr = palette.get_theme("survey_class").qgis_expression()
    for key in CONTRACT_KEYS["survey_class"]:
        assert f"'{key}'" in expr
    assert "ELSE 'chua_khao_sat'" in expr
    assert "'khong_phai_vuon'" in expr
