"""The library bridge of the algorithms: the same operations as the CLI, in the user's language.

- ``ntmgis:vegetation_indices`` and ``ntmgis:parcel_statistics`` call
  ``ntmgis.index_products`` / ``ntmgis.parcel_statistics``, as ``ntmgis indices`` /
  ``ntmgis zonal`` do: scenes of two UTM zones give one set of files per zone, as in the
  CLI; a cancelled statistics run leaves the earlier file whole, as the CLI's atomic
  writer does;
- stage names, warnings and the cancel are shown in QGIS's language (vi and en);
- a cancel is said at once and ends as a cancellation, not a failure.
"""

import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from plugin_cases import GPKG, SCENES, SURVEY, chain_parameters, sample_present
from test_plugin_algorithms import assert_same_rasters, run_cli

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from qgis.core import QgsProcessingFeedback  # noqa: E402
from test_imagery import _zone_scene, aoi_box  # noqa: E402  (the library's own fixtures)

pytestmark = pytest.mark.skipif(not sample_present(), reason="sample commune not in layers/")
LOCALE_KEYS = ("locale/overrideFlag", "locale/userLocale")


class Recorder(QgsProcessingFeedback):
    """A feedback that keeps what the algorithm said, and cancels when told to."""

    def __init__(self, cancel_at=None):
        super().__init__()
        self.texts, self.warnings, self.cancel_at, self.cancel_time = [], [], cancel_at, None
        self.progressChanged.connect(self.on_progress)

    def on_progress(self, value):
        if self.cancel_at is not None and value >= self.cancel_at and not self.isCanceled():
            self.cancel_time = time.monotonic()
            self.cancel()

    def setProgressText(self, text):  # noqa: N802 - QGIS API name
        self.texts.append(text)
        super().setProgressText(text)

    def pushWarning(self, text):  # noqa: N802 - QGIS API name
        self.warnings.append(text)
        super().pushWarning(text)


@pytest.fixture()
def locale(qgis_app):
    """``locale("vi_VN")``: QGIS's locale setting (and the plugin's catalogue) for one test."""
    import build_plugin
    from ntmgis_qgis.translate import install_translator, remove_translator
    from qgis.core import QgsSettings

    import ntmgis.i18n

    settings = QgsSettings()
    saved = [settings.value(key) for key in LOCALE_KEYS]
    installed = []

    def use(name, folder):
        settings.setValue("locale/overrideFlag", True)
        settings.setValue("locale/userLocale", name)
        if name.startswith("vi"):
            try:
                build_plugin.lrelease()
            except SystemExit:
                pytest.skip("lrelease missing (apt install qttools5-dev-tools)")
            qm = build_plugin.compile_ts(build_plugin.TS, Path(folder) / "ntmgis_vi.qm")
            installed.append(install_translator(name, folder=str(qm.parent)))
        return name

    yield use
    for translator in installed:
        remove_translator(translator)
    for key, value in zip(LOCALE_KEYS, saved):
        if value is None:
            settings.remove(key)
        else:
            settings.setValue(key, value)
    ntmgis.i18n.set_language(None)


def _layer(path, name):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    assert layer.isValid()
    return layer


# -- the same operation as the CLI ------------------------------------------------------------
def test_indices_over_two_utm_zones_give_the_cli_files(provider, tmp_path):
    import processing
    import rasterio

    lon, lat = 108.0, 16.0  # on the 48N / 49N boundary: one date from each zone
    scenes = tmp_path / "scenes"
    _zone_scene(scenes, "S2A_48QZD_20200301", 32648, lon, lat, 0)
    _zone_scene(scenes, "S2A_49QBD_20200301", 32649, lon, lat, 500)
    aoi = tmp_path / "aoi.gpkg"
    aoi_box(lon - 1e-4, lat - 1e-4, lon + 1e-4, lat + 1e-4, crs="EPSG:4326").to_file(
        aoi, layer="commune"
    )
    results = processing.run(
        "ntmgis:vegetation_indices",
        {"SCENES": str(scenes), "AOI": _layer(aoi, "commune"), "INDEX": [0],
         "OUTPUT_FOLDER": str(tmp_path / "plugin")},
    )  # fmt: skip
    run_cli("indices", scenes, "-o", tmp_path / "cli", "--aoi", aoi, "--aoi-layer", "commune")
    names = assert_same_rasters(results["OUTPUT_FOLDER"], tmp_path / "cli")
    assert names == [
        "ndvi_composite_epsg32648.tif", "ndvi_composite_epsg32649.tif",
        "ndvi_series_epsg32648.tif", "ndvi_series_epsg32649.tif", "scenes.csv",
    ]  # fmt: skip
    assert results["SCENES_READ"] == 2 and len(results["COMPOSITES"]) == 2
    # each zone on its own grid, from its own DNs: (2500 - 500) / (2500 + 500) and 2000 / 4000
    for zone, ndvi in (("32648", 2000 / 3000), ("32649", 2000 / 4000)):
        with rasterio.open(Path(results["OUTPUT_FOLDER"]) / f"ndvi_series_epsg{zone}.tif") as ds:
            assert ds.crs.to_epsg() == int(zone)
            values = ds.read(1)
            clear = values[np.isfinite(values)]  # the 8 x 8 scene inside the 40 m margin
            assert clear.size == 64
            np.testing.assert_allclose(clear, ndvi, rtol=1e-6)


def test_cancelled_statistics_leave_the_earlier_file_whole(provider, tmp_path):
    import processing
    from qgis.core import QgsRasterLayer

    output = tmp_path / "stats.gpkg"
    output.write_bytes(b"an earlier result")
    raster = QgsRasterLayer(str(sorted(SCENES.glob("*/B08.tif"))[0]), "B08")
    feedback = Recorder(cancel_at=0)
    results = processing.run(
        "ntmgis:parcel_statistics",
        {"PARCELS": _layer(GPKG, "parcels"), "RASTERS": [raster], "OUTPUT": str(output)},
        feedback=feedback,
    )
    assert results["CANCELLED"] is True and results["PARCELS_LAYER"] is None
    assert output.read_bytes() == b"an earlier result"  # replaced whole or not at all
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.gpkg"]  # no temporary


def test_statistics_write_a_csv_like_the_cli(provider, tmp_path):
    import processing
    from qgis.core import QgsRasterLayer

    b08 = str(sorted(SCENES.glob("*/B08.tif"))[0])
    results = processing.run(
        "ntmgis:parcel_statistics",
        {"PARCELS": _layer(GPKG, "parcels"), "RASTERS": [QgsRasterLayer(b08, "B08")],
         "STATS": "mean,count", "WEIGHTS": 1, "OUTPUT": str(tmp_path / "plugin.csv")},
    )  # fmt: skip
    run_cli("zonal", GPKG, b08, "-o", tmp_path / "cli.csv", "--layer", "parcels", "--stats",
            "mean,count", "--weights", "centroid")  # fmt: skip
    got = Path(results["OUTPUT"]).read_text(encoding="utf-8")
    assert got == (tmp_path / "cli.csv").read_text(encoding="utf-8")
    assert len(got.splitlines()) == 1601  # a header and every parcel


# -- the user's language ----------------------------------------------------------------------
def _join_with_a_warning(tmp_path, feedback):
    """join_survey on the sample survey with one garden class nobody knows."""
    import processing

    text = SURVEY.with_suffix(".csv").read_text(encoding="utf-8-sig")
    first = "1,HO0001,Lê Quang Mai,Thôn Đông Hòa,2,158,656,Vườn mẫu,"
    assert first in text
    bad = tmp_path / "survey.csv"
    bad.write_text(text.replace(first, first.replace("Vườn mẫu", "Vườn kiểu lạ")), "utf-8")
    params = {"PARCELS": _layer(GPKG, "parcels"), "SURVEY": str(bad),
              "OUTPUT": str(tmp_path / "joined.gpkg")}  # fmt: skip
    return processing.run("ntmgis:join_survey", params, feedback=feedback), bad


def _library_warnings(survey, language):
    import ntmgis
    import ntmgis.i18n

    ntmgis.i18n.set_language(language)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ntmgis.NtmgisWarning)
        ntmgis.join_survey(ntmgis.read_parcels(GPKG, layer="parcels"), survey)
    return [" ".join(str(w.message).split()) for w in caught
            if issubclass(w.category, ntmgis.NtmgisWarning)]  # fmt: skip


@pytest.mark.parametrize(
    "name, stage, other", [("vi_VN", "Đọc thửa đất", "Reading parcels"),
                           ("en_GB", "Reading parcels", "Đọc thửa đất")],
)  # fmt: skip
def test_stages_and_warnings_follow_the_qgis_locale(provider, locale, tmp_path, name, stage, other):
    import ntmgis.i18n

    locale(name, tmp_path)
    feedback = Recorder()
    results, survey = _join_with_a_warning(tmp_path, feedback)
    assert results["MATCHED"] > 1500
    assert ntmgis.i18n.get_language() == name[:2]  # set from QGIS's locale by the run
    assert stage in feedback.texts and other not in feedback.texts
    assert all("\n" not in text for text in feedback.warnings)  # one line each
    expected = _library_warnings(survey, name[:2])
    assert expected and feedback.warnings == expected  # the library's own sentences


def test_repeated_warnings_are_grouped_one_line_each(qgis_app):
    from ntmgis_qgis.algorithms.base import warning_lines

    import ntmgis.i18n
    from ntmgis.errors import SurveyWarning, warn

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for row in (4, 9, 12):
            warn(f"Row {row}: unknown class\n'x'.", SurveyWarning, what="unknown_class")
        warn("Sheet 'A' is empty.", SurveyWarning)
        warn("Sheet 'A' is empty.", SurveyWarning)
        warnings.warn("not the library's", UserWarning, stacklevel=1)
        warn("One more.", SurveyWarning, what="other")
        for row in (20, 21):
            warn(f"Row {row}: unknown class 'y'.", SurveyWarning, what="unknown_class")
    ntmgis.i18n.set_language("en")
    assert warning_lines(caught) == [
        "Row 4: unknown class 'x'.",  # three different texts of a kind said, the rest counted
        "Row 9: unknown class 'x'.",
        "Row 12: unknown class 'x'.",
        "Sheet 'A' is empty.",
        "One more.",
        "Warning (×5 of this kind, 2 not shown above): Row 4: unknown class 'x'.",
        "Warning (×2 of this kind, 1 not shown above): Sheet 'A' is empty.",
    ]


# -- cancel -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name, said", [("vi_VN", "Đang hủy…"), ("en_GB", "Cancelling…")])
def test_cancel_is_said_at_once_and_is_not_a_failure(provider, locale, tmp_path, name, said):
    import processing
    from ntmgis_qgis.algorithms.base import CANCELLED_TEXT
    from ntmgis_qgis.translate import tr

    locale(name, tmp_path)
    feedback = Recorder(cancel_at=12)  # inside the imagery stage
    out = tmp_path / "chain"
    results = processing.run(
        "ntmgis:flag_abandoned_gardens", chain_parameters(out), feedback=feedback
    )  # returns (no QgsProcessingException): a cancellation, not a red failure
    stopped = time.monotonic()
    assert results["CANCELLED"] is True and results["GPKG"] is None
    assert feedback.cancel_time is not None
    # the first thing said after the click, before the library stops
    assert feedback.warnings[0] == said
    assert feedback.texts[-1] == said  # nothing shown over it once cancelled
    assert feedback.warnings[-1] == tr(CANCELLED_TEXT)  # and last: nothing was written
    assert feedback.ntmgis_cancelled_at == pytest.approx(feedback.cancel_time, abs=0.5)
    assert not out.exists()
    print(f"cancel latency ({name}): {stopped - feedback.cancel_time:.2f} s")


@pytest.mark.parametrize("point, after_s", [(10, 0.0), (70, 3.0)])
def test_cancel_stops_a_background_run_soon(provider, tmp_path, point, after_s):
    # measure_cancel.py measures it over the whole run; 70 % + 3 s is inside the report,
    # a library step without progress of about 15 s: abandoned after base.GRACE_S
    from measure_cancel import measure
    from ntmgis_qgis.algorithms.base import GRACE_S

    row = measure(point, tmp_path / "out", after_s=after_s)
    if row["stopped_s"] is None:
        pytest.skip("the run ended before the cancel point")
    assert row["cancelled"] and row["said_s"] < 0.5
    assert row["stopped_s"] < GRACE_S + 5  # was 15 s inside the report before
    assert row["left"] == []  # and nothing left once the abandoned step ended
