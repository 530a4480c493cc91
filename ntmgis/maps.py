"""Printed village maps: one PDF with a commune overview and a page per hamlet.

Made with matplotlib only (no QGIS), for the meetings of Steps 3 and 6 where people look
at a printed map of their hamlet. Each page carries a Vietnamese title, the parcels
coloured by a theme of :mod:`ntmgis.palette`, parcel numbers where they fit, the hamlet
boundary, a legend with counts, a scale bar with round numbers at a round map scale, a
north arrow, coordinate ticks in the map's CRS, the imagery dates and data sources, the
table of households to visit, a place-and-date line and a signature block.

Page count
----------
``1`` (commune overview) ``+`` one page per hamlet ``+`` continuation pages of the visit
table: a hamlet whose visit list has ``n`` rows needs
``ceil(max(0, n - first_rows) / CONTINUATION_ROWS)`` more pages, where ``first_rows`` is
:data:`FIRST_PAGE_ROWS` for the page's orientation (see :func:`page_count`).
"""

from __future__ import annotations

import datetime as _dt
import logging
import math
import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from . import i18n
from . import palette as _palette
from . import registry as _registry
from ._io import atomic_path
from ._progress import ProgressCallback, report
from .places import hamlet_title
from .registry import hamlet_name_column

logger = logging.getLogger(__name__)

# what people read from the maps, Vietnamese first (ntmgis.i18n's catalogue)
_MESSAGES = {
    "error.maps.unknown_theme": (
        "Không có kiểu bản đồ '{by}'. Hãy chọn một trong: {choices}.",
        "Unknown map theme '{by}'. Choose one of: {choices}.",
    ),
    "error.maps.unknown_paper": (
        "Không có khổ giấy '{paper}'. Hãy chọn A4 hoặc A3.",
        "Unknown paper '{paper}'. Choose A4 or A3.",
    ),
    "error.maps.no_parcels": (
        "Không có thửa đất nào để vẽ bản đồ trong {source}: hãy chọn tệp GeoPackage kết quả "
        "của lần chạy (có lớp 'parcels').",
        "No parcels to map in {source}: choose the run's result GeoPackage (with a "
        "'parcels' layer).",
    ),
    "error.maps.no_column": (
        "Lớp thửa đất trong {source} không có cột '{name}' (hoặc {aliases}); các cột hiện có: "
        "{columns}. Hãy vẽ bản đồ từ tệp GeoPackage kết quả của lần chạy.",
        "The parcels in {source} have no '{name}' column (nor {aliases}); columns there: "
        "{columns}. Map the run's result GeoPackage.",
    ),
    "error.maps.no_crs": (
        "Lớp thửa đất trong {source} không có hệ tọa độ; bản đồ cần đơn vị mét. Hãy gán hệ "
        "tọa độ cho lớp (ví dụ VN-2000 của tỉnh) rồi chạy lại.",
        "The parcels in {source} have no CRS; maps need metres. Set the layer's CRS (e.g. "
        "the province's VN-2000) and run again.",
    ),
    "error.maps.status_columns": (
        "Bảng tiến độ các thôn cần có cột 'hamlet' (tên thôn) và 'status' (đánh giá); bảng "
        "hiện có các cột: {columns}.",
        "The hamlet progress table needs columns 'hamlet' and 'status'; it has: {columns}.",
    ),
    "error.maps.plan_no_parcel_id": (
        "Không in được kế hoạch cải tạo: thửa đất trong {source} hoặc bảng kế hoạch không có "
        "mã thửa (parcel_id). Hãy dùng tệp GeoPackage kết quả của lần chạy.",
        "The renovation plan cannot be printed: the parcels in {source} or the plan have no "
        "parcel_id. Use the run's result GeoPackage.",
    ),
    "error.maps.plan_empty": (
        "Kế hoạch cải tạo của {source} không có vườn nào (không có vườn hoang hóa hay vườn "
        "tạp): không có bản đồ kế hoạch để in.",
        "The renovation plan of {source} holds no garden (no abandoned or mixed garden): "
        "there is no plan map to print.",
    ),
    "warning.maps.hamlets_no_name": (
        "Lớp ranh giới thôn không có cột tên thôn ('hamlet' hoặc 'ten_thon'): ranh giới thôn "
        "được vẽ từ các thửa đất.",
        "The hamlets layer has no 'hamlet' (or 'ten_thon') column; hamlet boundaries are "
        "drawn from the parcels instead.",
    ),
    "warning.maps.unknown_hamlets": (
        "{count} thửa đất ghi tên thôn không có trong lớp ranh giới thôn ({names}): các thửa "
        "này chỉ có trên bản đồ toàn xã.",
        "{count} parcel(s) name hamlets that are not in the hamlets layer ({names}); they "
        "appear on the commune overview only.",
    ),
}
i18n.register_all(_MESSAGES)


def _msg(key: str, /, **fields) -> str:
    return i18n.message(key, **fields)


__all__ = [
    "render_maps",
    "page_count",
    "plan_page_count",
    "PLAN_FIRST_ROWS",
    "PLAN_CONTINUATION_ROWS",
    "map_title",
    "nice_scale",
    "scale_bar_length",
    "FIRST_PAGE_ROWS",
    "CONTINUATION_ROWS",
]

PAPERS = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}  # landscape width, height in mm
SCALES = (
    500,
    1000,
    1500,
    2000,
    2500,
    3000,
    4000,
    5000,
    6000,
    7500,
    10000,
    12500,
    15000,
    20000,
    25000,
    30000,
    40000,
    50000,
    75000,
    100000,
    150000,
    200000,
    250000,
    500000,
    1000000,
)
BAR_STEPS = (1, 2, 2.5, 5)
# rows of the visit table on a hamlet's map page, and on each continuation page (A4; A3
# pages are drawn with the same layout scaled up, so they hold the same rows)
FIRST_PAGE_ROWS = {"landscape": 14, "portrait": 11}
CONTINUATION_ROWS = 44
_ROW_MM = 5.0
_THEME_TITLES = {
    "flag": "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ",
    "survey_class": "BẢN ĐỒ PHÂN LOẠI VƯỜN HỘ THEO KHẢO SÁT",
    "agreement": "BẢN ĐỒ ĐỐI CHIẾU KHẢO SÁT VÀ ẢNH VỆ TINH",
    "plan_priority": "BẢN ĐỒ KẾ HOẠCH CẢI TẠO VƯỜN HỘ",
}
_BY = {"flag": "flag", "survey": "survey_class", "survey_class": "survey_class"}
_BY["agreement"] = "agreement"
_BY["plan"] = _BY["plan_priority"] = "plan_priority"  # the Step 4 plan, a page per hamlet
_ALIASES = {
    "hamlet": ("hamlet", "DIADANH", "thon", "ten_thon"),
    "sheet": ("sheet", "SHBANDO"),
    "parcel_no": ("parcel_no", "SHTHUA"),
    "area_m2": ("area_m2", "DIENTICH"),
    "owner": ("owner", "TENCHU"),
}


# --------------------------------------------------------------------------------------
# small public helpers (pure, tested by hand)
# --------------------------------------------------------------------------------------


def nice_scale(denominator: float) -> int:
    """The smallest round map scale at least as small as ``1:denominator``.

    Parameters
    ----------
    denominator : float
        The scale denominator the map needs to fit its frame.

    Returns
    -------
    int
        A round denominator from 1:500 to 1:1,000,000 (1, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5
        times a power of ten as cadastral and topographic maps use).

    Examples
    --------
    >>> nice_scale(4120.5)
    5000
    >>> nice_scale(5000)
    5000
    """
    for scale in SCALES:
        if scale >= denominator - 1e-9:
            return scale
    return int(10 ** math.ceil(math.log10(denominator)))


def scale_bar_length(denominator: float, *, target_mm: float = 40.0) -> float:
    """A round scale-bar length in metres close to ``target_mm`` on paper.

    Parameters
    ----------
    denominator : float
        Map scale denominator.
    target_mm : float
        Wanted bar length on paper.

    Returns
    -------
    float
        1, 2, 2.5 or 5 times a power of ten metres, the largest not over ``target_mm``.

    Examples
    --------
    >>> scale_bar_length(5000)
    200.0
    >>> scale_bar_length(7500)
    250.0
    """
    metres = target_mm / 1000.0 * denominator
    power = 10 ** math.floor(math.log10(metres))
    best = power
    for step in BAR_STEPS:
        if step * power <= metres + 1e-9:
            best = step * power
    return float(best)


def map_title(*, theme: str = "flag", hamlet: str | None, commune: str | None, year) -> str:
    """The page title, in capitals as Vietnamese administrative maps write it.

    Parameters
    ----------
    theme : str
        ``flag``, ``survey_class`` or ``agreement``.
    hamlet : str or None
        Hamlet name ("Thôn Đông Hòa"); None for the commune overview.
    commune : str or None
        Commune name ("Xã Thanh Bình" or "Thanh Bình").
    year : int or str or None
        The year the map shows.

    Returns
    -------
    str
        E.g. "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – THÔN ĐÔNG HÒA – XÃ THANH BÌNH – NĂM 2020".

    Examples
    --------
    >>> map_title(hamlet="Thôn Đông Hòa", commune="Xã Thanh Bình", year=2020)
    'BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – THÔN ĐÔNG HÒA – XÃ THANH BÌNH – NĂM 2020'
    >>> map_title(hamlet="Xóm 1, xã Nghi Phong", commune="Xã Nghi Phong", year=2023)
    'BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – XÓM 1 – XÃ NGHI PHONG – NĂM 2023'
    """
    parts = [_THEME_TITLES[_palette.get_theme(theme).name]]
    if hamlet:  # the hamlet's own unit word (Xóm, Ấp, Bản...), never a forced "Thôn"
        parts.append(hamlet_title(hamlet))
    if commune:
        name = str(commune).strip()
        parts.append(name if _fold(name).startswith("xa ") else f"Xã {name}")
    if year not in (None, ""):
        parts.append(f"Năm {year}")
    return " – ".join(p.upper() for p in parts)


def page_count(visit_rows: dict[str, int], orientations: dict[str, str]) -> int:
    """How many pages :func:`render_maps` writes (the documented rule).

    Parameters
    ----------
    visit_rows : dict
        Hamlet name -> number of households on its visit list.
    orientations : dict
        Hamlet name -> ``"landscape"`` or ``"portrait"`` (its map page).

    Returns
    -------
    int
        ``1 + len(visit_rows) + sum(continuation pages)``.

    Examples
    --------
    >>> page_count({"A": 3, "B": 30}, {"A": "landscape", "B": "portrait"})
    4
    """
    pages = 1
    for name, rows in visit_rows.items():
        first = FIRST_PAGE_ROWS[orientations[name]]
        pages += 1 + math.ceil(max(0, rows - first) / CONTINUATION_ROWS)
    return pages


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------


def _fold(text) -> str:
    from .text import fold

    return fold(text)


def _nfc(text) -> str:
    import unicodedata

    return unicodedata.normalize("NFC", str(text)).strip() if text is not None else ""


@dataclass
class _Inputs:
    parcels: object
    hamlets: object | None
    metadata: dict = field(default_factory=dict)
    commune: str | None = None
    source: str = "(in memory)"


def _load(result, hamlets, metadata) -> _Inputs:
    import geopandas as gpd
    import pandas as pd

    from ._io import read_vector
    from .errors import InputError
    from .result import as_result

    res = as_result(result, what="result GeoPackage")  # the one result reader
    parcels, source = res.parcels, res.source
    hamlets = res.hamlets if hamlets is None else hamlets
    metadata = res.metadata if metadata is None else metadata
    if not isinstance(parcels, gpd.GeoDataFrame):
        raise InputError(_msg("error.maps.no_parcels", source=source))
    if isinstance(hamlets, (str, os.PathLike)):
        hamlets = read_vector(hamlets, layer="hamlets", what="hamlets")
    meta: dict = {}
    if isinstance(metadata, pd.DataFrame) and {"key", "value"} <= set(metadata.columns):
        meta = {
            str(k): ("" if pd.isna(v) else str(v)) for k, v in metadata[["key", "value"]].values
        }
    elif isinstance(metadata, dict):
        meta = {str(k): str(v) for k, v in metadata.items()}
    return _Inputs(parcels, hamlets, meta, None, source)


def _column(frame, name: str, *, required: bool = True, source: str = "(in memory)"):
    from .errors import SchemaError

    for alias in _ALIASES.get(name, (name,)):
        if alias in frame.columns:
            return frame[alias]
    if required:
        raise SchemaError(_msg("error.maps.no_column", source=source, name=name,
                               aliases=", ".join(_ALIASES.get(name, ())),
                               columns=", ".join(map(str, frame.columns))))  # fmt: skip
    return None


def _prepare(inputs: _Inputs, theme: str):
    """Parcels with the columns the pages use, and hamlets with a name and geometry."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from .errors import CRSError, OutputWarning, warn

    parcels = inputs.parcels
    if parcels.crs is None:
        raise CRSError(_msg("error.maps.no_crs", source=inputs.source))
    if parcels.crs.is_geographic:
        parcels = parcels.to_crs(parcels.estimate_utm_crs())
    frame = gpd.GeoDataFrame(
        {
            "hamlet": _column(parcels, "hamlet", source=inputs.source).map(_nfc).values,
            "sheet": _column(parcels, "sheet", source=inputs.source).values,
            "parcel_no": _column(parcels, "parcel_no", source=inputs.source).values,
        },
        # polygons as they are; a collection's polygons; lines, points, None: empty
        geometry=_polygonal(parcels.geometry.values),
        crs=parcels.crs,
    )
    area = _column(parcels, "area_m2", required=False)
    frame["area_m2"] = area.values if area is not None else parcels.geometry.area.values
    owner = _column(parcels, "owner", required=False)
    frame["owner"] = (
        owner.map(lambda v: "" if pd.isna(v) else _nfc(v)).values if owner is not None else ""
    )
    frame["key"] = _palette.classify(parcels, theme).values
    visit = (
        parcels["visit"] if "visit" in parcels.columns else pd.Series(False, index=parcels.index)
    )
    frame["visit"] = visit.fillna(False).astype(bool).values
    reasons = None
    for col in ("flag_reasons", "reason", "ly_do"):
        if col in parcels.columns:
            reasons = parcels[col]
            break
    short = _headlines(parcels, frame["key"], theme)
    frame["reason"] = _visit_headlines(parcels, short)
    frame["reason_short"] = short
    if reasons is not None:
        reasons = reasons.map(lambda v: "" if pd.isna(v) else _nfc(v)).to_numpy()
        for column in ("reason", "reason_short"):
            joined = frame[column].to_numpy() + "; " + reasons
            frame[column] = np.where(reasons == "", frame[column].to_numpy(), joined)
    if "plan_order" in parcels.columns:  # the Step 4 plan's numbers (render_maps by="plan")
        frame["plan_order"] = pd.to_numeric(parcels["plan_order"], errors="coerce").values
    if "flag_score" in parcels.columns:
        frame["score"] = pd.to_numeric(parcels["flag_score"], errors="coerce").values
    # a parcel without a shape is still counted and listed (the visit table), not drawn

    hamlets = inputs.hamlets
    if hamlets is not None and len(hamlets):
        name_col = hamlet_name_column(hamlets)
        if name_col is None:
            warn(_msg("warning.maps.hamlets_no_name"), OutputWarning, where="hamlets",
                 what="warning.maps.hamlets_no_name")  # fmt: skip
            hamlets = None
        else:
            h = gpd.GeoDataFrame(
                {"hamlet": hamlets[name_col].map(_nfc).values},
                geometry=hamlets.geometry.values,
                crs=hamlets.crs,
            ).to_crs(frame.crs)
            if "status" in hamlets.columns:
                h["status"] = _palette.classify(hamlets, "status").values
            hamlets = h
    if hamlets is None or not len(hamlets):
        dissolved = frame.dissolve("hamlet").reset_index()
        hamlets = gpd.GeoDataFrame(
            {"hamlet": dissolved["hamlet"]}, geometry=dissolved.geometry.buffer(0), crs=frame.crs
        )
    # hamlet names in the parcels may differ in tone placement or case from the layer
    by_fold = {_fold(n): n for n in hamlets["hamlet"]}
    frame["hamlet"] = frame["hamlet"].map(lambda n: by_fold.get(_fold(n), n))
    # parcels of places that are not hamlets (fields: hamlet None) are on the overview only
    orphans = sorted(n for n in set(frame["hamlet"]) - set(hamlets["hamlet"]) if isinstance(n, str))
    if orphans:
        count = int(frame["hamlet"].isin(orphans).sum())
        warn(_msg("warning.maps.unknown_hamlets", count=count, names=", ".join(orphans[:5])),
             OutputWarning, where=inputs.source, what="warning.maps.unknown_hamlets")  # fmt: skip
    return frame, hamlets


# --------------------------------------------------------------------------------------
# drawing
# --------------------------------------------------------------------------------------


def _polygonal(geoms):
    """The polygonal part of each geometry: polygons kept, lines and points dropped.

    A GeometryCollection keeps its polygons (as a MultiPolygon); a geometry with no
    polygonal part (a LineString, a Point, None) becomes an empty polygon, so that its
    parcel is still counted and listed, only not drawn.

    Examples
    --------
    >>> import shapely
    >>> line = shapely.LineString([(2, 2), (3, 3)])
    >>> gc = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), line])
    >>> [g.wkt for g in _polygonal([gc, line, None])]
    ['MULTIPOLYGON (((1 0, 1 1, 0 1, 0 0, 1 0)))', 'POLYGON EMPTY', 'POLYGON EMPTY']
    """
    import numpy as np
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    out = geoms.copy()
    kind = shapely.get_type_id(geoms)  # -1 None, 3 Polygon, 6 MultiPolygon, 7 collection
    for i in np.flatnonzero(~np.isin(kind, (3, 6))):
        parts = []
        stack = [geoms[i]] if geoms[i] is not None else []
        while stack:
            for part in shapely.get_parts(stack.pop()):
                if part.geom_type == "Polygon":
                    parts.append(part)
                elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
                    stack.append(part)
        parts = [p for p in parts if not p.is_empty]
        out[i] = shapely.MultiPolygon(parts) if parts else shapely.Polygon()
    return out


def _paths(geoms):
    """Matplotlib Paths of the polygonal parts (holes kept), one per geometry.

    Lines and points have no area to colour: a geometry without a polygonal part gives
    an empty path (its parcel is listed, not drawn).
    """
    import numpy as np
    import shapely
    from matplotlib.path import Path as MPath

    out = []
    for geom in _polygonal(geoms):
        verts, codes = [], []
        for part in shapely.get_parts(geom):
            for ring in [part.exterior, *part.interiors]:
                xy = np.asarray(ring.coords)
                if len(xy) < 3:
                    continue
                c = np.full(len(xy), MPath.LINETO, dtype=np.uint8)
                c[0], c[-1] = MPath.MOVETO, MPath.CLOSEPOLY
                verts.append(xy)
                codes.append(c)
        if verts:
            out.append(MPath(np.concatenate(verts), np.concatenate(codes)))
        else:
            out.append(MPath(np.zeros((1, 2)), [MPath.MOVETO]))
    return out


def _simplified(geoms, scale: float):
    """Geometries simplified to what a printed map at ``1:scale`` can show (0.05 mm)."""
    import shapely

    return shapely.simplify(_polygonal(geoms), 0.05 * scale / 1000.0, preserve_topology=True)


_TEXT_GROUP = []


def _font_key(prop):
    """A font's properties as a key: the values its hash is made of (not str(), slow)."""
    key = tuple(vars(prop).values())
    try:
        hash(key)
    except TypeError:
        return (hash(prop), str(prop))
    return key


_METRICS: dict = {}  # (renderer type, text, font, math) -> (width, height, descent)


class _Measured:
    """A renderer whose text measurements are remembered from page to page.

    Text artists measure every string before drawing it (for its alignment); a PDF
    renderer measures the same string in the same font the same way on every page, so a
    parcel number, a legend entry or a signature line is measured once per document
    rather than once per page. Everything else goes to the real renderer.
    """

    def __init__(self, renderer):
        self._renderer = renderer
        self._kind = type(getattr(renderer, "_renderer", renderer)).__name__

    def __getattr__(self, name):
        return getattr(self._renderer, name)

    def get_text_width_height_descent(self, s, prop, ismath):
        key = (self._kind, s, _font_key(prop), ismath)
        found = _METRICS.get(key)
        if found is None:
            if not ismath:
                found = _shaped_metrics(self._renderer, s, prop)
            if found is None:
                found = self._renderer.get_text_width_height_descent(s, prop, ismath)
            if len(_METRICS) > 50_000:
                _METRICS.clear()
            _METRICS[key] = found
        return found

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
        """Draw a string; in a PDF, a string drawn before is written from memory.

        The PDF renderer lays every string out glyph by glyph (a text shaping pass per
        call) and writes the same operators wherever the string is placed: only the
        matrix that puts it there differs. The first time a string is drawn in a document
        its operators are recorded; later it is written again from the record, with its
        own matrix: the same bytes the renderer would write.
        """
        renderer = self._renderer
        file = getattr(renderer, "file", None)
        if ismath or gc.get_url() is not None or not hasattr(file, "_character_tracker"):
            return renderer.draw_text(gc, x, y, s, prop, angle, ismath, mtext)
        import matplotlib as mpl

        records = file.__dict__.setdefault("_ntmgis_texts", {})
        extra = None
        if mtext is not None:  # font features and language: matplotlib 3.11 and later
            extra = (getattr(mtext, "get_fontfeatures", lambda: None)(),
                     getattr(mtext, "get_language", lambda: None)())  # fmt: skip
        rc = (mpl.rcParams["pdf.fonttype"], mpl.rcParams["pdf.use14corefonts"])
        key = (s, _font_key(prop), extra, rc)
        body = records.get(key)
        if body is None:
            _record_text(renderer, records, key, (gc, x, y, s, prop, angle, ismath, mtext))
            return None
        renderer.check_gc(gc, gc._rgb)
        a = math.radians(angle)
        file.output(_PDF_OP["gsave"])
        file.output(math.cos(a), math.sin(a), -math.sin(a), math.cos(a), x, y,
                    _PDF_OP["concat_matrix"])  # fmt: skip
        file.write(body)
        file.output(_PDF_OP["grestore"])
        return None


_PDF_OP: dict = {}
_PDF_LAYOUT: dict = {}


def _pdf_layout():
    """The PDF backend's module and a text layout for it without the glyph loading.

    matplotlib's ``_text_helpers.layout`` shapes a string and loads each glyph's outline
    for renderers that draw outlines; the PDF renderer writes glyph codes and positions
    only, the shaping's own output. The shim yields the same items without the outline
    loads (a third of a string's drawing). None when matplotlib is not laid out so.
    """
    if "real" not in _PDF_LAYOUT:
        from types import SimpleNamespace

        from matplotlib import ft2font
        from matplotlib.backends import backend_pdf

        real = getattr(backend_pdf, "_text_helpers", None)
        LoadFlags = getattr(ft2font, "LoadFlags", None)  # noqa: N806 - matplotlib's name
        if (real is None or not hasattr(real, "layout") or LoadFlags is None
                or not hasattr(ft2font.FT2Font, "_layout")):  # fmt: skip
            _PDF_LAYOUT.update(real=None, helpers=None)
        else:

            def layout(string, font, *, features=None, language=None):
                shaped = getattr(_SHAPED, "pending", None)
                if (shaped is not None and shaped[0] == string and shaped[1] is font
                        and features is None and language is None):  # fmt: skip
                    return shaped[2]
                return font._layout(string, LoadFlags.NO_HINTING, features=features,
                                    language=language)  # fmt: skip

            _PDF_LAYOUT.update(real=real, helpers=(backend_pdf, SimpleNamespace(layout=layout)))
    return _PDF_LAYOUT["helpers"]


_SHAPED = threading.local()  # .pending: (string, font, items) for the string being drawn
_GLYPHS: dict = {}  # (font file, face, size, glyph) -> (box in 26.6, linear advance in 16.16)


def _shaped_metrics(renderer, s: str, prop):
    """A string's width, height and descent in a PDF from one shaping, kept for its drawing.

    The PDF renderer shapes each string twice: ``FT2Font.set_text`` for its size (text
    alignment), then ``FT2Font._layout`` to write its glyphs. Here it is shaped once with
    ``_layout``: the size is taken from the glyphs' boxes at their positions (height and
    descent: the union of the boxes; width: the pen's advance past the last glyph, as
    ``set_text`` measures it), and the glyphs are kept on the PDF file for the first
    drawing of the string (:func:`_record_text`). Only where the two agree by
    construction: matplotlib with ``_layout`` (3.11+), TrueType text, a string of one
    glyph per character, in order, on the baseline, from the font itself (no fallback
    font, no missing glyph, no combining mark). Else None: the renderer measures.
    """
    import unicodedata

    import matplotlib as mpl

    file = getattr(renderer, "file", None)
    if (not s or not hasattr(file, "_character_tracker") or _pdf_layout() is None
            or mpl.rcParams["pdf.use14corefonts"]):  # fmt: skip
        return None
    from matplotlib.ft2font import LoadFlags

    font = renderer._get_font_ttf(prop)
    items = font._layout(s, LoadFlags.NO_HINTING)
    if len(items) != len(s):
        return None
    if len(_GLYPHS) > 100_000:
        _GLYPHS.clear()
    face = (font.fname, font.face_index if hasattr(font, "face_index") else 0,
            prop.get_size_in_points())  # fmt: skip
    x0 = y0 = 32000
    x1 = y1 = -32000
    for item, ch in zip(items, s):
        if (item.char != ch or item.ft_object is not font or item.y or not item.glyph_index
                or unicodedata.combining(ch)):  # fmt: skip
            return None
        glyph = _GLYPHS.get((face, item.glyph_index))
        if glyph is None:
            loaded = font.load_glyph(item.glyph_index, flags=LoadFlags.NO_HINTING)
            glyph = _GLYPHS[(face, item.glyph_index)] = (*loaded.bbox, loaded.linearHoriAdvance)
        gx0, gy0, gx1, gy1, advance = glyph
        x = round(item.x * 64)
        x0, x1 = min(x0, gx0 + x), max(x1, gx1 + x)
        y0, y1 = min(y0, gy0), max(y1, gy1)
    if x0 > x1:
        y0 = y1 = 0
    width = x + ((advance + 512) >> 10)  # 16.16 advance to 26.6, rounded
    file.__dict__.setdefault("_ntmgis_shaped", {})[(s, _font_key(prop))] = (s, font, items)
    return width / 64.0, (y1 - y0) / 64.0, -y0 / 64.0


def _record_text(renderer, records, key, args) -> None:
    """Draw a string with the PDF renderer and keep its text object (BT ... ET) bytes.

    The renderer writes ``q``, the placing matrix, the text object and ``Q``; only a
    recording of exactly that shape is kept (else the string is simply drawn each time).
    """
    from matplotlib.backends.backend_pdf import Op

    if not _PDF_OP:
        _PDF_OP.update(gsave=Op.gsave, grestore=Op.grestore, concat_matrix=Op.concat_matrix)
    file = renderer.file
    gc = args[0]
    renderer.check_gc(gc, gc._rgb)  # graphics state first: the recording is text only
    chunks: list[bytes] = []
    file.write = chunks.append  # PdfFile.output writes through self.write
    helpers = _pdf_layout()
    try:
        if helpers is None:
            renderer.draw_text(*args)
        else:
            module, shim = helpers
            module._text_helpers = shim
            _SHAPED.pending = file.__dict__.get("_ntmgis_shaped", {}).pop(key[:2], None)
            try:
                renderer.draw_text(*args)
            finally:
                module._text_helpers = _PDF_LAYOUT["real"]
                _SHAPED.pending = None
    finally:
        del file.write
    data = b"".join(chunks)
    file.write(data)
    lines = data.split(b"\n")
    if (len(lines) > 4 and lines[0] == b"q" and lines[1].endswith(b" cm")
            and lines[2].startswith(b"BT") and lines[-3] == b"ET" and lines[-2] == b"Q"
            and lines[-1] == b""):  # fmt: skip
        records[key] = b"\n".join(lines[2:-2]) + b"\n"


def _Texts(ax, zorder=3):  # noqa: N802 - builds an artist, named like one
    """Many texts of an axes drawn through a few reused Text artists (one per style).

    ``Axes.text`` builds a full artist (properties, transforms, a clip path) per string,
    which costs more than drawing it; here each string is a tuple and one Text artist per
    style is moved and redrawn, in the order the texts were added: the same PDF
    operators, fonts and positions. matplotlib is imported only when maps are drawn.
    """
    if not _TEXT_GROUP:
        from matplotlib.artist import Artist
        from matplotlib.text import Text

        class TextGroup(Artist):
            def __init__(self):
                super().__init__()
                self.items = []  # (x, y, text, style key)
                self.styles = {}  # style key -> Text

            def add(self, x, y, text, transform, **kwargs):
                kwargs.setdefault("clip_on", False)
                key = (id(transform), tuple(sorted((k, repr(v)) for k, v in kwargs.items())))
                if key not in self.styles:
                    artist = Text(0, 0, "", **kwargs)
                    artist.set_transform(transform)
                    self.styles[key] = artist
                self.items.append((x, y, str(text), key))

            @property
            def texts(self):
                return [t for _, _, t, _ in self.items]

            def draw(self, renderer):
                if not self.get_visible():
                    return
                for artist in self.styles.values():
                    if artist.figure is None:
                        artist.set_figure(self.figure)
                measured = _Measured(renderer)
                for artist in self.styles.values():
                    _remember_layouts(artist)
                for x, y, text, key in self.items:
                    artist = self.styles[key]
                    artist.set_position((x, y))
                    artist.set_text(text)
                    artist.draw(measured)
                self.stale = False

        _TEXT_GROUP.append(TextGroup)
    group = _TEXT_GROUP[0]()
    group.set_zorder(zorder)
    ax.add_artist(group)
    return group


def _remember_layouts(artist) -> None:
    """Let one Text artist of a text group remember the layout of each string it drew.

    The artist's style never changes, only its string and position: the lines, their
    sizes and offsets from the position (``Text._get_layout``) are the same each time a
    string comes back, for the same kind of renderer (PDF, Agg) and resolution.
    """
    layouts = artist.__dict__.setdefault("_ntmgis_layouts", {})
    real = type(artist)._get_layout.__get__(artist)

    def remembered(renderer):
        kind = getattr(renderer, "_kind", None) or type(getattr(renderer, "_renderer", renderer))
        key = (artist.get_text(), artist.figure.dpi, str(kind))
        found = layouts.get(key)
        if found is None:
            found = layouts[key] = real(renderer)
        return found

    artist._get_layout = remembered


def _drawn_texts(ax) -> list[str]:
    """Every string an axes draws: its Text artists and its text groups, in order."""
    out = [t.get_text() for t in ax.texts]
    for artist in ax.get_children():
        if _TEXT_GROUP and isinstance(artist, _TEXT_GROUP[0]):
            out.extend(artist.texts)
    return out


class _Box:
    """A rectangle of the page, in mm from its lower-left corner, drawn on the page axes.

    One axes a page instead of one a block (legend, table, notes, signature): the block
    keeps its own coordinates (``get_xlim``/``get_ylim`` give its size), its lines and
    patches are clipped to it as an axes would clip them, its texts go through one
    :class:`_Texts` group of the page.
    """

    def __init__(self, page, texts, x, y, w, h):
        from matplotlib.transforms import Affine2D, Bbox, TransformedBbox

        self.page, self._texts = page, texts
        self.w, self.h = w, h
        self.transform = Affine2D().translate(x, y) + page.transData
        self.clip = TransformedBbox(Bbox.from_bounds(0, 0, w, h), self.transform)
        self._lines = {}  # clip_on -> (LineCollection, segments, colours, widths)

    def get_xlim(self):
        return (0.0, self.w)

    def get_ylim(self):
        return (0.0, self.h)

    def text(self, x, y, s, **kwargs):
        self._texts.add(x, y, s, self.transform, **kwargs)

    def add_patch(self, patch):
        patch.set_transform(self.transform)
        patch.set_clip_box(self.clip)
        self.page.add_patch(patch)
        return patch

    def plot(self, xs, ys, *, color="black", linewidth=1.0, clip_on=True):
        """A straight segment, the only kind of line the blocks draw.

        One collection holds the box's clipped segments, another those drawn past its
        edge (``clip_on=False``), as separate Line2D artists on an axes would be.
        """
        from matplotlib.collections import LineCollection
        from matplotlib.colors import to_rgba

        if clip_on not in self._lines:
            lines = LineCollection([], capstyle="projecting", zorder=2)
            lines.set_transform(self.transform)
            self.page.add_collection(lines, autolim=False)
            if clip_on:
                lines.set_clip_box(self.clip)
            else:
                lines.set_clip_on(False)
            self._lines[clip_on] = (lines, [], [], [])
        lines, segments, colors, widths = self._lines[clip_on]
        segments.append([(xs[0], ys[0]), (xs[1], ys[1])])
        colors.append(to_rgba(color))
        widths.append(linewidth)
        lines.set_segments(segments)
        lines.set_color(colors)
        lines.set_linewidth(widths)


def _compound(paths, overlaps=None, order=None) -> list:
    """The paths as few compound paths, drawn as the paths one by one would be.

    A collection of a thousand parcels of one style drawn as one path costs one fill and
    one stroke operator instead of a graphics-state check and two operators a parcel.
    Drawn one by one, a parcel's fill covers the strokes of the parcels drawn before it
    where they overlap; so with ``overlaps`` (parcel -> the parcels whose interiors its
    interior meets) and ``order`` (the parcel of each path), a compound path ends before
    a parcel that overlaps one already in it: the next compound path's fill covers it as
    before. Parcels that only touch share their edge, stroked on top of both fills either
    way. Without ``overlaps`` (outlines: strokes only) all paths make one.
    """
    from matplotlib.path import Path as MPath

    paths = list(paths)
    if len(paths) < 2:
        return paths
    if overlaps is None:
        return [MPath.make_compound_path(*paths)]
    out, run, members = [], [], set()
    for path, i in zip(paths, order):
        near = overlaps.get(i)
        if near and not members.isdisjoint(near):
            out.append(run[0] if len(run) == 1 else MPath.make_compound_path(*run))
            run, members = [], set()
        run.append(path)
        members.add(i)
    out.append(run[0] if len(run) == 1 else MPath.make_compound_path(*run))
    return out


def _overlaps(geoms) -> dict:
    """Parcel -> the set of parcels whose interiors its interior meets (not just touches)."""
    import numpy as np
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left != right
    left, right = left[keep], right[keep]
    real = ~shapely.touches(geoms[left], geoms[right])
    out: dict = {}
    for a, b in zip(left[real].tolist(), right[real].tolist()):
        out.setdefault(a, set()).add(b)
    return out


_HATCH = {"/": "//////", "\\": "\\\\\\\\\\\\", "-": "------"}


def _draw_parcels(ax, paths, keys, theme, *, lw=0.15, zorder=2, overlaps=None, order=None):
    from matplotlib.collections import PathCollection

    order = range(len(paths)) if order is None else order
    for category in theme.categories:
        chosen = [(p, i) for p, k, i in zip(paths, keys, order) if k == category.key]
        if not chosen:
            continue
        coll = PathCollection(
            _compound([p for p, _ in chosen], overlaps or {}, [i for _, i in chosen]),
            facecolors=category.color,
            edgecolors=_palette.EDGE,
            linewidths=lw,
            hatch=_HATCH.get(category.hatch) if category.hatch else None,
            zorder=zorder,
        )
        ax.add_collection(coll)


def _draw_outline(ax, geoms=None, *, paths=None, color="black", lw=1.2, ls="-", zorder=5):
    from matplotlib.collections import PathCollection

    paths = _paths(geoms) if paths is None else paths
    if ls == "-":  # solid strokes: one path; dashes keep their phase path by path
        paths = _compound(paths)
    ax.add_collection(
        PathCollection(
            paths,
            facecolors="none",
            edgecolors=color,
            linewidths=lw,
            linestyles=ls,
            zorder=zorder,
        )
    )


def _mm_axes(fig, paper_mm, x, y, w, h):
    """An axes placed in millimetres from the page's lower-left corner."""
    pw, ph = paper_mm
    return fig.add_axes((x / pw, y / ph, w / pw, h / ph))


def _blank_axes(fig, paper_mm, x, y, w, h):
    """A block of the page in mm (a :class:`_Box` on the page's one blank axes)."""
    page, texts = fig._ntmgis_page
    return _Box(page, texts, x, y, w, h)


def _page_axes(fig, paper_mm):
    """The page's one blank axes, in mm, and its text group."""
    w, h = paper_mm
    ax = _mm_axes(fig, paper_mm, 0, 0, w, h)
    ax.set_xlim(0, w)
    ax.set_ylim(0, h)
    ax.set_axis_off()
    fig._ntmgis_page = (ax, _Texts(ax))
    return ax


def _fmt_int(value) -> str:
    """Vietnamese thousands separator: 12500 -> "12.500"."""
    return f"{int(round(float(value))):,}".replace(",", ".")


def _fmt_coord(value, _pos=None) -> str:
    return f"{int(round(value)):,}".replace(",", " ")


def _setup_map(ax, extent, crs, fs):
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    x0, y0, x1, y1 = extent
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
        axis.set_major_formatter(FuncFormatter(_fmt_coord))
    ax.tick_params(direction="in", labelsize=fs * 0.8, length=3, width=0.5, top=True, right=True)
    ax.tick_params(axis="y", labelrotation=90)
    for label in ax.get_yticklabels():
        label.set_verticalalignment("center")
    for spine in ax.spines.values():
        spine.set_linewidth(0.8)


def _scale_bar(ax, extent, scale, fs):
    from matplotlib.patches import Rectangle

    x0, y0, x1, y1 = extent
    length = scale_bar_length(scale, target_mm=min(40.0, (x1 - x0) / scale * 1000 / 4))
    mm = scale / 1000.0  # metres per paper millimetre
    bx, by = x0 + 6 * mm, y0 + 6 * mm
    ax.add_patch(
        Rectangle(
            (bx - 3 * mm, by - 3 * mm),
            length + 10 * mm,
            12 * mm,
            facecolor="white",
            edgecolor="none",
            alpha=0.85,
            zorder=8,
        )
    )
    segments = 4
    for i in range(segments):
        ax.add_patch(
            Rectangle(
                (bx + i * length / segments, by),
                length / segments,
                1.2 * mm,
                facecolor="black" if i % 2 == 0 else "white",
                edgecolor="black",
                linewidth=0.5,
                zorder=9,
            )
        )
    for value in (0, length / 2, length):
        text = f"{value:g}" if value else "0"
        ax.text(
            bx + value, by + 1.8 * mm, text, ha="center", va="bottom", fontsize=fs * 0.75, zorder=9
        )
    ax.text(
        bx + length + 2 * mm,
        by + 0.6 * mm,
        "m",
        ha="left",
        va="center",
        fontsize=fs * 0.75,
        zorder=9,
    )
    ax.text(
        bx,
        by + 5.5 * mm,
        f"Tỷ lệ 1:{_fmt_int(scale)}",
        ha="left",
        va="bottom",
        fontsize=fs * 0.85,
        fontweight="bold",
        zorder=9,
    )
    return length


def _north_arrow(ax, extent, scale, fs):
    from matplotlib.patches import Polygon

    x0, y0, x1, y1 = extent
    mm = scale / 1000.0
    cx, top = x1 - 8 * mm, y1 - 6 * mm
    h, w = 10 * mm, 3.2 * mm
    base = top - h
    ax.add_patch(
        Polygon(
            [(cx, top), (cx - w, base), (cx, base + 0.3 * h)],
            closed=True,
            facecolor="black",
            edgecolor="black",
            linewidth=0.5,
            zorder=9,
        )
    )
    ax.add_patch(
        Polygon(
            [(cx, top), (cx + w, base), (cx, base + 0.3 * h)],
            closed=True,
            facecolor="white",
            edgecolor="black",
            linewidth=0.5,
            zorder=9,
        )
    )
    ax.text(
        cx,
        base - 1.0 * mm,
        "B",
        ha="center",
        va="top",
        fontsize=fs * 1.1,
        fontweight="bold",
        zorder=9,
    )


def _labels(ax, frame, scale, fs):
    """Parcel numbers at the pole of inaccessibility, only where the text fits inside."""
    import numpy as np
    import shapely

    if not len(frame):
        return 0
    texts = frame["parcel_no"].map(
        lambda v: "" if v is None or v != v else f"{v:g}" if isinstance(v, float) else str(v)
    )
    mm = scale / 1000.0
    size = fs * 0.62
    char_w = 0.6 * size * 0.3528 * mm  # DejaVu digits are 0.64 em wide
    height = size * 0.3528 * mm * 0.75
    geoms = _polygonal(frame.geometry.values)
    if hasattr(shapely, "maximum_inscribed_circle"):  # shapely >= 2.1: the pole of inaccessibility
        centers = shapely.get_point(shapely.maximum_inscribed_circle(geoms, tolerance=0.5), 0)
    else:  # pragma: no cover - shapely 2.0
        centers = shapely.point_on_surface(geoms)
    cx, cy = shapely.get_x(centers), shapely.get_y(centers)
    widths = texts.str.len().to_numpy() * char_w
    boxes = shapely.box(cx - widths / 2, cy - height / 2, cx + widths / 2, cy + height / 2)
    fits = shapely.contains(geoms, boxes) & (texts.str.len().to_numpy() > 0)
    group = _Texts(ax, zorder=6)
    for x, y, t in zip(cx[fits], cy[fits], texts.to_numpy()[fits]):
        group.add(x, y, t, ax.transData, ha="center", va="center", fontsize=size, color="#222222")
    return int(np.count_nonzero(fits))


def _legend(ax, theme, counts, fs, *, status_counts=None, visit_count=None, width=80.0):
    """Legend drawn in an axes measured in mm; returns the height used."""
    from matplotlib.patches import Rectangle

    top = ax.get_ylim()[1]
    y = top - 1
    ax.text(0, y, "CHÚ GIẢI", fontsize=fs * 1.05, fontweight="bold", va="top")
    y -= 5
    ax.text(0, y, theme.title(), fontsize=fs * 0.9, fontstyle="italic", va="top")
    y -= 4.5
    step = 4.4

    def row(category, text):
        nonlocal y
        ax.add_patch(
            Rectangle(
                (0.5, y - 3.0),
                7,
                3.2,
                facecolor=category.color,
                edgecolor=_palette.EDGE,
                linewidth=0.4,
                hatch=_HATCH.get(category.hatch) if category.hatch else None,
            )
        )
        ax.text(9.5, y - 1.4, text, fontsize=fs * 0.85, va="center")
        y -= step

    for category in theme.categories:
        n = counts.get(category.key, 0)
        if category.key == _palette.NON_GARDEN and not n:
            continue
        row(category, f"{category.label_vi} ({_fmt_int(n)} thửa)")
    if visit_count is not None:
        ax.add_patch(
            Rectangle((0.5, y - 3.0), 7, 3.2, facecolor="none", edgecolor="black", linewidth=1.4)
        )
        ax.text(
            9.5,
            y - 1.4,
            f"Thửa cần kiểm tra thực địa ({_fmt_int(visit_count)})",
            fontsize=fs * 0.85,
            va="center",
        )
        y -= step
    ax.plot([0.5, 7.5], [y - 1.4, y - 1.4], color="black", linewidth=1.4)
    ax.text(9.5, y - 1.4, "Ranh giới thôn", fontsize=fs * 0.85, va="center")
    y -= step
    ax.text(4, y - 1.4, "125", fontsize=fs * 0.62, ha="center", va="center")
    ax.text(9.5, y - 1.4, "Số hiệu thửa", fontsize=fs * 0.85, va="center")
    y -= step
    if status_counts:
        status = _palette.get_theme("status")
        y -= 1
        ax.text(0, y, status.title(), fontsize=fs * 0.9, fontstyle="italic", va="top")
        y -= 4.5
        for category in status.categories:
            n = status_counts.get(category.key, 0)
            if n:
                row(category, f"{category.label_vi} ({n} thôn)")
    return top - y


def _headlines(parcels, keys, theme: str):
    """Why a parcel is on the visit list, in a few words: the disagreement, else the flag."""
    import pandas as pd

    # agreement keys that are no disagreement ("phu_hop", "khong_du_lieu") say nothing here
    quiet = {*set(_registry.AGREEMENT) - set(_registry.DISAGREEMENT), _palette.NON_GARDEN}
    out = keys.map(_palette.get_theme(theme).labels()).astype(object)
    for column in ("flag", "agreement"):
        if column in parcels.columns:
            spec = _palette.get_theme(column)
            values = parcels[column].astype(object)
            ok = values.isin([k for k in spec.keys if k not in quiet]).to_numpy()
            labels = values.map(lambda v, s=spec: s[v].label_vi if v in s.keys else "")
            out = pd.Series(
                [lab if flag else old for lab, flag, old in zip(labels, ok, out)], index=out.index
            )
    return out.fillna("").to_numpy()


def _visit_headlines(parcels, short):
    """A visited garden's survey against its verdict, as the report's list says it.

    :func:`ntmgis.flags.visit_headline` for the gardens on the visit list with a flag;
    ``short`` (the :func:`_headlines` label) for the other parcels.
    """
    import numpy as np

    from .flags import visit_headline

    said = np.array(short, dtype=object).copy()
    if "visit" not in parcels.columns or "flag" not in parcels.columns:
        return said
    listed = parcels["visit"].fillna(False).astype(bool).to_numpy()
    flags = parcels["flag"].to_numpy(dtype=object)
    survey = (parcels["survey_class"].to_numpy(dtype=object) if "survey_class" in parcels
              else np.full(len(parcels), None, dtype=object))  # fmt: skip
    for i in np.flatnonzero(listed):
        if isinstance(flags[i], str):
            said[i] = visit_headline(flags[i], survey[i])[0]
    return said


def _table_reasons(row, width_chars: int, lines: int = 2) -> list[str]:
    """A household row's reasons cell: the survey against the verdict when it fits.

    The visit headline ("khảo sát ghi 'Vườn tạp' nhưng ảnh cho thấy vườn hoang hóa") and
    the evidence, when the headline and a count of the reasons left out fit the cell's
    lines; in a narrow column the flag's or the disagreement's short label instead.
    """
    import textwrap

    full, short = row["reason"], row.get("reason_short", row["reason"])
    head = str(full).split(";")[0].strip()
    if full != short and len(textwrap.wrap(head + " (+3 lý do)", max(width_chars, 4))) > lines:
        full = short
    return _fit_reasons(full, width_chars, lines)


def _fit_reasons(text: str, width_chars: int, lines: int = 2) -> list[str]:
    """As many whole reasons ("a; b; c") as fit in ``lines``, then "(+N lý do)".

    Reasons are kept whole, the last ones left out first; when even the first does not
    fit whole, the reasons are said short: without their reference in brackets ("NDVI
    cao nhất 0,31", not "(vườn có canh tác trong xã: 0,62)") and without the details
    after a colon outside brackets ("why: details" -> "why"). A reason is never cut
    inside its brackets.

    Examples
    --------
    >>> _fit_reasons("NDVI thấp quanh năm; không làm đất; đất trống", 22)
    ['NDVI thấp quanh năm', '(+2 lý do)']
    >>> why = "NDVI cao nhất 0,31 (vườn có canh tác trong xã: 0,62); 2 lần làm đất"
    >>> _fit_reasons(why, 32)
    ['NDVI cao nhất 0,31 (vườn có canh', 'tác trong xã: 0,62) (+1 lý do)']
    >>> _fit_reasons(why, 24)
    ['NDVI cao nhất 0,31; 2', 'lần làm đất']
    """
    import textwrap

    width = max(width_chars, 4)
    parts = [p.strip() for p in str(text).split(";") if p.strip()]
    if len(parts) <= 1:
        return _wrap(str(text), width_chars, lines)
    for said in (parts, [_short_reason(p) for p in parts]):
        for keep in range(len(said), 0, -1):
            joined = "; ".join(said[:keep])
            if keep < len(said):
                joined += f" (+{len(said) - keep} lý do)"
            wrapped = textwrap.wrap(joined, width=width)
            if len(wrapped) <= lines:
                return wrapped
    return _wrap("; ".join(_short_reason(p) for p in parts), width_chars, lines)


def _short_reason(reason: str) -> str:
    """A reason without its bracketed reference and what follows a colon outside brackets.

    "NDVI cao nhất 0,31 (vườn có canh tác trong xã: 0,62)" -> "NDVI cao nhất 0,31".
    """
    import re

    short = re.sub(r"\s*\([^()]*\)\s*$", "", reason).strip() or reason
    depth = 0
    for i, ch in enumerate(short):
        depth += (ch == "(") - (ch == ")")
        if ch == ":" and depth == 0 and short[:i].strip():
            return short[:i].strip()
    return short


def _wrap(text: str, width_chars: int, lines: int = 2) -> list[str]:
    import textwrap

    wrapped = textwrap.wrap(text, width=max(width_chars, 4)) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        wrapped[-1] = wrapped[-1][: max(width_chars - 1, 1)].rstrip() + "…"
    return wrapped


def _table(ax, rows, fs, *, start_no=1, title=None):
    """The visit table in an axes measured in mm (width from the axes)."""
    width = ax.get_xlim()[1]
    top = ax.get_ylim()[1]
    size = fs * 0.72
    char_mm = size * 0.3528 * 0.56
    # column widths in mm: TT, chủ hộ, tờ/thửa, diện tích, lý do
    fixed = [6.0, min(28.0, width * 0.27), 12.0, 12.0]
    cols = [*fixed, max(width - sum(fixed), 10.0)]
    heads = ["TT", "Chủ hộ", "Tờ/thửa", "D.tích (m²)", "Lý do cần kiểm tra"]
    y = top - 1
    if title:
        ax.text(0, y, title, fontsize=fs * 0.95, fontweight="bold", va="top")
        y -= 5.5
    xs = [0.0]
    for w in cols:
        xs.append(xs[-1] + w)
    ax.plot([0, width], [y, y], color="black", linewidth=0.6)
    for x, w, head in zip(xs, cols, heads):
        ax.text(
            x + w / 2, y - 2.0, head, fontsize=size, fontweight="bold", ha="center", va="center"
        )
    y -= 4.0
    ax.plot([0, width], [y, y], color="black", linewidth=0.4)
    for i, r in enumerate(rows):
        cells = [
            [str(start_no + i)],
            _wrap(r["owner"], int(cols[1] / char_mm)),
            [f"{r['sheet']}/{r['parcel_no']}"],
            [_fmt_int(r["area_m2"]) if r["area_m2"] == r["area_m2"] else ""],
            _table_reasons(r, int(cols[4] / char_mm)),
        ]
        for j, (x, w, lines) in enumerate(zip(xs, cols, cells)):
            ha = "left" if j in (1, 4) else "center"
            tx = x + 0.8 if ha == "left" else x + w / 2
            ax.text(
                tx,
                y - _ROW_MM / 2,
                "\n".join(lines),
                fontsize=size * (0.88 if len(lines) > 1 else 1),
                ha=ha,
                va="center",
                linespacing=1.0,
            )
        y -= _ROW_MM
        ax.plot([0, width], [y, y], color="#999999", linewidth=0.25)
    for x in xs:
        ax.plot(
            [x, x],
            [y, top - 1 - (5.5 if title else 0)],
            color="black",
            linewidth=0.3,
            clip_on=False,
        )
    return y


def _signature(ax, place, date, fs, signer=("TM. ỦY BAN NHÂN DÂN XÃ", "CHỦ TỊCH"), name=""):
    w = ax.get_xlim()[1]
    top = ax.get_ylim()[1]
    ax.text(
        w * 0.72,
        top - 1,
        f"{place}, {date}",
        fontsize=fs * 0.85,
        fontstyle="italic",
        ha="center",
        va="top",
    )
    for cx, lines in (
        (w * 0.22, ["NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"]),
        (w * 0.72, [*signer, "(Ký tên, đóng dấu)"]),
    ):
        y = top - 6
        for line in lines:
            italic = line.startswith("(")
            ax.text(
                cx,
                y,
                line,
                fontsize=fs * (0.8 if italic else 0.9),
                ha="center",
                va="top",
                fontweight="normal" if italic else "bold",
                fontstyle="italic" if italic else "normal",
            )
            y -= 4.0
    if name:  # the signer's name (the run config's [report] signer_name), room to sign above
        ax.text(w * 0.72, top - 26, name, fontsize=fs * 0.9, ha="center", va="top",
                fontweight="bold")  # fmt: skip


def _vn_date(day: _dt.date | None) -> str:
    if day is None:
        return "ngày ..... tháng ..... năm ........"
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


_SOURCE_KEYS = {
    "parcels": "thửa đất",
    "survey": "khảo sát",
    "imagery": "ảnh",
    "targets": "chỉ tiêu",
    "config": "cấu hình",
}


def _short(value: str) -> str:
    return Path(value).name if (os.sep in value or "/" in value) else value


def _meta_lines(meta: dict, crs, source: str) -> list[str]:
    """CRS, imagery dates and data sources, from ``run_metadata`` when present."""
    lines = []
    epsg = crs.to_epsg()
    lines.append(f"Hệ tọa độ: {crs.name}" + (f" (EPSG:{epsg})" if epsg else ""))
    dates = None
    for key in sorted(meta, key=lambda k: k != "imagery_dates"):
        k = key.lower()
        if "date" in k and ("imag" in k or "scene" in k or "anh" in k) and meta[key]:
            dates = [d.strip() for d in meta[key].replace(";", ",").split(",") if d.strip()]
            break
    platform = meta.get("imagery_source") or next(
        (v for k, v in meta.items() if ("platform" in k.lower() or "sensor" in k.lower()) and v),
        None,
    )
    if dates:
        shown = [_iso_to_vn(d) for d in dates]
        text = ", ".join(shown) if len(shown) <= 16 else f"{shown[0]} … {shown[-1]}"
        prefix = f"{platform}, " if platform else ""
        lines.append(f"Ảnh vệ tinh: {prefix}{len(dates)} ngày chụp ({text})")
    elif platform:
        lines.append(f"Ảnh vệ tinh: {platform}")
    sources = [
        f"{label} {_short(meta[key])}" for key, label in _SOURCE_KEYS.items() if meta.get(key)
    ]
    sources += [
        f"{_short(v)}"
        for k, v in meta.items()
        if v
        and k not in _SOURCE_KEYS
        and k != "imagery_source"
        and any(s in k.lower() for s in ("source", "nguon", "input"))
        and "date" not in k.lower()
    ]
    if sources:
        lines.append("Nguồn dữ liệu: " + "; ".join(sources[:6]))
    else:
        fallback = _short(source) if source != "(in memory)" else "kết quả ntmgis"
        lines.append(f"Nguồn dữ liệu: {fallback}")
    version = meta.get("ntmgis_version") or meta.get("version")
    from ._version import __version__

    made = f"Lập bằng ntmgis {version or __version__}"
    if meta.get("flag_mode"):
        made += f"; cách gắn cờ: {meta['flag_mode']}"
    lines.append(made)
    return lines


def _iso_to_vn(text: str) -> str:
    try:
        day = _dt.date.fromisoformat(text[:10])
    except ValueError:
        return text
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _year(meta: dict):
    for key in ("year", "nam", "survey_year"):
        if meta.get(key):
            return meta[key]
    for key, value in meta.items():
        if "date" in key.lower() and value:
            try:
                return _dt.date.fromisoformat(value.split(",")[0].strip()[:10]).year
            except ValueError:
                continue
    return None


def _commune_name(meta: dict, found):
    for key in ("commune", "ten_xa", "xa", "commune_name"):
        if meta.get(key):
            return meta[key]
    return found


# --------------------------------------------------------------------------------------
# pages
# --------------------------------------------------------------------------------------


@dataclass
class _Layout:
    orientation: str
    paper: tuple[float, float]
    k: float  # size factor (A3 = 1.414)
    map: tuple[float, float, float, float]
    legend: tuple[float, float, float, float]
    table: tuple[float, float, float, float]
    info: tuple[float, float, float, float]
    sign: tuple[float, float, float, float]


#: the frames of a page in A4 millimetres (map, legend, table, info, sign), by
#: orientation; other papers scale them
_HAMLET_BOXES = {
    "landscape": ((12, 24, 182, 160), (204, 120, 83, 64), (204, 44, 83, 80), (12, 6, 182, 15),
                  (204, 6, 83, 34)),
    "portrait": ((12, 111, 188, 158), (12, 44, 80, 62), (96, 38, 104, 68), (12, 6, 80, 34),
                 (96, 6, 104, 30)),
}  # fmt: skip
#: a plan page: the map left, the list right (landscape); a continuation: the list
_PLAN_BOXES = {
    "landscape": ((12, 40, 150, 146), (12, 6, 72, 30), (168, 40, 117, 146), (88, 6, 74, 30),
                  (168, 6, 117, 30)),
    "portrait": ((12, 40, 186, 230), (12, 6, 80, 30), (12, 40, 186, 230), (12, 6, 80, 30),
                 (96, 6, 104, 30)),
}  # fmt: skip


def _scaled_layout(paper: str, orientation: str, boxes: dict) -> _Layout:
    """A page's layout on ``paper``: the A4 boxes of ``orientation`` scaled to it."""
    w, h = PAPERS[paper]
    if orientation == "portrait":
        w, h = h, w
    k = w / (297.0 if orientation == "landscape" else 210.0)
    frames = (tuple(v * k for v in box) for box in boxes[orientation])
    return _Layout(orientation, (w, h), k, *frames)


def _layout(paper: str, orientation: str) -> _Layout:
    return _scaled_layout(paper, orientation, _HAMLET_BOXES)


def _fit(bounds, layout: _Layout) -> tuple[int, tuple[float, float, float, float]]:
    """Round scale and extent (centred on ``bounds``) for a layout's map frame."""
    x0, y0, x1, y1 = bounds
    _, _, mw, mh = layout.map
    need = max((x1 - x0) / mw, (y1 - y0) / mh) * 1000.0 * 1.06
    scale = nice_scale(max(need, 1.0))
    half_w, half_h = mw * scale / 2000.0, mh * scale / 2000.0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return scale, (cx - half_w, cy - half_h, cx + half_w, cy + half_h)


def _orientation(bounds, paper: str) -> str:
    """The orientation whose map frame shows the area at the larger scale."""
    scales = {o: _fit(bounds, _layout(paper, o))[0] for o in ("landscape", "portrait")}
    return min(("landscape", "portrait"), key=lambda o: (scales[o], o != "landscape"))


def _new_page(layout: _Layout, title: str, subtitle: str, fs: float):
    from matplotlib.figure import Figure

    w, h = layout.paper
    fig = Figure(figsize=(w / 25.4, h / 25.4))
    _page_axes(fig, layout.paper)
    ax = _blank_axes(fig, layout.paper, 0, 0, w, h)
    ax.text(
        w / 2,
        h - 9 * layout.k,
        title,
        ha="center",
        va="center",
        fontsize=fs * 1.65,
        fontweight="bold",
    )
    ax.text(
        w / 2,
        h - 15.5 * layout.k,
        subtitle,
        ha="center",
        va="center",
        fontsize=fs * 1.0,
        fontstyle="italic",
    )
    return fig


@dataclass
class _Context:
    theme: object
    by: str
    paper: str
    commune: str | None
    year: object
    place: str
    date: str
    meta_lines: list[str]
    crs: object
    all_paths: list
    frame: object
    hamlets: object
    signer: tuple = ("TM. ỦY BAN NHÂN DÂN XÃ", "CHỦ TỊCH")
    signer_name: str = ""
    shaped: object = None  # parcels with a polygonal part (drawn)
    bounds: object = None  # (n, 4) bounds of the parcels
    hamlet_bounds: object = None
    hamlet_paths: list = None
    commune_area: object = None
    overlaps: dict = None  # parcel -> parcels its interior overlaps (drawing order matters)


def _print_geometry(ctx: _Context) -> None:
    """Bounds and drawing paths of parcels and hamlets, once for every page.

    Paths are simplified to 0.05 mm at the largest scale any page is printed at (no
    visible change; fewer vertices to write on every page that shows them).
    """
    import shapely

    poly = ctx.frame.geometry.values
    ctx.shaped = ~shapely.is_empty(poly)
    ctx.bounds = shapely.bounds(poly)
    hamlet_poly = _polygonal(ctx.hamlets.geometry.values)
    ctx.hamlet_bounds = shapely.bounds(hamlet_poly)
    ctx.commune_area = ctx.hamlets.geometry.union_all()
    finest = min(
        _fit(bounds, _layout(ctx.paper, _orientation(bounds, ctx.paper)))[0]
        for bounds in (_page_bounds(ctx, n)[1] for n in [None, *ctx.hamlets["hamlet"]])
    )
    drawn = _simplified(poly, finest)
    ctx.all_paths = _paths(drawn)
    ctx.overlaps = _overlaps(drawn)
    ctx.hamlet_paths = _paths(_simplified(hamlet_poly, finest))


def _page_bounds(ctx: _Context, name: str | None):
    """The page's parcels (a mask) and the bounds its map shows: hamlet and parcels."""
    import numpy as np

    frame, hamlets = ctx.frame, ctx.hamlets
    if name is None:
        mine = np.ones(len(frame), dtype=bool)
        rows = np.ones(len(hamlets), dtype=bool)
    else:
        mine = (frame["hamlet"] == name).to_numpy()
        rows = (hamlets["hamlet"] == name).to_numpy()
    hb = ctx.hamlet_bounds[rows]
    pb = ctx.bounds[mine & ctx.shaped]
    both = np.vstack([hb, pb]) if len(pb) else hb
    both = both[~np.isnan(both).any(axis=1)]
    if not len(both):
        return mine, (0.0, 0.0, 1.0, 1.0)
    x0, y0 = both[:, 0].min(), both[:, 1].min()
    x1, y1 = both[:, 2].max(), both[:, 3].max()
    return mine, (float(x0), float(y0), float(x1), float(y1))


def _map_page(ctx: _Context, name: str | None, fs: float):
    """One map page (a hamlet, or the commune when ``name`` is None); returns (fig, rest)."""
    import numpy as np

    frame, hamlets = ctx.frame, ctx.hamlets
    mine, bounds = _page_bounds(ctx, name)
    sub = frame[mine]
    orientation = _orientation(bounds, ctx.paper)
    layout = _layout(ctx.paper, orientation)
    scale, extent = _fit(bounds, layout)
    f = fs * layout.k
    title = map_title(theme=ctx.by, hamlet=name, commune=ctx.commune, year=ctx.year)
    n_garden = int((sub["key"] != _palette.NON_GARDEN).sum())
    subtitle = (
        f"{ctx.theme.title()} – {_fmt_int(len(sub))} thửa đất, {_fmt_int(n_garden)} thửa vườn"
        + (" – toàn xã" if name is None else "")
    )
    fig = _new_page(layout, title, subtitle, f)
    ax = _mm_axes(fig, layout.paper, *layout.map)
    _setup_map(ax, extent, ctx.crs, f)
    # context: the parcels of other hamlets in light grey, then this hamlet's by theme;
    # parcels without a polygonal part are counted and listed, not drawn
    x0, y0, x1, y1 = extent
    idx = np.flatnonzero(~mine & ctx.shaped)
    if len(idx):
        b = ctx.bounds[idx]
        near = idx[(b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0) & (b[:, 1] <= y1)]
        from matplotlib.collections import PathCollection

        ax.add_collection(
            PathCollection(
                _compound([ctx.all_paths[i] for i in near], ctx.overlaps, near),
                facecolors="#F2F2F2",
                edgecolors="#BBBBBB",
                linewidths=0.1,
                zorder=1,
            )
        )
    drawn = np.flatnonzero(mine & ctx.shaped)
    keys = frame["key"].to_numpy()
    _draw_parcels(ax, [ctx.all_paths[i] for i in drawn], keys[drawn].tolist(), ctx.theme,
                  lw=0.15 / max(scale / 5000, 0.6), overlaps=ctx.overlaps, order=drawn)  # fmt: skip
    visits = sub[sub["visit"]]
    seen = drawn[frame["visit"].to_numpy()[drawn]]
    if len(seen):
        paths = [ctx.all_paths[i] for i in seen]
        _draw_outline(ax, paths=paths, lw=0.9 if name else 0.45, zorder=4)
    _draw_outline(ax, paths=ctx.hamlet_paths, color="#444444", lw=0.6, ls=(0, (4, 2)), zorder=5)
    if name is None:
        _draw_outline(ax, [ctx.commune_area], lw=1.6, zorder=6)
        _hamlet_names(ax, hamlets, f)
    else:
        which = np.flatnonzero((hamlets["hamlet"] == name).to_numpy())
        _draw_outline(ax, paths=[ctx.hamlet_paths[i] for i in which], lw=1.6, zorder=6)
        _labels(ax, frame.iloc[drawn], scale, f)
    _scale_bar(ax, extent, scale, f)
    _north_arrow(ax, extent, scale, f)

    counts = sub["key"].value_counts().to_dict()
    status_counts = None
    if name is None and "status" in hamlets.columns:
        status_counts = hamlets["status"].value_counts().to_dict()
    lax = _blank_axes(fig, layout.paper, *layout.legend)
    _legend(lax, ctx.theme, counts, f, status_counts=status_counts, visit_count=int(len(visits)))
    iax = _blank_axes(fig, layout.paper, *layout.info)
    top = iax.get_ylim()[1]
    width_chars = int(layout.info[2] / (f * 0.72 * 0.3528 * 0.55))
    lines = []
    for line in ctx.meta_lines:
        lines.extend(_wrap(line, width_chars, 2))
    iax.text(0, top, "\n".join(lines), fontsize=f * 0.72, va="top", ha="left", linespacing=1.25)
    sax = _blank_axes(fig, layout.paper, *layout.sign)
    _signature(sax, ctx.place, ctx.date, f, ctx.signer, ctx.signer_name)

    tax = _blank_axes(fig, layout.paper, *layout.table)
    rest = []
    if name is None:
        _summary_table(tax, ctx, f)
    else:
        rows = _visit_rows(visits)
        cap = FIRST_PAGE_ROWS[orientation]
        first, rest = rows[:cap], rows[cap:]
        title = f"DANH SÁCH HỘ CẦN KIỂM TRA ({len(rows)} thửa)"
        if rows:
            bottom = _table(tax, first, f, title=title)
            if rest:
                tax.text(
                    tax.get_xlim()[1],
                    bottom - 0.8,
                    f"(còn {len(rest)} thửa: xem trang sau)",
                    fontsize=f * 0.7,
                    fontstyle="italic",
                    ha="right",
                    va="top",
                )
        else:
            tax.text(
                0, tax.get_ylim()[1] - 1, "Không có hộ cần kiểm tra.", fontsize=f * 0.9, va="top"
            )
    return fig, rest, layout


def _hamlet_names(ax, hamlets, fs):
    status = _palette.get_theme("status")
    for _, row in hamlets.iterrows():
        point = row.geometry.representative_point()
        box = {
            "boxstyle": "round,pad=0.3",
            "facecolor": "white",
            "edgecolor": "black",
            "linewidth": 0.5,
        }
        color = "black"
        if "status" in hamlets.columns:
            category = status[row["status"]]
            box["facecolor"] = category.color
            lightness = sum(c * w for c, w in zip(category.rgb, (0.299, 0.587, 0.114)))
            color = "white" if lightness < 0.5 else "black"
        ax.text(
            point.x,
            point.y,
            row["hamlet"],
            ha="center",
            va="center",
            fontsize=fs * 0.95,
            fontweight="bold",
            color=color,
            bbox=box,
            zorder=10,
        )


def _visit_rows(visits) -> list[dict]:
    if not len(visits):
        return []
    order = visits.assign(
        _s=visits["sheet"].astype(str).str.zfill(6), _p=visits["parcel_no"].astype(str).str.zfill(8)
    )
    order = order.sort_values(["_s", "_p"])
    return [
        {
            "owner": r.owner,
            "sheet": r.sheet,
            "parcel_no": r.parcel_no,
            "area_m2": float(r.area_m2),
            "reason": r.reason,
            "reason_short": getattr(r, "reason_short", r.reason),
        }
        for r in order.itertuples()
    ]


def _summary_table(ax, ctx: _Context, fs):
    """Per-hamlet counts of each class, on the overview page."""
    frame, theme = ctx.frame, ctx.theme
    width = ax.get_xlim()[1]
    top = ax.get_ylim()[1]
    keys = [c for c in theme.categories if c.key != _palette.NON_GARDEN]
    ax.text(
        0,
        top - 1,
        "TỔNG HỢP THEO THÔN (số thửa vườn)",
        fontsize=fs * 0.95,
        fontweight="bold",
        va="top",
    )
    y = top - 7
    name_w = width * 0.30
    col_w = (width - name_w) / (len(keys) + 1)
    size = fs * 0.68
    # header: coloured swatches stand for the classes (their names are in the legend)
    from matplotlib.patches import Rectangle

    ax.text(0.5, y - 2.5, "Thôn", fontsize=size, fontweight="bold", va="center")
    for j, category in enumerate(keys):
        x = name_w + j * col_w + col_w / 2
        ax.add_patch(
            Rectangle(
                (x - 2.5, y - 4.0),
                5,
                3,
                facecolor=category.color,
                edgecolor=_palette.EDGE,
                linewidth=0.4,
                hatch=_HATCH.get(category.hatch) if category.hatch else None,
            )
        )
    ax.text(
        name_w + len(keys) * col_w + col_w / 2,
        y - 2.5,
        "Cần KT",
        fontsize=size,
        fontweight="bold",
        ha="center",
        va="center",
    )
    y -= 5.5
    ax.plot([0, width], [y, y], color="black", linewidth=0.5)
    names = list(ctx.hamlets["hamlet"])
    for name in [*names, None]:
        sub = frame if name is None else frame[frame["hamlet"] == name]
        counts = sub["key"].value_counts()
        label = "Toàn xã" if name is None else name
        ax.text(
            0.5,
            y - 2.2,
            label,
            fontsize=size,
            va="center",
            fontweight="bold" if name is None else "normal",
        )
        for j, category in enumerate(keys):
            ax.text(
                name_w + j * col_w + col_w / 2,
                y - 2.2,
                _fmt_int(counts.get(category.key, 0)),
                fontsize=size,
                ha="center",
                va="center",
            )
        ax.text(
            name_w + len(keys) * col_w + col_w / 2,
            y - 2.2,
            _fmt_int(sub["visit"].sum()),
            fontsize=size,
            ha="center",
            va="center",
        )
        y -= 4.4
        ax.plot([0, width], [y, y], color="#999999", linewidth=0.25)


def _continuation_page(ctx: _Context, name: str, rows, start_no: int, fs: float, total: int):
    layout = _layout(ctx.paper, "portrait")
    f = fs * layout.k
    title = map_title(theme=ctx.by, hamlet=name, commune=ctx.commune, year=ctx.year)
    fig = _new_page(
        layout, title, f"Danh sách hộ cần kiểm tra thực địa (tiếp theo, từ số {start_no})", f
    )
    w, h = layout.paper
    tax = _blank_axes(
        fig, layout.paper, 12 * layout.k, 40 * layout.k, w - 24 * layout.k, h - 64 * layout.k
    )
    _table(
        tax,
        rows,
        f,
        start_no=start_no,
        title=f"DANH SÁCH HỘ CẦN KIỂM TRA – {name.upper()} ({total} thửa)",
    )
    sax = _blank_axes(fig, layout.paper, 96 * layout.k, 6 * layout.k, 104 * layout.k, 30 * layout.k)
    _signature(sax, ctx.place, ctx.date, f, ctx.signer, ctx.signer_name)
    return fig


def _merge_status(hamlets, status):
    """Hamlets with the ``status`` of a progress table (or dict), matched by folded name."""
    import pandas as pd

    from .errors import SchemaError

    if isinstance(status, pd.DataFrame):
        name_col = hamlet_name_column(status)
        if name_col is None or "status" not in status.columns:
            raise SchemaError(_msg("error.maps.status_columns",
                                   columns=", ".join(map(str, status.columns))))  # fmt: skip
        status = dict(zip(status[name_col], status["status"]))
    by_fold = {_fold(k): v for k, v in dict(status).items()}
    out = hamlets.copy()
    values = pd.DataFrame({"status": [by_fold.get(_fold(n)) for n in out["hamlet"]]})
    out["status"] = _palette.classify(values, "status").to_numpy()
    return out


def _slug(text: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "_", _fold(text)).strip("_") or "xa"


# --------------------------------------------------------------------------------------
# the renovation plan printed (Step 4): a page per hamlet with planned households
# --------------------------------------------------------------------------------------

#: Rows of the plan list on a hamlet's plan page, and on each continuation page.
PLAN_FIRST_ROWS = 19
PLAN_CONTINUATION_ROWS = 31
_PLAN_PT = 8.0  # the smallest text of a plan page: list, legend, notes, numbers
_PLAN_FS = 11.0  # map furniture (coordinates 8.8 pt, scale bar 8.25 pt)
_PLAN_ROW_MM = 7.0  # a row of the list: two lines of 8 pt
_PLAN_EVIDENCE = {
    "ca_hai": "Khảo sát và ảnh vệ tinh: hoang hóa",
    "khao_sat": "Khảo sát: hoang hóa; ảnh chưa thấy",
    "anh": "Ảnh: hoang hóa; khảo sát ghi khác",
    "vuon_tap": "Khảo sát: vườn tạp",
}


def plan_page_count(plan_rows: dict[str, int]) -> int:
    """How many pages ``render_maps(..., by="plan")`` writes (the documented rule).

    One page per hamlet with planned households (its map and the first
    :data:`PLAN_FIRST_ROWS` of its list), then continuation pages of
    :data:`PLAN_CONTINUATION_ROWS` rows for the rest of its list.

    Parameters
    ----------
    plan_rows : dict
        Hamlet name -> number of planned gardens (hamlets with none are not printed).

    Returns
    -------
    int

    Examples
    --------
    >>> plan_page_count({"Thôn A": 12, "Thôn B": 19, "Thôn C": 20, "Thôn D": 0})
    4
    >>> plan_page_count({"Thôn A": 19 + 31 + 1})
    3
    """
    pages = 0
    for rows in plan_rows.values():
        if rows > 0:
            pages += 1 + math.ceil(max(0, rows - PLAN_FIRST_ROWS) / PLAN_CONTINUATION_ROWS)
    return pages


def _with_plan(inputs: _Inputs, plan) -> tuple[_Inputs, object]:
    """The parcels with their plan priority and order (the plan's rows matched by parcel)."""
    import pandas as pd

    from .plan import renovation_plan

    parcels = inputs.parcels
    plan = renovation_plan(parcels) if plan is None else plan
    plan = pd.DataFrame(plan).drop(columns="geometry", errors="ignore").reset_index(drop=True)
    ids = parcels["parcel_id"].astype(str) if "parcel_id" in parcels else None
    if ids is None or "parcel_id" not in plan:
        from .errors import SchemaError

        raise SchemaError(_msg("error.maps.plan_no_parcel_id", source=inputs.source))
    if not len(plan):
        from .errors import InputError

        raise InputError(_msg("error.maps.plan_empty", source=inputs.source))
    by_id = plan.set_index(plan["parcel_id"].astype(str))
    by_id = by_id[~by_id.index.duplicated()]
    marked = parcels.assign(
        plan_priority=ids.map(by_id["plan_priority"]).astype(object).values,
        plan_order=ids.map(by_id["plan_order"]).values,
    )
    marked["plan_priority"] = marked["plan_priority"].where(marked["plan_priority"].notna(), None)
    return _Inputs(marked, inputs.hamlets, inputs.metadata, inputs.commune, inputs.source), plan


def _plan_layout(paper: str, orientation: str = "landscape") -> _Layout:
    """A plan page: the map left, the list right (landscape); a continuation: the list."""
    return _scaled_layout(paper, orientation, _PLAN_BOXES)


def _plan_rows(plan, name: str) -> list[dict]:
    """The planned gardens of one hamlet (matched by folded name), in the plan's order."""
    import pandas as pd

    mine = plan[plan["hamlet"].map(lambda n: _fold(n) if isinstance(n, str) else "") == _fold(name)]
    mine = mine.sort_values("plan_order", kind="stable")

    def text(v):
        return "" if v is None or (isinstance(v, float) and v != v) else _nfc(v)

    return [
        {
            "order": int(r.plan_order),
            "owner": text(r.owner),
            "parcel": f"{text(r.sheet)}/{text(r.parcel_no)}".replace(".0/", "/"),
            "area_m2": float(pd.to_numeric(r.area_m2, errors="coerce")),
            "needs": text(r.needs),
            "evidence": _PLAN_EVIDENCE.get(r.evidence, text(r.evidence)),
            "priority": r.plan_priority,
        }
        for r in mine.itertuples()
    ]


def _plan_table(ax, rows, *, title: str | None) -> float:
    """The plan list (TT, owner, sheet/parcel, area, needs, evidence) at 8 pt, in mm."""
    width, top = ax.get_xlim()[1], ax.get_ylim()[1]
    size, char_mm = _PLAN_PT, _PLAN_PT * 0.3528 * 0.56
    fixed = [7.0, width * 0.21, 15.0, 14.0]
    rest = width - sum(fixed)
    cols = [*fixed, rest * 0.46, rest * 0.54]
    heads = ["TT", "Chủ hộ", "Tờ/thửa", "DT (m²)", "Nhu cầu hỗ trợ", "Căn cứ"]
    y = top - 1
    if title:
        ax.text(0, y, title, fontsize=size * 1.15, fontweight="bold", va="top")
        y -= 6.0
    xs = [0.0]
    for w in cols:
        xs.append(xs[-1] + w)
    head_top = y
    ax.plot([0, width], [y, y], color="black", linewidth=0.6)
    for x, w, head in zip(xs, cols, heads):
        ax.text(x + w / 2, y - 2.6, head, fontsize=size, fontweight="bold", ha="center",
                va="center")  # fmt: skip
    y -= 5.2
    ax.plot([0, width], [y, y], color="black", linewidth=0.4)
    for r in rows:
        area = _fmt_int(r["area_m2"]) if r["area_m2"] == r["area_m2"] else ""
        cells = [[str(r["order"])], _wrap(r["owner"], int(cols[1] / char_mm)), [r["parcel"]],
                 [area], _wrap(r["needs"], int(cols[4] / char_mm)),
                 _wrap(r["evidence"], int(cols[5] / char_mm))]  # fmt: skip
        for j, (x, w, lines) in enumerate(zip(xs, cols, cells)):
            left = j in (1, 4, 5)
            ax.text(x + 0.8 if left else x + w / 2, y - _PLAN_ROW_MM / 2, "\n".join(lines),
                    fontsize=size, ha="left" if left else "center", va="center",
                    linespacing=1.05)  # fmt: skip
        y -= _PLAN_ROW_MM
        ax.plot([0, width], [y, y], color="#999999", linewidth=0.25)
    for x in xs:
        ax.plot([x, x], [y, head_top], color="black", linewidth=0.3, clip_on=False)
    return y


def _plan_legend(ax, theme, rows, counts) -> None:
    """The plan page's legend at 8 pt: priorities with their counts, outline, numbers."""
    from matplotlib.patches import Rectangle

    y = ax.get_ylim()[1] - 1
    ax.text(0, y, "CHÚ GIẢI", fontsize=_PLAN_PT * 1.1, fontweight="bold", va="top")
    y -= 5.0
    for category in theme.categories:
        n = counts.get(category.key, 0)
        if category.key == "khong_ke_hoach":
            text = "Vườn khác, đất khác"
        elif n:
            text = f"{category.label_vi} ({_fmt_int(n)} thửa)"
        else:
            continue
        ax.add_patch(Rectangle((0.5, y - 3.0), 7, 3.2, facecolor=category.color,
                               edgecolor=_palette.EDGE, linewidth=0.4))  # fmt: skip
        ax.text(9.5, y - 1.4, text, fontsize=_PLAN_PT, va="center")
        y -= 4.4
    ax.plot([0.5, 7.5], [y - 1.4, y - 1.4], color="black", linewidth=1.4)
    ax.text(9.5, y - 1.4, "Ranh giới thôn", fontsize=_PLAN_PT, va="center")
    y -= 4.4
    ax.text(4, y - 1.4, "12", fontsize=_PLAN_PT, fontweight="bold", ha="center", va="center")
    ax.text(9.5, y - 1.4, "Thứ tự trong kế hoạch", fontsize=_PLAN_PT, va="center")


def _plan_numbers(ax, frame, fs: float) -> None:
    """Each planned garden's number in the plan, on the garden, with a white halo."""
    import shapely
    from matplotlib import patheffects

    points = shapely.point_on_surface(_polygonal(frame.geometry.values))
    halo = [patheffects.withStroke(linewidth=1.6, foreground="white")]
    for point, order in zip(points, frame["plan_order"]):
        ax.text(point.x, point.y, str(int(order)), fontsize=fs, fontweight="bold", ha="center",
                va="center", color="#111111", path_effects=halo, zorder=8)  # fmt: skip


def _plan_page(ctx: _Context, name: str, rows: list[dict]):
    """A hamlet's plan page: its map, the planned gardens numbered, the list beside it."""
    import numpy as np

    layout = _plan_layout(ctx.paper)
    k = layout.k
    mine, bounds = _page_bounds(ctx, name)
    own = ctx.bounds[mine & ctx.shaped]  # the map shows the hamlet's parcels, at their scale
    own = own[~np.isnan(own).any(axis=1)]
    if len(own):
        bounds = (*own[:, :2].min(axis=0), *own[:, 2:].max(axis=0))
    scale, extent = _fit(bounds, layout)
    counts = {}
    for r in rows:
        counts[r["priority"]] = counts.get(r["priority"], 0) + 1
    title = map_title(theme="plan_priority", hamlet=name, commune=ctx.commune, year=ctx.year)
    subtitle = (f"{ctx.theme.title()} – {_fmt_int(len(rows))} thửa vườn trong kế hoạch: "
                f"{_fmt_int(counts.get('hoang_hoa', 0))} ưu tiên 1 (hoang hóa), "
                f"{_fmt_int(counts.get('vuon_tap', 0))} ưu tiên 2 (vườn tạp)")  # fmt: skip
    fig = _new_page(layout, title, subtitle, _PLAN_PT * k)
    ax = _mm_axes(fig, layout.paper, *layout.map)
    _setup_map(ax, extent, ctx.crs, _PLAN_FS * k)
    frame = ctx.frame
    x0, y0, x1, y1 = extent
    idx = np.flatnonzero(~mine & ctx.shaped)
    b = ctx.bounds[idx]
    near = idx[(b[:, 2] >= x0) & (b[:, 0] <= x1) & (b[:, 3] >= y0) & (b[:, 1] <= y1)]
    if len(near):
        from matplotlib.collections import PathCollection

        others = _compound([ctx.all_paths[i] for i in near], ctx.overlaps, near)
        ax.add_collection(PathCollection(others, facecolors="#F2F2F2", edgecolors="#BBBBBB",
                                         linewidths=0.1, zorder=1))  # fmt: skip
    drawn = np.flatnonzero(mine & ctx.shaped)
    keys = frame["key"].to_numpy()
    _draw_parcels(ax, [ctx.all_paths[i] for i in drawn], keys[drawn].tolist(), ctx.theme,
                  lw=0.15 / max(scale / 5000, 0.6), overlaps=ctx.overlaps, order=drawn)  # fmt: skip
    _draw_outline(ax, paths=ctx.hamlet_paths, color="#444444", lw=0.6, ls=(0, (4, 2)), zorder=5)
    which = np.flatnonzero((ctx.hamlets["hamlet"] == name).to_numpy())
    _draw_outline(ax, paths=[ctx.hamlet_paths[i] for i in which], lw=1.6, zorder=6)
    planned = frame.iloc[drawn]
    _plan_numbers(ax, planned[planned["plan_order"].notna()], _PLAN_PT * k)
    _scale_bar(ax, extent, scale, _PLAN_FS * k)
    _north_arrow(ax, extent, scale, _PLAN_FS * k)
    _plan_legend(_blank_axes(fig, layout.paper, *layout.legend), ctx.theme, rows, counts)
    iax = _blank_axes(fig, layout.paper, *layout.info)
    width_chars = int(layout.info[2] / (_PLAN_PT * k * 0.3528 * 0.55))
    lines = [x for line in ctx.meta_lines for x in _wrap(line, width_chars, 2)]
    iax.text(0, iax.get_ylim()[1], "\n".join(lines[:7]), fontsize=_PLAN_PT * k, va="top",
             ha="left", linespacing=1.2)  # fmt: skip
    _signature(_blank_axes(fig, layout.paper, *layout.sign), ctx.place, ctx.date, 10.0 * k,
               ctx.signer, ctx.signer_name)  # fmt: skip
    tax = _blank_axes(fig, layout.paper, *layout.table)
    first = rows[:PLAN_FIRST_ROWS]
    bottom = _plan_table(tax, first, title=f"DANH SÁCH HỘ CẢI TẠO VƯỜN ({len(rows)} thửa)")
    if len(rows) > len(first):
        tax.text(tax.get_xlim()[1], bottom - 1.0,
                 f"(còn {len(rows) - len(first)} thửa: xem trang sau)", fontsize=_PLAN_PT,
                 fontstyle="italic", ha="right", va="top")  # fmt: skip
    return fig


def _plan_continuation(ctx: _Context, name: str, rows: list[dict], total: int):
    layout = _plan_layout(ctx.paper, "portrait")
    # the portrait page is narrower: the hamlet in the title, the commune and year below
    title = f"KẾ HOẠCH CẢI TẠO VƯỜN HỘ – {hamlet_title(name).upper()}"
    where = map_title(theme="plan_priority", hamlet=None, commune=ctx.commune, year=ctx.year)
    where = where.split(" – ", 1)[1].title() if " – " in where else ""
    subtitle = f"{where} – danh sách hộ cải tạo vườn (tiếp theo, từ số {rows[0]['order']})"
    fig = _new_page(layout, title, subtitle.strip(" –"), _PLAN_PT * layout.k)
    tax = _blank_axes(fig, layout.paper, *layout.table)
    _plan_table(tax, rows, title=f"DANH SÁCH HỘ CẢI TẠO VƯỜN – {name.upper()} ({total} thửa)")
    _signature(_blank_axes(fig, layout.paper, *layout.sign), ctx.place, ctx.date,
               10.0 * layout.k, ctx.signer, ctx.signer_name)  # fmt: skip
    return fig


def _plan_pages(ctx: _Context, plan, progress):
    """The plan's pages: each hamlet with planned gardens, its list continued."""
    names = list(ctx.hamlets["hamlet"])
    for i, name in enumerate(names):
        rows = _plan_rows(plan, name)
        if not rows:
            continue
        report(progress, (i + 1) / (len(names) + 1), name)
        yield _plan_page(ctx, name, rows), name
        rest = rows[PLAN_FIRST_ROWS:]
        while rest:
            chunk, rest = rest[:PLAN_CONTINUATION_ROWS], rest[PLAN_CONTINUATION_ROWS:]
            yield _plan_continuation(ctx, name, chunk, len(rows)), f"{name}_tiep"


def render_maps(
    result,
    outdir: str | os.PathLike,
    *,
    by: str = "flag",
    paper: str = "A4",
    png: bool = False,
    hamlets=None,
    hamlet_status=None,
    metadata=None,
    commune: str | None = None,
    year=None,
    place: str | None = None,
    date: _dt.date | str | None = "today",
    dpi: int = 150,
    form=None,
    progress: ProgressCallback | None = None,
    plan=None,
) -> list[Path]:
    """Print the village maps: one PDF, a commune overview and a page per hamlet.

    With ``by="plan"``, the Step 4 renovation plan instead: a page per hamlet with
    planned gardens (hamlets in the hamlet layer's order, named as the data writes
    them), its gardens coloured by priority and numbered in the plan's order, the list
    beside the map (order, owner, sheet/parcel, area, needs, evidence) at 8 pt or more,
    continued on further pages past :data:`PLAN_FIRST_ROWS` rows
    (:func:`plan_page_count`).

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame or dict
        The result GeoPackage of ``ntmgis run`` (layers ``parcels``, ``hamlets``,
        ``run_metadata``), or its parcels as a GeoDataFrame, or a dict of those frames.
    outdir : str or os.PathLike
        Folder for the PDF (and PNGs); created when missing.
    by : {"flag", "survey", "agreement", "plan"}
        Theme the parcels are coloured by (colours and labels from :mod:`ntmgis.palette`);
        ``"plan"``: the renovation plan's pages.
    paper : {"A4", "A3"}
        Paper size; each page's orientation follows the shape of its hamlet.
    png : bool
        Also write each page as a PNG (for slides).
    hamlets : GeoDataFrame or path, optional
        Hamlet boundaries (column ``hamlet`` or ``ten_thon``, optional ``status``), when
        ``result`` holds none. Without any, boundaries are dissolved from the parcels.
    hamlet_status : DataFrame or dict, optional
        Hamlet progress (a :func:`ntmgis.hamlet_progress` table with ``hamlet`` and
        ``status``, or a dict name -> status key): colours the hamlet names on the
        overview. Default: the ``status`` column of the hamlets, when present.
    metadata : DataFrame or dict, optional
        ``run_metadata`` (key, value) when ``result`` holds none: imagery dates and sources
        printed on each page.
    commune : str, optional
        Commune name for titles; default from ``run_metadata`` or the ``commune`` layer.
    year : int, optional
        Year in the titles; default from ``run_metadata`` (``year`` or imagery dates).
    place : str, optional
        Place in the date line ("Thanh Bình, ngày ..."); default the commune name.
    date : datetime.date, str or None
        Date in the date line: ``"today"`` (default), a date, or None for a blank line
        to fill in by hand.
    dpi : int
        Resolution of the PNGs.
    form : ntmgis.form.DocumentForm or dict, optional
        The administrative form the report uses too (the run config's ``[report]``):
        its place, date and signer (authority, title, name) make the signature block.
    progress : callable, optional
        ``progress(fraction, message)``; return False to cancel.
    plan : DataFrame, optional
        With ``by="plan"``: the plan to print (:func:`ntmgis.plan.renovation_plan`'s
        table or a ``renovation_plan`` layer read back); default the result's plan.

    Returns
    -------
    list of pathlib.Path
        The PDF first, then the PNGs (one per page, in page order) when ``png``.

    Raises
    ------
    ntmgis.errors.SchemaError
        When the parcels lack the columns the theme or the pages need.
    ntmgis.errors.InputError
        For an unknown ``by`` or ``paper``.
    """
    key, paper = _theme_and_paper(by, paper)
    report(progress, 0.0, "Đọc dữ liệu")
    inputs = _load(result, hamlets, metadata)
    if key == "plan_priority":
        inputs, plan = _with_plan(inputs, plan)
    ctx = _context(inputs, key, paper, hamlet_status=hamlet_status, commune=commune, year=year,
                   place=place, date=date, form=form)  # fmt: skip
    if key == "plan_priority":  # every other parcel white: the plan's gardens stand out
        ctx.frame["key"] = ctx.frame["key"].replace(_palette.NON_GARDEN, "khong_ke_hoach")
    _print_geometry(ctx)
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    xa = str(ctx.commune).strip() if ctx.commune else "xa"
    stem = f"ban_do_{_slug(xa if _fold(xa).startswith('xa') else 'Xã ' + xa)}_{key}"
    if key == "plan_priority":
        pages = _plan_pages(ctx, plan, progress)
    else:
        pages = _theme_pages(ctx, 7.0, progress)
    run_id = inputs.metadata.get("run_id") or _current_run()
    pdf_path, pngs, count = _write_pages(pages, outdir, stem, png=png, dpi=dpi, run_id=run_id)
    report(progress, 1.0, f"{count} trang")
    return [pdf_path, *pngs]


def _theme_and_paper(by, paper) -> tuple[str, str]:
    """The theme key of ``by`` and the paper name, or an error naming the choices."""
    from .errors import InputError

    key = _BY.get(str(by).lower())
    if key is None:
        raise InputError(_msg("error.maps.unknown_theme", by=by,
                              choices="flag, survey, agreement, plan"))  # fmt: skip
    paper = str(paper).upper()
    if paper not in PAPERS:
        raise InputError(_msg("error.maps.unknown_paper", paper=paper))
    return key, paper


def _context(inputs: _Inputs, key: str, paper: str, *, hamlet_status, commune, year, place,
             date, form) -> _Context:  # fmt: skip
    """What every page shares: theme, names, dates, signer, the parcels and hamlets."""
    frame, hamlet_frame = _prepare(inputs, key)
    if hamlet_status is not None:
        hamlet_frame = _merge_status(hamlet_frame, hamlet_status)
    commune = commune or _commune_name(inputs.metadata, inputs.commune)
    year = year if year is not None else _year(inputs.metadata)
    if place is None and inputs.metadata.get("place"):
        place = inputs.metadata["place"]
    if place is None:
        place = str(commune).replace("Xã ", "").strip() if commune else "..............."
    if isinstance(date, str):
        date = _dt.date.today() if date == "today" else _dt.date.fromisoformat(date)
    signer = {}
    if form is not None:
        from .form import DocumentForm

        if not isinstance(form, DocumentForm):
            form = DocumentForm.from_config(form, commune=commune, place=place)
        place, date = form.place, form.date
        signer = {"signer": tuple(form.signer_lines), "signer_name": form.signer_name}
    return _Context(
        theme=_palette.get_theme(key),
        by=key,
        paper=paper,
        commune=commune,
        year=year,
        place=place,
        date=_vn_date(date),
        meta_lines=_meta_lines(inputs.metadata, frame.crs, inputs.source),
        crs=frame.crs,
        all_paths=[],
        frame=frame,
        hamlets=hamlet_frame,
        **signer,
    )


def _theme_pages(ctx: _Context, fs: float, progress):
    """The pages of a theme map: the overview, each hamlet, its visit list continued."""
    fig, _, _ = _map_page(ctx, None, fs)
    yield fig, "toan_xa"
    names = list(ctx.hamlets["hamlet"])
    for i, name in enumerate(names):
        report(progress, (i + 1) / (len(names) + 1), name)
        fig, rest, _ = _map_page(ctx, name, fs)
        yield fig, name
        total = len(rest) + FIRST_PAGE_ROWS[_orientation_of(fig)]
        start = FIRST_PAGE_ROWS[_orientation_of(fig)] + 1
        while rest:
            chunk, rest = rest[:CONTINUATION_ROWS], rest[CONTINUATION_ROWS:]
            yield _continuation_page(ctx, name, chunk, start, fs, total), f"{name}_tiep"
            start += len(chunk)


def _current_run() -> str | None:
    from ._io import CURRENT_RUN

    return CURRENT_RUN.get()


_RC = {
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    "font.family": "DejaVu Sans",
    "hatch.linewidth": 0.35,
    "hatch.color": "#444444",
    "axes.unicode_minus": False,
}


_LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "MATH")
_LEAN = {"depth": 0, "real": None}
_LEAN_LOCK = threading.Lock()


@contextmanager
def _lean_font_subsets():
    """While active, the PDF backend's font subsets leave out the layout tables.

    matplotlib embeds each TrueType font as a subset made by ``fontTools.subset``, which
    keeps the OpenType layout tables (GSUB, GPOS, GDEF, MATH) and closes the glyph set
    over them: most of a subset's cost for DejaVu Sans (~0.15 of ~0.18 s a font). A PDF
    shows glyphs by their codes at positions matplotlib has already computed; no viewer
    reads those tables from an embedded Type 42 or Type 3 font. Outlines, metrics,
    ``cmap`` and names are kept, so text, widths and rendering are unchanged. Works
    through the ``subset`` module the backend's helper module imports (matplotlib 3.6
    to 3.11); a no-op when matplotlib is not laid out so. Nested and concurrent uses
    share one substitution, removed when the last one ends.
    """
    try:
        from matplotlib.backends import _backend_pdf_ps as helper
    except ImportError:  # pragma: no cover - matplotlib always has it (3.6+)
        helper = None
    real = getattr(helper, "subset", None)
    if real is None or not hasattr(real, "Options"):
        yield
        return
    with _LEAN_LOCK:
        if _LEAN["depth"] == 0:
            _LEAN["real"] = real

            class Options(real.Options):
                def __init__(self, **kwargs):
                    super().__init__(**kwargs)
                    self.drop_tables = [*self.drop_tables, *_LAYOUT_TABLES]

            helper.subset = _LeanSubset(real, Options)
        _LEAN["depth"] += 1
    try:
        yield
    finally:
        with _LEAN_LOCK:
            _LEAN["depth"] -= 1
            if _LEAN["depth"] == 0:
                helper.subset, _LEAN["real"] = _LEAN["real"], None


class _LeanSubset:
    """``fontTools.subset`` with its ``Options`` replaced (see :func:`_lean_font_subsets`)."""

    def __init__(self, module, options):
        self._module, self.Options = module, options

    def __getattr__(self, name):
        return getattr(self._module, name)


def _write_pages(pages, outdir: Path, stem: str, *, png: bool, dpi: int, run_id=None):
    """Save the pages (figures) into one PDF, written atomically, and PNGs when asked.

    Returns (the PDF's path, the PNGs' paths, the page count); the PNGs written are
    removed again when a page fails or the user cancels.
    """
    import matplotlib
    from matplotlib.backends.backend_pdf import PdfPages

    pdf_path = outdir / f"{stem}.pdf"
    pngs: list[Path] = []
    info = {"Title": stem, "Creator": "ntmgis"}
    if run_id:  # the run that made the result: the same id as its run_metadata
        info.update(Subject=f"ntmgis run {run_id}", Keywords=str(run_id))
    page_no = 0
    try:
        with (
            atomic_path(pdf_path) as tmp_path,
            matplotlib.rc_context(_RC),
            _lean_font_subsets(),  # the fonts are subset when the PDF closes
            PdfPages(tmp_path, metadata=info) as pdf,
        ):
            for fig, label in pages:
                page_no += 1
                pdf.savefig(fig)
                if png:
                    path = outdir / f"{stem}_{page_no:02d}_{_slug(label)}.png"
                    fig.savefig(path, dpi=dpi)
                    pngs.append(path)
    except BaseException:
        for path in pngs:
            path.unlink(missing_ok=True)
        raise
    return pdf_path, pngs, page_no


def _orientation_of(fig) -> str:
    w, h = fig.get_size_inches()
    return "landscape" if w > h else "portrait"
