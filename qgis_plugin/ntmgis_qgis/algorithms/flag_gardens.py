"""Flag abandoned gardens: the whole chain (``ntmgis.pipeline.run``) on a config built here."""

import os
import shutil

from qgis.core import (
    QgsProcessing,
    QgsProcessingOutputFile,
    QgsProcessingOutputVectorLayer,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)

from .base import NtmgisAlgorithm, publish, staging_folder

CALIBRATION = ["auto", "rules"]
PAPERS = ["A4", "A3"]


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
        polygon = [QgsProcessing.SourceType.TypeVectorPolygon]
        self.addParameter(
            QgsProcessingParameterVectorLayer("PARCELS", self.tr("Parcel layer"), polygon)
        )
        self.addParameter(
            QgsProcessingParameterFile(
                "IMAGERY", self.tr("Imagery folder (one folder per scene, or STAC)"),
                behavior=QgsProcessingParameterFile.Behavior.Folder,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterString(
                "PERIOD", self.tr("Period (START:END, e.g. 2020-01-01:2020-12-31)"),
                optional=True,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterFile(
                "SURVEY", self.tr("Survey file (CSV or XLSX)"), optional=True,
                fileFilter=self.tr("Survey tables (*.xlsx *.csv)"),
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterVectorLayer(
                "HAMLETS", self.tr("Hamlet boundaries"), polygon, optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                "TARGETS", self.tr("Hamlet targets (CSV or XLSX)"), optional=True,
                fileFilter=self.tr("Tables (*.xlsx *.csv)"),
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterFile(
                "BASELINE", self.tr("Baseline result of an earlier campaign (GeoPackage)"),
                optional=True, fileFilter="GeoPackage (*.gpkg)",
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterString("COMMUNE", self.tr("Commune name"), optional=True)
        )
        self.addParameter(
            QgsProcessingParameterNumber(
                "YEAR", self.tr("Year"), QgsProcessingParameterNumber.Type.Integer,
                optional=True, minValue=1990, maxValue=2100,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterEnum(
                "CALIBRATION", self.tr("Flag thresholds"),
                options=[self.tr("calibrated on the survey when it has enough labels"),
                         self.tr("fixed rules")],
                defaultValue=0,
            )
        )  # fmt: skip
        self.addParameter(
            QgsProcessingParameterBoolean("MAPS", self.tr("Print the hamlet maps (PDF)"), True)
        )
        self.addParameter(
            QgsProcessingParameterEnum("PAPER", self.tr("Paper"), options=PAPERS, defaultValue=0)
        )
        self.addParameter(
            QgsProcessingParameterString(
                "NAME", self.tr("Output name"), defaultValue="ntmgis", optional=True
            )
        )
        self.addParameter(
            QgsProcessingParameterFolderDestination("OUTPUT_FOLDER", self.tr("Output folder"))
        )
        self.addOutput(QgsProcessingOutputFile("GPKG", self.tr("Result GeoPackage")))
        self.addOutput(QgsProcessingOutputVectorLayer("PARCELS_LAYER", self.tr("Flagged parcels")))
        self.addOutput(QgsProcessingOutputVectorLayer("HAMLETS_LAYER", self.tr("Hamlets")))
        self.addOutput(QgsProcessingOutputFile("REPORT", self.tr("Progress report (XLSX)")))
        self.addOutput(QgsProcessingOutputFile("MAPS_PDF", self.tr("Hamlet maps (PDF)")))

    def build_config(self, parameters, context, feedback, out_dir):
        """The run configuration (the TOML schema of ``ntmgis.config``) of the parameters."""
        parcels, parcels_layer = self.vector_source(parameters, "PARCELS", context, feedback)
        inputs = {
            "parcels": parcels,
            "imagery": self.parameterAsFile(parameters, "IMAGERY", context),
        }
        if parcels_layer:
            inputs["parcels_layer"] = parcels_layer
        if parameters.get("HAMLETS"):
            hamlets, hamlets_layer = self.vector_source(parameters, "HAMLETS", context, feedback)
            inputs["hamlets"] = hamlets
            if hamlets_layer:
                inputs["hamlets_layer"] = hamlets_layer
        for key in ("survey", "targets", "baseline"):
            value = self.optional_file(parameters, key.upper(), context)
            if value:
                inputs[key] = value
        raw = {
            "inputs": inputs,
            "flags": {
                "calibration": CALIBRATION[self.parameterAsEnum(parameters, "CALIBRATION", context)]
            },
            "outputs": {
                "dir": out_dir,
                "name": self.parameterAsString(parameters, "NAME", context).strip() or "ntmgis",
                "maps": self.parameterAsBool(parameters, "MAPS", context),
                "paper": PAPERS[self.parameterAsEnum(parameters, "PAPER", context)],
                "report": True,
            },
        }
        period = self.parameterAsString(parameters, "PERIOD", context).strip()
        if period:
            raw["imagery"] = {"period": period}
        commune = {}
        name = self.parameterAsString(parameters, "COMMUNE", context).strip()
        if name:
            commune["name"] = name
        if parameters.get("YEAR") not in (None, ""):
            commune["year"] = self.parameterAsInt(parameters, "YEAR", context)
        if commune:
            raw["commune"] = commune
        return raw

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API name
        outputs = ("GPKG", "PARCELS_LAYER", "HAMLETS_LAYER", "REPORT", "MAPS_PDF")
        return self.run_cancellable(
            lambda: self._run(parameters, context, feedback), feedback, outputs
        )

    def _run(self, parameters, context, feedback):
        self.check_deps()
        from ntmgis import load_config, run

        final = self.parameterAsString(parameters, "OUTPUT_FOLDER", context)
        existed = os.path.isdir(final)
        staging = staging_folder(final)
        done = False
        try:
            raw = self.build_config(parameters, context, feedback, staging)
            config = self.call(feedback, load_config, raw, progress=False)
            result = self.call(feedback, run, config)
            self.check_cancel(feedback)
            moved = publish(staging, final)
            done = True
        finally:
            shutil.rmtree(staging, ignore_errors=True)
            if not done and not existed and os.path.isdir(final) and not os.listdir(final):
                os.rmdir(final)  # a failed or cancelled run leaves no empty folder
        for message in result.messages:
            for line in str(message).splitlines():
                feedback.pushInfo(line)
        moved = {os.path.realpath(old): new for old, new in moved.items()}
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
