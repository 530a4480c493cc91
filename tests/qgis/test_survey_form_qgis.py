"""The survey form's QField project (written without QGIS) opened and filled in real QGIS."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from ntmgis.survey import Codebook, read_survey
from ntmgis.survey_form import write_qfield_project


@pytest.fixture
def gardens():
    frame = gpd.GeoDataFrame(
        {
            "parcel_id": ["3-12", "3-13", "4-7"],
            "sheet": [3, 3, 4],
            "parcel_no": [12, 13, 7],
            "household_id": ["HO01", "HO02", "HO03"],
            "owner": ["Nguyễn Văn Hòa", "Lê Thị Thủy", "Trần Văn Đức"],
            "hamlet": ["Xóm 1", "Xóm 1", "Xóm 1"],
            "area_m2": [900.0, 400.0, 625.0],
            "land_use": ["ONT+CLN", "CLN", "ONT+CLN"],
        },
        geometry=[
            box(512000, 2052000, 512030, 2052030),
            box(512040, 2052000, 512060, 2052020),
            box(512080, 2052000, 512105, 2052025),
        ],
        crs="EPSG:9209",
    )
    return frame


def test_project_opens_with_value_maps_and_is_filled_back(qgis_app, gardens, tmp_path):
    from qgis.core import QgsProject

    written = write_qfield_project(gardens, tmp_path / "qfield", commune="Xã Nghi Phong")
    project = QgsProject.instance()
    project.clear()
    assert project.read(str(written["qgz"]))
    assert project.crs().authid() == "EPSG:9209"
    layers = {layer.name(): layer for layer in project.mapLayers().values()}
    assert set(layers) == {"Khảo sát vườn hộ", "Thửa đất"}
    survey = layers["Khảo sát vườn hộ"]
    assert survey.isValid() and layers["Thửa đất"].isValid()
    assert survey.featureCount() == 3
    assert survey.crs().authid() == "EPSG:9209"
    fields = survey.fields()
    setup = fields.field("garden_class").editorWidgetSetup()
    assert setup.type() == "ValueMap"
    values = [list(entry.values())[0] for entry in setup.config()["map"]]
    assert values == Codebook.default().labels  # the codebook's five classes, best first
    assert fields.field("nc_cay_giong").editorWidgetSetup().type() == "CheckBox"
    assert fields.field("survey_date").editorWidgetSetup().type() == "DateTime"
    assert fields.field("garden_class").alias() == "Phân loại vườn"
    assert survey.editFormConfig().readOnly(fields.indexOf("parcel_id"))
    assert not survey.editFormConfig().readOnly(fields.indexOf("garden_class"))

    # fill two features as a surveyor would, save, and read the layer back with ntmgis
    assert survey.startEditing()
    by_id = {f["parcel_id"]: f.id() for f in survey.getFeatures()}
    i = fields.indexOf
    survey.changeAttributeValue(by_id["3-12"], i("garden_class"), "Vườn hoang hóa")
    survey.changeAttributeValue(by_id["3-12"], i("nc_cay_giong"), 1)
    survey.changeAttributeValue(by_id["3-12"], i("nc_von"), 1)
    survey.changeAttributeValue(by_id["3-12"], i("survey_date"), "2023-04-15")
    survey.changeAttributeValue(by_id["4-7"], i("garden_class"), "Vườn tạp")
    survey.changeAttributeValue(by_id["4-7"], i("nhu_cau_khac"), "máy cày")
    assert survey.commitChanges()
    project.clear()

    table = read_survey(written["gpkg"])
    assert table["parcel_no"].tolist() == [12, 7]  # the unfilled feature was not surveyed
    assert table["garden_class_code"].tolist() == ["hoang_hoa", "vuon_tap"]
    assert table["support_needs"].tolist() == ["cây giống, vốn", "máy cày"]
    assert table["survey_date"].iloc[0].strftime("%Y-%m-%d") == "2023-04-15"
    assert table["hamlet"].tolist() == ["Xóm 1", "Xóm 1"]
