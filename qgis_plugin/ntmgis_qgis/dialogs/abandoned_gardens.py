"""The "Vườn hoang hóa" dialog: the whole chain on a commune, run as a background task.

It fills the parameters of the ``ntmgis:flag_abandoned_gardens`` algorithm, runs it with
``QgsProcessingAlgRunnerTask`` in QGIS's task manager (progress bar, cancel), and adds
the styled result layers (styles embedded by the library) to the project, named by the
commune and the period. The commune name is prefilled from the data (the GeoPackage's
``commune`` layer, else the parcels' DIADANH), the period from the imagery found
(``ntmgis.find_scenes``). A run into a folder that holds an earlier result asks first.
"""

import datetime
import os
import re

from qgis.core import (
    QgsApplication,
    QgsMapLayerProxyModel,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)
from qgis.gui import QgsFileWidget, QgsMapLayerComboBox
from qgis.PyQt.QtCore import QDate, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ..translate import tr

ALGORITHM = "ntmgis:flag_abandoned_gardens"
#: "Tải ảnh Sentinel-2 cho xã": the provider's FetchImagery (provider id "ntmgis", NAME
#: "fetch_imagery"), opened by the "Tải ảnh…" button
FETCH_ALGORITHM = "ntmgis:fetch_imagery"


class DialogFeedback(QgsProcessingFeedback):
    """The run's feedback, handing its stage texts and warnings to the dialog.

    The algorithm calls it from the task's thread; the signals reach the dialog in the
    GUI thread (queued), already in the user's language (``ntmgis.i18n.stage``).
    """

    stage = pyqtSignal(str)
    warning = pyqtSignal(str)

    def setProgressText(self, text):  # noqa: N802 - QGIS API name
        super().setProgressText(text)
        self.stage.emit(text)

    def pushWarning(self, text):  # noqa: N802 - QGIS API name
        super().pushWarning(text)
        self.warning.emit(text)


class AbandonedGardensDialog(QDialog):
    """Parcel layer, survey file, imagery folder, period -> flagged parcels and hamlets."""

    def __init__(self, iface=None, parent=None):  # noqa: QGS105 - tests pass their iface
        super().__init__(parent)
        self.iface = iface
        self.task = None
        self.context = None
        self.feedback = None
        self.results = None
        self.added_layers = []
        self.cancelled = False
        self.status_at_cancel = None
        self.confirm = None  # tests: a callable answering the overwrite question
        self.setWindowTitle(tr("Vườn hoang hóa – flag abandoned gardens"))
        polygons = QgsMapLayerProxyModel.Filter.PolygonLayer
        self.parcels = QgsMapLayerComboBox(self)
        self.parcels.setFilters(polygons)
        self.hamlets = QgsMapLayerComboBox(self)
        self.hamlets.setFilters(polygons)
        self.hamlets.setAllowEmptyLayer(True)
        self.hamlets.setLayer(None)
        self.survey = QgsFileWidget(self)
        self.survey.setFilter(tr("Survey tables (*.xlsx *.csv)"))
        self.imagery = QgsFileWidget(self)
        self.imagery.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.targets = QgsFileWidget(self)
        self.targets.setFilter(tr("Tables (*.xlsx *.csv)"))
        self.output = QgsFileWidget(self)
        self.output.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        year = datetime.date.today().year - 1
        self.start = QDateEdit(QDate(year, 1, 1), self)
        self.end = QDateEdit(QDate(year, 12, 31), self)
        for edit in (self.start, self.end):
            edit.setDisplayFormat("dd/MM/yyyy")
            edit.setCalendarPopup(True)
        self.maps = QCheckBox(tr("Print the hamlet maps (PDF)"), self)
        self.maps.setChecked(True)
        self.commune = QLineEdit(self)
        self.commune.setPlaceholderText(tr("e.g. Xã Thanh Bình"))
        self.period_note = QLabel("", self)
        self.period_note.setWordWrap(True)
        self.parcels.layerChanged.connect(self.prefill_commune)
        self.imagery.fileChanged.connect(self.prefill_period)

        form = QFormLayout()
        form.addRow(tr("Parcel layer"), self.parcels)
        form.addRow(tr("Commune"), self.commune)
        form.addRow(tr("Survey file (CSV or XLSX)"), self.survey)
        imagery_row = QHBoxLayout()
        imagery_row.addWidget(self.imagery)
        self.fetch_button = QPushButton(tr("Download…"), self)
        self.fetch_button.setToolTip(tr("Download Sentinel-2 scenes of the commune"))
        self.fetch_button.clicked.connect(self.fetch_imagery)
        self.fetch_button.setVisible(
            QgsApplication.processingRegistry().algorithmById(FETCH_ALGORITHM) is not None
        )
        imagery_row.addWidget(self.fetch_button)
        form.addRow(tr("Imagery folder"), imagery_row)
        period = QHBoxLayout()
        period.addWidget(self.start)
        period.addWidget(QLabel("–", self))
        period.addWidget(self.end)
        form.addRow(tr("Period"), period)
        form.addRow("", self.period_note)
        form.addRow(tr("Hamlet boundaries (optional)"), self.hamlets)
        form.addRow(tr("Hamlet targets (optional)"), self.targets)
        form.addRow(tr("Output folder"), self.output)
        form.addRow("", self.maps)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
        self.log = QPlainTextEdit(self)  # the library's warnings, one a line
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(500)
        self.log.setVisible(False)
        self.stages = []
        self.warnings = []
        self.buttons = QDialogButtonBox(self)
        self.run_button = QPushButton(tr("Run"), self)
        self.cancel_button = QPushButton(tr("Cancel"), self)
        self.cancel_button.setEnabled(False)
        self.buttons.addButton(self.run_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.run_button.clicked.connect(self.start_task)
        self.cancel_button.clicked.connect(self.cancel_task)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.log)
        layout.addWidget(self.buttons)
        self.prefill_commune(self.parcels.currentLayer())

    # -- prefilled from the data ----------------------------------------------------------
    def prefill_commune(self, layer=None):
        """The commune's name from the data: a ``commune`` layer beside the parcels, else
        the commune part of the parcels' DIADANH ("Xóm 1, xã Nghi Phong"). Kept when typed."""
        if layer is None or self.commune.isModified():
            return self.commune.text()
        name = commune_from_layer(layer)
        if name:
            self.commune.setText(name)
        return self.commune.text()

    def prefill_period(self, folder=None):
        """The period of the imagery found in ``folder``: first to last scene date."""
        folder = folder or self.imagery.filePath()
        if not folder or not os.path.isdir(folder):
            return None
        try:
            from ntmgis import find_scenes

            dates = sorted(s.date for s in find_scenes(folder, on_error="skip") if s.date)
        except Exception as exc:  # an unreadable folder: say so, keep the dates
            self.period_note.setText(str(exc).splitlines()[0])
            return None
        if not dates:
            self.period_note.setText(tr("No dated scenes found in this folder."))
            return None
        first, last = dates[0], dates[-1]
        self.start.setDate(QDate(first.year, first.month, first.day))
        self.end.setDate(QDate(last.year, last.month, last.day))
        self.period_note.setText(
            tr("{0} scenes from {1} to {2}.").format(
                len(dates), first.strftime("%d/%m/%Y"), last.strftime("%d/%m/%Y")
            )
        )
        return self.period()

    def fetch_imagery(self):
        """Open the imagery download algorithm (``ntmgis:fetch_imagery``), prefilled with
        the parcel layer and the period; the folder it fetched into becomes the imagery
        folder (and the period is read back from the scenes)."""
        from qgis import processing

        initial = {"PERIOD": self.period()}
        if self.parcels.currentLayer() is not None:
            initial["COMMUNE"] = self.parcels.currentLayer()
        results = processing.execAlgorithmDialog(FETCH_ALGORITHM, initial) or {}
        folders = [v for v in results.values() if isinstance(v, str) and os.path.isdir(v)]
        if folders:
            self.imagery.setFilePath(folders[0])
            self.prefill_period(folders[0])
        return folders[0] if folders else None

    def output_name(self):
        """The file name of the results: the commune's name folded (``xa_nghi_phong``)."""
        from ntmgis.text import fold

        slug = re.sub(r"[^a-z0-9]+", "_", fold(self.commune.text())).strip("_")
        return slug or "ntmgis"

    def existing_results(self, folder=None):
        """The files of an earlier result in the output folder that a run would replace."""
        folder = folder or self.output.filePath()
        if not folder or not os.path.isdir(folder):
            return []
        name = self.output_name()
        prefixes = (name + ".", "bao_cao_tien_do", "ban_do_")
        return sorted(f for f in os.listdir(folder) if f.startswith(prefixes))

    def overwrite_question_text(self):
        """The question asked before a run replaces an earlier result."""
        files = self.existing_results()
        return tr("The folder {0} already holds results ({1}). Replace them?").format(
            self.output.filePath(), ", ".join(files[:4]) + (" …" if len(files) > 4 else "")
        )

    def may_overwrite(self):
        """True when nothing would be replaced, or the user agrees to replace it."""
        if not self.existing_results():
            return True
        if self.confirm is not None:
            return bool(self.confirm(self.overwrite_question_text()))
        answer = QMessageBox.question(
            self, tr("Vườn hoang hóa – flag abandoned gardens"), self.overwrite_question_text(),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )  # fmt: skip
        return answer == QMessageBox.StandardButton.Yes

    def period(self):
        """The period ``YYYY-MM-DD:YYYY-MM-DD`` of the date fields."""
        return (
            f"{self.start.date().toString('yyyy-MM-dd')}:{self.end.date().toString('yyyy-MM-dd')}"
        )

    def parameters(self):
        """The algorithm's parameters from the fields; raise ValueError naming a missing one."""
        layer = self.parcels.currentLayer()
        if layer is None:
            raise ValueError(tr("Choose the parcel layer."))
        if not os.path.isdir(self.imagery.filePath()):
            raise ValueError(tr("Choose the imagery folder."))
        if not self.output.filePath():
            raise ValueError(tr("Choose the output folder."))
        if not self.commune.text().strip():
            raise ValueError(tr("Type the commune's name (it titles the maps and the report)."))
        params = {
            "PARCELS": layer,
            "IMAGERY": self.imagery.filePath(),
            "PERIOD": self.period(),
            "MAPS": self.maps.isChecked(),
            "OUTPUT_FOLDER": self.output.filePath(),
            "YEAR": self.end.date().year(),
            "COMMUNE": self.commune.text().strip(),
            "NAME": self.output_name(),
        }
        if self.survey.filePath():
            params["SURVEY"] = self.survey.filePath()
        if self.targets.filePath():
            params["TARGETS"] = self.targets.filePath()
        if self.hamlets.currentLayer() is not None:
            params["HAMLETS"] = self.hamlets.currentLayer()
        return params

    def start_task(self):
        """Start the chain as a background task; return it (None when a field is missing)."""
        try:
            params = self.parameters()
        except ValueError as exc:
            self.status.setText(str(exc))
            return None
        algorithm = QgsApplication.processingRegistry().createAlgorithmById(ALGORITHM)
        if algorithm is None:
            self.status.setText(tr("The NTM GIS Processing provider is not loaded."))
            return None
        ok, message = algorithm.canExecute()
        if not ok:
            self.status.setText(message)
            return None
        if not self.may_overwrite():
            self.status.setText(tr("Nothing was run: the earlier results are kept."))
            return None
        self.results = None
        self.cancelled = False
        self.context = QgsProcessingContext()
        self.context.setProject(QgsProject.instance())
        self.stages, self.warnings = [], []
        self.log.clear()
        self.log.setVisible(False)
        self.feedback = DialogFeedback()
        self.feedback.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.feedback.stage.connect(self.show_stage)
        self.feedback.warning.connect(self.add_warning)
        self.task = QgsProcessingAlgRunnerTask(algorithm, params, self.context, self.feedback)
        self.task.executed.connect(self.task_finished)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(tr("Running… (you can keep working in QGIS)"))
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def show_stage(self, text):
        """The library's stage, in the user's language, under the progress bar."""
        if self.task is None or self.cancelled:
            return  # "Đang hủy…" stays until the run has stopped
        self.stages.append(text)
        self.status.setText(tr("Running: {0} (you can keep working in QGIS)").format(text))

    def add_warning(self, text):
        """One warning of the library (repeated ones come grouped) in the log below."""
        if self.cancelled:
            return
        self.warnings.append(text)
        self.log.appendPlainText(text)
        self.log.setVisible(True)

    def cancel_task(self):
        """Cancel the running task: said at once, the library stops at its next step."""
        if self.task is not None:
            self.cancelled = True
            self.cancel_button.setEnabled(False)
            self.status.setText(tr("Cancelling…"))
            self.status_at_cancel = self.status.text()  # what the click showed at once
            if self.feedback is not None:
                self.feedback.cancel()
            self.task.cancel()

    def task_finished(self, ok, results):
        """Add the styled layers of a successful run; say what went wrong otherwise."""
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.task = None
        cancelled = self.cancelled or (self.feedback is not None and self.feedback.isCanceled())
        if cancelled or (results or {}).get("CANCELLED"):
            self.status.setText(tr("Cancelled: nothing was written."))
            self.progress.setValue(0)  # noqa: QGS202 - a QProgressBar
            return
        if not ok:
            log = self.feedback.textLog().strip().splitlines() if self.feedback else []
            detail = log[-1] if log else ""
            self.status.setText(tr("The run stopped: {0}").format(detail))
            return
        self.results = results
        self.added_layers = []
        suffix = f" – {self.commune.text().strip()} – " + self.period().replace(":", " – ")
        for key, name in (
            ("HAMLETS_LAYER", tr("Hamlets") + suffix),
            ("PARCELS_LAYER", tr("Flagged parcels") + suffix),
        ):
            layer = QgsVectorLayer(results[key], name, "ogr")
            if layer.isValid() and QgsProject.instance().addMapLayer(layer) is not None:
                self.added_layers.append(layer)
        self.progress.setValue(100)  # noqa: QGS202 - a QProgressBar
        done = tr("Done: {0}").format(results.get("GPKG", ""))
        if self.warnings:
            done += " " + tr("({0} warnings, listed below)").format(len(self.warnings))
        self.status.setText(done)


def commune_from_layer(layer):
    """The commune's name written in the data of ``layer`` (a QGIS vector layer), or ""."""
    source = layer.source().split("|")[0] if layer is not None else ""
    if source.lower().endswith(".gpkg"):
        commune = QgsVectorLayer(f"{source}|layername=commune", "commune", "ogr")
        if commune.isValid():
            names = [f.name() for f in commune.fields()]
            for field in ("ten_xa", "TENXA", "name", "ten", "commune"):
                if field in names:
                    for feature in commune.getFeatures():
                        value = feature[field]
                        if value:
                            return str(value).strip()
    fields = [f.name() for f in layer.fields()] if layer is not None else []
    field = next((f for f in fields if f.upper() == "DIADANH"), None)
    if field is None:
        return ""
    counts = {}
    for index, feature in enumerate(layer.getFeatures()):
        if index >= 2000:
            break
        for part in str(feature[field] or "").split(","):
            part = part.strip()
            if re.match(r"(?i)^(xã|xa|thị trấn|phường)\s", part):
                key = part[0].upper() + part[1:]
                counts[key] = counts.get(key, 0) + 1
    return max(counts, key=counts.get) if counts else ""
