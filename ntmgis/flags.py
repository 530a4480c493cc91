"""Verdicts a land officer can act on: outcomes with evidence, reasons and a visit list.

Per garden, from the features of :mod:`ntmgis.features`:

* an outcome (:data:`FLAGS`, the EU Area Monitoring System's traffic light):
  ``hoang_hoa`` abandoned, ``cai_tao`` renovated this season (cleared, then grown back:
  ``clearing_date``), ``binh_thuong`` tended, ``nghi_van`` suspected (the model is
  unsure, or leans against a standard or model-garden survey without being sure:
  :data:`SURVEY_OVERRULE`), ``thieu_du_lieu`` not enough evidence (too few clear dates,
  too few pixels wholly inside the parcel, outside the imagery);
* the strength of the evidence (:data:`EVIDENCE`: ``manh``, ``vua``, ``yeu``);
* at most three reasons, strongest first, in Vietnamese and English, each the evidence
  that drove *this* verdict with the commune's own reference value, and what argues
  against it said as such ("nhưng ...");
* the survey against the imagery (:func:`survey_agreement`) and a field-visit list the
  office can do (:func:`visit_list`): ranked by the expected value of a visit, the
  probability that the survey or the verdict is wrong times the garden's area, raised by
  the household's support needs, within a capacity per hamlet.

Two ways to decide, each usable alone:

* :func:`apply_rules`: a transparent rules engine. Rules live in a TOML file a user can copy
  and edit (defaults: ``ntmgis/data/rules_default.toml``); each has an id, a condition on
  the features, a level, a score and a reason in Vietnamese and English. Conditions are
  parsed, never executed. The first rule that holds decides, and gives the reason.
* :func:`calibrate`: gradient-boosted trees (LightGBM) fitted on the surveyed gardens, with
  cross-validation grouped by hamlet so the reported precision, recall and F1 are those of
  a hamlet the model has not seen; the probabilities are calibrated on that
  cross-validation (isotonic), the threshold maximises F2. Per-parcel attributions
  (LightGBM's ``pred_contrib``, SHAP values of the trees) become the reasons.

:func:`flag_parcels` runs them together; :func:`evaluate` scores a result against the
truth (only the sample commune has one).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n
from ._expr import ExpressionError, compile_expression
from ._toml import tomllib
from .errors import ConfigError, FlagWarning, InputError, warn
from .registry import (
    ABANDONED_CLASS,
    AGREEMENT,
    DISAGREEMENT,
    EVIDENCE,
    FLAGS,
    IN_USE_FLAGS,
    SURVEY_CLASSES,
    TENDED_CLASSES,
    key_label,
)

logger = logging.getLogger(__name__)

__all__ = [
    "FLAGS",
    "EVIDENCE",
    "IN_USE_FLAGS",
    "AGREEMENT",
    "SURVEY_CLASSES",
    "Rule",
    "RuleSet",
    "load_rules",
    "apply_rules",
    "Calibration",
    "calibrate",
    "flag_parcels",
    "survey_agreement",
    "visit_headline",
    "visit_list",
    "Evaluation",
    "evaluate",
]

# the keys live in the registry (ntmgis.registry); re-exported here for compatibility
#: the levels a rule may give
LEVELS = ("hoang_hoa", "nghi_van", "binh_thuong")
#: gardens with fewer pixels wholly inside them than this have weak evidence at best
#: (the EU Area Monitoring rule of thumb, Remote Sens. 2020, 12:2195)
STRONG_FULL_PIXELS = 8
#: fewer clear dates than this: the evidence is weak at best (a cloudy season)
STRONG_CLEAR_OBS = 10
#: a garden with no full pixel keeps the survey's "abandoned" unless the model's
#: probability is below this (see ``_survey_stands``)
SURVEY_STANDS_FLOOR = 0.01
#: survey classes a surveyor gives only to a garden seen tended (standard, model): the
#: model overrules them with ``hoang_hoa`` only at a probability of at least
#: :data:`SURVEY_OVERRULE`; between its threshold and that the two sources disagree and
#: neither is sure, so the garden is ``nghi_van`` and the visit list decides. A claimed
#: renovation (``da_cai_tao``) and a mixed garden (``vuon_tap``) are not among them: they
#: are the claims abandoned gardens are reported under (the sample's survey defects).
SURVEY_TRUSTED_CLASSES = ("vuon_mau", "dat_chuan")
#: the model's probability at which it overrules a survey of :data:`SURVEY_TRUSTED_CLASSES`.
#: On the realistic-sensor tuning communes 0.5-0.9 all raised the abandoned class's
#: precision (mean 0.916 -> 0.922-0.929) at the same recall: the sample never reports an
#: abandoned garden as standard, so it cannot price that error; 0.8 leaves a sure imagery
#: able to overrule such a survey, short of the 0.9 the sample alone would pick.
SURVEY_OVERRULE = 0.8
#: the most tillage events a garden with no pixel wholly inside it may show for its
#: survey's "abandoned" to stand: every pixel it touches is shared with its neighbours,
#: whose vegetable beds (tilled two or three times a season) put their fall-and-bare-soil
#: steps into it; more than that is beds worked again and again in the garden itself.
#: On the tuning communes (one event was the cap before) the abandoned class's recall
#: rose from 0.967 to 0.969 (worst 0.945 -> 0.948), its precision unchanged
SURVEY_STANDS_EVENTS = 3
#: a garden with fewer pixels wholly inside it than this is seen mostly through pixels it
#: shares: its survey's "abandoned" stands unless the model is nearly sure it is tended
#: (with no full pixel, :data:`SURVEY_STANDS_FLOOR`; with one or two, where the imagery sees
#: a little of the garden itself, :data:`SURVEY_STANDS_FLOOR_SEEN`). The survey's
#: reliability is measured on the gardens with at least this many. Chosen on the
#: realistic-sensor tuning communes (one full pixel was the cap before): 2: recall mean /
#: worst 0.941 / 0.882 -> 0.952 / 0.902; 3: 0.957 / 0.922; 4 and 5 no better, precision
#: 0.928 -> 0.927 with 3; on the box-pixel ones worst recall 0.961 -> 0.969
SURVEY_STANDS_FULL = 3
#: the probability floor of :data:`SURVEY_STANDS_FULL` for gardens with one or two full
#: pixels (0.05: precision 0.924; 0.15: recall 0.951; 0.1: 0.927 / 0.957)
SURVEY_STANDS_FLOOR_SEEN = 0.1
#: default share of a hamlet's gardens the visit list may hold
MAX_VISIT_SHARE = 0.15
#: how much each support need the household asked for raises a visit's weight
NEED_WEIGHT = 0.25
#: the most needs that count (a household listing every need is not three times as needy)
MAX_NEEDS = 3


def __getattr__(name):
    if name == "MODEL_FEATURES":  # derived from the feature registry
        from .features import MODEL_FEATURES

        return MODEL_FEATURES
    raise AttributeError(f"module 'ntmgis.flags' has no attribute {name!r}")


_MESSAGES = {
    "flags.no_data": ("chỉ {clear_obs} lần chụp thấy rõ thửa (cần ít nhất {need})",
                      "only {clear_obs} clear observations of the parcel (at least {need} needed)"),
    "flags.outside": ("thửa nằm ngoài vùng ảnh vệ tinh (phủ {coverage})",
                      "parcel outside the satellite imagery (covered {coverage})"),
    "flags.few_pixels": ("thửa chỉ phủ {pixels} điểm ảnh (cần ít nhất {need})",
                         "the parcel covers only {pixels} pixels (at least {need} needed)"),
    "flags.few_full": ("chỉ {full} điểm ảnh nằm trọn trong thửa (cần ít nhất {need})",
                       "only {full} pixels wholly inside the parcel (at least {need} needed)"),
    "flags.cloudy": ("ảnh nhiều mây: chỉ {clear_obs} lần chụp rõ",
                     "cloudy imagery: only {clear_obs} clear observations"),
    "flags.small": ("vườn nhỏ: chỉ {full} điểm ảnh nằm trọn trong thửa",
                    "a small garden: only {full} pixels wholly inside the parcel"),
    "flags.clearing": ("dọn vườn ngày {clearing} (NDVI giảm mạnh, đất trống lộ ra), "
                       "cây mọc lại từ {regrowth}",
                       "garden cleared on {clearing} (NDVI fell, bare soil showed), "
                       "regrowth from {regrowth}"),
    "flags.clearing_only": ("dọn vườn ngày {clearing} (NDVI giảm mạnh, đất trống lộ ra)",
                            "garden cleared on {clearing} (NDVI fell, bare soil showed)"),
    "flags.after_survey": ("khảo sát ngày {survey}, trước khi dọn vườn",
                           "surveyed on {survey}, before the clearing"),
    "flags.after_survey_abandoned": ("khảo sát ngày {survey} ghi vườn hoang hóa, trước khi dọn "
                                     "vườn",
                                     "surveyed abandoned on {survey}, before the clearing"),
    "flags.before_survey": ("dọn vườn trước ngày khảo sát {survey}",
                            "cleared before the survey of {survey}"),
    "flags.no_survey_date": ("không có ngày khảo sát: chỉ dựa vào ảnh",
                             "no survey date: decided from the imagery alone"),
    "flags.unsure": ("mô hình chưa chắc: xác suất bỏ hoang {p} (ngưỡng {threshold})",
                     "the model is unsure: probability abandoned {p} (threshold {threshold})"),
    # (the survey's class is beside it in every table, and the visit headline names it)
    "flags.survey_disputes": ("ảnh nghiêng về bỏ hoang nhưng chưa đủ chắc để bác kết quả khảo "
                              "sát (xác suất {p}, cần {sure})",
                              "the imagery leans abandoned but not surely enough to overrule "
                              "the survey (probability {p}, {sure} needed)"),
    "flags.model": ("mô hình: xác suất bỏ hoang {p} (ngưỡng {threshold})",
                    "model: probability abandoned {p} (threshold {threshold})"),
    "flags.evidence": ("{phrase} ({group}: {ref})", "{phrase} ({group}: {ref})"),
    "flags.survey_stands": ("khảo sát ghi vườn hoang hóa và ảnh không bác bỏ được (không có "
                            "điểm ảnh nào nằm trọn trong thửa, không thấy lần làm đất nào)",
                            "the survey says abandoned and the imagery cannot refute it (no "
                            "pixel wholly inside the parcel, no tillage seen)"),
    "flags.survey_stands_one": ("khảo sát ghi vườn hoang hóa và ảnh không bác bỏ được (không "
                                "có điểm ảnh nào nằm trọn trong thửa, chỉ một lần làm đất, có "
                                "thể của thửa bên cạnh)",
                                "the survey says abandoned and the imagery cannot refute it (no "
                                "pixel wholly inside the parcel, a single tillage, which may be "
                                "a neighbour's)"),
    "flags.survey_stands_few": ("khảo sát ghi vườn hoang hóa và ảnh không bác bỏ được (chỉ "
                                "{pixels} nằm trọn trong thửa, xác suất bỏ hoang {p}: mô hình "
                                "không chắc vườn có canh tác)",
                                "the survey says abandoned and the imagery cannot refute it "
                                "(only {pixels} wholly inside the parcel, probability abandoned "
                                "{p}: the model is not sure it is tended)"),
    "flags.survey_stands_some": ("khảo sát ghi vườn hoang hóa và ảnh không bác bỏ được (không "
                                 "có điểm ảnh nào nằm trọn trong thửa, {events} lần làm đất "
                                 "thấy trong điểm ảnh chung với thửa bên cạnh, có thể của thửa "
                                 "bên cạnh)",
                                 "the survey says abandoned and the imagery cannot refute it (no "
                                 "pixel wholly inside the parcel, {events} tillage events seen "
                                 "in pixels shared with the neighbours, which may be theirs)"),
    "flags.but": ("nhưng {text}", "but {text}"),
    "flags.group_tended": ("vườn có canh tác trong xã", "tended gardens in the commune"),
    "flags.group_abandoned": ("vườn hoang hóa trong xã", "abandoned gardens in the commune"),
    "visit.survey_wrong": ("khảo sát ghi '{survey}' nhưng ảnh cho thấy {flag}",
                           "the survey says '{survey}' but the imagery shows {flag}"),
    "visit.unsure": ("ảnh chưa rõ ({flag}), khảo sát ghi '{survey}'",
                     "the imagery is unsure ({flag}), the survey says '{survey}'"),
    "visit.agree_unsure": ("khảo sát ghi '{survey}', ảnh cũng cho thấy {flag} nhưng chưa chắc",
                           "the survey says '{survey}' and the imagery shows {flag} too, but "
                           "not surely"),
    "visit.no_survey": ("chưa khảo sát; ảnh cho thấy {flag}",
                        "not surveyed; the imagery shows {flag}"),
    "visit.numbers": ("{headline} (khả năng sai {p}, vườn {area} m²)",
                      "{headline} (chance of an error {p}, garden of {area} m²)"),
    "visit.need": ("hộ đề nghị hỗ trợ {needs}: ưu tiên kiểm tra (×{weight})",
                   "the household asks for {needs}: visited first (×{weight})"),
    # Calibration.summary() and Evaluation.summary(), as `ntmgis run` and `make demo` print
    "flags.summary.mode": ("Cách đánh giá vườn: {mode} ({reason})",
                           "Flag mode: {mode} ({reason})"),
    "flags.summary.mode_calibrated": ("mô hình hiệu chỉnh theo khảo sát", "calibrated"),
    "flags.summary.mode_rules": ("bộ quy tắc", "rules"),
    "flags.summary.reason_calibrated": ("LightGBM học từ {n} vườn đã khảo sát, xác suất được "
                                        "hiệu chỉnh bằng kiểm định chéo theo thôn",
                                        "LightGBM on {n} surveyed gardens, probabilities "
                                        "calibrated on cross-validation grouped by hamlet"),
    "flags.summary.reason_not_asked": ("cấu hình không yêu cầu hiệu chỉnh mô hình",
                                       "calibration not asked for"),
    "flags.summary.reason_no_survey": ("không có dữ liệu khảo sát", "no survey given"),
    "flags.summary.cross_validation": ("Kiểm định chéo theo thôn ({n_groups} thôn, {n_labels} "
                                       "vườn đã khảo sát, ngưỡng xác suất {threshold}, điểm "
                                       "Brier {brier}):",
                                       "Cross-validation grouped by hamlet ({n_groups} hamlets, "
                                       "{n_labels} surveyed gardens, threshold {threshold}, "
                                       "Brier {brier}):"),
    "flags.summary.evaluation": ("Vườn hoang hóa so với dữ liệu thật, {n} vườn: độ chính xác "
                                 "(precision) {precision}, độ phủ (recall) {recall}, F1 {f1}",
                                 "Abandoned gardens (vườn hoang hóa) vs truth, {n} gardens: "
                                 "precision {precision}, recall {recall}, F1 {f1}"),
    "flags.summary.disputed": ("Vườn khảo sát ghi đạt chuẩn hoặc vườn mẫu mà ảnh nghiêng về bỏ "
                               "hoang chưa đủ chắc (xác suất dưới {sure}): {n}, xếp nghi_van "
                               "để kiểm tra",
                               "Gardens surveyed standard or model that the imagery leans "
                               "abandoned without being sure (probability under {sure}): {n}, "
                               "nghi_van for a visit"),
    "flags.summary.renovated": ("Vườn đang cải tạo trong vụ này (dữ liệu thật ghi "
                                "'renovating'): {n} vườn; nhận đúng là cai_tao {cai_tao}, "
                                "bị kết luận hoang hóa {hoang_hoa}",
                                "Gardens renovated this season (truth 'renovating'): {n}, "
                                "recognised as cai_tao {cai_tao}, called abandoned {hoang_hoa}"),
    # the tables under the summaries: headers, row and axis names (the data keeps its
    # keys; a confusion table's columns are flag codes, said as the outputs write them)
    "flags.table.col.precision": ("độ chính xác", "precision"),
    "flags.table.col.recall": ("độ phủ", "recall"),
    "flags.table.col.f1": ("F1", "F1"),
    "flags.table.col.support": ("số vườn", "gardens"),
    "flags.table.row.hoang_hoa": ("hoang hóa", "abandoned"),
    "flags.table.row.khac": ("khác", "other"),
    "flags.table.row.hoang_hoa (thật)": ("hoang hóa (thật)", "abandoned (truth)"),
    "flags.table.row.không hoang (thật)": ("không hoang (thật)", "not abandoned (truth)"),
    "flags.table.axis.truth": ("thật", "truth"),
    "flags.table.axis.flag": ("kết luận", "flag"),
}  # fmt: skip
_ERRORS = {
    "error.flags.rules_not_found": (
        "Không tìm thấy tệp quy tắc '{path}'. Hãy kiểm tra đường dẫn tệp quy tắc (rules) "
        "trong tệp cấu hình.",
        "Rules file not found: '{path}'. Check the rules path in the config."),
    "error.flags.rules_syntax": (
        "Lỗi cú pháp trong {where}: {detail}. Hãy sửa dòng đó rồi chạy lại.",
        "Syntax error in {where}: {detail}. Fix that line and run again."),
    "error.flags.rules_section": (
        "{where} có mục không dùng được: {names}. Tệp quy tắc chỉ có mục [settings] và "
        "các mục [[rules]].",
        "Unknown section(s) {names} in {where}; expected [settings] and [[rules]]."),
    "error.flags.rules_setting": (
        "{where} có thiết lập không dùng được: {names}. Các thiết lập dùng được: {known}.",
        "Unknown setting(s) {names} in {where}; known: {known}."),
    "error.flags.rule_missing": (
        "{at}: thiếu {names}. Hãy điền đủ các mục này cho quy tắc.",
        "{at}: missing {names}. Fill them in for the rule."),
    "error.flags.rule_keys": (
        "{at}: mục không dùng được {names}; các mục dùng được: {known}.",
        "{at}: unknown key(s) {names}; known: {known}."),
    "error.flags.rule_level": (
        "{at}: mức '{level}' không dùng được; hãy ghi một trong các mức {known}.",
        "{at}: level '{level}' is not one of {known}."),
    "error.flags.rule_features": (
        "{at}: không có chỉ số {names} trong điều kiện '{when}'. Các chỉ số dùng được: {known}.",
        "{at}: unknown feature(s) {names} in '{when}'. Features: {known}."),
    "error.flags.rule_score": (
        "{at}: điểm {score} phải nằm trong khoảng từ 0 đến 1.",
        "{at}: score {score} must be between 0 and 1."),
    "error.flags.rule_at": ("quy tắc '{rule}' trong {where}", "rule '{rule}' in {where}"),
    "error.flags.rule_line": ("{at} (dòng {line})", "{at} (line {line})"),
    "error.flags.where_default": ("bộ quy tắc mặc định (ntmgis/data/rules_default.toml)",
                                  "default rules (ntmgis/data/rules_default.toml)"),
    "error.flags.where_dict": ("bộ quy tắc cho dưới dạng từ điển", "rules given as a dict"),
    "error.flags.where_file": ("tệp quy tắc '{path}'", "rules file '{path}'"),
    "error.flags.features_missing": (
        "Bảng chỉ số của các thửa thiếu {names}, mà {where} cần dùng. Hãy tính lại các chỉ "
        "số từ ảnh (ntmgis run) hoặc bỏ các quy tắc dùng chúng.",
        "The features table lacks {names}, used by {where}. Compute the features from the "
        "imagery again (ntmgis run) or drop the rules that use them."),
    "error.flags.calibration_mode": (
        "Cách hiệu chỉnh '{value}' không dùng được: hãy ghi 'auto' hoặc 'rules' trong "
        "tệp cấu hình.",
        "calibration must be 'auto' or 'rules', not '{value}': set it in the config."),
    "error.flags.visits_negative": (
        "Số hộ cần kiểm tra mỗi thôn (visits_per_hamlet) phải từ 0 trở lên, không phải "
        "{value}. Hãy sửa trong tệp cấu hình hoặc tùy chọn --visits-per-hamlet.",
        "visits_per_hamlet must be 0 or more, not {value}. Correct it in the config or the "
        "--visits-per-hamlet option."),
    "error.flags.visit_share": (
        "Tỷ lệ vườn tối đa cần kiểm tra (max_visit_share) phải từ 0 đến 1, không phải "
        "{value}. Hãy sửa trong tệp cấu hình.",
        "The visits' max share (max_visit_share) must be between 0 and 1, not {value}. "
        "Correct it in the config."),
    "error.flags.key_columns": (
        "Bảng {name} thiếu cột khóa {names} (số tờ bản đồ, số thửa). Hãy thêm các cột "
        "này vào tệp.",
        "The {name} table lacks the key column(s) {names} (map sheet, parcel number). Add "
        "them to the file."),
    "error.flags.need_weight": (
        "Trọng số nhu cầu hỗ trợ (need_weight) phải từ 0 trở lên, không phải {value}.",
        "The needs' weight (need_weight) must be 0 or more, not {value}."),
    "warning.flags.rules_only": (
        "Chỉ dùng bộ quy tắc để kết luận: {reason}.",
        "Flags from the rules only: {reason}."),
    "flags.too_few_labels": (
        "khảo sát có quá ít vườn để hiệu chỉnh mô hình: {n_pos} vườn hoang hóa và {n_neg} "
        "vườn khác trong {n_groups} thôn; cần ít nhất {need} vườn mỗi loại ở hai thôn trở lên",
        "too few survey labels to calibrate: {n_pos} abandoned and {n_neg} other surveyed "
        "gardens in {n_groups} hamlet(s); need {need} of each in two hamlets or more"),
}  # fmt: skip
i18n.register_all({**_MESSAGES, **_ERRORS})


def _names(values) -> str:
    return ", ".join(f"'{v}'" for v in sorted(values))


def _say(key: str, **fields) -> tuple[str, str]:
    """The catalogue sentence in Vietnamese and English; numbers formatted per language."""
    out = []
    for lang in ("vi", "en"):
        values = {k: (v[lang] if isinstance(v, dict) else _fmt(v, lang)) for k, v in fields.items()}
        out.append(i18n.message(key, lang=lang, **values))
    return out[0], out[1]


# --------------------------------------------------------------------------- rules
@dataclass
class Rule:
    """One rule: when ``when`` holds, the parcel gets ``level`` with ``score``."""

    id: str
    level: str
    when: str
    reason_vi: str
    reason_en: str
    score: float
    names: set = field(default_factory=set, repr=False)
    line: int | None = None
    _func: object = field(default=None, repr=False)

    def holds(self, env: dict) -> np.ndarray:
        """Boolean array: where the condition holds."""
        return np.asarray(self._func(env), bool)


@dataclass
class RuleSet:
    """Rules in order, and the settings that send parcels to ``thieu_du_lieu``.

    A garden gets ``thieu_du_lieu`` (the verdict abstains) when it was seen clear on
    fewer than ``min_clear_obs`` dates, lies less than ``min_coverage`` inside the
    imagery, covers fewer than ``min_pixels`` pixels (coverage-weighted) or has fewer
    than ``min_full_pixels`` pixels wholly inside it.
    """

    rules: list[Rule]
    min_clear_obs: int = 5
    min_coverage: float = 0.5
    min_pixels: float = 1.0
    min_full_pixels: int = 0
    source: str = "default"

    @property
    def features(self) -> set[str]:
        """Every feature name the rules use."""
        return set().union(*(r.names for r in self.rules)) if self.rules else set()


_RULE_KEYS = {"id", "level", "when", "reason_vi", "reason_en", "score"}
_SETTING_KEYS = {"min_clear_obs", "min_coverage", "min_pixels", "min_full_pixels"}


def load_rules(source=None) -> RuleSet:
    """Read and check a rules file (TOML); ``None`` gives the default rules.

    Parameters
    ----------
    source : str, path, dict or RuleSet, optional
        A TOML file, its parsed content, or a RuleSet (returned as is).

    Returns
    -------
    RuleSet
        The rules in file order, with their compiled conditions.

    Raises
    ------
    ConfigError
        A TOML syntax error (with line and column), an unknown key or level, a missing
        field, or a condition that does not parse or uses something not allowed.
    """
    from .features import FEATURES

    if isinstance(source, RuleSet):
        return source
    text = None
    if source is None:
        text = (resources.files("ntmgis") / "data" / "rules_default.toml").read_text("utf-8")
        where = i18n.message("error.flags.where_default")
    elif isinstance(source, dict):
        data, where = source, i18n.message("error.flags.where_dict")
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(i18n.message("error.flags.rules_not_found", path=path))
        from ._io import read_text

        text = read_text(path, what="rules file")
        where = i18n.message("error.flags.where_file", path=path)
    if text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                i18n.message("error.flags.rules_syntax", where=where, detail=exc)
            ) from None
    unknown = set(data) - {"settings", "rules"}
    if unknown:
        raise ConfigError(i18n.message("error.flags.rules_section", where=where,
                                       names=_names(unknown)))  # fmt: skip
    settings = data.get("settings", {})
    bad = set(settings) - _SETTING_KEYS
    if bad:
        raise ConfigError(i18n.message("error.flags.rules_setting", where=where,
                                       names=_names(bad), known=_names(_SETTING_KEYS)))  # fmt: skip
    rules = []
    for k, raw in enumerate(data.get("rules", [])):
        rid = raw.get("id", f"#{k + 1}")
        line = _line_of(text, rid)
        at = i18n.message("error.flags.rule_at", rule=rid, where=where)
        if line:
            at = i18n.message("error.flags.rule_line", at=at, line=line)
        missing = {"id", "level", "when", "reason_vi", "reason_en"} - set(raw)
        if missing:
            raise ConfigError(
                i18n.message("error.flags.rule_missing", at=at, names=_names(missing))
            )
        extra = set(raw) - _RULE_KEYS
        if extra:
            raise ConfigError(i18n.message("error.flags.rule_keys", at=at, names=_names(extra),
                                           known=_names(_RULE_KEYS)))  # fmt: skip
        if raw["level"] not in LEVELS:
            raise ConfigError(i18n.message("error.flags.rule_level", at=at, level=raw["level"],
                                           known=", ".join(LEVELS)))  # fmt: skip
        try:
            func, names = compile_expression(str(raw["when"]))
        except ExpressionError as exc:
            col = f" at column {exc.column}" if exc.column else ""
            # the parser's own words (ntmgis._expr) name the fault and its column
            at_en = f"rule '{rid}' in {where}" + (f" (line {line})" if line else "")
            raise ConfigError(f"{at_en}: condition '{raw['when']}': {exc}{col}.") from None
        unknown_names = names - set(FEATURES)
        if unknown_names:
            raise ConfigError(i18n.message("error.flags.rule_features", at=at, when=raw["when"],
                                           names=_names(unknown_names),
                                           known=", ".join(FEATURES)))  # fmt: skip
        score = float(raw.get("score", {"hoang_hoa": 0.9, "nghi_van": 0.5}.get(raw["level"], 0.1)))
        if not 0 <= score <= 1:
            raise ConfigError(i18n.message("error.flags.rule_score", at=at, score=score))
        rules.append(
            Rule(rid, raw["level"], str(raw["when"]), raw["reason_vi"], raw["reason_en"], score,
                 names, line, func)
        )  # fmt: skip
    return RuleSet(
        rules,
        # a setting the file leaves out keeps RuleSet's default (stated there only)
        min_clear_obs=int(settings.get("min_clear_obs", RuleSet.min_clear_obs)),
        min_coverage=float(settings.get("min_coverage", RuleSet.min_coverage)),
        min_pixels=float(settings.get("min_pixels", RuleSet.min_pixels)),
        min_full_pixels=int(settings.get("min_full_pixels", RuleSet.min_full_pixels)),
        source=where,
    )


def _line_of(text: str | None, rule_id: str) -> int | None:
    """Line of the rule's ``when`` (or of its ``id``) in the TOML text."""
    if not text:
        return None
    match = re.search(rf"^\s*id\s*=\s*[\"']{re.escape(str(rule_id))}[\"']", text, re.M)
    if not match:
        return None
    when = re.compile(r"^\s*when\s*=", re.M).search(text, match.end())
    nxt = text.find("[[rules]]", match.end())
    at = when.start() if when and (nxt < 0 or when.start() < nxt) else match.start()
    return text.count("\n", 0, at) + 1


class _Text(str):
    """A number already written out: only the decimal separator follows the language."""


def _fmt(value, lang: str) -> str:
    if isinstance(value, _Text):
        return value.replace(".", ",") if lang == "vi" else str(value)
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "?"
    if isinstance(value, (bool, np.bool_)):
        return ("có" if value else "không") if lang == "vi" else ("yes" if value else "no")
    if isinstance(value, (int, np.integer)) or float(value).is_integer():
        return str(int(value))
    text = f"{float(value):.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def _table_text(table: pd.DataFrame) -> str:
    """A summary's table as text, said in the language in force.

    Headers, row and axis names through the ``flags.table.*`` entries (a name without
    one, such as a flag code, as it is); numbers to three decimals with the language's
    decimal separator, counts whole.
    """
    lang = i18n.get_language()

    def name(kind, key):
        entry = f"flags.table.{kind}.{key}"
        return key if key is None or entry not in i18n.CATALOGUE else i18n.message(entry)

    def number(v):
        text = "?" if pd.isna(v) else f"{float(v):.3f}"
        return text.replace(".", ",") if lang == "vi" else text

    def count(v):
        return "?" if pd.isna(v) else str(int(v))

    out = pd.DataFrame(
        {
            name("col", c): (
                table[c].map(count)
                if c == "support" or pd.api.types.is_integer_dtype(table[c])
                else table[c].map(number)
            ).to_numpy()
            for c in table.columns
        },
        index=pd.Index([name("row", k) for k in table.index], name=name("axis", table.index.name)),
    )
    out.columns.name = name("axis", table.columns.name)
    return out.to_string()


def _reason(template: str, row: dict, lang: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _fmt(row.get(m.group(1)), lang), template)


def _column(features: pd.DataFrame, name: str, default: float) -> np.ndarray:
    if name not in features:
        return np.full(len(features), default, dtype=float)
    return features[name].to_numpy(dtype=float, na_value=np.nan)


def _data_gate(features: pd.DataFrame, rules: RuleSet) -> tuple[np.ndarray, list, list]:
    """Parcels the verdict abstains on, with the reasons (vi, en) per parcel."""
    n = len(features)
    cover = np.nan_to_num(_column(features, "coverage_fraction", 1.0))
    clear = np.nan_to_num(_column(features, "clear_obs", 0.0))
    pixels = _column(features, "pixels", np.inf)
    full = _column(features, "full_pixels", np.inf)
    outside = cover < rules.min_coverage
    few = clear < rules.min_clear_obs
    tiny = np.nan_to_num(pixels, nan=0.0) < rules.min_pixels
    thin = np.nan_to_num(full, nan=0.0) < rules.min_full_pixels
    gate = outside | few | tiny | thin
    vi, en = [""] * n, [""] * n
    for i in np.flatnonzero(gate):
        said = []
        if outside[i]:
            said.append(_say("flags.outside", coverage=float(round(cover[i], 2))))
        else:
            if tiny[i]:
                said.append(_say("flags.few_pixels", pixels=_Text(f"{pixels[i]:.3g}"),
                                 need=rules.min_pixels))  # fmt: skip
            if thin[i] and not tiny[i]:
                said.append(_say("flags.few_full", full=int(full[i]), need=rules.min_full_pixels))
            if few[i]:
                said.append(_say("flags.no_data", clear_obs=int(clear[i]),
                                 need=rules.min_clear_obs))  # fmt: skip
        vi[i] = "; ".join(s[0] for s in said[:3])
        en[i] = "; ".join(s[1] for s in said[:3])
    return gate, vi, en


def apply_rules(features: pd.DataFrame, rules=None) -> pd.DataFrame:
    """Flag every parcel by the first rule that holds; that rule's reason is the reason.

    Parameters
    ----------
    features : pandas.DataFrame
        Per-parcel features (:func:`ntmgis.features.parcel_features`).
    rules : path, dict or RuleSet, optional
        Rules (default: the packaged defaults).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``features``: ``flag``, ``flag_score``, ``flag_rule`` (the deciding
        rule's id), ``flag_reasons`` (Vietnamese: the deciding rule's reason, or why the
        verdict abstains), ``flag_reasons_en`` and ``flag_reason_keys`` (``rule:<id>``).
        Parcels no rule catches are ``binh_thuong`` with no reason.
    """
    rules = load_rules(rules)
    missing = rules.features - set(features.columns)
    if missing:
        raise InputError(i18n.message("error.flags.features_missing", names=_names(missing),
                                      where=rules.source))  # fmt: skip
    n = len(features)
    env = {c: features[c].to_numpy(dtype=float, na_value=np.nan) for c in rules.features}
    flag = np.full(n, "binh_thuong", dtype=object)
    score = np.full(n, 0.1)
    rule_id = np.full(n, "", dtype=object)
    decided = np.zeros(n, bool)
    by_id = {r.id: r for r in rules.rules}
    for rule in rules.rules:
        new = rule.holds(env) & ~decided
        flag[new], score[new], rule_id[new] = rule.level, rule.score, rule.id
        decided |= new
    gate, gate_vi, gate_en = _data_gate(features, rules)
    # a reason is filled from its parcel's values: only those parcels' rows are made
    said = np.flatnonzero(~gate & (rule_id != ""))
    records = dict(zip(said.tolist(), features.iloc[said].to_dict("records")))
    vi, en, keys = [], [], []
    for i in range(n):
        rule = by_id.get(rule_id[i])
        if gate[i]:
            vi.append(gate_vi[i])
            en.append(gate_en[i])
            keys.append("")
        elif rule is None:
            vi.append("")
            en.append("")
            keys.append("")
        else:
            row = records[i]
            vi.append(_reason(rule.reason_vi, row, "vi"))
            en.append(_reason(rule.reason_en, row, "en"))
            keys.append(f"rule:{rule.id}")
    flag[gate], score[gate], rule_id[gate] = "thieu_du_lieu", np.nan, ""
    return pd.DataFrame(
        {"flag": flag, "flag_score": score, "flag_rule": rule_id, "flag_reasons": vi,
         "flag_reasons_en": en, "flag_reason_keys": keys},
        index=features.index,
    )  # fmt: skip


# --------------------------------------------------------------------------- calibration
@dataclass
class Calibration:
    """How the flags were decided, and how well the survey says the model does.

    Attributes
    ----------
    mode : str
        ``"calibrated"`` or ``"rules"``; ``reason`` says why.
    threshold : float
        Calibrated probability from which a garden is flagged ``hoang_hoa``.
    unsure : float
        Calibrated probability from which a garden below the threshold is ``nghi_van``.
    model : lightgbm.Booster
        The trees fitted on the surveyed gardens (``features`` are its inputs).
    calibrator : object
        Raw model score to calibrated probability (isotonic, pool-adjacent-violators),
        ``calibrator.predict(raw)``.
    report : pandas.DataFrame
        Per class precision, recall, F1 and support of the hamlet-grouped cross-validation,
        against the survey labels.
    reliability : pandas.DataFrame
        Calibrated cross-validated probability against the observed share of surveyed
        abandoned gardens, by probability bin (``p_mean``, ``observed``, ``n``).
    brier : float
        Brier score of the calibrated cross-validated probabilities.
    cv_proba, labels : pandas.Series
        Per surveyed garden, the calibrated cross-validated probability of "abandoned"
        and the survey's label (1 = hoang_hoa): the numbers behind ``report``.
    importances : pandas.Series
        Mean absolute attribution of each feature over the surveyed gardens.
    dropped_labels : int
        Survey labels left out of the final fit: contradicted by the imagery with
        confidence, or of gardens renovated this season (the survey predates them).
    survey_reliability : float or None
        Share of the survey's "abandoned" claims the imagery confirms where it sees the
        garden (:data:`SURVEY_STANDS_FULL` pixels wholly inside or more): the score of a
        garden the imagery cannot see whose survey claim stands (``flag_rule`` "survey").
    disputed : int
        Gardens the model leaned abandoned against a survey of
        :data:`SURVEY_TRUSTED_CLASSES` without the probability to overrule it
        (:data:`SURVEY_OVERRULE`): ``nghi_van``, their first reason says so.
    """

    mode: str  # "calibrated" or "rules"
    reason: str
    threshold: float | None = None
    unsure: float | None = None
    model: object = None
    calibrator: object = None
    features: tuple = ()
    report: pd.DataFrame | None = None  # per class: precision, recall, f1, support
    reliability: pd.DataFrame | None = None
    brier: float | None = None
    n_labels: int = 0
    n_groups: int = 0
    dropped_labels: int = 0
    importances: pd.Series | None = None
    cv_proba: pd.Series | None = None  # cross-validated probability per surveyed garden
    labels: pd.Series | None = None  # 1 = surveyed abandoned, per surveyed garden
    references: pd.DataFrame | None = None  # per feature: tended / abandoned commune medians
    expected_survey_errors: float = 0.0  # survey errors the visit list is expected to find
    survey_reliability: float | None = None  # share of "abandoned" claims the imagery confirms
    disputed: int = 0  # gardens nghi_van: a standard/model survey the model cannot overrule
    # (matrix, raw scores, attributions) of the gardens calibrate() was given, for the
    # first predict() on the same gardens (flag_parcels'): pred_contrib is the costly part
    _scored: tuple | None = field(default=None, repr=False, compare=False)

    def summary(self) -> str:
        """A few readable lines: mode, labels, and the cross-validated scores.

        In the language in force (``reason`` is said in the language in force when the
        calibration is made, by :func:`calibrate` and :func:`flag_parcels`).
        """
        first = 0 if i18n.get_language() == "vi" else 1
        mode = self.mode
        if f"flags.summary.mode_{mode}" in i18n.CATALOGUE:
            mode = _say(f"flags.summary.mode_{mode}")[first]
        lines = [_say("flags.summary.mode", mode=mode, reason=self.reason)[first]]
        if self.report is not None:
            lines.append(
                _say("flags.summary.cross_validation", n_groups=self.n_groups,
                     n_labels=self.n_labels, threshold=_Text(f"{self.threshold:.2f}"),
                     brier=_Text(f"{self.brier:.3f}"))[first]
            )  # fmt: skip
            lines.append(_table_text(self.report))
        if self.disputed:
            lines.append(_say("flags.summary.disputed", n=self.disputed,
                              sure=_Text(f"{SURVEY_OVERRULE:.2f}"))[first])  # fmt: skip
        return "\n".join(lines)

    def predict(self, features: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities and per-feature attributions (log-odds) per parcel."""
        x = _matrix(features, self.features)
        scored, self._scored = self._scored, None
        if (
            scored is not None
            and scored[0].shape == x.shape
            and np.array_equal(scored[0], x, equal_nan=True)
        ):  # the gardens calibrate() scored: their scores, computed once
            return self.calibrator.predict(scored[1]), scored[2]
        raw = self.model.predict(x, raw_score=True)
        contrib = self.model.predict(x, pred_contrib=True)[:, : len(self.features)]
        return self.calibrator.predict(raw), contrib


def _matrix(features: pd.DataFrame, columns) -> np.ndarray:
    return features.reindex(columns=list(columns)).astype(float).to_numpy()


_LGB_PARAMS = {
    "objective": "binary", "learning_rate": 0.16, "num_leaves": 12, "min_data_in_leaf": 12,
    "feature_fraction": 0.8, "bagging_fraction": 0.8, "bagging_freq": 1, "lambda_l2": 1.0,
    "num_threads": 1, "deterministic": True, "force_col_wise": True, "verbosity": -1,
    # 63 bins a feature and the "intermediate" monotone constraints: 27 % less time than
    # 255 bins and "advanced", the same cross-validated scores on the tuning communes
    "max_bin": 63, "monotone_constraints_method": "intermediate",
}  # fmt: skip
_ROUNDS = 40
#: boosting rounds of the first cross-validation (it only finds contradicted labels)
_FIRST_ROUNDS = 40
#: F-beta within this of the best counts as the best (the highest such threshold is taken)
_FBETA_TOLERANCE = 0.02


def _fit(x, y, columns, seed, rounds=None):
    import lightgbm as lgb

    from .features import feature

    side = {"low": -1, "high": 1}
    mono = [side.get(feature(c).abandoned_when, 0) for c in columns]
    params = dict(_LGB_PARAMS, seed=seed, monotone_constraints=mono)
    data = lgb.Dataset(x, label=y, feature_name=list(columns), free_raw_data=True,
                       params={"max_bin": params["max_bin"]})  # fmt: skip
    return lgb.train(params, data, num_boost_round=rounds or _ROUNDS)


def _out_of_fold(x, y, g, columns, seed, train_on=None, rounds=None) -> np.ndarray:
    """Raw scores of every garden from trees fitted on the other hamlets' folds.

    ``train_on`` (boolean) limits the training gardens of each fold (the labels the
    cross-validation does not contradict); every garden is scored.
    """
    raw = np.zeros(len(y))
    for test in _group_folds(g, min(5, len(np.unique(g)))):
        train = np.setdiff1d(np.arange(len(y)), test)
        if train_on is not None:
            train = train[train_on[train]]
        model = _fit(x[train], y[train], columns, seed, rounds)
        raw[test] = model.predict(x[test], raw_score=True)
    return raw


class _Isotonic:
    """Monotone map from raw model scores to probabilities (pool-adjacent-violators).

    Predictions interpolate linearly between the fitted blocks and are clipped outside
    them, as scikit-learn's ``IsotonicRegression(out_of_bounds="clip")`` does.
    """

    def fit(self, x, y):
        order = np.argsort(x, kind="stable")
        xs, ys = np.asarray(x, float)[order], np.asarray(y, float)[order]
        ux, start = np.unique(xs, return_index=True)
        sums = np.add.reduceat(ys, start)
        counts = np.diff(np.append(start, len(xs))).astype(float)
        values, weights, sizes = [], [], []
        for k in range(len(ux)):  # pool adjacent violators
            values.append(sums[k] / counts[k])
            weights.append(counts[k])
            sizes.append(1)
            while len(values) > 1 and values[-2] >= values[-1]:
                w = weights[-2] + weights[-1]
                v = (values[-2] * weights[-2] + values[-1] * weights[-1]) / w
                n = sizes[-2] + sizes[-1]
                values[-2:], weights[-2:], sizes[-2:] = [v], [w], [n]
        fitted = np.repeat(values, sizes)
        self.x_, self.y_ = ux, fitted
        return self

    def predict(self, x):
        return np.clip(np.interp(np.asarray(x, float), self.x_, self.y_), 0.0, 1.0)


def _group_folds(groups: np.ndarray, k: int) -> list[np.ndarray]:
    """Test positions of ``k`` folds that never split a group (largest groups first)."""
    names, inverse, sizes = np.unique(groups, return_inverse=True, return_counts=True)
    load = np.zeros(k)
    fold_of = np.zeros(len(names), int)
    for g in np.argsort(-sizes, kind="stable"):
        fold_of[g] = int(np.argmin(load))
        load[fold_of[g]] += sizes[g]
    return [np.flatnonzero(fold_of[inverse] == f) for f in range(k)]


def _reliability(p, y, bins=5) -> pd.DataFrame:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, bins - 1)
    rows = []
    for b in range(bins):
        m = which == b
        if m.any():
            rows.append({"bin": f"{edges[b]:.1f}-{edges[b + 1]:.1f}", "p_mean": p[m].mean(),
                         "observed": y[m].mean(), "n": int(m.sum())})  # fmt: skip
    return pd.DataFrame(rows)


def calibrate(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    groups: pd.Series,
    min_labels: int = 30,
    beta: float = 2.0,
    random_state: int = 0,
) -> Calibration:
    """Fit gradient-boosted trees on surveyed gardens, cross-validated by hamlet.

    Parameters
    ----------
    features : pandas.DataFrame
        Per-parcel features of the parcels with enough evidence.
    labels : pandas.Series
        Survey class key per parcel (``hoang_hoa`` is the positive class; ``vuon_mau``,
        ``dat_chuan``, ``da_cai_tao``, ``vuon_tap`` negative); NaN = not surveyed.
    groups : pandas.Series
        Hamlet per parcel; folds never split a hamlet.
    min_labels : int, default 30
        Fewest surveyed gardens needed in each class (and two hamlets) to calibrate.
    beta : float, default 2
        The threshold maximises the F-beta score of the calibrated cross-validated
        probabilities: beta 2 weighs recall twice, since missing an abandoned garden
        costs more than one extra field visit. The F-beta curve is flat near its top:
        of the thresholds whose F-beta is within 0.02 of the best, the highest (the
        fewest false alarms) is taken, which keeps the threshold from jumping on a
        difference the cross-validation cannot tell.
    random_state : int, default 0
        Seed of the trees' bagging.

    Returns
    -------
    Calibration
        ``mode`` "calibrated" with the fitted model, its calibrator, threshold,
        reliability and the per-class precision/recall/F1 of the grouped
        cross-validation; or ``mode`` "rules" with the reason (too few labels).

    Notes
    -----
    The trees are monotone in every feature whose abandoned side the registry declares
    (lower NDVI never argues for a tended garden), which keeps the model, and its
    reasons, consistent on communes it has not seen. The survey is a claim: gardens
    renovated this season (their survey predates the clearing) are left out, and a first
    cross-validation finds the labels the imagery contradicts with confidence (surveyed
    abandoned below 0.2, surveyed in use above 0.7); a second cross-validation, fitted on
    the other labels as the final model is, gives the out-of-fold scores that are
    calibrated (on every label) and that choose the threshold, so the calibration is
    that of the model that decides.
    """
    from .features import MODEL_FEATURES

    known = labels.isin((*TENDED_CLASSES, ABANDONED_CLASS))
    if "renovation_seen" in features:
        renovated = features["renovation_seen"].fillna(False).astype(bool)
    else:
        renovated = pd.Series(False, index=features.index)
    y_all = (labels[known] == ABANDONED_CLASS).astype(int)
    g_all = groups[known].astype(str)
    n_pos, n_neg, n_groups = int(y_all.sum()), int((1 - y_all).sum()), g_all.nunique()
    if n_pos < min_labels or n_neg < min_labels or n_groups < 2:
        return Calibration(
            "rules",
            i18n.message(
                "flags.too_few_labels", n_pos=n_pos, n_neg=n_neg, n_groups=n_groups, need=min_labels
            ),
            n_labels=int(known.sum()),
            n_groups=n_groups,
        )
    columns = [c for c in MODEL_FEATURES if c in features and features[c].notna().any()]
    use = known & ~renovated
    y = (labels[use] == ABANDONED_CLASS).astype(int).to_numpy()
    g = groups[use].astype(str).to_numpy()
    x = _matrix(features.loc[use], columns)
    # the survey is a claim: a first cross-validation finds the labels the imagery
    # contradicts with confidence; they are left out of every later fit (they are
    # reported, and the visit list holds them)
    raw = _out_of_fold(x, y, g, columns, random_state, rounds=_FIRST_ROUNDS)
    p = _Isotonic().fit(raw, y).predict(raw)
    keep = ~(((y == 1) & (p < 0.2)) | ((y == 0) & (p > 0.7)))
    # the second cross-validation is fitted as the final model is (on the kept labels):
    # its out-of-fold scores are calibrated on every label (as scikit-learn's
    # CalibratedClassifierCV with ensemble=False) and give the threshold
    raw = _out_of_fold(x, y, g, columns, random_state, train_on=keep)
    calibrator = _Isotonic().fit(raw, y)
    p = calibrator.predict(raw)
    thresholds = np.round(np.arange(0.05, 0.81, 0.025), 3)
    fbeta = np.array([_fbeta(y[keep], p[keep] >= t, beta) for t in thresholds])
    # the F-beta curve is flat near its top: of the thresholds within
    # _FBETA_TOLERANCE of the best, the highest (fewest false alarms) is taken
    threshold = float(thresholds[np.flatnonzero(fbeta >= fbeta.max() - _FBETA_TOLERANCE)[-1]])
    model = _fit(x[keep], y[keep], columns, random_state)
    # every garden given is scored once (flag_parcels predicts these same gardens); the
    # importances are those of the surveyed ones (attributions are per row)
    x_all = _matrix(features, columns)
    contrib_all = model.predict(x_all, pred_contrib=True)[:, : len(columns)]
    contrib = contrib_all[np.flatnonzero(use.reindex(features.index, fill_value=False))]
    importances = pd.Series(np.abs(contrib).mean(0), index=columns).sort_values(ascending=False)
    index = labels[use].index
    return Calibration(
        "calibrated",
        i18n.message("flags.summary.reason_calibrated", n=int(use.sum())),
        threshold=threshold,
        unsure=round(threshold / 2, 3),
        model=model,
        calibrator=calibrator,
        features=tuple(columns),
        report=_class_report(y, p >= threshold),
        reliability=_reliability(p, y),
        brier=float(np.mean((p - y) ** 2)),
        n_labels=int(known.sum()),
        n_groups=n_groups,
        dropped_labels=int((~keep).sum() + (known & renovated).sum()),
        importances=importances,
        cv_proba=pd.Series(p, index=index, name="cv_proba"),
        labels=pd.Series(y, index=index, name="label"),
        _scored=(x_all, model.predict(x_all, raw_score=True), contrib_all),
    )


def _fbeta(y, pred, beta):
    tp = np.sum(pred & (y == 1))
    fp = np.sum(pred & (y == 0))
    fn = np.sum(~pred & (y == 1))
    b2 = beta * beta
    den = (1 + b2) * tp + b2 * fn + fp
    return (1 + b2) * tp / den if den else 0.0


def _class_report(y, pred) -> pd.DataFrame:
    rows = {}
    for name, positive in (("hoang_hoa", 1), ("khac", 0)):
        t = y == positive
        p = pred if positive else ~pred
        tp = np.sum(p & t)
        precision = tp / p.sum() if p.sum() else np.nan
        recall = tp / t.sum() if t.sum() else np.nan
        f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
        rows[name] = {"precision": precision, "recall": recall, "f1": f1, "support": int(t.sum())}
    return pd.DataFrame(rows).T


# --------------------------------------------------------------------------- reasons
def _references(features: pd.DataFrame, flag: np.ndarray) -> pd.DataFrame:
    """The commune's own reference values: medians of tended and of abandoned gardens."""
    from .features import REGISTRY

    rows = {}
    tended, abandoned = flag == "binh_thuong", flag == "hoang_hoa"
    for f in REGISTRY:
        if f.abandoned_when and f.name in features:
            v = features[f.name].to_numpy(dtype=float, na_value=np.nan)
            rows[f.name] = {
                "binh_thuong": np.nanmedian(v[tended]) if np.isfinite(v[tended]).any() else np.nan,
                "hoang_hoa": np.nanmedian(v[abandoned])
                if np.isfinite(v[abandoned]).any() else np.nan,
            }  # fmt: skip
    return pd.DataFrame(rows).T


def _sentence(name: str, value: float, ref: float, group: str, clear_obs=0, memo=None):
    """One evidence sentence (vi, en); ``memo`` (a dict) keeps those already made.

    The sentence depends on the value and reference only as printed (two decimals), so
    gardens with the same printed numbers share one sentence.
    """
    from .features import feature

    if memo is not None:
        key = (name, value <= 0, _round(value), _round(ref), group,
               int(clear_obs) if name == "events" else 0)  # fmt: skip
        if key not in memo:
            memo[key] = _sentence(name, value, ref, group, clear_obs)
        return memo[key]
    f = feature(name)
    if value <= 0 and f.zero_vi:
        phrase = {"vi": f.zero_vi, "en": f.zero_en}
    else:
        phrase = {lang: getattr(f, f"phrase_{lang}").replace("{value}", _said(f, value, lang))
                  for lang in ("vi", "en")}  # fmt: skip
    if name == "events":
        clear = int(clear_obs)
        phrase = {"vi": f"{phrase['vi']} trong {clear} lần chụp rõ",
                  "en": f"{phrase['en']} in {clear} clear observations"}  # fmt: skip
    key = "flags.group_tended" if group == "binh_thuong" else "flags.group_abandoned"
    words = dict(zip(("vi", "en"), _say(key)))
    if f.signed:
        ref = {lang: _said(f, ref, lang) for lang in ("vi", "en")}
    else:
        ref = _round(ref)
    return _say("flags.evidence", phrase=phrase, group=words, ref=ref)


def _said(f, value: float, lang: str) -> str:
    """A feature's value as its phrase says it: "0,31"; a signed change as "tăng 0,02"."""
    if not f.signed:
        return _fmt(_round(value), lang)
    if _round(value) == 0:
        return "không đổi" if lang == "vi" else "unchanged"
    words = f.signed[0 if lang == "vi" else 1]
    return f"{words[0] if value >= 0 else words[1]} {_fmt(_round(abs(value)), lang)}"


def _round(value: float):
    return int(value) if float(value).is_integer() else round(float(value), 2)


def _model_reasons(features, flag, p, contrib, cal: Calibration, refs: pd.DataFrame,
                   disputed=None):  # fmt: skip
    """At most three reasons per parcel from its attributions, strongest first.

    A ``nghi_van`` garden's first reason says why it is unsure: the model's probability
    short of its threshold, or (``disputed``) a survey class the model leans against
    without the probability to overrule it.

    A feature is said as support only when its attribution pushes towards the verdict
    *and* its value lies on the verdict's side of the commune's reference (the median of
    the other verdict's gardens); as counter-evidence ("nhưng ...") only when both point
    the other way. Everything else stays unsaid.
    """
    from .features import feature

    cols = [c for c in cal.features if c in refs.index]
    at = [list(cal.features).index(c) for c in cols]
    low = np.array([feature(c).abandoned_when == "low" for c in cols])
    values = features.reindex(columns=cols).to_numpy(dtype=float, na_value=np.nan)
    c = contrib[:, at]
    lean_ab = np.isin(flag, ["hoang_hoa", "nghi_van"])
    ref_of = np.where(lean_ab, "binh_thuong", "hoang_hoa")
    refs_t = refs.loc[cols, "binh_thuong"].to_numpy(float)
    refs_a = refs.loc[cols, "hoang_hoa"].to_numpy(float)
    ref = np.where(lean_ab[:, None], refs_t[None, :], refs_a[None, :])
    # a value within a quarter of the gap between the two references (or 0.01, what two
    # decimals show) argues for neither
    margin = np.maximum(0.25 * np.abs(refs_t - refs_a), 0.01)[None, :]
    with np.errstate(invalid="ignore"):
        known = np.isfinite(values) & np.isfinite(ref) & (np.abs(values - ref) > margin)
        says_ab = (values < ref) == low[None, :]
    toward = np.where(lean_ab[:, None], c, -c)
    support = known & (says_ab == lean_ab[:, None]) & (toward > 0.05)
    against = known & (says_ab != lean_ab[:, None]) & (toward < -0.05)
    clear = features["clear_obs"].to_numpy() if "clear_obs" in features else np.zeros(len(flag))
    # every parcel's supporting features, strongest first, then its counter-evidence,
    # most against first (stable sorts: ties in the registry's order), sorted at once
    with np.errstate(invalid="ignore"):
        sup_order = np.argsort(np.where(support, -toward, np.inf), axis=1, kind="stable")
        con_order = np.argsort(np.where(against, toward, np.inf), axis=1, kind="stable")
    n_sup, n_con = support.sum(axis=1), against.sum(axis=1)
    vi, en, keys = [None] * len(flag), [None] * len(flag), [None] * len(flag)
    memo, buts = {}, {}
    for i in np.flatnonzero(np.isin(flag, ["hoang_hoa", "binh_thuong", "nghi_van"])):
        said, said_keys = [], []
        if flag[i] == "nghi_van" and disputed is not None and disputed[i]:
            said.append(_say("flags.survey_disputes", p=_Text(f"{p[i]:.2f}"),
                             sure=_Text(f"{SURVEY_OVERRULE:.2f}")))  # fmt: skip
            said_keys.append("model")
        elif flag[i] == "nghi_van":
            said.append(
                _say(
                    "flags.unsure", p=_Text(f"{p[i]:.2f}"), threshold=_Text(f"{cal.threshold:.2f}")
                )
            )
            said_keys.append("model")
        room = 3 - len(said) - (1 if n_con[i] else 0)
        for j in sup_order[i, : min(n_sup[i], max(room, 1))]:
            said.append(_sentence(cols[j], values[i, j], ref[i, j], ref_of[i], clear[i], memo))
            said_keys.append(cols[j])
        if n_con[i] and len(said) < 3:
            j = con_order[i, 0]
            s = _sentence(cols[j], values[i, j], ref[i, j], ref_of[i], clear[i], memo)
            if s not in buts:
                buts[s] = _say("flags.but", text={"vi": s[0], "en": s[1]})
            said.append(buts[s])
            said_keys.append(f"nhung:{cols[j]}")
        if not said:
            said.append(
                _say("flags.model", p=_Text(f"{p[i]:.2f}"), threshold=_Text(f"{cal.threshold:.2f}"))
            )
            said_keys.append("model")
        vi[i] = "; ".join(s[0] for s in said[:3])
        en[i] = "; ".join(s[1] for s in said[:3])
        keys[i] = ";".join(said_keys[:3])
    return vi, en, keys


def _calibrated_verdicts(features, claim, cal: Calibration, pos, columns) -> None:
    """The calibrated model's verdicts and reasons, written into ``columns`` at ``pos``."""
    flag, score, rule, margin, vi, en, keys = columns
    p, contrib = cal.predict(features)
    f = np.where(p >= cal.threshold, "hoang_hoa",
                 np.where(p >= cal.unsure, "nghi_van", "binh_thuong"))  # fmt: skip
    cls = None if claim is None else claim.to_numpy(dtype=object)
    disputed = (
        np.zeros(len(f), bool)
        if cls is None
        else (f == "hoang_hoa") & np.isin(cls, SURVEY_TRUSTED_CLASSES) & (p < SURVEY_OVERRULE)
    )
    f = np.where(disputed, "nghi_van", f)
    cal.disputed = int(disputed.sum())
    refs = _references(features, f)
    cal.references = refs
    stands, cal.survey_reliability = _survey_stands(features, claim, p, f, cal)
    f = np.where(stands, "hoang_hoa", f)
    flag[pos], score[pos], rule[pos] = f, np.round(p, 3), "model"
    margin[pos] = np.where(f == "hoang_hoa", p, 1 - p)
    v, e, k = _model_reasons(features, f, p, contrib, cal, refs, disputed)
    if stands.any():
        at = pos[stands]
        score[at], rule[at], margin[at] = round(cal.survey_reliability, 3), "survey", 0.5
        events = np.nan_to_num(_column(features, "events", 0.0))
        full = np.nan_to_num(_column(features, "full_pixels", 0.0))
        v, e, k = _survey_reasons(v, e, k, np.flatnonzero(stands), events, full, p)
    vi[pos], en[pos], keys[pos] = v, e, k


def _survey_stands(features, claim, p, flag, cal: Calibration):
    """Gardens the imagery cannot see where the survey's "abandoned" stands, and its rate.

    A garden with fewer than :data:`SURVEY_STANDS_FULL` pixels wholly inside it is seen
    mostly through pixels it shares with its neighbours: its probability is pulled towards
    theirs. When the survey says abandoned, at most :data:`SURVEY_STANDS_EVENTS` tillage
    events were seen (in pixels shared with the neighbours they may be the neighbours'
    beds) and the model is not nearly sure the garden is tended (probability at least
    :data:`SURVEY_STANDS_FLOOR` with no full pixel, :data:`SURVEY_STANDS_FLOOR_SEEN` with
    one or two), the imagery cannot refute the survey: the garden is ``hoang_hoa`` with
    weak evidence, and its score is the survey's reliability, the share of its "abandoned"
    claims the imagery confirms where it sees the garden (:data:`SURVEY_STANDS_FULL` full
    pixels or more; at least 10 such gardens, else nothing stands).
    """
    n = len(flag)
    if claim is None:
        return np.zeros(n, bool), None
    says = claim.to_numpy(dtype=object) == ABANDONED_CLASS
    full = np.nan_to_num(_column(features, "full_pixels", np.inf), nan=0.0)
    events = np.nan_to_num(_column(features, "events", 0.0))
    seen = says & (full >= SURVEY_STANDS_FULL)
    if seen.sum() < 10:
        return np.zeros(n, bool), None
    reliability = float(np.mean(p[seen] >= cal.threshold))
    floor = np.where(full < 1, SURVEY_STANDS_FLOOR, SURVEY_STANDS_FLOOR_SEEN)
    stands = (
        says
        & (full < SURVEY_STANDS_FULL)
        & (events <= SURVEY_STANDS_EVENTS)
        & (p >= floor)
        & (flag != "hoang_hoa")
    )
    return stands, reliability


def _survey_reasons(vi, en, keys, idx, events=None, full=None, p=None):
    """The survey's claim first, then what the model said (its fallback sentence aside).

    ``events`` (per parcel): the tillage events seen, which the claim's sentence says of a
    garden with no full pixel; ``full`` and ``p`` (per parcel): the full pixels and the
    model's probability, which it says of a garden with one or more.
    """
    for i in idx:
        n = 0 if events is None else int(events[i])
        k = 0 if full is None else int(full[i])
        if k >= 1:
            pixels = {"vi": f"{k} điểm ảnh", "en": f"{k} pixel{'s' if k > 1 else ''}"}
            head_vi, head_en = _say("flags.survey_stands_few", pixels=pixels,
                                    p=_Text(f"{p[i]:.2f}"))  # fmt: skip
        elif n >= 2:
            head_vi, head_en = _say("flags.survey_stands_some", events=n)
        else:
            head_vi, head_en = _say("flags.survey_stands_one" if n else "flags.survey_stands")
        parts = list(zip(vi[i].split("; "), en[i].split("; "), keys[i].split(";")))
        parts = [x for x in parts if x[2] != "model"][:2]
        vi[i] = "; ".join([head_vi, *(x[0] for x in parts)])
        en[i] = "; ".join([head_en, *(x[1] for x in parts)])
        keys[i] = ";".join(["survey", *(x[2] for x in parts)])
    return vi, en, keys


def _dmy(value) -> str:
    return pd.Timestamp(value).strftime("%d/%m/%Y")


#: survey classes of gardens that a renovation this season can concern (the programme
#: renovates abandoned and mixed gardens); a clearing in a garden surveyed standard, model
#: or already renovated is its upkeep, and the model decides
RENOVATION_CLASSES = (ABANDONED_CLASS, "vuon_tap")


def _renovated(features, survey_class=None, survey_date=None) -> pd.Series:
    """Which gardens were renovated this season (``cai_tao``), from imagery and survey.

    The imagery's own signature (``renovation_seen``: a clearing after a flat spell, then
    regrowth) decides, unless the survey says the garden is standard, model or already
    renovated, or the survey saw the garden after the clearing and called it tended. A
    weaker signature (``renovation_possible``: too few clear dates before the clearing,
    or seen only on a small garden's core pixel) counts when the survey, dated before
    the clearing, says abandoned: the survey is the evidence of the untended spell the
    imagery cannot show. Without a survey date only the imagery's signature counts.
    """
    index = features.index
    seen = np.nan_to_num(_column(features, "renovation_seen", 0.0)) > 0
    possible = np.nan_to_num(_column(features, "renovation_possible", 0.0)) > 0
    if "clearing_date" in features:
        cleared = pd.to_datetime(features["clearing_date"]).to_numpy()
    else:
        cleared = np.full(len(index), np.datetime64("NaT"), dtype="datetime64[ns]")
    cls = (
        pd.Series(np.nan, index=index, dtype=object)
        if survey_class is None
        else survey_class.reindex(index)
    ).to_numpy(dtype=object)
    sd = (
        pd.Series(pd.NaT, index=index)
        if survey_date is None
        else pd.to_datetime(survey_date.reindex(index), errors="coerce")
    ).to_numpy(dtype="datetime64[ns]")
    surveyed = pd.Series(cls).isin(SURVEY_CLASSES).to_numpy()
    can = ~surveyed | np.isin(cls, RENOVATION_CLASSES)
    dated = ~np.isnat(sd) & ~np.isnat(cleared)
    after = dated & (sd <= cleared)
    seen_tended = dated & ~after & np.isin(cls, TENDED_CLASSES)  # surveyed after, tended
    confirmed = possible & after & (cls == ABANDONED_CLASS)
    return pd.Series(can & ~seen_tended & (seen | confirmed), index=index)


def _renovation_reasons(features, idx, survey_date, survey_class=None):
    """The dated clearing and regrowth, and how the survey's date stands to them."""
    claim = (
        np.zeros(len(features), bool)
        if survey_class is None
        else survey_class.reindex(features.index).eq(ABANDONED_CLASS).to_numpy()
    )
    vi, en = [], []
    for i in idx:
        row = features.iloc[i]
        when = {"vi": _dmy(row["clearing_date"]), "en": _dmy(row["clearing_date"])}
        regrowth = row.get("regrowth_date")
        if pd.notna(regrowth):
            grew = pd.Timestamp(regrowth).strftime("%m/%Y")
            said = [_say("flags.clearing", clearing=when,
                         regrowth={"vi": f"tháng {grew}", "en": grew})]  # fmt: skip
        else:
            said = [_say("flags.clearing_only", clearing=when)]
        sd = None if survey_date is None else survey_date.iloc[i]
        if sd is None or pd.isna(sd):
            said.append(_say("flags.no_survey_date"))
        elif pd.Timestamp(sd) <= pd.Timestamp(row["clearing_date"]):
            key = "flags.after_survey_abandoned" if claim[i] else "flags.after_survey"
            said.append(_say(key, survey={"vi": _dmy(sd), "en": _dmy(sd)}))
        else:
            said.append(_say("flags.before_survey", survey={"vi": _dmy(sd), "en": _dmy(sd)}))
        vi.append("; ".join(s[0] for s in said))
        en.append("; ".join(s[1] for s in said))
    return vi, en


def _evidence_notes(flag, features) -> tuple[list, list]:
    """Why the evidence is weaker than it could be: a small garden, a cloudy season."""
    full = np.nan_to_num(_column(features, "full_pixels", np.inf), nan=0.0)
    clear = np.nan_to_num(_column(features, "clear_obs", 0.0))
    vi, en = [None] * len(flag), [None] * len(flag)
    for i in np.flatnonzero(~pd.isna(flag) & (flag != "thieu_du_lieu")):
        said = []
        if full[i] < STRONG_FULL_PIXELS:
            said.append(_say("flags.small", full=int(full[i])))
        if clear[i] < STRONG_CLEAR_OBS:
            said.append(_say("flags.cloudy", clear_obs=int(clear[i])))
        if said:
            vi[i] = "; ".join(s[0] for s in said)
            en[i] = "; ".join(s[1] for s in said)
    return vi, en


def _evidence(flag, margin, features) -> np.ndarray:
    """``manh``/``vua``/``yeu`` from the margin, the full pixels and the clear dates."""
    level = np.where(margin >= 0.9, 0, np.where(margin >= 0.7, 1, 2))
    full = np.nan_to_num(_column(features, "full_pixels", np.inf), nan=0.0)
    clear = np.nan_to_num(_column(features, "clear_obs", 0.0))
    level = level + (full < STRONG_FULL_PIXELS) + (clear < STRONG_CLEAR_OBS)
    level = np.where(np.isin(flag, ["nghi_van", "thieu_du_lieu"]), 2, np.minimum(level, 2))
    return np.array(EVIDENCE, dtype=object)[level]


# --------------------------------------------------------------------------- together
def flag_parcels(
    features: pd.DataFrame,
    *,
    survey_class: pd.Series | None = None,
    groups: pd.Series | None = None,
    is_garden: pd.Series | None = None,
    survey_date: pd.Series | None = None,
    rules=None,
    calibration: str = "auto",
    min_labels: int = 30,
) -> tuple[pd.DataFrame, Calibration]:
    """Give every garden an outcome, the strength of its evidence and its reasons.

    Parameters
    ----------
    features : pandas.DataFrame
        Per-parcel features (:func:`ntmgis.features.parcel_features`).
    survey_class : pandas.Series, optional
        Survey class key per parcel (NaN where not surveyed), aligned with ``features``.
    groups : pandas.Series, optional
        Hamlet per parcel, for cross-validation grouped by hamlet.
    is_garden : pandas.Series of bool, optional
        Which parcels are gardens; others get no flag (NaN). Default: all.
    survey_date : pandas.Series, optional
        Date each garden was surveyed (the survey's ``survey_date`` column). A clearing
        after it is a renovation the survey could not see, and a survey dated before a
        weak clearing that says abandoned confirms it (see :func:`_renovated`); without
        it renovations are decided from the imagery alone, and the reasons say so.
    rules : path, dict or RuleSet, optional
        Rules (default: the packaged defaults): their settings decide when the verdict
        abstains; the rules decide when there is no calibration.
    calibration : {"auto", "rules"}
        ``"auto"`` calibrates when the survey has enough labels; ``"rules"`` never does.
    min_labels : int, default 30
        See :func:`calibrate`.

    Returns
    -------
    (pandas.DataFrame, Calibration)
        Columns ``flag`` (one of :data:`FLAGS`), ``evidence`` (one of :data:`EVIDENCE`),
        ``evidence_note`` / ``evidence_note_en`` (why the evidence is weaker: a small
        garden, under 8 pixels wholly inside; a cloudy season, under 10 clear dates),
        ``flag_score`` (calibrated probability abandoned, or the rule's score),
        ``flag_rule`` (a rule's id, ``model``, ``renovation``, or ``survey``: a garden with
        fewer than :data:`SURVEY_STANDS_FULL` pixels wholly inside it, at most three tillage
        events seen and a probability of at least :data:`SURVEY_STANDS_FLOOR` (none) or
        :data:`SURVEY_STANDS_FLOOR_SEEN` (one or two), whose survey says abandoned, keeps that claim
        with weak evidence and the survey's reliability as its score), ``flag_reasons`` (at
        most three, "; "-separated, Vietnamese),
        ``flag_reasons_en``, ``flag_reason_keys`` (the features behind the reasons;
        ``nhung:`` marks counter-evidence), ``flag_mode``; and how the flags were decided
        (``references``: the commune's reference values the reasons quote).
    """
    if calibration not in ("auto", "rules"):
        raise InputError(i18n.message("error.flags.calibration_mode", value=calibration))
    rules = load_rules(rules)
    out = apply_rules(features, rules)
    garden = (
        pd.Series(True, index=features.index)
        if is_garden is None
        else is_garden.reindex(features.index).fillna(False).astype(bool)
    )
    renovated = _renovated(features, survey_class, survey_date)
    enough = garden & (out["flag"] != "thieu_du_lieu")
    if calibration == "rules" or survey_class is None:
        why = "not_asked" if calibration == "rules" else "no_survey"
        cal = Calibration("rules", i18n.message(f"flags.summary.reason_{why}"))
    else:
        cal = calibrate(
            features[enough],
            survey_class.reindex(features.index)[enough],
            groups=(
                groups if groups is not None else pd.Series("all", index=features.index)
            ).reindex(features.index)[enough],
            min_labels=min_labels,
        )
        if cal.mode == "rules":
            warn(i18n.message("warning.flags.rules_only", reason=cal.reason), FlagWarning,
                 where="survey", what="warning.flags.rules_only")  # fmt: skip
    flag = out["flag"].to_numpy(dtype=object).copy()
    score = out["flag_score"].to_numpy(dtype=float).copy()
    margin = np.where(flag == "hoang_hoa", score, np.where(flag == "binh_thuong", 0.75, 0.5))
    margin = np.where(flag == "binh_thuong", np.where(out["flag_rule"] == "", 0.5, 0.75), margin)
    vi = out["flag_reasons"].to_numpy(dtype=object).copy()
    en = out["flag_reasons_en"].to_numpy(dtype=object).copy()
    keys = out["flag_reason_keys"].to_numpy(dtype=object).copy()
    rule = out["flag_rule"].to_numpy(dtype=object).copy()
    pos = np.flatnonzero(enough.to_numpy())
    if cal.mode == "calibrated":
        claim = None if survey_class is None else survey_class.reindex(features.index).iloc[pos]
        columns = (flag, score, rule, margin, vi, en, keys)
        _calibrated_verdicts(features.iloc[pos], claim, cal, pos, columns)
    else:
        cal.references = _references(features[enough], out.loc[enough, "flag"].to_numpy())
    # a clearing, then regrowth, this season: renovated (Step 5 counts it)
    ren = np.flatnonzero((enough & renovated).to_numpy())
    if len(ren):
        sd = survey_date.reindex(features.index) if survey_date is not None else None
        v, e = _renovation_reasons(features, ren, sd, survey_class)
        flag[ren], rule[ren], vi[ren], en[ren] = "cai_tao", "renovation", v, e
        keys[ren] = "clearing_date;regrowth_date"
        margin[ren] = 0.75
        if survey_date is None or sd.iloc[ren].isna().all():
            logger.info("No survey date: renovations decided from the imagery alone.")
    out["flag"], out["flag_score"], out["flag_rule"] = flag, score, rule
    out["evidence"] = _evidence(flag, margin, features)
    out["evidence_note"], out["evidence_note_en"] = _evidence_notes(flag, features)
    out["flag_reasons"], out["flag_reasons_en"], out["flag_reason_keys"] = vi, en, keys
    out["flag_mode"] = cal.mode
    out = out[["flag", "evidence", "evidence_note", "evidence_note_en", "flag_score", "flag_rule",
               "flag_reasons", "flag_reasons_en", "flag_reason_keys", "flag_mode"]]  # fmt: skip
    out = out.astype(object)
    out["flag_score"] = pd.to_numeric(out["flag_score"])
    out.loc[~garden, :] = None
    return out, cal


def survey_agreement(
    survey_class: pd.Series, flags: pd.DataFrame, features=None, survey_date=None
) -> pd.DataFrame:
    """Compare each garden's survey class with its flag.

    Parameters
    ----------
    survey_class : pandas.Series
        Survey class key per parcel (NaN where not surveyed).
    flags : pandas.DataFrame
        Output of :func:`flag_parcels` (column ``flag``).
    features : pandas.DataFrame, optional
        Features; ``clearing_date`` tells a renovation after the survey from one before.
    survey_date : pandas.Series, optional
        Date of each garden's survey. A garden surveyed abandoned and cleared after that
        date is consistent (renovated since); cleared before it, the survey missed it.

    Returns
    -------
    pandas.DataFrame
        ``agreement`` (one of :data:`AGREEMENT`; NaN for non-gardens) and ``disagrees``
        (True when the survey and the imagery disagree or the verdict is unsure).
    """
    cls = survey_class.reindex(flags.index)
    flag = flags["flag"]
    agree = pd.Series("phu_hop", index=flags.index, dtype=object)
    no_data = cls.isna() | flag.isin(["thieu_du_lieu"]) | flag.isna()
    tended = cls.isin(TENDED_CLASSES)
    agree[tended & (flag == "hoang_hoa")] = "khao_sat_tot_anh_hoang"
    agree[(cls == "da_cai_tao") & flag.isin(["hoang_hoa", "nghi_van"])] = "cai_tao_chua_thay"
    agree[(cls == ABANDONED_CLASS) & (flag == "binh_thuong")] = "khao_sat_hoang_anh_tot"
    if features is not None and "clearing_date" in features and survey_date is not None:
        cleared = pd.to_datetime(features["clearing_date"]).reindex(flags.index)
        sd = pd.to_datetime(survey_date.reindex(flags.index), errors="coerce")
        before = (flag == "cai_tao") & sd.notna() & (cleared < sd)
        agree[(cls == ABANDONED_CLASS) & before] = "khao_sat_hoang_anh_tot"
    agree[no_data] = "khong_du_lieu"
    agree[flag.isna() & cls.isna()] = None
    disagrees = agree.isin(DISAGREEMENT) | (flag == "nghi_van")
    return pd.DataFrame({"agreement": agree, "disagrees": disagrees.astype(bool)})


def _survey_wrong_p(flags: pd.DataFrame, survey_class: pd.Series) -> np.ndarray:
    """Probability that the survey (or, not surveyed, the verdict) is wrong, per garden."""
    flag = flags["flag"].to_numpy(dtype=object)
    p = pd.to_numeric(flags["flag_score"], errors="coerce").to_numpy(dtype=float)
    cls = survey_class.reindex(flags.index).to_numpy(dtype=object)
    says_abandoned = cls == ABANDONED_CLASS
    surveyed = pd.Series(cls).isin(SURVEY_CLASSES).to_numpy()
    wrong = np.where(says_abandoned, 1 - p, p)
    wrong = np.where(surveyed, wrong, np.minimum(p, 1 - p))
    # renovated this season: a survey saying abandoned or renovated is right; else unsure
    wrong = np.where(flag == "cai_tao", np.where(says_abandoned | (cls == "da_cai_tao"), 0.05,
                                                 np.minimum(p, 1 - p)), wrong)  # fmt: skip
    known = np.isfinite(wrong) & ~np.isin(flag, ["thieu_du_lieu", None])
    base = float(np.nanmean(wrong[known & surveyed])) if (known & surveyed).any() else 0.0
    return np.where(known, np.clip(wrong, 0, 1), np.where(pd.isna(flag), np.nan, base))


def visit_list(
    flags: pd.DataFrame,
    survey_class: pd.Series,
    *,
    hamlet: pd.Series,
    area: pd.Series,
    visits_per_hamlet: int | None = None,
    max_share: float = MAX_VISIT_SHARE,
    min_p: float = 0.15,
    needs: pd.Series | None = None,
    need_weight: float = NEED_WEIGHT,
) -> pd.DataFrame:
    """The field-visit list: the visits most worth making, within the office's capacity.

    The value of a visit is the probability that the survey (or, for a garden nobody
    surveyed, the verdict) is wrong times the garden's weight: its area in m² (at least
    1), raised by the household's needs. Each support need the survey recorded
    (``support_needs``, read by :func:`ntmgis.needs.parse_needs`; at most
    :data:`MAX_NEEDS` count) adds ``need_weight`` (default 0.25) to a factor 1:
    ``value = p × area × (1 + need_weight × min(needs, 3))``. A household that asked
    for seedlings and a loan is visited before one of the same garden and chance that
    asked for nothing (×1.5), since the visit also prepares its support (Step 3).

    Parameters
    ----------
    flags : pandas.DataFrame
        :func:`flag_parcels`' table (``flag``, ``flag_score``); non-gardens have no flag.
    survey_class : pandas.Series
        Survey class key per parcel (NaN where not surveyed).
    hamlet : pandas.Series
        Hamlet per parcel: the capacity applies per hamlet.
    area : pandas.Series
        Garden area (m²) per parcel: a wrong class on a large garden matters more.
    visits_per_hamlet : int, optional
        Visits each hamlet can make (the office's capacity); when not given, ``max_share``
        of its gardens.
    max_share : float, default 0.15
        Share of a hamlet's gardens on the list when ``visits_per_hamlet`` is not given.
    min_p : float, default 0.15
        No visit where the chance of an error is below this.
    needs : pandas.Series, optional
        The survey's support needs per parcel as typed (``support_needs``: "cây giống,
        vốn"); None or empty cells add nothing.
    need_weight : float, default 0.25
        Weight each need adds to a visit (0: the area alone decides).

    Returns
    -------
    pandas.DataFrame
        ``survey_wrong_p`` (probability the survey, or the verdict where there is no
        survey, is wrong), ``visit_need`` (the household's needs that counted, codes
        "; "-separated), ``visit_value`` (that probability × area × the need factor),
        ``visit`` (on the list), ``visit_rank`` (1 = first, commune-wide, by value) and
        ``visit_reason`` (Vietnamese; it names the needs when they counted) /
        ``visit_reason_en``. ``attrs["expected_errors"]``: survey errors the list is
        expected to find (sum of the probabilities).

    Examples
    --------
    >>> flags = pd.DataFrame({"flag": ["hoang_hoa", "hoang_hoa"], "flag_score": [0.8, 0.8]})
    >>> out = visit_list(flags, pd.Series(["vuon_tap", "vuon_tap"]),
    ...                  hamlet=pd.Series(["A", "A"]), area=pd.Series([500.0, 500.0]),
    ...                  needs=pd.Series([None, "cây giống, vốn"]), visits_per_hamlet=1)
    >>> out["visit_value"].tolist(), out["visit_rank"].tolist()
    ([400.0, 600.0], [<NA>, 1])
    """
    if visits_per_hamlet is not None and visits_per_hamlet < 0:
        raise InputError(i18n.message("error.flags.visits_negative", value=visits_per_hamlet))
    if not 0 <= max_share <= 1:
        raise InputError(i18n.message("error.flags.visit_share", value=max_share))
    if not need_weight >= 0:
        raise InputError(i18n.message("error.flags.need_weight", value=need_weight))
    p = _survey_wrong_p(flags, survey_class)
    a = pd.to_numeric(area.reindex(flags.index), errors="coerce").fillna(0).to_numpy(float)
    codes = _need_codes(needs, flags.index)
    factor = 1.0 + need_weight * np.array([min(len(c), MAX_NEEDS) for c in codes], float)
    value = p * np.maximum(a, 1.0) * factor
    garden = flags["flag"].notna().to_numpy()
    h = hamlet.reindex(flags.index).astype(str).to_numpy()
    visit = np.zeros(len(flags), bool)
    for name in np.unique(h[garden]):
        members = np.flatnonzero(garden & (h == name))
        cap = (
            int(np.floor(max_share * len(members)))
            if visits_per_hamlet is None
            else int(visits_per_hamlet)
        )
        cand = members[np.nan_to_num(p[members]) >= min_p]
        order = cand[np.argsort(-value[cand], kind="stable")]
        visit[order[:cap]] = True
    rank = np.full(len(flags), np.nan)
    chosen = np.flatnonzero(visit)
    rank[chosen[np.argsort(-value[chosen], kind="stable")]] = np.arange(1, len(chosen) + 1)
    cls = survey_class.reindex(flags.index).to_numpy(dtype=object)
    flag = flags["flag"].to_numpy(dtype=object)
    vi, en = _visit_reasons(chosen, flag, cls, p, a, codes, factor)
    out = pd.DataFrame(
        {"survey_wrong_p": np.round(p, 3), "visit_need": ["; ".join(c) or None for c in codes],
         "visit_value": np.round(value, 1), "visit": visit,
         "visit_rank": pd.array(rank, dtype="Int64"), "visit_reason": vi, "visit_reason_en": en},
        index=flags.index,
    )  # fmt: skip
    surveyed = pd.Series(cls).isin(SURVEY_CLASSES).to_numpy()
    out.attrs["expected_errors"] = float(np.nansum(p[visit & surveyed]))
    out.attrs["expected_errors_all"] = float(np.nansum(p[garden & surveyed]))
    return out


def visit_headline(flag, survey_class) -> tuple[str, str]:
    """Why a garden is on the visit list, in a few words (vi, en): its survey against its verdict.

    What a printed list says beside its columns of chance and needs; ``visit_reason``
    adds the chance of an error, the garden's area and the needs to it.

    Examples
    --------
    >>> visit_headline("hoang_hoa", "vuon_tap")[0]
    "khảo sát ghi 'Vườn tạp' nhưng ảnh cho thấy vườn hoang hóa"
    >>> visit_headline("binh_thuong", None)[1]
    'not surveyed; the imagery shows tended'
    """
    said = {lang: key_label("flag", flag, lang).lower() for lang in ("vi", "en")}
    if survey_class not in SURVEY_CLASSES:
        return _say("visit.no_survey", flag=said)
    survey = {lang: key_label("survey_class", survey_class, lang) for lang in ("vi", "en")}
    if flag in ("nghi_van", "thieu_du_lieu"):
        key = "visit.unsure"
    elif (survey_class == ABANDONED_CLASS) == (flag == "hoang_hoa"):
        key = "visit.agree_unsure"
    else:
        key = "visit.survey_wrong"
    return _say(key, survey=survey, flag=said)


def _visit_reasons(chosen, flag, cls, p, area, codes, factor) -> tuple[list, list]:
    """Why each chosen garden is visited (vi, en): the survey against the imagery, the need."""
    vi, en = [None] * len(flag), [None] * len(flag)
    for i in chosen:
        headline = dict(zip(("vi", "en"), visit_headline(flag[i], cls[i])))
        vi[i], en[i] = _say("visit.numbers", headline=headline, p=_Text(f"{p[i]:.2f}"),
                            area=int(round(area[i])))  # fmt: skip
        if factor[i] > 1:
            vi[i], en[i] = _with_need(vi[i], en[i], codes[i], factor[i])
    return vi, en


def _need_codes(needs: pd.Series | None, index) -> list[list[str]]:
    """The need codes the survey recorded per parcel (empty where none)."""
    if needs is None:
        return [[] for _ in range(len(index))]
    from .needs import parse_needs

    cache: dict = {}
    out = []
    for value in needs.reindex(index).to_numpy(dtype=object):
        key = value if isinstance(value, str) else None
        if key not in cache:
            cache[key] = parse_needs(key)[0]
        out.append(cache[key])
    return out


def _with_need(vi: str, en: str, codes: list[str], factor: float) -> tuple[str, str]:
    from .needs import need_label

    shown = codes[:MAX_NEEDS]
    words = {lang: ", ".join(need_label(c, lang).lower() for c in shown) for lang in ("vi", "en")}
    need_vi, need_en = _say("visit.need", needs=words, weight=_Text(f"{factor:.2f}".rstrip("0")))
    return f"{vi}; {need_vi}", f"{en}; {need_en}"


# --------------------------------------------------------------------------- evaluation
@dataclass
class Evaluation:
    """Scores of the abandoned class against the truth."""

    confusion: pd.DataFrame
    precision: float
    recall: float
    f1: float
    n: int
    by_condition: pd.DataFrame | None = None
    report: pd.DataFrame | None = None
    renovated: dict | None = None

    def summary(self) -> str:
        """Readable lines: precision, recall, F1, per class, renovations, the confusion."""
        first = 0 if i18n.get_language() == "vi" else 1
        lines = [
            _say("flags.summary.evaluation", n=self.n, precision=_Text(f"{self.precision:.3f}"),
                 recall=_Text(f"{self.recall:.3f}"), f1=_Text(f"{self.f1:.3f}"))[first]
        ]  # fmt: skip
        if self.report is not None:
            lines.append(_table_text(self.report))
        if self.renovated:
            r = self.renovated
            lines.append(
                _say("flags.summary.renovated", n=r["n"], cai_tao=f"{r['cai_tao']:.0%}",
                     hoang_hoa=f"{r['hoang_hoa']:.0%}")[first]
            )  # fmt: skip
        lines.append(_table_text(self.confusion))
        return "\n".join(lines)


def evaluate(result, truth, *, positive=("hoang_hoa",)) -> Evaluation:
    """Confusion matrix, precision, recall and F1 of the abandoned class against a truth.

    Parameters
    ----------
    result : GeoDataFrame, DataFrame or path
        Flagged parcels (columns ``sheet``, ``parcel_no``, ``flag``), e.g. the ``parcels``
        layer of a run's GeoPackage.
    truth : DataFrame or path
        True condition per parcel: ``SHBANDO``/``sheet``, ``SHTHUA``/``parcel_no``,
        ``abandoned`` (1/0) and optionally ``garden_class`` (rows without one are not
        gardens and are left out) and ``condition``. The sample commune's is
        ``layers/truth/parcels_truth.csv``.
    positive : tuple of str, default ("hoang_hoa",)
        Flags that count as "abandoned".

    Returns
    -------
    Evaluation
        With ``summary()``; gardens flagged ``thieu_du_lieu`` count as not found.
    """
    from ._io import read_vector

    if isinstance(result, (str, Path)):
        result = read_vector(result, layer="parcels", what="result")
    if isinstance(truth, (str, Path)):
        truth = pd.read_csv(truth)
    truth = truth.rename(columns={"SHBANDO": "sheet", "SHTHUA": "parcel_no"})
    for frame, name in ((result, "result"), (truth, "truth")):
        missing = {"sheet", "parcel_no"} - set(frame.columns)
        if missing:
            if i18n.get_language() == "vi":
                name = {"result": "kết quả", "truth": "đối chiếu thực địa"}[name]
            raise InputError(i18n.message("error.flags.key_columns", name=name,
                                          names=_names(missing)))  # fmt: skip
    if "garden_class" in truth:
        truth = truth[truth["garden_class"].notna() & (truth["garden_class"] != "")]
    keys = ["sheet", "parcel_no"]
    merged = truth.merge(
        pd.DataFrame(result[[*keys, "flag"]]).astype({"sheet": int, "parcel_no": int}),
        on=keys,
        how="left",
    )
    y = merged["abandoned"].astype(int).to_numpy() == 1
    flag = merged["flag"].fillna("không có").astype(str)
    pred = flag.isin(positive).to_numpy()
    tp, fp, fn = int(np.sum(pred & y)), int(np.sum(pred & ~y)), int(np.sum(~pred & y))
    precision = tp / (tp + fp) if tp + fp else float("nan")
    recall = tp / (tp + fn) if tp + fn else float("nan")
    f1 = 2 * precision * recall / (precision + recall) if tp else 0.0
    confusion = pd.crosstab(
        pd.Series(np.where(y, "hoang_hoa (thật)", "không hoang (thật)"), name="truth"),
        pd.Series(flag.to_numpy(), name="flag"),
    )
    by_condition, renovated = None, None
    if "condition" in merged:
        by_condition = pd.crosstab(merged["condition"], flag.rename("flag"))
        renovating = merged["condition"].eq("renovating").to_numpy()
        if renovating.any():
            renovated = {"n": int(renovating.sum()),
                         "cai_tao": float(flag[renovating].eq("cai_tao").mean()),
                         "hoang_hoa": float(flag[renovating].isin(positive).mean())}  # fmt: skip
    return Evaluation(confusion, precision, recall, f1, len(merged), by_condition,
                      _class_report(y.astype(int), pred), renovated)  # fmt: skip
