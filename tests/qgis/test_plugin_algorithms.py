"""Each NTM GIS algorithm run through processing.run equals the library on the same inputs.

A data-driven table (QGIS's qgis_algorithm_tests.yaml idea): algorithm, parameters,
and the library call whose result its outputs must equal. The chain runs once through
Processing and once through ``ntmgis.run`` (shared with the printing cases).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from plan_cases import PLAN_CASES
from plugin_cases import (
    GPKG,
    PERIOD,
    SCENES,
    SURVEY,
    TARGETS,
    chain_parameters,
    library_run,
    pdf_pages,
    pdf_text,
    sample_present,
)

pytestmark = pytest.mark.skipif(not sample_present(), reason="sample commune not in layers/")


def _layer(name):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{GPKG}|layername={name}", name, "ogr")
    assert layer.isValid()
    return layer


def _result_gpkg():
    return library_run().outputs["gpkg"]


def _read(path, layer):
    import geopandas as gpd

    return gpd.read_file(path, layer=layer)


# -- join survey ----------------------------------------------------------------------------
def join_params(tmp_path):
    return {"PARCELS": _layer("parcels"), "SURVEY": str(SURVEY), "OUTPUT": str(tmp_path / "j.gpkg")}


def join_check(results, tmp_path):
    import ntmgis

    joined, report = ntmgis.join_survey(ntmgis.read_parcels(GPKG, layer="parcels"), SURVEY)
    got = _read(results["OUTPUT"], "parcels")
    assert len(got) == len(joined) == 1600  # every parcel kept
    for column in ("parcel_id", "survey_status", "garden_class_code"):
        assert got[column].astype(str).tolist() == joined[column].astype(str).tolist(), column
    rows = [pd.to_numeric(f["survey_row"]).fillna(-1).tolist() for f in (got, joined)]
    assert rows[0] == rows[1]
    assert results["MATCHED"] == report.n_matched_rows == 1512
    assert results["UNMATCHED"] == report.n_unmatched_rows == 1
    assert len(_read(results["OUTPUT"], "survey_unmatched")) == 1
    # styled by the library: the survey-class style is the layer's default
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(results["PARCELS_LAYER"], "joined", "ogr")
    assert layer.renderer().type() == "categorizedSymbol"
    assert "survey_class" in layer.renderer().classAttribute()


# -- vegetation indices: the same operation as `ntmgis indices` ---------------------------
SHORT = "2020-01-01:2020-04-30"


def indices_params(tmp_path):
    return {
        "SCENES": str(SCENES), "AOI": _layer("commune"), "INDEX": [0, 4], "PERIOD": SHORT,
        "OUTPUT_FOLDER": str(tmp_path / "indices"),
    }  # fmt: skip


def run_cli(*args):
    """``ntmgis ARGS`` in this process (click's runner); fails the test when it fails."""
    from click.testing import CliRunner

    from ntmgis.cli import cli

    done = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert done.exit_code == 0, done.output
    return done.output


def assert_same_rasters(folder, expected_folder):
    """Every file of the two folders: the same names, COG values, grids and band names."""
    import rasterio

    names = sorted(p.name for p in Path(folder).iterdir())
    assert names == sorted(p.name for p in Path(expected_folder).iterdir())
    for name in names:
        if not name.endswith(".tif"):
            continue
        got, expected = Path(folder) / name, Path(expected_folder) / name
        with rasterio.open(got) as a, rasterio.open(expected) as b:
            assert a.descriptions == b.descriptions and a.transform == b.transform, name
            assert a.crs == b.crs, name
            np.testing.assert_array_equal(a.read(), b.read())
    return names


def indices_check(results, tmp_path):
    import rasterio

    cli = tmp_path / "cli"
    run_cli("indices", SCENES, "-o", cli, "--aoi", GPKG, "--aoi-layer", "commune", "--period",
            SHORT, "--index", "ndvi", "--index", "ndmi")  # fmt: skip
    names = assert_same_rasters(results["OUTPUT_FOLDER"], cli)
    assert names == ["ndmi_composite.tif", "ndmi_series.tif", "ndvi_composite.tif",
                     "ndvi_series.tif", "scenes.csv"]  # fmt: skip
    got_csv = Path(results["SCENES_CSV"]).read_text(encoding="utf-8")
    assert got_csv == (cli / "scenes.csv").read_text(encoding="utf-8")
    assert results["SCENES_READ"] == 6  # the dates of January to April
    assert results["COMPOSITE"] == results["COMPOSITES"][0]
    assert [Path(p).name for p in results["COMPOSITES"]] == ["ndvi_composite.tif",
                                                             "ndmi_composite.tif"]  # fmt: skip
    with rasterio.open(Path(results["OUTPUT_FOLDER"]) / "ndvi_series.tif") as ds:
        assert len(ds.descriptions) == 6 and ds.descriptions[0].endswith("/ndvi")


# -- parcel statistics ----------------------------------------------------------------------
def _b08():
    return str(sorted(SCENES.glob("*/B08.tif"))[0])


def stats_params(tmp_path):
    from qgis.core import QgsRasterLayer

    raster = QgsRasterLayer(_b08(), "B08")
    assert raster.isValid()
    return {"PARCELS": _layer("parcels"), "RASTERS": [raster], "OUTPUT": str(tmp_path / "s.gpkg")}


def stats_check(results, tmp_path):
    import pyogrio

    import ntmgis

    stats = ["mean", "median", "std", "min", "max", "count"]
    expected = ntmgis.zonal_stats(ntmgis.read_vector(GPKG, layer="parcels"), [_b08()], stats=stats)
    got = _read(results["OUTPUT"], "parcels")
    assert got["status"].tolist() == expected["status"].tolist()
    numeric = [c for c in expected.columns if c != "status"]
    assert len(numeric) == 7
    np.testing.assert_allclose(got[numeric].to_numpy(float), expected[numeric].to_numpy(float))
    mean = next(c for c in numeric if c.endswith(":mean"))
    assert np.isfinite(got[mean]).sum() > 1500
    # the same file as `ntmgis zonal` (the same operation, ntmgis.parcel_statistics)
    cli = tmp_path / "cli.gpkg"
    run_cli("zonal", GPKG, _b08(), "-o", cli, "--layer", "parcels")
    assert pyogrio.list_layers(results["OUTPUT"]).tolist() == pyogrio.list_layers(cli).tolist()
    pd.testing.assert_frame_equal(pd.DataFrame(got), pd.DataFrame(_read(cli, "parcels")))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporaries


# -- the whole chain ------------------------------------------------------------------------
def chain_params(tmp_path):
    return chain_parameters(tmp_path / "chain")


def chain_check(results, tmp_path):
    lib = library_run()
    got = _read(results["GPKG"], "parcels").set_index("parcel_id")
    expected = lib.parcels.set_index("parcel_id")
    assert got.index.tolist() == expected.index.tolist()
    for column in ("flag", "survey_class", "agreement", "visit", "flag_rule"):
        assert got[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    np.testing.assert_allclose(got["flag_score"].to_numpy(float),
                               expected["flag_score"].to_numpy(float))  # fmt: skip
    hamlets = _read(results["GPKG"], "hamlets")
    columns = ["hamlet", "so_thua", "so_vuon", "vuon_hoang_hoa", "can_kiem_tra", "rank"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(hamlets[columns]), pd.DataFrame(lib.hamlets[columns]), check_dtype=False
    )
    assert results["REPORT"].endswith("bao_cao_tien_do.xlsx")
    assert results["MAPS_PDF"] is None  # maps were not asked for
    # the result's layers come styled by the library (flag theme by default)
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(results["PARCELS_LAYER"], "flags", "ogr")
    assert '"flag"' in layer.renderer().classAttribute()
    # value codes read as their labels in the attribute table and forms (value maps)
    from qgis.core import QgsApplication

    from ntmgis import palette

    formatter = QgsApplication.fieldFormatterRegistry().fieldFormatter("ValueMap")
    hamlet_layer = QgsVectorLayer(results["HAMLETS_LAYER"], "hamlets", "ogr")
    for target, field, code in ((layer, "flag", "hoang_hoa"), (layer, "survey_class", "vuon_tap"),
                                (layer, "agreement", "phu_hop"),
                                (hamlet_layer, "status", "dat")):  # fmt: skip
        index = target.fields().indexOf(field)
        setup = target.editorWidgetSetup(index)
        assert setup.type() == "ValueMap", field
        label = next(c.label_vi for c in palette.get_theme(field).categories if c.key == code)
        shown = formatter.representValue(target, index, setup.config(), None, code)
        assert shown == label, (field, shown)
    # nothing left of the staging folder
    leftovers = [p for p in (tmp_path / "chain").iterdir() if p.name.startswith(".ntmgis-")]
    assert [p.name for p in leftovers] == [".ntmgis-run.json"]  # the manifest only


# -- hamlet progress ------------------------------------------------------------------------
def progress_params(tmp_path):
    return {"RESULT": str(_result_gpkg()), "TARGETS": str(TARGETS),
            "OUTPUT_FOLDER": str(tmp_path / "progress")}  # fmt: skip


def progress_check(results, tmp_path):
    import ntmgis

    expected = ntmgis.hamlet_progress(_result_gpkg(), TARGETS)
    got = _read(results["GPKG"], "hamlets").set_index("hamlet").loc[expected["hamlet"]]
    assert got["rank"].tolist() == expected["rank"].tolist()
    assert got["status"].astype(str).tolist() == expected["status"].astype(str).tolist()
    np.testing.assert_allclose(got["score"].to_numpy(float), expected["score"].to_numpy(float))
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(results["HAMLETS_LAYER"], "progress", "ogr")
    assert layer.renderer().type() == "categorizedSymbol"  # the status style
    assert results["REPORT"].endswith(".xlsx")


# -- printing -------------------------------------------------------------------------------
def maps_params(tmp_path):
    return {"RESULT": str(_result_gpkg()), "OUTPUT_FOLDER": str(tmp_path / "maps")}


def maps_check(results, tmp_path):
    import ntmgis

    expected = ntmgis.render_maps(_result_gpkg(), tmp_path / "library_maps")[0]
    assert pdf_pages(results["PDF"]) == pdf_pages(expected) >= 7  # overview + 6 hamlets
    assert pdf_text(results["PDF"]) == pdf_text(expected)


def atlas_params(tmp_path):
    return {"RESULT": str(_result_gpkg()), "OUTPUT": str(tmp_path / "atlas.pdf")}


def atlas_check(results, tmp_path):
    hamlets = _read(_result_gpkg(), "hamlets")["hamlet"].tolist()
    assert results["PAGES"] == len(hamlets) == 6
    parcels = library_run().parcels
    visits = parcels[parcels["visit"].astype(bool)]
    # a page per hamlet plus continuation pages: the table lists every household to visit
    assert pdf_pages(results["OUTPUT"]) > 6
    text = pdf_text(results["OUTPUT"])
    for name in hamlets:
        assert f"BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – {name.upper()}" in text
    assert "HỘ CẦN KIỂM TRA THỰC ĐỊA" in text
    assert "TRƯỞNG THÔN" in text
    assert len(visits) > 6 * 9  # more than the first frame of each page holds
    missing = [h for h in visits["household"] if str(h) not in text]
    assert missing == []


# algorithm, parameters, check against the library, outputs added to the project
CASES = [
    ("join_survey", join_params, join_check, ["PARCELS_LAYER"]),
    ("vegetation_indices", indices_params, indices_check, []),
    ("parcel_statistics", stats_params, stats_check, ["PARCELS_LAYER"]),
    ("flag_abandoned_gardens", chain_params, chain_check, ["HAMLETS_LAYER", "PARCELS_LAYER"]),
    ("hamlet_progress", progress_params, progress_check, ["HAMLETS_LAYER"]),
    ("print_hamlet_maps", maps_params, maps_check, []),
    ("print_atlas", atlas_params, atlas_check, []),
    *PLAN_CASES,  # the commune plan's algorithms (tests/qgis/plan_cases.py)
]


@pytest.mark.parametrize("name, params, check, loaded", CASES, ids=[c[0] for c in CASES])
def test_algorithm_output_equals_library(provider, tmp_path, name, params, check, loaded):
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback, QgsProject

    assert provider.algorithm(name) is not None
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    results = processing.run(
        f"ntmgis:{name}", params(tmp_path), context=context, feedback=QgsProcessingFeedback()
    )
    check(results, tmp_path)
    to_load = context.layersToLoadOnCompletion()
    assert sorted(to_load) == sorted(results[key] for key in loaded)
    for key in loaded:
        assert to_load[results[key]].outputName == key


def test_algorithms_chain_in_the_graphical_modeler(provider, tmp_path):
    import processing
    from qgis.core import (
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFile,
        QgsProcessingParameterVectorLayer,
    )

    model = QgsProcessingModelAlgorithm("survey_then_statistics", "ntmgis")
    model.addModelParameter(
        QgsProcessingParameterVectorLayer("parcels", "parcels"),
        QgsProcessingModelParameter("parcels"),
    )
    model.addModelParameter(
        QgsProcessingParameterFile("survey", "survey"), QgsProcessingModelParameter("survey")
    )
    join = QgsProcessingModelChildAlgorithm("ntmgis:join_survey")
    join.setChildId("join")
    for name, source in (("PARCELS", "parcels"), ("SURVEY", "survey")):
        join.addParameterSources(
            name, [QgsProcessingModelChildParameterSource.fromModelParameter(source)]
        )
    join.addParameterSources(
        "OUTPUT", [QgsProcessingModelChildParameterSource.fromStaticValue(str(tmp_path / "j.gpkg"))]
    )
    model.addChildAlgorithm(join)
    stats = QgsProcessingModelChildAlgorithm("ntmgis:parcel_statistics")
    stats.setChildId("stats")
    stats.addParameterSources(
        "PARCELS", [QgsProcessingModelChildParameterSource.fromChildOutput("join", "PARCELS_LAYER")]
    )
    stats.addParameterSources(
        "RASTERS", [QgsProcessingModelChildParameterSource.fromStaticValue([_b08()])]
    )
    stats.addParameterSources(
        "STATS", [QgsProcessingModelChildParameterSource.fromStaticValue("mean,count")]
    )
    output = QgsProcessingModelOutput("with_stats")
    output.setChildId("stats")
    output.setChildOutputName("OUTPUT")
    stats.setModelOutputs({"with_stats": output})
    model.addChildAlgorithm(stats)
    out = tmp_path / "model.gpkg"
    results = processing.run(
        model, {"parcels": _layer("parcels"), "survey": str(SURVEY), "stats:with_stats": str(out)}
    )
    assert results["stats:with_stats"] == str(out)
    got = _read(out, "parcels")
    assert len(got) == 1600
    joined = _read(tmp_path / "j.gpkg", "parcels")  # the first step's output
    assert got["survey_status"].tolist() == joined["survey_status"].tolist()
    assert (got["survey_status"] != "no_survey").sum() > 1500
    assert {c.split(":")[-1] for c in got.columns if ":" in c} == {"mean", "count"}


def test_provider_lists_every_algorithm_with_help(provider):
    names = sorted(alg.name() for alg in provider.algorithms())
    assert names == sorted([c[0] for c in CASES] + ["fetch_imagery"])  # test_plugin_fetch.py
    for alg in provider.algorithms():
        assert alg.shortHelpString(), alg.name()
        assert alg.group() and alg.displayName()
        assert alg.canExecute() == (True, "")


def test_cancel_stops_the_chain_and_leaves_no_output(provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingFeedback

    feedback = QgsProcessingFeedback()
    seen = []

    def on_progress(value):
        seen.append(value)
        if value >= 12:  # inside the imagery stage
            feedback.cancel()

    feedback.progressChanged.connect(on_progress)
    out = tmp_path / "cancelled"
    results = processing.run(
        "ntmgis:flag_abandoned_gardens", chain_parameters(out), feedback=feedback
    )  # a cancellation, not a failure: no exception, the outputs say nothing was written
    assert results["CANCELLED"] is True
    assert results["GPKG"] is None and results["PARCELS_LAYER"] is None
    assert max(seen) < 60  # stopped in the imagery stage, not at the end
    assert not out.exists()  # no GeoPackage, no report, no staging folder, no empty folder


def test_library_error_becomes_processing_exception_with_its_message(provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    import ntmgis

    bad = tmp_path / "not_a_survey.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ntmgis.NtmgisError) as library:
        ntmgis.join_survey(ntmgis.read_parcels(GPKG, layer="parcels"), bad)
    with pytest.raises(QgsProcessingException) as plugin:
        processing.run(
            "ntmgis:join_survey",
            {"PARCELS": _layer("parcels"), "SURVEY": str(bad), "OUTPUT": str(tmp_path / "o.gpkg")},
        )
    assert str(plugin.value) == str(library.value)
    assert not (tmp_path / "o.gpkg").exists()


def test_survey_columns_the_library_does_not_know_are_named_in_the_plugin(provider, tmp_path):
    """A survey with its own headers: the SURVEY_FIELDS text maps them, and the join is
    the library's on the original survey; a wrong mapping is the library's error."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingException, QgsProcessingFeedback

    import ntmgis

    csv = SURVEY.with_suffix(".csv")
    text = csv.read_text(encoding="utf-8-sig")
    renamed = text.replace(",Phân loại vườn,", ",Kết quả chấm điểm,", 1)
    assert renamed != text
    own = tmp_path / "khao_sat.csv"
    own.write_text(renamed, encoding="utf-8")
    params = {"PARCELS": _layer("parcels"), "SURVEY": str(own),
              "SURVEY_FIELDS": "garden_class = Kết quả chấm điểm",
              "OUTPUT": str(tmp_path / "j.gpkg")}  # fmt: skip
    results = processing.run("ntmgis:join_survey", params)
    joined, _ = ntmgis.join_survey(ntmgis.read_parcels(GPKG, layer="parcels"), csv)
    got = _read(results["OUTPUT"], "parcels")
    want = joined["garden_class_code"].astype(str).tolist()
    assert got["garden_class_code"].astype(str).tolist() == want
    assert joined["garden_class_code"].notna().sum() > 1400
    with pytest.raises(QgsProcessingException, match="loai_vuon = X"):
        processing.run("ntmgis:join_survey", dict(params, SURVEY_FIELDS="loai_vuon = X",
                                                  OUTPUT=str(tmp_path / "k.gpkg")))  # fmt: skip
    # the whole chain's config carries it to ntmgis.run
    alg = provider.algorithm("flag_abandoned_gardens").create()
    chain = dict(chain_parameters(tmp_path), SURVEY=str(own),
                 SURVEY_FIELDS="garden_class = Kết quả chấm điểm")  # fmt: skip
    raw = alg.build_config(chain, QgsProcessingContext(), QgsProcessingFeedback(), "x")
    assert raw["inputs"]["survey_fields"] == {"garden_class_raw": "Kết quả chấm điểm"}
    assert ntmgis.load_config(raw).survey_fields == {"garden_class_raw": "Kết quả chấm điểm"}


def test_period_parameter_reaches_the_library_config(provider, tmp_path):
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    import ntmgis

    alg = provider.algorithm("flag_abandoned_gardens").create()
    context = QgsProcessingContext()
    raw = alg.build_config(chain_parameters(tmp_path), context, QgsProcessingFeedback(), "x")
    assert raw["imagery"] == {"period": PERIOD, "coregister": True}
    assert raw["inputs"]["parcels_layer"] == "parcels"
    assert raw["inputs"]["hamlets_layer"] == "hamlets"
    assert raw["commune"] == {"name": "Xã Thanh Bình", "year": 2020}
    assert raw["outputs"]["maps"] is False
    # the dates' co-registration can be turned off, as [imagery] coregister = false
    params = dict(chain_parameters(tmp_path), COREGISTER=False)
    raw = alg.build_config(params, context, QgsProcessingFeedback(), "x")
    assert raw["imagery"]["coregister"] is False
    assert ntmgis.load_config(raw).coregister is False


def test_background_tasks_run_again_on_the_same_worker_threads(provider, tmp_path):
    # pyproj 3.7.0-3.7.2 freed its context between two runs on one pooled QThread and the
    # second run crashed QGIS; the library calls now run in a Python thread (base.py)
    import time

    from qgis.core import (
        QgsApplication,
        QgsProcessingAlgRunnerTask,
        QgsProcessingContext,
        QgsProcessingFeedback,
    )
    from qgis.PyQt.QtCore import QCoreApplication

    outcomes = []
    for run in range(3):
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        params = {"PARCELS": _layer("parcels"), "SURVEY": str(SURVEY),
                  "OUTPUT": str(tmp_path / f"run{run}.gpkg")}  # fmt: skip
        alg = provider.algorithm("join_survey")
        task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
        done = []
        task.executed.connect(lambda ok, results, done=done: done.append((ok, results)))
        QgsApplication.taskManager().addTask(task)
        deadline = time.monotonic() + 120  # a guard, not an assertion on time
        while not done and time.monotonic() < deadline:
            QCoreApplication.processEvents()
            time.sleep(0.02)
        outcomes.append(done[0] if done else (False, {}))
    assert [ok for ok, _ in outcomes] == [True, True, True]
    assert [results["MATCHED"] for _, results in outcomes] == [1512, 1512, 1512]
