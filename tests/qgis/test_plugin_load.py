"""The plugin loads and unloads cleanly, with or without the ntmgis library."""

import configparser
from pathlib import Path

from qgis.core import QgsApplication

ALGORITHMS = {
    "join_survey",
    "fetch_imagery",
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
        "ntmgis_install_dependencies",
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
        windows = deps.install_help(missing, system="Windows", conflict=[])
        assert "Install the libraries" in windows  # the installer first, no terminal
        assert "OSGeo4W Shell" in windows
        assert "python -m pip install --only-binary :all: --no-deps --require-hashes -r" in windows
        linux = deps.install_help(missing, system="Linux", conflict=[])
        prefix = f"python3.{sys.version_info.minor} -m pip install --user --break-system-packages"
        assert prefix + " --only-binary :all: --no-deps --require-hashes -r" in linux
        assert "requirements.txt" in linux and "-py3-none-any.whl" in linux
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
        assert "-m pip install" in text and "ntmgis" in text
        provider = QgsApplication.processingRegistry().providerById("ntmgis")
        ok, message = provider.algorithm("flag_abandoned_gardens").canExecute()
        assert not ok
        assert "ntmgis" in message and "pip install" in message
    finally:
        plugin.unload()


def test_geos_conflict_is_named_when_qgis_geos_answers_shapely(monkeypatch):
    # in the QGIS program on Linux, QGIS's GEOS answers shapely's calls (see deps.conflicts)
    import shapely
    from ntmgis_qgis import deps

    built = tuple(shapely.geos_version)
    older = {"GEOS": (built[0], built[1] - 1, 0)}
    text = deps.conflicts(system="Linux", qgis_versions=older, shared=True)
    assert len(text) == 1
    assert f"shapely {shapely.__version__}" in text[0]
    assert f"GEOS {built[0]}.{built[1]}" in text[0] and "WKB output dimension" in text[0]
    same = {"GEOS": built}
    assert deps.conflicts(system="Linux", qgis_versions=same, shared=True) == []
    # a Python loading QGIS as modules keeps the wheels' own GEOS: no conflict
    assert deps.conflicts(system="Linux", qgis_versions=older, shared=False) == []
    assert deps.conflicts(system="Windows", qgis_versions=older, shared=True) == []
    assert deps.interposed() is False  # this test runs in a Python, not in the QGIS program


def test_smoke_test_reads_reprojects_and_writes_a_geopackage(qgis_app, tmp_path):
    from ntmgis_qgis import deps

    steps = deps.smoke_test(str(tmp_path))
    assert [ok for _, ok, _ in steps] == [True, True, True, True], steps
    lon, lat = (float(v) for v in steps[-1][2].split(","))
    # EPSG:9209 (560000, 2050000) in WGS 84, as pyproj computes it independently
    from pyproj import Transformer

    x, y = Transformer.from_crs(9209, 4326, always_xy=True).transform(560000, 2050000)
    assert abs(lon - x) < 1e-6 and abs(lat - y) < 1e-6


def test_library_language_follows_qgis_locale():
    from ntmgis_qgis.plugin import set_library_language

    import ntmgis.i18n

    try:
        assert set_library_language("vi_VN") == "vi"
        assert ntmgis.i18n.message("stage.parcels") == "Đọc thửa đất"
        assert set_library_language("en_GB") == "en"
        assert set_library_language("fr_FR") == "en"  # not in the catalogue: English
    finally:
        ntmgis.i18n.set_language(None)


def test_exit_guard_stays_off_outside_the_qgis_program():
    from ntmgis_qgis import teardown

    assert teardown.shares_qgis_libraries() is False
    assert teardown.install() is False


def test_a_geos_conflict_is_shown_when_qgis_starts(qgis_app, qgis_iface, monkeypatch):
    import ntmgis_qgis
    from ntmgis_qgis import deps

    text = "shapely 2.2.0 is built for GEOS 3.14, but this QGIS runs GEOS 3.11.1: ..."
    monkeypatch.setattr(deps, "check", lambda refresh=False, quick=False: [])
    monkeypatch.setattr(deps, "conflicts", lambda *a, **k: [text])
    plugin = ntmgis_qgis.classFactory(qgis_iface)
    plugin.initGui()
    try:
        assert any(text in m for m in _messages(qgis_iface))
    finally:
        plugin.unload()
