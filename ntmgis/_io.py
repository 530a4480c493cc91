"""The one I/O layer: readers for every input format, atomic writers for every output.

Readers accept a path (``str`` or ``os.PathLike``) or an in-memory object and turn every
dependency error into an :class:`~ntmgis.errors.NtmgisError` naming the file (and row)
and what to do:

- :func:`read_vector` (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, DXF, a GeoDataFrame),
  :func:`read_aoi` (an area of interest as one valid geometry);
- :func:`open_raster` (a path, a URL, an open dataset);
- :func:`read_grid` / :func:`read_table_rows` (CSV and XLSX with one delimiter,
  encoding and sheet logic, used by the survey and the targets readers alike).

Writers go through :func:`atomic_path` (a temporary file beside the target, renamed into
place only when complete), so a crash or a cancel never leaves a half-written file:

- :func:`write_gpkg` (GeoPackage 1.2, which QGIS 3.22 opens without a warning);
- :func:`write_csv` and :func:`write_xlsx` / :func:`set_cell` (spreadsheet cells are
  never formulas: text beginning with ``= + - @``, a tab or a carriage return is escaped
  as OWASP recommends, control characters are replaced, numbers stay numbers);
- COG (:func:`ntmgis.indices.write_cog`) and QML (:func:`ntmgis.styles.write_qml`) use
  :func:`atomic_path` too.

A run's outputs are published together (:class:`RunOutputs`): written into a hidden
staging folder, then moved into the output folder in one step under a lock that refuses
a second run into the same folder; a killed run leaves the previous set untouched and
its staging folder is removed by the next run.
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import datetime as _dt
import errno
import functools
import json
import logging
import math
import os
import re
import shutil
import socket
import tempfile
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from ._gc import collector_paused
from .errors import (
    DataNotFoundError,
    GeometryError,
    ImageryError,
    InputError,
    NtmgisError,
    OutputError,
    SchemaError,
)

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike

#: Marks the temporary files of :func:`atomic_path` (``.<stem>.ntmgis-tmp-XXXX<suffix>``).
TMP_MARK = ".ntmgis-tmp-"
#: Prefix of a run's staging folder inside the output folder.
STAGING_PREFIX = ".ntmgis-staging-"
#: The lock file of a run's output folder where the folder itself cannot be locked (Windows).
LOCK_NAME = ".ntmgis.lock"
#: The manifest of the last published run (run id, files).
MANIFEST_NAME = ".ntmgis-run.json"
#: The id of the run whose outputs are being written (set by :class:`RunOutputs`).
CURRENT_RUN: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "ntmgis_run_id", default=None
)

# --------------------------------------------------------------------------------------
# Output paths: atomic files, clear errors
# --------------------------------------------------------------------------------------

# What people read from this layer, Vietnamese first (ntmgis.i18n's catalogue).
_MESSAGES = {
    "io.cannot_write": (
        "Không ghi được {what} '{path}' ({detail}): {advice}.",
        "Cannot write {what} '{path}' ({detail}): {advice}.",
    ),
    "io.advice.permission": (
        "không có quyền ghi vào đó: chọn thư mục khác hoặc sửa quyền truy cập",
        "you may not write there: choose another folder or fix its permissions",
    ),
    "io.advice.file_in_the_way": (
        "có một tệp nằm ở chỗ cần thư mục: xóa tệp đó hoặc chọn đường dẫn khác",
        "a file stands where a folder is needed: remove it or choose another path",
    ),
    "io.advice.not_a_folder": (
        "một phần của đường dẫn là tệp, không phải thư mục: chọn đường dẫn khác",
        "part of the path is a file, not a folder: choose another path",
    ),
    "io.advice.is_a_folder": (
        "ở chỗ cần tệp lại là một thư mục: hãy đặt tên tệp",
        "a folder stands where the file should go: give a file name",
    ),
    "io.advice.disk_full": (
        "ổ đĩa đã đầy: giải phóng dung lượng hoặc chọn ổ khác",
        "the disk is full: free some space or choose another drive",
    ),
    "io.advice.read_only": (
        "ổ đĩa chỉ đọc: chọn thư mục khác",
        "the drive is read-only: choose another folder",
    ),
    "io.advice.other": (
        "kiểm tra thư mục có tồn tại và ghi được không",
        "check that the folder exists and can be written",
    ),
    "io.run_busy": (
        "Một lần chạy ntmgis khác đang ghi vào '{folder}' ({holder}). Hãy đợi nó xong, hoặc "
        "chọn thư mục kết quả khác.",
        "Another ntmgis run is writing into '{folder}' ({holder}). Wait for it to finish, or "
        "choose another output folder.",
    ),
    "io.table_empty": (
        "Tệp '{path}' ({what}) trống: hãy xuất lại tệp.",
        "{What} '{path}' is empty: export it again.",
    ),
    "io.not_text": (
        "Tệp '{path}' ({what}) không phải tệp văn bản (CSV): hãy lưu dạng CSV (UTF-8) hoặc XLSX.",
        "{What} '{path}' is not a text (CSV) file. Save it as CSV (UTF-8) or XLSX.",
    ),
    "io.cell_too_long": (
        "Tệp '{path}' ({what}), dòng {line}: một ô dài hơn {limit} ký tự (thiếu dấu ngoặc kép "
        "đóng, hoặc không phải bảng). Kiểm tra dấu ngoặc kép ở dòng đó rồi xuất lại bảng.",
        "{What} '{path}', line {line}: a cell longer than {limit} characters (an unclosed "
        "quote mark, or not a table). Check that line's quotes and export the table again.",
    ),
    "io.old_format": (
        "Tệp '{path}' ({what}) là định dạng cũ {kind} {suffix}: hãy lưu lại thành .xlsx "
        "(Excel) hoặc .csv (CSV UTF-8) rồi thử lại.",
        "{What} '{path}' is an old {kind} {suffix} file: save it as .xlsx (Excel workbook) "
        "or .csv (CSV UTF-8) and try again.",
    ),
    "io.other_workbook": (
        "Tệp '{path}' ({what}) là bảng tính {kind} {suffix}, ntmgis chưa đọc được: hãy lưu "
        "lại thành .xlsx (Excel) hoặc .csv (CSV UTF-8) rồi thử lại.",
        "{What} '{path}' is a {kind} {suffix} workbook, which ntmgis does not read: save it "
        "as .xlsx (Excel workbook) or .csv (CSV UTF-8) and try again.",
    ),
    "io.not_found": (
        "Không tìm thấy {what} '{path}'. Kiểm tra đường dẫn (và thư mục làm việc, '{cwd}').",
        "{What} not found: '{path}'. Check the path (and the working folder, '{cwd}').",
    ),
    "io.not_found_short": (
        "Không tìm thấy {what} '{path}': kiểm tra đường dẫn.",
        "{What} not found: '{path}'.",
    ),
    "io.no_layer": (
        "Không có lớp '{layer}' trong '{path}'. Các lớp có: {names}. Chọn một lớp trong đó.",
        "Layer '{layer}' not found in '{path}'. Layers there: {names}.",
    ),
    "io.cannot_read_vector": (
        "Không đọc được {what} '{path}' ({detail}). Tệp có đầy đủ không, và có phải định "
        "dạng GDAL đọc được (GeoPackage, Shapefile, GeoJSON, FlatGeobuf) không?",
        "Cannot read {what} '{path}': {detail}. Is it complete and in a format GDAL reads "
        "(GeoPackage, Shapefile, GeoJSON, FlatGeobuf)?",
    ),
    "io.no_geometry": (
        "{Where} không có hình: hãy vẽ một vùng (polygon).",
        "{Where} has no geometry: draw a polygon.",
    ),
    "io.bad_polygon": (
        "{Where} không dùng được như một vùng ({detail}). Sửa hình trong QGIS (Vector > "
        "Geometry Tools > Fix Geometries) rồi thử lại.",
        "{Where} is not a usable polygon ({detail}). Repair it in QGIS (Vector > Geometry "
        "Tools > Fix Geometries) and try again.",
    ),
    "io.no_area": (
        "{Where} không còn diện tích sau khi sửa (hình rỗng, bị co lại hoặc là đường): "
        "hãy chọn một lớp vùng (polygon).",
        "{Where} has no area after repair (an empty, collapsed or line geometry): give a "
        "polygon layer.",
    ),
    "io.aoi_empty": (
        "{Where} không có hình nào: hãy chọn một lớp vùng (polygon).",
        "{Where} holds no geometry: give a polygon layer.",
    ),
    "io.aoi_unusable": (
        "{Where} không có vùng nào dùng được (đều rỗng, là đường hoặc bị hỏng): hãy chọn "
        "một lớp vùng, hoặc sửa nó trong QGIS (Fix Geometries).",
        "{Where} has no usable polygon (all empty, lines or broken): give a polygon layer, "
        "or repair it in QGIS (Fix Geometries).",
    ),
    "io.aoi": ("vùng quan tâm '{name}'", "the area of interest '{name}'"),
    "io.aoi_plain": ("vùng quan tâm", "the area of interest"),
    "io.cannot_open_raster": (
        "Không mở được {what} '{path}' ({detail}). Tệp có thể bị cắt dở, đang tải, hoặc không "
        "phải GeoTIFF: hãy tải lại hoặc xóa tệp đó.",
        "Cannot open {what} '{path}': {detail}. The file may be truncated, still "
        "downloading, or not a GeoTIFF: download it again or remove it.",
    ),
    "io.cannot_read_pixels": (
        "Không đọc được điểm ảnh của '{path}' ({detail}). Tệp bị cắt dở hoặc hỏng: hãy tải "
        "lại hoặc xóa tệp đó.",
        "Cannot read the pixels of '{path}': {detail}. The file is truncated or corrupt: "
        "download it again or remove it.",
    ),
    "io.cannot_decode": (
        "Tệp '{path}' ({what}) không giải mã được theo {encoding} ({detail}): hãy bỏ chọn "
        "bảng mã để tự nhận biết, hoặc lưu tệp dạng CSV UTF-8.",
        "{What} '{path}' cannot be decoded as {encoding}: {detail}. Leave the encoding out "
        "to detect it, or save the file as CSV UTF-8.",
    ),
    "io.csv_broken": (
        "Tệp '{path}' ({what}) bị hỏng gần dòng {line} ({detail}). Tệp có bị cắt dở không? "
        "Hãy xuất lại.",
        "{What} '{path}' is broken near line {line}: {detail}. Is it truncated? Export it again.",
    ),
    "io.cannot_read": (
        "Không đọc được {what} '{path}' ({detail}): kiểm tra đó là tệp bạn có quyền đọc, "
        "và không bị chương trình khác mở.",
        "Cannot read {what} '{path}' ({detail}): check that it is a file you may read, and "
        "not open elsewhere.",
    ),
    "io.not_xlsx": (
        "Không đọc được {what} '{path}' như một bảng tính Excel ({detail}). Tệp có thể bị cắt "
        "dở hoặc không phải XLSX: mở bằng Excel hoặc LibreOffice rồi lưu lại dạng .xlsx.",
        "Cannot read {what} '{path}' as an Excel workbook ({detail}). The file may be "
        "truncated or not an XLSX file: open it in Excel or LibreOffice and save it again "
        "as .xlsx.",
    ),
    "io.sheet_damaged": (
        "Không đọc được {what} '{path}': một trang tính bị hỏng ({detail}). Mở bằng Excel "
        "hoặc LibreOffice rồi lưu lại dạng .xlsx.",
        "Cannot read {what} '{path}': a sheet is damaged ({detail}). Open it in Excel or "
        "LibreOffice and save it again as .xlsx.",
    ),
    "io.uncached_formulas": (
        "{What} '{path}', trang tính '{sheet}': {count} ô công thức chưa có giá trị đã tính "
        "({cells}) nên được đọc là ô trống. Tệp được lưu bởi một chương trình không tính công "
        "thức: mở tệp bằng Excel hoặc LibreOffice, lưu lại rồi chạy lại.",
        "{What} '{path}', sheet '{sheet}': {count} formula cell(s) hold no computed value "
        "({cells}) and are read as empty. The file was saved by a program that does not "
        "compute formulas: open it in Excel or LibreOffice, save it again and run again.",
    ),
    "io.no_sheet": (
        "Không có trang tính '{sheet}' trong '{path}'. Các trang có: {names}. Chọn một trang "
        "trong đó (hoặc đổi tên trang trong tệp).",
        "Sheet '{sheet}' not found in '{path}'. Sheets there: {names}. Pass sheet='...' "
        "with one of them.",
    ),
    "io.cannot_write_layer": (
        "Không ghi được lớp '{layer}' của GeoPackage '{path}' ({detail}). Kiểm tra dung lượng "
        "ổ đĩa và không có chương trình nào khác đang mở tệp.",
        "Cannot write layer '{layer}' of the GeoPackage '{path}': {detail}. Check the disk "
        "space and that no other program holds the file.",
    ),
    "io.not_utf8": (
        "Tệp '{path}' ({what}) không phải văn bản UTF-8 (byte {byte}): hãy lưu lại dạng UTF-8 "
        "(Notepad: Save as, Encoding UTF-8).",
        "{What} '{path}' is not UTF-8 text (byte {byte}): save it as UTF-8 (in Notepad: Save "
        "as, Encoding UTF-8).",
    ),
}


#: what a file is (the ``what`` of the readers and writers), said in each language
_WHAT = {
    "file": ("tệp", "file"),
    "table": ("bảng", "table"),
    "output": ("tệp kết quả", "output"),
    "CSV file": ("tệp CSV", "CSV file"),
    "DXF file": ("tệp DXF", "DXF file"),
    "GeoPackage": ("GeoPackage", "GeoPackage"),
    "Cloud-Optimised GeoTIFF": ("Cloud-Optimised GeoTIFF", "Cloud-Optimised GeoTIFF"),
    "QField survey": ("khảo sát QField", "QField survey"),
    "QGIS style": ("kiểu hiển thị QGIS", "QGIS style"),
    "area of interest": ("vùng cần xét", "area of interest"),
    "baseline result": ("kết quả lần chạy gốc", "baseline result"),
    "codebook": ("bộ mã", "codebook"),
    "config": ("tệp cấu hình", "config"),
    "follow-up result": ("kết quả lần theo dõi", "follow-up result"),
    "hamlets": ("lớp ranh giới thôn", "hamlets"),
    "imagery": ("ảnh vệ tinh", "imagery"),
    "parcel file": ("tệp thửa đất", "parcel file"),
    "parcels file": ("tệp thửa đất", "parcels file"),
    "parcels": ("lớp thửa đất", "parcels"),
    "province config": ("tệp cấu hình tỉnh", "province config"),
    "reference": ("tệp đối chiếu", "reference"),
    "renovation plan": ("kế hoạch cải tạo", "renovation plan"),
    "result": ("kết quả", "result"),
    "result GeoPackage": ("GeoPackage kết quả", "result GeoPackage"),
    "rules file": ("tệp quy tắc", "rules file"),
    "run manifest": ("bảng kê lần chạy", "run manifest"),
    "scene source": ("nguồn ảnh", "scene source"),
    "survey file": ("tệp khảo sát", "survey file"),
    "targets table": ("bảng chỉ tiêu", "targets table"),
    "workbook": ("bảng tính", "workbook"),
}


def _register_messages() -> None:
    from .i18n import register_all

    register_all(_MESSAGES)
    register_all({f"io.what.{k}": v for k, v in _WHAT.items()})


def _whats(what) -> dict:
    """The ``what`` and ``What`` (capitalised) fields of a message about a file."""
    return {"what": _what(what), "What": _what(what, capital=True)}


def _what(what, capital: bool = False):
    """``what`` said in the language of the message it fills (as it is when unknown).

    >>> from ntmgis import i18n
    >>> i18n.message("io.not_found_short", lang="vi", what=_what("survey file"),
    ...              What=_what("survey file", capital=True), path="a.xlsx")
    "Không tìm thấy tệp khảo sát 'a.xlsx': kiểm tra đường dẫn."
    >>> i18n.message("io.not_found_short", lang="en", what=_what("survey file"),
    ...              What=_what("survey file", capital=True), path="a.xlsx")
    "Survey file not found: 'a.xlsx'."
    """
    from .i18n import Text

    if not isinstance(what, str) or what not in _WHAT:
        return what.capitalize() if capital and isinstance(what, str) else what
    text = Text(f"io.what.{what}")
    return text.capitalized() if capital else text


_register_messages()


def say(key: str, /, **fields) -> str:
    """A catalogue sentence in the chosen language, then the other one in parentheses.

    Vietnamese users read the first part; an English log, a test or a support forum the
    second. Fields ending in ``_key`` are catalogue keys, said in the same language
    (:func:`ntmgis.i18n.say`).
    """
    from .i18n import say as _say

    return _say(key, **fields)


_OS_ADVICE = {
    PermissionError: "io.advice.permission",
    FileExistsError: "io.advice.file_in_the_way",
    NotADirectoryError: "io.advice.not_a_folder",
    IsADirectoryError: "io.advice.is_a_folder",
}


def _os_message(exc: OSError, path, what: str) -> str:
    advice = next((a for t, a in _OS_ADVICE.items() if isinstance(exc, t)), None)
    if advice is None and getattr(exc, "errno", None) == errno.ENOSPC:
        advice = "io.advice.disk_full"
    if advice is None and getattr(exc, "errno", None) == errno.EROFS:
        advice = "io.advice.read_only"
    detail = exc.strerror or type(exc).__name__
    return say("io.cannot_write", what=_what(what), path=path, detail=detail,
               advice_key=advice or "io.advice.other")  # fmt: skip


@contextlib.contextmanager
def output_errors(path: PathLike, what: str = "output") -> Iterator[None]:
    """Turn an :class:`OSError` raised while writing ``path`` into an OutputError.

    PermissionError, FileExistsError, NotADirectoryError, IsADirectoryError, a full or
    read-only disk: the message names the path and what to do. NtmgisErrors pass.
    """
    try:
        yield
    except NtmgisError:
        raise
    except OSError as exc:
        raise OutputError(_os_message(exc, path, what)) from exc


def _make_dir(folder: Path, what: str) -> None:
    with output_errors(folder, f"{what} folder"):
        if folder.exists() and not folder.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(folder))
        folder.mkdir(parents=True, exist_ok=True)


@contextlib.contextmanager
def atomic_path(path: PathLike, *, what: str = "output file") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; move it onto ``path`` when the block succeeds.

    The temporary file does not exist yet when the block starts (writers that refuse an
    existing file, such as GDAL's GeoPackage driver, create it). On any error, including
    a cancel, it is removed and ``path`` is left as it was. OS errors (permissions, a
    file in the way, a full disk) become :class:`~ntmgis.errors.OutputError`.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(_os_message(IsADirectoryError(errno.EISDIR, "is a folder"), path, what))
    _make_dir(path.parent, what)
    with output_errors(path, what):
        fd, name = tempfile.mkstemp(
            prefix=f".{path.stem}{TMP_MARK}", suffix=path.suffix, dir=path.parent
        )
        os.close(fd)
    tmp = Path(name)
    tmp.unlink()
    try:
        with output_errors(path, what):
            yield tmp
            os.replace(tmp, path)
        logger.debug("wrote %s", path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise


def check_writable(folder: PathLike, *, what: str = "output") -> Path:
    """Create ``folder`` if needed and check that a file can be written there.

    Called before any work, so that an unwritable output folder is found in a second,
    not after an hour of computing.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    OutputError
        The folder cannot be created or written (the message says why and what to do).
    """
    folder = Path(folder).expanduser()
    _make_dir(folder, what)
    with output_errors(folder, f"{what} folder"):
        fd, name = tempfile.mkstemp(prefix=f".probe{TMP_MARK}", dir=folder)
        os.close(fd)
        os.unlink(name)
    return folder


def clean_temporaries(folder: PathLike, *, older_than: float = 3600.0) -> list[Path]:
    """Remove this library's temporary files left in ``folder`` by a killed process.

    Only files carrying :data:`TMP_MARK` and older than ``older_than`` seconds are
    removed (a younger one may belong to a writer still at work).

    Returns
    -------
    list of pathlib.Path
        The files removed.
    """
    folder = Path(folder)
    removed = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for entry in folder.iterdir():
        if TMP_MARK not in entry.name or not entry.name.startswith("."):
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime >= older_than:
                shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
                removed.append(entry)
    return removed


# --------------------------------------------------------------------------------------
# Inputs: paths, vectors, areas of interest, rasters
# --------------------------------------------------------------------------------------


def as_path(source: PathLike, *, what: str = "file") -> Path:
    """Return ``source`` as an existing :class:`Path`, or raise DataNotFoundError."""
    path = Path(source).expanduser()
    if not path.exists():
        raise DataNotFoundError(
            say(
                "io.not_found",
                **_whats(what),
                path=path,
                cwd=Path.cwd(),
            )
        )
    return path


def read_text(path: PathLike, *, what: str = "file") -> str:
    """The text of a TOML/JSON/text file: UTF-8 (with or without BOM) or UTF-16 (BOM).

    TOML must be UTF-8; Notepad and Excel also save UTF-8 with a BOM or UTF-16, so those
    are read too. Anything else is a ConfigError naming the file and what to do.
    """
    from .errors import ConfigError

    path = Path(path)
    with _input_errors(path, what):
        data = path.read_bytes()
    try:
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            say(
                "io.not_utf8",
                **_whats(what),
                path=path,
                byte=exc.start,
            )
        ) from None


def read_vector(source, *, layer: str | None = None, what: str = "vector file", **kwargs):
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
    **kwargs
        Passed to :func:`geopandas.read_file` (e.g. ``encoding``).

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
                raise SchemaError(
                    say("io.no_layer", layer=layer, path=path, names=", ".join(names))
                )
        return gpd.read_file(path, layer=layer, **kwargs)
    except (DataNotFoundError, InputError):
        raise
    except Exception as exc:  # GDAL/pyogrio errors: name the file and what to do
        raise InputError(
            say("io.cannot_read_vector", what=_what(what), path=path, detail=exc)
        ) from exc


def _where(where) -> dict:
    """``where`` and ``Where`` (capitalised) fields; a catalogue Text stays one."""
    text = where[:1].upper() + where[1:] if isinstance(where, str) else where.capitalized()
    return {"where": where, "Where": text}


def valid_geometry(geometry, *, where=None):
    """``geometry`` made valid (self-intersections repaired), or a GeometryError.

    A bow-tie or a ring drawn twice would make GEOS raise deep inside an overlay; the
    repaired polygon covers what was drawn. Empty or non-areal results are errors; their
    message names ``where`` (default: the area of interest).
    """
    import shapely

    from .i18n import Text

    where = Text("io.aoi_plain") if where is None else where
    if geometry is None:
        raise GeometryError(say("io.no_geometry", **_where(where)))
    try:
        if not shapely.is_valid(geometry):
            geometry = shapely.make_valid(geometry)
        # keep the areal part only (make_valid may add lines or points)
        parts = [g for g in shapely.get_parts(geometry) if g.geom_type.endswith("Polygon")]
        geometry = shapely.union_all(parts) if parts else None
    except shapely.errors.GEOSException as exc:
        raise GeometryError(say("io.bad_polygon", detail=exc, **_where(where))) from None
    if geometry is None or geometry.is_empty or geometry.area == 0:
        raise GeometryError(say("io.no_area", **_where(where)))
    return geometry


def read_aoi(source, *, layer: str | None = None, crs=None):
    """An area of interest as one valid (multi)polygon and its CRS.

    Parameters
    ----------
    source : path, GeoDataFrame, GeoSeries, shapely geometry or (minx, miny, maxx, maxy)
        The area: every feature of a file or frame is merged (their union, so parcels far
        from each other do not make one bounding box that misses nothing and everything).
    layer : str, optional
        Layer of a multi-layer file.
    crs : optional
        The CRS of a bare geometry or bounds (ignored for files and frames).

    Returns
    -------
    geometry : shapely geometry
        Valid, areal, non-empty.
    crs : pyproj.CRS or None
    """
    import geopandas as gpd
    import shapely
    from shapely.geometry import box

    if isinstance(source, tuple | list) and len(source) == 4:
        return valid_geometry(box(*map(float, source))), crs
    if isinstance(source, shapely.Geometry):
        return valid_geometry(source), crs
    if isinstance(source, gpd.GeoSeries):
        frame = gpd.GeoDataFrame(geometry=source)
    else:
        frame = read_vector(source, layer=layer, what="area of interest")
    from .i18n import Text

    where = Text("io.aoi", name=source if isinstance(source, str | Path) else "frame")
    geoms = [g for g in frame.geometry if g is not None and not g.is_empty]
    if not geoms:
        raise GeometryError(say("io.aoi_empty", **_where(where)))
    parts = []
    for g in geoms:
        try:
            parts.append(valid_geometry(g, where=where))
        except GeometryError:
            continue  # one broken or line feature does not cost the area
    if not parts:
        raise GeometryError(say("io.aoi_unusable", **_where(where)))
    return valid_geometry(shapely.union_all(parts), where=where), frame.crs


@contextlib.contextmanager
def open_raster(source, *, what: str = "raster") -> Iterator:
    """Yield an open rasterio dataset for a path, a URL or an already open dataset.

    A dataset opened here is closed on exit; one passed in is left open. A missing file
    is a DataNotFoundError; a truncated or foreign file an ImageryError naming it.
    """
    import rasterio

    if hasattr(source, "read") and hasattr(source, "transform"):
        yield source
        return
    text = str(source)
    if re.match(r"^(https?|s3|gs|az)://|^/vsi", text):
        name = text if text.startswith("/vsi") else text
        if text.startswith(("http://", "https://")):
            name = "/vsicurl/" + text
    else:
        name = as_path(source, what=what)
    try:
        dataset = rasterio.open(name)
    except rasterio.errors.RasterioIOError as exc:
        raise ImageryError(
            say("io.cannot_open_raster", what=_what(what), path=text, detail=exc)
        ) from exc
    with dataset:
        yield dataset


def read_raster_window(dataset, *, window=None, indexes=None, what: str | None = None, **kw):
    """``dataset.read(...)``, with a truncated or corrupt block as an ImageryError."""
    import rasterio

    try:
        return dataset.read(indexes, window=window, **kw)
    except (rasterio.errors.RasterioIOError, rasterio.errors.RasterioError) as exc:
        name = what or getattr(dataset, "name", "raster")
        raise ImageryError(say("io.cannot_read_pixels", path=name, detail=exc)) from exc


# --------------------------------------------------------------------------------------
# Tables: CSV and XLSX, one logic for the survey and the targets
# --------------------------------------------------------------------------------------

#: Longest CSV cell read (Python's csv default): a longer one is a broken file.
CSV_FIELD_LIMIT = 131_072


def read_grid(
    source,
    *,
    sheet=None,
    encoding: str | None = None,
    what: str = "table",
    choose: Callable[[list], bool] | None = None,
    chosen_others: bool = False,
) -> tuple[list[list], list[int], dict]:
    """Read every row of a CSV or XLSX table as plain Python values, title rows included.

    Commune spreadsheets carry title rows above the header, so the caller finds its own
    header row. CSV bytes are decoded with :func:`ntmgis.text.decode_bytes` (UTF-8 with or
    without BOM, UTF-16, cp1258, TCVN3, VNI) and split on the delimiter (``,``, ``;``,
    tab or ``|``) that gives most lines one same number of fields; text is NFC.

    Parameters
    ----------
    source : str, os.PathLike or pandas.DataFrame
        A ``.csv``/``.txt`` or ``.xlsx``/``.xlsm`` file, or a DataFrame (its header row
        followed by its rows).
    sheet : str or int, optional
        XLSX sheet name (case and diacritics aside) or 0-based index.
    encoding : str, optional
        A CSV's codec, instead of detecting it.
    what : str
        What the file is, for messages ("survey file", "targets table").
    choose : callable, optional
        Without ``sheet``: ``choose(rows)`` picks the first sheet it accepts (e.g. the one
        with a header row); the first sheet when none is accepted.
    chosen_others : bool
        With ``choose`` and no ``sheet``: also read, in the same pass over the workbook,
        the sheets after the one chosen, and give the rows of each that ``choose``
        accepts too as ``info["chosen_others"]`` (sheet name -> rows), e.g. to say that
        a survey kept one sheet per hamlet.

    Returns
    -------
    rows : list of list
        The cell values, one list per row (ragged rows are kept as they are).
    numbers : list of int
        The file's line (CSV, where quoted cells may span lines) or row (XLSX) number
        of each row, 1-based, for messages.
    info : dict
        ``path`` (or None), ``sheet`` (name or None), ``encoding`` (CSV) and
        ``number_formats``: for XLSX one list per row of the cells' number formats (so a
        caller can tell a percent cell), None otherwise; ``chosen_others`` when asked.

    Raises
    ------
    DataNotFoundError
        No such file.
    InputError
        Empty, truncated, binary or old-format (.xls, .ods) files; a CSV cell longer than
        :data:`CSV_FIELD_LIMIT` characters.
    SchemaError
        No such sheet.
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        rows = [list(source.columns)] + source.astype(object).values.tolist()
        info = {"path": None, "sheet": None, "encoding": None, "number_formats": None}
        return rows, list(range(1, len(rows) + 1)), info
    path = as_path(source, what=what)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet, what, choose, chosen_others)
    if suffix in _OTHER_WORKBOOKS:
        kind = _OTHER_WORKBOOKS[suffix]
        key = "io.old_format" if suffix == ".xls" else "io.other_workbook"
        raise InputError(say(key, **_whats(what), path=path, kind=kind, suffix=suffix))
    return _read_csv(path, encoding, what)


#: workbooks ntmgis does not read: said so, with what to save them as (not read as CSV)
_OTHER_WORKBOOKS = {".xls": "Excel 97-2003", ".ods": "OpenDocument (LibreOffice Calc)",
                    ".xlsb": "Excel Binary", ".numbers": "Apple Numbers"}  # fmt: skip


def read_table_rows(source, *, sheet=None, what: str = "table") -> tuple[list[list], dict]:
    """:func:`read_grid` without the row numbers (the targets reader's form)."""
    rows, _, info = read_grid(source, sheet=sheet, what=what)
    return rows, info


def _read_csv(path: Path, encoding: str | None, what: str):
    import csv
    import io

    from .text import decode_bytes

    with _input_errors(path, what):
        data = path.read_bytes()
    if not data.strip():
        raise InputError(say("io.table_empty", **_whats(what), path=path))
    try:
        text, used = decode_bytes(data, encoding=encoding)
    except (LookupError, UnicodeError) as exc:
        raise InputError(say("io.cannot_decode", **_whats(what), path=path,
                             encoding=encoding, detail=exc)) from None  # fmt: skip
    if "\x00" in text[:4096]:
        raise InputError(say("io.not_text", **_whats(what), path=path))
    delimiter = guess_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, numbers, last = [], [], 0
    try:
        for row in reader:
            rows.append(row)
            numbers.append(last + 1)
            last = reader.line_num
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(
                say(
                    "io.cell_too_long",
                    **_whats(what),
                    path=path,
                    line=last + 1,
                    limit=f"{CSV_FIELD_LIMIT:,}",
                )  # fmt: skip
            ) from None
        raise InputError(say("io.csv_broken", **_whats(what), path=path,
                             line=last + 1, detail=exc)) from None  # fmt: skip
    return rows, numbers, {"path": path, "sheet": None, "encoding": used, "number_formats": None}


def guess_delimiter(text: str) -> str:
    """The delimiter (``,``, ``;``, tab or ``|``) that splits most lines alike.

    The score of a delimiter is how many of the first 200 lines share one number of
    fields above one (ties: more fields). Excel saves ``;``-separated CSV under locales
    whose decimal mark is a comma, and values such as "55,5" fool ``csv.Sniffer``;
    title rows above the header have one field.

    Examples
    --------
    >>> guess_delimiter("Thôn;Chỉ tiêu\\nXóm 1;55,5\\nXóm 2;60,5\\n")
    ';'
    >>> guess_delimiter("a,b,c\\n1,2,3\\n")
    ','
    """
    import csv
    import io
    from collections import Counter

    sample = "\n".join(text.splitlines()[:200])
    best, best_score = ",", (-1, -1)
    for delimiter in (",", ";", "\t", "|"):
        try:
            widths = Counter(
                len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if any(r)
            )
        except csv.Error:
            continue
        widths = {w: n for w, n in widths.items() if w > 1}
        score = max(((n, w) for w, n in widths.items()), default=(0, 0))
        if score > best_score:
            best, best_score = delimiter, score
    return best


@contextlib.contextmanager
def _input_errors(path, what):
    try:
        yield
    except OSError as exc:
        if isinstance(exc, FileNotFoundError):
            raise DataNotFoundError(say("io.not_found_short", **_whats(what),
                                        path=path)) from None  # fmt: skip
        raise InputError(say("io.cannot_read", what=_what(what), path=path,
                             detail=exc.strerror or type(exc).__name__)) from None  # fmt: skip


def _read_xlsx(path: Path, sheet, what: str, choose, chosen_others: bool = False):
    import zipfile

    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl fails in its own ways (a chart sheet: AttributeError)
        if isinstance(exc, (MemoryError, RecursionError)):
            raise
        raise InputError(say("io.not_xlsx", what=_what(what), path=path,
                             detail=f"{type(exc).__name__}: {exc}")) from None  # fmt: skip
    try:
        names = list(book.sheetnames)
        if sheet is None:
            candidates = names
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise _missing_sheet(path, sheet, names)
            candidates = [names[sheet]]
        else:
            from .text import fold

            wanted = unicodedata.normalize("NFC", str(sheet)).strip()
            hits = [n for n in names if n == wanted] or [
                n for n in names if fold(n) == fold(wanted)
            ]
            if not hits:
                raise _missing_sheet(path, sheet, names)
            candidates = hits[:1]
        found, others = None, {}
        for name in candidates:
            rows, formats = _sheet_rows(book[name])
            if found is not None:  # chosen_others: a later sheet choose accepts too
                if choose(rows):
                    others[name] = rows
            elif sheet is not None or choose is None or choose(rows):
                found = (name, rows, formats)
                if not (chosen_others and sheet is None and choose is not None):
                    break
        if found is None:
            found = (names[0], *_sheet_rows(book[names[0]]))
        uncached = _uncached_formulas(book[found[0]])
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError, AttributeError,
            TypeError) as exc:  # fmt: skip
        if isinstance(exc, SchemaError):
            raise
        detail = str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"
        raise InputError(say("io.sheet_damaged", what=_what(what), path=path,
                             detail=detail)) from None  # fmt: skip
    finally:
        book.close()
    name, rows, formats = found
    _warn_uncached_formulas(path, name, uncached, what)
    info = {"path": path, "sheet": name, "encoding": None, "number_formats": formats}
    if chosen_others:
        info["chosen_others"] = others
    return rows, list(range(1, len(rows) + 1)), info


_CELL = re.compile(rb"<(?:\w+:)?c\b([^>/]*)>(.*?)</(?:\w+:)?c>", re.S)
_REF = re.compile(rb'\br="([A-Z]+[0-9]+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_VALUE = re.compile(rb"<(?:\w+:)?v>[^<]")


def _uncached_formulas(worksheet) -> list[str]:
    """The cells of a read-only worksheet that hold a formula but no computed value.

    A workbook saved by a program that writes formulas without computing them (openpyxl,
    some exporters) has no value for those cells: read for their values, as the survey
    and the targets are, they are empty. Excel and LibreOffice store the value. Returns
    the cell references (``"G12"``) in the sheet's order; none when the sheet's XML
    cannot be read this way.
    """
    try:
        with worksheet._get_source() as src:  # the sheet's XML, as openpyxl reads it
            data = src.read()
    except (AttributeError, KeyError, OSError, ValueError):
        return []
    if not _FORMULA.search(data):
        return []
    found = []
    for cell in _CELL.finditer(data):
        inner = cell.group(2)
        if _FORMULA.search(inner) and not _VALUE.search(inner):
            ref = _REF.search(cell.group(1))
            found.append(ref.group(1).decode() if ref else "?")
    return found


def _warn_uncached_formulas(path, sheet: str, cells: list, what: str) -> None:
    from .errors import NtmgisWarning, ProgressWarning, SurveyWarning, warn
    from .i18n import message

    if not cells:
        return
    shown = ", ".join(cells[:5]) + (", …" if len(cells) > 5 else "")
    category = {"survey file": SurveyWarning, "targets table": ProgressWarning}.get(
        what, NtmgisWarning
    )
    warn(message("io.uncached_formulas", **_whats(what), path=path, sheet=sheet,
                 count=len(cells), cells=shown),
         category, where=f"{path}!{sheet}", what="warning.io.uncached_formulas")  # fmt: skip


def _sheet_rows(worksheet):
    """The values and number formats of a read-only worksheet's cells, row by row.

    What openpyxl's ``worksheet.iter_rows()`` gives (``data_only``: formulas as their
    stored values) as ``[cell.value ...]`` and ``[cell.number_format ...]`` per row, text
    in NFC, read from the sheet's XML with openpyxl's own parser, shared strings, styles
    and date conversion, without an openpyxl cell object per cell (a commune's survey
    has some 20,000 cells: a fifth of the time). The rows are those openpyxl yields:
    from row 1 and column 1, missing rows and cells filled with None, cut to the
    sheet's stated dimension when it has one; but no wider than the last column holding
    a value (a styled empty cell in column XFD, or a dimension "A1:XFD2000", would make
    every row 16,384 cells). A cell whose shared string or style does not exist is an
    InputError naming the cell (openpyxl's is an IndexError).
    """
    with collector_paused():  # a list a row, a tuple a cell, no cycle: see ntmgis._gc
        return _sheet_rows_read(worksheet)


def _sheet_rows_read(worksheet):
    from openpyxl.xml.functions import iterparse

    book = worksheet.parent
    max_col, max_row = worksheet.max_column, worksheet.max_row
    read = _CellReader(book, worksheet._shared_strings)
    kept, idx, used = [], 1, 0  # kept: (row number, cells) in the sheet's order
    with worksheet._get_source() as src:
        for _event, element in iterparse(src):
            if element.tag != _ROW_TAG:
                continue
            idx, cells = read.row(element)
            element.clear()
            if max_row is not None and idx > max_row:
                break
            if len(kept) and idx <= kept[-1][0]:
                continue  # a row repeated or out of order: openpyxl keeps the first
            kept.append((idx, cells))
            used = max([used, *(c for c, v, _ in cells if v is not None)])
    width = used if max_col is None else min(max_col, used)
    rows, formats, counter = [], [], 1
    for idx, cells in kept:
        while counter < idx:  # rows the sheet leaves out
            counter += 1
            rows.append([None] * width if max_col is not None else [])
            formats.append([None] * width if max_col is not None else [])
        values, fmts = _placed(cells, max_col, width)
        rows.append(values)
        formats.append(fmts)
        counter += 1
    if max_row is not None and max_row < idx:
        for _ in range(counter, max_row + 1):
            rows.append([None] * width)
            formats.append([None] * width)
    return rows, formats


_MAIN_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
#: a sheet's rows and columns as Excel has them: a cell beyond is a damaged (or hostile)
#: sheet, not a billion empty rows to make
_MAX_ROWS, _MAX_COLUMNS = 1_048_576, 16_384
_ROW_TAG, _VALUE_TAG, _INLINE_TAG = f"{_MAIN_NS}row", f"{_MAIN_NS}v", f"{_MAIN_NS}is"


def _placed(cells: list, max_col, used: int):
    """One row's (values, formats), each cell at its column, as openpyxl places them.

    No wider than ``used``, the sheet's last column with a value.
    """
    if not cells and not max_col:
        return [], []
    width = min(max_col or cells[-1][0], used)
    values, fmts = [None] * width, [None] * width
    for column, value, fmt in cells:
        if 1 <= column <= width:
            if type(value) is str:
                value = unicodedata.normalize("NFC", value)
            values[column - 1] = value
            fmts[column - 1] = fmt
    return values, fmts


class _CellReader:
    """A workbook's cell values as openpyxl's ``WorkSheetParser`` reads them (data only)."""

    def __init__(self, book, strings):
        from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE

        self.strings = strings  # read-only: the reader's table, not the book's
        self.epoch = book.epoch
        self.date_styles = book._date_formats
        self.timedelta_styles = book._timedelta_formats
        self.styles = book._cell_styles
        self.custom = book._number_formats
        self.builtin, self.builtin_max = BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
        self.row_counter = 0
        self.columns: dict[str, int] = {}  # "AB" -> 28
        self.formats: dict[int, str] = {}  # style id -> number format

    def row(self, element):
        number = element.get("r")
        if number is not None:
            try:
                self.row_counter = int(number)
            except ValueError:
                value = float(number)
                if not value.is_integer():
                    raise InputError(f"row number {number!r} is not a whole number") from None
                self.row_counter = int(value)
        else:
            self.row_counter += 1
        if not 1 <= self.row_counter <= _MAX_ROWS:
            raise InputError(f"row number {self.row_counter} is outside a sheet's rows "
                             f"(1 to {_MAX_ROWS:,})")  # fmt: skip
        column = 0
        cells = []
        for cell in element:
            ref = cell.get("r")
            if ref:
                letters = ref.rstrip("0123456789")
                column = self.columns.get(letters)
                if column is None:
                    from openpyxl.utils.cell import coordinate_to_tuple

                    column = self.columns[letters] = coordinate_to_tuple(ref)[1]
            else:
                column += 1
            if column > _MAX_COLUMNS:
                raise InputError(f"cell {ref or column} is beyond a sheet's last column "
                                 f"({_MAX_COLUMNS:,}, XFD)")  # fmt: skip
            style = cell.get("s", 0)
            if style:
                style = int(style)
            try:
                cells.append((column, self.value(cell, style), self.number_format(style)))
            except IndexError:  # a shared string or a style the workbook does not have
                where = ref or f"row {self.row_counter}, cell {len(cells) + 1}"
                raise InputError(f"cell {where} refers to a shared string or a style "
                                 "the workbook does not have") from None  # fmt: skip
        return self.row_counter, cells

    def number_format(self, style: int) -> str:
        fmt = self.formats.get(style)
        if fmt is None:
            number = self.styles[style].numFmtId
            if number < self.builtin_max:
                fmt = self.builtin.get(number, "General")
            else:
                fmt = self.custom[number - self.builtin_max]
            self.formats[style] = fmt
        return fmt

    def value(self, cell, style: int):
        kind = cell.get("t", "n")
        if kind == "inlineStr":
            child = cell.find(_INLINE_TAG)
            return None if child is None else _inline_text(child)
        value = cell.findtext(_VALUE_TAG, None) or None
        if value is None:
            return None
        if kind == "n":
            number = float(value) if "." in value or "E" in value or "e" in value else int(value)
            if style in self.date_styles:
                from openpyxl.utils.datetime import from_excel

                try:
                    return from_excel(number, self.epoch,
                                      timedelta=style in self.timedelta_styles)  # fmt: skip
                except (OverflowError, ValueError):
                    return "#VALUE!"  # openpyxl's value for a date out of range
            return number
        if kind == "s":
            return self.strings[int(value)]
        if kind == "b":
            return bool(int(value))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(value)
        return value  # "str" (a formula's text), "e" (an error such as #N/A)


def _inline_text(element) -> str:
    """An inline string's text: its ``<t>`` and its runs' ``<t>``, as openpyxl joins them."""
    plain, runs = None, []
    for child in element:
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "t":
            plain = child.text
        elif tag == "r":
            text = None
            for part in child:
                if part.tag.rsplit("}", 1)[-1] == "t":
                    text = part.text
            if text is not None:
                runs.append(text)
    return ("" if plain is None else plain) + "".join(runs)


def _missing_sheet(path, sheet, names):
    return SchemaError(
        say("io.no_sheet", sheet=sheet, path=path, names=", ".join(repr(n) for n in names))
    )


# --------------------------------------------------------------------------------------
# Spreadsheet cells: never a formula, never an illegal character
# --------------------------------------------------------------------------------------

#: A text cell beginning with one of these could run as a formula (OWASP, CWE-1236).
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = DANGEROUS
# characters XML 1.0 (so XLSX) cannot hold; tab, LF and CR can
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def clean_control(value: str) -> str:
    r"""``value`` with the control characters a workbook cannot hold replaced by U+FFFD.

    Examples
    --------
    >>> clean_control("Nguy\x01ễn Văn A")
    'Nguy�ễn Văn A'
    """
    return _ILLEGAL.sub("\ufffd", value)


def escape_text(value: str) -> str:
    """Prefix an apostrophe to text that a spreadsheet would read as a formula.

    Parameters
    ----------
    value : str
        A text value.

    Returns
    -------
    str
        ``"'" + value`` when it begins with ``=``, ``+``, ``-``, ``@``, a tab or a
        carriage return; ``value`` otherwise.

    Examples
    --------
    >>> escape_text("=1+1")
    "'=1+1"
    >>> escape_text("Vườn tạp")
    'Vườn tạp'
    """
    return "'" + value if value.startswith(DANGEROUS) else value


def cell_value(value, *, booleans=("Có", "")):
    """A cell value as a plain ``str``/``int``/``float``/``None``.

    NaN, NA and NaT become None; numpy numbers Python numbers; dates ``dd/mm/yyyy``
    text (day first, as Vietnamese forms write them); booleans ``booleans[0]`` /
    ``booleans[1]``; text NFC with illegal control characters replaced (it is *not*
    escaped here: :func:`set_cell` and :func:`write_csv` do that).

    Examples
    --------
    >>> import numpy as np
    >>> cell_value(np.float32(-0.25)), cell_value(float("nan")), cell_value(np.int64(3))
    (-0.25, None, 3)
    """
    import numpy as np
    import pandas as pd

    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return booleans[0] if value else booleans[1]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return clean_control(unicodedata.normalize("NFC", value))
    if isinstance(value, _dt.date | pd.Timestamp):
        return value.strftime("%d/%m/%Y")
    return clean_control(str(value))


def set_cell(cell, value) -> None:
    """Set an openpyxl cell to a number or a text, never a formula.

    Text is stored as a string cell (openpyxl would make ``"=..."`` a formula) with
    Excel's quote prefix when it begins with a dangerous character, so it shows as typed
    and stays text when edited; illegal control characters are replaced.
    """
    value = cell_value(value)
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"
        if value.startswith(DANGEROUS):
            cell.quotePrefix = True


def csv_value(value, *, whole_as_int: bool = False):
    """A value for a CSV cell: text escaped (an apostrophe before a formula start),
    numbers as numbers (whole floats as integers with ``whole_as_int``)."""
    value = cell_value(value)
    if isinstance(value, str):
        return escape_text(value)
    if whole_as_int and isinstance(value, float) and value == int(value) and abs(value) < 1e15:
        return int(value)
    return value


def write_csv(
    path: PathLike,
    table,
    *,
    columns=None,
    bom: bool = True,
    whole_as_int: bool = True,
) -> Path:
    """Write a table as CSV atomically, every text cell escaped, numbers kept numbers.

    UTF-8 (with a BOM by default: what Excel's "CSV UTF-8" writes, so Excel opens
    Vietnamese text right) and CRLF line ends. Text cells (headers too) beginning with
    ``= + - @``, a tab or a carriage return get an apostrophe (OWASP); control characters
    are replaced.

    Parameters
    ----------
    path : str or os.PathLike
        The file; replaced when it exists, never left half-written.
    table : pandas.DataFrame or list of dict
        The rows.
    columns : list of str, optional
        Column order (for a list of dicts; missing keys are empty cells).
    bom : bool, default True
        Start the file with a UTF-8 byte-order mark.
    whole_as_int : bool, default True
        Write whole floats (``12.0``) as integers (``12``), as a report shows counts.

    Returns
    -------
    pathlib.Path
    """
    import pandas as pd

    if not isinstance(table, pd.DataFrame):
        table = pd.DataFrame(table, columns=columns)
    rows = [
        [csv_value(v, whole_as_int=whole_as_int) for v in row]
        for row in table.itertuples(index=False, name=None)
    ]
    headers = [escape_text(cell_value(str(c))) for c in table.columns]
    path = Path(path)
    with atomic_path(path, what="CSV file") as tmp:
        if not headers:  # pandas' own way of writing a table without columns
            pd.DataFrame(rows, columns=headers, dtype=object).to_csv(
                tmp, index=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\r\n"
            )
            return path
        # what ``DataFrame.to_csv(index=False)`` writes of these object cells (its csv
        # writer, minimal quoting, None as an empty field), without building the frame
        with open(tmp, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as out:
            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(headers)
            writer.writerows(rows)
    return path


_DEFERRED = "_ntmgis_deferred_rows"  # a worksheet's rows kept out of openpyxl's cells
_MAX_TEXT = 32767  # openpyxl cuts a cell's text to Excel's limit


def can_defer_rows() -> bool:
    """Whether :func:`defer_row` can be used with this openpyxl.

    The deferred rows are written into openpyxl's own pure-Python XML writer; an
    openpyxl that writes through lxml (``openpyxl.LXML``, as Debian's packages do when
    lxml is installed) has an incremental writer without that raw stream, so the rows
    are then made as openpyxl cells (the same file, more slowly).
    """
    import openpyxl

    return not getattr(openpyxl, "LXML", False)


def defer_row(sheet, row: int, cells: list) -> None:
    """Keep one row's cells out of openpyxl: :func:`save_workbook` writes them.

    ``cells`` is ``[(column, value, style), ...]`` in column order, ``value`` a plain
    value as :func:`cell_value` makes it and ``style`` the cell's openpyxl ``StyleArray``
    (its fonts, borders and formats already in the workbook's lists). The row is written
    as openpyxl writes the same cells (the same XML, byte for byte, the same style
    indices in the same order), without an openpyxl ``Cell`` for each: a report's
    ~20,000 table cells cost a third of the time. The sheet's other cells (headings,
    merged lines) stay openpyxl's; a deferred row must have no openpyxl cell.
    """
    sheet.__dict__.setdefault(_DEFERRED, {})[row] = cells


def _cell_xml(coordinate: str, value, style: str) -> str:
    """One ``<c>`` element as openpyxl's ElementTree writer writes it."""
    if value is None:
        return f'<c r="{coordinate}"{style} t="n" />'
    if isinstance(value, str):
        value = value[:_MAX_TEXT]
        if not value:
            return f'<c r="{coordinate}"{style} t="inlineStr" />'
        stripped = value.strip()
        space = ' xml:space="preserve"' if stripped and stripped != value else ""
        text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c r="{coordinate}"{style} t="inlineStr"><is><t{space}>{text}</t></is></c>'
    if math.isnan(value) or math.isinf(value):
        return f'<c r="{coordinate}"{style} t="n"><v /></c>'
    return f'<c r="{coordinate}"{style} t="n"><v>{value:.16g}</v></c>'


@functools.cache
def _deferring_writer():
    """openpyxl's ExcelWriter, its worksheets written with their deferred rows."""
    from openpyxl.cell._writer import write_cell
    from openpyxl.comments.comment_sheet import CommentRecord
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.worksheet.dimensions import SheetDimension
    from openpyxl.writer.excel import ExcelWriter

    class SheetWriter(WorksheetWriter):
        def __init__(self, ws, out=None):
            super().__init__(ws, out)
            self._style_ids, self._letters, self._styles_kept = {}, {}, []

        def write_dimensions(self):  # as ``calculate_dimension``, with the deferred cells
            deferred = self.ws.__dict__[_DEFERRED]
            rows = {r for r, _ in self.ws._cells} | set(deferred)
            cols = {c for _, c in self.ws._cells}
            cols.update(c for cells in deferred.values() for c, _, _ in cells)
            ref = "A1:A1"
            if rows and cols:
                ref = (f"{get_column_letter(min(cols))}{min(rows)}:"
                       f"{get_column_letter(max(cols))}{max(rows)}")  # fmt: skip
            self.xf.send(SheetDimension(ref).to_tree())

        def rows(self):
            rows = dict(super().rows())
            for row in self.ws.__dict__[_DEFERRED]:
                rows.setdefault(row, [])
            return sorted(rows.items())

        def write_row(self, xf, row, row_idx):
            cells = self.ws.__dict__[_DEFERRED].get(row_idx)
            if cells is None:
                return super().write_row(xf, row, row_idx)
            attrs = {"r": f"{row_idx}"}
            attrs.update(self.ws.row_dimensions.get(row_idx, {}))
            ids, letters = self._style_ids, self._letters
            # openpyxl cells of the same row (none in a report's table rows): in column order
            mine = {cell.column: cell for cell in row}
            parts = []
            with xf.element("row", attrs):
                for col, value, style in cells:
                    for before in sorted(c for c in mine if c < col):
                        xf._file("".join(parts))
                        parts = []
                        self._openpyxl_cell(xf, mine.pop(before))
                    sid = ids.get(id(style))
                    if sid is None:  # the index as openpyxl gives it: at the style's first cell
                        sid = ids[id(style)] = self._style_id(style)
                    if value is None and not sid:
                        continue  # openpyxl skips an empty cell without a style
                    letter = letters.get(col) or letters.setdefault(col, get_column_letter(col))
                    parts.append(_cell_xml(f"{letter}{row_idx}", value, sid))
                xf._file("".join(parts))
                for col in sorted(mine):
                    self._openpyxl_cell(xf, mine[col])

        def _style_id(self, style) -> str:
            self._styles_kept.append(style)  # its id() stays its own while cached
            if not any(style):
                return ""
            return f' s="{self.ws.parent._cell_styles.add(style)}"'

        def _openpyxl_cell(self, xf, cell):
            if cell._comment is not None:
                self.ws._comments.append(CommentRecord.from_cell(cell))
            if cell._value is not None or cell.has_style or cell._comment:
                write_cell(xf, self.ws, cell, cell.has_style)

    class Writer(ExcelWriter):
        def write_worksheet(self, ws):
            if not ws.__dict__.get(_DEFERRED):
                return super().write_worksheet(ws)
            from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing

            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            writer = SheetWriter(ws)
            writer.write()
            ws._rels = writer._rels
            self._archive.write(writer.out, ws.path[1:])
            self.manifest.append(ws)
            writer.cleanup()

    return Writer


def save_workbook(book, path: PathLike, *, run_id: str | None = None) -> Path:
    """Save an openpyxl workbook atomically.

    ``run_id`` (default: the run being written, :data:`CURRENT_RUN`) goes into the
    workbook's properties (``identifier``), so the file says which run made it. Rows
    kept out of openpyxl (:func:`defer_row`) are written in their places.
    """
    run_id = run_id or CURRENT_RUN.get()
    if run_id:
        book.properties.identifier = run_id
    path = Path(path)
    deferred = any(ws.__dict__.get(_DEFERRED) for ws in book.worksheets)
    with atomic_path(path, what="workbook") as tmp:
        if not deferred:
            book.save(tmp)
        else:  # openpyxl's save_workbook, with the deferring writer
            from zipfile import ZIP_DEFLATED, ZipFile

            archive = ZipFile(tmp, "w", ZIP_DEFLATED, allowZip64=True)
            now = _dt.datetime.now(tz=_dt.timezone.utc).replace(tzinfo=None)
            book.properties.modified = now
            _deferring_writer()(book, archive).save()
    return path


def write_xlsx(sheets: dict, path: PathLike, *, run_id: str | None = None) -> Path:
    """Write tables to one workbook atomically, one sheet each, cells never formulas.

    Parameters
    ----------
    sheets : dict of str to pandas.DataFrame
        Sheet name (cut to Excel's 31 characters) -> table, in order.
    path : str or os.PathLike
        The ``.xlsx`` file; replaced when it exists, untouched on an error.
    run_id : str, optional
        Stored in the workbook's properties (``identifier``).

    Returns
    -------
    pathlib.Path
    """
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, table in sheets.items():
        sheet = book.create_sheet(_sheet_title(name))
        for j, header in enumerate(table.columns, start=1):
            set_cell(sheet.cell(row=1, column=j), str(header))
        for i, row in enumerate(table.itertuples(index=False, name=None), start=2):
            for j, value in enumerate(row, start=1):
                set_cell(sheet.cell(row=i, column=j), value)
        sheet.freeze_panes = "A2"
    return save_workbook(book, path, run_id=run_id)


def _sheet_title(name) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", clean_control(str(name))).strip("'") or "Sheet"
    return title[:31]


# --------------------------------------------------------------------------------------
# GeoPackage
# --------------------------------------------------------------------------------------


def write_gpkg(path: PathLike, layers: dict, *, finish=None) -> Path:
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

    path = Path(path)
    with atomic_path(path, what="GeoPackage") as tmp:
        for name, frame in layers.items():
            try:
                if isinstance(frame, gpd.GeoDataFrame):
                    frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", VERSION="1.2")
                else:
                    pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", VERSION="1.2")
            except (OSError, NtmgisError):
                raise
            except Exception as exc:  # GDAL errors while writing: name the layer
                raise OutputError(
                    say("io.cannot_write_layer", layer=name, path=path, detail=exc)
                ) from exc
        if finish is not None:
            finish(tmp)
    return path


# --------------------------------------------------------------------------------------
# A run's outputs: one lock, one staging folder, published together
# --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def clean_run_folder(folder: PathLike) -> list[Path]:
    """Remove what killed runs left in an output folder (staging folders, temporaries).

    Takes the folder's lock (an OutputError when a run is writing there), keeps the last
    published set as it is.

    Returns
    -------
    list of pathlib.Path
        What was removed.
    """
    out = RunOutputs(folder)
    out._acquire()
    try:
        return out.clean_stale()
    finally:
        out._release()


def verify_run_folder(folder: PathLike) -> dict:
    """Check an output folder against its manifest: the files of one run, unchanged.

    Returns
    -------
    dict
        ``run_id``, ``files`` (listed), ``missing`` (listed but absent), ``changed``
        (content differs from the manifest's SHA-256).
    """
    folder = Path(folder)
    manifest = RunOutputs(folder).previous()
    files = manifest.get("files", [])
    sums = manifest.get("sha256", {})
    missing = [n for n in files if not (folder / n).is_file()]
    changed = [n for n in files if n not in missing and sums.get(n) != _sha256(folder / n)]
    return {"run_id": manifest.get("run_id"), "files": files, "missing": missing,
            "changed": changed}  # fmt: skip


def new_run_id() -> str:
    """A run id: UTC time and a random suffix (``20260102T081500Z-3f9a1c``)."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{uuid.uuid4().hex[:6]}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


class RunOutputs:
    """One run's output folder: locked, staged, published together.

    ``with RunOutputs(folder) as out:`` checks the folder can be written, takes its lock
    (a second run into the same folder gets an OutputError naming the first), removes
    what killed runs left (staging folders, temporaries), and gives ``out.staging``, a
    hidden folder inside ``folder`` where every output is written. When the block ends
    without an error the staged files are moved into ``folder`` together, the files of
    the previous run that this one did not write again are removed, and the manifest
    (:data:`MANIFEST_NAME`: run id, time, files) is replaced; on an error (or a cancel,
    or a kill) the folder keeps the previous run's files untouched.

    Parameters
    ----------
    folder : str or os.PathLike
        The output folder (created when missing).
    run_id : str, optional
        Default: :func:`new_run_id`.

    Attributes
    ----------
    folder, staging : pathlib.Path
    run_id : str
    published : list of pathlib.Path
        The final paths, after the block.
    """

    def __init__(self, folder: PathLike, run_id: str | None = None):
        self.folder = Path(folder).expanduser()
        self.run_id = run_id or new_run_id()
        self.staging = self.folder / f"{STAGING_PREFIX}{self.run_id}"
        self.published: list[Path] = []
        self._lock_fd: int | None = None
        self._done = False

    # the lock ------------------------------------------------------------------------
    def _acquire(self) -> None:
        """Lock the folder itself (flock on its descriptor: no lock file is left behind,
        and a killed run's lock dies with it)."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: a pid file
            return self._acquire_pid_file()
        with output_errors(self.folder, "output folder"):
            fd = os.open(self.folder, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            others = sorted(
                p.name[len(STAGING_PREFIX) :]
                for p in self.folder.glob(f"{STAGING_PREFIX}*")
                if p != self.staging
            )
            holder = "run " + ", ".join(others) if others else "?"
            raise OutputError(say("io.run_busy", folder=self.folder, holder=holder)) from None
        self._lock_fd = fd

    def _acquire_pid_file(self) -> None:  # pragma: no cover - Windows
        lock = self.folder / LOCK_NAME
        if lock.exists():
            text = lock.read_text("utf-8", "replace")
            match = re.search(r"pid (\d+)", text)
            if match and _pid_alive(int(match.group(1))):
                raise OutputError(say("io.run_busy", folder=self.folder, holder=text.strip()))
        note = f"run {self.run_id}, pid {os.getpid()} on {socket.gethostname()}"
        with output_errors(lock, "lock file"):
            lock.write_text(note, "utf-8")
        self._lock_file = lock

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None
        lock = getattr(self, "_lock_file", None)
        if lock is not None:  # pragma: no cover - Windows
            with contextlib.suppress(OSError):
                lock.unlink()
            self._lock_file = None

    # the folder ----------------------------------------------------------------------
    def clean_stale(self) -> list[Path]:
        """Remove staging folders and temporaries left by killed runs (under the lock)."""
        removed = []
        for entry in self.folder.iterdir():
            if entry.name.startswith(STAGING_PREFIX) and entry != self.staging:
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
        # under the lock no other run writes here; a lone writer's young file is spared
        removed += clean_temporaries(self.folder, older_than=60.0)
        return removed

    def path(self, name: str) -> Path:
        """Where to write the output ``name`` (inside the staging folder)."""
        return self.staging / name

    def final(self, path: PathLike) -> Path:
        """The published path of a staged ``path``."""
        path = Path(path)
        try:
            return self.folder / path.relative_to(self.staging)
        except ValueError:
            return path

    def previous(self) -> dict:
        """The manifest of the last published run (``{}`` when none)."""
        try:
            return json.loads((self.folder / MANIFEST_NAME).read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def publish(self) -> list[Path]:
        """Move every staged file into the folder; drop the previous run's leftovers.

        Once only: a second call returns what the first published.
        """
        if self._done:
            return self.published
        files = sorted(p for p in self.staging.rglob("*") if p.is_file() and TMP_MARK not in p.name)
        names = [p.relative_to(self.staging).as_posix() for p in files]
        previous = self.previous().get("files", [])
        manifest = {
            "run_id": self.run_id,
            "published": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "files": names,
            "sha256": {n: _sha256(p) for n, p in zip(names, files)},
        }
        with output_errors(self.folder, "output"):
            for src, name in zip(files, names):
                dst = self.folder / name
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
            for name in previous:
                if name not in names:
                    with contextlib.suppress(OSError):
                        (self.folder / name).unlink()
            with atomic_path(self.folder / MANIFEST_NAME, what="run manifest") as tmp:
                tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), "utf-8")
        shutil.rmtree(self.staging, ignore_errors=True)
        self.published = [self.folder / n for n in names]
        logger.info("run %s: %d file(s) published in %s", self.run_id, len(names), self.folder)
        self._done = True
        return self.published

    def __enter__(self) -> RunOutputs:
        check_writable(self.folder)
        self._acquire()
        self._token = CURRENT_RUN.set(self.run_id)
        try:
            self.clean_stale()
            with output_errors(self.staging, "staging"):
                self.staging.mkdir()
        except BaseException:
            CURRENT_RUN.reset(self._token)
            self._release()
            raise
        return self

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self.publish()
            else:
                shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            CURRENT_RUN.reset(self._token)
            self._release()
