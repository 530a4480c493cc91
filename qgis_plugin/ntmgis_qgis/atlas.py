"""Print an atlas over hamlets through QGIS from the ``hamlet_a3.qpt`` layout template.

The 3liz qgis-atlasprint pattern: load the template into a layout, bind the items to the
layers, ``QgsLayoutExporter.exportToPdf(atlas, ...)``, check the result code and raise a
clear error. Item ids the template must have: ``map``, ``legend``, ``scalebar``,
``north_arrow``, ``title``, ``signature`` and one attribute table (households to visit).
"""

import os

from qgis.core import (
    Qgis,
    QgsLayoutExporter,
    QgsLayoutItemAttributeTable,
    QgsLayoutItemMap,
    QgsLayoutMultiFrame,
    QgsLayoutTable,
    QgsPrintLayout,
    QgsProject,
    QgsReadWriteContext,
    QgsVectorLayer,
)
from qgis.PyQt.QtXml import QDomDocument

from .translate import tr

TEMPLATE_NAME = "hamlet_a3.qpt"
#: the households to visit in the atlas page's hamlet
VISIT_FILTER = '"visit" AND "hamlet" = attribute(@atlas_feature, \'hamlet\')'
REQUIRED_ITEMS = ("map", "legend", "scalebar", "north_arrow", "title", "signature")
#: legend names of the layers: the printed page is a Vietnamese document, like the template
LAYER_NAMES = {"parcels": "Thửa đất", "hamlets": "Ranh giới thôn"}


class AtlasError(Exception):
    """The atlas cannot be printed (message says why and what to do)."""


def default_template():
    """The layout template: in the built plugin ``layouts/``, in a checkout ``styles/layouts/``."""
    here = os.path.dirname(os.path.abspath(__file__))
    for path in (
        os.path.join(here, "layouts", TEMPLATE_NAME),
        os.path.join(here, os.pardir, os.pardir, "styles", "layouts", TEMPLATE_NAME),
    ):
        if os.path.isfile(path):
            return os.path.normpath(path)
    raise AtlasError(
        tr("The layout template {0} is missing from the plugin.").format(TEMPLATE_NAME)
    )


def load_result_layers(gpkg, project):
    """Add the result's ``hamlets`` and ``parcels`` layers (with their embedded styles)."""
    layers = {}
    for name, label in LAYER_NAMES.items():
        layer = QgsVectorLayer(f"{gpkg}|layername={name}", label, "ogr")
        if not layer.isValid():
            raise AtlasError(
                tr("'{0}' has no valid layer '{1}': give the GeoPackage of a flag run.").format(
                    gpkg, name
                )
            )
        layers[name] = layer
    # hamlet outlines over the parcels (the progress colours would hide them)
    from .algorithms.base import apply_library_style

    apply_library_style(layers["hamlets"], None, "hamlets")
    no_overlaps(layers["hamlets"], priority=10)
    no_overlaps(layers["parcels"], priority=3)
    added = project.addMapLayers([layers["parcels"], layers["hamlets"]])
    if len(added) != 2:
        raise AtlasError(tr("QGIS could not add the layers of '{0}' to the atlas.").format(gpkg))
    return layers


def no_overlaps(layer, priority=5):
    """Labels of ``layer`` never drawn over others: colliding ones are left out instead.

    The screen styles show every hamlet name (``displayAll``); on paper the hamlet name
    wins (higher priority) and parcel numbers that would collide with it are dropped.
    """
    labeling = layer.labeling()
    if labeling is None or not hasattr(labeling, "settings"):
        return False
    settings = labeling.settings()
    settings.displayAll = False
    settings.priority = priority
    labeling.setSettings(settings)
    layer.setLabeling(labeling)
    return True


def build_layout(project, hamlets, parcels, template=None, title=None):
    """A print layout from the template, bound to the layers, its atlas over ``hamlets``."""
    template = template or default_template()
    document = QDomDocument()
    with open(template, encoding="utf-8") as handle:
        if not document.setContent(handle.read()):
            raise AtlasError(tr("The layout template '{0}' is not valid XML.").format(template))
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    _items, ok = layout.loadFromTemplate(document, QgsReadWriteContext())
    if not ok:
        raise AtlasError(tr("QGIS could not load the layout template '{0}'.").format(template))
    missing = [item for item in REQUIRED_ITEMS if layout.itemById(item) is None]
    if missing:
        raise AtlasError(
            tr("The layout template '{0}' lacks the items: {1}.").format(
                template, ", ".join(missing)
            )
        )
    layout.setName(title or tr("Hamlet maps"))
    map_item = layout.itemById("map")
    if not isinstance(map_item, QgsLayoutItemMap):
        raise AtlasError(tr("The item 'map' of the layout template is not a map."))
    # GUIDE pitfall: give the map an extent before the atlas drives it
    map_item.setLayers([hamlets, parcels])
    map_item.setKeepLayerSet(True)
    # zoomToExtent keeps the template's frame (setExtent would resize the item to the
    # extent's shape: taller than the page, over the scale bar and onto the next page)
    map_item.zoomToExtent(hamlets.extent())
    map_item.setAtlasDriven(True)
    map_item.setAtlasScalingMode(QgsLayoutItemMap.AtlasScalingMode.Auto)
    map_item.setAtlasMargin(0.08)
    legend = layout.itemById("legend")
    legend.setLinkedMap(map_item)
    legend.setAutoUpdateModel(False)
    root = legend.model().rootGroup()
    root.clear()
    root.addLayer(parcels)
    root.addLayer(hamlets)
    legend.adjustBoxSize()
    layout.itemById("scalebar").setLinkedMap(map_item)
    layout.itemById("north_arrow").setLinkedMap(map_item)
    tables = [f for f in layout.multiFrames() if isinstance(f, QgsLayoutItemAttributeTable)]
    if not tables:
        raise AtlasError(tr("The layout template has no table of households to visit."))
    table = tables[0]
    columns = table.columns()
    table.setVectorLayer(parcels)
    table.setColumns(columns)
    table.setFilterFeatures(True)
    table.setFeatureFilter(VISIT_FILTER)
    # every household to visit: the table continues on further pages of the same hamlet
    # (with its header repeated) instead of stopping at what the first frame holds
    table.setMaximumNumberOfFeatures(100000)
    table.setResizeMode(QgsLayoutMultiFrame.ResizeMode.RepeatUntilFinished)
    table.setHeaderMode(QgsLayoutTable.HeaderMode.AllFrames)
    atlas = layout.atlas()
    atlas.setCoverageLayer(hamlets)
    atlas.setPageNameExpression('"hamlet"')
    atlas.setSortFeatures(True)
    atlas.setSortExpression('coalesce("ma_thon", "hamlet")')
    atlas.setEnabled(True)
    return layout


def export_atlas(layout, pdf_path, feedback=None):
    """Export the layout's atlas to one PDF; return the page count; raise on failure."""
    atlas = layout.atlas()
    if not atlas.enabled() or atlas.coverageLayer() is None:
        raise AtlasError(tr("The layout has no atlas over the hamlets."))
    settings = QgsLayoutExporter.PdfExportSettings()
    settings.rasterizeWholeImage = False
    # real text, not outlines: the PDF stays searchable and small
    settings.textRenderFormat = Qgis.TextRenderFormat.AlwaysText
    folder = os.path.dirname(os.path.abspath(pdf_path))
    os.makedirs(folder, exist_ok=True)
    partial = pdf_path + ".part.pdf"
    result, error = QgsLayoutExporter.exportToPdf(atlas, partial, settings, feedback)
    if result != QgsLayoutExporter.ExportResult.Success:
        if os.path.exists(partial):
            os.remove(partial)
        if result == QgsLayoutExporter.ExportResult.Canceled:
            raise AtlasError(tr("Cancelled by the user: nothing was written."))
        raise AtlasError(
            tr("QGIS could not export the atlas to '{0}' (result code {1}): {2}").format(
                pdf_path, int(result), error or tr("no detail given")
            )
        )
    os.replace(partial, pdf_path)
    return atlas.count()


def print_atlas(gpkg, pdf_path, template=None, title=None, feedback=None):
    """Print one atlas page per hamlet of a flag run's GeoPackage; return the page count."""
    project = QgsProject()
    layers = load_result_layers(gpkg, project)
    layout = build_layout(project, layers["hamlets"], layers["parcels"], template, title)
    return export_atlas(layout, pdf_path, feedback)
