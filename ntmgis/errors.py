"""The ntmgis error family.

Every error raised on purpose by ntmgis derives from :class:`NtmgisError`; each subclass
also inherits the builtin exception that fits, so ``except ValueError`` and
``except FileNotFoundError`` keep working for callers who do not know ntmgis. Messages
name the file, the row, column or parcel, and what to do.
"""

from __future__ import annotations

import warnings

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
    "NtmgisWarning",
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


class NtmgisWarning(UserWarning):
    """A problem in the input that ntmgis repaired or recorded and went on."""


def warn(message: str, *, stacklevel: int = 2) -> None:
    """Emit an :class:`NtmgisWarning` (for problems that were recorded, not fatal)."""
    warnings.warn(message, NtmgisWarning, stacklevel=stacklevel + 1)
