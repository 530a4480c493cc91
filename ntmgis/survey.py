"""The Step 2 garden survey: read it, normalise it, join it to the parcels.

* :func:`read_survey` reads the commune's spreadsheet (CSV in UTF-8, UTF-8 with BOM,
  cp1258, TCVN3 or VNI; XLSX), finds the header row under the title rows, matches
  Vietnamese headers by aliases, normalises the garden class through a :class:`Codebook`
  and records every repair and problem with its row number.
* :func:`join_survey` joins the survey to the parcels by (số tờ, số thửa), by household
  id, or spatially from GPS points, and returns every parcel with a ``survey_status``
  and a :class:`JoinReport` whose counts add up.

Row numbers (``survey_row``) are those the user sees: the row in the XLSX sheet, the line
in the CSV file.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import logging
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ._gc import collector_paused
from .errors import ConfigError, InputError, SchemaError, SurveyWarning, warn
from .i18n import CATALOGUE, get_language, register, register_all
from .i18n import message as _say
from .places import hamlet_key
from .registry import HAMLET_HEADERS
from .text import (
    Metadata,
    _per_value,
    clean_text,
    fold,
    header_key,
    match_columns,
    normalise_tone_placement,
    parse_vn_number,
    repair_column,
    repair_text,
)

logger = logging.getLogger(__name__)

# The survey's user-facing sentences (ntmgis.i18n catalogue): key -> (vi, en).
_MESSAGES = {
    "error.survey.codebook_empty": (
        "Bộ mã phân loại vườn không có loại vườn nào: thêm ít nhất một mục [[classes]] có "
        "code và label vào tệp bộ mã.",
        "The garden-class codebook has no class: add at least one [[classes]] entry with a "
        "code and a label to the codebook file.",
    ),
    "error.survey.codebook_duplicate_codes": (
        "Bộ mã '{name}': các mã loại vườn bị trùng ({codes}). Mỗi loại vườn cần một mã riêng; "
        "sửa lại tệp bộ mã.",
        "Codebook '{name}': duplicate class codes ({codes}). Each garden class needs its own "
        "code; correct the codebook file.",
    ),
    "error.survey.codebook_spelling_twice": (
        "Bộ mã '{name}': cách viết '{spelling}' được gán cho cả hai loại '{first}' và "
        "'{second}'. Chỉ giữ cách viết này ở một loại vườn trong tệp bộ mã.",
        "Codebook '{name}': the spelling '{spelling}' is given to both '{first}' and "
        "'{second}'. Keep it under one garden class only in the codebook file.",
    ),
    "error.survey.codebook_toml": (
        "Tệp bộ mã '{where}' viết sai cú pháp TOML ({problem}). Mở tệp, sửa dòng được nêu rồi "
        "chạy lại.",
        "The codebook file '{where}' is not valid TOML ({problem}). Open it, correct the line "
        "named and run again.",
    ),
    "error.survey.codebook_class_incomplete": (
        "Tệp bộ mã '{where}': loại vườn thứ {number} thiếu {missing}. Mỗi mục [[classes]] cần "
        "có code = '...' và label = '...'.",
        "Codebook file '{where}': class {number} has no {missing}. Each [[classes]] entry "
        "needs code = '...' and label = '...'.",
    ),
    "error.survey.no_header": (
        "Không tìm thấy dòng tiêu đề trong 30 dòng đầu của {where}: cần các cột như 'Số tờ', "
        "'Số thửa', 'Mã hộ', 'Phân loại vườn'. Đây có đúng là bảng khảo sát không? Nếu bảng "
        "khảo sát ở trang tính khác, ghi tên trang đó vào survey_sheet trong mục [inputs] "
        "của tệp cấu hình (hoặc ô 'Trang tính' của plugin); nếu tiêu đề đặt tên khác, đổi "
        "tên cột trong tệp cho giống các tên trên.",
        "No header row in the first 30 rows of {where}: expected headers such as 'Số tờ', "
        "'Số thửa', 'Mã hộ', 'Phân loại vườn'. Is this the survey sheet? If the survey is "
        "on another worksheet, give its name as survey_sheet in the run config's [inputs] "
        "(or the plugin's Worksheet field); if the headers are named otherwise, rename them "
        "in the file to the names above.",
    ),
    "error.survey.field_missing": (
        "Cột '{header}' được chọn cho khảo sát nhưng không có trong {where}. Các cột có trong "
        "tệp: {found}. Chọn lại đúng tên cột.",
        "The column '{header}' chosen for the survey is not in {where}. Its columns: {found}. "
        "Choose one of them.",
    ),
    "error.survey.no_key_column": (
        "{where} không có cột nào để ghép khảo sát với thửa đất: cần 'Số tờ' và 'Số thửa', "
        "hoặc 'Mã hộ', hoặc tọa độ GPS (Kinh độ, Vĩ độ). Các cột tìm thấy: {found}. Nếu các "
        "cột này đặt tên khác, đổi tên tiêu đề trong tệp thành 'Số tờ', 'Số thửa' hoặc "
        "'Mã hộ'.",
        "No key column in {where}: need 'Số tờ' and 'Số thửa', or 'Mã hộ', or GPS "
        "coordinates (Kinh độ, Vĩ độ) to join the survey to the parcels. Headers found: "
        "{found}. If they are named otherwise, rename the headers in the file to 'Số tờ', "
        "'Số thửa' or 'Mã hộ'.",
    ),
    "error.survey.cannot_join": (
        "Không ghép được khảo sát {survey} với thửa đất {parcels}: khảo sát không có số tờ và "
        "số thửa, không có mã hộ trùng với mã hộ của thửa đất, cũng không có tọa độ. Điền số "
        "tờ, số thửa (hoặc mã hộ) vào bảng khảo sát.",
        "Cannot join the survey {survey} to the parcels {parcels}: the survey has no map "
        "sheet and parcel numbers, no household id matching the parcels' and no "
        "coordinates. Fill in 'Số tờ' and 'Số thửa' (or 'Mã hộ') in the survey.",
    ),
    "error.survey.on_parcel": (
        "Đã chọn ghép theo số tờ và số thửa, nhưng khảo sát {survey} không có giá trị nào ở "
        "các cột 'Số tờ' và 'Số thửa'. Điền các cột đó, hoặc chọn cách ghép khác (tự động).",
        "Joining by map sheet and parcel number was chosen, but the survey {survey} has no "
        "values in 'Số tờ' and 'Số thửa'. Fill them in, or choose another way to join "
        "(automatic).",
    ),
    "error.survey.on_household": (
        "Đã chọn ghép theo mã hộ, nhưng khảo sát {survey} hoặc thửa đất {parcels} không có "
        "mã hộ ('Mã hộ' trong khảo sát, MAHO trong thửa đất). Điền mã hộ, hoặc chọn cách "
        "ghép khác (tự động).",
        "Joining by household id was chosen, but the survey {survey} or the parcels "
        "{parcels} have no household ids ('Mã hộ' in the survey, MAHO in the parcels). Fill "
        "them in, or choose another way to join (automatic).",
    ),
    "error.survey.on_spatial": (
        "Đã chọn ghép theo vị trí GPS, nhưng khảo sát {survey} không có tọa độ (Kinh độ và "
        "Vĩ độ, hoặc X và Y). Thêm các cột tọa độ, hoặc chọn cách ghép khác (tự động).",
        "Joining by GPS position was chosen, but the survey {survey} has no coordinates "
        "(Kinh độ and Vĩ độ, or X and Y). Add them, or choose another way to join "
        "(automatic).",
    ),
    "error.survey.on_unknown": (
        "Cách ghép khảo sát '{on}' không có: chọn tự động (auto), theo số tờ và số thửa "
        "(parcel), theo mã hộ (household) hoặc theo vị trí GPS (spatial).",
        "There is no way to join the survey called '{on}': choose automatic (auto), by map "
        "sheet and parcel number (parcel), by household id (household) or by GPS position "
        "(spatial).",
    ),
    "error.survey.parcels_no_crs": (
        "Thửa đất {parcels} không có hệ tọa độ: không thể đặt các điểm GPS của khảo sát lên "
        "thửa đất. Gán hệ tọa độ VN-2000 cho lớp thửa đất (tệp .prj hoặc trong QGIS) rồi "
        "chạy lại.",
        "The parcels {parcels} have no coordinate reference system: the survey's GPS points "
        "cannot be placed on them. Give the parcel layer its VN-2000 CRS (a .prj file, or in "
        "QGIS) and run again.",
    ),
    "error.survey.nothing_matches": (
        "Không dòng nào của khảo sát {survey} khớp với một thửa đất của {parcels} (ghép theo "
        "{mode}; lý do của dòng đầu: {first}). Hai tệp có cùng một xã không, và số tờ, số "
        "thửa có nằm đúng cột không?",
        "No survey row of {survey} matches a parcel of {parcels} (joined by {mode}; first "
        "reason: {first}). Are these the same commune's files, and are số tờ and số thửa in "
        "the right columns?",
    ),
    "warning.survey.no_class_column": (
        "{where} không có cột phân loại vườn ('Phân loại vườn'): loại vườn để trống. Thêm cột "
        "này vào tệp khảo sát nếu đã phân loại.",
        "No garden-class column ('Phân loại vườn') in {where}: garden_class is empty. Add "
        "the column to the survey file if the gardens were classified.",
    ),
    "warning.survey.other_sheets": (
        "{where}: chỉ trang '{read}' được đọc, nhưng {count} trang khác cũng có bảng khảo "
        "sát (số dòng): {sheets}. Các dòng đó không được ghép. Gộp các trang vào một trang, "
        "hoặc chạy riêng từng trang (survey_sheet trong mục [inputs]).",
        "{where}: only the sheet '{read}' is read, but {count} other sheet(s) also hold a "
        "survey table (rows): {sheets}. Those rows are not joined. Put them in one sheet, "
        "or run each sheet (survey_sheet in [inputs]).",
    ),
    "warning.survey.unknown_class": (
        "{where}: {count} giá trị phân loại vườn không có trong bộ mã, ở dòng {rows}; được "
        "báo cáo, không đoán (xem danh sách vấn đề). Sửa các ô đó cho đúng tên loại vườn, "
        "hoặc thêm cách viết đó vào bộ mã.",
        "{where}: {count} unknown garden class value(s) at row(s) {rows}; they are "
        "reported, not guessed (see the report's issues). Correct the cells to a class "
        "name, or add the spelling to the codebook.",
    ),
}
register_all(_MESSAGES)

# What reading the survey noted on its rows (the issues' ``message``), in the language in
# force: key -> (vi, en).
_READ_NOTES = {
    "survey.in_memory": ("DataFrame đã nạp", "the survey table"),
    "survey.read.where_sheet": ("{name}, trang tính '{sheet}'", "{name}, sheet '{sheet}'"),
    "survey.read.where_rows": ("{where}, dòng {rows}", "{where}, row(s) {rows}"),
    "survey.read.text_rows": (" (dòng {rows})", " (rows {rows})"),
    "survey.read.bad_key": (
        "dòng {row}: {label} '{value}' không phải là số nguyên; không ghép được dòng này theo "
        "số tờ, số thửa.",
        "row {row}: {label} '{value}' is not a whole number; the row cannot be joined by "
        "parcel key."),
    "survey.read.bad_sheet_parcel": (
        "dòng {row}: '{value}' không có dạng 'tờ/thửa' (ví dụ 12/345); không ghép được dòng "
        "này theo số tờ, số thửa.",
        "row {row}: '{value}' is not 'tờ/thửa' (e.g. 12/345); the row cannot be joined by "
        "parcel key."),
    "survey.read.name_spaces": ("dòng {row}: đã bỏ dấu cách thừa trong tên '{text}'.",
                                "row {row}: stray spaces in the name '{text}' removed."),
    "survey.read.area_thousands": (
        "dòng {row}: diện tích '{value}' được đọc là {number} m² (dấu chấm phân cách hàng "
        "nghìn).",
        "row {row}: area '{value}' read as {number} m² (the dot separates thousands)."),
    "survey.read.area_decimal_comma": (
        "dòng {row}: diện tích '{value}' được đọc là {number} m² (dấu phẩy thập phân).",
        "row {row}: area '{value}' read as {number} m² (decimal comma)."),
    "survey.read.area_unreadable": ("dòng {row}: diện tích '{value}' không phải là số; để trống.",
                                    "row {row}: area '{value}' is not a number; left empty."),
    "survey.read.area_not_positive": (
        "dòng {row}: diện tích {number} m² không phải là số dương; để trống.",
        "row {row}: area {number} m² is not positive; left empty."),
    "survey.read.missing_class": ("dòng {row}: chưa phân loại vườn.",
                                  "row {row}: no garden class."),
    "survey.read.unknown_class": (
        "dòng {row}: phân loại vườn '{text}' không có trong bộ mã{tip}. Các loại vườn trong bộ "
        "mã: {labels}. Sửa ô này, hoặc thêm cách viết này vào bộ mã.",
        "row {row}: garden class '{text}' is not in the codebook{tip}. Allowed: {labels}. "
        "Correct the cell or add an alias to the codebook."),
    "survey.read.did_you_mean": (" (có phải là '{label}' không? chưa tự sửa)",
                                 " (did you mean '{label}'? not applied)"),
    "survey.read.class_fixed": ("dòng {row}: phân loại vườn '{text}' được đọc là '{label}' "
                                "({fix}).",
                                "row {row}: garden class '{text}' read as '{label}' ({fix})."),
    "survey.read.fix.spaces": ("dấu cách thừa", "spaces"),
    "survey.read.fix.old_tone": ("bỏ dấu kiểu cũ", "old_tone"),
    "survey.read.fix.case": ("viết hoa, thường khác", "case"),
    "survey.read.fix.no_diacritics": ("viết không dấu", "no_diacritics"),
    "survey.read.fix.diacritics": ("sai hoặc thiếu dấu", "diacritics"),
    "survey.read.fix.abbreviation": ("viết tắt", "abbreviation"),
    "survey.read.fix.alias": ("viết theo tên khác", "alias"),
    "survey.read.fix.qualifier": ("bỏ qua ghi chú trong ngoặc", "the note in brackets left out"),
    "survey.read.bad_date": (
        "dòng {row}: ngày '{value}' {problem} (cần ghi theo dạng ngày/tháng/năm, dd/mm/yyyy); "
        "để trống.",
        "row {row}: date '{value}' is {problem} (expected dd/mm/yyyy); left empty."),
    "survey.read.date.unreadable": ("không đọc được", "unreadable"),
    "survey.read.date.impossible": ("không có thật trên lịch", "impossible"),
    "survey.read.hamlet_spaces": ("dòng {row}: có dấu cách thừa trong '{text}'.",
                                  "row {row}: stray spaces in '{text}'."),
    "survey.read.hamlet_old_tone": (
        "dòng {row}: tên thôn '{spaced}' được viết lại thành '{toned}' (bỏ dấu kiểu mới).",
        "row {row}: hamlet '{spaced}' written '{toned}' (modern tone placement)."),
    "survey.read.hamlet_written": ("dòng {row}: tên thôn '{name}' được viết thống nhất thành "
                                   "'{target}'.",
                                   "row {row}: hamlet '{name}' written '{target}'."),
}  # fmt: skip
register_all(_READ_NOTES)


def _number(value: float) -> str:
    """A number as a note says it: ``{:g}``, with a decimal comma in Vietnamese."""
    text = f"{value:g}"
    return text.replace(".", ",") if get_language() == "vi" else text


def _said_fix(fix: str) -> str:
    """What was repaired in a garden-class cell, in words in Vietnamese (the key in English)."""
    key = f"survey.read.fix.{fix}"
    return _say(key) if key in CATALOGUE else fix


def _said_source(name: str, lang: str | None = None) -> str:
    """A source's name in ``lang`` (default the language in force).

    A file is named by its path; an in-memory input by the catalogue's words for it,
    whatever the language it was read in.
    """
    for key in ("survey.in_memory", "parcels.in_memory"):
        if key in CATALOGUE and name in CATALOGUE[key].values():
            return _say(key, lang)
    return name


# What the join report's items and kinds of issue are called (the printed report).
_COUNT_LABELS = {
    "parcels": ("Số thửa đất trên bản đồ địa chính", "Parcels on the cadastral map"),
    "survey_rows": ("Số dòng trong bảng khảo sát", "Rows of the survey"),
    "matched_rows": ("Số dòng khảo sát ghép được với thửa đất", "Survey rows joined to a parcel"),
    "unmatched_rows": ("Số dòng khảo sát không ghép được với thửa đất nào",
                       "Survey rows joined to no parcel"),
    "duplicate_rows": ("Trong số dòng ghép được: số dòng trùng thửa với một dòng trước",
                       "Of the joined rows: rows for a parcel an earlier row has"),
    "parcels_matched": ("Số thửa có đúng một dòng khảo sát", "Parcels with one survey row"),
    "parcels_duplicate_survey": ("Số thửa có nhiều dòng khảo sát (lấy dòng đầu)",
                                 "Parcels with several survey rows (the first one used)"),
    "parcels_ambiguous": ("Số thửa trùng số hiệu với thửa khác nên chưa ghép được",
                          "Parcels sharing their key with another, not joined"),
    "parcels_no_survey": ("Số thửa không có dòng khảo sát", "Parcels with no survey row"),
}  # fmt: skip
_KIND_LABELS = {
    "bad_key": ("Số tờ hoặc số thửa không đọc được", "Sheet or parcel number unreadable"),
    "name_spaces": ("Tên chủ hộ có dấu cách thừa (đã bỏ)", "Stray spaces in a name (removed)"),
    "hamlet_spaces": ("Tên thôn có dấu cách thừa (đã bỏ)", "Stray spaces in a hamlet (removed)"),
    "hamlet_old_tone": ("Tên thôn bỏ dấu kiểu cũ (đã sửa)", "Hamlet in old tone placement (fixed)"),
    "hamlet_no_diacritics": ("Tên thôn viết không dấu (đã sửa)",
                             "Hamlet without diacritics (fixed)"),
    "hamlet_case": ("Tên thôn viết hoa, thường khác (đã sửa)", "Hamlet in another case (fixed)"),
    "hamlet_spelling": ("Tên thôn viết khác (đã viết thống nhất)",
                        "Hamlet spelt another way (written the one way)"),
    "area_thousands_separator": ("Diện tích có dấu chấm hàng nghìn (đã đọc)",
                                 "Area with a thousands dot (read)"),
    "area_decimal_comma": ("Diện tích có dấu phẩy thập phân (đã đọc)",
                           "Area with a decimal comma (read)"),
    "bad_area": ("Diện tích không đọc được (để trống)", "Area unreadable (left empty)"),
    "missing_class": ("Chưa phân loại vườn", "No garden class"),
    "unknown_class": ("Phân loại vườn không có trong bộ mã", "Garden class not in the codebook"),
    "class_spaces": ("Phân loại vườn có dấu cách thừa (đã sửa)",
                     "Garden class with stray spaces (fixed)"),
    "class_old_tone": ("Phân loại vườn bỏ dấu kiểu cũ (đã sửa)",
                       "Garden class in old tone placement (fixed)"),
    "class_case": ("Phân loại vườn viết hoa, thường khác (đã sửa)",
                   "Garden class in another case (fixed)"),
    "class_no_diacritics": ("Phân loại vườn viết không dấu (đã sửa)",
                            "Garden class without diacritics (fixed)"),
    "class_diacritics": ("Phân loại vườn sai hoặc thiếu dấu (đã sửa)",
                         "Garden class with wrong diacritics (fixed)"),
    "class_abbreviation": ("Phân loại vườn viết tắt (đã đọc)", "Garden class abbreviated (read)"),
    "class_alias": ("Phân loại vườn viết theo tên khác (đã đọc)",
                    "Garden class by another name (read)"),
    "class_qualifier": ("Phân loại vườn kèm ghi chú trong ngoặc (đã đọc)",
                        "Garden class with a note in brackets (read)"),
    "bad_date": ("Ngày khảo sát không đọc được (để trống)", "Survey date unreadable (left empty)"),
    "text_tcvn3": ("Chữ viết bằng bảng mã TCVN3 (đã chuyển)", "Text in TCVN3 (converted)"),
    "text_vni": ("Chữ viết bằng bảng mã VNI (đã chuyển)", "Text in VNI (converted)"),
    "text_utf8_as_latin1": ("Chữ UTF-8 bị đọc sai kiểu Latin-1 (đã chuyển)",
                            "UTF-8 read as Latin-1 (converted)"),
    "text_cp1258_as_latin1": ("Chữ Windows-1258 bị đọc sai kiểu Latin-1 (đã chuyển)",
                              "Windows-1258 read as Latin-1 (converted)"),
    "text_unicode": ("Cột trộn Unicode với bảng mã cũ", "Column mixes Unicode and a legacy code"),
    "parcel_text_encoding": ("Chữ trong tệp thửa đất viết bằng bảng mã cũ (đã chuyển)",
                             "Parcel text in a legacy encoding (converted)"),
    "form_added": ("Phiếu gửi về có dòng thêm", "Returned form: row added"),
    "form_renumbered": ("Phiếu gửi về sửa số tờ, số thửa", "Returned form: parcel renumbered"),
    "form_unknown_parcel": ("Phiếu gửi về có thửa không có trên bản đồ",
                            "Returned form: parcel not on the map"),
    "form_not_returned": ("Thửa của phiếu không được gửi về", "Form parcel not returned"),
    "missing_key": ("Dòng khảo sát thiếu số tờ, số thửa (hoặc mã hộ, tọa độ)",
                    "Survey row without a key"),
    "parcel_not_found": ("Số tờ, số thửa không có trên bản đồ", "Parcel not on the map"),
    "household_not_found": ("Mã hộ không có trong tệp thửa đất", "Household not in the parcels"),
    "outside_parcels": ("Điểm GPS không nằm trong thửa nào", "GPS point in no parcel"),
    "ambiguous": ("Số hiệu khớp nhiều thửa", "Key matches several parcels"),
    "unmatched": ("Không ghép được", "Not joined"),
    "duplicate_survey": ("Thửa có nhiều dòng khảo sát", "Parcel surveyed twice"),
    "garden_not_surveyed": ("Thửa đất vườn chưa được khảo sát", "Garden parcel not surveyed"),
    "parcel_repaired": ("Hình thửa không hợp lệ (đã sửa)", "Invalid parcel shape (repaired)"),
    "parcel_duplicate_key": ("Thửa trùng số tờ, số thửa", "Parcel key used twice"),
    "parcel_missing_key": ("Thửa không có số thửa", "Parcel without a number"),
    "parcel_empty_geometry": ("Thửa không có hình", "Parcel without a shape"),
    "parcel_overlap": ("Thửa chồng lấn thửa khác", "Parcel overlaps another"),
    "hamlet_mismatch": ("Thôn ghi trong khảo sát khác thôn của thửa",
                        "Survey hamlet differs from the parcel's"),
    "garden_larger_than_parcel": ("Diện tích vườn lớn hơn diện tích thửa",
                                  "Garden larger than its parcel"),
    "household_mismatch": ("Mã hộ trong khảo sát khác mã hộ của thửa",
                           "Survey household differs from the parcel's"),
}  # fmt: skip
register_all(_COUNT_LABELS, prefix="survey.count.")
register_all(_KIND_LABELS, prefix="survey.kind.")
register("survey.count.issue", vi="Vấn đề: {kind}", en="Issue: {kind}")
register("survey.join.title", vi="KẾT QUẢ GHÉP KHẢO SÁT VƯỜN HỘ VỚI BẢN ĐỒ ĐỊA CHÍNH",
         en="THE GARDEN SURVEY JOINED TO THE CADASTRAL MAP")  # fmt: skip
register("survey.join.subtitle", vi="Khảo sát: {survey}; thửa đất: {parcels}; ghép {on}",
         en="Survey: {survey}; parcels: {parcels}; joined {on}")  # fmt: skip
register("survey.join.on.parcel", vi="theo số tờ và số thửa", en="by map sheet and parcel number")
register("survey.join.on.household", vi="theo mã hộ", en="by household id")
register("survey.join.on.spatial", vi="theo vị trí GPS", en="by GPS position")

# the join's messages (survey_unmatched 'message', issues) and the parcels' survey_reason
register_all({
    "survey.join.msg.no_sheet_parcel": (
        "dòng {row}: không có số tờ/số thửa, không ghép được vào thửa nào. Điền số tờ, số "
        "thửa của dòng này.",
        "row {row}: no số tờ/số thửa, cannot be placed on a parcel. Fill in the row's map "
        "sheet and parcel number."),
    "survey.join.msg.parcel_not_found": (
        "dòng {row}: thửa {parcel} không có trong lớp thửa đất ({parcels}); kiểm tra lại số "
        "tờ, số thửa trong khảo sát.",
        "row {row}: parcel {parcel} does not exist in the parcels ({parcels}); check the "
        "numbers in the survey."),
    "survey.join.msg.no_household": (
        "dòng {row}: không có mã hộ. Điền mã hộ của dòng này.",
        "row {row}: no household id (mã hộ). Fill in the row's household id."),
    "survey.join.msg.household_not_found": (
        "dòng {row}: hộ '{household}' không có thửa nào trong {parcels}; kiểm tra lại mã hộ.",
        "row {row}: household '{household}' holds no parcel in {parcels}; check the "
        "household id."),
    "survey.join.msg.no_coordinates": (
        "dòng {row}: không có tọa độ. Điền kinh độ, vĩ độ (hoặc X, Y) của dòng này.",
        "row {row}: no coordinates. Fill in the row's longitude and latitude (or X, Y)."),
    "survey.join.msg.outside_parcels": (
        "dòng {row}: điểm GPS không nằm trong thửa nào; kiểm tra lại tọa độ.",
        "row {row}: the GPS point falls in no parcel; check the coordinates."),
    "survey.join.msg.ambiguous": (
        "dòng {row}: khớp {count} thửa ({parcels}); khóa ghép không duy nhất: sửa số thửa "
        "trên bản đồ hoặc ghép theo khóa khác.",
        "row {row}: matches {count} parcels ({parcels}); the key is not unique: fix the "
        "parcels' numbering or join by another key."),
    "survey.join.msg.identical": ("giống hệt", "identical"),
    "survey.join.msg.differs": ("khác ở {columns}", "differs in {columns}"),
    "survey.join.msg.duplicate": (
        "dòng {row}: dòng khảo sát thứ hai của thửa {parcel} (dòng đầu: {first}; {same}); "
        "dùng giá trị của dòng {first}. Bỏ dòng thừa.",
        "row {row}: second survey row for parcel {parcel} (first: row {first}; {same}); row "
        "{first}'s values are used. Remove the extra row."),
    "survey.join.msg.unmatched": (
        "dòng {row}: không ghép được vào thửa nào.",
        "row {row}: unmatched."),
    "survey.join.msg.garden_not_surveyed": (
        "thửa {parcel} ({land_use}) là đất vườn nhưng chưa được khảo sát; bổ sung khảo sát.",
        "parcel {parcel} ({land_use}) is a garden parcel that nobody surveyed; survey it."),
    "survey.join.msg.hamlet_mismatch": (
        "dòng {row}: thôn '{hamlet}' nhưng thửa {parcel} thuộc '{parcel_hamlet}'.",
        "row {row}: hamlet '{hamlet}' but parcel {parcel} is in '{parcel_hamlet}'."),
    "survey.join.msg.garden_larger": (
        "dòng {row}: vườn {garden} m² lớn hơn thửa {parcel} ({area} m²).",
        "row {row}: garden {garden} m² is larger than parcel {parcel} ({area} m²)."),
    "survey.join.msg.household_mismatch": (
        "dòng {row}: hộ '{household}' nhưng thửa {parcel} là của hộ '{parcel_household}'.",
        "row {row}: household '{household}' but parcel {parcel} is '{parcel_household}'."),
    "survey.join.reason.matched": ("dòng khảo sát {row}", "survey row {row}"),
    "survey.join.reason.duplicate": (
        "{count} dòng khảo sát ({rows}); dùng giá trị của dòng {first}",
        "{count} survey rows ({rows}); values of row {first} used"),
    "survey.join.reason.ambiguous": (
        "dòng khảo sát {rows} khớp thửa này và các thửa khác cùng khóa",
        "survey row(s) {rows} match this and other parcels with the same key"),
    "survey.join.reason.garden_not_surveyed": (
        "đất vườn, không có dòng khảo sát", "garden land use with no survey row"),
    "survey.join.reason.land_use_unknown": (
        "không có dòng khảo sát (không rõ loại đất)", "no survey row (land use unknown)"),
    "survey.join.reason.not_garden": (
        "không phải đất vườn ({land_use})", "not a garden land use ({land_use})"),
})  # fmt: skip


# The join's summary as the CLI and the plugin print it.
_SUMMARY = {
    "survey.summary.title": ("Ghép khảo sát ({on}): {survey} -> {parcels}",
                             "Survey join ({on}): {survey} -> {parcels}"),
    "survey.summary.rows": ("  dòng khảo sát: {rows} = {matched} ghép được + {unmatched} "
                            "không ghép được", "  survey rows: {rows} = {matched} matched "
                            "+ {unmatched} unmatched"),
    "survey.summary.duplicates": (" ({count} dòng trong số ghép được trùng thửa)",
                                  " ({count} of the matched are duplicates)"),
    "survey.summary.parcels": ("  thửa đất: {count} = {parts}", "  parcels: {count} = {parts}"),
    "survey.summary.classes": ("  phân loại vườn: {parts}", "  garden classes: {parts}"),
    "survey.summary.unmatched": ("  các dòng khảo sát không ghép được:",
                                 "  unmatched survey rows:"),
    "survey.summary.more": ("    ... và {count} dòng nữa", "    ... and {count} more"),
    "survey.summary.issues": ("  vấn đề (loại: số lượng):", "  issues (kind: count):"),
    "survey.summary.row": ("dòng {row}", "row {row}"),
    "survey.summary.parcel": ("thửa {parcel}", "parcel {parcel}"),
    "survey.summary.key": ("tờ {sheet} thửa {parcel}", "sheet {sheet} parcel {parcel}"),
    "survey.status.matched": ("ghép được", "matched"),
    "survey.status.duplicate_survey": ("nhiều dòng khảo sát", "duplicate_survey"),
    "survey.status.ambiguous": ("trùng số hiệu", "ambiguous"),
    "survey.status.no_survey": ("không có khảo sát", "no_survey"),
}  # fmt: skip
register_all(_SUMMARY)


# What to do about each kind of issue (the printed report's last column).
_ADVICE = {
    "bad_key": ("Sửa số tờ, số thửa của dòng này thành số nguyên (ví dụ 12 và 345).",
                "Correct the row's map sheet and parcel numbers to whole numbers."),
    "missing_key": ("Điền số tờ và số thửa (hoặc mã hộ, tọa độ) cho dòng này.",
                    "Fill in the row's map sheet and parcel number (or household id)."),
    "parcel_not_found": ("Đối chiếu số tờ, số thửa với bản đồ địa chính rồi sửa trong bảng "
                         "khảo sát.", "Check the numbers against the cadastral map and "
                         "correct them in the survey."),
    "household_not_found": ("Đối chiếu mã hộ với tệp thửa đất rồi sửa trong bảng khảo sát.",
                            "Check the household id against the parcels and correct it."),
    "outside_parcels": ("Kiểm tra tọa độ GPS của dòng này (có thể lấy sai điểm).",
                        "Check the row's GPS position."),
    "ambiguous": ("Sửa số thửa trùng trên bản đồ địa chính, hoặc ghép theo mã hộ.",
                  "Correct the duplicate parcel numbers on the map, or join by household."),
    "duplicate_survey": ("Giữ một dòng cho mỗi thửa: xóa dòng thừa hoặc sửa số thửa.",
                         "Keep one row per parcel: delete the extra row or correct it."),
    "unknown_class": ("Sửa ô cho đúng tên loại vườn trong bộ mã, hoặc thêm cách viết này vào "
                      "bộ mã.", "Correct the cell to a class name, or add the spelling to "
                      "the codebook."),
    "missing_class": ("Điền phân loại vườn cho dòng này.", "Fill in the garden class."),
    "bad_area": ("Sửa diện tích vườn thành một số dương (m²).",
                 "Correct the garden area to a positive number (m²)."),
    "bad_date": ("Sửa ngày khảo sát theo dạng ngày/tháng/năm.",
                 "Correct the date as day/month/year."),
    "garden_not_surveyed": ("Khảo sát bổ sung thửa vườn này.", "Survey this garden parcel."),
    "garden_larger_than_parcel": ("Kiểm tra diện tích vườn (có thể nhầm đơn vị hoặc số 0).",
                                  "Check the garden area (units or an extra zero)."),
    "hamlet_mismatch": ("Kiểm tra thôn ghi trong khảo sát và số tờ, số thửa của dòng này.",
                        "Check the row's hamlet and its parcel numbers."),
    "household_mismatch": ("Kiểm tra mã hộ và số tờ, số thửa của dòng này.",
                           "Check the row's household id and parcel numbers."),
    "parcel_duplicate_key": ("Sửa số thửa trùng trên bản đồ địa chính.",
                             "Correct the duplicate parcel number on the map."),
    "parcel_missing_key": ("Điền số thửa trên bản đồ địa chính.", "Number the parcel on the map."),
    "parcel_empty_geometry": ("Vẽ lại thửa này trên bản đồ địa chính.",
                              "Draw the parcel again on the map."),
    "parcel_overlap": ("Kiểm tra ranh giới các thửa chồng lấn.", "Check the overlapping "
                       "boundaries."),
    "form_renumbered": ("Kiểm tra số tờ, số thửa đã sửa trên phiếu.",
                        "Check the renumbered parcel on the form."),
    "form_unknown_parcel": ("Đối chiếu thửa thêm trên phiếu với bản đồ địa chính.",
                            "Check the added parcel against the map."),
    "form_not_returned": ("Khảo sát bổ sung các thửa của phiếu chưa gửi về.",
                          "Survey the form's parcels that did not come back."),
}  # fmt: skip
_REPAIRED = ("Đã tự sửa khi đọc; lần sau nên nhập đúng ngay trong tệp.",
             "Repaired when read; enter it so in the file next time.")  # fmt: skip
register_all(_ADVICE, prefix="survey.advice.")
register("survey.advice.repaired", vi=_REPAIRED[0], en=_REPAIRED[1])


def _advice(kind: str, lang: str | None = None) -> str:
    """What to do about one kind of issue (repairs: nothing but to enter it so next time)."""
    key = f"survey.advice.{kind}"
    if key in CATALOGUE:
        return _say(key, lang)
    return _say("survey.advice.repaired", lang) if f"survey.kind.{kind}" in CATALOGUE else ""


def kind_label(kind: str, lang: str | None = None) -> str:
    """What a kind of survey issue (or an unmatched row's reason) is called.

    Parameters
    ----------
    kind : str
        A ``kind`` of :attr:`JoinReport.issues` (``"bad_key"``, ``"parcel_not_found"``).
    lang : str, optional
        ``"vi"`` or ``"en"``; default the language in force.

    Returns
    -------
    str
        The label; the kind itself when it has none.

    Examples
    --------
    >>> kind_label("parcel_not_found", "vi")
    'Số tờ, số thửa không có trên bản đồ'
    >>> kind_label("bad_key", "en"), kind_label("something_new", "vi")
    ('Sheet or parcel number unreadable', 'something_new')
    """
    key = f"survey.kind.{kind}"
    return _say(key, lang) if key in CATALOGUE else str(kind)


def count_label(item: str, lang: str | None = None) -> str:
    """A headline count of :meth:`JoinReport.counts` as a sentence.

    Parameters
    ----------
    item : str
        A key of :meth:`JoinReport.counts` (``"matched_rows"``, ``"issue_bad_key"``).
    lang : str, optional
        ``"vi"`` or ``"en"``; default the language in force.

    Returns
    -------
    str
        The sentence; the item itself when it has none.

    Examples
    --------
    >>> count_label("unmatched_rows", "vi")
    'Số dòng khảo sát không ghép được với thửa đất nào'
    >>> count_label("issue_bad_key", "vi")
    'Vấn đề: Số tờ hoặc số thửa không đọc được'
    """
    if item.startswith("issue_"):
        return _say("survey.count.issue", lang, kind=kind_label(item[len("issue_") :], lang))
    key = f"survey.count.{item}"
    return _say(key, lang) if key in CATALOGUE else str(item)


__all__ = [
    "SURVEY_FIELDS",
    "GardenClass",
    "Codebook",
    "read_survey",
    "join_survey",
    "survey_fields",
    "JoinReport",
    "SURVEY_STATUSES",
]


def _text(values) -> pd.Series:
    """Text values as pandas' default string column (``str`` in pandas 3; NaN missing)."""
    return pd.Series([None if v is None or v is pd.NA else v for v in values])


def _floats(values) -> np.ndarray:
    """Numbers as float64 with NaN for missing (plain numpy, no pandas NA)."""
    return np.array([np.nan if v is None or v is pd.NA else float(v) for v in values], dtype=float)


#: Standard field -> known header spellings (compared without case, spaces, diacritics).
SURVEY_FIELDS: dict[str, list[str]] = {
    "stt": ["STT", "TT", "Số thứ tự", "No"],
    "household_id": ["Mã hộ", "ma_ho", "MAHO", "Mã HGĐ", "Mã hộ gia đình", "household_id"],
    "owner": [
        "Họ và tên chủ hộ",
        "Họ tên chủ hộ",
        "Tên chủ hộ",
        "Chủ hộ",
        "Họ và tên",
        "Họ tên",
        "TENCHU",
        "owner",
    ],
    # the hamlet headers are the registry's (shared with the targets table)
    "hamlet": list(HAMLET_HEADERS),
    "sheet": [
        "Số tờ",
        "Tờ",
        "Tờ bản đồ",
        "Tờ bản đồ số",
        "Số tờ bản đồ",
        "SHBANDO",
        "so_to",
        "sheet",
    ],
    "parcel_no": [
        "Số thửa",
        "Thửa",
        "Thửa số",
        "Thửa đất số",
        "Số thửa đất",
        "SHTHUA",
        "so_thua",
        "parcel_no",
    ],
    "garden_area_m2": [
        "Diện tích vườn (m²)",
        "Diện tích vườn (m2)",
        "Diện tích vườn",
        "DT vườn",
        "Diện tích (m²)",
        "Diện tích (m2)",
        "Diện tích",
        "garden_area_m2",
    ],
    "garden_class_raw": [
        "Phân loại vườn",
        "Phân loại",
        "Loại vườn",
        "Xếp loại vườn",
        "Xếp loại",
        "Hiện trạng vườn",
        "garden_class",
    ],
    "support_needs": ["Nhu cầu hỗ trợ", "Nhu cầu", "Đề xuất hỗ trợ", "support_needs"],
    "survey_date": ["Ngày khảo sát", "Ngày điều tra", "Ngày", "Thời gian khảo sát", "date"],
    "note": ["Ghi chú", "Ghi chu", "note"],
    "lon": ["Kinh độ", "lon", "longitude", "lng"],
    "lat": ["Vĩ độ", "lat", "latitude"],
    "sheet_parcel": [
        "Tờ/thửa",
        "Số tờ/số thửa",
        "Tờ - thửa",
        "Tờ, thửa",
        "Số tờ, số thửa",
        "Tờ thửa",
        "Thửa/tờ",
        "Số thửa/số tờ",
    ],
    "x": ["X", "Tọa độ X", "Toạ độ X"],
    "y": ["Y", "Tọa độ Y", "Toạ độ Y"],
}
_KEY_FIELDS = ("sheet", "parcel_no", "sheet_parcel", "household_id", "lon", "lat", "x", "y")
SURVEY_STATUSES = ("matched", "duplicate_survey", "ambiguous", "no_survey")
_OUT_ORDER = [
    "survey_row", "stt", "household_id", "owner", "hamlet", "sheet", "parcel_no",
    "garden_area_m2", "garden_class", "garden_class_code", "garden_class_raw",
    "support_needs", "survey_date", "note", "lon", "lat", "x", "y", "survey_issues",
]  # fmt: skip


# --------------------------------------------------------------------------------------
# Codebook
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GardenClass:
    """One garden class of the codebook.

    Attributes
    ----------
    code : str
        Stable code used by the library (``"hoang_hoa"``; the keys of :mod:`ntmgis.palette`).
    label : str
        The Vietnamese label written in outputs (``"Vườn hoang hóa"``).
    label_en : str
        English label.
    abbreviations : tuple of str
        Short codes users type (``"HH"``).
    aliases : tuple of str
        Other spellings (``"Bỏ hoang"``).
    """

    code: str
    label: str
    label_en: str = ""
    abbreviations: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


#: a garden class then a note in brackets (round or square), the note kept apart
_QUALIFIED = re.compile(r"(.*?)\s*[(\[]([^()\[\]]*)[)\]]\s*")
#: words that, in a bracketed note, turn the class into its opposite ("chưa đạt")
_NEGATIONS = ("chua", "khong", "ko", "k", "kem chuan", "khong dat")


def _no_diacritics(text: str) -> bool:
    return fold(text) == re.sub(r"\s+", " ", text.casefold()).strip()


class Codebook:
    """The garden classes and how users write them.

    Parameters
    ----------
    classes : sequence of GardenClass
        The classes, best first.
    name : str, optional
        A title.

    Raises
    ------
    ConfigError
        Duplicate codes, or one spelling given to two classes.
    """

    def __init__(self, classes, *, name: str = ""):
        self.classes = tuple(classes)
        self.name = name
        if not self.classes:
            raise ConfigError(_say("error.survey.codebook_empty"))
        codes = [c.code for c in self.classes]
        if len(set(codes)) != len(codes):
            raise ConfigError(
                _say("error.survey.codebook_duplicate_codes", name=name, codes=", ".join(codes))
            )
        self._exact: dict[str, GardenClass] = {}
        self._folded: dict[str, GardenClass] = {}
        self._abbrev: dict[str, GardenClass] = {}
        self._alias: dict[str, GardenClass] = {}
        for cls in self.classes:
            self._exact[clean_text(cls.label)] = cls
            for table, spellings in (
                (self._folded, [cls.label]),
                (self._abbrev, cls.abbreviations),
                (self._alias, cls.aliases),
            ):
                for spelling in spellings:
                    key = fold(spelling)
                    other = self._folded.get(key) or self._abbrev.get(key) or self._alias.get(key)
                    if other is not None and other.code != cls.code:
                        raise ConfigError(
                            _say(
                                "error.survey.codebook_spelling_twice",
                                name=name,
                                spelling=spelling,
                                first=other.code,
                                second=cls.code,
                            )
                        )
                    table[key] = cls

    @classmethod
    def default(cls) -> Codebook:
        """The five Step 2 classes (``ntmgis/data/codebook_default.toml``).

        Returns
        -------
        Codebook
            Vườn mẫu, Vườn đạt chuẩn, Vườn đã cải tạo, Vườn tạp, Vườn hoang hóa.
        """
        from importlib import resources

        text = (
            resources.files("ntmgis").joinpath("data", "codebook_default.toml").read_text("utf-8")
        )
        return cls._from_text(text, "codebook_default.toml")

    @classmethod
    def from_toml(cls, path) -> Codebook:
        """Read a codebook from a TOML file (same layout as the default one).

        Parameters
        ----------
        path : str or os.PathLike
            The file: a ``name`` and ``[[classes]]`` tables with ``code``, ``label``,
            optional ``label_en``, ``abbreviations`` and ``aliases``.

        Returns
        -------
        Codebook
            The codebook.

        Raises
        ------
        ConfigError
            When the file is not valid TOML or misses a field.
        """
        from . import _io

        path = _io.as_path(path, what="codebook")
        return cls._from_text(_io.read_text(path, what="codebook"), str(path))

    @classmethod
    def _from_text(cls, text: str, where: str) -> Codebook:
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(
                _say("error.survey.codebook_toml", where=where, problem=exc)
            ) from None
        classes = []
        for i, entry in enumerate(data.get("classes", []), start=1):
            missing = [k for k in ("code", "label") if not entry.get(k)]
            if missing:
                raise ConfigError(
                    _say(
                        "error.survey.codebook_class_incomplete",
                        where=where,
                        number=i,
                        missing=" / ".join(missing),
                    )
                )
            classes.append(
                GardenClass(
                    code=str(entry["code"]),
                    label=clean_text(str(entry["label"])),
                    label_en=str(entry.get("label_en", "")),
                    abbreviations=tuple(str(a) for a in entry.get("abbreviations", [])),
                    aliases=tuple(str(a) for a in entry.get("aliases", [])),
                )
            )
        return cls(classes, name=str(data.get("name", where)))

    @classmethod
    def coerce(cls, codebook) -> Codebook:
        """A Codebook from None (the default), a path to TOML, or a Codebook.

        Parameters
        ----------
        codebook : None, str, os.PathLike or Codebook
            What the user gave.

        Returns
        -------
        Codebook
            The codebook.
        """
        if codebook is None:
            return cls.default()
        if isinstance(codebook, Codebook):
            return codebook
        return cls.from_toml(codebook)

    @property
    def labels(self) -> list[str]:
        """The class labels, best first."""
        return [c.label for c in self.classes]

    def match(self, value) -> tuple[GardenClass | None, list[str]]:
        """Normalise one survey value.

        Parameters
        ----------
        value : object
            The cell as typed.

        Returns
        -------
        cls : GardenClass or None
            The class, or None when blank or unknown (never guessed).
        fixes : list of str
            What was repaired: ``spaces``, ``old_tone``, ``case``, ``no_diacritics``,
            ``diacritics`` (partly missing or wrong), ``abbreviation``, ``alias``,
            ``qualifier`` (a note in brackets after the class, left out when it names
            no other class and negates nothing); ``missing`` for a blank cell.

        Examples
        --------
        >>> book = Codebook.default()
        >>> cls, fixes = book.match("Vườn tạp (kém hiệu quả)")
        >>> cls.code, fixes
        ('vuon_tap', ['qualifier'])
        >>> book.match("Vườn tạp (đã cải tạo)")[0] is None  # which one? not guessed
        True
        """
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return None, ["missing"]
        text = unicodedata.normalize("NFC", str(value))
        spaced = re.sub(r"\s+", " ", text).strip()
        if not spaced:
            return None, ["missing"]
        fixes = []
        if spaced != text:
            fixes.append("spaces")
        toned = normalise_tone_placement(spaced)
        if toned != spaced:
            fixes.append("old_tone")
        if toned in self._exact:
            return self._exact[toned], fixes
        key = fold(toned)
        if key in self._abbrev:
            return self._abbrev[key], [*fixes, "abbreviation"]
        if key in self._folded:
            cls = self._folded[key]
            if toned.casefold() == cls.label.casefold():
                fixes.append("case")
            elif _no_diacritics(toned):
                fixes.append("no_diacritics")
            else:
                fixes.append("diacritics")
            return cls, fixes
        if key in self._alias:
            return self._alias[key], [*fixes, "alias"]
        # "Vườn hoang": the word "vườn" before an alias ("Hoang") is the same class
        rest = key[len("vuon ") :] if key.startswith("vuon ") else None
        if rest and rest in self._alias:
            return self._alias[rest], [*fixes, "alias"]
        return self._qualified(toned, fixes)

    def _qualified(self, text: str, fixes: list) -> tuple[GardenClass | None, list[str]]:
        """A class followed by a note in brackets ("Vườn tạp (kém hiệu quả)"): that class.

        Only when the note names no class (nor part of one) and says no "chưa" or
        "không": "Vườn tạp (đã cải tạo)" or "Vườn đạt chuẩn (chưa đạt)" stay unknown.
        """
        found = _QUALIFIED.fullmatch(text)
        if found is None or not found.group(1).strip():
            return None, fixes
        cls, inner = self.match(found.group(1))
        if cls is None:
            return None, fixes
        # "cần cải tạo" (to renovate) is a note on the class, not the renovated class
        note = f" {fold(found.group(2))} ".replace(" can cai tao ", " ")
        if any(f" {word} " in note for word in _NEGATIONS):
            return None, fixes
        for other in self.classes:
            spellings = (other.label, *other.abbreviations, *other.aliases)
            if other.code != cls.code and any(
                f" {fold(sp)} " in note or f" {fold(sp).removeprefix('vuon ')} " in note
                for sp in spellings
            ):
                return None, fixes
        return cls, list(dict.fromkeys([*fixes, *inner, "qualifier"]))

    def suggest(self, value) -> str | None:
        """The closest label to an unknown value (for messages only; never applied).

        Parameters
        ----------
        value : object
            The unknown value.

        Returns
        -------
        str or None
            The label, or None when nothing is close.
        """
        keys = {fold(c.label): c.label for c in self.classes}
        hit = difflib.get_close_matches(fold(value), list(keys), n=1, cutoff=0.75)
        return keys[hit[0]] if hit else None

    def __repr__(self) -> str:
        return f"Codebook({self.name!r}, {self.labels})"


# --------------------------------------------------------------------------------------
# Reading the spreadsheet
# --------------------------------------------------------------------------------------


def _source_name(source) -> str:
    return str(source) if isinstance(source, str | Path) else _say("survey.in_memory")


def _cell_text(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _find_header(rows, limit: int = 30, fields=None):
    """Index of the header row (the first with several known headers), and its mapping."""
    aliases = {k: list(v) for k, v in SURVEY_FIELDS.items()}
    for name, header in (fields or {}).items():  # the user's names count too
        aliases[name] = [header]
    best = (None, {})
    for i, row in enumerate(rows[:limit]):
        cells = [repair_text(_cell_text(c)).strip() for c in row]  # .VnTime headers too
        named = [c for c in cells if c]
        if len(named) < 2:
            continue
        mapping = match_columns(named, aliases)
        score = len(mapping)
        keys = sum(f in mapping for f in _KEY_FIELDS)
        if score >= 3:
            return i, mapping
        if score >= 2 and keys >= 2 and not best[1]:
            best = (i, mapping)
    return best


def _two_row_header(rows, index: int, fields=None) -> tuple[list, int]:
    """The header cells and the first row under them, for a header of one or two rows.

    Forms often merge a group's cell over two sub-headers ("Thửa đất" over "Tờ bản đồ
    số" and "Thửa số"); the row under the header is a sub-header when its cells are all
    text (no number, no date) and, each taking the place of the cell above it, name more
    fields than the header row alone.
    """
    top = [repair_text(_cell_text(c)).strip() for c in rows[index]]
    if index + 1 >= len(rows):
        return top, index + 1
    sub = [repair_text(_cell_text(c)).strip() for c in rows[index + 1]]
    named = [c for c in sub if c]
    if not named or _is_column_numbers(sub):
        return top, index + 1
    if any(parse_vn_number(c)[0] is not None or _parse_date(c)[0] is not None for c in named):
        return top, index + 1
    width = max(len(top), len(sub))
    top += [""] * (width - len(top))
    sub += [""] * (width - len(sub))
    merged = [below or above for above, below in zip(top, sub)]
    aliases = {k: list(v) for k, v in SURVEY_FIELDS.items()}
    for name, header in (fields or {}).items():
        aliases[name] = [header]
    before = match_columns([c for c in top if c], aliases)
    after = match_columns([c for c in merged if c], aliases)
    if len(after) <= len(before):
        return top, index + 1
    return merged, index + 2


def _is_column_numbers(cells) -> bool:
    """A row like "(1) (2) (3) ..." under the header, as Vietnamese forms have."""
    values = [_cell_text(c).strip() for c in cells if _cell_text(c).strip()]
    if len(values) < 3:
        return False
    numbers = [re.fullmatch(r"\(?(\d+)\)?", v) for v in values]
    if not all(numbers):
        return False
    seq = [int(m.group(1)) for m in numbers]
    return seq == list(range(seq[0], seq[0] + len(seq)))


# day first, as Vietnam writes dates; a time after it ("15/02/2020 0:00", as a CSV saved
# from a date-time cell writes it) is left out
_DATE_DMY = re.compile(
    r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{2,4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*[AaPp][Mm])?)?$"
)
# an Excel serial day number written as text: a CSV saved from a date cell formatted
# "General" ("43876", "43876.0")
_DATE_SERIAL = re.compile(r"^(\d{5})(?:[.,]0+)?$")
_DATE_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
# "ngày 5 tháng 4 năm 2020", "5 tháng 4, 2020" (compared folded: "ngay 5 thang 4 nam 2020")
_DATE_WORDS = re.compile(
    r"^(?:ngay\s*)?(\d{1,2})\s*thang\s*(\d{1,2})\s*(?:nam|,|/|-)?\s*(\d{2,4})$"
)


def _parse_date(value):
    """A date from a real date cell, an Excel serial number, or day-first text.

    Day-first text ("15/02/2020", "15-2-20", "ngày 15 tháng 2 năm 2020", with a time
    after it or not), ISO text ("2020-02-15"), an Excel serial day number as a number
    or as text ("43876"); a month-first date whose first number cannot be a month
    ("2/15/2020", an English-language Excel's) is read month first.

    >>> [str(_parse_date(v)[0].date()) for v in ("15/02/2020 0:00", "43876", "2/15/2020")]
    ['2020-02-15', '2020-02-15', '2020-02-15']
    >>> _parse_date("31/02/2020")
    (None, 'impossible')
    """
    if value is None or value == "":
        return None, None
    if isinstance(value, _dt.datetime | _dt.date | pd.Timestamp):
        return pd.Timestamp(value).normalize(), None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _excel_serial(value)
    text = str(value).strip()
    if not text:
        return None, None
    serial = _DATE_SERIAL.match(text)
    if serial:
        return _excel_serial(int(serial.group(1)))
    try:
        match = _DATE_DMY.match(text) or _DATE_WORDS.match(fold(text))
        if match:
            day, month, year = (int(g) for g in match.groups())
            if year < 100:
                year += 2000
            if month > 12 >= day:  # "2/15/2020": only month first makes a date
                day, month = month, day
            return pd.Timestamp(year=year, month=month, day=day), None
        match = _DATE_ISO.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            return pd.Timestamp(year=year, month=month, day=day), None
    except ValueError:
        return None, "impossible"
    return None, "unreadable"


def _excel_serial(value):
    """An Excel serial day number (1954-2119) as a date."""
    if 20000 <= value <= 80000:
        return pd.Timestamp("1899-12-30") + pd.Timedelta(days=int(value)), None
    return None, "unreadable"


def _int_key(value):
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None, None
    if isinstance(value, bool):
        return None, "unreadable"
    if isinstance(value, int | np.integer):
        return int(value), None
    number, note = parse_vn_number(value)
    if number is None:
        return None, None if note is None else "unreadable"
    if not float(number).is_integer():
        return None, "unreadable"
    return int(number), None


def _key_array(values):
    """Whole numbers as Int64, else the column is text.

    Text when a key is a split number ("3a") or too large for a 64-bit integer (a cell
    such as "1E19").
    """
    if all(v is None or (isinstance(v, int) and -(2**63) <= v < 2**63) for v in values):
        return pd.array(values, dtype="Int64")
    return _text([None if v is None else str(v) for v in values])


_SHEET_PARCEL = re.compile(
    r"^\D*?(\d+)\s*(?:[/\-–.,;:|]|\s)\s*\D*?(\d+)(?:\s?([a-z]{1,2})(?![a-z]))?\D*$"
)


def _split_sheet_parcel(value, *, parcel_first: bool = False):
    """(sheet, parcel) from one cell: "12/345", "12 - 345", "tờ 12 thửa 345"."""
    text = fold(_cell_text(value))
    split = r"\s?([a-z]{1,2})(?![a-z])"  # "thửa 3a": a split parcel
    named = re.search(rf"to\D*(\d+)\D+thua\D*(\d+)(?:{split})?", text) or re.search(
        rf"thua\D*(\d+)(?:{split})?\D+to\D*(\d+)", text
    )
    if named:
        if named.re.pattern.startswith("to"):
            a, b, suffix = int(named.group(1)), int(named.group(2)), named.group(3)
        else:
            b, suffix, a = int(named.group(1)), named.group(2), int(named.group(3))
        return (a, f"{b}{suffix}" if suffix else b)
    match = _SHEET_PARCEL.match(text)
    if not match:
        return None
    a, b = int(match.group(1)), int(match.group(2))
    if match.group(3):  # "12/3a": parcel 3a of sheet 12 (a split parcel)
        return None if parcel_first else (a, f"{b}{match.group(3)}")
    return (b, a) if parcel_first else (a, b)


def _is_standard_frame(df) -> bool:
    return isinstance(df, pd.DataFrame) and {"survey_row", "garden_class"} <= set(df.columns)


class _Issues:
    def __init__(self):
        self.items: list[dict] = []

    def add(self, kind, row, column, value, message, parcel_id=None):
        self.items.append(
            {
                "kind": kind,
                "survey_row": row,
                "parcel_id": parcel_id,
                "column": column,
                "value": None if value is None else str(value),
                "message": message,
            }
        )


@dataclass
class _Rows:
    """The survey's data rows as read, and what the parsers found on them."""

    raw: pd.DataFrame
    mapping: dict
    numbers: list
    where: str
    book: Codebook
    hamlets: object = None
    issues: _Issues = field(default_factory=_Issues)
    kinds: list = field(default_factory=list)
    unknown_rows: list = field(default_factory=list)

    def __post_init__(self):
        self.kinds = [[] for _ in range(len(self.raw))]

    def col(self, field_name) -> list:
        """The cells of one standard field (all None when the sheet has no such column)."""
        column = self.mapping.get(field_name)
        return self.raw[column].tolist() if column is not None else [None] * len(self.raw)

    def note(self, i, kind, column, value, message) -> None:
        """Record a problem or repair on data row ``i``."""
        self.issues.add(kind, self.numbers[i], column, value, message)
        self.kinds[i].append(kind)


def _read_rows(source, *, sheet, encoding, fields):
    """The sheet's rows, their row numbers, the sheet name, the encoding, the other sheets.

    The other sheets: the rows of the later sheets that also hold a survey table (name ->
    rows; none when the sheet was named).
    """
    from . import _io

    if isinstance(source, pd.DataFrame):
        body = source.astype(object).where(source.notna(), None).values.tolist()
        positional = list(source.columns) == list(range(source.shape[1]))
        if positional:  # read with header=None: the header is somewhere in the rows
            rows = body
        else:
            rows = [[str(c) for c in source.columns], *body]
        return rows, list(range(1, len(rows) + 1)), None, None, {}
    rows, numbers, info = _io.read_grid(
        source,
        sheet=sheet,
        encoding=encoding,
        what="survey file",
        choose=lambda rows: _find_header(rows, fields=fields)[0] is not None,
        chosen_others=True,
    )
    return rows, numbers, info["sheet"], info["encoding"], info.get("chosen_others", {})


def _header_columns(header_row, rows_below) -> list[str]:
    """Unique column names from the header row (blank headers become ``col_<n>``)."""
    header = [repair_text(_cell_text(c)).strip() for c in header_row]
    width = max(len(header), *(len(r) for r in rows_below), 0)
    header += [""] * (width - len(header))
    seen: dict[str, int] = {}
    columns = []
    for j, text in enumerate(header):
        text = clean_text(text) or f"col_{j + 1}"
        seen[text] = seen.get(text, 0) + 1
        columns.append(text if seen[text] == 1 else f"{text}_{seen[text]}")
    return columns


def _map_fields(columns, fields, where) -> dict:
    """Standard field -> column; a SchemaError when no column can join the survey."""
    named = ", ".join(c for c in columns if not c.startswith("col_"))
    try:
        mapping = match_columns(columns, SURVEY_FIELDS, overrides=fields)
    except KeyError as exc:
        raise SchemaError(
            _say("error.survey.field_missing", where=where, header=exc.args[-1], found=named)
        ) from None
    has_parcel_key = ("sheet" in mapping and "parcel_no" in mapping) or "sheet_parcel" in mapping
    has_coords = ("lon" in mapping and "lat" in mapping) or ("x" in mapping and "y" in mapping)
    if not (has_parcel_key or "household_id" in mapping or has_coords):
        raise SchemaError(_say("error.survey.no_key_column", where=where, found=named))
    return mapping


def _row_key(cells) -> tuple:
    """The header keys of a row's filled cells (a header repeated below compares equal)."""
    return tuple(header_key(repair_text(_cell_text(c))) for c in cells if _cell_text(c).strip())


def _repeats(cells, key: tuple) -> bool:
    """Whether a row's filled cells have the header keys ``key`` (as :func:`_row_key`).

    Compared cell by cell, stopping at the first that differs: a data row's first
    filled cell (a number, a name) already does, so the body costs one key per row.
    """
    filled = [c for c in cells if _cell_text(c).strip()]
    if len(filled) != len(key):
        return False
    return all(header_key(repair_text(_cell_text(c))) == k for c, k in zip(filled, key))


def _body_rows(rows, numbers, start, width, header=None):
    """Data rows under the header.

    A row of column numbers, blank rows and the header repeated further down (a survey
    pasted together from printed pages, one header per page) are skipped; the last two
    are counted as blank rows.
    """
    if start < len(rows) and _is_column_numbers(rows[start]):
        start += 1
    repeated = _row_key(header) if header else None
    body_rows, body_numbers, n_blank = [], [], 0
    for row, number in zip(rows[start:], numbers[start:]):
        cells = list(row) + [None] * (width - len(row))
        if all(_cell_text(c).strip() == "" for c in cells):
            n_blank += 1
            continue
        if repeated and len(repeated) >= 3 and _repeats(cells, repeated):
            n_blank += 1
            logger.info("row %s repeats the header: skipped", number)
            continue
        body_rows.append(cells[:width])
        body_numbers.append(number)
    return body_rows, body_numbers, n_blank


def _repair_text(rows: _Rows, name: str) -> None:
    """Legacy encodings (TCVN3, VNI) and NFC, column by column."""
    raw = rows.raw
    for column in raw.columns:
        if raw[column].map(lambda v: isinstance(v, str)).any():
            repaired, info = repair_column(raw[column], column=column, source=rows.where)
            raw[column] = repaired.astype(object)
            if info["message"]:
                warn(info["warning"], SurveyWarning, where=name, what="warning.text.encoding")
                for enc, first_rows in info["rows"].items():
                    if enc != "unicode" or info["mixed"]:
                        rows.issues.add(
                            "text_" + enc.replace("-", "_"),
                            None,
                            column,
                            None,
                            info["warning"] + _rows_said(first_rows),
                        )


def _rows_said(rows: list) -> str:
    """The rows a text note names: ``(rows [3, 6])`` in English, ``(dòng 3, 6)`` in Vietnamese."""
    if get_language() == "vi":
        return _say("survey.read.text_rows", rows=", ".join(map(str, rows)))
    return _say("survey.read.text_rows", rows=rows)


# -- one parser per standard field: rows -> {output column: values} ----------------------


def _parse_stt(rows: _Rows) -> dict:
    # a row number beyond int64 is not a row number: left empty, as an unreadable one is
    values = [_int_key(v)[0] for v in rows.col("stt")]
    values = [v if v is None or -(2**63) <= v < 2**63 else None for v in values]
    return {"stt": pd.array(values, dtype="Int64")}


def _parse_key(rows: _Rows, key: str) -> dict:
    from .parcels import parcel_number

    values = []
    column = rows.mapping.get(key)
    for i, value in enumerate(rows.col(key)):
        number, problem = _int_key(value) if key == "sheet" else parcel_number(value)
        if problem:
            label = "số tờ" if key == "sheet" else "số thửa"
            rows.note(
                i,
                "bad_key",
                column,
                value,
                _say("survey.read.bad_key", row=rows.numbers[i], label=label, value=value),
            )
        values.append(number)
    return {key: _key_array(values)}


def _parse_sheet(rows: _Rows) -> dict:
    return _parse_key(rows, "sheet")


def _parse_parcel_no(rows: _Rows) -> dict:
    return _parse_key(rows, "parcel_no")


def _parse_sheet_parcel(rows: _Rows) -> dict:
    """Sheet and parcel in one cell ("12/345"), when there are no separate columns."""
    mapping = rows.mapping
    if "sheet_parcel" not in mapping or ("sheet" in mapping and "parcel_no" in mapping):
        return {}
    column = mapping["sheet_parcel"]
    parcel_first = fold(column).startswith(("thua", "so thua"))
    sheets, numbers = [], []
    for i, value in enumerate(rows.col("sheet_parcel")):
        pair = _split_sheet_parcel(value, parcel_first=parcel_first)
        if pair is None and _cell_text(value).strip():
            rows.note(
                i,
                "bad_key",
                column,
                value,
                _say("survey.read.bad_sheet_parcel", row=rows.numbers[i], value=value),
            )
        sheets.append(pair[0] if pair else None)
        numbers.append(pair[1] if pair else None)
    return {"sheet": pd.array(sheets, dtype="Int64"), "parcel_no": _key_array(numbers)}


def _parse_household(rows: _Rows) -> dict:
    values = [(_cell_text(v).strip() or None) for v in rows.col("household_id")]
    return {"household_id": _text(values)}


def _owner_text(value) -> tuple:
    """(text, cleaned, has stray spaces) of one owner cell."""
    text = _cell_text(value)
    cleaned = clean_text(text)
    return text, cleaned, cleaned is not None and re.sub(r"\s+", " ", text).strip() != text


def _parse_owner(rows: _Rows) -> dict:
    owners = []
    read = _per_value(_owner_text)
    for i, value in enumerate(rows.col("owner")):
        text, cleaned, spaces = read(value)
        if spaces:
            rows.note(
                i,
                "name_spaces",
                rows.mapping.get("owner"),
                text,
                _say("survey.read.name_spaces", row=rows.numbers[i], text=text),
            )
        owners.append(cleaned)
    return {"owner": _text(owners)}


def _parse_hamlet(rows: _Rows) -> dict:
    values = _normalise_hamlets(
        rows.col("hamlet"), rows.mapping.get("hamlet"), rows.hamlets, rows.note, rows.numbers
    )
    return {"hamlet": _text(values)}


def _area_problem(number, problem, value, row):
    """(kind, message, keep) of one area cell, or None when it reads cleanly."""
    if problem == "thousands_separator":
        return (
            "area_thousands_separator",
            _say("survey.read.area_thousands", row=row, value=value, number=_number(number)),
            True,
        )
    if problem == "decimal_comma":
        return (
            "area_decimal_comma",
            _say("survey.read.area_decimal_comma", row=row, value=value, number=_number(number)),
            True,
        )
    if problem == "unreadable":
        return ("bad_area", _say("survey.read.area_unreadable", row=row, value=value), True)
    if number is not None and number <= 0:
        text = _say("survey.read.area_not_positive", row=row, number=_number(number))
        return ("bad_area", text, False)
    return None


def _parse_area(rows: _Rows) -> dict:
    areas = []
    column = rows.mapping.get("garden_area_m2")
    for i, value in enumerate(rows.col("garden_area_m2")):
        number, problem = parse_vn_number(value)
        found = _area_problem(number, problem, value, rows.numbers[i])
        if found is not None:
            kind, text, keep = found
            rows.note(i, kind, column, value, text)
            number = number if keep else None
        areas.append(number)
    return {"garden_area_m2": _floats(areas)}


def _note_class(rows: _Rows, i, value, text, cls, fixes) -> None:
    """Record how one garden-class cell was read (missing, unknown or repaired)."""
    column, book, row = rows.mapping.get("garden_class_raw"), rows.book, rows.numbers[i]
    if cls is None and fixes == ["missing"]:
        rows.note(i, "missing_class", column, None, _say("survey.read.missing_class", row=row))
    elif cls is None:
        tip = book.suggest(value)
        rows.note(
            i,
            "unknown_class",
            column,
            text,
            _say(
                "survey.read.unknown_class",
                row=row,
                text=text,
                tip=_say("survey.read.did_you_mean", label=tip) if tip else "",
                labels=", ".join(book.labels),
            ),
        )
        rows.unknown_rows.append(row)
    else:
        for fix in fixes:
            rows.note(
                i,
                f"class_{fix}",
                column,
                text,
                _say(
                    "survey.read.class_fixed",
                    row=row,
                    text=text,
                    label=cls.label,
                    fix=_said_fix(fix),
                ),
            )


def _parse_class(rows: _Rows) -> dict:
    labels, codes, raws = [], [], []
    present = "garden_class_raw" in rows.mapping
    match = _per_value(rows.book.match)
    for i, value in enumerate(rows.col("garden_class_raw")):
        cls, fixes = match(value)
        text = None if value is None else str(value)
        raws.append(text)
        labels.append(cls.label if cls else None)
        codes.append(cls.code if cls else None)
        if present:
            _note_class(rows, i, value, text, cls, fixes)
    if not present:
        warn(
            _say("warning.survey.no_class_column", where=rows.where),
            SurveyWarning,
            where=rows.where,
            what="warning.survey.no_class_column",
        )
    return {
        "garden_class": _text(labels),
        "garden_class_code": _text(codes),
        "garden_class_raw": _text(raws),
    }


def _need_text(value):
    """One support-needs cell: its parts cleaned, lower case, joined by ", "."""
    text = clean_text(_cell_text(value))
    parts = [clean_text(p) for p in re.split(r"[,;/+]", text)] if text else []
    return ", ".join(p.lower() for p in parts if p) or None


def _parse_needs(rows: _Rows) -> dict:
    read = _per_value(_need_text)
    return {"support_needs": _text([read(v) for v in rows.col("support_needs")])}


def _parse_dates(rows: _Rows) -> dict:
    dates = []
    parse = _per_value(_parse_date)
    for i, value in enumerate(rows.col("survey_date")):
        date, problem = parse(value)
        if problem:
            rows.note(
                i,
                "bad_date",
                rows.mapping.get("survey_date"),
                value,
                _say(
                    "survey.read.bad_date",
                    row=rows.numbers[i],
                    value=value,
                    problem=_say(f"survey.read.date.{problem}"),
                ),
            )
        dates.append(date)
    return {"survey_date": pd.to_datetime(pd.Series(dates, dtype=object), errors="coerce")}


def _parse_note(rows: _Rows) -> dict:
    read = _per_value(lambda v: clean_text(_cell_text(v)))
    return {"note": _text([read(v) for v in rows.col("note")])}


def _parse_coords(rows: _Rows) -> dict:
    return {
        key: _floats([parse_vn_number(v)[0] for v in rows.col(key)])
        for key in ("lon", "lat", "x", "y")
        if key in rows.mapping
    }


#: Standard field -> its parser, in the order the row's problems are listed (the header
#: spellings of each field are in :data:`SURVEY_FIELDS`). "lon" reads every coordinate.
_FIELD_PARSERS = {
    "stt": _parse_stt,
    "sheet": _parse_sheet,
    "parcel_no": _parse_parcel_no,
    "sheet_parcel": _parse_sheet_parcel,
    "household_id": _parse_household,
    "owner": _parse_owner,
    "hamlet": _parse_hamlet,
    "garden_area_m2": _parse_area,
    "garden_class_raw": _parse_class,
    "support_needs": _parse_needs,
    "survey_date": _parse_dates,
    "note": _parse_note,
    "lon": _parse_coords,
}


def _standard_table(rows: _Rows) -> pd.DataFrame:
    """Every parser's columns, the row's problems, then the other columns as they were."""
    out = pd.DataFrame({"survey_row": pd.array(rows.numbers, dtype="Int64")})
    for parser in _FIELD_PARSERS.values():
        for name, values in parser(rows).items():
            out[name] = values
    out["survey_issues"] = _text([", ".join(dict.fromkeys(k)) if k else None for k in rows.kinds])
    used = set(rows.mapping.values())
    for column in [c for c in rows.raw.columns if c not in used]:
        target = column if column not in out.columns else f"{column}_src"
        out[target] = rows.raw[column].to_numpy()
    order = [c for c in _OUT_ORDER if c in out.columns]
    return out[order + [c for c in out.columns if c not in order]]


def read_survey(
    source,
    *,
    codebook=None,
    sheet: str | None = None,
    fields: dict[str, str] | None = None,
    hamlets=None,
    encoding: str | None = None,
):
    """Read the Step 2 garden survey into a clean table, recording every repair.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        A CSV (UTF-8, UTF-8 with BOM, cp1258, TCVN3 or VNI; comma, semicolon or tab) or
        an XLSX workbook; title rows above the header are skipped. A DataFrame is read as
        a table whose columns are the headers (row numbers then count the header as row
        1), or, when its columns are 0, 1, 2... (``pd.read_excel(..., header=None)``),
        as the sheet itself.
    codebook : Codebook, str or os.PathLike, optional
        The garden classes (a :class:`Codebook` or a TOML file); the five Step 2 classes
        by default.
    sheet : str, optional
        Worksheet name (matched without diacritics or case); by default the first sheet
        that has a header row.
    fields : dict, optional
        Standard field -> header, overriding the aliases (see :data:`SURVEY_FIELDS`).
    hamlets : sequence of str, optional
        The official hamlet names (e.g. the parcels' or the hamlets layer's): hamlet
        values are written that way when they match without diacritics or case.
    encoding : str, optional
        A Python codec for a CSV, instead of detecting it.

    Returns
    -------
    pandas.DataFrame
        One row per data row of the sheet, none dropped: ``survey_row`` (row in the
        sheet / line in the CSV), ``stt``, ``household_id``, ``owner``, ``hamlet``,
        ``sheet``, ``parcel_no``, ``garden_area_m2``, ``garden_class`` (the codebook
        label, missing when unknown), ``garden_class_code``, ``garden_class_raw`` (as
        typed), ``support_needs``, ``survey_date``, ``note``, coordinates when present,
        ``survey_issues`` (kinds of problems found on the row), then the other columns
        as they were. ``attrs["ntmgis"]`` has the source, sheet, header row, encoding,
        the header mapping and ``issues``: one dict per problem (kind, survey_row,
        column, value, message).

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InputError
        The file is unreadable, truncated, empty or an old .xls.
    SchemaError
        Wrong sheet name, no header row, no key column (số tờ + số thửa, mã hộ or
        coordinates), or a ``fields`` header that is not there.

    Warns
    -----
    NtmgisWarning
        Unknown garden classes (one warning naming the rows) and mixed text encodings.
    """
    if _is_standard_frame(source):
        return source.copy()
    book = Codebook.coerce(codebook)
    name = _source_name(source)
    if not isinstance(source, pd.DataFrame) and Path(source).suffix.lower() in (".gpkg", ".qgz"):
        from .qfield import qfield_survey_table  # the QField project's survey layer

        source = qfield_survey_table(source)
    # the sheet's rows (a list a row) live until they are a table: see ntmgis._gc
    with collector_paused():
        rows, numbers, sheet_name, used_encoding, others = _read_rows(
            source, sheet=sheet, encoding=encoding, fields=fields
        )
        where = _say("survey.read.where_sheet", name=name, sheet=sheet_name) if sheet_name else name
        if others:
            _warn_other_sheets(others, sheet_name, fields, name)
        header_index, _ = _find_header(rows, fields=fields)
        if header_index is None:
            raise SchemaError(_say("error.survey.no_header", where=where))
        header, start = _two_row_header(rows, header_index, fields)
        columns = _header_columns(header, rows[start:])
        mapping = _map_fields(columns, fields, where)
        body, body_numbers, n_blank = _body_rows(
            rows, numbers, start, len(columns), header=rows[header_index]
        )
        table = _Rows(
            raw=pd.DataFrame(body, columns=columns, dtype=object),
            mapping=mapping,
            numbers=body_numbers,
            where=where,
            book=book,
            hamlets=hamlets,
        )
        _repair_text(table, name)
        out = _standard_table(table)
    _warn_unknown_classes(table, where)
    header_row = numbers[header_index] if header_index < len(numbers) else header_index + 1
    out.attrs["ntmgis"] = Metadata(
        {
            "source": name,
            "sheet": sheet_name,
            "header_row": header_row,
            "encoding": used_encoding,
            "fields": dict(mapping),
            "blank_rows": n_blank,
            "issues": table.issues.items,
            "codebook": book.name,
        }
    )
    return out


def _warn_unknown_classes(table: _Rows, where: str) -> None:
    """One warning naming the rows whose garden class is not in the codebook."""
    if not table.unknown_rows:
        return
    shown = ", ".join(map(str, table.unknown_rows[:10]))
    warn(
        _say("warning.survey.unknown_class", where=where, count=len(table.unknown_rows),
             rows=shown),
        SurveyWarning,
        where=_say("survey.read.where_rows", where=where, rows=shown),
        what="warning.survey.unknown_class",
    )  # fmt: skip


def _warn_other_sheets(others: dict, read: str, fields, name: str) -> None:
    """Warn that sheets other than the one read also hold survey rows (one per hamlet).

    ``others``: sheet name -> rows of the later sheets with a survey header row, as
    :func:`ntmgis._io.read_grid` gives them (``chosen_others``) in its one pass.
    """
    counts = []
    for sheet, rows in others.items():
        index = _find_header(rows, fields=fields)[0]
        filled = [r for r in rows[index + 1 :] if any(_cell_text(c).strip() for c in r)]
        counts.append(f"'{sheet}' ({len(filled)})")
    warn(
        _say("warning.survey.other_sheets", where=name, read=read, count=len(counts),
             sheets=", ".join(counts)),
        SurveyWarning,
        where=name,
        what="warning.survey.other_sheets",
    )  # fmt: skip


def _hamlet_text(value) -> tuple:
    """(text, spaced, toned, has stray spaces) of one hamlet cell; spaced None when blank."""
    text = _cell_text(value)
    if not text.strip():
        return text, None, None, False
    nfc = unicodedata.normalize("NFC", text)
    spaced = re.sub(r"\s+", " ", nfc).strip()
    return text, spaced, normalise_tone_placement(spaced), spaced != nfc


def _normalise_hamlets(values, column, official, note, numbers):
    """Clean hamlet names and write each the one way (the official or commonest spelling)."""
    cleaned = []
    read = _per_value(_hamlet_text)
    for i, value in enumerate(values):
        text, spaced, toned, spaces = read(value)
        if spaced is None:
            cleaned.append(None)
            continue
        if spaces:
            said = _say("survey.read.hamlet_spaces", row=numbers[i], text=text)
            note(i, "hamlet_spaces", column, text, said)
        if toned != spaced:
            note(
                i,
                "hamlet_old_tone",
                column,
                text,
                _say("survey.read.hamlet_old_tone", row=numbers[i], spaced=spaced, toned=toned),
            )
        cleaned.append(toned)
    official_names: dict[str, str] = {}
    for name in official or []:
        if isinstance(name, str) and name.strip():
            official_names.setdefault(fold(name), clean_text(name))
    canonical = dict(official_names)
    counts = pd.Series([v for v in cleaned if v], dtype=object).value_counts()
    for name in counts.index:  # commonest first; a spelling with diacritics wins
        key = fold(name)
        if key in official_names:
            continue
        current = canonical.get(key)
        if current is None or (current.isascii() and not name.isascii()):
            canonical[key] = name
    out = []
    target_of = _per_value(lambda name: canonical.get(fold(name), name))
    for i, name in enumerate(cleaned):
        if name is None:
            out.append(None)
            continue
        target = target_of(name)
        if target != name:
            if name.isascii() and not target.isascii():
                kind = "hamlet_no_diacritics"
            elif name.casefold() == target.casefold():
                kind = "hamlet_case"
            else:
                kind = "hamlet_spelling"
            said = _say("survey.read.hamlet_written", row=numbers[i], name=name, target=target)
            note(i, kind, column, name, said)
        out.append(target)
    return out


# --------------------------------------------------------------------------------------
# The join
# --------------------------------------------------------------------------------------


@dataclass
class JoinReport:
    """How the survey joined the parcels; the counts add up.

    Attributes
    ----------
    on : str
        ``"parcel"`` (số tờ + số thửa), ``"household"`` or ``"spatial"``.
    n_parcels : int
        Parcels in, and out (every parcel is in the output).
    n_survey_rows : int
        Survey data rows; ``n_matched_rows + n_unmatched_rows == n_survey_rows``.
    n_matched_rows, n_unmatched_rows : int
        Rows that found a parcel / did not.
    n_duplicate_rows : int
        Matched rows for a parcel that already had one (``duplicate_survey``).
    parcel_status : dict
        ``survey_status`` -> number of parcels; sums to ``n_parcels``.
    unmatched : pandas.DataFrame
        One row per unmatched survey row: ``survey_row``, ``stt``, ``sheet``,
        ``parcel_no``, ``household_id``, ``owner``, ``reason``, ``message``.
    issues : pandas.DataFrame
        Every problem and repair: ``kind``, ``survey_row``, ``parcel_id``, ``column``,
        ``value``, ``message`` (survey repairs, parcel problems, duplicates, unmatched
        rows, garden parcels nobody surveyed).
    parcels_source, survey_source : str
        Where the inputs came from.
    """

    on: str
    n_parcels: int
    n_survey_rows: int
    n_matched_rows: int
    n_unmatched_rows: int
    n_duplicate_rows: int
    parcel_status: dict
    unmatched: pd.DataFrame
    issues: pd.DataFrame
    parcels_source: str = ""
    survey_source: str = ""
    codebook: str = ""
    class_counts: dict = field(default_factory=dict)

    def counts(self) -> dict:
        """The headline numbers as a dict (for logs and tests).

        Returns
        -------
        dict
            Parcels, survey rows, matched/unmatched/duplicate rows, parcel statuses and
            issue kinds.
        """
        return {
            "parcels": self.n_parcels,
            "survey_rows": self.n_survey_rows,
            "matched_rows": self.n_matched_rows,
            "unmatched_rows": self.n_unmatched_rows,
            "duplicate_rows": self.n_duplicate_rows,
            **{f"parcels_{k}": v for k, v in self.parcel_status.items()},
            **{f"issue_{k}": int(v) for k, v in self.issues["kind"].value_counts().items()},
        }

    def summary(self) -> str:
        """A readable summary (what the CLI prints), in the language in force.

        Returns
        -------
        str
            Counts, then the unmatched rows and the kinds of issue.
        """
        english = get_language() == "en"
        lines = [
            _say("survey.summary.title", survey=_said_source(self.survey_source),
                 parcels=_said_source(self.parcels_source),
                 on=self.on if english or not self.on else _say(f"survey.join.on.{self.on}")),
            _say("survey.summary.rows", rows=self.n_survey_rows, matched=self.n_matched_rows,
                 unmatched=self.n_unmatched_rows)
            + (_say("survey.summary.duplicates", count=self.n_duplicate_rows)
               if self.n_duplicate_rows else ""),
            _say("survey.summary.parcels", count=self.n_parcels, parts=" + ".join(
                f"{v} {_say(f'survey.status.{k}')}" for k, v in self.parcel_status.items())),
        ]  # fmt: skip
        if self.class_counts:
            parts = ", ".join(f"{k} {v}" for k, v in self.class_counts.items())
            lines.append(_say("survey.summary.classes", parts=parts))
        if len(self.unmatched):
            lines.append(_say("survey.summary.unmatched"))
            for _, row in self.unmatched.head(20).iterrows():
                lines.append(f"    {row['message'] if english else _vi_line(row, 'reason')}")
            if len(self.unmatched) > 20:
                lines.append(_say("survey.summary.more", count=len(self.unmatched) - 20))
        if len(self.issues):
            lines.append(_say("survey.summary.issues"))
            for kind, count in self.issues["kind"].value_counts().items():
                lines.append(f"    {kind if english else kind_label(kind)}: {count}")
            for kind in ("unknown_class", "duplicate_survey", "garden_not_surveyed"):
                for _, row in self.issues[self.issues["kind"] == kind].head(10).iterrows():
                    lines.append(f"    ! {row['message'] if english else _vi_line(row, 'kind')}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        """All issues as one table (unmatched rows included, kind ``unmatched:<reason>``).

        Returns
        -------
        pandas.DataFrame
            Columns ``kind``, ``survey_row``, ``parcel_id``, ``column``, ``value``,
            ``message``.
        """
        return self.issues.copy()

    def print_tables(self) -> dict:
        """The report as the printed workbook shows it, with Vietnamese headers.

        Returns
        -------
        dict of str to pandas.DataFrame
            ``survey_join``: the headline counts, each as a sentence (``Nội dung``,
            ``Số lượng``); ``survey_unmatched``: the rows that joined no parcel, with their
            reason; ``survey_issues``: every problem and repair, its kind as a label; each
            with what to do about it (``Cách xử lý``). The English detail of each issue
            stays in :attr:`issues` (and the CSV).
        """
        summary = pd.DataFrame(
            {
                "STT": range(1, len(self.counts()) + 1),
                "Nội dung": [count_label(k, "vi") for k in self.counts()],
                "Số lượng": list(self.counts().values()),
            }
        )
        u = self.unmatched
        unmatched = pd.DataFrame(
            {
                "STT": range(1, len(u) + 1),
                "Dòng khảo sát": u["survey_row"].to_numpy(),
                "STT trong phiếu": u["stt"].to_numpy(),
                "Số tờ": u["sheet"].to_numpy(),
                "Số thửa": u["parcel_no"].to_numpy(),
                "Mã hộ": u["household_id"].to_numpy(),
                "Chủ hộ": u["owner"].to_numpy(),
                "Lý do": [kind_label(k, "vi") for k in u["reason"]],
                "Cách xử lý": [_advice(k, "vi") for k in u["reason"]],
            }
        )
        i = self.issues
        issues = pd.DataFrame(
            {
                "STT": range(1, len(i) + 1),
                "Loại vấn đề": [kind_label(k, "vi") for k in i["kind"]],
                "Dòng khảo sát": i["survey_row"].to_numpy(),
                "Mã thửa": i["parcel_id"].to_numpy(),
                "Cột": i["column"].to_numpy(),
                "Giá trị": i["value"].to_numpy(),
                "Cách xử lý": [_advice(k, "vi") for k in i["kind"]],
            }
        )
        return {"survey_join": summary, "survey_unmatched": unmatched, "survey_issues": issues}

    def write(self, path, *, form=None) -> Path:
        """Write the report: ``.csv`` (issues), ``.xlsx`` (a print-ready workbook).

        The workbook is written by :func:`ntmgis.report.write_workbook`: the counts as an
        administrative report, then the unmatched rows and the issues as appendices, A4
        landscape at 8 pt or more, header rows repeated on every page, Vietnamese headers
        and labels (:meth:`print_tables`). Written atomically (a failed write leaves no
        file), every text cell escaped so that a survey value such as ``=cmd|...`` or
        ``@SUM(...)`` is never a formula, control characters replaced, numbers kept as
        numbers. The CSV holds the issues as they are (:attr:`issues`).

        Parameters
        ----------
        path : str or os.PathLike
            The output file.
        form : ntmgis.form.DocumentForm, optional
            The administrative form of the workbook (default: blank, to fill in by hand).

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from ._io import write_csv

        path = Path(path)
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            from .report import write_workbook

            title = _say("survey.join.title", "vi")
            on = _say(f"survey.join.on.{self.on}", "vi") if self.on else ""
            subtitle = _say(
                "survey.join.subtitle",
                "vi",
                on=on,
                survey=_said_source(Path(self.survey_source).name or self.survey_source, "vi"),
                parcels=_said_source(Path(self.parcels_source).name or self.parcels_source, "vi"),
            )
            return write_workbook(
                self.print_tables(), path, subtitle=subtitle, form=form, title=title
            )
        return write_csv(path, self.issues)


def _vi_line(row, kind_column: str) -> str:
    """One unmatched row or issue in words, in the language in force.

    The English detail stays in the record's ``message``.
    """
    parts = []
    if pd.notna(row.get("survey_row")):
        parts.append(_say("survey.summary.row", row=row["survey_row"]))
    parcel = row.get("parcel_id")
    if isinstance(parcel, str):
        parts.append(_say("survey.summary.parcel", parcel=parcel))
    elif pd.notna(row.get("parcel_no")):
        parts.append(_say("survey.summary.key", sheet=row.get("sheet"), parcel=row["parcel_no"]))
    value = row.get("value")
    said = kind_label(row[kind_column]) + (f" '{value}'" if isinstance(value, str) else "")
    return ", ".join(parts) + ": " + said if parts else said


def _choose_on(on, parcels, survey, sources=("", "")) -> str:
    survey_name, parcels_name = sources
    has_key = survey["sheet"].notna().any() and survey["parcel_no"].notna().any()
    has_household = survey["household_id"].notna().any() and parcels["household_id"].notna().any()
    has_xy = ({"lon", "lat"} <= set(survey.columns)) or ({"x", "y"} <= set(survey.columns))
    if on in (None, "auto"):
        if has_key and parcels["parcel_no"].notna().any():
            return "parcel"
        if has_household:
            return "household"
        if has_xy:
            return "spatial"
        raise SchemaError(
            _say("error.survey.cannot_join", survey=survey_name, parcels=parcels_name)
        )
    if on in ("parcel", "key", "sheet_parcel"):
        if not has_key:
            raise SchemaError(_say("error.survey.on_parcel", survey=survey_name))
        return "parcel"
    if on == "household":
        if not has_household:
            raise SchemaError(
                _say("error.survey.on_household", survey=survey_name, parcels=parcels_name)
            )
        return "household"
    if on == "spatial":
        if not has_xy:
            raise SchemaError(_say("error.survey.on_spatial", survey=survey_name))
        return "spatial"
    raise ConfigError(_say("error.survey.on_unknown", on=on))


def _survey_points(survey, parcels, parcels_source=""):
    import geopandas as gpd

    if {"lon", "lat"} <= set(survey.columns) and survey["lon"].notna().any():
        pts = gpd.GeoSeries(
            gpd.points_from_xy(survey["lon"].astype(float), survey["lat"].astype(float)),
            crs="EPSG:4326",
        )
        if parcels.crs is None:
            raise SchemaError(_say("error.survey.parcels_no_crs", parcels=parcels_source))
        from .crs import is_vn2000, wgs84_transformer

        if is_vn2000(parcels.crs):
            x, y = wgs84_transformer("EPSG:4326", parcels.crs).transform(
                survey["lon"].astype(float).to_numpy(), survey["lat"].astype(float).to_numpy()
            )
            return gpd.GeoSeries(gpd.points_from_xy(x, y), crs=parcels.crs)
        return pts.to_crs(parcels.crs)
    x = survey["x"].astype(float).to_numpy()
    y = survey["y"].astype(float).to_numpy()
    # Vietnamese surveys write X for the northing: swap when X is the larger number
    if np.nanmedian(x) > np.nanmedian(y):
        x, y = y, x
    return gpd.GeoSeries(gpd.points_from_xy(x, y), crs=parcels.crs)


@dataclass
class _Join:
    """The two inputs of a join as plain lists, and what the strategies found per row."""

    parcels: object  # GeoDataFrame
    survey: pd.DataFrame
    parcels_source: str
    survey_source: str
    issues: _Issues
    pcol: dict = field(init=False)
    scol: dict = field(init=False)
    ids: list = field(init=False)
    rows: list = field(init=False)
    candidates: list = field(init=False)
    reasons: list = field(init=False)
    messages: list = field(init=False)

    def __post_init__(self):
        # plain lists: per-row lookups in a DataFrame are slow
        geometry = self.parcels.geometry.name
        self.pcol = {c: self.parcels[c].tolist() for c in self.parcels.columns if c != geometry}
        self.scol = {c: self.survey[c].tolist() for c in self.survey.columns}
        self.ids = self.parcels["parcel_id"].astype(str).tolist()
        self.rows = self.survey["survey_row"].tolist()
        n_rows = len(self.survey)
        self.candidates = [[] for _ in range(n_rows)]
        self.reasons = [None] * n_rows
        self.messages = [None] * n_rows

    def miss(self, r, reason, text) -> None:
        """Survey row ``r`` cannot be placed: why (a key) and in words."""
        self.reasons[r] = reason
        self.messages[r] = text


def _read_join_inputs(parcels, survey, *, codebook, sheet, layer, progress, fields=None):
    """The parcels and the survey in the standard schema, with their metadata."""
    import geopandas as gpd

    from . import _progress
    from .parcels import read_parcels

    _progress.report(progress, 0.0, "Reading parcels")
    if isinstance(parcels, gpd.GeoDataFrame) and {"parcel_id", "parcel_status"} <= set(
        parcels.columns
    ):
        parcel_df = parcels.copy()
    else:
        parcel_df = read_parcels(parcels, layer=layer)
    parcel_df = parcel_df.reset_index(drop=True)
    parcel_meta = parcel_df.attrs.get("ntmgis", {})
    _progress.report(progress, 0.3, "Reading the survey")
    hamlet_names = [h for h in parcel_df["hamlet"].dropna().unique()]
    if _is_standard_frame(survey):
        survey_df = survey.copy()
    else:
        survey_df = read_survey(survey, codebook=codebook, sheet=sheet, fields=fields,
                                hamlets=hamlet_names)  # fmt: skip
    survey_df = survey_df.reset_index(drop=True)
    meta = survey_df.attrs.get("ntmgis", {})
    survey_df.attrs = {}
    parcel_df.attrs = {}
    for column in ("sheet", "parcel_no", "household_id"):
        if column not in survey_df.columns:
            survey_df[column] = pd.NA
    return parcel_df, parcel_meta, survey_df, meta


def _input_issues(parcel_meta, meta, survey_df, parcel_df) -> _Issues:
    """The problems the readers found (text, survey repairs) and a returned form's edits."""
    issues = _Issues()
    for text in parcel_meta.get("text", []):
        issues.add("parcel_text_encoding", None, None, None, text)
    present_rows = set(survey_df["survey_row"].dropna().astype(int))
    for item in meta.get("issues", []):
        if item["survey_row"] is None or int(item["survey_row"]) in present_rows:
            issues.items.append(dict(item))
    if not meta.get("issues") and "survey_issues" in survey_df.columns:
        for row, kinds in zip(survey_df["survey_row"], survey_df["survey_issues"]):
            for kind in (kinds or "").split(", ") if isinstance(kinds, str) else []:
                issues.add(kind, int(row), None, None, f"row {row}: {kind}")
    from .qfield import FORM_ID, form_differences  # a returned form of 'ntmgis survey-form'

    for d in form_differences(survey_df, parcel_df):
        row = None if d["survey_row"] is None else int(d["survey_row"])
        issues.add(f"form_{d['kind']}", row, FORM_ID, d["now"], d["message"], d["parcel_id"])
    return issues


# -- one function per join strategy: the candidate parcels of each survey row ------------


def _match_by_parcel(j: _Join) -> None:
    """By (số tờ, số thửa); by số thửa alone when the parcels have no sheet numbers."""
    parcel_df, survey_df, rows = j.parcels, j.survey, j.rows
    index: dict[tuple, list[int]] = {}
    for i, (s, p) in enumerate(zip(parcel_df["sheet"], parcel_df["parcel_no"])):
        if pd.notna(p):
            index.setdefault((None if pd.isna(s) else str(s), str(p)), []).append(i)
    no_sheet = parcel_df["sheet"].isna().all()
    for r, (s, p) in enumerate(zip(survey_df["sheet"], survey_df["parcel_no"])):
        if pd.isna(p) or (pd.isna(s) and not no_sheet):
            j.miss(r, "missing_key", _say("survey.join.msg.no_sheet_parcel", row=rows[r]))
            continue
        hit = index.get((None if no_sheet else str(s), str(p)), [])
        if not hit:
            label = f"tờ {s} thửa {p}" if not no_sheet else f"thửa {p}"
            j.miss(r, "parcel_not_found", _say("survey.join.msg.parcel_not_found", row=rows[r],
                                               parcel=label, parcels=j.parcels_source))  # fmt: skip
        j.candidates[r] = hit


def _narrow_household(j: _Join, r: int, hit: list) -> list:
    """One parcel of a household with several: the row's parcel number, else its garden."""
    from .parcels import is_garden_land_use

    s, p = j.scol["sheet"][r], j.scol["parcel_no"][r]
    pcol = j.pcol
    narrowed = [
        i
        for i in hit
        if pd.notna(p)
        and str(pcol["parcel_no"][i]) == str(p)
        and (pd.isna(s) or pcol["sheet"][i] == s)
    ]
    if not narrowed:
        narrowed = [i for i in hit if is_garden_land_use(pcol["land_use"][i])]
    return narrowed if len(narrowed) == 1 else hit


def _match_by_household(j: _Join) -> None:
    """By household id (Mã hộ = MAHO), compared without case or diacritics."""
    index: dict[str, list[int]] = {}
    for i, h in enumerate(j.parcels["household_id"]):
        if pd.notna(h):
            index.setdefault(fold(h), []).append(i)
    for r, h in enumerate(j.survey["household_id"]):
        if pd.isna(h):
            j.miss(r, "missing_key", _say("survey.join.msg.no_household", row=j.rows[r]))
            continue
        hit = index.get(fold(h), [])
        if len(hit) > 1:
            hit = _narrow_household(j, r, hit)
        if not hit:
            j.miss(
                r,
                "household_not_found",
                _say(
                    "survey.join.msg.household_not_found",
                    row=j.rows[r],
                    household=h,
                    parcels=j.parcels_source,
                ),  # fmt: skip
            )
        j.candidates[r] = hit


def _match_spatial(j: _Join) -> None:
    """The parcel each GPS point (or X/Y) falls in."""
    points = _survey_points(j.survey, j.parcels, j.parcels_source)
    valid = ~(points.is_empty | points.isna())
    valid &= np.isfinite(points.x.fillna(np.nan)) & np.isfinite(points.y.fillna(np.nan))
    for r in range(len(j.survey)):
        if not valid.iloc[r]:
            j.miss(r, "missing_key", _say("survey.join.msg.no_coordinates", row=j.rows[r]))
    q_idx, p_idx = j.parcels.geometry.sindex.query(points[valid], predicate="within")
    vi = np.flatnonzero(valid.to_numpy())
    for a, b in zip(q_idx, p_idx):
        j.candidates[vi[a]].append(int(b))
    for r in vi:
        if not j.candidates[r]:
            j.miss(r, "outside_parcels", _say("survey.join.msg.outside_parcels", row=j.rows[r]))


_STRATEGIES = {
    "parcel": _match_by_parcel,
    "household": _match_by_household,
    "spatial": _match_spatial,
}


def _mark_ambiguous(j: _Join) -> None:
    """Rows whose key names several parcels (duplicate parcel keys, shared households)."""
    for r, hit in enumerate(j.candidates):
        if len(hit) > 1 and j.reasons[r] is None:
            listed = ", ".join(j.ids[i] for i in hit[:6])
            j.miss(
                r,
                "ambiguous",
                _say("survey.join.msg.ambiguous", row=j.rows[r], count=len(hit), parcels=listed),
            )


def _assign(j: _Join):
    """Rows to parcels: parcel -> its rows, parcel -> ambiguous rows, the matched rows."""
    by_parcel: dict[int, list[int]] = {}
    ambiguous_parcels: dict[int, list[int]] = {}
    for r, hit in enumerate(j.candidates):
        if j.reasons[r] is None and len(hit) == 1:
            by_parcel.setdefault(hit[0], []).append(r)
        elif j.reasons[r] == "ambiguous":
            for i in hit:
                ambiguous_parcels.setdefault(i, []).append(r)
    matched_rows = {r for rs in by_parcel.values() for r in rs}
    return by_parcel, ambiguous_parcels, matched_rows


def _duplicate_issues(j: _Join, by_parcel) -> tuple[dict, int]:
    """The row used for each parcel (its first); an issue for each further row."""
    rows, survey_df = j.rows, j.survey
    used_row: dict[int, int] = {}
    n_duplicate = 0
    compare = [
        c
        for c in ("garden_class", "garden_area_m2", "household_id", "owner")
        if c in survey_df.columns
    ]
    for i, rs in by_parcel.items():
        rs = sorted(rs, key=lambda r: rows[r])
        used_row[i] = rs[0]
        for r in rs[1:]:
            n_duplicate += 1
            first = survey_df.loc[rs[0], compare]
            this = survey_df.loc[r, compare]
            differ = [
                c
                for c in compare
                if not (pd.isna(first[c]) and pd.isna(this[c]))
                and (pd.isna(first[c]) or pd.isna(this[c]) or first[c] != this[c])
            ]
            same = (_say("survey.join.msg.identical") if not differ else
                    _say("survey.join.msg.differs", columns=", ".join(differ)))  # fmt: skip
            j.issues.add(
                "duplicate_survey",
                rows[r],
                None,
                None,
                _say(
                    "survey.join.msg.duplicate",
                    row=rows[r],
                    parcel=j.ids[i],
                    first=rows[rs[0]],
                    same=same,
                ),  # fmt: skip
                parcel_id=j.ids[i],
            )
    return used_row, n_duplicate


def _unmatched_records(j: _Join, matched_rows) -> list[dict]:
    """One record (and one issue) per survey row that found no parcel."""
    records = []
    has = set(j.survey.columns)
    for r, row in enumerate(j.rows):
        if r in matched_rows:
            continue
        reason = j.reasons[r] or "unmatched"
        j.issues.add(
            reason, row, None, None, j.messages[r] or _say("survey.join.msg.unmatched", row=row)
        )
        records.append(
            {
                "survey_row": row,
                "stt": j.scol["stt"][r] if "stt" in has else None,
                "sheet": j.scol["sheet"][r],
                "parcel_no": j.scol["parcel_no"][r],
                "household_id": j.scol["household_id"][r],
                "owner": j.scol["owner"][r] if "owner" in has else None,
                "reason": reason,
                "message": j.messages[r],
            }
        )
    return records


def _no_survey_reason(j: _Join, i: int) -> str:
    """Why parcel ``i`` has no survey row (a garden nobody surveyed is also an issue)."""
    from .parcels import is_garden_land_use

    land_use = j.pcol["land_use"][i]
    if is_garden_land_use(land_use):
        j.issues.add(
            "garden_not_surveyed",
            None,
            None,
            land_use,
            _say("survey.join.msg.garden_not_surveyed", parcel=j.ids[i], land_use=land_use),
            parcel_id=j.ids[i],
        )
        return _say("survey.join.reason.garden_not_surveyed")
    if pd.isna(land_use):
        return _say("survey.join.reason.land_use_unknown")
    return _say("survey.join.reason.not_garden", land_use=land_use)


def _parcel_statuses(j: _Join, by_parcel, ambiguous_parcels):
    """Per parcel: survey_status, survey_reason, the row used and all its rows."""
    rows = j.rows
    status, reason_text, row_used, rows_all = [], [], [], []
    for i in range(len(j.parcels)):
        rs = sorted(by_parcel.get(i, []), key=lambda r: rows[r])
        if len(rs) == 1:
            status.append("matched")
            reason_text.append(_say("survey.join.reason.matched", row=rows[rs[0]]))
        elif len(rs) > 1:
            status.append("duplicate_survey")
            listed = ", ".join(str(rows[r]) for r in rs)
            reason_text.append(_say("survey.join.reason.duplicate", count=len(rs), rows=listed,
                                    first=rows[rs[0]]))  # fmt: skip
        elif i in ambiguous_parcels:
            status.append("ambiguous")
            listed = ", ".join(str(rows[r]) for r in ambiguous_parcels[i])
            reason_text.append(_say("survey.join.reason.ambiguous", rows=listed))
        else:
            status.append("no_survey")
            reason_text.append(_no_survey_reason(j, i))
        row_used.append(rows[rs[0]] if rs else None)
        rows_all.append(", ".join(str(rows[r]) for r in rs) if rs else None)
    return status, reason_text, row_used, rows_all


def _parcel_issues(j: _Join) -> None:
    """The parcel problems read_parcels found (status and overlaps)."""
    pcol, ids = j.pcol, j.ids
    for i in range(len(j.parcels)):
        st = pcol["parcel_status"][i]
        note = f"parcel {ids[i]}: {pcol['parcel_notes'][i]}"
        if isinstance(st, str) and st != "ok":
            j.issues.add(f"parcel_{st}", None, None, None, note, parcel_id=ids[i])
        if float(pcol["overlap_m2"][i] or 0) > 0 and st in ("ok", "repaired"):
            j.issues.add("parcel_overlap", None, None, None, note, parcel_id=ids[i])


def _consistency_issues(j: _Join, picks, mode: str) -> None:
    """A matched row that disagrees with its parcel: hamlet, area, household."""
    scol, pcol, rows, ids, has = j.scol, j.pcol, j.rows, j.ids, set(j.survey.columns)
    for i, r in enumerate(picks):
        if r is None:
            continue
        sh, ph = scol["hamlet"][r] if "hamlet" in has else None, pcol["hamlet"][i]
        # compared on the parsed names: "Xóm 5" is "Xóm 5, xã Nghi Phong" (ntmgis.places)
        if isinstance(sh, str) and isinstance(ph, str) and hamlet_key(sh) != hamlet_key(ph):
            j.issues.add(
                "hamlet_mismatch",
                rows[r],
                "hamlet",
                sh,
                _say(
                    "survey.join.msg.hamlet_mismatch",
                    row=rows[r],
                    hamlet=sh,
                    parcel=ids[i],
                    parcel_hamlet=ph,
                ),  # fmt: skip
                ids[i],
            )
        sa = scol["garden_area_m2"][r] if "garden_area_m2" in has else None
        pa = pcol["area_m2"][i]
        if pd.notna(sa) and pd.notna(pa) and float(sa) > 1.05 * float(pa) + 1:
            j.issues.add(
                "garden_larger_than_parcel",
                rows[r],
                "garden_area_m2",
                sa,
                _say(
                    "survey.join.msg.garden_larger",
                    row=rows[r],
                    garden=f"{float(sa):g}",
                    parcel=ids[i],
                    area=f"{float(pa):g}",
                ),  # fmt: skip
                ids[i],
            )
        if mode != "household":
            sh_id, ph_id = scol["household_id"][r], pcol["household_id"][i]
            if isinstance(sh_id, str) and isinstance(ph_id, str) and fold(sh_id) != fold(ph_id):
                j.issues.add(
                    "household_mismatch",
                    rows[r],
                    "household_id",
                    sh_id,
                    _say(
                        "survey.join.msg.household_mismatch",
                        row=rows[r],
                        household=sh_id,
                        parcel=ids[i],
                        parcel_household=ph_id,
                    ),  # fmt: skip
                    ids[i],
                )


_TAKE = {
    "household_id": "survey_household_id",
    "owner": "survey_owner",
    "hamlet": "survey_hamlet",
    "garden_area_m2": "garden_area_m2",
    "garden_class": "garden_class",
    "garden_class_code": "garden_class_code",
    "garden_class_raw": "garden_class_raw",
    "support_needs": "support_needs",
    "survey_date": "survey_date",
    "note": "survey_note",
    "survey_issues": "survey_issues",
}


def _assemble(j: _Join, picks, statuses, mode: str):
    """Every parcel with its survey status and the chosen row's survey columns."""
    from .parcels import STANDARD_COLUMNS

    status, reason_text, row_used, rows_all = statuses
    picked = j.survey.reindex(pd.Index([-1 if r is None else r for r in picks]))
    joined = j.parcels.copy()
    joined["survey_status"] = _text(status)
    joined["survey_reason"] = _text(reason_text)
    joined["survey_row"] = pd.array(row_used, dtype="Int64")
    joined["survey_rows"] = _text(rows_all)
    for src, dst in _TAKE.items():
        if src in picked.columns:
            values = picked[src].to_numpy()
            if dst in joined.columns and dst not in ("garden_area_m2",):
                dst = f"survey_{src}"
            joined[dst] = pd.Series(values, index=joined.index).astype(picked[src].dtype)
    front = [c for c in STANDARD_COLUMNS if c in joined.columns]
    survey_cols = [
        "survey_status",
        "survey_reason",
        "survey_row",
        "survey_rows",
        *[c for c in _TAKE.values() if c in joined.columns],
    ]
    survey_cols = list(dict.fromkeys(survey_cols))
    rest = [c for c in joined.columns if c not in front and c not in survey_cols]
    joined = joined[front + survey_cols + rest]
    joined.attrs = {
        "ntmgis": Metadata({"source": j.parcels_source, "survey": j.survey_source, "on": mode})
    }
    return joined


_UNMATCHED_COLUMNS = [
    "survey_row",
    "stt",
    "sheet",
    "parcel_no",
    "household_id",
    "owner",
    "reason",
    "message",
]


def _build_report(j: _Join, joined, mode, counts, unmatched_records, status, codebook):
    """The JoinReport of a join: counts, unmatched rows, every issue."""
    n_matched, n_duplicate = counts
    issue_frame = pd.DataFrame(
        j.issues.items, columns=["kind", "survey_row", "parcel_id", "column", "value", "message"]
    )
    issue_frame["survey_row"] = pd.array(issue_frame["survey_row"], dtype="Int64")
    parcel_status = {s: int(v) for s, v in pd.Series(status).value_counts().items()}
    parcel_status = {s: parcel_status[s] for s in SURVEY_STATUSES if s in parcel_status}
    class_counts = {}
    if "garden_class" in joined.columns:
        class_counts = {k: int(v) for k, v in joined["garden_class"].value_counts().items()}
    n_rows = len(j.survey)
    return JoinReport(
        on=mode,
        n_parcels=len(j.parcels),
        n_survey_rows=n_rows,
        n_matched_rows=n_matched,
        n_unmatched_rows=n_rows - n_matched,
        n_duplicate_rows=n_duplicate,
        parcel_status=parcel_status,
        unmatched=pd.DataFrame(unmatched_records, columns=_UNMATCHED_COLUMNS),
        issues=issue_frame,
        parcels_source=str(j.parcels_source),
        survey_source=str(j.survey_source),
        codebook=codebook,
        class_counts=class_counts,
    )


register(
    "error.survey.field_map",
    vi="Cột khảo sát '{part}' không hiểu được: ghi trường chuẩn = tiêu đề cột, các cặp cách "
    "nhau bằng dấu chấm phẩy (ví dụ 'garden_class = Kết quả chấm điểm; sheet = Mảnh BĐ'). "
    "Trường chuẩn: {known}.",
    en="Survey column '{part}' is not understood: write standard field = column header, "
    "pairs separated by semicolons (e.g. 'garden_class = Kết quả chấm điểm; sheet = Mảnh "
    "BĐ'). Standard fields: {known}.",
)


def survey_fields(mapping) -> dict[str, str]:
    """The survey's own headers for standard fields, checked: ``{field: header}``.

    Parameters
    ----------
    mapping : dict or str or None
        ``{"garden_class": "Kết quả chấm điểm"}``, or the same as text,
        ``"garden_class = Kết quả chấm điểm; sheet = Mảnh BĐ"`` (a QGIS text box). Fields
        are those of :data:`SURVEY_FIELDS`; ``garden_class`` is the class column
        (``garden_class_raw``). Headers are NFC.

    Returns
    -------
    dict
        Standard field -> header; empty for ``None`` or blank text.

    Raises
    ------
    InputError
        A pair that is not ``field = header``, or a field that is not a standard one.

    Examples
    --------
    >>> survey_fields("garden_class = Kết quả chấm điểm; sheet=Mảnh BĐ")
    {'garden_class_raw': 'Kết quả chấm điểm', 'sheet': 'Mảnh BĐ'}
    """
    if mapping is None:
        return {}
    known = ", ".join(["garden_class", *SURVEY_FIELDS])
    if isinstance(mapping, str):
        pairs = {}
        for part in (p.strip() for p in mapping.replace("\n", ";").split(";")):
            field, eq, header = part.partition("=")
            if not part:
                continue
            if not eq or not field.strip() or not header.strip():
                raise InputError(_say("error.survey.field_map", part=part, known=known))
            pairs[field.strip()] = header.strip()
        mapping = pairs
    out = {}
    for field, header in dict(mapping).items():
        key = "garden_class_raw" if field == "garden_class" else field
        if key not in SURVEY_FIELDS or not str(header).strip():
            raise InputError(
                _say("error.survey.field_map", part=f"{field} = {header}", known=known)
            )
        out[key] = unicodedata.normalize("NFC", str(header).strip())
    return out


def join_survey(
    parcels,
    survey,
    *,
    on: str = "auto",
    codebook=None,
    sheet: str | None = None,
    layer: str | None = None,
    fields: dict[str, str] | None = None,
    progress=None,
):
    """Join the garden survey to the parcels; every parcel and every row accounted for.

    Parameters
    ----------
    parcels : str, os.PathLike or geopandas.GeoDataFrame
        Parcels: a file or a GeoDataFrame (read with :func:`ntmgis.read_parcels` when
        not already in the standard schema).
    survey : str, os.PathLike or pandas.DataFrame
        The survey: a file, or a table (read with :func:`read_survey` when it is not
        already one).
    on : {"auto", "parcel", "household", "spatial"}, optional
        Join by (số tờ, số thửa), by household id (Mã hộ = MAHO), or by the parcel each
        GPS point falls in. ``"auto"`` takes the first the data allow, in that order.
    codebook : Codebook, str or os.PathLike, optional
        Garden classes, when the survey is read here.
    sheet : str, optional
        Worksheet, when the survey is read here.
    layer : str, optional
        Parcel layer, when the parcels are read here.
    fields : dict, optional
        Standard survey field -> the survey's header, when the survey is read here and
        its headers are none of the aliases of :data:`SURVEY_FIELDS` (the run config's
        ``[inputs] survey_fields``).
    progress : callable, optional
        ``progress(fraction, message)``; returning False cancels.

    Returns
    -------
    joined : geopandas.GeoDataFrame
        Every parcel, in input order, with ``survey_status`` (``matched``,
        ``duplicate_survey``: several rows, the first one's values kept; ``ambiguous``:
        the row's key names several parcels; ``no_survey``), ``survey_reason`` (why, in
        words), ``survey_row`` (the row used), ``survey_rows`` (all rows) and the
        survey's columns (``survey_owner``, ``survey_hamlet``, ``survey_household_id``,
        ``garden_area_m2``, ``garden_class``, ``garden_class_code``,
        ``garden_class_raw``, ``support_needs``, ``survey_date``, ``survey_note``,
        ``survey_issues``).
    report : JoinReport
        Counts that add up, unmatched rows with reasons, every issue.

    Raises
    ------
    SchemaError
        The inputs offer no way to join (see ``on``).
    InputError
        Every survey row is unmatched: the wrong files, or keys in different columns.
    """
    from . import _progress

    parcel_df, parcel_meta, survey_df, meta = _read_join_inputs(
        parcels, survey, codebook=codebook, sheet=sheet, layer=layer, progress=progress,
        fields=fields,
    )  # fmt: skip
    parcels_source = parcel_meta.get("source", _source_name(parcels))
    survey_source = meta.get("source", _source_name(survey))
    mode = _choose_on(on, parcel_df, survey_df, (survey_source, parcels_source))
    _progress.report(progress, 0.5, f"Joining by {mode}")
    issues = _input_issues(parcel_meta, meta, survey_df, parcel_df)
    j = _Join(parcel_df, survey_df, parcels_source, survey_source, issues)
    _STRATEGIES[mode](j)
    _mark_ambiguous(j)
    by_parcel, ambiguous_parcels, matched_rows = _assign(j)
    if len(survey_df) and not matched_rows:
        raise InputError(
            _say(
                "error.survey.nothing_matches",
                survey=survey_source,
                parcels=parcels_source,
                mode=mode,
                first=j.messages[0],
            )
        )
    used_row, n_duplicate = _duplicate_issues(j, by_parcel)
    unmatched_records = _unmatched_records(j, matched_rows)
    _progress.report(progress, 0.8, "Building the joined layer")
    statuses = _parcel_statuses(j, by_parcel, ambiguous_parcels)
    _parcel_issues(j)
    picks = [used_row.get(i) for i in range(len(parcel_df))]
    _consistency_issues(j, picks, mode)
    # fill the survey row's parcel id into its issues
    parcel_of_row = {j.rows[r]: j.ids[i] for i, rs in by_parcel.items() for r in rs}
    for item in issues.items:
        if item["parcel_id"] is None and item["survey_row"] is not None:
            item["parcel_id"] = parcel_of_row.get(int(item["survey_row"]))
    joined = _assemble(j, picks, statuses, mode)
    report = _build_report(
        j,
        joined,
        mode,
        (len(matched_rows), n_duplicate),
        unmatched_records,
        statuses[0],
        str(meta.get("codebook", "")),
    )
    assert report.n_matched_rows + report.n_unmatched_rows == report.n_survey_rows
    assert sum(report.parcel_status.values()) == report.n_parcels == len(joined)
    _progress.report(progress, 1.0, "Survey joined")
    return joined, report
