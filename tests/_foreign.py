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
