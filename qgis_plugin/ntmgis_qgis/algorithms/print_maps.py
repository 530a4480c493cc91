"""Print the hamlet maps (``ntmgis.render_maps``): one PDF, an overview and a page per hamlet."""

from qgis.core import (
    QgsProcessingOutputFile,
)

from .base import NtmgisAlgorithm

THEMES = ["flag", "survey", "agreement"]


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
        self.add_result()
        self.add_choice(
            "THEME", "Colour the parcels by",
            [self.tr("imagery flag"), self.tr("survey class"),
             self.tr("survey/imagery agreement")],
        )  # fmt: skip
        self.add_paper()
        self.add_flag("PNG", "Also one PNG per page", False)
        self.add_output_folder()
        self.add(QgsProcessingOutputFile("PDF", self.tr("Hamlet maps (PDF)")))

    def process(self, parameters, context, feedback):
        from ntmgis import render_maps

        result = self.parameterAsFile(parameters, "RESULT", context)
        by = self.choice(parameters, "THEME", context, THEMES)
        paper = self.paper(parameters, context)
        png = self.parameterAsBool(parameters, "PNG", context)
        folder = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        pages = self.call(feedback, render_maps, result, folder, by=by, paper=paper, png=png)
        return {"OUTPUT_FOLDER": folder, "PDF": str(pages[0])}
