"""The "Vườn hoang hóa" dialog: built, filled, run as a background task, styled layers added."""

import time

import pytest
from plugin_cases import GPKG, SCENES, SURVEY, TARGETS, library_run, pdf_pages, sample_present

pytestmark = pytest.mark.skipif(not sample_present(), reason="sample commune not in layers/")


@pytest.fixture()
def plugin(qgis_app, qgis_iface, qgis_processing):
    import ntmgis_qgis

    plugin = ntmgis_qgis.classFactory(qgis_iface)
    plugin.initGui()
    yield plugin
    plugin.unload()


def _wait(dialog, timeout=300, cancel_at=None):
    from qgis.PyQt.QtCore import QCoreApplication

    deadline = time.monotonic() + timeout  # a guard, not an assertion on time
    while dialog.task is not None and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        if cancel_at is not None and dialog.progress.value() >= cancel_at:
            dialog.cancel_button.click()
            cancel_at = None
        time.sleep(0.05)
    assert dialog.task is None, "the task did not finish"


def _fill(dialog, out, maps=False):
    from qgis.core import QgsProject, QgsVectorLayer
    from qgis.PyQt.QtCore import QDate

    parcels = QgsVectorLayer(f"{GPKG}|layername=parcels", "Thửa đất", "ogr")
    hamlets = QgsVectorLayer(f"{GPKG}|layername=hamlets", "Thôn", "ogr")
    QgsProject.instance().addMapLayers([parcels, hamlets])
    dialog.parcels.setLayer(parcels)
    dialog.hamlets.setLayer(hamlets)
    dialog.survey.setFilePath(str(SURVEY))
    dialog.imagery.setFilePath(str(SCENES))
    dialog.targets.setFilePath(str(TARGETS))
    dialog.output.setFilePath(str(out))
    dialog.start.setDate(QDate(2020, 1, 1))
    dialog.end.setDate(QDate(2020, 12, 31))
    dialog.maps.setChecked(maps)
    return parcels, hamlets


def test_dialog_says_what_is_missing(plugin, tmp_path):
    dialog = plugin.open_dialog()
    assert dialog is not None and dialog.isVisible()
    assert dialog.start_task() is None
    assert dialog.status.text() in ("Choose the parcel layer.", "Choose the imagery folder.")


def test_dialog_runs_the_chain_in_the_background_and_adds_styled_layers(plugin, tmp_path):
    import geopandas as gpd
    from qgis.core import QgsProject

    dialog = plugin.open_dialog()
    parcels, hamlets = _fill(dialog, tmp_path / "out", maps=True)
    assert dialog.period() == "2020-01-01:2020-12-31"
    task = dialog.start_task()
    assert task is not None
    assert not dialog.run_button.isEnabled() and dialog.cancel_button.isEnabled()
    try:
        _wait(dialog)
        assert dialog.results is not None, dialog.status.text()
        assert dialog.progress.value() == 100
        names = [layer.name() for layer in dialog.added_layers]
        assert names == ["Hamlets", "Flagged parcels"]
        for layer in dialog.added_layers:
            assert QgsProject.instance().mapLayer(layer.id()) is layer
            assert layer.renderer().type() == "categorizedSymbol"  # the library's styles
        # the dialog's run equals the library's on the same inputs
        got = gpd.read_file(dialog.results["GPKG"], layer="parcels")
        expected = library_run().parcels
        assert got["parcel_id"].tolist() == expected["parcel_id"].tolist()
        assert got["flag"].astype(str).tolist() == expected["flag"].astype(str).tolist()
        # the printed maps were asked for: moved out of the staging folder with the rest
        assert pdf_pages(dialog.results["MAPS_PDF"]) >= 7  # overview + 6 hamlets
        assert [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")] == []
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_dialog_cancel_stops_the_task_and_writes_nothing(plugin, tmp_path):
    from qgis.core import QgsProject

    dialog = plugin.open_dialog()
    _fill(dialog, tmp_path / "out")
    try:
        assert dialog.start_task() is not None
        _wait(dialog, cancel_at=12)
        assert dialog.results is None
        assert dialog.status.text().startswith("The run stopped")
        assert dialog.added_layers == []
        assert dialog.run_button.isEnabled()
        assert [p for p in (tmp_path / "out").rglob("*")] == []
    finally:
        QgsProject.instance().removeAllMapLayers()
