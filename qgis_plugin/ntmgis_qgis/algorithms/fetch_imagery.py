"""Fetch a commune's Sentinel-2 (or Landsat) scenes from STAC (``ntmgis.fetch_scenes``)."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingParameterNumber,
)

from .base import NtmgisAlgorithm

CATALOGS = ["earth-search", "planetary-computer", "cdse"]
COLLECTIONS = ["sentinel-2-l2a", "landsat-c2-l2"]


class FetchImagery(NtmgisAlgorithm):
    NAME = "fetch_imagery"
    DISPLAY = "Fetch Sentinel-2 imagery for the commune"
    GROUP = "inputs"
    HELP = (
        "Searches a free public STAC catalogue (Earth Search by default, no account) for "
        "the scenes of the period over the commune, keeps the dates whose own pixels over "
        "the commune are clear enough, and writes one folder per date with one "
        "Cloud-Optimised GeoTIFF per band, clipped to the commune on the source pixel grid, "
        "and its STAC item. Only the commune's window is downloaded (a few MB per date). "
        'The output folder is the imagery folder of "Flag abandoned gardens"; running '
        "again skips the dates already complete and finishes the ones that were cut."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_polygons("COMMUNE", "Commune boundary (or the parcel layer)")
        self.add_period(optional=False)
        self.add(
            QgsProcessingParameterNumber(
                "MAX_CLOUD", self.tr("Maximum cloud over the commune (%)"),
                type=QgsProcessingParameterNumber.Type.Double, defaultValue=80.0,
                minValue=0.0, maxValue=100.0,
            )
        )  # fmt: skip
        self.add_choice("CATALOG", "Catalogue", CATALOGS)
        self.add_text("CATALOG_URL", "Other STAC API URL (replaces the catalogue)")
        self.add_choice("COLLECTION", "Collection", COLLECTIONS)
        self.add_output_folder("OUTPUT", "Imagery folder")
        self.add(QgsProcessingOutputNumber("SCENES", self.tr("Scenes fetched")))

    def process(self, parameters, context, feedback):
        from ntmgis import fetch_scenes

        aoi, layer = self.vector_source(parameters, "COMMUNE", context, feedback)
        period = self.period(parameters, context) or ""
        url = self.text(parameters, "CATALOG_URL", context)
        catalog = url or self.choice(parameters, "CATALOG", context, CATALOGS)
        collection = self.choice(parameters, "COLLECTION", context, COLLECTIONS)
        out = self.parameterAsString(parameters, "OUTPUT", context)
        result = self.call(
            feedback, fetch_scenes, aoi, aoi_layer=layer, period=period, out=out,
            catalog=catalog, collection=collection,
            max_cloud=self.parameterAsDouble(parameters, "MAX_CLOUD", context),
        )  # fmt: skip
        for item in result.items:
            share = item.get("clear_share")
            share = "-" if share is None else f"{share:.0%}"
            feedback.pushInfo(f"{item['date']}  {item['status']}  {share}  {item['id']}")
        feedback.pushInfo(result.summary())
        return {"OUTPUT": out, "SCENES": len(result)}
