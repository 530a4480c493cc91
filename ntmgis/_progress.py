"""The one progress callback.

Every long-running public function takes ``progress=None``: a callable
``progress(fraction, message)`` with ``fraction`` in [0, 1]. The CLI turns it into a
progress bar, the QGIS plugin into ``QgsProcessingFeedback``. If the callable returns
``False`` the run is cancelled: the library raises :class:`~ntmgis.errors.CancelledError`
and leaves no partial output.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from .errors import CancelledError

ProgressCallback = Callable[[float, str], object]
logger = logging.getLogger("ntmgis.progress")


def report(progress: ProgressCallback | None, fraction: float, message: str = "") -> None:
    """Call ``progress`` (when given); raise CancelledError when it returns ``False``."""
    fraction = min(max(float(fraction), 0.0), 1.0)
    if message:
        logger.debug("%3.0f%% %s", 100 * fraction, message)
    if progress is None:
        return
    if progress(fraction, message) is False:
        raise CancelledError(f"Cancelled by the user at {fraction:.0%}: {message}".rstrip(": "))


def scaled(progress: ProgressCallback | None, start: float, stop: float) -> ProgressCallback | None:
    """A callback mapping [0, 1] of a sub-step onto [start, stop] of the caller's range."""
    if progress is None:
        return None

    def sub(fraction: float, message: str = "") -> object:
        return progress(start + (stop - start) * fraction, message)

    return sub
