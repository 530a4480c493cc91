"""Contain QGIS's crash at exit ("double free or corruption", status 134) on Linux.

The cause: the QGIS program links its own PROJ and GDAL, so their symbols sit in the
process's global scope. pyproj's and pyogrio's wheels bring their own copies
(``libproj-<hash>.so``, ``libgdal-<hash>.so``); when such a copy loads, the dynamic
linker binds its C++ static objects (the ``osgeo::proj::common::UnitOfMeasure``
constants, GDAL's singletons) to QGIS's already-loaded instances, and both libraries
register their destructors. At exit both run and the second frees freed memory
(``exit`` -> ``_dl_fini`` -> ``__cxa_finalize`` -> ``UnitOfMeasure::~UnitOfMeasure`` in
QGIS's ``libproj.so.25``). The import order does not matter: importing pyproj or pyogrio
in the QGIS program is enough. A Python that loads QGIS as modules (tests, scripts) does
not share the symbols and is not affected. QGIS 3.22 never finalises Python, so
``atexit`` handlers do not run.

The containment: glibc's ``on_exit`` runs ``_exit(status)`` once ``main`` has returned
(QGIS has closed its project, saved its settings, unloaded the plugins and called
``exitQgis``), before the shared libraries' static destructors; the exit status is
QGIS's own. Only those destructors are skipped, whose memory the system reclaims anyway.
"""

import contextlib
import ctypes
import platform
import sys

_installed = []


def shares_qgis_libraries():
    """True in the QGIS program on Linux (its PROJ is in the global symbol scope)."""
    if platform.system() != "Linux":
        return False
    from .deps import interposed

    return interposed("proj_context_create")


def _flush():
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a closed stream while QGIS quits
            stream.flush()
    with contextlib.suppress(AttributeError, OSError):
        ctypes.CDLL(None).fflush(None)


def install():
    """Register the guard once (only where the crash can happen); return whether it is on."""
    if _installed:
        return True
    if not shares_qgis_libraries():
        return False
    libc = ctypes.CDLL(None)
    libc.on_exit.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    libc.on_exit.restype = ctypes.c_int
    if libc.on_exit(ctypes.cast(libc._exit, ctypes.c_void_p), None) != 0:
        return False
    from qgis.core import QgsApplication

    if QgsApplication.instance() is not None:
        QgsApplication.instance().aboutToQuit.connect(_flush)
    _installed.append(True)
    return True
