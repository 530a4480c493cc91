"""Tests that print: the sample's reports converted by LibreOffice headless, pages measured.

One fixture runs ``ntmgis run --sample`` as a person runs it (a subprocess, the real
console entry point) and converts both campaigns' workbooks to PDF with LibreOffice
(``soffice --headless --convert-to pdf``); the tests then read the rendered pages with
pdfplumber: every character's size (pdfplumber's ``size`` includes the page scaling of
fit-to-page printing: checked on a control sheet printed at 50 %), words drawn over
other words, the administrative header on page 1, the page numbers, the Vietnamese
number formats. The one-file PDF the library writes itself (reportlab) gets the same
checks. ``make test`` installs LibreOffice (``libreoffice-calc-nogui``) when missing and
sets ``NTMGIS_REQUIRE_PRINT=1``, so there these tests run or fail, never skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pdfplumber = pytest.importorskip("pdfplumber")

ROOT = Path(__file__).resolve().parents[1]
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
if SOFFICE is None and os.environ.get("NTMGIS_REQUIRE_PRINT") != "1":
    pytest.skip("LibreOffice (soffice) is not installed: make test installs it",
                allow_module_level=True)  # fmt: skip

MIN_PT = 8.0
NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"


def to_pdf(workbooks: list[Path], outdir: Path) -> list[Path]:
    """Convert workbooks to PDF with LibreOffice headless, as an office prints them."""
    assert SOFFICE, "LibreOffice (soffice) is required: apt-get install libreoffice-calc-nogui"
    outdir.mkdir(parents=True, exist_ok=True)
    profile = outdir / "lo_profile"
    pdfs = []
    for book in workbooks:  # one call per file: same names in different folders
        target = outdir / book.parent.name
        target.mkdir(exist_ok=True)
        subprocess.run(
            [SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
             "--norestore", "--convert-to", "pdf", "--outdir", str(target), str(book)],
            check=True, capture_output=True, timeout=240,
            env={**os.environ, "HOME": str(outdir)},
        )  # fmt: skip
        pdf = target / (book.stem + ".pdf")
        assert pdf.is_file(), f"LibreOffice wrote no PDF for {book}"
        pdfs.append(pdf)
    return pdfs


def overlapping_words(page) -> list[tuple[str, str]]:
    """Pairs of words whose boxes overlap: text drawn over other text."""
    words = sorted(page.extract_words(use_text_flow=False), key=lambda w: w["top"])
    found = []
    for i, a in enumerate(words):
        for b in words[i + 1 :]:
            if b["top"] >= a["bottom"]:
                break
            ix = min(a["x1"], b["x1"]) - max(a["x0"], b["x0"])
            iy = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if ix > 1.0 and iy > 0.3 * min(a["bottom"] - a["top"], b["bottom"] - b["top"]):
                found.append((a["text"], b["text"]))
    return found


def small_text(page) -> list[tuple[str, float]]:
    return [(c["text"], round(c["size"], 2)) for c in page.chars
            if c["text"].strip() and c["size"] < MIN_PT]  # fmt: skip


@pytest.fixture(scope="module")
def printed(layers_dir, tmp_path_factory):
    """One ``ntmgis run --sample`` (both campaigns), its workbooks printed by LibreOffice."""
    out = tmp_path_factory.mktemp("print_run")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "vi_VN.UTF-8", "COLUMNS": "100"}
    env.pop("NTMGIS_LANG", None)
    run = subprocess.run(
        [sys.executable, "-m", "ntmgis", "--quiet", "run", "--sample", "--layers",
         str(layers_dir), "-o", str(out / "out")],
        capture_output=True, text=True, env=env, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    books = [out / "out" / "bao_cao_tien_do.xlsx",
             out / "out" / "theo_doi_2022" / "bao_cao_tien_do.xlsx"]  # fmt: skip
    pdfs = to_pdf(books, out / "pdf")
    return {
        "run": run,
        "out": out / "out",
        "books": books,
        "lo": dict(zip(("base", "follow"), pdfs)),
    }


def test_sizes_include_the_page_scaling(tmp_path):
    """pdfplumber's char size is the printed size: an 11 pt sheet at 50 % measures 5.5 pt."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    for i in range(1, 6):
        sheet.cell(row=i, column=1, value=f"Thôn số {i}").font = Font(
            name="Times New Roman", size=11
        )
    sheet.page_setup.scale = 50
    path = tmp_path / "control" / "half.xlsx"
    path.parent.mkdir()
    book.save(path)
    (pdf,) = to_pdf([path], tmp_path / "pdf")
    with pdfplumber.open(pdf) as doc:
        sizes = {round(c["size"], 1) for c in doc.pages[0].chars if c["text"].strip()}
    assert sizes == {5.5}


def test_the_overlap_check_finds_the_old_bug(tmp_path):
    """Wrapped cells left at the default row height print over the next rows: detected."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    book = Workbook()
    sheet = book.active
    sheet.column_dimensions["A"].width = 20
    reason = "Đất trống hoặc cỏ thưa quanh năm: NDVI cao nhất chỉ 0,31, không có lần làm đất nào"
    for i in range(1, 8):
        cell = sheet.cell(row=i, column=1, value=reason)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(row=i, column=2, value=f"Hộ {i}")
        sheet.row_dimensions[i].height = 15  # one line for four lines of text
    path = tmp_path / "control" / "overlap.xlsx"
    path.parent.mkdir()
    book.save(path)
    (pdf,) = to_pdf([path], tmp_path / "pdf")
    with pdfplumber.open(pdf) as doc:
        assert len(overlapping_words(doc.pages[0])) > 10


def test_cli_shows_one_clean_line_per_warning(printed):
    err = printed["run"].stderr.splitlines()
    warnings_shown = [line for line in err if line.startswith("Cảnh báo")]
    assert warnings_shown, printed["run"].stderr[-2000:]
    # no Python internals: no source file and line, no code line, no traceback
    assert not [line for line in err if ".py:" in line or line.startswith("  ")]
    assert "Traceback" not in printed["run"].stderr
    # each kind once (the unknown survey class of each campaign, the cloudy dates)
    assert len(warnings_shown) == len(set(warnings_shown))
    assert any("463" in line for line in warnings_shown)  # the 2020 survey's unknown class


@pytest.mark.parametrize("campaign", ["base", "follow"])
def test_every_printed_page_is_legible(printed, campaign):
    with pdfplumber.open(printed["lo"][campaign]) as doc:
        assert len(doc.pages) >= 5
        for number, page in enumerate(doc.pages, start=1):
            assert not small_text(page), f"page {number}: text under {MIN_PT} pt"
            assert not overlapping_words(page), f"page {number}: words drawn over words"
            text = page.extract_text() or ""
            assert f"Trang {number}/{len(doc.pages)}" in text, f"page {number}: no page number"


def test_first_page_carries_the_administrative_form(printed):
    with pdfplumber.open(printed["lo"]["follow"]) as doc:
        first = doc.pages[0].extract_text()
        everything = "\n".join(p.extract_text() or "" for p in doc.pages)
    lines = first.splitlines()
    # issuing body top left, national title top right, on the first line
    assert lines[0].startswith("UBND XÃ THANH BÌNH") and lines[0].endswith(NATIONAL_TITLE)
    assert MOTTO in lines[1]
    assert "Số:" in first and "/BC-UBND" in first
    assert "Thanh Bình, ngày" in first and " tháng " in first and " năm " in first
    assert "BÁO CÁO" in lines and any(line.startswith("Kết quả") for line in lines)
    assert "Nơi nhận:" in everything and "TM. ỦY BAN NHÂN DÂN" in everything
    assert "CHỦ TỊCH" in everything and "Phụ lục I" in everything
    # numbers print the Vietnamese way: 1.600 parcels, decimal comma
    assert "1.600" in first


def test_ranking_prints_on_one_legible_page(printed):
    with pdfplumber.open(printed["lo"]["follow"]) as doc:
        pages = [p for p in doc.pages if "XẾP HẠNG CÁC THÔN" in (p.extract_text() or "")]
        assert len(pages) == 1
        page = pages[0]
        sizes = [c["size"] for c in page.chars if c["text"].strip()]
        assert min(sizes) >= 9.5  # the 37-column table printed at 2.5 pt before
        text = page.extract_text()
    for hamlet in ("Thôn Đông Hòa", "Thôn Tân Lộc", "Thôn Bắc Hà", "Thôn Phú Mỹ",
                   "Thôn Yên Thịnh", "Thôn Trung Sơn"):  # fmt: skip
        assert hamlet in text
    assert "Tiến độ" in text and "Ưu tiên" in text


def test_library_pdf_is_legible_with_the_form(printed):
    pdf = printed["out"] / "theo_doi_2022" / "bao_cao_tien_do.pdf"
    with pdfplumber.open(pdf) as doc:
        first = doc.pages[0].extract_text()
        assert NATIONAL_TITLE in first and MOTTO in first and "UBND XÃ THANH BÌNH" in first
        assert "BÁO CÁO" in first
        for number, page in enumerate(doc.pages, start=1):
            assert not small_text(page), f"page {number}: text under {MIN_PT} pt"
            assert not overlapping_words(page), f"page {number}: words drawn over words"
            assert f"Trang {number}/{len(doc.pages)}" in (page.extract_text() or "")
        fonts = {c["fontname"] for c in doc.pages[0].chars}
    assert all("DejaVuSerif" in f for f in fonts)  # embedded, Vietnamese-capable


def _pdf_text(path) -> str:
    with pdfplumber.open(path) as doc:
        return "\n".join(p.extract_text() or "" for p in doc.pages)


def test_transitions_appendix_prints_the_follow_up_changes(printed):
    """Issue 21: the 2022 follow-up prints its transitions; the 2020 baseline says why not."""
    from ntmgis.progress import compare_campaigns

    out = printed["out"]
    base, follow = out / "thanh_binh.gpkg", out / "theo_doi_2022" / "thanh_binh_2022.gpkg"
    c = compare_campaigns(base, follow)
    changed = c[c["survey_changed"] | c["flag_changed"] | c["renovation"].isin(
        ("xac_nhan", "anh_chua_thay", "khong_du_lieu", "anh_thay_chua_bao_cao"))
        | c["presence"].ne("ca_hai_dot")]  # fmt: skip
    assert len(changed) > 100  # the sample's follow-up renovated many gardens
    title = "BIẾN ĐỘNG GIỮA HAI ĐỢT KHẢO SÁT"
    summary = (out / "theo_doi_2022" / "bao_cao_tien_do_tong_hop_xa.csv").read_text("utf-8-sig")
    assert f"Thửa biến động giữa hai đợt khảo sát,{len(changed)},thửa," in summary
    # one confirmed renovation of the sample, as both PDFs print it (hamlet, owner, classes)
    row = changed[(changed["survey_class_before"] == "hoang_hoa")
                  & (changed["renovation"] == "xac_nhan")].iloc[0]  # fmt: skip
    for pdf in (printed["lo"]["follow"], out / "theo_doi_2022" / "bao_cao_tien_do.pdf"):
        text = _pdf_text(pdf)
        appendix = text[text.index(title) :]
        assert str(row["household"]) in appendix and str(row["owner"]) in appendix
        assert "Vườn hoang hóa" in appendix and "Ảnh xác nhận đã đưa vào" in appendix
        assert "(không có)" not in appendix.split("Phụ lục")[0]
    # the baseline campaign: no empty appendix, the summary's sentence instead
    for pdf in (printed["lo"]["base"], out / "bao_cao_tien_do.pdf"):
        text = _pdf_text(pdf)
        assert title not in text
        assert "Chưa có đợt khảo sát trước để so sánh" in text


@pytest.mark.parametrize("campaign", ["base", "follow"])
def test_every_output_names_the_run_that_made_it(printed, campaign):
    """Issue 21: the run id of run_metadata in the report's and the maps' PDF and the XLSX."""
    import openpyxl

    from ntmgis.result import as_result

    folder = printed["out"] if campaign == "base" else printed["out"] / "theo_doi_2022"
    (gpkg,) = folder.glob("thanh_binh*.gpkg")
    run_id = as_result(gpkg).metadata["run_id"]
    assert len(run_id) > 10
    for pdf in (folder / "bao_cao_tien_do.pdf", folder / "ban_do_xa_thanh_binh_flag.pdf"):
        with pdfplumber.open(pdf) as doc:
            assert doc.metadata["Keywords"] == run_id, pdf.name
            assert doc.metadata["Subject"] == f"ntmgis run {run_id}", pdf.name
    book = openpyxl.load_workbook(folder / "bao_cao_tien_do.xlsx", read_only=True)
    assert book.properties.identifier == run_id


def test_a_workbook_saved_again_by_libreoffice_keeps_its_formulas_values(tmp_path):
    """The advice the reader gives for formula cells without values works: LibreOffice
    computes and stores them, and the reader takes them without a word."""
    import warnings

    from _foreign import formula_targets

    from ntmgis.errors import ProgressWarning
    from ntmgis.progress import read_targets

    assert SOFFICE, "LibreOffice (soffice) is required: apt-get install libreoffice-calc-nogui"
    path = formula_targets(tmp_path / "chi_tieu.xlsx")
    with pytest.warns(ProgressWarning, match=r"2 .*\(B2, C3\)"):
        read_targets(path)
    out = tmp_path / "saved"
    subprocess.run(
        [SOFFICE, f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless",
         "--norestore", "--convert-to", "xlsx", "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=240, env={**os.environ, "HOME": str(tmp_path)},
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", ProgressWarning)
        table = read_targets(out / "chi_tieu.xlsx").set_index("hamlet")
    assert table.loc["Thôn 1", "so_vuon_mau"] == 3
    assert table.loc["Thôn 2", "ty_le_dat_chuan"] == 35
