"""Join the Step 2 garden survey to a parcel layer (``ntmgis.join_survey``)."""

from qgis.core import (
    QgsProcessingOutputNumber,
    QgsProcessingOutputVectorLayer,
)

from .base import NtmgisAlgorithm

JOIN_ON = ["auto", "parcel", "household", "spatial"]


class JoinSurvey(NtmgisAlgorithm):
    NAME = "join_survey"
    DISPLAY = "Join the garden survey to parcels"
    GROUP = "inputs"
    HELP = (
        "Joins the Step 2 garden survey (CSV or XLSX, Vietnamese headers with or without "
        "diacritics) to the parcels by map sheet and parcel number, household id or GPS "
        "point. Every parcel is kept with a survey status; unmatched survey rows and every "
        "repair are written to their own layers."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_parcels()
        self.add_survey()
        self.add_text("SHEET", "Worksheet (XLSX; empty: found automatically)")
        self.add_survey_fields()
        self.add_choice(
            "ON", "Join by",
            [self.tr("automatic"), self.tr("map sheet and parcel number"),
             self.tr("household id"), self.tr("GPS point")],
        )  # fmt: skip
        self.add_file_destination("OUTPUT", "Joined parcels")
        self.add(QgsProcessingOutputVectorLayer("PARCELS_LAYER", self.tr("Joined parcels")))
        self.add(QgsProcessingOutputNumber("MATCHED", self.tr("Survey rows matched")))
        self.add(QgsProcessingOutputNumber("UNMATCHED", self.tr("Survey rows unmatched")))

    def process(self, parameters, context, feedback):
        from ntmgis import join_survey, read_parcels
        from ntmgis.pipeline import write_gpkg_atomic
        from ntmgis.styles import embed_styles

        path, layer = self.vector_source(parameters, "PARCELS", context, feedback)
        survey = self.parameterAsFile(parameters, "SURVEY", context)
        sheet = self.text(parameters, "SHEET", context)
        on = self.choice(parameters, "ON", context, JOIN_ON)
        fields = self.survey_fields(parameters, context, feedback)
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)

        def join(progress=None):
            parcels = read_parcels(path, layer=layer)
            joined, report = join_survey(parcels, survey, on=on, sheet=sheet, fields=fields,
                                         progress=progress)  # fmt: skip
            # the codebook's codes are the survey-class keys the styles use (as in ntmgis.run)
            joined["survey_class"] = joined["garden_class_code"].astype(object)
            return joined, report

        def write(joined, report):
            tables = {"parcels": joined, "survey_unmatched": report.unmatched.astype(str),
                      "join_issues": report.issues.astype(str)}  # fmt: skip
            write_gpkg_atomic(
                output, tables, finish=lambda tmp: embed_styles(tmp, default="survey_class")
            )

        joined, report = self.call(feedback, join)
        self.check_cancel(feedback)
        self.call(feedback, write, joined, report, progress=False)
        for line in report.summary().splitlines():
            feedback.pushInfo(line)
        uri = f"{output}|layername=parcels"
        self.load_on_completion(context, uri, self.tr("Parcels with survey"), "PARCELS_LAYER")
        return {
            "OUTPUT": output,
            "PARCELS_LAYER": uri,
            "MATCHED": int(report.n_matched_rows),
            "UNMATCHED": int(report.n_unmatched_rows),
        }
