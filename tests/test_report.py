"""The commune office's report: XLSX workbook and CSVs (ntmgis.report)."""

from __future__ import annotations

import csv
import warnings

import openpyxl
import pandas as pd
import pytest
from test_progress import TINY_TARGETS_CSV, A, B, C, tiny_baseline, tiny_hamlets, tiny_result

from ntmgis._io import can_defer_rows
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


def header_rows(sheet):
    """The table's header rows: the rows printed at the top of every page."""
    first, last = (int(x.strip("$")) for x in sheet.print_title_rows.split(":"))
    return first, last


def sheet_table(sheet):
    """Header -> list of values, read back from a sheet (two-level headers as "X: y")."""
    first, last = header_rows(sheet)
    names, group = [], None
    for j in range(1, sheet.max_column + 1):
        top = sheet.cell(row=first, column=j).value
        sub = sheet.cell(row=last, column=j).value if last > first else None
        if top is not None:
            group = top
        if sub is None:
            names.append(top)
        else:
            names.append(f"{group}: {sub[:1].lower()}{sub[1:]}")
    table = []
    for row in sheet.iter_rows(min_row=last + 1, values_only=True):
        if row[0] is None:  # the table ends (the signer block follows on the first sheet)
            break
        table.append(dict(zip(names, row)))
    return table


@pytest.fixture
def written(tmp_path, targets):
    result = injected_result()
    progress = hamlet_progress(result, targets, hamlets=tiny_hamlets())
    paths = write_report(progress, result, tmp_path / "out", commune="Xã Thử Nghiệm")
    return progress, paths


def test_files_and_sheets(written):
    _, paths = written
    # + the commune plan's sheets (ntmgis.needs, ntmgis.plan): Step 3 needs, Step 4 plan
    assert set(paths) == {"xlsx", "pdf", "summary", "ranking", "hamlets", "visits",
                          "transitions", "needs", "plan"}  # fmt: skip
    assert paths["xlsx"].name == "bao_cao_tien_do.xlsx"
    assert paths["ranking"].name == "bao_cao_tien_do_xep_hang_thon.csv"
    assert paths["hamlets"].name == "bao_cao_tien_do_chi_tiet_thon.csv"
    book = openpyxl.load_workbook(paths["xlsx"])
    # no earlier campaign: no transitions appendix (its CSV keeps the headers)
    assert book.sheetnames == [
        SHEETS[k][0] for k in ("summary", "ranking", "visits", "hamlets", "needs", "plan")
    ]
    for sheet in book.worksheets:
        assert sheet.page_setup.orientation == "landscape"
        assert int(sheet.page_setup.paperSize) == 9  # A4
        first, last = header_rows(sheet)  # the header rows print on every page
        assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith(str(last + 1))
        header = [c for c in sheet[first] if c.value is not None]
        assert header and all(c.font.bold for c in header)
        assert all(c.fill.fgColor.rgb.endswith("D9EAD3") for c in header)
        assert sheet.column_dimensions["B"].width >= 6
        assert sheet.oddFooter.center.text == "Trang &P/&N"
        texts = [c.value for row in sheet.iter_rows(max_row=first) for c in row]
        assert "UBND XÃ THỬ NGHIỆM" in texts  # the issuing body heads every sheet
    summary, ranking = book.worksheets[:2]
    texts = [c.value for row in summary.iter_rows(max_row=8) for c in row if c.value]
    assert texts[:2] == ["UBND XÃ THỬ NGHIỆM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"]
    assert "Độc lập - Tự do - Hạnh phúc" in texts and "BÁO CÁO" in texts
    assert any(t.startswith("Số: ") and t.endswith("/BC-UBND") for t in texts)
    assert any(t.startswith("Thử Nghiệm, ngày ") for t in texts)
    signer = [c.value for row in summary.iter_rows(min_row=header_rows(summary)[1]) for c in row]
    assert "TM. ỦY BAN NHÂN DÂN" in signer and "CHỦ TỊCH" in signer and "Nơi nhận:" in signer
    assert "- Lưu: VT." in signer
    # the printable ranking: few columns, fitted to the page width; the detail goes across
    assert ranking.sheet_properties.pageSetUpPr.fitToPage
    assert ranking.max_column <= 15
    hamlets = book[SHEETS["hamlets"][0]]
    assert not hamlets.sheet_properties.pageSetUpPr.fitToPage
    assert hamlets.print_title_cols == "$A:$C"  # rank, code and hamlet on every page
    assert hamlets.freeze_panes == f"D{header_rows(hamlets)[1] + 1}"
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
    sheet = book[SHEETS["hamlets"][0]]
    number = sheet.cell(row=header_rows(sheet)[1] + 1, column=1)
    assert number.data_type == "n"
    view = {row["Thôn"]: row for row in sheet_table(book[SHEETS["ranking"][0]])}
    assert list(view) == [B, A, C]
    assert view[A]["Tỷ lệ vườn đạt chuẩn (%): tiến độ (%)"] == 107.1
    assert view[B]["Điểm tiến độ (%)"] == 162.5 and view[B]["Ưu tiên khen thưởng"] == 1
    assert view[A]["Đánh giá chung"] == "Đạt chỉ tiêu"


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
    # no earlier campaign: no empty appendix, a sentence in the summary instead
    rows = {r["Nội dung"]: r for r in sheet_table(book[SHEETS["summary"][0]])}
    line = rows["Thửa biến động giữa hai đợt khảo sát"]
    assert line["Giá trị"] is None
    assert line["Ghi chú"].startswith("Chưa có đợt khảo sát trước để so sánh")
    assert "--baseline" not in line["Ghi chú"]
    with open(paths["transitions"], encoding="utf-8-sig", newline="") as f:
        assert len(list(csv.reader(f))) == 1  # the headers only


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
    assert summary["Thửa biến động giữa hai đợt khảo sát"] == 7  # the seven parcels above


def test_no_transition_between_campaigns_is_said_not_printed_empty(tmp_path, targets):
    """A follow-up identical to its baseline: no empty appendix, one sentence in the summary."""
    result = tiny_result()
    baseline = result.copy()
    progress = hamlet_progress(result, targets, baseline=baseline)
    paths = write_report(progress, result, tmp_path / "out", baseline=baseline)
    book = openpyxl.load_workbook(paths["xlsx"])
    assert SHEETS["transitions"][0] not in book.sheetnames
    rows = {r["Nội dung"]: r for r in sheet_table(book[SHEETS["summary"][0]])}
    line = rows["Thửa biến động giữa hai đợt khảo sát"]
    assert line["Giá trị"] == 0
    assert line["Ghi chú"].startswith("Không có thửa nào thay đổi giữa hai đợt khảo sát")
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(paths["pdf"]) as doc:
        text = "\n".join(p.extract_text() or "" for p in doc.pages)
    assert SHEETS["transitions"][2] not in text and "(không có)" not in text


def test_the_report_says_which_run_made_it(tmp_path, targets):
    """The run id of the result's run_metadata: the PDF's Subject/Keywords, the XLSX's id."""
    from ntmgis.result import Result

    run_id = "20261202T160000Z-abc123"
    result = Result(tiny_result(), None, {"run_id": run_id, "commune": "Xã Thử Nghiệm"})
    progress = hamlet_progress(result.parcels, targets, hamlets=tiny_hamlets())
    paths = write_report(progress, result, tmp_path / "out")
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(paths["pdf"]) as doc:
        info = doc.metadata
    assert info["Keywords"] == run_id and info["Subject"] == f"ntmgis run {run_id}"
    assert openpyxl.load_workbook(paths["xlsx"]).properties.identifier == run_id


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
        found = [c for row in sheet.iter_rows() for c in row if str(c.value).startswith("=2+3")]
        assert found and all(c.data_type == "s" and c.quotePrefix for c in found)
    summary = sheet_table(book[SHEETS["summary"][0]])
    assert summary[0]["Nội dung"] == "Xã" and summary[0]["Giá trị"] == "=2+3"
    hamlets = book[SHEETS["hamlets"][0]]
    first, last = header_rows(hamlets)
    header = [c.value for c in hamlets[first]]
    area = hamlets.cell(row=last + 1, column=header.index("Diện tích vườn (m²)") + 1)
    # Vietnamese display: 1.250 (thousands dot), 12,5 (decimal comma), whatever the locale
    assert area.data_type == "n" and area.number_format == "[$-42A]#,##0"
    assert hamlets.cell(row=last + 1, column=1).number_format == "0"  # rank
    summary_csv = paths["summary"].read_text(encoding="utf-8-sig").splitlines()
    assert summary_csv[1] == "1,Xã,'=2+3,,"


FORM = {
    "parent_body": "UBND HUYỆN CAN LỘC",
    "number": "15",
    "place": "Thử Nghiệm",
    "date": "2022-12-20",
    "signer_title": "PHÓ CHỦ TỊCH",
    "signer_authority": "KT. CHỦ TỊCH",
    "signer_name": "Nguyễn Văn An",
    "recipients": ["UBND huyện Can Lộc", "Văn phòng Điều phối NTM huyện"],
}


def test_the_form_from_the_run_config(tmp_path, targets, layers_dir):
    """[report] in the run config -> the workbook's heading and signer, the PDF, the maps."""
    import pdfplumber
    from click.testing import CliRunner

    from ntmgis._toml import tomllib
    from ntmgis.cli import cli
    from ntmgis.config import load_config
    from ntmgis.errors import ConfigError
    from ntmgis.pipeline import write_gpkg_atomic

    raw = tomllib.loads((layers_dir / "thanh_binh.toml").read_text(encoding="utf-8"))
    cfg = load_config({**raw, "report": FORM}, base=layers_dir)
    assert cfg.report_form == FORM
    for bad, word in (({"numbr": "1"}, "numbr"), ({"date": "20/12/2022"}, "YYYY-MM-DD"),
                      ({"recipients": "Lưu: VT"}, "list")):  # fmt: skip
        with pytest.raises(ConfigError, match=word):
            load_config({**raw, "report": bad}, base=layers_dir)
    config = tmp_path / "xa.toml"
    config.write_text('[commune]\nname = "Xã Thử Nghiệm"\n\n[report]\n' + "\n".join(
        f"{k} = {v!r}".replace("'", '"') for k, v in FORM.items()), encoding="utf-8")  # fmt: skip
    gpkg = write_gpkg_atomic(
        tmp_path / "ket_qua.gpkg", {"parcels": tiny_result(), "hamlets": tiny_hamlets()}
    )
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["progress", str(gpkg), str(targets), "-o", str(out),
                                   "--config", str(config)], catch_exceptions=False)  # fmt: skip
    assert run.exit_code == 0, run.output
    book = openpyxl.load_workbook(out / "bao_cao_tien_do.xlsx")
    summary = book.worksheets[0]
    texts = [c.value for row in summary.iter_rows() for c in row if c.value]
    assert texts[:3] == [
        "UBND HUYỆN CAN LỘC",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "UBND XÃ THỬ NGHIỆM",
    ]
    assert "Số: 15/BC-UBND" in texts and "Thử Nghiệm, ngày 20 tháng 12 năm 2022" in texts
    assert {"KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn An", "- UBND huyện Can Lộc;",
            "- Văn phòng Điều phối NTM huyện;", "- Lưu: VT."} <= set(texts)  # fmt: skip
    appendix = [c.value for row in book.worksheets[1].iter_rows(max_row=6) for c in row]
    assert "(Kèm theo Báo cáo số 15/BC-UBND ngày 20/12/2022 của UBND XÃ THỬ NGHIỆM)" in appendix
    with pdfplumber.open(out / "bao_cao_tien_do.pdf") as pdf:
        text = "\n".join(p.extract_text() for p in pdf.pages)
    assert "Số: 15/BC-UBND" in text and "Nguyễn Văn An" in text and "KT. CHỦ TỊCH" in text
    # the maps' signature block: the same settings
    from ntmgis.maps import render_maps

    (maps_pdf,) = render_maps(gpkg, tmp_path / "maps", form=FORM, commune="Xã Thử Nghiệm")
    with pdfplumber.open(maps_pdf) as pdf:
        page = pdf.pages[1].extract_text()
    assert "Thử Nghiệm, ngày 20 tháng 12 năm 2022" in page
    assert "KT. CHỦ TỊCH" in page and "PHÓ CHỦ TỊCH" in page and "Nguyễn Văn An" in page


def test_a_run_says_what_it_did_not_write(small_sample, tmp_path):
    """report = true without targets: no report, and the run says why and what to add."""
    from ntmgis.config import load_config, read_toml
    from ntmgis.i18n import set_language
    from ntmgis.pipeline import run

    raw = read_toml(small_sample.root / "thanh_binh.toml")
    raw["inputs"].pop("targets", None)
    raw["flags"] = {"calibration": "rules"}
    raw["outputs"] = {"dir": str(tmp_path / "out"), "maps": False, "report": True}
    set_language("vi")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the sample's survey defects: tested elsewhere
            result = run(load_config(raw, base=small_sample.root))
    finally:
        set_language(None)
    assert "report_xlsx" not in result.outputs and "maps_pdf" not in result.outputs
    assert not list((tmp_path / "out").glob("bao_cao_tien_do*"))
    summary = result.summary()
    reason = next(line for line in summary.splitlines() if line.startswith("Báo cáo tiến độ"))
    assert "không ghi" in reason and "targets" in reason and "[inputs]" in reason
    assert "ntmgis progress" in reason  # or make it from the result afterwards
    assert any(line.startswith("Bản đồ các thôn: không in") for line in summary.splitlines())


def test_report_pdf_paragraphs_keep_their_wrap_and_survive_a_split():
    """The PDF's table cells remember their last wrap; a split that drops reportlab's
    lines (a paragraph pushed to the next page) must not leave them without lines."""
    import io

    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph

    from ntmgis._report_pdf import _para

    style = ParagraphStyle("cell", fontName="Helvetica", fontSize=9, leading=11)
    text = "Vườn hoang hóa cần kiểm tra tại thực địa " * 6
    cell, fresh = _para(text, style), Paragraph(text, style)
    assert cell.wrap(120, 1000) == fresh.wrap(120, 1000)
    assert cell.wrap(120, 500) == fresh.wrap(120, 500)  # the remembered wrap
    lines = len(cell.blPara.lines)
    assert lines == len(fresh.blPara.lines) > 3
    assert cell.split(120, 5) == []  # no room for two lines: reportlab drops blPara
    assert cell.wrap(120, 1000) == fresh.wrap(120, 1000)
    assert len(cell.blPara.lines) == lines
    assert cell.wrap(200, 1000) == fresh.wrap(200, 1000)  # another width: wrapped anew
    cell.drawOn(Canvas(io.BytesIO()), 0, 0)


def _cell_table(rows, numeric, widths, plain: bool):
    """A report data table drawn on one page (Paragraph cells or the plain text cells)."""
    import io

    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Table, TableStyle

    from ntmgis._report_pdf import (
        _body_cells,
        _cell_styles,
        _para,
        _register_fonts,
        _styles,
        _table_class,
    )

    _register_fonts()
    st = _styles()
    cols = list(range(len(widths)))
    if plain:  # the report's way: plain text cells, shared cell styles, no cell commands
        body = _body_cells(rows, numeric, cols, widths, st)
        t = _table_class()(body, colWidths=widths, hAlign="LEFT",
                           cellStyles=_cell_styles(numeric, cols, 0, len(body), st))  # fmt: skip
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black)]))
    else:  # reportlab's: a Paragraph a cell, the styles set by commands
        body = [[_para(t, st["num"] if numeric[r][j] else st["cell"]) for j, t in enumerate(row)]
                for r, row in enumerate(rows)]  # fmt: skip
        t = Table(body, colWidths=widths, hAlign="LEFT")
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 2.5),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 2.5)]))  # fmt: skip
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(600, 2000))
    _, height = t.wrapOn(canvas, 600, 2000)
    t.drawOn(canvas, 10, 2000 - 10 - height)
    canvas.save()
    return t._rowHeights, out.getvalue()


def test_report_pdf_plain_cells_are_drawn_where_paragraphs_draw_them():
    """The appendix's text cells drawn as lines by the table: the same line breaks, row
    heights and glyph positions as the Paragraphs they replace (hand-picked cases: one
    line, wrapped, a line reportlab draws with shrunk spaces, a word wider than the cell,
    empty, right-aligned numbers)."""
    import io

    pdfplumber = pytest.importorskip("pdfplumber")
    long = "Vườn tạp chưa cải tạo; hộ đề nghị hỗ trợ cây giống, kỹ thuật và vốn vay ưu đãi"
    rows = [
        ["Thôn Đông", "1.250,5", long, ""],
        ["Thôn Tây Nam Bộ mới", "12", long + " " + long, "Cần kiểm tra"],
        ["Siêu-dài-một-từ-không-thể-ngắt-được-nữa", "3,25", "", "NDVI dao động quanh 0,02"],
        ["", "", "a  b\tc", "x"],
    ]
    widths = [70.0, 40.0, 150.0, 61.7, 103.5]  # the last: a line of `long` a little too wide
    rows = [row + [long] for row in rows]
    numeric = [[False, True, False, False, False]] * len(rows)
    heights_p, pdf_p = _cell_table(rows, numeric, widths, plain=False)
    heights_t, pdf_t = _cell_table(rows, numeric, widths, plain=True)
    assert heights_t == pytest.approx(heights_p, abs=1e-9)
    assert heights_p[1] > heights_p[0] > 0  # the long texts did wrap

    def words(pdf):
        with pdfplumber.open(io.BytesIO(pdf)) as doc:
            return [(w["text"], w["x0"], w["top"]) for w in doc.pages[0].extract_words()]

    got, want = words(pdf_t), words(pdf_p)
    assert [w[0] for w in got] == [w[0] for w in want] and len(want) > 60
    # the same places to a thousandth of a point (PDF numbers are printed rounded)
    assert [v for w in got for v in w[1:]] == pytest.approx(
        [v for w in want for v in w[1:]], abs=1e-3
    )


def test_report_plain_lines_are_paragraph_lines():
    from reportlab.platypus import Paragraph

    from ntmgis._report_pdf import _plain_lines, _register_fonts, _styles

    _register_fonts()
    style = _styles()["cell"]
    text = "Hộ đề nghị hỗ trợ cây giống, kỹ thuật và vốn vay ưu đãi để cải tạo vườn tạp " * 3
    memo = {}
    for width in (60.0, 97.3, 150.0, 400.0, 2000.0):
        lines = _plain_lines(text, style, width, memo)
        para = Paragraph(text, style)
        para.wrap(width, 1e9)
        shrunk = any(extra < -1e-8 for extra, _ in para.blPara.lines)
        if lines is None:
            assert shrunk  # only a line with shrunk spaces needs the Paragraph here
        else:
            assert lines.split("\n") == [" ".join(ws) for _, ws in para.blPara.lines]
    assert _plain_lines(text, style, 2000.0, memo) == " ".join(text.split())  # one line
    # reportlab's line breaking, step for step: every width from 20 to 400 pt by 0.37 pt
    # (lines just fitting, a line just too wide, words wider than the cell)
    texts = [text, "Vườn tạp chưa cải tạo 12,5 m² — hộ Nguyễn Văn A (thôn Đông)", "a b c " * 30]
    kinds = set()
    for t in texts:
        for k in range(1030):
            width = 20.0 + 0.37 * k
            para = Paragraph(t, style)
            para.wrap(width, 1e9)
            want = [" ".join(ws) for _, ws in para.blPara.lines]
            shrunk = any(extra < -1e-8 for extra, _ in para.blPara.lines)
            got = _plain_lines(t, style, width, {})
            if got is None:
                assert shrunk or para._splitLongWordCount
                kinds.add("shrunk" if shrunk else "split")
            else:
                assert got.split("\n") == want, (t, width)
                kinds.add(len(want) > 1)
    assert kinds == {"shrunk", "split", True, False}
    assert _plain_lines("", style, 50.0, memo) is None
    assert _plain_lines("Siêu-dài-một-từ-không-thể-ngắt", style, 30.0, memo) is None


def test_report_progress_per_page_and_a_cancel_leaves_nothing(tmp_path, targets):
    from ntmgis.errors import CancelledError

    result = injected_result()
    progress = hamlet_progress(result, targets, hamlets=tiny_hamlets())
    seen = []
    paths = write_report(progress, result, tmp_path / "a", commune="Xã Thử Nghiệm",
                         progress=lambda f, m: seen.append((f, m)))  # fmt: skip
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    pages = [m for _, m in seen if m.startswith("report page ")]
    with open(paths["pdf"], "rb") as f:
        import re

        count = len(re.findall(rb"/Type\s*/Page[^s]", f.read()))
    assert pages == [f"report page {i}" for i in range(1, count + 1)]
    assert sum(m.startswith("sheet ") for _, m in seen) == len(
        openpyxl.load_workbook(paths["xlsx"]).sheetnames
    )
    # cancelled at the PDF's first page: the workbook already written is removed too
    out = tmp_path / "b"
    with pytest.raises(CancelledError):
        write_report(progress, result, out, progress=lambda f, m: m != "report page 1")
    assert not out.exists() or not any(out.iterdir())


def test_report_pdf_table_grid_and_header_as_reportlab_draws_them():
    """The appendix tables' grid drawn as one path: the same segments (span gaps in the
    two-row header included) as reportlab's line by line, the same words at the same
    places, the same fill colours; a ``:`` or ``(`` in a cell is escaped."""
    import io

    pdfplumber = pytest.importorskip("pdfplumber")
    from reportlab.lib import colors
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Table, TableStyle

    from ntmgis._report_pdf import _header_spans, _para, _register_fonts, _styles, _table_class

    _register_fonts()
    st = _styles()
    levels = [("STT", ""), ("Thôn", ""), ("Diện tích", "ha"), ("Diện tích", "%"), ("Ghi chú", "")]
    head = [[_para(g, st["head"]) for g, _ in levels], [_para(s, st["head"]) for _, s in levels]]
    body = [["1", "Thôn Đông", "1,25", "12,5", "(ghi chú) a\\b"], ["2", "Tây", "", "3", ""]]
    style = [("GRID", (0, 0), (-1, -1), 0.4, colors.black),
             ("BACKGROUND", (0, 0), (-1, 1), colors.HexColor("#D9EAD3")),
             ("VALIGN", (0, 0), (-1, -1), "TOP"), ("VALIGN", (0, 0), (-1, 1), "MIDDLE"),
             ("FONT", (0, 2), (-1, -1), "NtmSerif", 9, 11.25),
             ("ALIGN", (2, 2), (3, 3), "RIGHT"), *_header_spans(levels, range(5))]  # fmt: skip

    def draw(cls):
        t = cls(head + body, colWidths=[30, 80, 50, 50, 90], repeatRows=2)
        t.setStyle(TableStyle(style))
        out = io.BytesIO()
        canvas = Canvas(out, pagesize=(400, 300))
        _, height = t.wrapOn(canvas, 400, 300)
        t.drawOn(canvas, 10, 290 - height)
        canvas.save()
        with pdfplumber.open(io.BytesIO(out.getvalue())) as doc:
            page = doc.pages[0]
            edges = sorted((round(e["x0"], 3), round(e["top"], 3), round(e["x1"], 3),
                            round(e["bottom"], 3)) for e in page.lines)  # fmt: skip
            words = [(w["text"], round(w["x0"], 3), round(w["top"], 3))
                     for w in page.extract_words()]  # fmt: skip
            fills = sorted(str(r["non_stroking_color"]) for r in page.rects)
        return edges, words, fills

    want, got = draw(Table), draw(_table_class())
    assert got[0] == want[0] and len(want[0]) == 11  # 5 rules across, 6 down
    # the spans: the rule between the header rows only under "Diện tích" (x 120-220),
    # the one between its two columns only down from the second header row
    across = sorted({e[1] for e in got[0] if e[1] == e[3]})  # the rules' heights
    assert [e[::2] for e in got[0] if e[1] == e[3] and e[1] == across[1]] == [(120.0, 220.0)]
    down = [e for e in got[0] if e[0] == e[2] == 170.0]
    assert down == [(170.0, across[1], 170.0, across[-1])]
    assert got[1] == want[1]
    assert [w[0] for w in got[1] if w[2] > across[2]] == ["1", "Thôn", "Đông", "1,25", "12,5",
                                                          "(ghi", "chú)", "a\\b", "2", "Tây",
                                                          "3"]  # fmt: skip
    assert got[2] == want[2]


def test_report_pdf_string_width_is_reportlabs():
    """The PDF's remembered text widths are reportlab's ``stringWidth`` to the last bit
    (column widths and line breaks depend on them), for each face and size."""
    import random

    from reportlab.pdfbase.pdfmetrics import stringWidth

    from ntmgis._report_pdf import _FONTS, _register_fonts, _string_width

    _register_fonts()
    rng = random.Random(3)
    texts = ["Vườn tạp chưa cải tạo 12,5 m²", "", "Hộ “Nguyễn” — ½ ∑ \u4e00 \x01"]
    texts += ["".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(1, 40)))
              for _ in range(300)]  # fmt: skip
    for font in _FONTS:
        for size in (7.65, 8.5, 9.0, 11.0):
            for text in texts:
                assert _string_width(text, font, size) == stringWidth(text, font, size)
    assert _string_width("ab", "NtmSerif", 9.0) > _string_width("a", "NtmSerif", 9.0) > 0


def test_report_pdf_paragraph_drawn_again_writes_what_reportlab_writes():
    """A header cell drawn on every page: its operators are those of its first drawing,
    the same as a fresh Paragraph's at each place (and wrapped anew, drawn anew)."""
    import io

    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Paragraph

    from ntmgis._report_pdf import _para, _register_fonts, _styles

    _register_fonts()
    style = _styles()["head"]
    text = "Diện tích vườn (m²) cần cải tạo"
    cell = _para(text, style)
    canvas, fresh_canvas = Canvas(io.BytesIO()), Canvas(io.BytesIO())
    lines = 0
    for width, x, y in ((60, 10, 700), (60, 200, 300), (60, 10, 700), (120, 50, 50)):
        fresh = Paragraph(text, style)
        for para, canv in ((cell, canvas), (fresh, fresh_canvas)):
            para.wrap(width, 1000)
            para.drawOn(canv, x, y)
        lines += len(fresh.blPara.lines)
    assert canvas._code == fresh_canvas._code
    assert cell._drawn[1] == (120, cell.height)  # the last width's drawing kept
    assert " ".join(canvas._code).count(") Tj") == lines > 4  # every line of every drawing


def test_report_pdf_numbers_are_written_as_reportlab_writes_them():
    """The table's text origins and grid in the PDF: reportlab's ``fp_str`` digits."""
    import random

    from reportlab.lib.rl_accel import fp_str

    from ntmgis._report_pdf import _fp_one

    rng = random.Random(5)
    values = [0.0, 1e-7, 2e-7, -3e-7, 1.0, -1.0, 10.0, 100.0, 0.1, 1000.0, 841.8898, 595.2756]
    values += [rng.uniform(-1000, 1000) for _ in range(3000)]
    values += [rng.uniform(-2, 2) for _ in range(1000)] + [float(rng.randint(-900, 900))
                                                           for _ in range(500)]  # fmt: skip
    assert [_fp_one(v) for v in values] == [fp_str(v) for v in values]


def _members(path) -> dict:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


@pytest.mark.skipif(not can_defer_rows(), reason="openpyxl writes through lxml here")
def test_deferred_table_rows_write_the_workbook_openpyxl_writes(tmp_path, monkeypatch):
    """The table's rows written by _io.defer_row: every XML part as openpyxl's own cells."""
    import ntmgis.report
    from ntmgis.report import write_workbook

    deferred = []
    real = ntmgis.report.defer_row
    monkeypatch.setattr(
        ntmgis.report,
        "defer_row",
        lambda sheet, row, cells: deferred.append(row) or real(sheet, row, cells),
    )

    body = pd.DataFrame({"Thôn": ["Thôn A", " lề trái", "a & <b>", "=1+1", "", None],
                         "Số hộ": [0.0, 2.5, 1e17, float("nan"), -0.0, 123456789012],
                         "Ghi chú": ["-3", "\tx", "@me", "#N/A", "  ", "x\ny"]})  # fmt: skip
    appendix = pd.DataFrame({"Thôn": ["Thôn B"] * 3, "Tỷ lệ: đạt (%)": [12.5, None, 1 / 3],
                             "Tỷ lệ: kế hoạch (%)": [1, 2, 3]})  # fmt: skip
    tables = {"summary": body, "ranking": appendix}
    fast = write_workbook(tables, tmp_path / "fast.xlsx", run_id="r1")
    # a ``finish`` callback keeps every cell openpyxl's (the callback may read them)
    slow = write_workbook(tables, tmp_path / "slow.xlsx", run_id="r1", finish=lambda b: None)
    assert len(deferred) == 9  # 6 + 3 table rows, the cells of none of them openpyxl's
    a, b = _members(fast), _members(slow)
    assert list(a) == list(b)
    assert [n for n in a if a[n] != b[n]] == []
    sheet = openpyxl.load_workbook(fast)["Tổng hợp xã"]
    found = {c.value: c for row in sheet.iter_rows() for c in row if c.value is not None}
    assert found["=1+1"].data_type == "s" and found["=1+1"].quotePrefix
    assert found["a & <b>"].data_type == "s" and found[" lề trái"].value == " lề trái"
    assert found[123456789012].data_type == "n" and found[1e17].value == 1e17
    assert found["  "].data_type == "s" and found["#N/A"].data_type == "s"


def test_an_openpyxl_writing_through_lxml_gets_openpyxl_cells(tmp_path, monkeypatch):
    """openpyxl with lxml (Debian's, QGIS's) has no raw stream: rows are not deferred."""
    import ntmgis.report
    from ntmgis.report import write_workbook

    deferred = []
    monkeypatch.setattr(ntmgis.report, "defer_row", lambda *a: deferred.append(a))
    monkeypatch.setattr(openpyxl, "LXML", True)
    assert not can_defer_rows()
    table = pd.DataFrame({"Thôn": ["Thôn A", "=1+1"], "Số hộ": [3, 2.5]})
    path = write_workbook({"summary": table}, tmp_path / "lxml.xlsx", run_id="r1")
    assert deferred == []
    sheet = openpyxl.load_workbook(path)["Tổng hợp xã"]
    found = {c.value: c for row in sheet.iter_rows() for c in row if c.value is not None}
    assert found["Thôn A"].data_type == "s" and found[2.5].data_type == "n"
    assert found["=1+1"].data_type == "s" and found["=1+1"].quotePrefix


def test_write_csv_writes_what_pandas_to_csv_writes(tmp_path):
    """The CSV written without a DataFrame: byte for byte pandas' ``to_csv`` of the cells."""
    from ntmgis._io import csv_value, escape_text, write_csv

    table = pd.DataFrame({"Thôn": ['a "b", c', "dòng\r\nhai", None, "=1+1", " x ", ""],
                          "Số": [1.0, 2.5, float("nan"), 1 / 3, -0.0, 1e20],
                          "-cột": [pd.NA, 3, "x;y", "\t", "'", "ữ"]})  # fmt: skip
    for bom in (True, False):
        ours = write_csv(tmp_path / f"ours_{bom}.csv", table, bom=bom)
        rows = [[csv_value(v, whole_as_int=True) for v in row]
                for row in table.itertuples(index=False, name=None)]  # fmt: skip
        theirs = tmp_path / f"pandas_{bom}.csv"
        pd.DataFrame(rows, columns=[escape_text(c) for c in table.columns], dtype=object).to_csv(
            theirs, index=False, encoding="utf-8-sig" if bom else "utf-8", lineterminator="\r\n"
        )
        assert ours.read_bytes() == theirs.read_bytes()
    text = (tmp_path / "ours_False.csv").read_bytes().decode()
    assert text.startswith("Thôn,Số,'-cột\r\n") and '"a ""b"", c"' in text and "\r\n'=1+1," in text


def test_report_pdf_column_groups_give_their_spare_width_to_wrapped_text():
    """A table cut into column groups: each group fills the page with what its wrapped
    text lacks, the signature column first gets room to sign; no column gets more than
    its longest text on one line, and a table whose text already fits is left as it is."""
    pytest.importorskip("reportlab")
    from ntmgis._report_pdf import (
        _BODY,
        _SIGN_PT,
        _column_groups,
        _pdf_widths,
        _register_fonts,
        _string_width,
    )

    _register_fonts()
    reason = "khảo sát ghi vườn tạp. Ảnh: vườn có canh tác (điểm 0,01); NDVI trung vị 0,55 " * 3
    levels = [("STT", ""), ("Chủ hộ", ""), ("Thôn", ""), ("Căn cứ", ""), ("Hộ cam kết (ký)", "")]
    shown = [["1", "Nguyễn Thị An", "Thôn Bắc Hà", reason, ""],
             ["2", "Đỗ Quang Thảo", "Thôn Bắc Hà", "dọn vườn ngày 12/05", ""]]  # fmt: skip
    sheet = {"levels": levels, "shown": shown, "caps": [40] * 5, "keys": 1}
    natural = _pdf_widths(levels, shown, sheet["caps"], _BODY)
    frame_w = 500.0
    assert sum(natural) < frame_w  # one group, with room to spare
    pts, groups, size = _column_groups(sheet, frame_w)
    assert groups == [[0, 1, 2, 3, 4]] and size == _BODY
    assert pts[:3] == natural[:3]  # the one-line columns are not touched
    assert pts[4] == pytest.approx(_SIGN_PT)  # room to sign
    assert sum(pts) == pytest.approx(frame_w)  # the reason takes the rest of the page
    assert pts[3] < _string_width(reason, "NtmSerif", _BODY) + 6.0

    wide = _column_groups(sheet, 2000.0)[0]  # a page wider than every text on one line
    assert wide[3] == pytest.approx(_string_width(reason, "NtmSerif", _BODY) + 6.0)
    assert sum(wide) < 2000.0

    short = {**sheet, "shown": [r[:3] + ["dọn vườn", "x" * 20] for r in shown]}
    assert _column_groups(short, frame_w)[0] == _pdf_widths(levels, short["shown"],
                                                            sheet["caps"], _BODY)  # fmt: skip


def test_report_pdf_groups_of_a_signing_list_name_the_household_and_break_no_word(tmp_path):
    """A plan too wide for the page is cut into column groups that each carry the row's
    number and household head, so the household signs beside its name; a table
    that fits the page in slightly smaller text is measured and drawn in it (before, its
    columns were narrowed for the smaller text and drawn in the larger one: "HO0001"
    and "512,5" broke across lines)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    from ntmgis._report_pdf import _SMALL, _column_groups, _register_fonts, write_pdf
    from ntmgis.form import DocumentForm
    from ntmgis.report import _laid_out

    _register_fonts()
    basis = "khảo sát và ảnh vệ tinh cùng thấy hoang hóa; NDVI trung vị 0,36; 20 ảnh " * 2
    n = 40
    plan = pd.DataFrame({
        "STT": range(1, n + 1), "Thôn": "Thôn Bắc Hà", "Thứ tự trong thôn": range(1, n + 1),
        "Ưu tiên": "Ưu tiên 1: vườn hoang hóa", "Mã hộ": [f"HO{i:04d}" for i in range(n)],
        "Chủ hộ": "Nguyễn Văn An", "Số tờ": 7, "Số thửa": range(100, 100 + n),
        "Diện tích (m²)": 512.5, "Phân loại khảo sát": "Vườn hoang hóa",
        "Kết quả ảnh vệ tinh": "Vườn hoang hóa", "Nhu cầu hỗ trợ": "Cây giống, Vốn",
        "Căn cứ": basis, "Hộ cam kết (ký)": "",
    })  # fmt: skip
    summary = pd.DataFrame({"Nội dung": ["Xã"], "Giá trị": ["Xã Thanh Bình"]})
    sheets = _laid_out({"summary": summary, "plan": plan})
    names = list(plan.columns)
    frame_w = 841.89 - 32 * 72 / 25.4  # landscape A4 less the report's margins
    _, groups, size = _column_groups(sheets[1], frame_w)
    assert len(groups) == 2
    assert groups[0] == list(range(len(groups[0])))  # the first group in the table's order
    assert [names[i] for i in groups[1][:2]] == ["STT", "Chủ hộ"]
    assert names[groups[1][-1]] == "Hộ cam kết (ký)"
    form = DocumentForm.from_config(None, commune="Xã Thanh Bình")
    path = write_pdf(sheets, tmp_path / "plan.pdf", form=form, title="Kế hoạch")
    with pdfplumber.open(path) as doc:
        texts = [page.extract_text() for page in doc.pages]
    signing = [t for t in texts if "Hộ cam kết" in t]
    assert signing and all(t.count("Nguyễn Văn An") >= 5 for t in signing)

    # fewer columns: the whole table fits in the smaller text, one group, no word broken
    narrow = plan.drop(columns=["Căn cứ"])
    sheets = _laid_out({"summary": summary, "plan": narrow})
    pts, groups, size = _column_groups(sheets[1], frame_w)
    assert len(groups) == 1 and size == _SMALL and sum(pts) <= frame_w
    path = write_pdf(sheets, tmp_path / "narrow.pdf", form=form, title="Kế hoạch")
    with pdfplumber.open(path) as doc:
        words = {w["text"] for page in doc.pages for w in page.extract_words()}
    assert {f"HO{i:04d}" for i in range(n)} <= words and "512,5" in words
