"""The one input adapter: paths, open datasets, GeoDataFrames, arrays.

Public functions accept a path (``str`` or ``os.PathLike``) or an in-memory object; they
call these helpers instead of opening files themselves, so every reader gives the same
errors.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from .errors import DataNotFoundError, ImageryError, InputError

PathLike = str | os.PathLike


def as_path(source: PathLike, *, what: str = "file") -> Path:
    """Return ``source`` as an existing :class:`Path`, or raise DataNotFoundError."""
    path = Path(source).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            f"{what.capitalize()} not found: '{path}'. Check the path (and the working "
            f"folder, '{Path.cwd()}')."
        )
    return path


def read_vector(source, *, layer: str | None = None, what: str = "vector file"):
    """Read a vector source into a GeoDataFrame.

    ``source`` is a path readable by GDAL (GeoPackage, Shapefile, GeoJSON, FlatGeobuf,
    DXF...) or a GeoDataFrame (returned as a copy).
    """
    import geopandas as gpd

    if isinstance(source, gpd.GeoDataFrame):
        return source.copy()
    path = as_path(source, what=what)
    try:
        import pyogrio

        if layer is not None:
            names = [name for name, _ in pyogrio.list_layers(path)]
            if layer not in names:
                from .errors import SchemaError

                raise SchemaError(
                    f"Layer '{layer}' not found in '{path}'. Layers there: {', '.join(names)}."
                )
        return gpd.read_file(path, layer=layer)
    except (DataNotFoundError, InputError):
        raise
    except Exception as exc:  # GDAL/pyogrio errors: name the file and what to do
        raise InputError(
            f"Cannot read {what} '{path}': {exc}. Is it complete and in a format GDAL "
            f"reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf)?"
        ) from exc


@contextlib.contextmanager
def open_raster(source) -> Iterator:
    """Yield an open rasterio dataset for a path or an already open dataset.

    A dataset opened here is closed on exit; one passed in is left open.
    """
    import rasterio

    if hasattr(source, "read") and hasattr(source, "transform"):
        yield source
        return
    path = as_path(source, what="raster")
    try:
        dataset = rasterio.open(path)
    except rasterio.errors.RasterioIOError as exc:
        raise ImageryError(
            f"Cannot open raster '{path}': {exc}. The file may be truncated or not a GeoTIFF."
        ) from exc
    with dataset:
        yield dataset
