"""Operations the command line and the QGIS plugin both offer, as library functions.

The CLI (``ntmgis indices``, ``ntmgis run``) and the plugin's Processing algorithms
call these, so the same operation gives the same files whichever way it is run:

* :func:`index_products`: masked index time series and composites as COGs, one set
  per CRS grid (scenes from two UTM zones are never resampled into one), and
  ``scenes.csv``, written together;
* :func:`parcel_statistics`: per-parcel statistics of rasters, written with the parcels
  (GeoPackage layer ``parcels``, or CSV without geometry);
* :func:`run_config`: run a commune or a province config, whichever the file is.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ._progress import ProgressCallback, scaled
from .i18n import register, say

__all__ = [
    "IndexProducts",
    "index_products",
    "parcel_statistics",
    "run_config",
    "run_commune",
    "is_province_config",
]

logger = logging.getLogger(__name__)

register(
    "error.operations.scheduler_and_workers",
    "Chọn một bộ lập lịch Dask hoặc một số tiến trình, không chọn cả hai.",
    "Give a Dask scheduler or a number of workers, not both.",
)

_SCENE_FIELDS = ["scene", "date", "crs", "clear_pixels", "aoi_pixels", "boa_offset", "status"]


@dataclass
class IndexProducts:
    """What :func:`index_products` wrote.

    Attributes
    ----------
    series, composites : dict of str to pathlib.Path
        ``<index>`` (one grid) or ``<index>_<crs>`` (several) -> the COG written.
    scenes_csv : pathlib.Path
        One row per scene read (clear pixels, BOA offset, status) or skipped (reason).
    scenes_read, scenes_skipped : int
    stacks : list of RasterStack
        The stacks read, one per CRS grid.
    paths : list of pathlib.Path
        Every file written, in order.
    """

    series: dict = field(default_factory=dict)
    composites: dict = field(default_factory=dict)
    scenes_csv: Path | None = None
    scenes_read: int = 0
    scenes_skipped: int = 0
    stacks: list = field(default_factory=list)
    paths: list = field(default_factory=list)  # every file, in the order written


def index_products(
    scenes,
    out: str | os.PathLike,
    *,
    indices=("ndvi",),
    aoi=None,
    aoi_layer: str | None = None,
    period: str | None = None,
    grid: str | None = None,
    margin: float = 40.0,
    on_error: str = "skip",
    series: bool = True,
    progress: ProgressCallback | None = None,
) -> IndexProducts:
    """Write masked index time series and composites over an area, one set per CRS grid.

    Parameters
    ----------
    scenes : str, os.PathLike or list of Scene
        Scene folders, multi-band GeoTIFFs or a STAC file (see :func:`ntmgis.find_scenes`).
    out : str or os.PathLike
        Output folder (created).
    indices : sequence of str, default ("ndvi",)
        Index names (registered ones, see :func:`ntmgis.register_index`).
    aoi, aoi_layer : optional
        Area of interest (vector file or GeoDataFrame) and its layer.
    period : str, optional
        ``"START:END"``.
    grid : {"10m", "20m"}, optional
        Pixel size (default: the finest band).
    margin : float, default 40
        Metres read around the area.
    on_error : {"skip", "raise"}, default "skip"
        An unreadable scene is skipped and listed in ``scenes.csv``, or stops the run.
    series : bool, default True
        Also write the per-date series (``<index>_series.tif``).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    IndexProducts
        ``<index>_series[_<crs>].tif``, ``<index>_composite[_<crs>].tif`` and
        ``scenes.csv`` under ``out``.
    """
    from ._io import check_writable, write_csv
    from .imagery import read_stacks
    from .indices import composite, write_cog

    check_writable(out)  # before any work
    names = list(dict.fromkeys(str(n).lower() for n in indices)) or ["ndvi"]
    stacks = read_stacks(
        scenes, aoi=aoi, aoi_layer=aoi_layer, indices=names, period=period, grid=grid,
        margin=margin, on_error=on_error, progress=scaled(progress, 0.0, 0.8),
    )  # fmt: skip
    out = Path(out)
    result = IndexProducts(stacks=stacks)
    for stack in stacks:
        suffix = "" if len(stacks) == 1 else "_" + stack.meta["crs_name"].replace(":", "").lower()
        for name in names:
            keep = [i for i, n in enumerate(stack.names) if n.endswith(f"/{name}")]
            one = type(stack)(
                stack.data[keep], stack.transform, stack.crs, [stack.names[i] for i in keep],
                meta={"layers": [stack.meta["layers"][i] for i in keep]},
            )  # fmt: skip
            if series:
                path = Path(write_cog(one, out / f"{name}_series{suffix}.tif"))
                result.series[name + suffix] = path
                result.paths.append(path)
            comp = composite(one, variable=name, period=period)
            path = Path(write_cog(comp, out / f"{name}_composite{suffix}.tif"))
            result.composites[name + suffix] = path
            result.paths.append(path)
    rows = []
    for stack in stacks:
        for row in stack.meta["scenes"]:
            rows.append({**{k: row.get(k) for k in _SCENE_FIELDS}, "crs": stack.meta["crs_name"]})
    skipped = stacks[0].meta["skipped"] if stacks else []
    for row in skipped:
        rows.append({"scene": row["scene"], "date": row["date"],
                     "status": "skipped: " + row["reason"]})  # fmt: skip
    result.scenes_csv = write_csv(out / "scenes.csv", rows, columns=_SCENE_FIELDS, bom=False)
    result.paths.append(result.scenes_csv)
    result.scenes_read = sum(len(s.meta["scenes"]) for s in stacks)
    result.scenes_skipped = len(skipped)
    logger.info("index products: %d scene(s) read, %d skipped, in %s",
                result.scenes_read, result.scenes_skipped, out)  # fmt: skip
    return result


def parcel_statistics(
    parcels,
    rasters,
    out: str | os.PathLike,
    *,
    layer: str | None = None,
    stats=("mean", "count"),
    weights: str = "coverage",
    nodata: float | None = None,
    progress: ProgressCallback | None = None,
):
    """Per-parcel statistics of rasters, written with the parcels' own columns.

    Parameters
    ----------
    parcels : str, os.PathLike or GeoDataFrame
        The parcels (any vector GDAL reads).
    rasters : str, os.PathLike or list
        One raster or several on one grid (see :func:`ntmgis.zonal_stats`).
    out : str or os.PathLike
        ``.gpkg`` (layer ``parcels``, with geometry) or ``.csv`` (without geometry),
        written atomically; text cells of the CSV formula-escaped.
    layer : str, optional
        Layer of the parcels file.
    stats, weights, nodata
        As :func:`ntmgis.zonal_stats`.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    tuple
        ``(table, path)``: the statistics table (one row per parcel, with ``status``) and
        the file written.
    """
    from ._io import check_writable, read_vector, write_csv, write_gpkg
    from .zonal import zonal_stats

    check_writable(Path(out).expanduser().resolve().parent)  # before any work
    gdf = read_vector(parcels, layer=layer, what="parcels file")
    table = zonal_stats(gdf, rasters if isinstance(rasters, (list, tuple)) else [rasters],
                        stats=list(stats), weights=weights, nodata=nodata,
                        progress=progress)  # fmt: skip
    clash = set(table.columns) & set(gdf.columns)
    joined = gdf.join(table.add_prefix("z_") if clash else table)
    out = Path(out)
    if out.suffix.lower() == ".gpkg":
        path = write_gpkg(out, {"parcels": joined})
    else:
        path = write_csv(out, joined.drop(columns=joined.geometry.name))
    return table, path


def is_province_config(path: str | os.PathLike) -> bool:
    """Whether a run config file is a province's (a ``[province]`` table of communes)."""
    from .config import read_toml

    return "province" in read_toml(path)


def run_config(
    config,
    *,
    out: str | os.PathLike | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
    visits_per_hamlet: int | None = None,
    progress: ProgressCallback | None = None,
):
    """Run a commune's or a province's config: in this process, or on Dask.

    Parameters
    ----------
    config : str or os.PathLike
        A commune's run config, or a province's (``[province]`` listing commune configs).
    out : str or os.PathLike, optional
        Output folder (a province's communes go to ``out/<commune folder>``).
    scheduler, workers : optional
        Run on this Dask scheduler, or a local cluster of ``workers`` processes (needs
        the ``[distributed]`` extra). Neither: communes one after another in this process.
    visits_per_hamlet : int, optional
        Field visits each hamlet can make, overriding the configs' ``[flags]
        visits_per_hamlet``.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    RunResult or DistributedResult
        A commune run alone gives its :class:`~ntmgis.pipeline.RunResult`; a province,
        or a run on Dask, the :class:`~ntmgis.distributed.DistributedResult` (one outcome
        per commune).
    """
    from .config import load_communes, load_config
    from .errors import ConfigError

    if scheduler and workers:
        raise ConfigError(say("error.operations.scheduler_and_workers"))
    if is_province_config(config):
        from .distributed import run_distributed

        configs = load_communes(config, out=out)  # out/<commune folder>, checked for clashes
        for cfg in configs:
            if visits_per_hamlet is not None:
                cfg.visits_per_hamlet = visits_per_hamlet
        return run_distributed(configs, scheduler=scheduler, workers=workers, gather=False,
                               progress=progress)  # fmt: skip
    cfg = load_config(config)
    if out is not None:
        cfg.out_dir = Path(out).resolve()
    if visits_per_hamlet is not None:
        cfg.visits_per_hamlet = visits_per_hamlet
    return run_commune(cfg, scheduler=scheduler, workers=workers, progress=progress)


def run_commune(config, *, scheduler=None, workers=None, progress=None):
    """Run one commune's validated config in this process, or on Dask when asked.

    Returns the :class:`~ntmgis.pipeline.RunResult`, or on Dask the
    :class:`~ntmgis.distributed.DistributedResult` of its one commune.
    """
    if scheduler or workers:
        from .distributed import run_distributed

        return run_distributed(config, scheduler=scheduler, workers=workers, progress=progress)
    from .pipeline import run

    return run(config, progress=progress)
