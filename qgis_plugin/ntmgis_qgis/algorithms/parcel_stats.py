"""Per-parcel statistics of rasters (``ntmgis.parcel_statistics``, as ``ntmgis zonal``)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
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
        "with a status and the covered fraction. The same file as 'ntmgis zonal': a "
        "GeoPackage (layer parcels) or a CSV table, written whole or not at all."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_parcels()
        self.add(
            QgsProcessingParameterMultipleLayers(
                "RASTERS", self.tr("Rasters (one grid)"), QgsProcessing.SourceType.TypeRaster
            )
        )
        self.add_text(
            "STATS", "Statistics (comma-separated)", optional=False,
            default="mean,median,std,min,max,count",
        )  # fmt: skip
        self.add_choice(
            "WEIGHTS", "Pixel weights",
            [self.tr("exact coverage"), self.tr("pixel centre inside"),
             self.tr("all touched pixels")],
        )  # fmt: skip
        self.add(
            QgsProcessingParameterNumber(
                "NODATA", self.tr("Value to mask in every raster"),
                type=QgsProcessingParameterNumber.Type.Double, optional=True,
            )
        )  # fmt: skip
        self.add_file_destination(
            "OUTPUT", "Parcels with statistics", "GeoPackage (*.gpkg);;CSV (*.csv)"
        )
        self.add(
            QgsProcessingOutputVectorLayer("PARCELS_LAYER", self.tr("Parcels with statistics"))
        )

    def process(self, parameters, context, feedback):
        from ntmgis import parcel_statistics

        path, layer = self.vector_source(parameters, "PARCELS", context, feedback)
        rasters = [
            raster.source() for raster in self.parameterAsLayerList(parameters, "RASTERS", context)
        ]
        stats = [s.strip() for s in self.parameterAsString(parameters, "STATS", context).split(",")]
        nodata = parameters.get("NODATA")
        nodata = None if nodata in (None, "") else self.parameterAsDouble(parameters, "NODATA",
                                                                           context)  # fmt: skip
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        table, written = self.call(
            feedback, parcel_statistics, path, rasters, output, layer=layer,
            stats=[s for s in stats if s], weights=self.choice(parameters, "WEIGHTS", context,
                                                               WEIGHTS),
            nodata=nodata,
        )  # fmt: skip
        counts = table["status"].value_counts().to_dict()
        feedback.pushInfo(", ".join(f"{key}: {value}" for key, value in counts.items()))
        written = str(written)
        uri = f"{written}|layername=parcels" if written.lower().endswith(".gpkg") else written
        self.load_on_completion(context, uri, self.tr("Parcel statistics"), "PARCELS_LAYER")
        return {"OUTPUT": written, "PARCELS_LAYER": uri}
