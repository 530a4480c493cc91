"""Vegetation and soil indices, a registry for user indices, and per-pixel composites.

Indices work on reflectance arrays keyed by common band names (``blue``, ``green``,
``red``, ``nir``, ``swir16``, ...; the Sentinel-2 ids ``B02``... are accepted in
formulas too). Every index returns float32 with NaN where an input is NaN, where a
denominator is zero, or where the result is not finite.

A user index is added with :func:`register_index`, either as a formula string such as
``"(nir - swir22) / (nir + swir22)"`` (parsed with a small AST walker: band names,
numbers, ``+ - * / **`` and parentheses, nothing else is ever evaluated) or as a
function of keyword band arrays.

Composites (:func:`composite`) reduce a :class:`~ntmgis.stack.RasterStack` time series
per pixel over a period: median, max, min, amplitude (p90 - p10) and the count of clear
observations. :func:`write_cog` writes any stack as a Cloud-Optimised GeoTIFF.
"""

from __future__ import annotations

import datetime as _dt
import inspect
import logging
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import i18n as _i18n
from ._io import PathLike
from .errors import InputError, SchemaError
from .stack import RasterStack

logger = logging.getLogger(__name__)

#: What the index functions say to people (ntmgis.i18n): Vietnamese first, English too.
_MESSAGES = {
    "error.indices.unknown_band": (
        "'{name}' không phải tên kênh. Các kênh đã biết: {known} (hoặc mã kênh Sentinel-2 "
        "B01–B12, B8A)",
        "'{name}' is not a band name. Known bands: {known} (or Sentinel-2 ids B01-B12, B8A)",
    ),
    "error.indices.syntax": (
        "Công thức chỉ số '{text}' không phải biểu thức hợp lệ ({error}). Hãy "
        "dùng tên kênh, số, + - * / ** và dấu ngoặc, ví dụ '(nir - red) / (nir + red)'.",
        "Index formula '{text}' is not a valid expression ({error}). Use band names, numbers, "
        "+ - * / ** and parentheses, e.g. '(nir - red) / (nir + red)'.",
    ),
    "error.indices.formula": (
        "Công thức chỉ số '{text}'{at}: {error}.",
        "Index formula '{text}'{at}: {error}.",
    ),
    "error.indices.column": (" (cột {column})", " (column {column})"),
    "error.indices.formula_band": (
        "Công thức chỉ số '{text}' cần kênh '{band}', nhưng kênh này không được cung cấp: hãy "
        "thêm kênh đó vào ảnh.",
        "Index formula '{text}' needs band '{band}', not given: add that band to the scenes.",
    ),
    "error.indices.bad_name": (
        "Tên chỉ số '{name}' không dùng được: hãy bắt đầu bằng một chữ cái, sau đó là chữ cái, "
        "chữ số hoặc '_'.",
        "Index name '{name}' is not usable: start with a letter, then letters, digits or '_'.",
    ),
    "error.indices.exists": (
        "Chỉ số '{name}' đã có; hãy chọn tên khác, hoặc cho phép thay thế (overwrite=True).",
        "Index '{name}' already exists; choose another name or pass overwrite=True to replace it.",
    ),
    "error.indices.band_name": (
        "Chỉ số '{name}': '{band}' không phải tên kênh. Các kênh đã biết: {known}.",
        "Index '{name}': '{band}' is not a band name. Known bands: {known}.",
    ),
    "error.indices.formula_type": (
        "Chỉ số '{name}': hãy cho một công thức (chuỗi) hoặc một hàm, không phải {formula}.",
        "Index '{name}': give a formula string or a function, not {formula}.",
    ),
    "error.indices.unknown_index": (
        "Không có chỉ số '{name}'. Các chỉ số đã biết: {known}; có thể thêm chỉ số bằng "
        "ntmgis.register_index(tên, công thức) hoặc ntmgis indices --formula.",
        "Unknown index '{name}'. Known: {known}; add one with ntmgis.register_index(name, "
        "formula) or ntmgis indices --formula.",
    ),
    "error.indices.missing_bands": (
        "Chỉ số '{name}' cần kênh {bands}; các kênh có: {given}. Hãy tải thêm kênh đó hoặc bỏ "
        "chỉ số này.",
        "Index '{name}' needs band(s) {bands}; given: {given}. Fetch that band or drop the index.",
    ),
    "error.indices.period_form": (
        "Khoảng thời gian '{period}' phải có dạng BẮT_ĐẦU:KẾT_THÚC, ví dụ 2020-01-01:2020-12-31.",
        "Period '{period}' must be START:END, e.g. 2020-01-01:2020-12-31.",
    ),
    "error.indices.period_pair": (
        "Khoảng thời gian {period} phải là một cặp (bắt đầu, kết thúc).",
        "Period {period} must be a pair (start, end).",
    ),
    "error.indices.period_date": (
        "Khoảng thời gian {period}: '{value}' không phải ngày (hãy viết NNNN-TT-NN, ví dụ "
        "2020-01-31).",
        "Period {period}: '{value}' is not a date (use YYYY-MM-DD).",
    ),
    "error.indices.period_order": (
        "Khoảng thời gian {period} có ngày bắt đầu sau ngày kết thúc: hãy đổi chỗ hai ngày.",
        "Period {period} starts after it ends: swap the two dates.",
    ),
    "error.indices.composite_stat": (
        "Không có thống kê tổng hợp {bad}; hãy dùng {known}.",
        "Unknown composite statistic(s) {bad}; use {known}.",
    ),
    "error.indices.several_variables": (
        "Chồng ảnh có nhiều biến ({found}): hãy chọn một biến để tổng hợp.",
        "The stack holds several variables ({found}); choose one with variable=...",
    ),
    "error.indices.no_layer": (
        "Không có lớp '{variable}'{where} để tổng hợp; các lớp: {layers}.",
        "No '{variable}' layer{where} to composite; layers: {layers}.",
    ),
    "error.indices.in_period": (" trong khoảng {period}", " in period {period}"),
}
_i18n.register_all(_MESSAGES)
_say = _i18n.message

__all__ = [
    "BAND_ALIASES",
    "COMMON_BANDS",
    "COMPOSITE_STATS",
    "INDICES",
    "Index",
    "composite",
    "compute_index",
    "get_index",
    "list_indices",
    "parse_formula",
    "parse_period",
    "register_index",
    "stack_profile",
    "write_cog",
]

#: Common band names used everywhere in ntmgis (STAC ``eo:common_name`` / Earth Search).
COMMON_BANDS = (
    "coastal",
    "blue",
    "green",
    "red",
    "rededge1",
    "rededge2",
    "rededge3",
    "nir",
    "nir08",
    "nir09",
    "cirrus",
    "swir16",
    "swir22",
)

#: Sentinel-2 band ids accepted in formulas, mapped to common names.
BAND_ALIASES = {
    "b01": "coastal",
    "b02": "blue",
    "b03": "green",
    "b04": "red",
    "b05": "rededge1",
    "b06": "rededge2",
    "b07": "rededge3",
    "b08": "nir",
    "b8a": "nir08",
    "b09": "nir09",
    "b10": "cirrus",
    "b11": "swir16",
    "b12": "swir22",
}


def _canonical_band(name: str) -> str | None:
    key = name.strip().lower()
    if key in COMMON_BANDS:
        return key
    return BAND_ALIASES.get(key)


# --------------------------------------------------------------------------- formulas


def parse_formula(formula: str) -> tuple[Callable[..., np.ndarray], tuple[str, ...]]:
    """Parse an index formula into a function of band arrays, without ``eval``.

    Parameters
    ----------
    formula : str
        An arithmetic expression over band names (common names such as ``nir``,
        ``red``, ``swir16`` or Sentinel-2 ids such as ``B08``), numbers, the operators
        ``+ - * / **``, unary minus and parentheses.

    Returns
    -------
    function : callable
        ``function(**bands)`` taking arrays keyed by common band name and returning a
        float64 array; division by zero gives NaN.
    bands : tuple of str
        The common band names the formula uses, in order of first appearance.

    Raises
    ------
    InputError
        If the formula has a syntax error, an unknown band name, or anything besides
        band names, numbers and the allowed operators (function calls, attributes,
        subscripts, comparisons...).

    Examples
    --------
    >>> f, bands = parse_formula("(B08 - B04) / (B08 + B04)")
    >>> bands
    ('nir', 'red')
    >>> round(float(f(nir=np.array(0.3), red=np.array(0.1))), 6)
    0.5
    """
    from dataclasses import replace

    from ._expr import FORMULA, ExpressionError, parse

    text = str(formula).strip()

    def unknown(name):
        return _say("error.indices.unknown_band", name=name, known=", ".join(COMMON_BANDS))

    grammar = replace(FORMULA, resolve=_canonical_band, unknown=unknown)
    try:
        expression = parse(text, grammar)
    except ExpressionError as exc:
        if str(exc).startswith("syntax error"):
            raise InputError(_say("error.indices.syntax", text=text, error=exc)) from None
        at = _say("error.indices.column", column=exc.column) if exc.column else ""
        raise InputError(_say("error.indices.formula", text=text, at=at, error=exc)) from None
    bands = list(expression.names)
    evaluate = expression.evaluate

    def function(**arrays) -> np.ndarray:
        env = {}
        for band in bands:
            if band not in arrays:
                raise SchemaError(_say("error.indices.formula_band", text=text, band=band))
            env[band] = np.asarray(arrays[band], dtype=np.float64)
        with np.errstate(invalid="ignore", over="ignore"):
            return np.asarray(evaluate(env), dtype=np.float64)

    return function, tuple(bands)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Index:
    """A spectral index: a name, the bands it needs and how to compute it.

    Parameters
    ----------
    name : str
        Lower-case name, used in layer names (``"2020-01-12/ndvi"``).
    bands : tuple of str
        Common band names the index needs.
    function : callable
        ``function(**bands) -> array`` on reflectance arrays.
    formula : str, optional
        The formula text, when the index was defined by one.
    description : str
        One line for users.
    """

    name: str
    bands: tuple[str, ...]
    function: Callable[..., np.ndarray] = field(repr=False)
    formula: str | None = None
    description: str = ""

    def __call__(self, **bands) -> np.ndarray:
        """Compute the index from reflectance arrays; see :func:`compute_index`."""
        return compute_index(self, bands)


#: The index registry: name -> :class:`Index`. Add to it with :func:`register_index`.
INDICES: dict[str, Index] = {}


def register_index(
    name: str,
    formula: str | Callable[..., np.ndarray],
    *,
    bands: Sequence[str] | None = None,
    description: str = "",
    overwrite: bool = False,
) -> Index:
    """Add an index to the registry, by formula string or by function.

    Parameters
    ----------
    name : str
        Index name (case-insensitive; letters, digits and ``_``).
    formula : str or callable
        A formula such as ``"(nir - swir22) / (nir + swir22)"`` (see
        :func:`parse_formula`), or a function taking band arrays as keyword arguments.
    bands : sequence of str, optional
        For a function: the bands it needs. Defaults to its parameter names.
    description : str
        One line shown to users.
    overwrite : bool
        Replace an index of the same name instead of raising.

    Returns
    -------
    Index
        The registered index.

    Raises
    ------
    InputError
        For a bad name, an existing name without ``overwrite``, a bad formula, or a
        function whose bands are not band names.

    Examples
    --------
    >>> idx = register_index("gndvi", "(nir - green) / (nir + green)", overwrite=True)
    >>> idx.bands
    ('nir', 'green')
    """
    key = str(name).strip().lower()
    if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
        raise InputError(_say("error.indices.bad_name", name=name))
    if key in INDICES and not overwrite:
        raise InputError(_say("error.indices.exists", name=key))
    if isinstance(formula, str):
        function, used = parse_formula(formula)
        index = Index(key, used, function, formula=formula, description=description)
    elif callable(formula):
        if bands is None:
            params = inspect.signature(formula).parameters.values()
            bands = [p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        canon = []
        for band in bands:
            c = _canonical_band(band)
            if c is None:
                raise InputError(_say("error.indices.band_name", name=key, band=band,
                                      known=", ".join(COMMON_BANDS)))  # fmt: skip
            canon.append(c)
        user_function = formula
        names = list(bands)

        def function(**arrays):
            return user_function(
                **{n: np.asarray(arrays[c], dtype=np.float64) for n, c in zip(names, canon)}
            )

        index = Index(key, tuple(canon), function, description=description)
    else:
        raise InputError(_say("error.indices.formula_type", name=key, formula=repr(formula)))
    INDICES[key] = index
    logger.debug("index %s registered (bands %s)", key, ", ".join(index.bands))
    return index


def get_index(index: str | Index) -> Index:
    """Return a registered index by name (or the :class:`Index` given).

    Parameters
    ----------
    index : str or Index
        Index name, case-insensitive.

    Returns
    -------
    Index

    Raises
    ------
    InputError
        If no index has that name; the message lists the known ones.
    """
    if isinstance(index, Index):
        return index
    key = str(index).strip().lower()
    if key not in INDICES:
        raise InputError(
            _say("error.indices.unknown_index", name=index, known=", ".join(sorted(INDICES)))
        )
    return INDICES[key]


def list_indices() -> list[str]:
    """Names of all registered indices, sorted.

    Returns
    -------
    list of str
    """
    return sorted(INDICES)


def compute_index(index: str | Index, bands: Mapping[str, np.ndarray]) -> np.ndarray:
    """Compute an index from reflectance arrays.

    Parameters
    ----------
    index : str or Index
        Registered index name (``"ndvi"``, ``"evi"``, ``"savi"``, ``"osavi"``,
        ``"ndmi"``, ``"bsi"`` or a user index) or an :class:`Index`.
    bands : mapping of str to numpy.ndarray
        Reflectance arrays keyed by common band name (Sentinel-2 ids are accepted);
        NaN marks masked pixels.

    Returns
    -------
    numpy.ndarray
        float32 array; NaN where an input is NaN, a denominator is zero, or the result
        is not finite.

    Raises
    ------
    SchemaError
        If a band the index needs is not in ``bands``.

    Examples
    --------
    >>> float(compute_index("ndvi", {"nir": np.float32(0.4), "red": np.float32(0.1)}))
    0.6000000238418579
    """
    idx = get_index(index)
    arrays = {}
    for key, value in bands.items():
        arrays[_canonical_band(key) or key] = value
    missing = [b for b in idx.bands if b not in arrays]
    if missing:
        fields = {"bands": ", ".join(missing), "given": ", ".join(arrays) or "-"}
        raise SchemaError(_say("error.indices.missing_bands", name=idx.name, **fields))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        out = np.asarray(idx.function(**{b: arrays[b] for b in idx.bands}), dtype=np.float64)
    out = np.where(np.isfinite(out), out, np.nan)
    return out.astype(np.float32)


for _name, _formula, _description in (
    ("ndvi", "(nir - red) / (nir + red)", "Normalised difference vegetation index"),
    (
        "evi",
        "2.5 * (nir - red) / (nir + 6 * red - 7.5 * blue + 1)",
        "Enhanced vegetation index (MODIS coefficients)",
    ),
    ("savi", "1.5 * (nir - red) / (nir + red + 0.5)", "Soil-adjusted vegetation index, L = 0.5"),
    ("osavi", "(nir - red) / (nir + red + 0.16)", "Optimised soil-adjusted vegetation index"),
    ("ndmi", "(nir - swir16) / (nir + swir16)", "Normalised difference moisture index"),
    (
        "bsi",
        "((swir16 + red) - (nir + blue)) / ((swir16 + red) + (nir + blue))",
        "Bare soil index",
    ),
):
    register_index(_name, _formula, description=_description)


# --------------------------------------------------------------------------- composites

#: Statistics :func:`composite` computes, in this order.
COMPOSITE_STATS = ("median", "max", "min", "amplitude", "count")


def parse_period(period) -> tuple[_dt.date, _dt.date] | None:
    """Parse a period ``"2020-01-01:2020-12-31"`` (or a pair of dates) into two dates.

    Parameters
    ----------
    period : str or tuple or None
        ``"START:END"`` with ISO dates (either side may be empty), or ``(start, end)``
        with dates, datetimes or ISO strings. Both ends are included.

    Returns
    -------
    tuple of datetime.date or None
        ``(start, end)``; an open end becomes ``date.min`` / ``date.max``.

    Raises
    ------
    InputError
        If a date cannot be read or the start is after the end.
    """
    if period is None:
        return None
    if isinstance(period, str):
        parts = period.split(":") if ":" in period else period.split("/")
        if len(parts) != 2:
            raise InputError(_say("error.indices.period_form", period=period))
    else:
        parts = list(period)
        if len(parts) != 2:
            raise InputError(_say("error.indices.period_pair", period=repr(period)))

    def as_date(value, default):
        if value is None or (isinstance(value, str) and not value.strip()):
            return default
        if isinstance(value, _dt.datetime):
            return value.date()
        if isinstance(value, _dt.date):
            return value
        try:
            return _dt.date.fromisoformat(str(value).strip()[:10])
        except ValueError:
            raise InputError(
                _say("error.indices.period_date", period=repr(period), value=value)
            ) from None

    start, end = as_date(parts[0], _dt.date.min), as_date(parts[1], _dt.date.max)
    if start > end:
        raise InputError(_say("error.indices.period_order", period=repr(period)))
    return start, end


def _layer_date(stack: RasterStack, i: int) -> _dt.date | None:
    layers = stack.meta.get("layers") if isinstance(stack.meta, dict) else None
    if layers and i < len(layers) and layers[i].get("date"):
        value = layers[i]["date"]
        return value if isinstance(value, _dt.date) else _dt.date.fromisoformat(str(value)[:10])
    match = re.match(r"(\d{4}-\d{2}-\d{2})", stack.names[i])
    return _dt.date.fromisoformat(match.group(1)) if match else None


def _layer_variable(stack: RasterStack, i: int) -> str:
    layers = stack.meta.get("layers") if isinstance(stack.meta, dict) else None
    if layers and i < len(layers) and layers[i].get("variable"):
        return str(layers[i]["variable"])
    return stack.names[i].rsplit("/", 1)[-1]


def composite(
    stack: RasterStack,
    *,
    variable: str | None = None,
    period=None,
    stats: Sequence[str] = COMPOSITE_STATS,
) -> RasterStack:
    """Per-pixel composite of a time series over a period.

    NaN observations (cloud, shadow, nodata) are left out; a pixel with no clear
    observation gets NaN for every statistic and 0 for ``count``.

    Parameters
    ----------
    stack : RasterStack
        A time series as made by :func:`ntmgis.imagery.read_time_series`: layers named
        ``"DATE/VARIABLE"`` (e.g. ``"2020-01-12/ndvi"``).
    variable : str, optional
        Which variable to composite (``"ndvi"``, ``"red"``...). Required when the stack
        holds more than one.
    period : str or tuple, optional
        Keep only dates in ``"START:END"`` (inclusive); see :func:`parse_period`.
    stats : sequence of str
        Any of ``"median"``, ``"max"``, ``"min"``, ``"amplitude"`` (90th minus 10th
        percentile, linear interpolation) and ``"count"`` (clear observations).

    Returns
    -------
    RasterStack
        float32 layers named ``"VARIABLE/STAT"`` on the input grid; ``meta`` records
        the variable, the period and the dates used.

    Raises
    ------
    InputError
        For an unknown statistic, an ambiguous or missing variable, or a period with no
        date in the stack.
    """
    bad = [s for s in stats if s not in COMPOSITE_STATS]
    if bad:
        raise InputError(_say("error.indices.composite_stat", bad=", ".join(bad),
                              known=", ".join(COMPOSITE_STATS)))  # fmt: skip
    variables = [_layer_variable(stack, i) for i in range(len(stack))]
    if variable is None:
        found = sorted(set(variables))
        if len(found) != 1:
            raise InputError(_say("error.indices.several_variables", found=", ".join(found)))
        variable = found[0]
    window = parse_period(period)
    chosen, dates = [], []
    for i, var in enumerate(variables):
        if var != variable:
            continue
        date = _layer_date(stack, i)
        if window is not None and (date is None or not window[0] <= date <= window[1]):
            continue
        chosen.append(i)
        dates.append(date.isoformat() if date else stack.names[i])
    if not chosen:
        where = _say("error.indices.in_period", period=period) if period is not None else ""
        raise InputError(_say("error.indices.no_layer", variable=variable, where=where,
                              layers=", ".join(stack.names)))  # fmt: skip
    data = np.asarray(stack.data[chosen], dtype=np.float32)
    clear = np.isfinite(data)
    count = clear.sum(axis=0).astype(np.float32)
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels give NaN
        for stat in stats:
            if stat == "median":
                results[stat] = np.nanmedian(data, axis=0)
            elif stat == "max":
                results[stat] = np.nanmax(data, axis=0)
            elif stat == "min":
                results[stat] = np.nanmin(data, axis=0)
            elif stat == "amplitude":
                p90, p10 = np.nanpercentile(data, [90, 10], axis=0)
                results[stat] = p90 - p10
            elif stat == "count":
                results[stat] = count
    out = np.stack([np.asarray(results[s], dtype=np.float32) for s in stats])
    meta = {
        "variable": variable,
        "period": [window[0].isoformat(), window[1].isoformat()] if window else None,
        "dates": dates,
        "stats": list(stats),
    }
    for key in ("crs_name", "grid"):
        if isinstance(stack.meta, dict) and key in stack.meta:
            meta[key] = stack.meta[key]
    return RasterStack(
        out, stack.transform, stack.crs, [f"{variable}/{s}" for s in stats], meta=meta
    )


# --------------------------------------------------------------------------- writing


def stack_profile(stack: RasterStack) -> dict:
    """A rasterio profile (driver, dtype, size, CRS, transform, nodata) for a stack.

    Parameters
    ----------
    stack : RasterStack

    Returns
    -------
    dict
        Profile usable with ``rasterio.open(path, "w", **profile)``; float layers get
        NaN as nodata.
    """
    from rasterio.crs import CRS

    crs = stack.crs
    if crs is not None and not isinstance(crs, CRS):
        crs = CRS.from_user_input(crs.to_wkt() if hasattr(crs, "to_wkt") else crs)
    dtype = np.dtype(stack.data.dtype)
    nodata = stack.nodata
    if nodata is None and np.issubdtype(dtype, np.floating):
        nodata = float("nan")
    return {
        "driver": "GTiff",
        "dtype": dtype.name,
        "count": len(stack),
        "height": stack.shape[0],
        "width": stack.shape[1],
        "crs": crs,
        "transform": stack.transform,
        "nodata": nodata,
    }


def write_cog(stack: RasterStack, path: PathLike, *, compress: str = "deflate") -> str:
    """Write a stack as a Cloud-Optimised GeoTIFF, one band per layer.

    Band descriptions carry the layer names (``"2020-01-12/ndvi"``, ``"ndvi/median"``).

    Parameters
    ----------
    stack : RasterStack
    path : str or os.PathLike
        Output file; its folder is created.
    compress : str
        GDAL compression (``"deflate"``, ``"lzw"``, ``"zstd"``...).

    Returns
    -------
    str
        The path written.
    """
    from pathlib import Path

    import rasterio.shutil
    from rasterio.io import MemoryFile

    from ._io import atomic_path

    out = Path(path)
    profile = stack_profile(stack)
    with MemoryFile() as memfile, atomic_path(out, what="Cloud-Optimised GeoTIFF") as target:
        with memfile.open(**profile) as tmp:
            tmp.write(stack.data)
            for i, name in enumerate(stack.names, start=1):
                tmp.set_band_description(i, name)
            rasterio.shutil.copy(
                tmp, str(target), driver="COG", compress=compress.upper(), BIGTIFF="IF_SAFER"
            )
    return str(out)
