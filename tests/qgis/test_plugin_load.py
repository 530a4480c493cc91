from qgis.core import QgsApplication


def test_plugin_loads_registers_provider_and_unloads(qgis_app, qgis_iface):
    import ntmgis_qgis

    plugin = ntmgis_qgis.classFactory(qgis_iface)
    plugin.initGui()
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("ntmgis")
    assert provider is not None
    assert provider.name() == "NTM GIS"
    plugin.unload()
    assert registry.providerById("ntmgis") is None


def test_metadata_declares_processing_provider_and_minimum_version():
    import configparser
    from pathlib import Path

    import ntmgis_qgis

    meta = configparser.ConfigParser()
    meta.read(Path(ntmgis_qgis.__file__).with_name("metadata.txt"), encoding="utf-8")
    general = meta["general"]
    assert general["hasProcessingProvider"] == "yes"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["supportsQt6"] == "True"


def test_library_imports_inside_qgis_python():
    import ntmgis

    assert ntmgis.__version__
