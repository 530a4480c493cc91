"""The one set of colours and labels (Vietnamese and English) for every key ntmgis writes.

Maps, QGIS styles, reports and the plugin all take their colours and legend texts from
here, so a parcel flagged ``hoang_hoa`` has the same colour and the same words everywhere.

Themes and their keys
---------------------
``flag``
    ``hoang_hoa`` abandoned, ``nghi_van`` suspected, ``binh_thuong`` tended,
    ``thieu_du_lieu`` too few clear observations.
``survey_class``
    ``vuon_mau``, ``dat_chuan``, ``da_cai_tao``, ``vuon_tap``, ``hoang_hoa`` and, for a
    garden nobody surveyed, ``chua_khao_sat``.
``agreement``
    ``phu_hop``, ``khao_sat_tot_anh_hoang``, ``khao_sat_hoang_anh_tot``,
    ``cai_tao_chua_thay``, ``khong_du_lieu``.
``status`` (hamlet progress)
    ``vuot`` exceeded, ``dat`` met, ``chua_dat`` not met, ``khong_chi_tieu`` no target.
``land_use``
    cadastral codes (ONT, ONT+CLN, CLN, HNK, LUC, NTS, other): for screen use only.

Parcel themes also carry ``khong_phai_vuon`` for parcels that are not gardens (rice,
ponds): drawn white, so the gardens stand out.

How the colours were chosen
---------------------------
From Paul Tol's colour-blind-safe schemes ("muted", "bright", "high-contrast"; Tol 2021,
*Colour Schemes*, SRON/EPS/TN/09-002), then checked (``tests/test_palette.py``): within a
printable theme every two classes without a hatch differ by at least 10 CIE L* units (so
they stay apart when printed in grey) and by at least 10 CAM02-UCS ΔE units for normal
vision and for full protan, deutan and tritan deficiency simulated with the Machado,
Oliveira & Fernandes (2009) model. Classes that mean "no data" are white with a hatch, so
they are told apart by pattern, not by colour.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from . import i18n

logger = logging.getLogger(__name__)

# what people read from this module, Vietnamese first (ntmgis.i18n's catalogue)
_MESSAGES = {
    "error.palette.not_a_key": (
        "'{value}' không phải là một mã của kiểu tô màu '{theme}'.",
        "'{value}' is not a key of the palette theme '{theme}'.",
    ),
    "error.palette.unknown_theme": (
        "Không có kiểu tô màu '{name}'. Hãy chọn một trong: {choices}.",
        "Unknown palette theme '{name}'. Use one of: {choices}.",
    ),
    "error.palette.no_column": (
        "Thiếu cột '{field}' (kiểu tô màu '{theme}'); các cột hiện có: {columns}. Hãy tô màu "
        "theo kiểu khác hoặc thêm cột này.",
        "Column '{field}' (theme '{theme}') is missing; columns there: {columns}. Colour by "
        "another theme or add the column.",
    ),
    "warning.palette.unknown_values": (
        "{count} dòng có giá trị của cột '{field}' không phải mã của kiểu tô màu '{theme}' "
        "({values}); được vẽ như '{null}'. Các mã đã biết: {known}.",
        "{count} row(s) have values of '{field}' that are not keys of the theme '{theme}' "
        "({values}); drawn as '{null}'. Known keys: {known}.",
    ),
}
i18n.register_all(_MESSAGES)


def _msg(key: str, /, **fields) -> str:
    return i18n.message(key, **fields)


__all__ = [
    "Category",
    "Theme",
    "THEMES",
    "get_theme",
    "label",
    "color",
    "classify",
    "NON_GARDEN",
]

NON_GARDEN = "khong_phai_vuon"
EDGE = "#555555"
BOUNDARY = "#000000"


@dataclass(frozen=True)
class Category:
    """One class of a theme: its key, its labels and how it is drawn.

    Attributes
    ----------
    key : str
        The value stored in the data (or a drawing-only key such as ``khong_phai_vuon``).
    label_vi, label_en : str
        Legend text in Vietnamese and in English.
    color : str
        Fill colour, ``#RRGGBB``.
    hatch : str or None
        ``"/"``, a backslash or ``"-"``: lines drawn over the fill (dark grey), or None.
    """

    key: str
    label_vi: str
    label_en: str
    color: str
    hatch: str | None = None

    def label(self, lang: str = "vi") -> str:
        """The legend text in ``lang`` ("vi" or "en")."""
        return self.label_en if lang == "en" else self.label_vi

    @property
    def rgb(self) -> tuple[float, float, float]:
        """The fill colour as three floats in [0, 1]."""
        return tuple(int(self.color[i : i + 2], 16) / 255 for i in (1, 3, 5))


@dataclass(frozen=True)
class Theme:
    """A way to colour a layer: the column it reads and its ordered categories.

    Attributes
    ----------
    name : str
        Theme name (``flag``, ``survey_class``, ``agreement``, ``status``, ``land_use``).
    field : str
        The column holding the keys.
    title_vi, title_en : str
        Legend title.
    categories : tuple of Category
        In legend order.
    null_key : str
        Key drawn for a missing value on a garden (or a hamlet).
    garden_aware : bool
        Whether parcels with ``is_garden`` False are drawn as ``khong_phai_vuon``.
    print_safe : bool
        Whether the colours are checked for greyscale printing and colour-blind readers.
    """

    name: str
    field: str
    title_vi: str
    title_en: str
    categories: tuple[Category, ...]
    null_key: str
    garden_aware: bool = True
    print_safe: bool = True

    @property
    def keys(self) -> list[str]:
        """Category keys in legend order."""
        return [c.key for c in self.categories]

    def __getitem__(self, key: str) -> Category:
        for category in self.categories:
            if category.key == key:
                return category
        from .errors import SchemaError

        raise SchemaError(_msg("error.palette.not_a_key", value=key, theme=self.name))

    def labels(self, lang: str = "vi") -> dict[str, str]:
        """Key -> legend text in ``lang``."""
        return {c.key: c.label(lang) for c in self.categories}

    def colors(self) -> dict[str, str]:
        """Key -> ``#RRGGBB`` fill colour."""
        return {c.key: c.color for c in self.categories}

    def title(self, lang: str = "vi") -> str:
        """Legend title in ``lang``."""
        return self.title_en if lang == "en" else self.title_vi

    def qgis_expression(self) -> str:
        """The QGIS expression that computes :func:`classify`'s key for a feature."""
        f = f'"{self.field}"'
        if self.name == "land_use":
            known = ", ".join(f"'{k}'" for k in self.keys if k != "khac")
            return f"CASE WHEN {f} IN ({known}) THEN {f} ELSE 'khac' END"
        parts = []
        if self.garden_aware:
            parts.append(f'WHEN "is_garden" IS NOT NULL AND NOT "is_garden" THEN \'{NON_GARDEN}\'')
        known = ", ".join(f"'{k}'" for k in self.keys if k != NON_GARDEN)
        parts.append(f"WHEN {f} IN ({known}) THEN {f}")
        return "CASE " + " ".join(parts) + f" ELSE '{self.null_key}' END"


_NON_GARDEN = Category(NON_GARDEN, "Không phải vườn (lúa, ao...)", "Not a garden", "#FFFFFF")

THEMES: dict[str, Theme] = {
    "flag": Theme(
        "flag",
        "flag",
        "Hiện trạng vườn (ảnh vệ tinh)",
        "Garden condition (satellite)",
        (
            Category("hoang_hoa", "Vườn hoang hóa", "Abandoned", "#882255"),
            Category("cai_tao", "Vườn cải tạo trong mùa", "Renovated this season", "#0077BB"),
            Category("nghi_van", "Nghi vấn hoang hóa", "Suspected abandoned", "#EE7733"),
            Category("binh_thuong", "Vườn có canh tác", "Tended", "#99CC66"),
            Category("thieu_du_lieu", "Thiếu dữ liệu ảnh", "Too few clear images", "#FFFFFF", "\\"),
            _NON_GARDEN,
        ),
        null_key="thieu_du_lieu",
    ),
    "survey_class": Theme(
        "survey_class",
        "survey_class",
        "Phân loại vườn (khảo sát)",
        "Garden class (survey)",
        (
            Category("vuon_mau", "Vườn mẫu", "Model garden", "#117733"),
            Category("dat_chuan", "Vườn đạt chuẩn", "Meets the standard", "#44AA99"),
            Category("da_cai_tao", "Vườn đã cải tạo", "Renovated", "#88CCEE"),
            Category("vuon_tap", "Vườn tạp", "Mixed, low value", "#DDCC77", "/"),
            Category("hoang_hoa", "Vườn hoang hóa", "Abandoned", "#882255"),
            Category("chua_khao_sat", "Chưa khảo sát", "Not surveyed", "#FFFFFF", "\\"),
            _NON_GARDEN,
        ),
        null_key="chua_khao_sat",
    ),
    "agreement": Theme(
        "agreement",
        "agreement",
        "Đối chiếu khảo sát và ảnh vệ tinh",
        "Survey against imagery",
        (
            Category("phu_hop", "Phù hợp", "Consistent", "#DDDDDD"),
            Category(
                "khao_sat_tot_anh_hoang",
                "Khảo sát tốt, ảnh cho thấy hoang hóa",
                "Survey tended, imagery abandoned",
                "#BB5566",
            ),
            Category(
                "khao_sat_hoang_anh_tot",
                "Khảo sát hoang hóa, ảnh cho thấy canh tác",
                "Survey abandoned, imagery tended",
                "#004488",
            ),
            Category(
                "cai_tao_chua_thay",
                "Báo cải tạo, ảnh chưa thấy thay đổi",
                "Reported renovated, no change seen",
                "#DDAA33",
            ),
            Category(
                "khong_du_lieu", "Không đủ dữ liệu đối chiếu", "Nothing to compare", "#FFFFFF", "\\"
            ),
            _NON_GARDEN,
        ),
        null_key="khong_du_lieu",
    ),
    "status": Theme(
        "status",
        "status",
        "Tiến độ của thôn",
        "Hamlet progress",
        (
            Category("vuot", "Vượt chỉ tiêu", "Target exceeded", "#004488"),
            Category("dat", "Đạt chỉ tiêu", "Target met", "#88CCEE"),
            Category("chua_dat", "Chưa đạt chỉ tiêu", "Target not met", "#EE7733"),
            Category("khong_chi_tieu", "Không có chỉ tiêu", "No target", "#FFFFFF", "\\"),
        ),
        null_key="khong_chi_tieu",
        garden_aware=False,
    ),
    "evidence": Theme(
        "evidence",
        "evidence",
        "Độ tin cậy của kết luận",
        "Strength of the evidence",
        (
            Category("manh", "Mạnh", "Strong", "#004488"),
            Category("vua", "Vừa", "Moderate", "#6699CC"),
            Category("yeu", "Yếu", "Weak", "#DDDDDD"),
            _NON_GARDEN,
        ),
        null_key="yeu",
        print_safe=False,
    ),
    "land_use": Theme(
        "land_use",
        "KHLOAIDAT",
        "Loại đất",
        "Land use",
        (
            Category("ONT", "ONT – Đất ở nông thôn", "ONT – rural residential", "#EE8866"),
            Category(
                "ONT+CLN", "ONT+CLN – Đất ở và vườn", "ONT+CLN – residential and garden", "#FFAABB"
            ),
            Category("CLN", "CLN – Cây lâu năm", "CLN – perennial crops", "#44BB99"),
            Category("HNK", "HNK – Cây hằng năm khác", "HNK – annual crops", "#BBCC33"),
            Category("LUC", "LUC – Chuyên trồng lúa", "LUC – rice", "#EEDD88"),
            Category("NTS", "NTS – Nuôi trồng thủy sản", "NTS – aquaculture", "#77AADD"),
            Category("khac", "Loại đất khác", "Other land use", "#DDDDDD"),
        ),
        null_key="khac",
        garden_aware=False,
        print_safe=False,
    ),
}

# the commune's plan (ntmgis.places, ntmgis.plan): screen and table labels
THEMES.update(
    {
        "place_kind": Theme(
            "place_kind",
            "place_kind",
            "Loại địa danh",
            "Kind of place",
            (
                Category("thon_xom", "Thôn, xóm (khu dân cư)", "Hamlet", "#EE8866"),
                Category(
                    "khong_ro",
                    "Thôn (tên không có từ chỉ đơn vị)",
                    "Hamlet, no unit word",
                    "#FFAABB",
                ),  # fmt: skip
                Category("canh_dong", "Cánh đồng, xứ đồng", "Field", "#EEDD88"),
                Category("rung_nui", "Rừng, núi, đồi", "Forest or hill", "#44BB99"),
                Category("song_ho", "Sông, suối, hồ, ao", "Water", "#77AADD"),
                Category("bai", "Bãi", "Riverbank or flat", "#BBCC33"),
                Category("nghia_trang", "Nghĩa trang", "Cemetery", "#DDDDDD"),
                Category("trong", "Không ghi địa danh", "No place given", "#FFFFFF", "\\"),
            ),
            null_key="trong",
            garden_aware=False,
            print_safe=False,
        ),
        "plan_priority": Theme(
            "plan_priority",
            "plan_priority",
            "Kế hoạch cải tạo vườn (bước 4)",
            "Renovation plan (Step 4)",
            (
                Category(
                    "hoang_hoa", "Ưu tiên 1: vườn hoang hóa", "Priority 1: abandoned", "#BB5566"
                ),  # fmt: skip
                Category(
                    "vuon_tap", "Ưu tiên 2: vườn tạp", "Priority 2: mixed, low-value", "#DDAA33"
                ),  # fmt: skip
                Category("khong_ke_hoach", "Không trong kế hoạch", "Not in the plan", "#FFFFFF"),
            ),
            null_key="khong_ke_hoach",
            print_safe=False,
        ),
        "plan_status": Theme(
            "plan_status",
            "plan_status",
            "Thực hiện kế hoạch cải tạo",
            "Renovation plan: planned vs done",
            (
                Category(
                    "da_cai_tao",
                    "Đã cải tạo (ảnh xác nhận)",
                    "Renovated (imagery confirms)",
                    "#004488",
                ),  # fmt: skip
                Category(
                    "bao_cao_chua_thay",
                    "Báo cáo đã cải tạo, ảnh chưa thấy",
                    "Reported renovated, not seen by imagery",
                    "#DDAA33",
                ),  # fmt: skip
                Category("chua_thuc_hien", "Chưa thực hiện", "Not done yet", "#BB5566"),
                Category(
                    "khong_con_thua",
                    "Thửa không còn trong đợt sau",
                    "Parcel not in the follow-up",
                    "#FFFFFF",
                    "\\",
                ),  # fmt: skip
            ),
            null_key="khong_con_thua",
            garden_aware=False,
            print_safe=False,
        ),
        "commendation": Theme(
            "commendation",
            "commendation",
            "Đề nghị khen thưởng (bước 6)",
            "Proposed commendations (Step 6)",
            (
                Category(
                    "cai_tao_hoang_hoa",
                    "Cải tạo vườn hoang hóa (ảnh xác nhận)",
                    "Renovated an abandoned garden (imagery confirms)",
                    "#004488",
                ),  # fmt: skip
                Category("vuon_mau_moi", "Vườn mẫu mới", "New model garden", "#228833"),
                Category(
                    "thon_vuot_chi_tieu",
                    "Thôn vượt mọi chỉ tiêu",
                    "Hamlet exceeded every target",
                    "#EE7733",
                ),  # fmt: skip
            ),
            null_key="cai_tao_hoang_hoa",
            garden_aware=False,
            print_safe=False,
        ),
    }
)

_ALIASES = {"survey": "survey_class", "progress": "status", "landuse": "land_use"}


def get_theme(name: str) -> Theme:
    """Return a palette theme by name.

    Parameters
    ----------
    name : str
        ``flag``, ``survey_class`` (or ``survey``), ``agreement``, ``status`` (or
        ``progress``) or ``land_use``.

    Returns
    -------
    Theme
        The theme.

    Raises
    ------
    ntmgis.errors.InputError
        For an unknown name; the message lists the known ones.
    """
    from .errors import InputError

    key = _ALIASES.get(str(name).strip().lower(), str(name).strip().lower())
    if key not in THEMES:
        choices = f"{', '.join(THEMES)} ({', '.join(_ALIASES)})"
        raise InputError(_msg("error.palette.unknown_theme", name=name, choices=choices))
    return THEMES[key]


def label(theme: str, key: str, lang: str = "vi") -> str:
    """The legend text of one key.

    Parameters
    ----------
    theme : str
        Theme name (see :func:`get_theme`).
    key : str
        Category key, e.g. ``"hoang_hoa"``.
    lang : {"vi", "en"}
        Language.

    Returns
    -------
    str
        The label.

    Examples
    --------
    >>> label("flag", "hoang_hoa")
    'Vườn hoang hóa'
    >>> label("status", "chua_dat", "en")
    'Target not met'
    """
    return get_theme(theme)[key].label(lang)


def color(theme: str, key: str) -> str:
    """The ``#RRGGBB`` fill colour of one key.

    Parameters
    ----------
    theme : str
        Theme name (see :func:`get_theme`).
    key : str
        Category key.

    Returns
    -------
    str
        The colour.

    Examples
    --------
    >>> color("flag", "hoang_hoa")
    '#882255'
    """
    return get_theme(theme)[key].color


def classify(frame, theme: str):
    """The drawing key of every row: the theme's column, with missing values resolved.

    Rows whose ``is_garden`` is False get ``khong_phai_vuon`` (garden-aware themes); a
    missing value gets the theme's ``null_key`` (``chua_khao_sat`` for the survey,
    ``khong_du_lieu`` for the agreement...). For ``flag``, a missing flag on a table
    without ``is_garden`` means a non-garden parcel (as the result contract says).
    Unknown values are drawn with the ``null_key`` and reported with an
    :class:`~ntmgis.errors.NtmgisWarning`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows to classify (parcels or hamlets).
    theme : str
        Theme name (see :func:`get_theme`).

    Returns
    -------
    pandas.Series
        Keys of ``theme``, aligned with ``frame``.

    Raises
    ------
    ntmgis.errors.SchemaError
        When the theme's column is missing.
    """
    import pandas as pd

    from .errors import OutputWarning, SchemaError, warn

    spec = get_theme(theme)
    field = spec.field
    if field not in frame.columns:
        raise SchemaError(_msg("error.palette.no_column", field=field, theme=spec.name,
                               columns=", ".join(map(str, frame.columns))))  # fmt: skip
    values = frame[field].astype(object)
    missing = values.isna() | values.map(lambda v: isinstance(v, str) and not v.strip())
    keys = pd.Series(spec.null_key, index=frame.index, dtype=object)
    known = values.isin([k for k in spec.keys if k != NON_GARDEN]) & ~missing
    keys[known] = values[known]
    unknown = ~known & ~missing
    if unknown.any():
        bad = sorted({str(v) for v in values[unknown]})
        key = "warning.palette.unknown_values"
        warn(_msg(key, count=int(unknown.sum()), field=field, theme=spec.name,
                  values=", ".join(bad[:5]), null=spec.null_key, known=", ".join(spec.keys)),
             OutputWarning, where=field, what=key)  # fmt: skip
    if spec.garden_aware:
        if "is_garden" in frame.columns:
            garden = frame["is_garden"].astype(object)
            not_garden = garden.notna() & ~garden.fillna(True).astype(bool)
            keys[not_garden] = NON_GARDEN
        elif spec.name == "flag":
            keys[missing] = NON_GARDEN
    return keys
