"""The Step 2 survey forms: XLSX per hamlet and a QField project (``ntmgis.survey_form``)."""

import os

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputFolder,
)

from .base import NtmgisAlgorithm, Staging


class SurveyForm(NtmgisAlgorithm):
    NAME = "survey_form"
    DISPLAY = "Survey forms for the garden survey (XLSX and QField)"
    GROUP = "inputs"
    HELP = (
        "Writes the Step 2 survey forms: per hamlet, a workbook pre-filled with each garden "
        "parcel (map sheet, parcel number, owner, area, land use) with drop-down lists for "
        "the garden class and the needs, printable on A4 landscape with a signature block; "
        "and a QField project (GeoPackage and .qgz) for the survey on a phone. The filled "
        "forms are read back by the survey join."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_parcels()
        self.add_names_list()
        self.add_file(
            "CODEBOOK", "Codebook (TOML; empty: the default classes and needs)", "TOML (*.toml)"
        )
        self.add_commune_name()
        self.add_flag("QFIELD", "Also write a QField project", True)
        self.add_output_folder()
        self.add(QgsProcessingOutputFolder("FORMS", self.tr("Survey forms")))
        self.add(QgsProcessingOutputFile("QFIELD_PROJECT", self.tr("QField project")))

    def process(self, parameters, context, feedback):
        from ntmgis import read_parcels
        from ntmgis.survey_form import write_survey_forms

        path, layer = self.vector_source(parameters, "PARCELS", context, feedback)
        hamlets = self.names_list(parameters, "HAMLETS", context)
        codebook = self.optional_file(parameters, "CODEBOOK", context)
        commune = self.text(parameters, "COMMUNE", context)
        qfield = self.parameterAsBool(parameters, "QFIELD", context)
        final = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        with Staging(final) as staging:

            def forms(progress=None):
                parcels = read_parcels(path, layer=layer)
                return write_survey_forms(
                    parcels, staging.path, hamlets=hamlets, codebook=codebook,
                    commune=commune, qfield=qfield, progress=progress,
                )  # fmt: skip

            written = self.call(feedback, forms, abandon=staging.cleanup)
            self.check_cancel(feedback)
            moved = staging.publish()
        for name, where in written.items():
            feedback.pushInfo(f"{name}: {moved.get(os.path.realpath(str(where)), where)}")
        qgz = written.get("qgz")
        qgz = moved.get(os.path.realpath(str(qgz)), "") if qgz else ""
        return {"OUTPUT_FOLDER": final, "FORMS": final, "QFIELD_PROJECT": qgz}
