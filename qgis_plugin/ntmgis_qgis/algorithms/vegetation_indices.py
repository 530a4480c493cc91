"""Masked index series and composites (``ntmgis.index_products``, as ``ntmgis indices``)."""

import os

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputMultipleLayers,
    QgsProcessingOutputNumber,
    QgsProcessingOutputRasterLayer,
)

from .base import NtmgisAlgorithm

INDICES = ["ndvi", "evi", "savi", "osavi", "ndmi", "bsi"]
GRIDS = [None, "10m", "20m"]


class VegetationIndices(NtmgisAlgorithm):
    NAME = "vegetation_indices"
    DISPLAY = "Vegetation indices from scenes"
    GROUP = "inputs"
    HELP = (
        "Reads Sentinel-2 L2A (or Landsat) scenes from a folder or a STAC file, masks "
        "clouds, shadows and no data, and writes for every index its time series (one "
        "band per date) and its composite over the period (median, max, min, amplitude "
        "and number of clear observations) as Cloud-Optimised GeoTIFFs, with scenes.csv "
        "listing every scene read or skipped: the same files as 'ntmgis indices'. Scenes "
        "of two UTM zones are never resampled into one grid: each grid gets its own files "
        "(<index>_composite_<crs>.tif)."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_folder("SCENES", "Scenes folder")
        self.add_polygons("AOI", "Area of interest (e.g. the commune)", optional=True)
        self.add_choice("INDEX", "Indices", [i.upper() for i in INDICES], [0], multiple=True)
        self.add_period()
        self.add_choice("GRID", "Pixel size", [self.tr("finest band"), "10 m", "20 m"], default=0)
        self.add_flag("SERIES", "Also the time series (one band per date)", True)
        self.add_output_folder()
        self.add(QgsProcessingOutputRasterLayer("COMPOSITE", self.tr("Index composite")))
        self.add(QgsProcessingOutputMultipleLayers("COMPOSITES", self.tr("Index composites")))
        self.add(QgsProcessingOutputFile("SCENES_CSV", self.tr("Scenes read (CSV)")))
        self.add(QgsProcessingOutputNumber("SCENES_READ", self.tr("Scenes read")))

    def process(self, parameters, context, feedback):
        from ntmgis import index_products

        aoi, layer = self.optional_vector_source(parameters, "AOI", context, feedback)
        chosen = self.parameterAsEnums(parameters, "INDEX", context) or [0]
        out = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        products = self.call(
            feedback, index_products, self.parameterAsFile(parameters, "SCENES", context), out,
            indices=[INDICES[i] for i in chosen], aoi=aoi, aoi_layer=layer,
            period=self.period(parameters, context), grid=self.choice(parameters, "GRID",
                                                                     context, GRIDS),
            series=self.parameterAsBool(parameters, "SERIES", context),
        )  # fmt: skip
        for stack in products.stacks:
            for row in stack.meta.get("scenes", []):
                feedback.pushInfo(
                    self.tr("{0}: {1} clear pixels").format(row.get("date"),
                                                           row.get("clear_pixels"))
                )  # fmt: skip
        feedback.pushInfo(
            self.tr("{0} scene(s) read, {1} skipped.").format(
                products.scenes_read, products.scenes_skipped
            )
        )
        composites = [str(p) for p in products.composites.values()]
        return {
            "OUTPUT_FOLDER": out,
            "COMPOSITE": composites[0] if composites else None,
            "COMPOSITES": composites,
            "SCENES_CSV": str(products.scenes_csv),
            "SCENES_READ": products.scenes_read,
            "FILES": sorted(os.path.basename(str(p)) for p in products.paths),
        }
