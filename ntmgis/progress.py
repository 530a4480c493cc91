"""Steps 5 and 6: hamlet progress against targets, campaign comparison and ranking.

The New Rural Development plan asks every hamlet (thôn) to keep to its yearly targets
(Step 5) and gives reward priority to the hamlets that exceed them (Step 6). This module

* reads the targets table the commune office types (:func:`read_targets`),
* counts, per hamlet, the gardens of a run's result by survey class and by imagery flag and
  measures each target (:func:`hamlet_progress`), then ranks the hamlets,
* compares two campaigns parcel by parcel (:func:`compare_campaigns`): which abandoned
  gardens were reported brought back into use, and which of those the imagery confirms.

Definitions (they are what the report prints, so they are kept simple):

``hoang_hoa_dua_vao_su_dung`` (abandoned gardens brought back into use)
    With a baseline campaign: gardens the baseline survey called *vườn hoang hóa* that
    the follow-up survey puts in a class in use (mẫu, đạt chuẩn, đã cải tạo, tạp). They are
    *reported*; they are *confirmed* when the follow-up imagery flag is ``binh_thuong`` or
    ``cai_tao`` (a clearing after the survey, then regrowth, counts even when the survey
    still says abandoned).
    Without a baseline, the survey's *vườn đã cải tạo* class stands for the reported
    renovations (confirmed likewise). The target counts the confirmed ones by default
    (``renovations="reported"`` counts the claims).
``ty_le_dat_chuan`` (share of gardens meeting the standard, %)
    Surveyed vườn mẫu + vườn đạt chuẩn + vườn đã cải tạo over all garden parcels of the
    hamlet (an unsurveyed garden is not known to meet the standard), rounded to 0.1 %.
``so_vuon_mau`` (number of model gardens)
    Gardens surveyed as vườn mẫu.

Status of a target: ``vuot`` (exceeded: achieved > target), ``dat`` (met: equal),
``chua_dat`` (not met), ``khong_chi_tieu`` (no target given). A hamlet is ``vuot`` when it
exceeds every target it has, ``dat`` when it meets them all, ``chua_dat`` when it misses one,
``khong_chi_tieu`` when it has none.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd

from . import i18n
from .errors import InputError, ProgressWarning, SchemaError, warn
from .places import hamlet_key as _place_key
from .places import is_hamlet_kind
from .registry import (
    FLAGS,
    HAMLET_CODE_HEADERS,
    HAMLET_HEADERS,
    HAMLET_HEADERS_NO_SHEET,
    IN_USE_CLASSES,
    IN_USE_FLAGS,
    RENOVATION_CHECKS,
    STANDARD_CLASSES,
    STATUSES,
    SURVEY_CLASSES,
    TARGETS,
    Target,
)
from .text import clean_text, fold, header_key, match_columns

__all__ = [
    "TARGETS",
    "SURVEY_CLASSES",
    "FLAGS",
    "STANDARD_CLASSES",
    "IN_USE_CLASSES",
    "STATUSES",
    "RENOVATION_CHECKS",
    "Target",
    "read_targets",
    "read_result",
    "hamlet_progress",
    "compare_campaigns",
    "label",
    "hamlet_key",
    "format_ranking",
]

UNKNOWN_HAMLET = "(chưa xác định thôn)"
logger = logging.getLogger(__name__)

# what people read from this module, Vietnamese first (ntmgis.i18n's catalogue)
_MESSAGES = {
    "error.progress.target_not_number": (
        "'{value}' không phải là số (hãy gõ một số, hoặc để trống ô khi thôn không có chỉ "
        "tiêu này)",
        "'{value}' is not a number (type a number, or leave the cell empty when the hamlet "
        "has no such target)",
    ),
    "error.progress.target_percent_count": (
        "'{value}' là tỷ lệ phần trăm nhưng ở đây cần số vườn",
        "'{value}' is a percentage where a count is expected",
    ),
    "error.progress.target_negative": ("{value} là số âm", "{value} is negative"),
    "error.progress.target_fraction": (
        "{value} không phải là số vườn nguyên",
        "{value} is not a whole number of gardens",
    ),
    "error.progress.target_over_100": ("{value} % lớn hơn 100 %", "{value} % is over 100 %"),
    "error.progress.target_twice": (
        "dòng {row}: thôn '{hamlet}' ghi hai lần (cả dòng {other})",
        "row {row}: hamlet '{hamlet}' is listed twice (also row {other})",
    ),
    "error.progress.target_cell": (
        "dòng {row}, cột '{column}': {problem}",
        "row {row}, column '{column}': {problem}",
    ),
    "error.progress.target_no_hamlet": (
        "dòng {row}: có chỉ tiêu nhưng không có tên thôn (cột '{column}')",
        "row {row}: targets without a hamlet name (column '{column}')",
    ),
    "error.progress.targets_problems": (
        "Bảng chỉ tiêu {where} có {count} lỗi; hãy sửa trong tệp rồi chạy lại:\n  {problems}",
        "The targets in {where} have {count} problem(s); correct them and run again:\n  {problems}",
    ),
    "error.progress.targets_empty": (
        "{where} có dòng tiêu đề nhưng không có dòng thôn nào bên dưới: hãy nhập chỉ tiêu "
        "của các thôn.",
        "{where} has a header row but no hamlet rows below it: type the hamlets' targets.",
    ),
    "warning.progress.unknown_target_columns": (
        "{where}: (các) cột {columns} không phải là chỉ tiêu đã biết nên được bỏ qua. Các chỉ "
        "tiêu đã biết: {known}.",
        "{where}: column(s) {columns} are not known targets and were ignored. Known: {known}.",
    ),
    "progress.where.table": ("(bảng chỉ tiêu đã nạp)", "the targets table"),
    "progress.where.sheet": ("{where} (trang tính '{sheet}')", "{where} (sheet '{sheet}')"),
    "error.progress.no_target_header": (
        "Không tìm thấy dòng tiêu đề trong {where}: bảng cần một cột tên thôn ('Thôn', "
        "'Xóm', 'Ấp', 'Bản', 'Tổ dân phố'...) và ít nhất một cột chỉ tiêu trong số {expected}.",
        "No header row found in {where}: it needs a hamlet column ('Thôn', 'Xóm', "
        "'Ấp', 'Bản', 'Tổ dân phố'...) and at least one target column among {expected}.",
    ),
    "error.progress.missing_columns": (
        "Lớp thửa đất của {name} thiếu (các) cột {columns}: hãy dùng kết quả của lần chạy "
        "(lớp 'parcels' có hamlet, survey_class, flag).",
        "The parcels of the {name} lack column(s) {columns}: use the run's result (layer "
        "'parcels' with hamlet, survey_class, flag).",
    ),
    "error.progress.no_parcel_id": (
        "Lớp thửa đất của {name} không có cột mã thửa 'parcel_id' (hoặc số tờ và số thửa).",
        "The parcels of the {name} lack a 'parcel_id' column (or sheet and parcel numbers).",
    ),
    "error.progress.no_area": (
        "Lớp thửa đất của {name} không có cột diện tích 'area_m2' (hoặc DIENTICH, hình thửa).",
        "The parcels of the {name} lack an 'area_m2' column (or DIENTICH, or shapes).",
    ),
    "error.progress.unknown_keys": (
        "Lớp thửa đất của {name} có mã không biết ({detail}). Mã phân loại khảo sát: "
        "{classes}; mã kết quả ảnh: {flags}.",
        "The parcels of the {name} hold unknown keys ({detail}). Expected survey classes "
        "{classes} and flags {flags}.",
    ),
    "error.progress.duplicated_ids": (
        "Kết quả {name} có {count} mã thửa (parcel_id) bị trùng, ví dụ '{example}': mỗi thửa "
        "(số tờ-số thửa) chỉ được có một lần.",
        "The {name} result has {count} duplicated parcel_id value(s), e.g. '{example}': each "
        "parcel (số tờ-số thửa) must appear once.",
    ),
    "error.progress.renovations": (
        "Cách tính vườn đã cải tạo phải là 'confirmed' (ảnh xác nhận) hoặc 'reported' (báo "
        "cáo), không phải '{value}': hãy sửa trong cấu hình.",
        "renovations must be 'confirmed' or 'reported', not '{value}': correct the settings.",
    ),
    "error.progress.hamlets_no_name": (
        "Bảng các thôn cần một cột tên thôn ('hamlet' hoặc 'ten_thon').",
        "The hamlets table needs a 'hamlet' (or 'ten_thon') column.",
    ),
    "warning.progress.no_hamlet": (
        "{count} thửa đất của kết quả không có tên thôn; được tính vào '{unknown}'.",
        "{count} parcel(s) of the result have no hamlet; they are counted as '{unknown}'.",
    ),
    "error.progress.unknown_hamlets": (
        "Bảng chỉ tiêu ghi (các) thôn {names} không có trong kết quả (các thôn có: {known}). "
        "Hãy sửa tên thôn trong bảng chỉ tiêu.",
        "The targets name hamlet(s) {names} that the result does not have (hamlets there: "
        "{known}). Correct the names in the targets table.",
    ),
    "error.progress.hamlet_row": ("'{hamlet}' (dòng {row})", "'{hamlet}' (row {row})"),
    "note.progress.total_row": (
        "dòng {row}: dòng tổng '{name}' được bỏ qua",
        "row {row}: total row '{name}' skipped",
    ),
    "warning.progress.parcels_gone": (
        "{count} thửa đất của đợt trước không có trong kết quả (ví dụ '{example}'); các thửa "
        "này chỉ được tính vào số vườn hoang hóa đầu kỳ của thôn cũ.",
        "{count} parcel(s) of the baseline are not in the result (e.g. '{example}'); they "
        "count in their baseline hamlet for the abandoned gardens at baseline only.",
    ),
}
i18n.register_all(_MESSAGES)


def _msg(key: str, /, **fields) -> str:
    return i18n.message(key, **fields)


_HAMLET_ALIASES = {
    "hamlet": HAMLET_HEADERS + HAMLET_HEADERS_NO_SHEET,
    "ma_thon": HAMLET_CODE_HEADERS,
}
_IGNORED = {"stt", "tt", "sott", "ghichu", "note"}
_TOTAL_ROWS = {"tong", "tong cong", "cong", "toan xa", "tong so", "total"}

# labels of this module's own keys; the result contract's keys (survey classes, flags,
# agreement, hamlet status) are labelled by ntmgis.palette, the one place for labels
_LABELS = {
    "renovation": {
        "xac_nhan": ("Ảnh xác nhận đã đưa vào sử dụng", "Imagery confirms"),
        "anh_chua_thay": (
            "Báo cáo đã cải tạo, ảnh chưa thấy",
            "Reported, imagery does not show it",
        ),
        "khong_du_lieu": (
            "Báo cáo đã cải tạo, thiếu ảnh để kiểm tra",
            "Reported, too little imagery",
        ),
        "anh_thay_chua_bao_cao": (
            "Ảnh thấy đã sử dụng, chưa báo cáo",
            "Imagery shows use, not reported",
        ),
        "van_hoang_hoa": ("Vẫn hoang hóa", "Still abandoned"),
        "chua_ro": ("Chưa rõ", "Unclear"),
    },
    "presence": {
        "ca_hai_dot": ("Có ở cả hai đợt", "In both campaigns"),
        "chi_dot_truoc": ("Chỉ có ở đợt trước", "Only in the baseline"),
        "chi_dot_sau": ("Chỉ có ở đợt sau", "Only in the follow-up"),
    },
}


def label(key, theme: str, *, lang: str = "vi") -> str:
    """Human label of a key of one theme.

    Parameters
    ----------
    key : str or None
        The key, e.g. ``"vuot"`` or ``"hoang_hoa"``.
    theme : str
        ``"renovation"`` or ``"presence"`` (this module's keys), or a theme of
        :mod:`ntmgis.palette` (``"status"``, ``"survey_class"``, ``"flag"``,
        ``"agreement"``), which holds the labels of the result contract's keys.
    lang : {"vi", "en"}, default "vi"
        Language.

    Returns
    -------
    str
        The label; ``""`` for a missing key, the key itself for an unknown one.
    """
    if key is None or key is pd.NA or (isinstance(key, float) and math.isnan(key)):
        return ""
    key = str(key)
    if theme in _LABELS:
        pair = _LABELS[theme].get(key)
        return key if pair is None else pair[0 if lang == "vi" else 1]
    from . import palette

    try:
        return palette.label(theme, key, lang)
    except KeyError:
        return key


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------


def hamlet_key(name) -> str:
    """Key two spellings of one hamlet share ("Thôn Đông Hoà", "thon dong hoa", "Đông Hòa").

    The place parser's key (:func:`ntmgis.places.hamlet_key`): without the unit word
    (thôn, xóm, ấp, bản, buôn, làng, sóc, tổ dân phố, khu phố) or the commune.
    """
    if not isinstance(name, str):
        return fold(name)
    return _place_key(name)


def _parse_target(value, fmt, unit):
    """Return (number or None, error text or None) for one target cell."""
    from .text import parse_vn_number

    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    if isinstance(value, str):
        text = value.strip()
        if not text or text in ("-", "—", "–"):
            return None, None
        percent_sign = text.endswith("%")
        number, note = parse_vn_number(text.rstrip("%").strip())
        if number is None:
            return None, _msg("error.progress.target_not_number", value=value)
        if percent_sign and unit == "count":
            return None, _msg("error.progress.target_percent_count", value=value)
    elif isinstance(value, bool) or not isinstance(value, int | float | np.number):
        return None, _msg("error.progress.target_not_number", value=value)
    else:
        number = float(value)
        if unit == "percent" and fmt and "%" in str(fmt):
            number *= 100.0  # an Excel percent cell holds 0.55 for "55%"
            number = round(number, 9)
    if number < 0:
        return None, _msg("error.progress.target_negative", value=f"{number:g}")
    if unit == "count" and number != int(number):
        return None, _msg("error.progress.target_fraction", value=f"{number:g}")
    if unit == "percent" and number > 100:
        return None, _msg("error.progress.target_over_100", value=f"{number:g}")
    return number, None


def read_targets(source, *, sheet=None) -> pd.DataFrame:
    """Read the hamlets' targets (chỉ tiêu) from a CSV or XLSX table.

    Headers may be typed with or without diacritics, in any case; title rows above the
    header row are skipped, as are blank rows and a total row ("Tổng", "Cộng"). Counts
    accept Vietnamese thousands dots ("1.250"), percentages a decimal comma ("55,5"), a
    "%" sign, or an Excel percent cell. An empty cell means "no target" (kept as NaN).

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        The targets file (``.csv``, ``.xlsx``) or a table already read.
    sheet : str or int, optional
        XLSX sheet (name or 0-based index); the first sheet by default.

    Returns
    -------
    pandas.DataFrame
        One row per hamlet: ``hamlet`` (cleaned NFC name), ``ma_thon`` when given, one
        float column per target found (keys of :data:`TARGETS`: ``hoang_hoa_dua_vao_su_dung``,
        ``ty_le_dat_chuan`` in %, ``so_vuon_mau``), and ``row`` (the row number in the file).
        ``attrs["source"]`` names the file, ``attrs["notes"]`` lists skipped rows.

    Raises
    ------
    SchemaError
        When no header row with a hamlet column and at least one target column is found.
    InputError
        When values are not numbers, negative, fractional counts, percentages over 100, a
        row has targets but no hamlet, or a hamlet is listed twice; every problem is listed
        with its row and column.
    """
    from ._io import read_table_rows

    rows, info = read_table_rows(source, sheet=sheet, what="targets table")
    where = f"'{info['path']}'" if info["path"] is not None else _msg("progress.where.table")
    if info.get("sheet"):
        where = _msg("progress.where.sheet", where=where, sheet=info["sheet"])
    header_at, found = _target_header(rows, where)
    header = ["" if c is None else str(c) for c in rows[header_at]]
    position = {field: header.index(column) for field, column in found.items()}
    formats = info.get("number_formats")
    # row numbers as the user sees them: spreadsheet rows / CSV lines (1-based); a
    # DataFrame's first data row is 1
    offset = 0 if info["path"] is None else 1
    records, errors, notes, seen = [], [], [], {}
    for i in range(header_at + 1, len(rows)):
        record = _target_record(rows[i], i + offset, position, header,
                                formats[i] if formats else None, errors, notes)  # fmt: skip
        if record is None:
            continue
        k = hamlet_key(record["hamlet"])
        if k in seen:
            errors.append(_msg("error.progress.target_twice", row=record["row"],
                               hamlet=record["hamlet"], other=seen[k]))  # fmt: skip
            continue
        seen[k] = record["row"]
        records.append(record)
    if errors:
        shown = errors[:12] + ([f"... and {len(errors) - 12} more"] if len(errors) > 12 else [])
        raise InputError(_msg("error.progress.targets_problems", where=where,
                              count=len(errors), problems="\n  ".join(shown)))  # fmt: skip
    if not records:
        raise InputError(_msg("error.progress.targets_empty", where=where))
    columns = ["hamlet"] + (["ma_thon"] if "ma_thon" in position else [])
    columns += [k for k in TARGETS if k in position] + ["row"]
    table = pd.DataFrame.from_records(records, columns=columns)
    for key in TARGETS:
        if key in table:
            table[key] = table[key].astype(float)
    table["hamlet"] = table["hamlet"].astype(object)
    table.attrs["source"] = str(info["path"]) if info["path"] is not None else None
    table.attrs["notes"] = notes
    return table


def _target_header(rows, where) -> tuple[int, dict]:
    """The header row (first 30 rows) with a hamlet and a target column; unknown ones warned."""
    aliases = {**_HAMLET_ALIASES, **{k: t.aliases for k, t in TARGETS.items()}}
    for i, row in enumerate(rows[:30]):
        cells = ["" if c is None else str(c) for c in row]
        found = match_columns(cells, aliases)
        if "hamlet" in found and any(k in found for k in TARGETS):
            unknown = [
                c
                for c in cells
                if c.strip() and c not in found.values() and header_key(c) not in _IGNORED
            ]
            if unknown:
                key = "warning.progress.unknown_target_columns"
                known = ", ".join(repr(t.label_vi) for t in TARGETS.values())
                warn(_msg(key, where=where, columns=", ".join(repr(c) for c in unknown),
                          known=known), ProgressWarning, where=where, what=key)  # fmt: skip
            return i, found
    expected = ", ".join(f"'{t.label_vi}'" for t in TARGETS.values())
    raise SchemaError(_msg("error.progress.no_target_header", where=where, expected=expected))


def _target_record(row, rownum, position, header, formats, errors, notes) -> dict | None:
    """One hamlet's targets from a row (problems appended to ``errors``), or None."""

    def cell(field):
        j = position.get(field)
        return row[j] if j is not None and j < len(row) else None

    values = [v for v in row if v is not None and not (isinstance(v, str) and not v.strip())]
    if not [v for v in values if not (isinstance(v, float) and math.isnan(v))]:
        return None
    name = cell("hamlet")
    name = clean_text(name) if isinstance(name, str) else name
    if isinstance(name, float) and math.isnan(name):
        name = None
    if isinstance(name, str) and fold(name) in _TOTAL_ROWS:
        notes.append(_msg("note.progress.total_row", row=rownum, name=name))
        return None
    record = {"hamlet": None if name is None else str(name)}
    if "ma_thon" in position:
        code = cell("ma_thon")
        record["ma_thon"] = clean_text(str(code)) if code is not None else None
    for key in TARGETS:
        if key not in position:
            continue
        j = position[key]
        fmt = formats[j] if formats and j < len(formats) else None
        number, problem = _parse_target(cell(key), fmt, TARGETS[key].unit)
        if problem:
            errors.append(_msg("error.progress.target_cell", row=rownum, column=header[j],
                               problem=problem))  # fmt: skip
        record[key] = np.nan if number is None else number
    if record["hamlet"] is None:
        errors.append(_msg("error.progress.target_no_hamlet", row=rownum, column=header[0]))
        return None
    record["row"] = rownum
    return record


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------

_REQUIRED = ("hamlet", "survey_class", "flag")


def read_result(result, *, what: str = "result"):
    """Read a run's result: the ``parcels`` layer and, when present, the ``hamlets`` layer.

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame, DataFrame or ntmgis.result.Result
        A result GeoPackage written by ``ntmgis run``, its parcels table, or the
        in-memory result (see :func:`ntmgis.result.as_result`).
    what : str, default "result"
        What it is, for messages ("baseline result", ...).

    Returns
    -------
    parcels : pandas.DataFrame or GeoDataFrame
        The parcels, with the contract's columns checked; ``area_m2`` and ``parcel_id``
        are derived from ``DIENTICH``/``sheet``+``parcel_no`` when absent, ``is_garden``
        from the flag and survey class when absent.
    hamlets : pandas.DataFrame or None
        The hamlets layer without geometry (``hamlet``, ``ma_thon``...) or None.
    """
    from .result import as_result

    res = as_result(result, what=what)
    parcels = res.parcels.copy()
    hamlets = _hamlet_table(res.hamlets)
    name = what if res.source == "(in memory)" else f"{what} '{res.source}'"
    missing = [c for c in _REQUIRED if c not in parcels.columns]
    if missing:
        raise SchemaError(_msg("error.progress.missing_columns", name=name,
                               columns=", ".join(missing)))  # fmt: skip
    if "parcel_id" not in parcels:
        if {"sheet", "parcel_no"} <= set(parcels.columns):
            parcels["parcel_id"] = (
                parcels["sheet"].astype(str) + "-" + parcels["parcel_no"].astype(str)
            )
        else:
            raise SchemaError(_msg("error.progress.no_parcel_id", name=name))
    if "area_m2" not in parcels:
        if "DIENTICH" in parcels:
            parcels["area_m2"] = pd.to_numeric(parcels["DIENTICH"], errors="coerce")
        elif hasattr(parcels, "geometry") and "geometry" in parcels:
            parcels["area_m2"] = parcels.geometry.area
        else:
            raise SchemaError(_msg("error.progress.no_area", name=name))
    if "is_garden" not in parcels:
        parcels["is_garden"] = parcels["flag"].notna() | parcels["survey_class"].notna()
    for column in ("survey_class", "flag"):
        parcels[column] = parcels[column].astype(object).where(parcels[column].notna(), None)
    bad = {
        column: sorted(set(parcels[column].dropna()) - set(allowed))
        for column, allowed in (("survey_class", SURVEY_CLASSES), ("flag", FLAGS))
    }
    bad = {k: v for k, v in bad.items() if v}
    if bad:
        detail = "; ".join(f"{k}: {', '.join(map(repr, v[:5]))}" for k, v in bad.items())
        raise InputError(_msg("error.progress.unknown_keys", name=name, detail=detail,
                              classes=", ".join(SURVEY_CLASSES),
                              flags=", ".join(FLAGS)))  # fmt: skip
    parcels["is_garden"] = parcels["is_garden"].fillna(False).astype(bool)
    parcels["area_m2"] = pd.to_numeric(parcels["area_m2"], errors="coerce").astype(float)
    return parcels, hamlets


def _hamlet_table(hamlets) -> pd.DataFrame | None:
    """The hamlets layer as a plain table with ``hamlet`` (and ``ma_thon``), or None."""
    if hamlets is None:
        return None
    hamlets = pd.DataFrame(hamlets).drop(columns="geometry", errors="ignore")
    if "hamlet" not in hamlets and "ten_thon" in hamlets:
        hamlets = hamlets.rename(columns={"ten_thon": "hamlet"})
    return hamlets if "hamlet" in hamlets else None


# --------------------------------------------------------------------------------------
# Campaign comparison
# --------------------------------------------------------------------------------------

_CARRY = ("hamlet", "household", "owner", "sheet", "parcel_no", "area_m2")


def compare_campaigns(baseline, followup) -> pd.DataFrame:
    """Compare two campaigns parcel by parcel: transitions and confirmed renovations.

    Parcels are matched on ``parcel_id`` (số tờ-số thửa). Every parcel of either campaign
    is in the answer; one present in only one campaign (a split or merged parcel, a new
    cadastral edition) says so in ``presence``.

    Parameters
    ----------
    baseline : str, os.PathLike, GeoDataFrame or DataFrame
        The earlier result (GeoPackage of ``ntmgis run`` or its parcels table).
    followup : str, os.PathLike, GeoDataFrame or DataFrame
        The later result.

    Returns
    -------
    pandas.DataFrame or geopandas.GeoDataFrame
        One row per parcel (a GeoDataFrame with the follow-up's geometry when it has one):
        ``parcel_id``, ``hamlet``, ``household``, ``owner``, ``sheet``, ``parcel_no``,
        ``area_m2`` (follow-up values, baseline ones for parcels gone since);
        ``survey_class_before``/``_after``, ``flag_before``/``_after``;
        ``survey_transition`` and ``flag_transition`` (``"hoang_hoa -> da_cai_tao"``, None
        when both are missing); ``survey_changed``, ``flag_changed``;
        ``abandoned_before``/``_after`` (survey or imagery says abandoned);
        ``renovated_reported`` (surveyed abandoned before, in use after),
        ``renovated_confirmed`` (reported and the follow-up flag is ``binh_thuong`` or
        ``cai_tao``, or flagged ``cai_tao`` while the survey still says abandoned);
        ``renovation``: None for parcels not abandoned before, else one of
        :data:`RENOVATION_CHECKS` (``xac_nhan`` confirmed, ``anh_chua_thay`` reported but
        the imagery still sees abandonment or doubt: visit, ``khong_du_lieu`` reported but
        too little imagery, ``anh_thay_chua_bao_cao`` the imagery saw abandonment before
        and use now but the survey does not say so, ``van_hoang_hoa`` still abandoned,
        ``chua_ro`` otherwise); ``presence`` (``ca_hai_dot``, ``chi_dot_truoc``,
        ``chi_dot_sau``).
    """
    before, _ = read_result(baseline, what="baseline result")
    after, _ = read_result(followup, what="follow-up result")
    for frame, name in ((before, "baseline"), (after, "follow-up")):
        dup = frame["parcel_id"][frame["parcel_id"].duplicated()]
        if len(dup):
            raise InputError(_msg("error.progress.duplicated_ids", name=name, count=len(dup),
                                  example=dup.iloc[0]))  # fmt: skip
    keep = ["parcel_id", *[c for c in _CARRY if c in after or c in before]]
    b = pd.DataFrame(before).reindex(columns=[*keep, "survey_class", "flag"])
    a = pd.DataFrame(after).reindex(columns=[*keep, "survey_class", "flag"])
    merged = a.merge(b, on="parcel_id", how="outer", suffixes=("_after", "_before"), indicator=True)
    out = pd.DataFrame({"parcel_id": merged["parcel_id"].astype(object)})
    for column in _CARRY:
        if column in keep:
            out[column] = merged[f"{column}_after"].where(
                merged["_merge"] != "right_only", merged[f"{column}_before"]
            )
    for column in ("survey_class", "flag"):
        for when in ("before", "after"):
            values = merged[f"{column}_{when}"].astype(object)
            out[f"{column}_{when}"] = values.where(values.notna(), None)
    out["presence"] = merged["_merge"].map(
        {"both": "ca_hai_dot", "right_only": "chi_dot_truoc", "left_only": "chi_dot_sau"}
    )
    out["presence"] = out["presence"].astype(object)
    for column in ("survey_class", "flag"):
        b_, a_ = out[f"{column}_before"], out[f"{column}_after"]
        transition = [
            None if x is None and y is None else f"{x or '-'} -> {y or '-'}" for x, y in zip(b_, a_)
        ]
        out[f"{column.replace('_class', '')}_transition"] = pd.Series(
            transition, index=out.index, dtype=object
        )
        out[f"{column.replace('_class', '')}_changed"] = [x != y for x, y in zip(b_, a_)]
    sb, sa = out["survey_class_before"], out["survey_class_after"]
    fb, fa = out["flag_before"], out["flag_after"]
    out["abandoned_before"] = sb.eq("hoang_hoa") | fb.eq("hoang_hoa")
    out["abandoned_after"] = sa.eq("hoang_hoa") | fa.eq("hoang_hoa")
    reported = sb.eq("hoang_hoa") & sa.isin(IN_USE_CLASSES)
    out["renovated_reported"] = reported
    # confirmed: in use on the imagery, or cleared this season after the survey (cai_tao)
    out["renovated_confirmed"] = (reported & fa.isin(IN_USE_FLAGS)) | (
        sb.eq("hoang_hoa") & fa.eq("cai_tao")
    )
    check = np.select(
        [
            ~out["abandoned_before"],
            out["renovated_confirmed"],
            reported & fa.isin(("hoang_hoa", "nghi_van")),
            reported,
            fb.eq("hoang_hoa") & fa.isin(IN_USE_FLAGS),
            out["abandoned_after"],
        ],
        [
            None,
            "xac_nhan",
            "anh_chua_thay",
            "khong_du_lieu",
            "anh_thay_chua_bao_cao",
            "van_hoang_hoa",
        ],
        default="chua_ro",
    )
    out["renovation"] = pd.Series(check, index=out.index, dtype=object)
    out = out.sort_values("parcel_id", key=_natural_key, kind="stable").reset_index(drop=True)
    geometry = getattr(after, "geometry", None) if "geometry" in after else None
    if geometry is not None:
        import geopandas as gpd

        geoms = pd.Series(after.geometry.values, index=after["parcel_id"].values)
        geo = gpd.GeoSeries(out["parcel_id"].map(geoms), crs=after.crs)
        return gpd.GeoDataFrame(out, geometry=geo, crs=after.crs)
    return out


def _natural_key(values: pd.Series) -> pd.Series:
    """Sort "2-10" after "2-9": zero-pad the digit runs."""
    return values.astype(str).str.replace(r"\d+", lambda m: m.group(0).zfill(8), regex=True)


# --------------------------------------------------------------------------------------
# Hamlet progress
# --------------------------------------------------------------------------------------


def hamlet_progress(
    result,
    targets,
    *,
    baseline=None,
    hamlets=None,
    renovations: str = "confirmed",
    cap: float = 200.0,
) -> pd.DataFrame:
    """Count each hamlet's gardens, measure its targets, and rank the hamlets.

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame or DataFrame
        The current result (GeoPackage of ``ntmgis run`` with layers ``parcels`` and
        ``hamlets``, or its parcels table with the contract's columns ``hamlet``,
        ``household``, ``area_m2``, ``is_garden``, ``survey_class``, ``flag``).
    targets : str, os.PathLike or pandas.DataFrame
        The targets (file or table), read by :func:`read_targets`. Hamlets are matched
        by name without diacritics, case or a "Thôn" prefix, or by ``ma_thon``.
    baseline : str, os.PathLike, GeoDataFrame or DataFrame, optional
        The earlier campaign's result; gives abandoned gardens at baseline and the
        renovations since (:func:`compare_campaigns`). Without it, the survey's "vườn đã
        cải tạo" class stands for the reported renovations.
    hamlets : GeoDataFrame or DataFrame, optional
        The hamlets (``hamlet`` or ``ten_thon``, and ``ma_thon``): their order and codes,
        and hamlets without parcels. Read from the result's ``hamlets`` layer when not
        given.
    renovations : {"confirmed", "reported"}, default "confirmed"
        Which renovations count towards ``hoang_hoa_dua_vao_su_dung``: those the imagery
        confirms (flag ``binh_thuong`` or ``cai_tao``) or every reported one.
    cap : float, default 200
        Each target's progress counts at most ``cap`` % in the score, so one easy
        target does not outweigh the others.

    Returns
    -------
    pandas.DataFrame
        One row per hamlet, in rank order (hamlets without targets last). Columns:
        ``hamlet``, ``ma_thon`` (when known), ``parcels``, ``households`` (distinct
        household ids), ``gardens``, ``garden_area_m2``; for each survey class ``c``
        (and ``chua_khao_sat``, gardens not surveyed) ``n_<c>`` and ``area_<c>``; for each
        flag ``f`` ``n_flag_<f>`` and ``area_flag_<f>``; ``abandoned_baseline_survey``,
        ``abandoned_baseline_imagery`` (NaN without baseline), ``abandoned_survey``,
        ``abandoned_imagery``; ``renovated_reported``, ``renovated_confirmed``; for each
        target ``t`` in the table: ``target_<t>``, ``achieved_<t>``, ``progress_<t>``
        (achieved / target in %, 0.1 precision; NaN for no target or a zero target) and
        ``status_<t>``; then ``targets_set`` (how many), ``score`` (mean of the capped
        progress of the targets set), ``status``, ``rank`` (1 = best score; equal scores
        share a rank; NA without targets), ``tie`` (shares its rank), ``reward_priority``
        (exceeded hamlets first, then met ones, by score; NA for the others).
        ``attrs`` holds ``renovations``, ``baseline`` (bool) and ``cap``.

    Raises
    ------
    InputError
        When the targets name a hamlet the result does not have.
    """
    if renovations not in ("confirmed", "reported"):
        raise InputError(_msg("error.progress.renovations", value=renovations))
    parcels, hamlet_layer = read_result(result, what="result")
    if hamlets is not None:
        hamlet_layer = _hamlet_table(hamlets)
        if hamlet_layer is None:
            raise SchemaError(_msg("error.progress.hamlets_no_name"))
    table = read_targets(targets) if not _is_target_table(targets) else targets.copy()
    parcels = pd.DataFrame(parcels).drop(columns="geometry", errors="ignore")
    not_hamlet = frozenset()
    if "place_kind" in parcels:  # fields, forests, water (ntmgis.places): not hamlets
        keep = parcels["place_kind"].map(is_hamlet_kind).astype(bool)
        not_hamlet = frozenset(parcels.loc[~keep, "parcel_id"])
        parcels = parcels[keep].copy()
    parcels = _clean_hamlets(parcels)
    names, codes = _hamlet_names(parcels, hamlet_layer)
    by_key = {hamlet_key(n): n for n in names}
    target_keys = [k for k in TARGETS if k in table]
    matched = _match_targets(table, target_keys, names, by_key, codes)
    ind, base = _indicators(parcels, baseline, by_key, skip=not_hamlet)
    out = _hamlet_counts(ind, base, parcels, names, codes)
    scores = _measure_targets(out, target_keys, matched, renovations=renovations, cap=cap)
    out = _rank(out, scores, target_keys)
    out.attrs.update({"renovations": renovations, "baseline": baseline is not None, "cap": cap})
    logger.info("hamlet progress: %d hamlets, %d targets", len(out), len(target_keys))
    return out


def _clean_hamlets(parcels: pd.DataFrame) -> pd.DataFrame:
    """Parcels' hamlet names cleaned (NFC, spaces); missing ones counted as unknown."""
    parcels["hamlet"] = parcels["hamlet"].map(
        lambda v: clean_text(v) if isinstance(v, str) else None
    )
    parcels["hamlet"] = parcels["hamlet"].astype(object).where(parcels["hamlet"].notna(), None)
    if parcels["hamlet"].isna().any():
        n = int(parcels["hamlet"].isna().sum())
        warn(_msg("warning.progress.no_hamlet", count=n, unknown=UNKNOWN_HAMLET),
             ProgressWarning, what="warning.progress.no_hamlet")  # fmt: skip
        parcels["hamlet"] = parcels["hamlet"].fillna(UNKNOWN_HAMLET)
    return parcels


def _hamlet_names(parcels: pd.DataFrame, hamlet_layer) -> tuple[list[str], dict[str, str]]:
    """The hamlets, in the hamlet layer's order, then any others found in the parcels.

    Parcels' hamlet names spelt differently from the hamlet layer take the layer's name
    (``parcels`` is changed in place). Returns the names and their codes (``ma_thon``).
    """
    names: list[str] = []
    codes: dict[str, str] = {}
    if hamlet_layer is not None:
        for _, h in hamlet_layer.iterrows():
            name = clean_text(h["hamlet"]) if isinstance(h["hamlet"], str) else None
            if name and name not in names:
                names.append(name)
                if "ma_thon" in h and isinstance(h["ma_thon"], str):
                    codes[name] = h["ma_thon"]
    layer_names = {hamlet_key(n): n for n in names}
    parcels["hamlet"] = parcels["hamlet"].map(lambda n: layer_names.get(hamlet_key(n), n))
    for name in parcels["hamlet"].unique():
        if name not in names:
            names.append(name)
    return names, codes


def _match_targets(table, target_keys, names, by_key, codes) -> dict[str, dict]:
    """Each target row's hamlet (by name, else by code): hamlet -> {target: value}."""
    by_code = {fold(c): n for n, c in codes.items()}
    matched: dict[str, dict] = {}
    unknown = []
    for _, row in table.iterrows():
        name = by_key.get(hamlet_key(row["hamlet"]))
        if name is None and isinstance(row.get("ma_thon"), str):
            name = by_code.get(fold(row["ma_thon"]))
        if name is None:
            unknown.append(_msg("error.progress.hamlet_row", hamlet=row["hamlet"],
                                row=row.get("row", "?")))  # fmt: skip
            continue
        matched[name] = {k: row[k] for k in target_keys}
    if unknown:
        known = ", ".join(n for n in names if n != UNKNOWN_HAMLET)
        raise InputError(_msg("error.progress.unknown_hamlets", names=", ".join(unknown),
                              known=known))  # fmt: skip
    return matched


def _indicators(parcels, baseline, by_key, skip=frozenset()):
    """Per-parcel 0/1 indicators and areas, and the baseline's per-hamlet counts (or None)."""
    gardens = parcels["is_garden"]
    area = parcels["area_m2"].fillna(0.0)
    ind = pd.DataFrame({"hamlet": parcels["hamlet"]})
    ind["parcels"] = 1
    ind["gardens"] = gardens.astype(int)
    ind["garden_area_m2"] = area.where(gardens, 0.0)
    for c in SURVEY_CLASSES:
        hit = parcels["survey_class"].eq(c)
        ind[f"n_{c}"] = hit.astype(int)
        ind[f"area_{c}"] = area.where(hit, 0.0)
    unsurveyed = gardens & parcels["survey_class"].isna()
    ind["n_chua_khao_sat"] = unsurveyed.astype(int)
    ind["area_chua_khao_sat"] = area.where(unsurveyed, 0.0)
    for f in FLAGS:
        hit = parcels["flag"].eq(f)
        ind[f"n_flag_{f}"] = hit.astype(int)
        ind[f"area_flag_{f}"] = area.where(hit, 0.0)
    ind["abandoned_survey"] = parcels["survey_class"].eq("hoang_hoa").astype(int)
    ind["abandoned_imagery"] = parcels["flag"].eq("hoang_hoa").astype(int)
    if baseline is None:
        reported = parcels["survey_class"].eq("da_cai_tao")
        ind["renovated_reported"] = reported.astype(int)
        confirmed = (reported & parcels["flag"].isin(IN_USE_FLAGS)) | (
            parcels["survey_class"].eq("hoang_hoa") & parcels["flag"].eq("cai_tao")
        )
        ind["renovated_confirmed"] = confirmed.astype(int)
        return ind, None
    comparison = compare_campaigns(baseline, parcels)
    comparison = pd.DataFrame(comparison).drop(columns="geometry", errors="ignore")
    comparison = comparison[~comparison["parcel_id"].isin(skip)].copy()  # not hamlets
    comparison["hamlet"] = comparison["hamlet"].map(
        lambda v: clean_text(v) if isinstance(v, str) else UNKNOWN_HAMLET
    )
    comparison["hamlet"] = comparison["hamlet"].map(lambda n: by_key.get(hamlet_key(n), n))
    gone = comparison["presence"].eq("chi_dot_truoc")
    if gone.any():
        example = comparison.loc[gone, "parcel_id"].iloc[0]
        warn(_msg("warning.progress.parcels_gone", count=int(gone.sum()), example=example),
             ProgressWarning, where=str(example), what="warning.progress.parcels_gone")  # fmt: skip
    base = pd.DataFrame({"hamlet": comparison["hamlet"]})
    base["abandoned_baseline_survey"] = comparison["survey_class_before"].eq("hoang_hoa")
    base["abandoned_baseline_imagery"] = comparison["flag_before"].eq("hoang_hoa")
    base["renovated_reported"] = comparison["renovated_reported"]
    base["renovated_confirmed"] = comparison["renovated_confirmed"]
    return ind, base.groupby("hamlet", sort=False).sum().astype(int)


def _hamlet_counts(ind, base, parcels, names, codes) -> pd.DataFrame:
    """The indicators summed per hamlet, in ``names`` order, with households and codes."""
    stats = ind.groupby("hamlet", sort=False).sum()
    stats["households"] = (
        parcels.groupby("hamlet", sort=False)["household"].nunique()
        if "household" in parcels
        else 0
    )
    stats = stats.reindex(names)
    stats.index.name = "hamlet"
    if base is not None:
        for name in base.index:
            if name not in stats.index:
                stats.loc[name] = np.nan
        stats = stats.join(base, how="left")
    else:
        stats["abandoned_baseline_survey"] = np.nan
        stats["abandoned_baseline_imagery"] = np.nan
    area_cols = [c for c in stats.columns if c.startswith("area_") or c == "garden_area_m2"]
    keep_nan = (
        [] if base is not None else ["abandoned_baseline_survey", "abandoned_baseline_imagery"]
    )
    for column in stats.columns:
        if column in area_cols:
            stats[column] = stats[column].fillna(0.0).astype(float).round(1)
        elif column not in keep_nan:
            stats[column] = stats[column].fillna(0).astype(int)
    out = stats.reset_index()
    out.insert(2, "households", out.pop("households"))
    if codes:
        out.insert(1, "ma_thon", out["hamlet"].map(codes).astype(object))
    return out


def _measure_targets(out, target_keys, matched, *, renovations, cap) -> pd.DataFrame:
    """Add target, achieved, progress and status columns to ``out``; return the scores.

    What each target counts is its registry entry's ``achieved`` rule
    (:data:`ntmgis.registry.TARGETS`).
    """
    scores = pd.DataFrame(index=out.index)
    for key in target_keys:
        goal = out["hamlet"].map(lambda n, key=key: matched.get(n, {}).get(key, np.nan))
        goal = goal.astype(float)
        got = TARGETS[key].achieved(out, renovations=renovations)
        out[f"target_{key}"] = goal
        out[f"achieved_{key}"] = got
        with np.errstate(divide="ignore", invalid="ignore"):
            pct = np.where(goal > 0, np.round(100.0 * got / goal, 1), np.nan)
        out[f"progress_{key}"] = pct
        status = np.select(
            [goal.isna(), got > goal + 1e-9, np.abs(got - goal) <= 1e-9],
            ["khong_chi_tieu", "vuot", "dat"],
            default="chua_dat",
        )
        out[f"status_{key}"] = pd.Series(status, index=out.index, dtype=object)
        # zero target: met counts 100 %, exceeded counts the cap
        contrib = np.where(goal > 0, np.minimum(pct, cap), np.where(got > 0, cap, 100.0))
        scores[key] = np.where(goal.isna(), np.nan, contrib)
    return scores


def _overall_status(given: list[str]) -> str:
    """A hamlet's status from its targets' statuses (``khong_chi_tieu`` left out)."""
    given = [s for s in given if s != "khong_chi_tieu"]
    if not given:
        return "khong_chi_tieu"
    if "chua_dat" in given:
        return "chua_dat"
    return "vuot" if all(s == "vuot" for s in given) else "dat"


def _rank(out, scores, target_keys) -> pd.DataFrame:
    """Score, status, rank, ties and reward priority; rows in rank order."""
    statuses = out[[f"status_{k}" for k in target_keys]] if target_keys else pd.DataFrame()
    out["targets_set"] = (scores.notna().sum(axis=1) if target_keys else 0).astype(int)
    out["score"] = np.round(scores.mean(axis=1), 1) if target_keys else np.nan
    overall = [_overall_status(list(statuses.loc[i]) if target_keys else []) for i in out.index]
    out["status"] = pd.Series(overall, index=out.index, dtype=object)
    ranked = out["status"].ne("khong_chi_tieu")
    rank = out["score"].where(ranked).rank(method="min", ascending=False)
    out["rank"] = rank.astype("Int64")
    out["tie"] = ranked & out["rank"].duplicated(keep=False).fillna(False).astype(bool)
    out["tie"] = out["tie"].astype(bool)
    order = {"vuot": 0, "dat": 1}
    eligible = out["status"].isin(order)
    prio_key = out["status"].map(order).astype(float) * 1e6 - out["score"].fillna(0)
    out["reward_priority"] = prio_key.where(eligible).rank(method="min").astype("Int64")
    # tied hamlets (and those without targets) keep the hamlet layer's order
    out["_order"] = range(len(out))
    out = out.sort_values(["rank", "_order"], na_position="last").drop(columns="_order")
    return out.reset_index(drop=True)


def _is_target_table(targets) -> bool:
    return (
        isinstance(targets, pd.DataFrame)
        and "hamlet" in targets
        and "row" in targets
        and any(k in targets for k in TARGETS)
    )


def format_ranking(progress_table: pd.DataFrame, *, lang: str | None = None) -> str:
    """The ranked hamlets as a plain-text table, for the terminal and logs.

    Parameters
    ----------
    progress_table : pandas.DataFrame
        The output of :func:`hamlet_progress`.
    lang : {"vi", "en"}, optional
        Language of the headers, statuses and numbers (a decimal comma in Vietnamese);
        default the language in force (:func:`ntmgis.i18n.get_language`).

    Returns
    -------
    str
        One line per hamlet: rank ("=" marks a tie), hamlet, for each target
        "achieved/target (progress %)", score, status and reward priority.
    """
    lang = lang or i18n.get_language()
    vi = lang == "vi"

    def num(text: str) -> str:
        return text.replace(".", ",") if vi else text

    keys = [k for k in TARGETS if f"target_{k}" in progress_table]
    short = {
        "hoang_hoa_dua_vao_su_dung": ("HH đưa vào SD", "Abandoned reused"),
        "ty_le_dat_chuan": ("Đạt chuẩn %", "Standard %"),
        "so_vuon_mau": ("Vườn mẫu", "Model"),
    }
    header = [
        "Hạng" if vi else "Rank",
        "Thôn" if vi else "Hamlet",
        *[short[k][0 if vi else 1] for k in keys],
        "Điểm %" if vi else "Score %",
        "Đánh giá" if vi else "Status",
        "Ưu tiên KT" if vi else "Reward",
    ]
    lines = []
    for _, row in progress_table.iterrows():
        rank = "" if pd.isna(row["rank"]) else f"{int(row['rank'])}{'=' if row['tie'] else ''}"
        cells = [rank, str(row["hamlet"])]
        for k in keys:
            goal, got, pct = row[f"target_{k}"], row[f"achieved_{k}"], row[f"progress_{k}"]
            if pd.isna(goal):
                cells.append("-")
                continue
            fmt = "{:g}"
            text = f"{fmt.format(got)}/{fmt.format(goal)}"
            if not pd.isna(pct):
                # "100%" only when exactly met: 100.4 shows as 100.4
                shown = f"{pct:.0f}" if round(pct) != 100 or pct == 100 else f"{pct:.1f}"
                text += f" ({shown}%)"
            cells.append(num(text))
        cells.append("" if pd.isna(row["score"]) else num(f"{row['score']:.1f}"))
        cells.append(label(row["status"], "status", lang=lang))
        prio = row["reward_priority"]
        cells.append("" if pd.isna(prio) else str(int(prio)))
        lines.append(cells)
    widths = [max(len(str(r[i])) for r in [header, *lines]) for i in range(len(header))]
    out = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header, *lines]]
    out.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(out)
