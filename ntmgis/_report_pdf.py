"""The report as one PDF (reportlab, DejaVu Serif embedded): for offices that print PDFs.

The same tables as the workbook (:mod:`ntmgis.report`), in the same administrative
form: the first page carries the heading of Nghị định 30/2020/NĐ-CP, the body table, "Nơi
nhận" and the signer block; each further table is an appendix with its header repeated on
every page. A table too wide for A4 landscape at 8 pt is cut into column groups, each
repeating the key columns (rank, hamlet). "Trang 1/7" at the foot of every page.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
from pathlib import Path

logger = logging.getLogger(__name__)

_BODY = 9.0
_SMALL = 8.5  # the smallest text in the PDF
_FONTS = {
    "NtmSerif": "DejaVuSerif.ttf",
    "NtmSerif-Bold": "DejaVuSerif-Bold.ttf",
    "NtmSerif-Italic": "DejaVuSerif-Italic.ttf",
    "NtmSerif-BoldItalic": "DejaVuSerif-BoldItalic.ttf",
}


def _register_fonts() -> None:
    import importlib.util

    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if "NtmSerif" in pdfmetrics.getRegisteredFontNames():
        return
    # matplotlib's DejaVu fonts, found without importing matplotlib (half a second when
    # the maps did not import it already): a wheel's ``get_data_path()`` is this folder;
    # a distribution's matplotlib (Debian's, under QGIS) keeps mpl-data elsewhere
    package = importlib.util.find_spec("matplotlib").submodule_search_locations[0]
    folder = Path(package) / "mpl-data" / "fonts" / "ttf"
    if not all((folder / file).is_file() for file in _FONTS.values()):
        import matplotlib

        folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    for name, file in _FONTS.items():
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    addMapping("NtmSerif", 0, 0, "NtmSerif")
    addMapping("NtmSerif", 1, 0, "NtmSerif-Bold")
    addMapping("NtmSerif", 0, 1, "NtmSerif-Italic")
    addMapping("NtmSerif", 1, 1, "NtmSerif-BoldItalic")


def _esc(text) -> str:
    from xml.sax.saxutils import escape

    return escape("" if text is None else str(text))


@functools.lru_cache(maxsize=65536)
def _string_width(text: str, font: str, size: float) -> float:
    """reportlab's ``stringWidth`` of a text, remembered: hamlet names, statuses and
    words recur in thousands of cells."""
    face = _face(font)
    # reportlab's ``stringWidth`` of a TrueType font, the same sum in the same order
    get, default = face.charWidths.get, face.defaultWidth
    return 0.001 * size * sum([get(code, default) for code in map(ord, text)])


@functools.lru_cache(maxsize=16)
def _face(font: str):
    from reportlab.pdfbase.pdfmetrics import getFont

    return getFont(font).face


@functools.lru_cache(maxsize=65536)
def _text_need(text: str, size: float) -> tuple[float, float]:
    """(widest word, whole text) of a body cell's text, in pt."""
    words = max((_string_width(w, "NtmSerif", size) for w in text.split()), default=0)
    return words, _string_width(text, "NtmSerif", size)


#: the width a column people sign in ("Hộ cam kết (ký)") is given when the page has room
_SIGN_PT = 80.0  # pt, about 28 mm


def _pdf_widths(levels, shown, caps, size, wants: list | None = None) -> list[float]:
    """Column widths (pt) from the real DejaVu Serif metrics: no word is ever broken.

    ``wants``, when given, receives each column's width with its longest text on one
    line (what a column capped at ``caps`` would take, were the page wide enough).
    """
    stringWidth = _string_width  # noqa: N806 - reportlab's name

    pad = 6.0
    widths = []
    for j in range(len(levels)):
        need = want = 0.0
        cap = caps[j] * size * 0.55
        for row in shown:
            text = row[j]
            if not text:
                continue
            words, whole = _text_need(text, size)
            need = max(need, words, min(whole, cap))
            want = max(want, whole)
        group, sub = levels[j]
        label = sub or group
        if wants is not None:
            wants.append(max(want + pad, _SIGN_PT if label.endswith("(ký)") else 0.0))
        whole = stringWidth(label, "NtmSerif-Bold", size)
        words = max((stringWidth(w, "NtmSerif-Bold", size) for w in label.split()), default=0)
        need = max(need, words, whole if whole <= 50 else min(whole / 3, 90))
        widths.append(need + pad)
    return widths


def _styles() -> dict:
    """The paragraph styles of the report (DejaVu Serif, NĐ 30/2020 sizes)."""
    from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    def style(name, size=_BODY, bold=False, italic=False, align=TA_LEFT, leading=None):
        font = "NtmSerif" + ("-BoldItalic" if bold and italic else "-Bold" if bold else
                             "-Italic" if italic else "")  # fmt: skip
        return ParagraphStyle(name, fontName=font, fontSize=size, alignment=align,
                              leading=leading or size * 1.25)  # fmt: skip

    return {
        "cell": style("cell"),
        "num": style("num", align=TA_RIGHT),
        "head": style("head", bold=True, align=TA_CENTER),
        # a table that fits the page in slightly smaller text (_column_groups)
        "cell_small": style("cell_small", _SMALL),
        "num_small": style("num_small", _SMALL, align=TA_RIGHT),
        "head_small": style("head_small", _SMALL, bold=True, align=TA_CENTER),
        "h": style("h", 11, bold=True, align=TA_CENTER),
        "hp": style("hp", 11, align=TA_CENTER),
        "hi": style("hi", 11, italic=True, align=TA_CENTER),
        "title": style("t", 14, bold=True, align=TA_CENTER, leading=18),
        "left_i": style("li", 10, italic=True),
        "rec_h": style("rh", 10, bold=True, italic=True),
        "rec": style("r", _SMALL),
        "ib": style("ib", 10, bold=True),
    }


def _para(text, st):
    return _paragraph_class()(_esc(text), st)


#: what reportlab's Paragraph.wrap sets on the paragraph
_WRAP_STATE = ("width", "height", "blPara", "_wrapWidths")


@functools.cache
def _paragraph_class():
    """reportlab's Paragraph that remembers its last wrap and what it drew.

    A long table is split across pages row group by row group, and reportlab wraps every
    remaining cell again at each split: with the same width the lines are the same, so
    the last wrap is kept (the lines, width and height it set stay those of that width).
    The header cells repeated on each page are drawn from the operators of their first
    drawing.
    """
    from reportlab.platypus import Paragraph

    class _Paragraph(Paragraph):
        def wrap(self, availWidth, availHeight):  # noqa: N803 - reportlab's names
            last = self.__dict__.get("_last_wrap")
            if last is not None and last[0] == availWidth:
                # put back what the wrap set (some reportlab versions drop blPara after
                # drawing a cell)
                self.__dict__.update(last[2])
                return last[1]
            size = super().wrap(availWidth, availHeight)
            kept = {k: self.__dict__[k] for k in _WRAP_STATE if k in self.__dict__}
            self._last_wrap = (availWidth, size, kept)
            return size

        def draw(self):
            # a table's header cells are drawn again on every page, at the origin the
            # table's drawOn translated to: the same wrap draws the same PDF operators
            # (balanced q/Q: the canvas's state is as before), written once a document
            canv = self.canv
            drawn = self.__dict__.get("_drawn")
            if drawn is not None and drawn[0] is canv and drawn[1] == (self.width, self.height):
                canv._code.extend(drawn[2])
                return
            start = len(canv._code)
            super().draw()
            self._drawn = (canv, (self.width, self.height), canv._code[start:])

    return _Paragraph


def _heading_block(form, st: dict, frame_w: float):
    """Issuing body and number left, national title, motto, place and date right."""
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle

    from .form import MOTTO, NATIONAL_TITLE

    left = [_para(form.parent_body, st["hp"])] if form.parent_body else []
    left += [_para(form.issuing_body, st["h"]), _para(form.number_line, st["hp"])]
    right = [_para(NATIONAL_TITLE, st["h"]), _para(MOTTO, st["h"]),
             _para(form.place_date, st["hi"])]  # fmt: skip
    while len(left) < len(right):
        left.insert(-1, _para("", st["hp"]))
    t = Table([[a, b] for a, b in zip(left, right)], colWidths=[frame_w * 0.42, frame_w * 0.58])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("LINEBELOW", (1, 1), (1, 1), 0.6, colors.black)]))  # fmt: skip
    return t


def _column_groups(sheet: dict, frame_w: float) -> tuple[list[float], list[list[int]], float]:
    """Column widths (pt), the column groups a table too wide for the page is cut into,
    and the size of its text: :data:`_SMALL` when the table fits the page in it, whole.

    The widths are those of the text at that size (measured at it: no word broken).
    """
    levels = sheet["levels"]
    n = len(levels)
    wants: list[float] = []
    pts = _pdf_widths(levels, sheet["shown"], sheet["caps"], _BODY, wants)
    keys = _repeated(sheet, n)
    groups = [list(range(n))]
    if sum(pts) > frame_w:
        small = _pdf_widths(levels, sheet["shown"], sheet["caps"], _SMALL)
        if sum(small) <= frame_w:
            return small, groups, _SMALL  # slightly smaller text still fits
        groups, current = [], []
        for j in (j for j in range(n) if j not in keys):
            if current and sum(pts[i] for i in keys + current + [j]) > frame_w:
                groups.append(sorted(keys + current))
                current = []
            current.append(j)
        groups.append(sorted(keys + current))
    for cols in groups:
        _widen(pts, wants, [j for j in cols if j not in keys],
               frame_w - sum(pts[j] for j in cols))  # fmt: skip
    return pts, groups, _BODY


def _repeated(sheet: dict, n: int) -> list[int]:
    """The columns printed in every column group: the row's key, and the ``repeat`` named.

    ``keys``: how many leading columns identify a row (those the workbook repeats on
    each printed page); ``repeat``: further headers to repeat (a plan's household head,
    so that each group of the signing list names who signs), where the table has them.
    """
    keys = list(range(min(sheet["keys"], n - 1)))
    names = [sub or group for group, sub in sheet["levels"]]
    extra = [names.index(h) for h in sheet.get("repeat", ()) if h in names]
    return sorted(set(keys + extra))[: max(n - 1, 0)]


def _widen(pts: list, wants: list, cols: list, spare: float) -> None:
    """Give a column group's spare page width to its wrapped text columns, in place.

    The spare width is shared out evenly, a column never getting more than it lacks to
    hold its longest text on one line (what one does not need goes to the others): a
    column that lacks little (a signature's) gets it all, the long texts share the rest.
    Fewer lines per row, fewer pages: a plan's "Căn cứ" took five lines in a third of a
    landscape page.

    >>> pts = [30.0, 100.0, 50.0, 40.0]
    >>> _widen(pts, [30.0, 400.0, 50.0, 80.0], [1, 2, 3], 150.0)
    >>> pts  # the last column lacked 40 pt and got them; the second got the other 110
    [30.0, 210.0, 50.0, 80.0]
    >>> _widen(pts, [30.0, 300.0, 90.0, 80.0], [1, 2, 3], 500.0)  # more than they lack
    >>> pts
    [30.0, 300.0, 90.0, 80.0]
    """
    lack = sorted((wants[j] - pts[j], j) for j in cols if wants[j] > pts[j] + 0.5)
    for k, (short, j) in enumerate(lack):
        if spare <= 0.5:
            return
        give = min(short, spare / (len(lack) - k))
        pts[j] += give
        spare -= give


def _header_spans(levels, cols) -> list:
    """SPAN commands of a two-row header: single columns down, groups across."""
    spans = []
    for c, i in enumerate(cols):
        if not levels[i][1]:
            spans.append(("SPAN", (c, 0), (c, 1)))
    c = 0
    while c < len(cols):
        group, sub = levels[cols[c]]
        k = c
        while sub and k + 1 < len(cols) and levels[cols[k + 1]] [0] == group and \
                levels[cols[k + 1]][1]:  # fmt: skip
            k += 1
        if k > c:
            spans.append(("SPAN", (c, 0), (k, 0)))
        c = k + 1
    return spans


#: left and right padding of a table cell (pt)
_PAD = 2.5


_FP_FORMATS = ("%.0f", "%.1f", "%.2f", "%.3f", "%.4f", "%.5f", "%.6f")
_LOG_10 = math.log(10.0)


@functools.lru_cache(maxsize=65536)
def _fp_one(value: float) -> str:
    """One number as reportlab's ``fp_str`` writes it into the PDF (the same digits).

    Remembered: a table's lines and text origins reuse a few hundred column and row
    positions.

    >>> [_fp_one(v) for v in (0.0, 0.5, -0.25, 12.0, 841.8898, 1e-9)]
    ['0', '.5', '-0.25', '12', '841.8898', '0']
    """
    size = abs(value)
    if size <= 1e-7:
        return "0"
    digits = 6 if size <= 1 else min(max(0, 6 - int(math.log(size) / _LOG_10)), 6)
    text = _FP_FORMATS[digits] % value
    if digits:
        text = text.rstrip("0")
        if text.endswith("."):
            text = text[:-1]
    return text if text[0] != "0" or len(text) == 1 else text[1:]


def _text_object(canv, texts) -> str:
    """One PDF text object of plain text lines: (font, size, leading, x, y, line) each.

    The bytes ``drawString`` writes for a line (its font subsets, escaped), each distinct
    (font, line) encoded once per document; a font operator only where it changes.
    """
    from reportlab.pdfbase.pdfmetrics import getFont

    fp = _fp_one
    doc = canv._doc
    memo = canv.__dict__.setdefault("_ntm_chunks", {})
    code = ["BT"]
    current = None
    for font, fsize, leading, x, y, line in texts:
        chunks = memo.get((font, line))
        if chunks is None:
            face = getFont(font)
            chunks = memo[(font, line)] = [
                (face.getSubsetInternalName(subset, doc), canv._escape(part))
                for subset, part in face.splitString(line, doc)
            ]
        code.append(f"1 0 0 1 {fp(x)} {fp(y)} Tm")
        for name, part in chunks:
            if current != (name, fsize, leading):
                current = (name, fsize, leading)
                code.append(f"{name} {fp(fsize)} Tf {fp(leading)} TL")
            code.append(f"({part}) Tj")
    code.append("ET")
    return " ".join(code)


@functools.cache
def _table_class():
    """reportlab's Table, its plain text cells and grid drawn in bulk.

    What reportlab draws for a text cell (``drawString``/``drawRightString``: one text
    object, the text's bytes in the font subsets) is written here as one text object per
    run of text cells, each distinct (font, line) encoded once per document; the grid's
    segments (the same ones, span gaps included) as one path per stroke state. The page
    looks the same; ~20,000 cells a commune cost a fraction of the time.
    """
    from reportlab.platypus import Table

    fp = _fp_one

    class _TextTable(Table):
        def draw(self):
            self._texts = []
            self._segments = []
            try:
                super().draw()
            finally:
                self._flush_text()
                del self._texts, self._segments

        def _calc_height(self, availHeight, availWidth, H=None, W=None):  # noqa: N803
            # reportlab measures the rows again at each wrap and split of a long table:
            # the rows measured are kept as given heights (the rest stays None)
            super()._calc_height(availHeight, availWidth, H=H, W=W)
            self._argH = list(self._rowHeights)

        def _drawCell(self, cellval, cellstyle, pos, size):  # noqa: N802 - reportlab's
            if (type(cellval) is not str or cellstyle.valign != "TOP" or cellstyle.href
                    or cellstyle.destination or cellstyle.direction or cellstyle.shaping
                    or cellstyle.alignment not in ("LEFT", "RIGHT")):  # fmt: skip
                self._flush_text()
                return super()._drawCell(cellval, cellstyle, pos, size)
            if self._curcellstyle is not cellstyle:  # what reportlab sets, when it changes
                cur, canv = self._curcellstyle, self.canv
                color = cur is None or cellstyle.color != cur.color
                font = (cur is None or cellstyle.leading != cur.leading
                        or cellstyle.fontname != cur.fontname
                        or cellstyle.fontsize != cur.fontsize)  # fmt: skip
                if color or font:
                    self._flush_text()  # the texts so far in the state they were set in
                if color:
                    canv.setFillColor(cellstyle.color)
                if font:
                    canv.setFont(cellstyle.fontname, cellstyle.fontsize, cellstyle.leading)
                self._curcellstyle = cellstyle
            if not cellval:
                return None
            font, fsize, leading = cellstyle.fontname, cellstyle.fontsize, cellstyle.leading
            y = pos[1] + size[1] - cellstyle.topPadding - fsize
            right = cellstyle.alignment == "RIGHT"
            x = pos[0] + (size[0] - cellstyle.rightPadding if right else cellstyle.leftPadding)
            for line in cellval.split("\n"):
                if line:
                    dx = _string_width(line, font, fsize) if right else 0.0
                    self._texts.append((font, fsize, leading, x - dx, y, line))
                y -= leading
            return None

        def _flush_text(self):
            if self._texts:
                self.canv._code.append(_text_object(self.canv, self._texts))
                self._texts.clear()

        def _drawLines(self):  # noqa: N802 - reportlab's name
            if self._roundingRectDef:
                return super()._drawLines()
            canv = self.canv
            segments = self._segments
            restore = canv.restoreState

            def collect(x1, y1, x2, y2):
                segments.append(f"{fp(x1)} {fp(y1)} m {fp(x2)} {fp(y2)} l")

            def restore_state():
                self._flush_lines()
                restore()

            canv.line, canv.restoreState = collect, restore_state
            try:
                super()._drawLines()
            finally:
                del canv.line, canv.restoreState
            return None

        def _prepLine(self, weight, color):  # noqa: N802 - reportlab's name
            self._flush_lines()
            super()._prepLine(weight, color)

        def _flush_lines(self):
            segments = getattr(self, "_segments", None)
            if segments:
                self.canv._code.append("n " + " ".join(segments) + " S")
                segments.clear()

    return _TextTable


def _plain_lines(text: str, style, avail: float, memo: dict):
    """The lines reportlab's Paragraph would break a plain text into, joined by newlines.

    A table draws a text cell of lines (one ``drawString`` a line, its height the lines
    times the leading) at the same place as a Paragraph of the same lines
    (``paraFontSizeHeightOffset``: the first baseline one font size under the cell's
    top): each distinct (text, style, width) is broken once, and the ~20,000 cells of a
    commune's appendix are neither parsed as markup nor drawn as paragraphs. ``None``
    when only a Paragraph can draw the text (empty, no-break spaces, a word split, a
    line whose spaces are shrunk to fit).
    """
    key = (text, style.name, avail)
    if key in memo:
        return memo[key]
    words = text.split()
    lines = None
    if words and "\xa0" not in text:
        one = " ".join(words)
        if _string_width(one, style.fontName, style.fontSize) <= avail - 1e-6:
            lines = one  # fits on one line: Paragraph puts every word on it
        elif "\xad" not in text:  # a soft hyphen: a Paragraph's
            broken = _greedy_lines(words, style, avail)
            lines = None if broken is None else "\n".join(" ".join(ws) for ws in broken)
    memo[key] = lines
    return lines


def _greedy_lines(words: list, style, avail: float):
    """The lines of words reportlab's ``Paragraph.breakLines`` makes of a one-font text.

    Its simple case (one fragment, no hyphenation), step for step: a word goes on the
    line while the line with it is no wider than the width plus 5 % of a space per word
    already on it. ``None`` when the Paragraph would do more than break lines: a word
    wider than the cell (split), or a line wider than the cell (drawn with its spaces
    shrunk).
    """
    font, size = style.fontName, style.fontSize
    space = _string_width(" ", font, size)
    shrink = style.spaceShrinkage * space
    lines, line, current = [], [], -space
    for word in words:
        width = _string_width(word, font, size)
        if width > avail:
            return None  # splitLongWords
        new = current + space + width
        if new <= avail + shrink * len(line) or not line:
            line.append(word)
            current = new
        else:
            lines.append((avail - current, line))
            line, current = [word], width
    if line:
        lines.append((avail - current, line))
    if any(extra <= -1e-8 for extra, _ in lines):
        return None
    return [ws for _, ws in lines]


def _body_cells(shown, numeric, cols, widths, st, memo: dict | None = None) -> list:
    """A table's data rows: plain text cells where they can be, Paragraphs where not.

    Text cells are broken into lines for the "cell" / "num" paragraph styles; their font,
    leading and alignment come from the table's cell styles (:func:`_cell_styles`); the
    few cells only a Paragraph can draw stay ones. ``memo``: the line breaks already
    found (shared by the tables of a document: the key columns repeat in every column
    group).
    """
    body_st, num_st = st["cell"], st["num"]
    memo = {} if memo is None else memo
    rows = []
    for r, row in enumerate(shown):
        out = []
        for c, i in enumerate(cols):
            style = num_st if numeric[r][i] else body_st
            text = row[i]
            if not text:
                out.append("")  # nothing drawn, no height: what an empty Paragraph is
                continue
            lines = _plain_lines(text, style, widths[c] - _PAD - _PAD, memo)
            out.append(_para(text, style) if lines is None else lines)
        rows.append(out)
    return rows


def _cell_styles(numeric, cols, head: int, n: int, st: dict) -> list:
    """The cell styles of a data table, one object per kind of cell.

    What the commands ``VALIGN`` (top; the header rows middle), ``LEFTPADDING`` and
    ``RIGHTPADDING`` (:data:`_PAD`), and on the data rows ``FONT`` (the "cell" style's
    font, size and leading) and ``ALIGN`` right (numbers) make of each cell, without
    reportlab making and setting one style per cell (~100,000 a commune): four shared
    styles; a table draws a run of cells of the same font as one text object.
    """
    from reportlab.platypus.tables import CellStyle

    def kind(name, valign, font=None, align="LEFT"):
        style = CellStyle(name)
        style.valign, style.alignment = valign, align
        style.leftPadding = style.rightPadding = _PAD
        if font is not None:
            style.fontname, style.fontsize, style.leading = font
        return style

    body = st["cell"]
    font = (body.fontName, body.fontSize, body.leading)
    header, left, right = kind("head", "MIDDLE"), kind("text", "TOP", font), kind(
        "number", "TOP", font, "RIGHT")  # fmt: skip
    rows = [[header] * len(cols) for _ in range(head)]
    rows += [[right if numeric[r][i] else left for i in cols] for r in range(len(numeric))]
    rows += [[kind("none", "TOP")] * len(cols) for _ in range(n - len(rows))]  # "(không có)"
    return rows


def _text_heights(rows: list, styles: list, head: int) -> list:
    """The heights reportlab's Table measures for rows of text cells; None for the others.

    A row of text cells (lines joined by newlines) is as high as its most lines times its
    style's leading plus the top and bottom padding: what ``Table._calc_height`` finds,
    the same arithmetic, given to the table so that it does not measure each of its
    ~2,000 rows again at each wrap and split of a long table. The header rows and the
    rows with a Paragraph stay None: reportlab measures them.
    """
    heights: list = [None] * len(rows)
    for i in range(head, len(rows)):
        h = 0
        for value, style in zip(rows[i], styles[i]):
            if type(value) is not str:
                h = None
                break
            t = (style.leading or 1.2 * style.fontsize) * (value.count("\n") + 1)
            t += style.bottomPadding + style.topPadding
            if t > h:
                h = t
        heights[i] = h
    return heights


def _data_table(sheet: dict, st: dict, frame_w: float, memo: dict | None = None) -> list:
    """A table's flowables: one Table per column group, header repeated on every page."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, TableStyle

    levels, shown, numeric = sheet["levels"], sheet["shown"], sheet["numeric"]
    pts, groups, size = _column_groups(sheet, frame_w)
    if size != _BODY:  # the whole table in the slightly smaller text it fits the page in
        st = {**st, "cell": st["cell_small"], "num": st["num_small"], "head": st["head_small"]}
    scale = min(1.0, frame_w / max(sum(pts[i] for i in g) for g in groups))
    flow = []
    for g, cols in enumerate(groups):
        two = any(levels[i][1] for i in cols)
        rows = [[_para(levels[i][0], st["head"]) for i in cols]]
        spans = []
        if two:
            rows.append([_para(levels[i][1], st["head"]) for i in cols])
            spans = _header_spans(levels, cols)
        widths = [pts[i] * scale for i in cols]
        body = _body_cells(shown, numeric, cols, widths, st, memo)
        head = len(rows)
        rows += body
        if not shown:
            rows.append([_para("(không có)", st["cell"])]
                        + [_para("", st["cell"])] * (len(cols) - 1))  # fmt: skip
        styles = _cell_styles(numeric, cols, head, len(rows), st)
        t = _table_class()(rows, colWidths=widths, rowHeights=_text_heights(rows, styles, head),
                           repeatRows=2 if two else 1, hAlign="LEFT",
                           cellStyles=styles)  # fmt: skip
        t.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.4, colors.black),
            ("BACKGROUND", (0, 0), (-1, 1 if two else 0), colors.HexColor("#D9EAD3")),
            *spans,
        ]))  # fmt: skip
        if g:
            flow.append(Spacer(1, 4 * mm))
            flow.append(_para(f"(tiếp theo: cột {g + 1}/{len(groups)})", st["left_i"]))
        flow.append(t)
    return flow


def _signer_block(form, st: dict, frame_w: float):
    """The "Nơi nhận" list on the left, the signer on the right, kept together."""
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

    left = [_para("Nơi nhận:", st["rec_h"])] + [_para(x, st["rec"]) for x in form.recipient_lines]
    right = [_para(x, st["h"]) for x in form.signer_lines]
    right += [Spacer(1, 18 * mm), _para(form.signer_name or "", st["h"])]
    t = Table([[left, right]], colWidths=[frame_w * 0.45, frame_w * 0.55])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return KeepTogether([Spacer(1, 5 * mm), t])


def _story(sheets: list, form, title: str, subtitle: str, frame_w: float) -> list:
    """The body (heading, BÁO CÁO, first table, signer) and one appendix per other table."""
    from reportlab.lib.units import mm
    from reportlab.platypus import PageBreak, Spacer

    from .form import ROMAN

    st = _styles()
    memo: dict = {}  # the line breaks of the text cells, shared by all the tables
    items = list(sheets)
    story: list = [_heading_block(form, st, frame_w), Spacer(1, 6 * mm),
                   _para("BÁO CÁO", st["title"]), _para(title, st["h"]),
                   Spacer(1, 5 * mm)]  # fmt: skip
    if items:
        story += _data_table(items[0], st, frame_w, memo)
    story.append(_signer_block(form, st, frame_w))
    for n, sheet in enumerate(items[1:]):
        story.append(PageBreak())
        story.append(_para(form.issuing_body, st["ib"]))
        story.append(_para(f"Phụ lục {ROMAN[n % len(ROMAN)]}", st["h"]))
        story.append(_para(sheet["title"], st["h"]))
        story.append(_para(form.appendix_reference, st["hi"]))
        if sheet.get("note") or subtitle:
            story.append(_para(sheet.get("note") or subtitle, st["hi"]))
        story.append(Spacer(1, 4 * mm))
        story += _data_table(sheet, st, frame_w, memo)
    return story


def _numbered_canvas(page):
    """A reportlab canvas class that prints "Trang x/y" once the page count is known."""
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas as _canvas

    class Numbered(_canvas.Canvas):
        """Two passes: "Trang x/y" once the page count is known."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pages = []

        def showPage(self):  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont("NtmSerif", 9)
                self.drawCentredString(page[0] / 2, 8 * mm, f"Trang {self._pageNumber}/{total}")
                super().showPage()
            super().save()

    return Numbered


def _page_progress(progress):
    """reportlab's build callback as ntmgis progress: a cancel is seen at every page."""
    from ._progress import report

    state = {"total": 1, "done": 0}

    def on_build(kind, value):
        if kind == "SIZE_EST":
            state["total"] = max(int(value), 1)
        elif kind == "PROGRESS":
            state["done"] = int(value)
        elif kind == "PAGE":
            report(progress, 0.9 * state["done"] / state["total"], f"report page {value}")

    return on_build


@contextlib.contextmanager
def _plain_deflate():
    """Streams deflated without reportlab's ASCII85 layer over them.

    ``rl_config.useA85`` (on by default) wraps every page and font stream in ASCII85,
    encoded in pure Python: the same PDF content, 25 % larger, and a third of a second a
    commune. Off while the report is built, put back after.
    """
    from reportlab import rl_config

    before = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = before


def write_pdf(
    sheets: list,
    path,
    *,
    form,
    title: str,
    subtitle: str = "",
    run_id: str | None = None,
    progress=None,
) -> Path:
    """Write the report's tables as one PDF in the administrative form.

    Parameters
    ----------
    sheets : list of dict
        The tables as :mod:`ntmgis.report` lays them out (``title``, ``levels``: the
        (group, sub) header of each column, ``shown``: the cell texts, ``numeric``,
        ``caps``: the widest a column of text may be, in characters, ``keys``: how many
        columns to repeat when the table is cut, ``note``); the first is the body.
    path : str or os.PathLike
        The ``.pdf`` (written atomically).
    form : ntmgis.form.DocumentForm
        Issuing body, number, place and date, signer, recipients.
    title : str
        The line under "BÁO CÁO".
    subtitle : str, optional
        A line under each appendix's title.
    run_id : str, optional
        The run that made the result (its ``run_metadata``): the PDF's /Subject
        ("ntmgis run <id>") and /Keywords (the id); default the run being written.
    progress : callable, optional
        ``progress(fraction, message)`` at each page laid out (the fraction: the tables
        laid out so far); return False to cancel (:class:`~ntmgis.errors.CancelledError`,
        no file written).

    Returns
    -------
    pathlib.Path
    """
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    from ._io import CURRENT_RUN, atomic_path
    from ._progress import report

    _register_fonts()
    run_id = run_id or CURRENT_RUN.get()
    info = {"subject": f"ntmgis run {run_id}", "keywords": str(run_id)} if run_id else {}
    page = landscape(A4)
    margins = dict(leftMargin=20 * mm, rightMargin=12 * mm, topMargin=14 * mm,
                   bottomMargin=16 * mm)  # fmt: skip
    frame_w = page[0] - margins["leftMargin"] - margins["rightMargin"]
    story = _story(sheets, form, title, subtitle, frame_w)
    path = Path(path)
    with atomic_path(path) as tmp:
        doc = SimpleDocTemplate(str(tmp), pagesize=page, title=title,
                                author=form.issuing_body, creator="ntmgis", **info,
                                **margins)  # fmt: skip
        doc.setProgressCallBack(_page_progress(progress))
        with _plain_deflate():
            doc.build(story, canvasmaker=_numbered_canvas(page))
        report(progress, 1.0, "report PDF written")
    logger.info("wrote %s", path)
    return path
