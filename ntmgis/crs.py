"""VN-2000 zones and transformations, and the CRS checks real cadastral files need.

* :func:`province_zone` gives the VN-2000 3-degree cadastral zone (TM-3, k = 0.9999,
  false easting 500 000 m) of one of the 63 pre-2025 provinces, by name with or without
  diacritics; a province of the 2025 reform that spans several zones answers with the
  candidates and asks to choose (:func:`province_zones` lists them).
* :func:`vn2000_utm` gives VN-2000 / UTM 48N and 49N.
* :func:`wgs84_transformer` transforms between a VN-2000 CRS and WGS 84 with the
  transformation named explicitly: EPSG:6960 ("VN-2000 to WGS 84 (2)", whole country).
  PROJ would otherwise choose by area (EPSG:5194 in the Mekong delta, about 0.8 m apart),
  and many published ``+towgs84`` strings carry the rotation signs of the other Helmert
  convention (about 0.5 m wrong): :func:`check_towgs84` spots them.
* :func:`check_coordinates` explains what is wrong with a layer's CRS: none at all
  (with zones suggested from the coordinates and the place, :func:`suggest_crs`),
  degrees inside a projected CRS, X and Y swapped (cadastral files write X for the
  northing).
* :func:`diagnose_offset` tells from matched features whether a VN-2000 file is "local"
  (projected without the datum shift), about 225 m off where imagery shows it.

Data: ``ntmgis/data/vn2000_provincial_meridians_pre2025.csv`` (zone of each province),
``vn_provinces_2025.csv`` (the 2025 merger), ``vn_provinces_2009_simplified.geojson``
(province outlines, for zone suggestions only); provenance in the first line of each.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import warnings
from dataclasses import dataclass
from importlib import resources

import numpy as np

from .errors import CRSError
from .i18n import Text
from .i18n import register_all as _register_all
from .i18n import say as _say
from .text import fold

logger = logging.getLogger(__name__)

# what this module says to people, Vietnamese first (ntmgis.i18n's catalogue). A wrong
# CRS is named as the coordinate reference system (hệ tọa độ, CRS) first (issue 19).
_register_all(
    {
        "error.crs.unknown_province": (
            "'{name}' không phải tên một tỉnh của Việt Nam. Các tỉnh: {names}.",
            "'{name}' is not a Vietnamese province. Known provinces: {names}.",
        ),
        "error.crs.merged_province": (
            "Tỉnh '{name}' (sau sáp nhập 2025) nằm trên nhiều múi VN-2000: {listed}. Bản đồ "
            "địa chính giữ múi của tỉnh cũ: hãy ghi tên tỉnh cũ (ví dụ '{example}').",
            "Province '{name}' (after the 2025 merger) spans several VN-2000 zones: {listed}. "
            "Cadastral maps keep the zone of the former province: pass its name "
            "(e.g. province_zone('{example}')).",
        ),
        "error.crs.utm_zone": (
            "Không có múi UTM {zone} của VN-2000: Việt Nam dùng múi 48N và 49N.",
            "VN-2000 UTM zone {zone} does not exist: Vietnam uses 48N and 49N.",
        ),
        "error.crs.no_crs": (
            "Hệ tọa độ (CRS) của '{source}' bị thiếu (không có tệp .prj hay thông tin CRS). "
            "{likely}Hãy chọn hệ tọa độ khi xuất tệp (ví dụ VN-2000 múi 3° của tỉnh, "
            "EPSG:9209), hoặc ghi tên tỉnh trong cấu hình để thu hẹp gợi ý.",
            "The coordinate reference system (CRS) of '{source}' is missing: no coordinate "
            "reference system (no .prj or CRS). {likely}Pass it explicitly (crs='EPSG:9209' "
            "in Python, --crs EPSG:9209 on the command line), or give the province "
            "(province='Hà Tĩnh') to narrow the suggestions.",
        ),
        "error.crs.likely": ("Có thể là: {listed}. ", "Likely: {listed}. "),
        "error.crs.lonlat_swapped": (
            "Hệ tọa độ (CRS) của '{source}' ({crs}) không khớp dữ liệu: kinh độ và vĩ độ bị "
            "đảo (x {x} giống vĩ độ, y {y} giống kinh độ ở Việt Nam). Khi xuất tệp, đặt x "
            "là kinh độ.",
            "The coordinate reference system (CRS) of '{source}' ({crs}) does not fit: "
            "longitude and latitude swapped (x {x} looks like a latitude and y {y} like a "
            "longitude in Vietnam). Swap the columns (x = longitude) when exporting.",
        ),
        "error.crs.not_degrees": (
            "Hệ tọa độ (CRS) của '{source}' sai: tệp khai báo hệ tọa độ địa lý '{crs}' "
            "nhưng tọa độ ({bounds}) không phải độ mà là mét. Hãy khai báo hệ tọa độ phẳng, "
            "ví dụ EPSG:9209 (VN-2000 múi 3°).",
            "The coordinate reference system (CRS) of '{source}' is wrong: it declares the "
            "geographic CRS '{crs}' but its coordinates ({bounds}) are not degrees: they "
            "look projected (metres). Pass the projected CRS, e.g. crs='EPSG:9209'.",
        ),
        "error.crs.degrees": (
            "Hệ tọa độ (CRS) của '{source}' sai: tệp khai báo hệ tọa độ phẳng '{crs}' "
            "(EPSG:{epsg}) nhưng tọa độ là độ (x {x}, y {y}). Tệp .prj sai: hãy khai báo "
            "EPSG:4756 (VN-2000 địa lý) hoặc EPSG:4326 (WGS 84).",
            "The coordinate reference system (CRS) of '{source}' is wrong: it declares the "
            "projected CRS '{crs}' (EPSG:{epsg}) but its coordinates are degrees (x {x}, "
            "y {y}). The .prj is wrong: read it with crs='EPSG:4756' (VN-2000 geographic) "
            "or crs='EPSG:4326' (WGS 84).",
        ),
        "error.crs.xy_swapped": (
            "Hệ tọa độ (CRS) của '{source}' ({crs}) không khớp dữ liệu: X và Y bị đảo (x {x} "
            "giống tọa độ bắc, y {y} giống tọa độ đông). Bản đồ địa chính ghi X là tọa độ "
            "bắc: hãy đổi chỗ hai cột khi xuất tệp.",
            "The coordinate reference system (CRS) of '{source}' ({crs}) does not fit: X "
            "and Y swapped (x {x} looks like a northing and y {y} like an easting). "
            "Vietnamese cadastral files write X for the northing; swap the columns when "
            "exporting.",
        ),
        "error.crs.outside_vietnam": (
            "Hệ tọa độ (CRS) của '{source}' có lẽ sai: tệp khai báo '{crs}' nhưng tọa độ "
            "({bounds}) nằm ngoài Việt Nam trong hệ đó. Kiểm tra hệ tọa độ (múi khác? "
            "hệ tọa độ địa phương?).",
            "The coordinate reference system (CRS) of '{source}' is likely wrong: it "
            "declares '{crs}' but its coordinates ({bounds}) are outside Vietnam in that "
            "CRS. Check the CRS (another zone? a local grid?).",
        ),
        "error.crs.not_vn2000_pair": (
            "Cả '{a}' và '{b}' đều không phải hệ tọa độ (CRS) VN-2000: phép chuyển qua "
            "EPSG:6960 chỉ dùng khi một trong hai là VN-2000.",
            "Neither '{a}' nor '{b}' is a VN-2000 CRS: use pyproj.Transformer directly.",
        ),
        "error.crs.no_epsg6960": (
            "Cơ sở dữ liệu PROJ không có EPSG:6960 (VN-2000 sang WGS 84 (2)) cho '{a}' -> "
            "'{b}': hãy cập nhật pyproj (>= 3.7).",
            "PROJ's database has no EPSG:6960 (VN-2000 to WGS 84 (2)) for '{a}' -> '{b}'. "
            "Update pyproj (>= 3.7).",
        ),
        "error.crs.needs_projected_vn2000": (
            "Hệ tọa độ (CRS) của dữ liệu là {crs}, không phải VN-2000 phẳng: {task} cần dữ "
            "liệu trong một hệ VN-2000 phẳng (ví dụ EPSG:9209).",
            "The coordinate reference system (CRS) of the data is {crs}, not a projected "
            "VN-2000 one: {task} needs a projected VN-2000 CRS (e.g. EPSG:9209).",
        ),
        "error.crs.reference_no_crs": (
            "Dữ liệu tham chiếu không có hệ tọa độ (CRS): hãy khai báo (ví dụ EPSG:4326).",
            "The reference features have no CRS: set it (e.g. EPSG:4326).",
        ),
        "error.crs.no_common_index": (
            "Không đối tượng tham chiếu nào trùng chỉ số với dữ liệu: hãy ghép chúng theo chỉ số.",
            "No reference feature shares an index with the data: match them by index.",
        ),
        "error.crs.array_needs_grid": (
            "Một ảnh dạng mảng cần có transform= và crs= (lưới và hệ tọa độ của ảnh).",
            "An array image needs transform= and crs=.",
        ),
        "error.crs.image_too_poor": (
            "Ảnh có quá ít điểm ảnh hợp lệ (hoặc không đủ tương phản) để căn chỉnh thửa đất: "
            "hãy chọn ngày ảnh ít mây hơn.",
            "The image has too few valid pixels (or no contrast) to align parcels: choose a "
            "clearer date.",
        ),
        "crs.offset_ok": (
            "Dữ liệu lệch {distance} m so với {what}: không có độ lệch hệ thống.",
            "The data sit {distance} m from the {what}: no systematic shift.",
        ),
        "crs.offset_local": (
            "Hệ tọa độ (CRS) của dữ liệu là VN-2000 'địa phương': dữ liệu lệch {distance} m "
            "(dx {dx} m, dy {dy} m) so với {what}, đúng như một tệp VN-2000 'địa phương' ở "
            "đây (dx {ex} m, dy {ey} m): tọa độ được chiếu mà không có phép chuyển datum "
            "VN-2000. Hãy xuất lại từ nguồn với tham số VN-2000 quốc gia, hoặc dịch đi "
            "({sx}, {sy}) m.",
            "The coordinate reference system (CRS) of the data is 'local' VN-2000: they are "
            "shifted {distance} m (dx {dx} m, dy {dy} m) from the {what}, as a 'local' "
            "VN-2000 file is here (dx {ex} m, dy {ey} m): the coordinates were projected "
            "without the VN-2000 datum shift. Re-export from the source with the national "
            "VN-2000 parameters, or shift by ({sx}, {sy}) m.",
        ),
        "crs.offset_unexplained": (
            "Dữ liệu lệch {distance} m (dx {dx} m, dy {dy} m) so với {what}; một tệp VN-2000 "
            "'địa phương' sẽ lệch {local} m ở đây. Kiểm tra múi chiếu (kinh tuyến trục) của "
            "hệ tọa độ (CRS) và {what}.",
            "The data are shifted {distance} m (dx {dx} m, dy {dy} m) from the {what}; a "
            "local VN-2000 file would be {local} m off here. Check the zone (central "
            "meridian) of the coordinate reference system (CRS) and the {what}.",
        ),
        "crs.what.reference": ("dữ liệu tham chiếu", "reference"),
        "crs.what.imagery": ("ảnh vệ tinh", "imagery"),
        "warning.crs.local_vn2000": (
            "Thửa đất '{where}': {diagnosis} Các thửa đất đã được dịch về VN-2000 chuẩn cho "
            "lần chạy này ({east} m về phía đông, {north} m về phía bắc).",
            "Parcels '{where}': {diagnosis} The parcels were moved onto true VN-2000 for this "
            "run ({east} m east, {north} m north).",
        ),
    }
)

__all__ = [
    "EPSG_VN2000_GEOGRAPHIC",
    "EPSG_VN2000_TO_WGS84",
    "TOWGS84_POSITION_VECTOR",
    "ProvinceZone",
    "provinces",
    "province_zone",
    "province_zones",
    "vn2000_tm3",
    "vn2000_utm",
    "is_vn2000",
    "wgs84_transformer",
    "to_wgs84",
    "check_towgs84",
    "local_vn2000_offset",
    "lacks_datum_shift",
    "alignment_from_imagery",
    "repair_local_vn2000",
    "align_to_imagery",
    "suggest_crs",
    "check_coordinates",
    "OffsetDiagnosis",
    "diagnose_offset",
    "estimate_shift",
    "check_alignment",
]

EPSG_VN2000_GEOGRAPHIC = 4756
EPSG_VN2000_TO_WGS84 = 6960
#: EPSG:6960 as a PROJ ``+towgs84`` (position-vector convention: rotation signs flipped
#: from the EPSG coordinate-frame parameters).
TOWGS84_POSITION_VECTOR = (
    -191.90441429,
    -39.30318279,
    -111.45032835,
    0.00928836,
    -0.01975479,
    0.00427372,
    0.252906278,
)
_HELMERT_6960 = (
    "+proj=helmert +x=-191.90441429 +y=-39.30318279 +z=-111.45032835 "
    "+rx=-0.00928836 +ry=0.01975479 +rz=-0.00427372 +s=0.252906278 "
    "+convention=coordinate_frame"
)
_UTM = {48: 3405, 49: 3406}
# Vietnam's extent (EPSG:4756 area of use, with a margin)
_VN_LON = (101.5, 110.0)
_VN_LAT = (8.0, 23.6)


def _data_text(name: str) -> str:
    return resources.files("ntmgis").joinpath("data", name).read_text(encoding="utf-8")


def _key(name: str) -> str:
    """Compare province names without diacritics, case, spaces, hyphens or a prefix."""
    text = fold(name)
    text = re.sub(r"^(tinh|thanh pho|tp\.?)\s+", "", text)
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass(frozen=True)
class ProvinceZone:
    """The VN-2000 3-degree cadastral zone of one (pre-2025) province.

    Attributes
    ----------
    province : str
        The province name, as in the table (with diacritics).
    central_meridian : float
        Central meridian in degrees east.
    epsg : int
        EPSG code of the VN-2000 / TM-3 zone.
    """

    province: str
    central_meridian: float
    epsg: int

    @property
    def crs(self):
        """The zone as a :class:`pyproj.CRS`."""
        import pyproj

        return pyproj.CRS.from_epsg(self.epsg)

    def __str__(self) -> str:
        return f"{self.province}: central meridian {self.central_meridian:g}°, EPSG:{self.epsg}"


@functools.lru_cache(maxsize=1)
def _table():
    from io import StringIO

    import pandas as pd

    return pd.read_csv(StringIO(_data_text("vn2000_provincial_meridians_pre2025.csv")), comment="#")


@functools.lru_cache(maxsize=1)
def _merger():
    from io import StringIO

    import pandas as pd

    return pd.read_csv(StringIO(_data_text("vn_provinces_2025.csv")), comment="#")


def provinces():
    """The 63 pre-2025 provinces with their zone and their 2025 province.

    Returns
    -------
    pandas.DataFrame
        Columns ``province_vn``, ``central_meridian_deg``, ``epsg``, ``province_2025``.
    """
    table = _table().copy()
    merger = _merger()
    to_2025 = {_key(a): b for a, b in zip(merger["former_province"], merger["province_2025"])}
    table["province_2025"] = [to_2025.get(_key(n)) for n in table["province_vn"]]
    return table


def _row_zone(row) -> ProvinceZone:
    return ProvinceZone(
        str(row["province_vn"]), float(row["central_meridian_deg"]), int(row["epsg"])
    )


def province_zones(name: str) -> list[ProvinceZone]:
    """The zones a province of the 2025 reform spans, one per former province.

    Parameters
    ----------
    name : str
        A 2025 province (34 units) or a pre-2025 province, with or without diacritics.

    Returns
    -------
    list of ProvinceZone
        One entry per former province it holds (a pre-2025 name gives itself).

    Raises
    ------
    CRSError
        When the name is no province of either list.
    """
    table = _table()
    merger = _merger()
    key = _key(name)
    former = [
        f for p, f in zip(merger["province_2025"], merger["former_province"]) if _key(p) == key
    ]
    if not former:
        former = [n for n in table["province_vn"] if _key(n) == key]
    if not former:
        names = ", ".join(sorted(table["province_vn"]))
        raise CRSError(_say("error.crs.unknown_province", name=name, names=names))
    keys = {_key(f) for f in former}
    return [_row_zone(row) for _, row in table.iterrows() if _key(row["province_vn"]) in keys]


def province_zone(name: str, *, post_2025: bool = False) -> ProvinceZone:
    """The VN-2000 3-degree cadastral zone of a province.

    Parameters
    ----------
    name : str
        Province name with or without diacritics, case or the "Tỉnh"/"Thành phố" prefix
        ("Hà Tĩnh", "ha tinh", "TP Hồ Chí Minh"). Read as one of the 63 provinces before
        the 2025 merger, in which cadastral maps were drawn.
    post_2025 : bool, optional
        Read ``name`` as one of the 34 provinces after the 2025 merger instead. One that
        spans several zones raises :class:`CRSError` listing them.

    Returns
    -------
    ProvinceZone
        Province, central meridian and EPSG code.

    Raises
    ------
    CRSError
        For an unknown name, or a merged province whose former provinces use different
        zones (the message lists them: pass the former province's name).

    Examples
    --------
    >>> province_zone("Ha Tinh").epsg
    9209
    """
    if not post_2025:
        table = _table()
        hit = table[[_key(n) == _key(name) for n in table["province_vn"]]]
        if len(hit):
            return _row_zone(hit.iloc[0])
        # not a pre-2025 name (e.g. "Huế"): try the 2025 list
    zones = province_zones(name)
    meridians = {z.central_meridian for z in zones}
    if len(meridians) == 1:
        zone = zones[0]
        return ProvinceZone(zone.province, zone.central_meridian, zone.epsg)
    listed = "; ".join(str(z) for z in zones)
    raise CRSError(
        _say("error.crs.merged_province", name=name, listed=listed, example=zones[0].province)
    )


def vn2000_tm3(central_meridian: float):
    """The VN-2000 3-degree TM CRS for a central meridian (EPSG code when one exists).

    Parameters
    ----------
    central_meridian : float
        Degrees east (e.g. 105.5).

    Returns
    -------
    pyproj.CRS
        The CRS (k = 0.9999, false easting 500 000 m, VN-2000 datum).
    """
    import pyproj

    table = _table()
    hit = table[np.isclose(table["central_meridian_deg"], central_meridian)]
    if len(hit):
        return pyproj.CRS.from_epsg(int(hit.iloc[0]["epsg"]))
    return pyproj.CRS.from_json_dict(
        {
            "$schema": "https://proj.org/schemas/v0.7/projjson.schema.json",
            "type": "ProjectedCRS",
            "name": f"VN-2000 / TM-3 {central_meridian:g}",
            "base_crs": pyproj.CRS.from_epsg(EPSG_VN2000_GEOGRAPHIC).to_json_dict(),
            "conversion": {
                "name": f"TM-3 {central_meridian:g}",
                "method": {
                    "name": "Transverse Mercator",
                    "id": {"authority": "EPSG", "code": 9807},
                },
                "parameters": [
                    {"name": "Latitude of natural origin", "value": 0, "unit": "degree"},
                    {
                        "name": "Longitude of natural origin",
                        "value": central_meridian,
                        "unit": "degree",
                    },
                    {"name": "Scale factor at natural origin", "value": 0.9999, "unit": "unity"},
                    {"name": "False easting", "value": 500000, "unit": "metre"},
                    {"name": "False northing", "value": 0, "unit": "metre"},
                ],
            },
            "coordinate_system": pyproj.CRS.from_epsg(9209).to_json_dict()["coordinate_system"],
        }
    )


def vn2000_utm(zone: int):
    """VN-2000 / UTM zone 48N (EPSG:3405) or 49N (EPSG:3406).

    Parameters
    ----------
    zone : int
        48 or 49.

    Returns
    -------
    pyproj.CRS
        The CRS.
    """
    import pyproj

    if zone not in _UTM:
        raise CRSError(_say("error.crs.utm_zone", zone=zone))
    return pyproj.CRS.from_epsg(_UTM[zone])


def is_vn2000(crs) -> bool:
    """True when ``crs`` is based on the VN-2000 datum (geographic or projected).

    Parameters
    ----------
    crs : object
        Anything :class:`pyproj.CRS` accepts, or None.

    Returns
    -------
    bool
        Whether the datum is "Vietnam 2000".
    """
    import pyproj

    if crs is None:
        return False
    crs = pyproj.CRS.from_user_input(crs)
    datum = crs.datum
    return datum is not None and "vietnam 2000" in datum.name.lower()


def wgs84_transformer(crs_from, crs_to="EPSG:4326"):
    """A transformer between a VN-2000 CRS and a WGS 84 one, through EPSG:6960.

    Parameters
    ----------
    crs_from, crs_to : object
        CRSs (anything :class:`pyproj.CRS` accepts); one on VN-2000, the other on
        WGS 84 (geographic, UTM...). Axis order is always x/y (lon/lat, easting/northing).

    Returns
    -------
    pyproj.Transformer
        A transformer whose pipeline is EPSG:6960 ("VN-2000 to WGS 84 (2)"), whatever
        PROJ would have chosen by area.

    Raises
    ------
    CRSError
        When neither CRS is on VN-2000, or PROJ's database lacks EPSG:6960.
    """
    import pyproj

    return _wgs84_transformer(pyproj.CRS.from_user_input(crs_from),
                              pyproj.CRS.from_user_input(crs_to))  # fmt: skip


@functools.lru_cache(maxsize=16)
def _wgs84_transformer(crs_from, crs_to):
    """:func:`wgs84_transformer` for two CRS objects, made once a pair (~25 ms each).

    A pyproj Transformer may be shared between threads (each gets its own PROJ context).
    """
    import pyproj
    from pyproj.transformer import TransformerGroup

    if not (is_vn2000(crs_from) or is_vn2000(crs_to)):
        raise CRSError(_say("error.crs.not_vn2000_pair", a=crs_from.name, b=crs_to.name))
    if is_vn2000(crs_from) and is_vn2000(crs_to):
        return pyproj.Transformer.from_crs(crs_from, crs_to, always_xy=True)
    group = TransformerGroup(crs_from, crs_to, always_xy=True)
    for transformer in group.transformers:
        text = transformer.to_proj4() or ""
        if "+x=-191.90441429" in text and "+rx=-0.00928836" in text:
            return transformer
    raise CRSError(_say("error.crs.no_epsg6960", a=crs_from.name, b=crs_to.name))


def to_wgs84(x, y, *, crs):
    """Transform VN-2000 coordinates to WGS 84 longitude/latitude through EPSG:6960.

    Parameters
    ----------
    x, y : array_like
        Easting and northing (or longitude and latitude for EPSG:4756). Cadastral files
        write X for the northing: pass the easting as ``x``.
    crs : object
        The VN-2000 CRS of the coordinates.

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS 84 degrees.

    Examples
    --------
    The published test vector (TM-3 108°15', webgis-vinhlong/VN2000):

    >>> lon, lat = to_wgs84(568262.924, 1255172.51, crs="EPSG:9217")
    >>> round(float(lon), 7), round(float(lat), 7)
    (108.8772011, 11.349358)
    """
    transformer = wgs84_transformer(crs, "EPSG:4326")
    lon, lat = transformer.transform(np.asarray(x, dtype=float), np.asarray(y, dtype=float))
    return np.asarray(lon), np.asarray(lat)


def check_towgs84(crs) -> str | None:
    """Spot the sign trap in a VN-2000 ``+towgs84``: rotations of the wrong convention.

    Parameters
    ----------
    crs : object
        A CRS (a proj string, WKT, pyproj.CRS) that may carry ``+towgs84``/``TOWGS84``.

    Returns
    -------
    str or None
        A message when the seven parameters are EPSG:6960's with the rotation signs of
        the coordinate-frame convention (about 0.5 m wrong as ``+towgs84``), or when they
        are not EPSG:6960's at all; None when they are right or absent.
    """
    import pyproj

    crs = pyproj.CRS.from_user_input(crs)
    params = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            text = crs.to_proj4() or ""
    except Exception:  # noqa: BLE001 - some CRSs have no proj4 form
        text = ""
    match = re.search(r"\+towgs84=([-0-9.,eE+]+)", text)
    if match:
        params = [float(v) for v in match.group(1).split(",")]
    if params is None or len(params) != 7:
        return None
    right = np.array(TOWGS84_POSITION_VECTOR)
    values = np.array(params)
    if np.allclose(values, right, atol=1e-6):
        return None
    flipped = right.copy()
    flipped[3:6] *= -1
    if np.allclose(values, flipped, atol=1e-6):
        return (
            "This CRS's +towgs84 has EPSG:6960's rotations with the coordinate-frame signs: "
            "as +towgs84 (position vector) they must be flipped "
            f"(+towgs84={','.join(repr(float(v)) for v in right)}). The result is about 0.5 m off; "
            "use ntmgis.crs.wgs84_transformer, which names EPSG:6960."
        )
    return (
        f"This CRS's +towgs84 ({match.group(1)}) is not EPSG:6960's; check where it came "
        "from (use ntmgis.crs.wgs84_transformer for the national transformation)."
    )


def local_vn2000_offset(lon: float, lat: float, *, crs) -> tuple[float, float]:
    """Where a "local" VN-2000 file (projected without the datum shift) lands, in metres.

    A file made by projecting WGS 84 coordinates straight into a VN-2000 zone (often
    named "VN2000 nội bộ") but labelled VN-2000 ends up displaced by this vector
    once transformed properly: about 225 m in northern Vietnam.

    Parameters
    ----------
    lon, lat : float
        A WGS 84 location (the commune).
    crs : object
        The VN-2000 projected CRS of the file.

    Returns
    -------
    dx, dy : float
        Offset of the local coordinates from the true VN-2000 ones (easting, northing).
    """
    import pyproj

    crs = pyproj.CRS.from_user_input(crs)
    true_e, true_n = wgs84_transformer("EPSG:4326", crs).transform(lon, lat)
    local_e, local_n = _local_transformer(crs).transform(lon, lat)
    return float(local_e - true_e), float(local_n - true_n)


@functools.lru_cache(maxsize=16)
def _local_transformer(crs):
    """WGS 84 straight into ``crs``'s projection without its datum shift (made once a CRS)."""
    import pyproj

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "lose projection information"
        text = crs.to_proj4()
    local = pyproj.CRS.from_proj4(re.sub(r"\+towgs84=\S+", "", text).replace("+type=crs", ""))
    return pyproj.Transformer.from_crs("EPSG:4326", local, always_xy=True)


@functools.lru_cache(maxsize=1)
def _province_shapes():
    import shapely

    data = json.loads(_data_text("vn_provinces_2009_simplified.geojson"))
    names = [f["properties"]["province"] for f in data["features"]]
    shapes = [shapely.geometry.shape(f["geometry"]) for f in data["features"]]
    return names, shapes


def _province_at(lon: float, lat: float) -> str | None:
    import shapely

    names, shapes = _province_shapes()
    point = shapely.Point(lon, lat)
    for name, shape in zip(names, shapes):
        if shape.contains(point):
            return name
    best = min(range(len(shapes)), key=lambda i: shapes[i].distance(point))
    return names[best] if shapes[best].distance(point) < 0.05 else None


def _looks_like_degrees(bounds) -> bool:
    minx, miny, maxx, maxy = bounds
    return -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90


def suggest_crs(bounds, *, province: str | None = None, place: str | None = None) -> list[dict]:
    """Suggest CRSs for coordinates that came without one.

    Parameters
    ----------
    bounds : sequence of float
        ``(minx, miny, maxx, maxy)`` of the data.
    province : str, optional
        The province (pre-2025 or 2025 name): its zone(s) come first.
    place : str, optional
        Free text naming the place (a commune title such as "Xã Thanh Bình, huyện Thạch
        Hà, tỉnh Hà Tĩnh"); a province named in it is used like ``province``.

    Returns
    -------
    list of dict
        Best first; each has ``epsg``, ``name``, ``lon``/``lat`` (where the data's centre
        lands with that CRS), ``province`` (the province there) and ``reason``.
    """
    import pyproj

    minx, miny, maxx, maxy = (float(v) for v in bounds)
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    wanted: dict[int, str] = {}
    if province is None and place:
        folded = _key(place)
        for name in sorted(_table()["province_vn"], key=len, reverse=True):
            if _key(name) and _key(name) in folded:
                province = name
                break
    if province is not None:
        for zone in province_zones(province):
            wanted.setdefault(zone.epsg, zone.province)
    out: list[dict] = []
    if _looks_like_degrees((minx, miny, maxx, maxy)):
        lon, lat = cx, cy
        where = _province_at(lon, lat) if _VN_LON[0] <= lon <= _VN_LON[1] else None
        for epsg, reason in (
            (EPSG_VN2000_GEOGRAPHIC, "the coordinates are degrees (VN-2000 geographic)"),
            (4326, "the coordinates are degrees (WGS 84, e.g. from a GPS or a web map)"),
        ):
            out.append(
                {
                    "epsg": epsg,
                    "name": pyproj.CRS.from_epsg(epsg).name,
                    "lon": lon,
                    "lat": lat,
                    "province": where,
                    "reason": reason,
                }
            )
        return out
    swapped = cx > 800_000 and cy < 1_000_000
    if swapped:
        cx, cy = cy, cx
    candidates = [int(e) for e in dict.fromkeys(_table()["epsg"])] + list(_UTM.values())
    for epsg in candidates:
        crs = pyproj.CRS.from_epsg(epsg)
        lon, lat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(
            cx, cy
        )
        if not (_VN_LON[0] <= lon <= _VN_LON[1] and _VN_LAT[0] <= lat <= _VN_LAT[1]):
            continue
        where = _province_at(lon, lat)
        zone_of_place = province_zone(where).epsg if where else None
        reasons = []
        rank = 3
        if epsg in wanted:
            reasons.append(f"the zone of {wanted[epsg]}")
            rank = 0
        if zone_of_place == epsg:
            reasons.append(f"read in this zone the data fall in {where}, whose zone it is")
            rank = min(rank, 1)
        if epsg in _UTM.values():
            reasons.append("VN-2000 UTM (used by some national datasets)")
            rank = min(rank, 2)
        if not reasons:
            continue
        if swapped:
            reasons.append("X and Y are swapped in the file (X is the northing)")
        out.append(
            {
                "epsg": epsg,
                "name": crs.name,
                "lon": lon,
                "lat": lat,
                "province": where,
                "reason": "; ".join(reasons),
                "_rank": rank,
            }
        )
    out.sort(key=lambda d: d["_rank"])
    for d in out:
        d.pop("_rank")
    return out


def check_coordinates(
    bounds, crs, *, source: str = "data", province: str | None = None, place: str | None = None
) -> None:
    """Raise a clear :class:`CRSError` when a layer's CRS cannot be right.

    Parameters
    ----------
    bounds : sequence of float
        ``(minx, miny, maxx, maxy)`` of the layer.
    crs : object or None
        The CRS the layer declares.
    source : str, optional
        The file name, for messages.
    province, place : str, optional
        Where the data are, to suggest a zone when the CRS is missing.

    Raises
    ------
    CRSError
        No CRS (with suggestions), degrees under a projected CRS, X/Y swapped, or
        coordinates outside Vietnam for a VN-2000 CRS.
    """
    import pyproj

    bounds = tuple(float(v) for v in bounds)
    if any(not np.isfinite(v) for v in bounds):
        return  # no geometry to check
    if crs is None:
        tips = suggest_crs(bounds, province=province, place=place)
        listed = "; ".join(f"EPSG:{t['epsg']} ({t['name']}: {t['reason']})" for t in tips[:4])
        likely = Text("error.crs.likely", listed=listed) if listed else ""
        raise CRSError(_say("error.crs.no_crs", source=source, likely=likely))
    crs = pyproj.CRS.from_user_input(crs)
    if crs.is_geographic:
        minx, miny, maxx, maxy = bounds
        if _VN_LAT[0] <= minx <= maxx <= _VN_LAT[1] and _VN_LON[0] <= miny <= maxy <= _VN_LON[1]:
            raise CRSError(_say("error.crs.lonlat_swapped", source=source, crs=crs.name,
                                x=f"{minx:.4f}..{maxx:.4f}",
                                y=f"{miny:.4f}..{maxy:.4f}"))  # fmt: skip
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            box = f"{minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f}"
            raise CRSError(_say("error.crs.not_degrees", source=source, crs=crs.name, bounds=box))
    if crs.is_projected and _looks_like_degrees(bounds):
        raise CRSError(_say("error.crs.degrees", source=source, crs=crs.name,
                            epsg=crs.to_epsg(), x=f"{bounds[0]:.5f}..{bounds[2]:.5f}",
                            y=f"{bounds[1]:.5f}..{bounds[3]:.5f}"))  # fmt: skip
    if crs.is_projected and is_vn2000(crs):
        minx, miny, maxx, maxy = bounds
        if minx > 800_000 and maxy < 1_000_000 and miny > 0:
            raise CRSError(_say("error.crs.xy_swapped", source=source, crs=crs.name,
                                x=f"{minx:.0f}..{maxx:.0f}",
                                y=f"{miny:.0f}..{maxy:.0f}"))  # fmt: skip
        if not (0 <= minx and maxx <= 1_000_000 and 800_000 <= miny and maxy <= 2_700_000):
            box = f"{minx:.0f}, {miny:.0f}, {maxx:.0f}, {maxy:.0f}"
            raise CRSError(
                _say("error.crs.outside_vietnam", source=source, crs=crs.name, bounds=box)
            )


@dataclass
class OffsetDiagnosis:
    """What a systematic shift between data and a reference means.

    Attributes
    ----------
    dx, dy : float
        Median shift of the data from the reference, metres (easting, northing).
    distance : float
        Its length, metres.
    expected_local : tuple of float
        The shift a "local" VN-2000 file (no datum shift) would show here.
    verdict : str
        ``"ok"`` (within ``tolerance``), ``"local_vn2000"`` (matches the expected local
        shift) or ``"unexplained"``.
    message : str
        A readable explanation with what to do.
    """

    dx: float
    dy: float
    distance: float
    expected_local: tuple[float, float]
    verdict: str
    message: str

    def __str__(self) -> str:
        return self.message


def diagnose_offset(data, reference, *, tolerance: float = 20.0) -> OffsetDiagnosis:
    """Tell from matched features whether a VN-2000 file is "local" (about 225 m off).

    Parameters
    ----------
    data : geopandas.GeoSeries or GeoDataFrame
        Features of the file under test (e.g. a few parcels), in its VN-2000 projected
        CRS.
    reference : geopandas.GeoSeries or GeoDataFrame
        The same features where imagery shows them (digitised on Sentinel-2 or an
        orthophoto), in any CRS; matched to ``data`` by index.
    tolerance : float, optional
        Metres within which a shift counts as none, or as the expected local shift.

    Returns
    -------
    OffsetDiagnosis
        The median shift and what it means.

    Raises
    ------
    CRSError
        When ``data`` has no projected VN-2000 CRS or no feature matches.
    """
    data_geom = getattr(data, "geometry", data)
    ref_geom = getattr(reference, "geometry", reference)
    crs = data_geom.crs
    if crs is None or not crs.is_projected or not is_vn2000(crs):
        raise CRSError(_say("error.crs.needs_projected_vn2000", task="diagnose_offset",
                            crs=repr(getattr(crs, "name", None))))  # fmt: skip
    if ref_geom.crs is None:
        raise CRSError(_say("error.crs.reference_no_crs"))
    common = data_geom.index.intersection(ref_geom.index)
    if len(common) == 0:
        raise CRSError(_say("error.crs.no_common_index"))
    ref = ref_geom.loc[common]
    if is_vn2000(ref.crs) or ref.crs.equals(crs):
        ref_xy = ref.to_crs(crs)
    else:
        transformer = wgs84_transformer(ref.crs, crs)
        pts = ref.centroid if ref.crs.is_projected else ref.representative_point()
        x, y = transformer.transform(pts.x.to_numpy(), pts.y.to_numpy())
        import geopandas as gpd

        ref_xy = gpd.GeoSeries(gpd.points_from_xy(x, y), index=common, crs=crs)
    a = data_geom.loc[common].centroid
    b = ref_xy.centroid
    dx = float(np.median(a.x.to_numpy() - b.x.to_numpy()))
    dy = float(np.median(a.y.to_numpy() - b.y.to_numpy()))
    import pyproj

    centre = a.union_all().centroid
    lon, lat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(
        centre.x, centre.y
    )
    return _diagnose(dx, dy, lon, lat, crs, tolerance)


def _diagnose(dx, dy, lon, lat, crs, tolerance, *, what="reference") -> OffsetDiagnosis:
    from .i18n import message as _message

    distance = float(np.hypot(dx, dy))
    ex, ey = local_vn2000_offset(lon, lat, crs=crs)
    shift = {"distance": f"{distance:.0f}", "dx": f"{dx:+.0f}", "dy": f"{dy:+.0f}",
             "what": Text(f"crs.what.{what}")}  # fmt: skip
    if distance <= tolerance:
        verdict = "ok"
        text = _message("crs.offset_ok", **{**shift, "distance": f"{distance:.1f}"})
    elif np.hypot(dx - ex, dy - ey) <= tolerance:
        verdict = "local_vn2000"
        text = _message("crs.offset_local", ex=f"{ex:+.0f}", ey=f"{ey:+.0f}",
                        sx=f"{-ex:+.1f}", sy=f"{-ey:+.1f}", **shift)  # fmt: skip
    else:
        verdict = "unexplained"
        text = _message("crs.offset_unexplained", local=f"{np.hypot(ex, ey):.0f}", **shift)
    return OffsetDiagnosis(float(dx), float(dy), distance, (ex, ey), verdict, text)


def _to_crs(geoms, crs):
    """GeoSeries to ``crs``, through EPSG:6960 between VN-2000 and WGS 84."""
    import shapely

    if geoms.crs is None or geoms.crs.equals(crs):
        return geoms.set_crs(crs, allow_override=True)
    if is_vn2000(geoms.crs) != is_vn2000(crs):
        transformer = wgs84_transformer(geoms.crs, crs)
        moved = shapely.transform(
            geoms.to_numpy(),
            lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])),
        )
        import geopandas as gpd

        return gpd.GeoSeries(moved, index=geoms.index, crs=crs)
    return geoms.to_crs(crs)


def _erode_along(mask: np.ndarray, axis: int) -> np.ndarray:
    """True where ``mask`` and both its neighbours along ``axis`` are True."""
    out = mask.copy()
    if axis == 1:
        out[:, 1:] &= mask[:, :-1]
        out[:, :-1] &= mask[:, 1:]
        out[:, [0, -1]] = False
    else:
        out[1:, :] &= mask[:-1, :]
        out[:-1, :] &= mask[1:, :]
        out[[0, -1], :] = False
    return out


def _shift_sums(pairs, mask_shape, out_shape) -> np.ndarray:
    """``sum(fftconvolve(mask, image[::-1, ::-1], "valid"))`` over ``pairs``, by one FFT size.

    Every pair's valid correlation has ``out_shape`` (the shifts searched); each mask
    is at most ``mask_shape``. A circular correlation of period ``N >= mask_shape``
    holds the valid one uncorrupted in its first ``out_shape`` cells, so every operand
    is transformed at the mask's size (not the mask's plus the image's, as
    :func:`scipy.signal.fftconvolve` does: a third of the points) and, correlation
    being linear, the pairs' spectra are summed before one inverse transform. The
    result equals the sum of ``fftconvolve``'s to rounding (about 1e-12 of its values),
    clipped at 0 (a sum of products of non-negative numbers).
    """
    from scipy import fft as sp_fft

    fshape = [sp_fft.next_fast_len(int(n), True) for n in mask_shape]
    total = None
    for mask, image in pairs:
        if not (mask.size and image.size):
            continue
        spectrum = sp_fft.rfftn(mask.astype("float64"), fshape, axes=[0, 1])
        spectrum *= np.conj(sp_fft.rfftn(image, fshape, axes=[0, 1]))
        total = spectrum if total is None else total + spectrum
    if total is None:
        return np.zeros(out_shape)
    out = sp_fft.irfftn(total, fshape, axes=[0, 1])[: out_shape[0], : out_shape[1]]
    return np.maximum(out, 0.0)


def estimate_shift(
    parcels,
    image,
    *,
    transform=None,
    crs=None,
    band: int = 1,
    max_shift: float = 300.0,
) -> dict:
    """Find the shift that best lines the parcels up with an image of the same place.

    Parcels differ from one another on imagery (a garden, a rice field, a pond), so when
    they sit where the image shows them, the image changes across their boundaries and
    little inside them. The parcels are rasterised once onto the image grid and slid by
    whole pixels up to ``max_shift`` in every direction; the shift with the strongest
    edge contrast is the data's offset. A smooth or noisy area scores about 1 whatever
    the shift, so the search is not fooled by the land around the commune.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame or GeoSeries
        Parcels with a CRS (any; moved to the image's, through EPSG:6960 for VN-2000).
    image : str, os.PathLike, rasterio dataset or numpy.ndarray
        One band of an index or reflectance (e.g. NDVI) where the parcels are;
        NaN or the dataset's nodata are ignored.
    transform, crs : optional
        The affine transform and CRS of an array ``image``.
    band : int, optional
        Band of a raster file or dataset.
    max_shift : float, optional
        Largest shift searched, in metres.

    Returns
    -------
    dict
        ``dx``, ``dy``: the parcels' offset from where the image shows them (metres,
        image CRS axes); ``score``: the edge contrast at that shift (mean squared
        difference of neighbouring pixels across parcel boundaries over that inside
        parcels; about 1 when parcels and image are unrelated); ``score_at_zero``: the
        same unshifted;
        ``pixel``: the pixel size (the precision).
    """
    from rasterio import features

    from . import _io
    from .imagery import _polygon_shapes

    if isinstance(image, np.ndarray):
        if transform is None or crs is None:
            raise CRSError(_say("error.crs.array_needs_grid"))
        values = np.asarray(image, dtype="float64")
        img_crs = crs
    else:
        with _io.open_raster(image) as dataset:
            values = dataset.read(band, masked=True).astype("float64").filled(np.nan)
            transform, img_crs = dataset.transform, dataset.crs
    import pyproj

    img_crs = pyproj.CRS.from_user_input(img_crs)
    geoms = _to_crs(getattr(parcels, "geometry", parcels), img_crs)
    ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
    # each parcel burnt with its number (1, 2, ...), its parts as GeoJSON-like polygons
    # built in bulk (the same pixels as each shape's __geo_interface__)
    shapes, part_of = _polygon_shapes(geoms.to_numpy()[ok], return_index=True)
    numbers = (np.flatnonzero(ok)[part_of] + 1).tolist()
    shapes = list(zip(shapes, numbers))
    pixel = float(abs(transform.a))
    reach = int(np.ceil(max_shift / pixel))
    height, width = values.shape
    # labels on a grid larger by `reach` pixels on every side, so that every shift pairs
    # every image pixel with a label (0 = no parcel): the same pixels are compared
    from affine import Affine

    labels = features.rasterize(
        shapes,
        out_shape=(height + 2 * reach, width + 2 * reach),
        transform=transform @ Affine.translation(-reach, -reach),
        fill=0,
        dtype="int32",
    )
    # squared differences between neighbouring pixels, across and along the rows
    diff_h = (values[:, 1:] - values[:, :-1]) ** 2
    diff_v = (values[1:, :] - values[:-1, :]) ** 2
    ok_h, ok_v = np.isfinite(diff_h), np.isfinite(diff_v)
    if ok_h.sum() + ok_v.sum() < 10 or np.nanmax(diff_h) == 0:
        raise CRSError(_say("error.crs.image_too_poor"))
    diff_h, diff_v = np.where(ok_h, diff_h, 0.0), np.where(ok_v, diff_v, 0.0)

    # For every shift at once (FFT correlations): labels moved by (sx, sy) pixels put
    # label[r - sy, c - sx] on image[r, c]. Aligned parcels put the image's edges on
    # their boundaries: neighbouring pixels differ much more across a boundary than
    # inside a parcel.
    masks = ([], [])  # per axis: (same, cross)
    for a, b in ((labels[:, 1:], labels[:, :-1]), (labels[1:, :], labels[:-1, :])):
        # "inside" pairs: both pixels and their neighbours along the pair carry one
        # label, so half a pixel of misregistration does not mix them
        same = (a == b) & (a > 0)
        masks[0].append(_erode_along(same, axis=1 if a.shape[0] == labels.shape[0] else 0))
        masks[1].append((a != b) & ((a > 0) | (b > 0)))
    images = ((diff_h, diff_v), (ok_h.astype("float64"), ok_v.astype("float64")))
    out_shape = (2 * reach + 1, 2 * reach + 1)
    sums, counts = (
        np.stack([_shift_sums(zip(masks[k], im), labels.shape, out_shape) for k in (0, 1)])
        for im in images
    )
    counts = np.round(counts)
    with np.errstate(divide="ignore", invalid="ignore"):
        grid = (sums[1] / counts[1]) / (sums[0] / counts[0])
    grid[(counts.min(axis=0) < 10) | ~np.isfinite(grid)] = -np.inf
    # grid[i, j] is the shift sy = reach - i, sx = reach - j
    i, j = np.unravel_index(int(np.argmax(grid)), grid.shape)
    best = (float(grid[i, j]), reach - int(j), reach - int(i))
    at_zero = float(grid[reach, reach])
    value, sx, sy = best
    # labels moved by +sx columns (east) and +sy rows (south, for a north-up image) line
    # up: the data sit at -sx, +sy pixels from the truth
    dx = -sx * transform.a
    dy = -sy * transform.e
    return {"dx": float(dx), "dy": float(dy), "score": float(value),
            "score_at_zero": at_zero, "pixel": pixel}  # fmt: skip


def check_alignment(parcels, image, *, tolerance: float = 20.0, **kwargs) -> OffsetDiagnosis:
    """Tell whether VN-2000 parcels sit where imagery shows them, or are "local" VN-2000.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        Parcels in a projected VN-2000 CRS.
    image : str, os.PathLike, rasterio dataset or numpy.ndarray
        An image of the commune (e.g. NDVI of a clear Sentinel-2 date); see
        :func:`estimate_shift`.
    tolerance : float, optional
        Metres within which a shift counts as none, or as the local VN-2000 one; at
        least the image's pixel size is used.
    **kwargs
        Passed to :func:`estimate_shift` (``transform``, ``crs``, ``band``,
        ``max_shift``).

    Returns
    -------
    OffsetDiagnosis
        ``verdict`` ``"ok"``, ``"local_vn2000"`` (about 225 m off: projected without
        the datum shift) or ``"unexplained"``, with a message saying what to do.

    Raises
    ------
    CRSError
        When the parcels are not in a projected VN-2000 CRS.
    """
    import pyproj

    crs = getattr(parcels, "crs", None)
    if crs is None or not crs.is_projected or not is_vn2000(crs):
        raise CRSError(_say("error.crs.needs_projected_vn2000", task="check_alignment",
                            crs=repr(getattr(crs, "name", None))))  # fmt: skip
    found = estimate_shift(parcels, image, **kwargs)
    cx, cy = _centre(parcels.geometry)
    lon, lat = pyproj.Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True).transform(cx, cy)
    result = _diagnose(found["dx"], found["dy"], lon, lat, crs, max(tolerance, found["pixel"]),
                       what="imagery")  # fmt: skip
    return result


def _centre(geoms) -> tuple[float, float]:
    """The parcels' centre: their area-weighted centroid (where the datum shift is taken).

    For parcels that do not overlap it is the centroid of their union, without the union
    (a tenth of a second a commune); the local shift it gives differs from the union's by
    under a nanometre. Without area (points, lines) the union's centroid.
    """
    import shapely

    g = np.asarray(geoms.to_numpy(), dtype=object)
    g = g[~(shapely.is_missing(g) | shapely.is_empty(g))]
    area = shapely.area(g)
    total = float(area.sum())
    if g.size and total > 0 and np.isfinite(total):
        centroids = shapely.centroid(g)
        x = float((area * shapely.get_x(centroids)).sum() / total)
        y = float((area * shapely.get_y(centroids)).sum() / total)
        if np.isfinite(x) and np.isfinite(y):
            return x, y
    centre = geoms.union_all().centroid
    return float(centre.x), float(centre.y)


def _source(parcels) -> str:
    """The parcels' file name (``read_parcels`` records it), for messages."""
    meta = getattr(parcels, "attrs", {}).get("ntmgis") or {}
    return str(meta.get("source", "") or "parcels")


def lacks_datum_shift(crs) -> bool:
    """True for a projected VN-2000 CRS that carries no datum shift (no TOWGS84).

    Such a ``.prj`` (an ESRI file written by MicroStation or an old converter) cannot say
    whether its coordinates were projected with the shift to WGS84 or without it (a
    "local" VN-2000 file, about 225 m off): only the imagery can (:func:`check_alignment`).
    EPSG-registered VN-2000 CRSs (EPSG:9209, 3405...) have a registered transformation and
    count as carrying the shift.

    Examples
    --------
    >>> lacks_datum_shift("EPSG:9209")
    False
    >>> lacks_datum_shift("+proj=tmerc +lon_0=105.5 +k=0.9999 +x_0=500000 +ellps=WGS84 +units=m")
    False
    """
    import pyproj

    if crs is None:
        return False
    crs = pyproj.CRS.from_user_input(crs)
    if not crs.is_projected or not is_vn2000(crs):
        return False
    if crs.to_epsg(min_confidence=90) is not None:
        return False
    text = crs.to_wkt("WKT1_GDAL")
    return "TOWGS84" not in text.upper()


def alignment_from_imagery(parcels, imagery, *, period=None, max_scenes: int = 4,
                           max_shift: float = 300.0, tolerance: float = 20.0):  # fmt: skip
    """Check a run's parcels against its own imagery for a "local" VN-2000 file.

    The clearest NDVI date among up to ``max_scenes`` scenes (spread over ``period``)
    is read over the parcels (plus ``max_shift``) and :func:`check_alignment` tells
    whether the parcels sit where the image shows them. A run calls this before the
    features, so that a "local" file (about 225 m off: abandoned flags double) is found
    and corrected instead of silently flagged.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        The run's parcels.
    imagery : scenes, folder or STAC file
        What :func:`ntmgis.imagery.find_scenes` accepts.
    period : str or tuple, optional
    max_scenes : int, default 4
    max_shift, tolerance : float
        See :func:`check_alignment`.

    Returns
    -------
    OffsetDiagnosis or None
        None when the parcels are not in a projected VN-2000 CRS, or the imagery gives no
        usable image (too cloudy, unreadable): then nothing can be said (logged).
    """
    import warnings

    from .errors import CancelledError, NtmgisError
    from .imagery import _keeping_reads, find_scenes, read_stacks

    crs = getattr(parcels, "crs", None)
    if crs is None or not crs.is_projected or not is_vn2000(crs):
        return None
    geoms = parcels.geometry[~(parcels.geometry.isna() | parcels.geometry.is_empty)]
    if geoms.empty:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            scenes = find_scenes(imagery, period=period, on_error="skip")
            if len(scenes) > max_scenes:
                step = len(scenes) / max_scenes
                scenes = [scenes[int(k * step)] for k in range(max_scenes)]
            with _keeping_reads():  # the features read these windows again: kept
                stacks = read_stacks(scenes, aoi=geoms, indices=["ndvi"],
                                     margin=max_shift + 20, on_error="skip")  # fmt: skip
        stack = stacks[0]
        clear = [int(np.isfinite(layer).sum()) for layer in stack.data]
        best = int(np.argmax(clear))
        if clear[best] < 100:
            logger.info("alignment check: no clear NDVI date over the parcels")
            return None
        return check_alignment(parcels, stack.data[best], transform=stack.transform,
                               crs=stack.crs, max_shift=max_shift, tolerance=tolerance)  # fmt: skip
    except CancelledError:
        raise
    except Exception as exc:  # an optional check: it never costs the run
        logger.info(
            "alignment check not possible: %s", exc, exc_info=not isinstance(exc, NtmgisError)
        )
        return None


def repair_local_vn2000(parcels, diagnosis):
    """Move "local" VN-2000 parcels onto true VN-2000 (undo the missing datum shift).

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
    diagnosis : OffsetDiagnosis
        With ``verdict == "local_vn2000"`` (from :func:`alignment_from_imagery` or
        :func:`check_alignment`); its ``expected_local`` shift (computed from the datum,
        not the estimate) is removed.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy, moved by ``-expected_local``.
    """
    if diagnosis is None or diagnosis.verdict != "local_vn2000":
        return parcels
    ex, ey = diagnosis.expected_local
    out = parcels.copy()
    out = out.set_geometry(out.geometry.translate(-ex, -ey))
    return out


def align_to_imagery(parcels, imagery, *, period=None) -> tuple:
    """A run's alignment step: find a "local" VN-2000 file from the imagery and undo it.

    Parameters
    ----------
    parcels : geopandas.GeoDataFrame
        The run's parcels (read by :func:`ntmgis.read_parcels`).
    imagery : scenes, folder or STAC file
    period : str or tuple, optional

    Returns
    -------
    parcels : geopandas.GeoDataFrame
        The parcels, moved onto true VN-2000 when they were "local" (each gets a note in
        ``parcel_notes``); the same object otherwise.
    metadata : dict
        ``alignment`` (``ok``, ``local_vn2000``, ``unexplained`` or ``not checked``) and
        ``alignment_shift_m`` (dx, dy), for ``run_metadata``.

    Warns
    -----
    ParcelWarning
        When the parcels were "local" VN-2000 (``what="warning.crs.local_vn2000"``,
        corrected) or sit off the imagery for no known reason
        (``what="warning.crs.misaligned"``, not corrected).
    """
    from .errors import ParcelWarning, warn

    diagnosis = alignment_from_imagery(parcels, imagery, period=period)
    if diagnosis is None:
        return parcels, {"alignment": "not checked"}
    meta = {
        "alignment": diagnosis.verdict,
        "alignment_shift_m": f"{diagnosis.dx:+.0f}, {diagnosis.dy:+.0f}",
    }
    if diagnosis.verdict == "local_vn2000":
        moved = repair_local_vn2000(parcels, diagnosis)
        ex, ey = diagnosis.expected_local
        note = f"moved {-ex:+.1f} m E, {-ey:+.1f} m N: the file was 'local' VN-2000"
        if "parcel_notes" in moved:
            moved["parcel_notes"] = [
                note if not isinstance(n, str) or not n else f"{n}; {note}"
                for n in moved["parcel_notes"]
            ]
        from .i18n import message

        text = message("warning.crs.local_vn2000", diagnosis=diagnosis.message,
                       east=f"{-ex:+.0f}", north=f"{-ey:+.0f}", where=_source(parcels))  # fmt: skip
        warn(text, ParcelWarning, where=_source(parcels), what="warning.crs.local_vn2000")
        return moved, meta
    if diagnosis.verdict == "unexplained":
        warn(f"'{_source(parcels)}': {diagnosis.message}", ParcelWarning,
             where=_source(parcels), what="warning.crs.misaligned")  # fmt: skip
    return parcels, meta
