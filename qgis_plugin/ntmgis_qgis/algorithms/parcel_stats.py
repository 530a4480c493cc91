"""Per-parcel statistics of rasters with exact pixel coverage (``ntmgis.zonal_stats``)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)

from .base import NtmgisAlgorithm

WEIGHTS = ["coverage", "centroid", "all_touched"]


class ParcelStatistics(NtmgisAlgorithm):
    NAME = "parcel_statistics"
    DISPLAY = "Parcel statistics"
    GROUP = "inputs"
    HELP = (
        "Statistics of every band of the rasters for every parcel, each pixel weighted by "
        "the exact share of its area inside the parcel; the coverage is computed once and "
        "reused for every band. Columns are named 'band:statistic'; every parcel is kept, "
        "with a status and the covered fraction."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "PARCELS", self.tr("Parcel layer"), [QgsProcessing.SourceType.TypeVectorPolygon]
            )
        )
        self.addParameter(
            QgsProcessingParameterMultipleLayers(
                "RASTERS", self.tr("Rasters (one grid)"), QgsProcessing.SourceType.TypeRaster
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                "STATS", self.tr("Statistics (comma-separated)"),
                defaultValue="mean,median,std,min,max,count",
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterEnum(
                "WEIGHTS", self.tr("Pixel weights"),
                options=[self.tr("exact coverage"), self.tr("pixel centre inside"),
                         self.tr("all touched pixels")],
                defaultValue=0,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterFileDestination(
                "OUTPUT", self.tr("Parcels with statistics"), fileFilter="GeoPackage (*.gpkg)"
            )
        )
        self.addOutput(
            QgsProcessingOutputVectorLayer("PARCELS_LAYER", self.tr("Parcels with statistics"))
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API name
        self.check_deps()
        from ntmgis import read_vector, zonal_stats
        from ntmgis.pipeline import write_gpkg_atomic

        path, layer = self.vector_source(parameters, "PARCELS", context, feedback)
        rasters = [
            raster.source() for raster in self.parameterAsLayerList(parameters, "RASTERS", context)
        ]
        stats = [s.strip() for s in self.parameterAsString(parameters, "STATS", context).split(",")]
        weights = WEIGHTS[self.parameterAsEnum(parameters, "WEIGHTS", context)]
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)

        def statistics(progress=None):
            parcels = read_vector(path, layer=layer, what="parcels")
            table = zonal_stats(
                parcels, rasters, stats=[s for s in stats if s], weights=weights,
                progress=progress,
            )  # fmt: skip
            return parcels, table

        def write(parcels, table):
            clash = set(table.columns) & set(parcels.columns)
            joined = parcels.join(table.add_prefix("z_") if clash else table)
            write_gpkg_atomic(output, {"parcels": joined})

        parcels, table = self.call(feedback, statistics)
        self.check_cancel(feedback)
        self.call(feedback, write, parcels, table, progress=False)
        counts = table["status"].value_counts().to_dict()
        feedback.pushInfo(", ".join(f"{key}: {value}" for key, value in counts.items()))
        uri = f"{output}|layername=parcels"
        self.load_on_completion(context, uri, self.tr("Parcel statistics"), "PARCELS_LAYER")
        return {"OUTPUT": output, "PARCELS_LAYER": uri}
