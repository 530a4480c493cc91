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

import datetime as _dt
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import _FORMULA_START, atomic_path, escape_text, write_csv
from .progress import (
    FLAGS,
    SURVEY_CLASSES,
    TARGETS,
    compare_campaigns,
    label,
    read_result,
)
from .text import clean_text

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
    "hamlets": (
        "Xếp hạng thôn",
        "xep_hang_thon",
        "TIẾN ĐỘ THỰC HIỆN CHỈ TIÊU VÀ XẾP HẠNG CÁC THÔN",
    ),
    "visits": ("Hộ cần kiểm tra", "ho_can_kiem_tra", "DANH SÁCH HỘ CẦN KIỂM TRA THỰC ĐỊA"),
    "transitions": ("Biến động", "bien_dong", "BIẾN ĐỘNG GIỮA HAI ĐỢT KHẢO SÁT"),
}
_VISIT_AGREEMENTS = ("khao_sat_tot_anh_hoang", "khao_sat_hoang_anh_tot", "cai_tao_chua_thay")
_SHORT = {key: target.short_vi for key, target in TARGETS.items()}


def _labeller(theme: str):
    return lambda key: label(key, theme)


def _class_header(key: str) -> str:
    return label(key, "survey_class")


def _flag_header(key: str) -> str:
    return "Ảnh: " + label(key, "flag").lower()


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
    for f in ("hoang_hoa", "cai_tao", "nghi_van", "thieu_du_lieu"):
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
        if isinstance(row.get("visit_reason"), str) and row["visit_reason"].strip():
            parts.append(row["visit_reason"].strip())
        if isinstance(row.get("agreement"), str) and row["agreement"] in _VISIT_AGREEMENTS:
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
            "Nhu cầu hỗ trợ": _column(rows, "needs"),
        }
    )
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


def _summary_table(progress, parcels, visits, comparison, commune) -> pd.DataFrame:
    rows: list[tuple[str, object, str]] = []

    def add(what, value, unit=""):
        rows.append((what, value, unit))

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
        add(f"Số thôn {label(s, 'status').lower()}", int(progress["status"].eq(s).sum()), "thôn")
    add("Thửa cần kiểm tra thực địa", len(visits), "thửa")
    add("Hộ cần kiểm tra thực địa", int(visits["Mã hộ"].dropna().nunique()), "hộ")
    counted = progress.attrs.get("renovations", "confirmed")
    add(
        "Cách tính vườn hoang hóa đưa vào sử dụng",
        "chỉ tính vườn được ảnh vệ tinh xác nhận"
        if counted == "confirmed"
        else "tính mọi vườn báo cáo đã cải tạo",
        "",
    )
    return pd.DataFrame(rows, columns=["Nội dung", "Giá trị", "Đơn vị"], dtype=object)


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
        ``summary`` (key figures of the commune), ``hamlets`` (ranked), ``visits`` (parcels
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
    return {
        "summary": _summary_table(progress_table, parcels, visits, comparison, commune),
        "hamlets": _hamlet_table(progress_table),
        "visits": visits,
        "transitions": _transition_table(comparison, order),
    }


# --------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------

_NUMBER_FORMATS = {
    "Diện tích vườn (m²)": "#,##0",
    "Diện tích (m²)": "#,##0.0",
}
# identifiers and ranks: no thousands separator
_PLAIN_INTEGERS = {"STT", "Hạng", "Số tờ", "Số thửa", "Ưu tiên khen thưởng"}


def _number_format(header: str, value) -> str:
    """Excel number format of one numeric cell (Excel shows it in the user's locale)."""
    if header in _NUMBER_FORMATS:
        return _NUMBER_FORMATS[header]
    if "(%)" in header or header == "Điểm tiến độ (%)":
        return "0" if isinstance(value, int) else "0.0"
    if header in _PLAIN_INTEGERS:
        return "0"
    if isinstance(value, int) or float(value).is_integer():
        return "#,##0"
    return "#,##0.0#"


def write_workbook(tables: dict, path, *, subtitle: str = "") -> Path:
    """Write report tables to one XLSX workbook, styled for printing.

    Each table becomes a sheet (names and titles from :data:`SHEETS` for the standard
    keys): a title row, a subtitle row, the header row (bold, filled, wrapped, repeated
    on every printed page, frozen with the first columns) and the data; A4 landscape,
    fitted to the page width. Values are written as numbers or text, never formulas.

    Parameters
    ----------
    tables : dict of str to pandas.DataFrame
        Key -> table, in sheet order.
    path : str or os.PathLike
        The ``.xlsx`` file (written atomically; replaced when it exists).
    subtitle : str, optional
        Second row of every sheet (e.g. the commune and the campaign).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    header_font = Font(bold=True, color="000000")
    header_fill = PatternFill("solid", fgColor="D9EAD3")
    book = Workbook()
    book.remove(book.active)
    for key, table in tables.items():
        name, _, title = SHEETS.get(key, (str(key)[:31], str(key), str(key)))
        sheet = book.create_sheet(name[:31])
        _set(sheet.cell(row=1, column=1), title)
        sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
        note = subtitle
        if key == "transitions" and table.empty:
            note = (subtitle + " — " if subtitle else "") + (
                "chưa có đợt khảo sát trước để so sánh (chạy lại với --baseline)"
            )
        if note:
            _set(sheet.cell(row=2, column=1), note)  # holds the commune's name: user data
            sheet.cell(row=2, column=1).font = Font(italic=True)
        header_row = 3
        headers = [str(c) for c in table.columns]
        for j, header in enumerate(headers, start=1):
            cell = sheet.cell(row=header_row, column=j)
            _set(cell, header)
            cell.font = header_font
            cell.fill = header_fill
            cell.border = border
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        values = [[_plain(v) for v in row] for row in table.itertuples(index=False, name=None)]
        for i, row in enumerate(values, start=header_row + 1):
            for j, value in enumerate(row, start=1):
                cell = sheet.cell(row=i, column=j)
                _set(cell, value)
                cell.border = border
                if isinstance(value, str):
                    cell.alignment = Alignment(vertical="top", wrap_text=len(value) > 40)
        for j, header in enumerate(headers, start=1):
            column = [row[j - 1] for row in values]
            for i, value in enumerate(column):
                if isinstance(value, int | float):
                    cell = sheet.cell(row=header_row + 1 + i, column=j)
                    cell.number_format = _number_format(header, value)
            longest = max(
                [max((len(w) for w in header.split()), default=4) + 2, min(len(header), 14)]
                + [len(_shown(v)) + 1 for v in column]
            )
            sheet.column_dimensions[get_column_letter(j)].width = max(6, min(longest, 45))
        sheet.row_dimensions[header_row].height = 45
        frozen = {"summary": 1, "hamlets": 3 if "Mã thôn" in headers else 2, "visits": 4}
        sheet.freeze_panes = sheet.cell(row=header_row + 1, column=frozen.get(key, 2) + 1)
        if values:
            last = get_column_letter(len(headers))
            sheet.auto_filter.ref = f"A{header_row}:{last}{header_row + len(values)}"
        setup = sheet.page_setup
        setup.orientation = "landscape"
        setup.paperSize = sheet.PAPERSIZE_A4
        setup.fitToWidth = 1
        setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        sheet.print_title_rows = f"{header_row}:{header_row}"
        sheet.page_margins.left = sheet.page_margins.right = 0.4
        sheet.page_margins.top = sheet.page_margins.bottom = 0.5
        sheet.oddFooter.center.text = "Trang &P / &N"
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return _atomic(path, book.save)


def _set(cell, value) -> None:
    """Set a value as a number or a text, never a formula."""
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"  # openpyxl makes "=..." a formula: keep it text
        if value.startswith(_FORMULA_START):
            cell.quotePrefix = True


def _shown(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def _atomic(path: Path, save) -> Path:
    with atomic_path(path) as tmp:
        save(tmp)
    return path


def _write_csv(table: pd.DataFrame, path: Path) -> Path:
    clean = table.copy()
    for column in clean.columns:
        clean[column] = [_plain(v) for v in clean[column]]
    return write_csv(path, clean)


def write_report(
    progress_table,
    result,
    outdir,
    *,
    baseline=None,
    comparison=None,
    commune=None,
    stem: str = "bao_cao_tien_do",
) -> dict[str, Path]:
    """Write the commune's progress report: one XLSX workbook and one CSV per table.

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

    Returns
    -------
    dict of str to pathlib.Path
        ``"xlsx"`` -> the workbook; ``"summary"``, ``"hamlets"``, ``"visits"``,
        ``"transitions"`` -> the CSVs (``<stem>_tong_hop_xa.csv``...).
    """
    tables = report_tables(
        progress_table, result, baseline=baseline, comparison=comparison, commune=commune
    )
    name = tables["summary"].loc[tables["summary"]["Nội dung"] == "Xã", "Giá trị"]
    subtitle = f"{name.iloc[0]}" if len(name) else ""
    stamp = _dt.date.today().strftime("%d/%m/%Y")
    subtitle = f"{subtitle} — lập ngày {stamp}" if subtitle else f"Lập ngày {stamp}"
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = {"xlsx": write_workbook(tables, out / f"{stem}.xlsx", subtitle=subtitle)}
    for key, table in tables.items():
        written[key] = _write_csv(table, out / f"{stem}_{SHEETS[key][1]}.csv")
    return written


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
        ranked, result, outdir, comparison=comparison, commune=commune, stem=stem
    )
    report(progress, 1.0, "done")
    return ranked, written
