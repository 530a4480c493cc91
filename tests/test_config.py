"""The run config: validated before any work, every error naming what is wrong."""

import pandas as pd
import pytest

from ntmgis.config import load_config
from ntmgis.errors import ConfigError, SurveyWarning
from ntmgis.sample import sample_paths

GOOD = """
[commune]
name = "Xã Thanh Bình"

[inputs]
parcels = "{layers}/thanh_binh.gpkg"
survey = "{layers}/survey_2020.xlsx"
imagery = "{layers}/s2"
"""


def _write(tmp_path, text):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_sample_config_loads_with_absolute_paths(layers_dir):
    cfg = load_config(sample_paths(layers_dir)["config"])
    assert cfg.parcels == (layers_dir / "thanh_binh.gpkg").resolve()
    assert cfg.survey.name == "survey_2020.xlsx" and cfg.targets.name == "targets_2020.csv"
    assert cfg.period == "2020-01-01:2020-12-31" and cfg.calibration == "auto"
    assert cfg.out_dir == (layers_dir.parent / "out").resolve()
    assert cfg.stem == "thanh_binh"


@pytest.mark.parametrize(
    "extra, message",
    [
        ("[outputs]\nfolder = 'x'\n", r"Unknown key 'folder' in \[outputs\]"),
        ("[output]\ndir = 'x'\n", r"Unknown section \[output\]"),
        ("[flags]\ncalibration = 'always'\n", r"calibration .* must be one of auto, rules"),
        ("[imagery]\nmin_valid = 'high'\n", r"\[imagery\] min_valid .* must be a number"),
        ("[inputs.more]\n", r"Unknown key 'more' in \[inputs\]"),
    ],
)  # fmt: skip
def test_bad_keys_and_values(tmp_path, layers_dir, extra, message):
    path = _write(tmp_path, GOOD.format(layers=layers_dir) + extra)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_missing_file_is_named_before_any_work(tmp_path, layers_dir):
    text = GOOD.format(layers=layers_dir).replace("survey_2020.xlsx", "khao_sat.xlsx")
    with pytest.raises(ConfigError, match=r"\[inputs\] survey .*khao_sat.xlsx' does not exist"):
        load_config(_write(tmp_path, text))


def test_missing_required_key_and_syntax_error(tmp_path, layers_dir):
    text = GOOD.format(layers=layers_dir).replace(f'imagery = "{layers_dir}/s2"', "")
    with pytest.raises(ConfigError, match=r"\[inputs\] imagery .* is required"):
        load_config(_write(tmp_path, text))
    with pytest.raises(ConfigError, match=r"Syntax error in config .*line 2"):
        load_config(_write(tmp_path, "[inputs]\nparcels = \n"))


def test_parcels_fields_and_crs_are_read(tmp_path, layers_dir):
    text = GOOD.format(layers=layers_dir).replace(
        "[inputs]\n",
        '[inputs]\nparcels_crs = "EPSG:9208"\n'
        'parcels_fields = { sheet = "MANH", parcel_no = "ODAT" }\n',
    )
    cfg = load_config(_write(tmp_path, text))
    assert cfg.parcels_crs == "EPSG:9208"
    assert cfg.parcels_fields == {"sheet": "MANH", "parcel_no": "ODAT"}
    # the TOML sub-table spelling, and an EPSG number
    text = GOOD.format(layers=layers_dir).replace("[inputs]\n", "[inputs]\nparcels_crs = 9210\n")
    cfg = load_config(_write(tmp_path, text + '[inputs.parcels_fields]\nland_use = "MDSD"\n'))
    assert cfg.parcels_crs == 9210 and cfg.parcels_fields == {"land_use": "MDSD"}
    cfg = load_config(_write(tmp_path, GOOD.format(layers=layers_dir)))
    assert cfg.parcels_crs is None and cfg.parcels_fields is None


@pytest.mark.parametrize(
    "extra, message",
    [
        ('parcels_fields = { to = "MANH" }\n',
         r"\[inputs\] parcels_fields in .*unknown standard field 'to'; known: sheet, parcel_no"),
        ('parcels_fields = { sheet = 3 }\n',
         r"parcels_fields .* must be a table of standard field"),
        ('parcels_fields = "MANH"\n', r"parcels_fields .* must be a table of standard field"),
        ('parcels_crs = "VN2000 Nghe An"\n',
         r"\[inputs\] parcels_crs in .*'VN2000 Nghe An' is not a CRS"),
        ("parcels_crs = true\n", r"parcels_crs .* must be a CRS, e.g. \"EPSG:9208\""),
        ('survey_fields = { loai_vuon = "Phân loại" }\n',
         r"\[inputs\] survey_fields in .*unknown standard survey field 'loai_vuon'; "
         r"known: garden_class, stt, household_id"),
    ],
)  # fmt: skip
def test_bad_parcels_fields_and_crs(tmp_path, layers_dir, extra, message):
    text = GOOD.format(layers=layers_dir).replace("[inputs]\n", "[inputs]\n" + extra)
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, text))


def test_bad_parcels_crs_is_said_in_vietnamese(tmp_path, layers_dir):
    from ntmgis.i18n import set_language

    text = GOOD.format(layers=layers_dir).replace("[inputs]\n", '[inputs]\nparcels_crs = "xx"\n')
    set_language("vi")
    try:
        with pytest.raises(ConfigError, match=r"không nhận ra hệ tọa độ 'xx'.*EPSG:9208"):
            load_config(_write(tmp_path, text))
    finally:
        set_language("en")


def test_survey_fields_let_a_survey_with_its_own_headers_run(tmp_path, layers_dir):
    """``[inputs] survey_fields`` maps headers no alias knows; the join is the same."""
    from ntmgis.pipeline import prepare

    text = (layers_dir / "survey_2020.csv").read_text(encoding="utf-8-sig")
    renamed = text.replace(",Số tờ,Số thửa,", ",Mảnh BĐ,Lô đất,", 1).replace(
        ",Phân loại vườn,", ",Kết quả chấm điểm,", 1
    )
    assert renamed != text
    survey = tmp_path / "khao_sat.csv"
    survey.write_text(renamed, encoding="utf-8")
    base = GOOD.format(layers=layers_dir).replace(
        f'survey = "{layers_dir}/survey_2020.xlsx"', f'survey = "{layers_dir}/survey_2020.csv"'
    )
    own = GOOD.format(layers=layers_dir).replace(f"{layers_dir}/survey_2020.xlsx", str(survey))
    # no alias knows the class header: joined by household id, but no class is read
    with pytest.warns(SurveyWarning, match="Phân loại vườn"):
        blind = prepare(load_config(_write(tmp_path, own))).survey_class
    assert blind.isna().all()
    own = own.replace(
        "[inputs]\n",
        '[inputs]\nsurvey_fields = { sheet = "Mảnh BĐ", parcel_no = "Lô đất", '
        'garden_class = "Kết quả chấm điểm" }\n',
    )
    cfg = load_config(_write(tmp_path, own))
    assert cfg.survey_fields == {"sheet": "Mảnh BĐ", "parcel_no": "Lô đất",
                                 "garden_class_raw": "Kết quả chấm điểm"}  # fmt: skip
    got = prepare(cfg).survey_class
    want = prepare(load_config(_write(tmp_path, base))).survey_class
    assert got.notna().sum() > 1400
    pd.testing.assert_series_equal(got, want)
