"""Hamlet progress, targets, ranking and campaign comparison (ntmgis.progress)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box

from ntmgis.errors import InputError, NtmgisWarning, SchemaError
from ntmgis.progress import (
    compare_campaigns,
    format_ranking,
    hamlet_progress,
    label,
    read_targets,
)

# --------------------------------------------------------------------------------------
# A tiny commune of three hamlets, counted by hand
# --------------------------------------------------------------------------------------

A, B, C = "Thôn An Bình", "Thôn Bình Minh", "Thôn Cẩm Hòa"
# parcel_no, hamlet, household, land_use, survey_class, flag, area_m2
TINY = [
    (1, A, "H1", "ONT+CLN", "vuon_mau", "binh_thuong", 500.0),
    (2, A, "H2", "ONT+CLN", "dat_chuan", "binh_thuong", 400.0),
    (3, A, "H2", "CLN", "da_cai_tao", "binh_thuong", 300.0),
    (4, A, "H3", "ONT+CLN", "hoang_hoa", "hoang_hoa", 600.0),
    (5, A, "H4", "LUC", None, None, 1000.0),
    (6, B, "H5", "ONT+CLN", "vuon_mau", "binh_thuong", 500.0),
    (7, B, "H6", "ONT+CLN", "vuon_mau", "binh_thuong", 500.0),
    (8, B, "H7", "CLN", "da_cai_tao", "binh_thuong", 200.0),
    (9, B, "H8", "CLN", "da_cai_tao", "hoang_hoa", 250.0),
    (10, B, "H9", "HNK", None, "thieu_du_lieu", 150.0),
    (11, C, "H10", "ONT+CLN", "vuon_tap", "binh_thuong", 400.0),
    (12, C, "H11", "ONT+CLN", "hoang_hoa", "hoang_hoa", 400.0),
    (13, C, "H11", "CLN", "dat_chuan", "nghi_van", 300.0),
    (14, C, None, "CLN", "vuon_tap", "hoang_hoa", 200.0),
]


def tiny_result() -> gpd.GeoDataFrame:
    rows = []
    for no, hamlet, household, land_use, survey, flag, area in TINY:
        rows.append(
            {
                "parcel_id": f"1-{no}",
                "sheet": 1,
                "parcel_no": no,
                "area_m2": area,
                "land_use": land_use,
                "hamlet": hamlet,
                "owner": f"Chủ hộ {no}",
                "household": household,
                "survey_class": survey,
                "flag": flag,
                "is_garden": land_use != "LUC",
                "visit": flag in ("hoang_hoa", "nghi_van") and survey != "hoang_hoa",
                "geometry": box(no * 30, 0, no * 30 + 20, 20),
            }
        )
    frame = gpd.GeoDataFrame(rows, crs="EPSG:9209")
    for column in ("household", "survey_class", "flag"):
        frame[column] = frame[column].astype(object)
    return frame


def tiny_hamlets() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"hamlet": [A, B, C], "ma_thon": ["T1", "T2", "T3"]},
        geometry=[box(0, 0, 160, 30), box(160, 0, 310, 30), box(310, 0, 450, 30)],
        crs="EPSG:9209",
    )


TINY_TARGETS_CSV = (
    "UBND XÃ THỬ NGHIỆM\n"
    "CHỈ TIÊU CẢI TẠO VƯỜN NĂM 2021\n"
    ",,,,\n"
    "STT,Thon,So vuon hoang hoa dua vao su dung,Ty le vuon dat chuan (%),So vuon mau\n"
    "1,Thôn An Bình,1,70,1\n"
    "2,  thon binh minh ,,64,1\n"
    "3,Thôn Cẩm Hoà,2,20,0\n"
    ",Tổng cộng,3,,2\n"
)


pytestmark = pytest.mark.usefixtures("english")  # messages matched in English


@pytest.fixture
def tiny_targets(tmp_path):
    path = tmp_path / "chi_tieu.csv"
    path.write_bytes(TINY_TARGETS_CSV.encode("utf-8-sig"))
    return path


@pytest.fixture
def tiny_gpkg(tmp_path):
    from ntmgis.pipeline import write_gpkg_atomic

    return write_gpkg_atomic(
        tmp_path / "ket_qua.gpkg", {"parcels": tiny_result(), "hamlets": tiny_hamlets()}
    )


def by_hamlet(table: pd.DataFrame) -> dict:
    return {row["hamlet"]: row for _, row in table.iterrows()}


# --------------------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------------------


def test_read_targets_title_rows_no_diacritics_total_row(tiny_targets):
    table = read_targets(tiny_targets)
    assert list(table["hamlet"]) == [A, "thon binh minh", "Thôn Cẩm Hòa"]
    assert list(table["row"]) == [5, 6, 7]
    assert table["hoang_hoa_dua_vao_su_dung"].tolist()[0] == 1.0
    assert np.isnan(table["hoang_hoa_dua_vao_su_dung"].tolist()[1])  # blank: no target
    assert table["ty_le_dat_chuan"].tolist() == [70.0, 64.0, 20.0]
    assert table["so_vuon_mau"].tolist() == [1.0, 1.0, 0.0]
    assert any("Tổng cộng" in note for note in table.attrs["notes"])


def test_read_targets_sample(layers_dir):
    table = read_targets(layers_dir / "targets_2020.csv")
    assert len(table) == 6
    first = table.iloc[0]
    assert first["hamlet"] == "Thôn Đông Hòa"
    assert (first["hoang_hoa_dua_vao_su_dung"], first["ty_le_dat_chuan"], first["so_vuon_mau"]) == (
        21.0,
        55.0,
        7.0,
    )
    hamlets = gpd.read_file(layers_dir / "thanh_binh.gpkg", layer="hamlets")
    assert set(table["hamlet"]) == set(hamlets["ten_thon"])


def test_read_targets_xlsx_percent_cells_and_sheet(tmp_path):
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Ghi chú"
    sheet = book.create_sheet("Chỉ tiêu")
    sheet.append(["BẢNG CHỈ TIÊU"])
    sheet.append([])
    sheet.append(["Tên thôn", "Tỷ lệ vườn đạt chuẩn", "Số vườn mẫu", "Ghi chú"])
    sheet.append(["Thôn An Bình", 0.55, 3, "giao đầu năm"])
    sheet["B4"].number_format = "0%"
    sheet.append(["Thôn Bình Minh", "62,5", "1.250", None])
    path = tmp_path / "chi_tieu.xlsx"
    book.save(path)
    table = read_targets(path, sheet="chỉ tiêu")
    assert table["ty_le_dat_chuan"].tolist() == [55.0, 62.5]
    assert table["so_vuon_mau"].tolist() == [3.0, 1250.0]
    assert list(table["row"]) == [4, 5]
    assert "hoang_hoa_dua_vao_su_dung" not in table
    with pytest.raises(SchemaError, match="Sheet 'Nope' not found"):
        read_targets(path, sheet="Nope")


def test_read_targets_semicolon_csv_with_decimal_commas(tmp_path):
    # as Excel saves "CSV" under a locale whose decimal mark is a comma (cp1258 here)
    from ntmgis.text import encode_cp1258

    text = "CHỈ TIÊU NĂM 2021\n\nThôn;Tỷ lệ vườn đạt chuẩn (%);Số vườn mẫu\n"
    text += "Thôn An Bình;55,5%;3\nThôn Bình Minh;40;\n"
    path = tmp_path / "chi_tieu.csv"
    path.write_bytes(encode_cp1258(text))
    table = read_targets(path)
    assert list(table["hamlet"]) == [A, B]
    assert table["ty_le_dat_chuan"].tolist() == [55.5, 40.0]
    assert table["so_vuon_mau"].tolist()[0] == 3.0 and np.isnan(table["so_vuon_mau"].iloc[1])


def test_read_targets_reports_every_bad_value(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "Thôn,Số vườn hoang hóa đưa vào sử dụng,Tỷ lệ vườn đạt chuẩn (%),Số vườn mẫu\n"
        "Thôn An Bình,abc,120,2.5\n"
        "Thôn Bình Minh,-3,50,1\n"
        ",4,50,1\n"
        "Thon An Binh,1,50,1\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_targets(path)
    text = str(info.value)
    assert "6 problem(s)" in text
    assert "row 2, column 'Số vườn hoang hóa đưa vào sử dụng': 'abc' is not a number" in text
    assert "row 2, column 'Tỷ lệ vườn đạt chuẩn (%)': 120 % is over 100 %" in text
    assert "2.5 is not a whole number" in text
    assert "row 3" in text and "-3 is negative" in text
    assert "row 4: targets without a hamlet name" in text
    assert "row 5: hamlet 'Thon An Binh' is listed twice (also row 2)" in text


def test_targets_problems_in_vietnamese(tmp_path):
    """The same problems said in Vietnamese (the default language), with full diacritics."""
    from ntmgis.i18n import set_language

    set_language("vi")
    path = tmp_path / "bad.csv"
    path.write_text(
        "Thôn,Số vườn mẫu\nThôn An Bình,2.5\nThôn Bình Minh,-3\nThon An Binh,1\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as info:
        read_targets(path)
    text = str(info.value)
    assert text.startswith(f"Bảng chỉ tiêu '{path}' có 3 lỗi; hãy sửa trong tệp rồi chạy lại:")
    assert "dòng 2, cột 'Số vườn mẫu': 2.5 không phải là số vườn nguyên" in text
    assert "dòng 3, cột 'Số vườn mẫu': -3 là số âm" in text
    assert "dòng 4: thôn 'Thon An Binh' ghi hai lần (cả dòng 2)" in text


def test_read_targets_without_header(tmp_path):
    path = tmp_path / "none.csv"
    path.write_text("Thôn,Dân số\nThôn An Bình,300\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="No header row found"):
        read_targets(path)


@pytest.mark.parametrize("header", ["Ấp", "AP", "ấp", "Tên ấp"])
def test_read_targets_csv_headed_by_the_southern_unit_word(tmp_path, header):
    path = tmp_path / "chi_tieu.csv"
    path.write_text(f"{header},Số vườn mẫu,Tỷ lệ vườn đạt chuẩn\nẤp Tân Hòa,4,35\n"
                    "Ấp Long Thạnh,2,20,5\n".replace(",20,5", ',"20,5"'),
                    encoding="utf-8")  # fmt: skip
    table = read_targets(path)
    assert list(table["hamlet"]) == ["Ấp Tân Hòa", "Ấp Long Thạnh"]
    assert table["so_vuon_mau"].tolist() == [4.0, 2.0]
    assert table["ty_le_dat_chuan"].tolist() == [35.0, 20.5]
    assert list(table["row"]) == [2, 3]


@pytest.mark.parametrize("header", ["Ấp", "AP"])
def test_read_targets_xlsx_headed_by_the_southern_unit_word(tmp_path, header):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["CHỈ TIÊU CHỈNH TRANG VƯỜN NĂM 2025 - XÃ TÂN PHÚ"])
    sheet.append([header, "Số vườn mẫu", "Số vườn hoang hóa đưa vào sử dụng"])
    sheet.append(["Ấp Tân Hòa", 3, 5])
    sheet.append(["Ấp Phú Lợi", 1, 0])
    path = tmp_path / "chi_tieu.xlsx"
    book.save(path)
    table = read_targets(path)
    assert list(table["hamlet"]) == ["Ấp Tân Hòa", "Ấp Phú Lợi"]
    assert table["so_vuon_mau"].tolist() == [3.0, 1.0]
    assert table["hoang_hoa_dua_vao_su_dung"].tolist() == [5.0, 0.0]
    assert list(table["row"]) == [3, 4]


@pytest.mark.parametrize("header", ["Bản", "BAN", "Tổ dân phố", "to dan pho", "Khu phố", "Tổ", "TO",
                                    "Thôn/Ấp", "Sóc"])  # fmt: skip
def test_read_targets_accepts_the_survey_s_hamlet_headers(tmp_path, header):
    path = tmp_path / "chi_tieu.csv"
    path.write_text(f"{header},Số vườn mẫu\nBản Nà Lừa,2\n", encoding="utf-8")
    table = read_targets(path)
    assert list(table["hamlet"]) == ["Bản Nà Lừa"]
    assert table["so_vuon_mau"].tolist() == [2.0]


def test_survey_and_targets_share_one_list_of_hamlet_headers():
    from ntmgis import progress, survey
    from ntmgis.registry import HAMLET_HEADERS, HAMLET_HEADERS_NO_SHEET
    from ntmgis.text import header_key

    assert survey.SURVEY_FIELDS["hamlet"] == list(HAMLET_HEADERS)
    assert progress._HAMLET_ALIASES["hamlet"] == HAMLET_HEADERS + HAMLET_HEADERS_NO_SHEET
    # "Tổ" folds to the survey's map-sheet header "Tờ": the survey must not read it as hamlet
    sheet_keys = {header_key(h) for h in survey.SURVEY_FIELDS["sheet"]}
    assert not sheet_keys & {header_key(h) for h in HAMLET_HEADERS}
    assert header_key("Tổ") in sheet_keys


def test_survey_sheet_column_headed_to_is_still_the_map_sheet(tmp_path):
    from ntmgis.survey import read_survey

    path = tmp_path / "ks.csv"
    path.write_text("Tờ,Thửa,Ấp,Phân loại vườn\n4,1,Ấp Tân Hòa,Vườn tạp\n", encoding="utf-8")
    out = read_survey(path)
    assert out["sheet"].tolist() == [4]
    assert out["hamlet"].tolist() == ["Ấp Tân Hòa"]


# --------------------------------------------------------------------------------------
# Hamlet progress
# --------------------------------------------------------------------------------------


def test_hamlet_progress_hand_computed(tiny_gpkg, tiny_targets):
    table = hamlet_progress(tiny_gpkg, tiny_targets)
    assert list(table["hamlet"]) == [B, A, C]  # rank order
    rows = by_hamlet(table)
    a, b, c = rows[A], rows[B], rows[C]
    assert a["ma_thon"] == "T1" and c["ma_thon"] == "T3"
    # counts and areas
    assert (a["parcels"], a["households"], a["gardens"], a["garden_area_m2"]) == (5, 4, 4, 1800.0)
    assert (b["parcels"], b["households"], b["gardens"], b["garden_area_m2"]) == (5, 5, 5, 1600.0)
    assert (c["parcels"], c["households"], c["gardens"], c["garden_area_m2"]) == (4, 2, 4, 1300.0)
    assert (a["n_vuon_mau"], a["area_vuon_mau"], a["n_hoang_hoa"], a["area_hoang_hoa"]) == (
        1,
        500.0,
        1,
        600.0,
    )
    assert (b["n_vuon_mau"], b["area_vuon_mau"], b["n_da_cai_tao"], b["area_da_cai_tao"]) == (
        2,
        1000.0,
        2,
        450.0,
    )
    assert (b["n_chua_khao_sat"], b["area_chua_khao_sat"]) == (1, 150.0)
    assert (c["n_vuon_tap"], c["area_vuon_tap"]) == (2, 600.0)
    assert (b["n_flag_thieu_du_lieu"], b["area_flag_thieu_du_lieu"]) == (1, 150.0)
    assert (c["n_flag_hoang_hoa"], c["area_flag_hoang_hoa"], c["n_flag_nghi_van"]) == (2, 600.0, 1)
    assert (a["n_flag_binh_thuong"], a["area_flag_binh_thuong"]) == (3, 1200.0)
    assert (c["abandoned_survey"], c["abandoned_imagery"]) == (1, 2)
    assert np.isnan(a["abandoned_baseline_survey"])  # no baseline given
    # without a baseline the survey's "đã cải tạo" class stands for reported renovations
    assert (a["renovated_reported"], a["renovated_confirmed"]) == (1, 1)
    assert (b["renovated_reported"], b["renovated_confirmed"]) == (2, 1)
    # targets: A 1/1, 75 % of 70 %, 1/1 -> met (not all exceeded)
    assert (a["achieved_ty_le_dat_chuan"], a["progress_ty_le_dat_chuan"]) == (75.0, 107.1)
    assert (a["progress_hoang_hoa_dua_vao_su_dung"], a["progress_so_vuon_mau"]) == (100.0, 100.0)
    assert (a["status_hoang_hoa_dua_vao_su_dung"], a["status_ty_le_dat_chuan"]) == ("dat", "vuot")
    assert (a["score"], a["status"], a["targets_set"]) == (102.4, "dat", 3)
    # B: no abandoned-garden target (blank cell), 80 % of 64 %, 2 of 1 -> exceeded
    assert b["status_hoang_hoa_dua_vao_su_dung"] == "khong_chi_tieu"
    assert np.isnan(b["progress_hoang_hoa_dua_vao_su_dung"])
    assert (b["progress_ty_le_dat_chuan"], b["progress_so_vuon_mau"]) == (125.0, 200.0)
    assert (b["score"], b["status"], b["targets_set"]) == (162.5, "vuot", 2)
    # C: 0 of 2, 25 % of 20 %, zero target for model gardens met with 0
    assert (c["progress_hoang_hoa_dua_vao_su_dung"], c["progress_ty_le_dat_chuan"]) == (0.0, 125.0)
    assert np.isnan(c["progress_so_vuon_mau"]) and c["status_so_vuon_mau"] == "dat"
    assert (c["score"], c["status"]) == (75.0, "chua_dat")
    # rank and reward priority
    assert [rows[h]["rank"] for h in (B, A, C)] == [1, 2, 3]
    assert not table["tie"].any()
    assert (b["reward_priority"], a["reward_priority"]) == (1, 2)
    assert pd.isna(c["reward_priority"])


def test_reported_renovations_count_when_asked(tiny_gpkg, tiny_targets):
    confirmed = by_hamlet(hamlet_progress(tiny_gpkg, tiny_targets))
    reported = by_hamlet(hamlet_progress(tiny_gpkg, tiny_targets, renovations="reported"))
    assert confirmed[B]["achieved_hoang_hoa_dua_vao_su_dung"] == 1.0
    assert reported[B]["achieved_hoang_hoa_dua_vao_su_dung"] == 2.0
    with pytest.raises(InputError, match="renovations must be"):
        hamlet_progress(tiny_gpkg, tiny_targets, renovations="all")


def targets_frame(rows):
    columns = [
        "Thôn",
        "Số vườn hoang hóa đưa vào sử dụng",
        "Tỷ lệ vườn đạt chuẩn (%)",
        "Số vườn mẫu",
    ]
    return pd.DataFrame(rows, columns=columns)


def test_rank_is_by_score_reward_priority_exceeded_first():
    # A misses one target but has a higher (capped) score than B, which meets all
    targets = targets_frame(
        [[A, 2, 30, 1], [B, None, 80, 2], [C, None, 20, None]],
    )
    table = hamlet_progress(tiny_result(), targets)
    rows = by_hamlet(table)
    assert rows[A]["progress_ty_le_dat_chuan"] == 250.0  # shown uncapped
    assert rows[A]["score"] == 116.7  # (50 + 200 [capped] + 100) / 3
    assert (rows[B]["score"], rows[B]["status"]) == (100.0, "dat")
    assert (rows[C]["score"], rows[C]["status"]) == (125.0, "vuot")
    assert list(table["hamlet"]) == [C, A, B]
    assert [rows[h]["rank"] for h in (C, A, B)] == [1, 2, 3]
    assert [rows[h]["reward_priority"] for h in (C, B)] == [1, 2]
    assert pd.isna(rows[A]["reward_priority"])  # not met: no reward however high the score
    uncapped = by_hamlet(hamlet_progress(tiny_result(), targets, cap=1000))
    assert uncapped[A]["score"] == 133.3


def test_ties_and_missing_targets_are_explicit():
    targets = targets_frame([[A, None, 75, None], ["Binh Minh", None, 80, None]])
    table = hamlet_progress(tiny_result(), targets)
    rows = by_hamlet(table)
    assert (rows[A]["rank"], rows[B]["rank"]) == (1, 1)
    assert rows[A]["tie"] and rows[B]["tie"]
    assert (rows[A]["reward_priority"], rows[B]["reward_priority"]) == (1, 1)
    # C has no target at all: no rank, listed last, not eligible
    assert table["hamlet"].iloc[-1] == C
    assert rows[C]["status"] == "khong_chi_tieu" and rows[C]["targets_set"] == 0
    assert pd.isna(rows[C]["rank"]) and not rows[C]["tie"] and pd.isna(rows[C]["reward_priority"])
    text = format_ranking(table, lang="vi")
    lines = text.splitlines()
    assert lines[2].startswith("1=") and lines[3].startswith("1=")
    assert "Không có chỉ tiêu" in lines[4]


def test_ranking_text_follows_the_language_with_its_decimal_mark():
    from ntmgis import i18n

    targets = targets_frame([[A, 3, 55.5, 2], [B, 2, 80, 1]])
    table = hamlet_progress(tiny_result(), targets)
    with i18n.language("vi"):
        vi = format_ranking(table)
    en = format_ranking(table, lang="en")
    assert vi.splitlines()[0].split() == ["Hạng", "Thôn", "HH", "đưa", "vào", "SD", "Đạt",
                                          "chuẩn", "%", "Vườn", "mẫu", "Điểm", "%", "Đánh",
                                          "giá", "Ưu", "tiên", "KT"]  # fmt: skip
    assert en.splitlines()[0].startswith("Rank")
    assert "/55,5 (" in vi and "/55.5 (" in en
    scores = [f"{s:.1f}" for s in table["score"].dropna()]
    assert scores and all(s.replace(".", ",") in vi and s in en for s in scores)


def test_hamlets_table_gives_order_codes_and_empty_hamlets():
    hamlets = tiny_hamlets()
    extra = gpd.GeoDataFrame(
        {"ten_thon": ["Thôn Đồng Xa", C, B, A], "ma_thon": ["T0", "T3", "T2", "T1"]},
        geometry=list(hamlets.geometry[:1]) * 4,
        crs=hamlets.crs,
    )
    targets = targets_frame([[A, None, 75, None], [B, None, 80, None], ["Dong Xa", 1, None, None]])
    result = tiny_result()
    result.loc[result["parcel_no"] == 14, "hamlet"] = "Thon Cam Hoa"
    table = hamlet_progress(result, targets, hamlets=extra)
    rows = by_hamlet(table)
    # a hamlet without parcels is kept, with zero counts, and misses its target
    empty = rows["Thôn Đồng Xa"]
    assert (empty["ma_thon"], empty["parcels"], empty["gardens"], empty["households"]) == (
        "T0",
        0,
        0,
        0,
    )
    assert (empty["achieved_ty_le_dat_chuan"], empty["status"]) == (0.0, "chua_dat")
    # parcels spelling a hamlet differently count in the hamlet of the layer
    assert rows[C]["parcels"] == 4 and "Thon Cam Hoa" not in rows
    # A and B tie: listed in the hamlet table's order (T3, T2, T1 -> B before A)
    assert list(table["hamlet"][:2]) == [B, A]
    assert list(table["ma_thon"][:2]) == ["T2", "T1"]


def test_unknown_hamlet_in_targets_is_an_error():
    targets = targets_frame([[A, 1, 50, 1], ["Thôn Xa Lạ", 1, 50, 1]])
    with pytest.raises(InputError, match="'Thôn Xa Lạ' .*row 2.*Correct the names"):
        hamlet_progress(tiny_result(), targets)


def test_result_without_contract_columns():
    frame = tiny_result().drop(columns=["flag"])
    with pytest.raises(SchemaError, match="lack column.*flag"):
        hamlet_progress(frame, targets_frame([[A, 1, 50, 1]]))
    bad = tiny_result()
    bad.loc[0, "survey_class"] = "vườn mẫu"
    with pytest.raises(InputError, match="unknown keys"):
        hamlet_progress(bad, targets_frame([[A, 1, 50, 1]]))


def test_status_labels_come_from_the_palette():
    from ntmgis import palette

    assert label("vuot", "status") == palette.label("status", "vuot") == "Vượt chỉ tiêu"
    assert label("chua_dat", "status", lang="en") == "Target not met"
    assert label("xac_nhan", "renovation") == "Ảnh xác nhận đã đưa vào sử dụng"
    assert label(None, "status") == ""


# --------------------------------------------------------------------------------------
# Two campaigns
# --------------------------------------------------------------------------------------


def tiny_baseline() -> gpd.GeoDataFrame:
    base = tiny_result()
    changes = {
        3: ("hoang_hoa", "hoang_hoa"),
        9: ("hoang_hoa", "hoang_hoa"),
        8: ("vuon_tap", "binh_thuong"),
        11: ("vuon_tap", "hoang_hoa"),
        14: ("vuon_tap", "binh_thuong"),
        10: ("hoang_hoa", "thieu_du_lieu"),
    }
    for no, (survey, flag) in changes.items():
        i = base.index[base["parcel_no"] == no][0]
        base.loc[i, "survey_class"] = survey
        base.loc[i, "flag"] = flag
    gone = base.iloc[[3]].copy()  # a parcel split since: only in the baseline
    gone["parcel_id"], gone["parcel_no"] = "1-99", 99
    return pd.concat([base, gone], ignore_index=True)


def test_compare_campaigns_transitions():
    out = compare_campaigns(tiny_baseline(), tiny_result())
    assert isinstance(out, gpd.GeoDataFrame) and len(out) == 15
    rows = out.set_index("parcel_id")
    assert rows.loc["1-3", "survey_transition"] == "hoang_hoa -> da_cai_tao"
    assert rows.loc["1-3", "flag_transition"] == "hoang_hoa -> binh_thuong"
    assert rows.loc["1-3", "renovation"] == "xac_nhan"
    assert rows.loc["1-3", "renovated_reported"] and rows.loc["1-3", "renovated_confirmed"]
    assert rows.loc["1-9", "renovation"] == "anh_chua_thay"
    assert rows.loc["1-9", "renovated_reported"] and not rows.loc["1-9", "renovated_confirmed"]
    assert rows.loc["1-8", "survey_transition"] == "vuon_tap -> da_cai_tao"
    assert rows.loc["1-8", "renovation"] is None  # not abandoned before
    assert rows.loc["1-11", "renovation"] == "anh_thay_chua_bao_cao"
    assert rows.loc["1-14", "flag_transition"] == "binh_thuong -> hoang_hoa"
    assert rows.loc["1-14", "renovation"] is None and rows.loc["1-14", "abandoned_after"]
    assert rows.loc["1-10", "survey_transition"] == "hoang_hoa -> -"
    assert rows.loc["1-10", "renovation"] == "chua_ro"
    assert (
        rows.loc["1-4", "renovation"] == "van_hoang_hoa" and not rows.loc["1-4", "survey_changed"]
    )
    assert rows.loc["1-5", "survey_transition"] is None  # rice: nothing on either side
    assert rows.loc["1-99", "presence"] == "chi_dot_truoc" and rows.loc["1-99", "hamlet"] == A
    assert (rows["presence"] == "ca_hai_dot").sum() == 14
    assert rows["renovated_reported"].sum() == 2 and rows["renovated_confirmed"].sum() == 1
    # natural order of parcel ids: 1-2 before 1-10
    assert list(out["parcel_id"][:3]) == ["1-1", "1-2", "1-3"]


def test_compare_campaigns_duplicate_ids():
    base = pd.concat([tiny_result(), tiny_result().iloc[[0]]])
    with pytest.raises(InputError, match="duplicated parcel_id.*'1-1'"):
        compare_campaigns(base, tiny_result())


def test_hamlet_progress_with_baseline(tiny_targets):
    with pytest.warns(NtmgisWarning, match="1 parcel.*'1-99'"):
        table = hamlet_progress(tiny_result(), tiny_targets, baseline=tiny_baseline())
    rows = by_hamlet(table)
    a, b, c = rows[A], rows[B], rows[C]
    assert (a["abandoned_baseline_survey"], a["abandoned_baseline_imagery"]) == (3, 3)
    assert (b["abandoned_baseline_survey"], b["abandoned_baseline_imagery"]) == (2, 1)
    assert (c["abandoned_baseline_survey"], c["abandoned_baseline_imagery"]) == (1, 2)
    assert (a["renovated_reported"], a["renovated_confirmed"]) == (1, 1)
    assert (b["renovated_reported"], b["renovated_confirmed"]) == (1, 0)
    assert (c["renovated_reported"], c["renovated_confirmed"]) == (0, 0)
    assert a["achieved_hoang_hoa_dua_vao_su_dung"] == 1.0
    assert table.attrs["baseline"] is True


# --------------------------------------------------------------------------------------
# The sample commune: a follow-up campaign derived from it
# --------------------------------------------------------------------------------------

SURVEY_KEYS = {
    "Vườn mẫu": "vuon_mau",
    "Vườn đạt chuẩn": "dat_chuan",
    "Vườn đã cải tạo": "da_cai_tao",
    "Vườn tạp": "vuon_tap",
    "Vườn hoang hóa": "hoang_hoa",
}


def sample_result(layers_dir) -> gpd.GeoDataFrame:
    """Contract columns derived from the committed sample and its truth (tests only)."""
    parcels = gpd.read_file(layers_dir / "thanh_binh.gpkg", layer="parcels")
    truth = pd.read_csv(layers_dir / "truth" / "parcels_truth.csv")
    p = parcels.merge(truth, on=["SHBANDO", "SHTHUA"], how="left", validate="1:1")
    out = gpd.GeoDataFrame(
        {
            "parcel_id": p["SHBANDO"].astype(str) + "-" + p["SHTHUA"].astype(str),
            "sheet": p["SHBANDO"],
            "parcel_no": p["SHTHUA"],
            "area_m2": p["DIENTICH"],
            "land_use": p["KHLOAIDAT"],
            "hamlet": p["DIADANH"],
            "owner": p["TENCHU"],
            "household": p["MAHO"],
        },
        geometry=p.geometry,
        crs=p.crs,
    )
    out["is_garden"] = p["garden_class"].notna()
    out["survey_class"] = p["survey_claim"].map(SURVEY_KEYS).astype(object)
    flag = np.where(p["abandoned"] == 1, "hoang_hoa", "binh_thuong")
    out["flag"] = pd.Series(np.where(out["is_garden"], flag, None), dtype=object)
    return out


def sample_followup(base: gpd.GeoDataFrame):
    """Every third garden surveyed abandoned is reported renovated; 2 of 3 confirmed."""
    follow = base.copy()
    abandoned = follow.index[follow["survey_class"].eq("hoang_hoa")]
    renovated = abandoned[::3]
    follow.loc[renovated, "survey_class"] = "da_cai_tao"
    confirmed = renovated[np.arange(len(renovated)) % 3 != 2]
    follow.loc[confirmed, "flag"] = "binh_thuong"
    return follow, renovated, confirmed


def test_sample_two_campaigns(layers_dir):
    base = sample_result(layers_dir)
    follow, renovated, confirmed = sample_followup(base)
    out = compare_campaigns(base, follow)
    assert len(out) == len(base) == 1600 and out["presence"].eq("ca_hai_dot").all()
    ids = set(base.loc[renovated, "parcel_id"])
    assert set(out.loc[out["renovated_reported"], "parcel_id"]) == ids
    # confirmed: the follow-up imagery sees the garden tended (set so, or tended already)
    tended = renovated[follow.loc[renovated, "flag"].eq("binh_thuong")]
    assert set(confirmed) <= set(tended) and len(tended) < len(renovated)
    assert set(out.loc[out["renovated_confirmed"], "parcel_id"]) == set(
        base.loc[tended, "parcel_id"]
    )
    checks = out["renovation"].value_counts()
    assert checks["xac_nhan"] == len(tended)
    assert checks["anh_chua_thay"] == len(renovated) - len(tended)
    transitions = out["survey_transition"].value_counts()
    assert transitions["hoang_hoa -> da_cai_tao"] == len(renovated)
    table = hamlet_progress(
        follow, layers_dir / "targets_2020.csv", baseline=base, renovations="reported"
    )
    assert table["renovated_reported"].sum() == len(renovated)
    assert table["abandoned_baseline_survey"].sum() == base["survey_class"].eq("hoang_hoa").sum()
    assert len(table) == 6 and table["rank"].notna().all()
    per_hamlet = base.loc[renovated].groupby("hamlet").size()
    rows = by_hamlet(table)
    for hamlet, n in per_hamlet.items():
        assert rows[hamlet]["achieved_hoang_hoa_dua_vao_su_dung"] == n


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


def test_cli_progress_prints_ranked_hamlets(tiny_gpkg, tiny_targets, tmp_path):
    from ntmgis.cli import cli

    base = tmp_path / "dot_truoc.gpkg"
    from ntmgis.pipeline import write_gpkg_atomic

    write_gpkg_atomic(base, {"parcels": tiny_baseline(), "hamlets": tiny_hamlets()})
    out = tmp_path / "out"
    runner = CliRunner()
    args = ["progress", str(tiny_gpkg), str(tiny_targets), "-o", str(out)]
    result = runner.invoke(cli, ["--lang", "vi", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["Hạng", "Thôn"]
    ranked = [line for line in lines[2:5]]
    assert ranked[0].startswith("1 ") and B in ranked[0] and "Vượt chỉ tiêu" in ranked[0]
    assert ranked[1].startswith("2 ") and A in ranked[1]
    assert ranked[2].startswith("3 ") and C in ranked[2]
    assert (out / "bao_cao_tien_do.xlsx").is_file()
    assert (out / "bao_cao_tien_do_xep_hang_thon.csv").is_file()
    with pytest.warns(NtmgisWarning):
        result = runner.invoke(
            cli, [*args, "--baseline", str(base), "--count", "reported"], catch_exceptions=False
        )
    assert result.exit_code == 0, result.output
    moved = pd.read_csv(out / "bao_cao_tien_do_bien_dong.csv", encoding="utf-8-sig")
    assert "1-3" not in moved.columns and len(moved) > 0
    assert set(moved["Số thửa"]) >= {3, 9, 8, 11, 14, 10, 99}


def test_targets_warning_names_the_worksheet_in_the_run_language(tmp_path):
    import openpyxl

    from ntmgis import i18n
    from ntmgis.errors import ProgressWarning

    book = openpyxl.Workbook()
    book.active.title = "Chỉ tiêu"
    book.active.append(["Xóm", "Số vườn mẫu", "Diện tích rừng"])
    book.active.append(["Xóm 1", 3, 12])
    path = tmp_path / "chi_tieu.xlsx"
    book.save(path)
    said = {}
    for lang in ("vi", "en"):
        with i18n.language(lang), pytest.warns(ProgressWarning) as got:
            assert read_targets(path)["so_vuon_mau"].tolist() == [3.0]
        said[lang] = str(got[0].message)
    assert said["vi"].startswith(f"'{path}' (trang tính 'Chỉ tiêu'): (các) cột 'Diện tích rừng'")
    assert said["en"].startswith(f"'{path}' (sheet 'Chỉ tiêu'): column(s) 'Diện tích rừng'")
    assert "sheet" not in said["vi"]
