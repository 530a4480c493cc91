"""Per-parcel time-series features: what abandonment looks like, in numbers.

The imagery stage gives masked index stacks (dates x indices); the zonal engine gives,
per parcel and date, the coverage-weighted mean, the within-parcel spread and the share of
the parcel seen clear. From these :func:`parcel_features` derives what the literature uses
to tell a tended garden from an abandoned one (GUIDE.md §2): seasonal medians of NDVI, EVI,
NDMI and BSI, the dry-season minimum, the amplitude, cultivation events (an NDVI dip with a
bare-soil rise between two clear observations), the trend across the year (and across
years), the residual variability around it, the within-parcel heterogeneity, a renovation
signature (clearing then regrowth), and how many clear observations all this rests on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import _progress
from .errors import InputError

__all__ = [
    "DEFAULT_INDICES",
    "FEATURES",
    "ParcelSeries",
    "parcel_time_series",
    "parcel_features",
]

DEFAULT_INDICES = ("ndvi", "evi", "ndmi", "bsi")
#: months of the hot dry season in north-central Vietnam (Lào wind), for seasonal medians
DRY_MONTHS = (3, 4, 5, 6, 7, 8)

#: every feature column :func:`parcel_features` returns, with its meaning (English)
FEATURES = {
    "n_dates": "dates in the series",
    "clear_obs": "dates on which at least `min_valid` of the parcel was seen clear",
    "pixels": "Sentinel-2 pixels the parcel covers (coverage-weighted)",
    "ndvi_median": "median NDVI over clear dates",
    "ndvi_p10": "10th percentile of NDVI over clear dates",
    "ndvi_p90": "90th percentile of NDVI over clear dates",
    "ndvi_amplitude": "NDVI p90 - p10",
    "ndvi_std": "standard deviation of NDVI over clear dates",
    "ndvi_dry_median": "median NDVI in the dry season",
    "ndvi_wet_median": "median NDVI in the rainy season",
    "ndvi_dry_min": "lowest NDVI in the dry season",
    "ndvi_trend": "NDVI change per year (least squares over clear dates)",
    "ndvi_trend_years": "NDVI change per year between yearly medians (two years or more)",
    "ndvi_resid_std": "spread of NDVI around its linear trend (flat series: small)",
    "ndvi_max_drop": "largest NDVI fall between two consecutive clear dates",
    "events": "cultivation events: NDVI falls and BSI rises between consecutive clear dates",
    "renovation_seen": "a large clearing (NDVI fall with bare soil) followed by regrowth",
    "renovation_date": "date of that clearing",
    "heterogeneity": "median within-parcel NDVI standard deviation over clear dates",
    "evi_median": "median EVI over clear dates",
    "ndmi_median": "median NDMI over clear dates",
    "ndmi_dry_median": "median NDMI in the dry season",
    "bsi_median": "median bare-soil index over clear dates",
    "bsi_dry_median": "median bare-soil index in the dry season",
    "bsi_spike": "highest BSI minus the median BSI",
    "imagery_status": "ok, partial (parcel partly outside the imagery), outside, empty_geometry",
    "coverage_fraction": "share of the parcel inside the imagery",
}


@dataclass
class ParcelSeries:
    """Per parcel and date statistics of each index, on arrays ``(parcels, dates)``.

    Attributes
    ----------
    index : pandas.Index
        The parcels' index.
    dates : numpy.ndarray
        ``datetime64[D]`` dates, ascending.
    mean, std : dict of str to numpy.ndarray
        Per index name, the coverage-weighted mean and within-parcel standard deviation
        (NaN where nothing clear was seen).
    valid : numpy.ndarray
        Share of the parcel seen clear on each date (0 when clouded or outside).
    pixels : numpy.ndarray
        Coverage-weighted pixel count of each parcel.
    status, coverage_fraction : numpy.ndarray
        From the zonal engine: where each parcel lies relative to the imagery.
    """

    index: pd.Index
    dates: np.ndarray
    mean: dict
    std: dict
    valid: np.ndarray
    pixels: np.ndarray
    status: np.ndarray
    coverage_fraction: np.ndarray

    def clear(self, min_valid: float = 0.6) -> np.ndarray:
        """Boolean ``(parcels, dates)``: the parcel was seen clear enough that date."""
        return self.valid >= min_valid

    def to_frame(self, min_valid: float = 0.6) -> pd.DataFrame:
        """Long table: one row per parcel, date and index, with mean, std, valid, clear."""
        frames = []
        n, t = self.valid.shape
        for name in self.mean:
            frames.append(
                pd.DataFrame(
                    {
                        "parcel": np.repeat(self.index.to_numpy(), t),
                        "date": np.tile(self.dates, n),
                        "index": name,
                        "mean": self.mean[name].ravel(),
                        "std": self.std[name].ravel(),
                        "valid": self.valid.ravel(),
                        "clear": self.clear(min_valid).ravel(),
                    }
                )
            )
        return pd.concat(frames, ignore_index=True)


def _stacks_of(imagery, *, parcels, indices, period, progress):
    """RasterStacks from scenes (read over the parcels' extent) or given stacks."""
    from .stack import RasterStack

    if isinstance(imagery, RasterStack):
        return [imagery]
    if (
        isinstance(imagery, (list, tuple))
        and imagery
        and all(isinstance(s, RasterStack) for s in imagery)
    ):
        return list(imagery)
    from .imagery import read_stacks

    aoi = parcels.geometry[~(parcels.geometry.isna() | parcels.geometry.is_empty)]
    return read_stacks(imagery, aoi=aoi, indices=list(indices), period=period,
                       on_error="skip", progress=progress)  # fmt: skip


def parcel_time_series(
    parcels,
    imagery,
    *,
    indices=DEFAULT_INDICES,
    period=None,
    progress=None,
) -> ParcelSeries:
    """Per-parcel statistics of each index on each date, with exact pixel coverage.

    Parameters
    ----------
    parcels : GeoDataFrame or path
        Parcel polygons in any CRS (reprojected to the imagery's, never the reverse).
    imagery : scenes, folder, STAC file, RasterStack or list of RasterStack
        Anything :func:`ntmgis.imagery.find_scenes` accepts, read over the parcels'
        extent, or stacks already read with layers named ``"DATE/INDEX"``. Scenes in two
        UTM zones are read on their own grids; per parcel and date the grid that saw
        more of the parcel clear is kept.
    indices : sequence of str
        Index names (see :mod:`ntmgis.indices`); NDVI must be among them.
    period : str or tuple, optional
        ``"START:END"`` dates to keep.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    ParcelSeries
        Arrays ``(parcels, dates)`` of mean, within-parcel std and clear share.
    """
    from ._io import read_vector
    from .zonal import split_column, zonal_stats

    parcels = read_vector(parcels, what="parcels")
    indices = [str(i).lower() for i in indices]
    if "ndvi" not in indices:
        raise InputError(f"indices must include 'ndvi' (got {', '.join(indices)}).")
    stacks = _stacks_of(
        imagery,
        parcels=parcels,
        indices=indices,
        period=period,
        progress=_progress.scaled(progress, 0.0, 0.5),
    )
    tables = []
    for k, stack in enumerate(stacks):
        sub = _progress.scaled(
            progress, 0.5 + 0.5 * k / len(stacks), 0.5 + 0.5 * (k + 1) / len(stacks)
        )
        tables.append(
            zonal_stats(parcels, stack, stats=("mean", "std", "valid", "count"), progress=sub)
        )
    dates = sorted(
        {split_column(c)[0].split("/")[0] for t in tables for c in t.columns if ":" in c}
    )
    if not dates:
        raise InputError("The imagery holds no dated layers ('DATE/INDEX') for these parcels.")
    n, nt = len(parcels), len(dates)
    pos = {d: i for i, d in enumerate(dates)}
    mean = {i: np.full((n, nt), np.nan) for i in indices}
    std = {i: np.full((n, nt), np.nan) for i in indices}
    valid = np.zeros((n, nt))
    pixels = np.zeros(n)
    coverage_fraction = np.zeros(n)
    status = np.full(n, "outside", dtype=object)
    for table in tables:
        frac = table["coverage_fraction"].fillna(0).to_numpy()
        better = frac > coverage_fraction
        status[better] = table["status"].to_numpy()[better]
        status[(coverage_fraction == 0) & (table["status"].to_numpy() == "empty_geometry")] = (
            "empty_geometry"
        )
        coverage_fraction = np.maximum(coverage_fraction, frac)
        layers = {split_column(c)[0] for c in table.columns if ":" in c}
        for layer in sorted(layers):
            date, _, name = layer.partition("/")
            if name not in mean:
                continue
            j = pos[date]
            v = table[f"{layer}:valid"].fillna(0).to_numpy()
            take = v > valid[:, j] if name == "ndvi" else np.isnan(mean[name][:, j])
            if name == "ndvi":
                valid[take, j] = v[take]
                pixels = np.maximum(pixels, table[f"{layer}:count"].fillna(0).to_numpy())
            mean[name][take, j] = table[f"{layer}:mean"].to_numpy()[take]
            std[name][take, j] = table[f"{layer}:std"].to_numpy()[take]
    status[parcels.geometry.isna().to_numpy() | parcels.geometry.is_empty.to_numpy()] = (
        "empty_geometry"
    )
    return ParcelSeries(
        index=parcels.index,
        dates=np.array(dates, dtype="datetime64[D]"),
        mean=mean,
        std=std,
        valid=valid,
        pixels=pixels,
        status=status,
        coverage_fraction=coverage_fraction,
    )


def _nan_stat(func, values, mask, **kw):
    """``func`` over masked rows; NaN (not a warning) for rows with nothing clear."""
    x = np.where(mask, values, np.nan)
    out = np.full(x.shape[0], np.nan)
    rows = mask.any(axis=1)
    if rows.any():
        out[rows] = func(x[rows], axis=1, **kw)
    return out


def _trend(x, y, mask):
    """Least-squares slope and residual std of y on x per row, over masked points."""
    m = mask & ~np.isnan(y)
    n = m.sum(1)
    xm = np.where(m, x[None, :], 0.0)
    ym = np.where(m, y, 0.0)
    sx, sy = xm.sum(1), ym.sum(1)
    sxx, sxy = (xm * xm).sum(1), (xm * ym).sum(1)
    den = n * sxx - sx * sx
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = np.where((n >= 3) & (den > 1e-12), (n * sxy - sx * sy) / den, np.nan)
        icpt = (sy - slope * sx) / n
        resid = np.where(m, y - (icpt[:, None] + slope[:, None] * x[None, :]), 0.0)
        rstd = np.where(n >= 3, np.sqrt((resid**2).sum(1) / np.maximum(n - 2, 1)), np.nan)
    return slope, rstd


def _step_changes(values, mask):
    """Change of each clear value from the previous clear value in the row (NaN if none)."""
    x = pd.DataFrame(np.where(mask, values, np.nan))
    prev = x.ffill(axis=1).shift(1, axis=1)
    return (x - prev).to_numpy()


def parcel_features(
    parcels,
    imagery,
    *,
    indices=DEFAULT_INDICES,
    period=None,
    min_valid: float = 0.6,
    dip: float = 0.1,
    bare_rise: float = 0.03,
    dry_months=DRY_MONTHS,
    series: ParcelSeries | None = None,
    progress=None,
) -> pd.DataFrame:
    """Per-parcel features that tell tended gardens from abandoned ones.

    Parameters
    ----------
    parcels : GeoDataFrame or path
        Parcel polygons, any CRS.
    imagery : scenes, folder, STAC file, RasterStack or list of RasterStack
        See :func:`parcel_time_series` (ignored when ``series`` is given).
    indices : sequence of str
        Indices to read; NDVI is required, EVI, NDMI and BSI add their features.
    period : str or tuple, optional
        ``"START:END"`` dates to keep.
    min_valid : float, default 0.6
        A date counts as a clear observation of a parcel when at least this share of
        the parcel is seen clear (not cloud, shadow or nodata).
    dip : float, default 0.1
        NDVI fall between consecutive clear dates that counts towards a cultivation
        event (with a BSI rise of at least ``bare_rise``).
    bare_rise : float, default 0.03
        BSI rise that, with an NDVI dip, marks tillage, harvest or clearing.
    dry_months : sequence of int
        Months of the dry season (default March to August).
    series : ParcelSeries, optional
        A series already computed by :func:`parcel_time_series`.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``parcels``; the columns of :data:`FEATURES`. Parcels outside the
        imagery or never seen clear keep their row with ``clear_obs`` 0 and NaN features.
    """
    if series is None:
        series = parcel_time_series(
            parcels, imagery, indices=indices, period=period, progress=progress
        )
    clear = series.clear(min_valid)
    dates = pd.DatetimeIndex(series.dates)
    years = (dates - pd.Timestamp(dates[0].year, 1, 1)).days.to_numpy() / 365.25
    dry = np.isin(dates.month, list(dry_months))
    ndvi = series.mean["ndvi"]
    out = pd.DataFrame(index=series.index)
    out["n_dates"] = len(dates)
    out["clear_obs"] = clear.sum(1)
    out["pixels"] = np.round(series.pixels, 2)
    out["ndvi_median"] = _nan_stat(np.nanmedian, ndvi, clear)
    out["ndvi_p10"] = _nan_stat(np.nanpercentile, ndvi, clear, q=10)
    out["ndvi_p90"] = _nan_stat(np.nanpercentile, ndvi, clear, q=90)
    out["ndvi_amplitude"] = out["ndvi_p90"] - out["ndvi_p10"]
    out["ndvi_std"] = _nan_stat(np.nanstd, ndvi, clear)
    out["ndvi_dry_median"] = _nan_stat(np.nanmedian, ndvi, clear & dry[None, :])
    out["ndvi_wet_median"] = _nan_stat(np.nanmedian, ndvi, clear & ~dry[None, :])
    out["ndvi_dry_min"] = _nan_stat(np.nanmin, ndvi, clear & dry[None, :])
    slope, rstd = _trend(years, ndvi, clear)
    out["ndvi_trend"] = slope
    out["ndvi_trend_years"] = _yearly_trend(ndvi, clear, dates)
    out["ndvi_resid_std"] = rstd
    d_ndvi = _step_changes(ndvi, clear)
    fall = -d_ndvi
    out["ndvi_max_drop"] = _nan_stat(np.nanmax, fall, ~np.isnan(fall))
    if "bsi" in series.mean:
        bsi = series.mean["bsi"]
        d_bsi = _step_changes(bsi, clear)
        events = (fall >= dip) & (d_bsi >= bare_rise)
        out["events"] = events.sum(1)
        renov_date, renov = _renovation(ndvi, fall, d_bsi, clear, dates)
        out["renovation_seen"] = renov
        out["renovation_date"] = renov_date
    else:
        out["events"] = (fall >= dip).sum(1)
        out["renovation_seen"] = False
        out["renovation_date"] = pd.NaT
    out["heterogeneity"] = _nan_stat(np.nanmedian, series.std["ndvi"], clear)
    for name in ("evi", "ndmi", "bsi"):
        if name in series.mean:
            out[f"{name}_median"] = _nan_stat(np.nanmedian, series.mean[name], clear)
    if "ndmi" in series.mean:
        out["ndmi_dry_median"] = _nan_stat(np.nanmedian, series.mean["ndmi"], clear & dry[None])
    if "bsi" in series.mean:
        bsi = series.mean["bsi"]
        out["bsi_dry_median"] = _nan_stat(np.nanmedian, bsi, clear & dry[None, :])
        out["bsi_spike"] = _nan_stat(np.nanmax, bsi, clear) - out["bsi_median"]
    out["imagery_status"] = series.status
    out["coverage_fraction"] = np.round(series.coverage_fraction, 4)
    return out


def _yearly_trend(ndvi, clear, dates):
    """Slope between yearly NDVI medians (per year), when the series spans two years."""
    years = dates.year.to_numpy()
    uniq = np.unique(years)
    if len(uniq) < 2:
        return np.full(ndvi.shape[0], np.nan)
    med = np.stack([_nan_stat(np.nanmedian, ndvi, clear & (years == y)[None, :]) for y in uniq], 1)
    slope, _ = _trend(uniq.astype(float), med, ~np.isnan(med))
    return slope


def _renovation(ndvi, fall, d_bsi, clear, dates, *, clearing=0.2, regrowth=0.15):
    """A clearing (NDVI falls by ``clearing`` with BSI rising) followed by regrowth."""
    cand = np.where((fall >= clearing) & (d_bsi > 0), fall, -np.inf)
    j = np.argmax(cand, axis=1)
    has = np.isfinite(cand[np.arange(len(j)), j])
    after = np.arange(ndvi.shape[1])[None, :] > j[:, None]
    low = ndvi[np.arange(len(j)), j]
    later = _nan_stat(np.nanmax, ndvi, clear & after)
    seen = has & (later - low >= regrowth)
    when = pd.Series(pd.NaT, index=range(len(j)), dtype="datetime64[ns]")
    when[seen] = dates[j[seen]]
    return when.to_numpy(), seen


def season_of(date: dt.date, dry_months=DRY_MONTHS) -> str:
    """``"dry"`` or ``"wet"`` for a date, by the dry-season months."""
    return "dry" if date.month in dry_months else "wet"
