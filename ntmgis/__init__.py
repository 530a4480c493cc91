"""ntmgis: garden-renovation GIS for Vietnam's New Rural Development programme.

The public API is imported lazily, so ``import ntmgis`` is cheap and never imports QGIS.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import (
    CancelledError,
    ConfigError,
    CRSError,
    DataNotFoundError,
    GeometryError,
    ImageryError,
    InputError,
    NtmgisError,
    NtmgisWarning,
    SchemaError,
)

# public name -> module that defines it (imported on first use)
_LAZY = {
    "make_sample": "ntmgis.sample",
    "SampleCommune": "ntmgis.sample",
    "sample_paths": "ntmgis.sample",
}

__all__ = [
    "__version__",
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
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ntmgis' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
