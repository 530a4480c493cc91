"""read_survey, the codebook, join_survey and JoinReport."""

import datetime as dt
import unicodedata
import warnings
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import box

from ntmgis import Codebook, JoinReport, join_survey, read_parcels, read_survey
from ntmgis.errors import ConfigError, DataNotFoundError, InputError, NtmgisWarning, SchemaError
from ntmgis.survey import SURVEY_FIELDS
from ntmgis.text import fold

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "step2"
LAYERS = ROOT / "layers"
needs_sample = pytest.mark.skipif(
    not (LAYERS / "truth" / "survey_defects.csv").exists(), reason="sample commune not in layers/"
)


@pytest.fixture(autouse=True)
def _english():
    """Messages in English: these tests match the English sentences (vi: see below)."""
    from ntmgis.i18n import set_language

    set_language("en")
    yield
    set_language(None)


X0, Y0 = 531000.0, 2035000.0

HEADER = [
    "STT", "Mã hộ", "Họ và tên chủ hộ", "Thôn", "Số tờ", "Số thửa", "Diện tích vườn (m²)",
    "Phân loại vườn", "Nhu cầu hỗ trợ", "Ngày khảo sát", "Ghi chú",
]  # fmt: skip
FIXTURE_ROWS = [
    # what the three files in tests/data/step2 hold, typed in Unicode
    [1, "HO0001", "Nguyễn Văn Hòa", "Thôn Đông Hòa", 12, 1, 1250.0, "Vườn hoang hóa",
     "cây giống, vốn", dt.date(2020, 4, 3)],
    [2, "HO0002", "Trần Thị Lý", "Thôn Đông Hòa", 12, 2, 350.0, "Vườn tạp", "kỹ thuật",
     dt.date(2020, 4, 15)],
    [3, "HO0003", "Lê Văn An", "Thôn Tây Sơn", 12, 9, 200.0, "Vườn mẫu", None,
     dt.date(2020, 4, 16)],
]  # fmt: skip
COLUMNS = ["stt", "household_id", "owner", "hamlet", "sheet", "parcel_no", "garden_area_m2",
           "garden_class", "support_needs", "survey_date"]  # fmt: skip


def _quiet(fn, *args, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn(*args, **kw)
    return out, [str(w.message) for w in caught if issubclass(w.category, NtmgisWarning)]


def _parcels(n=6, **extra):
    geoms = [box(X0 + 10 * i, Y0, X0 + 10 * i + 10, Y0 + 10) for i in range(n)]
    data = {
        "SHBANDO": [12] * n,
        "SHTHUA": list(range(1, n + 1)),
        "DIENTICH": [100.0] * n,
        "KHLOAIDAT": (["ONT+CLN", "CLN", "HNK", "LUC", "ONT", "NTS"] * n)[:n],
        "TENCHU": [f"Chủ {i}" for i in range(n)],
        "DIADANH": ["Thôn Đông Hòa"] * n,
        "MAHO": [f"HO{i + 1:04d}" for i in range(n)],
    }
    data.update(extra)
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:9209")


def _check_fixture_frame(df):
    got = df[COLUMNS].copy()
    got["survey_date"] = got["survey_date"].dt.date
    expected = pd.DataFrame(FIXTURE_ROWS, columns=COLUMNS)
    for column in COLUMNS:
        assert [None if pd.isna(v) else v for v in got[column]] == [
            None if pd.isna(v) else v for v in expected[column]
        ], column
    assert df["survey_row"].tolist() == [5, 6, 7]


@pytest.mark.parametrize(
    ("name", "encoding"),
    [("survey_tcvn3.csv", "tcvn3"), ("survey_vni.csv", "vni"), ("survey_cp1258.csv", "cp1258")],
)
def test_legacy_csv_fixtures(name, encoding):
    df, _ = _quiet(read_survey, DATA / name)
    assert df.attrs["ntmgis"]["encoding"] == encoding
    assert df.attrs["ntmgis"]["header_row"] == 4
    _check_fixture_frame(df)


def _fixture_text() -> str:
    lines = ["ỦY BAN NHÂN DÂN XÃ THANH BÌNH", "BIỂU TỔNG HỢP KHẢO SÁT", "", ",".join(HEADER)]
    lines += [
        "1,HO0001,Nguyễn Văn Hòa,Thôn Đông Hòa,12,1,1.250,Vườn hoang hóa,"
        '"cây giống, vốn",03/04/2020,',
        "2,HO0002,Trần Thị Lý,Thôn Đông Hòa,12,2,350,vuon tap,kỹ thuật,15/04/2020,",
        "3,HO0003,Lê Văn An,Thôn Tây Sơn,12,9,200,Vườn mẫu,,16/04/2020,",
    ]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("codec", ["utf-8", "utf-8-sig"])
def test_utf8_csv_with_title_rows(tmp_path, codec):
    path = tmp_path / "s.csv"
    path.write_bytes(_fixture_text().encode(codec))
    df, _ = _quiet(read_survey, path)
    assert df.attrs["ntmgis"]["encoding"] == codec
    _check_fixture_frame(df)


def test_semicolon_and_decomposed_text(tmp_path):
    path = tmp_path / "s.csv"
    text = unicodedata.normalize(
        "NFD", _fixture_text().replace(",", ";").replace('"cây giống; vốn"', "cây giống")
    )
    path.write_text(text, encoding="utf-8")
    df, _ = _quiet(read_survey, path)
    assert df["owner"].tolist()[0] == "Nguyễn Văn Hòa"  # NFC again
    assert df["garden_class"].tolist() == ["Vườn hoang hóa", "Vườn tạp", "Vườn mẫu"]


def _xlsx(tmp_path, rows, sheet="Khảo sát vườn", title=True):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    if title:
        ws.append(["ỦY BAN NHÂN DÂN XÃ THANH BÌNH"])
        ws.append(["BIỂU TỔNG HỢP KHẢO SÁT, PHÂN LOẠI VƯỜN HỘ NĂM 2020"])
        ws.append([])
    ws.append(HEADER)
    for row in rows:
        ws.append(row)
    path = tmp_path / "s.xlsx"
    book.save(path)
    return path


def test_xlsx_dates_day_first_and_real_cells(tmp_path):
    rows = [
        [1, "HO0001", "A", "Thôn Đông Hòa", 12, 1, 500, "Vườn tạp", None, "03/04/2020"],
        [2, "HO0002", "B", "Thôn Đông Hòa", 12, 2, "1.250", "VT", None, dt.datetime(2020, 4, 5)],
        [3, "HO0003", "C", "Thôn Đông Hòa", 12, 3, "12,5", "Vườn tạp", None, 43926],
        [4, "HO0004", "D", "Thôn Đông Hòa", 12, 4, "abc", "Vườn tạp", None, "31/02/2020"],
    ]
    df, _ = _quiet(read_survey, _xlsx(tmp_path, rows))
    assert df["survey_date"].tolist()[:3] == [
        pd.Timestamp("2020-04-03"), pd.Timestamp("2020-04-05"), pd.Timestamp("2020-04-05")
    ]  # fmt: skip
    assert pd.isna(df["survey_date"].iloc[3])
    assert df["garden_area_m2"].tolist()[:3] == [500.0, 1250.0, 12.5]
    assert pd.isna(df["garden_area_m2"].iloc[3])
    issues = {(i["kind"], i["survey_row"]) for i in df.attrs["ntmgis"]["issues"]}
    assert ("area_thousands_separator", 6) in issues
    assert ("area_decimal_comma", 7) in issues
    assert ("bad_area", 8) in issues and ("bad_date", 8) in issues
    assert ("class_abbreviation", 6) in issues


def test_csv_dates_as_spreadsheets_save_them(tmp_path):
    """A CSV saved from a workbook writes a date cell as its text: a serial number from a
    cell formatted General, a date-time, a month-first date from an English Excel."""
    import csv

    dates = ["43876", "43876.0", "15/02/2020 0:00", "15/02/2020 08:30:00", "2/15/2020",
             "2020-02-15 00:00:00", "13/14/2020", "5/4/2020"]  # fmt: skip
    path = tmp_path / "khao_sat.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for i, date in enumerate(dates, start=1):
            out.writerow([i, f"HO{i:04d}", "A", "Thôn Đông Hòa", 12, i, 500, "Vườn tạp", "",
                          date, ""])  # fmt: skip
    df, _ = _quiet(read_survey, path)
    got = df["survey_date"].tolist()
    assert got[:6] == [pd.Timestamp("2020-02-15")] * 6
    assert pd.isna(got[6])  # neither day nor month first makes a date
    assert got[7] == pd.Timestamp("2020-04-05")  # both could: day first, as Vietnam writes
    issues = {(i["kind"], i["survey_row"]) for i in df.attrs["ntmgis"]["issues"]}
    assert ("bad_date", 8) in issues and not any(k == "bad_date" and r != 8 for k, r in issues)


def test_wrong_sheet_and_sheet_without_diacritics(tmp_path):
    path = _xlsx(tmp_path, [[1, "HO0001", "A", "T", 12, 1, 500, "Vườn tạp"]])
    with pytest.raises(SchemaError, match="Sheet 'Tong hop' not found.*'Khảo sát vườn'"):
        read_survey(path, sheet="Tong hop")
    df, _ = _quiet(read_survey, path, sheet="khao sat vuon")
    assert len(df) == 1


def test_no_header_and_no_key_column(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="No header row"):
        read_survey(path)
    path.write_text("STT,Họ và tên chủ hộ,Thôn,Phân loại vườn\n1,A,T,Vườn tạp\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="No key column.*Số tờ"):
        read_survey(path)


def test_unreadable_truncated_and_missing_files(tmp_path):
    with pytest.raises(DataNotFoundError):
        read_survey(tmp_path / "none.xlsx")
    good = _xlsx(tmp_path, [[1, "HO0001", "A", "T", 12, 1, 500, "Vườn tạp"]])
    bad = tmp_path / "truncated.xlsx"
    bad.write_bytes(good.read_bytes()[:1500])
    with pytest.raises(InputError, match="truncated.xlsx.*save it again"):
        read_survey(bad)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        read_survey(empty)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(InputError, match="save it as .xlsx"):
        read_survey(old)
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"PK\x03\x04\x00\x00garbage")
    with pytest.raises(InputError, match="not a text"):
        read_survey(binary)


def test_mixed_encodings_in_a_survey_column(tmp_path):
    from ntmgis.text import unicode_to_tcvn3

    text = _fixture_text().replace("Trần Thị Lý", unicode_to_tcvn3("Trần Thị Lý"))
    path = tmp_path / "s.csv"
    path.write_bytes(text.encode("utf-8"))
    df, warned = _quiet(read_survey, path)
    assert df["owner"].tolist()[1] == "Trần Thị Lý"
    assert any("Họ và tên chủ hộ" in w and "mixes text encodings" in w for w in warned)


def test_unknown_class_is_reported_not_guessed(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text(_fixture_text().replace("vuon tap", "Vườn hoag hóa"), encoding="utf-8")
    df, warned = _quiet(read_survey, path)
    assert pd.isna(df["garden_class"].iloc[1])
    assert df["garden_class_raw"].iloc[1] == "Vườn hoag hóa"
    issue = next(i for i in df.attrs["ntmgis"]["issues"] if i["kind"] == "unknown_class")
    assert issue["survey_row"] == 6
    assert "did you mean 'Vườn hoang hóa'? not applied" in issue["message"]
    assert any("row(s) 6" in w for w in warned)


def test_default_codebook():
    book = Codebook.default()
    assert book.labels == ["Vườn mẫu", "Vườn đạt chuẩn", "Vườn đã cải tạo", "Vườn tạp",
                           "Vườn hoang hóa"]  # fmt: skip
    cases = {
        "Vườn hoang hóa": ("hoang_hoa", []),
        "  Vườn  hoang hóa ": ("hoang_hoa", ["spaces"]),
        "Vườn hoang hoá": ("hoang_hoa", ["old_tone"]),
        "VƯỜN TẠP": ("vuon_tap", ["case"]),
        "vuon dat chuan": ("dat_chuan", ["no_diacritics"]),
        "Vườn dat chuẩn": ("dat_chuan", ["diacritics"]),
        "ĐC": ("dat_chuan", ["abbreviation"]),
        "dc": ("dat_chuan", ["abbreviation"]),
        "HH": ("hoang_hoa", ["abbreviation"]),
        "Bỏ hoang": ("hoang_hoa", ["alias"]),
        "Vườn hoag hóa": (None, []),
        "": (None, ["missing"]),
        None: (None, ["missing"]),
    }
    for value, (code, fixes) in cases.items():
        cls, got = book.match(value)
        assert (cls.code if cls else None, got) == (code, fixes), value


def test_user_codebook_toml(tmp_path):
    path = tmp_path / "cb.toml"
    path.write_text(
        'name = "Xã X"\n[[classes]]\ncode = "good"\nlabel = "Tốt"\nabbreviations = ["T"]\n'
        '[[classes]]\ncode = "bad"\nlabel = "Kém"\naliases = ["Yếu"]\n',
        encoding="utf-8",
    )
    book = Codebook.from_toml(path)
    assert book.match("tot")[0].code == "good"
    assert book.match("YẾU")[0].code == "bad"
    assert book.match("Vườn tạp")[0] is None
    csv_path = tmp_path / "s.csv"
    csv_path.write_text("Số tờ,Số thửa,Phân loại vườn\n1,1,T\n1,2,yeu\n", encoding="utf-8")
    df = read_survey(csv_path, codebook=path)
    assert df["garden_class_code"].tolist() == ["good", "bad"]
    path.write_text("[[classes]]\ncode = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        Codebook.from_toml(path)
    path.write_text('[[classes]]\nlabel = "A"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="class 1 has no code"):
        Codebook.from_toml(path)
    path.write_text(
        '[[classes]]\ncode = "a"\nlabel = "A"\naliases = ["X"]\n'
        '[[classes]]\ncode = "b"\nlabel = "B"\nabbreviations = ["x"]\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="'x' is given to both"):
        Codebook.from_toml(path)


# ---------------------------------------------------------------------------------- join


def _survey_frame():
    return pd.DataFrame(
        {
            "STT": [1, 2, 3, 4, 5, 6],
            "Mã hộ": ["HO0001", "HO0002", "HO0003", "HO0002", "HO0009", "HO0005"],
            "Họ và tên chủ hộ": ["Chủ 0", "Chủ 1", "Chủ 2", "Chủ 1", "Chủ 9", "Chủ 4"],
            "Thôn": ["Thôn Đông Hòa", "Thon Dong Hoa", "Thôn Đông Hoà", "Thon Dong Hoa",
                     "Thôn Đông Hòa", "Thôn Đông Hòa"],
            "Số tờ": [12, 12, 12, 12, 12, 12],
            "Số thửa": [1, 2, 3, 2, 99, 5],
            "Diện tích vườn (m²)": [80, "50", "1.250", "50", 10, 60],
            "Phân loại vườn": ["Vườn hoang hóa", "VT", "Vườn mẫu", "VT", "Vườn tạp", "Vườn xyz"],
        }
    )  # fmt: skip


def test_join_by_parcel_accounts_for_everything():
    parcels = _quiet(read_parcels, _parcels())[0]
    joined, report = _quiet(join_survey, parcels, _survey_frame())[0]
    assert isinstance(report, JoinReport)
    assert len(joined) == 6 and joined["parcel_id"].tolist() == [f"12-{i}" for i in range(1, 7)]
    assert joined["survey_status"].tolist() == [
        "matched", "duplicate_survey", "matched", "no_survey", "matched", "no_survey"
    ]  # fmt: skip
    assert joined["garden_class"].tolist()[:3] == ["Vườn hoang hóa", "Vườn tạp", "Vườn mẫu"]
    assert pd.isna(joined["garden_class"].iloc[4])  # "Vườn xyz": unknown, not guessed
    assert joined["survey_rows"].tolist()[1] == "3, 5"
    assert joined["survey_reason"].tolist()[3] == "not a garden land use (LUC)"
    assert joined["survey_reason"].tolist()[5] == "not a garden land use (NTS)"
    assert report.n_survey_rows == 6
    assert report.n_matched_rows == 5 and report.n_unmatched_rows == 1
    assert report.n_matched_rows + report.n_unmatched_rows == report.n_survey_rows
    assert report.n_duplicate_rows == 1
    assert report.parcel_status == {"matched": 3, "duplicate_survey": 1, "no_survey": 2}
    assert report.unmatched["survey_row"].tolist() == [6]
    assert report.unmatched["reason"].tolist() == ["parcel_not_found"]
    kinds = set(zip(report.issues["kind"], report.issues["survey_row"].astype(object)))
    assert ("duplicate_survey", 5) in kinds
    assert ("unknown_class", 7) in kinds
    assert ("area_thousands_separator", 4) in kinds
    assert ("garden_larger_than_parcel", 4) in kinds  # 1250 m² garden on a 100 m² parcel
    assert ("hamlet_no_diacritics", 3) in kinds and ("hamlet_old_tone", 4) in kinds
    dup = report.issues[report.issues["kind"] == "duplicate_survey"]["message"].iloc[0]
    assert "identical" in dup and "parcel 12-2" in dup
    text = report.summary()
    assert "survey rows: 6 = 5 matched + 1 unmatched" in text
    assert "parcels: 6 = 3 matched + 1 duplicate_survey + 2 no_survey" in text
    assert str(report) == text


def test_join_says_why_in_vietnamese_by_default():
    from ntmgis.i18n import set_language

    set_language("vi")
    try:
        parcels = _quiet(read_parcels, _parcels())[0]
        joined, report = _quiet(join_survey, parcels, _survey_frame())[0]
    finally:
        set_language("en")
    reasons = joined["survey_reason"].tolist()
    assert reasons[0] == "dòng khảo sát 2"
    assert reasons[1] == "2 dòng khảo sát (3, 5); dùng giá trị của dòng 3"
    assert reasons[3] == "không phải đất vườn (LUC)"
    assert report.unmatched["message"].tolist() == [
        "dòng 6: thửa tờ 12 thửa 99 không có trong lớp thửa đất (GeoDataFrame đã nạp); kiểm tra "
        "lại số tờ, số thửa trong khảo sát."
    ]
    dup = report.issues[report.issues["kind"] == "duplicate_survey"]["message"].iloc[0]
    assert dup == ("dòng 5: dòng khảo sát thứ hai của thửa 12-2 (dòng đầu: 3; giống hệt); dùng "
                   "giá trị của dòng 3. Bỏ dòng thừa.")  # fmt: skip
    big = report.issues[report.issues["kind"] == "garden_larger_than_parcel"]["message"].iloc[0]
    assert big.startswith("dòng 4: vườn 1250 m² lớn hơn thửa 12-3 (")
    messages = " ".join(report.issues["message"].dropna()) + " " + " ".join(reasons)
    for english in ("survey row", "does not exist", "second survey row", "larger than",
                    "not a garden", "identical"):  # fmt: skip
        assert english not in messages


def test_garden_not_surveyed_and_report_files(tmp_path):
    parcels = _quiet(read_parcels, _parcels())[0]
    survey = _survey_frame().iloc[[0, 2]]
    joined, report = _quiet(join_survey, parcels, survey)[0]
    missing = report.issues[report.issues["kind"] == "garden_not_surveyed"]["parcel_id"].tolist()
    assert missing == ["12-2", "12-5"]  # CLN and ONT; LUC and NTS are not gardens
    csv_path = report.write(tmp_path / "r.csv")
    assert pd.read_csv(csv_path)["kind"].tolist() == report.issues["kind"].tolist()
    xlsx = report.write(tmp_path / "r.xlsx")
    assert pd.ExcelFile(xlsx).sheet_names == ["Kết quả ghép", "Dòng chưa ghép", "Vấn đề"]
    assert report.to_frame().equals(report.issues)
    assert report.counts()["parcels_no_survey"] == 4


def test_every_row_unmatched_is_an_error():
    parcels = _quiet(read_parcels, _parcels())[0]
    survey = _survey_frame()
    survey["Số tờ"] = 40
    with pytest.raises(InputError, match="No survey row.*matches a parcel.*same commune"):
        _quiet(join_survey, parcels, survey)


def test_duplicate_parcel_keys_make_rows_ambiguous():
    parcels = _quiet(read_parcels, _parcels(SHTHUA=[1, 2, 2, 4, 5, 6]))[0]
    joined, report = _quiet(join_survey, parcels, _survey_frame().iloc[[0, 1]])[0]
    assert joined["survey_status"].tolist()[:3] == ["matched", "ambiguous", "ambiguous"]
    assert report.unmatched["reason"].tolist() == ["ambiguous"]
    assert "12-2, 12-2#2" in report.unmatched["message"].iloc[0]
    assert report.n_matched_rows + report.n_unmatched_rows == 2
    assert sum(report.parcel_status.values()) == 6
    assert "parcel_duplicate_key" in set(report.issues["kind"])


def test_join_by_household():
    parcels = _quiet(read_parcels, _parcels())[0]
    survey = _survey_frame().drop(columns=["Số tờ", "Số thửa"])
    joined, report = _quiet(join_survey, parcels, survey, on="household")[0]
    assert report.on == "household"
    assert joined["survey_status"].tolist() == [
        "matched", "duplicate_survey", "matched", "no_survey", "matched", "no_survey"
    ]  # fmt: skip
    assert report.unmatched["reason"].tolist() == ["household_not_found"]


def test_join_spatial_from_gps_points():
    from ntmgis.crs import wgs84_transformer

    parcels = _quiet(read_parcels, _parcels())[0]
    centres = parcels.geometry.centroid
    lon, lat = wgs84_transformer("EPSG:9209", "EPSG:4326").transform(
        centres.x.to_numpy(), centres.y.to_numpy()
    )
    survey = pd.DataFrame(
        {"Kinh độ": [lon[0], lon[2], 100.0, None], "Vĩ độ": [lat[0], lat[2], 10.0, None],
         "Phân loại vườn": ["Vườn tạp", "Vườn mẫu", "Vườn tạp", "Vườn tạp"]}
    )  # fmt: skip
    joined, report = _quiet(join_survey, parcels, survey, on="spatial")[0]
    classes = [None if pd.isna(v) else v for v in joined["garden_class"]]
    assert classes == ["Vườn tạp", None, "Vườn mẫu", None, None, None]
    assert joined["survey_status"].tolist()[:3] == ["matched", "no_survey", "matched"]
    assert report.unmatched["reason"].tolist() == ["outside_parcels", "missing_key"]


def test_on_must_be_possible():
    parcels = _quiet(read_parcels, _parcels())[0]
    survey = _survey_frame().drop(columns=["Mã hộ"])
    with pytest.raises(SchemaError, match="household"):
        _quiet(join_survey, parcels, survey, on="household")
    with pytest.raises(SchemaError, match="coordinates"):
        _quiet(join_survey, parcels, survey, on="spatial")


# ------------------------------------------------------------------- property: invariance


def _strip(value):
    return fold(value) if isinstance(value, str) else value


def _signature(parcels, survey):
    joined, report = _quiet(join_survey, parcels, survey)[0]
    per_parcel = {
        pid: (status, None if pd.isna(code) else code, None if pd.isna(area) else float(area))
        for pid, status, code, area in zip(
            joined["parcel_id"], joined["survey_status"], joined["garden_class_code"],
            joined["garden_area_m2"]
        )
    }  # fmt: skip
    u = report.unmatched
    unmatched = sorted(zip(u["sheet"].astype(object), u["parcel_no"].astype(object), u["reason"]))
    return per_parcel, unmatched, report.n_matched_rows, report.n_unmatched_rows


HEADER_VARIANTS = {
    "STT": ["STT", "stt", "Số thứ tự"],
    "Mã hộ": [*SURVEY_FIELDS["household_id"][:4], "MÃ HỘ", "ma ho"],
    "Họ và tên chủ hộ": SURVEY_FIELDS["owner"][:5] + ["HO VA TEN CHU HO"],
    "Thôn": ["Thôn", "thon", "THÔN", "Thôn/xóm", "Xóm"],
    "Số tờ": ["Số tờ", "so to", "SO_TO", "Tờ bản đồ", "SHBANDO", "Số  tờ "],
    "Số thửa": ["Số thửa", "so thua", "SO_THUA", "Thửa số", "SHTHUA"],
    "Diện tích vườn (m²)": ["Diện tích vườn (m²)", "Dien tich vuon (m2)", "DT vườn", "Diện tích"],
    "Phân loại vườn": ["Phân loại vườn", "phan loai vuon", "PHÂN LOẠI", "Xếp loại vườn"],
}
PARCELS = None


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    order=st.permutations(list(range(6))),
    headers=st.fixed_dictionaries({k: st.sampled_from(v) for k, v in HEADER_VARIANTS.items()}),
    strip=st.booleans(),
)
def test_join_is_invariant(order, headers, strip):
    global PARCELS
    if PARCELS is None:
        PARCELS = _quiet(read_parcels, _parcels())[0]
    base = _survey_frame()
    expected = _signature(PARCELS, base)
    variant = base.iloc[list(order)].reset_index(drop=True).rename(columns=headers)
    if strip:
        variant = variant.map(_strip)
    assert _signature(PARCELS, variant) == expected


# ----------------------------------------------------------------------- sample commune

TRUTH_TO_KIND = {
    "class_no_diacritics": "class_no_diacritics",
    "class_case": "class_case",
    "class_spaces": "class_spaces",
    "class_old_tone": "class_old_tone",
    "class_abbreviation": "class_abbreviation",
    "misspelt_class": "unknown_class",
    "hamlet_no_diacritics": "hamlet_no_diacritics",
    "hamlet_old_tone": "hamlet_old_tone",
    "stray_spaces_name": "name_spaces",
    "thousands_separator": "area_thousands_separator",
    "duplicate_household": "duplicate_survey",
    "parcel_not_found": "parcel_not_found",
    "parcel_not_surveyed": "garden_not_surveyed",
}


# each campaign of the sample commune: survey stem -> its list of defects
CAMPAIGNS = {"survey_2020": "survey_defects.csv", "survey_2022": "survey_defects_2022.csv"}
SAMPLE_SURVEYS = [
    f"{stem}.{ext}"
    for stem, truth in CAMPAIGNS.items()
    for ext in ("xlsx", "csv")
    if (LAYERS / "truth" / truth).exists() and (LAYERS / f"{stem}.{ext}").exists()
] or ["survey_2020.xlsx"]


def _truth(name):
    return pd.read_csv(LAYERS / "truth" / CAMPAIGNS[name.rsplit(".", 1)[0]])


@pytest.fixture(scope="module")
def sample_join():
    parcels = _quiet(read_parcels, LAYERS / "thanh_binh.gpkg")[0]
    return {name: _quiet(join_survey, parcels, LAYERS / name)[0] for name in SAMPLE_SURVEYS}


@needs_sample
@pytest.mark.parametrize("name", SAMPLE_SURVEYS)
def test_sample_every_defect_is_found(sample_join, name):
    joined, report = sample_join[name]
    truth = _truth(name)
    assert set(truth["defect"]) <= set(TRUTH_TO_KIND), "a new kind of defect: map it"
    issues = report.issues
    found_rows = {(k, int(r)) for k, r in zip(issues["kind"], issues["survey_row"]) if pd.notna(r)}
    found_parcels = set(zip(issues["kind"], issues["parcel_id"]))
    for _, defect in truth.iterrows():
        kind = TRUTH_TO_KIND[defect["defect"]]
        if pd.notna(defect["survey_row"]):
            assert (kind, int(defect["survey_row"])) in found_rows, defect.to_dict()
        else:
            pid = f"{defect['SHBANDO']}-{defect['SHTHUA']}"
            assert (kind, pid) in found_parcels, defect.to_dict()
    # and nothing extra of these kinds: the count per kind is the truth's
    expected = truth["defect"].map(TRUTH_TO_KIND).value_counts()
    got = issues["kind"].value_counts()
    for kind, count in expected.items():
        assert got.get(kind, 0) == count, kind


@needs_sample
@pytest.mark.parametrize("name", SAMPLE_SURVEYS)
def test_sample_counts_add_up(sample_join, name):
    joined, report = sample_join[name]
    raw = gpd.read_file(LAYERS / "thanh_binh.gpkg", layer="parcels")
    truth = _truth(name)
    n_rows = len(_quiet(read_survey, LAYERS / name)[0])
    assert report.n_survey_rows == n_rows
    assert report.n_matched_rows + report.n_unmatched_rows == n_rows
    assert len(joined) == len(raw) == report.n_parcels
    assert sorted(joined["parcel_id"]) == sorted(
        f"{s}-{p}" for s, p in zip(raw.SHBANDO, raw.SHTHUA)
    )
    assert sum(report.parcel_status.values()) == len(raw)
    not_found = truth[truth["defect"] == "parcel_not_found"]["survey_row"].astype(int).tolist()
    assert report.unmatched["survey_row"].tolist() == not_found
    assert report.unmatched["reason"].tolist() == ["parcel_not_found"] * len(not_found)
    # thousands separators read as thousands
    for _, d in truth[truth["defect"] == "thousands_separator"].iterrows():
        value = float(d["detail"].split("'")[1].replace(".", ""))
        row = joined[joined["survey_row"] == int(d["survey_row"])]
        assert row["garden_area_m2"].tolist() == [value]
    # the misspelt class is left empty, not guessed
    misspelt = int(truth[truth["defect"] == "misspelt_class"]["survey_row"].iloc[0])
    row = joined[joined["survey_row"] == misspelt]
    assert row["garden_class"].isna().all() and row["garden_class_raw"].tolist() == [
        "Vườn hoag hóa"
    ]
    # the duplicated household's parcel is flagged, the survey's classes agree with the sheet
    dup = truth[truth["defect"] == "duplicate_household"].iloc[0]
    pid = f"{dup['SHBANDO']}-{dup['SHTHUA']}"
    assert joined.loc[joined["parcel_id"] == pid, "survey_status"].tolist() == ["duplicate_survey"]
    assert set(joined["garden_class"].dropna()) == set(Codebook.default().labels)


@needs_sample
@pytest.mark.parametrize("stem", [s for s in CAMPAIGNS if (LAYERS / f"{s}.csv").exists()])
def test_sample_csv_and_xlsx_read_the_same(stem):
    xlsx = _quiet(read_survey, LAYERS / f"{stem}.xlsx")[0]
    csv = _quiet(read_survey, LAYERS / f"{stem}.csv")[0]
    pd.testing.assert_frame_equal(xlsx.reset_index(drop=True), csv.reset_index(drop=True),
                                  check_dtype=False)  # fmt: skip


def test_fields_override_unknown_headers(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("Báo cáo\n\nMS,Tờ BĐ,Thửa ĐS,Kết quả\n1,12,1,Vườn tạp\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="No header row"):
        read_survey(path)
    fields = {"sheet": "Tờ BĐ", "parcel_no": "thua ds", "garden_class_raw": "Kết quả"}
    df = read_survey(path, fields=fields)
    assert (df["sheet"].tolist(), df["parcel_no"].tolist()) == ([12], [1])
    assert df["garden_class_code"].tolist() == ["vuon_tap"] and df["survey_row"].tolist() == [4]
    assert df["MS"].tolist() == ["1"]  # unknown columns are kept as they were
    with pytest.raises(SchemaError, match="'Nope'"):
        read_survey(path, fields={**fields, "owner": "Nope"})


def test_diadanh_style_survey_hamlets_compare_by_the_parsed_name():
    """Issue 18: "Xóm 1, xã Nghi Phong" in the survey is the parcels' "Xóm 1" (no
    mismatch); "xom 2" (no diacritics, lower case) too; a row in another hamlet is one."""
    place = ["Xóm 1, xã Nghi Phong"] * 3 + ["Xóm 2, xã Nghi Phong"] * 3
    parcels = _quiet(read_parcels, _parcels(DIADANH=place))[0]
    assert parcels["hamlet"].tolist() == ["Xóm 1"] * 3 + ["Xóm 2"] * 3
    survey = pd.DataFrame(
        {
            "Số tờ": [12] * 6,
            "Số thửa": [1, 2, 3, 4, 5, 6],
            "DIADANH": ["Xóm 1, xã Nghi Phong", "Xóm 1", "Xóm 2, xã Nghi Phong",
                        "xom 2", "Xóm 2, xã Nghi Phong", "Xóm 2"],
            "Phân loại vườn": ["Vườn tạp"] * 6,
        }
    )  # fmt: skip
    joined, report = _quiet(join_survey, parcels, survey)[0]
    assert joined["survey_status"].tolist() == ["matched"] * 6
    mismatch = report.issues[report.issues["kind"] == "hamlet_mismatch"]
    assert mismatch["parcel_id"].tolist() == ["12-3"]  # surveyed in Xóm 2, lies in Xóm 1
    assert mismatch["message"].item() == (
        "row 4: hamlet 'Xóm 2, xã Nghi Phong' but parcel 12-3 is in 'Xóm 1'."
    )
    assert joined["survey_hamlet"].iloc[3] == "Xóm 2"  # "xom 2" written the parcels' way


def test_survey_messages_in_both_languages(tmp_path):
    from ntmgis.i18n import set_language

    path = tmp_path / "s.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    said = {}
    for lang in ("en", "vi"):
        set_language(lang)
        with pytest.raises(SchemaError) as caught:
            read_survey(path)
        said[lang] = str(caught.value)
    assert said["en"].startswith(f"No header row in the first 30 rows of {path}: expected")
    assert said["vi"].startswith(f"Không tìm thấy dòng tiêu đề trong 30 dòng đầu của {path}")
    for text in said.values():  # what to change, in words: no Python in the advice
        assert "survey_sheet" in text and "[inputs]" in text and "sheet='" not in text
    # a warning: the unknown class, vi then en, with its catalogue key as `what`
    frame = _survey_frame()
    texts = {}
    for lang in ("vi", "en"):
        set_language(lang)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            read_survey(frame)
        unknown = [w.message for w in caught if w.message.what == "warning.survey.unknown_class"]
        assert len(unknown) == 1
        texts[lang] = str(unknown[0])
    assert texts["vi"] == (
        "DataFrame đã nạp: 1 giá trị phân loại vườn không có trong bộ mã, ở dòng 7; được báo "
        "cáo, không đoán (xem danh sách vấn đề). Sửa các ô đó cho đúng tên loại vườn, hoặc "
        "thêm cách viết đó vào bộ mã."
    )
    assert texts["en"].startswith("the survey table: 1 unknown garden class value(s) at row(s) 7")
    # a wrong join mode is a ConfigError, still a ValueError for callers that catch that
    parcels = _quiet(read_parcels, _parcels())[0]
    set_language("vi")
    with pytest.raises(ValueError, match="Cách ghép khảo sát 'nearest' không có") as caught:
        join_survey(parcels, frame, on="nearest")
    assert isinstance(caught.value, ConfigError)


def test_chinh_trang_is_the_renovated_class(tmp_path):
    path = tmp_path / "ks.csv"
    values = ["Chỉnh trang", "Đã chỉnh trang", "Vườn đã chỉnh trang", "VUON DA CHINH TRANG",
              "Cần chỉnh trang"]  # fmt: skip
    body = "".join(f"4,{i},{v}\n" for i, v in enumerate(values, 1))
    path.write_text("Số tờ,Số thửa,Phân loại vườn\n" + body, "utf-8")
    with pytest.warns(NtmgisWarning, match=r"1 unknown garden class value\(s\) at row\(s\) 6"):
        out = read_survey(path)
    assert out["garden_class_code"].tolist()[:4] == ["da_cai_tao"] * 4
    assert pd.isna(out["garden_class_code"].iloc[4])  # "cần chỉnh trang": to do, not guessed


def test_survey_fields_from_text_or_table():
    from ntmgis.errors import InputError
    from ntmgis.survey import survey_fields

    want = {"garden_class_raw": "Kết quả chấm điểm", "sheet": "Mảnh BĐ"}
    nfd = "Kết quả chấm điểm".replace("ế", "ê\u0301")  # typed in decomposed form
    assert survey_fields(f" garden_class={nfd} ;\nsheet = Mảnh BĐ; ") == want
    assert survey_fields({"garden_class": "Kết quả chấm điểm", "sheet": "Mảnh BĐ"}) == want
    assert survey_fields(None) == {} and survey_fields("  ") == {}
    with pytest.raises(InputError, match=r"'Mảnh BĐ' .*standard field = column header"):
        survey_fields("Mảnh BĐ")
    with pytest.raises(InputError, match=r"'loai_vuon = X' .*Standard fields: garden_class, stt"):
        survey_fields("loai_vuon = X")


def test_read_notes_are_said_in_the_run_language(tmp_path):
    """What reading noted on a row, in Vietnamese with a decimal comma, or in English."""
    from ntmgis import i18n

    text = ("STT,Mã hộ,Thôn,Số tờ,Số thửa,Diện tích vườn (m²),Phân loại vườn,Ngày khảo sát\n"
            '1,HO1,Thôn 1,2,"15, 16",450,Vườn tạp,12/3/2024\n'
            '2,HO2,Thôn 1,2,17,"1.250,5",vuon hoang,2024-13-01\n')  # fmt: skip
    path = tmp_path / "khao_sat.csv"
    path.write_text(text, encoding="utf-8")
    said = {}
    for lang in ("vi", "en"):
        with i18n.language(lang):
            notes = read_survey(path).attrs["ntmgis"]["issues"]
        said[lang] = {n["kind"]: n["message"] for n in notes}
    assert said["vi"] == {
        "bad_key": "dòng 2: số thửa '15, 16' không phải là số nguyên; không ghép được dòng này "
        "theo số tờ, số thửa.",
        "area_thousands_separator": "dòng 3: diện tích '1.250,5' được đọc là 1250,5 m² (dấu "
        "chấm phân cách hàng nghìn).",
        "class_alias": "dòng 3: phân loại vườn 'vuon hoang' được đọc là 'Vườn hoang hóa' (viết "
        "theo tên khác).",
        "bad_date": "dòng 3: ngày '2024-13-01' không có thật trên lịch (cần ghi theo dạng "
        "ngày/tháng/năm, dd/mm/yyyy); để trống.",
    }
    assert said["en"]["area_thousands_separator"] == (
        "row 3: area '1.250,5' read as 1250.5 m² (the dot separates thousands)."
    )
    assert said["en"]["bad_date"] == (
        "row 3: date '2024-13-01' is impossible (expected dd/mm/yyyy); left empty."
    )


@pytest.mark.parametrize(
    ("value", "code", "fixes"),
    [
        ("Vườn tạp (kém hiệu quả)", "vuon_tap", ["qualifier"]),
        ("vuon tap (kem hieu qua)", "vuon_tap", ["no_diacritics", "qualifier"]),
        ("Vườn hoang hoá [bỏ 3 năm]", "hoang_hoa", ["old_tone", "qualifier"]),
        ("Vườn hoang hoá [3 năm]", "hoang_hoa", ["old_tone", "qualifier"]),
        ("Vườn hoang hóa (cần cải tạo)", "hoang_hoa", ["qualifier"]),  # to renovate
        ("Vườn tạp (đã cải tạo)", None, []),  # names another class: which one?
        ("Vườn đạt chuẩn (chưa đạt)", None, []),  # negates the class
        ("Vườn mẫu (không)", None, []),
        ("Vườn tạp (bỏ hoang một phần)", None, []),
        ("(kém hiệu quả)", None, []),
        ("Vườn xịn (kém hiệu quả)", None, []),  # the class itself unknown
    ],
)
def test_a_class_with_a_note_in_brackets_is_that_class_unless_the_note_disagrees(
    value, code, fixes
):
    cls, got = Codebook.default().match(value)
    assert (cls.code if cls else None, got) == (code, fixes)


def test_a_class_with_a_note_is_read_and_said_so(tmp_path):
    """'Vườn tạp (kém hiệu quả)' in 450 rows left every one of them unlabelled before."""
    from ntmgis import i18n

    path = tmp_path / "khao_sat.csv"
    path.write_text(
        "Số tờ;Số thửa;Phân loại vườn\n2;15;Vườn tạp (kém hiệu quả)\n2;16;Vườn tạp (đã cải tạo)\n",
        encoding="utf-8",
    )
    for lang in ("vi", "en"):
        with i18n.language(lang), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = read_survey(path)
        notes = {n["kind"]: n["message"] for n in table.attrs["ntmgis"]["issues"]}
        assert table["garden_class_code"].tolist()[0] == "vuon_tap"
        assert pd.isna(table["garden_class_code"].tolist()[1])
        assert table["survey_issues"].tolist() == ["class_qualifier", "unknown_class"]
        # the unknown row is warned about, the one read is noted only
        (unknown,) = [str(w.message) for w in caught]
        assert ("ở dòng 3;" if lang == "vi" else "row(s) 3;") in unknown
        said = {
            "vi": "dòng 2: phân loại vườn 'Vườn tạp (kém hiệu quả)' được đọc là 'Vườn tạp' "
            "(bỏ qua ghi chú trong ngoặc).",
            "en": "row 2: garden class 'Vườn tạp (kém hiệu quả)' read as 'Vườn tạp' (the note "
            "in brackets left out).",
        }
        assert notes["class_qualifier"] == said[lang]
