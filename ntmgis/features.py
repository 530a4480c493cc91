"""Per-parcel time-series features: what abandonment looks like, in numbers.

The imagery stage gives masked index stacks (dates x indices); the zonal engine gives,
per parcel and date, the coverage-weighted mean, the within-parcel spread and the share of
the parcel seen clear. From these :func:`parcel_features` derives what the literature uses
to tell a tended garden from an abandoned one (GUIDE.md §2): seasonal medians of NDVI, EVI,
NDMI and BSI, the dry-season minimum, the amplitude, cultivation events (an NDVI dip with a
bare-soil rise between two clear observations), the trend across the year (and across
years), the residual variability around it, the within-parcel heterogeneity, a renovation
signature (clearing then regrowth, dated), and how many clear observations and how many
pixels wholly inside the parcel all this rests on.

The features are read on each garden's *own* values (:func:`unmix`): most gardens hold no
10 m pixel wholly, and the pixels they share mix them with their neighbours in the
proportion of the area each covers, so a small abandoned garden between vegetable beds
shows its neighbours' tillage in its mean. Unmixing the commune's pixels by the parcels'
coverage weights (a ridge least-squares towards each mean) gives back what each garden
itself holds. The renovation signature is read on the observed mean (and a small
garden's core pixel): a clearing is one garden's event, seen as it is.

Every feature is declared once, in :data:`REGISTRY`: its name, the indices it needs, the
function that computes it, its description in Vietnamese and English, whether the
calibrated model uses it, which side of it argues for abandonment, and the phrase a
reason uses. :data:`DEFAULT_INDICES`, :data:`MODEL_FEATURES` and :data:`FEATURES` derive
from it; adding a feature is one entry.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from . import _progress
from ._nanstats import _nanmedian
from .errors import InputError
from .i18n import message
from .i18n import register as _register

logger = logging.getLogger(__name__)

_register(
    "error.features.unknown",
    "Không có đặc trưng '{name}'. Các đặc trưng có: {known}.",
    "Unknown feature '{name}'. Known features: {known}.",
)
_register(
    "error.features.unknown_near",
    "Không có đặc trưng '{name}'. Có phải là '{near}'? Các đặc trưng có: {known}.",
    "Unknown feature '{name}'. Did you mean '{near}'? Known features: {known}.",
)
_register(
    "error.features.unknown_index",
    "Không có chỉ số ảnh {names}: các chỉ số có là {known}. Hãy sửa danh sách chỉ số trong "
    "cấu hình.",
    "Unknown index name(s) {names}: known indices are {known}. Correct the list of indices "
    "in the settings (ntmgis.register_index adds an index).",
)
_register(
    "error.features.ndvi_required",
    "Danh sách chỉ số ảnh phải có NDVI (đang có: {names}). Hãy thêm ndvi vào danh sách chỉ "
    "số trong cấu hình.",
    "The indices must include 'ndvi' (got {names}). Add ndvi to the list of indices in the "
    "settings.",
)
_register(
    "error.features.no_dates",
    "Ảnh không có lớp nào theo ngày ('NGÀY/CHỈ SỐ') cho các thửa này. Hãy kiểm tra thư mục "
    "ảnh: các cảnh phải có ngày chụp và phủ lên các thửa.",
    "The imagery holds no dated layers ('DATE/INDEX') for these parcels. Check the imagery "
    "folder: its scenes need their dates and must cover the parcels.",
)

__all__ = [
    "DEFAULT_INDICES",
    "FEATURES",
    "MODEL_FEATURES",
    "REGISTRY",
    "Feature",
    "ParcelSeries",
    "feature",
    "features_needing",
    "grid_key",
    "parcel_time_series",
    "parcel_features",
    "select_features",
    "unmix",
]

#: months of the hot dry season in north-central Vietnam (Lào wind), for seasonal medians
DRY_MONTHS = (3, 4, 5, 6, 7, 8)
#: a pixel counts as wholly inside a parcel when its coverage weight is at least this (a
#: 0.1 m² sliver of a 100 m² pixel outside is numerical noise of shared edges)
FULL_PIXEL = 0.999
#: gardens with fewer pixels wholly inside them than this are also read on their core pixel
#: for the renovation signature (their mean mixes the clearing with the neighbours)
CORE_RENOVATION_PIXELS = 8
#: ridge weight pulling each garden's unmixed value towards its observed mean
#: (:func:`unmix`); in units of a whole pixel's squared weight
UNMIX_RIDGE = 0.2
#: pixels less than this share covered by parcels are left out of the unmixing (the rest
#: of such a pixel is land the cadastre does not hold)
UNMIX_MIN_COVER = 0.5
#: Jacobi sweeps of the unmixing: a parcel's value depends on the parcels within this many
#: shared pixels of it (two sweeps found as much as the exact solve on the tuning communes)
UNMIX_SWEEPS = 2
#: Gaussian point-spread function (sigma, in pixels) a pixel is read through when the
#: parcels' shares of it are counted (0: its footprint only): Sentinel-2's optics, whose
#: 10 m bands pass 0.15-0.30 of the contrast at Nyquist (the box footprint alone 0.64)
UNMIX_PSF = 0.45


@dataclass(frozen=True)
class Feature:
    """One per-parcel feature: what it is, what it needs, how it is computed and said.

    Attributes
    ----------
    name : str
        Column name in :func:`parcel_features`' table.
    indices : tuple of str
        Indices the feature needs (``()`` for bookkeeping columns); without them the
        column is left out of the table, never filled with guesses.
    func : callable
        ``func(context) -> numpy.ndarray`` of one value per parcel.
    description_vi, description_en : str
        What the feature means, in Vietnamese and English.
    model : bool
        Whether the calibrated model uses it (:data:`MODEL_FEATURES`).
    abandoned_when : {"low", "high", None}
        Which side of the commune's reference value argues for abandonment; ``None``
        when the feature points both ways (never stated as a reason on its own).
    phrase_vi, phrase_en : str
        How a reason says the parcel's value (``{value}`` is replaced), e.g.
        ``"NDVI cao nhất {value}"``.
    zero_vi, zero_en : str
        The phrase when the value is 0 or below (counts; the largest fall when nothing
        fell), e.g. "no tillage seen".
    signed : tuple
        For a change that goes either way, the words said before its size, for a value
        of 0 or more and for a value below 0, in Vietnamese then English (``(("giảm",
        "tăng"), ("falls by", "rises by"))``): ``{value}`` and the reference are said as
        "tăng 0,02", never as "giảm -0,02".
    """

    name: str
    indices: tuple
    func: Callable
    description_vi: str
    description_en: str
    model: bool = False
    abandoned_when: str | None = None
    phrase_vi: str = ""
    phrase_en: str = ""
    zero_vi: str = ""
    zero_en: str = ""
    signed: tuple = ()

    def available(self, indices) -> bool:
        """Whether every index the feature needs is among ``indices``."""
        return set(self.indices) <= set(indices)


class _Context:
    """What the feature functions share: the series, its clear mask and derived arrays."""

    def __init__(self, series, *, min_valid, dip, bare_rise, dry_months):
        self.series = series
        self.clear = series.clear(min_valid)
        self.dates = pd.DatetimeIndex(series.dates)
        self.dry = np.isin(self.dates.month, list(dry_months))
        self.dip, self.bare_rise = dip, bare_rise
        # the garden's own values (unmixed from its neighbours' share of the pixels) where
        # the series has them; the renovation signature reads the observed mean
        self.values = series.unmixed or series.mean
        self.ndvi = self.values["ndvi"]

    def stat(self, func, index="ndvi", mask=None, **kw):
        mask = self.clear if mask is None else mask
        return _nan_stat(func, self.values[index], mask, **kw)

    @cached_property
    def years(self):
        return (self.dates - pd.Timestamp(self.dates[0].year, 1, 1)).days.to_numpy() / 365.25

    @cached_property
    def trend(self):
        return _trend(self.years, self.ndvi, self.clear)

    @cached_property
    def fall(self):
        return -_step_changes(self.ndvi, self.clear)

    @cached_property
    def d_bsi(self):
        return _step_changes(self.values["bsi"], self.clear)

    @cached_property
    def event_mask(self):
        if "bsi" in self.values:
            return (self.fall >= self.dip) & (self.d_bsi >= self.bare_rise)
        return self.fall >= self.dip

    @cached_property
    def renovation(self):
        """``(seen, clearing_date, regrowth_date, possible)`` per parcel.

        ``seen``: :func:`_renovation`'s signature on the parcel's mean, flat spell
        included (the imagery alone decides). ``possible``: a weaker one, for a survey
        dated before the clearing to confirm: too few clear dates before the clearing,
        or, on a garden with fewer than :data:`CORE_RENOVATION_PIXELS` pixels wholly
        inside it, the signature seen on its core pixel only (the pixel least mixed with
        the neighbours, whose unchanged vegetation dilutes the clearing in the mean).
        """
        n = self.ndvi.shape[0]
        if "bsi" not in self.series.mean:
            nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
            return np.zeros(n, bool), nat, nat, np.zeros(n, bool)
        found = _renovation(self.series.mean["ndvi"], self.series.mean["bsi"], self.clear,
                            self.dates,
                            dip=self.dip, bare_rise=self.bare_rise)  # fmt: skip
        core = self.series.core
        if core is None or "ndvi" not in core or "bsi" not in core:
            return found
        small = ~(self.pixels_of("full_pixels") >= CORE_RENOVATION_PIXELS)
        mask = self.clear & np.isfinite(core["ndvi"]) & np.isfinite(core["bsi"])
        share = np.clip(np.nan_to_num(self.pixels_of("core_weight"), nan=1.0), 0.5, 1.0)
        at_core = _renovation(core["ndvi"], core["bsi"], mask, self.dates, dip=self.dip,
                              bare_rise=self.bare_rise, weight=share)  # fmt: skip
        seen, cleared, grown, possible = (np.array(a, copy=True) for a in found)
        more = small & (at_core[0] | at_core[3]) & ~seen & ~possible
        possible[more], cleared[more], grown[more] = True, at_core[1][more], at_core[2][more]
        return seen, cleared, grown, possible

    def core_stat(self, func, index="ndvi", **kw):
        core = self.series.core
        if core is None or index not in core:
            return np.full(len(self.series.index), np.nan)
        values = core[index]
        return _nan_stat(func, values, self.clear & np.isfinite(values), **kw)

    def pixels_of(self, attr):
        value = getattr(self.series, attr)
        n = len(self.series.index)
        return np.full(n, np.nan) if value is None else np.asarray(value, float)


def _f(name, indices, func, vi, en, *, model=False, side=None, phrase=("", ""), zero=("", ""),
       signed=()):  # fmt: skip
    return Feature(name, tuple(indices), func, vi, en, model, side, phrase[0], phrase[1],
                   zero[0], zero[1], tuple(signed))  # fmt: skip


_N = ("ndvi",)
_NB = ("ndvi", "bsi")

#: every feature :func:`parcel_features` can compute, in column order
REGISTRY: tuple[Feature, ...] = (
    _f("n_dates", (), lambda c: np.full(len(c.series.index), len(c.dates)),
       "số ngày chụp trong chuỗi ảnh", "dates in the series"),
    _f("clear_obs", _N, lambda c: c.clear.sum(1),
       "số lần chụp thấy rõ thửa (ít nhất `min_valid` diện tích không mây)",
       "dates on which at least `min_valid` of the parcel was seen clear"),
    _f("pixels", _N, lambda c: np.round(c.series.pixels, 2),
       "số điểm ảnh Sentinel-2 thửa phủ (theo tỷ lệ diện tích)",
       "Sentinel-2 pixels the parcel covers (coverage-weighted)"),
    _f("full_pixels", _N, lambda c: c.pixels_of("full_pixels"),
       "số điểm ảnh nằm trọn trong thửa", "pixels wholly inside the parcel (coverage weight 1)"),
    _f("partial_pixels", _N, lambda c: c.pixels_of("partial_pixels"),
       "số điểm ảnh nằm một phần trong thửa", "pixels partly inside the parcel (weight < 1)"),
    _f("ndvi_median", _N, lambda c: c.stat(_nanmedian), "NDVI trung vị các lần chụp rõ",
       "median NDVI over clear dates", model=True, side="low",
       phrase=("NDVI trung vị {value}", "median NDVI {value}")),
    _f("ndvi_p10", _N, lambda c: c.stat(_nanpercentile, q=10),
       "phân vị 10 của NDVI", "10th percentile of NDVI over clear dates", model=True),
    _f("ndvi_p90", _N, lambda c: c.stat(_nanpercentile, q=90),
       "phân vị 90 của NDVI (NDVI cao nhất)", "90th percentile of NDVI over clear dates",
       model=True, side="low", phrase=("NDVI cao nhất {value}", "highest NDVI {value}")),
    _f("ndvi_amplitude", _N,
       lambda c: c.stat(_nanpercentile, q=90) - c.stat(_nanpercentile, q=10),
       "biên độ NDVI (p90 - p10)", "NDVI p90 - p10", model=True, side="low",
       phrase=("NDVI dao động {value} trong năm", "NDVI varies by {value} over the year")),
    _f("ndvi_std", _N, lambda c: c.stat(np.nanstd), "độ lệch chuẩn NDVI",
       "standard deviation of NDVI over clear dates", model=True, side="low",
       phrase=("độ lệch chuẩn NDVI {value}", "NDVI standard deviation {value}")),
    _f("ndvi_dry_median", _N, lambda c: c.stat(_nanmedian, mask=c.clear & c.dry[None, :]),
       "NDVI trung vị mùa khô", "median NDVI in the dry season", model=True, side="low",
       phrase=("NDVI mùa khô {value}", "dry-season NDVI {value}")),
    _f("ndvi_wet_median", _N, lambda c: c.stat(_nanmedian, mask=c.clear & ~c.dry[None, :]),
       "NDVI trung vị mùa mưa", "median NDVI in the rainy season", model=True, side="low",
       phrase=("NDVI mùa mưa {value}", "rainy-season NDVI {value}")),
    _f("ndvi_dry_min", _N, lambda c: c.stat(np.nanmin, mask=c.clear & c.dry[None, :]),
       "NDVI thấp nhất mùa khô", "lowest NDVI in the dry season", model=True),
    _f("ndvi_trend", _N, lambda c: c.trend[0], "xu hướng NDVI mỗi năm (bình phương tối thiểu)",
       "NDVI change per year (least squares over clear dates)", model=True, side="high",
       phrase=("NDVI thay đổi {value}/năm", "NDVI changes by {value}/year")),
    _f("ndvi_trend_years", _N, lambda c: _yearly_trend(c.ndvi, c.clear, c.dates),
       "xu hướng NDVI giữa các năm", "NDVI change per year between yearly medians (two years "
       "or more)"),
    _f("ndvi_resid_std", _N, lambda c: c.trend[1], "độ dao động NDVI quanh xu hướng",
       "spread of NDVI around its linear trend (flat series: small)", model=True, side="low",
       phrase=("NDVI dao động quanh xu hướng {value}", "NDVI spread around its trend {value}")),
    _f("ndvi_max_drop", _N, lambda c: _nan_stat(np.nanmax, c.fall, ~np.isnan(c.fall)),
       "mức giảm NDVI lớn nhất giữa hai lần chụp rõ liền nhau",
       "largest NDVI fall between two consecutive clear dates", model=True, side="low",
       phrase=("NDVI giảm nhiều nhất {value} giữa hai lần chụp",
               "largest NDVI fall between two dates {value}"),
       zero=("NDVI không giảm giữa hai lần chụp nào", "NDVI never fell between two dates")),
    _f("ndvi_step_median", _N, lambda c: _nan_stat(_nanmedian, np.abs(c.fall),
                                                  ~np.isnan(c.fall)),
       "mức thay đổi NDVI điển hình giữa hai lần chụp rõ liền nhau (trung vị)",
       "median NDVI change between consecutive clear dates (robust to one bad date)",
       model=True, side="low",
       phrase=("NDVI thay đổi điển hình {value} giữa hai lần chụp",
               "typical NDVI change between two dates {value}")),
    _f("ndvi_iqr", _N,
       lambda c: c.stat(_nanpercentile, q=75) - c.stat(_nanpercentile, q=25),
       "khoảng tứ phân vị của NDVI (p75 - p25)", "NDVI p75 - p25 (robust amplitude)",
       model=True, side="low",
       phrase=("NDVI dao động (tứ phân vị) {value}", "NDVI interquartile range {value}")),
    _f("drops", _N, lambda c: (c.fall >= 0.08).sum(1),
       "số lần NDVI giảm ít nhất 0,08 giữa hai lần chụp rõ",
       "NDVI falls of 0.08 or more between consecutive clear dates", model=True, side="low",
       phrase=("{value} lần NDVI giảm rõ", "{value} clear NDVI falls"),
       zero=("không lần nào NDVI giảm rõ", "no clear NDVI fall")),
    _f("events", _N, lambda c: c.event_mask.sum(1),
       "số lần làm đất (NDVI giảm cùng lúc đất trống tăng)",
       "cultivation events: NDVI falls and BSI rises between consecutive clear dates",
       model=True, side="low",
       phrase=("{value} lần làm đất", "{value} tillage events"),
       zero=("không thấy lần làm đất nào", "no tillage seen")),
    _f("renovation_seen", _NB, lambda c: c.renovation[0],
       "dọn vườn (NDVI giảm mạnh, đất trống) rồi cây mọc lại, không phải vụ rau",
       "a single large clearing (NDVI fall with bare soil) followed by regrowth, not a "
       "vegetable cycle"),
    _f("renovation_possible", _NB, lambda c: c.renovation[3],
       "dọn vườn rồi cây mọc lại, nhưng trước đó quá ít lần chụp rõ để biết vườn có bỏ "
       "hoang không (ngày khảo sát và kết quả khảo sát quyết định)",
       "a clearing then regrowth with too few clear dates before it to tell an untended "
       "garden (a survey dated before the clearing decides)"),
    _f("clearing_date", _NB, lambda c: c.renovation[1], "ngày dọn vườn",
       "date of that clearing (first clear date seen bare)"),
    _f("regrowth_date", _NB, lambda c: c.renovation[2], "ngày cây mọc lại",
       "first clear date after the clearing with the vegetation grown back"),
    _f("heterogeneity", _N, lambda c: _nan_stat(_nanmedian, c.series.std["ndvi"], c.clear),
       "độ không đồng đều NDVI trong thửa", "median within-parcel NDVI standard deviation",
       model=True, side="high",
       phrase=("NDVI trong thửa không đồng đều ({value})", "patchy NDVI within the parcel "
               "({value})")),
    _f("core_weight", _N, lambda c: c.pixels_of("core_weight"),
       "tỷ lệ diện tích điểm ảnh lõi nằm trong thửa",
       "share of the core pixel (the one most inside the parcel) inside it"),
    _f("core_ndvi_median", _N, lambda c: c.core_stat(_nanmedian),
       "NDVI trung vị của điểm ảnh lõi", "median NDVI of the core pixel over clear dates",
       model=True, side="low",
       phrase=("NDVI giữa vườn {value}", "NDVI at the garden's centre {value}")),
    _f("core_ndvi_p90", _N, lambda c: c.core_stat(_nanpercentile, q=90),
       "NDVI cao nhất của điểm ảnh lõi", "90th percentile of the core pixel's NDVI",
       model=True, side="low",
       phrase=("NDVI cao nhất giữa vườn {value}", "highest NDVI at the garden's centre "
               "{value}")),
    _f("core_ndvi_amplitude", _N,
       lambda c: c.core_stat(_nanpercentile, q=90) - c.core_stat(_nanpercentile, q=10),
       "biên độ NDVI của điểm ảnh lõi", "NDVI p90 - p10 of the core pixel", model=True,
       side="low", phrase=("NDVI giữa vườn dao động {value}", "NDVI at the garden's centre "
                           "varies by {value}")),
    _f("evi_median", ("evi",), lambda c: c.stat(_nanmedian, "evi"), "EVI trung vị",
       "median EVI over clear dates", model=True, side="low",
       phrase=("EVI trung vị {value}", "median EVI {value}")),
    _f("ndmi_median", ("ndmi",), lambda c: c.stat(_nanmedian, "ndmi"),
       "NDMI (độ ẩm) trung vị", "median NDMI over clear dates", model=True, side="low",
       phrase=("độ ẩm thực vật (NDMI) {value}", "vegetation moisture (NDMI) {value}")),
    _f("ndmi_dry_median", ("ndmi",),
       lambda c: c.stat(_nanmedian, "ndmi", mask=c.clear & c.dry[None, :]),
       "NDMI trung vị mùa khô", "median NDMI in the dry season", model=True, side="low",
       phrase=("độ ẩm mùa khô (NDMI) {value}", "dry-season moisture (NDMI) {value}")),
    _f("ndmi_dry_fall", ("ndmi",),
       lambda c: c.stat(_nanmedian, "ndmi", mask=c.clear & ~c.dry[None, :])
       - c.stat(_nanmedian, "ndmi", mask=c.clear & c.dry[None, :]),
       "NDMI mùa mưa trừ NDMI mùa khô (cỏ bụi khô đi trong mùa khô)",
       "rainy-season minus dry-season median NDMI (weeds and shrub dry out)", model=True,
       side="high", phrase=("độ ẩm thực vật (NDMI) {value} vào mùa khô",
                            "vegetation moisture (NDMI) {value} in the dry season"),
       signed=(("giảm", "tăng"), ("falls by", "rises by"))),
    _f("bsi_median", ("bsi",), lambda c: c.stat(_nanmedian, "bsi"),
       "chỉ số đất trống (BSI) trung vị", "median bare-soil index over clear dates",
       model=True, side="high",
       phrase=("chỉ số đất trống (BSI) {value}", "bare-soil index (BSI) {value}")),
    _f("bsi_dry_median", ("bsi",),
       lambda c: c.stat(_nanmedian, "bsi", mask=c.clear & c.dry[None, :]),
       "BSI trung vị mùa khô", "median bare-soil index in the dry season", model=True,
       side="high", phrase=("đất trống mùa khô (BSI) {value}", "dry-season bare soil (BSI) "
                            "{value}")),
    _f("bsi_spike", ("bsi",), lambda c: c.stat(np.nanmax, "bsi") - c.stat(_nanmedian, "bsi"),
       "BSI cao nhất trừ trung vị (đất lật lên khi làm đất)", "highest BSI minus the median BSI",
       model=True, side="low",
       phrase=("đất trống tăng nhiều nhất {value} khi làm đất",
               "largest bare-soil rise {value} at tillage")),
    _f("imagery_status", (), lambda c: c.series.status,
       "vị trí thửa so với ảnh: ok, partial, outside, empty_geometry",
       "ok, partial (parcel partly outside the imagery), outside, empty_geometry"),
    _f("coverage_fraction", (), lambda c: np.round(c.series.coverage_fraction, 4),
       "tỷ lệ diện tích thửa nằm trong ảnh", "share of the parcel inside the imagery"),
)  # fmt: skip

_BY_NAME = {f.name: f for f in REGISTRY}
#: every feature column with its meaning (English), from :data:`REGISTRY`
FEATURES = {f.name: f.description_en for f in REGISTRY}
#: the features the calibrated model uses, from :data:`REGISTRY`
MODEL_FEATURES = tuple(f.name for f in REGISTRY if f.model)
#: the indices the model's features need (NDVI first), from :data:`REGISTRY`
DEFAULT_INDICES = tuple(dict.fromkeys(i for f in REGISTRY if f.model for i in ("ndvi", *f.indices)))


def feature(name: str) -> Feature:
    """The registry entry of one feature.

    Raises
    ------
    InputError
        An unknown (e.g. misspelt) name, with the known names.

    Examples
    --------
    >>> feature("ndvi_p90").abandoned_when
    'low'
    """
    try:
        return _BY_NAME[name]
    except KeyError:
        import difflib

        near = difflib.get_close_matches(str(name), _BY_NAME, n=1)
        known = ", ".join(_BY_NAME)
        if near:
            text = message("error.features.unknown_near", name=name, near=near[0], known=known)
        else:
            text = message("error.features.unknown", name=name, known=known)
        raise InputError(text) from None


def select_features(names) -> tuple[str, ...]:
    """Check feature names against the registry: every name must exist (none dropped).

    Examples
    --------
    >>> select_features(["ndvi_p90", "events"])
    ('ndvi_p90', 'events')
    """
    return tuple(feature(n).name for n in names)


def features_needing(indices) -> tuple[str, ...]:
    """The registry's features computable from ``indices``.

    Examples
    --------
    >>> "evi_median" in features_needing(["ndvi", "bsi"])
    False
    """
    return tuple(f.name for f in REGISTRY if f.available(indices))


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
    full_pixels, partial_pixels : numpy.ndarray, optional
        Per parcel, pixels wholly inside it (coverage weight 1) and partly inside it, on
        the grid that saw it best (``None`` when unknown).
    unmixed : dict of str to numpy.ndarray, optional
        Per index, the parcel's own value on each date: the pixels it shares with its
        neighbours unmixed by their coverage weights (:func:`unmix`); NaN where nothing
        clear was seen. The features are computed from it where it is given (the
        renovation signature from ``mean``, with the core pixel for small gardens).
    core : dict of str to numpy.ndarray, optional
        Per index, the value of the parcel's *core pixel* (the pixel most inside it) on
        each date, NaN where masked: the least mixed with the neighbours' signal, which
        matters for small gardens with no pixel wholly inside.
    core_weight : numpy.ndarray, optional
        Share of the core pixel inside the parcel.
    shifts : dict, optional
        ``{date: (east, north)}`` metres: each date's displacement from the series'
        median that was measured and undone before the statistics
        (:mod:`ntmgis.registration`; ``None`` for a date too cloudy to measure, absent
        for dates not co-registered).
    """

    index: pd.Index
    dates: np.ndarray
    mean: dict
    std: dict
    valid: np.ndarray
    pixels: np.ndarray
    status: np.ndarray
    coverage_fraction: np.ndarray
    full_pixels: np.ndarray | None = None
    partial_pixels: np.ndarray | None = None
    core: dict | None = None
    core_weight: np.ndarray | None = None
    unmixed: dict | None = None
    shifts: dict | None = None

    def clear(self, min_valid: float = 0.6) -> np.ndarray:
        """Boolean ``(parcels, dates)``: the parcel was seen clear enough that date."""
        return self.valid >= min_valid

    def to_frame(self, min_valid: float = 0.6) -> pd.DataFrame:
        """Long table: one row per parcel, date and index, with mean, std, valid, clear.

        When the series holds the parcels' own values (:attr:`unmixed`), they are the
        ``own`` column beside the coverage-weighted ``mean``.
        """
        frames = []
        n, t = self.valid.shape
        for name in self.mean:
            cols = {
                "parcel": np.repeat(self.index.to_numpy(), t),
                "date": np.tile(self.dates, n),
                "index": name,
                "mean": self.mean[name].ravel(),
                "std": self.std[name].ravel(),
                "valid": self.valid.ravel(),
                "clear": self.clear(min_valid).ravel(),
            }
            if self.unmixed and name in self.unmixed:
                cols["own"] = self.unmixed[name].ravel()
            frames.append(pd.DataFrame(cols))
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


def _check_indices(indices) -> list[str]:
    """Lower-cased index names; NDVI required, unknown names an error (never dropped)."""
    from .indices import INDICES

    indices = [str(i).lower() for i in indices]
    unknown = [i for i in indices if i not in INDICES]
    if unknown:
        raise InputError(
            message("error.features.unknown_index", names=", ".join(unknown),
                    known=", ".join(sorted(INDICES)))
        )  # fmt: skip
    if "ndvi" not in indices:
        raise InputError(message("error.features.ndvi_required", names=", ".join(indices)))
    return indices


def _pixel_counts(cov, stack, indices, dates):
    """Per parcel: pixels wholly and partly inside, and its core pixel's time series."""
    table = cov.pixel_table()
    pos = cov.index.get_indexer(table["parcel"]) if len(table) else np.zeros(0, int)
    weight = table["weight"].to_numpy()
    whole = weight >= FULL_PIXEL
    n = len(cov.index)
    full = np.bincount(pos[whole], minlength=n).astype(float)
    partial = np.bincount(pos[~whole], minlength=n).astype(float)
    order = np.lexsort((-weight, pos))
    first = order[np.r_[True, np.diff(pos[order]) != 0]] if len(order) else order
    who = pos[first]
    rows, cols = table["row"].to_numpy()[first], table["col"].to_numpy()[first]
    core_weight = np.zeros(n)
    core_weight[who] = weight[first]
    where = {name: k for k, name in enumerate(stack.names)}
    core = {}
    for name in indices:
        series = np.full((n, len(dates)), np.nan)
        for j, date in enumerate(dates):
            k = where.get(f"{date}/{name}")
            if k is not None and len(who):
                series[who, j] = stack.data[k][rows, cols]
        core[name] = series
    return full, partial, core, core_weight


def unmix(
    matrix, values, *, ridge=UNMIX_RIDGE, min_cover=UNMIX_MIN_COVER, sweeps=UNMIX_SWEEPS
) -> np.ndarray:
    """Each parcel's own value on one date, its pixels unmixed by their coverage weights.

    A pixel shared by a garden and its neighbours holds their mixture, weighted by the
    share of the pixel each covers; a small garden's coverage-weighted mean is therefore
    mostly its neighbours'. Seen as ``pixel = sum(share * parcel's own value)``, the
    pixels are a linear system in the parcels' own values: least squares with a ridge
    (weight ``ridge``) towards each parcel's observed mean, which decides where the
    pixels cannot (a parcel in no pixel's majority, too few clear pixels). It is solved
    by ``sweeps`` Jacobi sweeps from the means: each parcel's value from its own pixels,
    the neighbours' held at their previous estimate. So a parcel's value depends only on
    the parcels within ``sweeps`` shared pixels of it, never on how far the commune's
    parcels reach (a block of a commune gives its parcels' values exactly when its
    neighbours up to two shared pixels away are in it; :func:`ntmgis.blocks.block_context`).
    A pixel less than ``min_cover`` covered by the parcels is left out; the others are
    read as wholly the parcels' (shares divided by their sum). :func:`parcel_time_series`
    gives this the coverage seen through the sensor's optics: each pixel's shares spread
    over its neighbours by a Gaussian point-spread function of :data:`UNMIX_PSF` pixel.

    Parameters
    ----------
    matrix : scipy.sparse matrix
        Parcels x pixels coverage weights (:attr:`ntmgis.zonal.Coverage.matrix`).
    values : numpy.ndarray
        ``(layers, pixels)`` values of the matrix's pixels, NaN where masked (clouds);
        one date's layers, so that a pixel masked in one is left out of all.
    ridge : float, default :data:`UNMIX_RIDGE`
        Weight of the pull towards the observed mean, in units of a whole pixel.
    min_cover : float, default :data:`UNMIX_MIN_COVER`
    sweeps : int, default :data:`UNMIX_SWEEPS`

    Returns
    -------
    numpy.ndarray
        ``(layers, parcels)``: the own values; NaN for a parcel with no clear pixel.

    Examples
    --------
    Parcel A holds pixel 0 (0.8) and half of pixel 1 (0.5), parcel B the other half and
    pixel 2 (0.2). Their means are 0.7 and 0.3, their own values 0.8 and 0.2, which
    enough sweeps without a ridge find:

    >>> from scipy import sparse
    >>> w = sparse.csr_array(np.array([[1.0, 0.5, 0.0], [0.0, 0.5, 1.0]]))
    >>> unmix(w, np.array([[0.8, 0.5, 0.2]]), ridge=0, sweeps=60).round(6).tolist()
    [[0.8, 0.2]]

    By hand, with the default ridge 0.2 and two sweeps: ``A'A = [[1.25, 0.25], [0.25,
    1.25]]`` and ``A'(x - A m) = (0.1, -0.1)``; the first sweep moves A by ``0.1 / 1.45
    = 0.0690`` from its mean, the second by ``(0.1 + 0.25 * 0.0690) / 1.45 = 0.0809``:

    >>> unmix(w, np.array([[0.8, 0.5, 0.2]])).round(4).tolist()
    [[0.7809, 0.2191]]
    """
    return _Unmixer(matrix, min_cover).solve(values, ridge=ridge, sweeps=sweeps)


class _Unmixer:
    """:func:`unmix` for one coverage matrix and many dates: the matrix work done once.

    Each date only masks the pixels it did not see clear; the sweeps are sparse
    products with the pixels x parcels shares (``A u`` and ``A'r``), never ``A'A``.
    """

    def __init__(self, matrix, min_cover=UNMIX_MIN_COVER):
        from scipy import sparse

        w = self.w = sparse.csr_array(matrix, dtype=float)  # parcels x pixels
        cover = np.bincount(w.indices, weights=w.data, minlength=w.shape[1])
        self.good = cover >= min_cover
        inv = np.where(self.good, 1.0 / np.where(cover > 0, cover, 1.0), 0.0)
        scaled = sparse.csr_array((w.data * inv[w.indices], w.indices, w.indptr), shape=w.shape)
        self.a = scaled.T.tocsr()  # pixels x parcels, each row summing to 1
        self.a2 = self.a.power(2)
        self.at, self.a2t = self.a.T.tocsr(), self.a2.T.tocsr()

    def solve(self, values, *, ridge=UNMIX_RIDGE, sweeps=UNMIX_SWEEPS) -> np.ndarray:
        values = np.atleast_2d(np.asarray(values, dtype=float))
        clear = np.isfinite(values).all(0)
        x = np.where(clear, values, 0.0).T  # (pixels, layers)
        seen = self.w @ clear.astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            prior = (self.w @ x) / seen[:, None]  # coverage-weighted mean of the clear pixels
        m = np.nan_to_num(prior)
        rows = (clear & self.good).astype(float)[:, None]
        if rows.any():
            b = self.at @ (rows * (x - self.a @ m))
            diag = (self.a2t @ rows[:, 0])[:, None]
            u = np.zeros_like(b)
            for _ in range(int(sweeps)):
                u = (b - self.at @ (rows * (self.a @ u)) + diag * u) / (diag + ridge)
            m = m + u
        out = np.full(m.shape, np.nan)
        out[seen > 0] = m[seen > 0]
        return out.T


def _psf_shares(cov, sigma: float):
    """The coverage matrix as pixels read through a Gaussian PSF, and its pixels.

    A pixel seen through a PSF of ``sigma`` pixels holds a little of its eight
    neighbours' ground: the shares are the coverage weights convolved with the PSF's
    3 x 3 kernel, over the pixels the parcels cover and those beside them.
    """
    from scipy import sparse

    matrix, pixels = cov.matrix, cov.pixels
    if not sigma or not len(pixels):
        return matrix, pixels
    h, w = cov.shape
    r, c = np.divmod(pixels, w)
    g = np.exp(-0.5 / sigma**2)
    taps = [(dr, dc, (g if dr else 1.0) * (g if dc else 1.0))
            for dr in (-1, 0, 1) for dc in (-1, 0, 1)]  # fmt: skip
    total = sum(k for *_, k in taps)
    near = [(r + dr) * w + (c + dc) for dr, dc, _ in taps]
    inside = [((r + dr) >= 0) & ((r + dr) < h) & ((c + dc) >= 0) & ((c + dc) < w)
              for dr, dc, _ in taps]  # fmt: skip
    ext = np.unique(np.concatenate([n[ok] for n, ok in zip(near, inside)]))
    rows, cols, vals = [], [], []
    for (*_, k), n, ok in zip(taps, near, inside):
        rows.append(np.flatnonzero(ok))
        cols.append(np.searchsorted(ext, n[ok]))
        vals.append(np.full(int(ok.sum()), k / total))
    kernel = sparse.csr_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(pixels), len(ext)),
    )
    return sparse.csr_array(matrix) @ kernel, ext


def _unmixed_layers(cov, stack, indices) -> dict:
    """``{"DATE/INDEX": own values per parcel}`` of one stack, date by date (:func:`unmix`).

    The shares are the coverage seen through the optics (:func:`_psf_shares`,
    :data:`UNMIX_PSF`).
    """
    where = {name: k for k, name in enumerate(stack.names)}
    by_date: dict[str, list] = {}
    for name in stack.names:
        date, _, index = name.partition("/")
        if index in indices:
            by_date.setdefault(date, []).append(name)
    if not by_date:
        return {}
    matrix, pixels = _psf_shares(cov, UNMIX_PSF)
    unmixer = _Unmixer(matrix)
    out = {}
    for names in by_date.values():
        values = np.stack([stack.data[where[nm]].ravel()[pixels] for nm in names]).astype(float)
        if stack.nodata is not None and not np.isnan(stack.nodata):
            values[values == stack.nodata] = np.nan
        out.update(zip(names, unmixer.solve(values)))
    return out


def parcel_time_series(
    parcels,
    imagery,
    *,
    indices=None,
    period=None,
    progress=None,
    coregister=True,
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
    indices : sequence of str, optional
        Index names (see :mod:`ntmgis.indices`); NDVI must be among them. Default
        :data:`DEFAULT_INDICES`. An unknown name is an error.
    period : str or tuple, optional
        ``"START:END"`` dates to keep.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.
    coregister : bool or list, default True
        Undo each date's sub-pixel displacement from the series' median (measured by
        :func:`ntmgis.registration.estimate_shifts`, or given as
        :func:`ntmgis.blocks.commune_shifts` gives it); ``False``: as georeferenced.

    Returns
    -------
    ParcelSeries
        Arrays ``(parcels, dates)`` of mean, within-parcel std and clear share, and per
        parcel the pixels wholly and partly inside it.
    """
    from ._io import read_vector
    from .zonal import split_column

    indices = _check_indices(DEFAULT_INDICES if indices is None else indices)
    parcels = read_vector(parcels, what="parcels")
    stacks = _stacks_of(
        imagery,
        parcels=parcels,
        indices=indices,
        period=period,
        progress=_progress.scaled(progress, 0.0, 0.5),
    )
    stacks, shifts = _coregistered(stacks, coregister)
    tables, counts = _stack_tables(parcels, stacks, indices, progress)
    dates = sorted(
        {split_column(c)[0].split("/")[0] for t in tables for c in t.columns if ":" in c}
    )
    if not dates:
        raise InputError(message("error.features.no_dates"))
    n, nt = len(parcels), len(dates)
    pos = {d: i for i, d in enumerate(dates)}
    mean = {i: np.full((n, nt), np.nan) for i in indices}
    std = {i: np.full((n, nt), np.nan) for i in indices}
    valid = np.zeros((n, nt))
    pixels = np.zeros(n)
    full_pixels, partial_pixels, core_weight = np.zeros(n), np.zeros(n), np.zeros(n)
    core = {i: np.full((n, nt), np.nan) for i in indices}
    unmixed = {i: np.full((n, nt), np.nan) for i in indices}
    coverage_fraction = np.zeros(n)
    status = np.full(n, "outside", dtype=object)
    for table, (cov, stack, own) in zip(tables, counts):
        full, partial, core_k, weight_k = _pixel_counts(cov, stack, indices, dates)
        frac = table["coverage_fraction"].fillna(0).to_numpy()
        better = frac > coverage_fraction
        status[better] = table["status"].to_numpy()[better]
        full_pixels[better], partial_pixels[better] = full[better], partial[better]
        core_weight[better] = weight_k[better]
        for name in indices:
            core[name][better] = core_k[name][better]
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
            unmixed[name][take, j] = own[layer][take]
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
        full_pixels=full_pixels,
        partial_pixels=partial_pixels,
        core=core,
        core_weight=core_weight,
        unmixed=unmixed,
        shifts=shifts,
    )


def _stack_tables(parcels, stacks, indices, progress):
    """Per stack its zonal statistics table, and its coverage, stack and own values."""
    from .zonal import compute_coverage

    tables, counts = [], []
    for k, stack in enumerate(stacks):
        sub = _progress.scaled(
            progress, 0.5 + 0.5 * k / len(stacks), 0.5 + 0.5 * (k + 1) / len(stacks)
        )
        cov = compute_coverage(parcels, stack, progress=_progress.scaled(sub, 0.0, 0.3))
        counts.append((cov, stack, _unmixed_layers(cov, stack, indices)))
        tables.append(
            cov.zonal_stats(stack, stats=("mean", "std", "valid", "count"),
                            progress=_progress.scaled(sub, 0.3, 1.0))
        )  # fmt: skip
    return tables, counts


def grid_key(stack) -> str:
    """A stack's grid as :func:`ntmgis.blocks.commune_shifts` names it: CRS and pixel size.

    Examples
    --------
    >>> from rasterio.transform import from_origin
    >>> from ntmgis.stack import RasterStack
    >>> grid_key(RasterStack(np.zeros((1, 2, 2)), from_origin(0, 20, 10, 10), "EPSG:32648", ["a"]))
    'EPSG:32648 10x10'
    """
    return f"{stack.crs} {abs(stack.transform.a):g}x{abs(stack.transform.e):g}"


def _coregistered(stacks, coregister):
    """The stacks with each date's displacement undone, and the displacements."""
    from .registration import MIN_SHIFT, apply_shifts, estimate_shifts

    if coregister is False or coregister is None:
        return stacks, None
    given = {} if coregister is True else dict(coregister)
    out, found, moved = [], {}, {}
    for stack in stacks:
        shifts = given.get(grid_key(stack))
        if shifts is None:
            shifts = estimate_shifts(stack)
        out.append(apply_shifts(stack, shifts))
        least = MIN_SHIFT * min(abs(stack.transform.a), abs(stack.transform.e))
        for date, shift in shifts.items():
            found.setdefault(date, shift)
            if shift is not None and max(map(abs, shift)) >= least:  # as apply_shifts moves
                moved.setdefault(date, shift)
    if moved:
        logger.info("co-registration: %d of %d dates moved back (largest %.1f m)", len(moved),
                    len(found), max(max(map(abs, s)) for s in moved.values()))  # fmt: skip
    return out, found


def _nanpercentile(x, axis=1, q=50.0):
    """Per row of ``x``, ``numpy.nanpercentile(row, q)`` (linear), for all rows at once.

    The same arithmetic as NumPy's linear method (virtual index ``(n - 1) q``, the two
    neighbours of a row sorted with its NaNs last, NumPy's two-sided interpolation), so
    the values are NumPy's to the last bit; NumPy applies its 1-D routine row by row, a
    Python call per parcel. A row with no finite value gives NaN. ``x`` is 2-D and
    ``axis`` 1 (the argument is there for :func:`_nan_stat`'s call).

    Examples
    --------
    >>> x = np.array([[1.0, np.nan, 3.0, 2.0], [4.0, np.nan, np.nan, np.nan]])
    >>> _nanpercentile(x, q=25).tolist()
    [1.5, 4.0]
    """
    qf = np.true_divide(q, 100)
    s = np.sort(x, axis=1)  # NaNs last
    n = np.count_nonzero(~np.isnan(x), axis=1)
    virtual = (n - 1) * qf
    prev = np.floor(virtual)
    last = virtual >= n - 1  # NumPy takes the row's largest value there
    lo = np.where(last, n - 1, prev).astype(np.intp)
    hi = np.where(last, n - 1, prev + 1).astype(np.intp)
    rows = np.arange(x.shape[0])
    a, b = s[rows, np.maximum(lo, 0)], s[rows, np.maximum(hi, 0)]
    gamma = virtual - prev
    diff = b - a
    out = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    out[last] = a[last]
    out[n == 0] = np.nan
    return out


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
    indices=None,
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
    indices : sequence of str, optional
        Indices to read (default :data:`DEFAULT_INDICES`); NDVI is required, EVI, NDMI
        and BSI add their features (:data:`REGISTRY` says which).
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
        Indexed like ``parcels``; one column per :data:`REGISTRY` feature whose indices
        were read, in registry order. Parcels outside the imagery or never seen clear
        keep their row with ``clear_obs`` 0 and NaN features.
    """
    if series is None:
        series = parcel_time_series(
            parcels, imagery, indices=indices, period=period, progress=progress
        )
    ctx = _Context(series, min_valid=min_valid, dip=dip, bare_rise=bare_rise,
                   dry_months=dry_months)  # fmt: skip
    have = set(series.mean)
    out = {f.name: f.func(ctx) for f in REGISTRY if f.available(have)}
    return pd.DataFrame(out, index=series.index)


def _yearly_trend(ndvi, clear, dates):
    """Slope between yearly NDVI medians (per year), when the series spans two years."""
    years = dates.year.to_numpy()
    uniq = np.unique(years)
    if len(uniq) < 2:
        return np.full(ndvi.shape[0], np.nan)
    med = np.stack([_nan_stat(_nanmedian, ndvi, clear & (years == y)[None, :]) for y in uniq], 1)
    slope, _ = _trend(uniq.astype(float), med, ~np.isnan(med))
    return slope


def _renovation(ndvi, bsi, clear, dates, *, dip=0.1, bare_rise=0.03, clearing=0.12,
                regrowth=0.08, flat=0.1, loose_flat=0.12, bare=0.45, before_dates=3,
                weight=None):  # fmt: skip
    """One clearing of an unmanaged garden (NDVI falls, BSI rises), then regrowth.

    A renovation is told from a vegetable garden's tillage cycles by what surrounds the
    season's largest fall (at least ``clearing``, with a BSI rise): before it the NDVI
    was flat (at least ``before_dates`` clear dates within ``flat`` of each other: nobody
    tilled), after it no further tillage event (an NDVI fall of ``dip`` with a BSI rise
    of ``bare_rise``), and the vegetation grew back by ``regrowth`` (beds are tilled
    again and again, a renovated garden is cleared once), from a low no higher than
    ``bare`` (an orchard's weeding leaves the canopy).

    ``weight`` (per parcel, default 1) is the garden's share of the observed pixel: its
    neighbours' unchanged vegetation fills the rest, so the garden's own changes are the
    pixel's divided by it; the regrowth threshold is scaled by it and the low is the
    garden's (the pixel's previous value minus the fall divided by it). The pixel itself
    must fall by ``clearing``: a smaller fall divided by a share is as often a mixed
    pixel's noise (on the tuning communes, abandoned gardens' core pixels fell by 0.06 to
    0.14 and were read as clearings; renovated gardens' by 0.15 or more).

    Returns
    -------
    tuple of numpy.ndarray
        ``(seen, clearing_date, regrowth_date, unsure)``: ``seen`` the signature with its
        flat spell; ``unsure`` the clearing and regrowth with fewer than ``before_dates``
        clear dates before them, or a spell only within ``loose_flat`` (the imagery alone
        cannot tell an untended garden from a tended one there, a survey dated before
        the clearing can); ``unsure`` also holds a clearing on the last clear date after
        such a flat spell (no clear date after it shows the regrowth).
        The dates are set for both; the regrowth date is the first clear date after the
        clearing with NDVI ``regrowth`` above its low (NaT when none is seen).
    """
    n, t = ndvi.shape
    rows = np.arange(n)
    w = np.ones(n) if weight is None else np.asarray(weight, float)
    fall = -_step_changes(ndvi, clear)
    d_bsi = _step_changes(bsi, clear)
    events = (fall >= dip) & (d_bsi >= bare_rise)
    large = (fall >= clearing) & (d_bsi >= bare_rise)
    cand = np.where(large, fall / w[:, None], -np.inf)
    j = np.argmax(cand, axis=1)
    has = np.isfinite(cand[rows, j])
    cols = np.arange(t)[None, :]
    before = clear & (cols < j[:, None])
    after = clear & (cols > j[:, None])
    low = ndvi[rows, j]
    with np.errstate(invalid="ignore"):
        own_low = low + fall[rows, j] * (1 - 1 / w)
        span = _nan_stat(np.nanmax, ndvi, before) - _nan_stat(np.nanmin, ndvi, before)
        grown = after & (ndvi - low[:, None] >= regrowth * w[:, None])
        signature = (
            has
            & (span <= loose_flat)
            & ((events & after).sum(1) == 0)
            & (own_low <= bare)
            & grown.any(1)
        )
    seen = signature & (before.sum(1) >= before_dates) & (span <= flat)
    # the clearing on the last clear date (clouds or the series' end hide what came after):
    # no regrowth to see, so never decided by the imagery alone; after a flat spell of
    # ``before_dates``, a survey dated before it can confirm it
    with np.errstate(invalid="ignore"):
        last = (
            has
            & (after.sum(1) == 0)
            & (before.sum(1) >= before_dates)
            & (span <= flat)
            & (own_low <= bare)
        )
    unsure = (signature & ~seen) | last
    k = np.argmax(grown, axis=1)
    dates = np.asarray(dates, dtype="datetime64[ns]")
    clearing_date = np.full(n, np.datetime64("NaT"), dtype="datetime64[ns]")
    regrowth_date = clearing_date.copy()
    dated = seen | unsure
    clearing_date[dated] = dates[j[dated]]
    regrew = dated & grown.any(1)
    regrowth_date[regrew] = dates[k[regrew]]
    return seen, clearing_date, regrowth_date, unsure


def season_of(date: dt.date, dry_months=DRY_MONTHS) -> str:
    """``"dry"`` or ``"wet"`` for a date, by the dry-season months."""
    return "dry" if date.month in dry_months else "wet"
