"""Sentinel-2 and Landsat scenes: discovery, windowed reading, reflectance, cloud masks.

Scenes come from

(a) a folder of per-scene folders holding one GeoTIFF/COG per band (``B02.tif``,
    ``blue.tif``, ``T48QWG_20200112T032101_B04_10m.jp2``, ``LC08_..._SR_B4.TIF``); an
    ``item.json`` (STAC Item) inside a scene folder supplies its metadata;
(b) multi-band GeoTIFFs whose band descriptions name the bands (``B04``, ``red``,
    ``B04_red``, ``SR_B4``);
(c) a STAC ItemCollection, Item, or static catalog (read with pystac), assets named as
    on Earth Search (``blue``, ``red``, ``nir``, ``swir16``, ``scl``, ``qa_pixel``...).
    HTTP(S) hrefs are read through GDAL's ``/vsicurl/`` like local files.

Reading (:func:`read_time_series`, :func:`read_stacks`) touches only the window that
covers the area of interest (reprojected to each raster's CRS, plus a margin), converts
digital numbers to reflectance, masks clouds and nodata with NaN and computes indices,
returning :class:`~ntmgis.stack.RasterStack` time series with layers named
``"2020-01-12/ndvi"``. Scenes in different CRSs (UTM 48N and 49N) are read in their own
CRS, one stack per grid; nothing is resampled across zones.

Sentinel-2 L2A reflectance is ``(DN + BOA_ADD_OFFSET) / 10000`` with ``BOA_ADD_OFFSET``
= -1000 from processing baseline 04.00 (25 January 2022) and 0 before. The offset is
decided from the scene's metadata (processing baseline, then the acquisition date) and
always checked against the values: catalogue flags are known to be wrong for some scenes
(Element84/earth-search#66, #71; cirrus-geo/cirrus-earth-search#33), so a scene whose
visible-band DNs would give impossible negative reflectance is read with offset 0 and a
warning. Landsat Collection 2 Level-2 reflectance is ``DN * 0.0000275 - 0.2``.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import math
import os
import re
import threading
import warnings as _warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np

from . import _progress
from . import i18n as _i18n
from ._gc import collector_paused
from ._io import as_path, open_raster, read_vector
from .errors import (
    CancelledError,
    CRSError,
    DataNotFoundError,
    ImageryError,
    ImageryWarning,
    InputError,
    NtmgisError,
    NtmgisWarning,
    SchemaError,
    warn,
)
from .indices import BAND_ALIASES, COMMON_BANDS, get_index, parse_period
from .stack import RasterStack

logger = logging.getLogger(__name__)

__all__ = [
    "BandSource",
    "DEFAULT_QA_BITS",
    "DEFAULT_SCL_CLASSES",
    "QA_PIXEL_BITS",
    "SCL_CLASSES",
    "Scene",
    "boa_offset",
    "find_scenes",
    "landsat_reflectance",
    "qa_pixel_mask",
    "read_stacks",
    "read_time_series",
    "reading_session",
    "s2_reflectance",
    "scl_mask",
]

#: Sentinel-2 L2A scene classification (SCL) classes.
SCL_CLASSES = {
    0: "no data",
    1: "saturated or defective",
    2: "dark area pixels",
    3: "cloud shadows",
    4: "vegetation",
    5: "not vegetated",
    6: "water",
    7: "unclassified",
    8: "cloud medium probability",
    9: "cloud high probability",
    10: "thin cirrus",
    11: "snow or ice",
}
#: SCL classes masked by default: no data, saturated, shadow, clouds, cirrus, snow.
DEFAULT_SCL_CLASSES = (0, 1, 3, 8, 9, 10, 11)

#: Landsat Collection 2 QA_PIXEL bits.
QA_PIXEL_BITS = {
    0: "fill",
    1: "dilated cloud",
    2: "cirrus",
    3: "cloud",
    4: "cloud shadow",
    5: "snow",
    6: "clear",
    7: "water",
}
#: QA_PIXEL bits masked by default: fill, dilated cloud, cirrus, cloud, shadow, snow.
DEFAULT_QA_BITS = (0, 1, 2, 3, 4, 5)

#: First acquisition date of processing baseline 04.00 (BOA_ADD_OFFSET = -1000).
BASELINE_04_DATE = _dt.date(2022, 1, 25)
S2_QUANTIFICATION = 10000.0
LANDSAT_SCALE = 0.0000275
LANDSAT_OFFSET = -0.2

_S2_IDS = {**BAND_ALIASES, "scl": "scl"}  # Sentinel-2 band ids -> common names
_LANDSAT_OLI = {  # Landsat 8 and 9
    "sr_b1": "coastal",
    "sr_b2": "blue",
    "sr_b3": "green",
    "sr_b4": "red",
    "sr_b5": "nir",
    "sr_b6": "swir16",
    "sr_b7": "swir22",
    "qa_pixel": "qa_pixel",
    "nir08": "nir",
}
_LANDSAT_TM = {  # Landsat 4, 5 and 7
    "sr_b1": "blue",
    "sr_b2": "green",
    "sr_b3": "red",
    "sr_b4": "nir",
    "sr_b5": "swir16",
    "sr_b7": "swir22",
    "qa_pixel": "qa_pixel",
    "nir08": "nir",
}
_MASK_BANDS = ("scl", "qa_pixel")
_RASTER_EXT = (".tif", ".tiff", ".jp2", ".vrt")
_DATE_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])(?!\d)")
_BASELINE_RE = re.compile(r"_N(\d{2})(\d{2})(?:_|$)")
_LANDSAT_FILE_RE = re.compile(r"(?:^|[_\-.])(?:SR_B\d|QA_PIXEL)(?:[_\-.]|$)", re.IGNORECASE)


#: What the imagery readers say to people (ntmgis.i18n): Vietnamese first, English too.
_MESSAGES = {
    "warning.imagery.skipped": ("Bỏ qua {where}: {reason}", "Skipped {where}: {reason}"),
    "error.imagery.on_error": (
        "Cách xử lý ảnh lỗi phải là 'raise' (dừng lại) hoặc 'skip' (bỏ qua ảnh lỗi), không "
        "phải {value}.",
        "on_error must be 'raise' (stop) or 'skip' (skip an unreadable scene), not {value}.",
    ),
    "error.imagery.no_scene_found": (
        "Không tìm thấy ảnh Sentinel-2 hay Landsat nào trong {source}. Thư mục ảnh cần có mỗi "
        "ngày chụp một thư mục con, mỗi kênh một tệp GeoTIFF (B02.tif, B04.tif…), hoặc các "
        "GeoTIFF nhiều kênh có tên kênh, hoặc một danh mục STAC (ItemCollection, catalog): "
        "hãy kiểm tra đường dẫn ảnh trong cấu hình, hoặc tải ảnh bằng ntmgis fetch.",
        "No Sentinel-2 or Landsat scene found in {source}. Expected scene folders with one "
        "GeoTIFF per band (B02.tif, B04.tif...), multi-band GeoTIFFs with band descriptions, "
        "or a STAC ItemCollection/catalog: check the imagery path in the settings, or fetch "
        "the imagery with ntmgis fetch.",
    ),
    "warning.imagery.landsat_platform": (
        "{n} ảnh Landsat không rõ vệ tinh ({scenes}): các kênh được đánh số như Landsat 8/9 "
        "(SR_B4 là kênh đỏ, SR_B5 là cận hồng ngoại). Nếu đó là Landsat 4, 5 hoặc 7, hãy đặt "
        "tên thư mục hoặc tệp theo vệ tinh (LT05_…, LE07_…) hoặc ghi 'platform' trong item STAC.",
        "{n} Landsat scene(s) with an unrecognised platform ({scenes}): their bands were "
        "numbered as Landsat 8/9 (SR_B4 red, SR_B5 nir). If they are Landsat 4, 5 or 7, name "
        "the folder or file with the platform (LT05_..., LE07_...) or set 'platform' in the "
        "STAC item.",
    ),
    "error.imagery.unreadable": (
        "Không đọc được '{where}' ({error}). Tệp bị cắt cụt, hỏng hoặc đang tải dở: hãy tải lại "
        "hoặc xóa tệp đó.",
        "Cannot read '{where}' ({error}). The file is truncated, corrupt or still downloading: "
        "download it again or remove it.",
    ),
    "error.imagery.stac_item": (
        "Không đọc được item STAC '{path}': {error}. Hãy sửa hoặc xóa tệp này.",
        "Cannot read STAC item '{path}': {error}. Fix or delete the file.",
    ),
    "error.imagery.band_names_count": (
        "Danh sách tên kênh có {n} tên nhưng '{path}' có {count} kênh: hãy ghi một tên cho mỗi "
        "kênh, theo thứ tự.",
        "band_names has {n} names but '{path}' has {count} bands: give one name per band, in "
        "order.",
    ),
    "error.imagery.unnamed_bands": (
        "'{path}' có {count} kênh không có tên nhận ra được (mô tả: {descriptions}). Hãy đặt mô "
        "tả kênh (ví dụ B02, B03, B04, B08 hoặc blue, green, red, nir), hoặc cho danh sách tên "
        "kênh theo thứ tự.",
        "'{path}' has {count} band(s) without recognisable names (descriptions: "
        "{descriptions}). Set band descriptions (e.g. B02, B03, B04, B08 or blue, green, red, "
        "nir) or pass band_names=[...].",
    ),
    "error.imagery.stac_file": (
        "Không đọc được tệp STAC '{href}': {error}. Hãy kiểm tra đường dẫn hoặc tải lại tệp.",
        "Cannot read STAC file '{href}': {error}. Check the path or download the file again.",
    ),
    "error.imagery.not_stac": (
        "'{href}' không phải Item, ItemCollection hay Catalog STAC (loại: {kind}): hãy chọn tệp "
        "item.json, catalog.json hoặc thư mục ảnh.",
        "'{href}' is not a STAC Item, ItemCollection or Catalog (type: {kind}): give an "
        "item.json, a catalog.json or a scene folder.",
    ),
    "error.imagery.band_no_crs": (
        "Kênh '{band}' của ảnh {scene} ('{href}') không có hệ tọa độ. Các kênh Sentinel-2 và "
        "Landsat phải có tọa độ (UTM): hãy tải lại ảnh gốc.",
        "Band '{band}' of scene {scene} ('{href}') has no CRS. Sentinel-2 and Landsat bands "
        "must be georeferenced (UTM): download the original scene again.",
    ),
    "warning.imagery.note_assumed_zero": (
        "không có siêu dữ liệu, ngày chụp hay điểm ảnh quang để kiểm tra: coi BOA_ADD_OFFSET "
        "là 0; đặt boa_offset để chọn giá trị khác",
        "no metadata, no date and no clear pixel to check: assumed offset 0; pass "
        "boa_offset= to set it",
    ),
    "warning.imagery.note_values_zero": (
        "không có siêu dữ liệu hay ngày chụp: {share} trong {n} giá trị DN của các kênh nhìn "
        "thấy dưới 1000, nên dùng offset 0 (với -1000 chúng sẽ là phản xạ âm)",
        "no metadata or date: {share} of {n} visible-band DNs are below 1000, so offset 0 "
        "(with -1000 they would be negative reflectance)",
    ),
    "warning.imagery.note_values_minus": (
        "không có siêu dữ liệu hay ngày chụp: không giá trị DN nào trong {n} giá trị của các "
        "kênh nhìn thấy dưới 1000, nên dùng offset -1000 (baseline 04.00 trở lên); đặt "
        "boa_offset để chọn giá trị khác",
        "no metadata or date: no visible-band DN below 1000 among {n}, so offset -1000 "
        "(baseline 04.00 or later); pass boa_offset= to set it",
    ),
    "warning.imagery.note_already_applied": (
        "{source} ghi BOA_ADD_OFFSET {offset} nhưng {share} trong {n} giá trị DN quang mây của "
        "các kênh nhìn thấy dưới 1000 (phản xạ âm): offset có vẻ đã được áp dụng, đọc với "
        "offset 0",
        "{source} says BOA_ADD_OFFSET {offset} but {share} of {n} clear visible-band DNs are "
        "below 1000 (negative reflectance): the offset looks already applied, read with "
        "offset 0",
    ),
    "warning.imagery.note_kept_zero": (
        "{source} ghi BOA_ADD_OFFSET 0 nhưng không giá trị nào trong {n} giá trị DN quang mây "
        "của các kênh nhìn thấy dưới 1000, như dữ liệu baseline 04.00 trở lên (ví dụ kho ảnh "
        "xử lý lại); giữ 0, đặt boa_offset = -1000 nếu ảnh thuộc baseline 04.00 trở lên",
        "{source} says BOA_ADD_OFFSET 0 but none of {n} clear visible-band DNs is below 1000, "
        "as in baseline 04.00+ data (e.g. reprocessed archive); kept 0, pass boa_offset=-1000 "
        "if the scene is baseline 04.00 or later",
    ),
    "error.imagery.scl_classes": (
        "Lớp SCL {bad} không tồn tại; các lớp SCL là 0–11: hãy sửa danh sách lớp cần che.",
        "SCL classes {bad} do not exist; SCL classes are 0-11: fix the list of classes to mask.",
    ),
    "error.imagery.qa_bit": (
        "Bit QA_PIXEL {bit} không tồn tại; các bit là 0–15: hãy sửa danh sách bit cần che.",
        "QA_PIXEL bit {bit} does not exist; bits are 0-15: fix the list of bits to mask.",
    ),
    "error.imagery.grid": (
        "Kích thước điểm ảnh phải như '10m', '20m' hoặc một số mét dương, không phải {grid}.",
        "grid must be like '10m', '20m' or a positive number of metres, not {grid}.",
    ),
    "error.imagery.aoi_shape_crs": (
        "Vùng cần xét là một hình không có hệ tọa độ: hãy cho biết hệ tọa độ của nó (ví dụ "
        "VN-2000 EPSG:9209).",
        "The area of interest is a shape without a CRS: give its CRS (aoi_crs=..., e.g. "
        "VN-2000 EPSG:9209).",
    ),
    "error.imagery.aoi_no_crs": (
        "Vùng cần xét {aoi} không có hệ tọa độ (CRS). Hãy gán CRS cho lớp (ví dụ VN-2000 "
        "EPSG:9209) trong QGIS rồi chạy lại.",
        "The area of interest {aoi} has no CRS. Set it (e.g. VN-2000 EPSG:9209) in QGIS, or "
        "pass aoi_crs=, and run again.",
    ),
    "error.imagery.aoi_empty": (
        "Vùng cần xét {aoi} không có hình nào: hãy chọn lớp có vùng (thửa đất hoặc ranh giới xã).",
        "The area of interest {aoi} has no geometry: give a polygon layer (the parcels or the "
        "commune outline).",
    ),
    "error.imagery.rotated": (
        "'{name}' bị xoay hoặc quay ngược hướng bắc; chỉ đọc được ảnh hướng bắc lên trên: hãy "
        "xuất lại ảnh (ví dụ bằng gdalwarp).",
        "'{name}' is rotated or south-up; only north-up rasters are read: export it again "
        "(e.g. with gdalwarp).",
    ),
    "error.imagery.several_grids": (
        "Các ảnh nằm trên {n} lưới: {grids}. Ảnh không bao giờ được lấy mẫu lại giữa các múi "
        "UTM: hãy dùng ntmgis.read_stacks(...) để có một chồng ảnh cho mỗi lưới.",
        "The scenes lie on {n} grids: {grids}. They are never resampled across UTM zones; use "
        "ntmgis.read_stacks(...) to get one stack per grid.",
    ),
    "error.imagery.mask": (
        "Cách che mây phải là 'auto' (theo SCL hoặc QA_PIXEL) hoặc 'none', không phải {mask}.",
        "mask must be 'auto' (SCL or QA_PIXEL) or 'none', not {mask}.",
    ),
    "error.imagery.band_name": (
        "'{band}' không phải tên kênh phản xạ: hãy dùng {known} hoặc B01–B12, B8A.",
        "'{band}' is not a reflectance band name; use {known} or B01-B12/B8A.",
    ),
    "error.imagery.no_scene_in_period": (
        "Không có ảnh nào trong khoảng thời gian {period}: hãy mở rộng khoảng thời gian hoặc "
        "thêm ảnh của khoảng đó.",
        "No scene in period {period}: widen the period or add scenes of that period.",
    ),
    "error.imagery.missing_band": (
        "Ảnh {scene} không có kênh {bands} (cần cho {variables}); các kênh của nó: {have} trong "
        "'{where}'. Hãy tải kênh đó hoặc bỏ chỉ số cần nó.",
        "Scene {scene} has no band {bands} (needed for {variables}); its bands: {have} in "
        "'{where}'. Download the band or drop the index that needs it.",
    ),
    "warning.imagery.skipped_all": (
        "Đã bỏ qua {n} ảnh không đọc được (tệp bị cắt cụt, hỏng hoặc thiếu kênh): {scenes}. "
        "Hãy tải lại các ảnh đó hoặc xóa chúng khỏi thư mục ảnh.",
        "{n} unreadable scenes were skipped (files truncated, corrupt or missing a band): "
        "{scenes}. Download them again or remove them from the imagery folder.",
    ),
    "warning.imagery.outside_reason": (
        "không phủ vùng cần xét ({crs})",
        "does not cover the area of interest ({crs})",
    ),
    "warning.imagery.outside": (
        "Ảnh {scene} không phủ vùng cần xét; bỏ qua.",
        "Scene {scene} does not cover the area of interest; skipped.",
    ),
    "error.imagery.nothing_read": (
        "Không đọc được ảnh nào trên vùng cần xét ({reasons}).",
        "No scene could be read over the area of interest ({reasons}).",
    ),
    "warning.imagery.why_no_data": (
        "không có điểm ảnh hợp lệ (ngoài dải quét)",
        "no valid pixel (outside the swath)",
    ),
    "warning.imagery.why_cloudy": ("toàn mây", "fully cloudy"),
    "warning.imagery.no_clear_pixel": (
        "Ảnh {scene} không có điểm ảnh quang mây nào trên vùng cần xét ({why}); giữ lại như một "
        "ngày không có dữ liệu.",
        "Scene {scene} has no clear pixel over the area of interest ({why}); kept as an "
        "all-NaN date.",
    ),
    "warning.imagery.unknown_baseline": (
        "Không rõ processing baseline của {n} ảnh Sentinel-2 ({scenes}): BOA_ADD_OFFSET được "
        "chọn theo ngày chụp (0 trước 2022-01-25, -1000 từ ngày đó; theo giá trị điểm ảnh khi "
        "không có ngày) và được kiểm tra với giá trị điểm ảnh.",
        "Processing baseline unknown for {n} Sentinel-2 scene(s) ({scenes}): BOA_ADD_OFFSET "
        "decided from the acquisition date (0 before 2022-01-25, -1000 from it; from the "
        "values when undated) and checked against the values.",
    ),
    "warning.imagery.offset_check": (
        "Kiểm tra BOA_ADD_OFFSET: {notes}",
        "BOA_ADD_OFFSET check: {notes}",
    ),
    "warning.imagery.landsat_scale": (
        "Ảnh Landsat {scene}: kênh {bands} là 8 bit, nhưng hệ số Collection 2 Level-2 (DN × "
        "0,0000275 − 0,2) cần phản xạ bề mặt 16 bit: mọi giá trị sẽ âm. Hãy dùng các tệp "
        "Level-2 SR_B* (không phải sản phẩm đã co giãn hay Level-1).",
        "Landsat scene {scene}: band(s) {bands} are 8-bit, but the Collection 2 Level-2 scale "
        "(DN x 0.0000275 - 0.2) expects 16-bit surface reflectance: every value would be "
        "negative. Use the Level-2 SR_B* files (not a rescaled or Level-1 product).",
    ),
    "warning.imagery.landsat_scale_low": (
        "Ảnh Landsat {scene}: 99 % giá trị kênh '{band}' dưới DN {dn}, nên phản xạ Collection 2 "
        "Level-2 của nó âm gần như khắp nơi. Hãy kiểm tra đó có phải sản phẩm phản xạ bề mặt "
        "Level-2 (SR_B*) không.",
        "Landsat scene {scene}: 99 % of band '{band}' lies below DN {dn}, so its Collection 2 "
        "Level-2 reflectance is negative almost everywhere. Check that it is a Level-2 "
        "surface-reflectance product (SR_B*).",
    ),
    "error.imagery.band_unreadable": (
        "Không đọc được kênh '{band}' của ảnh ngày {date} ('{href}'): {error}. Tệp bị cắt cụt "
        "hoặc hỏng: hãy tải lại hoặc xóa ảnh này.",
        "Band '{band}' of the scene of {date} ('{href}') cannot be read: {error}. The file is "
        "truncated or corrupt: download it again or remove the scene.",
    ),
    "error.imagery.band_crs": (
        "Kênh '{band}' của ảnh {scene} ('{href}') ở {crs}, các kênh khác ở {scene_crs}: hãy "
        "tải lại ảnh để mọi kênh cùng một hệ tọa độ.",
        "Band '{band}' of scene {scene} ('{href}') is in {crs}, its other bands in "
        "{scene_crs}: download the scene again so that every band has one CRS.",
    ),
    "error.imagery.band_index": (
        "Ảnh {scene}: kênh '{band}' phải là kênh số {index} của '{href}', nhưng tệp có {count} "
        "kênh: hãy kiểm tra lại tệp.",
        "Scene {scene}: band '{band}' should be band {index} of '{href}', which has {count}: "
        "check the file.",
    ),
    "error.imagery.aoi_outside_scenes": (
        "Không ảnh nào trong {n} ảnh ({scenes}) phủ vùng cần xét: nhiều khả năng hệ "
        "tọa độ (CRS) của lớp thửa đất sai. Theo CRS {crs}, các thửa nằm ở kinh độ {lon}, "
        "vĩ độ {lat}; ảnh phủ kinh độ {scene_lon}, vĩ độ {scene_lat}. Hãy kiểm tra CRS "
        "của lớp thửa đất (múi VN-2000 của tỉnh, ví dụ EPSG:9209 cho Hà Tĩnh) rồi chạy lại.",
        "None of the {n} scenes ({scenes}) covers the area of interest: the parcels' coordinate "
        "reference system (CRS) is most likely wrong. In their CRS {crs} the parcels lie at "
        "longitude {lon}, latitude {lat}; the scenes cover longitude {scene_lon}, latitude "
        "{scene_lat}. Check the parcel layer's CRS (the province's VN-2000 zone, e.g. "
        "EPSG:9209 for Hà Tĩnh) and run again.",
    ),
}
_i18n.register_all(_MESSAGES)
_say = _i18n.message
#: The ``what`` of a "scene or file skipped" warning (read_stacks collects them).
_SKIPPED = "warning.imagery.skipped"


# --------------------------------------------------------------------------- records


@dataclass
class BandSource:
    """Where one band of a scene is stored.

    Parameters
    ----------
    href : str
        Local path or URL of the raster.
    index : int
        1-based band index in that raster.
    nodata : float, optional
        Nodata value declared by the catalogue (the file's own nodata is used when
        this is None).
    """

    href: str
    index: int = 1
    nodata: float | None = None


@dataclass
class Scene:
    """One acquisition: its date, sensor, metadata and where each band is.

    Parameters
    ----------
    id : str
        Scene id (STAC item id, folder name or file name).
    date : datetime.date or None
        Acquisition date.
    sensor : str
        ``"sentinel-2"`` or ``"landsat"``.
    bands : dict of str to BandSource
        Common band name (``"blue"``, ``"red"``, ``"nir"``, ``"swir16"``, ``"scl"``,
        ``"qa_pixel"``...) to its source.
    platform : str, optional
        E.g. ``"sentinel-2a"``, ``"landsat-8"``.
    processing_baseline : str, optional
        Sentinel-2 processing baseline such as ``"02.14"`` or ``"04.00"``.
    boa_offset : float, optional
        BOA_ADD_OFFSET in DN declared by the metadata (0 when the provider already
        applied it), None when the metadata does not say.
    crs : rasterio.crs.CRS, optional
        CRS of the bands (filled from the first band when not known).
    bounds : tuple of float, optional
        ``(left, bottom, right, top)`` in ``crs``.
    properties : dict
        Other metadata (cloud cover, source path...).
    """

    id: str
    date: _dt.date | None
    sensor: str
    bands: dict[str, BandSource]
    platform: str | None = None
    processing_baseline: str | None = None
    boa_offset: float | None = None
    crs: object = None
    bounds: tuple[float, float, float, float] | None = None
    properties: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        date = self.date.isoformat() if self.date else "no date"
        return (
            f"Scene({self.id!r}, {date}, {self.sensor}, bands={sorted(self.bands)}, "
            f"baseline={self.processing_baseline!r}, crs={_crs_name(self.crs)})"
        )

    @property
    def label(self) -> str:
        """``"<id> (<date>)"`` for messages."""
        return f"'{self.id}' ({self.date.isoformat() if self.date else 'no date'})"


def _crs_name(crs) -> str:
    if crs is None:
        return "?"
    epsg = crs.to_epsg() if hasattr(crs, "to_epsg") else None
    return f"EPSG:{epsg}" if epsg else str(crs)[:40]


# --------------------------------------------------------------------------- band names


def _sensor_from_text(text: str) -> tuple[str | None, str | None]:
    """(sensor, platform) guessed from an id, file name or platform string."""
    t = text.lower()
    m = re.search(r"(?:^|[^a-z0-9])s2([abc])(?:[_\-]|$)", t) or re.search(r"sentinel-?2([abc])?", t)
    if m:
        return "sentinel-2", f"sentinel-2{m.group(1)}" if m.group(1) else "sentinel-2"
    m = re.search(r"(?:^|[^a-z0-9])l([cteo])0?([4-9])(?:[_\-]|$)", t) or re.search(
        r"landsat-?([4-9])", t
    )
    if m:
        return "landsat", f"landsat-{m.group(m.lastindex)}"
    if re.search(r"(?:^|[^a-z0-9])s2(?:[_\-]|$)|msil2a|_l2a", t):
        return "sentinel-2", None
    return None, None


def _band_table(sensor: str | None, platform: str | None) -> dict[str, str]:
    if sensor == "landsat":
        number = re.search(r"(\d)", platform or "")
        return _LANDSAT_TM if number and int(number.group(1)) <= 7 else _LANDSAT_OLI
    return _S2_IDS


def _band_from_tokens(tokens: Sequence[str], sensor, platform) -> str | None:
    """Common band name from name tokens, scanning from the end (``..._B04_10m``)."""
    table = _band_table(sensor, platform)
    toks = [t.lower() for t in tokens if t]
    for i in range(len(toks) - 1, -1, -1):
        if i > 0 and f"{toks[i - 1]}_{toks[i]}" in table:
            return table[f"{toks[i - 1]}_{toks[i]}"]
        tok = toks[i]
        if tok in table:
            return table[tok]
        if tok in COMMON_BANDS or tok in _MASK_BANDS:
            return tok
    return None


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[_\-.\s]+", name) if t]


def _resolution_of_name(name: str) -> float:
    m = re.search(r"_(\d+)m(?:$|[_.])", name.lower())
    return float(m.group(1)) if m else 0.0


def _date_from_text(text: str) -> _dt.date | None:
    for m in _DATE_RE.finditer(text):
        try:
            return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            continue
    return None


def _baseline_from_text(text: str) -> str | None:
    m = _BASELINE_RE.search(text)
    return f"{m.group(1)}.{m.group(2)}" if m else None


def _normalise_baseline(value) -> str | None:
    if value is None:
        return None
    text = str(value).strip().upper().lstrip("N")
    m = re.fullmatch(r"(\d{1,2})[.]?(\d{2})", text)
    if not m:
        return None
    return f"{int(m.group(1)):02d}.{m.group(2)}"


def _date_from_tags(tags: Mapping[str, str]) -> _dt.date | None:
    for key in (
        "datetime",
        "DATETIME",
        "ACQUISITION_DATE",
        "DATE_ACQUIRED",
        "SENSING_TIME",
        "PRODUCT_START_TIME",
        "acquisition_date",
        "date",
        "DATE",
    ):
        if key in tags:
            date = _date_from_text(str(tags[key]))
            if date:
                return date
    return None


def _metadata_from_tags(tags: Mapping[str, str]) -> dict:
    out = {}
    for key in ("PROCESSING_BASELINE", "s2:processing_baseline", "processing_baseline"):
        if key in tags:
            out["baseline"] = _normalise_baseline(tags[key])
    for key in ("BOA_ADD_OFFSET", "boa_add_offset"):
        if key in tags:
            try:
                out["boa_offset"] = float(str(tags[key]).split(",")[0])
            except ValueError:
                pass
    for key in ("platform", "SPACECRAFT_NAME", "SPACECRAFT_ID", "SATELLITE"):
        if key in tags:
            out["platform_text"] = str(tags[key])
    return out


# --------------------------------------------------------------------------- discovery


def find_scenes(
    source,
    *,
    period=None,
    band_names: Sequence[str] | None = None,
    on_error: str = "raise",
) -> list[Scene]:
    """Find the scenes in a folder, a set of GeoTIFFs, or a STAC catalogue.

    Parameters
    ----------
    source : path, pystac object, Scene, or a list of these
        * a folder of per-scene folders, each with one raster per band (``B02.tif``,
          ``red.tif``, ``..._B04_10m.jp2``, ``..._SR_B4.TIF``; an ``item.json`` STAC Item
          inside gives the metadata), or one such scene folder;
        * a folder of multi-band GeoTIFFs or one such file (bands named by their
          descriptions: ``B04``, ``red``, ``B04_red``...);
        * a STAC ItemCollection / Item / Catalog / Collection JSON file, or a folder
          with ``catalog.json``, or a pystac ``ItemCollection``, ``Item`` or ``Catalog``.
    period : str or tuple, optional
        Keep scenes dated in ``"START:END"`` (inclusive). Undated scenes are kept.
    band_names : sequence of str, optional
        Band names for multi-band GeoTIFFs without band descriptions, in band order.
    on_error : {"raise", "skip"}
        ``"skip"`` reports an unreadable scene with a warning and goes on.

    Returns
    -------
    list of Scene
        Sorted by date then id.

    Raises
    ------
    DataNotFoundError
        If a path does not exist.
    ImageryError
        If nothing usable is found, or a file cannot be read (with ``on_error="raise"``).
    """
    _check_on_error(on_error)
    errors: list[tuple[str, str]] = []
    scenes = _discover_cached(source, band_names=band_names, on_error=on_error, errors=errors)
    for where, reason in errors:
        warn(_say(_SKIPPED, where=where, reason=reason), ImageryWarning, where=where,
             what=_SKIPPED)  # fmt: skip
    if not scenes:
        raise ImageryError(_say("error.imagery.no_scene_found", source=_describe(source)))
    window = parse_period(period)
    if window is not None:
        scenes = [s for s in scenes if s.date is None or window[0] <= s.date <= window[1]]
    scenes.sort(key=lambda s: (s.date or _dt.date.min, s.id))
    unknown = [s for s in scenes if s.sensor == "landsat" and not _landsat_number(s.platform)]
    if unknown:
        labels = ", ".join(s.label for s in unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        warn(
            _say("warning.imagery.landsat_platform", n=len(unknown), scenes=labels),
            ImageryWarning,
            where=unknown[0].id,
            what="warning.imagery.landsat_platform",
        )
    return scenes


def _landsat_number(platform) -> int | None:
    match = re.search(r"([4-9])", platform or "")
    return int(match.group(1)) if match else None


def _describe(source) -> str:
    if isinstance(source, str | os.PathLike):
        return f"'{source}'"
    return type(source).__name__


def _is_url(text) -> bool:
    return isinstance(text, str) and re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) is not None


def _discover(source, *, band_names, on_error, errors) -> list[Scene]:
    if isinstance(source, Scene):
        return [source]
    if isinstance(source, list | tuple):
        out = []
        for item in source:
            out.extend(_discover(item, band_names=band_names, on_error=on_error, errors=errors))
        return out
    try:
        import pystac
    except ImportError:  # pragma: no cover - pystac is a dependency
        pystac = None
    if pystac is not None:
        if isinstance(source, pystac.Item):
            return [_scene_from_item(source)]
        if isinstance(source, pystac.ItemCollection):
            return [_scene_from_item(item) for item in source]
        if isinstance(source, pystac.Catalog):
            return [_scene_from_item(item) for item in source.get_items(recursive=True)]
    if _is_url(source):
        return _discover_json(source)
    path = as_path(source, what="scene source")
    if path.is_file():
        if path.suffix.lower() == ".json":
            return _discover_json(str(path))
        return _guard(
            lambda: [_scene_from_multiband(path, band_names)], str(path), on_error, errors
        )
    return _discover_folder(path, band_names=band_names, on_error=on_error, errors=errors)


def _scene_error(exc: Exception, where: str) -> NtmgisError:
    """A scene's read error as an NtmgisError naming the file (truncated, missing...)."""
    if isinstance(exc, NtmgisError):
        return exc
    return ImageryError(
        _say("error.imagery.unreadable", where=where, error=f"{type(exc).__name__}: {exc}")
    )


#: What one unreadable scene may raise; with on_error="skip" it is skipped and reported.
_SCENE_ERRORS: tuple = (ImageryError, SchemaError, CRSError, DataNotFoundError, InputError)


def _rasterio_errors() -> tuple:
    import rasterio.errors

    return (rasterio.errors.RasterioError, OSError, ValueError)


def _guard(func, where, on_error, errors):
    try:
        return func()
    except CancelledError:
        raise
    except _SCENE_ERRORS + _rasterio_errors() as exc:
        if on_error == "raise":
            if isinstance(exc, NtmgisError):
                raise
            raise _scene_error(exc, where) from exc
        errors.append((where, str(_scene_error(exc, where))))
        return []


def _discover_folder(path: Path, *, band_names, on_error, errors) -> list[Scene]:
    if (path / "catalog.json").exists():
        return _discover_json(str(path / "catalog.json"))
    if (path / "item.json").exists() or _band_files(path):
        return _guard(lambda: [_scene_from_folder(path)], str(path), on_error, errors)
    scenes: list[Scene] = []
    for child in sorted(path.iterdir()):
        if child.name.startswith("."):
            continue
        if child.is_dir():
            if (child / "item.json").exists() or _band_files(child):
                scenes.extend(
                    _guard(lambda c=child: [_scene_from_folder(c)], str(child), on_error, errors)
                )
        elif child.suffix.lower() in _RASTER_EXT:
            scenes.extend(
                _guard(
                    lambda c=child: [_scene_from_multiband(c, band_names)],
                    str(child),
                    on_error,
                    errors,
                )
            )
    if not scenes:
        for child in sorted(path.glob("*.json")):
            try:
                kind = json.loads(child.read_text(encoding="utf-8")).get("type")
            except (OSError, ValueError, AttributeError):
                continue
            if kind in ("FeatureCollection", "Catalog", "Collection", "Feature"):
                scenes.extend(_discover_json(str(child)))
    return scenes


def _band_files(folder: Path) -> dict[str, Path]:
    """Band name -> file for the per-band rasters in one scene folder (finest wins)."""
    found_in = folder.rglob("*") if folder.name.upper().endswith(".SAFE") else folder.glob("*")
    files = [
        f
        for f in found_in
        if f.is_file() and f.suffix.lower() in _RASTER_EXT and "tci" not in f.name.lower()
    ]
    sensor, platform = _sensor_from_text(folder.name)
    if sensor is None:
        for f in files:
            sensor, platform = _sensor_from_text(f.name)
            if sensor:
                break
    if sensor is None and any(_LANDSAT_FILE_RE.search(f.name) for f in files):
        sensor = "landsat"  # SR_B4.TIF, QA_PIXEL.TIF without a platform: warned later
    found: dict[str, tuple[float, Path]] = {}
    for f in sorted(files):
        band = _band_from_tokens(_tokens(f.stem), sensor, platform)
        if band is None:
            continue
        res = _resolution_of_name(f.name)
        if band not in found or res < found[band][0]:
            found[band] = (res, f)
    # a single multi-band file is not a per-band scene
    if len(found) <= 1 and len(files) == 1:
        return {}
    return {band: f for band, (_, f) in found.items()}


def _scene_from_folder(folder: Path) -> Scene:
    item_file = folder / "item.json"
    if item_file.exists():
        import pystac

        try:
            item = pystac.Item.from_file(str(item_file))
        except Exception as exc:
            raise ImageryError(_say("error.imagery.stac_item", path=item_file, error=exc)) from exc
        return _scene_from_item(item, base=folder)
    files = _band_files(folder)
    sensor, platform = _sensor_from_text(folder.name)
    if sensor is None:
        for f in files.values():
            sensor, platform = _sensor_from_text(f.name)
            if sensor:
                break
    if sensor is None:
        landsat = "qa_pixel" in files or any(
            _LANDSAT_FILE_RE.search(f.name) for f in files.values()
        )
        sensor = "landsat" if landsat else "sentinel-2"
    bands = {band: BandSource(str(f)) for band, f in files.items()}
    date = _date_from_text(folder.name)
    baseline = _baseline_from_text(folder.name)
    for f in files.values():
        date = date or _date_from_text(f.name)
        baseline = baseline or _baseline_from_text(f.name)
    scene = Scene(
        id=folder.name,
        date=date,
        sensor=sensor,
        bands=bands,
        platform=platform,
        processing_baseline=baseline,
        properties={"source": str(folder)},
    )
    _fill_from_header(scene, read_tags=True)
    return scene


def _scene_from_multiband(path: Path, band_names: Sequence[str] | None) -> Scene:
    with _open(str(path)) as ds:
        tags = ds.tags()
        descriptions = list(ds.descriptions)
        if band_names is not None:
            if len(band_names) != ds.count:
                raise InputError(_say("error.imagery.band_names_count", n=len(band_names),
                                      path=path, count=ds.count))  # fmt: skip
            descriptions = list(band_names)
        sensor, platform = _sensor_from_text(path.name)
        meta = _metadata_from_tags(tags)
        if sensor is None and "platform_text" in meta:
            sensor, platform = _sensor_from_text(meta["platform_text"])
        if sensor is None:
            text = " ".join(d or "" for d in descriptions).lower()
            sensor = "landsat" if ("sr_b" in text or "qa_pixel" in text) else "sentinel-2"
        bands = {}
        for i, desc in enumerate(descriptions, start=1):
            band = _band_from_tokens(_tokens(desc or ""), sensor, platform)
            if band is not None and band not in bands:
                bands[band] = BandSource(str(path), index=i)
        if not bands:
            raise ImageryError(_say("error.imagery.unnamed_bands", path=path, count=ds.count,
                                    descriptions=descriptions))  # fmt: skip
        scene = Scene(
            id=path.stem,
            date=_date_from_tags(tags) or _date_from_text(path.name),
            sensor=sensor,
            bands=bands,
            platform=platform,
            processing_baseline=meta.get("baseline") or _baseline_from_text(path.name),
            boa_offset=meta.get("boa_offset"),
            crs=ds.crs,
            bounds=tuple(ds.bounds),
            properties={"source": str(path)},
        )
    return scene


def _discover_json(href: str) -> list[Scene]:
    import pystac

    try:
        if _is_url(href):
            data = pystac.StacIO.default().read_json(href)
        else:
            data = json.loads(Path(href).read_text(encoding="utf-8"))
    except Exception as exc:
        raise ImageryError(_say("error.imagery.stac_file", href=href, error=exc)) from exc
    kind = data.get("type") if isinstance(data, dict) else None
    base = None if _is_url(href) else Path(href).parent
    try:
        if kind == "FeatureCollection":
            collection = pystac.ItemCollection.from_dict(data, preserve_dict=False)
            return [_scene_from_item(item, base=base, base_href=href) for item in collection]
        if kind == "Feature":
            item = pystac.Item.from_file(href)
            return [_scene_from_item(item, base=base)]
        if kind in ("Catalog", "Collection"):
            catalog = pystac.read_file(href)
            return [_scene_from_item(item) for item in catalog.get_items(recursive=True)]
    except ImageryError:
        raise
    except Exception as exc:
        raise ImageryError(_say("error.imagery.stac_file", href=href, error=exc)) from exc
    raise ImageryError(_say("error.imagery.not_stac", href=href, kind=repr(kind)))


def _scene_from_item(item, *, base: Path | None = None, base_href: str | None = None) -> Scene:
    props = dict(item.properties)
    platform_text = str(props.get("platform") or props.get("constellation") or "")
    sensor, platform = _sensor_from_text(platform_text) if platform_text else (None, None)
    if sensor is None:
        sensor, platform = _sensor_from_text(f"{item.collection_id or ''} {item.id}")
    if platform_text and platform is None:
        platform = platform_text
    bands: dict[str, BandSource] = {}
    for key, asset in item.assets.items():
        if key.endswith("-jp2"):
            continue
        band = _band_from_tokens([key], sensor, platform)
        if band is None:
            for info in asset.extra_fields.get("eo:bands", []) or []:
                band = _band_from_tokens(
                    [str(info.get("common_name") or info.get("name") or "")], sensor, platform
                )
                if band:
                    break
        if band is None or band in bands:
            continue
        href = _asset_href(asset, base, base_href)
        nodata = None
        for info in asset.extra_fields.get("raster:bands", []) or []:
            if info.get("nodata") is not None:
                nodata = float(info["nodata"])
            break
        bands[band] = BandSource(href, nodata=nodata)
    if sensor is None:
        sensor = "landsat" if "qa_pixel" in bands else "sentinel-2"
    date = item.datetime or item.common_metadata.start_datetime
    baseline = _normalise_baseline(
        props.get("s2:processing_baseline")
        or props.get("sentinel:processing_baseline")
        or props.get("processing:version")
    ) or _baseline_from_text(str(props.get("s2:product_uri", "")) + " " + item.id)
    boa = None
    applied = props.get("earthsearch:boa_offset_applied", props.get("sentinel:boa_offset_applied"))
    if applied is True:
        boa = 0.0
    elif props.get("s2:boa_add_offset") is not None:
        try:
            boa = float(props["s2:boa_add_offset"])
        except (TypeError, ValueError):
            boa = None
    crs, bounds = None, None
    epsg = props.get("proj:epsg")
    code = props.get("proj:code")
    if epsg or code:
        from rasterio.crs import CRS

        crs = CRS.from_epsg(int(epsg)) if epsg else CRS.from_user_input(code)
    if props.get("proj:bbox") and len(props["proj:bbox"]) == 4:
        bounds = tuple(float(v) for v in props["proj:bbox"])
    return Scene(
        id=item.id,
        date=date.date() if date else None,
        sensor=sensor,
        bands=bands,
        platform=platform,
        processing_baseline=baseline,
        boa_offset=boa,
        crs=crs,
        bounds=bounds,
        properties={
            k: props[k] for k in ("eo:cloud_cover", "s2:mgrs_tile", "proj:epsg") if k in props
        },
    )


def _asset_href(asset, base: Path | None, base_href: str | None) -> str:
    href = asset.get_absolute_href() or asset.href
    if _is_url(href) or os.path.isabs(href):
        if not _is_url(href) and not Path(href).exists() and base is not None:
            candidate = base / asset.href
            if candidate.exists():
                return str(candidate)
        return href
    if base is not None:
        return str((base / href).resolve())
    if base_href and _is_url(base_href):
        return base_href.rsplit("/", 1)[0] + "/" + href
    return href


# --------------------------------------------------------------------------- opening


def _open(href: str):
    """Open a band source (path or URL) through the one adapter, naming the file.

    Inside :func:`reading_session` each file is opened once and stays open until the
    session ends (the context manager returned then leaves it open).
    """
    cache = getattr(_SESSION, "cache", None)
    if cache is None:
        return open_raster(href)
    return open_raster(cache.dataset(str(href)))  # an open dataset is left open


class _SessionCache:
    """What one :func:`reading_session` keeps: its open datasets, the last used first.

    At most :attr:`MAX_OPEN` stay open (the least recently used is closed): a long
    series of many bands never runs out of file handles.
    """

    MAX_OPEN = 256

    def __init__(self):
        from collections import OrderedDict

        self.datasets: OrderedDict = OrderedDict()  # href -> (dataset, its context)
        self.keeping = 0  # > 0 inside _keeping_reads(): raw windows read are kept
        self.kept: dict = {}  # (file, band) -> [(row0, row1, col0, col1, read-only array)]
        self.kept_bytes = 0

    def dataset(self, href: str):
        """The open dataset of ``href``, opened now if it is not open."""
        kept = self.datasets.get(href)
        if kept is not None and not kept[0].closed:
            self.datasets.move_to_end(href)
            return kept[0]
        context = open_raster(href)
        ds = context.__enter__()  # an open error is raised here, nothing kept
        self.datasets[href] = (ds, context)
        self.datasets.move_to_end(href)
        while len(self.datasets) > self.MAX_OPEN:
            _, (_, oldest) = self.datasets.popitem(last=False)
            oldest.__exit__(None, None, None)
        return ds

    #: At most this many bytes of raw windows kept by :func:`_keeping_reads` per session.
    MAX_KEPT_BYTES = 256 * 2**20

    def kept_window(self, key, r0: int, r1: int, c0: int, c1: int):
        """A kept window of ``key`` holding rows r0:r1, columns c0:c1 (a read-only view)."""
        for k0, k1, j0, j1, array in self.kept.get(key, ()):
            if k0 <= r0 and r1 <= k1 and j0 <= c0 and c1 <= j1:
                return array[r0 - k0 : r1 - k0, c0 - j0 : c1 - j0]
        return None

    def keep(self, key, r0: int, c0: int, array) -> None:
        """Keep a raw window just read (while keeping, within :attr:`MAX_KEPT_BYTES`)."""
        if self.keeping <= 0 or self.kept_bytes + array.nbytes > self.MAX_KEPT_BYTES:
            return
        array.setflags(write=False)  # shared with later reads: never written
        r1, c1 = r0 + array.shape[0], c0 + array.shape[1]
        self.kept.setdefault(key, []).append((r0, r1, c0, c1, array))
        self.kept_bytes += array.nbytes

    def close(self) -> None:
        """Close every dataset still open (and drop the kept windows)."""
        self.kept.clear()
        self.kept_bytes = 0
        while self.datasets:
            _, (_, context) = self.datasets.popitem(last=False)
            context.__exit__(None, None, None)


#: The reading session of this thread (Dask workers run tasks in threads).
_SESSION = threading.local()


def _read_window(ds, bidx: int, window):
    """``ds.read(bidx, window=window)``, from a window kept in the session if one holds it.

    Inside :func:`_keeping_reads` (a run's alignment check) the raw windows read are kept
    for the rest of the :func:`reading_session`; a later read of the same file and band
    whose window lies inside a kept one is sliced from it: the same pixels, not read
    again. The array returned then is a read-only view (callers convert, never write).
    """
    cache = getattr(_SESSION, "cache", None)
    if cache is None:
        return ds.read(bidx, window=window)  # a truncated file: see _band_pixels
    r0, c0 = int(window.row_off), int(window.col_off)
    r1, c1 = r0 + int(window.height), c0 + int(window.width)
    key = (ds.name, bidx)
    kept = cache.kept_window(key, r0, r1, c0, c1)
    if kept is not None:
        return kept
    raw = ds.read(bidx, window=window)
    cache.keep(key, r0, c0, raw)
    return raw


@contextlib.contextmanager
def _keeping_reads():
    """A context in which the raw windows read are kept for the rest of the session.

    Used by a run's alignment check (:func:`ntmgis.crs.alignment_from_imagery`): its few
    scenes are read again by the features, which then take them from memory (bounded by
    :attr:`_SessionCache.MAX_KEPT_BYTES`). Outside a :func:`reading_session`: nothing.
    """
    cache = getattr(_SESSION, "cache", None)
    if cache is None:
        yield
        return
    cache.keeping += 1
    try:
        yield
    finally:
        cache.keeping -= 1


def _source_key(source, band_names, on_error):
    """The cache key of a scene source that is a path (None for other sources)."""
    if isinstance(source, Scene) or not isinstance(source, str | os.PathLike):
        return None
    if _is_url(source):
        return None
    return (os.path.abspath(os.fspath(source)), tuple(band_names or ()), on_error)


@contextlib.contextmanager
def reading_session():
    """A context in which imagery is discovered and opened once (one run's reads).

    Within it, :func:`find_scenes` of one same folder or file discovers it once (the
    same scenes, warnings emitted again at each call; again in a later session of this
    process while no file of it changed: name, size and modification time) and each
    raster file is opened once and kept open, until the context ends. A run reads the
    same scenes for its alignment check, its block plan and its features: inside a
    session the files are opened once for the three, and the raw windows the alignment
    check reads (its few NDVI scenes, kept read-only, at most
    :attr:`_SessionCache.MAX_KEPT_BYTES`) serve the features read of the same files
    instead of being read again. Sessions nest (the outer one is used); each thread has
    its own.

    Returns
    -------
    contextlib.AbstractContextManager

    Examples
    --------
    >>> with reading_session():
    ...     pass
    """
    if getattr(_SESSION, "cache", None) is not None:
        yield
        return
    cache = _SessionCache()
    _SESSION.cache = cache
    try:
        yield
    finally:
        _SESSION.cache = None
        cache.close()


#: Scenes discovered in reading sessions, by source, with the files' fingerprint: the
#: tasks of one commune (its alignment check, block plan and blocks: separate Dask tasks)
#: discover its imagery once per process. Bounded; a changed file is discovered again.
_DISCOVERED: dict = {}
_DISCOVERED_MAX = 256
_DISCOVERED_LOCK = threading.Lock()


def _fingerprint(path: str):
    """Names, sizes and modification times of a scene source's files (two levels)."""
    try:
        top = os.stat(path)
        if not os.path.isdir(path):
            return (top.st_mtime_ns, top.st_size)
        entries = []
        with os.scandir(path) as it:
            for entry in sorted(it, key=lambda e: e.name):
                st = entry.stat()
                entries.append((entry.name, st.st_mtime_ns, st.st_size))
                if entry.is_dir():
                    with os.scandir(entry.path) as inner:
                        for e in sorted(inner, key=lambda e: e.name):
                            st = e.stat()
                            entries.append((f"{entry.name}/{e.name}", st.st_mtime_ns, st.st_size))
        return (top.st_mtime_ns, tuple(entries))
    except OSError:
        return None


def _discover_cached(source, *, band_names, on_error, errors) -> list[Scene]:
    """:func:`_discover`, once per unchanged path source inside a :func:`reading_session`."""
    in_session = getattr(_SESSION, "cache", None) is not None
    key = _source_key(source, band_names, on_error) if in_session else None
    stamp = _fingerprint(key[0]) if key is not None else None
    if stamp is None:
        return _discover(source, band_names=band_names, on_error=on_error, errors=errors)
    with _DISCOVERED_LOCK:
        hit = _DISCOVERED.get(key)
    if hit is None or hit[0] != stamp:
        found: list[tuple[str, str]] = []
        scenes = _discover(source, band_names=band_names, on_error=on_error, errors=found)
        hit = (stamp, scenes, found)
        with _DISCOVERED_LOCK:
            if len(_DISCOVERED) >= _DISCOVERED_MAX:
                _DISCOVERED.pop(next(iter(_DISCOVERED)))
            _DISCOVERED[key] = hit
    errors.extend(hit[2])
    return list(hit[1])


def _fill_from_header(scene: Scene, *, read_tags: bool = False) -> None:
    """Fill a scene's CRS and bounds (and tag metadata) from its finest band."""
    if scene.crs is not None and scene.bounds is not None and not read_tags:
        return
    name = _reference_band(scene)
    source = scene.bands[name]
    with _open(source.href) as ds:
        if ds.crs is None:
            raise CRSError(
                _say("error.imagery.band_no_crs", band=name, scene=scene.label, href=source.href)
            )
        scene.crs = ds.crs
        scene.bounds = tuple(ds.bounds)
        if read_tags:
            meta = _metadata_from_tags(ds.tags())
            scene.processing_baseline = scene.processing_baseline or meta.get("baseline")
            if scene.boa_offset is None:
                scene.boa_offset = meta.get("boa_offset")
            scene.date = scene.date or _date_from_tags(ds.tags())


def _reference_band(scene: Scene) -> str:
    for name in ("blue", "green", "red", "nir"):
        if name in scene.bands:
            return name
    return sorted(scene.bands)[0]


# --------------------------------------------------------------------------- reflectance


def boa_offset(
    scene: Scene, dn_visible: np.ndarray | None = None, *, override: float | None = None
) -> tuple[float, str, list[str]]:
    """Decide the Sentinel-2 BOA_ADD_OFFSET of a scene and check it against its values.

    The rule (GUIDE.md): -1000 from processing baseline 04.00 (scenes from 25 January
    2022, and reprocessed older ones), 0 before. The decision comes from, in order, the
    caller's ``override``, the provider's "offset already applied" flag or an explicit
    BOA_ADD_OFFSET tag, the processing baseline, the acquisition date. It is then
    checked against the visible-band DNs: with an offset of -1000, a DN below 1000 is a
    negative reflectance, which clear land pixels do not have.

    Parameters
    ----------
    scene : Scene
    dn_visible : numpy.ndarray, optional
        Valid, clear DNs of the blue, green and red bands (any shape, NaN ignored).
    override : float, optional
        Offset given by the caller; still checked, never replaced.

    Returns
    -------
    offset : float
        BOA_ADD_OFFSET in DN (0 or -1000).
    source : str
        ``"user"``, ``"metadata"``, ``"baseline"``, ``"date"`` or ``"values"``.
    notes : list of str
        What the value check found when it disagreed or decided; empty otherwise.
    """
    notes: list[str] = []
    if override is not None:
        offset, source = float(override), "user"
    elif scene.boa_offset is not None:
        offset, source = float(scene.boa_offset), "metadata"
    elif scene.processing_baseline is not None:
        offset = -1000.0 if _baseline_number(scene.processing_baseline) >= 4.0 else 0.0
        source = "baseline"
    elif scene.date is not None:
        offset, source = (-1000.0 if scene.date >= BASELINE_04_DATE else 0.0), "date"
    else:
        offset, source = None, "values"
    share, n = _share_below_1000(dn_visible)
    if offset is None:
        if n == 0:
            offset = 0.0
            notes.append(_say("warning.imagery.note_assumed_zero"))
        elif share > 0.001:
            offset = 0.0
            notes.append(_say("warning.imagery.note_values_zero", share=f"{share:.1%}", n=n))
        else:
            offset = -1000.0
            notes.append(_say("warning.imagery.note_values_minus", n=n))
        return offset, source, notes
    if n >= 30 and offset < 0 and share > 0.01:
        notes.append(_say("warning.imagery.note_already_applied", source=source,
                          offset=f"{offset:.0f}", share=f"{share:.1%}", n=n))  # fmt: skip
        if source != "user":
            offset, source = 0.0, "values"
    elif n >= 30 and offset == 0 and share == 0.0:
        notes.append(_say("warning.imagery.note_kept_zero", source=source, n=n))
    return offset, source, notes


def _baseline_number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def _share_below_1000(dn: np.ndarray | None) -> tuple[float, int]:
    if dn is None:
        return 0.0, 0
    values = np.asarray(dn, dtype=np.float64)
    values = values[np.isfinite(values) & (values > 0)]
    if values.size == 0:
        return 0.0, 0
    return float(np.count_nonzero(values < 1000) / values.size), int(values.size)


def s2_reflectance(dn: np.ndarray, *, offset: float = 0.0, nodata: float | None = 0) -> np.ndarray:
    """Sentinel-2 L2A DN to surface reflectance: ``(DN + offset) / 10000``.

    Parameters
    ----------
    dn : numpy.ndarray
        Digital numbers (uint16 or float with NaN).
    offset : float
        BOA_ADD_OFFSET in DN: 0 before baseline 04.00, -1000 from it (see
        :func:`boa_offset`).
    nodata : float, optional
        DN marking no data (0 for L2A); becomes NaN.

    Returns
    -------
    numpy.ndarray
        float32 reflectance, NaN for nodata.

    Examples
    --------
    >>> s2_reflectance(np.array([0, 1500], dtype="uint16"), offset=-1000).tolist()
    [nan, 0.05000000074505806]
    """
    values = np.asarray(dn, dtype=np.float64)
    out = (values + offset) / S2_QUANTIFICATION
    if nodata is not None:
        out[values == nodata] = np.nan
    return out.astype(np.float32)


def landsat_reflectance(dn: np.ndarray, *, nodata: float | None = 0) -> np.ndarray:
    """Landsat Collection 2 Level-2 DN to surface reflectance: ``DN * 0.0000275 - 0.2``.

    Parameters
    ----------
    dn : numpy.ndarray
        SR_B* digital numbers.
    nodata : float, optional
        Fill DN (0); becomes NaN.

    Returns
    -------
    numpy.ndarray
        float32 reflectance, NaN for fill.

    Examples
    --------
    >>> [round(float(v), 6) for v in landsat_reflectance(np.array([0, 10000], dtype="uint16"))]
    [nan, 0.075]
    """
    values = np.asarray(dn, dtype=np.float64)
    out = values * LANDSAT_SCALE + LANDSAT_OFFSET
    if nodata is not None:
        out[values == nodata] = np.nan
    return out.astype(np.float32)


def scl_mask(scl: np.ndarray, classes: Iterable[int] = DEFAULT_SCL_CLASSES) -> np.ndarray:
    """Boolean mask (True = masked) from a Sentinel-2 SCL band.

    Parameters
    ----------
    scl : numpy.ndarray
        SCL classes (0-11).
    classes : iterable of int
        Classes to mask; default no data, saturated, cloud shadow, cloud medium and
        high probability, thin cirrus, snow (0, 1, 3, 8, 9, 10, 11).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> scl_mask(np.array([4, 8, 5, 3]))
    array([False,  True, False,  True])
    """
    classes = [int(c) for c in classes]
    bad = [c for c in classes if c not in SCL_CLASSES]
    if bad:
        raise InputError(_say("error.imagery.scl_classes", bad=bad))
    return np.isin(np.asarray(scl), classes)


def qa_pixel_mask(qa: np.ndarray, bits: Iterable[int] = DEFAULT_QA_BITS) -> np.ndarray:
    """Boolean mask (True = masked) from a Landsat Collection 2 QA_PIXEL band.

    Parameters
    ----------
    qa : numpy.ndarray
        QA_PIXEL values (uint16).
    bits : iterable of int
        Bits that mask a pixel when set; default fill (0), dilated cloud (1), cirrus (2),
        cloud (3), cloud shadow (4), snow (5).

    Returns
    -------
    numpy.ndarray of bool

    Examples
    --------
    >>> qa_pixel_mask(np.array([21824, 22280, 1]))  # clear, cloud, fill
    array([False,  True,  True])
    """
    flag = 0
    for bit in bits:
        if not 0 <= int(bit) <= 15:
            raise InputError(_say("error.imagery.qa_bit", bit=bit))
        flag |= 1 << int(bit)
    return (np.asarray(qa).astype(np.uint32) & flag) != 0


# --------------------------------------------------------------------------- grids


@dataclass
class _Grid:
    crs: object
    transform: object
    height: int
    width: int
    res: float

    @property
    def bounds(self):
        t = self.transform
        return (t.c, t.f - self.height * self.res, t.c + self.width * self.res, t.f)


def _parse_grid(grid) -> float | None:
    if grid is None:
        return None
    if isinstance(grid, int | float):
        value = float(grid)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*m?\s*", str(grid))
        if not m:
            raise InputError(_say("error.imagery.grid", grid=repr(grid)))
        value = float(m.group(1))
    if value <= 0:
        raise InputError(_say("error.imagery.grid", grid=repr(grid)))
    return value


def _aoi_series(aoi, aoi_crs=None, aoi_layer=None):
    """The AOI's non-empty features as a GeoSeries with a CRS (not merged)."""
    import geopandas as gpd
    from shapely.geometry.base import BaseGeometry

    if isinstance(aoi, BaseGeometry):
        if aoi_crs is None:
            raise CRSError(_say("error.imagery.aoi_shape_crs"))
        series = gpd.GeoSeries([aoi], crs=aoi_crs)
    elif isinstance(aoi, gpd.GeoSeries):
        series = aoi
    elif isinstance(aoi, gpd.GeoDataFrame):
        series = aoi.geometry
    else:
        series = read_vector(aoi, layer=aoi_layer, what="area of interest").geometry
    if series.crs is None:
        if aoi_crs is None:
            raise CRSError(_say("error.imagery.aoi_no_crs", aoi=_describe(aoi)))
        series = series.set_crs(aoi_crs)
    series = series[~(series.isna() | series.is_empty)]
    if series.empty:
        raise InputError(_say("error.imagery.aoi_empty", aoi=_describe(aoi)))
    return gpd.GeoSeries(series.values, crs=series.crs)


def _polygon_shapes(geoms, *, return_index: bool = False):
    """The GeoJSON-like polygons rasterio burns for ``geoms``, built in bulk.

    The same coordinates (x, y) as each shape's ``__geo_interface__``, a MultiPolygon
    split into its polygons as :func:`rasterio.features.rasterize` splits it, empty ones
    left out (rasterio skips them): the same pixels burnt, without the per-shape cost of
    ``__geo_interface__`` (a WKT parse each). Other geometry types: the shapes as given.
    ``return_index``: also the position in ``geoms`` of each shape's geometry.
    """
    with collector_paused():  # a list a vertex, none in a cycle: see ntmgis._gc
        return _polygon_shapes_built(geoms, return_index)


def _polygon_shapes_built(geoms, return_index: bool):
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    if not np.isin(shapely.get_type_id(geoms), (3, 6)).all():
        return (list(geoms), np.arange(len(geoms))) if return_index else list(geoms)
    parts, part_of = shapely.get_parts(geoms, return_index=True)
    nonempty = ~shapely.is_empty(parts)
    parts, part_of = parts[nonempty], part_of[nonempty]
    per_polygon = (shapely.get_num_interior_rings(parts) + 1).tolist()
    rings = shapely.get_rings(parts)  # each polygon's exterior, then its holes
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    ends = np.searchsorted(ring_of, np.arange(len(rings) + 1)).tolist()
    xy = coords.tolist()
    ring_xy = [xy[ends[i] : ends[i + 1]] for i in range(len(rings))]
    shapes, k = [], 0
    for n in per_polygon:
        shapes.append({"type": "Polygon", "coordinates": ring_xy[k : k + n]})
        k += n
    return (shapes, part_of) if return_index else shapes


def _aoi_parts(aoi, aoi_crs=None, aoi_layer=None):
    """The AOI as its valid areal parts (GeoSeries), or None; never merged into one shape.

    Each feature is repaired as :func:`ntmgis._io.read_aoi` repairs it (a broken or line
    feature is dropped); the reader needs their bounds, which features they intersect
    and their pixels, none of which needs the union of thousands of parcels.
    """
    if aoi is None:
        return None
    import geopandas as gpd
    import shapely

    from ._io import read_aoi, valid_geometry
    from .errors import GeometryError

    series = _aoi_series(aoi, aoi_crs, aoi_layer)
    geoms = series.values.to_numpy() if hasattr(series.values, "to_numpy") else series.values
    geoms = np.asarray(geoms, dtype=object)
    kind = shapely.get_type_id(geoms)
    fine = shapely.is_valid(geoms) & np.isin(kind, (3, 6)) & (shapely.area(geoms) > 0)
    parts = []
    for ok, geom in zip(fine, geoms, strict=True):
        if ok:
            parts.append(geom)
            continue
        try:
            parts.append(valid_geometry(geom))
        except GeometryError:
            continue  # one broken or line feature does not cost the area (as read_aoi)
    if not parts:
        read_aoi(series)  # raises its message: no usable polygon
    return gpd.GeoSeries(parts, crs=series.crs)


def _aoi_geometry(aoi, aoi_crs=None, aoi_layer=None):
    """AOI as a one-shape GeoSeries (the union of its features, repaired), or None."""
    if aoi is None:
        return None
    import geopandas as gpd

    from ._io import read_aoi

    series = _aoi_series(aoi, aoi_crs, aoi_layer)
    geometry, _ = read_aoi(series)
    return gpd.GeoSeries([geometry], crs=series.crs)


def _aoi_in(aoi_parts, crs):
    """The AOI's parts in ``crs`` as an array of shapes, or None."""
    if aoi_parts is None:
        return None
    return np.asarray(aoi_parts.to_crs(crs).values, dtype=object)


def _make_grid(crs, ref_transform, res, bounds) -> _Grid:
    x0, y0 = ref_transform.c, ref_transform.f
    left, bottom, right, top = bounds
    eps = 1e-6
    c0 = math.floor((left - x0) / res + eps)
    c1 = math.ceil((right - x0) / res - eps)
    r0 = math.floor((y0 - top) / res + eps)
    r1 = math.ceil((y0 - bottom) / res - eps)
    from affine import Affine

    transform = Affine(res, 0.0, x0 + c0 * res, 0.0, -res, y0 - r0 * res)
    return _Grid(crs, transform, max(r1 - r0, 1), max(c1 - c0, 1), res)


def _read_to_grid(ds, bidx: int, grid: _Grid, *, kind: str, nodata) -> np.ndarray:
    """Read only the window of band ``bidx`` covering ``grid``; return it on the grid.

    ``kind="value"``: float with NaN for nodata/outside; integer upsampling replicates,
    integer downsampling averages the valid pixels. ``kind="class"``: raw integer
    classes as float (NaN outside), nearest neighbour (replicate / centre pixel).
    """
    from rasterio.windows import Window

    t = ds.transform
    if t.b != 0 or t.d != 0 or t.e >= 0:
        raise ImageryError(_say("error.imagery.rotated", name=ds.name))
    bres_x, bres_y = t.a, -t.e
    left, bottom, right, top = grid.bounds
    eps = 1e-6
    c0 = math.floor((left - t.c) / bres_x + eps)
    c1 = math.ceil((right - t.c) / bres_x - eps)
    r0 = math.floor((t.f - top) / bres_y + eps)
    r1 = math.ceil((t.f - bottom) / bres_y - eps)
    cover = np.full((r1 - r0, c1 - c0), np.nan, dtype=np.float32)
    ic0, ic1 = max(c0, 0), min(c1, ds.width)
    ir0, ir1 = max(r0, 0), min(r1, ds.height)
    if ic1 > ic0 and ir1 > ir0:
        raw = _read_window(ds, bidx, Window(ic0, ir0, ic1 - ic0, ir1 - ir0))
        values = raw.astype(np.float32)
        if nodata is not None and kind == "value":
            values[raw == nodata] = np.nan
        cover[ir0 - r0 : ir1 - r0, ic0 - c0 : ic1 - c0] = values
    from affine import Affine

    cover_transform = Affine(bres_x, 0.0, t.c + c0 * bres_x, 0.0, -bres_y, t.f - r0 * bres_y)
    res = grid.res
    ratio = bres_x / res
    off_x = (left - cover_transform.c) / res
    off_y = (cover_transform.f - top) / res
    aligned = abs(off_x - round(off_x)) < 1e-6 and abs(off_y - round(off_y)) < 1e-6
    if abs(bres_x - bres_y) < 1e-9 and aligned:
        k = round(ratio)
        if k >= 1 and abs(ratio - k) < 1e-9:
            if k > 1:
                cover = np.repeat(np.repeat(cover, k, axis=0), k, axis=1)
            ox, oy = round(off_x), round(off_y)
            return cover[oy : oy + grid.height, ox : ox + grid.width]
        inv = 1.0 / ratio
        k = round(inv)
        if k > 1 and abs(inv - k) < 1e-9 and cover.shape == (grid.height * k, grid.width * k):
            blocks = cover.reshape(grid.height, k, grid.width, k)
            if kind == "class":
                return blocks[:, k // 2, :, k // 2].copy()
            with np.errstate(invalid="ignore"):
                counts = np.isfinite(blocks).sum(axis=(1, 3))
                sums = np.nansum(blocks, axis=(1, 3))
                return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan).astype(np.float32)
    # general case, same CRS: nearest neighbour onto the grid (never across CRSs)
    from rasterio.warp import Resampling, reproject

    out = np.full((grid.height, grid.width), np.nan, dtype=np.float32)
    reproject(
        cover,
        out,
        src_transform=cover_transform,
        src_crs=ds.crs,
        dst_transform=grid.transform,
        dst_crs=ds.crs,
        src_nodata=np.nan,
        dst_nodata=np.nan,
        resampling=Resampling.nearest,
    )
    return out


# --------------------------------------------------------------------------- reading


def read_time_series(
    scenes,
    *,
    aoi=None,
    bands: Sequence[str] | None = None,
    indices: Sequence[str] | None = None,
    period=None,
    grid: str | float | None = None,
    mask: str | bool = "auto",
    scl_classes: Iterable[int] = DEFAULT_SCL_CLASSES,
    qa_bits: Iterable[int] = DEFAULT_QA_BITS,
    margin: float = 40.0,
    boa_offset: float | None = None,
    on_error: str = "raise",
    aoi_crs=None,
    aoi_layer: str | None = None,
    progress: Callable | None = None,
) -> RasterStack:
    """Read a masked reflectance / index time series over an area as one RasterStack.

    All scenes must share one CRS (one UTM zone); for scenes in several zones use
    :func:`read_stacks`, which returns one stack per grid. Parameters are those of
    :func:`read_stacks`.

    Parameters
    ----------
    scenes : list of Scene, or anything :func:`find_scenes` accepts
        The scenes (a folder, STAC file... is discovered first).
    aoi : path, GeoDataFrame, GeoSeries or shapely geometry, optional
        Area of interest in any CRS; only the window covering it (plus ``margin``) is
        read. Without it, the scenes' whole extent is read.
    bands : sequence of str, optional
        Reflectance bands to output (``"red"``, ``"nir"``, ``"B04"``...).
    indices : sequence of str, optional
        Indices to output (``"ndvi"``, ``"evi"``, ...; see :mod:`ntmgis.indices`).
        Default: ``["ndvi"]`` when ``bands`` is not given either.
    period : str or tuple, optional
        Keep scenes dated in ``"START:END"`` (inclusive).
    grid : {"10m", "20m"} or float, optional
        Output pixel size. Default: the finest band read (10 m for Sentinel-2 10 m
        bands, 20 m for SWIR only, 30 m for Landsat). 20 m bands on a 10 m grid are
        replicated (exact on aligned grids); 10 m bands on a 20 m grid are averaged.
    mask : {"auto", "none"} or bool
        ``"auto"``/True masks with SCL (Sentinel-2) or QA_PIXEL (Landsat) when the scene
        has it; ``"none"``/False masks nodata only.
    scl_classes : iterable of int
        SCL classes to mask (default :data:`DEFAULT_SCL_CLASSES`).
    qa_bits : iterable of int
        QA_PIXEL bits to mask (default :data:`DEFAULT_QA_BITS`).
    margin : float
        Metres added around the AOI (in the raster CRS) before snapping to the grid.
    boa_offset : float, optional
        Force Sentinel-2 BOA_ADD_OFFSET (DN) for every scene; still checked.
    on_error : {"raise", "skip"}
        ``"skip"``: a corrupt file or a scene missing a band is reported (warning and
        ``meta["skipped"]``) and the other scenes are read.
    aoi_crs : optional
        CRS of ``aoi`` when it has none (shapely geometries).
    aoi_layer : str, optional
        Layer of a multi-layer AOI file (e.g. ``"commune"``).
    progress : callable, optional
        ``progress(fraction, message)``; returning False cancels.

    Returns
    -------
    RasterStack
        float32 layers ``"DATE/VARIABLE"`` with NaN for masked pixels; see
        :func:`read_stacks` for ``meta``.

    Raises
    ------
    CRSError
        If the scenes lie in more than one CRS (use :func:`read_stacks`).
    """
    options = _ReadOptions.parse(
        bands=bands, indices=indices, grid=grid, mask=mask, scl_classes=scl_classes,
        qa_bits=qa_bits, margin=margin, boa_offset=boa_offset, on_error=on_error,
    )  # fmt: skip
    area = (aoi, aoi_crs, aoi_layer)
    stacks = _read_stacks(scenes, options, area=area, period=period, progress=progress)
    if len(stacks) > 1:
        grids = "; ".join(f"{s.meta['crs_name']} ({len(s.meta['scenes'])} scenes)" for s in stacks)
        raise CRSError(_say("error.imagery.several_grids", n=len(stacks), grids=grids))
    return stacks[0]


@dataclass
class _ReadOptions:
    """What :func:`read_stacks` reads and how: one record shared by the reading steps.

    :func:`read_time_series` and :func:`read_stacks` build it once from their keyword
    arguments (validating them); the group and scene readers take it instead of a dozen
    keywords.
    """

    out_bands: list[str]
    out_indices: list
    res_wanted: float | None = None
    margin: float = 40.0
    mask: str = "auto"
    scl_classes: tuple[int, ...] = DEFAULT_SCL_CLASSES
    qa_bits: tuple[int, ...] = DEFAULT_QA_BITS
    boa_override: float | None = None
    on_error: str = "raise"

    @classmethod
    def parse(cls, *, bands, indices, grid, mask, scl_classes, qa_bits, margin, boa_offset,
              on_error) -> _ReadOptions:  # fmt: skip
        """The options from :func:`read_stacks`' arguments, each checked."""
        _check_on_error(on_error)
        if isinstance(mask, bool):
            mask = "auto" if mask else "none"
        if mask not in ("auto", "none"):
            raise InputError(_say("error.imagery.mask", mask=repr(mask)))
        scl_classes = tuple(int(c) for c in scl_classes)
        scl_mask(np.zeros(1), scl_classes)  # validates the classes
        qa_bits = tuple(int(b) for b in qa_bits)
        qa_pixel_mask(np.zeros(1), qa_bits)
        out_bands = [_output_band(b) for b in bands or []]
        if indices is None and not out_bands:
            indices = ["ndvi"]
        return cls(
            out_bands=out_bands,
            out_indices=[get_index(i) for i in indices or []],
            res_wanted=_parse_grid(grid),
            margin=margin,
            mask=mask,
            scl_classes=scl_classes,
            qa_bits=qa_bits,
            boa_override=boa_offset,
            on_error=on_error,
        )

    @property
    def needed(self) -> list[str]:
        """Every band read: the output bands and those the indices use."""
        index_bands = [b for idx in self.out_indices for b in idx.bands]
        return list(dict.fromkeys(self.out_bands + index_bands))

    @property
    def variables(self) -> list[str]:
        """Output variables in order: bands, then indices."""
        return self.out_bands + [idx.name for idx in self.out_indices]


def _check_on_error(on_error) -> None:
    if on_error not in ("raise", "skip"):
        raise InputError(_say("error.imagery.on_error", value=repr(on_error)))


def _output_band(name) -> str:
    """A requested output band as its common name (``"B04"`` -> ``"red"``)."""
    found = _band_from_tokens([str(name)], None, None) or _band_from_tokens(
        [str(name)], "landsat", "landsat-8"
    )
    if found is None or found in _MASK_BANDS:
        raise InputError(_say("error.imagery.band_name", band=name, known=", ".join(COMMON_BANDS)))
    return found


def _as_scenes(scenes, on_error: str) -> tuple[list[Scene], list[dict]]:
    """Scenes as given, or discovered (with what discovery skipped, as skip records)."""
    if isinstance(scenes, list) and all(isinstance(s, Scene) for s in scenes):
        return scenes, []
    skipped = []
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        scenes = find_scenes(scenes, on_error=on_error)
    for w in caught:  # re-emit here; remember what discovery skipped
        what = getattr(w.message, "what", None)
        if what == _SKIPPED:
            text = str(w.message)
            reason = text.split(": ", 1)[1] if ": " in text else text
            skipped.append({"scene": w.message.where, "date": None, "reason": reason})
        if issubclass(w.category, NtmgisWarning):
            warn(str(w.message), w.category, where=w.message.where, what=what)
        else:
            _warnings.warn(w.message, w.category, stacklevel=3)
    return scenes, skipped


class _Reader:
    """Reads scenes group by group onto grids, keeping what it skipped and its progress."""

    def __init__(self, options: _ReadOptions, progress: Callable | None, skipped=()):
        self.options = options
        self.progress = progress
        self.skipped: list[dict] = list(skipped)
        self.done = 0
        self.total = 1
        self.outside: list[str] = []  # scenes skipped as not covering the AOI

    def fail(self, scene: Scene, exc: Exception) -> None:
        """Raise ``exc`` (``on_error="raise"``) or record and report the scene as skipped."""
        if self.options.on_error == "raise":
            raise exc
        self.skipped.append({"scene": scene.id, "date": _iso(scene.date), "reason": str(exc)})
        warn(_say(_SKIPPED, where=scene.label, reason=exc), ImageryWarning, where=scene.id,
             what=_SKIPPED)  # fmt: skip

    def guard(self, scene: Scene, func):
        """``func()``, or None when the scene's files fail (then :meth:`fail`)."""
        try:
            return func()
        except CancelledError:
            raise
        except _SCENE_ERRORS + _rasterio_errors() as exc:
            self.fail(scene, _scene_error(exc, scene.properties.get("source", scene.id)))
            return None

    def group_by_crs(self, scenes: list[Scene]) -> list[tuple[object, list[Scene]]]:
        """Scenes with every needed band and a readable header, grouped by CRS."""
        needed = self.options.needed
        groups: dict[str, list[Scene]] = {}
        crs_of: dict[str, object] = {}
        for scene in scenes:
            missing = [b for b in needed if b not in scene.bands]
            if missing:
                self.fail(scene, SchemaError(_say(
                    "error.imagery.missing_band", scene=scene.label, bands=", ".join(missing),
                    variables=", ".join(self.options.variables),
                    have=", ".join(sorted(scene.bands)),
                    where=scene.properties.get("source", scene.id),
                )))  # fmt: skip
                continue
            if self.guard(scene, lambda s=scene: _fill_from_header(s) or True) is None:
                continue
            key = scene.crs.to_wkt()
            crs_of[key] = scene.crs
            groups.setdefault(key, []).append(scene)
        self.total = max(sum(len(g) for g in groups.values()), 1)
        order = sorted(groups, key=lambda k: _crs_name(crs_of[k]))
        return [(crs_of[k], groups[k]) for k in order]

    def covering(self, crs, members: list[Scene], aoi) -> list[Scene]:
        """The members whose bounds meet the AOI; the others skipped and reported."""
        if aoi is None:
            return members
        kept = []
        for scene in members:
            if _intersects(scene.bounds, aoi):
                kept.append(scene)
                continue
            self.skipped.append({"scene": scene.id, "date": _iso(scene.date),
                                 "reason": _say("warning.imagery.outside_reason",
                                                crs=_crs_name(crs))})  # fmt: skip
            warn(_say("warning.imagery.outside", scene=scene.label), ImageryWarning,
                 where=scene.id, what="warning.imagery.outside")  # fmt: skip
            self.outside.append(scene.id)
            self.done += 1
        return kept

    def reference_grid(self, members: list[Scene]):
        """(transform, resolution) of the first readable scene's finest needed band.

        A scene whose files cannot be opened is removed from ``members`` (and failed).
        """
        for scene in list(members):

            def finest(scene=scene):
                best = None
                for band in self.options.needed:
                    with _open(scene.bands[band].href) as ds:
                        if best is None or ds.res[0] < best[1]:
                            best = (ds.transform, ds.res[0])
                return best

            found = self.guard(scene, finest)
            if found is not None:
                return found
            members.remove(scene)
        return None

    def group_grid(self, crs, members: list[Scene], aoi):
        """The grid of one CRS group and the AOI pixel mask on it (None: nothing readable)."""
        ref = self.reference_grid(members)
        if ref is None:
            return None, None
        ref_transform, ref_res = ref
        res = self.options.res_wanted or ref_res
        margin = self.options.margin
        if aoi is not None:
            aoi = _clip_to_scenes(aoi, members)
            minx, miny, maxx, maxy = _total_bounds(aoi)
            area = (minx - margin, miny - margin, maxx + margin, maxy + margin)
        else:
            boxes = np.array([m.bounds for m in members])
            area = (boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max())
        grid = _make_grid(crs, ref_transform, res, area)
        if aoi is None:
            return grid, np.ones((grid.height, grid.width), dtype=bool)
        from rasterio.features import geometry_mask

        inside = geometry_mask(
            _polygon_shapes(aoi), out_shape=(grid.height, grid.width), transform=grid.transform,
            invert=True,
        )  # fmt: skip
        return grid, inside

    def read_group(self, crs, members: list[Scene], aoi) -> RasterStack | None:
        """One CRS group's scenes as one stack (None when none could be read)."""
        grid, inside = self.group_grid(crs, members, aoi)
        if grid is None:
            return None
        layers = _Layers(self.options, grid, inside)
        for scene in members:
            _progress.report(self.progress, self.done / self.total, f"Reading {scene.id}")
            self.done += 1
            read = self.guard(
                scene, lambda s=scene: _read_scene(s, grid=grid, options=self.options)
            )
            if read is not None:
                layers.add(scene, read)
        layers.warn_offsets()
        return layers.stack(crs)


def read_stacks(
    scenes,
    *,
    aoi=None,
    bands: Sequence[str] | None = None,
    indices: Sequence[str] | None = None,
    period=None,
    grid: str | float | None = None,
    mask: str | bool = "auto",
    scl_classes: Iterable[int] = DEFAULT_SCL_CLASSES,
    qa_bits: Iterable[int] = DEFAULT_QA_BITS,
    margin: float = 40.0,
    boa_offset: float | None = None,
    on_error: str = "raise",
    aoi_crs=None,
    aoi_layer: str | None = None,
    progress: Callable | None = None,
) -> list[RasterStack]:
    """Read masked reflectance / index time series, one RasterStack per CRS grid.

    Scenes in different CRSs (UTM 48N and 49N near 108°E) are each read in their own
    CRS and never resampled across zones. Per scene, only the window that covers the
    AOI (reprojected to the raster CRS, plus ``margin``) is read from each band.
    Parameters are described in :func:`read_time_series`.

    Parameters
    ----------
    scenes : list of Scene, or anything :func:`find_scenes` accepts
    aoi : path, GeoDataFrame, GeoSeries or shapely geometry, optional
    bands : sequence of str, optional
    indices : sequence of str, optional
    period : str or tuple, optional
    grid : {"10m", "20m"} or float, optional
    mask : {"auto", "none"} or bool
    scl_classes : iterable of int
    qa_bits : iterable of int
    margin : float
    boa_offset : float, optional
    on_error : {"raise", "skip"}
    aoi_crs : optional
    aoi_layer : str, optional
    progress : callable, optional

    Returns
    -------
    list of RasterStack
        One per grid, ordered by CRS. Each stack's ``meta`` holds ``"layers"`` (per
        layer: name, date, variable, scene id(s), sensor, clear/valid/total pixels,
        BOA offset and its source), ``"scenes"`` (per scene: id, date, clear pixels,
        status ``"ok"``/``"no clear pixel"``), ``"skipped"`` (scenes skipped with the
        reason: outside the AOI, unreadable), ``"crs_name"``, ``"grid"`` (resolution),
        ``"aoi_pixels"`` and ``"aoi_mask"`` (bool array, pixels whose centre is in the
        AOI; clear-pixel counts are taken there). Two scenes of one date on one grid
        (adjacent tiles) fill one layer.

    Raises
    ------
    SchemaError
        If a scene lacks a band that is needed (names band and scene).
    ImageryError
        If a raster cannot be read (names the file), or no scene covers the AOI.
    """
    options = _ReadOptions.parse(
        bands=bands, indices=indices, grid=grid, mask=mask, scl_classes=scl_classes,
        qa_bits=qa_bits, margin=margin, boa_offset=boa_offset, on_error=on_error,
    )  # fmt: skip
    area = (aoi, aoi_crs, aoi_layer)
    return _read_stacks(scenes, options, area=area, period=period, progress=progress)


def _read_stacks(scenes, options: _ReadOptions, *, area, period, progress) -> list[RasterStack]:
    """:func:`read_stacks` with its options parsed; ``area`` is ``(aoi, aoi_crs, aoi_layer)``."""
    scenes, discovery_skipped = _as_scenes(scenes, options.on_error)
    window = parse_period(period)
    if window is not None:
        scenes = [s for s in scenes if s.date is None or window[0] <= s.date <= window[1]]
    if not scenes:
        raise ImageryError(_say("error.imagery.no_scene_in_period", period=period))
    aoi_parts = _aoi_parts(*area)
    reader = _Reader(options, progress, discovery_skipped)
    stacks: list[RasterStack] = []
    for crs, members in reader.group_by_crs(scenes):
        aoi_here = _aoi_in(aoi_parts, crs)
        members = reader.covering(crs, members, aoi_here)
        if not members:
            continue
        stack = reader.read_group(crs, members, aoi_here)
        if stack is not None:
            stacks.append(stack)
    for stack in stacks:
        stack.meta["skipped"] = list(reader.skipped)
    _warn_skipped_all(reader)
    if not stacks:
        raise ImageryError(_nothing_read_message(reader, aoi_parts, scenes))
    logger.info(
        "read %d layer(s) on %d grid(s) from %d scene(s); %d skipped",
        sum(len(s) for s in stacks), len(stacks), len(scenes), len(reader.skipped),
    )  # fmt: skip
    _progress.report(progress, 1.0, "Scenes read")
    return stacks


def _warn_skipped_all(reader: _Reader) -> None:
    """One warning naming every unreadable scene skipped.

    A display that counts the repeats of one kind of warning shows the first one's text
    only; this one names them all.
    """
    unreadable = [s["scene"] for s in reader.skipped if s["scene"] not in reader.outside]
    if len(unreadable) < 2:
        return
    names = ", ".join(Path(str(name)).name for name in unreadable)
    warn(_say("warning.imagery.skipped_all", n=len(unreadable), scenes=names), ImageryWarning,
         where=str(unreadable[0]), what="warning.imagery.skipped_all")  # fmt: skip


def _nothing_read_message(reader: _Reader, aoi_parts, scenes) -> str:
    skipped = reader.skipped
    if skipped and len(reader.outside) == len(skipped) and aoi_parts is not None:
        return _outside_message(aoi_parts, scenes, len(reader.outside))
    reasons = "; ".join(f"{s['scene']}: {s['reason']}" for s in skipped)
    return _say("error.imagery.nothing_read", reasons=reasons or "-")


def _total_bounds(geoms) -> tuple[float, float, float, float]:
    import shapely

    b = shapely.bounds(np.asarray(geoms, dtype=object))
    return (
        float(np.nanmin(b[:, 0])),
        float(np.nanmin(b[:, 1])),
        float(np.nanmax(b[:, 2])),
        float(np.nanmax(b[:, 3])),
    )


def _clip_to_scenes(aoi, members):
    """The parts of the AOI these scenes cover (a far parcel does not widen the window)."""
    import shapely
    from shapely.geometry import box

    boxes = [box(*m.bounds) for m in members if m.bounds is not None]
    if len(boxes) < len(members) or not boxes:
        return aoi
    cover = boxes[0] if len(boxes) == 1 else shapely.union_all(boxes)
    # a part well inside the scenes (all of them, usually) is its own clip: only the
    # others are cut (a GEOS overlay each)
    aoi = np.asarray(aoi, dtype=object)
    cut = ~shapely.contains_properly(cover, aoi)
    if not cut.any():
        return aoi
    clipped = aoi.copy()
    clipped[cut] = shapely.intersection(aoi[cut], cover)
    clipped = clipped[~shapely.is_empty(clipped)]
    return aoi if clipped.size == 0 else clipped


def _iso(date) -> str | None:
    return date.isoformat() if date else None


def _intersects(bounds, geoms) -> bool:
    if bounds is None:
        return True
    import shapely
    from shapely.geometry import box

    return bool(shapely.intersects(np.asarray(geoms, dtype=object), box(*bounds)).any())


class _Layers:
    """The layers of one grid, filled scene by scene, and their metadata."""

    def __init__(self, options: _ReadOptions, grid: _Grid, inside: np.ndarray):
        self.options = options
        self.grid = grid
        self.inside = inside
        self.aoi_pixels = int(inside.sum())
        self.layers: dict[str, np.ndarray] = {}
        self.meta: dict[str, dict] = {}
        self.scenes: list[dict] = []
        self.offset_notes: list[str] = []
        self.unknown_baseline: list[Scene] = []

    def add(self, scene: Scene, read: _SceneRead) -> None:
        """Add one scene's outputs; a second scene of a date on this grid fills the gaps."""
        from .indices import compute_index

        if scene.sensor == "sentinel-2" and scene.processing_baseline is None:
            if read.offset_source in ("date", "values"):
                self.unknown_baseline.append(scene)
        if read.notes:
            self.offset_notes.append(f"{scene.label}: " + "; ".join(read.notes))
        n_clear = int(np.count_nonzero(read.clear & self.inside))
        n_valid = int(np.count_nonzero(read.valid & self.inside))
        values = {b: np.where(read.clear, read.refl[b], np.nan).astype(np.float32)
                  for b in self.options.needed}  # fmt: skip
        outputs = {b: values[b] for b in self.options.out_bands}
        for idx in self.options.out_indices:
            outputs[idx.name] = compute_index(idx, values)
        self.scenes.append(self._scene_record(scene, read, n_clear, n_valid))
        if n_clear == 0:
            why = _say(f"warning.imagery.why_{'no_data' if n_valid == 0 else 'cloudy'}")
            warn(_say("warning.imagery.no_clear_pixel", scene=scene.label, why=why),
                 ImageryWarning, where=scene.id, what="warning.imagery.no_clear_pixel")  # fmt: skip
        prefix = _iso(scene.date) or scene.id
        for var, arr in outputs.items():
            name = f"{prefix}/{var}"
            if name in self.layers:  # same date, same grid (adjacent tile): fill the gaps
                layer = self.layers[name]
                gap = np.isnan(layer) & ~np.isnan(arr)
                layer[gap] = arr[gap]
                entry = self.meta[name]
                entry["scene"] = f"{entry['scene']}+{scene.id}"
                entry["clear_pixels"] = int(np.count_nonzero(~np.isnan(layer) & self.inside))
                continue
            self.layers[name] = arr
            self.meta[name] = {
                "name": name,
                "date": _iso(scene.date),
                "variable": var,
                "scene": scene.id,
                "sensor": scene.sensor,
                "clear_pixels": n_clear,
                "valid_pixels": n_valid,
                "aoi_pixels": self.aoi_pixels,
                "boa_offset": read.offset,
                "offset_source": read.offset_source,
            }

    def _scene_record(self, scene: Scene, read: _SceneRead, n_clear: int, n_valid: int) -> dict:
        return {
            "scene": scene.id,
            "date": _iso(scene.date),
            "sensor": scene.sensor,
            "platform": scene.platform,
            "processing_baseline": scene.processing_baseline,
            "boa_offset": read.offset,
            "offset_source": read.offset_source,
            "clear_pixels": n_clear,
            "valid_pixels": n_valid,
            "aoi_pixels": self.aoi_pixels,
            "clear_fraction": n_clear / self.aoi_pixels if self.aoi_pixels else 0.0,
            "mask": read.masked_by,
            "status": "ok" if n_clear else "no clear pixel",
        }

    def warn_offsets(self) -> None:
        """The group's BOA_ADD_OFFSET warnings: unknown baselines, value-check findings."""
        if self.unknown_baseline:
            labels = ", ".join(s.label for s in self.unknown_baseline)
            warn(_say("warning.imagery.unknown_baseline", n=len(self.unknown_baseline),
                      scenes=labels), ImageryWarning, where=self.unknown_baseline[0].id,
                 what="warning.imagery.unknown_baseline")  # fmt: skip
        if self.offset_notes:
            warn(_say("warning.imagery.offset_check", notes=" | ".join(self.offset_notes)),
                 ImageryWarning, where=self.offset_notes[0].split(":", 1)[0],
                 what="warning.imagery.offset_check")  # fmt: skip

    def stack(self, crs) -> RasterStack | None:
        """The layers by date, then the requested variable order (None when empty)."""
        if not self.layers:
            return None
        var_rank = {v: i for i, v in enumerate(self.options.variables)}
        order = sorted(
            self.layers,
            key=lambda n: (
                self.meta[n]["date"] or "",
                n.rsplit("/", 1)[0],
                var_rank[self.meta[n]["variable"]],
            ),
        )
        data = np.stack([self.layers[n] for n in order]).astype(np.float32)
        meta = {
            "layers": [self.meta[n] for n in order],
            "scenes": self.scenes,
            "crs_name": _crs_name(crs),
            "grid": self.grid.res,
            "aoi_pixels": self.aoi_pixels,
            "aoi_mask": self.inside,
            "variables": list(var_rank),
        }
        return RasterStack(data, self.grid.transform, crs, order, meta=meta)


#: The smallest C2 L2 DN with a positive reflectance (DN * 0.0000275 - 0.2 > 0).
_LANDSAT_ZERO_DN = 0.2 / LANDSAT_SCALE


def _check_landsat_scale(scene, dns, dtypes, float_input, valid) -> None:
    """Warn when the C2 L2 scale does not fit the data (8-bit bands, all-negative values)."""
    small = [b for b, t in dtypes.items() if not float_input[b] and t.itemsize == 1]
    if small:
        warn(
            _say("warning.imagery.landsat_scale", scene=scene.label, bands=", ".join(small)),
            ImageryWarning,
            where=scene.id,
            what="warning.imagery.landsat_scale",
        )
        return
    for band, arr in dns.items():
        if float_input[band] or band == "qa_pixel":
            continue
        values = arr[valid & np.isfinite(arr)]
        if values.size >= 10 and np.percentile(values, 99) < _LANDSAT_ZERO_DN:
            warn(
                _say("warning.imagery.landsat_scale_low", scene=scene.label, band=band,
                     dn=f"{_LANDSAT_ZERO_DN:.0f}"),
                ImageryWarning,
                where=scene.id,
                what="warning.imagery.landsat_scale_low",
            )  # fmt: skip
            return


def _band_pixels(scene, band, source, ds, grid, *, kind, nodata):
    """:func:`_read_to_grid`, a truncated or corrupt file an ImageryError naming it."""
    try:
        return _read_to_grid(ds, source.index, grid, kind=kind, nodata=nodata)
    except CancelledError:
        raise
    except NtmgisError:
        raise
    except Exception as exc:  # GDAL, rasterio or a decoder: the file cannot be read
        date = _iso(scene.date) or "?"
        raise ImageryError(_say("error.imagery.band_unreadable", band=band, date=date,
                                href=source.href, error=_gdal_text(exc))) from exc  # fmt: skip


def _gdal_text(exc: Exception) -> str:
    """GDAL's message without its pointer to a traceback the user never sees."""
    text = str(exc).replace("See previous exception for details.", "").strip()
    return text.rstrip(".") or type(exc).__name__


class _SceneRead(NamedTuple):
    """One scene read onto a grid: reflectance per band, masks, BOA offset decision."""

    refl: dict
    clear: np.ndarray
    valid: np.ndarray
    offset: float | None
    offset_source: str | None
    notes: list
    masked_by: str


def _band_dns(scene: Scene, band: str, grid) -> tuple[np.ndarray, np.dtype]:
    """One band's DNs on ``grid`` (float, NaN for nodata/outside) and the file's dtype."""
    source = scene.bands[band]
    with _open(source.href) as ds:
        if ds.crs != scene.crs:
            raise CRSError(_say("error.imagery.band_crs", band=band, scene=scene.label,
                                href=source.href, crs=_crs_name(ds.crs),
                                scene_crs=_crs_name(scene.crs)))  # fmt: skip
        if source.index > ds.count:
            raise SchemaError(
                _say("error.imagery.band_index", band=band, scene=scene.label,
                     index=source.index, href=source.href, count=ds.count)
            )  # fmt: skip
        dtype = np.dtype(ds.dtypes[source.index - 1])
        nodata = source.nodata if source.nodata is not None else ds.nodatavals[source.index - 1]
        if nodata is None and not np.issubdtype(dtype, np.floating):
            nodata = 0  # L2A and C2 L2 use 0 for no data
        return _band_pixels(scene, band, source, ds, grid, kind="value", nodata=nodata), dtype


def _cloud_mask(scene: Scene, grid, options: _ReadOptions, shape) -> tuple[np.ndarray, str]:
    """(masked pixels, mask band used) from SCL or QA_PIXEL; nodata only without one."""
    mask_band = "scl" if scene.sensor == "sentinel-2" else "qa_pixel"
    if options.mask != "auto" or mask_band not in scene.bands:
        return np.zeros(shape, dtype=bool), "nodata"
    source = scene.bands[mask_band]
    with _open(source.href) as ds:
        classes = _band_pixels(scene, mask_band, source, ds, grid, kind="class", nodata=None)
    outside = ~np.isfinite(classes)
    codes = np.where(outside, 0, classes).astype(np.int64)
    if mask_band == "scl":
        return scl_mask(codes, options.scl_classes) | outside, mask_band
    return qa_pixel_mask(codes, options.qa_bits) | outside, mask_band


def _read_scene(scene: Scene, *, grid, options: _ReadOptions) -> _SceneRead:
    """Read one scene onto ``grid``: reflectance per band, clear and valid masks."""
    dns: dict[str, np.ndarray] = {}
    dtypes: dict[str, np.dtype] = {}
    for band in options.needed:
        dns[band], dtypes[band] = _band_dns(scene, band, grid)
    float_input = {b: np.issubdtype(t, np.floating) for b, t in dtypes.items()}
    valid = np.ones((grid.height, grid.width), dtype=bool)
    for arr in dns.values():
        valid &= np.isfinite(arr)
    cloudy, masked_by = _cloud_mask(scene, grid, options, valid.shape)
    clear = valid & ~cloudy
    notes: list[str] = []
    if scene.sensor == "landsat":
        _check_landsat_scale(scene, dns, dtypes, float_input, valid)
        refl = {b: a if float_input[b] else a * LANDSAT_SCALE + LANDSAT_OFFSET
                for b, a in dns.items()}  # fmt: skip
        offset, source_name = LANDSAT_OFFSET, "landsat-c2"
    elif all(float_input.values()):  # already reflectance (float GeoTIFF): no offset
        refl = dict(dns)
        offset, source_name = 0.0, "float reflectance"
    else:
        visible = [dns[b][clear] for b in ("blue", "green", "red") if b in dns]
        sample = np.concatenate(visible) if visible else None
        if sample is not None and sample.size == 0:
            visible = [dns[b][valid] for b in ("blue", "green", "red") if b in dns]
            sample = np.concatenate(visible) if visible else None
        offset, source_name, notes = boa_offset(scene, sample, override=options.boa_override)
        refl = {b: a if float_input[b] else (a + offset) / S2_QUANTIFICATION
                for b, a in dns.items()}  # fmt: skip
    return _SceneRead(refl, clear, valid, offset, source_name, notes, masked_by)


def _outside_message(aoi_series, scenes, n_outside: int) -> str:
    """Every scene misses the area: most likely the parcels' CRS is wrong; say so, briefly."""
    from pyproj import Transformer

    crs = aoi_series.crs
    lon0, lat0, lon1, lat1 = aoi_series.to_crs(4326).total_bounds
    boxes = []
    for scene in scenes:
        if getattr(scene, "bounds", None) is None or getattr(scene, "crs", None) is None:
            continue
        to_wgs84 = Transformer.from_crs(scene.crs, 4326, always_xy=True)
        boxes.append(to_wgs84.transform_bounds(*scene.bounds))
    if boxes:
        west = min(b[0] for b in boxes)
        south = min(b[1] for b in boxes)
        east = max(b[2] for b in boxes)
        north = max(b[3] for b in boxes)
        scene_lon, scene_lat = f"{west:.3f}–{east:.3f}", f"{south:.3f}–{north:.3f}"
    else:
        scene_lon = scene_lat = "?"
    name = crs.to_string() if crs is not None else "?"
    ids = [str(getattr(scene, "id", "?")) for scene in scenes]
    listed = ", ".join(ids[:3]) + (f", … (+{len(ids) - 3})" if len(ids) > 3 else "")
    return _say(
        "error.imagery.aoi_outside_scenes",
        n=n_outside,
        scenes=listed,
        crs=name,
        lon=f"{lon0:.3f}–{lon1:.3f}",
        lat=f"{lat0:.3f}–{lat1:.3f}",
        scene_lon=scene_lon,
        scene_lat=scene_lat,
    )
