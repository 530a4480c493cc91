"""Step 4 plan, Step 3 needs, Step 6 commendations (``ntmgis.plan_outputs.write_plan``)."""

import os

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
)

from .base import NtmgisAlgorithm, Staging


class RenovationPlan(NtmgisAlgorithm):
    NAME = "renovation_plan"
    DISPLAY = "Renovation plan, needs and commendations"
    GROUP = "analysis"
    HELP = (
        "Writes the commune's renovation plan (Step 4): per hamlet, the households to "
        "renovate first (abandoned gardens, then mixed gardens) with area, owner, needs and "
        "the imagery evidence, as a printable sheet and a layer; the households' needs "
        "(Step 3); and, with a baseline campaign, the proposed commendations (Step 6) and "
        "the earlier plan measured: planned against done."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_result()
        self.add_baseline()
        self.add_targets(optional=True)
        self.add_names_list()
        self.add_output_folder()
        self.add(QgsProcessingOutputVectorLayer("PLAN_LAYER", self.tr("Renovation plan")))
        self.add(QgsProcessingOutputFile("REPORT", self.tr("Renovation plan (XLSX)")))

    def process(self, parameters, context, feedback):
        from ntmgis.plan import PLAN_LAYER
        from ntmgis.plan_outputs import write_plan

        result = self.parameterAsFile(parameters, "RESULT", context)
        baseline = self.optional_file(parameters, "BASELINE", context)
        targets = self.optional_file(parameters, "TARGETS", context)
        hamlets = self.names_list(parameters, "HAMLETS", context)
        final = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        with Staging(final) as staging:
            written = self.call(feedback, write_plan, result, staging.path, hamlets=hamlets,
                                baseline=baseline, targets=targets,
                                abandon=staging.cleanup)  # fmt: skip
            self.check_cancel(feedback)
            moved = staging.publish()
        gpkg = moved[os.path.realpath(str(written["gpkg"]))]
        uri = f"{gpkg}|layername={PLAN_LAYER}"
        self.load_on_completion(context, uri, self.tr("Renovation plan"), "PLAN_LAYER")
        report = moved[os.path.realpath(str(written["xlsx"]))]
        return {"OUTPUT_FOLDER": final, "PLAN_LAYER": uri, "REPORT": report}
