"""The "NTM GIS" Processing provider; each algorithm is one short file calling ntmgis."""

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtCore import QCoreApplication


class NtmgisProvider(QgsProcessingProvider):
    def id(self):
        return "ntmgis"

    def name(self):
        return "NTM GIS"

    def longName(self):  # noqa: N802 - QGIS API name
        return self.tr("NTM GIS: gardens and hamlets for nông thôn mới")

    def loadAlgorithms(self):  # noqa: N802 - QGIS API name
        """Algorithms are added here as the library's stages land."""

    def tr(self, text):
        return QCoreApplication.translate("NtmgisProvider", text)
