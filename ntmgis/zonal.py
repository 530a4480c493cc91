"""Per-parcel statistics with exact pixel coverage, computed once per grid.

A 500 m² garden covers about five Sentinel-2 pixels, most of them partly, so each pixel is
weighted by the exact share of its area inside the parcel (exactextract's semantics). The
coverage is computed once per grid, for all parcels at once, by a vectorised scanline
algorithm (no per-parcel Python loop), and stored as a sparse parcel x pixel matrix:
every layer of a stack (dates x bands or indices) then costs one sparse product.

How the exact coverage is computed
----------------------------------
Parcels are moved to pixel space (column ``u``, row ``v``; each pixel a unit square). By
Green's theorem the area of a polygon inside pixel ``(i, j)`` is
``∮ G_j(u) 1_i(v) dv`` with ``G_j(u) = clip(u, j, j + 1) - j``: every polygon edge is cut
at pixel row and column boundaries into pieces lying in a single pixel, each piece adds
``dv * (mean u - j)`` to its own pixel and ``dv`` to every pixel right of it in its row
(a per-row cumulative sum). All of it is numpy arithmetic over the edges of all parcels
at once: exact up to floating point (about 1e-12 of a pixel), holes and multipolygons
included. Small parcels are summed on dense local grids; a large one (a hamlet, a
commune, a district as the zone) is a few touched pixels per row and runs of whole pixels
between them, which are kept as runs: memory and time follow its boundary and its
pixels, never its bounding box, and ``mean``/``sum``/``count``/``valid`` add each run with
one reduction over the raster row.

Rasters: masked pixels are NaN, the layer's nodata, or 0 in a GDAL mask band (internal,
``.msk`` or per-dataset masks, as exactextract and rasterstats honour them). A file that
cannot be read in places (truncated, corrupt blocks) is read block by block: the parcels
over the lost blocks get the status ``unreadable`` (and no statistics for that layer, with
a :class:`~ntmgis.errors.ZonalWarning` naming the file and the block), the others are
computed; a file with nothing readable is an :class:`~ntmgis.errors.ImageryError`.
CRSs: parcels are reprojected to the raster's CRS; coordinates that cannot be in the CRS
the parcels declare (metres labelled EPSG:4326) are a :class:`~ntmgis.errors.CRSError`
naming the file; a raster without CRS is taken to be in the parcels' CRS, as QGIS takes a
layer of unknown CRS, with a warning when they overlap (a ``CRSError`` when they do not).

Columns of the result
---------------------
``zonal_stats`` returns one column per (layer, statistic) named ``"<layer>:<stat>"``
(for example ``"2020-01-12/ndvi:mean"``; :func:`split_column` splits a name back), plus
``status`` and ``coverage_fraction``. Statistics (coverage-weighted in ``"coverage"`` mode,
every selected pixel weight 1 in ``"centroid"`` and ``"all_touched"`` modes), over the
pixels that are valid in that layer (not NaN, not nodata):

``mean``, ``sum`` (0 when no pixel is valid, as exactextract), ``std`` (population),
``min``, ``max``, ``median``, ``pNN`` (weighted quantile, e.g. ``p10``, ``p90``,
``p2.5``: exactextract's definition, equal values merged and their weights summed before
interpolating, so pixels [1, 1, 1, 2] have median 1.5; ``quantiles="pixels"`` weighs each
pixel on its own, median 1.0; unlike exactextract, not truncated to integers on integer
rasters nor rounded to float32 on float32 rasters), ``count`` (sum of
the weights of valid pixels: in coverage mode the number of clear pixels, fractional),
``valid`` (``count`` divided by the parcel's coverage inside the grid: the share seen clear
on that date), ``above_T`` / ``below_T`` (share of the valid coverage whose value is
``> T`` / ``< T``, e.g. ``above_0.5``, ``below_-0.1``).

``status`` is ``ok`` (wholly inside the grid), ``partial`` (partly outside:
statistics of the inside part, ``coverage_fraction`` < 1), ``outside`` (no overlap: NaN),
``empty_geometry`` (null, empty or non-polygonal: NaN), ``no_pixels`` (``"centroid"``
mode only: the parcel overlaps the grid but holds no pixel centre: count 0, NaN mean) or
``unreadable`` (it lies over raster blocks that could not be read: NaN for that layer).
A parcel smaller than a pixel still gets values in ``"coverage"`` mode. Invalid polygons
are repaired (``shapely.make_valid``) before their coverage is computed.
``coverage_fraction`` is the share of the parcel's area inside the grid.

GDAL's rules in ``"centroid"`` and ``"all_touched"`` modes
---------------------------------------------------------
rasterstats rasterizes with GDAL, so these two modes reproduce GDAL's rasterizer
(``rasterio.features.rasterize``) pixel for pixel, ties included (tested on fuzzed
polygons whose vertices lie on a half- and quarter-pixel lattice): a pixel whose centre
lies exactly on an edge is decided by GDAL's fill rule (out on a left edge, in on a right
or top edge, in on a bottom edge), and ``"all_touched"`` adds the pixels GDAL's line
drawing burns along the edges, so an edge lying on a pixel boundary (within 1e-4 pixel)
touches the pixels on its own side only: ``box(0, 0, 2, 2)`` on a unit grid is 4 pixels.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import os
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import _progress
from ._io import open_raster, read_vector
from .crs import check_coordinates
from .errors import CRSError, ImageryError, InputError, ZonalWarning, warn
from .i18n import message
from .i18n import register as _register
from .stack import RasterStack

logger = logging.getLogger(__name__)

__all__ = [
    "Coverage",
    "compute_coverage",
    "zonal_stats",
    "split_column",
    "DEFAULT_STATS",
    "WEIGHTS",
]

DEFAULT_STATS = ("mean", "median", "std", "min", "max", "count")
WEIGHTS = ("coverage", "centroid", "all_touched")
QUANTILES = ("exactextract", "pixels")

STATUS_OK = "ok"
STATUS_PARTIAL = "partial"
STATUS_OUTSIDE = "outside"
STATUS_EMPTY = "empty_geometry"
STATUS_NO_PIXELS = "no_pixels"
STATUS_UNREADABLE = "unreadable"

# cells whose coverage is below this (in pixel units) are treated as untouched: floating
# point noise of the cumulative sums is ~1e-16
_COVER_TOL = 1e-14
# runs of whole pixels at least this long (down a column) are kept as runs, not entries
_RUN_MIN = 32
# local grid cells per coverage chunk: small chunks keep the temporaries in the CPU cache
# (2-3x faster than one big chunk) and bound memory
_CHUNK_CELLS = 262_144
# bytes of raw raster values per window read from a file
_WINDOW_BYTES = 32 * 2**20
# GDAL block cache (MB) while reading windows
_READ_CACHE_MB = 64
# values of a window cast at a time when summing runs of whole pixels (8 MB of float64)
_REDUCE_CHUNK = 2**20
# default memory budget (bytes) for the gathered pixel values of one group of layers
_VALUE_BUDGET = 512 * 2**20

_register(
    "zonal.unreadable_all",
    "Không đọc được ảnh '{file}' (kênh {band}, hàng {rows}, cột {cols}): tệp bị cắt cụt "
    "hoặc hỏng, không còn điểm ảnh nào đọc được cho lớp '{layer}'. Hãy tải lại hoặc tạo "
    "lại tệp này.",
    "Cannot read raster '{file}' (band {band}, rows {rows}, columns {cols}): the file is "
    "truncated or corrupt and no pixel of layer '{layer}' could be read. Download or "
    "write the file again.",
)
_register(
    "zonal.unreadable_blocks",
    "Ảnh '{file}' có {blocks} khối không đọc được (khối đầu: kênh {band}, hàng {rows}, "
    "cột {cols}), có thể tệp bị cắt cụt. {parcels} thửa nằm trên các khối đó có trạng "
    "thái 'unreadable' và không có số liệu cho lớp đó; các thửa khác vẫn được tính. Hãy "
    "tải lại tệp này.",
    "Raster '{file}': {blocks} block(s) could not be read (first: band {band}, rows "
    "{rows}, columns {cols}); the file may be truncated. {parcels} parcel(s) over them get "
    "status 'unreadable' and no statistics for that layer; the other parcels are "
    "computed. Download the file again.",
)

_register(
    "zonal.raster_no_crs",
    "Ảnh không có hệ tọa độ (CRS): coi như cùng hệ với thửa đất ({crs}), như QGIS làm với "
    "lớp không rõ CRS. Nếu sai, hãy gán đúng hệ tọa độ cho tệp ảnh (ví dụ trong QGIS) rồi "
    "chạy lại.",
    "The raster has no coordinate reference system: taken to be the parcels' ({crs}), as "
    "QGIS takes a layer of unknown CRS. If that is wrong, set the raster's CRS "
    "(gdal_edit.py -a_srs EPSG:32648 image.tif).",
)
_register(
    "zonal.raster_no_crs_apart",
    "Ảnh không có hệ tọa độ (CRS) và thửa đất '{source}' ({crs}) không nằm trên ảnh: không "
    "thể biết ảnh ở đâu. Hãy gán đúng hệ tọa độ cho tệp ảnh (ví dụ trong QGIS; ảnh "
    "Sentinel-2 ở Hà Tĩnh thường là EPSG:32648) rồi chạy lại.",
    "The raster has no coordinate reference system and the parcels '{source}' ({crs}) do "
    "not fall on it: where the raster lies is unknown. Set the raster's CRS "
    "(gdal_edit.py -a_srs EPSG:32648 image.tif) and run again.",
)
_register(
    "zonal.parcels_no_crs",
    "Thửa đất '{source}' không có hệ tọa độ (CRS): coi như cùng hệ với ảnh ({crs}). Nếu "
    "sai, hãy gán đúng hệ tọa độ cho tệp thửa đất (ví dụ trong QGIS, hoặc thêm tệp .prj) "
    "rồi chạy lại.",
    "Parcels '{source}' have no CRS; assuming they are in the raster's CRS ({crs}). Set it "
    "with .set_crs() (or a .prj file) if that is wrong.",
)

_register(
    "error.zonal.not_a_column",
    "Cột '{name}' không phải cột thống kê theo thửa dạng '<lớp>:<chỉ số>' (ví dụ "
    "'2024-03-01/ndvi:mean'). Hãy kiểm tra tên cột.",
    "Column '{name}' is not a '<layer>:<stat>' zonal statistics column (e.g. "
    "'2024-03-01/ndvi:mean'). Check the column's name.",
)
_register(
    "error.zonal.unknown_stat",
    "Không có chỉ số thống kê '{stat}'. Hãy dùng một trong: {known}, một phân vị 'pNN' (ví "
    "dụ p10, p90) hoặc tỷ lệ điểm ảnh vượt ngưỡng 'above_T' / 'below_T' (ví dụ above_0.5).",
    "Unknown statistic '{stat}'. Use one of {known}, a quantile 'pNN' (e.g. p10, p90) or a "
    "threshold share 'above_T' / 'below_T' (e.g. above_0.5).",
)
_register(
    "error.zonal.quantile_range",
    "Phân vị '{stat}' phải nằm trong khoảng từ p0 đến p100. Hãy sửa chỉ số thống kê này.",
    "Quantile '{stat}' must be between p0 and p100. Correct this statistic.",
)
_register(
    "error.zonal.no_stat",
    "Chưa chọn chỉ số thống kê nào: hãy chọn ít nhất một (ví dụ mean, count).",
    "No statistic requested: choose at least one (e.g. mean, count).",
)
_register(
    "error.zonal.array_shape",
    "Mảng ảnh phải có dạng (hàng, cột) hoặc (lớp, hàng, cột); mảng đã cho có dạng {shape}.",
    "Raster array must be (height, width) or (layers, height, width), got shape {shape}.",
)
_register(
    "error.zonal.no_raster",
    "Chưa có ảnh nào để tính thống kê: hãy chọn một tệp ảnh (GeoTIFF) hoặc một chồng ảnh.",
    "No raster given: give a raster file (GeoTIFF), an open dataset or a raster stack.",
)
_register(
    "error.zonal.other_grid",
    "Ảnh '{label}' không cùng lưới điểm ảnh với ảnh đầu tiên (kích thước {shape} so với "
    "{grid_shape}, phép biến đổi {transform} so với {grid_transform}). Hãy nắn (resample) "
    "các ảnh về cùng một lưới trước, hoặc tính thống kê riêng cho từng lưới.",
    "Raster '{label}' is not on the grid of the first raster (shape {shape} vs "
    "{grid_shape}, transform {transform} vs {grid_transform}). Resample it to one grid "
    "first, or compute statistics per grid.",
)
_register(
    "error.zonal.names_count",
    "Có {given} tên lớp cho {layers} lớp ảnh: hãy đặt đúng một tên cho mỗi lớp.",
    "{given} layer names given for {layers} layers; give one per layer.",
)
_register(
    "error.zonal.names_unique",
    "Tên các lớp ảnh bị trùng ({names}): hãy đặt cho mỗi lớp một tên riêng.",
    "Layer names are not unique ({names}); give each layer a name of its own.",
)
_register(
    "error.zonal.parcels_type",
    "Không đọc được thửa đất: cần một lớp bản đồ, đường dẫn tới tệp bản đồ (GeoPackage, "
    "Shapefile, GeoJSON) hoặc danh sách hình học; đã nhận {kind}.",
    "Cannot read the parcels: give a GeoDataFrame, a GeoSeries, a vector file path "
    "(GeoPackage, Shapefile, GeoJSON) or a list of shapely geometries; got {kind}.",
)
_register(
    "error.zonal.reproject",
    "Không chuyển được thửa đất '{source}' từ hệ tọa độ {crs} sang hệ tọa độ của ảnh "
    "{raster_crs} ({reason}). Hãy kiểm tra hệ tọa độ (CRS) của tệp thửa đất.",
    "Cannot reproject parcels '{source}' from {crs} to the raster CRS {raster_crs} "
    "({reason}). Check the CRS of the parcels file.",
)
_register(
    "error.zonal.coverage_grid",
    "Lưới của ảnh (kích thước {shape}, phép biến đổi {transform}, {crs}) không phải lưới "
    "đã dùng để tính độ phủ của các thửa (kích thước {cov_shape}, phép biến đổi "
    "{cov_transform}, {cov_crs}). Hãy tính lại độ phủ cho lưới của ảnh này.",
    "The rasters' grid (shape {shape}, transform {transform}, {crs}) is not the grid this "
    "coverage was computed for (shape {cov_shape}, transform {cov_transform}, {cov_crs}). "
    "Compute a coverage for that grid (compute_coverage(parcels, rasters)).",
)
_register(
    "error.zonal.degenerate",
    "Vị trí của ảnh bị hỏng (điểm ảnh có diện tích bằng 0): tệp ảnh hỏng hoặc thiếu thông "
    "tin tọa độ. Hãy tải lại hoặc tạo lại tệp ảnh.",
    "The raster transform is degenerate (zero pixel area): the file is damaged or lacks its "
    "georeferencing. Download or write the raster again.",
)
_register(
    "error.zonal.weights",
    "Không có cách tính trọng số '{weights}': hãy chọn một trong {known} (coverage: theo "
    "diện tích điểm ảnh nằm trong thửa; centroid: điểm ảnh có tâm trong thửa; all_touched: "
    "mọi điểm ảnh thửa chạm vào).",
    "weights must be one of {known}; got '{weights}' (coverage: the share of each pixel "
    "inside the parcel; centroid: pixels whose centre is inside; all_touched: every pixel "
    "the parcel touches).",
)
_register(
    "error.zonal.quantiles",
    "Không có cách tính phân vị '{quantiles}': hãy chọn một trong {known} ('exactextract' "
    "gộp các giá trị bằng nhau trước khi tính trọng số, như exactextract; 'pixels' tính "
    "từng điểm ảnh riêng).",
    "quantiles must be one of {known}; got '{quantiles}'. 'exactextract' merges equal "
    "values before weighting (exactextract's definition), 'pixels' weighs every pixel on "
    "its own.",
)
_register(
    "warning.zonal.no_overlap",
    "Không thửa nào trong {n} thửa nằm trên lưới ảnh (hệ tọa độ {crs}). Hãy kiểm tra thửa "
    "đất và ảnh có cùng một vùng không, và hệ tọa độ (CRS) của tệp thửa đất có đúng không.",
    "None of the {n} parcels overlaps the raster grid (CRS {crs}). Check that the parcels "
    "and the rasters are of the same area, and that the parcels' CRS is right.",
)

_RUN_STATS = {"mean", "sum", "count", "valid"}
_SIMPLE_STATS = {"mean", "sum", "std", "min", "max", "median", "count", "valid"}
_STAT_RE = re.compile(
    r"^(?:p(?P<p>\d+(?:\.\d+)?)|(?P<cmp>above|below)_(?P<t>[-+]?[\d.]+(?:e[-+]?\d+)?))$"
)


def split_column(name: str) -> tuple[str, str]:
    """Split a ``zonal_stats`` column name ``"<layer>:<stat>"`` into ``(layer, stat)``.

    Parameters
    ----------
    name : str
        A column name such as ``"2020-01-12/ndvi:p90"``.

    Returns
    -------
    tuple of str
        ``(layer, stat)``; the split is at the last colon, so layer names may hold colons.

    Examples
    --------
    >>> split_column("2020-01-12/ndvi:p90")
    ('2020-01-12/ndvi', 'p90')
    """
    layer, sep, stat = str(name).rpartition(":")
    if not sep:
        raise InputError(message("error.zonal.not_a_column", name=name))
    return layer, stat


def _parse_stats(stats) -> list[str]:
    if isinstance(stats, str):
        stats = [stats]
    out = []
    for stat in stats:
        s = str(stat).strip().lower()
        if s in ("stdev", "stddev"):
            s = "std"
        if s not in _SIMPLE_STATS and not _STAT_RE.match(s):
            known = ", ".join(sorted(_SIMPLE_STATS))
            raise InputError(message("error.zonal.unknown_stat", stat=stat, known=known))
        if s.startswith("p") and s != "p" and _STAT_RE.match(s):
            q = float(s[1:])
            if not 0 <= q <= 100:
                raise InputError(message("error.zonal.quantile_range", stat=stat))
        if s not in out:
            out.append(s)
    if not out:
        raise InputError(message("error.zonal.no_stat"))
    return out


# --------------------------------------------------------------------------------------
# raster sources: paths, open datasets, (array, transform[, crs]) and RasterStack
# --------------------------------------------------------------------------------------


@dataclass
class _Grid:
    transform: object
    shape: tuple[int, int]
    crs: object = None

    def same_as(self, other: _Grid) -> bool:
        return tuple(self.shape) == tuple(other.shape) and all(
            math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
            for a, b in zip(tuple(self.transform)[:6], tuple(other.transform)[:6])
        )


@dataclass
class _Layers:
    """Layers on one grid: either one in-memory array or bands of open datasets."""

    grid: _Grid
    names: list[str]
    array: np.ndarray | None = None  # (layers, H, W)
    nodata: float | None = None
    bands: list = field(default_factory=list)  # [(dataset, band index, nodata)] per layer
    # layer -> pixels (of the last gather) lying in blocks that could not be read
    unreadable: dict = field(default_factory=dict)
    # (file, band, window) of every block that could not be read
    bad_blocks: list = field(default_factory=list)
    # per layer of the last gather with runs: (sum, count) of valid values of each run
    run_sums: dict = field(default_factory=dict)
    # layer -> runs (of the last gather) crossing blocks that could not be read
    unreadable_runs: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.names)

    def gather(self, pixels, layers, block_rows, progress, out=None, runs=None):
        """Values of ``pixels`` (sorted flat indices) for ``layers``: float64 (g, P), NaN masked.

        With ``runs`` (:class:`_Runs`), the sums and counts of the valid values of every
        run are left in ``run_sums`` (layer position -> (sum, count) per run).
        """
        self.run_sums = {}
        self.unreadable_runs = {}
        if self.array is not None:
            h, w = self.grid.shape
            flat = self.array.reshape(self.array.shape[0], h * w)
            out = _buffer(out, len(layers), pixels.size)
            for k, layer in enumerate(layers):
                _put(out[k], flat[layer].take(pixels), self.nodata)
                if runs is not None and len(runs):
                    self.run_sums[k] = runs.sums(self.array[layer], 0, nodata=self.nodata)
                _progress.report(progress, (k + 1) / len(layers), "reading pixel values")
            return out
        return self._gather_bands(pixels, layers, block_rows, progress, out, runs)

    def _gather_bands(self, pixels, layers, block_rows, progress, out, runs=None):

        h, w = self.grid.shape
        out = _buffer(out, len(layers), pixels.size)
        with_runs = runs is not None and len(runs) > 0
        if pixels.size == 0 and not with_runs:
            return out
        if with_runs:
            for k in range(len(layers)):
                self.run_sums[k] = (np.zeros(len(runs)), np.zeros(len(runs)))
        # group requested layers by dataset so each window read serves several bands
        by_ds: dict[int, list[tuple[int, int, object]]] = {}
        datasets = {}
        for k, layer in enumerate(layers):
            ds, band, nodata = self.bands[layer]
            by_ds.setdefault(id(ds), []).append((k, band, nodata))
            datasets[id(ds)] = ds
        rows_of_pixels = pixels // w
        plan = []  # (dataset, entries, rows per window)
        for key, entries in by_ds.items():
            ds = datasets[key]
            bh = max(1, ds.block_shapes[0][0]) if ds.block_shapes else 1
            itemsize = np.dtype(ds.dtypes[0]).itemsize
            if block_rows is not None:
                rows, per_read = max(1, int(block_rows)), len(entries)
            else:
                # whole rows of internal blocks (each block decoded once), ~32 MB a window
                per_read = max(1, min(len(entries), _WINDOW_BYTES // (bh * w * itemsize)))
                rows = bh * max(1, _WINDOW_BYTES // (bh * w * itemsize * per_read))
            for i in range(0, len(entries), per_read):
                plan.append((ds, entries[i : i + per_read], rows))
        n_steps = sum(math.ceil(h / rows) for _, _, rows in plan)
        step = 0
        # every block is decoded once, straight into the window: GDAL's block cache would
        # only hold copies (up to 5% of RAM), so it is kept small while reading (rasterio
        # restores the user's setting afterwards)
        with _block_cache(_READ_CACHE_MB):
            for ds, entries, rows in plan:
                band_idx = [band for _, band, _ in entries]
                # one window buffer, reused (a fresh one per window costs page faults)
                buffer = np.empty(len(band_idx) * min(rows, h) * w, dtype=ds.dtypes[0])
                masked = [_needs_mask(ds, band) for band in band_idx]
                for r0 in range(0, h, rows):
                    step += 1
                    r1 = min(r0 + rows, h)
                    lo, hi = np.searchsorted(rows_of_pixels, [r0, r1])
                    in_window = runs.in_rows(r0, r1) if with_runs else None
                    if lo == hi and (in_window is None or not in_window.any()):
                        continue
                    size = len(band_idx) * (r1 - r0) * w
                    block = buffer[:size].reshape(len(band_idx), r1 - r0, w)
                    bad = self._read_window(ds, band_idx, r0, r1, block)
                    local = pixels[lo:hi] - r0 * w
                    flat = block.reshape(len(band_idx), -1)
                    for j, ((k, band, nodata), values) in enumerate(zip(entries, flat)):
                        target = out[k, lo:hi]
                        _put(target, values.take(local), nodata)
                        mask = None
                        if masked[j]:  # GDAL mask band (per dataset, internal, alpha)
                            mask = _read_mask(ds, band, r0, r1, w)
                            if mask is None:  # the mask itself cannot be read
                                bad = _mark(bad, j, len(band_idx), r1 - r0, w)
                            else:
                                np.putmask(target, mask.reshape(-1).take(local) == 0, np.nan)
                        if bad is not None and bad[j].any():
                            lost = bad[j].reshape(-1).take(local)
                            np.putmask(target, lost, np.nan)
                            self.unreadable.setdefault(k, np.zeros(pixels.size, bool))[lo:hi] |= (
                                lost
                            )
                        if in_window is not None and in_window.any():
                            lost2d = bad[j] if bad is not None and bad[j].any() else None
                            if lost2d is not None:
                                hit = runs.sums(lost2d.astype(np.float64), r0, in_window)[0]
                                lost_runs = self.unreadable_runs.setdefault(
                                    k, np.zeros(len(runs), bool)
                                )
                                lost_runs |= hit > 0
                            total, count = runs.sums(
                                block[j], r0, in_window, nodata=nodata, mask=mask, bad=lost2d
                            )
                            self.run_sums[k][0][:] += total
                            self.run_sums[k][1][:] += count
                    _progress.report(progress, step / n_steps, "reading pixel values")
                del buffer
        return out

    def _read_window(self, ds, band_idx, r0, r1, block):
        """Read rows ``r0:r1`` of ``band_idx`` into ``block``; None, or what failed.

        A window that cannot be read (a truncated or corrupt file) is read again block
        by block: the blocks that fail are returned as a (bands, rows, width) mask and
        recorded in ``bad_blocks``; the rest of the window is kept.
        """
        from rasterio.errors import RasterioError
        from rasterio.windows import Window

        w = block.shape[2]
        try:
            ds.read(band_idx, window=Window(0, r0, w, r1 - r0), out=block)
            return None
        except RasterioError:
            pass
        bh, bw = ds.block_shapes[0] if ds.block_shapes else (1, w)
        bh, bw = max(1, bh), max(1, bw)
        bad = np.zeros(block.shape, dtype=bool)
        for j, band in enumerate(band_idx):
            for br in range((r0 // bh) * bh, r1, bh):
                a, b = max(br, r0), min(br + bh, r1)
                for bc in range(0, w, bw):
                    win = Window(bc, a, min(bw, w - bc), b - a)
                    try:
                        block[j, a - r0 : b - r0, bc : bc + win.width] = ds.read(band, window=win)
                    except RasterioError:
                        bad[j, a - r0 : b - r0, bc : bc + win.width] = True
                        block[j, a - r0 : b - r0, bc : bc + win.width] = 0
                        self.bad_blocks.append((str(ds.name), band, (a, b, bc, bc + win.width)))
        return bad


@contextlib.contextmanager
def _block_cache(mb: int):
    """Bound GDAL's block cache to ``mb`` megabytes while reading, then restore it.

    Not ``rasterio.Env(GDAL_CACHEMAX=...)``: rasterio passes that value to GDAL in bytes
    (128 would be a 128-byte cache, under which GDAL's rasterizer misbehaves) and, inside
    the environment of an already open dataset, does not restore it on exit.
    """
    from rasterio.env import get_gdal_config, set_gdal_config

    before = get_gdal_config("GDAL_CACHEMAX")
    want = int(mb) * 2**20
    if not isinstance(before, int) or before <= want:
        yield
        return
    set_gdal_config("GDAL_CACHEMAX", want)
    try:
        yield
    finally:
        set_gdal_config("GDAL_CACHEMAX", before)


def _needs_mask(ds, band: int) -> bool:
    """Whether a band has a GDAL mask that nodata alone does not express."""
    from rasterio.enums import MaskFlags

    try:
        flags = set(ds.mask_flag_enums[band - 1])
    except Exception:  # drivers without mask support
        return False
    return not (flags <= {MaskFlags.all_valid} or flags == {MaskFlags.nodata})


def _read_mask(ds, band: int, r0: int, r1: int, w: int):
    from rasterio.errors import RasterioError
    from rasterio.windows import Window

    try:
        return ds.read_masks(band, window=Window(0, r0, w, r1 - r0))
    except RasterioError:
        return None


def _mark(bad, j: int, bands: int, rows: int, w: int) -> np.ndarray:
    if bad is None:
        bad = np.zeros((bands, rows, w), dtype=bool)
    bad[j] = True
    return bad


def _isnan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


@dataclass
class _Runs:
    """Runs of whole pixels along a row inside a parcel, kept as runs, not pixels.

    A large parcel (a hamlet, a commune) covers most of its pixels wholly: each row of it
    is a few boundary pixels and a run between them. A run's sum is one reduction over
    consecutive values of the raster row, so neither the coverage nor the statistics
    spend memory per interior pixel.
    """

    parcel: np.ndarray  # parcel row of each run
    row: np.ndarray  # its raster row
    col: np.ndarray  # its first column
    length: np.ndarray  # pixels in the run
    weight: np.ndarray  # coverage of each of its pixels (1 up to rounding)

    def __len__(self) -> int:
        return int(self.parcel.size)

    def in_rows(self, r0: int, r1: int) -> np.ndarray:
        """Runs in rows ``r0:r1``."""
        return (self.row >= r0) & (self.row < r1)

    def sums(self, x, r0: int, which=None, nodata=None, mask=None, bad=None):
        """Sum and count of the valid values of the 2-D ``x`` (rows ``r0:``) per run.

        Invalid: NaN, ``nodata``, ``mask == 0`` (a GDAL mask) or ``bad`` (unreadable).
        Returns arrays over all runs (zero for runs outside ``x``'s rows).
        """
        total = np.zeros(len(self))
        count = np.zeros(len(self))
        rows, width = x.shape
        sel = np.flatnonzero(self.in_rows(r0, r0 + rows) if which is None else which)
        if not sel.size:
            return total, count
        flat = np.ascontiguousarray(x).reshape(-1)
        start = (self.row[sel] - r0) * width + self.col[sel]
        stop = start + self.length[sel]
        invalid = None
        if flat.dtype.kind == "f":
            invalid = np.isnan(flat)
        if nodata is not None and not _isnan(nodata):
            hit = flat == nodata
            invalid = hit if invalid is None else invalid | hit
        if mask is not None:
            gone = mask.reshape(-1) == 0
            invalid = gone if invalid is None else invalid | gone
        if bad is not None:
            invalid = bad.reshape(-1) if invalid is None else invalid | bad.reshape(-1)
        if invalid is not None and not invalid.any():
            invalid = None
        if invalid is not None:
            flat = np.where(invalid, 0.0, flat)
        total[sel] = _run_reduce(flat, start, stop)
        if invalid is None:
            count[sel] = self.length[sel]
        else:
            count[sel] = _run_reduce(~invalid, start, stop, dtype=np.int64)
        return total, count

    def entries(self, w: int):
        """The runs as (parcel row, flat pixel, weight) entries."""
        n = self.length
        idx = np.repeat(np.arange(len(self)), n)
        k = np.arange(idx.size) - np.repeat(np.cumsum(n) - n, n)
        flat = self.row[idx] * w + self.col[idx] + k
        return self.parcel[idx], flat, self.weight[idx]


def _run_reduce(flat: np.ndarray, start: np.ndarray, stop: np.ndarray, dtype=np.float64):
    """Sum of ``flat[start:stop]`` for each run, in ``dtype`` (``np.add.reduceat``).

    ``reduceat`` with a ``dtype`` casts its whole input first (8 bytes per pixel of the
    window, however few pixels the runs hold), so the runs are summed span by span: runs
    in the order of their starts, grouped into spans of about ``_REDUCE_CHUNK`` values,
    each span cast into one reused buffer. Each run's sum is still one reduction over the
    same values, so the sums are those of ``np.add.reduceat(flat, ..., dtype=dtype)``;
    in start order, the gaps ``reduceat`` also sums (from a run's stop to the next
    start) add up to at most the array once.
    """
    out = np.zeros(start.size, dtype=np.float64)
    last = np.flatnonzero(stop >= flat.size)
    for i in last:  # a run ending at the window's last pixel: NumPy's sum, as always
        out[i] = flat[start[i] : stop[i]].sum(dtype=dtype)
    order = np.flatnonzero(stop < flat.size)
    if not order.size:
        return out
    order = order[np.argsort(start[order], kind="stable")]
    s, e = start[order], stop[order]
    group = (s - s[0]) // _REDUCE_CHUNK
    edges = np.flatnonzero(np.diff(group)) + 1
    buf = np.empty(_REDUCE_CHUNK + int((e - s).max()) + 1, dtype=dtype)
    for g0, g1 in zip(np.r_[0, edges], np.r_[edges, s.size]):
        lo, hi = int(s[g0]), int(e[g0:g1].max())
        span = buf[: hi - lo + 1]  # one value more: reduceat's indices stay inside
        span[:] = flat[lo : hi + 1]
        idx = np.empty(2 * (g1 - g0), dtype=np.int64)
        idx[0::2] = s[g0:g1] - lo
        idx[1::2] = e[g0:g1] - lo
        out[order[g0:g1]] = np.add.reduceat(span, idx)[0::2]
    return out


def _buffer(out, rows: int, cols: int) -> np.ndarray:
    """A float64 (rows, cols) array, reusing ``out``'s memory when it is large enough."""
    if out is not None and out.size >= rows * cols:
        return out.reshape(-1)[: rows * cols].reshape(rows, cols)
    return np.empty((rows, cols), dtype=np.float64)


def _put(target: np.ndarray, values: np.ndarray, nodata) -> None:
    """Copy ``values`` into the float64 ``target``, with NaN where they equal ``nodata``."""
    target[...] = values
    if nodata is not None and not (isinstance(nodata, float) and math.isnan(nodata)):
        mask = values == nodata
        if mask.any():
            np.putmask(target, mask, np.nan)


def _open_layers(rasters, stack: contextlib.ExitStack, names=None, nodata=None) -> _Layers:
    """Normalise ``rasters`` into :class:`_Layers` (datasets opened on ``stack``)."""
    import rasterio

    if isinstance(rasters, RasterStack):
        layers = _Layers(
            grid=_Grid(rasters.transform, rasters.shape, rasters.crs),
            names=list(rasters.names),
            array=rasters.data,
            nodata=rasters.nodata if nodata is None else nodata,
        )
    elif isinstance(rasters, tuple) and len(rasters) in (2, 3) and hasattr(rasters[0], "shape"):
        array = np.asarray(rasters[0])
        if array.ndim == 2:
            array = array[np.newaxis]
        if array.ndim != 3:
            raise InputError(message("error.zonal.array_shape", shape=array.shape))
        crs = rasters[2] if len(rasters) == 3 else None
        layers = _Layers(
            grid=_Grid(rasters[1], array.shape[1:], crs),
            names=[f"band{i + 1}" for i in range(array.shape[0])],
            array=array,
            nodata=nodata,
        )
    else:
        sources = list(rasters) if isinstance(rasters, list | tuple) else [rasters]
        if not sources:
            raise InputError(message("error.zonal.no_raster"))
        grid = None
        layer_names: list[str] = []
        bands = []
        labels = [_source_label(source) for source in sources]
        if len(set(labels)) < len(labels):  # e.g. <scene>/B08.tif of many dates
            labels = [_source_label(source, parent=True) for source in sources]
        for source, label in zip(sources, labels):
            # GDAL decodes the blocks of a window in parallel when the file is opened with
            # GDAL_NUM_THREADS set (compressed GeoTIFFs); user's own setting wins
            with rasterio.Env(GDAL_NUM_THREADS=os.environ.get("GDAL_NUM_THREADS", "ALL_CPUS")):
                ds = stack.enter_context(open_raster(source))
            this = _Grid(ds.transform, (ds.height, ds.width), ds.crs)
            if grid is None:
                grid = this
            elif not grid.same_as(this) or (
                grid.crs is not None and this.crs is not None and grid.crs != this.crs
            ):
                raise ImageryError(
                    message(
                        "error.zonal.other_grid", label=label, shape=this.shape,
                        grid_shape=grid.shape, transform=tuple(this.transform)[:6],
                        grid_transform=tuple(grid.transform)[:6],
                    )
                )  # fmt: skip
            for band in range(1, ds.count + 1):
                desc = ds.descriptions[band - 1] if ds.descriptions else None
                if len(sources) == 1:
                    name = desc or (label if ds.count == 1 else f"band{band}")
                else:
                    name = label if ds.count == 1 else f"{label}/{desc or f'band{band}'}"
                layer_names.append(name)
                bands.append((ds, band, ds.nodata if nodata is None else nodata))
        layers = _Layers(grid=grid, names=layer_names, bands=bands)
    if names is not None:
        names = [str(n) for n in names]
        if len(names) != len(layers):
            raise InputError(
                message("error.zonal.names_count", given=len(names), layers=len(layers))
            )
        layers.names = names
    if len(set(layers.names)) != len(layers.names):
        raise InputError(message("error.zonal.names_unique", names=", ".join(layers.names)))
    return layers


def _source_label(source, parent: bool = False) -> str:
    """A layer label for a raster source: its file stem (with its folder if ``parent``)."""
    from pathlib import Path

    if isinstance(source, str | bytes) or hasattr(source, "__fspath__"):
        path = Path(os.fsdecode(source))
    else:
        path = Path(str(getattr(source, "name", "raster")))
    return f"{path.parent.name}/{path.stem}" if parent else path.stem


def _grid_of(grid, stack: contextlib.ExitStack) -> _Grid:
    """A grid from a raster source, or from ``(transform, (height, width)[, crs])``."""
    from affine import Affine

    if isinstance(grid, _Grid):
        return grid
    if isinstance(grid, tuple) and len(grid) in (2, 3) and isinstance(grid[0], Affine):
        return _Grid(grid[0], tuple(int(x) for x in grid[1]), grid[2] if len(grid) == 3 else None)
    return _open_layers(grid, stack).grid


# --------------------------------------------------------------------------------------
# parcels
# --------------------------------------------------------------------------------------


def _read_parcels(parcels, grid, layer=None):
    """Return (index, geometry array in the grid CRS).

    The parcels' CRS is checked first (metres labelled as degrees, degrees labelled as
    metres: a :class:`CRSError` naming the file). A raster without CRS beside parcels
    with one is taken to be in the parcels' CRS, as QGIS takes a layer of unknown CRS,
    with a warning when they overlap; when they do not, it is a :class:`CRSError`.
    """
    import geopandas as gpd

    grid_crs = grid.crs if isinstance(grid, _Grid) else grid
    source = "parcels"
    if isinstance(parcels, gpd.GeoDataFrame | gpd.GeoSeries):
        gs = parcels.geometry if isinstance(parcels, gpd.GeoDataFrame) else parcels
    elif isinstance(parcels, str) or hasattr(parcels, "__fspath__"):
        source = os.fspath(parcels)
        gs = read_vector(parcels, layer=layer, what="parcels file").geometry
    else:
        try:
            gs = gpd.GeoSeries(list(parcels))
        except Exception as exc:
            raise InputError(
                message("error.zonal.parcels_type", kind=type(parcels).__name__)
            ) from exc
    gs_crs = gs.crs  # (a property that builds a CRS object on every access)
    if gs_crs is not None and gs_crs.is_geographic and len(gs):
        # metres labelled as degrees (EPSG:4326 over UTM or VN-2000 coordinates); small
        # numbers under a projected CRS are left alone here (a local or synthetic grid
        # the raster shares is fine; read_parcels judges files of parcels)
        check_coordinates(_finite_bounds(gs), gs_crs, source=source)
    if grid_crs is None and gs_crs is not None and isinstance(grid, _Grid) and len(gs):
        name = _crs_name(gs_crs)
        if _overlaps_grid(gs, grid):
            warn(
                message("zonal.raster_no_crs", crs=name),
                ZonalWarning,
                where="raster",
                what="zonal.raster_no_crs",
            )
        else:
            raise CRSError(message("zonal.raster_no_crs_apart", crs=name, source=source))
    if grid_crs is not None:
        if gs_crs is None:
            warn(
                message("zonal.parcels_no_crs", crs=_crs_name(grid_crs), source=source),
                ZonalWarning,
                where=source,
                what="zonal.parcels_no_crs",
            )
        else:
            try:
                target = _as_pyproj(grid_crs)
                if not gs_crs.equals(target):
                    gs = gs.to_crs(target)
            except Exception as exc:
                raise CRSError(
                    message(
                        "error.zonal.reproject", source=source, crs=_crs_name(gs_crs),
                        raster_crs=_crs_name(grid_crs), reason=exc,
                    )
                ) from exc  # fmt: skip
    return gs.index, np.asarray(gs.values, dtype=object)


def _finite_bounds(gs) -> tuple[float, float, float, float]:
    import shapely

    b = shapely.bounds(np.asarray(gs.values, dtype=object))
    b = b[np.isfinite(b).all(axis=1)]
    if not b.size:
        return (np.nan,) * 4
    return (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())


def _overlaps_grid(gs, grid: _Grid) -> bool:
    import shapely

    t = grid.transform
    h, w = grid.shape
    corners = [t * (0, 0), t * (w, 0), t * (w, h), t * (0, h)]
    extent = shapely.Polygon(corners)
    minx, miny, maxx, maxy = _finite_bounds(gs)
    if not np.isfinite(minx):
        return True
    return bool(extent.intersects(shapely.box(minx, miny, maxx, maxy)))


def _as_pyproj(crs):
    import pyproj

    if isinstance(crs, pyproj.CRS):
        return crs
    if hasattr(crs, "to_wkt"):
        return _pyproj_from_text(crs.to_wkt())
    if isinstance(crs, str):
        return _pyproj_from_text(crs)
    return pyproj.CRS.from_user_input(crs)


@functools.lru_cache(maxsize=64)
def _pyproj_from_text(text: str):
    """A pyproj CRS from WKT or a code, parsed once (parsing costs milliseconds)."""
    import pyproj

    return pyproj.CRS.from_user_input(text)


def _crs_equal(a, b) -> bool:
    try:
        return _as_pyproj(a).equals(_as_pyproj(b))
    except Exception:
        return str(a) == str(b)


def _crs_name(crs) -> str:
    try:
        c = _as_pyproj(crs)
        return f"EPSG:{c.to_epsg()}" if c.to_epsg() else c.name
    except Exception:
        return str(crs)


# --------------------------------------------------------------------------------------
# coverage
# --------------------------------------------------------------------------------------


@dataclass
class Coverage:
    """Which pixels each parcel covers, and how much: computed once per grid, reused.

    Attributes
    ----------
    matrix : scipy.sparse.csr_array
        Parcel x pixel weights, shape ``(n_parcels, n_pixels)``; the columns are the
        pixels any parcel touches (``pixels``). In ``"coverage"`` mode a weight is the
        share of the pixel's area inside the parcel; otherwise 1. Rows follow the
        parcels; column indices within a row are not sorted.
    pixels : numpy.ndarray
        Flat index ``row * width + col`` of each matrix column on the grid, ascending.
    transform : affine.Affine
        Grid transform.
    shape : tuple of int
        Grid ``(height, width)``.
    crs : object
        Grid CRS (``None`` when unknown).
    weights : str
        ``"coverage"``, ``"centroid"`` or ``"all_touched"``.
    index : pandas.Index
        Index of the parcels, used for every result.
    status : numpy.ndarray
        Per parcel ``ok``, ``partial``, ``outside``, ``empty_geometry`` or ``no_pixels``.
    coverage_fraction : numpy.ndarray
        Per parcel, share of its area inside the grid (NaN for empty geometries).

    Notes
    -----
    Inside large parcels (hamlets, communes as zones) runs of whole pixels down a column
    are kept as runs: :func:`zonal_stats` sums them from cumulative sums of the raster,
    without a matrix entry per pixel. ``matrix`` and ``pixels`` include them: they are
    built, once, the first time they are asked for.
    """

    core: object
    core_pixels: np.ndarray
    transform: object
    shape: tuple[int, int]
    crs: object
    weights: str
    index: pd.Index
    status: np.ndarray
    coverage_fraction: np.ndarray
    runs: _Runs | None = None
    _full: tuple | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return self.core.shape[0]

    @property
    def matrix(self):
        """Parcel x pixel weights (scipy.sparse.csr_array), every covered pixel included."""
        return self._materialised()[0]

    @property
    def pixels(self) -> np.ndarray:
        """Flat index ``row * width + col`` of each ``matrix`` column, ascending."""
        return self._materialised()[1]

    def _materialised(self):
        if self.runs is None or not len(self.runs):
            return self.core, self.core_pixels
        if self._full is None:
            from scipy import sparse

            m = self.core
            n = m.shape[0]
            rows = np.repeat(np.arange(n), np.diff(m.indptr))
            flat = self.core_pixels[m.indices]
            r_rows, r_flat, r_w = self.runs.entries(self.shape[1])
            rows = np.concatenate([rows, r_rows])
            flat = np.concatenate([flat, r_flat])
            vals = np.concatenate([m.data, r_w])
            order = np.argsort(rows, kind="stable")
            pixels, col_idx = _unique_pixels(flat[order], self.shape[0] * self.shape[1])
            indptr = np.zeros(n + 1, dtype=np.int64)
            np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
            full = sparse.csr_array((vals[order], col_idx, indptr), shape=(n, pixels.size))
            self._full = (full, pixels)
        return self._full

    def pixel_table(self) -> pd.DataFrame:
        """Every (parcel, pixel) pair with its weight, one row each.

        Returns
        -------
        pandas.DataFrame
            Columns ``parcel`` (the parcels' index value), ``row``, ``col`` (pixel
            position on the grid) and ``weight``, parcel by parcel.
        """
        m = self.matrix
        owners = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
        flat = self.pixels[m.indices]
        return pd.DataFrame(
            {
                "parcel": self.index[owners],
                "row": flat // self.shape[1],
                "col": flat % self.shape[1],
                "weight": m.data,
            }
        )

    @property
    def pixel_count(self) -> np.ndarray:
        """Per parcel, the sum of its weights (pixels covered, fractional in coverage mode)."""
        return _total_weights(self)

    def zonal_stats(
        self,
        rasters,
        *,
        stats=DEFAULT_STATS,
        names=None,
        nodata=None,
        block_rows: int | None = None,
        quantiles: str = "exactextract",
        progress=None,
    ) -> pd.DataFrame:
        """Statistics of every layer of ``rasters`` for these parcels.

        Parameters
        ----------
        rasters : str, path, rasterio dataset, tuple, RasterStack or list
            Layers on this coverage's grid (see :func:`zonal_stats`).
        stats : sequence of str
            Statistics per layer (see the module documentation).
        names : list of str, optional
            Layer names to use in the column names.
        nodata : float, optional
            Value to mask in every layer, overriding the rasters' own nodata.
        block_rows : int, optional
            Raster rows read per window from files (memory bound); default automatic.
        quantiles : {"exactextract", "pixels"}
            Definition of ``median`` and ``pNN`` (see :func:`zonal_stats`).
        progress : callable, optional
            ``progress(fraction, message)``; return ``False`` to cancel.

        Returns
        -------
        pandas.DataFrame
            Indexed like the parcels; ``status``, ``coverage_fraction`` and one
            ``"<layer>:<stat>"`` column per layer and statistic.
        """
        stats = _parse_stats(stats)
        _check_quantiles(quantiles)
        with contextlib.ExitStack() as stack:
            layers = _open_layers(rasters, stack, names=names, nodata=nodata)
            self._check_grid(layers.grid)
            return _compute_stats(self, layers, stats, block_rows, progress, quantiles)

    def _check_grid(self, grid: _Grid) -> None:
        same_crs = grid.crs is None or self.crs is None or _crs_equal(grid.crs, self.crs)
        if not grid.same_as(_Grid(self.transform, self.shape)) or not same_crs:
            raise ImageryError(
                message(
                    "error.zonal.coverage_grid", shape=grid.shape,
                    transform=tuple(grid.transform)[:6], crs=_crs_name(grid.crs),
                    cov_shape=self.shape, cov_transform=tuple(self.transform)[:6],
                    cov_crs=_crs_name(self.crs),
                )
            )  # fmt: skip


def compute_coverage(
    parcels, grid, *, weights: str = "coverage", parcels_layer=None, progress=None
) -> Coverage:
    """Compute, once, the pixels of every parcel on a grid and their weights.

    Parameters
    ----------
    parcels : GeoDataFrame, GeoSeries, str or path, or sequence of geometries
        Parcel polygons (multipolygons and holes allowed). They are reprojected to the
        grid's CRS; the raster is never resampled. Null, empty or non-polygonal
        geometries are kept with status ``empty_geometry``.
    grid : raster source or tuple
        Any raster :func:`zonal_stats` accepts (path, open dataset,
        ``(array, transform[, crs])``, RasterStack), or ``(transform, (height, width)[,
        crs])``.
    weights : {"coverage", "centroid", "all_touched"}
        ``"coverage"``: each pixel weighted by the exact share of its area inside the
        parcel (exactextract). ``"centroid"``: pixels whose centre is inside, weight 1;
        ``"all_touched"``: every pixel the parcel touches, weight 1 (rasterstats and
        GDAL's rasterize rules).
    parcels_layer : str, optional
        Layer of a multi-layer parcels file (e.g. ``"parcels"`` in a GeoPackage).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    Coverage
        Reusable for every layer on that grid (:meth:`Coverage.zonal_stats` or
        ``zonal_stats(..., coverage=...)``).

    Examples
    --------
    >>> import numpy as np, shapely
    >>> from affine import Affine
    >>> cov = compute_coverage([shapely.box(5, -15, 15, -5)], (Affine(10, 0, 0, 0, -10, 0), (3, 3)))
    >>> cov.matrix.toarray().round(3).tolist()
    [[0.25, 0.25, 0.25, 0.25]]
    """
    if weights not in WEIGHTS:
        raise InputError(message("error.zonal.weights", weights=weights, known=", ".join(WEIGHTS)))
    with contextlib.ExitStack() as stack:
        g = _grid_of(grid, stack)
    index, geoms = _read_parcels(parcels, g, parcels_layer)
    cov = _coverage(geoms, index, g, weights, progress)
    logger.debug("coverage (%s) of %d parcels on a %d x %d grid: %d pixel entries, %d runs",
                 weights, len(index), g.shape[0], g.shape[1], cov.core.nnz,
                 0 if cov.runs is None else len(cov.runs.parcel))  # fmt: skip
    return cov


def _coverage(geoms, index, grid: _Grid, weights: str, progress) -> Coverage:
    import shapely
    from scipy import sparse

    h, w = (int(x) for x in grid.shape)
    n = len(geoms)
    inv = ~grid.transform
    det = abs(grid.transform.a * grid.transform.e - grid.transform.b * grid.transform.d)
    if det == 0:
        raise ImageryError(message("error.zonal.degenerate"))

    status = np.full(n, STATUS_OK, dtype=object)
    fraction = np.full(n, np.nan)

    # polygonal parts only; repair invalid geometries
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6, 7)) & ~missing
    work = np.where(polygonal, geoms, None)
    invalid = polygonal & ~shapely.is_valid(work)
    if invalid.any():
        work[invalid] = shapely.make_valid(work[invalid])
    # pixel space: column u, row v; pixel (row i, col j) is [j, j+1] x [i, i+1]. On a
    # north-up grid the geometries stay in the CRS (clipping there is the same) and only
    # their vertices are converted, later; a rotated grid converts the geometries here.
    has = ~shapely.is_missing(work)
    rotated = grid.transform.b != 0 or grid.transform.d != 0
    if rotated:
        a, b, c, d, e, f = inv.a, inv.b, inv.c, inv.d, inv.e, inv.f

        def to_pixels(xy):
            x, y = xy[:, 0], xy[:, 1]
            return np.column_stack([a * x + b * y + c, d * x + e * y + f])

        work[has] = shapely.transform(work[has], to_pixels)
        to_px = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
        orient = float(np.sign(a * e - b * d))
        rect = (0.0, 0.0, float(w), float(h))
        unit = 1.0
    else:
        # GDALInvGeoTransform's arithmetic for a north-up grid, so that pixel coordinates
        # (and the centre-on-edge ties of the centroid rule) round as in GDAL
        ta, tc, te, tf = grid.transform.a, grid.transform.c, grid.transform.e, grid.transform.f
        to_px = (1.0 / ta, 0.0, -tc / ta, 0.0, 1.0 / te, -tf / te)
        orient = float(np.sign(to_px[0] * to_px[4]))
        xs = sorted((grid.transform.c, grid.transform.c + w * grid.transform.a))
        ys = sorted((grid.transform.f, grid.transform.f + h * grid.transform.e))
        rect = (xs[0], ys[0], xs[1], ys[1])
        unit = det
    area_full = np.zeros(n)
    area_full[has] = shapely.area(work[has]) / unit
    empty = ~has | ~(area_full > 0)
    status[empty] = STATUS_EMPTY
    work[empty] = None

    # clip to the grid
    bounds = np.full((n, 4), np.nan)
    live = ~empty
    bounds[live] = shapely.bounds(work[live])
    out_of = live & (
        (bounds[:, 0] < rect[0])
        | (bounds[:, 1] < rect[1])
        | (bounds[:, 2] > rect[2])
        | (bounds[:, 3] > rect[3])
    )
    # GDAL's rules (centroid, all_touched) see the whole polygon, clipped only to the
    # raster's rows and columns: clipping the geometry would move its vertices
    unclipped = work.copy() if weights != "coverage" else work
    if out_of.any():
        work[out_of] = shapely.clip_by_rect(work[out_of], *rect)
    area_in = np.where(live, area_full, np.nan)
    area_in[out_of] = shapely.area(work[out_of]) / unit
    fraction[live] = np.clip(area_in[live] / area_full[live], 0.0, 1.0)
    outside = live & ~(area_in > 0)
    status[outside] = STATUS_OUTSIDE
    status[live & ~outside & (fraction < 1 - 1e-9)] = STATUS_PARTIAL
    fraction[outside] = 0.0
    inside = live & ~outside
    if live.any() and not inside.any():
        warn(
            message("warning.zonal.no_overlap", n=int(live.sum()), crs=_crs_name(grid.crs)),
            ZonalWarning,
            where="parcels",
            what="warning.zonal.no_overlap",
        )

    # rings of all polygon parts, with the parcel each belongs to
    ids = np.flatnonzero(inside)
    parts, part_of = unclipped[ids], np.arange(ids.size)
    part_types = shapely.get_type_id(parts)
    while np.isin(part_types, (6, 7)).any():  # collections from make_valid
        more, idx = shapely.get_parts(parts, return_index=True)
        parts, part_of = more, part_of[idx]
        part_types = shapely.get_type_id(parts)
    keep = part_types == 3
    parts, part_of = parts[keep], ids[part_of[keep]]

    cols_out, vals_out, runs_out = [], [], []
    per_parcel = np.zeros(n, dtype=np.int64)  # matrix entries of each parcel
    # process parcels in chunks of bounded local-grid size
    pb = np.zeros((n, 4))
    if parts.size:
        xy_bounds = shapely.bounds(parts)
        ax, _, cx, _, ey, fy = to_px
        us = np.sort(np.stack([ax * xy_bounds[:, 0] + cx, ax * xy_bounds[:, 2] + cx]), axis=0)
        vs = np.sort(np.stack([ey * xy_bounds[:, 1] + fy, ey * xy_bounds[:, 3] + fy]), axis=0)
        part_bounds = np.column_stack([us[0], vs[0], us[1], vs[1]])
        order = np.argsort(part_of, kind="stable")
        parts, part_of, part_bounds = parts[order], part_of[order], part_bounds[order]
        uniq, first = np.unique(part_of, return_index=True)
        pb[uniq, 0] = np.minimum.reduceat(part_bounds[:, 0], first)
        pb[uniq, 1] = np.minimum.reduceat(part_bounds[:, 1], first)
        pb[uniq, 2] = np.maximum.reduceat(part_bounds[:, 2], first)
        pb[uniq, 3] = np.maximum.reduceat(part_bounds[:, 3], first)
        # local grids: the parts' bounds (GDAL's rules: within the raster)
        if weights != "coverage":
            pb[:, [0, 2]] = np.clip(pb[:, [0, 2]], 0, w - 1)
            pb[:, [1, 3]] = np.clip(pb[:, [1, 3]], 0, h - 1)
        c0 = np.floor(pb[:, 0]).astype(np.int64)
        r0 = np.floor(pb[:, 1]).astype(np.int64)
        nc = np.floor(pb[:, 2]).astype(np.int64) - c0 + 1
        nr = np.floor(pb[:, 3]).astype(np.int64) - r0 + 1
        cells = np.where(np.isin(np.arange(n), uniq), nr * nc, 0)
        cum = np.cumsum(cells[uniq])
        chunk_id = cum // _CHUNK_CELLS
        bounds_idx = np.flatnonzero(np.diff(chunk_id)) + 1
        groups = np.split(uniq, bounds_idx)
        part_start = np.searchsorted(part_of, [g[0] for g in groups])
        part_stop = np.searchsorted(part_of, [g[-1] for g in groups], side="right")
        for k, (grp, p0, p1) in enumerate(zip(groups, part_start, part_stop)):
            counts, cc, vv, rr = _cover_parts(
                parts[p0:p1], part_of[p0:p1], grp, c0, r0, nc, nr, weights, h, w, to_px, orient
            )
            per_parcel[grp] = counts
            if rr is not None and rr[0].size:
                runs_out.append(rr)
            cols_out.append(cc)
            vals_out.append(vv)
            _progress.report(progress, (k + 1) / len(groups), "computing pixel coverage")
    flat = np.concatenate(cols_out) if cols_out else np.zeros(0, np.int64)
    vals = np.concatenate(vals_out) if vals_out else np.zeros(0)
    pixels, col_idx = _unique_pixels(flat, h * w)
    # chunks come in ascending parcel order and each (parcel, pixel) once: the entries are
    # already CSR rows (column indices unsorted within a row, which products do not need)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(per_parcel, out=indptr[1:])
    matrix = sparse.csr_array((vals, col_idx, indptr), shape=(n, pixels.size))
    runs = None
    if runs_out:
        runs = _Runs(*(np.concatenate([r[i] for r in runs_out]) for i in range(5)))
    if weights == "centroid":
        none = inside & (np.diff(matrix.indptr) == 0)
        status[none] = STATUS_NO_PIXELS
    return Coverage(
        core=matrix,
        core_pixels=pixels,
        runs=runs,
        transform=grid.transform,
        shape=(h, w),
        crs=grid.crs,
        weights=weights,
        index=pd.Index(index),
        status=status.astype(str),
        coverage_fraction=fraction,
    )


def _unique_pixels(flat: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(flat, return_inverse=True)`` for pixel indices in ``[0, size)``.

    When the grid is not much larger than the entries (large parcels, a raster of
    repeated values such as land cover), a presence mask and a lookup table replace the
    sort: linear in the grid size instead of ``n log n`` in the entries.
    """
    if flat.size == 0 or size > max(4 * flat.size, 2**24) or size >= 2**31:
        pixels, inverse = np.unique(flat, return_inverse=True)
        return pixels, inverse.ravel()
    present = np.zeros(size, dtype=bool)
    present[flat] = True
    pixels = np.flatnonzero(present)
    del present
    lookup = np.empty(size, dtype=np.int32)
    lookup[pixels] = np.arange(pixels.size, dtype=np.int32)
    return pixels, lookup[flat]


def _cover_parts(parts, part_of, parcel_ids, c0, r0, nc, nr, weights, h, w, to_px, orient):
    """Exact coverage (or centroid / all-touched membership) of some parcels' pixels.

    ``orient`` is the sign of the world-to-pixel determinant (ring orientation in world
    coordinates, which GDAL's fill rule depends on). Returns parcel row, flat pixel index
    and weight of every pixel with a weight.
    """
    import shapely

    # this chunk's parcels, numbered 0..m-1 (parcel_ids is ascending)
    c0, r0, nc, nr = c0[parcel_ids], r0[parcel_ids], nc[parcel_ids], nr[parcel_ids]
    part_of = np.searchsorted(parcel_ids, part_of)
    # local dense grids, row-major per parcel: row-wise cumulative sums are contiguous
    pc = nr * nc
    offset = np.cumsum(pc) - pc
    total = int(pc.sum())

    rings, ring_part = shapely.get_rings(parts, return_index=True)
    # first ring of each part is its exterior
    exterior = np.ones(rings.size, dtype=bool)
    exterior[1:] = ring_part[1:] != ring_part[:-1]
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    ax, bx, cx, dy, ey, fy = to_px
    if bx == 0 and dy == 0:
        u = ax * coords[:, 0] + cx
        v = ey * coords[:, 1] + fy
    else:
        u = ax * coords[:, 0] + bx * coords[:, 1] + cx
        v = dy * coords[:, 0] + ey * coords[:, 1] + fy
    same = ring_of[1:] == ring_of[:-1]
    e_ring = ring_of[:-1][same]
    ua, va, ub, vb = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
    # ring orientation: exterior rings add area, holes remove it, whatever their winding
    shoelace = np.bincount(e_ring, weights=ua * vb - ub * va, minlength=rings.size)
    sign = -np.sign(shoelace) * np.where(exterior, 1.0, -1.0)
    e_sign = sign[e_ring]
    p = part_of[ring_part[e_ring]]  # parcel of each edge
    pr0, pc0, pnc = r0[p], c0[p], nc[p]
    poff = offset[p]

    if weights == "coverage":
        # --- cut each edge at pixel row boundaries, then each piece at column boundaries;
        # Green's theorem along rows: a piece adds dv * (mean u - col) to its own pixel and
        # dv to every pixel right of it in its row (the transposition turns the rings'
        # orientation around: -e_sign)
        e_idx, prow, vs, ve, us, ue = _cut_at_integers(va, vb, ua, ub)
        s_idx, col, u_start, u_end, v_start, v_end = _cut_at_integers(us, ue, vs, ve)
        del us, ue, vs, ve
        pe = e_idx[s_idx]
        prow = prow[s_idx]
        dv = (v_end - v_start) * -e_sign[pe]
        umid = 0.5 * (u_start + u_end)
        # local grids row-major per parcel: consecutive cells of a row are consecutive
        cell = poff[pe] + (prow - pr0[pe]) * pnc[pe] + (col - pc0[pe])
        if total <= max(8 * cell.size, _CHUNK_CELLS):
            # small local grids (parcels, gardens): dense per-cell sums are the fastest
            row_len = np.repeat(nc, nr)
            value = np.bincount(cell, weights=dv * (umid - col), minlength=total)
            value += _segmented_cumsum(np.bincount(cell, weights=-dv, minlength=total), row_len)
            np.minimum(value, 1.0, out=value)
            hit = np.flatnonzero(value > _COVER_TOL)
            owner = np.searchsorted(offset, hit, side="right") - 1
            grow, gcol = np.divmod(hit - offset[owner], nc[owner])
            gcol += c0[owner]
            grow += r0[owner]
            ok = (grow >= 0) & (grow < h) & (gcol >= 0) & (gcol < w)
            counts = np.bincount(owner[ok], minlength=parcel_ids.size)
            return counts, grow[ok] * w + gcol[ok], value[hit[ok]], None
        # large parcels: touched cells and runs, no dense grid
        counts, flat, vals, runs = _coverage_runs(
            cell, dv * (umid - col), -dv, offset, nc, c0, r0, h, w
        )
        if runs is not None:
            runs = (parcel_ids[runs[0]], *runs[1:])
        return counts, flat, vals, runs
    else:
        # GDAL's rasterizer (rasterstats' rules): pixel centres inside, by GDAL's fill
        world_cw = (shoelace * orient) < 0  # ring clockwise in world coordinates
        inside = _centre_fill(ua, va, ub, vb, world_cw[e_ring], p, c0, r0, nc, nr, offset, total)
        if weights == "all_touched":
            # ... plus every pixel GDAL's line drawing burns along the edges
            inside |= _walk_cells(ua, va, ub, vb, p, c0, r0, nc, nr, offset, total, w, h)
        hit = np.flatnonzero(inside)
        del inside
        vals = np.ones(hit.size)

    # map local cells (row-major) back to parcel, row, column
    owner = np.searchsorted(offset, hit, side="right") - 1
    grow, gcol = np.divmod(hit - offset[owner], nc[owner])
    gcol += c0[owner]
    grow += r0[owner]
    ok = (grow >= 0) & (grow < h) & (gcol >= 0) & (gcol < w)
    counts = np.bincount(owner[ok], minlength=parcel_ids.size)
    return counts, grow[ok] * w + gcol[ok], vals[ok], None


def _coverage_runs(cell, a_w, b_w, offset, nc, c0, r0, h, w):
    """Exact coverage of local cells from the edge pieces, without a dense grid.

    ``cell`` is each piece's local cell (row-major per parcel, so consecutive cells of a
    row are consecutive integers), ``a_w`` its own-cell term and ``b_w`` the term it adds
    to every cell right of it in its row. A cell's coverage is its own ``a`` plus the sum
    of ``b`` of the cells left of it and itself; a cell no piece touches has the value of
    the touched cell left of it, so each row is a few touched cells and runs between them
    (whole pixels inside the parcel). Cost and memory follow the pieces and the covered
    pixels, not the parcel's bounding box. Returns the number of entries of each local
    parcel, the entries' flat pixel indices and weights, parcel by parcel, and the runs of
    at least ``_RUN_MIN`` pixels, left as runs: (local parcel, row, first column, length,
    weight).
    """
    m = offset.size
    if cell.size == 0:
        return np.zeros(m, np.int64), np.zeros(0, np.int64), np.zeros(0), None
    keys, inv = np.unique(cell, return_inverse=True)
    a = np.bincount(inv, weights=a_w, minlength=keys.size)
    b = np.bincount(inv, weights=b_w, minlength=keys.size)
    owner = np.searchsorted(offset, keys, side="right") - 1
    row, column = np.divmod(keys - offset[owner], nc[owner])
    new = np.ones(keys.size, dtype=bool)
    new[1:] = (owner[1:] != owner[:-1]) | (row[1:] != row[:-1])
    starts = np.flatnonzero(new)
    lengths = np.diff(np.append(starts, keys.size))
    carry = _segmented_cumsum(b, lengths)  # b of this cell and those left of it
    touched = np.minimum(a + carry, 1.0)
    # the run right of each touched cell, up to the next touched cell of its row
    gap = np.zeros(keys.size, dtype=np.int64)
    gap[:-1] = np.where(new[1:], 0, keys[1:] - keys[:-1] - 1)
    gap[~(carry > _COVER_TOL)] = 0
    t = (touched > _COVER_TOL).astype(np.int64)
    # keys outside the grid (pieces on its far edges, or a hair left of it: pixel
    # coordinates of a vertex on the raster's edge may be -1e-13) hold no pixel; their
    # runs are clipped to the grid's columns
    gcol, grow = column + c0[owner], row + r0[owner]
    row_off = (grow < 0) | (grow >= h)
    t[row_off | (gcol < 0) | (gcol >= w)] = 0
    gap[row_off] = 0
    run_start = np.clip(gcol + 1, 0, w)
    gap = np.maximum(np.clip(gcol + 1 + gap, 0, w) - run_start, 0)
    # long runs stay runs (no entry per pixel); short ones become entries
    long = gap >= _RUN_MIN
    runs = (owner[long], grow[long], run_start[long], gap[long], np.minimum(carry, 1.0)[long])
    gap[long] = 0
    count = t + gap
    per_parcel = np.bincount(owner, weights=count, minlength=m).astype(np.int64)
    total = int(count.sum())
    first = np.cumsum(count) - count
    # pixel of entry e of key k: the key's pixel, then the run right of it:
    # flat = e + (row_k * w + run_start_k - t_k - first_k), with no per-entry gathers
    flat = np.arange(total, dtype=np.int64)
    flat += np.repeat(grow * w + run_start - t - first, count)
    values = np.repeat(np.minimum(carry, 1.0), count)
    lead = t == 1
    values[first[lead]] = touched[lead]
    return per_parcel, flat, values, runs


def _on_boundary(a0: np.ndarray, a1: np.ndarray) -> np.ndarray:
    """Edges GDAL takes as lying on pixel lines: each end within 1e-4 pixel of an integer.

    GDAL's all-touched line drawing skips such near-vertical (near-horizontal) edges
    (``bIntersectOnly``): they touch the pixels on either side only from outside. Each
    end is rounded on its own, as GDAL rounds them: an edge from 4.000001 to 4.999999
    within one column is skipped too.
    """
    eps = 1e-4
    return (np.abs(a0 - np.round(a0)) < eps) & (np.abs(a1 - np.round(a1)) < eps)


def _walk_cells(ua, va, ub, vb, p, c0, r0, nc, nr, offset, total, width, height):
    """Pixels GDAL's all-touched line drawing (``GDALdllImageLineAllTouched``) burns.

    An edge lying on a pixel boundary line (both ends within 1e-4 pixel of it) burns
    nothing: a pixel-aligned square touches its own pixels, not their neighbours. An
    edge within 0.01 pixel of vertical burns one column (``floor`` of its right end),
    rows ``floor(y_min)`` to ``floor(y_max - 1e-4)``; one within 0.01 pixel of
    horizontal (or with both ends in one row) one row (``floor`` of its left end's
    ``y``); an edge with both ends in one column counts as vertical. Any other edge is
    walked left to right as GDAL walks it (:func:`_walk_general`). Returns a bool per
    local cell (row-major per parcel, as in :func:`_cover_parts`).
    """
    eps = 1e-4
    du, dv = np.abs(ub - ua), np.abs(vb - va)
    vert = (du < 0.01) | (np.floor(ua) == np.floor(ub))
    horiz = ~vert & ((dv < 0.01) | (np.floor(va) == np.floor(vb)))
    skip = (vert & _on_boundary(ua, ub)) | (horiz & _on_boundary(va, vb))
    left_a = ua <= ub  # the walk starts at a
    cells_p, cells_c, cells_r = [], [], []
    # near-vertical: one column; near-horizontal: one row
    for sel, fixed_a, fixed_b, run_a, run_b, fixed_out, run_out in (
        (np.flatnonzero(vert & ~skip), ub, ua, va, vb, cells_c, cells_r),
        (np.flatnonzero(horiz & ~skip), va, vb, ua, ub, cells_r, cells_c),
    ):
        if sel.size:
            # the column of the walk's right end (vertical), the row of its left end
            # (horizontal), and the rows (columns) the edge spans
            fixed = np.where(left_a, fixed_a, fixed_b)[sel]
            q, fixed_cell, run_cell = _axis_cells(fixed, run_a[sel], run_b[sel], eps)
            cells_p.append(p[sel][q])
            fixed_out.append(fixed_cell)
            run_out.append(run_cell)
    # any other edge: GDAL's walk, step by step, all edges at once
    sel = np.flatnonzero(~vert & ~horiz)
    if sel.size:
        q, wc, wr = _walk_general(ua[sel], va[sel], ub[sel], vb[sel], width, height)
        cells_p.append(p[sel][q])
        cells_c.append(wc)
        cells_r.append(wr)
    out = np.zeros(total, dtype=bool)
    if cells_p:
        q = np.concatenate(cells_p)
        cc = np.concatenate(cells_c) - c0[q]
        rr = np.concatenate(cells_r) - r0[q]
        ok = (cc >= 0) & (cc < nc[q]) & (rr >= 0) & (rr < nr[q])
        out[offset[q[ok]] + rr[ok] * nc[q[ok]] + cc[ok]] = True
    return out


def _axis_cells(fixed: np.ndarray, a: np.ndarray, b: np.ndarray, eps: float):
    """Cells of axis-parallel edges: one fixed line, cells ``floor(min)..floor(max - eps)``.

    ``fixed`` is the coordinate of the edge's column (or row), ``a`` and ``b`` its two
    ends along the other axis. Returns (edge index, fixed cell, cell along the edge) of
    every cell, edge by edge, in increasing order along the edge.
    """
    line = np.floor(fixed).astype(np.int64)
    lo = np.floor(np.minimum(a, b)).astype(np.int64)
    hi = np.floor(np.maximum(a, b) - eps).astype(np.int64)
    cnt = np.maximum(hi - lo + 1, 0)
    idx = np.repeat(np.arange(fixed.size), cnt)
    along = lo[idx] + np.arange(idx.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    return idx, line[idx], along


def _walk_general(x, y, x_end, y_end, width: int, height: int):
    """GDAL's all-touched walk along sloped edges, vectorised over the edges.

    Each edge is walked from its left end, cell by cell, with GDAL's own arithmetic
    (its steps, its clipping to the raster and its 1e-9 nudges across row boundaries),
    so that the pixels it burns are GDAL's, ties and rounding included: the half-open
    pixel ``[i, i + 1) x [j, j + 1)`` of the start and of each point where the walk
    enters a new column or row. Returns (edge, column, row) of every burned pixel.
    """
    min_step = 1e-9
    swap = x > x_end
    x, x_end = np.where(swap, x_end, x), np.where(swap, x, x_end)
    y, y_end = np.where(swap, y_end, y), np.where(swap, y, y_end)
    live = ~(
        ((y < 0) & (y_end < 0))
        | ((y > height) & (y_end > height))
        | ((x < 0) & (x_end < 0))
        | ((x > width) & (x_end > width))
    )
    edge = np.flatnonzero(live)
    x, y, x_end, y_end = x[edge], y[edge], x_end[edge], y_end[edge]
    slope = (y_end - y) / (x_end - x)
    over = x_end > width
    y_end = np.where(over, y_end - (x_end - width) * slope, y_end)
    x_end = np.where(over, float(width), x_end)
    under = x < 0
    y = np.where(under, y + (0.0 - x) * slope, y)
    x = np.where(under, 0.0, x)
    rising = y_end > y  # y grows along the walk (down the raster)
    cut = rising & (y < 0)
    x = np.where(cut, x + (0.0 - y) / slope, x)
    y = np.where(cut, 0.0, y)
    cut = rising & (y_end >= height)
    x_end = np.where(cut, np.minimum(x_end + (y_end - height) / slope, width), x_end)
    cut = ~rising & (y >= height)
    x = np.where(cut, x + (height - y) / slope, x)
    y = np.where(cut, float(height), y)
    x_end = np.minimum(x_end, float(width))
    out_e, out_c, out_r = [], [], []
    idx = np.arange(x.size)
    last_row = height - 1
    while idx.size:
        go = (x >= 0) & (x < x_end)
        col = np.floor(x).astype(np.int64)
        row = np.floor(y).astype(np.int64)
        inside = (row >= 0) & (row <= last_row)
        burn = go & inside
        out_e.append(edge[idx[burn]])
        out_c.append(col[burn])
        out_r.append(row[burn])
        away = ~inside & (((slope > 0) & (row > last_row)) | ((slope < 0) & (row < 0)))
        go &= ~away
        step_x = np.floor(x + 1.0) - x
        step_y = step_x * slope
        same = np.floor(y + step_y).astype(np.int64) == row
        up_y = np.minimum(row - y, -min_step)
        down_y = np.maximum((row + 1) - y, min_step)
        step_y = np.where(same, step_y, np.where(slope < 0, up_y, down_y))
        step_x = np.where(same, step_x, step_y / slope)
        x = x + step_x
        y = y + step_y
        keep = np.flatnonzero(go)
        idx, x, y, x_end, slope = idx[keep], x[keep], y[keep], x_end[keep], slope[keep]
    return (
        np.concatenate(out_e) if out_e else np.zeros(0, np.int64),
        np.concatenate(out_c) if out_c else np.zeros(0, np.int64),
        np.concatenate(out_r) if out_r else np.zeros(0, np.int64),
    )


def _centre_fill(ua, va, ub, vb, cw, p, c0, r0, nc, nr, offset, total) -> np.ndarray:
    """Pixels whose centre GDAL's polygon fill (``GDALdllImageFilledPolygon``) burns.

    Horizontal scanlines through the pixel centres ``row + 0.5``; an edge takes part
    on ``[y_top, y_bottom)`` and crosses at ``x``, rounded to the pixel boundary
    ``floor(x + 0.5)``; pixels between consecutive crossings are inside (even-odd). So a
    centre exactly on a left edge is outside and one on a right edge inside, one on a top
    edge inside; a horizontal edge lying on a centre row is burned when it runs right to
    left with its ring turned clockwise in world coordinates (``cw``), as GDAL turns
    every ring. Arithmetic in GDAL's order, so ties resolve as GDAL resolves them.
    Returns a bool per local cell (row-major per parcel, as in :func:`_cover_parts`).
    """
    row_len = np.repeat(nc, nr)
    roff = offset  # local grids are row-major per parcel
    # non-horizontal edges, top end first
    nh = va != vb
    down = va < vb
    ytop = np.where(down, va, vb)[nh]
    ybot = np.where(down, vb, va)[nh]
    xtop = np.where(down, ua, ub)[nh]
    xbot = np.where(down, ub, ua)[nh]
    ep = p[nh]
    rlo = _first_centre_at_or_after(ytop)
    rhi = _first_centre_at_or_after(ybot)  # centres r + 0.5 < ybot: r < rhi
    rlo = np.maximum(rlo, r0[ep])
    rhi = np.minimum(rhi, r0[ep] + nr[ep])
    cnt = np.maximum(rhi - rlo, 0)
    idx = np.repeat(np.arange(ytop.size), cnt)
    rr = rlo[idx] + np.arange(idx.size) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    q = ep[idx]
    x = (rr + 0.5 - ytop[idx]) * (xbot[idx] - xtop[idx]) / (ybot[idx] - ytop[idx]) + xtop[idx]
    k = np.floor(x + 0.5).astype(np.int64) - c0[q]
    keep = k < nc[q]  # a crossing right of the local grid only closes the last span
    pos = roff[q] + (rr - r0[q]) * nc[q] + np.maximum(k, 0)
    toggles = np.bincount(pos[keep], minlength=total)
    inside = _segmented_cumsum(toggles, row_len) % 2 > 0
    # horizontal edges on a centre row, running right to left once turned clockwise
    hz = ~nh & (np.floor(va - 0.5) + 0.5 == va)
    if hz.any():
        x1 = np.where(cw, ua, ub)[hz]
        x2 = np.where(cw, ub, ua)[hz]
        hq = p[hz]
        hr = (va[hz] - 0.5).astype(np.int64)
        ok = (x1 > x2) & (hr >= r0[hq]) & (hr < r0[hq] + nr[hq])
        start = np.floor(x2 + 0.5).astype(np.int64) - c0[hq]
        end = np.floor(x1 + 0.5).astype(np.int64) - c0[hq]
        start, end = np.maximum(start, 0), np.minimum(end, nc[hq])
        ok &= start < end
        base = roff[hq] + (hr - r0[hq]) * nc[hq]
        diff = np.bincount(base[ok] + start[ok], minlength=total + 1)[: total + 1].astype(np.int64)
        ends = base[ok] + end[ok]
        at_row_end = end[ok] >= nc[hq][ok]
        diff -= np.bincount(ends[~at_row_end], minlength=total + 1)[: total + 1]
        inside |= _segmented_cumsum(diff[:total], row_len) > 0
    return inside


def _first_centre_at_or_after(y: np.ndarray) -> np.ndarray:
    """Smallest integer ``r`` with ``r + 0.5 >= y`` (exact float comparison)."""
    r = np.ceil(y - 0.5).astype(np.int64)
    r -= (r - 1 + 0.5) >= y
    r += (r + 0.5) < y
    return r


def _cut_at_integers(a0, a1, b0, b1):
    """Cut segments ``(a0, b0) -> (a1, b1)`` wherever ``a`` crosses an integer.

    Each piece lies within one unit of ``a`` (one pixel column when ``a`` is the column
    coordinate, one row when it is the row coordinate). Returns, per piece, the index of
    its segment, its integer cell along ``a``, and its start and end in ``a`` and ``b``.
    Pieces keep the segment's direction; the ends of a segment are kept exactly.
    """
    ja = np.floor(a0).astype(np.int64)
    jb = np.floor(a1).astype(np.int64)
    n = np.abs(jb - ja) + 1
    idx = np.repeat(np.arange(a0.size), n)
    k = np.arange(idx.size) - np.repeat(np.cumsum(n) - n, n)
    step = np.sign(jb - ja)[idx]
    cell = ja[idx] + k * step
    last = k == n[idx] - 1
    first = k == 0
    forward = step > 0
    sa0, sb0, sa1, sb1 = a0[idx], b0[idx], a1[idx], b1[idx]
    a_start = np.where(first, sa0, np.where(forward, cell, cell + 1).astype(np.float64))
    a_end = np.where(last, sa1, np.where(forward, cell + 1, cell).astype(np.float64))
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (sb1 - sb0) / (sa1 - sa0)
        b_start = np.where(first, sb0, sb0 + (a_start - sa0) * slope)
        b_end = np.where(last, sb1, sb0 + (a_end - sa0) * slope)
    return idx, cell, a_start, a_end, b_start, b_end


def _segmented_cumsum(values: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Cumulative sum restarting at each segment (segments given by their lengths)."""
    cs = np.cumsum(values)
    ends = np.cumsum(lengths)
    starts = ends - lengths
    before = np.where(starts > 0, cs[np.maximum(starts - 1, 0)], 0)
    return cs - np.repeat(before, lengths)


# --------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------


def zonal_stats(
    parcels,
    rasters,
    *,
    stats=DEFAULT_STATS,
    weights: str = "coverage",
    names=None,
    nodata=None,
    coverage: Coverage | None = None,
    parcels_layer: str | None = None,
    block_rows: int | None = None,
    quantiles: str = "exactextract",
    progress=None,
) -> pd.DataFrame:
    """Per-parcel statistics of every layer of a raster or stack, with exact coverage.

    Parameters
    ----------
    parcels : GeoDataFrame, GeoSeries, str or path, or sequence of geometries
        Parcel polygons. They are reprojected to the raster's CRS (never the raster to
        theirs). No parcel is dropped: null/empty geometries and parcels outside the
        raster get NaN and a ``status``.
    rasters : str, path, rasterio dataset, tuple, RasterStack or list
        A raster file or open dataset (every band a layer), ``(array, transform[, crs])``
        with a 2-D or ``(layers, H, W)`` array, a :class:`ntmgis.stack.RasterStack`
        (dates x bands or indices; the fastest path), or a list of files/datasets on one
        grid. Masked pixels (NaN, or the raster's nodata) are left out per layer, so each
        date has its own clear-pixel ``count``.
    stats : sequence of str
        Statistics per layer: ``mean``, ``sum``, ``std``, ``min``, ``max``, ``median``,
        ``pNN`` (quantile, e.g. ``p10``), ``count``, ``valid``, ``above_T``, ``below_T``.
        See the module documentation for their definitions.
    weights : {"coverage", "centroid", "all_touched"}
        Pixel weights: exact area share (exactextract's semantics), or weight 1 for pixels
        whose centre is inside / that the parcel touches (rasterstats' semantics).
    names : list of str, optional
        Layer names for the column names (default: the stack's names, the bands'
        descriptions, or ``band1``, ``band2``...).
    nodata : float, optional
        Value to mask in every layer, overriding the rasters' own nodata.
    coverage : Coverage, optional
        A coverage from :func:`compute_coverage` for these parcels on this grid, to reuse
        (then ``parcels`` and ``weights`` are ignored and may be ``None``).
    parcels_layer : str, optional
        Layer of a multi-layer parcels file (e.g. ``"parcels"`` in a GeoPackage).
    block_rows : int, optional
        Raster rows read per window from files: bounds memory (default automatic).
    quantiles : {"exactextract", "pixels"}
        Definition of ``median`` and ``pNN`` (see the module documentation):
        ``"exactextract"`` merges equal values first, summing their weights, as
        exactextract does (pixels [1, 1, 1, 2]: median 1.5); ``"pixels"`` weighs every
        pixel on its own (median 1.0).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``parcels``: ``status``, ``coverage_fraction``, then one column
        ``"<layer>:<stat>"`` per layer and statistic, layer by layer.

    Raises
    ------
    InputError
        Unknown statistic or weights, or layer names that do not fit.
    ImageryError
        Rasters that cannot be read or are not on one grid.
    CRSError
        Parcels that cannot be reprojected to the raster's CRS.

    Examples
    --------
    >>> import numpy as np, shapely
    >>> from affine import Affine
    >>> values = np.arange(9, dtype="float32").reshape(3, 3)
    >>> table = zonal_stats(
    ...     [shapely.box(5, -15, 15, -5)], (values, Affine(10, 0, 0, 0, -10, 0)),
    ...     stats=["mean", "count"])
    >>> table[["band1:mean", "band1:count"]].round(3).values.tolist()
    [[2.0, 1.0]]
    """
    stats = _parse_stats(stats)
    _check_quantiles(quantiles)
    with contextlib.ExitStack() as stack:
        layers = _open_layers(rasters, stack, names=names, nodata=nodata)
        if coverage is None:
            if weights not in WEIGHTS:
                known = ", ".join(WEIGHTS)
                raise InputError(message("error.zonal.weights", weights=weights, known=known))
            index, geoms = _read_parcels(parcels, layers.grid, parcels_layer)
            coverage = _coverage(
                geoms, index, layers.grid, weights, _progress.scaled(progress, 0.0, 0.3)
            )
            progress = _progress.scaled(progress, 0.3, 1.0)
        else:
            coverage._check_grid(layers.grid)
        return _compute_stats(coverage, layers, stats, block_rows, progress, quantiles)


def _total_weights(cov: Coverage) -> np.ndarray:
    total = np.asarray(cov.core.sum(axis=1)).ravel()
    if cov.runs is not None and len(cov.runs):
        runs = cov.runs
        total = total + np.bincount(
            runs.parcel, weights=runs.weight * runs.length, minlength=total.size
        )
    return total


def _blocks_text(bad_blocks) -> tuple[str, str]:
    files = sorted({f for f, _, _ in bad_blocks})
    first = bad_blocks[0]
    r0, r1, c0, c1 = first[2]
    where = ", ".join(files)
    return where, {"band": first[1], "rows": f"{r0}-{r1 - 1}", "cols": f"{c0}-{c1 - 1}"}


def _raise_unreadable(layers: _Layers, layer: int) -> None:

    where, block = _blocks_text(layers.bad_blocks)
    raise ImageryError(
        message("zonal.unreadable_all", file=where, layer=layers.names[layer], **block)
    )


def _warn_unreadable(bad_blocks, parcels: int) -> None:

    where, block = _blocks_text(bad_blocks)
    warn(
        message(
            "zonal.unreadable_blocks",
            file=where,
            blocks=len(bad_blocks),
            **block,
            parcels=parcels,
        ),
        ZonalWarning,
        where=where,
        what="zonal.unreadable_blocks",
    )


def _check_quantiles(quantiles: str) -> None:
    if quantiles not in QUANTILES:
        known = ", ".join(QUANTILES)
        raise InputError(message("error.zonal.quantiles", quantiles=quantiles, known=known))


def _compute_stats(
    cov: Coverage, layers: _Layers, stats, block_rows, progress, quantiles="exactextract"
) -> pd.DataFrame:
    # runs of whole pixels are summed as runs when every statistic is a sum; otherwise
    # (std, min, max, quantiles, shares) every pixel is an entry of the matrix
    runs = cov.runs if cov.runs is not None and len(cov.runs) else None
    if runs is not None and not set(stats) <= _RUN_STATS:
        runs = None
    m, pixels = (cov.core, cov.core_pixels) if runs is not None else (cov.matrix, cov.pixels)
    n = m.shape[0]
    n_layers = len(layers)
    nnz_rows = np.repeat(np.arange(n), np.diff(m.indptr)) if m.nnz else np.zeros(0, np.int64)
    core_w = np.asarray(m.sum(axis=1)).ravel()
    total_w = _total_weights(cov) if runs is not None else core_w
    # layers per group: bound the gathered values (work arrays are per layer)
    per_layer = 8 * pixels.size + 1
    group = int(max(1, min(n_layers, _VALUE_BUDGET // per_layer)))
    columns: dict[str, np.ndarray] = {}
    groups = [list(range(i, min(i + group, n_layers))) for i in range(0, n_layers, group)]
    values = None  # one buffer for every group (fresh memory costs page faults)
    lost = np.zeros(n, dtype=bool)  # parcels over a block that could not be read
    layers.bad_blocks.clear()
    for gi, idx in enumerate(groups):
        sub = _progress.scaled(progress, gi / len(groups), (gi + 0.8) / len(groups))
        layers.unreadable.clear()
        values = layers.gather(pixels, idx, block_rows, sub, out=values, runs=runs)
        extra = None
        if runs is not None:
            extra = {
                k: (
                    np.bincount(runs.parcel, weights=runs.weight * total, minlength=n),
                    np.bincount(runs.parcel, weights=runs.weight * count, minlength=n),
                )
                for k, (total, count) in layers.run_sums.items()
            }
        results = _stats_for_values(
            m, nnz_rows, total_w, values, stats, quantiles, extra=extra, core_w=core_w
        )
        for k, runs_lost in layers.unreadable_runs.items():
            hit = np.zeros(n, dtype=bool)
            hit[runs.parcel[runs_lost]] = True
            lost |= hit
            for stat in stats:
                results[stat][k, hit] = np.nan
        for k, pixels_lost in layers.unreadable.items():
            whole = runs is None or layers.unreadable_runs.get(k, np.zeros(1, bool)).all()
            if pixels_lost.all() and pixels_lost.size and whole:
                _raise_unreadable(layers, idx[k])
            # no statistics from the readable rest of such a parcel: NaN and a status
            hit = (m @ pixels_lost.astype(np.float64)) > 0
            lost |= hit
            for stat in stats:
                results[stat][k, hit] = np.nan
        for k, layer in enumerate(idx):
            for stat in stats:
                columns[f"{layers.names[layer]}:{stat}"] = results[stat][k]
        _progress.report(progress, (gi + 1) / len(groups), "computing statistics")
    bad = (cov.status == STATUS_OUTSIDE) | (cov.status == STATUS_EMPTY)
    status = cov.status
    if layers.bad_blocks:
        status = np.where(lost & ~bad, STATUS_UNREADABLE, cov.status)
        _warn_unreadable(layers.bad_blocks, int((lost & ~bad).sum()))
    out = pd.DataFrame(
        {"status": status, "coverage_fraction": cov.coverage_fraction},
        index=cov.index,
    )
    data = pd.DataFrame(columns, index=cov.index)
    if bad.any() and len(data.columns):
        data.loc[bad] = np.nan
    return pd.concat([out, data], axis=1)


def _stats_for_values(
    m, nnz_rows, total_w, values, stats, method="exactextract", extra=None, core_w=None
) -> dict[str, np.ndarray]:
    """All statistics for the gathered ``values`` (g, P) of some layers: stat -> (g, n)."""
    n = m.shape[0]
    g = values.shape[0]
    out = {stat: np.full((g, n), np.nan) for stat in stats}
    thresholds = {}
    for stat in stats:
        match = _STAT_RE.match(stat)
        if match and match.group("cmp"):
            thresholds[stat] = (match.group("cmp"), float(match.group("t")))
    quantiles = {
        s: (0.5 if s == "median" else float(s[1:]) / 100.0)
        for s in stats
        if s == "median" or (s.startswith("p") and s not in thresholds)
    }
    per_nnz = "std" in stats or "min" in stats or "max" in stats or quantiles
    w = m.data
    starts = m.indptr[:-1]
    nonempty = np.flatnonzero(np.diff(m.indptr) > 0)
    for k in range(g):
        x = values[k]
        nan = np.isnan(x)
        if nan.any():  # masked pixels in this layer: its own clear-pixel count
            valid = ~nan
            count = m @ valid.astype(np.float64)
            total = m @ np.where(nan, 0.0, x)
        else:
            valid = None
            count = total_w if core_w is None else core_w
            total = m @ x
        if extra is not None and k in extra:  # runs of whole pixels (sums only)
            total = total + extra[k][0]
            count = count + extra[k][1]
        empty = count <= 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = total / count
            mean[empty] = np.nan
            if "mean" in out:
                out["mean"][k] = mean
            if "sum" in out:
                out["sum"][k] = total  # 0 when no valid pixel (exactextract's convention)
            if "count" in out:
                out["count"][k] = count
            if "valid" in out:
                out["valid"][k] = count / total_w
            for stat, (cmp, t) in thresholds.items():
                hit = (x > t) if cmp == "above" else (x < t)  # NaN compares False
                share = (m @ hit.astype(np.float64)) / count
                share[empty] = np.nan
                out[stat][k] = share
        if not per_nnz:
            continue
        xv = x[m.indices]
        ok = ~np.isnan(xv) if valid is not None else np.ones(xv.size, dtype=bool)
        if "std" in out:
            dev = np.where(ok, xv - mean[nnz_rows], 0.0)
            acc = np.bincount(nnz_rows, weights=w * dev * dev, minlength=n)
            with np.errstate(invalid="ignore", divide="ignore"):
                std = np.sqrt(acc / count)
            std[empty] = np.nan
            out["std"][k] = std
        if nonempty.size and ("min" in out or "max" in out):
            has = np.add.reduceat(ok, starts[nonempty]) > 0
            if "min" in out:
                mn = np.minimum.reduceat(np.where(ok, xv, np.inf), starts[nonempty])
                out["min"][k, nonempty[has]] = mn[has]
            if "max" in out:
                mx = np.maximum.reduceat(np.where(ok, xv, -np.inf), starts[nonempty])
                out["max"][k, nonempty[has]] = mx[has]
        if quantiles:
            found = _weighted_quantiles(
                xv[ok], w[ok], nnz_rows[ok], n, quantiles, merge=method == "exactextract"
            )
            for stat, q in found.items():
                out[stat][k] = q
    return out


def _weighted_quantiles(
    x, w, rows, n, quantiles: dict[str, float], merge: bool = True
) -> dict[str, np.ndarray]:
    """Weighted quantiles per parcel, exactextract's definition (``WeightedQuantiles``).

    With the values of a parcel sorted, ``S_k = k w_k + (n - 1) sum_{i<k} w_i``; the
    quantile ``q`` interpolates linearly in ``S`` at ``q S_n`` where ``S_n = (n - 1) sum w``.
    With ``merge`` (exactextract's ``RasterStats``), equal values of a parcel are one
    element first, their weights summed, so ``n`` counts distinct values.
    """
    result = {s: np.full(n, np.nan) for s in quantiles}
    if x.size == 0:
        return result
    order = _sort_within(rows, x)
    x, w, rows = x[order], w[order], rows[order]
    if merge and x.size > 1:
        new = np.ones(x.size, dtype=bool)
        new[1:] = (rows[1:] != rows[:-1]) | (x[1:] != x[:-1])
        if not new.all():
            first = np.flatnonzero(new)
            w = np.add.reduceat(w, first)
            x, rows = x[first], rows[first]
    seg_rows, starts, lengths = np.unique(rows, return_index=True, return_counts=True)
    rank = np.arange(x.size) - np.repeat(starts, lengths)
    cw = np.cumsum(w)
    base = np.repeat(np.where(starts > 0, cw[np.maximum(starts - 1, 0)], 0.0), lengths)
    excl = cw - w - base  # weights before each element in its parcel
    seg_total = np.add.reduceat(w, starts)
    n_seg = np.repeat(lengths - 1, lengths).astype(np.float64)
    s = rank * w + n_seg * excl
    sn = seg_total * (lengths - 1)
    last = starts + lengths - 1
    for stat, q in quantiles.items():
        target = q * sn
        cnt = np.add.reduceat(s <= np.repeat(target, lengths), starts)
        right = starts + cnt
        res = np.empty(seg_rows.size)
        at_start = cnt == 0
        at_end = cnt >= lengths
        res[at_start] = x[starts[at_start]]
        res[at_end] = x[last[at_end]]
        mid = ~at_start & ~at_end
        r = right[mid]
        lft = r - 1
        ds = s[r] - s[lft]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(ds > 0, (target[mid] - s[lft]) / ds, 0.0)
        res[mid] = x[lft] + frac * (x[r] - x[lft])
        result[stat][seg_rows] = res
    return result


def _sort_within(rows: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Order sorting ``x`` within each run of equal (ascending) ``rows``."""
    x32 = x.astype(np.float32)
    if rows.size and rows[-1] < 2**31 and np.array_equal(x32, x):
        # exact: order-preserving 32-bit key of the float32 value under the row number
        bits = x32.view(np.uint32).astype(np.uint64)
        neg = (bits >> np.uint64(31)).astype(bool)
        key = np.where(neg, np.uint64(0xFFFFFFFF) - bits, bits | np.uint64(0x80000000))
        key |= rows.astype(np.uint64) << np.uint64(32)
        return np.argsort(key, kind="stable")
    return np.lexsort((x, rows))
