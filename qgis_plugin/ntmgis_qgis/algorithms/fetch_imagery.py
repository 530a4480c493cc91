"""Fetch a commune's Sentinel-2 (or Landsat) scenes from STAC (``ntmgis.fetch_scenes``)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
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
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "COMMUNE", self.tr("Commune boundary (or the parcel layer)"),
                [QgsProcessing.SourceType.TypeVectorPolygon],
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterString(
                "PERIOD", self.tr("Period (START:END, e.g. 2020-01-01:2020-12-31)")
            )
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "MAX_CLOUD", self.tr("Maximum cloud over the commune (%)"),
                type=QgsProcessingParameterNumber.Type.Double, defaultValue=80.0,
                minValue=0.0, maxValue=100.0,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterEnum(
                "CATALOG", self.tr("Catalogue"), options=CATALOGS, defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                "CATALOG_URL", self.tr("Other STAC API URL (replaces the catalogue)"),
                optional=True,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterEnum(
                "COLLECTION", self.tr("Collection"), options=COLLECTIONS, defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination("OUTPUT", self.tr("Imagery folder"))
        )
        self.addOutput(QgsProcessingOutputNumber("SCENES", self.tr("Scenes fetched")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API name
        self.check_deps()
        from ntmgis import fetch_scenes

        aoi, layer = self.vector_source(parameters, "COMMUNE", context, feedback)
        period = self.parameterAsString(parameters, "PERIOD", context).strip()
        url = self.parameterAsString(parameters, "CATALOG_URL", context).strip()
        catalog = url or CATALOGS[self.parameterAsEnum(parameters, "CATALOG", context)]
        collection = COLLECTIONS[self.parameterAsEnum(parameters, "COLLECTION", context)]
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
