"""Rules engine, calibration, survey agreement and evaluation on hand-made tables."""

import warnings

import numpy as np
import pandas as pd
import pytest

from ntmgis.errors import ConfigError, InputError, NtmgisWarning
from ntmgis.flags import (
    apply_rules,
    calibrate,
    evaluate,
    flag_parcels,
    load_rules,
    survey_agreement,
)


@pytest.fixture(autouse=True)
def english():
    """Messages matched below are the English ones; the Vietnamese are checked apart."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


RULES = """
[settings]
min_clear_obs = 4

[[rules]]
id = "bare"
level = "hoang_hoa"
score = 0.9
when = "ndvi_p90 < 0.4 and events == 0"
reason_vi = "NDVI thấp quanh năm ({ndvi_p90}): không có dấu hiệu canh tác"
reason_en = "Low NDVI all year ({ndvi_p90}): no sign of cultivation"

[[rules]]
id = "flat"
level = "nghi_van"
when = "ndvi_amplitude < 0.05"
reason_vi = "NDVI phẳng (biên độ {ndvi_amplitude})"
reason_en = "Flat NDVI (amplitude {ndvi_amplitude})"
"""


def _features(**cols):
    base = {"clear_obs": 10, "coverage_fraction": 1.0, "ndvi_p90": 0.7, "events": 2,
            "ndvi_amplitude": 0.3}  # fmt: skip
    n = max(len(v) for v in cols.values())
    data = {k: cols.get(k, [v] * n) for k, v in base.items()}
    data.update(cols)
    return pd.DataFrame(data)


def test_first_rule_that_holds_decides_and_gives_the_reason(tmp_path):
    path = tmp_path / "rules.toml"
    path.write_text(RULES, encoding="utf-8")
    f = _features(ndvi_p90=[0.18, 0.7, 0.7, 0.3], ndvi_amplitude=[0.02, 0.02, 0.3, 0.3],
                  events=[0, 0, 1, 0], clear_obs=[10, 10, 10, 2])  # fmt: skip
    out = apply_rules(f, path)
    assert list(out["flag"]) == ["hoang_hoa", "nghi_van", "binh_thuong", "thieu_du_lieu"]
    assert list(out["flag_rule"]) == ["bare", "flat", "", ""]
    assert out["flag_score"].iloc[0] == 0.9 and out["flag_score"].iloc[1] == 0.5
    # only the deciding rule speaks: the "flat" rule also holds for parcel 0, unsaid
    assert out["flag_reasons"].iloc[0] == "NDVI thấp quanh năm (0,18): không có dấu hiệu canh tác"
    assert out["flag_reasons_en"].iloc[0] == "Low NDVI all year (0.18): no sign of cultivation"
    assert out["flag_reason_keys"].iloc[0] == "rule:bare"
    assert out["flag_reasons"].iloc[2] == ""  # no rule caught it: nothing to say
    assert out["flag_reasons"].iloc[3] == "chỉ 2 lần chụp thấy rõ thửa (cần ít nhất 4)"


def test_default_rules_load_and_use_known_features():
    rules = load_rules()
    assert [r.level for r in rules.rules][:3] == ["hoang_hoa"] * 3
    assert rules.min_clear_obs == 5
    assert {"ndvi_p90", "events", "ndvi_resid_std"} <= rules.features


@pytest.mark.parametrize(
    "text, expected",
    [
        ('[[rules]]\nid = "x"\nlevel = "hoang_hoa"\nwhen = "ndvi_p90 <"\n'
         'reason_vi = "a"\nreason_en = "b"\n', r"rule 'x'.*line 4.*syntax error.*at column 11"),
        ('[[rules]]\nid = "y"\nlevel = "hoang_hoa"\nwhen = "__import__(\'os\').system(\'ls\')"\n'
         'reason_vi = "a"\nreason_en = "b"\n', r"rule 'y'.*not allowed"),
        ('[[rules]]\nid = "z"\nlevel = "hoang_hoa"\nwhen = "ndvi_mean < 0.3"\n'
         'reason_vi = "a"\nreason_en = "b"\n', r"unknown feature.*ndvi_mean"),
        ('[[rules]]\nid = "w"\nlevel = "abandoned"\nwhen = "events == 0"\n'
         'reason_vi = "a"\nreason_en = "b"\n', r"level 'abandoned'"),
        ('[[rules]\nid = "v"\n', r"Syntax error in rules file.*line 1, column"),
        ('[settings]\nmin_clear = 3\n', r"Unknown setting"),
    ],
)  # fmt: skip
def test_bad_rules_files_are_named_errors(tmp_path, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=expected):
        load_rules(path)


def test_errors_and_warnings_speak_vietnamese_first(tmp_path):
    from ntmgis.i18n import set_language

    set_language("vi")
    with pytest.raises(ConfigError, match="Không tìm thấy tệp quy tắc .*tệp cấu hình"):
        load_rules(tmp_path / "khong_co.toml")
    path = tmp_path / "bad.toml"
    path.write_text('[[rules]]\nid = "w"\nlevel = "abandoned"\nwhen = "events == 0"\n'
                    'reason_vi = "a"\nreason_en = "b"\n', encoding="utf-8")  # fmt: skip
    with pytest.raises(ConfigError, match=r"quy tắc 'w' .*\(dòng 4\): mức 'abandoned'"):
        load_rules(path)
    f, labels, groups, _ = _separable()
    with pytest.warns(NtmgisWarning, match="Chỉ dùng bộ quy tắc để kết luận: khảo sát có quá ít"):
        flag_parcels(f, survey_class=labels.where(labels.index < 25), groups=groups)
    with pytest.raises(InputError, match="phải từ 0 trở lên"):
        from ntmgis.flags import visit_list

        one = pd.DataFrame({"flag": ["hoang_hoa"], "flag_score": [0.9]})
        visit_list(one, pd.Series([None]), hamlet=pd.Series(["A"]), area=pd.Series([1.0]),
                   visits_per_hamlet=-1)  # fmt: skip


def test_rule_conditions_are_never_executed(tmp_path):
    path = tmp_path / "evil.toml"
    path.write_text(
        '[[rules]]\nid = "e"\nlevel = "hoang_hoa"\nwhen = "events.__class__ == 1"\n'
        'reason_vi = "a"\nreason_en = "b"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="attribute access"):
        load_rules(path)


def _separable(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.3
    f = pd.DataFrame({
        "clear_obs": 10, "coverage_fraction": 1.0,
        "ndvi_median": np.where(y, 0.3, 0.65) + rng.normal(0, 0.02, n),
        "ndvi_p90": np.where(y, 0.35, 0.75) + rng.normal(0, 0.02, n),
        "ndvi_p10": np.where(y, 0.28, 0.4), "ndvi_amplitude": np.where(y, 0.03, 0.3),
        "events": np.where(y, 0, 2), "ndvi_resid_std": np.where(y, 0.01, 0.08),
        "ndvi_max_drop": np.where(y, 0.02, 0.3), "ndvi_trend": 0.0,
    })  # fmt: skip
    labels = pd.Series(np.where(y, "hoang_hoa", "vuon_tap"), dtype=object)
    groups = pd.Series([f"Thôn {i % 4}" for i in range(n)])
    return f, labels, groups, y


def test_calibration_on_separable_labels_reports_grouped_cv():
    f, labels, groups, y = _separable()
    cal = calibrate(f, labels, groups=groups, min_labels=20)
    assert cal.mode == "calibrated" and cal.n_groups == 4 and cal.n_labels == 120
    assert cal.report.loc["hoang_hoa", "recall"] == 1.0
    assert cal.report.loc["hoang_hoa", "precision"] == 1.0
    assert cal.report.loc["hoang_hoa", "support"] == y.sum()
    # the cross-validated probabilities behind the report, one per surveyed garden
    assert len(cal.cv_proba) == 120 and cal.cv_proba.between(0, 1).all()
    assert ((cal.cv_proba >= cal.threshold) == (cal.labels == 1)).all()


def test_the_gardens_calibrated_on_are_scored_once_and_alike():
    """calibrate() scores the gardens it is given; the first predict() on the same
    gardens returns those scores, equal to scoring them again, and to the importances'
    attributions of the surveyed ones."""
    f, labels, groups, _ = _separable(seed=3)
    labels = labels.where(labels.index % 7 != 0)  # some gardens not surveyed
    cal = calibrate(f, labels, groups=groups, min_labels=20)
    assert cal._scored is not None
    p1, c1 = cal.predict(f)  # the scores calibrate() made
    assert cal._scored is None
    p2, c2 = cal.predict(f)  # scored again by the model
    np.testing.assert_array_equal(p1, p2)
    np.testing.assert_array_equal(c1, c2)
    surveyed = labels.notna().to_numpy()
    want = pd.Series(np.abs(c2[surveyed]).mean(0), index=list(cal.features))
    pd.testing.assert_series_equal(cal.importances.sort_index(), want.sort_index())
    # other gardens than those calibrated on: scored by the model, not the stored scores
    cal._scored = (np.zeros((3, len(cal.features))), np.zeros(3), np.zeros((3, 1)))
    p3, c3 = cal.predict(f.iloc[:3])
    np.testing.assert_array_equal(p3, p2[:3])
    np.testing.assert_array_equal(c3, c2[:3])


def test_too_few_labels_fall_back_to_rules_and_say_so():
    f, labels, groups, _ = _separable()
    few = labels.where(labels.index < 25)  # 25 labelled gardens only
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out, cal = flag_parcels(f, survey_class=few, groups=groups)
    assert cal.mode == "rules" and "too few survey labels" in cal.reason
    assert (out["flag_mode"] == "rules").all()
    assert any(issubclass(w.category, NtmgisWarning) and "rules only" in str(w.message)
               for w in caught)  # fmt: skip


def test_non_gardens_get_no_flag():
    f, labels, groups, _ = _separable()
    garden = pd.Series(f.index % 10 != 0)
    out, _ = flag_parcels(f, survey_class=labels, groups=groups, is_garden=garden,
                          calibration="rules")  # fmt: skip
    assert out.loc[~garden, "flag"].isna().all() and out.loc[garden, "flag"].notna().all()


def test_agreement_lists_the_field_visits():
    survey = pd.Series(["vuon_tap", "hoang_hoa", "da_cai_tao", "da_cai_tao", "dat_chuan",
                        None, "vuon_tap"])  # fmt: skip
    flags = pd.DataFrame({"flag": ["hoang_hoa", "binh_thuong", "hoang_hoa", "binh_thuong",
                                   "binh_thuong", "hoang_hoa", "nghi_van"]})  # fmt: skip
    out = survey_agreement(survey, flags)
    assert list(out["agreement"]) == [
        "khao_sat_tot_anh_hoang", "khao_sat_hoang_anh_tot", "cai_tao_chua_thay", "phu_hop",
        "phu_hop", "khong_du_lieu", "phu_hop",
    ]  # fmt: skip
    assert list(out["disagrees"]) == [True, True, True, False, False, False, True]


def test_evaluate_counts_by_hand():
    truth = pd.DataFrame({
        "SHBANDO": [1, 1, 1, 1, 1, 1], "SHTHUA": [1, 2, 3, 4, 5, 6],
        "garden_class": ["Vườn hoang hóa"] * 3 + ["Vườn tạp"] * 2 + [None],
        "abandoned": [1, 1, 1, 0, 0, 0],
    })  # fmt: skip
    result = pd.DataFrame({
        "sheet": [1] * 6, "parcel_no": [1, 2, 3, 4, 5, 6],
        "flag": ["hoang_hoa", "hoang_hoa", "binh_thuong", "hoang_hoa", "nghi_van", None],
    })  # fmt: skip
    ev = evaluate(result, truth)
    assert ev.n == 5  # the non-garden row is left out
    assert ev.precision == pytest.approx(2 / 3) and ev.recall == pytest.approx(2 / 3)
    assert ev.f1 == pytest.approx(2 / 3)
    ev2 = evaluate(result, truth, positive=("hoang_hoa", "nghi_van"))
    assert ev2.precision == pytest.approx(2 / 4) and ev2.recall == pytest.approx(2 / 3)
    # the summary's tables said in the language in force, counted by hand: abandoned
    # 2 of 3 right both ways; "other" (rows 4-5 true, rows 3 and 5 called so) 1 of 2
    from ntmgis import i18n

    with i18n.language("vi"):
        vi = [line.split() for line in ev.summary().splitlines()[1:]]
    with i18n.language("en"):
        en = [line.split() for line in ev.summary().splitlines()[1:]]
    assert vi[:3] == [["độ", "chính", "xác", "độ", "phủ", "F1", "số", "vườn"],
                      ["hoang", "hóa", "0,667", "0,667", "0,667", "3"],
                      ["khác", "0,500", "0,500", "0,500", "2"]]  # fmt: skip
    assert en[:3] == [["precision", "recall", "F1", "gardens"],
                      ["abandoned", "0.667", "0.667", "0.667", "3"],
                      ["other", "0.500", "0.500", "0.500", "2"]]  # fmt: skip
    # the confusion: its columns are the flags as the outputs write them
    assert vi[3] == ["kết", "luận", "binh_thuong", "hoang_hoa", "nghi_van"]
    assert en[5:] == [["abandoned", "(truth)", "1", "2", "0"],
                      ["not", "abandoned", "(truth)", "0", "1", "1"]]  # fmt: skip


# --------------------------------------------------------------------------- outcomes
def _renovated_row(**kw):
    base = {"clear_obs": 14, "coverage_fraction": 1.0, "pixels": 6.0, "full_pixels": 3,
            "ndvi_p90": 0.6, "events": 1, "ndvi_amplitude": 0.3, "renovation_seen": True,
            "ndvi_median": 0.5, "ndvi_resid_std": 0.1, "ndvi_max_drop": 0.3, "ndvi_trend": 0.1,
            "clearing_date": pd.Timestamp("2020-06-01"),
            "regrowth_date": pd.Timestamp("2020-08-20")}  # fmt: skip
    base.update(kw)
    return base


def test_a_garden_cleared_after_the_survey_is_renovated_not_a_survey_error():
    f = pd.DataFrame([_renovated_row(), _renovated_row(), _renovated_row()])
    survey = pd.Series(["hoang_hoa", "hoang_hoa", "hoang_hoa"])
    dates = pd.Series(pd.to_datetime(["2020-04-20", "2020-07-01", None]))
    out, _ = flag_parcels(f, survey_class=survey, survey_date=dates, calibration="rules")
    assert list(out["flag"]) == ["cai_tao"] * 3
    assert out["flag_reasons"].iloc[0] == (
        "dọn vườn ngày 01/06/2020 (NDVI giảm mạnh, đất trống lộ ra), cây mọc lại từ tháng "
        "08/2020; khảo sát ngày 20/04/2020 ghi vườn hoang hóa, trước khi dọn vườn"
    )
    assert out["flag_reasons_en"].iloc[2].endswith("no survey date: decided from the imagery alone")
    agree = survey_agreement(survey, out, f, dates)
    # surveyed in April, cleared in June: the survey was right then; cleared before the
    # July survey that still says abandoned: the survey missed it
    assert list(agree["agreement"]) == ["phu_hop", "khao_sat_hoang_anh_tot", "phu_hop"]


def test_the_survey_confirms_a_weak_clearing_and_a_tended_survey_vetoes_one():
    seen = {"renovation_seen": True, "renovation_possible": False}
    weak = {"renovation_seen": False, "renovation_possible": True}
    rows = [
        weak,  # too few clear dates before; surveyed abandoned in April: renovated
        weak,  # the same, surveyed mixed garden: the survey cannot vouch for the spell
        weak,  # the same, surveyed abandoned but no survey date: imagery alone says no
        weak,  # surveyed abandoned in July, after the clearing: not confirmed
        seen,  # the imagery's signature on a garden surveyed standard: its upkeep
        seen,  # surveyed mixed in July, after the clearing: the surveyor saw it tended
        seen,  # surveyed mixed in April, before: renovated
        seen,  # not surveyed: the imagery decides
    ]
    f = pd.DataFrame([_renovated_row(**r) for r in rows])
    survey = pd.Series(["hoang_hoa", "vuon_tap", "hoang_hoa", "hoang_hoa", "dat_chuan",
                        "vuon_tap", "vuon_tap", None])  # fmt: skip
    dates = pd.Series(pd.to_datetime(["2020-04-20", "2020-04-20", None, "2020-07-01",
                                      "2020-04-20", "2020-07-01", "2020-04-20", None]))  # fmt: skip
    out, _ = flag_parcels(f, survey_class=survey, survey_date=dates, calibration="rules")
    ren = out["flag"].eq("cai_tao")
    assert list(ren) == [True, False, False, False, False, False, True, True]
    assert out.loc[0, "flag_reasons_en"].endswith(
        "surveyed abandoned on 20/04/2020, before the clearing"
    )
    assert out.loc[6, "flag_reasons_en"].endswith("; surveyed on 20/04/2020, before the clearing")
    assert out.loc[7, "flag_reasons"].endswith("không có ngày khảo sát: chỉ dựa vào ảnh")
    # the others keep the rules' verdict and its reasons, never a clearing's
    assert not out.loc[~ren, "flag_reasons"].str.startswith("dọn vườn").any()
    # without any survey, the imagery's own signature alone decides
    alone, _ = flag_parcels(f, calibration="rules")
    assert list(alone["flag"].eq("cai_tao")) == [False, False, False, False] + [True] * 4


def test_a_clearing_with_no_regrowth_seen_is_dated_without_one():
    # cleared on the last clear date: possible; the survey, abandoned before it, confirms
    row = _renovated_row(renovation_seen=False, renovation_possible=True, regrowth_date=pd.NaT)
    f = pd.DataFrame([row])
    out, _ = flag_parcels(f, survey_class=pd.Series(["hoang_hoa"]),
                          survey_date=pd.Series(pd.to_datetime(["2020-04-20"])),
                          calibration="rules")  # fmt: skip
    assert out.loc[0, "flag"] == "cai_tao"
    assert out.loc[0, "flag_reasons_en"] == (
        "garden cleared on 01/06/2020 (NDVI fell, bare soil showed); surveyed abandoned on "
        "20/04/2020, before the clearing"
    )


def test_the_surveys_abandoned_stands_on_a_garden_the_imagery_cannot_see():
    from types import SimpleNamespace

    from ntmgis.flags import _survey_reasons, _survey_stands

    # 12 gardens surveyed abandoned with 3 full pixels (SURVEY_STANDS_FULL): 9 of 12 at or
    # above the threshold 0.5 (with the last garden below, 9 of 13: the survey's
    # reliability); then gardens with no full
    # pixel, surveyed abandoned: 0, 1, 2 and 4 tillage events at p 0.3 (four is beds
    # worked again and again: more than SURVEY_STANDS_EVENTS = 3); 1 event at p 0.005 (the
    # model is nearly sure it is tended); 0 events but already hoang_hoa; 0 events,
    # surveyed mixed; then with 2 full pixels at p 0.3 (stands) and 0.05 (under
    # SURVEY_STANDS_FLOOR_SEEN 0.1: the imagery sees part of it), 1 at p 0.1 (stands),
    # and 3 full pixels at p 0.3 (the imagery sees it: the model decides)
    full = [3.0] * 12 + [0.0] * 7 + [2.0, 2.0, 1.0, 3.0]
    events = [0.0] * 12 + [0.0, 1.0, 2.0, 4.0, 1.0, 0.0, 0.0] + [1.0, 0.0, 0.0, 0.0]
    p = np.array([0.9] * 9 + [0.1] * 3 + [0.3, 0.3, 0.3, 0.3, 0.005, 0.8, 0.3]
                 + [0.3, 0.05, 0.1, 0.3])  # fmt: skip
    flag = np.array(["binh_thuong"] * 17 + ["hoang_hoa"] + ["binh_thuong"] * 5)
    claim = pd.Series(["hoang_hoa"] * 18 + ["vuon_tap"] + ["hoang_hoa"] * 4)
    features = pd.DataFrame({"full_pixels": full, "events": events})
    stands, reliability = _survey_stands(features, claim, p, flag, SimpleNamespace(threshold=0.5))
    assert reliability == 9 / 13
    assert np.flatnonzero(stands).tolist() == [12, 13, 14, 19, 21]
    n = len(full)
    vi, en, keys = _survey_reasons(["x"] * n, ["x"] * n, ["model"] * n, [12, 13, 14, 19, 21],
                                   events=features["events"].to_numpy(),
                                   full=features["full_pixels"].to_numpy(), p=p)  # fmt: skip
    assert en[12].endswith("(no pixel wholly inside the parcel, no tillage seen)")
    assert en[13].endswith("a single tillage, which may be a neighbour's)")
    assert "chỉ một lần làm đất" in vi[13] and keys[13] == "survey"
    assert en[14].endswith(
        "(no pixel wholly inside the parcel, 2 tillage events seen in pixels shared with "
        "the neighbours, which may be theirs)"
    )
    assert "2 lần làm đất thấy trong điểm ảnh chung với thửa bên cạnh" in vi[14]
    assert keys[14] == "survey"
    assert vi[19] == (
        "khảo sát ghi vườn hoang hóa và ảnh không bác bỏ được (chỉ 2 điểm ảnh nằm trọn trong "
        "thửa, xác suất bỏ hoang 0,30: mô hình không chắc vườn có canh tác)"
    )
    assert en[21] == (
        "the survey says abandoned and the imagery cannot refute it (only 1 pixel wholly "
        "inside the parcel, probability abandoned 0.10: the model is not sure it is tended)"
    )


def test_a_parcel_covering_no_pixel_abstains_never_a_confident_verdict():
    f, labels, groups, _ = _separable()
    f["pixels"], f["full_pixels"] = 6.0, 2
    f.loc[0, ["pixels", "full_pixels"]] = [0.005, 0]  # a 0.5 m² sliver
    f.loc[0, ["ndvi_p90", "ndvi_median", "events"]] = [0.2, 0.15, 0]  # looks bare
    out, cal = flag_parcels(f, survey_class=labels, groups=groups, min_labels=20)
    assert cal.mode == "calibrated"
    assert out.loc[0, "flag"] == "thieu_du_lieu" and out.loc[0, "evidence"] == "yeu"
    assert out.loc[0, "flag_reasons"] == "thửa chỉ phủ 0,005 điểm ảnh (cần ít nhất 1)"
    assert out["evidence"].isin(["manh", "vua", "yeu"]).all()
    # under 8 full pixels the evidence is never strong
    assert not out["evidence"].eq("manh").any()


def test_calibrated_reasons_follow_the_attributions_and_the_commune_references():
    f, labels, groups, y = _separable()
    out, cal = flag_parcels(f, survey_class=labels, groups=groups, min_labels=20)
    refs = cal.references
    abandoned = out["flag"].eq("hoang_hoa")
    assert (abandoned == y).all()
    # strongest first, at most three, never a number left empty
    assert out["flag_reasons"].str.count("; ").le(2).all()
    assert not out["flag_reasons"].str.contains(r"\?|nan").any()
    for i in np.flatnonzero(abandoned)[:10]:
        for key in out.loc[i, "flag_reason_keys"].split(";"):
            name = key.removeprefix("nhung:")
            lower = f.loc[i, name] < refs.loc[name, "binh_thuong"]
            from ntmgis.features import feature

            argues_abandoned = lower == (feature(name).abandoned_when == "low")
            assert argues_abandoned != key.startswith("nhung:"), (i, key)
    text = out.loc[np.flatnonzero(abandoned)[0], "flag_reasons"]
    assert "(vườn có canh tác trong xã: " in text


def test_a_standard_survey_is_overruled_only_by_a_sure_model():
    """Between the threshold and SURVEY_OVERRULE a standard survey against the model is
    nghi_van, its first reason both sides; a mixed-garden survey is overruled there; a
    sure model overrules a standard survey too."""
    from ntmgis.flags import SURVEY_OVERRULE

    rng = np.random.default_rng(0)
    n = 240
    kind = np.array(["ab"] * 60 + ["mid"] * 40 + ["tend"] * 140)
    ab, mid = kind == "ab", kind == "mid"

    def level(a, m, t, sd):
        return np.where(ab, a, np.where(mid, m, t)) + rng.normal(0, sd, n)

    f = pd.DataFrame({
        "clear_obs": 10, "coverage_fraction": 1.0, "full_pixels": 10.0,
        "ndvi_median": level(0.3, 0.45, 0.65, 0.02), "ndvi_p90": level(0.35, 0.55, 0.75, 0.02),
        "ndvi_p10": level(0.28, 0.35, 0.4, 0.01), "ndvi_amplitude": level(0.03, 0.15, 0.3, 0.01),
        "events": np.where(ab, 0, np.where(mid, 1, 2)),
        "ndvi_resid_std": level(0.01, 0.04, 0.08, 0.005),
        "ndvi_max_drop": level(0.02, 0.15, 0.3, 0.01), "ndvi_trend": 0.0,
    })  # fmt: skip
    labels = np.where(ab, "hoang_hoa", "vuon_tap").astype(object)
    m = np.flatnonzero(mid)  # look half abandoned: labels mixed
    labels[m[:20]], labels[m[20:32]], labels[m[32:]] = "hoang_hoa", "vuon_tap", "dat_chuan"
    labels[np.flatnonzero(kind == "tend")[::3]] = "dat_chuan"
    labels[0] = "dat_chuan"  # plainly abandoned, surveyed standard
    labels = pd.Series(labels)
    groups = pd.Series([f"Thôn {i % 4}" for i in range(n)])
    out, cal = flag_parcels(f, survey_class=labels, groups=groups, min_labels=20)
    assert cal.mode == "calibrated"
    p = out["flag_score"]
    standard = labels.eq("dat_chuan")
    leaning = mid & (p >= cal.threshold).to_numpy()
    disputed = leaning & standard.to_numpy()
    assert disputed.sum() == cal.disputed >= 3  # the middle group's standard surveys
    assert (p[disputed] < SURVEY_OVERRULE).all()
    assert out.loc[disputed, "flag"].eq("nghi_van").all()
    first = out.loc[disputed, "flag_reasons"].str.split("; ").str[0]
    assert first.str.fullmatch(
        r"ảnh nghiêng về bỏ hoang nhưng chưa đủ chắc để bác kết quả khảo sát "
        r"\(xác suất 0,\d\d, cần 0,80\)"
    ).all()
    # the visit headline names the survey's class, the reason does not repeat it
    from ntmgis.flags import visit_headline

    assert visit_headline("nghi_van", "dat_chuan")[0] == (
        "ảnh chưa rõ (nghi vấn hoang hóa), khảo sát ghi 'Vườn đạt chuẩn'"
    )
    assert out.loc[disputed, "flag_reason_keys"].str.startswith("model;").all()
    # the mixed-garden surveys of the same group: overruled at the same probabilities
    assert out.loc[leaning & labels.eq("vuon_tap").to_numpy(), "flag"].eq("hoang_hoa").all()
    assert (leaning & labels.eq("vuon_tap").to_numpy()).sum() >= 3
    # a sure model overrules a standard survey
    assert p[0] >= SURVEY_OVERRULE and out.loc[0, "flag"] == "hoang_hoa"
    # a disputed garden is visited as unsure, the survey named
    agree = survey_agreement(labels, out)
    assert agree.loc[disputed, "disagrees"].all()


def test_isotonic_calibration_agrees_with_scikit_learn():
    from sklearn.isotonic import IsotonicRegression

    from ntmgis.flags import _Isotonic

    rng = np.random.default_rng(3)
    x = rng.normal(size=400).round(2)  # ties included
    y = (rng.random(400) < 1 / (1 + np.exp(-2 * x))).astype(float)
    ours = _Isotonic().fit(x, y).predict(np.linspace(-4, 4, 81))
    ref = IsotonicRegression(out_of_bounds="clip").fit(x, y).predict(np.linspace(-4, 4, 81))
    np.testing.assert_allclose(ours, ref, atol=1e-12)


def test_group_folds_never_split_a_hamlet():
    from ntmgis.flags import _group_folds

    groups = np.array(["a"] * 50 + ["b"] * 30 + ["c"] * 30 + ["d"] * 10 + ["e"] * 5)
    folds = _group_folds(groups, 3)
    assert sorted(np.concatenate(folds)) == list(range(len(groups)))
    assert all(len({groups[i] for i in f}) >= 1 for f in folds)
    owner = {g: {k for k, f in enumerate(folds) if g in set(groups[f])} for g in set(groups)}
    assert all(len(v) == 1 for v in owner.values())
    assert sorted(len(f) for f in folds) == [35, 40, 50]  # largest first: a | b+d | c+e


def test_visit_list_ranks_by_chance_times_area_within_capacity():
    from ntmgis.flags import visit_list

    n = 20
    flags = pd.DataFrame({"flag": ["hoang_hoa"] * 4 + ["binh_thuong"] * 16,
                          "flag_score": [0.9, 0.8, 0.95, 0.6] + [0.1] * 15 + [0.4]})  # fmt: skip
    survey = pd.Series(["vuon_tap", "dat_chuan", "hoang_hoa", "vuon_tap"] + ["vuon_tap"] * 16)
    area = pd.Series([500, 2000, 800, 300] + [600] * 15 + [1000])
    out = visit_list(flags, survey, hamlet=pd.Series(["Thôn A"] * n), area=area)
    # 15 % of 20 gardens: 3 visits; chance the survey is wrong: 0.9, 0.8, 0.05 (survey
    # says abandoned, imagery agrees), 0.6, ... 0.4 -> values 450, 1600, 40, 180, 400
    assert out["visit"].sum() == 3
    assert list(out.loc[out["visit"], "visit_rank"].sort_values().index) == [1, 0, 19]
    assert out.loc[1, "visit_value"] == pytest.approx(1600.0)
    assert out.attrs["expected_errors"] == pytest.approx(0.8 + 0.9 + 0.4)
    assert out.loc[1, "visit_reason"] == (
        "khảo sát ghi 'Vườn đạt chuẩn' nhưng ảnh cho thấy vườn hoang hóa "
        "(khả năng sai 0,80, vườn 2000 m²)"
    )
    two = visit_list(flags, survey, hamlet=pd.Series(["Thôn A"] * n), area=area,
                     visits_per_hamlet=2)  # fmt: skip
    assert two["visit"].sum() == 2 and two.loc[[0, 1], "visit"].all()


def test_flag_keys_match_the_palette():
    from ntmgis import palette
    from ntmgis.flags import EVIDENCE, FLAGS

    assert set(FLAGS) <= set(palette.get_theme("flag").keys)
    assert set(palette.get_theme("flag").keys) - set(FLAGS) == {"khong_phai_vuon"}
    assert set(EVIDENCE) <= set(palette.get_theme("evidence").keys)
    assert palette.label("evidence", "manh") == "Mạnh"
    assert palette.label("flag", "cai_tao", "en") == "Renovated this season"


def test_the_visit_capacity_is_a_config_key_and_a_cli_option(tmp_path):
    from click.testing import CliRunner

    from ntmgis.cli.run import run
    from ntmgis.config import load_config

    base = {"inputs": {"parcels": str(tmp_path), "imagery": str(tmp_path)}}
    assert load_config(base).visits_per_hamlet is None
    assert load_config(base).max_visit_share == 0.15
    cfg = load_config({**base, "flags": {"visits_per_hamlet": 12, "max_visit_share": 0.1}})
    assert cfg.visits_per_hamlet == 12 and cfg.max_visit_share == 0.1
    with pytest.raises(ConfigError, match="visits_per_hamlet .* must be 0 or more"):
        load_config({**base, "flags": {"visits_per_hamlet": -1}})
    with pytest.raises(ConfigError, match="max_visit_share .* between 0 and 1"):
        load_config({**base, "flags": {"max_visit_share": 1.5}})
    out = CliRunner().invoke(run, ["--help"])
    assert out.exit_code == 0 and "--visits-per-hamlet" in out.output


def test_registry_keys_are_the_flags_a_run_writes_and_the_palette_keys():
    from ntmgis import flags, palette, registry

    # the old import path keeps working: the same objects
    for name in ("FLAGS", "EVIDENCE", "AGREEMENT", "SURVEY_CLASSES", "IN_USE_FLAGS",
                 "TENDED_CLASSES", "ABANDONED_CLASS"):  # fmt: skip
        assert getattr(flags, name) is getattr(registry, name)
    assert registry.FLAGS == ("hoang_hoa", "cai_tao", "nghi_van", "binh_thuong", "thieu_du_lieu")
    # what flag_parcels / survey_agreement write: every value a registry key
    f, labels, groups, _ = _separable()
    f["pixels"], f["full_pixels"] = 9.0, 9
    f.loc[0, ["pixels", "full_pixels"]] = [0.2, 0]  # abstains
    f["renovation_seen"] = False
    f.loc[1, "renovation_seen"] = True
    f["clearing_date"], f["regrowth_date"] = pd.NaT, pd.NaT
    f.loc[1, ["clearing_date", "regrowth_date"]] = [pd.Timestamp("2020-05-12"),
                                                   pd.Timestamp("2020-07-20")]  # fmt: skip
    f.loc[2, ["ndvi_p90", "ndvi_median"]] = [0.55, 0.47]  # between the two: unsure
    out, _ = flag_parcels(f, survey_class=labels, groups=groups, min_labels=20)
    agree = survey_agreement(labels, out, f)
    registry.check_keys("flag", out["flag"])
    registry.check_keys("evidence", out["evidence"])
    registry.check_keys("agreement", agree["agreement"])
    registry.check_keys("survey_class", labels)
    assert {"hoang_hoa", "cai_tao", "binh_thuong", "thieu_du_lieu"} <= set(out["flag"])
    with pytest.raises(registry.SchemaError, match="'abandoned' is not a flag key"):
        registry.check_keys("flag", ["hoang_hoa", "abandoned"], where="parcels")
    # the palette draws exactly these keys, with the registry's words
    extra = {"flag": {palette.NON_GARDEN}, "evidence": {palette.NON_GARDEN},
             "survey_class": {palette.NON_GARDEN, "chua_khao_sat"},
             "agreement": {palette.NON_GARDEN}}  # fmt: skip
    for kind, keys in (("flag", registry.FLAGS), ("evidence", registry.EVIDENCE),
                       ("survey_class", registry.SURVEY_CLASSES),
                       ("agreement", registry.AGREEMENT)):  # fmt: skip
        theme = palette.get_theme(kind)
        assert set(theme.keys) - extra[kind] == set(keys) == set(registry.LABELS[kind])
        for key in keys:
            assert registry.key_label(kind, key, "vi") == palette.label(kind, key, "vi")
            assert registry.key_label(kind, key, "en") == palette.label(kind, key, "en")


def test_visit_value_weighs_the_households_needs():
    from ntmgis.flags import visit_list

    # five gardens of one hamlet, capacity three visits; chance the survey is wrong p
    flags = pd.DataFrame({"flag": ["hoang_hoa"] * 5, "flag_score": [0.9, 0.8, 0.8, 0.6, 0.5]})
    survey = pd.Series(["vuon_tap"] * 5)
    area = pd.Series([400.0, 500.0, 500.0, 900.0, 600.0])
    needs = pd.Series([None, "cây giống, vốn vay; tập huấn, phân bón", "", "không", "Vốn"])
    out = visit_list(flags, survey, hamlet=pd.Series(["Thôn A"] * 5), area=area, needs=needs,
                     visits_per_hamlet=3)  # fmt: skip
    # weights: 400 x 1; 500 x (1 + 0.25 x 3) (four needs, three count); 500; 900 ("không"
    # is no need); 600 x 1.25 -> values 360, 700, 400, 540, 375
    assert out["visit_value"].tolist() == [360.0, 700.0, 400.0, 540.0, 375.0]
    assert out["visit_rank"].tolist() == [pd.NA, 1, 3, 2, pd.NA]
    assert out.loc[1, "visit_need"] == "cay_giong; von; ky_thuat; phan_bon"
    assert out.loc[4, "visit_need"] == "von" and pd.isna(out.loc[3, "visit_need"])
    assert out.loc[1, "visit_reason"] == (
        "khảo sát ghi 'Vườn tạp' nhưng ảnh cho thấy vườn hoang hóa (khả năng sai "
        "0,80, vườn 500 m²); hộ đề nghị hỗ trợ cây giống, vốn, kỹ thuật: ưu tiên kiểm tra (×1,75)"
    )
    assert out.loc[3, "visit_reason"].endswith("900 m²)")  # no need: not said
    # by area alone (need_weight 0): values 360, 400, 400, 540, 300; the 900 m² garden
    # comes first, the two 400s follow in table order
    alone = visit_list(flags, survey, hamlet=pd.Series(["Thôn A"] * 5), area=area,
                       needs=needs, visits_per_hamlet=3, need_weight=0)  # fmt: skip
    assert alone["visit_rank"].tolist() == [pd.NA, 2, 3, 1, pd.NA]
    assert not alone["visit_reason"].str.contains("hỗ trợ").any()


# --------------------------------------------------------------------------- every parcel
def _commune(root, seed):
    """A small sample commune's features and flags (the pipeline's own steps)."""
    from ntmgis.blocks import commune_features
    from ntmgis.config import load_config
    from ntmgis.pipeline import prepare
    from ntmgis.sample import make_sample, sample_paths

    make_sample(root, seed=seed, n_parcels=500, n_dates=12, followup_year=None)
    cfg = load_config(sample_paths(root)["config"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        prepared = prepare(cfg)
        features, _ = commune_features(cfg, prepared.joined)
        joined = prepared.joined
        flags, cal = flag_parcels(features, survey_class=prepared.survey_class,
                                  groups=joined["hamlet"], is_garden=joined["is_garden"],
                                  survey_date=joined.get("survey_date"))  # fmt: skip
    return features, flags, cal, joined["is_garden"], prepared.survey_class


@pytest.mark.parametrize("seed", [5, 6])
def test_every_reason_of_a_run_argues_for_its_verdict(tmp_path, seed):
    import re

    from ntmgis.features import feature

    features, flags, cal, garden, survey = _commune(tmp_path / f"seed{seed}", seed)
    assert cal.mode == "calibrated"
    refs = cal.references
    seen = set()
    for i in np.flatnonzero(garden.to_numpy()):
        row, feat = flags.iloc[i], features.iloc[i]
        text = f"{row['flag_reasons']} | {row['flag_reasons_en']}"
        vi = row["flag_reasons"].split("; ")
        assert 1 <= len(vi) <= 3 and len(vi) == len(row["flag_reasons_en"].split("; ")), text
        assert all(part.strip() for part in vi), text
        # no number left empty: every "NDVI ... (reference: x)" carries its digits
        assert not re.search(r"\?|\bnan\b|None|: \)|\(\s*\)", text), text
        # a change is said with its direction, never as "falls by -0.02"
        assert not re.search(r"(giảm|tăng|falls by|rises by|fall between two dates) -", text), text
        seen.add(row["flag"])
        if row["flag"] == "cai_tao":
            assert re.match(r"dọn vườn ngày \d\d/\d\d/\d{4}", row["flag_reasons"]), text
            continue
        if row["flag"] == "thieu_du_lieu":
            assert "cần ít nhất" in row["flag_reasons"] or "ngoài vùng ảnh" in text, text
            continue
        keys = row["flag_reason_keys"].split(";")
        assert len(keys) == len(vi), text
        if row["flag_rule"] == "survey":
            assert keys[0] == "survey" and row["flag"] == "hoang_hoa", text
            from ntmgis.flags import SURVEY_STANDS_EVENTS, SURVEY_STANDS_FULL

            assert feat["full_pixels"] < SURVEY_STANDS_FULL, text
            assert feat["events"] <= SURVEY_STANDS_EVENTS, text
            k = int(feat["full_pixels"])
            few = f"(chỉ {k} điểm ảnh nằm trọn trong thửa, xác suất bỏ hoang 0," in vi[0]
            assert few == (k >= 1), text  # the pixels it has, and the model's doubt
            # with none, the claim's sentence says what was seen: no tillage, one, how many
            once = "chỉ một lần làm đất" in vi[0]
            assert once == (k == 0 and feat["events"] == 1), text
            none = "không thấy lần làm đất nào" in vi[0]
            assert none == (k == 0 and feat["events"] == 0), text
            some = f"{int(feat['events'])} lần làm đất thấy trong điểm ảnh chung" in vi[0]
            assert some == (k == 0 and feat["events"] >= 2), text
        lean = "hoang_hoa" if row["flag"] in ("hoang_hoa", "nghi_van") else "binh_thuong"
        other = "binh_thuong" if lean == "hoang_hoa" else "hoang_hoa"
        for key, part in zip(keys, vi):
            if key in ("model", "survey"):
                continue
            name = key.removeprefix("nhung:")
            low = feat[name] < refs.loc[name, other]
            argues = (
                "hoang_hoa" if low == (feature(name).abandoned_when == "low") else "binh_thuong"
            )
            # support argues for the verdict; what argues against it is said "nhưng ..."
            assert (argues == lean) != key.startswith("nhung:"), (key, text)
            assert part.startswith("nhưng ") == key.startswith("nhung:"), (key, text)
            assert re.search(r"\d", part), text
    assert {"hoang_hoa", "binh_thuong"} <= seen


def test_a_change_is_said_with_its_direction_and_a_fall_that_never_came_as_none():
    from ntmgis.flags import _sentence

    # the dry season's moisture rose 0.02 where tended gardens' fell 0.01
    vi, en = _sentence("ndmi_dry_fall", -0.0212, 0.0149, "binh_thuong")
    assert vi == ("độ ẩm thực vật (NDMI) tăng 0,02 vào mùa khô "
                  "(vườn có canh tác trong xã: giảm 0,01)")  # fmt: skip
    assert en == ("vegetation moisture (NDMI) rises by 0.02 in the dry season "
                  "(tended gardens in the commune: falls by 0.01)")  # fmt: skip
    vi, _ = _sentence("ndmi_dry_fall", 0.051, -0.001, "hoang_hoa")
    assert vi == ("độ ẩm thực vật (NDMI) giảm 0,05 vào mùa khô "
                  "(vườn hoang hóa trong xã: không đổi)")  # fmt: skip
    # the largest fall of a series that only rose: no fall, not "falls by -0.01"
    vi, en = _sentence("ndvi_max_drop", -0.013, 0.09, "binh_thuong")
    assert vi == ("NDVI không giảm giữa hai lần chụp nào "
                  "(vườn có canh tác trong xã: 0,09)")  # fmt: skip
    assert en.startswith("NDVI never fell between two dates (")
    vi, _ = _sentence("ndvi_max_drop", 0.2, 0.09, "binh_thuong")
    assert vi == "NDVI giảm nhiều nhất 0,20 giữa hai lần chụp (vườn có canh tác trong xã: 0,09)"


def test_a_visit_where_survey_and_imagery_agree_but_unsure_says_so():
    from ntmgis.flags import visit_list

    flags = pd.DataFrame({"flag": ["hoang_hoa", "binh_thuong"], "flag_score": [0.75, 0.3]})
    out = visit_list(flags, pd.Series(["hoang_hoa", "vuon_tap"]), hamlet=pd.Series(["A", "A"]),
                     area=pd.Series([300.0, 200.0]), visits_per_hamlet=2)  # fmt: skip
    # chance of an error: 1 - 0.75 and 0.3; neither verdict contradicts its survey
    assert out["survey_wrong_p"].tolist() == [0.25, 0.3]
    assert out.loc[0, "visit_reason"] == (
        "khảo sát ghi 'Vườn hoang hóa', ảnh cũng cho thấy vườn hoang hóa nhưng chưa chắc "
        "(khả năng sai 0,25, vườn 300 m²)"
    )
    assert out.loc[1, "visit_reason_en"] == (
        "the survey says 'Mixed, low value' and the imagery shows tended too, but not surely "
        "(chance of an error 0.30, garden of 200 m²)"
    )


def test_calibration_reason_and_summary_in_the_run_language():
    from ntmgis import i18n

    f, labels, groups, _ = _separable()
    with i18n.language("vi"):
        _, rules = flag_parcels(f, survey_class=labels, groups=groups, calibration="rules")
        cal = calibrate(f, labels, groups=groups, min_labels=20)
        said = cal.summary().splitlines()
    assert rules.reason == "cấu hình không yêu cầu hiệu chỉnh mô hình"
    assert said[0] == (
        "Cách đánh giá vườn: mô hình hiệu chỉnh theo khảo sát (LightGBM học từ 120 vườn đã "
        "khảo sát, xác suất được hiệu chỉnh bằng kiểm định chéo theo thôn)"
    )
    assert said[1].startswith("Kiểm định chéo theo thôn (4 thôn, 120 vườn đã khảo sát, ngưỡng")
    with i18n.language("en"):
        _, none = flag_parcels(f, groups=groups)
        en = calibrate(f, labels, groups=groups, min_labels=20).summary().splitlines()
    assert none.reason == "no survey given"
    assert en[0] == ("Flag mode: calibrated (LightGBM on 120 surveyed gardens, probabilities "
                     "calibrated on cross-validation grouped by hamlet)")  # fmt: skip
