"""The one registry of the result contract's keys that are not flags: targets, hamlet columns.

Keys are stable, ASCII, Vietnamese-derived words; every module that reads, writes,
prints or maps them takes them from here (the flags, survey classes and agreement keys
from :mod:`ntmgis.flags`, every key's colour and vi/en label from :mod:`ntmgis.palette`):

* :data:`TARGETS`: the hamlet targets of Step 5, each with its labels (long and short,
  vi and en), its unit, the headers people type for it, and its ``achieved`` rule (what
  the progress table counts against it);
* :data:`HAMLET_HEADERS`: the headers people type for the hamlet in a table (targets,
  survey), and :data:`HAMLET_LAYER_COLUMNS` / :func:`hamlet_name_column`: the name
  column of a hamlets layer;
* :data:`STATUSES`, :data:`RENOVATION_CHECKS`, :data:`STANDARD_CLASSES`,
  :data:`IN_USE_CLASSES`.

Examples
--------
>>> TARGETS["so_vuon_mau"].short_vi
'Số vườn mẫu'
>>> import pandas as pd
>>> hamlet_name_column(pd.DataFrame({"TEN_THON": ["Xóm 1"]}))
'TEN_THON'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Target",
    "TARGETS",
    "STATUSES",
    "RENOVATION_CHECKS",
    "STANDARD_CLASSES",
    "IN_USE_CLASSES",
    "HAMLET_HEADERS",
    "HAMLET_CODE_HEADERS",
    "HAMLET_LAYER_COLUMNS",
    "hamlet_name_column",
]

# survey classes that count as "meeting the standard" and as "in use"
STANDARD_CLASSES = ("vuon_mau", "dat_chuan", "da_cai_tao")
IN_USE_CLASSES = ("vuon_mau", "dat_chuan", "da_cai_tao", "vuon_tap")
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

# headers people type for the hamlet (targets table, survey), with or without diacritics
HAMLET_HEADERS = ("Thôn", "Tên thôn", "ten_thon", "Thôn/xóm", "Thôn, xóm", "Xóm", "Thôn xóm")
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
