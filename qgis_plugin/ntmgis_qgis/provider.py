"""The "NTM GIS" Processing provider; each algorithm is one short file calling ntmgis."""

from qgis.core import QgsProcessingProvider

from .translate import tr


class NtmgisProvider(QgsProcessingProvider):
    def id(self):
        return "ntmgis"

    def name(self):
        return "NTM GIS"

    def longName(self):  # noqa: N802 - QGIS API name
        return tr("NTM GIS: gardens and hamlets for the New Rural Development programme")

    def loadAlgorithms(self):  # noqa: N802 - QGIS API name
        from .algorithms import algorithm_classes

        for cls in algorithm_classes():
            self.addAlgorithm(cls())

    def tr(self, text):
        return tr(text)
