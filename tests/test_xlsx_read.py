"""The XLSX reader's cells against openpyxl's own ``iter_rows`` on the same sheets.

``ntmgis._io._sheet_rows`` reads a sheet's XML without an openpyxl cell per cell; what
it gives must be what openpyxl gives (values with ``data_only``, number formats, the
rows and their widths), on workbooks openpyxl writes and on sheet XML as other programs
write it (no dimension, a wrong dimension, cells without references, inline and rich
strings, error and ISO-date cells, the 1904 calendar).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import zipfile

import openpyxl
import pytest

from ntmgis import _io
from ntmgis.errors import InputError

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


SHARED = (
    f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{NS}" count="2" uniqueCount="2">'
    "<si><t>Thôn 1</t></si><si><r><t>Vườn </t></r><r><t>tạp</t></r></si></sst>"
)
SHARED_REL = (
    b'<Relationship Id="rId99" Target="sharedStrings.xml" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
)
SHARED_TYPE = (
    b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
)


def _openpyxl_rows(worksheet):
    """What the reader gave before: openpyxl's cells, value and number format each.

    Cut to the last column holding a value, as the reader cuts them (openpyxl pads every
    row to the sheet's stated dimension, or to a styled empty cell far to the right).
    """
    rows, formats = [], []
    for row in worksheet.iter_rows():
        rows.append([unicodedata.normalize("NFC", c.value) if isinstance(c.value, str)
                     else c.value for c in row])  # fmt: skip
        formats.append([getattr(c, "number_format", None) for c in row])
    used = max((j + 1 for r in rows for j, v in enumerate(r) if v is not None), default=0)
    return [r[:used] for r in rows], [f[:used] for f in formats]


def _both(path, sheet=0):
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[book.sheetnames[sheet]]
        return _io._sheet_rows(ws), _openpyxl_rows(ws)
    finally:
        book.close()


def _with_sheet_xml(tmp_path, body: str, *, dimension: str | None = None, name="s.xlsx",
                    date1904=False):  # fmt: skip
    """A workbook whose first sheet's XML is ``body`` (the ``sheetData`` content).

    Its shared strings, as Excel writes them (openpyxl writes inline strings): "Thôn 1"
    (index 0) and "Vườn tạp" (1).
    """
    book = openpyxl.Workbook()
    book.active["A1"] = 0
    if date1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    first = tmp_path / "first.xlsx"
    book.save(first)
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    xml = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{NS}">{dim}'
           f"<sheetData>{body}</sheetData></worksheet>")  # fmt: skip
    out = tmp_path / name
    with zipfile.ZipFile(first) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = xml.encode()
            elif item.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b"</Relationships>", SHARED_REL + b"</Relationships>")
            elif item.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", SHARED_TYPE + b"</Types>")
            dst.writestr(item, data)
        dst.writestr("xl/sharedStrings.xml", SHARED.encode())
    return out


def test_a_workbook_openpyxl_writes_reads_as_openpyxl_reads_it(tmp_path):
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    book = openpyxl.Workbook()
    ws = book.active
    nfd = unicodedata.normalize("NFD", "Xóm Đông")
    ws.append(["Số tờ", "Số thửa", "Thôn", "Loại vườn", "Ngày khảo sát", "Tỷ lệ", "Có"])
    ws.append([12, 345, nfd, "vườn tạp", dt.datetime(2020, 2, 15), 0.25, True])
    ws.append([12, 346.5, "Thôn 2", None, dt.date(2020, 2, 16), 0.5, False])
    ws["F2"].number_format = ws["F3"].number_format = "0%"
    ws["H4"] = dt.time(7, 30)
    ws["I4"] = dt.timedelta(hours=30)
    ws["I4"].number_format = "[h]:mm"
    ws["B5"] = "=SUM(B2:B3)"  # no cached value: None, as openpyxl reads it
    ws["C6"] = CellRichText(["Thôn ", TextBlock(InlineFont(b=True), "Bắc")])
    ws["D7"] = 1.5e-7
    ws["A9"] = "=cuối"
    path = tmp_path / "survey.xlsx"
    book.save(path)
    (rows, formats), expected = _both(path)
    assert (rows, formats) == expected
    assert len(rows) == 9 and all(len(r) == 9 for r in rows)  # the dimension A1:I9
    assert rows[1][:7] == [12, 345, "Xóm Đông", "vườn tạp", dt.datetime(2020, 2, 15), 0.25, True]
    assert rows[1][2] == unicodedata.normalize("NFC", "Xóm Đông")
    assert formats[1][5] == "0%" and formats[1][0] == "General"
    assert rows[2][4] == dt.datetime(2020, 2, 16) and rows[2][1] == 346.5
    assert rows[3][7] == dt.time(7, 30) and rows[3][8] == dt.timedelta(hours=30)
    assert rows[4][1] is None and rows[5][2] == "Thôn Bắc" and rows[6][3] == 1.5e-7
    assert rows[7] == [None] * 9 and formats[7] == [None] * 9  # a row the sheet left out


@pytest.mark.parametrize(
    ("body", "dimension", "expected_rows"),
    [
        # no dimension: each row as wide as its last cell; a missing row is empty
        (
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1"><v>7</v></c></row>'
            '<row r="3"><c r="B3" t="s"><v>1</v></c></row>',
            None,
            [["Thôn 1", None, 7], [], [None, "Vườn tạp"]],
        ),
        # cells and rows without references: counted on
        (
            '<row><c><v>1</v></c><c t="b"><v>1</v></c><c t="str"><v>ok</v></c></row>'
            '<row><c t="e"><v>#N/A</v></c></row>',
            None,
            [[1, True, "ok"], ["#N/A"]],
        ),
        # a dimension smaller than the data: openpyxl cuts the sheet to it
        (
            '<row r="1"><c r="A1"><v>1</v></c><c r="B1"><v>2</v></c><c r="C1"><v>3</v></c></row>'
            '<row r="2"><c r="A2"><v>4</v></c></row><row r="3"><c r="A3"><v>5</v></c></row>',
            "A1:B2",
            [[1, 2], [4, None]],
        ),
        # a dimension larger than the data: padded to the last column with a value
        # (openpyxl pads across to the dimension's D), not down
        (
            '<row r="2"><c r="B2"><v>2.5</v></c></row>',
            "A1:D5",
            [[None] * 2, [None, 2.5]],
        ),
        # rows out of order and repeated: openpyxl keeps the first of each
        (
            '<row r="2"><c r="A2"><v>2</v></c></row><row r="1"><c r="A1"><v>1</v></c></row>'
            '<row r="3.0"><c r="A3"><v>3</v></c></row>',
            None,
            [[], [2], [3]],
        ),
        # inline strings: plain, runs (phonetic runs left out), empty
        (
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Xóm 3</t></is></c>'
            '<c r="B1" t="inlineStr"><is><r><t>Ấp </t></r><r><rPr><b/></rPr><t>Mới</t></r>'
            '<rPh sb="0" eb="1"><t>x</t></rPh></is></c>'
            '<c r="C1" t="inlineStr"><is><t/></is></c><c r="D1" t="inlineStr"/></row>',
            None,
            [["Xóm 3", "Ấp Mới", ""]],
        ),
        # ISO dates, numbers in exponent form, an empty value
        (
            '<row r="1"><c r="A1" t="d"><v>2020-02-15T00:00:00</v></c><c r="B1"><v>1E3</v></c>'
            '<c r="C1"><v></v></c><c r="D1"><v>-4</v></c></row>',
            None,
            [[dt.datetime(2020, 2, 15), 1000.0, None, -4]],
        ),
    ],
)
def test_sheet_xml_as_other_programs_write_it(tmp_path, body, dimension, expected_rows):
    path = _with_sheet_xml(tmp_path, body, dimension=dimension)
    (rows, formats), openpyxl_says = _both(path)
    assert (rows, formats) == openpyxl_says
    assert rows == expected_rows


def test_a_styled_empty_cell_far_right_does_not_widen_every_row(tmp_path):
    from openpyxl.styles import Font

    book = openpyxl.Workbook()
    ws = book.active
    for i in range(1, 301):
        ws.append([i, f"HO{i:04d}", "Vườn tạp"])
    ws["XFD1"].font = Font(bold=True)  # a stray format, no value: openpyxl pads to it
    path = tmp_path / "wide.xlsx"
    book.save(path)
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book[book.sheetnames[0]]
        assert ws.max_column == 16384  # what openpyxl's rows would be as wide as
        rows, formats = _io._sheet_rows(ws)
    finally:
        book.close()
    assert len(rows) == 300 and {len(r) for r in rows} == {3} and {len(f) for f in formats} == {3}
    assert rows[0] == [1, "HO0001", "Vườn tạp"] and rows[-1][0] == 300


def test_the_1904_calendar(tmp_path):
    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    book.active["A1"] = dt.datetime(2020, 2, 15)
    path = tmp_path / "mac.xlsx"
    book.save(path)
    with zipfile.ZipFile(path) as z:  # counted from 1904: 43876 - 1462 days
        assert b"<v>42414</v>" in z.read("xl/worksheets/sheet1.xml")
    (rows, _), openpyxl_says = _both(path)
    assert rows == [[dt.datetime(2020, 2, 15)]] == openpyxl_says[0]


def test_a_shared_string_or_style_the_workbook_lacks_is_a_damaged_sheet(tmp_path):
    for body in ('<row r="1"><c r="A1" t="s"><v>99</v></c></row>',
                 '<row r="1"><c r="A1" s="40"><v>1</v></c></row>'):  # fmt: skip
        path = _with_sheet_xml(tmp_path, body, name="damaged.xlsx")
        with pytest.raises(InputError, match="damaged.xlsx") as info:
            _io.read_grid(path, what="survey file")
        assert "cell A1 refers to a shared string or a style" in str(info.value)


@pytest.mark.parametrize(
    ("body", "said"),
    [('<row r="999999999"><c r="A999999999"><v>1</v></c></row>', "row number 999999999"),
     ('<row r="1"><c r="XFE1"><v>1</v></c></row>', "cell XFE1 is beyond"),
     ('<row r="0"><c><v>1</v></c></row>', "row number 0")],
)  # fmt: skip
def test_a_row_or_column_beyond_excels_is_a_damaged_sheet_not_a_billion_rows(tmp_path, body, said):
    path = _with_sheet_xml(tmp_path, body, name="far.xlsx")  # no dimension: nothing caps it
    with pytest.raises(InputError, match="far.xlsx") as info:
        _io.read_grid(path, what="survey file")
    assert said in str(info.value)


def test_a_workbook_openpyxl_cannot_load_is_said_not_a_traceback(tmp_path):
    """openpyxl fails on some valid workbooks in its own ways (an empty chart sheet:
    AttributeError); the survey reader says the file, never a raw traceback."""
    book = openpyxl.Workbook()
    book.create_chartsheet("Biểu đồ", 0)
    book["Sheet"].append(["Số tờ", "Số thửa", "Phân loại vườn"])
    path = tmp_path / "co_bieu_do.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="co_bieu_do.xlsx"):
        _io.read_grid(path, what="survey file")
