"""Hamlet progress against targets, ranked (``ntmgis.report.progress_report``)."""

import os

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
)

from .base import NtmgisAlgorithm, Staging

RENOVATIONS = ["confirmed", "reported"]


class HamletProgress(NtmgisAlgorithm):
    NAME = "hamlet_progress"
    DISPLAY = "Hamlet progress and ranking"
    GROUP = "analysis"
    HELP = (
        "Counts each hamlet's gardens by survey class and flag, measures them against the "
        "hamlet targets (abandoned gardens brought back into use, share of gardens meeting "
        "the standard, model gardens), ranks the hamlets and writes the progress report "
        "(XLSX and CSV) and the hamlets coloured by progress."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_result()
        self.add_targets()
        self.add_baseline()
        self.add_choice(
            "RENOVATIONS", "Renovations that count",
            [self.tr("confirmed by the imagery"), self.tr("every reported one")],
        )  # fmt: skip
        self.add_output_folder()
        self.add(QgsProcessingOutputVectorLayer("HAMLETS_LAYER", self.tr("Hamlet progress")))
        self.add(QgsProcessingOutputFile("REPORT", self.tr("Progress report (XLSX)")))

    def process(self, parameters, context, feedback):
        from ntmgis import format_ranking, read_vector
        from ntmgis.pipeline import write_gpkg_atomic
        from ntmgis.report import progress_report
        from ntmgis.styles import embed_styles

        result = self.parameterAsFile(parameters, "RESULT", context)
        targets = self.parameterAsFile(parameters, "TARGETS", context)
        baseline = self.optional_file(parameters, "BASELINE", context)
        renovations = self.choice(parameters, "RENOVATIONS", context, RENOVATIONS)
        final = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        with Staging(final) as staging:
            ranked, written = self.call(
                feedback, progress_report, result, targets, staging.path, baseline=baseline,
                renovations=renovations, abandon=staging.cleanup,
            )  # fmt: skip
            self.check_cancel(feedback)

            def write_layer(path):
                # the result's hamlet boundaries with the library's progress table
                hamlets = read_vector(result, layer="hamlets", what="result")
                own = [c for c in hamlets.columns if c == "hamlet" or c not in ranked.columns]
                layer = hamlets[own].merge(ranked, on="hamlet", how="left")
                return write_gpkg_atomic(path, {"hamlets": layer}, finish=embed_styles)

            gpkg = os.path.join(staging.path, "tien_do_thon.gpkg")
            self.call(feedback, write_layer, gpkg, progress=False, abandon=staging.cleanup)
            self.check_cancel(feedback)
            moved = staging.publish()
        for line in format_ranking(ranked).splitlines():
            feedback.pushInfo(line)
        gpkg = moved[os.path.realpath(gpkg)]
        uri = f"{gpkg}|layername=hamlets"
        self.load_on_completion(context, uri, self.tr("Hamlet progress"), "HAMLETS_LAYER")
        report = moved.get(os.path.realpath(str(written["xlsx"])), str(written["xlsx"]))
        return {"OUTPUT_FOLDER": final, "HAMLETS_LAYER": uri, "REPORT": report, "GPKG": gpkg}
