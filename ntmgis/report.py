"""The commune office's report: an XLSX workbook and CSVs of hamlet progress.

:func:`report_tables` turns a :func:`ntmgis.progress.hamlet_progress` table and the run's
result into four tables with Vietnamese headers (commune summary, hamlets ranked,
households to visit, transitions between campaigns); :func:`write_report` writes them as
one workbook (header style, column widths, frozen panes, A4 landscape with the header row
repeated on every printed page) and one CSV each (UTF-8 with BOM, as Excel's "CSV UTF-8"
saves them).

Every cell is a number or a text, never a formula. A text beginning with ``=``, ``+``,
``-``, ``@`` (or a tab or carriage return) could run as a formula when the file is opened
or edited (CSV/formula injection): in the workbook it is stored as text with Excel's
quote prefix (shown as typed, kept as text when edited); in the CSVs it is prefixed with
an apostrophe, as OWASP recommends.
"""

from __future__ import annotations

import contextvars
import datetime as _dt
import functools
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n, registry
from ._gc import collector_paused
from ._io import (
    DANGEROUS,
    can_defer_rows,
    cell_value,
    defer_row,
    escape_text,
    save_workbook,
    set_cell,
    write_csv,
)
from ._progress import report, scaled
from .progress import (
    FLAGS,
    SURVEY_CLASSES,
    TARGETS,
    compare_campaigns,
    label,
    read_result,
)
from .text import clean_text

logger = logging.getLogger(__name__)

i18n.register(
    "warning.report.pdf_missing",
    vi="Không ghi được tệp PDF của báo cáo '{path}' vì máy chưa cài gói reportlab (cài lại "
    "ntmgis để có gói này); bảng tính và các tệp CSV đã được ghi.",
    en="The report's PDF '{path}' was not written: reportlab is not installed (reinstall "
    "ntmgis to get it); the workbook and CSVs were.",
)


def _msg(key: str, /, **fields) -> str:
    return i18n.message(key, **fields)


__all__ = [
    "SHEETS",
    "report_tables",
    "write_report",
    "write_workbook",
    "escape_text",
    "progress_report",
]

# table key -> (sheet name, CSV file suffix, title)
SHEETS = {
    "summary": ("Tổng hợp xã", "tong_hop_xa", "TỔNG HỢP KẾT QUẢ CẢI TẠO VƯỜN HỘ TOÀN XÃ"),
    "ranking": (
        "Xếp hạng thôn",
        "xep_hang_thon",
        "KẾT QUẢ THỰC HIỆN CHỈ TIÊU VÀ XẾP HẠNG CÁC THÔN",
    ),
    "visits": ("Hộ cần kiểm tra", "ho_can_kiem_tra", "DANH SÁCH HỘ CẦN KIỂM TRA THỰC ĐỊA"),
    "transitions": ("Biến động", "bien_dong", "BIẾN ĐỘNG GIỮA HAI ĐỢT KHẢO SÁT"),
    "hamlets": ("Chi tiết thôn", "chi_tiet_thon", "SỐ LIỆU CHI TIẾT TỪNG THÔN"),
    # the commune's plan: Step 3 needs, Step 4 plan, Step 6 commendations (ntmgis.needs/plan)
    "needs": (
        "Nhu cầu hỗ trợ",
        "nhu_cau_ho_tro",
        "TỔNG HỢP NHU CẦU HỖ TRỢ CẢI TẠO VƯỜN CỦA CÁC HỘ",
    ),
    "plan": (
        "Kế hoạch cải tạo",
        "ke_hoach_cai_tao",
        "DANH SÁCH HỘ CẢI TẠO VƯỜN THEO THỨ TỰ ƯU TIÊN",
    ),
    "plan_progress": (
        "Thực hiện kế hoạch",
        "thuc_hien_ke_hoach",
        "KẾT QUẢ THỰC HIỆN KẾ HOẠCH CẢI TẠO VƯỜN (KẾ HOẠCH VÀ THỰC TẾ)",
    ),
    "commendations": (
        "Đề nghị khen thưởng",
        "de_nghi_khen_thuong",
        "DANH SÁCH ĐỀ NGHỊ KHEN THƯỞNG PHONG TRÀO CẢI TẠO VƯỜN",
    ),
    "survey_form": (
        "Phiếu khảo sát",
        "phieu_khao_sat",
        "PHIẾU KHẢO SÁT, PHÂN LOẠI VƯỜN HỘ (BƯỚC 2)",
    ),
    # the survey join's report (ntmgis.survey.JoinReport.write)
    "survey_join": ("Kết quả ghép", "ket_qua_ghep", "KẾT QUẢ GHÉP KHẢO SÁT VỚI THỬA ĐẤT"),
    "survey_unmatched": ("Dòng chưa ghép", "dong_chua_ghep", "CÁC DÒNG KHẢO SÁT CHƯA GHÉP ĐƯỢC"),
    "survey_issues": ("Vấn đề", "van_de", "CÁC VẤN ĐỀ KHI ĐỌC VÀ GHÉP KHẢO SÁT"),
}
# the summary's line on the transitions between campaigns (its appendix printed when any)
TRANSITIONS_LINE = "Thửa biến động giữa hai đợt khảo sát"
NO_BASELINE_NOTE = (
    "Chưa có đợt khảo sát trước để so sánh (đây là đợt đầu kỳ): báo cáo không kèm phụ lục biến động"
)
NO_TRANSITIONS_NOTE = (
    "Không có thửa nào thay đổi giữa hai đợt khảo sát: báo cáo không kèm phụ lục biến động"
)
_VISIT_AGREEMENTS = registry.DISAGREEMENT  # the survey and the imagery disagree
_SHORT = {key: target.short_vi for key, target in TARGETS.items()}


def _labeller(theme: str):
    return lambda key: label(key, theme)


def _class_header(key: str) -> str:
    return label(key, "survey_class")


def _flag_header(key: str) -> str:
    return "Ảnh: " + label(key, "flag").lower()


#: while a report is written: id(table) -> (table, its cells as plain values), so that the
#: workbook, the PDF and the CSVs convert each table's ~20,000 cells once
_PLAIN_ROWS: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "ntmgis_report_plain_rows", default=None
)


def _plain_rows(table: pd.DataFrame) -> list[list]:
    """A table's rows as :func:`_plain` values (each list a fresh copy of the row)."""
    memo = _PLAIN_ROWS.get()
    known = None if memo is None else memo.get(id(table))
    if known is None or known[0] is not table:
        rows = [[_plain(v) for v in row] for row in table.itertuples(index=False, name=None)]
        if memo is None:
            return rows
        known = memo[id(table)] = (table, rows)
    return [list(row) for row in known[1]]


def _plain(value):
    """A cell value as a plain Python str/int/float/None (booleans become "Có"/"")."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "Có" if value else ""
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, int | str):
        return value
    if isinstance(value, _dt.date | pd.Timestamp):
        return value.strftime("%d/%m/%Y")
    return str(value)


# --------------------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------------------


def _hamlet_table(progress: pd.DataFrame) -> pd.DataFrame:
    baseline = (
        bool(progress.attrs.get("baseline"))
        or progress.get("abandoned_baseline_survey", pd.Series(dtype=float)).notna().any()
    )
    cols: dict[str, pd.Series] = {}
    cols["Hạng"] = progress["rank"]
    if "ma_thon" in progress:
        cols["Mã thôn"] = progress["ma_thon"]
    cols["Thôn"] = progress["hamlet"]
    cols["Số hộ"] = progress["households"]
    cols["Số thửa vườn"] = progress["gardens"]
    cols["Diện tích vườn (m²)"] = progress["garden_area_m2"]
    for c in SURVEY_CLASSES:
        cols[_class_header(c)] = progress[f"n_{c}"]
    cols["Chưa khảo sát"] = progress["n_chua_khao_sat"]
    for f in (f for f in registry.FLAGS if f != "binh_thuong"):  # tended gardens: no column
        cols[_flag_header(f)] = progress[f"n_flag_{f}"]
    if baseline:
        cols["Hoang hóa đầu kỳ (khảo sát)"] = progress["abandoned_baseline_survey"]
        cols["Hoang hóa đầu kỳ (ảnh)"] = progress["abandoned_baseline_imagery"]
    cols["Hoang hóa hiện nay (khảo sát)"] = progress["abandoned_survey"]
    cols["Hoang hóa hiện nay (ảnh)"] = progress["abandoned_imagery"]
    cols["Đã cải tạo (báo cáo)"] = progress["renovated_reported"]
    cols["Đã cải tạo (ảnh xác nhận)"] = progress["renovated_confirmed"]
    for key in TARGETS:
        if f"target_{key}" not in progress:
            continue
        name = _SHORT[key]
        cols[f"{name}: chỉ tiêu"] = progress[f"target_{key}"]
        cols[f"{name}: đạt được"] = progress[f"achieved_{key}"]
        cols[f"{name}: tiến độ (%)"] = progress[f"progress_{key}"]
        cols[f"{name}: đánh giá"] = progress[f"status_{key}"].map(_labeller("status"))
    cols["Điểm tiến độ (%)"] = progress["score"]
    cols["Đánh giá chung"] = progress["status"].map(_labeller("status"))
    cols["Đồng hạng"] = progress["tie"].map(lambda t: "Đồng hạng" if t else "")
    cols["Ưu tiên khen thưởng"] = progress["reward_priority"]
    return pd.DataFrame(cols)


def _ranking_table(progress: pd.DataFrame) -> pd.DataFrame:
    """The printable ranking: rank, hamlet, each target's goal, result and %, the verdict."""
    cols: dict[str, pd.Series] = {"Hạng": progress["rank"], "Thôn": progress["hamlet"]}
    for key in TARGETS:
        if f"target_{key}" not in progress:
            continue
        name = _SHORT[key]
        cols[f"{name}: chỉ tiêu"] = progress[f"target_{key}"]
        cols[f"{name}: đạt được"] = progress[f"achieved_{key}"]
        cols[f"{name}: tiến độ (%)"] = progress[f"progress_{key}"]
    cols["Điểm tiến độ (%)"] = progress["score"]
    cols["Đánh giá chung"] = progress["status"].map(_labeller("status"))
    cols["Ưu tiên khen thưởng"] = progress["reward_priority"]
    if progress["tie"].fillna(False).astype(bool).any():
        cols["Ghi chú"] = progress["tie"].map(lambda t: "Đồng hạng" if t else "")
    return pd.DataFrame(cols)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of ``frame``, or an empty one when the frame does not have it."""
    if name in frame:
        return frame[name]
    return pd.Series(None, index=frame.index, dtype=object)


def _parcel_columns(frame: pd.DataFrame) -> dict:
    """The columns that name a parcel and its household, with their Vietnamese headers."""
    names = {"Thôn": "hamlet", "Mã hộ": "household", "Chủ hộ": "owner", "Số tờ": "sheet",
             "Số thửa": "parcel_no", "Diện tích (m²)": "area_m2"}  # fmt: skip
    return {header: _column(frame, name) for header, name in names.items()}


def _visit_table(parcels: pd.DataFrame, comparison, order: list) -> pd.DataFrame:
    from .flags import visit_headline

    if "visit" in parcels:
        visit = parcels["visit"].fillna(False).astype(bool)
    elif "agreement" in parcels:
        visit = parcels["agreement"].isin(_VISIT_AGREEMENTS) | parcels["flag"].eq("nghi_van")
    else:
        visit = parcels["flag"].isin(("hoang_hoa", "nghi_van"))
    renovation = pd.Series(None, index=parcels.index, dtype=object)
    if comparison is not None:
        check = comparison.set_index("parcel_id")["renovation"]
        renovation = parcels["parcel_id"].map(check).astype(object)
        visit = visit | renovation.eq("anh_chua_thay")
    rows = parcels[visit].copy()
    renovation = renovation[visit]
    reasons = []
    for i, row in rows.iterrows():
        parts = []
        listed = isinstance(row.get("visit_reason"), str) and bool(row["visit_reason"].strip())
        if listed and isinstance(row.get("flag"), str):
            # the survey against the imagery; the chance and the needs are columns here
            parts.append(visit_headline(row["flag"], row.get("survey_class"))[0])
        elif listed:
            parts.append(row["visit_reason"].strip())
        elif isinstance(row.get("agreement"), str) and row["agreement"] in _VISIT_AGREEMENTS:
            parts.append(label(row["agreement"], "agreement"))
        if isinstance(renovation.get(i), str):
            parts.append(label(renovation[i], "renovation"))
        if isinstance(row.get("flag_reasons"), str) and row["flag_reasons"].strip():
            parts.append(row["flag_reasons"].strip())
        if not parts and isinstance(row.get("flag"), str):
            parts.append(label(row["flag"], "flag"))
        reasons.append("; ".join(dict.fromkeys(parts)))

    table = pd.DataFrame(
        {
            **_parcel_columns(rows),
            "Loại đất": _column(rows, "land_use"),
            "Phân loại khảo sát": _column(rows, "survey_class").map(_labeller("survey_class")),
            "Kết quả ảnh vệ tinh": _column(rows, "flag").map(_labeller("flag")),
            "Độ tin cậy": _column(rows, "evidence").map(_labeller("evidence")),
            "Ưu tiên": pd.to_numeric(_column(rows, "visit_rank"), errors="coerce"),
            "Khả năng khảo sát sai": pd.to_numeric(
                _column(rows, "survey_wrong_p"), errors="coerce"
            ),  # fmt: skip
            "Lý do cần kiểm tra": pd.Series(reasons, index=rows.index, dtype=object),
            "Nhu cầu hỗ trợ": _column(
                rows, "support_needs" if "support_needs" in rows else "needs"
            ),
        }
    )
    needs = table["Nhu cầu hỗ trợ"]
    if not needs.map(lambda v: isinstance(v, str) and bool(v.strip())).any():
        table = table.drop(columns="Nhu cầu hỗ trợ")  # no needs recorded: no empty column
    return _numbered(table, order)


def _numbered(table: pd.DataFrame, order: list) -> pd.DataFrame:
    """Sort by hamlet (in ``order``), sheet and parcel number; add the STT column."""
    sort = table.assign(
        _h=table["Thôn"].map({name: i for i, name in enumerate(order)}).fillna(len(order)),
        _n=table["Thôn"].astype(str),
        _s=pd.to_numeric(table["Số tờ"], errors="coerce"),
        _p=pd.to_numeric(table["Số thửa"], errors="coerce"),
    ).sort_values(["_h", "_n", "_s", "_p"], kind="stable")
    table = table.loc[sort.index].reset_index(drop=True)
    table.insert(0, "STT", range(1, len(table) + 1))
    return table


_TRANSITION_COLUMNS = [
    "STT",
    "Thôn",
    "Mã hộ",
    "Chủ hộ",
    "Số tờ",
    "Số thửa",
    "Diện tích (m²)",
    "Khảo sát đợt trước",
    "Khảo sát đợt này",
    "Ảnh đợt trước",
    "Ảnh đợt này",
    "Kiểm tra cải tạo",
    "Ghi chú",
]


def _transition_table(comparison: pd.DataFrame | None, order: list) -> pd.DataFrame:
    if comparison is None:
        return pd.DataFrame(columns=_TRANSITION_COLUMNS)
    c = comparison
    changed = (
        c["survey_changed"]
        | c["flag_changed"]
        | c["renovation"].isin(("xac_nhan", "anh_chua_thay", "khong_du_lieu"))
        | c["renovation"].eq("anh_thay_chua_bao_cao")
        | c["presence"].ne("ca_hai_dot")
    )
    c = c[changed]

    table = pd.DataFrame(
        {
            **_parcel_columns(c),
            "Khảo sát đợt trước": c["survey_class_before"].map(_labeller("survey_class")),
            "Khảo sát đợt này": c["survey_class_after"].map(_labeller("survey_class")),
            "Ảnh đợt trước": c["flag_before"].map(_labeller("flag")),
            "Ảnh đợt này": c["flag_after"].map(_labeller("flag")),
            "Kiểm tra cải tạo": c["renovation"].map(_labeller("renovation")),
            "Ghi chú": c["presence"].map(
                lambda p: "" if p == "ca_hai_dot" else label(p, "presence")
            ),
        }
    )
    return _numbered(table, order)


def _summary_table(progress, parcels, visits, comparison, commune, transitions=None):
    rows: list[tuple[str, object, str, str]] = []

    def add(what, value, unit="", note=""):
        rows.append((what, value, unit, note))

    if commune:
        add("Xã", commune, "")
    add("Ngày lập báo cáo", _dt.date.today().strftime("%d/%m/%Y"), "")
    add("Số thôn", len(progress), "thôn")
    add("Số thửa đất", len(parcels), "thửa")
    if "household" in parcels:
        add("Số hộ", int(parcels["household"].nunique()), "hộ")
    gardens = parcels["is_garden"]
    add("Số thửa vườn", int(gardens.sum()), "thửa")
    add("Diện tích vườn", round(float(parcels.loc[gardens, "area_m2"].sum()) / 10000, 2), "ha")
    for c in SURVEY_CLASSES:
        add(
            f"Khảo sát: {_class_header(c).lower()}",
            int(parcels["survey_class"].eq(c).sum()),
            "thửa",
        )
    add("Vườn chưa khảo sát", int((gardens & parcels["survey_class"].isna()).sum()), "thửa")
    for f in FLAGS:
        add(_flag_header(f), int(parcels["flag"].eq(f).sum()), "thửa")
    if comparison is not None:
        add(
            "Hoang hóa đầu kỳ (khảo sát đợt trước)",
            int(comparison["survey_class_before"].eq("hoang_hoa").sum()),
            "thửa",
        )
    add("Hoang hóa hiện nay (khảo sát)", int(parcels["survey_class"].eq("hoang_hoa").sum()), "thửa")
    add("Hoang hóa hiện nay (ảnh vệ tinh)", int(parcels["flag"].eq("hoang_hoa").sum()), "thửa")
    add("Đã cải tạo (báo cáo)", int(progress["renovated_reported"].sum()), "thửa")
    add("Đã cải tạo (ảnh xác nhận)", int(progress["renovated_confirmed"].sum()), "thửa")
    for key in TARGETS:
        if f"target_{key}" not in progress:
            continue
        goal, got = progress[f"target_{key}"], progress[f"achieved_{key}"]
        if TARGETS[key].unit == "count":
            add(f"{_SHORT[key]}: tổng chỉ tiêu các thôn", float(goal.sum(min_count=1)), "vườn")
            add(f"{_SHORT[key]}: tổng đạt được", float(got.sum()), "vườn")
        else:
            n = progress["gardens"]
            share = float((got * n).sum() / n.sum()) if n.sum() else 0.0
            add(f"{_SHORT[key]}: toàn xã", round(share, 1), "%")
    for s in ("vuot", "dat", "chua_dat", "khong_chi_tieu"):
        names = progress.loc[progress["status"].eq(s), "hamlet"].astype(str)
        add(f"Số thôn {label(s, 'status').lower()}", len(names), "thôn", ", ".join(names))
    add("Thửa cần kiểm tra thực địa", len(visits), "thửa")
    add("Hộ cần kiểm tra thực địa", int(visits["Mã hộ"].dropna().nunique()), "hộ")
    _add_transitions(add, comparison, transitions)
    counted = progress.attrs.get("renovations", "confirmed")
    add(
        "Cách tính vườn hoang hóa đưa vào sử dụng",
        None,
        "",
        "Chỉ tính vườn được ảnh vệ tinh xác nhận"
        if counted == "confirmed"
        else "Tính mọi vườn báo cáo đã cải tạo",
    )
    table = pd.DataFrame(rows, columns=["Nội dung", "Giá trị", "Đơn vị", "Ghi chú"], dtype=object)
    table.insert(0, "STT", range(1, len(table) + 1))
    return table


def _add_transitions(add, comparison, transitions) -> None:
    """The summary's line on the transitions: how many parcels, or why there is no appendix."""
    if comparison is None:
        add(TRANSITIONS_LINE, None, "", NO_BASELINE_NOTE)
        return
    count = 0 if transitions is None else len(transitions)
    add(TRANSITIONS_LINE, count, "thửa", "" if count else NO_TRANSITIONS_NOTE)


def report_tables(progress_table, result, *, baseline=None, comparison=None, commune=None):
    """Build the report's four tables with Vietnamese headers.

    Parameters
    ----------
    progress_table : pandas.DataFrame
        The output of :func:`ntmgis.progress.hamlet_progress`.
    result : str, os.PathLike, GeoDataFrame or DataFrame
        The current result (GeoPackage of ``ntmgis run`` or its parcels table).
    baseline : str, os.PathLike, GeoDataFrame or DataFrame, optional
        The earlier campaign's result, for the transitions table.
    comparison : pandas.DataFrame, optional
        A :func:`ntmgis.progress.compare_campaigns` table already computed (wins over
        ``baseline``).
    commune : str, optional
        The commune's name for the summary; read from the result's ``run_metadata`` or
        ``commune`` layer when not given.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``summary`` (key figures of the commune), ``ranking`` (the printable ranking:
        rank, hamlet, each target's goal, result and %, score, verdict, reward priority),
        ``hamlets`` (every count behind it, for analysis), ``visits`` (parcels
        to visit: the result's ``visit`` column, plus reported renovations the imagery does
        not show), ``transitions`` (parcels whose survey class or flag changed, checked
        renovations, parcels in one campaign only; an empty table with its headers when
        there is no baseline).
    """
    from .result import as_result

    res = as_result(result, what="result")
    parcels, hamlets = read_result(res, what="result")
    parcels = pd.DataFrame(parcels).drop(columns="geometry", errors="ignore")
    if comparison is None and baseline is not None:
        comparison = compare_campaigns(baseline, parcels)
    if comparison is not None:
        comparison = pd.DataFrame(comparison).drop(columns="geometry", errors="ignore")
    if commune is None:
        commune = res.commune
    # field teams go hamlet by hamlet, in the hamlet layer's order (by code otherwise)
    if hamlets is not None:
        order = [clean_text(n) for n in hamlets["hamlet"]]
    elif "ma_thon" in progress_table:
        order = list(progress_table.sort_values("ma_thon")["hamlet"])
    else:
        order = []
    visits = _visit_table(parcels, comparison, order)
    transitions = _transition_table(comparison, order)
    tables = {
        "summary": _summary_table(
            progress_table, parcels, visits, comparison, commune, transitions
        ),  # fmt: skip
        "ranking": _ranking_table(progress_table),
        "visits": visits,
        "transitions": transitions,
        "hamlets": _hamlet_table(progress_table),
    }
    tables.update(_plan_tables(progress_table, parcels, result, baseline))
    return tables


def _plan_tables(progress_table, parcels, result, baseline) -> dict:
    """The commune plan's sheets: needs (Step 3), plan (Step 4), commendations (Step 6)."""
    from .needs import needs_report_table
    from .plan import (
        commendation_table,
        commendations,
        compare_plan,
        has_plan,
        plan_progress_table,
        plan_report_table,
        renovation_plan,
    )
    from .result import as_result

    tables = {"needs": needs_report_table(parcels), "plan": plan_report_table(
        renovation_plan(parcels))}  # fmt: skip
    if baseline is not None:
        baseline = as_result(baseline, what="baseline result")  # read once
        if has_plan(baseline):
            tables["plan_progress"] = plan_progress_table(compare_plan(baseline, parcels))
        tables["commendations"] = commendation_table(
            commendations(baseline, result, progress_table=progress_table)
        )
    return tables


# --------------------------------------------------------------------------------------
# Writing: a workbook an office prints, signs and files
# --------------------------------------------------------------------------------------

_FONT = "Times New Roman"  # Nghị định 30/2020: Times New Roman; LibreOffice: Liberation Serif
_BODY_PT = 11.0
_HEADING_PT = 12.0
_LOCALE = "[$-42A]"  # Vietnamese: decimal comma, thousands dot (LibreOffice; Excel: vi-VN)
# A4 landscape, margins in inches (left wider for filing)
_PAGE_W_IN, _PAGE_H_IN = 11.69, 8.27
_MARGINS = {"left": 0.7, "right": 0.4, "top": 0.55, "bottom": 0.7, "header": 0.25, "footer": 0.3}
_PT_PER_CHAR = 5.25  # one Excel width unit: the maximum digit width of an 11 pt font, 7 px
_PT_PER_CHAR_LO = 5.5  # LibreOffice's: the digit width of Liberation Serif 11 pt
_MIN_SCALE = 0.8  # below this a sheet is printed across pages instead (11 pt x 0.8 = 8.8 pt)
_MAX_TEXT_WIDTH = 40  # characters; longer text wraps
_WIDE_TEXT = {"Lý do cần kiểm tra": 48, "Ghi chú": 40, "Nội dung": 52}
_NUMBER_FORMATS = {
    "Diện tích vườn (m²)": "#,##0",
    "Diện tích (m²)": "#,##0.0",
}
# identifiers and ranks: no thousands separator
_PLAIN_INTEGERS = {"STT", "Hạng", "Số tờ", "Số thửa", "Ưu tiên khen thưởng", "Ưu tiên"}
_KEY_COLUMNS = {"summary": 0, "ranking": 2, "visits": 4, "transitions": 4}
#: columns the PDF prints in each column group of a table cut across pages, besides its
#: key columns: a plan's signing column names the household beside it
_PDF_REPEATED = {"plan": ("Chủ hộ",)}


def _number_format(header: str, value) -> str:
    """Number format of one numeric cell, Vietnamese (``1.250,5``) in display.

    >>> _number_format("Diện tích (m²)", 1250.5)
    '[$-42A]#,##0.0'
    >>> _number_format("Hạng", 3)
    '0'
    """
    if header in _NUMBER_FORMATS:
        return _LOCALE + _NUMBER_FORMATS[header]
    if header.split(": ")[-1] in _PLAIN_INTEGERS:
        return "0"
    integral = isinstance(value, int) or float(value).is_integer()
    if "%" in header:
        return "0" if integral else _LOCALE + "0.0"
    if integral:
        return _LOCALE + "#,##0"
    return _LOCALE + ("#,##0.00" if abs(value) < 10 and round(value, 1) != value else "#,##0.0")


@functools.lru_cache(maxsize=65536, typed=True)
def _shown(value, fmt: str = "") -> str:
    """The text a number format shows (for widths), Vietnamese separators."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        decimals = fmt.split(".")[-1].count("0") if "." in fmt else 0
        text = f"{value:,.{decimals}f}" if "#" in fmt else f"{value:.{decimals}f}"
        return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return str(value)


# -- text metrics (Times New Roman / Liberation Serif, in em) ---------------------------


@functools.lru_cache(maxsize=4096)
def _char_em(ch: str) -> float:
    import unicodedata

    base = unicodedata.normalize("NFD", ch)[:1] or ch
    if base == " ":
        return 0.25
    if base in "il.,;:'|!()[]j":
        return 0.30
    if base in "mwMW":
        return 0.85
    if base.isupper():
        return 0.70
    if base.isdigit():
        return 0.50
    if base.isalpha():
        return 0.46
    return 0.55


def _text_pt(text: str, size: float, bold: bool = False) -> float:
    """Width of one line of text in points (a slight overestimate: safe for wrapping)."""
    return _text_em(text) * size * (1.08 if bold else 1.0)


@functools.lru_cache(maxsize=65536)
def _text_em(text: str) -> float:
    # a report measures the same texts many times (wrapping tries each line prefix)
    return sum(map(_char_em, text))


def _wrap(text: str, width_pt: float, size: float, bold: bool = False) -> list[str]:
    """Lines of ``text`` wrapped at word boundaries into ``width_pt``."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        line = ""
        for word in paragraph.split(" "):
            trial = f"{line} {word}" if line else word
            if line and _text_pt(trial, size, bold) > width_pt:
                lines.append(line)
                line = word
            else:
                line = trial
        lines.append(line)
    return lines


def _line_pt(size: float) -> float:
    return size * 1.2


def _col_pt(width: float) -> float:
    """Printed width (pt) of a column of Excel width ``width``, less the cell padding."""
    return width * _PT_PER_CHAR + 3.75 - 4.0


def _width_for(text: str, size: float, bold: bool = False) -> float:
    """Excel width that holds ``text`` on one line."""
    return (_text_pt(text, size, bold) + 8.0) / _PT_PER_CHAR  # LibreOffice needs the margin


# -- sheet layout -----------------------------------------------------------------------


def _header_levels(headers: list[str]) -> list[tuple[str, str]]:
    """(group, sub) per column: "X: y" columns sharing X get X merged above them."""
    split = [h.split(": ", 1) if ": " in h else [h, ""] for h in headers]
    levels = []
    for i, (group, sub) in enumerate(split):
        neighbours = [split[j][0] for j in (i - 1, i + 1) if 0 <= j < len(split) and split[j][1]]
        if sub and group in neighbours:
            levels.append((group, sub[:1].upper() + sub[1:]))
        else:
            levels.append((headers[i], ""))
    return levels


def _formats(table: pd.DataFrame, values: list[list]) -> list[list[str | None]]:
    headers = [str(c) for c in table.columns]
    return [
        [_number_format(h, v) if isinstance(v, int | float) else None for h, v in zip(headers, row)]
        for row in values
    ]


@functools.lru_cache(maxsize=65536)
def _cell_need(text: str) -> tuple[float, float]:
    """(widest word, whole text) of a body cell's text as Excel widths.

    Statuses, hamlet names and notes recur in thousands of cells: measured once.
    """
    longest_word = max((_width_for(w, _BODY_PT) for w in text.split()), default=0.0)
    return longest_word, _width_for(text, _BODY_PT)


@functools.lru_cache(maxsize=65536, typed=True)
def _number_need(value, fmt: str) -> float:
    """The Excel width a number needs in its format (counts and areas recur)."""
    return _width_for(_shown(value, fmt), _BODY_PT) + 1


def _column_widths(headers, levels, values, formats, cap_text=None) -> list[float]:
    widths = []
    for j, header in enumerate(headers):
        column = [row[j] for row in values]
        texts = [v for v in column if isinstance(v, str)]
        need = max([_number_need(v, formats[i][j]) for i, v in enumerate(column)
                    if formats[i][j]], default=0.0)  # fmt: skip
        cap = _WIDE_TEXT.get(header.split(": ")[-1], _MAX_TEXT_WIDTH)
        if cap_text is not None:
            cap = min(cap, cap_text)
        unbreakable = need
        if texts:  # max over the texts of min(whole, cap) is min(the widest whole, cap)
            words, wholes = zip(*map(_cell_need, texts))
            unbreakable = max(unbreakable, max(words))
            need = max(need, min(max(wholes), cap), max(words))
        group, sub = levels[j]
        label = sub or group
        words = max((_width_for(w, _BODY_PT, True) for w in label.split()), default=0.0)
        # a short header on one line, a long one on at most three
        whole = _width_for(label, _BODY_PT, True)
        need = max(need, words, whole if whole <= 10 else min(whole / 3, 18.0), 5.0)
        widths.append(round(max(min(need, max(cap, words)), unbreakable, words, 5.0) + 0.5, 1))
    return widths


@functools.lru_cache(maxsize=65536)
def _line_count(text: str, width: float, size: float, bold: bool) -> int:
    """How many lines ``text`` wraps to in a column of Excel width ``width``."""
    return len(_wrap(text, _col_pt(width), size, bold))


def _row_height(texts_and_widths, size: float = _BODY_PT, bold: bool = False) -> float:
    lines = 1
    for text, width in texts_and_widths:
        if isinstance(text, str) and text:
            lines = max(lines, _line_count(text, width, size, bold))
    return round(lines * _line_pt(size) + 3.0, 1)


def _printed_pt(widths) -> float:
    """Printed width of columns at 100 % (the wider of Excel's and LibreOffice's)."""
    return sum(w * _PT_PER_CHAR_LO + 3.75 for w in widths)


def _printable_pt() -> float:
    return (_PAGE_W_IN - _MARGINS["left"] - _MARGINS["right"]) * 72


class _Writer:
    """Writes one sheet: the form's heading, the table (one or two header rows), the end."""

    def __init__(self, book, styles, *, defer: bool = False):
        self.book, self.s = book, styles
        # the table's data rows written by _io.save_workbook, not as openpyxl cells
        # (a ``finish`` callback may read or change the cells: then they are openpyxl's)
        self.defer = defer
        self._texts = {}  # text -> (the cell's text, quote-prefixed)
        # (font, alignment, border, format, quote prefix) -> the cell's style indices: a
        # style is looked up in the workbook's lists once, not for each of ~20,000 cells
        # (openpyxl hashes every Font/Alignment/Border assigned; the same result)
        self._style_of = {}

    def cell(self, sheet, row, col, value, *, font=None, align=None, border=False, fmt=None):
        return self._styled(sheet.cell(row=row, column=col), value, font=font, align=align,
                            border=border, fmt=fmt)  # fmt: skip

    def _styled(self, cell, value, *, font, align, border, fmt):
        from copy import copy

        _set(cell, value)
        font = font or self.s["body"]
        key = (id(font), id(align), border, fmt or None, bool(cell.quotePrefix))
        known = self._style_of.get(key)
        if known is not None:
            cell._style = copy(known[0])
            return cell
        cell.font = font
        if align is not None:
            cell.alignment = align
        if border:
            cell.border = self.s["border"]
        if fmt:
            cell.number_format = fmt
        # the objects are kept with the indices: their ids stay theirs while cached
        self._style_of[key] = (copy(cell._style), font, align)
        return cell

    def data_cell(self, sheet, row, col, value, *, align, fmt):
        """A table cell as :meth:`cell` would make it: (its value, its style), no cell.

        For :func:`ntmgis._io.defer_row`. The first cell of each style is made as an
        openpyxl cell outside the sheet, so the workbook's fonts, borders and formats
        are registered in the same order as :meth:`cell` registers them.
        """
        if type(value) is str:  # hamlets, statuses, reasons recur: cleaned once each
            plain = self._texts.get(value)
            if plain is None:
                cleaned = cell_value(value)
                plain = self._texts[value] = (cleaned, cleaned.startswith(DANGEROUS))
            value, quoted = plain
        else:  # a number (-0.0 and 0.0 are equal keys: not memoised) or None
            value = cell_value(value)
            quoted = isinstance(value, str) and value.startswith(DANGEROUS)
        known = self._style_of.get((id(self.s["body"]), id(align), True, fmt or None, quoted))
        if known is None:
            from openpyxl.cell.cell import Cell

            cell = Cell(sheet, row=row, column=col)
            self._styled(cell, value, font=None, align=align, border=True, fmt=fmt)
            return value, cell._style
        return value, known[0]

    def line(self, sheet, row, first, last, text, *, font, align="center", height=None):
        """One merged line of the heading or the signer block."""
        from openpyxl.styles import Alignment

        if last > first:
            sheet.merge_cells(start_row=row, start_column=first, end_row=row, end_column=last)
        self.cell(sheet, row, first, text, font=font,
                  align=Alignment(horizontal=align, vertical="center"))  # fmt: skip
        size = font.sz or _BODY_PT
        current = sheet.row_dimensions[row].height or 0
        sheet.row_dimensions[row].height = max(current, height or round(_line_pt(size) + 2, 1))


def _styles():
    from openpyxl.styles import Border, Font, PatternFill, Side

    thin = Side(style="thin", color="000000")

    def font(size=_BODY_PT, **kw):
        return Font(name=_FONT, size=size, **kw)

    return {
        "body": font(),
        "bold": font(bold=True),
        "head": font(bold=True),
        "h_bold": font(_HEADING_PT, bold=True),
        "motto": font(_HEADING_PT, bold=True, underline="single"),  # the line under tiêu ngữ
        "h_plain": font(_HEADING_PT),
        "h_italic": font(_HEADING_PT, italic=True),
        "title": font(14, bold=True),
        "italic": font(italic=True),
        "recipients_head": font(_HEADING_PT, bold=True, italic=True),
        "border": Border(left=thin, right=thin, top=thin, bottom=thin),
        "fill": PatternFill("solid", fgColor="D9EAD3"),
    }


def write_workbook(
    tables: dict,
    path,
    *,
    subtitle: str = "",
    form=None,
    title: str | None = None,
    finish=None,
    run_id: str | None = None,
    progress=None,
) -> Path:
    """Write report tables to one XLSX workbook an office can print, sign and file.

    The first sheet is the report itself in the form of a Vietnamese administrative
    document (Nghị định 30/2020/NĐ-CP): issuing body and number top left, national
    title and motto top right, the place-and-date line, "BÁO CÁO" and its title, the
    table, then "Nơi nhận" and the signer block. Each further sheet is an appendix
    ("Phụ lục I", "kèm theo Báo cáo số …"). Every sheet prints on A4 landscape at
    8 pt or more: fitted to the page width when that keeps the text at 80 % or more,
    else across pages with the key columns repeated; header rows repeated on every
    page, "Trang 1/3" at the foot, column widths from the content, row heights that fit
    wrapped text, frozen panes for the screen. Numbers stay numbers with Vietnamese
    number formats (``1.250,5`` in display); text is never a formula (a text beginning
    with ``=``, ``+``, ``-``, ``@``, a tab or CR gets Excel's quote prefix).

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Key -> table, in sheet order (names and titles from :data:`SHEETS` for the
        standard keys). The first table is the report's body.
    path : str or os.PathLike
        The ``.xlsx`` file (written atomically; replaced when it exists).
    subtitle : str, optional
        A line under each sheet's title (e.g. the commune and the campaign).
    form : ntmgis.form.DocumentForm, optional
        The administrative form (default: a blank one to fill in by hand).
    title : str, optional
        The report's title under "BÁO CÁO" (default ``form.title`` or the first
        sheet's title).
    finish : callable, optional
        ``finish(workbook)`` runs on the openpyxl workbook before it is saved (e.g. the
        survey form's drop-down lists and signature block).
    run_id : str, optional
        The run that made the tables: the workbook's ``identifier`` property (default
        the run being written, :data:`ntmgis._io.CURRENT_RUN`).
    progress : callable, optional
        ``progress(fraction, message)`` after each sheet; return False to cancel
        (:class:`~ntmgis.errors.CancelledError`, nothing written).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from openpyxl import Workbook
    from openpyxl.utils.indexed_list import IndexedList

    from .form import DocumentForm

    form = form or DocumentForm()
    st = _styles()
    book = Workbook()
    # the default font sets Excel's width unit: the same font as the cells
    book._fonts = IndexedList([st["body"]])
    book._named_styles["Normal"].font = st["body"]
    book.remove(book.active)
    w = _Writer(book, st, defer=finish is None and can_defer_rows())
    appendix = 0
    for index, (key, table) in enumerate(tables.items()):
        report(progress, index / (len(tables) + 1), f"sheet {key}")
        laid = _sheet_layout(key, table, body=index == 0, form=form)
        appendix += 0 if laid.body else 1
        _write_sheet(w, laid, form, title=title, subtitle=subtitle, appendix=appendix)
    if finish is not None:
        finish(book)
    report(progress, len(tables) / (len(tables) + 1), "saving the workbook")
    return save_workbook(book, path, run_id=run_id)


@dataclass
class _SheetLayout:
    """One table as a sheet lays it out: cells, number formats, column widths, fit."""

    key: str
    name: str
    title: str
    headers: list
    levels: list
    values: list
    formats: list
    body: bool
    widths: list = field(default_factory=list)
    split: int = 1  # the last column under the heading's left block (the first sheet)
    fits: bool = True  # fitted to the page width (else printed across pages)
    key_cols: int = 1

    @property
    def n(self) -> int:
        return len(self.headers)

    @property
    def two_rows(self) -> bool:
        return any(sub for _, sub in self.levels)


def _sheet_layout(key, table: pd.DataFrame, *, body: bool, form) -> _SheetLayout:
    """Cells, formats and column widths of one sheet; whether it fits the page width."""
    name, _, sheet_title = SHEETS.get(key, (str(key)[:31], str(key), str(key)))
    headers = [str(c) for c in table.columns]
    values = _plain_rows(table)
    laid = _SheetLayout(key, name[:31], sheet_title, headers, _header_levels(headers), values,
                        _formats(table, values), body)  # fmt: skip
    n = laid.n
    widths = _column_widths(headers, laid.levels, values, laid.formats)
    # text wraps more when that lets the sheet fit the page width at 80 % or more
    floor = _column_widths(headers, laid.levels, values, laid.formats, 0)
    excess = (_printed_pt(widths) - _printable_pt() / _MIN_SCALE) / _PT_PER_CHAR_LO + 1
    slack = [max(a - b, 0.0) for a, b in zip(widths, floor)]
    if 0 < excess <= sum(slack):
        widths = [round(a - excess * d / sum(slack), 1) for a, d in zip(widths, slack)]
    laid.widths = widths
    laid.split = max(1, min(n - 1, (n + 1) // 2 - (1 if n > 3 else 0)))
    if body:
        _widen_for_heading(laid, form)
    laid.fits = _printable_pt() / _printed_pt(laid.widths) >= _MIN_SCALE
    laid.key_cols = min(_key_columns(key, headers), n - 1)
    return laid


def _widen_for_heading(laid: _SheetLayout, form) -> None:
    """The two heading blocks need room: issuing body left, national title right."""
    from .form import NATIONAL_TITLE

    widths, split, n = laid.widths, laid.split, laid.n
    need_left = max(_width_for(x, _HEADING_PT, True) for x in
                    [form.issuing_body, form.parent_body, form.number_line])  # fmt: skip
    need_right = max(_width_for(NATIONAL_TITLE, _HEADING_PT, True),
                     _width_for(form.place_date, _HEADING_PT))  # fmt: skip
    for need, cols in ((need_left, range(split)), (need_right, range(split, n))):
        have = sum(widths[j] for j in cols)
        if have < need:
            widths[list(cols)[-1]] += round(need - have + 1, 1)


def _write_sheet(w, laid: _SheetLayout, form, *, title, subtitle, appendix: int) -> None:
    """One sheet: the form's heading, the table, the signer block (first sheet), printing."""
    from openpyxl.utils import get_column_letter

    sheet = w.book.create_sheet(laid.name)
    for j, width in enumerate(laid.widths, start=1):
        sheet.column_dimensions[get_column_letter(j)].width = width
    last = laid.n if laid.fits else 1  # across pages: unmerged lines, left, over empty cells
    if laid.body:
        row = _body_heading(w, sheet, laid, form, title)
    else:
        row = _appendix_heading(w, sheet, laid, form, appendix, last)
    note = subtitle
    if note:  # holds the commune's name: user data, escaped like any cell
        w.line(sheet, row, 1, last, note, font=w.s["italic"],
               align="center" if laid.fits else "left")  # fmt: skip
        row += 1
    row += 1  # a blank line before the table
    header_row = row
    row = _table_header(w, sheet, row, laid)
    first_data = row
    row = _table_rows(w, sheet, row, laid)
    if laid.body:
        _signer_block(w, sheet, row + 1, laid.n, laid.split, form)
    _page_setup(sheet, laid, header_row, first_data)


def _body_heading(w, sheet, laid: _SheetLayout, form, title) -> int:
    """The first sheet's heading (NĐ 30/2020): bodies, national title, BÁO CÁO, title."""
    from .form import MOTTO, NATIONAL_TITLE

    st, n, split_col = w.s, laid.n, laid.split  # the columns the two blocks stand over
    row = 1
    left = [x for x in (form.parent_body, form.issuing_body) if x]
    right = [NATIONAL_TITLE, MOTTO]
    lines = max(len(left), len(right))
    for i in range(lines):
        if i < len(left):
            bold = i == len(left) - 1 or not form.parent_body
            w.line(sheet, row + i, 1, split_col, left[i],
                   font=st["h_bold"] if bold else st["h_plain"])  # fmt: skip
        if i < len(right):
            w.line(sheet, row + i, split_col + 1, n, right[i],
                   font=st["motto"] if right[i] == MOTTO else st["h_bold"])  # fmt: skip
    row += lines
    w.line(sheet, row, 1, split_col, form.number_line, font=st["h_plain"])
    w.line(sheet, row, split_col + 1, n, form.place_date, font=st["h_italic"])
    row += 2
    w.line(sheet, row, 1, n, "BÁO CÁO", font=st["title"])
    row += 1
    w.line(sheet, row, 1, n, title or form.title or laid.title, font=st["h_bold"])
    return row + 1


def _appendix_heading(w, sheet, laid: _SheetLayout, form, appendix: int, last: int) -> int:
    """An appendix's heading: issuing body, "Phụ lục II", its title and reference."""
    from .form import ROMAN

    st, row = w.s, 1
    align = "center" if laid.fits else "left"
    w.line(sheet, row, 1, max(1, last // 3), form.issuing_body, font=st["h_bold"], align=align)
    row += 1
    w.line(sheet, row, 1, last, f"Phụ lục {ROMAN[(appendix - 1) % len(ROMAN)]}",
           font=st["h_bold"], align=align)  # fmt: skip
    w.line(sheet, row + 1, 1, last, laid.title, font=st["h_bold"], align=align)
    w.line(sheet, row + 2, 1, last, form.appendix_reference, font=st["italic"], align=align)
    return row + 3


def _table_header(w, sheet, row: int, laid: _SheetLayout) -> int:
    """The table's header: one row, or two with each group merged over its columns."""
    from openpyxl.styles import Alignment

    st, levels, widths, n, two_rows = w.s, laid.levels, laid.widths, laid.n, laid.two_rows
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for j, (group, sub) in enumerate(levels, start=1):
        w.cell(sheet, row, j, group, font=st["head"], align=center, border=True)
        sheet.cell(row=row, column=j).fill = st["fill"]
        if two_rows:
            w.cell(sheet, row + 1, j, sub or None, font=st["head"], align=center, border=True)
            sheet.cell(row=row + 1, column=j).fill = st["fill"]
    for j, (_, sub) in enumerate(levels, start=1):
        if two_rows and not sub:
            sheet.merge_cells(start_row=row, start_column=j, end_row=row + 1, end_column=j)
    j = 1
    while j <= n:  # merge each group over its sub-columns
        group, sub = levels[j - 1]
        k = j
        while sub and k < n and levels[k][0] == group and levels[k][1]:
            k += 1
        if k > j:
            sheet.merge_cells(start_row=row, start_column=j, end_row=row, end_column=k)
        j = k + 1
    if two_rows:
        top = [(g if not s else None, widths[i]) for i, (g, s) in enumerate(levels)]
        groups_h = _row_height([(g, sum(widths[i] for i in range(n) if levels[i][0] == g
                                         and levels[i][1])) for g, s in levels if s],
                               bold=True)  # fmt: skip
        sub_h = _row_height([(s, widths[i]) for i, (g, s) in enumerate(levels) if s],
                            bold=True)  # fmt: skip
        single_h = _row_height(top, bold=True)
        sheet.row_dimensions[row].height = groups_h
        sheet.row_dimensions[row + 1].height = max(sub_h, single_h - groups_h)
    else:
        sheet.row_dimensions[row].height = _row_height(
            [(h, widths[i]) for i, h in enumerate(laid.headers)], bold=True
        )
    return row + (2 if two_rows else 1)


def _table_rows(w, sheet, row: int, laid: _SheetLayout) -> int:
    """The table's data rows (numbers right-aligned, text wrapped); the next free row."""
    from openpyxl.styles import Alignment

    aligns = {}  # (wrapped, right-aligned) -> its Alignment, made once
    for i, values_row in enumerate(laid.values):
        cells = []
        for j, value in enumerate(values_row, start=1):
            fmt = laid.formats[i][j - 1]
            wrap = isinstance(value, str)
            align = aligns.get((wrap, bool(fmt)))
            if align is None:
                align = aligns[wrap, bool(fmt)] = Alignment(
                    vertical="top", wrap_text=wrap, horizontal="right" if fmt else None
                )
            if w.defer:
                cells.append((j, *w.data_cell(sheet, row, j, value, align=align, fmt=fmt)))
            else:
                w.cell(sheet, row, j, value, align=align, border=True, fmt=fmt)
        if w.defer:
            defer_row(sheet, row, cells)
        sheet.row_dimensions[row].height = _row_height(
            [(v, laid.widths[j]) for j, v in enumerate(values_row)]
        )
        row += 1
    return row


def _page_setup(sheet, laid: _SheetLayout, header_row: int, first_data: int) -> None:
    """A4 landscape, fitted to the width or across pages; header rows on every page."""
    from openpyxl.utils import get_column_letter

    n, span = laid.n, 2 if laid.two_rows else 1
    # by its coordinate: a Cell here would be an openpyxl cell in a deferred row
    sheet.freeze_panes = f"{get_column_letter(laid.key_cols + 1)}{first_data}"
    if laid.values and not laid.body:
        sheet.auto_filter.ref = (
            f"A{first_data - 1}:{get_column_letter(n)}{first_data - 1 + len(laid.values)}"
        )
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    if laid.fits:
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    else:
        setup.scale = 100
        setup.pageOrder = "overThenDown"
        sheet.print_title_cols = f"A:{get_column_letter(laid.key_cols)}"
    sheet.print_title_rows = f"{header_row}:{header_row + span - 1}"
    sheet.print_options.horizontalCentered = laid.fits
    for side, inches in _MARGINS.items():
        setattr(sheet.page_margins, side, inches)
    sheet.oddFooter.center.text = "Trang &P/&N"
    sheet.oddFooter.center.font = f"{_FONT},Regular"
    sheet.oddFooter.center.size = 11


def _key_columns(key: str, headers: list[str]) -> int:
    """How many leading columns identify a row (repeated when a table is cut)."""
    if key == "hamlets":
        return 3 if "Mã thôn" in headers else 2
    return _KEY_COLUMNS.get(key, 1)


def _laid_out(tables: dict) -> list[dict]:
    """The tables as the PDF lays them out: header levels, cell texts, widths, keys."""
    sheets = []
    for key, table in tables.items():
        headers = [str(c) for c in table.columns]
        values = _plain_rows(table)
        formats = _formats(table, values)
        sheets.append({
            "key": key,
            "title": SHEETS.get(key, (key, key, str(key)))[2],
            "levels": _header_levels(headers),
            "shown": [["" if v is None else _shown(v, f or "") for v, f in zip(row, fmt)]
                      for row, fmt in zip(values, formats)],
            "numeric": [[f is not None for f in fmt] for fmt in formats],
            "caps": [_WIDE_TEXT.get(h.split(": ")[-1], _MAX_TEXT_WIDTH) for h in headers],
            "keys": _key_columns(key, headers),
            "repeat": _PDF_REPEATED.get(key, ()),
            "note": "",
        })  # fmt: skip
    return sheets


def _signer_block(w, sheet, row, n, split, form) -> int:
    """Nơi nhận on the left, the signer on the right; returns the next free row."""
    st = w.s
    left = [("Nơi nhận:", st["recipients_head"])] + [
        (line, w.s["body"]) for line in form.recipient_lines
    ]
    right = [(line, st["h_bold"]) for line in form.signer_lines]
    right += [("", st["h_plain"])] * 3 + [(form.signer_name or "", st["h_bold"])]
    for i in range(max(len(left), len(right))):
        if i < len(left):
            w.line(sheet, row + i, 1, split, left[i][0], font=left[i][1], align="left")
        if i < len(right):
            w.line(sheet, row + i, split + 1, n, right[i][0], font=right[i][1])
    return row + max(len(left), len(right))


def _set(cell, value) -> None:
    """Set a value as a number or a text, never a formula (the one cell writer)."""
    set_cell(cell, value)


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    rows = _plain_rows(table)
    return write_csv(path, pd.DataFrame(rows, columns=table.columns, dtype=object))


def write_report(
    progress_table,
    result,
    outdir,
    *,
    baseline=None,
    comparison=None,
    commune=None,
    stem: str = "bao_cao_tien_do",
    form=None,
    pdf: bool = True,
    progress=None,
) -> dict[str, Path]:
    """Write the commune's progress report: a workbook, its PDF and one CSV per table.

    Parameters
    ----------
    progress_table : pandas.DataFrame
        The output of :func:`ntmgis.progress.hamlet_progress`.
    result : str, os.PathLike, GeoDataFrame or DataFrame
        The current result (GeoPackage of ``ntmgis run`` or its parcels table).
    outdir : str or os.PathLike
        Output folder (created when missing).
    baseline : str, os.PathLike, GeoDataFrame or DataFrame, optional
        The earlier campaign's result: fills the transitions sheet.
    comparison : pandas.DataFrame, optional
        A :func:`ntmgis.progress.compare_campaigns` table already computed.
    commune : str, optional
        The commune's name (read from the result when not given).
    stem : str, default "bao_cao_tien_do"
        File name stem.
    form : ntmgis.form.DocumentForm or dict, optional
        The administrative form (issuing body, number, place, date, signer, recipients),
        or the run config's ``[report]`` table; default from the commune's name.
    pdf : bool, default True
        Also write ``<stem>.pdf``: the same report as one PDF (fonts embedded).
    progress : callable, optional
        ``progress(fraction, message)``, called for each sheet of the workbook and each
        page of the PDF; return False to cancel: :class:`~ntmgis.errors.CancelledError`
        and the files this call wrote are removed.

    Returns
    -------
    dict of str to pathlib.Path
        ``"xlsx"`` -> the workbook; ``"pdf"`` -> its PDF; ``"summary"``, ``"ranking"``,
        ``"visits"``, ``"transitions"``, ``"hamlets"`` -> the CSVs
        (``<stem>_tong_hop_xa.csv``...).
    """
    from .errors import CancelledError

    report(progress, 0.0, "report tables")
    written: dict[str, Path] = {}
    token = _PLAIN_ROWS.set({})
    try:
        with collector_paused():
            _write_report(progress_table, result, Path(outdir), written, baseline=baseline,
                          comparison=comparison, commune=commune, stem=stem, form=form,
                          pdf=pdf, progress=progress)  # fmt: skip
    except CancelledError:
        for path in written.values():  # a cancelled report leaves no part of itself
            path.unlink(missing_ok=True)
        raise
    finally:
        _PLAIN_ROWS.reset(token)
    report(progress, 1.0, "report written")
    return written


def _write_report(progress_table, result, out: Path, written: dict, *, baseline, comparison,
                  commune, stem, form, pdf, progress) -> None:  # fmt: skip
    """:func:`write_report`'s work: each file it writes goes into ``written``."""
    from .form import DocumentForm

    tables = report_tables(
        progress_table, result, baseline=baseline, comparison=comparison, commune=commune
    )
    summary = tables["summary"]
    name = summary.loc[summary["Nội dung"] == "Xã", "Giá trị"]
    commune = str(name.iloc[0]) if len(name) else commune
    if not isinstance(form, DocumentForm):
        form = DocumentForm.from_config(form, commune=commune)
    meta = _metadata(result)
    title = form.title or _report_title(meta, baseline is not None or comparison is not None)
    subtitle = str(commune or "")
    out.mkdir(parents=True, exist_ok=True)
    # no transitions, no appendix: the summary says why (its line on the transitions)
    printed = {k: t for k, t in tables.items() if not (k == "transitions" and t.empty)}
    run_id = str(meta.get("run_id") or "") or None
    report(progress, 0.1, "report workbook")
    written["xlsx"] = write_workbook(printed, out / f"{stem}.xlsx", subtitle=subtitle,
                                     form=form, title=title, run_id=run_id,
                                     progress=scaled(progress, 0.1, 0.35))  # fmt: skip
    if pdf:
        try:
            import reportlab  # noqa: F401 - a dependency; an old install may lack it
        except ImportError:
            from .errors import OutputWarning, warn

            target = out / f"{stem}.pdf"
            warn(_msg("warning.report.pdf_missing", path=target), OutputWarning,
                 where=str(target), what="warning.report.pdf_missing")  # fmt: skip
        else:
            from ._report_pdf import write_pdf

            report(progress, 0.35, "report PDF")
            written["pdf"] = write_pdf(_laid_out(printed), out / f"{stem}.pdf", form=form,
                                       title=title, subtitle=subtitle, run_id=run_id,
                                       progress=scaled(progress, 0.35, 0.95))  # fmt: skip
    report(progress, 0.95, "report tables as CSV")
    for key, table in tables.items():
        written[key] = _write_csv(table, out / f"{stem}_{SHEETS[key][1]}.csv")


def _metadata(result) -> dict:
    """The result's ``run_metadata`` (year, run id), or nothing when it has none."""
    from .result import as_result

    try:
        return dict(as_result(result).metadata or {})
    except Exception:  # the title's year and the run id are niceties: never fail for them
        logger.debug("no run metadata in %r", result, exc_info=True)
        return {}


def _report_title(meta: dict, followup: bool) -> str:
    """The report's title: Kết quả cải tạo vườn hộ ... năm 2022."""
    year = str(meta.get("year") or "").strip() or None
    what = "Kết quả cải tạo vườn hộ và tiến độ thực hiện chỉ tiêu các thôn"
    if followup:
        what = "Kết quả theo dõi cải tạo vườn hộ và tiến độ thực hiện chỉ tiêu các thôn"
    return f"{what} năm {year}" if year else what


def progress_report(
    result,
    targets,
    outdir,
    *,
    hamlets=None,
    baseline=None,
    sheet=None,
    renovations: str = "confirmed",
    commune=None,
    stem: str = "bao_cao_tien_do",
    form=None,
    progress=None,
):
    """Steps 5 and 6 in one call: read the targets, measure and rank, write the report.

    This is what ``ntmgis progress`` and ``ntmgis run`` (when targets are given) do.

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame or DataFrame
        The current result: a GeoPackage of ``ntmgis run`` or the run's parcels.
    targets : str, os.PathLike or pandas.DataFrame
        The targets table (CSV/XLSX, read by :func:`ntmgis.progress.read_targets`).
    outdir : str or os.PathLike
        Output folder.
    hamlets : GeoDataFrame or DataFrame, optional
        The hamlets (``hamlet``/``ten_thon``, ``ma_thon``); read from the result's
        ``hamlets`` layer when not given.
    baseline : str, os.PathLike, GeoDataFrame or DataFrame, optional
        The earlier campaign's result.
    sheet : str or int, optional
        Sheet of an XLSX targets file.
    renovations : {"confirmed", "reported"}, default "confirmed"
        Renovations counted towards the abandoned-garden target.
    commune : str, optional
        The commune's name for the report.
    stem : str, default "bao_cao_tien_do"
        File name stem.
    form : ntmgis.form.DocumentForm or dict, optional
        The administrative form (see :func:`write_report`).
    progress : callable, optional
        ``progress(fraction, message)`` between the steps; return ``False`` to cancel
        (nothing is written after a cancel).

    Returns
    -------
    progress_table : pandas.DataFrame
        The ranked hamlets (:func:`ntmgis.progress.hamlet_progress`).
    written : dict of str to pathlib.Path
        The files written (:func:`write_report`).
    """
    from ._progress import report
    from .progress import hamlet_progress, read_targets

    report(progress, 0.0, "targets")
    table = targets if isinstance(targets, pd.DataFrame) else read_targets(targets, sheet=sheet)
    report(progress, 0.2, "campaigns")
    comparison = compare_campaigns(baseline, result) if baseline is not None else None
    report(progress, 0.4, "hamlet progress")
    ranked = hamlet_progress(
        result, table, baseline=baseline, hamlets=hamlets, renovations=renovations
    )
    report(progress, 0.7, "report")
    written = write_report(
        ranked,
        result,
        outdir,
        baseline=baseline,
        comparison=comparison,
        commune=commune,
        stem=stem,
        form=form,
    )
    report(progress, 1.0, "done")
    return ranked, written
