"""Masked vegetation-index time series and composite from scenes (``ntmgis.read_time_series``)."""

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)

from .base import NtmgisAlgorithm

INDICES = ["ndvi", "evi", "savi", "osavi", "ndmi", "bsi"]


class VegetationIndices(NtmgisAlgorithm):
    NAME = "vegetation_indices"
    DISPLAY = "Vegetation indices from scenes"
    GROUP = "inputs"
    HELP = (
        "Reads Sentinel-2 L2A (or Landsat) scenes from a folder or a STAC file, masks "
        "clouds, shadows and no data, and computes one index for every date (the time "
        "series, one band per date) and its composite over the period (median, max, min, "
        "amplitude and number of clear observations)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.addParameter(
            QgsProcessingParameterFile(
                "SCENES", self.tr("Scenes folder"),
                behavior=QgsProcessingParameterFile.Behavior.Folder,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "AOI", self.tr("Area of interest (e.g. the commune)"),
                [QgsProcessing.SourceType.TypeVectorPolygon], optional=True,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterEnum(
                "INDEX", self.tr("Index"), options=[i.upper() for i in INDICES], defaultValue=0
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                "PERIOD", self.tr("Period (START:END, e.g. 2020-01-01:2020-12-31)"),
                optional=True,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterRasterDestination("COMPOSITE", self.tr("Index composite"))
        )
        self.addParameter(
            QgsProcessingParameterRasterDestination(
                "SERIES", self.tr("Index time series (one band per date)"), optional=True,
                createByDefault=False,
            )
        )  # fmt: skip

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API name
        self.check_deps()
        from ntmgis import composite, read_time_series, write_cog

        scenes = self.parameterAsFile(parameters, "SCENES", context)
        aoi = layer = None
        if parameters.get("AOI"):
            aoi, layer = self.vector_source(parameters, "AOI", context, feedback)
        index = INDICES[self.parameterAsEnum(parameters, "INDEX", context)]
        period = self.parameterAsString(parameters, "PERIOD", context).strip() or None
        composite_path = self.parameterAsOutputLayer(parameters, "COMPOSITE", context)
        series_path = self.parameterAsOutputLayer(parameters, "SERIES", context) or None

        stack = self.call(
            feedback, read_time_series, scenes, aoi=aoi, aoi_layer=layer, indices=[index],
            period=period,
        )  # fmt: skip
        for row in stack.meta.get("scenes", []):
            feedback.pushInfo(
                self.tr("{0}: {1} clear pixels").format(row.get("date"), row.get("clear_pixels"))
            )
        comp = self.call(feedback, composite, stack, variable=index, period=period, progress=False)
        self.check_cancel(feedback)
        results = {
            "COMPOSITE": self.call(feedback, write_cog, comp, composite_path, progress=False)
        }
        if series_path:
            results["SERIES"] = self.call(feedback, write_cog, stack, series_path, progress=False)
        return results
