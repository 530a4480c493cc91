"""Shared inputs of the plugin tests: the sample commune and one library run on it."""

import functools
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ROOT / "layers"
GPKG = LAYERS / "thanh_binh.gpkg"
SURVEY = LAYERS / "survey_2020.xlsx"
TARGETS = LAYERS / "targets_2020.csv"
SCENES = LAYERS / "s2"
PERIOD = "2020-01-01:2020-12-31"
COMMUNE = "Xã Thanh Bình"


def sample_present():
    return GPKG.is_file() and SURVEY.is_file() and SCENES.is_dir()


def chain_parameters(out_dir):
    """Parameters of ntmgis:flag_abandoned_gardens on the sample commune."""
    from qgis.core import QgsVectorLayer

    parcels = QgsVectorLayer(f"{GPKG}|layername=parcels", "parcels", "ogr")
    hamlets = QgsVectorLayer(f"{GPKG}|layername=hamlets", "hamlets", "ogr")
    assert parcels.isValid() and hamlets.isValid()
    return {
        "PARCELS": parcels,
        "HAMLETS": hamlets,
        "SURVEY": str(SURVEY),
        "IMAGERY": str(SCENES),
        "TARGETS": str(TARGETS),
        "PERIOD": PERIOD,
        "COMMUNE": COMMUNE,
        "YEAR": 2020,
        "MAPS": False,
        "NAME": "thanh_binh",
        "OUTPUT_FOLDER": str(out_dir),
    }


@functools.lru_cache(maxsize=1)
def library_run():
    """The library's own run (``ntmgis.run``) on the same inputs; its folder is kept."""
    import ntmgis

    out = Path(tempfile.mkdtemp(prefix="ntmgis-library-run-"))
    raw = {
        "commune": {"name": COMMUNE, "year": 2020},
        "inputs": {
            "parcels": str(GPKG), "parcels_layer": "parcels", "hamlets": str(GPKG),
            "hamlets_layer": "hamlets", "survey": str(SURVEY), "imagery": str(SCENES),
            "targets": str(TARGETS),
        },
        "imagery": {"period": PERIOD},
        "outputs": {"dir": str(out), "name": "thanh_binh", "maps": False},
    }  # fmt: skip
    return ntmgis.run(ntmgis.load_config(raw))


def pdf_pages(path):
    """Page count of a PDF (poppler's pdfinfo)."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(line for line in info.stdout.splitlines() if line.startswith("Pages:"))
    return int(line.split()[1])


def pdf_text(path):
    """The text of a PDF (poppler's pdftotext)."""
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
