"""Imagery from the public STAC catalogues: a commune's scenes, its window only.

:func:`fetch_scenes` searches a STAC API (Earth Search by default, Planetary Computer,
CDSE, or any STAC API URL) with pystac-client for the items of a period that intersect
an area of interest, screens clouds on the AOI's own pixels (the SCL or QA_PIXEL window
is read first: a tile's ``eo:cloud_cover`` says little about one commune), and writes,
for each kept date, a scene folder that :func:`ntmgis.find_scenes` and ``ntmgis run``
read as they are::

    OUT/S2A_48QWE_20200113_0_L2A/blue.tif ... scl.tif   one COG per band, source grid
    OUT/S2A_48QWE_20200113_0_L2A/item.json              STAC Item: source, baseline,
                                                        BOA offset decision, clear share
    OUT/fetch_report.json                               every item found and its fate

Only the window over the AOI plus a margin is read, through GDAL's ``/vsicurl/`` range
requests, on the source pixel grid (nothing is resampled; the AOI is reprojected for the
search and the windows, never the pixels). Bands of one date are read in parallel.
A second call skips the dates already complete (each file is checked against its
record) and finishes the ones that were cut: a date is assembled in a hidden folder
(``OUT/.<id>.part``), every file is written under a temporary name and renamed when
complete, and the folder takes its final name only when all its bands and its
``item.json`` are there.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import math
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import _progress
from ._io import atomic_path
from .errors import (
    CancelledError,
    DataNotFoundError,
    ImageryError,
    ImageryWarning,
    InputError,
    warn,
)
from .i18n import message, register_all

logger = logging.getLogger(__name__)

__all__ = [
    "CATALOGS",
    "COLLECTIONS",
    "Catalog",
    "FetchResult",
    "fetch_scenes",
]


@dataclass(frozen=True)
class Catalog:
    """A STAC API and what it needs.

    Parameters
    ----------
    name : str
        Short name (``"earth-search"``) or the URL for an unnamed API.
    url : str
        The STAC API root.
    sign : {"planetary-computer"} or None
        How asset hrefs are signed before reading.
    collections : tuple of str
        Collections known to work through this catalogue.
    needs : str
        What a user needs for it (account, keys), for messages and the README.
    """

    name: str
    url: str
    sign: str | None = None
    collections: tuple[str, ...] = ("sentinel-2-l2a", "landsat-c2-l2")
    needs: str = "nothing (no account)"
    gdal: tuple[tuple[str, str], ...] = ()


#: The named catalogues (``catalog=`` / ``--catalog``); any STAC API URL works too.
CATALOGS = {
    "earth-search": Catalog(
        "earth-search",
        "https://earth-search.aws.element84.com/v1",
        collections=("sentinel-2-l2a", "landsat-c2-l2"),
        gdal=(("AWS_REQUEST_PAYER", "requester"),),
        needs="nothing for sentinel-2-l2a; landsat-c2-l2 assets are in a requester-pays "
        "bucket (AWS keys)",
    ),
    "planetary-computer": Catalog(
        "planetary-computer",
        "https://planetarycomputer.microsoft.com/api/stac/v1",
        sign="planetary-computer",
        collections=("sentinel-2-l2a", "landsat-c2-l2"),
        needs="no account: assets are signed with a short-lived token (package planetary-computer)",
    ),
    "cdse": Catalog(
        "cdse",
        "https://stac.dataspace.copernicus.eu/v1",
        collections=("sentinel-2-l2a",),
        gdal=(
            ("AWS_S3_ENDPOINT", "eodata.dataspace.copernicus.eu"),
            ("AWS_VIRTUAL_HOSTING", "FALSE"),
            ("AWS_HTTPS", "YES"),
        ),  # fmt: skip
        needs="a free Copernicus Data Space account's S3 keys (AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY; AWS_S3_ENDPOINT=eodata.dataspace.copernicus.eu)",
    ),
}

#: Per collection: the mask band and, per common band name, the asset keys seen in the
#: catalogues (Earth Search names first, then Planetary Computer's, then CDSE's).
COLLECTIONS = {
    "sentinel-2-l2a": {
        "mask": "scl",
        "assets": {
            "coastal": ("coastal", "B01", "B01_20m", "B01_60m"),
            "blue": ("blue", "B02", "B02_10m"),
            "green": ("green", "B03", "B03_10m"),
            "red": ("red", "B04", "B04_10m"),
            "rededge1": ("rededge1", "B05", "B05_20m"),
            "rededge2": ("rededge2", "B06", "B06_20m"),
            "rededge3": ("rededge3", "B07", "B07_20m"),
            "nir": ("nir", "B08", "B08_10m"),
            "nir08": ("nir08", "B8A", "B8A_20m"),
            "nir09": ("nir09", "B09", "B09_60m"),
            "swir16": ("swir16", "B11", "B11_20m"),
            "swir22": ("swir22", "B12", "B12_20m"),
            "scl": ("scl", "SCL", "SCL_20m"),
        },
        "default_bands": ("blue", "green", "red", "nir", "swir16", "swir22"),
    },
    "landsat-c2-l2": {
        "mask": "qa_pixel",
        "assets": {
            "coastal": ("coastal",),
            "blue": ("blue",),
            "green": ("green",),
            "red": ("red",),
            "nir08": ("nir08",),
            "swir16": ("swir16",),
            "swir22": ("swir22",),
            "qa_pixel": ("qa_pixel",),
        },
        "default_bands": ("blue", "green", "red", "nir08", "swir16", "swir22"),
    },
}

_GDAL_HTTP = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".tif,.TIF,.tiff,.TIFF,.jp2,.JP2",
    "GDAL_HTTP_MERGE_CONSECUTIVE_RANGES": "YES",
    "GDAL_HTTP_MULTIPLEX": "YES",
    "GDAL_HTTP_VERSION": "2",
    "GDAL_INGESTED_BYTES_AT_OPEN": "32768",
    "VSI_CACHE": "TRUE",
}
_HEADER_BYTES = 32768

# what the fetch says to people (ntmgis.i18n): Vietnamese first, English too
_MESSAGES = {
    "error.fetch.unknown_catalog": (
        "Không có danh mục ảnh '{name}'. Các danh mục đã biết: {known}; hoặc nhập địa chỉ "
        "một STAC API (https://...).",
        "Unknown catalogue '{name}'. Known catalogues: {known}; or give a STAC API URL "
        "(https://...).",
    ),
    "error.fetch.unknown_collection": (
        "Không có bộ sưu tập ảnh '{name}'. Các bộ sưu tập đã biết: {known} (Sentinel-2 L2A, "
        "Landsat Collection 2 Level-2).",
        "Unknown collection '{name}'. Known collections: {known} (Sentinel-2 L2A, Landsat "
        "Collection 2 Level-2).",
    ),
    "error.fetch.not_in_catalog": (
        "Danh mục {catalog} không có bộ sưu tập '{name}' mà ntmgis đọc được; danh mục này "
        "có {known}.",
        "The catalogue {catalog} has no collection '{name}' that ntmgis reads; it has {known}.",
    ),
    "error.fetch.not_on_server": (
        "Danh mục {catalog} ({url}) không có bộ sưu tập '{name}'. Các bộ sưu tập của nó: {known}.",
        "The catalogue {catalog} ({url}) has no collection '{name}'. Its collections: {known}.",
    ),
    "error.fetch.network": (
        "Danh mục {catalog} ({url}) {what}, đã thử lại nhiều lần: hãy kiểm tra kết nối "
        "Internet, hoặc thử lại sau hay dùng --catalog khác.",
        "The catalogue {catalog} ({url}) {what}, after retries: check the internet "
        "connection, or try again later or with another --catalog.",
    ),
    "fetch.what.429": (
        "trả lời 429 Too Many Requests (quá nhiều yêu cầu)",
        "answers 429 Too Many Requests (rate limit)",
    ),
    "fetch.what.http": ("trả lời lỗi HTTP {status}", "answers HTTP {status}"),
    "fetch.what.timeout": ("không trả lời kịp", "does not answer in time"),
    "fetch.what.unreachable": ("không kết nối được", "cannot be reached"),
    "error.fetch.no_scene": (
        "Không có cảnh {collection} nào của {catalog} phủ khu vực từ {start} đến {end}. "
        "Ngày gần nhất tìm được: {near}. Hãy mở rộng --period.",
        "No {collection} scene of {catalog} covers the area between {start} and {end}. "
        "Nearest dates found: {near}. Widen --period.",
    ),
    "fetch.near.before": ("trước: {date}", "before: {date}"),
    "fetch.near.after": ("sau: {date}", "after: {date}"),
    "fetch.near.none": ("không có trong vòng 400 ngày", "none within 400 days either side"),
    "error.fetch.all_cloudy": (
        "Mọi ngày trong {period} đều quá nhiều mây trên khu vực ({n} ngày vượt max_cloud "
        "{max_cloud}%; ngày quang nhất, {date}, quang {share}). Hãy nới --max-cloud (từ {need} "
        "trở lên sẽ giữ ngày {date}) hoặc mở rộng --period.",
        "Every date of {period} is too cloudy over the area ({n} date(s) above max_cloud "
        "{max_cloud}%; the clearest, {date}, is {share} clear). Relax --max-cloud (to {need} "
        "or more keeps {date}) or widen --period.",
    ),
    "error.fetch.nothing": (
        "Không tải được cảnh nào từ {catalog} / {collection}: {reasons}",
        "No scene could be fetched from {catalog} / {collection}: {reasons}",
    ),
    "warning.fetch.missing_asset": (
        "Bỏ qua {item}: mục này không có tệp cho {bands}; các tệp của nó là {assets}.",
        "Skipped {item}: the item has no asset for {bands}; its assets are {assets}.",
    ),
    "warning.fetch.skipped": ("Bỏ qua {item}: {reason}", "Skipped {item}: {reason}"),
    "error.fetch.band_error": (
        "Không đọc được kênh {band} ('{href}'): {error}. Tệp có thể không có hoặc máy chủ "
        "không truy cập được; bỏ qua ngày này, hãy tải lại sau.",
        "Cannot read the {band} band ('{href}'): {error}. The asset may be missing or the "
        "server unreachable; the date is skipped, fetch again later.",
    ),
    "error.fetch.s3_keys": (
        "Các tệp ảnh của {catalog} nằm trên S3 ('{href}'), cần {needs}. Hãy đặt "
        "AWS_ACCESS_KEY_ID và AWS_SECRET_ACCESS_KEY, hoặc dùng --catalog earth-search hay "
        "planetary-computer.",
        "The assets of {catalog} are in S3 ('{href}'), which needs {needs}. Set "
        "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use --catalog earth-search or "
        "planetary-computer.",
    ),
    "fetch.summary": (
        "{n} cảnh trong {out} từ {catalog} / {collection}; các mục: {parts}; đã tải "
        "{moved}{share}, đã ghi {written}.",
        "{n} scene(s) in {out} from {catalog} / {collection}; items: {parts}; moved "
        "{moved}{share}, wrote {written}.",
    ),
    "fetch.share": (" ({share} dung lượng các tệp gốc)", " ({share} of the source files)"),
    "fetch.searching": (
        "Tìm ảnh trên {catalog} ({collection})",
        "Searching {catalog} ({collection})",
    ),
    "fetch.reading": (
        "{item}: quang {share}, đọc các kênh",
        "{item}: {share} clear, reading bands",
    ),
    "fetch.done": ("{n} cảnh trong {out}", "{n} scenes in {out}"),
    "fetch.cloudy": (
        "{share} khu vực bị mây, bóng mây hoặc không có dữ liệu (max_cloud {max_cloud}%)",
        "{share} of the area is cloud, shadow or no data (max_cloud {max_cloud}%)",
    ),
    "error.fetch.no_period": (
        "Cần khoảng thời gian cần tải ảnh, dạng BẮT_ĐẦU:KẾT_THÚC, ví dụ "
        "2020-01-01:2020-12-31 (--period, hoặc period trong mục [imagery] của cấu hình).",
        "A period to fetch is needed, START:END, e.g. 2020-01-01:2020-12-31 (--period, or "
        "period in the configuration's [imagery] section).",
    ),
    "error.fetch.open_period": (
        "Khoảng thời gian {period} phải có cả ngày bắt đầu và ngày kết thúc, ví dụ "
        "2020-01-01:2020-12-31.",
        "The period {period} must have both a start and an end date, e.g. 2020-01-01:2020-12-31.",
    ),
    "error.fetch.max_cloud": (
        "Ngưỡng mây (--max-cloud) là một tỉ lệ phần trăm từ 0 đến 100, không phải {value}.",
        "max_cloud (--max-cloud) is a percentage (0-100), not {value}.",
    ),
    "error.fetch.bbox": (
        "Khung {bbox} phải là (tây, nam, đông, bắc) với tây < đông và nam < bắc.",
        "The bounding box {bbox} must be (west, south, east, north) with west < east and "
        "south < north.",
    ),
    "error.fetch.unknown_band": (
        "Không có kênh '{band}' trong {collection}: hãy dùng {known}.",
        "Unknown band '{band}' for {collection}; use {known}.",
    ),
    "error.fetch.pc_package": (
        "Ảnh của Planetary Computer phải được ký: hãy cài gói 'planetary-computer' (pip install "
        "planetary-computer), hoặc dùng --catalog earth-search.",
        "Planetary Computer assets must be signed: install the package 'planetary-computer' "
        "(pip install planetary-computer), or use --catalog earth-search.",
    ),
    "error.fetch.pc_sign": (
        "Không ký được tệp ảnh Planetary Computer '{href}': {error}. Hãy kiểm tra kết nối "
        "Internet rồi thử lại.",
        "Cannot sign the Planetary Computer asset '{href}': {error}. Check the internet "
        "connection and try again.",
    ),
    "warning.fetch.boa_note": ("{item}: {note}.", "{item}: {note}."),
    "warning.fetch.run_failed": ("{where}: {error}", "{where}: {error}"),
    "fetch.reason.complete": ("đã tải trước đó (đã kiểm tra)", "already fetched (checked)"),
    "fetch.reason.fetched": ("{share} khu vực quang mây", "{share} of the area clear"),
    "fetch.reason.outside": ("cảnh không phủ khu vực", "the item does not cover the area"),
    "fetch.reason.edge": (
        "không có điểm ảnh hợp lệ nào trên khu vực (rìa dải quét)",
        "no valid pixel over the area (edge of the swath)",
    ),
    "fetch.reason.band_outside": (
        "kênh {band} không phủ khu vực",
        "the {band} band does not cover the area",
    ),
    "fetch.reason.missing_asset": (
        "không có tệp cho {bands} (các tệp: {assets})",
        "no asset for {bands} (assets: {assets})",
    ),
    "fetch.reason.duplicate": (
        "cùng ngày với {best}, giữ cảnh đó vì {why}; cảnh này ở {crs} và thêm {adds} khu vực",
        "same date as {best}, kept as it is {why}; this one is on {crs} and adds {adds} of "
        "the area",
    ),
    "fetch.reason.on_grid": ("cùng lưới với các ngày khác", "on the grid of the other dates"),
    "fetch.reason.larger": ("phủ khu vực nhiều hơn", "larger over the area"),
    "fetch.reason.unknown_crs": ("một hệ tọa độ không rõ", "an unknown CRS"),
}
register_all(_MESSAGES)
_RETRY_STATUS = (429, 500, 502, 503, 504)


# --------------------------------------------------------------------------- results


class FetchResult(list):
    """The scenes :func:`fetch_scenes` wrote (a list of :class:`ntmgis.imagery.Scene`).

    Pass it to :func:`ntmgis.read_stacks` as it is, or use ``out`` (the folder).

    Attributes
    ----------
    out : pathlib.Path
        The output folder.
    catalog, collection : str
    items : list of dict
        Every item the search found, with ``status`` (``"fetched"``, ``"complete"``
        (already there, checked), ``"cloudy"``, ``"no data"``, ``"duplicate"``,
        ``"missing asset"``, ``"error"``), ``clear_share`` and a ``reason``.
    bytes_read : int
        Bytes moved over the network (tiles of the windows and the files' headers).
    bytes_source : int
        Compressed size of the whole source files those windows came from, when known.
    bytes_written : int
        Bytes of the band files written.
    """

    def __init__(self, scenes=(), **attrs):
        super().__init__(scenes)
        self.out = attrs.get("out")
        self.catalog = attrs.get("catalog")
        self.collection = attrs.get("collection")
        self.items = attrs.get("items", [])
        self.bytes_read = int(attrs.get("bytes_read", 0))
        self.bytes_source = int(attrs.get("bytes_source", 0))
        self.bytes_written = int(attrs.get("bytes_written", 0))

    def summary(self) -> str:
        """One paragraph: dates written, skipped, bytes moved."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item["status"]] = counts.get(item["status"], 0) + 1
        parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
        share = ""
        if self.bytes_source:
            share = message("fetch.share", share=f"{self.bytes_read / self.bytes_source:.1%}")
        return message(
            "fetch.summary",
            n=len(self),
            out=self.out,
            catalog=self.catalog,
            collection=self.collection,
            parts=parts or "-",
            moved=_mb(self.bytes_read),
            share=share,
            written=_mb(self.bytes_written),
        )

    def __repr__(self) -> str:
        return f"FetchResult({len(self)} scenes, out={str(self.out)!r})"


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


# --------------------------------------------------------------------------- catalogue


def _catalog(catalog) -> Catalog:
    if isinstance(catalog, Catalog):
        return catalog
    text = str(catalog or "earth-search").strip()
    if text.lower() in CATALOGS:
        return CATALOGS[text.lower()]
    if text.startswith(("http://", "https://")):
        url = text.rstrip("/")
        return Catalog(url.split("://", 1)[1], url, collections=())
    known = ", ".join(f"{k} ({c.url})" for k, c in CATALOGS.items())
    raise InputError(message("error.fetch.unknown_catalog", name=text, known=known))


def _collection(name: str | None, cat: Catalog) -> str:
    name = (name or "sentinel-2-l2a").strip()
    if name not in COLLECTIONS:
        raise InputError(
            message("error.fetch.unknown_collection", name=name, known=", ".join(COLLECTIONS))
        )
    if cat.collections and name not in cat.collections:
        raise InputError(
            message(
                "error.fetch.not_in_catalog",
                catalog=cat.name,
                name=name,
                known=", ".join(cat.collections),
            )
        )
    return name


def _retry(retries: int):
    from urllib3 import Retry

    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=0.5,
        status_forcelist=_RETRY_STATUS,
        allowed_methods=frozenset({"GET", "POST"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (pystac-client re-raises requests' errors as APIError)."""
    seen: list[BaseException] = []
    stack: list = [exc]
    while stack:
        e = stack.pop()
        if not isinstance(e, BaseException) or any(e is s for s in seen):
            continue
        seen.append(e)
        stack += [e.__cause__, e.__context__, getattr(e, "reason", None), *e.args]
    return seen


def _network_error(cat: Catalog, exc: Exception) -> ImageryError:
    import requests
    import urllib3

    causes = _causes(exc)
    status = next((c.status_code for c in causes if getattr(c, "status_code", None)), None)
    if status is None:
        response = next((c.response for c in causes if getattr(c, "response", None)), None)
        status = getattr(response, "status_code", None)

    def found(*kinds) -> bool:
        return any(isinstance(c, kinds) for c in causes)

    # urllib3's NewConnectionError derives from its ConnectTimeoutError: "refused" or an
    # unknown host is no network, a read that never ends is a slow catalogue
    read_timeout = found(requests.exceptions.ReadTimeout, urllib3.exceptions.ReadTimeoutError)
    if status == 429:
        what = message("fetch.what.429")
    elif status is not None:
        what = message("fetch.what.http", status=status)
    elif found(urllib3.exceptions.NewConnectionError, ConnectionError) and not read_timeout:
        what = message("fetch.what.unreachable")
    elif read_timeout or found(requests.exceptions.Timeout, TimeoutError):
        what = message("fetch.what.timeout")
    else:
        what = message("fetch.what.unreachable")
    return ImageryError(message("error.fetch.network", catalog=cat.name, url=cat.url, what=what))


def _open_client(cat: Catalog, *, timeout: float, retries: int):
    import pystac_client
    from pystac_client.stac_api_io import StacApiIO

    stac_io = StacApiIO(timeout=timeout, max_retries=_retry(retries))
    try:
        return pystac_client.Client.open(cat.url, stac_io=stac_io, timeout=timeout)
    except Exception as exc:  # requests / pystac-client errors: one sentence
        raise _network_error(cat, exc) from exc


def _search(client, cat: Catalog, collection: str, geometry, start, end, limit: int):
    try:
        search = client.search(
            collections=[collection],
            intersects=geometry,
            datetime=f"{start.isoformat()}T00:00:00Z/{end.isoformat()}T23:59:59Z",
            limit=limit,
        )
        return list(search.items())
    except Exception as exc:
        if getattr(exc, "status_code", None) == 404:
            raise _unknown_on_server(client, cat, collection) from exc
        raise _network_error(cat, exc) from exc


def _unknown_on_server(client, cat: Catalog, collection: str) -> InputError:
    try:
        names = sorted(c.id for c in client.get_collections())
    except Exception:  # the listing itself failed: say what we know
        names = []
    listed = ", ".join(names[:30]) or "none listed"
    return InputError(
        message(
            "error.fetch.not_on_server",
            catalog=cat.name,
            url=cat.url,
            name=collection,
            known=listed,
        )
    )


def _check_collection(client, cat: Catalog, collection: str) -> None:
    try:
        found = client.get_collection(collection)
    except Exception as exc:
        if getattr(exc, "status_code", None) == 404:
            raise _unknown_on_server(client, cat, collection) from exc
        raise _network_error(cat, exc) from exc
    if found is None:
        raise _unknown_on_server(client, cat, collection)


def _signer(cat: Catalog):
    if cat.sign != "planetary-computer":
        return None
    try:
        import planetary_computer
    except ImportError as exc:
        raise ImageryError(message("error.fetch.pc_package")) from exc

    def sign(href: str) -> str:
        try:
            return planetary_computer.sign(href)
        except Exception as exc:
            raise ImageryError(message("error.fetch.pc_sign", href=href, error=exc)) from exc

    return sign


# --------------------------------------------------------------------------- AOI


def _aoi(aoi, aoi_layer, aoi_crs):
    """(AOI GeoSeries in its CRS, geometry in WGS 84) from a vector, geometry or bbox."""
    import geopandas as gpd
    from shapely.geometry import box

    from .imagery import _aoi_geometry

    if isinstance(aoi, str) and aoi.count(",") == 3 and not Path(aoi).exists():
        aoi = tuple(float(v) for v in aoi.split(","))
    if isinstance(aoi, Sequence) and not isinstance(aoi, str) and len(aoi) == 4:
        try:
            values = [float(v) for v in aoi]
        except (TypeError, ValueError):
            values = None
        if values is not None:
            if values[0] >= values[2] or values[1] >= values[3]:
                raise InputError(message("error.fetch.bbox", bbox=tuple(values)))
            series = gpd.GeoSeries([box(*values)], crs=aoi_crs or "EPSG:4326")
            return series, series.to_crs("EPSG:4326").iloc[0]
    series = _aoi_geometry(aoi, aoi_crs, aoi_layer)
    return series, series.to_crs("EPSG:4326").iloc[0]


# --------------------------------------------------------------------------- items


def _item_crs(item):
    from rasterio.crs import CRS

    props = item.properties
    if props.get("proj:epsg"):
        return CRS.from_epsg(int(props["proj:epsg"]))
    if props.get("proj:code"):
        return CRS.from_user_input(props["proj:code"])
    for asset in item.assets.values():
        extra = asset.extra_fields
        if extra.get("proj:epsg"):
            return CRS.from_epsg(int(extra["proj:epsg"]))
        if extra.get("proj:code"):
            return CRS.from_user_input(extra["proj:code"])
    return None


def _asset_for(item, band: str, collection: str):
    keys = COLLECTIONS[collection]["assets"].get(band, (band,))
    for key in keys:
        if key in item.assets:
            return key, item.assets[key]
    for key, asset in item.assets.items():  # by eo:bands common_name
        if key.endswith("-jp2"):
            continue
        for info in asset.extra_fields.get("eo:bands", []) or []:
            if info.get("common_name") == band and band not in ("rededge",):
                return key, asset
    return None, None


def _href(asset, sign) -> str:
    href = asset.get_absolute_href() or asset.href
    if sign is not None:
        href = sign(href)
    return href


def _gdal_path(href: str) -> str:
    if href.startswith("s3://"):
        return "/vsis3/" + href[len("s3://") :]
    if href.startswith(("http://", "https://")):
        return "/vsicurl/" + href
    return href


def _date_of(item) -> _dt.date | None:
    when = item.datetime or item.common_metadata.start_datetime
    return when.date() if when else None


def _utm_epsg(geom) -> int:
    lon, lat = geom.centroid.x, geom.centroid.y
    zone = int(math.floor((lon + 180.0) / 6.0)) + 1
    return (32600 if lat >= 0 else 32700) + zone


def _footprint_in(item, aoi_wgs84):
    """The part of the AOI (WGS 84) an item's footprint covers (empty when unknown)."""
    from shapely.geometry import Polygon, shape

    try:
        return shape(item.geometry).intersection(aoi_wgs84)
    except Exception:  # an odd footprint: it covers nothing we can tell
        return Polygon()


def _dedupe(items, aoi_wgs84, records) -> list:
    """One item per date, all on one grid where possible (the majority CRS)."""
    from shapely.geometry import shape

    crs_count: dict[str, int] = {}
    for item in items:
        crs = _item_crs(item)
        key = crs.to_string() if crs else "?"
        crs_count[key] = crs_count.get(key, 0) + 1
    utm = f"EPSG:{_utm_epsg(aoi_wgs84)}"
    preferred = max(crs_count, key=lambda k: (crs_count[k], k == utm, k)) if crs_count else None

    def coverage(item) -> float:
        try:
            inter = shape(item.geometry).intersection(aoi_wgs84).area
            return inter / aoi_wgs84.area if aoi_wgs84.area else 0.0
        except Exception:  # an odd footprint: rank it last, do not drop it
            return 0.0

    by_date: dict = {}
    for item in items:
        by_date.setdefault(_date_of(item), []).append(item)
    kept = []
    for date in sorted(by_date, key=lambda d: d or _dt.date.min):
        group = by_date[date]

        def rank(item):
            crs = _item_crs(item)
            on_grid = (crs.to_string() if crs else "?") == preferred
            baseline = str(item.properties.get("s2:processing_baseline") or "")
            cloud = item.properties.get("eo:cloud_cover")
            cloud = float(cloud) if cloud is not None else 100.0
            return (on_grid, round(coverage(item), 3), baseline, -cloud, item.id)

        group.sort(key=rank, reverse=True)
        best = group[0]
        kept.append(best)
        best_crs = _item_crs(best)
        covered = _footprint_in(best, aoi_wgs84)
        for other in group[1:]:
            crs = _item_crs(other)
            same_grid = crs is not None and best_crs is not None and crs == best_crs
            # an adjacent tile on the same grid that adds part of the area: the reader
            # fills one layer from both; anything else of the date is a duplicate
            part = _footprint_in(other, aoi_wgs84)
            adds = part.difference(covered).area / aoi_wgs84.area if aoi_wgs84.area else 0.0
            if same_grid and adds > 0.01:
                kept.append(other)
                covered = covered.union(part)
                continue
            why = message("fetch.reason.on_grid" if rank(best)[0] else "fetch.reason.larger")
            where = crs.to_string() if crs else message("fetch.reason.unknown_crs")
            records[other.id].update(
                status="duplicate",
                reason=message("fetch.reason.duplicate", best=best.id, why=why, crs=where,
                               adds=f"{adds:.0%}"),
            )  # fmt: skip
    return kept


# --------------------------------------------------------------------------- windows


def _window_for(ds, aoi_series, margin: float):
    """The source-grid window covering the AOI plus margin, clipped to the raster."""
    from rasterio.windows import Window

    geom = aoi_series.to_crs(ds.crs).iloc[0]
    left, bottom, right, top = geom.bounds
    left, bottom, right, top = left - margin, bottom - margin, right + margin, top + margin
    inv = ~ds.transform
    cols, rows = [], []
    for x, y in ((left, top), (right, top), (left, bottom), (right, bottom)):
        c, r = inv * (x, y)
        cols.append(c)
        rows.append(r)
    eps = 1e-6
    c0 = max(int(math.floor(min(cols) + eps)), 0)
    r0 = max(int(math.floor(min(rows) + eps)), 0)
    c1 = min(int(math.ceil(max(cols) - eps)), ds.width)
    r1 = min(int(math.ceil(max(rows) - eps)), ds.height)
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def _bytes_of_window(ds, window) -> int:
    """Compressed bytes of the blocks a window touches (what range requests fetch)."""
    try:
        bh, bw = ds.block_shapes[0]
        total = 0
        for i in range(
            int(window.row_off) // bh, (int(window.row_off + window.height) - 1) // bh + 1
        ):
            for j in range(
                int(window.col_off) // bw, (int(window.col_off + window.width) - 1) // bw + 1
            ):
                total += int(ds.block_size(1, i, j))
        return total + _HEADER_BYTES
    except Exception:  # not a tiled GeoTIFF: count the window's raw size
        return int(window.width * window.height * np.dtype(ds.dtypes[0]).itemsize)


def _source_bytes(ds) -> int:
    try:
        bh, bw = ds.block_shapes[0]
        rows = (ds.height + bh - 1) // bh
        cols = (ds.width + bw - 1) // bw
        return sum(int(ds.block_size(1, i, j)) for i in range(rows) for j in range(cols))
    except Exception:
        return 0


def _gdal_env(timeout: float, retries: int, extra=()):
    import rasterio

    options = dict(extra)
    for key in list(options):  # the user's own settings win
        if os.environ.get(key):
            options.pop(key)
    return rasterio.Env(
        **_GDAL_HTTP,
        **options,
        GDAL_HTTP_TIMEOUT=str(int(max(timeout, 1))),
        GDAL_HTTP_CONNECTTIMEOUT=str(int(max(min(timeout, 30), 1))),
        GDAL_HTTP_MAX_RETRY=str(int(retries)),
        GDAL_HTTP_RETRY_DELAY="1",
        GDAL_HTTP_RETRY_CODES=",".join(str(c) for c in _RETRY_STATUS),
    )


@dataclass
class _Band:
    band: str
    key: str
    href: str
    data: np.ndarray | None = None
    profile: dict = field(default_factory=dict)
    bytes_read: int = 0
    bytes_source: int = 0
    asset: dict = field(default_factory=dict)


class _NeedsKeys(ImageryError):
    """The catalogue's assets need credentials the user has not set: stop at once."""


def _check_s3(href: str, cat: Catalog) -> None:
    """An s3:// asset needs keys: say which, before GDAL's own error does."""
    if not href.startswith("s3://") or os.environ.get("AWS_NO_SIGN_REQUEST", "").upper() == "YES":
        return
    if os.environ.get("AWS_ACCESS_KEY_ID") or (Path.home() / ".aws" / "credentials").exists():
        return
    raise _NeedsKeys(
        message("error.fetch.s3_keys", catalog=cat.name, href=href.split("?")[0], needs=cat.needs)
    )


def _read_band(band: _Band, aoi_series, margin, timeout, retries, cat=None) -> _Band:
    import rasterio

    if cat is not None:
        _check_s3(band.href, cat)
    with _gdal_env(timeout, retries, cat.gdal if cat is not None else ()):
        try:
            with rasterio.open(_gdal_path(band.href)) as ds:
                window = _window_for(ds, aoi_series, margin)
                if window is None:
                    band.data = None
                    return band
                band.data = ds.read(1, window=window)
                band.profile = {
                    "driver": "GTiff",
                    "dtype": ds.dtypes[0],
                    "count": 1,
                    "height": int(window.height),
                    "width": int(window.width),
                    "crs": ds.crs,
                    "transform": ds.window_transform(window),
                    "nodata": ds.nodata,
                }
                band.bytes_read = _bytes_of_window(ds, window)
                band.bytes_source = _source_bytes(ds)
        except rasterio.errors.RasterioIOError as exc:
            raise ImageryError(
                message(
                    "error.fetch.band_error",
                    band=band.band,
                    href=band.href.split("?")[0],
                    error=exc,
                )
            ) from exc
    return band


def _write_band(band: _Band, path: Path) -> int:
    """Write one band window as a COG (deflate), atomically; return its size."""
    import rasterio
    import rasterio.shutil
    from rasterio.io import MemoryFile

    with atomic_path(path) as tmp:
        with MemoryFile() as memfile:
            with memfile.open(**band.profile) as mem:
                mem.write(band.data, 1)
                rasterio.shutil.copy(
                    mem, str(tmp), driver="COG", compress="DEFLATE", PREDICTOR="2", BLOCKSIZE="256"
                )
    return path.stat().st_size


# --------------------------------------------------------------------------- screening


def _clear_share(mask_band: _Band, aoi_series, collection: str) -> tuple[float, int, int]:
    """(clear share, clear pixels, AOI pixels with data) on the AOI's own mask window."""
    from rasterio.features import geometry_mask

    from .imagery import DEFAULT_QA_BITS, DEFAULT_SCL_CLASSES, qa_pixel_mask, scl_mask

    data = mask_band.data
    prof = mask_band.profile
    geom = aoi_series.to_crs(prof["crs"]).iloc[0]
    inside = geometry_mask(
        [geom], out_shape=data.shape, transform=prof["transform"], invert=True, all_touched=True
    )
    nodata = prof.get("nodata")
    if collection == "landsat-c2-l2":
        has_data = inside & ((data & 1) == 0) & (data != (nodata if nodata is not None else 1))
        bad = qa_pixel_mask(data, DEFAULT_QA_BITS)
    else:
        has_data = inside & (data != 0)
        bad = scl_mask(data, DEFAULT_SCL_CLASSES)
    n = int(np.count_nonzero(has_data))
    clear = int(np.count_nonzero(has_data & ~bad))
    return (clear / n if n else 0.0), clear, n


# --------------------------------------------------------------------------- item.json


def _boa_decision(item, bands: dict[str, _Band]):
    """(offset, source, notes) decided from the source item's metadata and the values."""
    from .imagery import _scene_from_item, boa_offset, scl_mask

    scene = _scene_from_item(item)
    if scene.sensor != "sentinel-2":
        return None, None, []
    visible = [bands[b].data for b in ("blue", "green", "red") if b in bands]
    dn = None
    if visible and all(v is not None for v in visible):
        shape = visible[0].shape
        same = [v.astype(np.float64) for v in visible if v.shape == shape]
        dn = np.stack(same)
        mask = bands.get("scl")
        if mask is not None and mask.data is not None:
            scl = mask.data
            factor = shape[0] // max(scl.shape[0], 1)
            if factor >= 1 and scl.shape[0] * factor <= shape[0] + factor:
                up = np.kron(scl, np.ones((factor, factor), dtype=scl.dtype))
                up = up[: shape[0], : shape[1]]
                if up.shape == shape:
                    bad = scl_mask(up) | (up == 6)
                    dn = np.where(bad[None, ...], np.nan, dn)
    return boa_offset(scene, dn)


def _item_dict(item, bands: dict[str, _Band], files: dict[str, Path], extra: dict) -> dict:
    from shapely.geometry import box, mapping

    from .imagery import _reference_band, _scene_from_item

    data = item.to_dict(include_self_link=False, transform_hrefs=False)
    source_self = item.get_self_href()
    props = dict(data.get("properties", {}))
    ref = None
    for name in ("blue", "green", "red", "nir", "nir08"):
        if name in bands:
            ref = bands[name]
            break
    ref = ref or next(iter(bands.values()))
    prof = ref.profile
    t = prof["transform"]
    bounds = (t.c, t.f + t.e * prof["height"], t.c + t.a * prof["width"], t.f)
    epsg = prof["crs"].to_epsg()
    if epsg:
        props["proj:epsg"] = int(epsg)
        props.pop("proj:code", None)
    props["proj:bbox"] = [float(v) for v in bounds]
    props.update(extra)
    assets = {}
    for name, band in bands.items():
        src = dict(band.asset)
        for key in ("alternate", "storage:refs", "file:checksum", "file:size", "proj:bbox"):
            src.pop(key, None)
        bt = band.profile["transform"]
        src.update(
            {
                "href": f"./{files[name].name}",
                "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                "roles": src.get("roles") or ["data"],
                "proj:shape": [band.profile["height"], band.profile["width"]],
                "proj:transform": [bt.a, bt.b, bt.c, bt.d, bt.e, bt.f],
                "file:size": files[name].stat().st_size,
                "ntmgis:source_href": band.href.split("?", 1)[0],
            }
        )
        assets[band.key] = src
    from pyproj import Transformer

    tr = Transformer.from_crs(prof["crs"], "EPSG:4326", always_xy=True)
    xs, ys = tr.transform(
        [bounds[0], bounds[2], bounds[2], bounds[0]], [bounds[1], bounds[1], bounds[3], bounds[3]]
    )
    footprint = box(min(xs), min(ys), max(xs), max(ys))
    links = [
        link
        for link in data.get("links", [])
        if link.get("rel") not in ("self", "root", "parent", "collection")
    ]
    if source_self:
        links.append({"rel": "via", "href": source_self, "type": "application/geo+json"})
    exts = list(data.get("stac_extensions", []))
    for ext in (
        "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
        "https://stac-extensions.github.io/file/v2.1.0/schema.json",
    ):
        if ext not in exts:
            exts.append(ext)
    out = {
        "type": "Feature",
        "stac_version": data.get("stac_version", "1.0.0"),
        "stac_extensions": exts,
        "id": item.id,
        "geometry": mapping(footprint),
        "bbox": list(footprint.bounds),
        "properties": props,
        "links": links,
        "assets": assets,
    }
    if item.collection_id:
        out["collection"] = item.collection_id
    # the reader must find what we wrote: check it reads back
    import pystac

    check = _scene_from_item(pystac.Item.from_dict(out), base=files[ref.band].parent)
    _reference_band(check)
    return out


# --------------------------------------------------------------------------- resume


def _request_key(aoi_wgs84, margin: float, bands) -> dict:
    """What a scene folder was fetched for: a folder for another area or bands is redone."""
    return {
        "ntmgis:aoi_bbox": [round(v, 6) for v in aoi_wgs84.bounds],
        "ntmgis:margin_m": float(margin),
        "ntmgis:bands": sorted(bands),
    }


def _complete(folder: Path, request: dict | None = None) -> bool:
    """True when a scene folder's item.json and every asset it lists check out.

    With ``request``, the folder must also have been fetched for the same area, margin
    and (at least the) bands.
    """
    import rasterio

    item_file = folder / "item.json"
    if not item_file.is_file():
        return False
    try:
        data = json.loads(item_file.read_text(encoding="utf-8"))
        assets = data["assets"]
        if not assets:
            return False
        props = data["properties"]
        for key, value in (request or {}).items():
            if key == "ntmgis:bands":
                if not set(value) <= set(props.get(key, [])):
                    return False
            elif props.get(key) != value:
                return False
        for asset in assets.values():
            path = folder / asset["href"]
            if not path.is_file():
                return False
            if asset.get("file:size") is not None and path.stat().st_size != asset["file:size"]:
                return False
            with rasterio.open(path) as ds:
                if list(asset.get("proj:shape", [ds.height, ds.width])) != [ds.height, ds.width]:
                    return False
    except (OSError, ValueError, KeyError, TypeError, rasterio.errors.RasterioIOError):
        return False
    return True


def _reusable(path: Path, expected_shape, expected_transform) -> bool:
    """A band file left by an interrupted fetch: keep it only if it is the same window."""
    import rasterio

    if not path.is_file():
        return False
    try:
        with rasterio.open(path) as ds:
            ok = (ds.height, ds.width) == tuple(expected_shape) and ds.transform.almost_equals(
                expected_transform
            )
            if ok:
                ds.read(1, window=((0, 1), (0, 1)))
            return ok
    except (rasterio.errors.RasterioIOError, OSError, ValueError):
        return False


def _clean_partial(folder: Path) -> None:
    """Remove temporary files an interrupted fetch left (never final-name files)."""
    for child in folder.glob(".*"):
        if child.is_file():
            child.unlink(missing_ok=True)


# --------------------------------------------------------------------------- fetch


@dataclass
class _Job:
    """One fetch: what, where and how; shared by the search, screening and download steps."""

    cat: Catalog
    collection: str
    period: object
    start: _dt.date
    end: _dt.date
    wanted: list[str]
    out: Path
    aoi_series: object
    aoi_wgs84: object
    margin: float = 100.0
    max_cloud: float = 80.0
    workers: int = 4
    timeout: float = 60.0
    retries: int = 3
    limit: int = 100
    sign: Callable | None = None

    @property
    def mask(self) -> str:
        """The collection's mask band (``scl`` or ``qa_pixel``)."""
        return COLLECTIONS[self.collection]["mask"]

    @property
    def request(self) -> dict:
        """What each scene folder is fetched for (:func:`_request_key`)."""
        return _request_key(self.aoi_wgs84, self.margin, self.wanted)

    def read(self, band: _Band) -> _Band:
        """One band's window over the AOI plus margin."""
        return _read_band(band, self.aoi_series, self.margin, self.timeout, self.retries, self.cat)


def _job(aoi, *, period, out, catalog, collection, aoi_layer, aoi_crs, max_cloud, bands,
         margin, workers, timeout, retries, limit) -> _Job:  # fmt: skip
    """:func:`fetch_scenes`' arguments checked, before any request."""
    from .indices import parse_period

    cat = _catalog(catalog)
    collection = _collection(collection, cat)
    window = parse_period(period)
    if window is None:
        raise InputError(message("error.fetch.no_period"))
    start, end = window
    if start == _dt.date.min or end == _dt.date.max:
        raise InputError(message("error.fetch.open_period", period=repr(period)))
    if not 0 <= float(max_cloud) <= 100:
        raise InputError(message("error.fetch.max_cloud", value=repr(max_cloud)))
    wanted = list(dict.fromkeys(_band_names(bands, collection)))
    wanted.append(COLLECTIONS[collection]["mask"])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    aoi_series, aoi_wgs84 = _aoi(aoi, aoi_layer, aoi_crs)
    return _Job(
        cat=cat, collection=collection, period=period, start=start, end=end, wanted=wanted,
        out=out, aoi_series=aoi_series, aoi_wgs84=aoi_wgs84, margin=margin,
        max_cloud=float(max_cloud), workers=workers, timeout=timeout, retries=retries,
        limit=limit,
    )  # fmt: skip


def fetch_scenes(
    aoi,
    *,
    period,
    out,
    catalog="earth-search",
    collection: str = "sentinel-2-l2a",
    aoi_layer: str | None = None,
    aoi_crs=None,
    max_cloud: float = 80.0,
    bands: Sequence[str] | None = None,
    margin: float = 100.0,
    workers: int = 4,
    timeout: float = 60.0,
    retries: int = 3,
    limit: int = 100,
    progress: Callable | None = None,
) -> FetchResult:
    """Fetch a commune's scenes from a STAC catalogue: the AOI's window of each band.

    Parameters
    ----------
    aoi : path, GeoDataFrame, GeoSeries, shapely geometry or (west, south, east, north)
        The area of interest in any CRS the library reads (a commune outline, the
        parcels); a bounding box is in WGS 84 degrees unless ``aoi_crs`` says otherwise.
        It is reprojected for the search and the windows, never the pixels.
    period : str or tuple
        ``"START:END"`` (inclusive), e.g. ``"2020-01-01:2020-12-31"``.
    out : path
        Output folder: one scene folder per kept date, and ``fetch_report.json``.
    catalog : str or Catalog
        ``"earth-search"`` (default, no account), ``"planetary-computer"`` (assets
        signed), ``"cdse"`` (S3 keys), or a STAC API URL.
    collection : {"sentinel-2-l2a", "landsat-c2-l2"}
    aoi_layer : str, optional
        Layer of the AOI file (e.g. ``"commune"``).
    aoi_crs : optional
        CRS of an AOI without one (or of a bounding box).
    max_cloud : float
        Highest share (%) of the AOI's own pixels under cloud, shadow or no data (from
        the SCL or QA_PIXEL window) for a date to be kept.
    bands : sequence of str, optional
        Common band names (``blue``, ``red``, ``nir``, ``swir16``...); default: those the
        library's indices use. The mask band is always added.
    margin : float
        Metres around the AOI's bounds (default 100, more than the reader's 40).
    workers : int
        Bands of one date read in parallel.
    timeout : float
        Seconds per HTTP request (catalogue and assets).
    retries : int
        Retries of a failed request (HTTP 429, 5xx, timeouts), with back-off.
    limit : int
        Items per search page.
    progress : callable, optional
        ``progress(fraction, message)``; returning ``False`` cancels: the date being
        fetched is dropped, the dates already complete stay (the next call reuses them).

    Returns
    -------
    FetchResult
        The scenes written (a list of :class:`ntmgis.imagery.Scene`), with ``items``
        (every item found and its fate), ``bytes_read``, ``bytes_written`` and
        :meth:`FetchResult.summary`. ``OUT/fetch_report.json`` holds the same.

    Raises
    ------
    InputError
        Unknown catalogue or collection (the known ones are listed), bad period or AOI.
    ImageryError
        The catalogue cannot be reached or keeps failing (names it), every date is too
        cloudy over the AOI (says which threshold to relax).
    DataNotFoundError
        No item in the period (gives the nearest dates found).
    CancelledError
        When ``progress`` returns ``False``.
    """
    from .imagery import find_scenes

    job = _job(
        aoi, period=period, out=out, catalog=catalog, collection=collection,
        aoi_layer=aoi_layer, aoi_crs=aoi_crs, max_cloud=max_cloud, bands=bands, margin=margin,
        workers=workers, timeout=timeout, retries=retries, limit=limit,
    )  # fmt: skip
    _progress.report(
        progress, 0.0, message("fetch.searching", catalog=job.cat.name, collection=job.collection)
    )
    items = _search_items(job)
    job.sign = _signer(job.cat)
    records = {item.id: _record(item) for item in items}
    kept = _dedupe(items, job.aoi_wgs84, records)
    result = FetchResult(out=job.out, catalog=job.cat.name, collection=job.collection)
    folders = _download(job, kept, records, result, progress)
    _write_report(job.out, result, records, job.cat, job.collection, job.period)
    if not folders:
        raise ImageryError(
            _nothing_kept_message(records, job.max_cloud, job.cat, job.collection, job.period)
        )
    result.extend(find_scenes(folders))
    _progress.report(progress, 1.0, message("fetch.done", n=len(result), out=job.out))
    return result


class _RetryToDebug(logging.Filter):
    """urllib3's "Retrying (...) after connection broken by ..." lines, as ntmgis debug lines.

    A user sees one sentence naming the catalogue when the retries are spent, not a
    connection trace per retry (``-vv`` still shows them).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno == logging.WARNING and record.getMessage().startswith("Retrying"):
            logger.debug("catalogue request retried: %s", record.getMessage())
            return False
        return True


@contextlib.contextmanager
def _retries_logged():
    """While talking to the catalogue, urllib3's retry warnings go to the debug log."""
    pool_logger = logging.getLogger("urllib3.connectionpool")
    note = _RetryToDebug()
    pool_logger.addFilter(note)
    try:
        yield
    finally:
        pool_logger.removeFilter(note)


#: An AOI with more vertices than this is searched with its convex hull.
_SEARCH_VERTICES = 500


def _search_geometry(aoi_wgs84):
    """The geometry sent to the catalogue: the AOI, or its convex hull when it is detailed.

    The union of a commune's parcels has thousands of vertices (1600 parcels: 2500
    vertices, a 100 kB request); its convex hull meets the same tiles in a request of a
    few hundred bytes. Items are still screened on the AOI's own pixels.
    """
    import shapely

    if shapely.get_num_coordinates(aoi_wgs84) <= _SEARCH_VERTICES:
        return aoi_wgs84
    return aoi_wgs84.convex_hull


def _search_items(job: _Job) -> list:
    """The items of the period over the AOI; none is an error giving the nearest dates."""
    where = _search_geometry(job.aoi_wgs84)
    with _retries_logged():
        client = _open_client(job.cat, timeout=job.timeout, retries=job.retries)
        if job.cat.collections == ():
            _check_collection(client, job.cat, job.collection)
        items = _search(client, job.cat, job.collection, where, job.start, job.end, job.limit)
        logger.info("%s: %d items for %s..%s", job.cat.name, len(items), job.start, job.end)
        if not items:
            raise DataNotFoundError(
                _no_scene_message(client, job.cat, job.collection, where, job.start, job.end)
            )
    return items


def _record(item) -> dict:
    """An item's line of the fetch report, before its fate is known."""
    return {
        "id": item.id,
        "date": (_date_of(item) or "").__str__(),
        "tile_cloud_cover": item.properties.get("eo:cloud_cover"),
        "status": "pending",
        "clear_share": None,
        "reason": "",
    }


def _download(job: _Job, kept: list, records: dict, result: FetchResult, progress) -> list[Path]:
    """Fetch each kept item (or check it is complete); the scene folders that are there."""
    folders: list[Path] = []
    n = len(kept)
    for i, item in enumerate(kept):
        rec = records[item.id]
        sub = _progress.scaled(progress, 0.02 + 0.96 * i / n, 0.02 + 0.96 * (i + 1) / n)
        _progress.report(sub, 0.0, f"{rec['date']} {item.id}")
        final = job.out / item.id
        if _complete(final, job.request):
            rec.update(status="complete", reason=message("fetch.reason.complete"))
            meta = json.loads((final / "item.json").read_text(encoding="utf-8"))
            rec["clear_share"] = meta["properties"].get("ntmgis:clear_share")
            folders.append(final)
            continue
        try:
            status = _fetch_item(job, item, rec, result, sub)
        except (CancelledError, _NeedsKeys):
            shutil.rmtree(job.out / f".{item.id}.part", ignore_errors=True)
            _write_report(job.out, result, records, job.cat, job.collection, job.period)
            raise
        except ImageryError as exc:
            shutil.rmtree(job.out / f".{item.id}.part", ignore_errors=True)
            rec.update(status="error", reason=str(exc))
            warn(message("warning.fetch.skipped", item=item.id, reason=exc), ImageryWarning,
                 where=item.id, what="warning.fetch.skipped")  # fmt: skip
            continue
        if status == "fetched":
            folders.append(final)
    return folders


def _band_names(bands, collection: str) -> list[str]:
    spec = COLLECTIONS[collection]
    if not bands:
        return list(spec["default_bands"])
    names = []
    for b in bands:
        key = str(b).strip()
        found = None
        for common, keys in spec["assets"].items():
            if key.lower() == common or key in keys or key.upper() in keys:
                found = common
        if found is None:
            raise InputError(message("error.fetch.unknown_band", band=b, collection=collection,
                                     known=", ".join(spec["assets"])))  # fmt: skip
        if found != spec["mask"]:
            names.append(found)
    return names


def _fetch_item(job: _Job, item, rec: dict, result: FetchResult, progress) -> str:
    """Fetch one item into its scene folder: screen its mask, read and write its bands.

    Returns the item's status (also in ``rec``): ``"fetched"``, ``"cloudy"``,
    ``"no data"`` or ``"missing asset"``.
    """
    bands = _item_bands(job, item, rec)
    if bands is None:
        return rec["status"]
    partial = job.out / f".{item.id}.part"
    partial.mkdir(parents=True, exist_ok=True)
    _clean_partial(partial)
    screened = _screen(job, item, rec, bands[job.mask], result)
    if screened is None:
        shutil.rmtree(partial, ignore_errors=True)
        return rec["status"]
    share, clear, total = screened
    _progress.report(progress, 0.15, message("fetch.reading", item=item.id, share=f"{share:.0%}"))
    todo = [b for name, b in bands.items() if name != job.mask]
    _read_in_parallel(job, item, todo, progress)
    files = _write_bands(job, rec, bands[job.mask], todo, partial, result)
    if files is None:
        shutil.rmtree(partial, ignore_errors=True)
        return rec["status"]
    extra = _item_extra(job, item, rec, bands, (share, clear, total))
    doc = _item_dict(item, bands, files, extra)
    with atomic_path(partial / "item.json") as tmp:
        tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False), encoding="utf-8")
    final = job.out / item.id
    if final.exists():
        shutil.rmtree(final)
    os.replace(partial, final)
    rec.update(status="fetched", reason=message("fetch.reason.fetched", share=f"{share:.0%}"))
    return rec["status"]


def _item_bands(job: _Job, item, rec: dict) -> dict[str, _Band] | None:
    """The item's asset for each wanted band; None (reported) when one is missing."""
    bands: dict[str, _Band] = {}
    missing = []
    for name in job.wanted:
        key, asset = _asset_for(item, name, job.collection)
        if asset is None:
            missing.append(name)
            continue
        bands[name] = _Band(name, key, _href(asset, job.sign), asset=asset.to_dict())
    if not missing:
        return bands
    fields = {"bands": ", ".join(missing), "assets": ", ".join(item.assets)}
    rec.update(status="missing asset", reason=message("fetch.reason.missing_asset", **fields))
    warn(message("warning.fetch.missing_asset", item=item.id, **fields), ImageryWarning,
         where=item.id, what="warning.fetch.missing_asset")  # fmt: skip
    return None


def _screen(job: _Job, item, rec: dict, mask: _Band, result: FetchResult):
    """Read the mask window first: (clear share, clear, AOI pixels), or None when skipped."""
    job.read(mask)
    result.bytes_read += mask.bytes_read
    result.bytes_source += mask.bytes_source
    if mask.data is None:
        rec.update(status="no data", clear_share=0.0, reason=message("fetch.reason.outside"))
        return None
    share, clear, total = _clear_share(mask, job.aoi_series, job.collection)
    rec["clear_share"] = round(share, 4)
    if total == 0:
        rec.update(status="no data", reason=message("fetch.reason.edge"))
        return None
    if (1.0 - share) * 100.0 > job.max_cloud:
        cloudy = message("fetch.cloudy", share=f"{1 - share:.0%}", max_cloud=f"{job.max_cloud:g}")
        rec.update(status="cloudy", reason=cloudy)
        return None
    return share, clear, total


def _read_in_parallel(job: _Job, item, todo: list[_Band], progress) -> None:
    """Read the bands' windows, ``job.workers`` at a time; a failure stops the others."""
    stop = threading.Event()

    def read(band: _Band) -> _Band:
        return band if stop.is_set() else job.read(band)

    with ThreadPoolExecutor(max_workers=max(1, int(job.workers))) as pool:
        futures = [pool.submit(read, b) for b in todo]
        try:
            for k, fut in enumerate(futures):
                band = fut.result()
                fraction = 0.15 + 0.8 * (k + 1) / len(futures)
                _progress.report(progress, fraction, f"{item.id}: {band.band}")
        except BaseException:
            stop.set()
            raise


def _write_bands(job: _Job, rec: dict, mask: _Band, todo: list[_Band], partial: Path,
                 result: FetchResult) -> dict[str, Path] | None:  # fmt: skip
    """Write each band's COG in the partial folder (a same-window file left is kept).

    None (reported in ``rec``) when a band does not cover the area.
    """
    files: dict[str, Path] = {}
    keep = ("blue", "green", "red", job.mask)  # the BOA offset check needs these values
    for band in [mask, *todo]:
        if band.data is None:
            rec.update(status="no data", reason=message("fetch.reason.band_outside",
                                                         band=band.band))  # fmt: skip
            return None
        if band is not mask:
            result.bytes_read += band.bytes_read
            result.bytes_source += band.bytes_source
        path = partial / f"{band.key}.tif"
        if not _reusable(path, band.data.shape, band.profile["transform"]):
            result.bytes_written += _write_band(band, path)
        files[band.band] = path
        band.data = band.data if band.band in keep else None
    return files


def _item_extra(job: _Job, item, rec: dict, bands: dict[str, _Band], counts) -> dict:
    """The properties ntmgis adds to the item: source, request, clear share, BOA decision."""
    share, clear, total = counts
    extra = {
        "ntmgis:source_item": item.get_self_href() or item.id,
        "ntmgis:catalog": job.cat.url,
        "ntmgis:clear_share": round(share, 4),
        "ntmgis:clear_pixels": clear,
        "ntmgis:aoi_pixels": total,
        **job.request,
        "ntmgis:fetched": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    offset, source, notes = _boa_decision(item, bands)
    if offset is None:
        return extra
    extra.update(
        {
            "s2:boa_add_offset": offset,
            "ntmgis:boa_offset_source": source,
            "ntmgis:boa_offset_notes": notes,
        }
    )
    # the reader trusts an "applied" flag first: keep it consistent with the decision
    for flag in ("earthsearch:boa_offset_applied", "sentinel:boa_offset_applied"):
        if flag in item.properties:
            extra[f"ntmgis:source_{flag.replace(':', '_')}"] = item.properties[flag]
            extra[flag] = offset == 0.0
    rec["boa_offset"] = offset
    rec["boa_offset_source"] = source
    for note in notes:
        warn(message("warning.fetch.boa_note", item=item.id, note=note), ImageryWarning,
             where=item.id, what="warning.fetch.boa_note")  # fmt: skip
    return extra


def _write_report(out: Path, result: FetchResult, records: dict, cat, collection, period):
    result.items = sorted(records.values(), key=lambda r: (r["date"], r["id"]))
    doc = {
        "catalog": cat.name,
        "url": cat.url,
        "collection": collection,
        "period": str(period),
        "bytes_read": result.bytes_read,
        "bytes_source": result.bytes_source,
        "bytes_written": result.bytes_written,
        "items": result.items,
    }
    with atomic_path(out / "fetch_report.json") as tmp:
        tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=str), encoding="utf-8")


def _no_scene_message(client, cat, collection, aoi_wgs84, start, end) -> str:
    before = after = None
    try:
        wide_start = start - _dt.timedelta(days=400)
        wide_end = end + _dt.timedelta(days=400)
        for item in _search(client, cat, collection, aoi_wgs84, wide_start, wide_end, 100):
            date = _date_of(item)
            if date is None:
                continue
            if date < start and (before is None or date > before):
                before = date
            if date > end and (after is None or date < after):
                after = date
    except (ImageryError, InputError):
        pass
    near = [
        message("fetch.near.before", date=before) if before else "",
        message("fetch.near.after", date=after) if after else "",
    ]
    near_text = "; ".join(t for t in near if t) or message("fetch.near.none")
    return message(
        "error.fetch.no_scene", collection=collection, catalog=cat.name, start=start, end=end,
        near=near_text,
    )  # fmt: skip


def _nothing_kept_message(records, max_cloud, cat, collection, period) -> str:
    statuses = [r["status"] for r in records.values()]
    cloudy = [r for r in records.values() if r["status"] == "cloudy"]
    if cloudy and len(cloudy) >= statuses.count("error") + statuses.count("missing asset"):
        best = max(cloudy, key=lambda r: r["clear_share"] or 0.0)
        need = math.ceil((1 - (best["clear_share"] or 0.0)) * 100)
        return message(
            "error.fetch.all_cloudy", period=period, n=len(cloudy), max_cloud=f"{max_cloud:g}",
            date=best["date"], share=f"{best['clear_share']:.0%}", need=need,
        )  # fmt: skip
    reasons = "; ".join(f"{r['id']}: {r['status']} ({r['reason']})" for r in records.values())
    return message(
        "error.fetch.nothing", catalog=cat.name, collection=collection, reasons=reasons[:1500]
    )


def fetch_for_run(config, *, progress: Callable | None = None) -> FetchResult | None:
    """Fetch a run's imagery first when its config says ``[imagery] source``.

    The AOI is the run's parcels (read as the run reads them); the scenes go to
    ``[imagery] cache`` (default ``<outputs dir>/imagery``), which becomes the run's
    imagery folder. A second run reuses what is complete.

    Parameters
    ----------
    config : ntmgis.config.RunConfig
    progress : callable, optional
        ``progress(fraction, message)``; returning ``False`` cancels.

    Returns
    -------
    FetchResult or None
        None when the config reads scene folders it already has (``[inputs] imagery``).
    """
    source = getattr(config, "imagery_source", None)
    if not source:
        return None
    from .parcels import read_parcels

    parcels = read_parcels(config.parcels, layer=config.parcels_layer, crs=config.parcels_crs,
                           fields=config.parcels_fields, province=config.province)  # fmt: skip
    result = fetch_scenes(
        parcels,
        period=config.period,
        out=config.imagery_cache,
        catalog=source,
        collection=config.imagery_collection,
        max_cloud=config.max_cloud,
        progress=progress,
    )
    config.imagery = Path(config.imagery_cache)
    logger.info("fetched for the run: %s", result.summary())
    return result


def fetch_for_run_or_warn(config) -> FetchResult | None:
    """:func:`fetch_for_run` for one commune of a province; a failure is only warned about.

    That commune then fails on its missing imagery; the other communes go on.

    Parameters
    ----------
    config : ntmgis.config.RunConfig

    Returns
    -------
    FetchResult or None
    """
    from .errors import NtmgisError

    try:
        return fetch_for_run(config)
    except CancelledError:
        raise
    except NtmgisError as exc:
        where = str(config.source or config.commune or config.parcels)
        warn(message("warning.fetch.run_failed", where=where, error=exc), ImageryWarning,
             where=where, what="warning.fetch.run_failed")  # fmt: skip
        return None
