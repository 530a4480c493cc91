"""The survey join's report prints: a workbook through ntmgis.report.write_workbook.

The workbook is converted to PDF by LibreOffice headless as an office prints it, and the
pages are read with pdfplumber with the helpers of ``tests/test_print.py``: every
character at 8 pt or more, no word drawn over another, the header row on every page.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import pandas as pd
import pytest
from openpyxl import load_workbook
from shapely.geometry import box

from ntmgis import join_survey, read_parcels
from ntmgis.i18n import set_language
from ntmgis.survey import count_label, kind_label

X0, Y0 = 531000.0, 2035000.0  # Thạch Hà, Hà Tĩnh, in EPSG:9209


@pytest.fixture(autouse=True)
def _english():
    set_language("en")
    yield
    set_language(None)


def _parcels(n=40):
    geoms = [box(X0 + 10 * i, Y0, X0 + 10 * i + 10, Y0 + 10) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "SHBANDO": [12] * n,
            "SHTHUA": list(range(1, n + 1)),
            "DIENTICH": [100.0] * n,
            "KHLOAIDAT": (["ONT+CLN", "CLN", "LUC"] * n)[:n],
            "TENCHU": [f"Chủ hộ số {i}" for i in range(n)],
            "DIADANH": ["Thôn Đông Hòa"] * n,
        },
        geometry=geoms,
        crs="EPSG:9209",
    )


def _survey(n=40):
    """n rows: 3 unmatched (parcels 91-93; the last owner a formula), 2 unknown classes."""
    numbers = list(range(1, n - 2)) + [91, 92, 93]
    classes = (["Vườn tạp", "Vườn mẫu", "vuon hoang hoa", "Vườn đạt chuẩn"] * n)[:n]
    classes[4], classes[9] = "Vườn xyz", "Vườn không rõ loại nào cả"
    owners = [f"Nguyễn Văn Hộ Số {i}" for i in range(n)]
    owners[-1] = "=cmd|' /C calc'!A0"
    return pd.DataFrame(
        {
            "STT": range(1, n + 1),
            "Họ và tên chủ hộ": owners,
            "Thôn": ["Thôn Đông Hòa"] * n,
            "Số tờ": [12] * n,
            "Số thửa": numbers,
            "Diện tích vườn (m²)": [80] * n,
            "Phân loại vườn": classes,
        }
    )


def _report():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parcels = read_parcels(_parcels())
        return join_survey(parcels, _survey())[1]


def test_labels_are_vietnamese_sentences():
    assert count_label("matched_rows", "vi") == "Số dòng khảo sát ghép được với thửa đất"
    assert count_label("unmatched_rows", "en") == "Survey rows joined to no parcel"
    assert count_label("issue_bad_key", "vi") == "Vấn đề: Số tờ hoặc số thửa không đọc được"
    assert kind_label("unknown_class", "vi") == "Phân loại vườn không có trong bộ mã"
    assert kind_label("not_a_kind", "vi") == "not_a_kind"  # a new kind still prints


def test_print_tables_have_vietnamese_headers_and_labels():
    report = _report()
    tables = report.print_tables()
    assert list(tables) == ["survey_join", "survey_unmatched", "survey_issues"]
    summary = tables["survey_join"]
    assert list(summary.columns) == ["STT", "Nội dung", "Số lượng"]
    counts = dict(zip(summary["Nội dung"], summary["Số lượng"]))
    assert counts["Số thửa đất trên bản đồ địa chính"] == 40
    assert counts["Số dòng trong bảng khảo sát"] == 40
    assert counts["Số dòng khảo sát ghép được với thửa đất"] == 37
    assert counts["Số dòng khảo sát không ghép được với thửa đất nào"] == 3
    assert counts["Vấn đề: Phân loại vườn không có trong bộ mã"] == 2
    assert counts["Vấn đề: Số tờ, số thửa không có trên bản đồ"] == 3
    unmatched = tables["survey_unmatched"]
    assert unmatched["Số thửa"].tolist() == [91, 92, 93]
    assert set(unmatched["Lý do"]) == {"Số tờ, số thửa không có trên bản đồ"}
    issues = tables["survey_issues"]
    assert len(issues) == len(report.issues)
    assert "Phân loại vườn viết không dấu (đã sửa)" in set(issues["Loại vấn đề"])


def test_workbook_is_print_ready_escaped_and_csv_unchanged(tmp_path):
    report = _report()
    path = report.write(tmp_path / "bao_cao_ghep.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["Kết quả ghép", "Dòng chưa ghép", "Vấn đề"]
    for sheet in book:
        setup = sheet.page_setup
        assert setup.orientation == "landscape" and int(setup.paperSize) == 9  # A4
        assert sheet.print_title_rows  # the header row repeats on every printed page
    cells = [c for ws in book for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]  # no live formula
    formula = [c for c in cells if c.value == "=cmd|' /C calc'!A0"]
    assert formula and all(c.quotePrefix for c in formula)
    texts = {c.value for c in cells if isinstance(c.value, str)}
    assert "KẾT QUẢ GHÉP KHẢO SÁT VƯỜN HỘ VỚI BẢN ĐỒ ĐỊA CHÍNH" in texts
    assert "BÁO CÁO" in texts and "Phụ lục I" in texts
    counts = {}
    for row in book["Kết quả ghép"].iter_rows(values_only=True):
        if isinstance(row[1], str) and isinstance(row[2], int):
            counts[row[1]] = row[2]
    assert counts["Số dòng khảo sát không ghép được với thửa đất nào"] == 3
    # the CSV stays the issues as they are
    csv = pd.read_csv(report.write(tmp_path / "r.csv"), encoding="utf-8-sig")
    assert list(csv.columns) == ["kind", "survey_row", "parcel_id", "column", "value", "message"]
    assert csv["kind"].tolist() == report.issues["kind"].tolist()


def test_printed_report_is_legible(tmp_path):
    pdfplumber = pytest.importorskip("pdfplumber")
    import test_print as tp  # the print tests' helpers (skips without LibreOffice)

    path = _report().write(tmp_path / "book" / "bao_cao_ghep.xlsx")
    (pdf,) = tp.to_pdf([path], tmp_path / "pdf")
    with pdfplumber.open(pdf) as doc:
        pages = [p.extract_text() or "" for p in doc.pages]
        assert len(pages) >= 3  # the report, then an appendix a sheet
        for number, page in enumerate(doc.pages, start=1):
            assert not tp.small_text(page), f"page {number}: text under {tp.MIN_PT} pt"
            assert not tp.overlapping_words(page), f"page {number}: words drawn over words"
    first = pages[0]
    assert tp.NATIONAL_TITLE in first and "BÁO CÁO" in first
    assert "Nội dung" in first and "Số lượng" in first  # the header on page 1
    assert "Số dòng khảo sát ghép được với thửa đất" in first
    issues = [p for p in pages if "CÁC VẤN ĐỀ KHI ĐỌC VÀ GHÉP KHẢO SÁT" in p]
    assert len(issues) == 1
    after = pages[pages.index(issues[0]) + 1 :]  # the issues run over onto these pages
    assert after and all("Loại vấn đề" in p and "Mã thửa" in p for p in after)  # header repeated
    assert any("Phân loại vườn không có trong bộ mã" in p for p in issues)


def test_advice_and_summary_in_vietnamese():
    report = _report()
    issues = report.print_tables()["survey_issues"]
    unknown = issues[issues["Loại vấn đề"] == "Phân loại vườn không có trong bộ mã"]
    assert unknown["Giá trị"].tolist() == ["Vườn xyz", "Vườn không rõ loại nào cả"]
    assert set(unknown["Cách xử lý"]) == {
        "Sửa ô cho đúng tên loại vườn trong bộ mã, hoặc thêm cách viết này vào bộ mã."
    }
    set_language("vi")
    lines = report.summary().splitlines()
    assert lines[0] == (
        "Ghép khảo sát (theo số tờ và số thửa): DataFrame đã nạp -> GeoDataFrame đã nạp"
    )
    assert lines[1] == "  dòng khảo sát: 40 = 37 ghép được + 3 không ghép được"
    assert lines[2] == "  thửa đất: 40 = 37 ghép được + 3 không có khảo sát"
    assert "    dòng 41, tờ 12 thửa 93: Số tờ, số thửa không có trên bản đồ" in lines
    assert "    ! dòng 6, thửa 12-5: Phân loại vườn không có trong bộ mã 'Vườn xyz'" in lines
    set_language("en")
    assert report.summary().splitlines()[1] == "  survey rows: 40 = 37 matched + 3 unmatched"
