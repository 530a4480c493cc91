"""Flag abandoned gardens: the whole chain (``ntmgis.pipeline.run``) on a config built here."""

import os

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterNumber,
)

from .base import NtmgisAlgorithm, Staging

CALIBRATION = ["auto", "rules"]


class FlagAbandonedGardens(NtmgisAlgorithm):
    NAME = "flag_abandoned_gardens"
    DISPLAY = "Flag abandoned gardens (whole chain)"
    GROUP = "analysis"
    HELP = (
        "Runs the whole ntmgis chain on one commune: parcels, survey join, masked "
        "Sentinel-2 indices, exact per-parcel statistics and time-series features, flags "
        "calibrated on the survey, survey/imagery agreement, hamlet counts and (with "
        "targets) hamlet progress, then writes one styled GeoPackage, the progress report "
        "and the printed hamlet maps. Nothing is written when the run is cancelled."
    )

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_parcels()
        self.add_folder("IMAGERY", "Imagery folder (one folder per scene, or STAC)")
        self.add_period()
        self.add_survey(optional=True)
        self.add_survey_fields()
        self.add_polygons("HAMLETS", "Hamlet boundaries", optional=True)
        self.add_targets(optional=True)
        self.add_baseline()
        self.add_commune_name()
        self.add(
            QgsProcessingParameterNumber(
                "YEAR", self.tr("Year"), QgsProcessingParameterNumber.Type.Integer,
                optional=True, minValue=1990, maxValue=2100,
            )
        )  # fmt: skip
        self.add_choice(
            "CALIBRATION", "Flag thresholds",
            [self.tr("calibrated on the survey when it has enough labels"),
             self.tr("fixed rules")],
        )  # fmt: skip
        self.add_flag("COREGISTER", "Co-register the dates (undo each scene's sub-pixel shift)",
                      True)  # fmt: skip
        self.add_flag("MAPS", "Print the hamlet maps (PDF)", True)
        self.add_paper()
        self.add_text("NAME", "Output name", default="ntmgis")
        self.add_output_folder()
        self.add(QgsProcessingOutputFile("GPKG", self.tr("Result GeoPackage")))
        self.add(QgsProcessingOutputVectorLayer("PARCELS_LAYER", self.tr("Flagged parcels")))
        self.add(QgsProcessingOutputVectorLayer("HAMLETS_LAYER", self.tr("Hamlets")))
        self.add(QgsProcessingOutputFile("REPORT", self.tr("Progress report (XLSX)")))
        self.add(QgsProcessingOutputFile("MAPS_PDF", self.tr("Hamlet maps (PDF)")))

    def build_config(self, parameters, context, feedback, out_dir):
        """The run configuration (the TOML schema of ``ntmgis.config``) of the parameters."""
        parcels, parcels_layer = self.vector_source(parameters, "PARCELS", context, feedback)
        inputs = {
            "parcels": parcels,
            "imagery": self.parameterAsFile(parameters, "IMAGERY", context),
        }
        if parcels_layer:
            inputs["parcels_layer"] = parcels_layer
        hamlets, hamlets_layer = self.optional_vector_source(parameters, "HAMLETS", context,
                                                             feedback)  # fmt: skip
        if hamlets:
            inputs["hamlets"] = hamlets
            if hamlets_layer:
                inputs["hamlets_layer"] = hamlets_layer
        for key in ("survey", "targets", "baseline"):
            value = self.optional_file(parameters, key.upper(), context)
            if value:
                inputs[key] = value
        fields = self.survey_fields(parameters, context, feedback)
        if fields and "survey" in inputs:
            inputs["survey_fields"] = fields
        raw = {
            "inputs": inputs,
            "flags": {"calibration": self.choice(parameters, "CALIBRATION", context, CALIBRATION)},
            "outputs": {
                "dir": out_dir,
                "name": self.text(parameters, "NAME", context) or "ntmgis",
                "maps": self.parameterAsBool(parameters, "MAPS", context),
                "paper": self.paper(parameters, context),
                "report": True,
            },
        }
        raw["imagery"] = {"coregister": self.parameterAsBool(parameters, "COREGISTER", context)}
        period = self.period(parameters, context)
        if period:
            raw["imagery"]["period"] = period
        commune = {}
        name = self.text(parameters, "COMMUNE", context)
        if name:
            commune["name"] = name
        if parameters.get("YEAR") not in (None, ""):
            commune["year"] = self.parameterAsInt(parameters, "YEAR", context)
        if commune:
            raw["commune"] = commune
        return raw

    def process(self, parameters, context, feedback):
        from ntmgis import load_config, run

        final = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        with Staging(final) as staging:
            raw = self.build_config(parameters, context, feedback, staging.path)
            config = self.call(feedback, load_config, raw, progress=False)
            result = self.call(feedback, run, config, abandon=staging.cleanup)
            self.check_cancel(feedback)
            moved = staging.publish()
        for message in result.messages:
            for line in str(message).splitlines():
                feedback.pushInfo(line)
        # RunResult.outputs is keyed by kind ("gpkg", "report_xlsx", "report_pdf", "maps_pdf"):
        # the progress report has a PDF of its own, so a file's suffix does not say what it is
        where = {k: moved.get(os.path.realpath(str(p)), str(p)) for k, p in result.outputs.items()}
        paths = list(where.values())
        gpkg = where["gpkg"]
        report = where.get("report_xlsx")
        maps = where.get("maps_pdf")
        parcels_uri = f"{gpkg}|layername=parcels"
        hamlets_uri = f"{gpkg}|layername=hamlets"
        suffix = layer_suffix(config)
        self.load_on_completion(context, hamlets_uri, self.tr("Hamlets") + suffix, "HAMLETS_LAYER")
        self.load_on_completion(
            context, parcels_uri, self.tr("Flagged parcels") + suffix, "PARCELS_LAYER"
        )
        return {
            "OUTPUT_FOLDER": final,
            "GPKG": gpkg,
            "PARCELS_LAYER": parcels_uri,
            "HAMLETS_LAYER": hamlets_uri,
            "REPORT": report,
            "MAPS_PDF": maps,
            "FILES": sorted(os.path.basename(p) for p in paths),
        }


def layer_suffix(config):
    """`` – <commune> – <period>`` for the result layers' names (empty parts left out)."""
    parts = []
    commune = getattr(config, "commune", None)
    if commune:
        parts.append(str(commune))
    period = getattr(config, "period", None)
    if period:
        start, _, end = str(period).partition(":")
        parts.append(f"{start} – {end}" if end else start)
    elif getattr(config, "year", None):
        parts.append(str(config.year))
    return "".join(f" – {p}" for p in parts)
