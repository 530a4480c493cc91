"""The "Vườn hoang hóa" dialog: the whole chain on a commune, run as a background task.

It fills the parameters of the ``ntmgis:flag_abandoned_gardens`` algorithm, runs it with
``QgsProcessingAlgRunnerTask`` in QGIS's task manager (progress bar, cancel), and adds
the styled result layers (styles embedded by the library) to the project.
"""

import datetime
import os

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
from qgis.PyQt.QtCore import QDate
from qgis.PyQt.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from ..translate import tr

ALGORITHM = "ntmgis:flag_abandoned_gardens"


class AbandonedGardensDialog(QDialog):
    """Parcel layer, survey file, imagery folder, period -> flagged parcels and hamlets."""

    def __init__(self, iface=None, parent=None):
        super().__init__(parent)
        self.iface = iface
        self.task = None
        self.context = None
        self.feedback = None
        self.results = None
        self.added_layers = []
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

        form = QFormLayout()
        form.addRow(tr("Parcel layer"), self.parcels)
        form.addRow(tr("Survey file (CSV or XLSX)"), self.survey)
        form.addRow(tr("Imagery folder"), self.imagery)
        period = QHBoxLayout()
        period.addWidget(self.start)
        period.addWidget(QLabel("–", self))
        period.addWidget(self.end)
        form.addRow(tr("Period"), period)
        form.addRow(tr("Hamlet boundaries (optional)"), self.hamlets)
        form.addRow(tr("Hamlet targets (optional)"), self.targets)
        form.addRow(tr("Output folder"), self.output)
        form.addRow("", self.maps)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.status = QLabel("", self)
        self.status.setWordWrap(True)
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
        layout.addWidget(self.buttons)

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
        params = {
            "PARCELS": layer,
            "IMAGERY": self.imagery.filePath(),
            "PERIOD": self.period(),
            "MAPS": self.maps.isChecked(),
            "OUTPUT_FOLDER": self.output.filePath(),
            "YEAR": self.start.date().year(),
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
        self.results = None
        self.context = QgsProcessingContext()
        self.context.setProject(QgsProject.instance())
        self.feedback = QgsProcessingFeedback()
        self.feedback.progressChanged.connect(lambda value: self.progress.setValue(int(value)))
        self.task = QgsProcessingAlgRunnerTask(algorithm, params, self.context, self.feedback)
        self.task.executed.connect(self.task_finished)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.status.setText(tr("Running… (you can keep working in QGIS)"))
        QgsApplication.taskManager().addTask(self.task)
        return self.task

    def cancel_task(self):
        """Cancel the running task (the library stops within seconds, writing nothing)."""
        if self.task is not None:
            self.task.cancel()

    def task_finished(self, ok, results):
        """Add the styled layers of a successful run; say what went wrong otherwise."""
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.task = None
        if not ok:
            log = self.feedback.textLog().strip().splitlines() if self.feedback else []
            detail = log[-1] if log else ""
            self.status.setText(tr("The run stopped: {0}").format(detail))
            return
        self.results = results
        self.added_layers = []
        for key, name in (
            ("HAMLETS_LAYER", tr("Hamlets")),
            ("PARCELS_LAYER", tr("Flagged parcels")),
        ):
            layer = QgsVectorLayer(results[key], name, "ogr")
            if layer.isValid():
                QgsProject.instance().addMapLayer(layer)
                self.added_layers.append(layer)
        self.progress.setValue(100)
        self.status.setText(tr("Done: {0}").format(results.get("GPKG", "")))
