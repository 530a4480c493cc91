"""The Step 2 survey form (ntmgis.survey_form): written, filled as a surveyor would, read back.

The QField project is opened and filled in real QGIS in tests/qgis/test_survey_form_qgis.py;
here its GeoPackage is filled with pyogrio (what QField writes is a plain GeoPackage edit).
"""

from __future__ import annotations

import datetime as dt
import warnings
import zipfile

import geopandas as gpd
import openpyxl
import pandas as pd
import pyogrio
import pytest
from _foreign import FIELD
from click.testing import CliRunner

from ntmgis.errors import InputError, SurveyWarning
from ntmgis.needs import load_needs
from ntmgis.parcels import is_garden_land_use, read_parcels
from ntmgis.survey import Codebook, join_survey, read_survey
from ntmgis.survey_form import FORM_ID, check_returned_form, write_survey_forms


@pytest.fixture(autouse=True)
def _english():
    """Messages in English: these tests match the English sentences (vi: see below)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


@pytest.fixture(scope="module")
def forms(foreign, tmp_path_factory):
    _, facts = foreign
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels = read_parcels(facts["gpkg"], layer="parcels")
        out = tmp_path_factory.mktemp("forms")
        written = write_survey_forms(parcels, out, commune="Xã Nghi Phong")
    return parcels, facts, written


def test_one_form_per_hamlet_with_its_gardens(forms, foreign):
    parcels, facts, written = forms
    hamlets = [k for k in written if k not in ("gpkg", "qgz")]
    assert sorted(hamlets) == sorted(facts["hamlets"])  # the rice field gets no form
    raw = gpd.read_file(facts["gpkg"], layer="parcels")
    garden = raw["KHLOAIDAT"].map(is_garden_land_use) & raw["DIADANH"].ne(FIELD)
    for hamlet in hamlets:
        book = openpyxl.load_workbook(written[hamlet])
        sheet = book["Phiếu khảo sát"]
        rows = list(sheet.iter_rows(min_row=3, values_only=True))
        header, body = list(rows[0]), [r for r in rows[1:] if any(v is not None for v in r)]
        mine = parcels["hamlet"].eq(hamlet)
        ids = set(parcels.loc[mine & garden.to_numpy(), "parcel_id"])
        assert {r[header.index(FORM_ID)] for r in body} == ids
        assert sheet["A1"].value.endswith(hamlet.upper())
        assert sheet.page_setup.orientation == "landscape" and int(sheet.page_setup.paperSize) == 9
        assert sheet.oddFooter.left.text == "NGƯỜI KHẢO SÁT (ký, ghi rõ họ tên)"
        assert sheet.oddFooter.center.text == "TRƯỞNG THÔN (ký, ghi rõ họ tên)"
        assert sheet.page_margins.footer >= 0.9  # room to sign below the names
        lists = book["Danh mục"]
        assert lists.sheet_state == "hidden"
        classes = [c.value for c in lists["A"][1:] if c.value]
        needs = [c.value for c in lists["B"][1:] if c.value]
        assert classes == Codebook.default().labels
        assert needs == [n.label for n in load_needs()]
        validations = {str(v.sqref).split(":")[0][0]: v
                       for v in sheet.data_validations.dataValidation}  # fmt: skip
        col = {h: chr(ord("A") + i) for i, h in enumerate(header)}
        assert validations[col["Phân loại vườn"]].formula1 == "'Danh mục'!$A$2:$A$6"
        assert validations[col["Phân loại vườn"]].errorStyle == "stop"
        assert validations[col["Nhu cầu hỗ trợ"]].errorStyle == "information"  # free text ok
        assert validations[col["Ngày khảo sát"]].type == "date"
    with zipfile.ZipFile(written["qgz"]) as archive:
        assert archive.namelist() == ["khao_sat_vuon.qgs"]
        xml = archive.read("khao_sat_vuon.qgs").decode("utf-8")
    assert 'editWidget type="ValueMap"' in xml and "Vườn hoang hóa" in xml
    layers = dict(pyogrio.list_layers(written["gpkg"]))
    assert set(layers) == {"parcels", "survey"}


def _fill(path, edits, *, add=None, renumber=None):
    """Fill a form as a surveyor does: classes, needs, dates; add or renumber rows."""
    book = openpyxl.load_workbook(path)
    sheet = book["Phiếu khảo sát"]
    header = [c.value for c in sheet[3]]
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {sheet.cell(row=r, column=col[FORM_ID]).value: r for r in range(4, sheet.max_row + 1)}
    for pid, (cls, needs, day) in edits.items():
        r = rows[pid]
        sheet.cell(row=r, column=col["Phân loại vườn"], value=cls)
        sheet.cell(row=r, column=col["Nhu cầu hỗ trợ"], value=needs)
        sheet.cell(row=r, column=col["Ngày khảo sát"], value=day)
    if renumber:
        pid, number = renumber
        sheet.cell(row=rows[pid], column=col["Số thửa"], value=number)
    if add:
        r = sheet.max_row + 1
        for header_name, value in add.items():
            sheet.cell(row=r, column=col[header_name], value=value)
    book.save(path)


def test_filled_form_read_back_and_joined_by_key(forms, tmp_path):
    parcels, facts, written = forms
    hamlet = "Xóm 1"
    path = tmp_path / "returned.xlsx"
    path.write_bytes(written[hamlet].read_bytes())
    ids = parcels.loc[parcels["hamlet"].eq(hamlet) & parcels["land_use"].map(is_garden_land_use),
                      "parcel_id"].tolist()  # fmt: skip
    a, b, c = ids[:3]
    edits = {a: ("Vườn hoang hóa", "cây giống, vốn", dt.date(2023, 4, 15)),
             b: ("VT", "Vốn vay", dt.date(2023, 4, 16)),
             c: ("Vườn mẫu", None, dt.date(2023, 4, 16))}  # fmt: skip
    # a parcel of another hamlet's garden, added by the surveyor at the end
    other = parcels[parcels["hamlet"].eq("Xóm 2") & parcels["land_use"].map(is_garden_land_use)]
    extra = other.iloc[0]
    sheet_no = int(c.split("-")[0])
    free = max(parcels.loc[parcels["sheet"] == sheet_no, "parcel_no"]) + 50
    _fill(path, edits,
          add={"Số tờ": int(extra["sheet"]), "Số thửa": int(extra["parcel_no"]),
               "Thôn": "Xóm 2", "Phân loại vườn": "Vườn tạp"},
          renumber=(c, free))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survey = read_survey(path)  # no option
    filled = survey[survey["garden_class_code"].notna()]
    codes = dict(zip(filled[FORM_ID].fillna("added"), filled["garden_class_code"]))
    assert codes == {a: "hoang_hoa", b: "vuon_tap", c: "vuon_mau", "added": "vuon_tap"}
    assert survey.loc[survey[FORM_ID].eq(a), "support_needs"].item() == "cây giống, vốn"
    assert survey.loc[survey[FORM_ID].eq(b), "survey_date"].item() == pd.Timestamp("2023-04-16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diff = check_returned_form(survey, parcels)
    said = [w for w in caught if issubclass(w.category, SurveyWarning)]
    assert len(said) == 1 and "renumbered" in str(said[0].message)
    kinds = diff.groupby("kind")["parcel_id"].apply(list).to_dict()
    assert kinds["renumbered"] == [c]
    assert diff.loc[diff["kind"] == "renumbered", "now"].item() == f"{sheet_no}-{free}"
    assert diff.loc[diff["kind"] == "added", "now"].item() == extra["parcel_id"]
    assert "not_returned" not in kinds  # every row of the form came back
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        joined, report = join_survey(parcels, survey)
    # joined by the key written: a, b matched with their classes; the renumbered row names
    # a parcel that does not exist, so parcel c is unsurveyed and the row unmatched
    by_id = joined.set_index("parcel_id")
    assert by_id.loc[a, "garden_class_code"] == "hoang_hoa"
    assert by_id.loc[b, "garden_class_code"] == "vuon_tap"
    assert by_id.loc[extra["parcel_id"], "garden_class_code"] == "vuon_tap"
    assert by_id.loc[c, "survey_status"] == "no_survey"
    assert free in report.unmatched["parcel_no"].astype(int).tolist()
    # the join report lists the differences of the returned form, by kind
    issues = pd.DataFrame(report.issues)
    form = issues[issues["kind"].str.startswith("form_")]
    assert sorted(form["kind"]) == ["form_added", "form_renumbered"]
    assert form.loc[form["kind"] == "form_renumbered", "value"].item() == f"{sheet_no}-{free}"
    # a survey that is not a returned form reports no such difference
    plain = survey.drop(columns=[FORM_ID])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, report = join_survey(parcels, plain)
        assert check_returned_form(plain, parcels).empty
    assert not pd.DataFrame(report.issues)["kind"].str.startswith("form_").any()


def test_qfield_layer_read_back(forms, tmp_path):
    parcels, facts, written = forms
    gpkg = tmp_path / "qfield.gpkg"
    gpkg.write_bytes(written["gpkg"].read_bytes())
    layer = pyogrio.read_dataframe(gpkg, layer="survey")
    layer.loc[0, "garden_class"] = "Vườn đạt chuẩn"
    layer.loc[0, "nc_phan_bon"] = 1
    layer.loc[0, "survey_date"] = "2023-05-02"
    layer.loc[1, "garden_class"] = "Vườn hoang hóa"
    layer.loc[1, "nc_von"] = 1
    layer.loc[1, "nhu_cau_khac"] = "máy cày"
    pyogrio.write_dataframe(layer, gpkg, layer="survey", driver="GPKG")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        survey = read_survey(gpkg)
    assert survey["garden_class_code"].tolist() == ["dat_chuan", "hoang_hoa"]
    assert survey["support_needs"].tolist() == ["phân bón", "vốn, máy cày"]
    assert survey["survey_date"].iloc[0] == pd.Timestamp("2023-05-02")
    assert survey[FORM_ID].tolist() == layer.loc[:1, "parcel_id"].tolist()
    empty = tmp_path / "empty.gpkg"
    empty.write_bytes(written["gpkg"].read_bytes())
    with pytest.raises(InputError, match="no filled feature"):
        read_survey(empty)


def test_cli_survey_form_one_hamlet(foreign, tmp_path):
    from ntmgis.cli import cli

    _, facts = foreign
    run = CliRunner().invoke(cli, ["survey-form", str(facts["gpkg"]), "--layer", "parcels",
                                   "-o", str(tmp_path), "--hamlets", "xom hoa binh",
                                   "--no-qfield"])  # fmt: skip
    assert run.exit_code == 0, run.output
    assert [p.name for p in tmp_path.glob("*.xlsx")] == ["phieu_khao_sat_xom_hoa_binh.xlsx"]
    assert "Cánh đồng Bàu" in run.output  # the summary says how the hamlets were found
    bad = CliRunner().invoke(cli, ["survey-form", str(facts["gpkg"]), "--layer", "parcels",
                                   "-o", str(tmp_path), "--hamlets", "Xóm 99"])  # fmt: skip
    assert bad.exit_code != 0
