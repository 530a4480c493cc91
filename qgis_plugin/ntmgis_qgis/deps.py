"""Dependency check: does ntmgis (and what it needs) import in this QGIS's Python?

QGIS must start normally without them: :func:`check` never raises, it reports what is
missing and :func:`install_help` says how to install it for this QGIS.
"""

import importlib
import importlib.util
import os
import platform
import sys

from .translate import tr

#: module imported -> what to install (pip requirement)
REQUIRED = [
    ("ntmgis", "ntmgis"),
    ("numpy", "numpy"),
    ("pandas", "pandas>=2"),
    ("geopandas", "geopandas>=1"),
    ("shapely", "shapely>=2"),
    ("rasterio", "rasterio>=1.4"),
    ("pyproj", "pyproj>=3.7"),
    ("pyogrio", "pyogrio>=0.9"),
    ("sklearn", "scikit-learn>=1.3"),
    ("lightgbm", "lightgbm>=4.0"),
    ("matplotlib", "matplotlib>=3.6"),
    ("openpyxl", "openpyxl>=3.1"),
]

_cache = {}


def _probe(module):
    """Return ``(reason, requirement)`` when ``module`` fails, else ``(None, None)``."""
    try:
        imported = importlib.import_module(module)
    except Exception as exc:  # ImportError, or a broken binary wheel (OSError...)
        return f"{type(exc).__name__}: {exc}", None
    if module == "shapely" and not str(getattr(imported, "__version__", "2")).startswith("2"):
        return tr("version {0} is too old (2.0 or later needed)").format(imported.__version__), None
    if module == "rasterio":
        # affine 3 needs attrs 23.2 or later; Debian's older attrs breaks every raster read
        try:
            tuple(imported.Affine.identity())
        except Exception as exc:
            reason = tr("rasterio cannot build a transform ({0}): upgrade attrs").format(exc)
            return reason, "attrs>=23.2"
    return None, None


def check(*, refresh=False, quick=False):
    """Return ``[(module, requirement, reason), ...]`` for what does not import (empty: OK).

    Parameters
    ----------
    refresh : bool
        Probe again instead of returning the cached answer.
    quick : bool
        Only look whether the modules are installed (``importlib.util.find_spec``, a few
        milliseconds) instead of importing them (about 2 s for geopandas, rasterio,
        scikit-learn...). The plugin does this while QGIS starts; the full check runs
        when an action or algorithm is first used.
    """
    if quick and "missing" not in _cache:
        missing = []
        for module, requirement in REQUIRED:
            try:
                found = importlib.util.find_spec(module) is not None
            except (ImportError, ValueError):
                found = False
            if not found:
                missing.append((module, requirement, tr("not installed")))
        return missing
    if refresh or "missing" not in _cache:
        missing = []
        for module, requirement in REQUIRED:
            reason, override = _probe(module)
            if reason is not None:
                missing.append((module, override or requirement, reason))
        _cache["missing"] = missing
    return list(_cache["missing"])


def python_command(system=None):
    """How to call this QGIS's Python from a shell (inside QGIS, sys.executable is QGIS)."""
    system = system or platform.system()
    if system == "Windows":
        return "python"  # in the OSGeo4W Shell
    if system == "Darwin":
        return '"' + os.path.join(sys.prefix, "bin", "python3") + '"'
    return f"python3.{sys.version_info.minor}"


def install_command(requirements, system=None):
    """The command that installs ``requirements`` into this QGIS's Python."""
    system = system or platform.system()
    requirements = list(requirements)
    if system not in ("Windows", "Darwin"):
        # Debian's QGIS is built against numpy 1 and has an attrs too old for affine 3
        requirements += [r for r in ("numpy<2", "attrs>=23.2") if r not in requirements]
    quoted = " ".join(f'"{r}"' if any(c in r for c in "<>=") else r for r in requirements)
    python = python_command(system)
    if system == "Windows":
        return f"{python} -m pip install {quoted}"
    if system == "Darwin":
        return f"{python} -m pip install --user {quoted}"
    return f"{python} -m pip install --user --break-system-packages {quoted}"


def install_help(missing=None, system=None):
    """A message naming what is missing and exactly how to install it for this QGIS."""
    missing = check() if missing is None else missing
    if not missing:
        return tr("ntmgis and its libraries are installed.")
    system = system or platform.system()
    lines = [tr("The NTM GIS plugin needs Python libraries that QGIS cannot import:")]
    lines += [f"  • {module} ({requirement}): {reason}" for module, requirement, reason in missing]
    requirements = [requirement for _, requirement, _ in missing]
    if any(module == "ntmgis" for module, _, _ in missing):
        requirements = ["ntmgis"] + [r for r in requirements if r != "ntmgis"]
    command = install_command(requirements, system)
    lines.append("")
    if system == "Windows":
        lines.append(tr("Close QGIS, open the OSGeo4W Shell (Start menu, QGIS folder) and run:"))
        lines.append(f"  {command}")
    elif system == "Darwin":
        lines.append(tr("Close QGIS, open a Terminal and run:"))
        lines.append(f"  {command}")
    else:
        lines.append(tr("Close QGIS, open a terminal and run:"))
        lines.append(f"  {command}")
        lines.append(
            tr(
                "--user installs into your home folder (~/.local), which QGIS's Python reads; "
                "Debian 12 and Ubuntu 23.04 or later need --break-system-packages for that. "
                "numpy stays below 2 because Debian's QGIS is built against numpy 1."
            )
        )
    if any(module == "ntmgis" for module, _, _ in missing):
        lines.append(
            tr(
                "Where ntmgis is not published on a package index, replace ntmgis in the "
                "command with the path of its wheel or source folder."
            )
        )
    lines.append(tr("Then restart QGIS."))
    return "\n".join(lines)
