"""Read cadastral parcels into one standard schema, with geometry hygiene.

:func:`read_parcels` reads a GeoPackage, Shapefile (with or without ``.cpg``), GeoJSON,
FlatGeobuf, a DXF GDAL reads, or a GeoDataFrame, and returns every parcel with:

=================  ==========================================================
``parcel_id``      stable, readable id ``"<sheet>-<parcel_no>"`` (``"12-345"``);
                   a repeated key gets ``"12-345#2"``, a missing one ``"row-17"``
``sheet``          số tờ (map sheet)
``parcel_no``      số thửa (parcel number, unique within a sheet)
``area_m2``        the recorded area (DIENTICH), else the geometry's
``land_use``       land-use code (KHLOAIDAT), e.g. ``"ONT+CLN"``
``hamlet``         place / hamlet (DIADANH), NFC, modern tone placement
``owner``          owner (TENCHU)
``household_id``   household id (MAHO) when the file has one
``parcel_status``  ``ok``, ``repaired``, ``duplicate_key``, ``missing_key``,
                   ``empty_geometry`` (the most serious one)
``parcel_notes``   every repair and problem found, in words
``overlap_m2``     area shared with other parcels
=================  ==========================================================

followed by every original column, unchanged. No parcel is ever dropped.
"""

from __future__ import annotations

import logging
import re
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from . import _progress
from .errors import DataNotFoundError, InputError, ParcelWarning, SchemaError, warn
from .i18n import message as _say
from .i18n import register_all
from .places import assign_hamlets
from .text import (
    Metadata,
    _per_value,
    clean_text,
    fold,
    match_columns,
    parse_vn_number,
    repair_column,
)

__all__ = [
    "PARCEL_FIELDS",
    "STANDARD_COLUMNS",
    "GARDEN_LAND_USES",
    "read_parcels",
    "is_garden_land_use",
    "parcel_ids",
    "parcel_number",
]

logger = logging.getLogger(__name__)

# The parcels' user-facing sentences (ntmgis.i18n catalogue): key -> (vi, en).
_MESSAGES = {
    "error.parcels.not_found": (
        "Không tìm thấy tệp thửa đất '{path}'. Kiểm tra lại đường dẫn (thư mục đang làm việc "
        "là '{cwd}').",
        "Parcel file not found: '{path}'. Check the path (and the working folder, '{cwd}').",
    ),
    "error.parcels.which_layer": (
        "'{path}' có nhiều lớp ({layers}) và không lớp nào mang tên thửa đất ('parcels', "
        "'thua_dat'). Ghi tên lớp thửa đất vào parcels_layer trong mục [inputs] của tệp cấu "
        "hình (hoặc chọn lớp trong plugin).",
        "'{path}' has several layers ({layers}) and none is named like parcels ('parcels', "
        "'thua_dat'). Give the parcel layer's name as parcels_layer in the run config's "
        "[inputs] (or choose the layer in the plugin).",
    ),
    "error.parcels.dxf_empty": (
        "'{path}' không có đường bao khép kín hay vùng nào có thể là thửa đất. Xuất ranh giới "
        "thửa dưới dạng đường bao khép kín (hoặc Shapefile/GeoPackage) rồi chạy lại.",
        "'{path}' holds no closed polylines or areas that could be parcels. Export the "
        "parcel boundaries as closed polylines (or a Shapefile/GeoPackage).",
    ),
    "error.parcels.no_geometry": (
        "'{name}' không có cột hình học: đây không phải là lớp thửa đất. Chọn đúng tệp bản đồ "
        "địa chính.",
        "'{name}' has no geometry column: it is not a parcel layer. Choose the cadastral map file.",
    ),
    "error.parcels.no_features": (
        "'{name}' không có thửa nào: xuất lại lớp thửa đất.",
        "'{name}' holds no features: export the parcels again.",
    ),
    "error.parcels.field_missing": (
        "Cột '{column}' được chọn cho thửa đất nhưng không có trong '{name}'. Các cột có "
        "trong tệp: {found}. Chọn lại đúng tên cột.",
        "The column '{column}' chosen for the parcels is not in '{name}'. Its columns: "
        "{found}. Choose one of them.",
    ),
    "error.parcels.no_parcel_number": (
        "'{name}' không có cột số thửa: đã tìm {looked}... Các cột có trong tệp: {found}. "
        "Đổi tên cột số thửa trong tệp thành SHTHUA (và cột số tờ thành SHBANDO).",
        "No parcel-number column (số thửa) in '{name}': looked for {looked}... Columns "
        "there: {found}. Rename the parcel-number column in the file to SHTHUA (and the "
        "map-sheet column to SHBANDO).",
    ),
    "error.parcels.sheet_given": (
        "'{name}' đã có cột số tờ ('{column}'); chỉ ghi số tờ ({sheet}) cho tệp không có cột "
        "số tờ (mỗi tờ bản đồ một tệp). Bỏ số tờ đã ghi.",
        "'{name}' has a sheet column ('{column}'); a sheet number ({sheet}) is only for "
        "files without one (one file per map sheet). Leave the sheet number out.",
    ),
    "warning.parcels.no_sheet": (
        "'{name}' không có cột số tờ bản đồ: mã thửa chỉ là số thửa, nên số thửa phải không "
        "trùng nhau trong cả xã. Nếu tệp có cột số tờ, đổi tên cột đó thành SHBANDO.",
        "No map-sheet column (số tờ) in '{name}': parcel ids are the parcel numbers alone, "
        "which must then be unique in the commune. If the file has one, rename it to "
        "SHBANDO.",
    ),
    "warning.parcels.crs_override": (
        "'{name}' khai báo hệ tọa độ {declared}; dùng {used} như đã chọn.",
        "'{name}' declares {declared}; using {used} as chosen.",
    ),
    "warning.parcels.crs_from_province": (
        "'{name}' không có hệ tọa độ (không có tệp .prj); đã dùng múi VN-2000 của tỉnh "
        "{province}: {crs}. Nếu tệp ở hệ khác, xuất lại tệp kèm tệp .prj.",
        "'{name}' has no CRS (no .prj); the VN-2000 zone of {province} is used: {crs}. If "
        "the file is in another CRS, export it again with its .prj.",
    ),
    "warning.parcels.vn2000_no_towgs84": (
        "'{name}' ở hệ VN-2000 nhưng không có tham số chuyển đổi (TOWGS84): nếu là tệp "
        "VN-2000 'địa phương', các thửa lệch ảnh vệ tinh khoảng 225 m. Khi chạy, ntmgis so "
        "với ảnh để kiểm tra và tự hiệu chỉnh.",
        "'{name}' is in a VN-2000 projection without a datum shift (no TOWGS84 in its CRS): "
        "if it was made as a 'local' VN-2000 file, the parcels sit about 225 m off the "
        "imagery. A run checks this against the imagery and corrects it.",
    ),
    "warning.parcels.stray_coordinates": (
        "'{name}': {count} thửa (đối tượng {features}) nằm ngoài lãnh thổ Việt Nam theo "
        "{crs} trong khi các thửa khác đúng vị trí: giữ lại nhưng không có hình (trạng thái "
        "empty_geometry). Kiểm tra tọa độ của các thửa này trong tệp gốc.",
        "'{name}': {count} parcel(s) (feature(s) {features}) lie outside Vietnam in {crs} "
        "while the others fit it: kept without geometry (status empty_geometry). Check "
        "their coordinates in the source.",
    ),
    "warning.parcels.repaired": (
        "'{name}': {count} thửa có hình không hợp lệ đã được sửa: {parcels}.",
        "'{name}': {count} parcel(s) with repaired invalid geometries: {parcels}.",
    ),
    "warning.parcels.empty_geometry": (
        "'{name}': {count} thửa không có hình hoặc hình rỗng (vẫn giữ, trạng thái "
        "'empty_geometry'): {parcels}. Vẽ lại các thửa này trong tệp gốc.",
        "'{name}': {count} parcel(s) with empty or missing geometries (kept, status "
        "'empty_geometry'): {parcels}. Draw them again in the source.",
    ),
    "warning.parcels.duplicate_key": (
        "'{name}': {count} thửa trùng số tờ và số thửa (trạng thái 'duplicate_key'): "
        "{parcels}. Sửa số thửa trong tệp gốc.",
        "'{name}': {count} parcel(s) with duplicate keys (status 'duplicate_key'): "
        "{parcels}. Correct the numbers in the source.",
    ),
    "warning.parcels.missing_key": (
        "'{name}': {count} thửa không có số thửa (trạng thái 'missing_key'): {parcels}. "
        "Điền số thửa trong tệp gốc.",
        "'{name}': {count} parcel(s) with no parcel number (status 'missing_key'): "
        "{parcels}. Fill them in in the source.",
    ),
    "warning.parcels.overlaps": (
        "'{name}': {count} thửa chồng lấn thửa khác (xem cột overlap_m2): {parcels}.",
        "'{name}': {count} parcel(s) with overlaps with other parcels (see overlap_m2): {parcels}.",
    ),
    "parcels.and_more": ("{shown} và {more} thửa khác", "{shown} and {more} more"),
    # what an in-memory source (a GeoDataFrame, not a file) is called in the messages
    "parcels.in_memory": ("GeoDataFrame đã nạp", "the GeoDataFrame"),
}
register_all(_MESSAGES)


def _text(values) -> pd.Series:
    """Text values as pandas' default string column (``str`` in pandas 3; NaN missing)."""
    return pd.Series([None if v is None or v is pd.NA else v for v in values])


def _floats(values) -> np.ndarray:
    """Numbers as float64 with NaN for missing (plain numpy, no pandas NA)."""
    return np.array([np.nan if v is None or v is pd.NA else float(v) for v in values], dtype=float)


#: Standard field -> known column names (matched case-, space- and diacritic-insensitively).
PARCEL_FIELDS: dict[str, list[str]] = {
    "sheet": [
        "SHBANDO",
        "SoHieuToBanDo",
        "so_to",
        "Số tờ",
        "SoTo",
        "to_ban_do",
        "Tờ bản đồ",
        "Số tờ bản đồ",
        "SH_TO",
        "ToBanDo",
        "TBD",
        "TO_BD",
        "SoToBD",
        "Tờ",
        "mapsheet",
        "sheet_no",
    ],
    "parcel_no": [
        "SHTHUA",
        "SoThuTuThua",
        "so_thua",
        "Số thửa",
        "SoThua",
        "thua",
        "Thửa",
        "Thửa số",
        "SH_THUA",
        "parcel",
        "parcel_number",
    ],
    "area_m2": ["DIENTICH", "DienTich", "dien_tich", "Diện tích", "DT", "area", "Shape_Area"],
    "land_use": [
        "KHLOAIDAT",
        "KyHieuMucDichSuDung",
        "loai_dat",
        "Loại đất",
        "LoaiDat",
        "MDSD",
        "MucDichSuDung",
        "Mục đích sử dụng",
        "land_use_code",
        "landuse",
    ],
    # the place text: DIADANH, else the parcel's address (DIACHI, "Xóm 3, xã ..., huyện ...")
    "hamlet": [
        "DIADANH",
        "DiaDanh",
        "dia_danh",
        "Thôn",
        "ten_thon",
        "Xóm",
        "thon_xom",
        "DiaChiThua",
        "DiaChiThuaDat",
        "Địa chỉ thửa",
        "DIACHI",
        "dia_chi",
        "Địa chỉ",
    ],
    "owner": [
        "TENCHU",
        "TenChu",
        "ten_chu",
        "Chủ sử dụng",
        "ChuSuDung",
        "chu_su_dung",
        "Tên chủ",
        "HoTen",
        "owner_name",
        # chủ sử dụng (đất), as cadastral DBFs shorten it
        "CHUSDD",
        "ChuSDD",
        "CHUSD",
        "CHU_SDD",
        "CHU_SD",
        "TENCHUSD",
        "TenChuSD",
        "Chủ sử dụng đất",
        "Tên chủ sử dụng",
        "Họ tên chủ",
        "Họ tên",
    ],
    "household_id": ["MAHO", "ma_ho", "Mã hộ", "MaHo", "household"],
}
# a Shapefile's DBF keeps 10 characters of a field name: "SoHieuToBanDo" is "SoHieuToBa"
# there, "KyHieuMucDichSuDung" "KyHieuMucD"; those cut names are known aliases too
_DBF_NAME = 10
_DBF_ALIASES = {
    field: [*names, *(n[:_DBF_NAME] for n in names if len(n) > _DBF_NAME)]
    for field, names in PARCEL_FIELDS.items()
}
STANDARD_COLUMNS = [
    "parcel_id",
    "sheet",
    "parcel_no",
    "area_m2",
    "land_use",
    "hamlet",
    "owner",
    "household_id",
    "parcel_status",
    "parcel_notes",
    "overlap_m2",
]
#: Land-use codes whose parcels hold household gardens (alone or in "ONT+CLN").
GARDEN_LAND_USES = frozenset({"ONT", "CLN", "HNK", "BHK", "NHK", "LNK", "LNC"})
_STATUS_ORDER = ["empty_geometry", "missing_key", "duplicate_key", "repaired", "ok"]
_PARCEL_LAYER_NAMES = {"parcels", "parcel", "thua", "thuadat", "thua_dat", "thuadatdc"}


def is_garden_land_use(code) -> bool:
    """True when a land-use code (``"ONT+CLN"``, ``"CLN"``...) can hold a garden.

    Parameters
    ----------
    code : object
        The land-use code as read.

    Returns
    -------
    bool
        Whether any part of it is in :data:`GARDEN_LAND_USES`.
    """
    if not isinstance(code, str):
        return False
    parts = re.split(r"[+,;/ ]+", code.upper())
    return any(part in GARDEN_LAND_USES for part in parts)


def _key_text(value) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    return text or None


def parcel_ids(sheet, parcel_no) -> tuple[list[str], list[bool], list[bool]]:
    """Readable, unique parcel ids from sheet and parcel numbers.

    Parameters
    ----------
    sheet, parcel_no : sequence
        Map sheet and parcel number per parcel (``sheet`` may be all missing).

    Returns
    -------
    ids : list of str
        ``"<sheet>-<parcel_no>"``; the 2nd, 3rd... parcel with the same key gets
        ``"#2"``, ``"#3"``...; a parcel without a number gets ``"row-<n>"`` (1-based).
    duplicate : list of bool
        True for every parcel whose key is not unique.
    missing : list of bool
        True where the parcel number is missing.
    """
    keys = []
    for s, p in zip(sheet, parcel_no):
        s, p = _key_text(s), _key_text(p)
        keys.append(None if p is None else (p if s is None else f"{s}-{p}"))
    counts = Counter(k for k in keys if k is not None)  # a Series lookup a row: 10x slower
    seen: dict[str, int] = {}
    ids, duplicate, missing = [], [], []
    for i, key in enumerate(keys):
        if key is None:
            ids.append(f"row-{i + 1}")
            duplicate.append(False)
            missing.append(True)
            continue
        seen[key] = seen.get(key, 0) + 1
        ids.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
        duplicate.append(bool(counts[key] > 1))
        missing.append(False)
    return ids, duplicate, missing


def _choose_layer(source, layer):
    if layer is not None or not isinstance(source, str | Path):
        return layer
    path = Path(source)
    if not path.exists():
        raise DataNotFoundError(_say("error.parcels.not_found", path=path, cwd=Path.cwd()))
    try:
        import pyogrio

        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception:  # noqa: BLE001 - unreadable: read_vector gives the clear error
        return None
    if len(layers) <= 1:
        return None
    for name in layers:
        if re.sub(r"[^a-z_]", "", fold(name)) in _PARCEL_LAYER_NAMES:
            return name
    raise SchemaError(_say("error.parcels.which_layer", path=path, layers=", ".join(layers)))


_LAND_USE_TEXT = re.compile(r"^[A-Z]{2,4}(?:\+[A-Z]{2,4})*$")


def _read_dxf(path: Path):
    """Parcels from a cadastral DXF, labelled by the texts inside them.

    Closed polylines (or the polygons the lines enclose) become parcels; TEXT/MTEXT
    inside give the parcel number, land-use code and area.
    """
    import geopandas as gpd
    import shapely

    from . import _io

    raw = _io.read_vector(path, what="DXF file")
    geoms = shapely.force_2d(raw.geometry.to_numpy())
    kinds = shapely.get_type_id(geoms)
    text_col = next((c for c in raw.columns if c.lower() == "text"), None)
    layer_col = next((c for c in raw.columns if c.lower() == "layer"), None)
    polygons, layers = [], []
    lines = []
    for geom, kind, layer in zip(geoms, kinds, raw[layer_col] if layer_col else [None] * len(raw)):
        if geom is None or geom.is_empty:
            continue
        if kind in (3, 6):
            polygons.append(geom)
            layers.append(layer)
        elif kind in (1, 2):
            coords = shapely.get_coordinates(geom)
            if len(coords) >= 4 and np.allclose(coords[0], coords[-1]):
                polygons.append(shapely.Polygon(coords))
                layers.append(layer)
            else:
                lines.append(geom)
    if lines:
        # boundaries drawn as separate lines: the parcels are the faces all lines enclose
        rings = [shapely.boundary(p) for p in polygons if p.geom_type == "Polygon"]
        noded = shapely.union_all(lines + rings)
        polygons = list(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
        layers = [None] * len(polygons)
    if not polygons:
        raise InputError(_say("error.parcels.dxf_empty", path=path))
    labels: list[list[str]] = [[] for _ in polygons]
    if text_col is not None:
        is_text = (kinds == 0) & raw[text_col].notna().to_numpy()
        points = geoms[is_text]
        texts = raw[text_col][is_text].astype(str).tolist()
        tree = shapely.STRtree(polygons)
        where_point, where_poly = tree.query(points, predicate="within")
        for a, b in zip(where_point, where_poly):
            parts = re.split(r"\\P|\n|\s*/\s*", texts[a])
            labels[b].extend(p.strip() for p in parts if p.strip())
    records = []
    for texts in labels:
        number = next((t for t in texts if re.fullmatch(r"\d{1,5}", t)), None)
        land_use = next((t for t in texts if _LAND_USE_TEXT.match(t.replace(" ", ""))), None)
        area = next((t for t in texts if re.fullmatch(r"\d+[.,]\d+", t) and t != number), None)
        records.append(
            {
                "SHTHUA": number,
                "KHLOAIDAT": land_use,
                "DIENTICH": area,
                "DXF_TEXT": " | ".join(texts) or None,
            }
        )
    out = pd.DataFrame(records)
    out["DXF_LAYER"] = layers
    return gpd.GeoDataFrame(out, geometry=polygons, crs=raw.crs)


_SPLIT_NUMBER = re.compile(r"^0*(\d+)\s*[-_.]?\s*([a-z]{1,2})$", re.IGNORECASE)


def parcel_number(value) -> tuple[int | str | None, str | None]:
    """A parcel number as the join compares it: a whole number, or a split number.

    A parcel split from parcel 3 is numbered "3a", "3b" (also written "3A", "3 a",
    "3-a"): those become ``"3a"``. Whole numbers are ints ("012" and 12.0 are 12).

    Parameters
    ----------
    value : object
        A cell: number, text or missing.

    Returns
    -------
    key : int, str or None
        None when the cell is empty or unreadable.
    problem : str or None
        ``"unreadable"`` when the cell holds something that is not a parcel number.

    Examples
    --------
    >>> parcel_number("12"), parcel_number(345.0), parcel_number(" 3 A ")
    ((12, None), (345, None), ('3a', None))
    >>> parcel_number("12,5"), parcel_number(None)
    ((None, 'unreadable'), (None, None))
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None, None
    if isinstance(value, bool | np.bool_):
        return None, "unreadable"
    if isinstance(value, int | np.integer):
        return (int(value), None) if 0 <= value < 10**12 else (None, "unreadable")
    if isinstance(value, float | np.floating):
        whole = np.isfinite(value) and float(value).is_integer() and 0 <= value < 10**12
        return (int(value), None) if whole else (None, "unreadable")
    text = str(value).strip()
    if not text:
        return None, None
    split = _SPLIT_NUMBER.match(text)
    if split:
        return f"{int(split.group(1))}{split.group(2).lower()}", None
    number, _ = parse_vn_number(text)
    if number is not None and float(number).is_integer() and 0 <= number < 10**12:
        return int(number), None
    return None, "unreadable"  # not a number, or "1E19": no parcel number is that large


def _key_and_problem(value) -> tuple:
    """(text, (number, problem)) of one key cell; text None when blank."""
    text = _key_text(value)
    return text, ((None, None) if text is None else parcel_number(text))


def _to_int_keys(values: pd.Series, column: str, source: str, notes: list[list[str]]):
    """Integers where the text is a whole number; split numbers as "12a"; else the text."""
    out = []
    read = _per_value(_key_and_problem)  # a sheet number repeats over its parcels
    for i, value in enumerate(values):
        text, (key, problem) = read(value)
        if text is None:
            out.append(None)
            continue
        if problem is None and key is not None:
            out.append(key)
        else:
            out.append(text)
            notes[i].append(f"{column} '{text}' is not a whole number")
    if all(v is None or isinstance(v, int) for v in out):
        return pd.array(out, dtype="Int64")
    return _text([None if v is None else str(v) for v in out])


def _stray_parcels(gdf, name: str, province) -> np.ndarray:
    """Check the layer's CRS against its coordinates; positions of stray parcels.

    A wrong CRS (degrees under a projected CRS, swapped axes, another zone) is a
    CRSError for the layer. But one parcel typed with a wrong coordinate (0, 0 or 1e300)
    must not cost the commune: when the layer without its outliers passes, the parcels
    that fail alone are returned (kept without geometry, with a note and a warning).
    """
    import shapely

    from .crs import check_coordinates
    from .errors import CRSError

    geoms = gdf.geometry.to_numpy()
    with np.errstate(invalid="ignore"):
        bounds = shapely.bounds(geoms)
    usable = np.isfinite(bounds).all(axis=1)
    try:
        check_coordinates(
            bounds[usable].min(axis=0)[:2].tolist() + bounds[usable].max(axis=0)[2:].tolist()
            if usable.any()
            else [np.nan] * 4,
            gdf.crs,
            source=name,
            province=province,
        )
        return np.array([], dtype=int)
    except CRSError:
        if usable.sum() < 5:
            raise
        first_error = sys.exc_info()[1]
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    core = usable.copy()
    least = 0.05 if gdf.crs is not None and gdf.crs.is_geographic else 5000.0
    for c in (cx, cy):
        lo, hi = np.nanpercentile(c[usable], [25, 75])
        pad = 3 * (hi - lo) + least
        core &= (c >= lo - pad) & (c <= hi + pad)
    if core.sum() < 0.8 * usable.sum():
        raise first_error
    core_bounds = bounds[core].min(axis=0)[:2].tolist() + bounds[core].max(axis=0)[2:].tolist()
    try:
        check_coordinates(core_bounds, gdf.crs, source=name, province=province)
    except CRSError:
        raise first_error from None
    stray = []
    for i in np.flatnonzero(usable & ~core):
        try:
            check_coordinates(bounds[i].tolist(), gdf.crs, source=name)
        except CRSError:
            stray.append(i)
    if stray:
        ids = ", ".join(str(i + 1) for i in stray[:10])
        warn(
            _say(
                "warning.parcels.stray_coordinates",
                name=name,
                count=len(stray),
                features=ids,
                crs=gdf.crs.name,
            ),
            ParcelWarning,
            where=name,
            what="warning.parcels.stray_coordinates",
        )
    return np.array(stray, dtype=int)


def _repair_geometries(gdf, notes: list[list[str]]):
    """Drop Z, repair invalid geometries, keep polygonal parts; return empty flags."""
    import shapely

    geoms = gdf.geometry.to_numpy()
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
        for i in np.flatnonzero(shapely.has_z(gdf.geometry.to_numpy())):
            notes[i].append("Z coordinates dropped")
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    broken = np.unique(owner[~np.isfinite(coords).all(axis=1)])
    for i in broken:  # NaN/inf vertices: GEOS cannot even test them
        geoms[i] = shapely.Polygon()
        empty[i] = True
        notes[i].append("coordinates not finite (NaN or infinity): kept without geometry")
    repaired = np.zeros(len(geoms), dtype=bool)
    invalid = ~empty & ~shapely.is_valid(geoms)
    for i in np.flatnonzero(invalid):
        reason = shapely.is_valid_reason(geoms[i])
        fixed = shapely.make_valid(geoms[i])
        if fixed.geom_type == "GeometryCollection":
            parts = [
                g for g in shapely.get_parts(fixed) if g.geom_type in ("Polygon", "MultiPolygon")
            ]
            fixed = shapely.union_all(parts) if parts else shapely.Polygon()
        geoms[i] = fixed
        repaired[i] = True
        if fixed.is_empty:
            empty[i] = True
            notes[i].append(f"invalid geometry ({reason}) has no area left after repair")
        else:
            notes[i].append(f"invalid geometry repaired ({reason})")
    for i in np.flatnonzero(empty & ~repaired):
        notes[i].append("empty or missing geometry")
    kinds = shapely.get_type_id(geoms)
    for i in np.flatnonzero(~empty & ~np.isin(kinds, [3, 6])):
        kind = geoms[i].geom_type
        parts = [g for g in shapely.get_parts(geoms[i]) if g.geom_type.endswith("Polygon")]
        parts = [g for p in parts for g in shapely.get_parts(p)]
        if parts:  # a collection with areas: keep them (maps and zonal need polygons)
            geoms[i] = shapely.union_all(parts)
            repaired[i] = True
            notes[i].append(f"{kind}: kept its polygon part(s), dropped lines and points")
        else:  # a line or a point is no parcel: kept with status empty_geometry
            geoms[i] = shapely.Polygon()
            empty[i] = True
            notes[i].append(f"not a polygon ({kind}): kept without geometry")
    gdf = gdf.set_geometry(geoms, crs=gdf.crs)
    return gdf, empty, repaired


def _overlaps(gdf, ids, empty, tolerance: float, notes: list[list[str]]) -> np.ndarray:
    import shapely

    geoms = gdf.geometry.to_numpy()
    if gdf.crs is not None and gdf.crs.is_geographic:
        try:
            geoms = gdf.to_crs(gdf.estimate_utm_crs()).geometry.to_numpy()
        except Exception:  # noqa: BLE001 - no areas then
            return np.zeros(len(gdf))
    polygonal = ~empty & np.isin(shapely.get_type_id(geoms), [3, 6])
    idx = np.flatnonzero(polygonal)
    overlap = np.zeros(len(gdf))
    if len(idx) < 2:
        return overlap
    tree = shapely.STRtree(geoms[idx])
    left, right = tree.query(geoms[idx], predicate="intersects")
    keep = left < right
    left, right = idx[left[keep]], idx[right[keep]]
    # neighbours that only touch (a shared boundary: most pairs of a cadastre) overlap
    # by nothing: no overlay for them
    crossing = ~shapely.touches(geoms[left], geoms[right])
    left, right = left[crossing], right[crossing]
    if len(left) == 0:
        return overlap
    areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    for a, b, area in zip(left, right, areas):
        if area > tolerance:
            overlap[a] += area
            overlap[b] += area
            notes[a].append(f"overlaps {ids[b]} by {area:.1f} m²")
            notes[b].append(f"overlaps {ids[a]} by {area:.1f} m²")
    return overlap


def _name(source) -> str:
    if isinstance(source, str | Path):
        return str(source)
    return _say("parcels.in_memory")


def _few(items: list, n: int = 5) -> str:
    text = ", ".join(str(i) for i in items[:n])
    return _say("parcels.and_more", shown=text, more=len(items) - n) if len(items) > n else text


def _read_source(source, layer, name):
    """The layer as GDAL (or the DXF reader) gives it; an InputError when it holds none."""
    import geopandas as gpd

    from . import _io

    is_dxf = isinstance(source, str | Path) and Path(source).suffix.lower() == ".dxf"
    if is_dxf:
        gdf = _read_dxf(_io.as_path(source, what="parcel file"))
    else:
        layer = _choose_layer(source, layer)
        gdf = _io.read_vector(source, layer=layer, what="parcel file")
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise InputError(_say("error.parcels.no_geometry", name=name))
    if len(gdf) == 0:
        raise InputError(_say("error.parcels.no_features", name=name))
    return gdf.reset_index(drop=True), layer


def _decode_text(gdf, name) -> list[str]:
    """Every text column in Unicode NFC (TCVN3, VNI, a Shapefile without .cpg converted).

    What was converted is said in one warning for the file, column by column: warnings
    of one kind are shown once (the CLI and QGIS count the repeats), so a warning per
    column would leave every column but the first unsaid.
    """
    info_text, said = [], []
    geom_col = gdf.geometry.name
    for column in gdf.columns:
        if column == geom_col:
            continue
        series = gdf[column]
        if not (pd.api.types.is_string_dtype(series) or series.dtype == object):
            continue
        repaired, info = repair_column(series, column=str(column), source=name)
        if info["encodings"]:
            gdf[column] = repaired.astype(series.dtype)  # at least NFC
        if info["message"]:
            info_text.append(info["message"])
            said.append(info["warning"])
    if said:
        warn(" ".join(said), ParcelWarning, where=name, what="warning.text.encoding")
    return info_text


def _parcel_fields(gdf, fields, sheet, name) -> dict:
    """Standard field -> column (a given sheet number becomes the ``_sheet`` column)."""
    geom_col = gdf.geometry.name
    found = ", ".join(map(str, gdf.columns.drop(geom_col)))
    try:
        mapping = match_columns(
            [c for c in gdf.columns if c != geom_col], _DBF_ALIASES, overrides=fields
        )
    except KeyError as exc:
        raise SchemaError(
            _say("error.parcels.field_missing", column=exc.args[-1], name=name, found=found)
        ) from None
    if "parcel_no" not in mapping:
        raise SchemaError(
            _say(
                "error.parcels.no_parcel_number",
                name=name,
                found=found,
                looked=", ".join(PARCEL_FIELDS["parcel_no"][:6]),
            )
        )
    if sheet is not None:
        if "sheet" in mapping:
            raise SchemaError(
                _say("error.parcels.sheet_given", name=name, column=mapping["sheet"], sheet=sheet)
            )
        gdf["_sheet"] = sheet
        mapping["sheet"] = "_sheet"
    if "sheet" not in mapping:
        warn(
            _say("warning.parcels.no_sheet", name=name),
            ParcelWarning,
            where=name,
            what="warning.parcels.no_sheet",
        )
    return mapping


def _check_crs(gdf, crs, name, province, notes):
    """The CRS given or declared, checked against the coordinates; stray parcels emptied."""
    import pyproj

    from .crs import lacks_datum_shift

    if crs is not None:
        crs = pyproj.CRS.from_user_input(crs)
        if gdf.crs is not None and not gdf.crs.equals(crs):
            warn(
                _say(
                    "warning.parcels.crs_override", name=name, declared=gdf.crs.name, used=crs.name
                ),
                ParcelWarning,
                where=name,
                what="warning.parcels.crs_override",
            )
        gdf = gdf.set_crs(crs, allow_override=True)
    elif gdf.crs is None and province:
        gdf = _province_crs(gdf, name, province)
    stray = _stray_parcels(gdf, name, province)
    if lacks_datum_shift(gdf.crs):
        warn(
            _say("warning.parcels.vn2000_no_towgs84", name=name),
            ParcelWarning,
            where=name,
            what="warning.parcels.vn2000_no_towgs84",
        )
    if len(stray):
        import shapely

        geoms = gdf.geometry.to_numpy().copy()
        for i in stray:
            geoms[i] = shapely.Polygon()
            notes[i].append(
                f"coordinates outside Vietnam in {getattr(gdf.crs, 'name', 'its CRS')} "
                "(a typing or export error): kept without geometry"
            )
        gdf = gdf.set_geometry(geoms, crs=gdf.crs)
    return gdf


def _province_crs(gdf, name, province):
    """A layer without CRS put in its province's VN-2000 zone, when its metres fit there.

    A cadastral map is drawn in the 3-degree zone of its province: given the province,
    a .prj-less file whose coordinates read as that zone land in Vietnam gets it (and a
    warning). Degrees, swapped axes, a province of several zones, coordinates that fit
    no zone: left without CRS, for :func:`_stray_parcels` to explain.
    """
    import shapely

    from .crs import province_zones, suggest_crs
    from .errors import CRSError

    with np.errstate(invalid="ignore"):
        bounds = shapely.bounds(gdf.geometry.to_numpy())
    usable = np.isfinite(bounds).all(axis=1)
    if not usable.any():
        return gdf
    box = bounds[usable].min(axis=0)[:2].tolist() + bounds[usable].max(axis=0)[2:].tolist()
    try:
        zones = province_zones(province)
    except CRSError:
        return gdf  # not a province name: the missing-CRS error says what to do
    tips = suggest_crs(box, province=province)
    if len(zones) != 1 or not tips or tips[0]["epsg"] != zones[0].epsg:
        return gdf
    if "swapped" in tips[0]["reason"]:
        return gdf
    crs = f"EPSG:{zones[0].epsg}"
    warn(
        _say("warning.parcels.crs_from_province", name=name, province=zones[0].province,
             crs=f"{crs} ({tips[0]['name']})"),
        ParcelWarning,
        where=name,
        what="warning.parcels.crs_from_province",
    )  # fmt: skip
    return gdf.set_crs(crs)


def _parcel_keys(gdf, mapping, name, notes):
    """Sheet and parcel numbers, the parcel ids, which keys repeat and which are missing."""
    n = len(gdf)
    sheet = (
        _to_int_keys(gdf[mapping["sheet"]], "sheet", name, notes)
        if "sheet" in mapping
        else pd.array([None] * n, dtype="Int64")
    )
    parcel_no = _to_int_keys(gdf[mapping["parcel_no"]], "parcel number", name, notes)
    ids, duplicate, missing = parcel_ids(sheet, parcel_no)
    for i in np.flatnonzero(duplicate):
        notes[i].append(f"key {ids[i].split('#')[0]} is used by more than one parcel")
    for i in np.flatnonzero(missing):
        notes[i].append("no parcel number (số thửa)")
    return sheet, parcel_no, ids, duplicate, missing


def _areas(gdf, mapping, empty, notes) -> np.ndarray:
    """The recorded area (DIENTICH), else the geometry's (m²)."""
    n = len(gdf)
    if "area_m2" in mapping:
        area = []
        for i, value in enumerate(gdf[mapping["area_m2"]]):
            number, note = parse_vn_number(value)
            if note == "unreadable":
                notes[i].append(f"area '{value}' is not a number")
            area.append(number)
        area = _floats(area)
    else:
        area = _floats([None] * n)
    todo = np.flatnonzero(pd.isna(area) & ~empty)
    if gdf.crs is not None and len(todo):
        metric = (
            gdf.geometry if gdf.crs.is_projected else gdf.geometry.to_crs(gdf.estimate_utm_crs())
        )
        geom_area = metric.area.to_numpy()
        for i in todo:
            area[i] = round(float(geom_area[i]), 1)
            notes[i].append("area computed from the geometry (none recorded)")
    return area


def _standard_schema(gdf, mapping, keys, checks, notes):
    """The standard columns, then every original column, then the geometry."""
    import geopandas as gpd

    sheet, parcel_no, ids, duplicate, missing = keys
    empty, repaired, overlap = checks
    n = len(gdf)
    area = _areas(gdf, mapping, empty, notes)

    def text_field(field, transform=clean_text):
        if field not in mapping:
            return _text([None] * n)
        return _text([transform(v) if isinstance(v, str) else None for v in gdf[mapping[field]]])

    status = []
    for i in range(n):
        flags = {
            "empty_geometry": bool(empty[i]),
            "missing_key": bool(missing[i]),
            "duplicate_key": bool(duplicate[i]),
            "repaired": bool(repaired[i]),
        }
        status.append(next((s for s in _STATUS_ORDER if flags.get(s, s == "ok")), "ok"))
    standard = pd.DataFrame(
        {
            "parcel_id": _text(ids),
            "sheet": sheet,
            "parcel_no": parcel_no,
            "area_m2": area,
            "land_use": text_field("land_use", lambda v: re.sub(r"\s+", "", v).upper() or None),
            "hamlet": text_field("hamlet"),
            "owner": text_field("owner"),
            "household_id": text_field("household_id", lambda v: v.strip() or None),
            "parcel_status": _text(status),
            "parcel_notes": _text(["; ".join(x) if x else None for x in notes]),
            "overlap_m2": np.round(overlap, 2),
        }
    )
    geom_col = gdf.geometry.name
    originals = gdf.drop(columns=[c for c in (geom_col, "_sheet") if c in gdf.columns])
    renames = {c: f"{c}_src" for c in originals.columns if c in STANDARD_COLUMNS}
    originals = originals.rename(columns=renames)
    return gpd.GeoDataFrame(
        pd.concat([standard, originals], axis=1),
        geometry=gdf.geometry.to_numpy(),
        crs=gdf.crs,
    )


def _warn_problems(name, ids, keys, checks) -> None:
    """One warning per kind of parcel problem, naming the parcels."""
    _, _, _, duplicate, missing = keys
    empty, repaired, overlap = checks
    for key, flag in (
        ("warning.parcels.repaired", repaired & ~empty),
        ("warning.parcels.empty_geometry", empty),
        ("warning.parcels.duplicate_key", np.asarray(duplicate)),
        ("warning.parcels.missing_key", np.asarray(missing)),
        ("warning.parcels.overlaps", overlap > 0),
    ):
        hits = [ids[i] for i in np.flatnonzero(flag)]
        if hits:
            warn(
                _say(key, name=name, count=len(hits), parcels=_few(hits)),
                ParcelWarning,
                where=name,
                what=key,
            )


def read_parcels(
    source,
    *,
    layer: str | None = None,
    crs=None,
    fields: dict[str, str] | None = None,
    sheet=None,
    province: str | None = None,
    overlap_tolerance: float = 0.01,
    progress=None,
):
    """Read cadastral parcels into the standard schema, repairing what can be repaired.

    Parameters
    ----------
    source : str, os.PathLike or geopandas.GeoDataFrame
        A GeoPackage, Shapefile (a missing ``.cpg`` is handled: TCVN3, VNI and UTF-8
        text is detected and converted), GeoJSON, FlatGeobuf, or a GeoDataFrame. A DXF
        (as GDAL reads it) gives one parcel per closed polyline (or per area its lines
        enclose), numbered by the TEXT inside it: a whole number is the parcel number,
        a code like "ONT+CLN" the land use, a decimal number the area; all texts are kept
        in ``DXF_TEXT``. Pass ``sheet=`` for the sheet number.
    layer : str, optional
        Layer of a multi-layer file; by default the only layer, or the one named like
        parcels ("parcels", "thua_dat").
    crs : object, optional
        The CRS the coordinates are in, when the file has none or a wrong one (it
        overrides the file's, with a warning when they differ).
    fields : dict, optional
        Standard field -> column, overriding the aliases (e.g.
        ``{"sheet": "TO", "parcel_no": "THUA"}``); see :data:`PARCEL_FIELDS`.
    sheet : int or str, optional
        The map sheet (số tờ) of a file that holds one sheet and has no sheet column
        (typical of DXF/DGN exports, one file per sheet).
    province : str, optional
        The province, to suggest the right VN-2000 zone when the file has no CRS.
    overlap_tolerance : float, optional
        Overlaps smaller than this (m²) are ignored.
    progress : callable, optional
        ``progress(fraction, message)``; returning False cancels.

    Returns
    -------
    geopandas.GeoDataFrame
        The standard columns (module docstring), then every original column (one whose
        name clashes with a standard column is kept as ``<name>_src``), then geometry.
        ``attrs["ntmgis"]`` holds the source, the column mapping and text-encoding notes.

    Raises
    ------
    DataNotFoundError
        The file does not exist.
    InputError
        The file cannot be read (truncated, not a vector format) or holds no feature.
    SchemaError
        No parcel-number column (pass ``fields``), or a ``fields`` column that does not
        exist, or several layers none of which holds parcels.
    CRSError
        No CRS (with suggested zones), degrees inside a projected CRS, swapped X/Y.

    Warns
    -----
    NtmgisWarning
        Repaired or empty geometries, duplicate keys, overlaps, legacy or mixed text
        encodings: each names the file and the parcels.
    """
    import geopandas as gpd

    name = _name(source)
    if isinstance(source, gpd.GeoDataFrame) and {"parcel_id", "parcel_status"} <= set(
        source.columns
    ):
        return source.copy()  # already read
    _progress.report(progress, 0.0, "Reading parcels")
    gdf, layer = _read_source(source, layer, name)
    _progress.report(progress, 0.2, "Checking text")
    info_text = _decode_text(gdf, name)
    mapping = _parcel_fields(gdf, fields, sheet, name)
    _progress.report(progress, 0.35, "Checking CRS")
    notes: list[list[str]] = [[] for _ in range(len(gdf))]
    gdf = _check_crs(gdf, crs, name, province, notes)
    _progress.report(progress, 0.45, "Checking geometries")
    gdf, empty, repaired = _repair_geometries(gdf, notes)
    keys = _parcel_keys(gdf, mapping, name, notes)
    ids = keys[2]
    _progress.report(progress, 0.6, "Checking overlaps")
    overlap = _overlaps(gdf, ids, empty, overlap_tolerance, notes)
    _progress.report(progress, 0.85, "Building the standard schema")
    checks = (empty, repaired, overlap)
    out = _standard_schema(gdf, mapping, keys, checks, notes)
    # hamlets as people name them: DIADANH parsed, a hamlet column kept (ntmgis.places)
    out = assign_hamlets(out, source_column=mapping.get("hamlet"), where=f"'{name}'")
    out.attrs["ntmgis"] = Metadata(
        {
            "source": name,
            "layer": layer,
            "fields": {k: str(v) for k, v in mapping.items()},
            "text": info_text,
        }
    )
    _warn_problems(name, ids, keys, checks)
    _progress.report(progress, 1.0, "Parcels read")
    return out
