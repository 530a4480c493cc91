"""QGIS tests: run in the QGIS venv (/usr/bin/python3 with --system-site-packages)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
for extra in (str(ROOT / "qgis_plugin"), "/usr/share/qgis/python/plugins"):
    if extra not in sys.path:
        sys.path.append(extra)

import pytest  # noqa: E402

_EXIT = {"status": None}


def pytest_sessionfinish(session, exitstatus):
    _EXIT["status"] = int(exitstatus)


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    """Leave before QGIS tears down: Debian's QGIS 3.22 segfaults at exit after Processing.

    Every test has run and the summary is printed by now; exiting here keeps pytest's own
    exit status (a crash during QGIS's shutdown would otherwise turn a green run red).
    """
    if _EXIT["status"] is None:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(_EXIT["status"])


@pytest.fixture(scope="module")
def provider(qgis_app, qgis_processing):
    """The ntmgis Processing provider, registered for a test module (once)."""
    from ntmgis_qgis.provider import NtmgisProvider
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    added = None
    if registry.providerById("ntmgis") is None:
        added = NtmgisProvider()
        registry.addProvider(added)
    yield registry.providerById("ntmgis")
    if added is not None:
        registry.removeProvider(added)
