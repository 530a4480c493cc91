"""Python's cyclic garbage collector paused while a builder makes many acyclic objects.

A commune's run keeps some 200,000 objects alive (the modules it imports, its frames);
each full collection of the cyclic garbage collector walks all of them (about 0.1 s).
A full collection is due once enough objects have survived younger collections, and
the builders of a run (the polygons handed to GDAL, a sheet's rows, a report's cells)
make tens of thousands of containers that live just long enough to survive them: on a
province's commune, one and a half full collections, 0.2 s of its 1.9 s. Paused, those
objects die young by reference counting (they hold no cycles) and never reach the old
generation. Only what a builder makes is concerned: cycles made meanwhile are collected
at the next collection after it.
"""

from __future__ import annotations

import contextlib
import gc
import threading

_LOCK = threading.Lock()
_DEPTH = 0
_WAS_ENABLED = False


@contextlib.contextmanager
def collector_paused():
    """The cyclic garbage collector off inside the block, as it was after it.

    Nested and concurrent blocks (threads of a Dask worker) share one pause: the
    collector is switched back on when the last block ends, and only if it was on when
    the first began (a caller who disabled it keeps it disabled).

    Examples
    --------
    >>> import gc
    >>> with collector_paused():
    ...     gc.isenabled()
    False
    >>> gc.isenabled()
    True
    """
    global _DEPTH, _WAS_ENABLED
    with _LOCK:
        if _DEPTH == 0:
            _WAS_ENABLED = gc.isenabled()
            gc.disable()
        _DEPTH += 1
    try:
        yield
    finally:
        with _LOCK:
            _DEPTH -= 1
            if _DEPTH == 0 and _WAS_ENABLED:
                gc.enable()
