"""The plugin object QGIS creates: translations, the Processing provider, the menu entry.

Nothing here imports ntmgis or its libraries at start-up: :mod:`deps` checks them, and
when they are missing the actions explain what to install instead of failing, so QGIS
always starts normally.
"""

import os

from qgis.core import Qgis, QgsApplication
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QMessageBox

try:  # Qt6 (QGIS 4): QAction lives in QtGui
    from qgis.PyQt.QtGui import QAction
except ImportError:  # Qt5
    from qgis.PyQt.QtWidgets import QAction

from . import deps, teardown
from .provider import NtmgisProvider
from .translate import (  # noqa: F401 - set_library_language: the plugin's API
    install_translator,
    qgis_locale,
    remove_translator,
    set_library_language,
    tr,
)

ICON = os.path.join(os.path.dirname(__file__), "icon.svg")


class NtmgisPlugin:
    def __init__(self, iface):  # noqa: QGS105 - classFactory hands QGIS its iface
        self.iface = iface
        self.provider = None
        self.translator = install_translator()
        self.qt_translator = install_translator(prefix="qtbase")
        self.language = set_library_language(qgis_locale())
        self.actions = []
        self.toolbar = None
        self.dialog = None
        self.menu = tr("NTM GIS")

    def initProcessing(self):  # noqa: N802 - QGIS API name
        self.provider = NtmgisProvider()
        if not QgsApplication.processingRegistry().addProvider(self.provider):
            self.provider = None  # a provider "ntmgis" is there already (another copy)

    def initGui(self):  # noqa: N802 - QGIS API name
        self.initProcessing()
        main = QAction(QIcon(ICON), tr("Vườn hoang hóa"), self.iface.mainWindow())
        main.setObjectName("ntmgis_abandoned_gardens")
        main.setToolTip(tr("Flag abandoned gardens of a commune (survey + Sentinel-2)"))
        main.triggered.connect(self.open_dialog)
        check = QAction(tr("Check the ntmgis installation"), self.iface.mainWindow())
        check.setObjectName("ntmgis_check_dependencies")
        check.triggered.connect(self.show_dependencies)
        install = QAction(tr("Install the libraries"), self.iface.mainWindow())
        install.setObjectName("ntmgis_install_dependencies")
        install.triggered.connect(self.install_libraries)
        self.toolbar = self.iface.addToolBar(tr("NTM GIS"))
        self.toolbar.setObjectName("ntmgis_toolbar")
        self.toolbar.addAction(main)
        for action in (main, check, install):
            self.iface.addPluginToMenu(self.menu, action)
            self.actions.append(action)
        teardown.install()
        missing = deps.check(quick=True)  # no heavy imports while QGIS starts
        conflict = [] if missing else deps.start_up_conflicts()
        if conflict:
            self.iface.messageBar().pushMessage(
                "NTM GIS", conflict[0], Qgis.MessageLevel.Critical, 0
            )
        if missing:
            self.iface.messageBar().pushMessage(
                "NTM GIS",
                tr("ntmgis or its libraries are missing: menu NTM GIS > Install the libraries "
                   "installs them (Check the ntmgis installation says what is missing)."),
                Qgis.MessageLevel.Warning, 10,
            )  # fmt: skip

    def open_dialog(self):
        """The "Vườn hoang hóa" dialog, or what to install when ntmgis is missing."""
        missing = deps.check()
        if missing:
            self.show_dependencies()
            return None
        from .dialogs.abandoned_gardens import AbandonedGardensDialog

        if self.dialog is None:
            self.dialog = AbandonedGardensDialog(self.iface, parent=self.iface.mainWindow())
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def show_dependencies(self, smoke=True):
        """What is missing and how to install it; with everything there, a real smoke test.

        The smoke test reads, reprojects and writes a GeoPackage with the libraries inside
        this QGIS's process (``deps.smoke_test``), where conflicts with QGIS's own GEOS,
        GDAL and PROJ show.
        """
        missing = deps.check(refresh=True)
        text = deps.install_help(missing)
        if not missing:
            lines = [text, ""] + deps.versions_report()
            if smoke:
                import tempfile

                with tempfile.TemporaryDirectory(prefix="ntmgis-check-") as folder:
                    self.smoke = deps.smoke_test(folder)
                lines.append(tr("Smoke test (read, reproject, write a GeoPackage):"))
                lines += [
                    f"  {'✔' if ok else '✘'} {step}: {detail}" for step, ok, detail in self.smoke
                ]
                if not all(ok for _, ok, _ in self.smoke):
                    missing = [("smoke", "", "")]
            text = "\n".join(lines)
        box = QMessageBox(
            QMessageBox.Icon.Warning if missing else QMessageBox.Icon.Information,
            tr("NTM GIS"), text, QMessageBox.StandardButton.Ok, self.iface.mainWindow(),
        )  # fmt: skip
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setModal(False)
        box.show()
        self._box = box
        return text

    def install_libraries(self, ask=True):
        """Ask, then install ntmgis and its pinned libraries into this profile (progress, log)."""
        from .install_dialog import run_installer

        return run_installer(self.iface.mainWindow(), ask=ask)

    def unload(self):
        for action in self.actions:
            if hasattr(self.iface, "removePluginMenu"):  # test interfaces may lack it
                self.iface.removePluginMenu(self.menu, action)
        self.actions = []
        if self.toolbar is not None:
            self.toolbar.deleteLater()
            self.toolbar = None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)  # noqa: QGS202
            self.provider = None
        remove_translator(self.translator)
        remove_translator(self.qt_translator)
        self.translator = self.qt_translator = None
