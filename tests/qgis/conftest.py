"""QGIS tests: run in the QGIS venv (/usr/bin/python3 with --system-site-packages)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[2]
for extra in (str(ROOT / "qgis_plugin"), "/usr/share/qgis/python/plugins"):
    if extra not in sys.path:
        sys.path.append(extra)
