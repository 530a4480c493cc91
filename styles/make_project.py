"""Write layers/thanh_binh.qgz: a QGIS project of the sample commune with styled layers.

Run with the QGIS Python (PyQGIS), from anywhere:

    QT_QPA_PLATFORM=offscreen .venv-qgis/bin/python styles/make_project.py

Layers are read from layers/thanh_binh.gpkg with relative paths, so the project opens
wherever the repository is. Parcels are coloured by land use and hamlets drawn as
outlines with styles/*.qml (generated from ntmgis.palette); the commune and lanes get
simple symbols set here.
"""

import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFillSymbol,
    QgsLineSymbol,
    QgsProject,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
)

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
STYLES = ROOT / "styles"


def build(target: Path) -> None:
    """Build the project in QGIS and write it to ``target`` (.qgz)."""
    gpkg = LAYERS / "thanh_binh.gpkg"
    project = QgsProject.instance()
    project.clear()
    project.setFileName(str(target))
    project.setTitle("Xã Thanh Bình (mô phỏng) – ntmgis")
    project.setCrs(QgsCoordinateReferenceSystem("EPSG:9209"))
    project.writeEntryBool("Paths", "/Absolute", False)

    def add(layer_name: str, title: str) -> QgsVectorLayer:
        layer = QgsVectorLayer(f"{gpkg}|layername={layer_name}", title, "ogr")
        if not layer.isValid():
            raise RuntimeError(f"cannot open layer '{layer_name}' of {gpkg}")
        project.addMapLayer(layer)
        return layer

    parcels = add("parcels", "Thửa đất (loại đất)")
    message, ok = parcels.loadNamedStyle(str(STYLES / "parcels_land_use.qml"))
    if not ok:
        raise RuntimeError(message)
    lanes = add("lanes", "Đường ngõ")
    lanes.setRenderer(
        QgsSingleSymbolRenderer(QgsLineSymbol.createSimple({"color": "#999999", "width": "0.4"}))
    )
    hamlets = add("hamlets", "Ranh giới thôn")
    message, ok = hamlets.loadNamedStyle(str(STYLES / "hamlets_outline.qml"))
    if not ok:
        raise RuntimeError(message)
    commune = add("commune", "Ranh giới xã")
    commune.setRenderer(
        QgsSingleSymbolRenderer(
            QgsFillSymbol.createSimple(
                {"style": "no", "outline_color": "#000000", "outline_width": "1.0"}
            )
        )
    )
    # draw order: commune and hamlet outlines on top of parcels
    root = project.layerTreeRoot()
    order = [commune, hamlets, lanes, parcels]
    for i, layer in enumerate(order):
        node = root.findLayer(layer.id())
        clone = node.clone()
        root.insertChildNode(i, clone)
        node.parent().removeChildNode(node)
    if not project.write():
        raise RuntimeError(f"cannot write {target}")


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else LAYERS / "thanh_binh.qgz"
    build(out)
    print(out)
    # exitQgis() after project work can crash at interpreter exit on QGIS 3.22; the
    # project is already written, so leave without it
