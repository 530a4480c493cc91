import math
import re
import shutil
import subprocess

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from ntmgis import maps
from ntmgis.errors import InputError, SchemaError

pytest.importorskip("matplotlib")
needs_poppler = pytest.mark.skipif(
    shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="poppler-utils (pdftoppm, pdftotext) not installed",
)

CLASS = {
    "Vườn mẫu": "vuon_mau",
    "Vườn đạt chuẩn": "dat_chuan",
    "Vườn đã cải tạo": "da_cai_tao",
    "Vườn tạp": "vuon_tap",
    "Vườn hoang hóa": "hoang_hoa",
}
# households to visit per hamlet, chosen so the page count does not depend on orientation:
# 60 rows -> 2 continuation pages (60-14=46 or 60-11=49 rows, 44 a page), 30 -> 1, <= 11 -> 0
VISITS = {"T1": 60, "T2": 30, "T3": 0, "T4": 5, "T5": 0, "T6": 0}
EXPECTED_PAGES = 1 + 6 + 2 + 1


def contract_parcels(layers_dir):
    """Contract columns derived from the sample and its truth (tests only)."""
    p = gpd.read_file(layers_dir / "thanh_binh.gpkg", layer="parcels")
    t = pd.read_csv(layers_dir / "truth" / "parcels_truth.csv")
    p = p.merge(t, on=["SHBANDO", "SHTHUA"], how="left", validate="1:1")
    garden = ~p["KHLOAIDAT"].isin(["LUC", "NTS"])
    out = gpd.GeoDataFrame(
        {
            "parcel_id": p.SHBANDO.astype(str) + "-" + p.SHTHUA.astype(str),
            "sheet": p.SHBANDO,
            "parcel_no": p.SHTHUA,
            "area_m2": p.DIENTICH,
            "land_use": p.KHLOAIDAT,
            "hamlet": p.DIADANH,
            "owner": p.TENCHU,
            "household": p.MAHO,
            "SHBANDO": p.SHBANDO,
            "SHTHUA": p.SHTHUA,
            "is_garden": garden,
        },
        geometry=p.geometry,
        crs=p.crs,
    )
    flag = np.where(p["abandoned"] == 1, "hoang_hoa", "binh_thuong").astype(object)
    flag[p["condition"].str.startswith("renovat").fillna(False).to_numpy()] = "nghi_van"
    flag[~garden.to_numpy()] = None
    out["flag"] = flag
    out["survey_class"] = p["survey_claim"].map(CLASS).where(garden)
    out["agreement"] = np.where(
        ~garden,
        None,
        np.where(
            (out["flag"] == "hoang_hoa") & (out["survey_class"] != "hoang_hoa"),
            "khao_sat_tot_anh_hoang",
            "phu_hop",
        ),
    )
    out["flag_reasons"] = np.where(
        out["flag"] == "hoang_hoa", "NDVI thấp quanh năm; không thấy làm đất", ""
    )
    out["visit"] = False
    return out


@pytest.fixture(scope="module")
def result_gpkg(layers_dir, tmp_path_factory):
    from ntmgis.pipeline import write_gpkg_atomic

    parcels = contract_parcels(layers_dir)
    hamlets = gpd.read_file(layers_dir / "thanh_binh.gpkg", layer="hamlets")
    codes = dict(zip(hamlets["ten_thon"], hamlets["ma_thon"]))
    for name, code in codes.items():
        idx = parcels.index[(parcels["hamlet"] == name) & parcels["is_garden"]][: VISITS[code]]
        parcels.loc[idx, "visit"] = True
    hamlets = hamlets.rename(columns={"ten_thon": "hamlet"})
    hamlets["status"] = ["vuot", "dat", "chua_dat", "chua_dat", None, "dat"]
    # run_metadata keys as ntmgis.pipeline writes them
    meta = pd.DataFrame(
        {
            "key": ["commune", "year", "place", "imagery_dates", "imagery_source", "parcels"],
            "value": [
                "Xã Thanh Bình",
                "2020",
                "Thanh Bình",
                "2020-01-13,2020-02-02,2020-12-08",
                "Sentinel-2 L2A",
                "layers/thanh_binh.gpkg",
            ],
        }
    )
    path = tmp_path_factory.mktemp("maps") / "thanh_binh.gpkg"
    write_gpkg_atomic(path, {"parcels": parcels, "hamlets": hamlets, "run_metadata": meta})
    return path


@pytest.fixture(scope="module")
def rendered(result_gpkg, tmp_path_factory):
    out = tmp_path_factory.mktemp("maps_out")
    paths = maps.render_maps(result_gpkg, out, by="flag", date="2020-12-15")
    return paths


def _pdftotext(pdf, page=None):
    args = ["pdftotext", "-enc", "UTF-8"]
    if page:
        args += ["-f", str(page), "-l", str(page)]
    return subprocess.run([*args, str(pdf), "-"], check=True, capture_output=True).stdout.decode()


def _page_png(pdf, page, tmp_path, dpi=40):
    from PIL import Image

    stem = tmp_path / f"p{page}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", str(page), "-l", str(page), "-png", "-singlefile"]
        + [str(pdf), str(stem)],
        check=True,
    )
    return np.asarray(Image.open(f"{stem}.png").convert("RGB"))


def test_round_scale_and_scale_bar():
    assert maps.nice_scale(4120.5) == 5000
    assert maps.nice_scale(7500) == 7500
    assert maps.nice_scale(7501) == 10000
    assert maps.scale_bar_length(5000) == 200  # 40 mm at 1:5000 = 200 m
    assert maps.scale_bar_length(7500) == 250  # 300 m allowed -> 250
    assert maps.scale_bar_length(20000, target_mm=30) == 500  # 600 m allowed -> 500
    assert maps.scale_bar_length(1000, target_mm=12) == 10


def test_title_is_vietnamese_capitals():
    assert (
        maps.map_title(hamlet="Thôn Đông Hòa", commune="Xã Thanh Bình", year=2020)
        == "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – THÔN ĐÔNG HÒA – XÃ THANH BÌNH – NĂM 2020"
    )
    assert (
        maps.map_title(theme="survey", hamlet="Đông", commune="Thanh Bình", year=None)
        == "BẢN ĐỒ PHÂN LOẠI VƯỜN HỘ THEO KHẢO SÁT – ĐÔNG – XÃ THANH BÌNH"
    )  # no unit word in the data: the name kept whole, never a forced "Thôn"
    assert (
        maps.map_title(hamlet="Xóm 1, xã Nghi Phong", commune="Xã Nghi Phong", year=2023)
        == "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – XÓM 1 – XÃ NGHI PHONG – NĂM 2023"
    )


def test_page_count_rule():
    both = {"landscape", "portrait"}
    for orientation in both:
        orient = {k: orientation for k in VISITS}
        assert maps.page_count(VISITS, orient) == EXPECTED_PAGES
    # 15 rows: one continuation page on a portrait page (11 rows), none on landscape (14)
    assert maps.page_count({"A": 15}, {"A": "portrait"}) == 3
    assert maps.page_count({"A": 14}, {"A": "landscape"}) == 2
    assert maps.page_count({"A": 14 + 44 + 1}, {"A": "landscape"}) == 1 + 1 + 2


def test_labels_only_where_they_fit():
    from matplotlib.figure import Figure
    from shapely.geometry import box

    frame = gpd.GeoDataFrame(
        {"parcel_no": [123, 124, 5]},
        geometry=[box(0, 0, 30, 30), box(100, 0, 103, 3), box(200, 0, 260, 2)],
        crs=9209,
    )
    ax = Figure().add_subplot()
    # at 1:5000 "123" in 4.3 pt is ~7 m wide: fits the 30 m square, not the 3 m one, and
    # "5" does not fit the 2 m high strip
    assert maps._labels(ax, frame, 5000, 7.0) == 1
    assert maps._drawn_texts(ax) == ["123"]


@needs_poppler
def test_pdf_pages_title_legend_and_fonts(rendered, result_gpkg, layers_dir):
    pdf = rendered[0]
    assert pdf.suffix == ".pdf" and len(rendered) == 1
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, check=True).stdout.decode()
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages == EXPECTED_PAGES

    overview = _pdftotext(pdf, 1)
    assert "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – XÃ THANH BÌNH – NĂM 2020" in overview
    parcels = gpd.read_file(result_gpkg, layer="parcels")
    n_abandoned = int((parcels["flag"] == "hoang_hoa").sum())
    assert f"Vườn hoang hóa ({n_abandoned} thửa)" in overview
    assert "Thôn Phú Mỹ" in overview and "Toàn xã" in overview
    assert "Vượt chỉ tiêu (1 thôn)" in overview  # hamlet progress status legend
    assert "Chưa đạt chỉ tiêu (2 thôn)" in overview

    page2 = _pdftotext(pdf, 2)
    assert "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – THÔN ĐÔNG HÒA – XÃ THANH BÌNH – NĂM 2020" in page2
    dong_hoa = parcels[parcels["hamlet"] == "Thôn Đông Hòa"]
    n = int((dong_hoa["flag"] == "hoang_hoa").sum())
    assert f"Vườn hoang hóa ({n} thửa)" in page2
    assert f"Vườn có canh tác ({int((dong_hoa['flag'] == 'binh_thuong').sum())} thửa)" in page2
    assert "CHÚ GIẢI" in page2 and "Tỷ lệ 1:" in page2
    assert "DANH SÁCH HỘ CẦN KIỂM TRA (60 thửa)" in page2
    assert "Sentinel-2 L2A, 3 ngày chụp (13/01/2020, 02/02/2020, 08/12/2020)" in page2
    assert "thửa đất thanh_binh.gpkg" in page2 and "EPSG:9209" in page2
    assert "NGƯỜI LẬP BIỂU" in page2 and "TM. ỦY BAN NHÂN DÂN XÃ" in page2
    assert "Thanh Bình, ngày 15 tháng 12 năm 2020" in page2
    first_visit = dong_hoa[dong_hoa["visit"]].sort_values(["sheet", "parcel_no"]).iloc[0]
    assert first_visit["owner"] in page2
    # continuation pages 3 and 4 carry on the numbering
    page3, page4 = _pdftotext(pdf, 3), _pdftotext(pdf, 4)
    assert "tiếp theo" in page3 and "THÔN ĐÔNG HÒA" in page3
    first_no = maps.FIRST_PAGE_ROWS["landscape"] + 1
    assert f"từ số {first_no}" in page3 or f"từ số {maps.FIRST_PAGE_ROWS['portrait'] + 1}" in page3
    assert "\n60\n" in page4 or "60" in page4.split()

    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, check=True).stdout
    rows = [r.split() for r in fonts.decode().splitlines()[2:]]
    assert rows and all("DejaVuSans" in r[0] for r in rows)
    assert all(r[-5] == "yes" for r in rows)  # emb column: every font embedded


@needs_poppler
def test_map_area_is_drawn_in_theme_colours(rendered, tmp_path):
    image = _page_png(rendered[0], 2, tmp_path).astype(int)
    h, w, _ = image.shape
    # the map frame of either layout covers the middle of the page's left half
    crop = image[int(h * 0.3) : int(h * 0.6), int(w * 0.15) : int(w * 0.5)]
    non_white = np.any(crop < 235, axis=2).mean()
    assert non_white > 0.15
    abandoned = np.array([0x88, 0x22, 0x55])
    tended = np.array([0x99, 0xCC, 0x66])
    for colour in (abandoned, tended):
        close = np.all(np.abs(image - colour) < 20, axis=2)
        assert close.sum() > 50


def test_png_export_and_in_memory_input_without_hamlets(layers_dir, tmp_path):
    parcels = contract_parcels(layers_dir)
    parcels = parcels[parcels["hamlet"].isin(["Thôn Trung Sơn", "Thôn Tân Lộc"])]
    status = {"Thon Trung Son": "vuot", "Thôn Tân Lộc": "chua_dat"}  # names folded to match
    paths = maps.render_maps(
        parcels,
        tmp_path,
        by="survey",
        paper="A3",
        png=True,
        dpi=30,
        commune="Thanh Bình",
        hamlet_status=status,
    )
    pdf, pngs = paths[0], paths[1:]
    assert pdf.name == "ban_do_xa_thanh_binh_survey_class.pdf"
    assert len(pngs) == 3  # overview + two hamlets (no visits)
    from PIL import Image

    with Image.open(pngs[0]) as im:
        width, height = im.size
    # A3 at 30 dpi: 420 x 297 mm or 297 x 420 mm
    got = sorted([width / 30 * 25.4, height / 30 * 25.4])
    assert got == pytest.approx([297, 420], abs=1.5)
    if shutil.which("pdftotext"):
        text = _pdftotext(pdf)
        assert "BẢN ĐỒ PHÂN LOẠI VƯỜN HỘ THEO KHẢO SÁT – THÔN TRUNG SƠN – XÃ THANH BÌNH" in text
        assert "Chưa khảo sát" in text and "Không có hộ cần kiểm tra." in text
        assert "Vượt chỉ tiêu (1 thôn)" in text and "Chưa đạt chỉ tiêu (1 thôn)" in text


def test_bad_options_and_missing_columns(layers_dir, tmp_path):
    parcels = contract_parcels(layers_dir).head(20)
    with pytest.raises(InputError, match="'colour'"):
        maps.render_maps(parcels, tmp_path, by="colour")
    with pytest.raises(InputError, match="'B5'"):
        maps.render_maps(parcels, tmp_path, paper="B5")
    with pytest.raises(SchemaError, match="'agreement'"):
        maps.render_maps(parcels.drop(columns="agreement"), tmp_path, by="agreement")
    assert not list(tmp_path.glob("*.pdf*"))


def test_cli_maps(result_gpkg, tmp_path):
    from ntmgis.cli import cli

    runner = CliRunner()
    res = runner.invoke(
        cli, ["maps", str(result_gpkg), "-o", str(tmp_path), "--by", "agreement", "--date", "blank"]
    )
    assert res.exit_code == 0, res.output
    pdf = tmp_path / "ban_do_xa_thanh_binh_agreement.pdf"
    assert pdf.exists() and f"Wrote {pdf}" in res.output
    if shutil.which("pdftotext"):
        text = _pdftotext(pdf, 1)
        assert "BẢN ĐỒ ĐỐI CHIẾU KHẢO SÁT VÀ ẢNH VỆ TINH – XÃ THANH BÌNH – NĂM 2020" in text
        assert "Khảo sát tốt, ảnh cho thấy hoang hóa" in text
        assert "ngày ..... tháng ..... năm" in text
    assert math.isfinite(pdf.stat().st_size)


def test_degrees_multipolygons_spellings_and_an_empty_hamlet(tmp_path):
    from shapely.geometry import MultiPolygon, box

    parcels = gpd.GeoDataFrame(
        {
            "hamlet": ["Thôn A", "Thôn A", "Thon a"],  # third spelt without diacritics
            "sheet": [1, 1, 2],
            "parcel_no": [1, 2, 3],
            "flag": ["hoang_hoa", None, "nghi_van"],
            "visit": [True, None, True],
            "owner": ["Nguyễn Văn An", None, "Lê Thị Bình"],
        },
        geometry=[
            box(105.5, 18.5, 105.5003, 18.5003),
            MultiPolygon(
                [box(105.5004, 18.5, 105.5006, 18.5002), box(105.5007, 18.5, 105.5008, 18.5001)]
            ),
            box(105.5, 18.5004, 105.5002, 18.5006),
        ],
        crs=4326,
    )
    hamlets = gpd.GeoDataFrame(
        {"ten_thon": ["Thôn A", "Thôn B"]},
        geometry=[
            box(105.4999, 18.4999, 105.5009, 18.5007),
            box(105.5009, 18.4999, 105.502, 18.5007),
        ],
        crs=4326,
    ).to_crs(9209)
    pdf = maps.render_maps({"parcels": parcels, "hamlets": hamlets}, tmp_path, date=None)[0]
    if shutil.which("pdftotext") is None:
        return
    pages = _pdftotext(pdf).split("\f")
    assert len([p for p in pages if p.strip()]) == 3  # overview, Thôn A, Thôn B (no parcels)
    assert "DANH SÁCH HỘ CẦN KIỂM TRA (2 thửa)" in pages[1]  # "Thon a" is Thôn A
    assert "Lê Thị Bình" in pages[1] and "2/3" in pages[1]
    assert "Không có hộ cần kiểm tra." in pages[2]
    assert "EPSG:32648" in pages[0]  # degrees drawn in the local UTM zone


def test_progress_and_cancel_leave_no_partial_pdf(layers_dir, tmp_path):
    from ntmgis.errors import CancelledError

    parcels = contract_parcels(layers_dir)
    parcels = parcels[parcels["hamlet"].isin(["Thôn Trung Sơn", "Thôn Tân Lộc"])]
    seen = []
    maps.render_maps(parcels, tmp_path / "ok", progress=lambda f, m: seen.append((f, m)))
    assert seen[0][0] == 0.0 and seen[-1] == (1.0, "3 trang")
    assert [f for f, _ in seen] == sorted(f for f, _ in seen)

    def cancel(fraction, message):
        return fraction < 0.4

    with pytest.raises(CancelledError):
        maps.render_maps(parcels, tmp_path / "cancel", png=True, progress=cancel)
    assert list((tmp_path / "cancel").iterdir()) == []


def test_collections_lines_and_points_are_drawn_from_their_polygons_or_listed(tmp_path):
    """Issue 17: a GeometryCollection parcel crashed the map step (``.exterior`` of a line)."""
    from shapely.geometry import GeometryCollection, LineString, Point, box

    square = box(500000, 2000000, 500030, 2000030)
    parcels = gpd.GeoDataFrame(
        {
            "hamlet": ["Thôn A"] * 5,
            "sheet": [1, 1, 1, 1, 1],
            "parcel_no": [1, 2, 3, 4, 5],
            "flag": ["hoang_hoa", "hoang_hoa", "nghi_van", "binh_thuong", "hoang_hoa"],
            "visit": [True, True, True, False, True],
            "owner": ["Chủ Một", "Chủ Hai", "Chủ Ba", "Chủ Bốn", "Chủ Năm"],
        },
        geometry=[
            GeometryCollection([square, LineString([(500000, 2000000), (500100, 2000100)])]),
            LineString([(500040, 2000000), (500070, 2000030)]),
            Point(500080, 2000010),
            box(500100, 2000000, 500140, 2000040),
            None,
        ],
        crs=32648,
    )
    # the collection is drawn from its square, the others without a shape
    poly = maps._polygonal(parcels.geometry.values)
    assert poly[0].equals(square) and poly[3].equals(parcels.geometry[3])
    assert [g.is_empty for g in poly] == [False, True, True, False, True]
    paths = maps._paths(parcels.geometry.values)
    assert len(paths[0].vertices) == 5 and len(paths[1].vertices) == 1

    pdf = maps.render_maps(parcels, tmp_path, date=None)[0]
    assert pdf.is_file() and pdf.stat().st_size > 0
    if shutil.which("pdftotext") is None:
        return
    pages = [p for p in _pdftotext(pdf).split("\f") if p.strip()]
    assert len(pages) == 2  # overview and Thôn A
    # every parcel counted (3 abandoned of 5) and every visit listed, shape or not
    assert "Vườn hoang hóa (3 thửa)" in pages[1]
    assert "DANH SÁCH HỘ CẦN KIỂM TRA (4 thửa)" in pages[1]
    for owner in ("Chủ Một", "Chủ Hai", "Chủ Ba", "Chủ Năm"):
        assert owner in pages[1]
    assert "Chủ Bốn" not in pages[1]


# --------------------------------------------------------------------------------------
# the Step 4 renovation plan printed (issue 18 point 4)
# --------------------------------------------------------------------------------------


def _pdf_chars_under(pdf, points: float) -> list:
    """Characters printed smaller than ``points`` (a rotated label measured across)."""
    pdfplumber = pytest.importorskip("pdfplumber")
    small = []
    with pdfplumber.open(pdf) as doc:
        for number, page in enumerate(doc.pages, start=1):
            for c in page.chars:
                size = c["size"] if c.get("upright", True) else c["x1"] - c["x0"]
                if c["text"].strip() and size < points - 1e-6:
                    small.append((number, c["text"], round(size, 2)))
    return small


def _owners_in_order(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"Chủ hộ (\d+)\b", text)]


def test_plan_pages_one_per_hamlet_in_plan_order_legible(tmp_path):
    from test_plan import base

    result = base()
    (pdf,) = maps.render_maps(result, tmp_path, by="plan", date="2026-12-02")
    assert pdf.name == "ban_do_xa_plan_priority.pdf"
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(pdf) as doc:
        texts = [p.extract_text() or "" for p in doc.pages]
    # two hamlets with planned gardens (5 and 3 of them): one page each, no continuation
    assert len(texts) == 2 == maps.plan_page_count({"Xóm 1": 5, "Ấp Bình Lợi": 3})
    first, second = texts
    # the hamlets' own names and unit words (Xóm, Ấp) in the titles
    assert "BẢN ĐỒ KẾ HOẠCH CẢI TẠO VƯỜN HỘ – XÓM 1" in first
    assert "BẢN ĐỒ KẾ HOẠCH CẢI TẠO VƯỜN HỘ – ẤP BÌNH LỢI" in second
    # plan order by hand: abandoned by both (1), survey only (2), imagery only (3), then
    # the mixed gardens, larger first (4: 1,200 m², 5: 300 m²); tended 6 is not planned
    assert _owners_in_order(first) == [1, 2, 3, 4, 5]
    # Ấp Bình Lợi: both abandoned, larger first (9: 650 m², 7: 400 m²), then mixed 10
    assert _owners_in_order(second) == [9, 7, 10]
    assert "DANH SÁCH HỘ CẢI TẠO VƯỜN (5 thửa)" in first
    assert "2 ưu tiên 2 (vườn tạp)" in first and "3 thửa vườn trong kế hoạch" in second
    assert "Cây giống, Vốn" in first  # the needs, as the codebook labels them
    assert not _pdf_chars_under(pdf, 8.0)


def test_plan_pages_continue_a_long_list(result_gpkg, tmp_path):
    from ntmgis.plan import renovation_plan

    plan = renovation_plan(result_gpkg)
    counts = plan.groupby("hamlet").size().to_dict()
    assert max(counts.values()) > maps.PLAN_FIRST_ROWS  # the sample's lists go on
    (pdf,) = maps.render_maps(result_gpkg, tmp_path, by="plan", date="2026-12-02")
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(pdf) as doc:
        texts = [p.extract_text() or "" for p in doc.pages]
        meta = doc.metadata
    assert len(texts) == maps.plan_page_count(counts)
    expected = 0
    for n in counts.values():  # the rule by hand: 19 on the map page, 31 on each next one
        expected += 1 + -(-max(0, n - 19) // 31)
    assert len(texts) == expected
    # the first hamlet of the layer: its whole list, numbered 1..n over its pages
    name = "Thôn Đông Hòa"
    pages = [t for t in texts if name.upper() in t]
    assert len(pages) == 1 + -(-max(0, counts[name] - 19) // 31)
    assert "(tiếp theo, từ số 20)" in pages[1]
    mine = plan[plan["hamlet"] == name].sort_values("plan_order")
    text = "\n".join(pages)
    at = []  # each row: its number, its owner (a long name wraps), its sheet/parcel
    for order, owner, sheet, no in mine[["plan_order", "owner", "sheet", "parcel_no"]].values:
        first = re.escape(owner.split()[0])
        row = rf"^{order} (?:{first}[^\n]*? )?{sheet}/{no} "
        found = re.search(row, text, flags=re.MULTILINE)
        assert found, (order, owner, sheet, no)
        assert all(word in text for word in owner.split())
        at.append(found.start())
    assert at == sorted(at) and len(at) == counts[name]
    assert not _pdf_chars_under(pdf, 8.0)
    assert meta["Title"] == "ban_do_xa_thanh_binh_plan_priority"


def test_cli_plan_maps(tmp_path):
    from test_plan import base

    from ntmgis.cli import cli

    path = tmp_path / "result.gpkg"
    base().to_file(path, layer="parcels")
    out = tmp_path / "out"
    run = CliRunner().invoke(cli, ["plan", str(path), "-o", str(out), "--maps"])
    assert run.exit_code == 0, run.output
    pdf = out / "ban_do_xa_plan_priority.pdf"
    assert pdf.exists() and str(pdf) in run.output
    pdfplumber = pytest.importorskip("pdfplumber")
    with pdfplumber.open(pdf) as doc:
        assert len(doc.pages) == 2
        assert _owners_in_order(doc.pages[0].extract_text()) == [1, 2, 3, 4, 5]


def test_messages_are_vietnamese_first(layers_dir, tmp_path):
    """The default language is Vietnamese: the user reads the catalogue's vi sentence."""
    import unicodedata

    from ntmgis import i18n

    i18n.set_language("vi")
    try:
        parcels = contract_parcels(layers_dir).head(5)
        with pytest.raises(InputError) as info:
            maps.render_maps(parcels, tmp_path, by="colour")
        assert str(info.value) == (
            "Không có kiểu bản đồ 'colour'. Hãy chọn một trong: flag, survey, agreement, plan."
        )
        with pytest.raises(SchemaError, match="Thiếu cột 'agreement'"):
            maps.render_maps(parcels.drop(columns="agreement"), tmp_path, by="agreement")
    finally:
        i18n.set_language(None)
    for key in ("error.maps.no_crs", "warning.maps.unknown_hamlets", "error.progress.no_area",
                "warning.plan.planned_parcel_missing", "warning.needs.unknown_need",
                "error.styles.not_gpkg", "warning.palette.unknown_values",
                "warning.report.pdf_missing"):  # fmt: skip
        vi = i18n.CATALOGUE[key]["vi"]
        assert vi == unicodedata.normalize("NFC", vi) and vi != i18n.CATALOGUE[key]["en"]


def test_an_empty_plan_is_said_not_printed(tmp_path):
    from test_plan import base

    from ntmgis import i18n

    tended = base()
    tended = tended[tended["survey_class"].eq("vuon_mau")]  # nothing to renovate
    i18n.set_language("en")
    try:
        with pytest.raises(InputError, match="holds no garden"):
            maps.render_maps(tended, tmp_path, by="plan")
    finally:
        i18n.set_language(None)
    assert not list(tmp_path.glob("*.pdf*"))


# --------------------------------------------------------------------------------------
# drawing fast, printing the same (issue 20)
# --------------------------------------------------------------------------------------


def _pdf_bytes(fig, path):
    import matplotlib

    with matplotlib.rc_context(maps._RC):
        fig.savefig(path, format="pdf", metadata={"CreationDate": None, "Creator": None})
    return path.read_bytes()


def test_text_drawn_again_from_its_record_writes_the_renderer_bytes(tmp_path):
    """Strings repeated in a text group: the PDF equals plain Text artists' byte for byte."""
    from matplotlib.figure import Figure

    strings = ["433", "Vườn hoang hóa (+3 lý do)", "433", "CHỦ TỊCH", "433",
               "Vườn hoang hóa (+3 lý do)", "CHỦ TỊCH"]  # fmt: skip
    styles = [{"fontsize": 6}, {"fontsize": 5, "fontweight": "bold"}, {"fontsize": 6},
              {"fontsize": 6, "ha": "center"}, {"fontsize": 6, "rotation": 30},
              {"fontsize": 5, "fontweight": "bold"}, {"fontsize": 6, "ha": "center"}]  # fmt: skip

    def page(grouped):
        fig = Figure(figsize=(4, 3))
        ax = maps._page_axes(fig, (100.0, 75.0))
        _, group = fig._ntmgis_page
        for i, (s, style) in enumerate(zip(strings, styles)):
            if grouped:
                group.add(10 + 3 * i, 60 - 8 * i, s, ax.transData, **style)
            else:
                ax.text(10 + 3 * i, 60 - 8 * i, s, clip_on=False, **style)
        return fig

    grouped = _pdf_bytes(page(True), tmp_path / "grouped.pdf")
    plain = _pdf_bytes(page(False), tmp_path / "plain.pdf")
    assert grouped == plain
    import zlib

    streams = re.findall(rb"stream\r?\n(.*?)\r?\nendstream", grouped, re.S)
    content = b"".join(zlib.decompress(x) for x in streams if x[:1] == b"x")
    assert content.count(b"\nBT\n") + content.startswith(b"BT\n") == len(strings)


def test_compound_paths_start_anew_before_an_overlapping_parcel():
    """A overlaps B, C stands apart, D touches A and B: drawn as [A] then [B, C, D]."""
    from shapely.geometry import box

    geoms = np.array([box(0, 0, 2, 2), box(1, 1, 3, 3), box(5, 5, 6, 6), box(2, 0, 3, 1)],
                     dtype=object)  # fmt: skip
    overlaps = maps._overlaps(geoms)
    assert overlaps == {0: {1}, 1: {0}}  # touching is not overlapping
    paths = maps._paths(geoms)
    out = maps._compound(paths, overlaps, [0, 1, 2, 3])
    assert [len(p.vertices) for p in out] == [5, 15]
    np.testing.assert_array_equal(out[0].vertices, paths[0].vertices)
    np.testing.assert_array_equal(out[1].vertices[5:10], paths[2].vertices)
    # drawn in another order, B first: B and A overlap, so A starts a new path
    out = maps._compound([paths[1], paths[0], paths[2]], overlaps, [1, 0, 2])
    assert [len(p.vertices) for p in out] == [5, 10]
    # strokes only: one path of every ring
    assert [len(p.vertices) for p in maps._compound(paths)] == [20]


def test_overlapping_parcels_look_as_drawn_one_by_one():
    """Agg pixels of overlapping parcels of one class: batched equal to one path a parcel."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from shapely.geometry import box

    geoms = np.array([box(0, 0, 4, 4), box(2, 2, 6, 6), box(4, 0, 8, 2), box(1, 5, 3, 9),
                      box(5, 5, 9, 9)], dtype=object)  # fmt: skip
    paths = maps._paths(geoms)
    theme = maps._palette.get_theme("flag")
    key = theme.categories[0].key

    def pixels(how):
        fig = Figure(figsize=(2, 2), dpi=100)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(-1, 10)
        ax.set_ylim(-1, 10)
        ax.set_axis_off()
        if how == "batched":
            maps._draw_parcels(ax, paths, [key] * 5, theme, lw=3, overlaps=maps._overlaps(geoms),
                               order=list(range(5)))  # fmt: skip
        else:
            drawn = maps._compound(paths) if how == "one path" else paths
            ax.add_collection(PathCollection(drawn, facecolors=theme.categories[0].color,
                                             edgecolors=maps._palette.EDGE, linewidths=3,
                                             zorder=2))  # fmt: skip
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].astype(int)

    plain = pixels("one by one")
    # batched: equal but for the antialiasing along C's edge shared with B (4 levels)
    assert np.abs(pixels("batched") - plain).max() <= 4
    # one path for all would show the strokes that later fills covered
    assert np.abs(pixels("one path") - plain).max() > 40  # the edge over the fill: 51


def test_lean_font_subsets_drop_only_the_layout_tables():
    """Inside the context the backend's subsets lack GSUB/GPOS/GDEF/MATH, outlines kept."""
    import io

    import matplotlib
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from matplotlib.backends import _backend_pdf_ps as helper

    path = matplotlib.get_data_path() + "/fonts/ttf/DejaVuSans.ttf"

    def made():  # as the backend makes a subset: through its helper module's `subset`
        options = helper.subset.Options(glyph_names=True, recommended_glyphs=True)
        font = helper.subset.load_font(path, options)
        subsetter = helper.subset.Subsetter(options=options)
        subsetter.populate(text="Vườn hoang hóa 433")
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
        return TTFont(io.BytesIO(out.getvalue()))

    full = made()
    with maps._lean_font_subsets(), maps._lean_font_subsets():  # nested: one substitution
        lean = made()
        assert helper.subset is not subset
    assert helper.subset is subset  # restored after the last one
    assert {"GSUB", "GPOS", "GDEF"} <= set(full.keys())
    assert not {"GSUB", "GPOS", "GDEF", "MATH"} & set(lean.keys())
    assert {"glyf", "hmtx", "cmap", "name"} <= set(lean.keys())
    for ch in "ờó4":  # the same outline and advance for each character drawn
        name_full = full.getBestCmap()[ord(ch)]
        name_lean = lean.getBestCmap()[ord(ch)]
        g_full, g_lean = full["glyf"][name_full], lean["glyf"][name_lean]
        g_full.expand(full["glyf"])
        g_lean.expand(lean["glyf"])
        assert full["hmtx"][name_full] == lean["hmtx"][name_lean]
        assert g_full.getCoordinates(full["glyf"])[0] == g_lean.getCoordinates(lean["glyf"])[0]


def test_shaped_metrics_equal_the_pdf_renderers_and_feed_its_drawing():
    """One shaping a string: the same size as the renderer measures; the glyphs drawn."""
    import io
    import random

    from matplotlib.backends.backend_pdf import PdfFile, RendererPdf
    from matplotlib.font_manager import FontProperties

    renderer = RendererPdf(PdfFile(io.BytesIO()), 72, 100, 100)
    letters = "0123456789 .,;:()–-/%ABCDEFGHIKLMNOPQRSTUVWXYabcdeghiklmnopqrstuvxyàáảãạăằắẳẵặâ" \
              "ầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđĐƯƠÀÁÂÊÔ²×…"  # fmt: skip
    rng = random.Random(5)
    strings = ["433", "Vườn hoang hóa (+3 lý do)", "CHỦ TỊCH", "AV To Wa", " ", "lp"]
    strings += ["".join(rng.choice(letters) for _ in range(rng.randint(1, 60))) for _ in range(300)]
    styles = [(4.4352, "normal", "normal"), (5.04, "bold", "normal"), (7.0, "normal", "italic"),
              (11.55, "bold", "normal")]  # fmt: skip
    props = [FontProperties(family="DejaVu Sans", size=size, weight=weight, style=style)
             for size, weight, style in styles]  # fmt: skip
    shaped = 0
    for prop in props:
        for s in strings:
            fast = maps._shaped_metrics(renderer, s, prop)
            if fast is not None:
                shaped += 1
                assert fast == renderer.get_text_width_height_descent(s, prop, False), (s, prop)
    # a combining mark (x + U+0301), a glyph from no font: measured by the renderer
    assert maps._shaped_metrics(renderer, "x\u0301", props[0]) is None
    assert maps._shaped_metrics(renderer, "fi", props[0]) is None  # a ligature: one glyph
    assert maps._shaped_metrics(renderer, "\u4e2d", props[0]) is None
    if maps._pdf_layout() is None:  # matplotlib before 3.11 (QGIS's Debian 3.6): never used
        assert shaped == 0
        return
    assert shaped == len(props) * len(strings)
    kept = renderer.file._ntmgis_shaped[("433", maps._font_key(props[0]))]
    assert [item.char for item in kept[2]] == ["4", "3", "3"]


def test_reasons_fitted_to_the_household_table_are_never_cut_inside_brackets():
    """The visit table's reasons cell keeps whole reasons, or says them short (without
    their reference); it never cuts one inside its brackets, which left "(vườn có canh
    tác trong xã" without its number on the printed map."""
    from ntmgis.flags import _sentence, visit_headline
    from ntmgis.maps import _fit_reasons

    evidence = [_sentence("core_ndvi_amplitude", 0.06, 0.13, "binh_thuong")[0],
                _sentence("ndvi_resid_std", 0.01, 0.05, "binh_thuong")[0],
                "nhưng " + _sentence("ndmi_dry_fall", -0.02, 0.01, "binh_thuong")[0]]  # fmt: skip
    text = "; ".join([visit_headline("hoang_hoa", "hoang_hoa")[0], *evidence])
    whole = text.split("; ")
    for width in range(12, 160, 3):
        lines = _fit_reasons(text, width)
        said = " ".join(lines)
        assert len(lines) <= 2 and said.count("(") == said.count(")"), (width, lines)
        kept = [p for p in said.split("; ") if p]
        for part in kept[:-1]:  # every reason but the last is whole or said short
            assert part in whole or any(w.startswith(part) for w in whole), (width, part)
        if width >= 140:  # a wide column: the first reasons whole, with their reference
            assert said.startswith(f"{whole[0]}; {whole[1]}"), (width, said)
