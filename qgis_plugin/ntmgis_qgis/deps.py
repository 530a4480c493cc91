"""Dependency check: does ntmgis (and what it needs) import in this QGIS's Python?

QGIS must start normally without them: :func:`check` never raises, it reports what is
missing and :func:`install_help` says how to install it for this QGIS.
"""

import contextlib
import importlib
import importlib.util
import os
import platform
import re
import sys

from .translate import tr

#: module imported -> what to install (pip requirement)
REQUIRED = [
    ("ntmgis", "ntmgis"),
    ("numpy", "numpy"),
    ("pandas", "pandas>=2"),
    ("geopandas", "geopandas>=1"),
    ("shapely", "shapely>=2,<2.1"),
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
        use_qgis_proj_database()
        missing = []
        for module, requirement in REQUIRED:
            reason, override = _probe(module)
            if reason is not None:
                missing.append((module, override or requirement, reason))
        if not any(module == "shapely" for module, _, _ in missing):
            missing += [("shapely", "shapely>=2,<2.1", text) for text in conflicts()]
        _cache["missing"] = missing
    return list(_cache["missing"])


def qgis_library_versions():
    """``{"GEOS": (3, 11, 1), "GDAL": ..., "PROJ": ...}`` of the running QGIS."""
    from qgis.core import Qgis

    versions = {}
    try:
        versions["GEOS"] = (
            Qgis.geosVersionMajor(),
            Qgis.geosVersionMinor(),
            Qgis.geosVersionPatch(),
        )
    except AttributeError:  # older bindings: parse "3.11.1-CAPI-1.17.1"
        versions["GEOS"] = _triple(Qgis.geosVersion())
    try:
        from osgeo import gdal

        versions["GDAL"] = _triple(gdal.__version__)
    except ImportError:
        pass
    try:
        from qgis.core import QgsProjUtils

        versions["PROJ"] = (QgsProjUtils.projVersionMajor(), QgsProjUtils.projVersionMinor(), 0)
    except (ImportError, AttributeError):
        pass
    return versions


def _triple(text):
    numbers = [int(n) for n in re.findall(r"\d+", str(text))[:3]]
    return tuple(numbers + [0] * (3 - len(numbers)))


def _dotted(version):
    return ".".join(str(v) for v in version)


def interposed(symbol="GEOSversion"):
    """Whether the process's global symbol scope already holds ``symbol`` (Linux).

    True in the QGIS program (it links GEOS, GDAL and PROJ), False in a Python that loads
    QGIS's bindings as modules (tests, scripts): only then do wheels keep their own copy.
    """
    try:
        import ctypes

        getattr(ctypes.CDLL(None), symbol)
    except (AttributeError, OSError):
        return False
    return True


def conflicts(system=None, qgis_versions=None, shared=None):
    """Library versions that cannot work inside this QGIS's process: ``[message, ...]``.

    On Linux the QGIS program has already loaded its own GEOS, GDAL and PROJ, and the
    dynamic linker hands those to every later library asking for the same functions: a
    wheel's own copy is bypassed. shapely built for a newer GEOS than QGIS's then calls
    QGIS's older GEOS with arguments it does not know (shapely 2.1+ with GEOS 3.13/3.14
    under QGIS 3.22's GEOS 3.11: "WKB output dimension must be 2 or 3" on every GeoPackage
    write). Windows and macOS keep each library's own copy.
    """
    system = system or platform.system()
    shared = interposed() if shared is None else shared
    if system != "Linux" or not shared:
        return []
    qgis_versions = qgis_versions or qgis_library_versions()
    out = []
    try:
        import shapely
    except Exception:  # missing: check() reports it
        return out
    built = tuple(shapely.geos_version)[:2]
    running = tuple(qgis_versions.get("GEOS", (0, 0)))[:2]
    if running and built > running:
        out.append(
            tr("shapely {0} is built for GEOS {1}, but this QGIS runs GEOS {2}: inside QGIS "
               "shapely's calls reach QGIS's GEOS and fail (\"WKB output dimension must be 2 "
               "or 3\"). Install shapely below 2.1 (menu NTM GIS > Install the libraries does).")
            .format(shapely.__version__, _dotted(built), _dotted(qgis_versions["GEOS"]))
        )  # fmt: skip
    return out


def _pyproj_database_version():
    """The PROJ version of the proj.db inside pyproj's wheel (None: not a wheel), no import."""
    try:
        spec = importlib.util.find_spec("pyproj")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    database = os.path.join(
        list(spec.submodule_search_locations)[0], "proj_dir", "share", "proj", "proj.db"
    )
    if not os.path.isfile(database):
        return None  # Debian's pyproj: the system's proj.db, made for the system's PROJ
    import sqlite3

    try:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM metadata WHERE key = 'PROJ.VERSION'").fetchone()
    except sqlite3.Error:
        return None
    return _triple(row[0]) if row else None


def _qgis_proj_data_dir():
    """The folder of the proj.db QGIS's own PROJ reads."""
    try:
        from qgis.core import QgsProjUtils

        paths = list(QgsProjUtils.searchPaths())
    except (ImportError, AttributeError):
        paths = []
    return next((p for p in paths if os.path.isfile(os.path.join(p, "proj.db"))), None)


def use_qgis_proj_database(shared=None, qgis_versions=None):
    """Point pyproj at QGIS's proj.db when pyproj's calls reach QGIS's newer PROJ (Linux).

    Inside the QGIS program pyproj's calls reach QGIS's PROJ (see :func:`conflicts`), with
    the proj.db of pyproj's wheel. A PROJ newer than that database refuses it: QGIS 3.40's
    PROJ 9.6 needs database layout 1.5, pyproj 3.7.2's wheel ships PROJ 9.5.1's (1.4), and
    every CRS fails with "proj_create: no database context specified". QGIS's own proj.db
    is the one made for the PROJ that runs. Older QGIS PROJ (3.22's 9.1) reads the
    wheel's newer database: nothing changes there. Returns the folder set, or None.
    """
    if "proj_data" in _cache:
        return _cache["proj_data"]
    folder = None
    shared = interposed("proj_context_create") if shared is None else shared
    if platform.system() == "Linux" and shared:
        wheel = _pyproj_database_version()
        running = (qgis_versions or qgis_library_versions()).get("PROJ")
        if wheel and running and tuple(running[:2]) > tuple(wheel[:2]):
            folder = _qgis_proj_data_dir()
            if folder:
                try:
                    import pyproj.datadir

                    pyproj.datadir.set_data_dir(folder)
                except Exception:  # a broken pyproj: check() reports it
                    folder = None
    _cache["proj_data"] = folder
    return folder


def start_up_conflicts():
    """:func:`conflicts` for QGIS's start-up: shapely only, never raises."""
    try:
        return conflicts()
    except Exception as exc:  # a broken wheel: say so instead of stopping QGIS's start
        return [f"shapely: {type(exc).__name__}: {exc}"]


def versions_report(qgis_versions=None):
    """Lines naming QGIS's GEOS/GDAL/PROJ and those the Python libraries were built with."""
    qgis_versions = qgis_versions or qgis_library_versions()
    lines = [
        tr("QGIS: GEOS {0}, GDAL {1}, PROJ {2}").format(
            *(_dotted(qgis_versions.get(k, ("?",))) for k in ("GEOS", "GDAL", "PROJ"))
        )
    ]
    found = []
    built = (
        ("shapely", "geos_version"),
        ("pyogrio", "__gdal_version__"),
        ("rasterio", "__gdal_version__"),
        ("pyproj", "proj_version_str"),
    )
    for module, attribute in built:
        try:
            imported = importlib.import_module(module)
        except Exception:  # a missing library is reported by check()
            imported = None
        if imported is not None and hasattr(imported, attribute):
            value = getattr(imported, attribute)
            value = _dotted(value) if isinstance(value, tuple) else str(value)
            found.append(f"{module} {imported.__version__} ({value})")
    if found:
        lines.append(tr("Python libraries: {0}").format(", ".join(found)))
    return lines


def smoke_test(folder):
    """Read, reproject and write a GeoPackage with the libraries, in QGIS's own process.

    Two VN-2000 (EPSG:9209) parcels are written with pyogrio, read back with
    ``ntmgis.read_parcels``, reprojected to WGS 84 with pyproj and written again; QGIS
    then opens the result and its own transformation of the first corner must agree to
    1e-7°. Returns ``[(step, ok, detail), ...]``; never raises.
    """
    steps = []
    use_qgis_proj_database()
    try:
        import geopandas as gpd
        from shapely.geometry import Polygon

        import ntmgis

        source = os.path.join(folder, "kiem_tra_vn2000.gpkg")
        frame = gpd.GeoDataFrame(
            {"SHBANDO": [12, 12], "SHTHUA": [345, 346], "KHLOAIDAT": ["ONT+CLN", "CLN"]},
            geometry=[Polygon([(560000, 2050000), (560030, 2050000), (560030, 2050020)]),
                      Polygon([(560030, 2050000), (560060, 2050000), (560060, 2050020)])],
            crs="EPSG:9209",
        )  # fmt: skip
        frame.to_file(source, layer="parcels", driver="GPKG", engine="pyogrio")
        steps.append((tr("write a GeoPackage"), True, source))
        parcels = ntmgis.read_parcels(source, layer="parcels")
        steps.append((tr("read it with ntmgis"), len(parcels) == 2, f"{len(parcels)}"))
        wgs84 = parcels.to_crs("EPSG:4326")
        target = os.path.join(folder, "kiem_tra_wgs84.gpkg")
        wgs84[["parcel_id", "geometry"]].to_file(
            target, layer="parcels", driver="GPKG", engine="pyogrio"
        )
        steps.append((tr("reproject to WGS 84 and write"), True, target))
        from qgis.core import (
            QgsCoordinateReferenceSystem,
            QgsCoordinateTransform,
            QgsPointXY,
            QgsProject,
            QgsVectorLayer,
        )

        layer = QgsVectorLayer(f"{target}|layername=parcels", "check", "ogr")
        feature = next(layer.getFeatures()) if layer.isValid() else None
        transform = QgsCoordinateTransform(
            QgsCoordinateReferenceSystem("EPSG:9209"),
            QgsCoordinateReferenceSystem("EPSG:4326"),
            QgsProject.instance(),
        )
        expected = transform.transform(QgsPointXY(560000, 2050000))
        got = feature.geometry().vertexAt(0) if feature is not None else None
        agree = (
            got is not None
            and abs(got.x() - expected.x()) < 1e-7
            and abs(got.y() - expected.y()) < 1e-7
        )
        detail = f"{got.x():.7f}, {got.y():.7f}" if got is not None else tr("no feature")
        steps.append((tr("QGIS reads it and agrees"), agree, detail))
    except Exception as exc:  # the point of the test: show what fails, never a traceback
        steps.append((tr("smoke test"), False, f"{type(exc).__name__}: {exc}"))
    return steps


def python_command(system=None):
    """How to call this QGIS's Python from a shell (inside QGIS, sys.executable is QGIS)."""
    system = system or platform.system()
    if system == "Windows":
        return "python"  # in the OSGeo4W Shell
    if system == "Darwin":
        return '"' + os.path.join(sys.prefix, "bin", "python3") + '"'
    return f"python3.{sys.version_info.minor}"


def expert_commands(system=None, plugin_dir=None):
    """The manual install (for experts): the ZIP's pinned, hashed wheels, then its ntmgis wheel."""
    system = system or platform.system()
    plugin_dir = plugin_dir or os.path.dirname(os.path.abspath(__file__))
    python = python_command(system)
    requirements = os.path.join(plugin_dir, "requirements.txt")
    wheels = os.path.join(plugin_dir, "wheels")
    names = (
        sorted(n for n in os.listdir(wheels) if n.endswith(".whl")) if os.path.isdir(wheels) else []
    )
    wheel = os.path.join(wheels, names[0] if names else "ntmgis-<version>-py3-none-any.whl")
    user = {"Windows": "", "Darwin": " --user"}.get(system, " --user --break-system-packages")
    common = f"{python} -m pip install{user} --only-binary :all: --no-deps"
    return [f'{common} --require-hashes -r "{requirements}"', f'{common} "{wheel}"']


def install_help(missing=None, system=None, conflict=None):
    """A message naming what is missing or conflicting and how to install it for this QGIS."""
    missing = check() if missing is None else missing
    conflict = conflicts(system) if conflict is None and not missing else (conflict or [])
    if not missing and not conflict:
        return tr("ntmgis and its libraries are installed.")
    system = system or platform.system()
    lines = []
    if missing:
        lines.append(tr("The NTM GIS plugin needs Python libraries that QGIS cannot import:"))
        lines += [
            f"  • {module} ({requirement}): {reason}" for module, requirement, reason in missing
        ]
    lines += [f"  • {text}" for text in conflict]
    lines.append("")
    lines.append(
        tr("Menu NTM GIS > Install the libraries installs them into this QGIS profile "
           "(pinned versions, each checked against its SHA-256; nothing else changes).")
    )  # fmt: skip
    lines.append("")
    if system == "Windows":
        lines.append(tr("Or, for experts: close QGIS, open the OSGeo4W Shell and run:"))
    else:
        lines.append(tr("Or, for experts: close QGIS, open a terminal and run:"))
    lines += [f"  {command}" for command in expert_commands(system)]
    lines.append(tr("Then restart QGIS."))
    return "\n".join(lines)
