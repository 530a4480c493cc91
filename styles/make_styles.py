"""Regenerate styles/*.qml from ntmgis.palette: `python styles/make_styles.py`.

The files are generated, never hand-edited; tests/test_styles.py fails when they drift
from the palette.
"""

from pathlib import Path

from ntmgis.styles import write_styles

if __name__ == "__main__":
    for path in write_styles(Path(__file__).resolve().parent):
        print(path)
