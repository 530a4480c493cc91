"""Step 4, the renovation plan, and Step 6, the commendations.

Step 4 of the commune's plan launches the garden-renovation movement (phát động phong trào
cải tạo vườn) with "special attention to abandoned gardens". :func:`renovation_plan`
lists, per hamlet, the households to renovate first: abandoned gardens (the survey or the
imagery says so; both agreeing first), then mixed, low-value gardens (vườn tạp), larger
gardens first, each with its area, owner, needs (Step 3) and the imagery evidence. The
plan is a printable sheet (:func:`plan_report_table`) and a GeoPackage layer
``renovation_plan`` (:func:`ntmgis.plan_outputs.write_plan`) that the follow-up campaign
is measured against, planned against done (:func:`compare_plan`).

Step 6 rewards hamlets that exceed their targets and "finds outstanding examples"
(phát hiện những tấm gương tiêu biểu). With a baseline campaign, :func:`commendations`
proposes the households that turned an abandoned garden into a tended or model one
(confirmed by the imagery), the new model gardens (the imagery sees a tended garden) and
the hamlets that exceeded every target: the sheet "Đề nghị khen thưởng", with the
evidence per household, for the review meeting.

Keys (labels in :mod:`ntmgis.palette`): ``plan_priority`` ∈ {``hoang_hoa``,
``vuon_tap``}; ``plan_status`` ∈ {``da_cai_tao``, ``bao_cao_chua_thay``,
``chua_thuc_hien``, ``khong_con_thua``}; ``commendation`` ∈ {``cai_tao_hoang_hoa``,
``vuon_mau_moi``, ``thon_vuot_chi_tieu``}.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from . import i18n
from .errors import InputError, ProgressWarning, warn

__all__ = [
    "PLAN_LAYER",
    "renovation_plan",
    "plan_report_table",
    "compare_plan",
    "plan_progress_table",
    "commendations",
    "commendation_table",
    "read_plan",
    "has_plan",
]

logger = logging.getLogger(__name__)

# what people read from this module, Vietnamese first (ntmgis.i18n's catalogue)
_MESSAGES = {
    "error.plan.no_garden_in_hamlets": (
        "Không có vườn nào cần cải tạo ở (các) thôn {hamlets}: hãy kiểm tra tên thôn (các "
        "thôn có trong kết quả: {there}).",
        "No garden to renovate in hamlet(s) {hamlets}: check the names (hamlets there: {there}).",
    ),
    "error.plan.no_plan_layer": (
        "Kết quả '{source}' không có lớp kế hoạch cải tạo '{layer}': hãy chọn tệp kế hoạch "
        "do lệnh lập kế hoạch ghi ra.",
        "The result '{source}' holds no '{layer}' layer: choose the plan file the plan "
        "command wrote.",
    ),
    "warning.plan.planned_parcel_missing": (
        "{count} thửa trong kế hoạch không có ở đợt theo dõi (tách, hợp hoặc đổi số thửa): "
        "{parcels}; ghi là 'không còn thửa'.",
        "{count} planned parcel(s) are not in the follow-up campaign (split, merged or "
        "renumbered): {parcels}; their status is 'khong_con_thua'.",
    ),
}
i18n.register_all(_MESSAGES)


def _msg(key: str, /, **fields) -> str:
    return i18n.message(key, **fields)


PLAN_LAYER = "renovation_plan"
# survey classes that count as a renovated (tended) garden: vườn tạp is still to renovate
RENOVATED_CLASSES = ("vuon_mau", "dat_chuan", "da_cai_tao")
_EVIDENCE_ORDER = {"ca_hai": 0, "khao_sat": 1, "anh": 2}
_EVIDENCE_VI = {
    "ca_hai": "khảo sát và ảnh vệ tinh cùng thấy hoang hóa",
    "khao_sat": "khảo sát ghi hoang hóa, ảnh chưa thấy: kiểm tra",
    "anh": "ảnh vệ tinh thấy hoang hóa, khảo sát ghi khác: kiểm tra",
    "vuon_tap": "khảo sát ghi vườn tạp",
}


def _label(theme: str, key, lang: str = "vi") -> str:
    from .palette import label

    if not isinstance(key, str):
        return ""
    try:
        return label(theme, key, lang)
    except Exception:  # a key outside the theme: shown as it is
        return key


def _num(value, digits: int = 2) -> str:
    """A number the Vietnamese way (decimal comma), or "?"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    return f"{float(value):.{digits}f}".replace(".", ",")


def _result(result, what="result"):
    from .progress import read_result

    parcels, hamlets = read_result(result, what=what)
    if "place_kind" in parcels:
        from .places import is_hamlet_kind

        parcels = parcels[parcels["place_kind"].map(is_hamlet_kind)]
    if "household" not in parcels and "household_id" in parcels:
        parcels = parcels.assign(household=parcels["household_id"])
    return parcels, hamlets


def _evidence(row) -> str:
    """The imagery evidence of one parcel, in a sentence."""
    parts = []
    flag = row.get("flag")
    if isinstance(flag, str):
        score = row.get("flag_score")
        text = f"Ảnh: {_label('flag', flag).lower()}"
        if score is not None and pd.notna(score):
            text += f" (điểm {_num(score)})"
        parts.append(text)
    if pd.notna(row.get("ndvi_median", np.nan)):
        parts.append(f"NDVI trung vị {_num(row['ndvi_median'])}")
    if pd.notna(row.get("clear_obs", np.nan)):
        parts.append(f"{int(row['clear_obs'])} ảnh không mây")
    reasons = row.get("flag_reasons")
    if isinstance(reasons, str) and reasons.strip():
        parts.append(reasons.split(";")[0].strip())
    return "; ".join(parts)


_EVIDENCE_COLUMNS = ("flag", "flag_score", "ndvi_median", "clear_obs", "flag_reasons")


def _evidence_rows(rows) -> list[dict]:
    """The columns :func:`_evidence` reads, one dict per row (``iterrows`` is slow)."""
    cols = [c for c in _EVIDENCE_COLUMNS if c in rows]
    if not cols:
        return [{} for _ in range(len(rows))]
    return [dict(zip(cols, v)) for v in zip(*(rows[c].tolist() for c in cols))]


def renovation_plan(result, *, hamlets=None, codebook=None, include_suspected: bool = True):
    """The Step 4 renovation plan: per hamlet, the households to renovate first.

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame or DataFrame
        A result GeoPackage of ``ntmgis run`` (or its parcels table).
    hamlets : sequence of str, optional
        Only these hamlets (names as the result writes them; spellings are matched).
    codebook : str or os.PathLike, optional
        A codebook with its own ``[[needs]]`` (for the needs column).
    include_suspected : bool, default True
        Also plan the gardens the imagery finds abandoned although the survey says
        otherwise (evidence ``anh``): they are checked on the visit before the work.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
        One row per planned garden (a GeoDataFrame when the result has geometry), in
        plan order: hamlet, then ``plan_priority`` (``hoang_hoa`` first, then
        ``vuon_tap``), then the evidence (``ca_hai``: survey and imagery agree;
        ``khao_sat``; ``anh``), then the area, largest first. Columns: ``hamlet``,
        ``plan_order`` (1, 2... within the hamlet), ``plan_priority``, ``evidence``,
        ``parcel_id``, ``sheet``, ``parcel_no``, ``household``, ``owner``, ``area_m2``,
        ``survey_class``, ``flag``, ``flag_score``, ``needs`` (the codebook's labels),
        ``evidence_text``, ``plan_status`` (``ke_hoach``: planned).
    """
    from .needs import load_needs, need_label, parse_needs
    from .places import hamlet_key

    parcels, _ = _result(result)
    garden = parcels["is_garden"].fillna(False).astype(bool)
    survey = parcels["survey_class"]
    flag = parcels["flag"]
    abandoned_survey = survey.eq("hoang_hoa")
    abandoned_image = flag.eq("hoang_hoa")
    evidence = pd.Series(None, index=parcels.index, dtype=object)
    evidence[abandoned_survey & abandoned_image] = "ca_hai"
    evidence[abandoned_survey & ~abandoned_image] = "khao_sat"
    if include_suspected:
        evidence[~abandoned_survey & abandoned_image] = "anh"
    mixed = survey.eq("vuon_tap") & evidence.isna()
    evidence[mixed] = "vuon_tap"
    chosen = garden & evidence.notna()
    if hamlets is not None:
        wanted = {hamlet_key(h) for h in ([hamlets] if isinstance(hamlets, str) else hamlets)}
        chosen &= parcels["hamlet"].map(hamlet_key).isin(wanted)
        if not chosen.any():
            there = ", ".join(map(str, parcels["hamlet"].dropna().unique()))
            raise InputError(_msg("error.plan.no_garden_in_hamlets", there=there,
                                  hamlets=", ".join(map(str, hamlets))))  # fmt: skip
    rows = parcels[chosen].copy()
    rows["evidence"] = evidence[chosen]
    rows["plan_priority"] = np.where(rows["evidence"].eq("vuon_tap"), "vuon_tap", "hoang_hoa")
    needs = load_needs(codebook)
    source = next((c for c in ("support_needs", "needs") if c in rows), None)
    texts, seen = [], {}  # a commune's needs cells repeat: each distinct one parsed once
    for cell in rows[source] if source else [None] * len(rows):
        key = (type(cell), cell)
        if key not in seen:
            codes, free = parse_needs(cell, needs)
            labels = [need_label(c, codebook=codebook) for c in codes if c != "khac"]
            seen[key] = ", ".join(labels + free) or None
        texts.append(seen[key])
    rows["needs"] = pd.Series(texts, index=rows.index, dtype=object)
    rows["evidence_text"] = [
        f"{_EVIDENCE_VI[e]}. {_evidence(r)}".strip(". ") for e, r in
        zip(rows["evidence"], _evidence_rows(rows))
    ]  # fmt: skip
    rows["_p"] = rows["plan_priority"].map({"hoang_hoa": 0, "vuon_tap": 1})
    rows["_e"] = rows["evidence"].map(_EVIDENCE_ORDER).fillna(3)
    rows["_a"] = -pd.to_numeric(rows["area_m2"], errors="coerce").fillna(0)
    rows["_h"] = rows["hamlet"].astype(str)
    rows = rows.sort_values(["_h", "_p", "_e", "_a", "parcel_id"], kind="stable")
    rows["plan_order"] = rows.groupby("_h").cumcount() + 1
    rows["plan_status"] = "ke_hoach"
    columns = ["hamlet", "plan_order", "plan_priority", "evidence", "parcel_id", "sheet",
               "parcel_no", "household", "owner", "area_m2", "survey_class", "flag",
               "flag_score", "needs", "evidence_text", "plan_status"]  # fmt: skip
    out = rows.reindex(columns=columns + (["geometry"] if "geometry" in rows else []))
    for column in ("hamlet", "household", "owner", "survey_class", "flag", "needs"):
        out[column] = out[column].astype(object).where(out[column].notna(), None)
    out = out.reset_index(drop=True)
    if "geometry" in out:
        import geopandas as gpd

        out = gpd.GeoDataFrame(out, geometry="geometry", crs=getattr(parcels, "crs", None))
    out.attrs["gardens"] = int(garden.sum())
    return out


def plan_report_table(plan) -> pd.DataFrame:
    """The plan as a printable sheet "Kế hoạch cải tạo vườn" (Vietnamese headers).

    Parameters
    ----------
    plan : pandas.DataFrame
        :func:`renovation_plan`'s output (or a ``renovation_plan`` layer read back).

    Returns
    -------
    pandas.DataFrame
        STT, Thôn, Thứ tự trong thôn, Ưu tiên, Mã hộ, Chủ hộ, Số tờ, Số thửa, Diện tích
        (m²), Phân loại khảo sát, Kết quả ảnh vệ tinh, Nhu cầu hỗ trợ, Căn cứ (evidence),
        Hộ cam kết (ký) — an empty column for the household's signature at the meeting.
    """
    plan = pd.DataFrame(plan).drop(columns="geometry", errors="ignore")
    table = pd.DataFrame(
        {
            "STT": range(1, len(plan) + 1),
            "Thôn": plan["hamlet"].values,
            "Thứ tự trong thôn": plan["plan_order"].values,
            "Ưu tiên": [_label("plan_priority", k) for k in plan["plan_priority"]],
            "Mã hộ": plan["household"].values,
            "Chủ hộ": plan["owner"].values,
            "Số tờ": plan["sheet"].values,
            "Số thửa": plan["parcel_no"].values,
            "Diện tích (m²)": plan["area_m2"].values,
            "Phân loại khảo sát": [_label("survey_class", k) for k in plan["survey_class"]],
            "Kết quả ảnh vệ tinh": [_label("flag", k) for k in plan["flag"]],
            "Nhu cầu hỗ trợ": plan["needs"].values,
            "Căn cứ": plan["evidence_text"].values,
            "Hộ cam kết (ký)": [""] * len(plan),
        }
    )
    return table


def read_plan(source):
    """Read a ``renovation_plan`` layer (a plan GeoPackage, or a run's result with one).

    Parameters
    ----------
    source : str, os.PathLike or DataFrame
        A GeoPackage holding the layer ``renovation_plan``, or the plan itself.

    Returns
    -------
    geopandas.GeoDataFrame or pandas.DataFrame
    """
    from .result import Result

    if isinstance(source, pd.DataFrame):
        return source.copy()
    if isinstance(source, Result):
        if PLAN_LAYER not in source.layers:
            raise InputError(_msg("error.plan.no_plan_layer", source=source.source,
                                  layer=PLAN_LAYER))  # fmt: skip
        return source.layers[PLAN_LAYER].copy()
    from ._io import read_vector

    return read_vector(source, layer=PLAN_LAYER, what="renovation plan")


def has_plan(source) -> bool:
    """Whether a result (a GeoPackage or a :class:`ntmgis.result.Result`) holds a plan."""
    import pyogrio

    from .result import Result

    if isinstance(source, Result):
        return PLAN_LAYER in source.layers
    if isinstance(source, pd.DataFrame) or source is None:
        return False
    try:
        return PLAN_LAYER in [n for n, _ in pyogrio.list_layers(source)]
    except Exception:  # not a GeoPackage: no plan in it
        return False


def compare_plan(plan, followup) -> pd.DataFrame:
    """Planned against done: each planned garden in the follow-up campaign.

    Parameters
    ----------
    plan : str, os.PathLike or DataFrame
        The baseline's plan (:func:`renovation_plan`, or a GeoPackage with a
        ``renovation_plan`` layer: the plan file or the baseline run's result).
    followup : str, os.PathLike, GeoDataFrame or DataFrame
        The follow-up campaign's result.

    Returns
    -------
    pandas.DataFrame
        The plan's rows with ``survey_class_after``, ``flag_after`` and ``plan_status``:
        ``da_cai_tao`` (the survey reports a tended or model garden and the imagery
        sees a tended one), ``bao_cao_chua_thay`` (reported, the imagery does not see
        it: visit), ``chua_thuc_hien`` (not done), ``khong_con_thua`` (the parcel is not
        in the follow-up: split or renumbered). ``attrs["unplanned_renovated"]``: the
        parcels renovated (as for ``da_cai_tao``) that were not in the plan.
    """
    plan = pd.DataFrame(read_plan(plan)).drop(columns="geometry", errors="ignore")
    after, _ = _result(followup, what="follow-up result")
    after = pd.DataFrame(after).drop(columns="geometry", errors="ignore")
    by_id = after.drop_duplicates("parcel_id").set_index("parcel_id")
    present = plan["parcel_id"].isin(by_id.index)
    sa = plan["parcel_id"].map(by_id["survey_class"])
    fa = plan["parcel_id"].map(by_id["flag"])
    done = sa.isin(RENOVATED_CLASSES)
    status = np.select(
        [~present, done & fa.eq("binh_thuong"), done],
        ["khong_con_thua", "da_cai_tao", "bao_cao_chua_thay"],
        default="chua_thuc_hien",
    )
    out = plan.drop(columns=["plan_status"], errors="ignore").copy()
    out["survey_class_after"] = sa.astype(object).where(sa.notna(), None)
    out["flag_after"] = fa.astype(object).where(fa.notna(), None)
    out["plan_status"] = pd.Series(status, index=out.index, dtype=object)
    renovated = after["survey_class"].isin(RENOVATED_CLASSES) & after["flag"].eq("binh_thuong")
    unplanned = after[renovated & ~after["parcel_id"].isin(plan["parcel_id"])]
    out.attrs["unplanned_renovated"] = unplanned["parcel_id"].tolist()
    gone = int((~present).sum())
    if gone:
        shown = ", ".join(plan.loc[~present, "parcel_id"].astype(str)[:5])
        warn(_msg("warning.plan.planned_parcel_missing", count=gone, parcels=shown),
             ProgressWarning, where="renovation_plan",
             what="warning.plan.planned_parcel_missing")  # fmt: skip
    return out


def plan_progress_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """Per hamlet: gardens planned, renovated, reported only, not done; % done.

    Parameters
    ----------
    comparison : pandas.DataFrame
        :func:`compare_plan`'s output.

    Returns
    -------
    pandas.DataFrame
        Vietnamese headers; the commune's row "Toàn xã" last.
    """
    c = comparison
    keys = ("da_cai_tao", "bao_cao_chua_thay", "chua_thuc_hien", "khong_con_thua")
    rows = []
    groups = [(h, g) for h, g in c.groupby("hamlet", sort=False)] + [("Toàn xã", c)]
    for hamlet, g in groups:
        row = {"Thôn": hamlet, "Số vườn trong kế hoạch": len(g)}
        for k in keys:
            row[_label("plan_status", k)] = int(g["plan_status"].eq(k).sum())
        row["Tỷ lệ hoàn thành (%)"] = round(100 * row[_label("plan_status", "da_cai_tao")]
                                            / len(g), 1) if len(g) else None  # fmt: skip
        rows.append(row)
    table = pd.DataFrame(rows)
    table.attrs["unplanned_renovated"] = c.attrs.get("unplanned_renovated", [])
    return table


def _ids(frame):
    return frame.drop_duplicates("parcel_id").set_index("parcel_id")


def commendations(baseline, followup, *, progress_table=None) -> pd.DataFrame:
    """Step 6: households and hamlets to propose for a commendation, with the evidence.

    Parameters
    ----------
    baseline : str, os.PathLike, GeoDataFrame or DataFrame
        The earlier campaign's result.
    followup : str, os.PathLike, GeoDataFrame or DataFrame
        The later campaign's result.
    progress_table : pandas.DataFrame, optional
        :func:`ntmgis.progress.hamlet_progress`'s table for the follow-up: the hamlets
        whose status is ``vuot`` (exceeded every target) are proposed too.

    Returns
    -------
    pandas.DataFrame
        One row per household (its parcels joined) and one per hamlet: ``kind``
        (``ho`` household, ``thon`` hamlet), ``hamlet``, ``household``, ``owner``,
        ``parcels``, ``area_m2``, ``commendation`` (keys of the palette's
        ``commendation`` theme, joined by ","), ``evidence``. A household is proposed
        for ``cai_tao_hoang_hoa`` when its garden was abandoned at baseline (the survey
        said so), the follow-up survey reports a tended or model garden and the
        imagery sees a tended one (``binh_thuong``); for ``vuon_mau_moi`` when its
        garden is a model garden now and was not before, and the imagery sees it tended.
    """
    from .progress import compare_campaigns

    before, _ = _result(baseline, what="baseline result")
    after, _ = _result(followup, what="follow-up result")
    comparison = compare_campaigns(before, after)
    comparison = pd.DataFrame(comparison).drop(columns="geometry", errors="ignore")
    comparison = comparison[comparison["presence"].eq("ca_hai_dot")]
    b, a = _ids(pd.DataFrame(before)), _ids(pd.DataFrame(after))
    sb, sa = comparison["survey_class_before"], comparison["survey_class_after"]
    fa = comparison["flag_after"]
    renovated = sb.eq("hoang_hoa") & sa.isin(RENOVATED_CLASSES) & fa.eq("binh_thuong")
    model = sa.eq("vuon_mau") & ~sb.eq("vuon_mau") & fa.eq("binh_thuong")
    chosen = comparison[renovated | model].copy()
    chosen["_kinds"] = [
        ",".join(k for k, hit in (("cai_tao_hoang_hoa", r), ("vuon_mau_moi", m)) if hit)
        for r, m in zip(renovated[renovated | model], model[renovated | model])
    ]
    year_b = _year(baseline, before)
    year_a = _year(followup, after)

    def evidence(row):
        pid = row["parcel_id"]
        before_class = _label("survey_class", row["survey_class_before"]).lower() or "không có"
        parts = [
            f"Thửa {pid}: khảo sát {year_b} {before_class}"
            f" → {year_a} {_label('survey_class', row['survey_class_after']).lower()}",
            f"ảnh {year_b} {_label('flag', row['flag_before']).lower() or 'không có'}"
            f" (NDVI {_num(b['ndvi_median'].get(pid) if 'ndvi_median' in b else None)})"
            f" → {year_a} {_label('flag', row['flag_after']).lower()}"
            f" (NDVI {_num(a['ndvi_median'].get(pid) if 'ndvi_median' in a else None)})",
        ]
        if "renovation_date" in a and isinstance(a["renovation_date"].get(pid), str):
            parts.append(f"dấu hiệu cải tạo trên ảnh từ {a['renovation_date'].get(pid)}")
        return "; ".join(parts)

    chosen["_evidence"] = [evidence(r) for _, r in chosen.iterrows()]
    chosen["_household"] = chosen["household"].where(chosen["household"].notna(),
                                                     chosen["parcel_id"])  # fmt: skip
    rows = []
    for (hamlet, household), g in chosen.groupby(["hamlet", "_household"], sort=False,
                                                 dropna=False):  # fmt: skip
        kinds = sorted({k for ks in g["_kinds"] for k in ks.split(",")},
                       key=["cai_tao_hoang_hoa", "vuon_mau_moi"].index)  # fmt: skip
        rows.append(
            {
                "kind": "ho",
                "hamlet": hamlet,
                "household": household,
                "owner": g["owner"].dropna().iloc[0] if g["owner"].notna().any() else None,
                "parcels": ", ".join(g["parcel_id"].astype(str)),
                "area_m2": round(float(pd.to_numeric(g["area_m2"]).sum()), 1),
                "commendation": ",".join(kinds),
                "evidence": " | ".join(g["_evidence"]),
            }
        )
    if progress_table is not None and "status" in progress_table:
        from .progress import TARGETS

        for _, h in progress_table[progress_table["status"].eq("vuot")].iterrows():
            parts = []
            for key, target in TARGETS.items():
                if f"progress_{key}" in h and pd.notna(h[f"progress_{key}"]):
                    got, goal = _num(h[f"achieved_{key}"], 1), _num(h[f"target_{key}"], 1)
                    parts.append(
                        f"{target.label_vi}: {got}/{goal} ({_num(h[f'progress_{key}'], 0)}%)"
                    )
            rows.append(
                {
                    "kind": "thon",
                    "hamlet": h["hamlet"],
                    "household": None,
                    "owner": None,
                    "parcels": None,
                    "area_m2": None,
                    "commendation": "thon_vuot_chi_tieu",
                    "evidence": "; ".join(parts) + f"; điểm tiến độ {_num(h['score'], 1)}%",
                }
            )
    columns = ["kind", "hamlet", "household", "owner", "parcels", "area_m2", "commendation",
               "evidence"]  # fmt: skip
    out = pd.DataFrame(rows, columns=columns)
    out["_k"] = out["kind"].map({"thon": 0, "ho": 1})
    out = out.sort_values(["_k", "hamlet"], kind="stable").drop(columns="_k")
    return out.reset_index(drop=True)


def _year(source, parcels) -> str:
    """The campaign's year from the result's run_metadata (or its survey dates)."""
    from .result import as_result

    if not isinstance(source, pd.DataFrame):
        year = str(as_result(source).metadata.get("year", "")).strip()
        if year and year != "nan":
            return year
    if "survey_date" in parcels:
        years = pd.to_datetime(parcels["survey_date"], errors="coerce").dt.year.dropna()
        if len(years):
            return str(int(years.mode().iloc[0]))
    return "?"


def commendation_table(table: pd.DataFrame) -> pd.DataFrame:
    """The sheet "Đề nghị khen thưởng": Vietnamese headers, hamlets first, then households.

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`commendations`' output.

    Returns
    -------
    pandas.DataFrame
    """
    return pd.DataFrame(
        {
            "STT": range(1, len(table) + 1),
            "Đối tượng": table["kind"].map({"ho": "Hộ gia đình", "thon": "Thôn"}).values,
            "Thôn": table["hamlet"].values,
            "Mã hộ": table["household"].values,
            "Chủ hộ": table["owner"].values,
            "Thửa đất": table["parcels"].values,
            "Diện tích (m²)": table["area_m2"].values,
            "Thành tích": [
                "; ".join(_label("commendation", k) for k in str(v).split(","))
                for v in table["commendation"]
            ],  # fmt: skip
            "Căn cứ (khảo sát và ảnh vệ tinh)": table["evidence"].values,
            "Ý kiến hội nghị": [""] * len(table),
        }
    )
