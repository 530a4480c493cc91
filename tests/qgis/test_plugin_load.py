"""The plugin loads and unloads cleanly, with or without the ntmgis library."""

import configparser
from pathlib import Path

from qgis.core import QgsApplication

ALGORITHMS = {
    "join_survey",
    "vegetation_indices",
    "parcel_statistics",
    "flag_abandoned_gardens",
    "hamlet_progress",
    "print_hamlet_maps",
    "print_atlas",
    "survey_form",  # the commune plan's algorithms (issue 18)
    "renovation_plan",
}


def _messages(iface):
    return [m for messages in iface.messageBar().messages.values() for m in messages]


MISSING = [("ntmgis", "ntmgis", "ModuleNotFoundError: No module named 'ntmgis'")]


def test_plugin_loads_registers_provider_toolbar_menu_and_unloads(qgis_app, qgis_iface):
    import ntmgis_qgis

    plugin = ntmgis_qgis.classFactory(qgis_iface)
    plugin.initGui()
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("ntmgis")
    assert provider is not None
    assert provider.name() == "NTM GIS"
    assert {alg.name() for alg in provider.algorithms()} == ALGORITHMS
    assert [a.text() for a in plugin.toolbar.actions()] == ["Vườn hoang hóa"]
    assert [a.objectName() for a in plugin.actions] == [
        "ntmgis_abandoned_gardens",
        "ntmgis_check_dependencies",
    ]
    assert not any("missing" in m for m in _messages(qgis_iface))  # all installed
    plugin.unload()
    assert registry.providerById("ntmgis") is None
    assert plugin.toolbar is None and plugin.actions == []


def test_metadata_declares_processing_provider_and_minimum_version():
    import ntmgis_qgis

    meta = configparser.ConfigParser()
    meta.read(Path(ntmgis_qgis.__file__).with_name("metadata.txt"), encoding="utf-8")
    general = meta["general"]
    assert general["hasProcessingProvider"] == "yes"
    assert general["qgisMinimumVersion"] == "3.22"
    assert general["supportsQt6"] == "True"


def test_library_imports_inside_qgis_python():
    from ntmgis_qgis import deps

    import ntmgis

    assert ntmgis.__version__
    assert deps.check(refresh=True) == []


def test_missing_library_is_detected_and_explained(qgis_app, monkeypatch):
    import sys

    from ntmgis_qgis import deps

    monkeypatch.setitem(sys.modules, "ntmgis", None)  # "import ntmgis" now fails
    try:
        missing = deps.check(refresh=True)
        assert [m[0] for m in missing] == ["ntmgis"]
        assert "ntmgis" in missing[0][2]
        windows = deps.install_help(missing, system="Windows")
        assert "OSGeo4W Shell" in windows
        assert "python -m pip install ntmgis" in windows
        linux = deps.install_help(missing, system="Linux")
        assert f"python3.{sys.version_info.minor} -m pip install --user" in linux
        assert '"numpy<2"' in linux
    finally:
        monkeypatch.undo()
        assert deps.check(refresh=True) == []


def test_quick_start_up_check_finds_what_is_not_installed(monkeypatch):
    from ntmgis_qgis import deps

    extra = ("ntmgis_no_such_module", "ntmgis-extra")
    monkeypatch.setattr(deps, "REQUIRED", [*deps.REQUIRED, extra])
    monkeypatch.setattr(deps, "_cache", {})
    assert deps.check(quick=True) == [(*extra, "not installed")]
    assert deps._cache == {}  # the quick check caches nothing: the full one runs later


def test_without_the_library_qgis_starts_and_the_actions_explain(qgis_app, qgis_iface, monkeypatch):
    import ntmgis_qgis
    from ntmgis_qgis import deps

    monkeypatch.setattr(deps, "check", lambda refresh=False, quick=False: list(MISSING))
    plugin = ntmgis_qgis.classFactory(qgis_iface)
    plugin.initGui()  # never a traceback at start-up
    try:
        assert any("Check the ntmgis installation" in m for m in _messages(qgis_iface))
        assert plugin.open_dialog() is None  # the dialog explains instead of opening
        text = plugin._box.text()
        assert "-m pip install" in text and " ntmgis " in text
        provider = QgsApplication.processingRegistry().providerById("ntmgis")
        ok, message = provider.algorithm("flag_abandoned_gardens").canExecute()
        assert not ok
        assert "ntmgis" in message and "pip install" in message
    finally:
        plugin.unload()
