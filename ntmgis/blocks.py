"""Blocks: a commune's parcels grouped by imagery block, and their features block by block.

This is the core of the feature step of :func:`ntmgis.pipeline.run`: the commune is cut
into squares of ``[imagery] block`` pixels of the finest band (:func:`plan_blocks`), each
block reads only its window of each scene and computes its parcels' features
(:func:`block_features`), and the blocks are put back into the commune's parcel order
(:func:`assemble_features`). :func:`commune_features` does the three in this process.
:mod:`ntmgis.distributed` schedules the same functions as Dask tasks, so a cluster gives
exactly the single-process result. Nothing here imports Dask.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from .errors import CancelledError, ImageryError, InputError, NtmgisError
from .features import DEFAULT_INDICES
from .i18n import message
from .i18n import register as _register

__all__ = [
    "BlockResult",
    "assemble_features",
    "block_context",
    "block_features",
    "commune_shifts",
    "commune_features",
    "plan_blocks",
]

logger = logging.getLogger(__name__)

_register(
    "error.blocks.block_size",
    "Kích thước khối ảnh phải là một số điểm ảnh dương (mục block của [imagery] trong tệp "
    "cấu hình), không phải {block}. Hãy sửa hoặc bỏ mục này (mặc định 512).",
    "The block size must be a positive number of pixels (block in [imagery] of the run "
    "configuration), not {block}. Correct it or leave it out (default 512).",
)
_register(
    "error.blocks.none_computed",
    "Không tính được khối ảnh nào của xã. Lỗi của từng khối (số khối: lỗi): {errors}",
    "No block of the commune could be computed. The error of each block (block: error): {errors}",
)
_register(
    "error.blocks.not_partition",
    "Các khối ảnh không chứa mỗi thửa đúng một lần ({parcels} thửa, {positions} vị trí). "
    "Đây là lỗi của ntmgis: hãy báo lỗi kèm tệp cấu hình.",
    "The blocks do not hold every parcel exactly once ({parcels} parcels, {positions} "
    "positions). This is a fault of ntmgis: please report it with the run configuration.",
)
_register(
    "error.blocks.on_error",
    "Cách xử lý lỗi của khối ảnh phải là 'raise' (dừng) hoặc 'record' (ghi lại rồi chạy "
    "tiếp), không phải {value}.",
    "on_error must be 'raise' (stop) or 'record' (record and go on), not {value}.",
)


def _imagery_grid(imagery):
    """CRS and pixel size of the imagery's finest band (first scene), or None."""
    from .imagery import _open, find_scenes
    from .stack import RasterStack

    if isinstance(imagery, RasterStack):
        return imagery.crs, abs(imagery.transform.a)
    try:
        scenes = find_scenes(imagery, on_error="skip")
    except NtmgisError:
        return None
    for scene in scenes:
        for name in ("red", "nir", "green", "blue", *sorted(scene.bands)):
            if name not in scene.bands:
                continue
            try:
                with _open(scene.bands[name].href) as ds:
                    return ds.crs, abs(ds.res[0])
            except NtmgisError:
                break
    return None


def plan_blocks(parcels, imagery, *, block: int = 512) -> list[np.ndarray]:
    """Group parcels by the imagery block (``block`` x ``block`` pixels) they lie in.

    Blocks are squares of the imagery's finest grid starting at the north-west corner of
    the parcels; a parcel belongs to the block holding its representative point (a
    parcel crossing a block edge is read whole: a block's window covers its parcels).
    Parcels without geometry join the first block (they keep their status there).

    Parameters
    ----------
    parcels : GeoDataFrame
        The commune's parcels, any CRS.
    imagery : scenes, folder, STAC file or RasterStack
        What :func:`ntmgis.features.parcel_time_series` reads; only the first scene's
        header is opened. When it cannot be opened, one block holds every parcel (the
        features step then reports the error).
    block : int, default 512
        Block side in pixels of the finest band (512 px = 5.12 km at 10 m).

    Returns
    -------
    list of numpy.ndarray
        Ascending row positions of each non-empty block, blocks north to south, west to
        east; together they hold every parcel once.
    """
    n = len(parcels)
    if n == 0:
        return []
    if int(block) < 1:
        raise InputError(message("error.blocks.block_size", block=repr(block)))
    geoms = parcels.geometry
    ok = ~(geoms.isna() | geoms.is_empty).to_numpy()
    grid = _imagery_grid(imagery) if ok.any() else None
    if grid is None:
        return [np.arange(n)]
    crs, res = grid
    points = geoms[ok].representative_point()
    if parcels.crs is not None and crs is not None:
        points = points.to_crs(crs)
    x, y = points.x.to_numpy(), points.y.to_numpy()
    size = float(block) * float(res)
    col = np.floor((x - x.min()) / size).astype(np.int64)
    row = np.floor((y.max() - y) / size).astype(np.int64)
    key = np.empty(n, dtype=np.int64)
    key[ok] = row * (int(col.max()) + 1) + col
    key[~ok] = key[ok].min()
    return [np.flatnonzero(key == k) for k in np.unique(key)]


def block_context(parcels, positions, imagery, *, grid=None) -> np.ndarray:
    """Positions of the parcels a block's unmixing needs besides its own.

    A parcel's own values (:func:`ntmgis.features.unmix`) depend on the parcels within
    :data:`~ntmgis.features.UNMIX_SWEEPS` shared pixels of it; with them read beside the
    block, its parcels get the values a whole-commune run gives them. Taken generously:
    the parcels whose bounds come within three pixels of the finest band (a 20 m
    pixel's diagonal at 10 m; two parcels whose pixels are one pixel apart share the one
    between them through the optics' point-spread function, less than three pixels
    apart) of the block's, ring by ring.

    Parameters
    ----------
    parcels : GeoDataFrame
        The commune's parcels.
    positions : numpy.ndarray
        Row positions of the block's parcels (:func:`plan_blocks`).
    imagery : scenes, folder, STAC file or RasterStack
        For the pixel size (the first scene's finest band).
    grid : tuple, optional
        ``(crs, pixel size)`` when already known.

    Returns
    -------
    numpy.ndarray
        Ascending row positions of the other parcels (empty when the block holds all).
    """
    import shapely

    n = len(parcels)
    positions = np.asarray(positions, dtype=np.int64)
    if len(positions) == n:
        return np.zeros(0, dtype=np.int64)
    grid = _imagery_grid(imagery) if grid is None else grid
    if grid is None:
        return np.zeros(0, dtype=np.int64)
    crs, res = grid
    geoms = parcels.geometry
    if parcels.crs is not None and crs is not None:
        geoms = geoms.to_crs(crs)
    boxes = shapely.box(*np.asarray(geoms.bounds).T)
    ok = ~shapely.is_missing(boxes) & ~shapely.is_empty(boxes) & ~np.isnan(shapely.area(boxes))
    tree = shapely.STRtree(np.where(ok, boxes, None))
    from .features import UNMIX_SWEEPS

    taken = np.zeros(n, bool)
    taken[positions] = True
    ring = positions[ok[positions]]
    for _ in range(UNMIX_SWEEPS):
        if not len(ring):
            break
        hits = tree.query(boxes[ring], predicate="dwithin", distance=3.0 * float(res))[1]
        ring = np.unique(hits[~taken[hits]])
        taken[ring] = True
    taken[positions] = False
    return np.flatnonzero(taken)


def commune_shifts(imagery, parcels, *, period=None) -> list:
    """Each date's displacement, measured once over the whole commune's NDVI.

    A commune read block by block is co-registered with these (``coregister`` of
    :func:`block_features`), so that every block is moved as the whole commune read
    at once moves it (a block's own window would measure a slightly different shift).

    Parameters
    ----------
    imagery : scenes, folder, STAC file or RasterStack
        As :func:`ntmgis.features.parcel_time_series` reads it.
    parcels : GeoDataFrame
        The commune's parcels: the read's extent.
    period : str, optional
        ``"START:END"`` dates to keep.

    Returns
    -------
    list
        ``[(grid, {date: (east, north)})]``, one per grid (its CRS and pixel size,
        :func:`ntmgis.features.grid_key`; :func:`ntmgis.registration.estimate_shifts`).
    """
    from .features import _stacks_of, grid_key
    from .registration import estimate_shifts

    stacks = _stacks_of(imagery, parcels=parcels, indices=["ndvi"], period=period,
                        progress=None)  # fmt: skip
    return [(grid_key(stack), estimate_shifts(stack)) for stack in stacks]


def block_features(parcels, imagery, *, indices, period=None, min_valid=0.6, progress=None,
                   context=None, coregister=True):  # fmt: skip
    """Per-parcel features of one block: its parcels' window of every scene.

    Parameters
    ----------
    parcels : GeoDataFrame
        The block's parcels.
    imagery : scenes, folder, STAC file or RasterStack
        Read over these parcels only (see :func:`ntmgis.features.parcel_time_series`).
    indices : sequence of str
        Index names; NDVI among them.
    period : str, optional
        ``"START:END"`` dates to keep.
    min_valid : float, default 0.6
        Share of a parcel seen clear for a date to count.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.
    context : GeoDataFrame, optional
        Neighbouring parcels read with the block so that its parcels' pixels are unmixed
        as in the whole commune (:func:`block_context`); their features are not returned.
    coregister : bool or list, default True
        As :func:`ntmgis.features.parcel_time_series` takes it; a block of a commune
        read in several is given the commune's :func:`commune_shifts`.

    Returns
    -------
    tuple
        ``(features, dates)``: the :func:`ntmgis.features.parcel_features` table of the
        block's parcels and the ``datetime64[D]`` dates of the series.
    """
    import pandas as pd

    from .features import parcel_features, parcel_time_series

    n = len(parcels)
    both = parcels
    if context is not None and len(context):
        if context.crs is not None and parcels.crs is not None and context.crs != parcels.crs:
            context = context.to_crs(parcels.crs)
        both = pd.concat([parcels, context[[parcels.geometry.name]]], ignore_index=True)
        both = both.set_geometry(parcels.geometry.name).set_crs(parcels.crs, allow_override=True)
    series = parcel_time_series(both, imagery, indices=indices, period=period,
                                progress=progress, coregister=coregister)  # fmt: skip
    feats = parcel_features(both, None, series=series, min_valid=min_valid)
    if both is not parcels:
        feats = feats.iloc[:n]
        feats.index = parcels.index
    return feats, series.dates


@dataclass
class BlockResult:
    """One block's outcome: its parcels' positions, features or error, and measures."""

    positions: np.ndarray
    features: object = None
    dates: object = None
    error: str | None = None
    stats: dict = field(default_factory=dict)


def _failed_features(index, dates, indices):
    """The features table of parcels whose block failed: no clear date, status 'error'."""
    from .features import ParcelSeries, parcel_features

    n, t = len(index), len(dates)
    series = ParcelSeries(
        index=index,
        dates=np.asarray(dates, dtype="datetime64[D]"),
        mean={i: np.full((n, t), np.nan) for i in indices},
        std={i: np.full((n, t), np.nan) for i in indices},
        valid=np.zeros((n, t)),
        pixels=np.zeros(n),
        status=np.full(n, "error", dtype=object),
        coverage_fraction=np.full(n, np.nan),
    )
    return parcel_features(None, None, series=series)


def assemble_features(index, parts, *, indices=DEFAULT_INDICES):
    """Put the blocks' features back into the commune's parcel order.

    Parameters
    ----------
    index : pandas.Index
        The commune's parcel index (``prepared.joined.index``).
    parts : list of BlockResult
        Every block of :func:`plan_blocks`, computed or failed.
    indices : sequence of str
        The config's indices (columns of failed blocks).

    Returns
    -------
    tuple
        ``(features, dates, errors)``: features indexed like ``index`` (parcels of a
        failed block with ``imagery_status`` ``"error"``, NaN features and the message in a
        ``partition_error`` column, present only when a block failed); the sorted union
        of the blocks' dates; and one dict per failed block (block, parcels, error).

    Raises
    ------
    ImageryError
        When every block failed (the messages are listed).
    """
    import pandas as pd

    good = [p for p in parts if p.error is None]
    errors = [
        {"block": k, "parcels": len(p.positions), "error": p.error}
        for k, p in enumerate(parts)
        if p.error is not None
    ]
    if not good:
        text = "; ".join(f"{e['block']}: {e['error']}" for e in errors)
        raise ImageryError(message("error.blocks.none_computed", errors=text))
    dates = np.unique(np.concatenate([np.asarray(p.dates, dtype="datetime64[D]") for p in good]))
    frames, positions = [], []
    for part in parts:
        if part.error is None:
            frame = part.features
        else:
            frame = _failed_features(index[part.positions], dates, indices)
            frame["partition_error"] = part.error
        frames.append(frame)
        positions.append(np.asarray(part.positions))
    pos = np.concatenate(positions)
    if len(frames) == 1 and np.array_equal(pos, np.arange(len(index))):
        features = frames[0]
    else:
        if not np.array_equal(np.sort(pos), np.arange(len(index))):
            raise InputError(
                message("error.blocks.not_partition", parcels=len(index), positions=pos.size)
            )
        features = pd.concat(frames).iloc[np.argsort(pos, kind="stable")]
        features.index = index
    if any(len(p.dates) != len(dates) for p in good):
        features["n_dates"] = len(dates)  # a scene that missed a block is a date of it
    if errors and "partition_error" in features:
        features["partition_error"] = features["partition_error"].astype(object)
        features.loc[features["partition_error"].isna(), "partition_error"] = None
    return features, dates, errors


def commune_features(config, joined, *, on_error: str = "raise", progress=None):
    """Per-parcel features of a commune, block by block (the middle step of ``run``).

    Parameters
    ----------
    config : RunConfig
        Its ``imagery``, ``indices``, ``period``, ``min_valid`` and ``block``.
    joined : GeoDataFrame
        The commune's parcels (``prepare(config).joined``).
    on_error : {"raise", "record"}
        A block whose input is bad (an :class:`~ntmgis.errors.NtmgisError`) stops the
        run, or gives its parcels the ``"error"`` status while the rest completes.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    tuple
        ``(features, dates)`` as :func:`assemble_features` gives them; with
        ``on_error="record"``, ``(features, dates, errors)``.
    """
    from ._progress import scaled

    if on_error not in ("raise", "record"):
        raise InputError(message("error.blocks.on_error", value=repr(on_error)))
    blocks = plan_blocks(joined, config.imagery, block=config.block)
    grid = _imagery_grid(config.imagery) if len(blocks) > 1 else None
    shifts = bool(getattr(config, "coregister", True))
    if shifts and len(blocks) > 1:
        try:
            shifts = commune_shifts(config.imagery, joined, period=config.period)
        except CancelledError:
            raise
        except NtmgisError:  # each block then says what is wrong with its read
            if on_error == "raise":
                raise
    parts = []
    for k, pos in enumerate(blocks):
        sub = scaled(progress, k / len(blocks), (k + 1) / len(blocks))
        try:
            context = joined.iloc[block_context(joined, pos, config.imagery, grid=grid)]
            feats, dates = block_features(
                joined.iloc[pos], config.imagery, indices=config.indices,
                period=config.period, min_valid=config.min_valid, progress=sub,
                context=context, coregister=shifts,
            )  # fmt: skip
            parts.append(BlockResult(pos, feats, dates))
        except CancelledError:
            raise  # a cancel is the user's, never a block's bad input
        except NtmgisError as exc:
            if on_error == "raise":
                raise
            parts.append(BlockResult(pos, error=f"{type(exc).__name__}: {exc}"))
    features, dates, errors = assemble_features(joined.index, parts, indices=config.indices)
    return (features, dates, errors) if on_error == "record" else (features, dates)
