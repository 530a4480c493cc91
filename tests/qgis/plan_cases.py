"""Processing cases of the commune-plan algorithms (survey form, renovation plan), run by
test_plugin_algorithms.py's table: each output equals the library's on the same inputs."""

from plugin_cases import GPKG, library_run


def _layer(name):
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(f"{GPKG}|layername={name}", name, "ogr")
    assert layer.isValid()
    return layer


def survey_form_params(tmp_path):
    return {"PARCELS": _layer("parcels"), "HAMLETS": "thon dong hoa, Thôn Tân Lộc",
            "QFIELD": True, "OUTPUT_FOLDER": str(tmp_path / "forms")}  # fmt: skip


def survey_form_check(results, tmp_path):
    import openpyxl
    from qgis.core import QgsProject

    import ntmgis
    from ntmgis.survey_form import FORM_ID, _gardens, form_table

    parcels = ntmgis.read_parcels(GPKG, layer="parcels")
    names = sorted(p.name for p in (tmp_path / "forms").glob("*.xlsx"))
    assert names == ["phieu_khao_sat_thon_dong_hoa.xlsx", "phieu_khao_sat_thon_tan_loc.xlsx"]
    gardens = _gardens(parcels, ["Thôn Đông Hòa"])
    expected = form_table(gardens)[FORM_ID].tolist()
    sheet = openpyxl.load_workbook(tmp_path / "forms" / names[0])["Phiếu khảo sát"]
    header = [c.value for c in sheet[3]]
    got = [r[header.index(FORM_ID)] for r in sheet.iter_rows(min_row=4, values_only=True)]
    got = [g for g in got if g is not None]  # formatted empty rows for the surveyor's additions
    assert got == expected
    assert len(got) > 100
    project = QgsProject()
    assert project.read(results["QFIELD_PROJECT"]), results
    survey = project.mapLayersByName("Khảo sát vườn hộ")[0]
    assert survey.isValid() and survey.featureCount() == len(_gardens(parcels, [
        "Thôn Đông Hòa", "Thôn Tân Lộc"]))  # fmt: skip


def plan_params(tmp_path):
    return {"RESULT": str(library_run().outputs["gpkg"]), "OUTPUT_FOLDER": str(tmp_path / "plan")}


def plan_check(results, tmp_path):
    import geopandas as gpd

    from ntmgis.plan import PLAN_LAYER, renovation_plan

    expected = renovation_plan(library_run().outputs["gpkg"])
    path, layer = results["PLAN_LAYER"].split("|layername=")
    assert layer == PLAN_LAYER
    got = gpd.read_file(path, layer=layer)
    assert got["parcel_id"].tolist() == expected["parcel_id"].tolist()
    assert got["plan_priority"].tolist() == expected["plan_priority"].tolist()
    assert results["REPORT"].endswith("ke_hoach_cai_tao_vuon.xlsx")
    # the layer opens styled: coloured by survey class, the palette's colours
    from qgis.core import QgsVectorLayer

    from ntmgis import palette

    loaded = QgsVectorLayer(results["PLAN_LAYER"], "plan", "ogr")
    assert loaded.isValid() and loaded.featureCount() == len(expected)
    renderer = loaded.renderer()
    assert renderer.type() == "categorizedSymbol"
    colours = {c.value(): c.symbol().color().name().upper() for c in renderer.categories()}
    assert colours["hoang_hoa"] == palette.color("survey_class", "hoang_hoa").upper()


# algorithm, parameters, check against the library, outputs added to the project
PLAN_CASES = [
    ("survey_form", survey_form_params, survey_form_check, []),
    ("renovation_plan", plan_params, plan_check, ["PLAN_LAYER"]),
]
