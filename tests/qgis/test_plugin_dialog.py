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
        suffix = " – Xã Thanh Bình – 2020-01-01 – 2020-12-31"
        assert names == ["Hamlets" + suffix, "Flagged parcels" + suffix]
        assert dialog.commune.text() == "Xã Thanh Bình"  # prefilled from the commune layer
        for layer in dialog.added_layers:
            assert QgsProject.instance().mapLayer(layer.id()) is layer
            assert layer.renderer().type() == "categorizedSymbol"  # the library's styles
        # the dialog's run equals the library's on the same inputs
        got = gpd.read_file(dialog.results["GPKG"], layer="parcels")
        expected = library_run().parcels
        assert got["parcel_id"].tolist() == expected["parcel_id"].tolist()
        assert got["flag"].astype(str).tolist() == expected["flag"].astype(str).tolist()
        # the library's stages and warnings, in the user's language, shown as they come
        assert "Reading parcels" in dialog.stages and "Flagging gardens" in dialog.stages
        assert any("row(s) 463" in line for line in dialog.warnings)  # the unknown class
        assert dialog.log.toPlainText().splitlines() == dialog.warnings
        assert dialog.status.text().endswith(f"({len(dialog.warnings)} warnings, listed below)")
        # the printed maps were asked for: moved out of the staging folder with the rest
        assert pdf_pages(dialog.results["MAPS_PDF"]) >= 7  # overview + 6 hamlets
        hidden = [p.name for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
        assert hidden == [".ntmgis-run.json"]  # the run's manifest, no staging leftovers
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_dialog_prefills_the_period_from_the_imagery_and_asks_before_overwriting(plugin, tmp_path):
    from qgis.core import QgsProject

    import ntmgis

    dialog = plugin.open_dialog()
    _fill(dialog, tmp_path / "out")
    dialog.start.setDate(dialog.start.date().addYears(-3))
    assert dialog.prefill_period() is not None
    dates = sorted(s.date for s in ntmgis.find_scenes(SCENES) if s.date)
    assert dialog.period() == f"{dates[0]:%Y-%m-%d}:{dates[-1]:%Y-%m-%d}"
    assert dialog.output_name() == "xa_thanh_binh"
    out = tmp_path / "out"
    out.mkdir()
    (out / "xa_thanh_binh.gpkg").write_bytes(b"earlier result")
    asked = []
    dialog.confirm = lambda text: asked.append(text) or False
    try:
        assert dialog.start_task() is None  # answered "No": nothing runs
        assert "xa_thanh_binh.gpkg" in asked[0]
        assert dialog.status.text() == "Nothing was run: the earlier results are kept."
        assert (out / "xa_thanh_binh.gpkg").read_bytes() == b"earlier result"
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_dialog_needs_a_commune_name(plugin, tmp_path):
    from qgis.core import QgsProject

    dialog = plugin.open_dialog()
    _fill(dialog, tmp_path / "out")
    dialog.commune.setText("")
    dialog.commune.setModified(True)
    try:
        assert dialog.start_task() is None
        assert dialog.status.text().startswith("Type the commune's name")
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_dialog_cancel_stops_the_task_and_writes_nothing(plugin, tmp_path):
    from qgis.core import QgsProject

    dialog = plugin.open_dialog()
    _fill(dialog, tmp_path / "out")
    try:
        assert dialog.start_task() is not None
        _wait(dialog, cancel_at=12)
        assert dialog.cancelled
        assert dialog.results is None
        assert dialog.status.text() == "Cancelled: nothing was written."
        assert dialog.added_layers == []
        assert dialog.run_button.isEnabled()
        assert not (tmp_path / "out").exists()  # no empty folder left behind
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_download_button_opens_the_fetch_algorithm_and_takes_its_folder(plugin, monkeypatch):
    from ntmgis_qgis.algorithms.fetch_imagery import FetchImagery
    from ntmgis_qgis.dialogs.abandoned_gardens import FETCH_ALGORITHM
    from qgis import processing
    from qgis.core import QgsApplication, QgsProject, QgsVectorLayer

    import ntmgis

    # the id the button opens is the provider's fetch algorithm, the one the toolbox shows
    registered = QgsApplication.processingRegistry().algorithmById(FETCH_ALGORITHM)
    assert registered is not None and isinstance(registered, FetchImagery)
    assert registered.id() == FETCH_ALGORITHM == f"ntmgis:{FetchImagery.NAME}"
    assert registered.provider().id() == "ntmgis"
    dialog = plugin.open_dialog()
    assert not dialog.fetch_button.isHidden()  # shown, since the algorithm is there
    parcels = QgsVectorLayer(f"{GPKG}|layername=parcels", "Thửa đất", "ogr")
    QgsProject.instance().addMapLayer(parcels)
    dialog.parcels.setLayer(parcels)
    opened = []

    def exec_dialog(algorithm, parameters):  # what the user's run of that dialog returns
        opened.append((algorithm, dict(parameters)))
        return {"OUTPUT": str(SCENES), "SCENES": 16}

    monkeypatch.setattr(processing, "execAlgorithmDialog", exec_dialog)
    period = dialog.period()
    try:
        dialog.fetch_button.click()
        assert [a for a, _ in opened] == ["ntmgis:fetch_imagery"]
        assert opened[0][1]["COMMUNE"] is parcels  # prefilled: the commune's parcels
        assert opened[0][1]["PERIOD"] == period  # and the period the dialog showed
        assert dialog.imagery.filePath() == str(SCENES)  # the fetched folder is used
        dates = sorted(s.date for s in ntmgis.find_scenes(SCENES) if s.date)
        assert dialog.period() == f"{dates[0]:%Y-%m-%d}:{dates[-1]:%Y-%m-%d}"
    finally:
        QgsProject.instance().removeAllMapLayers()
