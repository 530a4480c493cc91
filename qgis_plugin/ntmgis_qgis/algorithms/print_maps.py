"""Print the hamlet maps (``ntmgis.render_maps``): one PDF, an overview and a page per hamlet."""

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFolderDestination,
)

from .base import NtmgisAlgorithm

THEMES = ["flag", "survey", "agreement"]
PAPERS = ["A4", "A3"]


class PrintHamletMaps(NtmgisAlgorithm):
    NAME = "print_hamlet_maps"
    DISPLAY = "Print hamlet maps (PDF)"
    GROUP = "printing"
    HELP = (
        "Prints the village maps of a flag run as one PDF: a commune overview and, for "
        "each hamlet, a map of its parcels coloured by the chosen theme with the list of "
        "households to visit, Vietnamese legend, scale bar, north arrow and signature "
        "lines. Drawn by the ntmgis library, the same maps as 'ntmgis maps'."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_result_parameter()
        self.addParameter(
            QgsProcessingParameterEnum(
                "THEME", self.tr("Colour the parcels by"),
                options=[self.tr("imagery flag"), self.tr("survey class"),
                         self.tr("survey/imagery agreement")],
                defaultValue=0,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterEnum("PAPER", self.tr("Paper"), options=PAPERS, defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterBoolean("PNG", self.tr("Also one PNG per page"), False)
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", self.tr("Output folder"))
        )
        self.addOutput(QgsProcessingOutputFile("PDF", self.tr("Hamlet maps (PDF)")))

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API name
        self.check_deps()
        from ntmgis import render_maps

        result = self.parameterAsFile(parameters, "RESULT", context)
        by = THEMES[self.parameterAsEnum(parameters, "THEME", context)]
        paper = PAPERS[self.parameterAsEnum(parameters, "PAPER", context)]
        png = self.parameterAsBool(parameters, "PNG", context)
        folder = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        pages = self.call(feedback, render_maps, result, folder, by=by, paper=paper, png=png)
        return {"OUTPUT_FOLDER": folder, "PDF": str(pages[0])}
