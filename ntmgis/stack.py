"""RasterStack: many layers (dates x bands or indices) on one grid, in memory.

The imagery stage produces stacks and the zonal stage consumes them, so the per-parcel
pixel coverage is computed once per grid and reused for every layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .errors import InputError, SchemaError

__all__ = ["RasterStack"]


@dataclass
class RasterStack:
    """Layers on one grid.

    Parameters
    ----------
    data : numpy.ndarray
        Array of shape ``(layers, height, width)``. Float layers use NaN for masked
        pixels (cloud, nodata); integer layers use ``nodata``.
    transform : affine.Affine
        Pixel-to-CRS transform of the grid (rasterio convention).
    crs : rasterio.crs.CRS or pyproj.CRS or str
        Coordinate reference system of the grid.
    names : list of str
        One name per layer, e.g. ``"2020-01-12/ndvi"``.
    nodata : float or int, optional
        Value marking missing pixels in integer layers.
    meta : dict
        Free-form metadata (scene ids, dates, sensor) carried along.
    """

    data: np.ndarray
    transform: object
    crs: object
    names: list[str]
    nodata: float | int | None = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        data = np.asarray(self.data)
        if data.ndim == 2:
            data = data[np.newaxis]
        if data.ndim != 3:
            raise InputError(f"RasterStack data must be (layers, height, width), got {data.shape}")
        self.data = data
        self.names = [str(n) for n in self.names]
        if len(self.names) != data.shape[0]:
            raise InputError(f"RasterStack has {data.shape[0]} layers but {len(self.names)} names")

    @property
    def shape(self) -> tuple[int, int]:
        """Grid shape ``(height, width)``."""
        return self.data.shape[1], self.data.shape[2]

    def __len__(self) -> int:
        return self.data.shape[0]

    def layer(self, name: str) -> np.ndarray:
        """Return one layer by name."""
        try:
            return self.data[self.names.index(name)]
        except ValueError:
            raise SchemaError(
                f"No layer '{name}' in stack; layers: {', '.join(self.names)}"
            ) from None
