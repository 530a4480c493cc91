"""The ntmgis error family.

Every error raised on purpose by ntmgis derives from :class:`NtmgisError`; each subclass
also inherits the builtin exception that fits, so ``except ValueError`` and
``except FileNotFoundError`` keep working for callers who do not know ntmgis. Messages
name the file, the row, column or parcel, and what to do.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings

logger = logging.getLogger(__name__)

__all__ = [
    "NtmgisError",
    "InputError",
    "SchemaError",
    "DataNotFoundError",
    "CRSError",
    "GeometryError",
    "ImageryError",
    "ConfigError",
    "CancelledError",
    "OutputError",
    "NtmgisWarning",
    "ParcelWarning",
    "SurveyWarning",
    "ImageryWarning",
    "ZonalWarning",
    "FlagWarning",
    "ProgressWarning",
    "OutputWarning",
    "warn",
]


class NtmgisError(Exception):
    """Root of every error ntmgis raises on purpose."""


class InputError(NtmgisError, ValueError):
    """An input is readable but its content is wrong (bad values, bad rows)."""


class SchemaError(InputError, KeyError):
    """A required column, layer, sheet or band is missing."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class DataNotFoundError(NtmgisError, FileNotFoundError):
    """A file, folder or layer that an input names does not exist."""


class CRSError(NtmgisError, ValueError):
    """A coordinate reference system is missing, wrong or does not fit the data."""


class GeometryError(InputError):
    """Geometries cannot be used even after repair."""


class ImageryError(NtmgisError, ValueError):
    """A raster or scene cannot be read or does not fit."""


class ConfigError(InputError):
    """A configuration file or option is wrong; raised before any work starts."""


class CancelledError(NtmgisError, RuntimeError):
    """The user cancelled a long run through the progress callback."""


class OutputError(NtmgisError, OSError):
    """An output file or folder cannot be written.

    Permissions, a file in the way of a folder, a missing drive, a full disk, or another
    run writing into the same folder.
    """

    def __str__(self) -> str:  # OSError formats (errno, strerror): keep the message
        return str(self.args[0]) if self.args else ""


class NtmgisWarning(UserWarning):
    """A problem in the input that ntmgis repaired or recorded and went on.

    Code that must react to a kind of problem catches a subclass (never the message
    text). ``where`` and ``what`` are optional structured details: the file, row, parcel
    or scene concerned, and a short machine-readable reason.
    """

    def __init__(self, message: str = "", *, where: str | None = None, what: str | None = None):
        super().__init__(message)
        self.where = where
        self.what = what


class ParcelWarning(NtmgisWarning):
    """A cadastral parcel or its file was repaired, kept with a status, or is suspicious."""


class SurveyWarning(NtmgisWarning):
    """A Step 2 survey row, header or value was repaired, reported or not understood."""


class ImageryWarning(NtmgisWarning):
    """A scene, band or date was skipped, masked or read with a correction."""


class ZonalWarning(NtmgisWarning):
    """Per-parcel statistics were computed with a caveat (CRS, coverage, masks)."""


class FlagWarning(NtmgisWarning):
    """The flags were decided with a caveat (rules only, thin evidence, calibration)."""


class ProgressWarning(NtmgisWarning):
    """Hamlet progress, targets or the report were computed with a caveat."""


class OutputWarning(NtmgisWarning):
    """An output was not written, or written with a caveat."""


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def _outside_stacklevel() -> int:
    """The ``stacklevel`` that attributes a warning to the first caller outside ntmgis."""
    frame, level = sys._getframe(1), 1
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return max(level - 1, 1)


def warn(
    message: str,
    category: type[NtmgisWarning] = NtmgisWarning,
    *,
    where: str | None = None,
    what: str | None = None,
    stacklevel: int | None = None,
) -> None:
    """Emit a recorded (not fatal) problem as a warning of ``category`` and log it.

    Parameters
    ----------
    message : str
        The sentence for the user: what was found, where, and what was done about it.
    category : type, optional
        A subclass of :class:`NtmgisWarning` (default: :class:`NtmgisWarning`).
    where, what : str, optional
        Structured details kept on the warning object (file/row/parcel; short reason).
    stacklevel : int, optional
        Default: the first caller outside the ntmgis package, so that a user sees their
        own line, never an ntmgis source line.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("Row 12: unknown class 'vuon hoag hoa'.", SurveyWarning, where="row 12")
    >>> caught[0].category.__name__, caught[0].message.where
    ('SurveyWarning', 'row 12')
    """
    if not (isinstance(category, type) and issubclass(category, NtmgisWarning)):
        raise TypeError(f"category must be a subclass of NtmgisWarning, not {category!r}")
    level = _outside_stacklevel() + 1 if stacklevel is None else stacklevel + 1
    logger.debug("%s: %s", category.__name__, message)
    warnings.warn(category(message, where=where, what=what), stacklevel=level)
