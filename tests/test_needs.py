"""Step 3 needs (ntmgis.needs): parsing, the tidy table, the summaries and the report."""

from __future__ import annotations

import warnings

import openpyxl
import pandas as pd
import pytest

from ntmgis.errors import ConfigError, SurveyWarning
from ntmgis.needs import load_needs, needs_report_table, needs_summary, needs_table, parse_needs

pytestmark = pytest.mark.usefixtures("english")  # messages matched in English


# cell -> (codes, free text)
CASES = {
    "cây giống, vốn": (["cay_giong", "von"], []),
    "Cây giống; Vốn vay / tập huấn": (["cay_giong", "von", "ky_thuat"], []),
    "cay giong, von, ky thuat": (["cay_giong", "von", "ky_thuat"], []),
    "cần giống cây và phân bón": (["cay_giong", "phan_bon"], []),
    "xin hỗ trợ vốn": (["von"], []),
    "Lao động + lưới": (["cong_lao_dong", "vat_tu"], []),
    "Đầu ra cho sản phẩm": (["tieu_thu"], []),
    "vốn, máy cày mini": (["von", "khac"], ["máy cày mini"]),
    "chưa biết": (["khac"], ["chưa biết"]),
    "-vốn, =cây giống": (["von", "cay_giong"], []),  # formula signs typed by mistake
    "Không": ([], []),
    "  ": ([], []),
    None: ([], []),
}


@pytest.mark.parametrize("cell", list(CASES))
def test_parse_needs(cell):
    assert parse_needs(cell) == CASES[cell]


def test_codebook_needs_list(tmp_path):
    assert [n.code for n in load_needs()] == [
        "cay_giong", "von", "ky_thuat", "phan_bon", "cong_lao_dong", "vat_tu", "tieu_thu",
    ]  # fmt: skip
    own = tmp_path / "codebook.toml"
    own.write_text(
        'name = "Xã Nghi Phong"\n[[classes]]\ncode = "hoang_hoa"\nlabel = "Vườn hoang hóa"\n'
        '[[needs]]\ncode = "may_moc"\nlabel = "Máy móc"\naliases = ["máy cày"]\n',
        encoding="utf-8",
    )
    needs = load_needs(own)
    assert [n.code for n in needs] == ["may_moc"]
    assert parse_needs("vốn, máy cày mini", needs) == (["may_moc", "khac"], ["vốn"])
    bare = tmp_path / "bare.toml"
    bare.write_text('[[classes]]\ncode = "x"\nlabel = "X"\n', encoding="utf-8")
    assert load_needs(bare) == load_needs()  # no [[needs]]: the default needs
    bad = tmp_path / "bad.toml"
    bad.write_text('[[needs]]\ncode = "khac"\nlabel = "Khác"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="reserved"):
        load_needs(bad)


# parcel, hamlet, household, area, garden area, survey class, flag, needs
TINY = [
    ("1-1", "Xóm 1", "H1", 500.0, 400.0, "hoang_hoa", "hoang_hoa", "cây giống, vốn"),
    ("1-2", "Xóm 1", "H1", 300.0, None, "vuon_tap", "binh_thuong", "vốn"),
    ("1-3", "Xóm 1", "H2", 250.0, 250.0, "vuon_tap", "nghi_van", "kỹ thuật, máy cày"),
    ("1-4", "Xóm 2", "H3", 800.0, 600.0, "hoang_hoa", "hoang_hoa", "Vốn vay"),
    ("1-5", "Xóm 2", "H4", 200.0, 200.0, "dat_chuan", "binh_thuong", None),
    ("1-6", "Xóm 2", None, 150.0, 150.0, "vuon_tap", "binh_thuong", "giống"),
]


def tiny():
    frame = pd.DataFrame(TINY, columns=["parcel_id", "hamlet", "household", "area_m2",
                                        "garden_area_m2", "survey_class", "flag",
                                        "support_needs"])  # fmt: skip
    frame["is_garden"] = True
    frame["owner"] = "Chủ " + frame["parcel_id"]
    return frame


def test_needs_table_and_summary_counted_by_hand():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tidy = needs_table(tiny())
    unknown = [w for w in caught if issubclass(w.category, SurveyWarning)]
    assert len(unknown) == 1 and "'máy cày'" in str(unknown[0].message)
    assert tidy.attrs["unknown"] == {"máy cày": 1}
    assert len(tidy) == 7  # 2 + 1 + 2 + 1 + 0 + 1 needs
    # the garden area is the survey's when given (1-1: 400), else the parcel's (1-2: 300)
    assert tidy.loc[tidy["parcel_id"] == "1-2", "area_m2"].tolist() == [300.0]
    # a garden without household id counts as its own household (parcel id)
    assert tidy.loc[tidy["parcel_id"] == "1-6", "household"].tolist() == ["1-6"]
    summary = needs_summary(tidy).set_index(["hamlet", "need"])
    assert summary.loc[("Xóm 1", "von")].tolist() == [1, 2, 700.0]  # H1 twice: one household
    assert summary.loc[("Xóm 1", "khac")].tolist() == [1, 1, 250.0]
    assert summary.loc[("Xóm 2", "von")].tolist() == [1, 1, 600.0]
    assert summary.loc[("Toàn xã", "von")].tolist() == [2, 3, 1300.0]
    assert summary.loc[("Toàn xã", "cay_giong")].tolist() == [2, 2, 550.0]
    assert list(summary.index.get_level_values(0)).index("Toàn xã") == 6  # 4 + 2 rows, then
    by_class = needs_summary(tidy, by="survey_class").set_index(["hamlet", "survey_class",
                                                                  "need"])  # fmt: skip
    assert by_class.loc[("Toàn xã", "hoang_hoa", "von"), "households"] == 2
    assert by_class.loc[("Toàn xã", "vuon_tap", "von"), "households"] == 1


def test_needs_report_table():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = needs_report_table(tiny())
    commune = table[table["Thôn"] == "Toàn xã"].set_index("Nhu cầu hỗ trợ")
    assert commune.loc["Vốn", "Số hộ"] == 2
    assert commune.loc["Vốn", "Diện tích vườn (m²)"] == 1300.0
    assert commune.loc["Vốn", "Khảo sát: vườn hoang hóa (hộ)"] == 2
    assert commune.loc["Vốn", "Khảo sát: vườn tạp (hộ)"] == 1
    assert commune.loc["Vốn", "Ảnh: vườn hoang hóa (hộ)"] == 2
    assert commune.loc["Khác", "Ghi chú"] == "máy cày (1)"
    assert list(commune.index) == ["Cây giống", "Vốn", "Kỹ thuật", "Khác"]


def test_report_reads_support_needs(tmp_path):
    """The visit list's "Nhu cầu hỗ trợ" was always empty: the join writes support_needs."""
    from test_progress import TINY_TARGETS_CSV, tiny_hamlets, tiny_result

    from ntmgis.progress import hamlet_progress
    from ntmgis.report import SHEETS, write_report

    result = tiny_result()
    result["support_needs"] = None
    result["support_needs"] = result["support_needs"].astype(object)
    result.loc[result["parcel_no"] == 13, "support_needs"] = "cây giống, vốn"
    targets = tmp_path / "t.csv"
    targets.write_bytes(TINY_TARGETS_CSV.encode("utf-8-sig"))
    progress = hamlet_progress(result, targets, hamlets=tiny_hamlets())
    paths = write_report(progress, result, tmp_path / "out")
    book = openpyxl.load_workbook(paths["xlsx"])
    from test_report import sheet_table  # the report's layout: header rows as printed

    rows = sheet_table(book[SHEETS["visits"][0]])
    visits = {r["Số thửa"]: r["Nhu cầu hỗ trợ"] for r in rows}
    assert visits[13] == "cây giống, vốn"
    needs = pd.read_csv(paths["needs"], encoding="utf-8-sig")
    commune = needs[needs["Thôn"] == "Toàn xã"].set_index("Nhu cầu hỗ trợ")
    assert commune.loc["Vốn", "Số hộ"] == 1 and commune.loc["Vốn", "Diện tích vườn (m²)"] == 300


def test_foreign_commune_needs_agree_with_the_survey_text(foreign_runs):
    """Households by need from the run equal a plain text count over the joined rows."""
    base = foreign_runs[0]
    parcels = base.parcels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = needs_report_table(parcels)
    garden = parcels[parcels["is_garden"] & parcels["place_kind"].ne("canh_dong")]
    for need, word in (("Vốn", "vốn"), ("Cây giống", "cây giống"), ("Kỹ thuật", "kỹ thuật")):
        hit = garden[garden["support_needs"].fillna("").str.contains(word)]
        per_hamlet = hit.groupby("hamlet")["household"].nunique()
        got = table[table["Nhu cầu hỗ trợ"] == need].set_index("Thôn")["Số hộ"]
        assert got.drop("Toàn xã").sort_index().to_dict() == per_hamlet.sort_index().to_dict()
        assert got["Toàn xã"] == hit["household"].nunique()
        area = table[table["Nhu cầu hỗ trợ"] == need].set_index("Thôn")["Diện tích vườn (m²)"]
        expected = hit["garden_area_m2"].fillna(hit["area_m2"]).sum()
        assert area["Toàn xã"] == pytest.approx(expected, abs=0.1)
