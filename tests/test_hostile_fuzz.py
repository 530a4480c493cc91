"""Property-based fuzz of the parsers and writers (hypothesis).

Whatever the bytes, headers, cells, keys, conditions or formulas, the public readers either
return a result or raise an NtmgisError; the writers never write a live formula or an
illegal character and read back what they were given.
"""

from __future__ import annotations

import csv
import io
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import ntmgis
from ntmgis import _io
from ntmgis._expr import RULES, ExpressionError, parse
from ntmgis.errors import InputError, NtmgisError
from ntmgis.parcels import parcel_number
from ntmgis.survey import SURVEY_FIELDS
from ntmgis.text import decode_bytes

pytestmark = pytest.mark.filterwarnings("ignore::ntmgis.errors.NtmgisWarning")

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# text a commune spreadsheet may hold: Vietnamese, formula starts, control characters
VIETNAMESE = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđĐ"
ALPHABET = (
    string.ascii_letters + string.digits + VIETNAMESE + " =+-@\t\r\n\"';,.|/()%\x00\x01\x0b\x1f"
)
cells = st.one_of(
    st.text(alphabet=ALPHABET, max_size=20),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda v: f"{v:g}"),
    st.sampled_from(["", "Vườn mẫu", "vuon hoang hoa", "VT", "=1+1", "@SUM(A1)", "3a", "12/345"]),
)
aliases = [a for names in SURVEY_FIELDS.values() for a in names[:4]]
headers = st.lists(st.one_of(st.sampled_from(aliases), st.text(alphabet=ALPHABET, max_size=12)),
                   min_size=1, max_size=8)  # fmt: skip


def _table(header, rows, delimiter=","):
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


@FAST
@given(
    header=headers,
    rows=st.lists(st.lists(cells, max_size=8), max_size=12),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1258"]),
)
def test_survey_csv_fuzz(tmp_path_factory, header, rows, delimiter, encoding):
    path = tmp_path_factory.mktemp("fuzz") / "survey.csv"
    text = _table(header, rows, delimiter)
    path.write_bytes(text.encode(encoding, errors="replace"))
    try:
        survey = ntmgis.read_survey(path)
    except NtmgisError:
        return
    assert len(survey) <= len(rows)  # blank rows dropped, none invented
    assert survey["survey_row"].is_unique


@FAST
@given(header=headers, rows=st.lists(st.lists(cells, max_size=8), max_size=10))
def test_survey_xlsx_fuzz(tmp_path_factory, header, rows):
    from openpyxl import Workbook

    path = tmp_path_factory.mktemp("fuzz") / "survey.xlsx"
    book = Workbook()
    sheet = book.active
    for row in [header, *rows]:
        sheet.append([_io.clean_control(c) if isinstance(c, str) else c for c in row])
    book.save(path)
    try:
        survey = ntmgis.read_survey(path)
    except NtmgisError:
        return
    assert len(survey) <= len(rows)


@FAST
@given(data=st.binary(max_size=600))
def test_decode_bytes_never_fails(data):
    text, encoding = decode_bytes(data)
    assert isinstance(text, str) and isinstance(encoding, str)


@FAST
@given(value=st.one_of(cells, st.integers(-5, 10**7), st.floats(allow_nan=True), st.none()))
def test_parcel_keys_fuzz(value):
    key, problem = parcel_number(value)
    if key is None:
        return
    assert problem is None
    if isinstance(key, int):
        assert key >= 0
    else:
        assert key[:-1].rstrip(string.ascii_lowercase).isdigit() and key == key.lower()
    assert parcel_number(str(key)) == (key, None)  # the canonical form is a fixed point


names = st.sampled_from(["ndvi_p90", "events", "bsi_med", "nir", "red"])


def _expressions(grammar_ops):
    leaves = st.one_of(names, st.floats(-2, 2, allow_nan=False).map(lambda v: f"{v:.3f}"))
    return st.recursive(
        leaves,
        lambda inner: st.one_of(
            st.tuples(inner, st.sampled_from(grammar_ops), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            inner.map(lambda e: f"-{e}"),
        ),
        max_leaves=12,
    )


@FAST
@given(text=st.text(alphabet=string.printable, max_size=80))
def test_rule_conditions_fuzz(text):
    try:
        expression = parse(text, RULES)
    except ExpressionError as exc:
        assert isinstance(exc, InputError)
        return
    env = {n: np.array([0.1, np.nan]) for n in expression.names}
    with np.errstate(all="ignore"):
        try:
            np.asarray(expression(env))
        except (TypeError, ValueError) as exc:  # e.g. bitwise ~ on a float: not a crash
            pytest.fail(f"{text!r} parsed but did not evaluate: {exc}")


@FAST
@given(expr=_expressions(["+", "-", "*", "/"]), threshold=st.floats(-1, 1, allow_nan=False))
def test_built_conditions_evaluate_elementwise(expr, threshold):
    condition = parse(f"{expr} < {threshold:.3f} or not {expr} >= {threshold:.3f}", RULES)
    env = {n: np.array([0.2, 0.5, np.nan]) for n in condition.names}
    out = np.asarray(condition(env))
    assert out.dtype == bool and out.shape in ((3,), ())


@FAST
@given(expr=_expressions(["+", "-", "*", "/", "**"]))
def test_index_formulas_fuzz(expr):
    from ntmgis.indices import parse_formula

    text = expr.replace("ndvi_p90", "nir").replace("events", "red").replace("bsi_med", "swir16")
    func, bands = parse_formula(text)
    out = func(**{b: np.array([0.3, 0.0]) for b in bands})
    assert out.dtype == np.float64


@FAST
@given(text=st.text(alphabet=string.printable, max_size=60))
def test_index_formula_text_fuzz(text):
    from ntmgis.indices import parse_formula

    try:
        parse_formula(text)
    except InputError:
        pass


values = st.one_of(
    st.text(alphabet=ALPHABET, max_size=15),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=True, allow_infinity=False),
    st.none(),
    st.booleans(),
)


@FAST
@given(rows=st.lists(st.tuples(values, values), min_size=1, max_size=8),
       header=st.text(alphabet=ALPHABET, min_size=1, max_size=10))  # fmt: skip
def test_writers_never_write_a_formula(tmp_path_factory, rows, header):
    from openpyxl import load_workbook

    frame = pd.DataFrame(rows, columns=[header, "b"])
    folder = tmp_path_factory.mktemp("out")
    book = load_workbook(_io.write_xlsx({"t": frame}, folder / "t.xlsx"))
    for row in book["t"].iter_rows():
        for cell in row:
            assert cell.data_type != "f"
            if isinstance(cell.value, str) and cell.value.startswith(_io.DANGEROUS):
                assert cell.quotePrefix
    path = _io.write_csv(folder / "t.csv", frame, whole_as_int=False)
    back = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))
    assert len(back) == len(rows) + 1
    for line in back:
        for cell in line:
            if cell.startswith(_io.DANGEROUS):  # only a number may start so ("-5")
                float(cell)
            assert not any(ord(c) < 32 and c not in "\t\r\n" for c in cell)
    for (value, _), line in zip(rows, back[1:]):
        if type(value) in (int, float) and value == value:
            assert float(line[0]) == pytest.approx(value)  # numbers stay numbers
        elif isinstance(value, str) and value:
            cleaned = _io.clean_control(value)
            assert line[0] in (cleaned, "'" + cleaned)


coordinate = st.floats(0, 200, allow_nan=False)
rings = st.lists(st.tuples(coordinate, coordinate), min_size=0, max_size=6)
keys = st.one_of(st.none(), cells, st.integers(-3, 50), st.floats(allow_nan=True, width=16))


@FAST
@given(
    rows=st.lists(
        st.tuples(keys, keys, rings, st.text(alphabet=ALPHABET, max_size=10)),
        min_size=1,
        max_size=12,
    ),  # fmt: skip
    survey=st.lists(st.tuples(keys, keys, cells), max_size=12),
)
# found by hypothesis: a key in scientific notation larger than a 64-bit integer
@example(rows=[(1, 1, [(0, 0), (10, 0), (10, 10)], "A")], survey=[("1E19", "10E19", "x")])
def test_every_parcel_reaches_the_output_with_a_status(rows, survey):
    import geopandas as gpd
    import shapely

    geoms = []
    for _, _, ring, _ in rows:
        points = [(560000 + x, 2080000 + y) for x, y in ring]
        geoms.append(shapely.Polygon(points + points[:1]) if len(points) >= 3 else None)
    frame = gpd.GeoDataFrame(
        {
            "SHBANDO": [r[0] for r in rows],
            "SHTHUA": [r[1] for r in rows],
            "TENCHU": [r[3] for r in rows],
            "KHLOAIDAT": ["ONT+CLN"] * len(rows),
        },
        geometry=geoms,
        crs="EPSG:9209",
    )
    frame["SHBANDO"] = frame["SHBANDO"].astype(object)
    frame["SHTHUA"] = frame["SHTHUA"].astype(object)
    try:
        parcels = ntmgis.read_parcels(frame)
    except NtmgisError:
        return
    assert len(parcels) == len(rows)
    assert parcels["parcel_id"].is_unique
    assert set(parcels["parcel_status"]) <= {
        "ok", "repaired", "empty_geometry", "missing_key", "duplicate_key"
    }  # fmt: skip
    table = pd.DataFrame(survey, columns=["Số tờ", "Số thửa", "Phân loại vườn"])
    try:
        joined, report = ntmgis.join_survey(parcels, table)
    except NtmgisError:
        return
    assert len(joined) == len(rows)
    assert joined["survey_status"].notna().all()
    assert report.n_matched_rows + report.n_unmatched_rows == report.n_survey_rows
    assert sum(report.parcel_status.values()) == len(rows)
