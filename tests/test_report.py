"""The commune office's report: XLSX workbook and CSVs (ntmgis.report)."""

from __future__ import annotations

import csv

import openpyxl
import pandas as pd
import pytest
from test_progress import TINY_TARGETS_CSV, A, B, C, tiny_baseline, tiny_hamlets, tiny_result

from ntmgis.errors import NtmgisWarning
from ntmgis.progress import hamlet_progress
from ntmgis.report import SHEETS, escape_text, write_report

# survey values a prankster (or a careless paste) could type: each would run as a formula
INJECTIONS = {
    "owner": '=HYPERLINK("http://example.com/x","Bấm vào đây")',
    "household": "+84912345678",
    "needs": "-vốn, cây giống",
    "flag_reasons": "@SUM(A1:A9)",
}


@pytest.fixture
def targets(tmp_path):
    path = tmp_path / "chi_tieu.csv"
    path.write_bytes(TINY_TARGETS_CSV.encode("utf-8-sig"))
    return path


def injected_result():
    result = tiny_result()
    for column in ("owner", "needs", "flag_reasons"):
        if column not in result:
            result[column] = None
        result[column] = result[column].astype(object)
    i = result.index[result["parcel_no"] == 9][0]  # reported renovated, imagery abandoned
    for column, value in INJECTIONS.items():
        result.loc[i, column] = value
    result.loc[i, "visit"] = True
    return result


def sheet_table(sheet, header_row=3):
    """Header -> list of values, read back from a sheet."""
    rows = list(sheet.iter_rows(min_row=header_row, values_only=True))
    header = list(rows[0])
    return [dict(zip(header, row)) for row in rows[1:]]


@pytest.fixture
def written(tmp_path, targets):
    result = injected_result()
    progress = hamlet_progress(result, targets, hamlets=tiny_hamlets())
    paths = write_report(progress, result, tmp_path / "out", commune="Xã Thử Nghiệm")
    return progress, paths


def test_files_and_sheets(written):
    _, paths = written
    # + the commune plan's sheets (ntmgis.needs, ntmgis.plan): Step 3 needs, Step 4 plan
    assert set(paths) == {"xlsx", "summary", "hamlets", "visits", "transitions", "needs", "plan"}
    assert paths["xlsx"].name == "bao_cao_tien_do.xlsx"
    assert paths["hamlets"].name == "bao_cao_tien_do_xep_hang_thon.csv"
    book = openpyxl.load_workbook(paths["xlsx"])
    assert book.sheetnames == [
        SHEETS[k][0] for k in ("summary", "hamlets", "visits", "transitions", "needs", "plan")
    ]
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == 9  # A4
        assert sheet.print_title_rows == "$3:$3"  # header row on every printed page
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith("4")
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        header = [c for c in sheet[3] if c.value is not None]
        assert header and all(c.font.bold for c in header)
        assert all(c.fill.fgColor.rgb.endswith("D9EAD3") for c in header)
        assert sheet.column_dimensions["B"].width >= 6
    hamlets = book[SHEETS["hamlets"][0]]
    assert hamlets.freeze_panes == "D4"  # rank, code and hamlet stay in view
    assert hamlets["A1"].value == SHEETS["hamlets"][2]
    assert "Xã Thử Nghiệm" in hamlets["A2"].value
    # the hamlet column is wide enough for the names
    assert hamlets.column_dimensions["C"].width >= len(B)


def test_no_formula_cells_and_escaped_text(written):
    _, paths = written
    book = openpyxl.load_workbook(paths["xlsx"])
    found = {}
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"formula in {sheet.title}!{cell.coordinate}"
                if isinstance(cell.value, str) and cell.value.startswith(("=", "+", "-", "@")):
                    assert cell.data_type == "s" and cell.quotePrefix
                    found.setdefault(cell.value, set()).add(sheet.title)
    visits = SHEETS["visits"][0]
    assert visits in found[INJECTIONS["owner"]]
    assert visits in found[INJECTIONS["household"]]
    assert visits in found[INJECTIONS["needs"]]
    assert visits in found[INJECTIONS["flag_reasons"]]  # the reason column
    # the raw sheet XML holds no <f> element at all
    import zipfile

    with zipfile.ZipFile(paths["xlsx"]) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                assert b"<f>" not in archive.read(name) and b"<f " not in archive.read(name)
    # CSVs: the same values with an apostrophe in front
    with open(paths["visits"], encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    row = next(r for r in rows if r["Số thửa"] == "9")
    assert row["Chủ hộ"] == "'" + INJECTIONS["owner"]
    assert row["Mã hộ"] == "'+84912345678"
    assert row["Nhu cầu hỗ trợ"] == "'-vốn, cây giống"
    assert row["Lý do cần kiểm tra"] == "'@SUM(A1:A9)"
    assert escape_text("@SUM(A1:A9)") == "'@SUM(A1:A9)"
    assert escape_text("-5 m²") == "'-5 m²" and escape_text("Vườn tạp") == "Vườn tạp"


def test_csv_has_bom_and_same_numbers_as_workbook(written):
    progress, paths = written
    for key in ("summary", "hamlets", "visits", "transitions"):
        assert paths[key].read_bytes().startswith(b"\xef\xbb\xbf")
    book = openpyxl.load_workbook(paths["xlsx"])
    xlsx = sheet_table(book[SHEETS["hamlets"][0]])
    table = pd.read_csv(paths["hamlets"], encoding="utf-8-sig")
    assert list(table["Thôn"]) == [row["Thôn"] for row in xlsx] == [B, A, C]
    for i, row in enumerate(xlsx):
        for header in ("Hạng", "Số hộ", "Số thửa vườn", "Điểm tiến độ (%)"):
            assert row[header] == table[header].iloc[i]


def test_workbook_numbers_match_progress(written):
    progress, paths = written
    book = openpyxl.load_workbook(paths["xlsx"])
    rows = {row["Thôn"]: row for row in sheet_table(book[SHEETS["hamlets"][0]])}
    expected = progress.set_index("hamlet")
    for hamlet in (A, B, C):
        row, want = rows[hamlet], expected.loc[hamlet]
        assert row["Hạng"] == want["rank"]
        assert row["Mã thôn"] == want["ma_thon"]
        assert row["Số hộ"] == want["households"]
        assert row["Số thửa vườn"] == want["gardens"]
        assert row["Diện tích vườn (m²)"] == want["garden_area_m2"]
        assert row["Vườn mẫu"] == want["n_vuon_mau"]
        assert row["Đã cải tạo (ảnh xác nhận)"] == want["renovated_confirmed"]
        assert row["Tỷ lệ vườn đạt chuẩn (%): chỉ tiêu"] == want["target_ty_le_dat_chuan"]
        assert row["Tỷ lệ vườn đạt chuẩn (%): đạt được"] == want["achieved_ty_le_dat_chuan"]
        assert row["Tỷ lệ vườn đạt chuẩn (%): tiến độ (%)"] == want["progress_ty_le_dat_chuan"]
        assert row["Điểm tiến độ (%)"] == want["score"]
    # hand-computed values, as in test_progress
    assert (rows[B]["Hạng"], rows[B]["Điểm tiến độ (%)"], rows[B]["Ưu tiên khen thưởng"]) == (
        1,
        162.5,
        1,
    )
    assert rows[B]["Đánh giá chung"] == "Vượt chỉ tiêu"
    assert rows[A]["Đánh giá chung"] == "Đạt chỉ tiêu" and rows[A]["Ưu tiên khen thưởng"] == 2
    assert (
        rows[C]["Đánh giá chung"] == "Chưa đạt chỉ tiêu" and rows[C]["Ưu tiên khen thưởng"] is None
    )
    assert rows[B]["Vườn hoang hóa đưa vào sử dụng: chỉ tiêu"] is None  # no target: empty cell
    assert rows[A]["Tỷ lệ vườn đạt chuẩn (%): tiến độ (%)"] == 107.1
    number = book[SHEETS["hamlets"][0]].cell(row=4, column=1)
    assert number.data_type == "n"


def test_summary_and_visits(written):
    _, paths = written
    book = openpyxl.load_workbook(paths["xlsx"])
    summary = {row["Nội dung"]: row["Giá trị"] for row in sheet_table(book[SHEETS["summary"][0]])}
    assert summary["Xã"] == "Xã Thử Nghiệm"
    assert summary["Số thôn"] == 3
    assert summary["Số thửa đất"] == 14
    assert summary["Số hộ"] == 11  # H1..H11; the parcel without household id is not a household
    assert summary["Số thửa vườn"] == 13
    assert summary["Diện tích vườn"] == 0.47  # 4,700 m²
    assert summary["Khảo sát: vườn mẫu"] == 3
    assert summary["Vườn chưa khảo sát"] == 1
    assert summary["Ảnh: vườn hoang hóa"] == 4
    assert summary["Số thôn vượt chỉ tiêu"] == 1
    assert summary["Số thôn chưa đạt chỉ tiêu"] == 1
    # commune share: (3 + 4 + 1) standard gardens of 13
    assert summary["Tỷ lệ vườn đạt chuẩn (%): toàn xã"] == round(100 * 8 / 13, 1)
    visits = sheet_table(book[SHEETS["visits"][0]])
    # visit list: the parcels the result flags for a visit (9, 13, 14)
    assert [row["Số thửa"] for row in visits] == [9, 13, 14]
    assert [row["STT"] for row in visits] == [1, 2, 3]
    assert visits[1]["Kết quả ảnh vệ tinh"] == "Nghi vấn hoang hóa"
    assert summary["Thửa cần kiểm tra thực địa"] == 3
    transitions = book[SHEETS["transitions"][0]]
    assert transitions.max_row == 3  # header only
    assert "--baseline" in transitions["A2"].value


def test_transitions_with_baseline(tmp_path, targets):
    result, baseline = tiny_result(), tiny_baseline()
    with pytest.warns(NtmgisWarning):
        progress = hamlet_progress(result, targets, baseline=baseline)
        paths = write_report(progress, result, tmp_path / "out", baseline=baseline)
    book = openpyxl.load_workbook(paths["xlsx"])
    listed = sheet_table(book[SHEETS["transitions"][0]])
    # hamlet by hamlet, then by sheet and parcel number (99 after 3, not before)
    assert [r["Số thửa"] for r in listed] == [3, 99, 8, 9, 10, 11, 14]
    rows = {row["Số thửa"]: row for row in listed}
    # changed parcels and checked renovations only; unchanged ones are left out
    assert set(rows) == {3, 8, 9, 10, 11, 14, 99}
    assert rows[3]["Khảo sát đợt trước"] == "Vườn hoang hóa"
    assert rows[3]["Khảo sát đợt này"] == "Vườn đã cải tạo"
    assert rows[3]["Kiểm tra cải tạo"] == "Ảnh xác nhận đã đưa vào sử dụng"
    assert rows[9]["Kiểm tra cải tạo"] == "Báo cáo đã cải tạo, ảnh chưa thấy"
    assert rows[99]["Ghi chú"] == "Chỉ có ở đợt trước"
    visits = [row["Số thửa"] for row in sheet_table(book[SHEETS["visits"][0]])]
    assert 9 in visits  # reported renovation the imagery does not show: visit
    hamlets = sheet_table(book[SHEETS["hamlets"][0]])
    assert [r["Hoang hóa đầu kỳ (khảo sát)"] for r in hamlets if r["Thôn"] == A] == [3]
    summary = {r["Nội dung"]: r["Giá trị"] for r in sheet_table(book[SHEETS["summary"][0]])}
    assert summary["Hoang hóa đầu kỳ (khảo sát đợt trước)"] == 6


def test_progress_report_one_call(tmp_path, targets):
    from ntmgis.report import progress_report

    ranked, paths = progress_report(
        tiny_result(), targets, tmp_path / "out", hamlets=tiny_hamlets(), commune="Xã Thử Nghiệm"
    )
    assert list(ranked["hamlet"]) == [B, A, C] and list(ranked["ma_thon"]) == ["T2", "T1", "T3"]
    book = openpyxl.load_workbook(paths["xlsx"])
    rows = sheet_table(book[SHEETS["hamlets"][0]])
    assert [(r["Hạng"], r["Mã thôn"], r["Thôn"]) for r in rows] == [
        (1, "T2", B),
        (2, "T1", A),
        (3, "T3", C),
    ]


def test_progress_report_reports_progress_and_cancels_before_writing(tmp_path, targets):
    from ntmgis.errors import CancelledError
    from ntmgis.report import progress_report

    seen = []
    progress_report(tiny_result(), targets, tmp_path / "a", hamlets=tiny_hamlets(),
                    progress=lambda f, m: seen.append((f, m)))  # fmt: skip
    assert [f for f, _ in seen] == sorted(f for f, _ in seen) and seen[-1][0] == 1.0
    with pytest.raises(CancelledError):
        progress_report(tiny_result(), targets, tmp_path / "b", hamlets=tiny_hamlets(),
                        progress=lambda f, m: m != "report")  # fmt: skip
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())


def test_visits_go_hamlet_by_hamlet_in_code_order(tmp_path, targets):
    from ntmgis.report import progress_report

    hamlets = tiny_hamlets()
    hamlets["ma_thon"] = ["T3", "T2", "T1"]  # C is T1 now, A is T3
    _, paths = progress_report(injected_result(), targets, tmp_path / "out", hamlets=hamlets)
    book = openpyxl.load_workbook(paths["xlsx"])
    visits = sheet_table(book[SHEETS["visits"][0]])
    assert [(r["Thôn"], r["Số thửa"]) for r in visits] == [(C, 13), (C, 14), (B, 9)]


def test_commune_name_is_data_too(tmp_path, targets):
    result = tiny_result()
    progress = hamlet_progress(result, targets)
    paths = write_report(progress, result, tmp_path / "out", commune="=2+3")
    book = openpyxl.load_workbook(paths["xlsx"])
    for sheet in book.worksheets:
        subtitle = sheet["A2"]
        assert subtitle.value.startswith("=2+3") and subtitle.data_type == "s"
        assert subtitle.quotePrefix
    summary = book[SHEETS["summary"][0]]
    assert summary["B4"].value == "=2+3" and summary["B4"].data_type == "s"
    hamlets = book[SHEETS["hamlets"][0]]
    header = [c.value for c in hamlets[3]]
    area = hamlets.cell(row=4, column=header.index("Diện tích vườn (m²)") + 1)
    assert area.data_type == "n" and area.number_format == "#,##0"
    assert hamlets.cell(row=4, column=1).number_format == "0"  # rank
    summary_csv = paths["summary"].read_text(encoding="utf-8-sig").splitlines()
    assert summary_csv[1] == "Xã,'=2+3,"
