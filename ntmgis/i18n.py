"""The one message catalogue: what the library says to people, in Vietnamese and English.

The CLI picks the language from ``--lang`` or the environment (``NTMGIS_LANG``,
``LC_ALL``, ``LC_MESSAGES``, ``LANG``); the QGIS plugin from QGIS's locale, through
:func:`set_language`. Library code says things through :func:`message` with a key of
the catalogue, so that the same sentence reads the same in the CLI, the notebooks and
the plugin. Stage names of the progress callback are catalogue entries too.

Each module registers its own sentences at import time (:func:`register_all`), keyed by
its name (``error.config.unknown_key``, ``warning.crs.local_vn2000``). A warning is said
with :func:`message` (one line, the language in force) and passes its key as ``what``;
an error with :func:`say` (the language in force, then the other in parentheses).

Examples
--------
>>> set_language("vi")
>>> message("stage.parcels")
'Đọc thửa đất'
>>> message("stage.parcels", lang="en")
'Reading parcels'
>>> message("output.written", lang="en", path="out/a.gpkg")
'Wrote out/a.gpkg'
>>> set_language(None)  # back to the environment's choice
"""

from __future__ import annotations

import contextlib
import logging
import os
import string

logger = logging.getLogger(__name__)

__all__ = [
    "LANGUAGES",
    "CATALOGUE",
    "get_language",
    "language",
    "set_language",
    "language_from_locale",
    "message",
    "register",
    "SHOWN_PER_KIND",
    "repeated_line",
    "warning_key",
    "warning_lines",
    "register_all",
    "say",
    "Text",
    "stage",
    "stage_key",
    "STAGES",
]

LANGUAGES = ("vi", "en")

# key -> {"vi": template, "en": template}; templates use str.format fields.
CATALOGUE: dict[str, dict[str, str]] = {
    # -- stages of the progress callback (ntmgis._progress.report translates them) ------
    "stage.parcels": {"vi": "Đọc thửa đất", "en": "Reading parcels"},
    "stage.survey": {"vi": "Ghép kết quả khảo sát", "en": "Joining the survey"},
    "stage.imagery": {"vi": "Đọc ảnh vệ tinh", "en": "Reading imagery"},
    "stage.features": {"vi": "Tính chỉ số từng thửa", "en": "Per-parcel features"},
    "stage.flags": {"vi": "Đánh giá vườn", "en": "Flagging gardens"},
    "stage.hamlets": {"vi": "Tổng hợp theo thôn", "en": "Hamlet summaries"},
    "stage.progress": {"vi": "Tính tiến độ các thôn", "en": "Hamlet progress"},
    "stage.targets": {"vi": "Đọc chỉ tiêu", "en": "Reading the targets"},
    "stage.campaigns": {"vi": "So sánh hai đợt khảo sát", "en": "Comparing the campaigns"},
    "stage.report": {"vi": "Viết báo cáo", "en": "Writing the report"},
    "stage.maps": {"vi": "In bản đồ", "en": "Printing the maps"},
    "stage.gpkg": {"vi": "Ghi GeoPackage", "en": "Writing the GeoPackage"},
    "stage.fetch": {"vi": "Tải ảnh vệ tinh", "en": "Fetching imagery"},
    "stage.text": {"vi": "Kiểm tra chữ tiếng Việt", "en": "Checking text"},
    "stage.crs": {"vi": "Kiểm tra hệ tọa độ", "en": "Checking the CRS"},
    "stage.geometry": {"vi": "Kiểm tra hình thửa", "en": "Checking geometries"},
    "stage.overlaps": {"vi": "Kiểm tra chồng lấn", "en": "Checking overlaps"},
    "stage.schema": {"vi": "Chuẩn hóa các cột", "en": "Building the standard schema"},
    "stage.parcels_read": {"vi": "Đã đọc thửa đất", "en": "Parcels read"},
    "stage.survey_read": {"vi": "Đọc phiếu khảo sát", "en": "Reading the survey"},
    "stage.survey_joined": {"vi": "Đã ghép khảo sát", "en": "Survey joined"},
    "stage.join_layer": {"vi": "Tạo lớp đã ghép", "en": "Building the joined layer"},
    "stage.scenes_read": {"vi": "Đã đọc các cảnh ảnh", "en": "Scenes read"},
    "stage.reading": {"vi": "Đọc {name}", "en": "Reading {name}"},
    "stage.pixels": {"vi": "Đọc giá trị điểm ảnh", "en": "Reading pixel values"},
    "stage.coverage": {"vi": "Tính phần điểm ảnh trong thửa", "en": "Computing pixel coverage"},
    "stage.statistics": {"vi": "Tính thống kê từng thửa", "en": "Computing statistics"},
    "stage.communes": {"vi": "Các xã", "en": "Communes"},
    "stage.commune": {"vi": "Xã {name}", "en": "Commune {name}"},
    "stage.load": {"vi": "Đọc dữ liệu", "en": "Reading the data"},
    "stage.joining": {"vi": "Ghép theo {name}", "en": "Joining by {name}"},
    "stage.sample_commune": {"vi": "Tạo xã và các thôn", "en": "Commune and hamlets"},
    "stage.sample_parcels": {"vi": "Thửa đất của {name}", "en": "Parcels of {name}"},
    "stage.sample_survey": {"vi": "Tạo phiếu khảo sát bước 2", "en": "Step 2 survey"},
    "stage.sample_scenes": {"vi": "Tạo cảnh ảnh Sentinel-2", "en": "Sentinel-2 scenes"},
    "stage.scene": {"vi": "Cảnh {name}", "en": "Scene {name}"},
    "stage.plan": {"vi": "Lập kế hoạch cải tạo vườn", "en": "Renovation plan"},
    "stage.needs": {"vi": "Tổng hợp nhu cầu hỗ trợ", "en": "Support needs"},
    "stage.plan_progress": {"vi": "So sánh kế hoạch và thực tế", "en": "Planned vs done"},
    "stage.commendations": {"vi": "Lập danh sách khen thưởng", "en": "Commendations"},
    "stage.writing": {"vi": "Ghi tệp kết quả", "en": "Writing the files"},
    "stage.qfield": {"vi": "Tạo dự án QField", "en": "QField project"},
    "stage.form": {"vi": "Phiếu khảo sát {name}", "en": "Survey form {name}"},
    "stage.done": {"vi": "Xong", "en": "Done"},
    "stage.report_tables": {"vi": "Lập các bảng báo cáo", "en": "Report tables"},
    "stage.report_workbook": {"vi": "Ghi báo cáo XLSX", "en": "Report workbook"},
    "stage.report_sheet": {"vi": "Trang tính {name}", "en": "Sheet {name}"},
    "stage.saving_workbook": {"vi": "Lưu tệp XLSX", "en": "Saving the workbook"},
    "stage.report_pdf": {"vi": "Ghi báo cáo PDF", "en": "Report PDF"},
    "stage.report_page": {"vi": "Trang báo cáo {name}", "en": "Report page {name}"},
    "stage.report_pdf_written": {"vi": "Đã ghi báo cáo PDF", "en": "Report PDF written"},
    "stage.report_csv": {"vi": "Ghi các bảng báo cáo CSV", "en": "Report tables as CSV"},
    "stage.report_written": {"vi": "Đã ghi báo cáo", "en": "Report written"},
    # -- what a run wrote and did not -----------------------------------------------------
    "output.written": {"vi": "Đã ghi {path}", "en": "Wrote {path}"},
    "output.heading": {"vi": "Đã ghi:", "en": "Wrote:"},
    "output.not_written": {"vi": "Không ghi:", "en": "Not written:"},
    "output.gpkg": {
        "vi": "GeoPackage (thửa đất, thôn, khảo sát chưa ghép, thông tin lần chạy)",
        "en": "GeoPackage (parcels, hamlets, survey_unmatched, run_metadata)",
    },
    "output.report_xlsx": {"vi": "Báo cáo tiến độ (XLSX)", "en": "Progress report (XLSX)"},
    "output.report_pdf": {"vi": "Báo cáo tiến độ (PDF)", "en": "Progress report (PDF)"},
    "output.report_csv": {"vi": "Bảng {sheet} (CSV)", "en": "Progress table {table} (CSV)"},
    "output.maps_pdf": {"vi": "Bản đồ các thôn (PDF)", "en": "Hamlet maps (PDF)"},
    "output.map_png": {"vi": "Trang bản đồ {page} (PNG)", "en": "Map page {page} (PNG)"},
    "report.no_targets": {
        "vi": "Báo cáo tiến độ: không ghi, vì cấu hình {config} không có chỉ tiêu các thôn. "
        'Thêm targets = "chi_tieu.csv" vào mục [inputs] (mỗi thôn một dòng: Thôn, Số vườn '
        "hoang hóa đưa vào sử dụng, Tỷ lệ vườn đạt chuẩn (%), Số vườn mẫu), hoặc chạy "
        "'ntmgis progress KẾT_QUẢ.gpkg CHỈ_TIÊU.csv'.",
        "en": "Progress report: not written, because the config {config} gives no hamlet "
        'targets. Add targets = "targets.csv" to [inputs] (one row per hamlet: Thôn, Số '
        "vườn hoang hóa đưa vào sử dụng, Tỷ lệ vườn đạt chuẩn (%), Số vườn mẫu), or run "
        "'ntmgis progress RESULT.gpkg TARGETS.csv'.",
    },
    "report.off": {
        "vi": "Báo cáo tiến độ: không ghi ([outputs] report = false).",
        "en": "Progress report: not written ([outputs] report = false).",
    },
    "maps.off": {
        "vi": "Bản đồ các thôn: không in ([outputs] maps = false).",
        "en": "Hamlet maps: not printed ([outputs] maps = false).",
    },
    "report.needs_empty": {
        "vi": "Cột 'Nhu cầu hỗ trợ' bỏ trống: chưa có dữ liệu nhu cầu của hộ.",
        "en": "Column 'Nhu cầu hỗ trợ' left out: no household needs were recorded.",
    },
    # -- the command line -----------------------------------------------------------------
    "warning.prefix": {"vi": "Cảnh báo", "en": "Warning"},
    "warning.repeated": {
        "vi": "{prefix} (×{count} cùng loại, {hidden} chưa hiện ở trên): {text}",
        "en": "{prefix} (×{count} of this kind, {hidden} not shown above): {text}",
    },
    "warning.total": {
        "vi": "{count} cảnh báo ({kinds} loại); chạy với -v để xem nhật ký.",
        "en": "{count} warnings ({kinds} kinds); run with -v for the log.",
    },
    "error.prefix": {"vi": "Lỗi", "en": "Error"},
    "error.unexpected": {
        "vi": "lỗi ngoài dự kiến ({kind}: {text}). Đây là lỗi của ntmgis: chạy lại với -v "
        "để xem chi tiết và gửi cho nhóm phát triển.",
        "en": "unexpected error ({kind}: {text}). This is a bug in ntmgis: run again with -v "
        "for the details and report it.",
    },
    "cancelled": {"vi": "Đã hủy theo yêu cầu", "en": "Cancelled by the user"},
    "cli.aborted": {"vi": "Đã dừng.", "en": "Aborted."},
    "cli.help": {
        "vi": "ntmgis: vườn hộ, vườn hoang hóa và tiến độ các thôn cho chương trình nông thôn mới.",
        "en": "ntmgis: household gardens, abandoned gardens and hamlet progress for Vietnam's "
        "New Rural Development programme.",
    },
    "cli.opt_verbose": {
        "vi": "Hiện nhật ký (-v thông tin, -vv gỡ lỗi).",
        "en": "Show the log (-v info, -vv debug).",
    },
    "cli.opt_help": {"vi": "Hiện hướng dẫn này rồi thoát.", "en": "Show this message and exit."},
    "cli.opt_version": {"vi": "Hiện phiên bản rồi thoát.", "en": "Show the version and exit."},
    "cli.opt_quiet": {
        "vi": "Không hiện thanh tiến độ.",
        "en": "No progress bar.",
    },
    "cli.opt_lang": {
        "vi": "Ngôn ngữ thông báo: vi hoặc en (mặc định theo LANG).",
        "en": "Language of the messages: vi or en (default from LANG).",
    },
    "cli.sample_campaign": {
        "vi": "== Xã mẫu, {title} ==",
        "en": "== Sample commune, {title} ==",
    },
    "cli.baseline": {"vi": "đợt khảo sát đầu kỳ", "en": "baseline campaign"},
    "cli.followup": {"vi": "đợt theo dõi {year}", "en": "follow-up campaign {year}"},
    "error.i18n.language": {
        "vi": "Không có ngôn ngữ {lang}: hãy chọn một trong {known} (vi: tiếng Việt, en: "
        "tiếng Anh).",
        "en": "Unknown language {lang}: use one of {known}.",
    },
    "cli.need_config": {
        "vi": "Hãy chọn một tệp cấu hình (CONFIG) hoặc --sample, không chọn cả hai.",
        "en": "Give either CONFIG or --sample.",
    },
    "cli.scheduler_or_workers": {
        "vi": "Chọn --scheduler hoặc --workers, không chọn cả hai.",
        "en": "Give --scheduler or --workers, not both.",
    },
    "cli.province_report": {"vi": "Báo cáo các xã: {path}", "en": "Report: {path}"},
    "cli.bad_formula": {
        "vi": "'{text}' không có dạng TÊN=CÔNG_THỨC (ví dụ ndwi=(green-nir)/(green+nir)).",
        "en": "'{text}' is not NAME=EXPR (e.g. ndwi=(green-nir)/(green+nir)).",
    },
    "cli.bad_field": {
        "vi": "'{text}': hãy viết TRƯỜNG=CỘT, ví dụ sheet=SHBANDO.",
        "en": "'{text}': use FIELD=COLUMN, e.g. sheet=SHBANDO.",
    },
    "cli.scenes_read": {
        "vi": "Đã đọc {read} cảnh ảnh, bỏ qua {skipped}.",
        "en": "{read} scene(s) read, {skipped} skipped.",
    },
    "cli.needs_heading": {
        "vi": "Toàn xã: số hộ theo nhu cầu hỗ trợ",
        "en": "Commune (Toàn xã): households by need",
    },
    "cli.hamlets_found": {"vi": "Các thôn: {summary}", "en": "Hamlets: {summary}"},
    "cli.survey_written": {
        "vi": "Đã ghi {path} (các lớp parcels, survey_unmatched, join_issues)",
        "en": "Wrote {path} (layers parcels, survey_unmatched, join_issues)",
    },
    "cli.evaluation": {
        "vi": "Đánh giá so với dữ liệu thật của xã mẫu ({path}):",
        "en": "Evaluation against the sample's truth ({path}):",
    },
    # -- the commonest recorded problems people see (warnings) -----------------------------
    # shown instead of the warning's own text when a warning's ``what`` names one of them
    # (fields: {where}, the warning's ``where``)
    "warning.cloudy_scene": {
        "vi": "{where}: không có điểm ảnh quang mây nào trên xã; giữ lại như một ngày không có "
        "dữ liệu.",
        "en": "{where}: no clear pixel over the commune; kept as a date without data.",
    },
    "warning.unknown_class": {
        "vi": "{where}: giá trị phân loại vườn không có trong bộ mã; được báo cáo, không đoán.",
        "en": "{where}: garden class not in the codebook; reported, not guessed.",
    },
    "warning.report_pdf_missing": {
        "vi": "{where}: không ghi bản PDF của báo cáo vì chưa cài reportlab (pip install "
        "reportlab); bảng tính và các tệp CSV vẫn được ghi.",
        "en": "{where}: the report's PDF was not written, reportlab is not installed (pip "
        "install reportlab); the workbook and CSVs were.",
    },
}

#: the library's stage names (as its modules pass them to the progress callback) -> key
STAGES = {
    "parcels": "stage.parcels",
    "reading parcels": "stage.parcels",
    "survey join": "stage.survey",
    "imagery": "stage.imagery",
    "features": "stage.features",
    "flags": "stage.flags",
    "hamlets": "stage.hamlets",
    "hamlet progress": "stage.progress",
    "targets": "stage.targets",
    "campaigns": "stage.campaigns",
    "report": "stage.report",
    "progress report": "stage.report",
    "hamlet maps": "stage.maps",
    "writing geopackage": "stage.gpkg",
    "fetch": "stage.fetch",
    "checking text": "stage.text",
    "checking crs": "stage.crs",
    "checking geometries": "stage.geometry",
    "checking overlaps": "stage.overlaps",
    "building the standard schema": "stage.schema",
    "parcels read": "stage.parcels_read",
    "reading the survey": "stage.survey_read",
    "survey joined": "stage.survey_joined",
    "building the joined layer": "stage.join_layer",
    "scenes read": "stage.scenes_read",
    "reading pixel values": "stage.pixels",
    "computing pixel coverage": "stage.coverage",
    "computing statistics": "stage.statistics",
    "communes": "stage.communes",
    "report tables": "stage.report_tables",
    "report workbook": "stage.report_workbook",
    "saving the workbook": "stage.saving_workbook",
    "report pdf": "stage.report_pdf",
    "report pdf written": "stage.report_pdf_written",
    "report tables as csv": "stage.report_csv",
    "report written": "stage.report_written",
    "đọc dữ liệu": "stage.load",
    "commune and hamlets": "stage.sample_commune",
    "step 2 survey": "stage.sample_survey",
    "sentinel-2 scenes": "stage.sample_scenes",
    "renovation plan": "stage.plan",
    "needs": "stage.needs",
    "planned vs done": "stage.plan_progress",
    "commendations": "stage.commendations",
    "writing": "stage.writing",
    "qfield project": "stage.qfield",
    "done": "stage.done",
}
# stage names with a variable part: prefix -> key (the rest fills {name})
_STAGE_PREFIXES = {
    "reading ": "stage.reading",
    "commune ": "stage.commune",
    "joining by ": "stage.joining",
    "parcels of ": "stage.sample_parcels",
    "scene ": "stage.scene",
    "form ": "stage.form",
    "sheet ": "stage.report_sheet",
    "report page ": "stage.report_page",
}

_language: str | None = None


def language_from_locale(value: str | None) -> str | None:
    """The catalogue language for a locale name (``vi_VN.UTF-8`` → ``vi``), or None.

    >>> [language_from_locale(x) for x in ("vi_VN.UTF-8", "en_GB", "C")]
    ['vi', 'en', None]
    """
    if not value:
        return None
    code = str(value).strip().split(".")[0].split("@")[0].replace("-", "_").lower()
    head = code.split("_")[0]
    return head if head in LANGUAGES else None


def set_language(lang: str | None) -> None:
    """Choose the language of every message (``"vi"``, ``"en"``, a locale, or None).

    None goes back to the environment's choice (:func:`get_language`).
    """
    global _language
    if lang is None:
        _language = None
        return
    chosen = language_from_locale(lang)
    if chosen is None:
        from .errors import ConfigError

        raise ConfigError(say("error.i18n.language", lang=repr(lang), known=", ".join(LANGUAGES)))
    _language = chosen


@contextlib.contextmanager
def language(lang: str | None):
    """Say everything in ``lang`` inside the block, then go back to the language before.

    For work done away from the user's process (a Dask worker says what the client's
    ``--lang`` chose).

    >>> with language("en"):
    ...     message("stage.flags")
    'Flagging gardens'
    """
    global _language
    saved = _language
    set_language(lang)
    try:
        yield
    finally:
        _language = saved


def get_language() -> str:
    """The language in force: :func:`set_language`'s, else the environment's, else ``vi``."""
    if _language is not None:
        return _language
    for var in ("NTMGIS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        found = language_from_locale(os.environ.get(var))
        if found is not None:
            return found
    return "vi"


class Text:
    """A catalogue sentence not said yet: said in the language of the message it fills.

    A field of :func:`message` or :func:`say` may be a ``Text`` (the file a config error
    names, "config 'x.toml'" / "tệp cấu hình 'x.toml'"), so that a bilingual error says
    every part in its own language.

    Examples
    --------
    >>> where = Text("output.written", path="a.gpkg")
    >>> message("output.heading", lang="en"), where.say("en"), where.say("vi")
    ('Wrote:', 'Wrote a.gpkg', 'Đã ghi a.gpkg')
    """

    def __init__(self, key: str, /, **fields: object):
        self.key = key
        self.fields = fields
        self.capital = False

    def say(self, lang: str | None = None) -> str:
        """The sentence in ``lang`` (default :func:`get_language`)."""
        text = message(self.key, lang=lang, **self.fields)
        return text[:1].upper() + text[1:] if self.capital else text

    def capitalized(self) -> Text:
        """The same sentence with a capital first letter (to begin a sentence)."""
        other = Text(self.key, **self.fields)
        other.capital = True
        return other

    def __str__(self) -> str:
        return self.say()

    def __repr__(self) -> str:
        return f"Text({self.key!r})"


def register(key: str, vi: str, en: str) -> None:
    """Add (or replace) one catalogue entry; both languages must use the same fields.

    A capitalised field (``{What}``) is the same value with a capital first letter, for a
    sentence that begins with it in one language only.
    """
    fields = {f.lower() for _, f, _, _ in string.Formatter().parse(vi) if f}
    if fields != {f.lower() for _, f, _, _ in string.Formatter().parse(en) if f}:
        from .errors import ConfigError

        raise ConfigError(f"Message {key!r}: the Vietnamese and English fields differ.")
    CATALOGUE[key] = {"vi": vi, "en": en}


def register_all(entries: dict, prefix: str = "") -> None:
    """Register many entries at once: ``{key: (vi, en)}`` (a module's own messages).

    ``prefix`` is put before every key (``register_all(labels, prefix="survey.kind.")``).
    """
    for key, (vi, en) in entries.items():
        register(prefix + key, vi, en)


def say(key: str, /, **fields: object) -> str:
    """An error's sentence in the language in force, then the other one in parentheses.

    What errors say: Vietnamese users read the first part, an English log, a test or a
    support forum the second (warnings, one line each, use :func:`message`). Fields
    ending in ``_key`` are catalogue keys, said in the same language.

    Examples
    --------
    >>> set_language("en")
    >>> say("output.written", path="a.gpkg")
    'Wrote a.gpkg (Đã ghi a.gpkg)'
    >>> set_language(None)
    """
    first = get_language()
    second = "en" if first == "vi" else "vi"

    def one(lang):
        values = {
            k[: -len("_key")] if k.endswith("_key") else k: (
                message(str(v), lang=lang) if k.endswith("_key") else v
            )
            for k, v in fields.items()
        }
        return message(key, lang=lang, **values)

    return f"{one(first)} ({one(second)})"


def message(key: str, /, lang: str | None = None, **fields: object) -> str:
    """The catalogue's sentence ``key`` in ``lang`` (default :func:`get_language`)."""
    entry = CATALOGUE.get(key)
    if entry is None:
        from .errors import SchemaError

        raise SchemaError(f"No message {key!r} in ntmgis.i18n.CATALOGUE.")
    if lang not in LANGUAGES:  # "vi"/"en" as they are (the common case), else parsed
        lang = language_from_locale(lang) if lang else get_language()
    template = entry.get(lang or "vi")
    if template is None:
        template = entry["en"]
    for value in fields.values():
        if isinstance(value, Text):
            values = {k: v.say(lang) if isinstance(v, Text) else v for k, v in fields.items()}
            return template.format(**values)
    return template.format(**fields)


def stage(text: str, lang: str | None = None) -> str:
    """A progress stage in the language in force: a catalogue key or a library stage name.

    Parameters
    ----------
    text : str
        ``"stage.flags"``, or a stage name as the library's modules pass it to the
        progress callback (``"flags"``, ``"Reading parcels"``, ``"Reading S2A_…"``).
        Anything else (a hamlet's name, a page count) comes back unchanged.
    lang : str, optional
        Default :func:`get_language`.

    Returns
    -------
    str

    Examples
    --------
    >>> stage("flags", lang="vi"), stage("stage.flags", lang="en")
    ('Đánh giá vườn', 'Flagging gardens')
    >>> stage("Reading S2A_48QWE_20200113", lang="vi")
    'Đọc S2A_48QWE_20200113'
    >>> stage("Thôn Đông Hòa", lang="en")
    'Thôn Đông Hòa'
    """
    found = stage_key(text)
    if found is None:
        return text
    key, name = found
    return message(key, lang=lang, **({} if name is None else {"name": name}))


def stage_key(text: str) -> tuple[str, str | None] | None:
    """The catalogue key of a stage name, and its variable part; None for other text.

    >>> stage_key("flags"), stage_key("Reading S2A_1"), stage_key("Thôn Đông Hòa")
    (('stage.flags', None), ('stage.reading', 'S2A_1'), None)
    """
    if not isinstance(text, str) or not text.strip():
        return None
    if text in CATALOGUE and text.startswith("stage."):
        return text, None
    folded = text.strip().lower()
    if folded in STAGES:
        return STAGES[folded], None
    for prefix, key in _STAGE_PREFIXES.items():
        if folded.startswith(prefix) and len(text.strip()) > len(prefix):
            return key, text.strip()[len(prefix) :]
    return None


#: how many different texts of one kind of warning are said; the others are counted
SHOWN_PER_KIND = 3


def warning_key(message, category) -> tuple:
    """What makes two warnings one kind: their category and ``what``, else their text.

    >>> from ntmgis.errors import SurveyWarning
    >>> warning_key(SurveyWarning("Row 4: unknown class.", what="unknown_class"), SurveyWarning)
    ('SurveyWarning', 'unknown_class')
    """
    what = getattr(message, "what", None)
    return (category.__name__, what or " ".join(str(message).split()))


def warning_lines(caught, *, lang: str | None = None, shown: int = SHOWN_PER_KIND) -> list[str]:
    """Recorded ntmgis warnings as one line each, each kind's repeats counted.

    What ``ntmgis run`` prints, for a caller that records the warnings
    (``warnings.catch_warnings(record=True)``) and shows them after the call, as the
    QGIS plugin does: the first ``shown`` different texts of each kind (:func:`warning_key`)
    in order, a text said already not said again, then for each kind with more a line
    saying how many of it there were. Warnings that are not ntmgis's are left out.

    Examples
    --------
    >>> import warnings
    >>> from ntmgis.errors import ImageryWarning, warn
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for scene in "ABBCDE":
    ...         warn(f"Scene {scene} is cloudy.", ImageryWarning, what="cloudy")
    >>> for line in warning_lines(caught, lang="en"):
    ...     print(line)
    Scene A is cloudy.
    Scene B is cloudy.
    Scene C is cloudy.
    Warning (×6 of this kind, 3 not shown above): Scene A is cloudy.
    """
    from .errors import NtmgisWarning

    groups: dict[tuple, list] = {}
    lines = []
    for item in caught:
        if not issubclass(item.category, NtmgisWarning):
            continue
        text = " ".join(str(item.message).split())
        group = groups.setdefault(warning_key(item.message, item.category), [0, []])
        group[0] += 1
        if text not in group[1] and len(group[1]) < shown:
            group[1].append(text)
            lines.append(text)
    for count, texts in groups.values():
        if count > len(texts):
            lines.append(repeated_line(count, texts, lang=lang))
    return lines


def repeated_line(count: int, shown: list[str], *, lang: str | None = None) -> str:
    """The line that counts a kind of warning: ``count`` of it, ``shown`` the texts said.

    >>> repeated_line(6, ["Scene A is cloudy.", "Scene B is cloudy."], lang="en")
    'Warning (×6 of this kind, 4 not shown above): Scene A is cloudy.'
    """
    return message("warning.repeated", lang=lang, prefix=message("warning.prefix", lang=lang),
                   count=count, hidden=count - len(shown), text=shown[0])  # fmt: skip
