"""A "foreign" commune for the place-name tests: the sample rewritten as Xã Nghi Phong writes it.

``ntmgis sample`` writes a commune whose DIADANH reads "Thôn Đông Hòa". A real cadastral
file in Nghệ An reads "Xóm 1, xã Nghi Phong", and its rice fields "Cánh đồng Bàu, xã Nghi
Phong". :func:`make_foreign` takes a sample commune and rewrites, without touching
``ntmgis/sample.py``:

* the parcels' DIADANH: hamlet ``k`` -> "Xóm k, xã Nghi Phong" (the sixth hamlet "xóm Hoà
  Bình, xã Nghi Phong", ten of its parcels spelt "Xom Hoa Binh, xa Nghi Phong");
* every rice parcel (LUC) -> "Cánh đồng Bàu, xã Nghi Phong";
* the surveys' and the targets' hamlet column -> "Xóm k" (their spelling defects kept as
  defects of the new names: no diacritics -> "Xom k");
* the configs: no hamlet layer (the hamlets come from the place text), surveys as CSV.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import pyogrio

FIELD = "Cánh đồng Bàu, xã Nghi Phong"


def _key(name: str) -> str:
    text = unicodedata.normalize("NFD", str(name)).replace("đ", "d").replace("Đ", "D")
    text = "".join(c for c in text if unicodedata.category(c) != "Mn").lower().strip()
    return re.sub(r"^(thon)\s+", "", re.sub(r"\s+", " ", text))


def _names(hamlets):
    """Sample hamlet -> (new parsed hamlet name, new DIADANH)."""
    out = {}
    for k, name in enumerate(hamlets, start=1):
        if k == 6:
            out[_key(name)] = ("Xóm Hòa Bình", "xóm Hoà Bình, xã Nghi Phong")
        else:
            out[_key(name)] = (f"Xóm {k}", f"Xóm {k}, xã Nghi Phong")
    return out


def _rewrite_table(path: Path, column: str, names: dict) -> None:
    """Rewrite the hamlet column of a CSV (title rows above the header allowed)."""
    text = path.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    head = next(i for i, r in enumerate(rows) if column in r)
    col = rows[head].index(column)
    for r in rows[head + 1 :]:
        if len(r) > col and r[col].strip():
            new = names[_key(r[col])][0]
            plain = "".join(ch for ch in unicodedata.normalize("NFD", r[col]) if ord(ch) < 128)
            r[col] = _key(new).capitalize() if plain == r[col] else new
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8-sig")


def make_foreign(root: Path, sample_dir: Path) -> dict:
    """Rewrite the sample commune in ``sample_dir`` into the foreign commune (in place).

    Returns the expected facts: ``hamlets`` (the six parsed names), ``field_parcels``
    (how many parcels lie in the rice field), ``merged`` (parcels spelt without
    diacritics), ``configs`` (the baseline and follow-up TOML paths).
    """
    sample_dir = Path(sample_dir)
    gpkg = sample_dir / "thanh_binh.gpkg"
    hamlets = gpd.read_file(gpkg, layer="hamlets")["ten_thon"].tolist()
    names = _names(hamlets)
    parcels = gpd.read_file(gpkg, layer="parcels")
    diadanh = [names[_key(v)][1] for v in parcels["DIADANH"]]
    sixth = [i for i, v in enumerate(diadanh) if v.startswith("xóm Hoà")]
    for i in sixth[:10]:
        diadanh[i] = "Xom Hoa Binh, xa Nghi Phong"
    rice = (parcels["KHLOAIDAT"] == "LUC").to_numpy()
    parcels["DIADANH"] = [FIELD if r else d for r, d in zip(rice, diadanh)]
    layers = {name: gpd.read_file(gpkg, layer=name) for name, _ in pyogrio.list_layers(gpkg)}
    layers["parcels"] = parcels
    out = sample_dir / "nghi_phong.gpkg"
    for name, frame in layers.items():
        if name == "hamlets":
            continue
        frame.to_file(out, layer=name, driver="GPKG")
    for year in (2020, 2022):
        survey = sample_dir / f"survey_{year}.csv"
        if survey.exists():
            _rewrite_table(survey, "Thôn", names)
    _rewrite_table(sample_dir / "targets_2020.csv", "Thôn", names)
    configs = []
    for toml in ("thanh_binh.toml", "thanh_binh_2022.toml"):
        path = sample_dir / toml
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        follow = "_2022" in toml
        text = re.sub(r"(?m)^hamlets(_layer)? = .*\n", "", text)
        text = text.replace('"thanh_binh.gpkg"', '"nghi_phong.gpkg"')
        text = re.sub(r"survey_(\d{4})\.xlsx", r"survey_\1.csv", text)
        text = text.replace('name = "Xã Thanh Bình"', 'name = "Xã Nghi Phong"')
        # place names are under test, not the flags: the rules decide (fast), and only the
        # baseline prints its maps
        text = text.replace('calibration = "auto"', 'calibration = "rules"')
        if follow:
            text = text.replace("maps = true", "maps = false")
        text = re.sub(r"(?m)^place = .*$", 'place = "Nghi Phong"', text)
        base = (Path(root) / "out").as_posix()
        text = re.sub(r"(?m)^dir = .*$", f'dir = "{base}/theo_doi_2022"' if follow
                      else f'dir = "{base}"', text)  # fmt: skip
        text = re.sub(r"(?m)^baseline = .*$", f'baseline = "{base}/thanh_binh.gpkg"', text)
        new = sample_dir / toml.replace("thanh_binh", "nghi_phong")
        new.write_text(text, encoding="utf-8")
        configs.append(new)
    return {
        "hamlets": [v[0] for v in names.values()],
        "parcels": len(parcels),
        "field_parcels": int(rice.sum()),
        "merged": int((parcels["DIADANH"] == "Xom Hoa Binh, xa Nghi Phong").sum()),
        "configs": configs,
        "gpkg": out,
    }


# --------------------------------------------------------------------------------------
# An unseen commune: another zone, a .prj-less legacy Shapefile, another survey's layout
# --------------------------------------------------------------------------------------

#: garden classes as another commune words them (each the same class as the sample's)
UNSEEN_WORDING = {"Vườn hoang hóa": ("Vườn hoang", "VƯỜN HOANG", "vườn bỏ hoang")}


def cp1258_text(text: str) -> str:
    """``text`` as Windows-1258 bytes (tone marks combining), shown as Latin-1 characters.

    What a Shapefile DBF written by a Vietnamese Windows program holds, as GDAL reads it
    without a ``.cpg``.
    """
    out = b""
    for ch in unicodedata.normalize("NFC", text):
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tone = next(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
            out += unicodedata.normalize("NFC", parts.replace(tone, "")).encode("cp1258")
            out += tone.encode("cp1258")
    return out.decode("latin-1")


def _fold_upper(text: str) -> str:
    plain = unicodedata.normalize("NFD", text).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in plain if unicodedata.category(c) != "Mn").upper()


def _unseen_parcels(sample_dir: Path, out: Path, names: dict) -> int:
    """The parcels as Xã Nghĩa Lâm's .prj-less cp1258 Shapefile in Nghệ An's zone."""
    import warnings

    parcels = gpd.read_file(sample_dir / "thanh_binh.gpkg", layer="parcels")
    address = [f"{names[_key(v)]}, xã Nghĩa Lâm, huyện Nghĩa Đàn, tỉnh Nghệ An"
               for v in parcels["DIADANH"]]  # fmt: skip
    parcels = parcels.drop(columns=["DIADANH"]).rename(
        columns={"SHBANDO": "SoHieuToBanDo", "SHTHUA": "SoThuTuThua", "KHLOAIDAT": "LoaiDat",
                 "TENCHU": "ChuSuDung"}
    )  # fmt: skip
    parcels["DIACHI"] = address
    parcels = parcels.to_crs("EPSG:9208")  # VN-2000 / TM-3 104°45' (Nghệ An)
    for column in ("ChuSuDung", "DIACHI"):
        parcels[column] = [cp1258_text(v) if isinstance(v, str) else v for v in parcels[column]]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the DBF cuts the names to 10 characters: wanted
        parcels.to_file(out, driver="ESRI Shapefile", encoding="ISO-8859-1")
    out.with_suffix(".cpg").unlink(missing_ok=True)
    out.with_suffix(".prj").unlink()
    return len(parcels)


def _unseen_survey(sample_dir: Path, out: Path, names: dict) -> dict:
    """The survey as a cp1258 CSV: upper-case headers without diacritics, other wording,
    dates written three ways, a row of no parcel, three rows typed twice."""
    text = (sample_dir / "survey_2020.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    head = next(i for i, r in enumerate(rows) if "Số thửa" in r)
    header, body = rows[head], [list(r) for r in rows[head + 1 :] if any(c.strip() for c in r)]
    col = {name: header.index(name) for name in ("Thôn", "Phân loại vườn", "Ngày khảo sát")}
    reworded = 0
    for i, r in enumerate(body):
        if r[col["Thôn"]].strip():
            r[col["Thôn"]] = _fold_upper(names[_key(r[col["Thôn"]])])
        words = UNSEEN_WORDING.get(r[col["Phân loại vườn"]])
        if words and i % 2 == 0:
            r[col["Phân loại vườn"]] = words[(i // 2) % len(words)]
            reworded += 1
        date = re.fullmatch(r"(\d\d)/(\d\d)/(\d{4})", r[col["Ngày khảo sát"]])
        if date and i % 3:
            d, m, y = date.groups()
            r[col["Ngày khảo sát"]] = f"{d}-{m}-{y}" if i % 3 == 1 else f"{int(d)}.{int(m)}.{y[2:]}"
    stranger = ["", "HO9999", "Người Lạ", "XOM 1", "99", "999", "300", "Vườn tạp", "", "", ""]
    body = [*body, stranger[: len(header)], *body[10:13]]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerows([["UBND XA NGHIA LAM"], [_fold_upper(h) for h in header], *body])
    out.write_bytes(cp1258_text(buf.getvalue()).encode("latin-1"))
    return {"rows": len(body), "reworded": reworded, "first_row": 3}


def make_unseen(root: Path, sample_dir: Path) -> dict:
    """Rewrite the sample commune in ``sample_dir`` as Xã Nghĩa Lâm (Nghệ An) writes it.

    * the parcels: a Shapefile without ``.prj`` in VN-2000 / TM-3 104°45' (EPSG:9208),
      its DBF in cp1258 without ``.cpg``, field names cut to 10 characters by the DBF
      (SoHieuToBanDo, SoThuTuThua), land use ``LoaiDat``, owner ``ChuSuDung``, and the
      hamlet only in the address ``DIACHI`` ("Xóm 3, xã Nghĩa Lâm, huyện ..., tỉnh ...");
    * the survey: a cp1258 CSV, one title row, headers upper case without diacritics
      ("SO TO", "PHAN LOAI VUON"), hamlets "XOM 3", half of the abandoned gardens written
      "Vườn hoang" / "VƯỜN HOANG" / "vườn bỏ hoang", dates dd/mm/yyyy, dd-mm-yyyy and
      d.m.yy, a row for parcel 99-999 (no such parcel), three rows typed twice;
    * the config: the province named (its zone is the file's CRS), targets by "Xóm k".

    Returns the facts the run must show: ``config``, ``parcels``, ``hamlets``,
    ``survey_rows``, ``reworded``.
    """
    sample_dir, root = Path(sample_dir), Path(root)
    hamlets = gpd.read_file(sample_dir / "thanh_binh.gpkg", layer="hamlets")["ten_thon"]
    names = {_key(name): f"Xóm {k}" for k, name in enumerate(hamlets, start=1)}
    n_parcels = _unseen_parcels(sample_dir, sample_dir / "NghiaLam_thua.shp", names)
    survey = _unseen_survey(sample_dir, sample_dir / "khao_sat_2020.csv", names)
    targets = (sample_dir / "targets_2020.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(targets)))
    for r in rows[1:]:
        r[0] = names[_key(r[0])]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    (sample_dir / "chi_tieu_2020.csv").write_text(buf.getvalue(), encoding="utf-8-sig")
    config = sample_dir / "nghia_lam.toml"
    config.write_text(
        '[commune]\nname = "Xã Nghĩa Lâm"\nyear = 2020\n\n'
        '[inputs]\nparcels = "NghiaLam_thua.shp"\nprovince = "Nghệ An"\n'
        'survey = "khao_sat_2020.csv"\nimagery = "s2"\ntargets = "chi_tieu_2020.csv"\n\n'
        '[imagery]\nperiod = "2020-01-01:2020-12-31"\n\n[flags]\ncalibration = "rules"\n\n'
        f'[outputs]\ndir = "{(Path(root) / "out").as_posix()}"\nname = "nghia_lam"\n'
        "maps = false\nreport = true\n",
        encoding="utf-8",
    )
    return {
        "config": config,
        "parcels": n_parcels,
        "hamlets": sorted(names.values()),
        "survey_rows": survey["rows"],
        "reworded": survey["reworded"],
    }


def formula_targets(path):
    """A targets workbook as openpyxl writes it: formulas in B2 (=1+2) and C3 (=30+5),
    their values not computed (what an exporter that does not compute formulas saves)."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Chỉ tiêu"
    book.active.append(["Thôn", "Số vườn mẫu", "Tỷ lệ vườn đạt chuẩn (%)"])
    book.active.append(["Thôn 1", "=1+2", 40])
    book.active.append(["Thôn 2", 4, "=30+5"])
    book.save(path)
    return path
