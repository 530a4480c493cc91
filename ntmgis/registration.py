"""Co-registration of a time series: each date's sub-pixel displacement, measured and undone.

Sentinel-2 tiles of one place are not exactly where one another are: Yan et al. (2018)
measured 0.4 pixel on average between Sentinel-2A acquisitions (more than a pixel before
ESA's 2016 update), and the mission's own requirement is 0.3 pixel at 95 % confidence. A
garden of a few pixels then shows, date by date, a little more of one neighbour or the
other: tillage, drops and regrowth that never happened. Here each date's NDVI is
registered to the series' median (the place where the dates are on average) by least
squares on the median's gradients, and every layer of the date is resampled back by the
displacement found (bilinear; a pixel next to a cloud is left out rather than mixed with
it). A displacement smaller than :data:`MIN_SHIFT` pixel is within the estimate's noise
and left alone, so exactly registered imagery is read unchanged.
"""

from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

__all__ = ["estimate_shifts", "apply_shifts", "MIN_SHIFT", "MAX_SHIFT"]

#: a displacement (pixels, either axis) below this is not undone: the estimate's noise
MIN_SHIFT = 0.1
#: the largest displacement (pixels, per axis) the linear estimate is trusted for
MAX_SHIFT = 1.5
#: clear pixels with texture a date needs for its displacement to be measured
MIN_PIXELS = 500
#: the most pixels a date's displacement is measured on: a larger stack (a district read
#: as one commune) is measured on its central window of about this many pixels, the
#: displacement being one for the whole scene; the dates in float64 and their median's
#: sort then hold at most about 2 x 8 bytes x dates x this (380 MB at 24 dates), where
#: the whole of a 5,000 x 5,000 pixel stack would need 9.6 GB
MAX_PIXELS = 1_000_000


def _date_layers(stack, index: str) -> dict[str, int]:
    """``{date: layer}`` of the stack's ``DATE/index`` layers."""
    out = {}
    for k, name in enumerate(stack.names):
        date, _, idx = str(name).partition("/")
        if idx == index:
            out[date] = k
    return out


def _as_float(layer, nodata) -> np.ndarray:
    x = np.asarray(layer, dtype=np.float64)
    if nodata is not None and not np.isnan(nodata):
        x = np.where(x == nodata, np.nan, x)
    return x


def estimate_shifts(stack, *, index: str = "ndvi", iterations: int = 3) -> dict:
    """Each date's displacement from the series' median, from one index.

    Each date ``I`` is fitted as ``a + b * M(p - d)``, ``M`` the median of the dates,
    by Gauss-Newton least squares on ``M``'s gradients over the date's clear pixels
    with texture (the steepest half), the pixels that disagree most (changes on the
    ground: three median absolute deviations) left out after the first step. A stack of
    more than :data:`MAX_PIXELS` pixels is measured on its central window of that size.

    Parameters
    ----------
    stack : RasterStack
        Layers named ``"DATE/INDEX"``, NaN (or ``nodata``) where masked.
    index : str, default "ndvi"
        The index that measures the displacement.
    iterations : int, default 3
        Gauss-Newton steps.

    Returns
    -------
    dict
        ``{date: (east, north)}``: how far (metres) the date's image shows the ground
        from where the median shows it; ``None`` for a date with too few clear pixels
        (fewer than :data:`MIN_PIXELS` with texture) to measure.

    Examples
    --------
    A field of smooth ridges, one date the others moved 3 m east (0.3 pixel):

    >>> from ntmgis.stack import RasterStack
    >>> from rasterio.transform import from_origin
    >>> from scipy import ndimage
    >>> yy, xx = np.mgrid[0:80, 0:80]
    >>> ground = np.sin(xx / 3.0) * np.cos(yy / 4.0)
    >>> moved = ndimage.shift(ground, (0.0, 0.3), order=3, mode="nearest")
    >>> layers = np.stack([ground, ground, moved, ground])
    >>> names = [f"2020-0{m}-01/ndvi" for m in range(1, 5)]
    >>> stack = RasterStack(layers, from_origin(0, 800, 10, 10), "EPSG:32648", names)
    >>> east, north = estimate_shifts(stack)["2020-03-01"]
    >>> round(east, 1), round(north, 1)
    (3.0, 0.0)
    """
    layers = _date_layers(stack, index)
    if not layers:
        return {}
    if min(stack.data.shape[-2:]) < 3:  # no gradient to measure on
        return dict.fromkeys(layers)
    res_x, res_y = abs(stack.transform.a), abs(stack.transform.e)
    window = _central_window(*stack.data.shape[-2:], MAX_PIXELS)
    data = np.stack([_as_float(stack.data[k][window], stack.nodata) for k in layers.values()])
    first = _Reference(median := _nanmedian(data))
    out: dict = {}
    for date, image in zip(layers, data):
        d = _displacement(image, first, median, iterations)
        out[date] = None if d is None else (float(d[1] * res_x), float(-d[0] * res_y))
    return out


def _central_window(height: int, width: int, most: int) -> tuple[slice, slice]:
    """The central window of a ``height x width`` grid with at most ``most`` pixels.

    Its shape keeps the grid's proportions (each side at least 3 pixels, at most the
    grid's); the whole grid when it has no more than ``most``.

    Examples
    --------
    >>> _central_window(100, 40, 1000)
    (slice(25, 75, None), slice(10, 30, None))
    >>> _central_window(10, 10, 1000)
    (slice(0, 10, None), slice(0, 10, None))
    """
    if height * width <= most:
        return slice(0, height), slice(0, width)
    scale = (most / (height * width)) ** 0.5
    h = min(height, max(3, int(height * scale)))
    w = min(width, max(3, int(width * scale)))
    top, left = (height - h) // 2, (width - w) // 2
    return slice(top, top + h), slice(left, left + w)


def _nanmedian(data) -> np.ndarray:
    """``numpy.nanmedian(data, axis=0)``, NaN where no layer is finite.

    The features' row median (:func:`ntmgis._nanstats._nanmedian`, NumPy's arithmetic)
    over each pixel's dates.

    Examples
    --------
    >>> nan = np.nan
    >>> _nanmedian(np.array([[1.0, nan, nan], [3.0, nan, nan], [nan, 5.0, nan]])).tolist()
    [2.0, 5.0, nan]
    """
    from ._nanstats import _nanmedian as row_median

    return row_median(data.reshape(len(data), -1).T).reshape(data.shape[1:])


class _Reference:
    """The median moved by ``d`` pixels: its values and gradients where it has texture."""

    def __init__(self, median, d=None, at=None):
        from scipy import ndimage

        ref = median if d is None else ndimage.shift(median, d, order=1, mode="nearest")
        gr, gc = np.gradient(ref)
        if at is None:
            g = np.hypot(gr, gc)
            ok = np.isfinite(g) & np.isfinite(ref)
            at = ok & (g >= np.median(g[ok])) if ok.any() else ok  # the steeper half
        self.at = at
        self.ref, self.gr, self.gc = ref[at], gr[at], gc[at]


def _displacement(image, first, median, iterations):
    """Gauss-Newton steps of one date's displacement (pixels) from the median, or None."""
    d, keep, ref = np.zeros(2), None, first
    for step in range(max(1, int(iterations))):
        if step:
            ref = _Reference(median, d, first.at)
        y = image[ref.at]
        use = np.isfinite(y) & np.isfinite(ref.ref) & np.isfinite(ref.gr) & np.isfinite(ref.gc)
        if keep is not None:
            use &= keep
        if use.sum() < MIN_PIXELS // 2:
            return None
        x = np.column_stack([np.ones(int(use.sum())), ref.ref[use], -ref.gr[use], -ref.gc[use]])
        y = y[use]
        try:
            coef = np.linalg.solve(x.T @ x, x.T @ y)
        except np.linalg.LinAlgError:
            return None
        if not np.isfinite(coef).all() or abs(coef[1]) < 1e-6:
            return None
        d = np.clip(d + coef[2:] / coef[1], -MAX_SHIFT, MAX_SHIFT)
        if step == 0 and np.abs(d).max() < MIN_SHIFT / 2:
            break  # too small to be undone: the first step says so
        if step == 0:  # leave out the pixels the ground changed under
            resid = np.abs(y - x @ coef)
            keep = np.ones(len(use), bool)
            keep[use] = resid <= 3.0 * 1.4826 * (np.median(resid) + 1e-12)
    return d


def apply_shifts(stack, shifts: dict, *, min_shift: float = MIN_SHIFT):
    """The stack with each date's displacement undone.

    Parameters
    ----------
    stack : RasterStack
        Layers named ``"DATE/..."``.
    shifts : dict
        ``{date: (east, north)}`` metres, as :func:`estimate_shifts` gives them; a date
        missing, ``None`` or displaced by less than ``min_shift`` pixel on both axes is
        left as it is.
    min_shift : float, default :data:`MIN_SHIFT`

    Returns
    -------
    RasterStack
        The same stack when nothing is moved; otherwise a copy with float layers, the
        moved dates resampled (bilinear, the edge held), NaN where a masked pixel would
        enter the mix.
    """
    import dataclasses

    res_x, res_y = abs(stack.transform.a), abs(stack.transform.e)
    moves: dict = {}
    for k, name in enumerate(stack.names):
        shift = shifts.get(str(name).partition("/")[0])
        if shift is None:
            continue
        dr, dc = -shift[1] / res_y, shift[0] / res_x
        if max(abs(dr), abs(dc)) >= min_shift:
            moves.setdefault((-dr, -dc), []).append(k)
    if not moves:
        return stack
    kind = stack.data.dtype if np.issubdtype(stack.data.dtype, np.floating) else np.float32
    data = np.array(stack.data, dtype=kind)
    for back, ks in moves.items():
        layers = np.stack([_as_float(data[k], stack.nodata) for k in ks])
        seen = np.isfinite(layers)
        value = _bilinear(np.where(seen, layers, 0.0), *back)
        if (seen == seen[:1]).all():  # one cloud mask for the date's layers: moved once
            weight = np.broadcast_to(_bilinear(seen[:1].astype(np.float64), *back), seen.shape)
        else:
            weight = _bilinear(seen.astype(np.float64), *back)
        with np.errstate(invalid="ignore", divide="ignore"):
            data[ks] = np.where(weight > 0.999, value / weight, np.nan)
    nodata = stack.nodata if stack.nodata is None or np.isnan(stack.nodata) else np.nan
    return dataclasses.replace(stack, data=data, nodata=nodata)


def _bilinear(x, dr: float, dc: float) -> np.ndarray:
    """``x`` (``..., rows, columns``) moved by ``(dr, dc)`` pixels, bilinear, edges held.

    ``out[i, j] = x[i - dr, j - dc]``, as ``scipy.ndimage.shift(x, (dr, dc), order=1,
    mode="nearest")`` computes it.

    Examples
    --------
    >>> _bilinear(np.array([[0.0, 1.0, 2.0, 3.0]]), 0.0, 0.25).tolist()
    [[0.0, 0.75, 1.75, 2.75]]
    """
    for axis, shift in ((-2, dr), (-1, dc)):
        n = x.shape[axis]
        k = int(np.floor(-shift))
        f = -shift - k
        lo = np.take(x, np.clip(np.arange(n) + k, 0, n - 1), axis=axis)
        if f > 1e-12:
            hi = np.take(x, np.clip(np.arange(n) + k + 1, 0, n - 1), axis=axis)
            lo = lo * (1 - f) + hi * f
        x = lo
    return x
