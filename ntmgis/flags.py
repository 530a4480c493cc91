"""Flag abandoned gardens with reasons, calibrate on the survey, check the survey.

Three steps, each usable alone:

* :func:`apply_rules`: a transparent rules engine. Rules live in a TOML file a user can copy
  and edit (defaults: ``ntmgis/data/rules_default.toml``); each has an id, a condition on
  the features of :mod:`ntmgis.features`, a level, a score and a reason in Vietnamese and
  English. Conditions are parsed, never executed.
* :func:`calibrate`: a classifier (scikit-learn random forest) fitted on the surveyed
  gardens, the Step 2 classes as labels, with cross-validation grouped by hamlet so the
  reported precision, recall and F1 are those of a hamlet the model has not seen. Used when
  the survey has enough labels; otherwise the rules decide, and the run says so.
* :func:`survey_agreement`: the survey against the imagery, per parcel, giving the
  field-visit list for Step 5.

:func:`flag_parcels` runs them together; :func:`evaluate` scores a result against the
truth (only the sample commune has one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from ._expr import ExpressionError, compile_expression
from ._toml import tomllib
from .errors import ConfigError, InputError, warn

__all__ = [
    "FLAGS",
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
    "Evaluation",
    "evaluate",
]

#: flag keys, most severe first
FLAGS = ("hoang_hoa", "nghi_van", "binh_thuong", "thieu_du_lieu")
LEVELS = FLAGS[:3]
#: agreement keys between the survey's claim and the imagery
AGREEMENT = (
    "phu_hop",
    "khao_sat_tot_anh_hoang",
    "khao_sat_hoang_anh_tot",
    "cai_tao_chua_thay",
    "khong_du_lieu",
)
TENDED_CLASSES = ("vuon_mau", "dat_chuan", "da_cai_tao", "vuon_tap")
ABANDONED_CLASS = "hoang_hoa"
#: the Step 2 survey's garden classes, best first (the default codebook's codes)
SURVEY_CLASSES = (*TENDED_CLASSES, ABANDONED_CLASS)
# features the classifier uses (descriptive, not bookkeeping)
MODEL_FEATURES = (
    "ndvi_median", "ndvi_p10", "ndvi_p90", "ndvi_amplitude", "ndvi_std", "ndvi_dry_median",
    "ndvi_wet_median", "ndvi_dry_min", "ndvi_trend", "ndvi_resid_std", "ndvi_max_drop",
    "events", "heterogeneity", "evi_median", "ndmi_median", "ndmi_dry_median", "bsi_median",
    "bsi_dry_median", "bsi_spike",
)  # fmt: skip
_NO_DATA_REASON = (
    "Quá ít lần quan sát không mây ({clear_obs}): chưa đủ dữ liệu để đánh giá",
    "Too few clear observations ({clear_obs}) to judge",
)
_OUTSIDE_REASON = (
    "Thửa nằm ngoài vùng ảnh vệ tinh (phủ {coverage_fraction})",
    "Parcel outside the satellite imagery (covered {coverage_fraction})",
)


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
    """Rules in order, and the settings that send parcels to ``thieu_du_lieu``."""

    rules: list[Rule]
    min_clear_obs: int = 6
    min_coverage: float = 0.5
    source: str = "default"

    @property
    def features(self) -> set[str]:
        """Every feature name the rules use."""
        return set().union(*(r.names for r in self.rules)) if self.rules else set()


_RULE_KEYS = {"id", "level", "when", "reason_vi", "reason_en", "score"}
_SETTING_KEYS = {"min_clear_obs", "min_coverage"}


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
        where = "default rules (ntmgis/data/rules_default.toml)"
    elif isinstance(source, dict):
        data, where = source, "rules given as a dict"
    else:
        path = Path(source)
        if not path.is_file():
            raise ConfigError(f"Rules file not found: '{path}'. Check the path in the config.")
        from ._io import read_text

        text, where = read_text(path, what="rules file"), f"rules file '{path}'"
    if text is not None:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                f"Syntax error in {where}: {exc}. Fix that line and run again."
            ) from None
    unknown = set(data) - {"settings", "rules"}
    if unknown:
        raise ConfigError(
            f"Unknown section(s) {sorted(unknown)} in {where}; expected [settings] and [[rules]]."
        )
    settings = data.get("settings", {})
    bad = set(settings) - _SETTING_KEYS
    if bad:
        raise ConfigError(
            f"Unknown setting(s) {sorted(bad)} in {where}; known: {sorted(_SETTING_KEYS)}."
        )
    rules = []
    for k, raw in enumerate(data.get("rules", [])):
        rid = raw.get("id", f"#{k + 1}")
        line = _line_of(text, rid)
        at = f"rule '{rid}' in {where}" + (f" (line {line})" if line else "")
        missing = {"id", "level", "when", "reason_vi", "reason_en"} - set(raw)
        if missing:
            raise ConfigError(f"{at}: missing {sorted(missing)}.")
        extra = set(raw) - _RULE_KEYS
        if extra:
            raise ConfigError(f"{at}: unknown key(s) {sorted(extra)}; known: {sorted(_RULE_KEYS)}.")
        if raw["level"] not in LEVELS:
            raise ConfigError(f"{at}: level '{raw['level']}' is not one of {', '.join(LEVELS)}.")
        try:
            func, names = compile_expression(str(raw["when"]))
        except ExpressionError as exc:
            col = f" at column {exc.column}" if exc.column else ""
            raise ConfigError(f"{at}: condition '{raw['when']}': {exc}{col}.") from None
        unknown_names = names - set(FEATURES)
        if unknown_names:
            raise ConfigError(
                f"{at}: unknown feature(s) {sorted(unknown_names)} in '{raw['when']}'. "
                f"Features: {', '.join(FEATURES)}."
            )
        score = float(raw.get("score", {"hoang_hoa": 0.9, "nghi_van": 0.5}.get(raw["level"], 0.1)))
        if not 0 <= score <= 1:
            raise ConfigError(f"{at}: score {score} must be between 0 and 1.")
        rules.append(
            Rule(rid, raw["level"], str(raw["when"]), raw["reason_vi"], raw["reason_en"], score,
                 names, line, func)
        )  # fmt: skip
    return RuleSet(
        rules,
        min_clear_obs=int(settings.get("min_clear_obs", 6)),
        min_coverage=float(settings.get("min_coverage", 0.5)),
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


def _fmt(value, lang: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "?"
    if isinstance(value, (bool, np.bool_)):
        return ("có" if value else "không") if lang == "vi" else ("yes" if value else "no")
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    text = f"{float(value):.2f}"
    return text.replace(".", ",") if lang == "vi" else text


def _reason(template: str, row: dict, lang: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: _fmt(row.get(m.group(1)), lang), template)


def _data_gate(features: pd.DataFrame, rules: RuleSet) -> tuple[np.ndarray, np.ndarray]:
    """Parcels without enough data: (too few clear obs, outside the imagery)."""
    cover = features.get("coverage_fraction", pd.Series(1.0, index=features.index))
    outside = cover.fillna(0).to_numpy() < rules.min_coverage
    few = features["clear_obs"].fillna(0).to_numpy() < rules.min_clear_obs
    return few & ~outside, outside


def apply_rules(features: pd.DataFrame, rules=None) -> pd.DataFrame:
    """Flag every parcel by the first rule that holds.

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
        rule's id), ``flag_reasons`` (Vietnamese, every rule that holds, the deciding one
        first, joined by "; ") and ``flag_reasons_en``.
    """
    rules = load_rules(rules)
    missing = rules.features - set(features.columns)
    if missing:
        raise InputError(
            f"The features table lacks {sorted(missing)}, used by {rules.source}. "
            "Compute features with ntmgis.features.parcel_features."
        )
    n = len(features)
    env = {c: features[c].to_numpy(dtype=float, na_value=np.nan) for c in rules.features}
    flag = np.full(n, "binh_thuong", dtype=object)
    score = np.full(n, 0.1)
    rule_id = np.full(n, "", dtype=object)
    decided = np.zeros(n, bool)
    held = []
    for rule in rules.rules:
        hit = rule.holds(env)
        held.append(hit)
        new = hit & ~decided
        flag[new], score[new], rule_id[new] = rule.level, rule.score, rule.id
        decided |= hit
    few, outside = _data_gate(features, rules)
    records = features.to_dict("records")
    vi, en = [], []
    for i, row in enumerate(records):
        if outside[i] or few[i]:
            tmpl = _OUTSIDE_REASON if outside[i] else _NO_DATA_REASON
            vi.append(_reason(tmpl[0], row, "vi"))
            en.append(_reason(tmpl[1], row, "en"))
            continue
        hits = [r for r, h in zip(rules.rules, held) if h[i]]
        hits.sort(key=lambda r: r.id != rule_id[i])
        vi.append("; ".join(_reason(r.reason_vi, row, "vi") for r in hits))
        en.append("; ".join(_reason(r.reason_en, row, "en") for r in hits))
    gate = few | outside
    flag[gate], score[gate], rule_id[gate] = "thieu_du_lieu", np.nan, ""
    return pd.DataFrame(
        {"flag": flag, "flag_score": score, "flag_rule": rule_id, "flag_reasons": vi,
         "flag_reasons_en": en},
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
        Probability from which a garden is flagged ``hoang_hoa`` (calibrated mode).
    model : sklearn estimator
        The random forest fitted on the surveyed gardens (``features`` are its inputs).
    report : pandas.DataFrame
        Per class precision, recall, F1 and support of the hamlet-grouped cross-validation,
        against the survey labels.
    cv_proba, labels : pandas.Series
        Per surveyed garden, the cross-validated probability of "abandoned" and the
        survey's label (1 = hoang_hoa): the numbers behind ``report``.
    importances : pandas.Series
        Feature importances of the fitted forest.
    dropped_labels : int
        Survey labels the imagery contradicted with confidence, left out of the final fit.
    """

    mode: str  # "calibrated" or "rules"
    reason: str
    threshold: float | None = None
    model: object = None
    features: tuple = ()
    report: pd.DataFrame | None = None  # per class: precision, recall, f1, support
    n_labels: int = 0
    n_groups: int = 0
    dropped_labels: int = 0
    importances: pd.Series | None = None
    cv_proba: pd.Series | None = None  # cross-validated probability per surveyed garden
    labels: pd.Series | None = None  # 1 = surveyed abandoned, per surveyed garden

    def summary(self) -> str:
        """A few readable lines: mode, labels, and the cross-validated scores."""
        lines = [f"Flag mode: {self.mode} ({self.reason})"]
        if self.report is not None:
            lines.append(
                f"Cross-validation grouped by hamlet ({self.n_groups} hamlets, "
                f"{self.n_labels} surveyed gardens, threshold {self.threshold:.2f}):"
            )
            lines.append(self.report.round(3).to_string())
        return "\n".join(lines)


def _matrix(features: pd.DataFrame, columns) -> np.ndarray:
    x = features.reindex(columns=list(columns)).astype(float)
    return x.fillna(x.median()).fillna(0.0).to_numpy()


def calibrate(
    features: pd.DataFrame,
    labels: pd.Series,
    *,
    groups: pd.Series,
    min_labels: int = 30,
    beta: float = 2.0,
    random_state: int = 0,
) -> Calibration:
    """Fit a classifier on surveyed gardens, with cross-validation grouped by hamlet.

    Parameters
    ----------
    features : pandas.DataFrame
        Per-parcel features of the parcels with enough clear observations.
    labels : pandas.Series
        Survey class key per parcel (``hoang_hoa`` is the positive class; ``vuon_mau``,
        ``dat_chuan``, ``da_cai_tao``, ``vuon_tap`` negative); NaN = not surveyed.
    groups : pandas.Series
        Hamlet per parcel; folds never split a hamlet.
    min_labels : int, default 30
        Fewest surveyed gardens needed in each class (and two hamlets) to calibrate.
    beta : float, default 2
        The threshold maximises the F-beta score of the cross-validated predictions:
        beta 2 weighs recall twice, since missing an abandoned garden costs more than one
        extra field visit.
    random_state : int, default 0
        Seed of the random forest.

    Returns
    -------
    Calibration
        ``mode`` "calibrated" with the fitted model, threshold and the per-class
        precision/recall/F1 of the grouped cross-validation; or ``mode`` "rules" with the
        reason (too few labels).
    """
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GroupKFold, cross_val_predict

    known = labels.isin((*TENDED_CLASSES, ABANDONED_CLASS))
    y = (labels[known] == ABANDONED_CLASS).astype(int)
    g = groups[known].astype(str)
    n_pos, n_neg, n_groups = int(y.sum()), int((1 - y).sum()), g.nunique()
    if n_pos < min_labels or n_neg < min_labels or n_groups < 2:
        return Calibration(
            "rules",
            f"too few survey labels to calibrate: {n_pos} abandoned and {n_neg} other "
            f"surveyed gardens in {n_groups} hamlet(s); need {min_labels} of each in two "
            "hamlets or more",
            n_labels=int(known.sum()),
            n_groups=n_groups,
        )
    columns = [c for c in MODEL_FEATURES if c in features and features[c].notna().any()]
    x = _matrix(features.loc[known], columns)

    def forest():
        return RandomForestClassifier(
            n_estimators=300, min_samples_leaf=3, max_features=0.5,
            class_weight="balanced_subsample", n_jobs=1, random_state=random_state,
        )  # fmt: skip

    cv = GroupKFold(n_splits=min(5, n_groups))
    p = cross_val_predict(forest(), x, y, groups=g, cv=cv, method="predict_proba")[:, 1]
    # the survey is a claim: labels the imagery contradicts with confidence are left out
    # of the final fit (they are reported, and the agreement column lists them)
    keep = ~(((y == 1) & (p < 0.15)) | ((y == 0) & (p > 0.85))).to_numpy()
    thresholds = np.round(np.arange(0.2, 0.71, 0.025), 3)
    fbeta = [_fbeta(y.to_numpy()[keep], p[keep] >= t, beta) for t in thresholds]
    threshold = float(thresholds[int(np.argmax(fbeta))])
    report = _class_report(y.to_numpy(), p >= threshold)
    model = forest().fit(x[keep], y.to_numpy()[keep])
    importances = pd.Series(model.feature_importances_, index=columns).sort_values(ascending=False)
    return Calibration(
        "calibrated",
        f"random forest on {int(known.sum())} surveyed gardens",
        threshold=threshold,
        model=model,
        features=tuple(columns),
        report=report,
        n_labels=int(known.sum()),
        n_groups=n_groups,
        dropped_labels=int((~keep).sum()),
        importances=importances,
        cv_proba=pd.Series(p, index=y.index, name="cv_proba"),
        labels=y.rename("label"),
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


# --------------------------------------------------------------------------- together
def flag_parcels(
    features: pd.DataFrame,
    *,
    survey_class: pd.Series | None = None,
    groups: pd.Series | None = None,
    is_garden: pd.Series | None = None,
    rules=None,
    calibration: str = "auto",
    min_labels: int = 30,
) -> tuple[pd.DataFrame, Calibration]:
    """Flag every garden parcel; calibrate on the survey when it has enough labels.

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
    rules : path, dict or RuleSet, optional
        Rules (default: the packaged defaults). They always run: they give the reasons,
        and they decide when there is no calibration.
    calibration : {"auto", "rules"}
        ``"auto"`` calibrates when the survey has enough labels; ``"rules"`` never does.
    min_labels : int, default 30
        See :func:`calibrate`.

    Returns
    -------
    (pandas.DataFrame, Calibration)
        Columns ``flag``, ``flag_score`` (0..1), ``flag_rule``, ``flag_reasons``,
        ``flag_reasons_en``, ``flag_mode``; and how the flags were decided.
    """
    if calibration not in ("auto", "rules"):
        raise InputError(f"calibration must be 'auto' or 'rules', not '{calibration}'.")
    rules = load_rules(rules)
    out = apply_rules(features, rules)
    garden = (
        pd.Series(True, index=features.index)
        if is_garden is None
        else is_garden.reindex(features.index).fillna(False).astype(bool)
    )
    enough = garden & (out["flag"] != "thieu_du_lieu")
    if calibration == "rules" or survey_class is None:
        cal = Calibration("rules", "calibration not asked for" if calibration == "rules"
                          else "no survey given")  # fmt: skip
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
            warn(f"Flags from the rules only: {cal.reason}.")
    if cal.mode == "calibrated":
        x = _matrix(features[enough], cal.features)
        p = cal.model.predict_proba(x)[:, 1]
        idx = features.index[enough]
        ruled = out.loc[idx, "flag"].to_numpy()
        flag = np.where(p >= cal.threshold, "hoang_hoa",
                        np.where((p >= cal.threshold / 2) | (ruled == "hoang_hoa"),
                                 "nghi_van", "binh_thuong"))  # fmt: skip
        # a clearing followed by regrowth is a renovation: no longer abandoned, but worth
        # a look when the model still leans that way
        if "renovation_seen" in features:
            renovated = features.loc[idx, "renovation_seen"].fillna(False).to_numpy(bool)
            flag = np.where(renovated & (flag == "hoang_hoa"), "nghi_van", flag)
        vi = [f"Mô hình hiệu chỉnh theo khảo sát: xác suất bỏ hoang {_fmt(v, 'vi')}" for v in p]
        en = [f"Model calibrated on the survey: probability abandoned {_fmt(v, 'en')}" for v in p]
        old_vi, old_en = out.loc[idx, "flag_reasons"], out.loc[idx, "flag_reasons_en"]
        out.loc[idx, "flag"] = flag
        out.loc[idx, "flag_score"] = np.round(p, 3)
        out.loc[idx, "flag_rule"] = "model"
        # the rules' reasons first (they say what was seen), the model's probability last
        out.loc[idx, "flag_reasons"] = [f"{b}; {a}" if b else a for a, b in zip(vi, old_vi)]
        out.loc[idx, "flag_reasons_en"] = [f"{b}; {a}" if b else a for a, b in zip(en, old_en)]
    out["flag_mode"] = cal.mode
    for col in ("flag", "flag_score", "flag_rule", "flag_reasons", "flag_reasons_en"):
        out.loc[~garden, col] = None
    out.loc[~garden, "flag_mode"] = None
    return out, cal


def survey_agreement(survey_class: pd.Series, flags: pd.DataFrame, features=None) -> pd.DataFrame:
    """Compare each garden's survey class with its flag: the field-visit list.

    Parameters
    ----------
    survey_class : pandas.Series
        Survey class key per parcel (NaN where not surveyed).
    flags : pandas.DataFrame
        Output of :func:`flag_parcels` (column ``flag``).
    features : pandas.DataFrame, optional
        Features; ``renovation_seen`` lets a reported renovation count as confirmed even
        when the garden is young and low.

    Returns
    -------
    pandas.DataFrame
        ``agreement`` (one of :data:`AGREEMENT`; NaN for non-gardens) and ``visit``
        (True when the survey and imagery disagree or the flag is ``nghi_van``).
    """
    cls = survey_class.reindex(flags.index)
    flag = flags["flag"]
    renovated = (
        features["renovation_seen"].reindex(flags.index).fillna(False).astype(bool)
        if features is not None and "renovation_seen" in features
        else pd.Series(False, index=flags.index)
    )
    agree = pd.Series("phu_hop", index=flags.index, dtype=object)
    no_data = cls.isna() | flag.isin(["thieu_du_lieu"]) | flag.isna()
    tended = cls.isin(TENDED_CLASSES)
    agree[tended & (flag == "hoang_hoa")] = "khao_sat_tot_anh_hoang"
    agree[(cls == "da_cai_tao") & flag.isin(["hoang_hoa", "nghi_van"]) & ~renovated] = (
        "cai_tao_chua_thay"
    )
    agree[(cls == ABANDONED_CLASS) & (flag == "binh_thuong")] = "khao_sat_hoang_anh_tot"
    agree[no_data] = "khong_du_lieu"
    agree[flag.isna() & cls.isna()] = None
    visit = agree.isin(AGREEMENT[1:4]) | (flag == "nghi_van")
    return pd.DataFrame({"agreement": agree, "visit": visit.astype(bool)})


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

    def summary(self) -> str:
        """Readable lines: precision, recall, F1 and the confusion matrix."""
        return (
            f"Abandoned gardens (vườn hoang hóa) vs truth, {self.n} gardens: "
            f"precision {self.precision:.3f}, recall {self.recall:.3f}, F1 {self.f1:.3f}\n"
            f"{self.confusion.to_string()}"
        )


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
            raise InputError(f"The {name} table lacks the key column(s) {sorted(missing)}.")
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
    by_condition = None
    if "condition" in merged:
        by_condition = pd.crosstab(merged["condition"], flag.rename("flag"))
    return Evaluation(confusion, precision, recall, f1, len(merged), by_condition)
