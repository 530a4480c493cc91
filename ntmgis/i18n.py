"""The one message catalogue: what the library says to people, in Vietnamese and English.

The CLI picks the language from ``--lang`` or the environment (``NTMGIS_LANG``,
``LC_ALL``, ``LC_MESSAGES``, ``LANG``); the QGIS plugin from QGIS's locale, through
:func:`set_language`. Library code says things through :func:`message` with a key of
the catalogue, so that the same sentence reads the same in the CLI, the notebooks and
the plugin. Stage names of the progress callback are catalogue entries too.

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

import os
import string

__all__ = [
    "LANGUAGES",
    "CATALOGUE",
    "get_language",
    "set_language",
    "language_from_locale",
    "message",
    "register",
]

LANGUAGES = ("vi", "en")

# key -> {"vi": template, "en": template}; templates use str.format fields.
CATALOGUE: dict[str, dict[str, str]] = {
    "stage.parcels": {"vi": "Đọc thửa đất", "en": "Reading parcels"},
    "stage.survey": {"vi": "Ghép kết quả khảo sát", "en": "Joining the survey"},
    "stage.imagery": {"vi": "Đọc ảnh vệ tinh", "en": "Reading imagery"},
    "stage.features": {"vi": "Tính chỉ số từng thửa", "en": "Per-parcel features"},
    "stage.flags": {"vi": "Đánh giá vườn", "en": "Flagging gardens"},
    "stage.hamlets": {"vi": "Tổng hợp theo thôn", "en": "Hamlet summaries"},
    "stage.report": {"vi": "Viết báo cáo", "en": "Writing the report"},
    "stage.maps": {"vi": "In bản đồ", "en": "Printing the maps"},
    "stage.gpkg": {"vi": "Ghi GeoPackage", "en": "Writing the GeoPackage"},
    "stage.fetch": {"vi": "Tải ảnh vệ tinh", "en": "Fetching imagery"},
    "stage.done": {"vi": "Xong", "en": "Done"},
    "output.written": {"vi": "Đã ghi {path}", "en": "Wrote {path}"},
    "warning.prefix": {"vi": "Cảnh báo", "en": "Warning"},
    "error.prefix": {"vi": "Lỗi", "en": "Error"},
    "cancelled": {"vi": "Đã hủy theo yêu cầu", "en": "Cancelled by the user"},
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

        raise ConfigError(f"Unknown language {lang!r}: use one of {', '.join(LANGUAGES)}.")
    _language = chosen


def get_language() -> str:
    """The language in force: :func:`set_language`'s, else the environment's, else ``vi``."""
    if _language is not None:
        return _language
    for var in ("NTMGIS_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        found = language_from_locale(os.environ.get(var))
        if found is not None:
            return found
    return "vi"


def register(key: str, vi: str, en: str) -> None:
    """Add (or replace) one catalogue entry; both languages must use the same fields."""
    fields = {f for _, f, _, _ in string.Formatter().parse(vi) if f}
    if fields != {f for _, f, _, _ in string.Formatter().parse(en) if f}:
        from .errors import ConfigError

        raise ConfigError(f"Message {key!r}: the Vietnamese and English fields differ.")
    CATALOGUE[key] = {"vi": vi, "en": en}


def message(key: str, lang: str | None = None, **fields: object) -> str:
    """The catalogue's sentence ``key`` in ``lang`` (default :func:`get_language`)."""
    entry = CATALOGUE.get(key)
    if entry is None:
        from .errors import SchemaError

        raise SchemaError(f"No message {key!r} in ntmgis.i18n.CATALOGUE.")
    lang = language_from_locale(lang) if lang else get_language()
    return entry.get(lang or "vi", entry["en"]).format(**fields)
