"""The one registry of the result contract's keys: verdicts, survey classes, targets, hamlets.

Keys are stable, ASCII, Vietnamese-derived words; every module that reads, writes,
prints or maps them takes them from here (every key's colour from :mod:`ntmgis.palette`):

* :data:`FLAGS` (the imagery's verdict per garden), :data:`EVIDENCE` (its strength),
  :data:`SURVEY_CLASSES` (the Step 2 survey's garden classes) and :data:`AGREEMENT`
  (the survey against the imagery), each with its labels in Vietnamese and English
  (:data:`LABELS`, :func:`key_label`); :mod:`ntmgis.flags` re-exports the key tuples;
* :data:`TARGETS`: the hamlet targets of Step 5, each with its labels (long and short,
  vi and en), its unit, the headers people type for it, and its ``achieved`` rule (what
  the progress table counts against it);
* :data:`HAMLET_HEADERS`: the headers people type for the hamlet in a table (targets,
  survey; :data:`HAMLET_HEADERS_NO_SHEET` in the targets table only), and
  :data:`HAMLET_LAYER_COLUMNS` / :func:`hamlet_name_column`: the name column of a
  hamlets layer;
* :data:`STATUSES`, :data:`RENOVATION_CHECKS`, :data:`STANDARD_CLASSES`,
  :data:`IN_USE_CLASSES`.

Examples
--------
>>> TARGETS["so_vuon_mau"].short_vi
'Số vườn mẫu'
>>> FLAGS[0], key_label("flag", "cai_tao", "en")
('hoang_hoa', 'Renovated this season')
>>> import pandas as pd
>>> hamlet_name_column(pd.DataFrame({"TEN_THON": ["Xóm 1"]}))
'TEN_THON'
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from . import i18n
from .errors import SchemaError

logger = logging.getLogger(__name__)

__all__ = [
    "FLAGS",
    "IN_USE_FLAGS",
    "EVIDENCE",
    "AGREEMENT",
    "DISAGREEMENT",
    "TENDED_CLASSES",
    "ABANDONED_CLASS",
    "SURVEY_CLASSES",
    "LABELS",
    "key_label",
    "check_keys",
    "Target",
    "TARGETS",
    "STATUSES",
    "RENOVATION_CHECKS",
    "STANDARD_CLASSES",
    "IN_USE_CLASSES",
    "HAMLET_HEADERS",
    "HAMLET_HEADERS_NO_SHEET",
    "HAMLET_CODE_HEADERS",
    "HAMLET_LAYER_COLUMNS",
    "hamlet_name_column",
]

# --------------------------------------------------------------------------- verdicts
#: flag keys (the imagery's verdict per garden), most severe first
FLAGS = ("hoang_hoa", "cai_tao", "nghi_van", "binh_thuong", "thieu_du_lieu")
#: imagery flags of a garden in use: tended, or renovated this season (cleared, regrown)
IN_USE_FLAGS = ("binh_thuong", "cai_tao")
#: strength of the evidence behind a verdict
EVIDENCE = ("manh", "vua", "yeu")
#: agreement keys between the survey's claim and the imagery
AGREEMENT = (
    "phu_hop",
    "khao_sat_tot_anh_hoang",
    "khao_sat_hoang_anh_tot",
    "cai_tao_chua_thay",
    "khong_du_lieu",
)
#: the agreement keys that are a disagreement (the field-visit candidates)
DISAGREEMENT = AGREEMENT[1:4]
#: the survey's classes of a garden in use
TENDED_CLASSES = ("vuon_mau", "dat_chuan", "da_cai_tao", "vuon_tap")
#: the survey's class of an abandoned garden
ABANDONED_CLASS = "hoang_hoa"
#: the Step 2 survey's garden classes, best first (the default codebook's codes)
SURVEY_CLASSES = (*TENDED_CLASSES, ABANDONED_CLASS)

#: per kind of key, each key's label in Vietnamese and in English (the legends', the
#: report's and the plugin's words; :mod:`ntmgis.palette` adds the colours)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "flag": {
        "hoang_hoa": ("Vườn hoang hóa", "Abandoned"),
        "cai_tao": ("Vườn cải tạo trong mùa", "Renovated this season"),
        "nghi_van": ("Nghi vấn hoang hóa", "Suspected abandoned"),
        "binh_thuong": ("Vườn có canh tác", "Tended"),
        "thieu_du_lieu": ("Thiếu dữ liệu ảnh", "Too few clear images"),
    },
    "evidence": {"manh": ("Mạnh", "Strong"), "vua": ("Vừa", "Moderate"), "yeu": ("Yếu", "Weak")},
    "survey_class": {
        "vuon_mau": ("Vườn mẫu", "Model garden"),
        "dat_chuan": ("Vườn đạt chuẩn", "Meets the standard"),
        "da_cai_tao": ("Vườn đã cải tạo", "Renovated"),
        "vuon_tap": ("Vườn tạp", "Mixed, low value"),
        "hoang_hoa": ("Vườn hoang hóa", "Abandoned"),
    },
    "agreement": {
        "phu_hop": ("Phù hợp", "Consistent"),
        "khao_sat_tot_anh_hoang": (
            "Khảo sát tốt, ảnh cho thấy hoang hóa",
            "Survey tended, imagery abandoned",
        ),
        "khao_sat_hoang_anh_tot": (
            "Khảo sát hoang hóa, ảnh cho thấy canh tác",
            "Survey abandoned, imagery tended",
        ),
        "cai_tao_chua_thay": (
            "Báo cải tạo, ảnh chưa thấy thay đổi",
            "Reported renovated, no change seen",
        ),
        "khong_du_lieu": ("Không đủ dữ liệu đối chiếu", "Nothing to compare"),
    },
}
_KEYS = {"flag": FLAGS, "evidence": EVIDENCE, "survey_class": SURVEY_CLASSES,
         "agreement": AGREEMENT}  # fmt: skip

i18n.register(
    "error.registry.unknown_key",
    "Giá trị '{value}' không phải là một mã {kind} của ntmgis (các mã: {known}). "
    "Hãy sửa giá trị này trong tệp hoặc chạy lại ntmgis để tạo lại kết quả.",
    "'{value}' is not a {kind} key of ntmgis (keys: {known}). "
    "Correct it in the file or run ntmgis again to remake the result.",
)
i18n.register(
    "error.registry.unknown_kind",
    "Không có loại mã '{kind}' (các loại: {known}).",
    "There is no kind of key '{kind}' (kinds: {known}).",
)


def _kind(kind: str) -> dict[str, tuple[str, str]]:
    if kind not in LABELS:
        raise SchemaError(i18n.message("error.registry.unknown_kind", kind=kind,
                                       known=", ".join(LABELS)))  # fmt: skip
    return LABELS[kind]


def key_label(kind: str, key: str, lang: str | None = None) -> str:
    """The label of one key (``kind``: flag, evidence, survey_class, agreement).

    Parameters
    ----------
    kind : {"flag", "evidence", "survey_class", "agreement"}
        The kind of key.
    key : str
        The key, e.g. ``"hoang_hoa"``.
    lang : {"vi", "en"}, optional
        Default: the language of :func:`ntmgis.i18n.get_language`.

    Returns
    -------
    str

    Raises
    ------
    SchemaError
        An unknown kind or key (the message names it and lists the known ones).

    Examples
    --------
    >>> key_label("survey_class", "vuon_tap", "vi")
    'Vườn tạp'
    """
    labels = _kind(kind)
    if key not in labels:
        raise SchemaError(i18n.message("error.registry.unknown_key", value=key, kind=kind,
                                       known=", ".join(labels)))  # fmt: skip
    lang = lang or i18n.get_language()
    return labels[key][1 if lang == "en" else 0]


def check_keys(kind: str, values, *, where: str = "") -> None:
    """Raise when a value (NaN and None aside) is not a key of ``kind``.

    Parameters
    ----------
    kind : {"flag", "evidence", "survey_class", "agreement"}
    values : iterable
        The values of a column, e.g. ``parcels["flag"]``.
    where : str, optional
        The file or layer, said in the message.

    Raises
    ------
    SchemaError
        The first unknown value, with the known keys.

    Examples
    --------
    >>> check_keys("flag", ["hoang_hoa", None, "cai_tao"])
    """
    known = _KEYS.get(kind) or tuple(_kind(kind))
    for value in values:
        if value is None or value != value or value in known:
            continue
        text = i18n.message("error.registry.unknown_key", value=value, kind=kind,
                            known=", ".join(known))  # fmt: skip
        raise SchemaError(f"{where}: {text}" if where else text)


# survey classes that count as "meeting the standard" and as "in use"
STANDARD_CLASSES = ("vuon_mau", "dat_chuan", "da_cai_tao")
IN_USE_CLASSES = TENDED_CLASSES
# a target's (and a hamlet's) status: exceeded, met, not met, no target
STATUSES = ("vuot", "dat", "chua_dat", "khong_chi_tieu")
# how a reported renovation stands against the imagery (ntmgis.progress.compare_campaigns)
RENOVATION_CHECKS = (
    "xac_nhan",
    "anh_chua_thay",
    "khong_du_lieu",
    "anh_thay_chua_bao_cao",
    "van_hoang_hoa",
    "chua_ro",
)

# headers people type for the hamlet in any table (survey, targets table), compared with
# ntmgis.text.header_key (so with or without diacritics, in any case): the unit word of the
# region heads the column, thôn/xóm (North), ấp (South), bản/buôn/làng (mountains), tổ dân
# phố/khu phố (towns). The one list: ntmgis.survey and ntmgis.progress both read it.
HAMLET_HEADERS = (
    "Thôn", "Tên thôn", "ten_thon", "Thôn/xóm", "Thôn, xóm", "Xóm", "Thôn xóm", "Tên xóm",
    "DIADANH", "hamlet",
    "Ấp", "Tên ấp", "Bản", "Tên bản", "Buôn", "Làng", "Sóc", "Tổ dân phố", "Khu phố",
    "Khối",
    "Thôn/Ấp", "Thôn/Bản", "Bản/Tổ", "Thôn/Tổ", "Thôn, tổ dân phố", "Thôn/Tổ dân phố",
)  # fmt: skip
# headers read as the hamlet only in a table with no map-sheet column (the targets table):
# without diacritics "Tổ" is "Tờ" (the map sheet of a survey row), so the survey cannot
HAMLET_HEADERS_NO_SHEET = ("Tổ", "Tên tổ")
HAMLET_CODE_HEADERS = ("Mã thôn", "ma_thon", "hamlet_code")
# the name column of a hamlets layer, in order of preference
HAMLET_LAYER_COLUMNS = ("hamlet", "ten_thon", "TEN_THON", "thon", "name")


def hamlet_name_column(frame) -> str | None:
    """The column of a hamlets layer that holds the hamlet names, or None."""
    return next((c for c in HAMLET_LAYER_COLUMNS if c in frame.columns), None)


def _renovated(table, *, renovations: str = "confirmed"):
    return table[f"renovated_{renovations}"].astype(float)


def _standard_share(table, **_):
    import numpy as np
    import pandas as pd

    standard = table[[f"n_{c}" for c in STANDARD_CLASSES]].sum(axis=1)
    share = np.where(table["gardens"] > 0, 100.0 * standard / table["gardens"].clip(lower=1), 0.0)
    return pd.Series(np.round(share, 1), index=table.index)


def _model_gardens(table, **_):
    return table["n_vuon_mau"].astype(float)


@dataclass(frozen=True)
class Target:
    """One kind of hamlet target.

    Attributes
    ----------
    key : str
        Column suffix in the progress table (``target_<key>``, ``achieved_<key>``...).
    label_vi, label_en : str
        The header of the targets table, as the commune office types it.
    short_vi, short_en : str
        The short label printed in the report and on the maps.
    unit : {"count", "percent"}
        What a target value is.
    aliases : tuple of str
        Headers accepted for it (matched without diacritics or case).
    achieved : callable
        ``achieved(progress_table, renovations=...)``: what the hamlet achieved, from the
        per-hamlet counts of :func:`ntmgis.progress.hamlet_progress`.
    """

    key: str
    label_vi: str
    label_en: str
    short_vi: str
    short_en: str
    unit: str
    aliases: tuple[str, ...]
    achieved: Callable


TARGETS: dict[str, Target] = {
    t.key: t
    for t in (
        Target(
            "hoang_hoa_dua_vao_su_dung",
            "Số vườn hoang hóa đưa vào sử dụng",
            "Abandoned gardens brought back into use",
            "Vườn hoang hóa đưa vào sử dụng",
            "Abandoned gardens back in use",
            "count",
            (
                "Số vườn hoang hóa đưa vào sử dụng",
                "Vườn hoang hóa đưa vào sử dụng",
                "Số vườn hoang hóa được cải tạo",
                "Số vườn hoang hóa cải tạo",
                "Chỉ tiêu vườn hoang hóa",
                "abandoned_to_reuse",
            ),
            _renovated,
        ),
        Target(
            "ty_le_dat_chuan",
            "Tỷ lệ vườn đạt chuẩn (%)",
            "Share of gardens meeting the standard (%)",
            "Tỷ lệ vườn đạt chuẩn (%)",
            "Gardens meeting the standard (%)",
            "percent",
            (
                "Tỷ lệ vườn đạt chuẩn (%)",
                "Tỷ lệ vườn đạt chuẩn",
                "Tỷ lệ đạt chuẩn (%)",
                "Tỷ lệ đạt chuẩn",
                "Vườn đạt chuẩn (%)",
                "standard_share",
            ),
            _standard_share,
        ),
        Target(
            "so_vuon_mau",
            "Số vườn mẫu",
            "Model gardens",
            "Số vườn mẫu",
            "Model gardens",
            "count",
            ("Số vườn mẫu", "Vườn mẫu", "Số lượng vườn mẫu", "model_gardens"),
            _model_gardens,
        ),
    )
}
