"""Write the hostile-input corpus of tests/data/hostile/ (small malformed files).

Run from the repository root: ``python tests/data/hostile/make_hostile.py``. Contents are
fixed (no random numbers; the tables and workbooks come out byte for byte the same, the
GeoPackages up to GDAL's timestamps); the README lists each case and what ntmgis must do
with it. Imagery cases (truncated GeoTIFFs, missing
bands, Landsat oddities) are built by the tests in a temporary folder from the same
helpers, so the committed corpus stays a few kilobytes.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# a parcel grid in VN-2000 / Nghệ An (EPSG:9209): 6 parcels of 40 m x 40 m, sheet 12
CRS = "EPSG:9209"
X0, Y0 = 560000.0, 2080000.0
HEADER = ["STT", "Số tờ", "Số thửa", "Chủ hộ", "Thôn", "Phân loại vườn", "Diện tích vườn"]
ROWS = [
    [1, 12, 1, "Nguyễn Văn An", "Xóm 1", "Vườn mẫu", "1.250"],
    [2, 12, 2, "Trần Thị Bình", "Xóm 1", "Vườn tạp", "800"],
    [3, 12, 3, "Lê Văn Cường", "Xóm 2", "Vườn hoang hóa", "650"],
    [4, 12, 4, "Phạm Thị Dung", "Xóm 2", "Vườn đạt chuẩn", "900"],
]
# text cells a spreadsheet would run as formulas (OWASP's list and its variants)
FORMULAS = [
    "=cmd|' /C calc'!A0",
    "@SUM(A1:A9)",
    "+1+1",
    "-2+3",
    "\t=1+1",
    "\r=1+1",
    '=HYPERLINK("http://x.invalid","bấm")',
]
# control characters openpyxl refuses (IllegalCharacterError) and Excel cannot show
CONTROL = "Nguy\x01ễn V\x0bă\x1fn A\x00"


def _csv_text(header, rows, delimiter=","):
    import csv

    buf = io.StringIO(newline="")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def parcels_frame(n: int = 6, *, far: bool = False, numbers=None):
    """The corpus' parcels: ``n`` squares in a row (one 50 km east when ``far``)."""
    import geopandas as gpd
    from shapely.geometry import box

    geoms = [box(X0 + 50 * i, Y0, X0 + 50 * i + 40, Y0 + 40) for i in range(n)]
    if far:
        geoms[-1] = box(X0 + 50_000, Y0, X0 + 50_040, Y0 + 40)
    return gpd.GeoDataFrame(
        {
            "SHBANDO": [12] * n,
            "SHTHUA": list(numbers) if numbers is not None else list(range(1, n + 1)),
            "KHLOAIDAT": ["ONT+CLN"] * n,
            "TENCHU": [f"Hộ {i + 1}" for i in range(n)],
        },
        geometry=geoms,
        crs=CRS,
    )


def write_tables(out: Path) -> list[Path]:
    """Survey and targets tables: encodings, sizes, formulas, broken files."""
    from ntmgis.text import unicode_to_vni

    written = []

    def put(name, data: bytes):
        path = out / name
        path.write_bytes(data)
        written.append(path)

    text = _csv_text(HEADER, ROWS)
    put("survey_utf16.csv", b"\xff\xfe" + text.encode("utf-16-le"))  # Excel "Unicode text"
    put("survey_utf16be_nobom.csv", text.encode("utf-16-be"))
    tab = _csv_text(HEADER, ROWS, delimiter="\t")
    put("survey_utf16_tab.txt", b"\xff\xfe" + tab.encode("utf-16-le"))
    # one cell longer than Python's csv limit (an unclosed quote swallowing the file)
    put(
        "survey_huge_cell.csv",
        _csv_text(HEADER, ROWS[:2]).encode() + b'3,12,3,"' + b"x" * 140_000 + b"\r\n",
    )
    put("survey_binary.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    put("survey_empty.csv", b"\r\n  \r\n")
    put("survey_old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    # formulas and control characters in text cells
    rows = [
        [i + 1, 12, i + 1, FORMULAS[i % len(FORMULAS)], "Xóm 1", "Vườn tạp", "500"]
        for i in range(5)
    ]
    rows.append([6, 12, 6, CONTROL.replace("\x00", ""), "Xóm 1", "Vườn mẫu", "-5"])
    put("survey_formulas.csv", _csv_text(HEADER, rows).encode("utf-8-sig"))
    # split parcel numbers and their spellings
    rows = [
        [1, 12, "3a", "Hộ 3a", "Xóm 1", "Vườn tạp", "300"],
        [2, 12, "3 B", "Hộ 3b", "Xóm 1", "Vườn mẫu", "300"],
        [3, 12, "12b", "Hộ 12b", "Xóm 1", "Vườn hoang hóa", "300"],
        [4, 12, "4", "Hộ 4", "Xóm 1", "Vườn đạt chuẩn", "300"],
    ]
    put("survey_split_numbers.csv", _csv_text(HEADER, rows).encode("utf-8"))
    # ';'-separated with decimal commas under a title row (Excel, Vietnamese locale)
    title = "DANH SÁCH KHẢO SÁT VƯỜN HỘ - BƯỚC 2;;;;;;\r\n"
    put(
        "survey_semicolon.csv",
        (title + _csv_text(HEADER, [r[:-1] + ["55,5"] for r in ROWS], delimiter=";")).encode(
            "utf-8-sig"
        ),
    )
    # VNI text in a CSV (legacy font users)
    vni = [[unicode_to_vni(c) if isinstance(c, str) else c for c in r] for r in [HEADER, *ROWS]]
    put("survey_vni.csv", _csv_text(vni[0], vni[1:]).encode("cp1252"))
    # a workbook cut in half (a download stopped)
    book = _xlsx_bytes(HEADER, ROWS)
    put("survey_truncated.xlsx", book[: len(book) // 2])
    put("survey_ok.xlsx", book)
    # a zip that is not a workbook
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(zipfile.ZipInfo("hello.txt", date_time=(2020, 1, 1, 0, 0, 0)), "not a workbook")
    put("survey_not_a_workbook.xlsx", buf.getvalue())
    return written


def _xlsx_bytes(header, rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Khảo sát"
    sheet.append(["DANH SÁCH KHẢO SÁT VƯỜN HỘ"])
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    # fixed timestamps inside the zip: the same bytes on every run
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                data = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2020-01-01T00:00:00Z", data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, data)
    return out.getvalue()


ESRI_LOCAL_PRJ = (
    'PROJCS["VN_2000_Nghe_An_3_do",GEOGCS["GCS_VN_2000",DATUM["D_Vietnam_2000",'
    'SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],'
    'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],'
    'PARAMETER["Central_Meridian",104.75],PARAMETER["Scale_Factor",0.9999],'
    'PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]'
)


def write_vectors(out: Path) -> list[Path]:
    """Parcel files: a Shapefile without .cpg, a VN-2000 .prj without TOWGS84, bad geometries."""
    import geopandas as gpd
    from shapely.geometry import GeometryCollection, LineString, Polygon, box

    from ntmgis.text import unicode_to_vni

    written = []
    # 1. no .cpg, owner names in VNI (short ones read as valid Unicode one by one)
    owners = ["Phan Thị An", "Lê Văn Phúc", "Nguyễn Văn Bình", "Trần Thị Lan", "Hồ Văn Tú"] * 4
    frame = parcels_frame(len(owners))
    frame["TENCHU"] = [unicode_to_vni(o) for o in owners]
    folder = out / "parcels_nocpg"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    frame.to_file(folder / "parcels.shp", encoding="latin1", engine="pyogrio")
    (folder / "parcels.cpg").unlink(missing_ok=True)
    (folder / "owners.json").write_text(json.dumps(owners, ensure_ascii=False, indent=0) + "\n")
    written += sorted(folder.iterdir())
    # 2. an ESRI .prj of VN-2000 without TOWGS84 (cannot say whether it is "local")
    folder = out / "parcels_no_towgs84"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    parcels_frame(4).to_file(folder / "parcels.shp", engine="pyogrio")
    (folder / "parcels.prj").write_text(ESRI_LOCAL_PRJ)
    written += sorted(folder.iterdir())
    # 3. every geometry problem in one layer: each parcel must come out with a status
    bad = parcels_frame(7)
    x, y = X0, Y0
    bad.loc[0, "geometry"] = Polygon(
        [(x, y), (x + 40, y + 40), (x + 40, y), (x, y + 40)]
    )  # bow-tie
    bad.loc[1, "geometry"] = Polygon()  # empty
    bad.loc[2, "geometry"] = GeometryCollection(
        [box(x + 100, y, x + 140, y + 40), LineString([(x + 100, y), (x + 150, y + 50)])]
    )
    bad.loc[3, "geometry"] = LineString([(x + 150, y), (x + 190, y + 40)])  # not an area
    bad.loc[4, "geometry"] = None  # missing
    bad.loc[5, "SHTHUA"] = 7  # a duplicate key with the next one
    path = out / "parcels_bad_geometries.gpkg"
    path.unlink(missing_ok=True)
    bad.to_file(path, layer="parcels", engine="pyogrio", VERSION="1.2")
    written.append(path)
    # 4. degrees labelled as VN-2000 metres
    deg = gpd.GeoDataFrame(
        {"SHBANDO": [1, 1], "SHTHUA": [1, 2]},
        geometry=[box(105.60, 18.50, 105.6004, 18.5004), box(105.601, 18.50, 105.6014, 18.5004)],
        crs=CRS,
    )
    path = out / "parcels_degrees.geojson"
    path.unlink(missing_ok=True)
    deg.to_file(path, driver="GeoJSON", engine="pyogrio")
    written.append(path)
    # 5. a GeoPackage cut short
    tmp = out / "_whole.gpkg"
    tmp.unlink(missing_ok=True)
    parcels_frame(6).to_file(tmp, layer="parcels", engine="pyogrio", VERSION="1.2")
    data = tmp.read_bytes()
    tmp.unlink()
    path = out / "parcels_truncated.gpkg"
    path.write_bytes(data[: len(data) // 3])
    written.append(path)
    return written


def write_rules(out: Path) -> list[Path]:
    """Rule files whose conditions must fail cleanly (never executed, never a traceback)."""
    rule = (
        '[[rules]]\nid = "{id}"\nlevel = "nghi_van"\nwhen = "{when}"\n'
        'reason_vi = "Thử"\nreason_en = "Test"\n'
    )
    cases = {
        "rules_deep.toml": ("deep", "(" * 300 + "ndvi_p90" + ")" * 300 + " < 0.4"),
        "rules_long_chain.toml": ("chain", " + ".join(["ndvi_p90"] * 2000) + " < 1"),
        "rules_not_chain.toml": ("nots", "not " * 500 + "events == 0"),
        "rules_import.toml": ("import", "__import__('os').system('echo hacked') == 0"),
        "rules_attribute.toml": ("attr", "ndvi_p90.__class__ == 0"),
    }
    written = []
    for name, (rid, when) in cases.items():
        path = out / name
        path.write_text(rule.format(id=rid, when=when.replace('"', '\\"')), encoding="utf-8")
        written.append(path)
    # a valid rule saved by Notepad as "Unicode" (UTF-16) and as UTF-8 with a BOM; one in
    # Windows-1258 (TOML must be UTF-8)
    good = "# Đất trống quanh năm\n" + rule.format(id="bare", when="ndvi_p90 < 0.3")
    for name, data in (
        ("rules_utf16.toml", b"\xff\xfe" + good.encode("utf-16-le")),
        ("rules_utf8_bom.toml", b"\xef\xbb\xbf" + good.encode("utf-8")),
        ("rules_cp1258.toml", good.encode("cp1258", errors="replace")),
    ):
        path = out / name
        path.write_bytes(data)
        written.append(path)
    return written


def main() -> None:
    out = HERE
    files = write_tables(out) + write_vectors(out) + write_rules(out)
    total = sum(p.stat().st_size for p in files)
    print(f"wrote {len(files)} files ({total / 1024:.0f} KiB) in {out}")


if __name__ == "__main__":
    main()
