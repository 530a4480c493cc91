"""Inputs of communes ntmgis had never seen, each as the class of file it stands for.

Found by running ``ntmgis run`` on sample communes rewritten the way other communes write
their files (see tests/_foreign.py, :func:`make_unseen`): a Shapefile whose DBF cut the
field names to 10 characters, a .prj-less Shapefile of another VN-2000 zone, the hamlet
only in an address column (DIACHI), abbreviated unit words (TDP, KP), a survey with a
two-row merged header, hamlets headed "Ấp" or "Bản/Tổ", classes written "Vườn hoang",
dates written in words, and the text-encoding warning's Vietnamese.
"""

from __future__ import annotations

import datetime as dt
import warnings

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

from ntmgis import read_parcels, read_survey
from ntmgis.errors import CRSError, ParcelWarning
from ntmgis.i18n import set_language
from ntmgis.places import assign_hamlets, hamlet_key, parse_place
from ntmgis.survey import Codebook
from ntmgis.text import repair_column, unicode_to_tcvn3

# a 3 x 2 block of 20 m parcels in Nghệ An (VN-2000 / TM-3 104°45', EPSG:9208)
X0, Y0 = 560_000.0, 2_100_000.0


def _parcels(crs="EPSG:9208", **columns) -> gpd.GeoDataFrame:
    geoms = [box(X0 + 20 * i, Y0 + 20 * j, X0 + 20 * i + 20, Y0 + 20 * j + 20)
             for j in range(2) for i in range(3)]  # fmt: skip
    data = {"SoHieuToBanDo": [4, 4, 4, 5, 5, 5], "SoThuTuThua": [1, 2, 3, 1, 2, 3]}
    data.update(columns)
    return gpd.GeoDataFrame(data, geometry=geoms, crs=crs)


def _shapefile(gdf, path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # GDAL says it cuts the names to 10: that is the point
        gdf.to_file(path)


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# --- parcels ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "long_names",
    [
        {"sheet": "SoHieuToBanDo", "parcel_no": "SoThuTuThua", "land_use": "KyHieuMucDichSuDung"},
        {"sheet": "Số tờ bản đồ", "parcel_no": "parcel_number", "land_use": "MucDichSuDung"},
    ],
)
def test_shapefile_field_names_cut_to_ten_characters_are_known(tmp_path, long_names):
    gdf = _parcels().rename(
        columns={"SoHieuToBanDo": long_names["sheet"], "SoThuTuThua": long_names["parcel_no"]}
    )
    gdf[long_names["land_use"]] = ["ONT+CLN", "CLN", "LUC", "ONT", "HNK", "NTS"]
    path = tmp_path / "thua.shp"
    _shapefile(gdf, path)
    cut = [c for c in gpd.read_file(path).columns if c != "geometry"]
    assert all(len(c) <= 10 for c in cut)
    out = _quiet(read_parcels, path)
    assert out["parcel_id"].tolist() == ["4-1", "4-2", "4-3", "5-1", "5-2", "5-3"]
    assert out["land_use"].tolist() == ["ONT+CLN", "CLN", "LUC", "ONT", "HNK", "NTS"]
    assert out["parcel_status"].eq("ok").all()


def test_sheet_column_named_to_bd_is_the_sheet():
    gdf = _parcels().rename(columns={"SoHieuToBanDo": "TO_BD", "SoThuTuThua": "THUA"})
    out = _quiet(read_parcels, gdf)
    assert out["parcel_id"].tolist() == ["4-1", "4-2", "4-3", "5-1", "5-2", "5-3"]
    assert not out["parcel_status"].eq("duplicate_key").any()


def test_prj_less_shapefile_takes_the_zone_of_the_province_named(tmp_path):
    path = tmp_path / "khong_prj.shp"
    _shapefile(_parcels(), path)
    path.with_suffix(".prj").unlink()
    with pytest.warns(ParcelWarning, match=r"khong_prj\.shp.*Nghệ An.*EPSG:9208"):
        out = read_parcels(path, province="Nghe An")  # without diacritics, as typed
    assert out.crs.to_epsg() == 9208
    assert out.total_bounds.tolist() == pytest.approx([X0, Y0, X0 + 60, Y0 + 40])
    # no province: the error names the file and the zone to choose; no such province: says so
    with pytest.raises(CRSError, match=r"khong_prj\.shp.*EPSG:9208"):
        _quiet(read_parcels, path)
    with pytest.raises(CRSError, match=r"'Không Có Tỉnh Này'.*Nghệ An"):
        _quiet(read_parcels, path, province="Không Có Tỉnh Này")


def test_degrees_without_prj_are_not_given_a_projected_zone(tmp_path):
    path = tmp_path / "do.shp"
    _shapefile(_parcels().to_crs("EPSG:4326"), path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(CRSError, match=r"do\.shp"):
        _quiet(read_parcels, path, province="Nghệ An")


@pytest.mark.parametrize("column", ["DIACHI", "DiaChiThua", "Địa chỉ"])
def test_address_column_is_parsed_for_the_hamlet(column):
    places = ["Xóm 3, xã Nghĩa Lâm, huyện Nghĩa Đàn, tỉnh Nghệ An"] * 3 + [
        "xóm 4, Xã Nghĩa Lâm, Huyện Nghĩa Đàn",
        "Cánh đồng Bàu, xã Nghĩa Lâm",
        "Số 12, đường Lê Lợi, xóm 4, xã Nghĩa Lâm",
    ]
    out = _quiet(read_parcels, _parcels(**{column: places}))
    assert out["hamlet"].tolist()[:4] == ["Xóm 3", "Xóm 3", "Xóm 3", "Xóm 4"]
    assert pd.isna(out["hamlet"].iloc[4]) and out["place_kind"].iloc[4] == "canh_dong"
    assert out["hamlet"].iloc[5] == "Xóm 4"
    assert out["place_commune"].iloc[0] == "Xã Nghĩa Lâm"
    assert out.attrs["hamlet_source"] == "place_text"


def test_hamlet_column_holding_whole_addresses_is_parsed_too():
    table = pd.DataFrame(
        {"hamlet": ["Ấp Bình An, xã Tân Phú, huyện Châu Thành", "Ấp 3, xã Tân Phú", "Ấp 3"]}
    )
    out = _quiet(assign_hamlets, table, source_column="Thôn")
    assert out["hamlet"].tolist() == ["Ấp Bình An", "Ấp 3", "Ấp 3"]
    # names alone stay as written (the explicit column wins)
    plain = _quiet(assign_hamlets, pd.DataFrame({"hamlet": ["Đông Hòa", "đông hòa"]}),
                   source_column="Thôn")  # fmt: skip
    assert plain["hamlet"].tolist() == ["Đông Hòa", "Đông Hòa"]
    assert plain.attrs["hamlet_source"] == "column"


@pytest.mark.parametrize(
    "text, hamlet, commune",
    [
        ("TDP 2, thị trấn Nghèn", "Tổ dân phố 2", "Thị trấn Nghèn"),
        ("TDP.3", "Tổ dân phố 3", None),
        ("Tổ DP 5, phường Bắc Hà", "Tổ dân phố 5", "Phường Bắc Hà"),
        ("KP 4, phường Tân Mai", "Khu phố 4", "Phường Tân Mai"),
        ("Khối 7, thị trấn Con Cuông", "Khối 7", "Thị trấn Con Cuông"),
        ("khoi 7", "Khối 7", None),
        ("Số 12, đường Lê Lợi, thôn Đông, xã Thanh Bình", "Thôn Đông", "Xã Thanh Bình"),
        ("Bản Nà Lừa, xã Ít Ong, huyện Mường La", "Bản Nà Lừa", "Xã Ít Ong"),
    ],
)
def test_abbreviated_and_later_unit_words(text, hamlet, commune):
    place = parse_place(text)
    assert (place.hamlet, place.commune, place.kind) == (hamlet, commune, "thon_xom")


def test_abbreviated_unit_word_is_the_same_hamlet():
    assert hamlet_key("TDP 3") == hamlet_key("Tổ dân phố 3") == "3"
    assert hamlet_key("KP.4, phường X") == hamlet_key("Khu phố 4")
    # a field named before a hamlet stays a field; words after the commune are not read
    assert parse_place("Cánh đồng Bàu, thôn Đông, xã X").kind == "canh_dong"
    assert parse_place("Đông Hòa, xã X, thôn Y").hamlet == "Đông Hòa"
    assert parse_place("Kp").kind == "khong_ro"  # no name after it: not an abbreviation


# --- the survey ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, code",
    [
        ("Vườn hoang", "hoang_hoa"),
        ("VƯỜN HOANG", "hoang_hoa"),
        ("vuon hoang", "hoang_hoa"),
        ("vườn bỏ hoang", "hoang_hoa"),
        ("Vườn đạt chuẩn", "dat_chuan"),
        ("Vườn đã cải tạo", "da_cai_tao"),
        ("đã chỉnh trang", "da_cai_tao"),  # the programme's own word for renovating
        ("cần chỉnh trang", None),  # a wording the codebook does not hold: reported
        ("Vườn hoang mạc", None),
        ("Vườn", None),
    ],
)
def test_class_written_with_or_without_vuon(value, code):
    cls, _ = Codebook.default().match(value)
    assert (cls.code if cls else None) == code


def _two_row_header_book(path, *, merged: bool):
    book = openpyxl.Workbook()
    book.active.title = "Trang trống"  # an empty sheet first
    ws = book.create_sheet("Tổng hợp")
    ws.append(["UBND XÃ TÂN PHÚ"])
    ws.append(["STT", "Họ và tên chủ hộ", "Ấp", "Thửa đất", None, "Phân loại vườn", "Ngày"])
    ws.append([None, None, None, "Tờ bản đồ số", "Thửa số", None, None])
    ws.append([1, "Lê Văn A", "Ấp Bình An", 4, 1, "Vườn hoang", "05/04/2020"])
    ws.append([2, "Trần Thị B", "ap binh an", 4, 2, "Vườn tạp", dt.datetime(2020, 4, 5)])
    ws.append([3, "Phạm C", "Ấp 3", 5, 1, "VƯỜN MẪU", "ngày 5 tháng 4 năm 2020"])
    if merged:
        for col in (1, 2, 3, 6, 7):
            ws.merge_cells(start_row=2, start_column=col, end_row=3, end_column=col)
        ws.merge_cells(start_row=2, start_column=4, end_row=2, end_column=5)
    book.save(path)


@pytest.mark.parametrize("merged", [True, False])
def test_survey_with_a_two_row_header(tmp_path, merged):
    path = tmp_path / "khao_sat.xlsx"
    _two_row_header_book(path, merged=merged)
    out = _quiet(read_survey, path)
    meta = out.attrs["ntmgis"]
    assert meta["sheet"] == "Tổng hợp"
    assert meta["fields"]["sheet"] == "Tờ bản đồ số"
    assert meta["fields"]["parcel_no"] == "Thửa số"
    assert meta["fields"]["hamlet"] == "Ấp"
    assert out["survey_row"].tolist() == [4, 5, 6]  # no row made of the sub-header
    assert out["sheet"].tolist() == [4, 4, 5]
    assert out["parcel_no"].tolist() == [1, 2, 1]
    assert out["garden_class_code"].tolist() == ["hoang_hoa", "vuon_tap", "vuon_mau"]
    assert out["survey_date"].tolist() == [pd.Timestamp("2020-04-05")] * 3


def test_first_data_row_is_not_taken_for_a_sub_header(tmp_path):
    path = tmp_path / "ks.csv"
    path.write_text(
        "Số tờ,Số thửa,Chủ hộ,Phân loại vườn\n"
        ",,Không Số,Vườn tạp\n"  # a row of text only, whose texts are no headers
        "4,2,Lê B,Vườn mẫu\n",
        encoding="utf-8",
    )
    out = _quiet(read_survey, path)
    assert out["survey_row"].tolist() == [2, 3]
    assert out["owner"].tolist() == ["Không Số", "Lê B"]


@pytest.mark.parametrize("header", ["Ấp", "Bản/Tổ", "Tổ dân phố", "THON/BAN", "Tên xóm"])
def test_survey_hamlet_headed_by_the_regions_unit_word(tmp_path, header):
    path = tmp_path / "ks.csv"
    path.write_text(f"Số tờ,Số thửa,{header},Phân loại vườn\n4,1,Bản Nà Lừa,Vườn tạp\n", "utf-8")
    out = _quiet(read_survey, path)
    assert out["hamlet"].tolist() == ["Bản Nà Lừa"]


@pytest.mark.parametrize(
    "text",
    ["05/04/2020", "5-4-2020", "5.4.20", "ngày 5 tháng 4 năm 2020", "Ngay 05 thang 04 nam 2020",
     "5 tháng 4, 2020", "2020/04/05", "2020-04-05"],
)  # fmt: skip
def test_dates_written_every_way(tmp_path, text):
    path = tmp_path / "ks.csv"
    path.write_text(f'Số tờ,Số thửa,Phân loại vườn,Ngày khảo sát\n4,1,Vườn tạp,"{text}"\n', "utf-8")
    out = _quiet(read_survey, path)
    assert out["survey_date"].tolist() == [pd.Timestamp("2020-04-05")]


def test_impossible_date_in_words_is_reported_not_guessed(tmp_path):
    path = tmp_path / "ks.csv"
    path.write_text("Số tờ,Số thửa,Phân loại vườn,Ngày khảo sát\n4,1,Vườn tạp,ngày 31 tháng 2 năm "
                    "2020\n", "utf-8")  # fmt: skip
    out = _quiet(read_survey, path)
    assert pd.isna(out["survey_date"].iloc[0])
    assert out["survey_issues"].iloc[0]


# --- what the text repair says ---------------------------------------------------------


def test_encoding_warning_is_all_vietnamese_or_all_english():
    values = [unicode_to_tcvn3(v) for v in ("Nguyễn Văn An", "Trần Thị Bình", "Lê Hữu Đức")]
    try:
        set_language("vi")
        _, vi = repair_column(values, column="TENCHU", source="thua.shp")
        set_language("en")
        _, en = repair_column(values, column="TENCHU", source="thua.shp")
    finally:
        set_language(None)
    assert "bảng mã cũ TCVN3 (ABC) [tcvn3]" in vi["warning"]
    assert "the legacy" not in vi["warning"]
    assert "the legacy TCVN3 (ABC) encoding [tcvn3]" in en["warning"]
    assert "3" in vi["warning"] and "thua.shp" in vi["warning"]


def test_how_the_hamlets_were_found_is_said_in_the_language_in_force():
    table = pd.DataFrame({"hamlet": ["Xóm 3, xã Nghĩa Lâm", "Cánh đồng Bàu, xã Nghĩa Lâm"]})
    try:
        set_language("vi")
        vi = _quiet(assign_hamlets, table, source_column="DIACHI").attrs["hamlet_summary"]
        set_language("en")
        en = _quiet(assign_hamlets, table, source_column="DIACHI").attrs["hamlet_summary"]
    finally:
        set_language(None)
    assert vi == "1 thôn tách từ địa danh 'DIACHI'; không phải thôn: Cánh đồng Bàu (1 thửa)"
    assert (
        en
        == "1 hamlets parsed from the place text 'DIACHI'; not hamlets: Cánh đồng Bàu (1 parcels)"
    )


def test_header_repeated_down_the_sheet_is_no_data_row(tmp_path):
    path = tmp_path / "ks.csv"
    head = "STT,Số tờ,Số thửa,Phân loại vườn\n"
    path.write_text(head + "1,4,1,Vườn tạp\n" + head + "2,4,2,Vườn mẫu\n", encoding="utf-8")
    out = _quiet(read_survey, path)
    assert out["survey_row"].tolist() == [2, 4]
    assert out["parcel_no"].tolist() == [1, 2]
    assert not out["survey_issues"].notna().any()


def test_survey_sheets_one_per_hamlet_are_not_left_out_silently(tmp_path):
    path = tmp_path / "ks.xlsx"
    book = openpyxl.Workbook()
    first = book.active
    first.title = "Xóm 1"
    first.append(["STT", "Số tờ", "Số thửa", "Phân loại vườn"])
    first.append([1, 4, 1, "Vườn tạp"])
    second = book.create_sheet("Xóm 2")
    second.append(["STT", "Số tờ", "Số thửa", "Phân loại vườn"])
    second.append([1, 5, 1, "Vườn mẫu"])
    second.append([2, 5, 2, "Vườn tạp"])
    book.create_sheet("Ghi chú").append(["Người lập biểu: Lê Văn A"])
    book.save(path)
    set_language("vi")
    try:
        with pytest.warns(Warning, match=r"chỉ trang 'Xóm 1'.*'Xóm 2' \(2\)") as said:
            out = read_survey(path)
    finally:
        set_language(None)
    assert "Ghi chú" not in " ".join(str(w.message) for w in said)
    assert out["parcel_no"].tolist() == [1]
    # the sheet named: the others are the user's choice, nothing to say
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_survey(path, sheet="Xóm 2")["parcel_no"].tolist() == [1, 2]
