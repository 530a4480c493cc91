"""Hamlets as people name them (ntmgis.places), on hand-written place texts and on a
"foreign" commune: the sample rewritten as Xã Nghi Phong's cadastral file writes it."""

from __future__ import annotations

import subprocess
import unicodedata
import warnings

import geopandas as gpd
import pandas as pd
import pytest
from _foreign import FIELD
from shapely.geometry import box

from ntmgis.errors import ParcelWarning
from ntmgis.places import assign_hamlets, hamlet_key, hamlet_title, normalise_hamlets, parse_place


@pytest.fixture(autouse=True)
def _english():
    """Messages in English: these tests match the English sentences (vi: see below)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


# text -> (unit, hamlet, commune, kind)
CASES = {
    "Xóm 1, xã Nghi Phong": ("Xóm", "Xóm 1", "Xã Nghi Phong", "thon_xom"),
    "thôn Việt Hòa, xã Vân Hòa (cũ)": ("Thôn", "Thôn Việt Hòa", "Xã Vân Hòa", "thon_xom"),
    "thôn Việt Hoà, xã Vân Hoà (cũ)": ("Thôn", "Thôn Việt Hòa", "Xã Vân Hòa", "thon_xom"),
    "ẤP BÌNH LỢI, XÃ TÂN THẠNH, HUYỆN CHÂU THÀNH": (
        "Ấp",
        "Ấp Bình Lợi",
        "Xã Tân Thạnh",
        "thon_xom",
    ),  # fmt: skip
    "bản Mường Lói, xã Mường Lói": ("Bản", "Bản Mường Lói", "Xã Mường Lói", "thon_xom"),
    "Buôn Ea Sup": ("Buôn", "Buôn Ea Sup", None, "thon_xom"),
    "Tổ dân phố 5, phường Bắc Hà": ("Tổ dân phố", "Tổ dân phố 5", "Phường Bắc Hà", "thon_xom"),
    "khu phố 2 - thị trấn Nghèn": ("Khu phố", "Khu phố 2", "Thị trấn Nghèn", "thon_xom"),
    "Làng Chuông; xã Phương Trung": ("Làng", "Làng Chuông", "Xã Phương Trung", "thon_xom"),
    "sóc Tà Lọt": ("Sóc", "Sóc Tà Lọt", None, "thon_xom"),
    "Xóm 1 xã Nghi Phong": ("Xóm", "Xóm 1", "Xã Nghi Phong", "thon_xom"),
    "thôn iv, xã Cẩm Bình": ("Thôn", "Thôn IV", "Xã Cẩm Bình", "thon_xom"),
    "Cánh đồng Bàu, xã Nghi Phong": ("Cánh đồng", None, "Xã Nghi Phong", "canh_dong"),
    "xứ đồng Cồn Cát": ("Xứ đồng", None, None, "canh_dong"),
    "Đồng Cửa Nghè, xã Nghi Phong": ("Đồng", None, "Xã Nghi Phong", "canh_dong"),
    "Rừng phòng hộ, xã Nghi Phong": ("Rừng", None, "Xã Nghi Phong", "rung_nui"),
    "Núi Quyết": ("Núi", None, None, "rung_nui"),
    "Hồ Khe Gỗ": ("Hồ", None, None, "song_ho"),
    "Sông Lam": ("Sông", None, None, "song_ho"),
    "Bãi bồi Hưng Hòa": ("Bãi", None, None, "bai"),
    "Đông Hòa": (None, "Đông Hòa", None, "khong_ro"),  # "Đông" is not "Đồng"
    "Xom Hoa Binh, xa Nghi Phong": ("Xóm", "Xóm Hoa Binh", "Xã Nghi Phong", "thon_xom"),
    "Ban Me": ("Bản", "Bản Me", None, "thon_xom"),  # no diacritics at all: read folded
    # the Mekong's khóm (a ward's hamlet) and the Khmer phum; numbered production teams
    "Khóm 4, phường 2, TP Sóc Trăng": ("Khóm", "Khóm 4", "Phường 2", "thon_xom"),
    "khom 1 xa vinh phuoc": ("Khóm", "Khóm 1", "Xã Vinh Phuoc", "thon_xom"),
    "Phum Kỳ La, xã Lạc Hòa": ("Phum", "Phum Kỳ La", "Xã Lạc Hòa", "thon_xom"),
    "Đội 5, xã Yên Lạc": ("Đội", "Đội 5", "Xã Yên Lạc", "thon_xom"),
    "doi 12 xa yen lac": ("Đội", "Đội 12", "Xã Yen Lac", "thon_xom"),
    "Tổ 3, thị trấn Phố Lu": ("Tổ", "Tổ 3", "Thị trấn Phố Lu", "thon_xom"),
    "Đội Cấn": (None, "Đội Cấn", None, "khong_ro"),  # a name, not a numbered team
    "Đồi 5": ("Đồi", None, None, "rung_nui"),  # a hill, not "Đội 5"
    "Tơ 5": (None, "Tơ 5", None, "khong_ro"),
    # a numbered hamlet's letter is upper case, as communes write it
    "THÔN 12A, XÃ CẨM BÌNH": ("Thôn", "Thôn 12A", "Xã Cẩm Bình", "thon_xom"),
    "xom 1b, xa nghi phong": ("Xóm", "Xóm 1B", "Xã Nghi Phong", "thon_xom"),
    # a remark in brackets is no part of the name: merged, new, former names, "now ..."
    "thôn Đông (sáp nhập), xã Nghi Phong": ("Thôn", "Thôn Đông", "Xã Nghi Phong", "thon_xom"),
    "Thôn Đông Hòa (mới)": ("Thôn", "Thôn Đông Hòa", None, "thon_xom"),
    "Xóm Đông (thôn Đông cũ)": ("Xóm", "Xóm Đông", None, "thon_xom"),
    "Thôn 5 (trước đây là Xóm 3)": ("Thôn", "Thôn 5", None, "thon_xom"),
    "Thôn Trung, xã Vân Hòa (nay là xã Ba Vì)": ("Thôn", "Thôn Trung", "Xã Vân Hòa", "thon_xom"),
    "THÔN BẮC (ĐÃ SÁP NHẬP THÔN NAM)": ("Thôn", "Thôn Bắc", None, "thon_xom"),
    "Thôn Đông (A)": ("Thôn", "Thôn Đông (A)", None, "thon_xom"),  # a name's own letter
    "": (None, None, None, "trong"),
}


@pytest.mark.parametrize("text", list(CASES))
def test_parse_place(text):
    unit, hamlet, commune, kind = CASES[text]
    place = parse_place(text)
    assert (place.unit, place.hamlet, place.commune, place.kind) == (unit, hamlet, commune, kind)
    # an NFD input (as macOS and some Windows tools write it) reads the same
    assert parse_place(unicodedata.normalize("NFD", text)) == parse_place(text)


def test_parse_place_old_name_and_field_place():
    assert parse_place("thôn Việt Hòa, xã Vân Hòa (cũ)").old
    assert not parse_place("Xóm 1, xã Nghi Phong").old
    field = parse_place(FIELD)
    assert field.place == "Cánh đồng Bàu" and not field.is_hamlet


def test_a_remark_is_not_an_old_name():
    assert not parse_place("Xóm Đông (thôn Đông cũ)").old  # Xóm Đông is today's name
    assert not parse_place("thôn Đông (sáp nhập)").old
    assert parse_place("thôn 5 (cũ)").old


@pytest.mark.parametrize(
    ("texts", "hamlets", "communes"),
    [
        # the commune's name written after each numbered hamlet, without "xã"
        (["Xóm 1 Nghi Phong", "Xóm 2 Nghi Phong", "xóm 3 nghi phong", "Xóm 4"],
         ["Xóm 1", "Xóm 2", "Xóm 3", "Xóm 4"], ["Nghi Phong"] * 3 + [None]),
        # a named hamlet written the same way loses the commune's name too
        (["Xóm 1 Nghi Phong", "Xóm 2 Nghi Phong", "Xóm Đông Nghi Phong", "Xóm Tây"],
         ["Xóm 1", "Xóm 2", "Xóm Đông", "Xóm Tây"], ["Nghi Phong"] * 3 + [None]),
        # a tail that differs, a unit (Khu 2), one syllable, one hamlet: as written
        (["Tổ 1 Khu 2", "Tổ 2 Khu 2"], ["Tổ 1 Khu 2", "Tổ 2 Khu 2"], [None, None]),
        (["Xóm 1 Nghi Phong", "Xóm 2 Nghi Xuân"], ["Xóm 1 Nghi Phong", "Xóm 2 Nghi Xuân"],
         [None, None]),
        (["Thôn 1 Bắc", "Thôn 2 Bắc"], ["Thôn 1 Bắc", "Thôn 2 Bắc"], [None, None]),
        (["Xóm 1 Nghi Phong", "Xóm 1 Nghi Phong"], ["Xóm 1 Nghi Phong"] * 2, [None, None]),
        # named hamlets keep every word
        (["Thôn Đông Sơn Thủy", "Thôn Tây Sơn Thủy"], ["Thôn Đông Sơn Thủy",
         "Thôn Tây Sơn Thủy"], [None, None]),
    ],
)  # fmt: skip
def test_a_commune_name_after_numbered_hamlets_is_the_communes(texts, hamlets, communes):
    table = normalise_hamlets(texts)
    assert table["hamlet"].tolist() == hamlets
    assert table["place_commune"].tolist() == communes


def test_keys_and_titles():
    assert hamlet_key("Xóm 1, xã Nghi Phong") == hamlet_key("xom 1") == "1"
    assert hamlet_key("Thôn Đông Hoà") == hamlet_key("Đông Hòa") == "dong hoa"
    assert hamlet_key("Xóm Đông") != hamlet_key("Xóm Đồng Tâm")
    assert hamlet_title("Xóm 1, xã Nghi Phong") == "Xóm 1"  # never "Thôn Xóm 1 ..."
    assert hamlet_title("ấp bình lợi") == "Ấp Bình Lợi"


def test_two_spellings_merged_into_the_commonest():
    table = normalise_hamlets(["Xóm Hòa Bình, xã Nghi Phong"] * 3 + ["XÓM HOÀ BÌNH"]
                              + ["xom hoa binh"] * 2 + ["Xóm 1"])  # fmt: skip
    assert table["hamlet"].tolist() == ["Xóm Hòa Bình"] * 6 + ["Xóm 1"]
    # "XÓM HOÀ BÌNH" is NFC'd, tone-moved and case-normalised to the same spelling already
    assert table.attrs["merged"] == {"Xóm Hoa Binh": "Xóm Hòa Bình"}


def _parcels(values, xs=None):
    xs = xs or range(len(values))
    return gpd.GeoDataFrame(
        {"parcel_id": [f"1-{i}" for i in range(len(values))], "hamlet": values},
        geometry=[box(x * 10, 0, x * 10 + 8, 8) for x in xs],
        crs="EPSG:9209",
    )


def test_unit_less_names_kept_whole_and_said_once():
    frame = _parcels(["Đông Hòa", "Đông Hòa", "Tân Lộc", "Xóm 3"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = assign_hamlets(frame, source_column="DIADANH", where="test")
    said = [w for w in caught if getattr(w.message, "what", None) == "warning.places.no_unit_word"]
    assert len(said) == 1 and issubclass(said[0].category, ParcelWarning)
    assert "'Tân Lộc'" in str(said[0].message) and "'Đông Hòa'" in str(said[0].message)
    assert out["hamlet"].tolist() == ["Đông Hòa", "Đông Hòa", "Tân Lộc", "Xóm 3"]
    assert out["place_kind"].tolist() == ["khong_ro"] * 3 + ["thon_xom"]


def test_explicit_hamlet_column_wins_as_written():
    frame = _parcels(["Xóm Bàu", "Xóm Bàu", "Đồng Bàu"])
    out = assign_hamlets(frame, source_column="Thôn")
    assert out["hamlet"].tolist() == ["Xóm Bàu", "Xóm Bàu", "Đồng Bàu"]
    assert out.attrs["hamlet_source"] == "column"
    assert "hamlet column 'Thôn'" in out.attrs["hamlet_summary"]


def test_hamlet_layer_wins_over_the_place_text():
    # parcels 0-1 in the west polygon, 2-3 in the east one; parcel 2 says nothing useful,
    # parcel 3 writes the layer's name without diacritics and with its unit word
    frame = _parcels(["Xóm 1, xã Nghi Phong", "xom 1", None, "xom dong"], xs=[0, 1, 10, 11])
    layer = gpd.GeoDataFrame(
        {"hamlet": ["Xóm 1", "Đông"]},
        geometry=[box(0, 0, 50, 10), box(95, 0, 130, 10)],
        crs="EPSG:9209",
    )
    out = assign_hamlets(frame, hamlets=layer, source_column="DIADANH")
    assert out["hamlet"].tolist() == ["Xóm 1", "Xóm 1", "Đông", "Đông"]
    assert out.attrs["hamlet_source"] == "layer"
    assert "1 parcel(s) placed by location" in out.attrs["hamlet_summary"]


# --------------------------------------------------------------------------------------
# The foreign commune, end to end: read, join, run both campaigns, report, maps
# --------------------------------------------------------------------------------------


def test_foreign_parcels_read_as_hamlets_and_a_field(foreign):
    import ntmgis

    root, facts = foreign
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        parcels = ntmgis.read_parcels(facts["gpkg"], layer="parcels")
    assert sorted(parcels["hamlet"].dropna().unique()) == sorted(facts["hamlets"])
    field = parcels["DIADANH"].eq(FIELD)
    assert int(field.sum()) == facts["field_parcels"] > 0
    assert parcels.loc[field, "hamlet"].isna().all()
    assert parcels.loc[field, "place_kind"].eq("canh_dong").all()
    assert parcels.loc[~field, "place_commune"].eq("Xã Nghi Phong").all()
    merged = [
        w for w in caught if getattr(w.message, "what", None) == "warning.places.spelling_merged"
    ]
    assert len(merged) == 1 and "'Xóm Hoa Binh' → 'Xóm Hòa Bình'" in str(merged[0].message)
    spelt = parcels["DIADANH"].eq("Xom Hoa Binh, xa Nghi Phong")
    assert int(spelt.sum()) == facts["merged"] > 0
    assert parcels.loc[spelt, "hamlet"].eq("Xóm Hòa Bình").all()
    assert parcels.attrs["hamlet_source"] == "place_text"
    assert f"Cánh đồng Bàu ({facts['field_parcels']} parcels)" in parcels.attrs["hamlet_summary"]


def test_survey_hamlets_compared_on_parsed_names(foreign):
    import ntmgis

    root, facts = foreign
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels = ntmgis.read_parcels(facts["gpkg"], layer="parcels")
        survey = ntmgis.read_survey(root / "xa" / "survey_2020.csv")
        _, report = ntmgis.join_survey(parcels, survey)
        issues = pd.DataFrame(report.issues)
        assert not issues["kind"].eq("hamlet_mismatch").any()  # "Xóm 5" is "Xóm 5, xã ..."
        # a real mismatch is visible: one row moved to another hamlet
        i = survey.index[survey["hamlet"].eq("Xóm 1")][0]
        survey.loc[i, "hamlet"] = "Xóm 2"
        _, report = ntmgis.join_survey(parcels, survey)
    issues = pd.DataFrame(report.issues)
    hits = issues[issues["kind"].eq("hamlet_mismatch")]
    assert hits["survey_row"].tolist() == [survey.loc[i, "survey_row"]]


def test_foreign_run_pages_rows_and_parcels(foreign_runs, foreign):
    root, facts = foreign
    base, follow = foreign_runs
    for result in foreign_runs:
        assert len(result.parcels) == facts["parcels"]  # every parcel kept, the field's too
        names = result.hamlets["hamlet"].tolist()
        assert sorted(names) == sorted(facts["hamlets"])  # no "Cánh đồng Bàu" hamlet
        ranked = result.progress["hamlet"].tolist()
        assert sorted(ranked) == sorted(facts["hamlets"])  # no "(chưa xác định thôn)" row
        field = result.parcels["place_kind"].eq("canh_dong")
        assert int(field.sum()) == facts["field_parcels"]
        # the run says how the hamlets were found (summary and run_metadata)
        # (in the language the session's run was made in: the run fixture is shared)
        from ntmgis.i18n import message

        found = result.metadata["hamlets_found"]
        n_field = facts["field_parcels"]
        said = [(message("places.summary.place_text", lang, count=6, column="DIADANH"),
                 message("places.summary.parcels", lang, place="Cánh đồng Bàu", count=n_field))
                for lang in ("vi", "en")]  # fmt: skip
        assert any(found.startswith(head) and field in found for head, field in said)
        assert any(message("cli.hamlets_found", lang, summary=found) in result.messages[0]
                   for lang in ("vi", "en"))  # fmt: skip
        assert result.metadata["hamlet_source"] == "place_text"
    pdf = base.outputs["maps_pdf"]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip
    assert "XÓM 1 – XÃ NGHI PHONG" in text
    assert "THÔN XÓM" not in text and "XÃ NGHI PHONG – XÃ NGHI PHONG" not in text
    assert "CÁNH ĐỒNG BÀU" not in text.upper().replace("CÁNH ĐỒNG BÀU, XÃ", "")
    # one title per hamlet page (plus the overview): the field has no page
    titles = [line for line in text.splitlines() if "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ" in line]
    hamlet_titles = {t.split("–")[1].strip() for t in titles if t.count("–") >= 3}
    assert hamlet_titles == {h.upper() for h in facts["hamlets"]}
