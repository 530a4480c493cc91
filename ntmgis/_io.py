"""The one input adapter: paths, open datasets, GeoDataFrames, arrays; and atomic output.

Public functions accept a path (``str`` or ``os.PathLike``) or an in-memory object; they
call these helpers instead of opening files themselves, so every reader gives the same
errors. Every output file is written through :func:`atomic_path`, so a crash or a cancel
never leaves a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import DataNotFoundError, ImageryError, InputError

PathLike = str | os.PathLike


@contextlib.contextmanager
def atomic_path(path: PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    The temporary file does not exist yet when the block starts (writers that refuse an
    existing file, such as GDAL's GeoPackage driver, create it). On any error, including
    a cancel, it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_gpkg(path: str | os.PathLike, layers: dict, *, finish=None) -> Path:
    """Write GeoDataFrames (or DataFrames, as attribute tables) to one GeoPackage atomically.

    The file is written under a temporary name beside ``path`` and renamed into place, so
    a crash or a cancel never leaves a half-written GeoPackage. GeoPackage 1.2 is written,
    which QGIS 3.22 opens without a warning.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.gpkg`` file; replaced when it exists.
    layers : dict
        Layer name -> GeoDataFrame or DataFrame, written in order.
    finish : callable, optional
        ``finish(temporary_path)`` runs on the complete file before it is renamed into
        place (e.g. to embed QGIS styles).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import geopandas as gpd
    import pyogrio

    with atomic_path(path) as tmp:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", VERSION="1.2")
            else:
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", VERSION="1.2")
        if finish is not None:
            finish(tmp)
    return Path(path)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_text(value: str) -> str:
    """Prefix an apostrophe to text that a spreadsheet would read as a formula (OWASP).

    >>> escape_text("=1+1"), escape_text("-3 m2"), escape_text("Vườn tạp")
    ("'=1+1", "'-3 m2", 'Vườn tạp')
    """
    return "'" + value if value.startswith(_FORMULA_START) else value


def _csv_cell(value):
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, float) and value == value and value == int(value) and abs(value) < 1e15:
        return int(value)
    return value


def write_csv(path: PathLike, table, *, columns=None, bom: bool = True) -> Path:
    """Write a table as CSV atomically, text cells that a spreadsheet would run escaped.

    Parameters
    ----------
    path : str or os.PathLike
        The file; replaced when it exists, never left half-written.
    table : pandas.DataFrame or list of dict
        The rows; numbers stay numbers (whole floats written as integers).
    columns : list of str, optional
        Column order (for a list of dicts; missing keys are empty cells).
    bom : bool, default True
        UTF-8 with a byte-order mark, so Excel reads Vietnamese text right.

    Returns
    -------
    pathlib.Path
    """
    import pandas as pd

    frame = (
        table.copy() if isinstance(table, pd.DataFrame) else pd.DataFrame(table, columns=columns)
    )
    for column in frame.columns:
        frame[column] = [_csv_cell(v) for v in frame[column].astype(object)]
    frame.columns = [escape_text(str(c)) for c in frame.columns]
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, encoding="utf-8-sig" if bom else "utf-8",
                     lineterminator="\r\n")  # fmt: skip
    return Path(path)


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
    """Read a vector source into a GeoDataFrame, with errors that name the file and layer.

    Parameters
    ----------
    source : str, os.PathLike or geopandas.GeoDataFrame
        A file GDAL reads (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, DXF...) or a
        GeoDataFrame (returned as a copy).
    layer : str, optional
        Layer of a multi-layer file; a missing layer is a SchemaError listing the layers.
    what : str
        What the file is, for messages ("parcels", "hamlets"...).

    Returns
    -------
    geopandas.GeoDataFrame
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


def read_table_rows(source, *, sheet=None, what: str = "table") -> tuple[list[list], dict]:
    """Read every row of a CSV or XLSX table as plain Python values, title rows included.

    Commune spreadsheets carry title rows above the header, so the caller finds its own
    header row. CSV bytes are decoded with :func:`ntmgis.text.decode_bytes` (UTF-8 with or
    without BOM, cp1258, TCVN3, VNI); text is returned in NFC. A pandas DataFrame is
    returned as its header row followed by its rows.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        A ``.csv``/``.txt`` or ``.xlsx``/``.xlsm`` file, or a DataFrame.
    sheet : str or int, optional
        XLSX sheet name or 0-based index; the first sheet by default.
    what : str, default "table"
        What the file is, for messages.

    Returns
    -------
    rows : list of list
        The cell values, one list per row (ragged rows are kept as they are).
    info : dict
        ``path`` (or None), ``sheet`` (name or None), ``encoding`` (CSV) and
        ``number_formats``: for XLSX one list per row of the cells' number formats (so a
        caller can tell a percent cell), None otherwise.
    """
    import csv
    import io
    import unicodedata

    import pandas as pd

    from .text import decode_bytes

    if isinstance(source, pd.DataFrame):
        rows = [list(source.columns)] + source.astype(object).values.tolist()
        return rows, {"path": None, "sheet": None, "encoding": None, "number_formats": None}
    path = as_path(source, what=what)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        import openpyxl

        try:
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # zip/XML errors: name the file
            raise InputError(
                f"Cannot read {what} '{path}' as an Excel workbook: {exc}. Save it again as "
                f".xlsx from Excel or LibreOffice."
            ) from exc
        try:
            names = book.sheetnames
            if sheet is None:
                name = names[0]
            elif isinstance(sheet, int):
                if not 0 <= sheet < len(names):
                    raise _missing_sheet(path, sheet, names)
                name = names[sheet]
            else:
                wanted = unicodedata.normalize("NFC", str(sheet)).strip().casefold()
                hits = [n for n in names if unicodedata.normalize("NFC", n).casefold() == wanted]
                if not hits:
                    raise _missing_sheet(path, sheet, names)
                name = hits[0]
            rows, formats = [], []
            for row in book[name].iter_rows():
                values = [getattr(cell, "value", None) for cell in row]
                rows.append([unicodedata.normalize("NFC", v) if isinstance(v, str) else v
                             for v in values])  # fmt: skip
                formats.append([getattr(cell, "number_format", None) for cell in row])
        finally:
            book.close()
        return rows, {"path": path, "sheet": name, "encoding": None, "number_formats": formats}
    if suffix in (".xls", ".ods"):
        raise InputError(
            f"{what.capitalize()} '{path}' is in the old {suffix} format: save it as .xlsx "
            f"(Excel workbook) or .csv (CSV UTF-8) and try again."
        )
    text, encoding = decode_bytes(path.read_bytes())
    delimiter = _guess_delimiter(text)
    rows = [list(r) for r in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return rows, {"path": path, "sheet": None, "encoding": encoding, "number_formats": None}


def _guess_delimiter(text: str) -> str:
    """The delimiter (",", ";" or tab) that splits most lines into one same number of fields.

    Excel saves ";"-separated CSV under locales whose decimal mark is a comma, and values
    such as "55,5" fool ``csv.Sniffer``; title rows above the header have one field.
    """
    import csv
    import io
    from collections import Counter

    lines = text.splitlines()[:200]
    best, best_score = ",", -1
    for delimiter in (",", ";", "\t"):
        widths = Counter(
            len(row) for row in csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
        )
        widths = {w: n for w, n in widths.items() if w > 1}
        score = max(widths.values(), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _missing_sheet(path, sheet, names):
    from .errors import SchemaError

    return SchemaError(
        f"Sheet '{sheet}' not found in '{path}'. Sheets there: {', '.join(map(str, names))}."
    )
