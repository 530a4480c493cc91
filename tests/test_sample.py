"""The sample commune: determinism, geometry, imagery conventions and documented defects."""

import json
import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from openpyxl import load_workbook

from ntmgis.config import load_config, read_toml
from ntmgis.errors import InputError
from ntmgis.sample import (
    GARDEN_CLASSES,
    HAMLET_NAMES,
    SURVEY_HEADERS,
    make_sample,
    sample_paths,
)

ABBREVIATIONS = {"VM", "ĐC", "CT", "VT", "HH"}


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


FOLDED_CLASSES = {_fold(v) for v in GARDEN_CLASSES.values()}


def _survey_rows(path):
    ws = load_workbook(path, read_only=True)["Khảo sát vườn"]
    return [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.fixture(scope="module")
def parcels(layers_dir):
    return gpd.read_file(sample_paths(layers_dir)["gpkg"], layer="parcels")


@pytest.fixture(scope="module")
def commune(layers_dir):
    return gpd.read_file(sample_paths(layers_dir)["gpkg"], layer="commune")


# ---------------------------------------------------------------- determinism
def test_committed_layers_are_exactly_what_the_default_seed_generates(tmp_path, layers_dir):
    fresh = make_sample(tmp_path, seed=2020)
    committed = sample_paths(layers_dir)
    new = sample_paths(fresh.root)
    for key in (
        "survey_csv",
        "survey_xlsx",
        "targets",
        "truth",
        "defects",
        "items",
        "readme",
        "config",
    ):
        assert new[key].read_bytes() == committed[key].read_bytes(), key
    later_new = sample_paths(fresh.root, followup=2022)
    later = sample_paths(layers_dir, followup=2022)
    for key in ("survey_csv", "survey_xlsx", "truth", "defects", "items", "config"):
        assert later_new[key].read_bytes() == later[key].read_bytes(), key
    a = gpd.read_file(committed["gpkg"], layer="parcels")
    b = gpd.read_file(new["gpkg"], layer="parcels")
    pd.testing.assert_frame_equal(a.drop(columns="geometry"), b.drop(columns="geometry"))
    assert shapely.equals_exact(a.geometry.values, b.geometry.values, tolerance=0).all()
    scenes = sorted(p.parent.name for p in committed["scenes"].glob("*/B08.tif"))
    assert scenes == sorted(p.parent.name for p in new["scenes"].glob("*/B08.tif"))
    for scene in scenes[:3]:
        for band in ("B04", "B08", "SCL"):
            with rasterio.open(committed["scenes"] / scene / f"{band}.tif") as x:
                with rasterio.open(new["scenes"] / scene / f"{band}.tif") as y:
                    np.testing.assert_array_equal(x.read(), y.read())


def test_same_seed_same_data_other_seed_same_shape(tmp_path, small_sample):
    again = make_sample(tmp_path / "again", seed=11, n_parcels=300, n_dates=12, followup_year=None)
    other = make_sample(tmp_path / "other", seed=7, n_parcels=300, n_dates=12, followup_year=None)
    p1 = sample_paths(small_sample.root)
    p2, p3 = sample_paths(again.root), sample_paths(other.root)
    assert p1["survey_csv"].read_bytes() == p2["survey_csv"].read_bytes()
    g1 = gpd.read_file(p1["gpkg"], layer="parcels")
    g2 = gpd.read_file(p2["gpkg"], layer="parcels")
    g3 = gpd.read_file(p3["gpkg"], layer="parcels")
    assert g1.geometry.geom_equals_exact(g2.geometry, tolerance=0).all()
    # another seed: the same commune and schema, different parcels
    assert list(g3.columns) == list(g1.columns) and len(g3) == len(g1) == 300
    assert not g1.geometry.geom_equals_exact(g3.geometry, tolerance=0.01).all()
    c1 = gpd.read_file(p1["gpkg"], layer="commune").geometry.iloc[0]
    c3 = gpd.read_file(p3["gpkg"], layer="commune").geometry.iloc[0]
    assert c1.equals(c3)


# ---------------------------------------------------------------- vector layers
def test_commune_is_the_real_outline_under_a_fictional_name(commune, shared_data):
    assert commune.crs.to_epsg() == 9209
    assert commune["ten_xa"].iloc[0] == "Xã Thanh Bình"
    real = gpd.read_file(shared_data / "vn_admin_2009" / "communes_ha_tinh.gpkg")
    real = real[real["commune_vn"] == "Xã Đức La"].to_crs(9209).geometry.iloc[0]
    assert commune.geometry.iloc[0].symmetric_difference(real).area < 0.001 * real.area


def test_parcels_valid_inside_not_overlapping(parcels, commune, layers_dir):
    assert len(parcels) >= 1500
    assert parcels.crs.to_epsg() == 9209
    assert parcels.is_valid.all() and not parcels.is_empty.any()
    outline = commune.geometry.iloc[0]
    assert parcels.within(outline).all()
    area = parcels.area
    assert area.min() >= 150 and area.max() <= 3000
    assert (area < 200).sum() >= 10  # hard case: parcels under two Sentinel-2 pixels
    np.testing.assert_allclose(parcels["DIENTICH"], area, atol=0.05)
    left, right = parcels.sindex.query(parcels.geometry, predicate="intersects")
    pairs = left < right
    overlap = shapely.area(
        shapely.intersection(parcels.geometry.values[left[pairs]],
                             parcels.geometry.values[right[pairs]])
    )  # fmt: skip
    assert overlap.max() < 1e-6
    # they share edges: most parcels touch a neighbour along a line, not at a point
    shared = shapely.length(
        shapely.intersection(parcels.geometry.values[left[pairs]],
                             parcels.geometry.values[right[pairs]])
    )  # fmt: skip
    touching = np.unique(np.concatenate([left[pairs][shared > 5], right[pairs][shared > 5]]))
    assert len(touching) > 0.9 * len(parcels)
    hamlets = gpd.read_file(sample_paths(layers_dir)["gpkg"], layer="hamlets")
    assert 5 <= len(hamlets) <= 8
    assert set(parcels["DIADANH"]) == set(hamlets["ten_thon"]) == set(HAMLET_NAMES)
    joined = gpd.sjoin(parcels, hamlets, predicate="within")
    assert (joined["DIADANH"] == joined["ten_thon"]).all() and len(joined) == len(parcels)


def test_cadastral_attributes(parcels):
    assert not parcels.duplicated(["SHBANDO", "SHTHUA"]).any()
    codes = set(parcels["KHLOAIDAT"])
    assert {"ONT", "ONT+CLN", "CLN", "HNK", "LUC"} <= codes
    assert codes <= {"ONT", "ONT+CLN", "CLN", "HNK", "LUC", "NTS"}
    assert parcels["TENCHU"].str.split().str.len().ge(3).all()
    assert parcels["MAHO"].str.fullmatch(r"HO\d{4}").all()
    assert parcels["MAHO"].nunique() < len(parcels)  # some households hold two parcels


# ---------------------------------------------------------------- imagery
def test_scenes_georeferenced_cover_commune_and_follow_offset_rule(layers_dir, commune):
    paths = sample_paths(layers_dir)
    folders = sorted(p for p in paths["scenes"].iterdir() if p.is_dir())
    assert len(folders) >= 12
    outline = commune.to_crs(32648).geometry.iloc[0]
    dates = []
    for folder in folders:
        item = json.loads((folder / "item.json").read_text())
        props = item["properties"]
        dates.append(props["datetime"][:10])
        assert props["s2:processing_baseline"] == "02.14" and props["s2:boa_add_offset"] == 0
        for band, res in [("B02", 10), ("B08", 10), ("B11", 20), ("B12", 20), ("SCL", 20)]:
            with rasterio.open(folder / f"{band}.tif") as ds:
                assert ds.crs.to_epsg() == 32648
                assert ds.res == (res, res) and ds.dtypes[0] in ("uint16", "uint8")
                assert ds.nodata == 0
                assert ds.tags(ns="IMAGE_STRUCTURE").get("LAYOUT") == "COG"
                assert shapely.box(*ds.bounds).contains(outline)
                assert ds.transform.c % 60 == 0 and ds.transform.f % 60 == 0
    assert len(set(dates)) == len(dates) and all(d.startswith("2020") for d in dates)
    collection = json.loads(paths["items"].read_text())
    assert len(collection["features"]) == len(folders)


def test_reflectance_is_plausible_and_clouds_are_marked(layers_dir):
    folders = sorted(p for p in sample_paths(layers_dir)["scenes"].iterdir() if p.is_dir())
    cloud_share = []
    for folder in folders:
        with rasterio.open(folder / "SCL.tif") as ds:
            scl = ds.read(1)
        with rasterio.open(folder / "B08.tif") as ds:
            nir = ds.read(1, out_shape=scl.shape, resampling=rasterio.enums.Resampling.average)
        valid = scl > 0
        cloudy = np.isin(scl, [8, 9]) & valid
        clear_veg = (scl == 4) & valid
        cloud_share.append(cloudy.sum() / valid.sum())
        if clear_veg.sum() > 100:
            refl = nir[clear_veg] / 10000
            assert 0.15 < np.median(refl) < 0.5
        if cloudy.sum() > 100:
            assert np.median(nir[cloudy]) / 10000 > np.median(nir[clear_veg]) / 10000
    assert max(cloud_share) > 0.8  # the cloudy rainy-season date
    assert sorted(cloud_share)[len(cloud_share) // 2] < 0.2


def test_offset_rule_from_25_january_2022(tmp_path):
    """The same scene simulated in 2020 and 2022: DNs differ by exactly 1000 from 25 Jan 2022."""
    a = make_sample(tmp_path / "y2020", seed=3, n_parcels=200, n_dates=12, year=2020,
                    followup_year=None)  # fmt: skip
    b = make_sample(tmp_path / "y2022", seed=3, n_parcels=200, n_dates=12, year=2022,
                    followup_year=None)  # fmt: skip
    fa = sorted(sample_paths(a.root)["scenes"].glob("*/item.json"))
    fb = sorted(sample_paths(b.root)["scenes"].glob("*/item.json"))
    seen = set()
    for ia, ib in zip(fa, fb):
        pb = json.loads(ib.read_text())["properties"]
        date = pb["datetime"][:10]
        after = date >= "2022-01-25"
        seen.add(after)
        assert pb["s2:processing_baseline"] == ("04.00" if after else "02.14")
        assert pb["s2:boa_add_offset"] == (-1000 if after else 0)
        with rasterio.open(ia.parent / "B04.tif") as x, rasterio.open(ib.parent / "B04.tif") as y:
            dn_a, dn_b = x.read(1).astype(int), y.read(1).astype(int)
        valid = dn_a > 0
        np.testing.assert_array_equal(dn_b[valid] - dn_a[valid], 1000 if after else 0)
    assert seen == {True, False}
    # a commune of another year runs as written: every input its config names exists
    # (the targets file was once named after the year while the file kept 2020's name)
    cfg = load_config(sample_paths(b.root)["config"])
    assert cfg.year == 2022 and cfg.targets == sample_paths(b.root)["targets"]
    assert cfg.targets.is_file() and cfg.survey.is_file()


# ---------------------------------------------------------------- survey and defects
def test_survey_xlsx_and_csv_hold_the_same_rows(layers_dir):
    paths = sample_paths(layers_dir)
    rows = _survey_rows(paths["survey_xlsx"])
    assert rows[0][0].startswith("ỦY BAN NHÂN DÂN") and "KHẢO SÁT" in rows[1][0]
    assert rows[3] == SURVEY_HEADERS
    csv_rows = pd.read_csv(paths["survey_csv"], skiprows=3, dtype=str, keep_default_na=False)
    assert list(csv_rows.columns) == SURVEY_HEADERS
    assert len(csv_rows) == len(rows) - 4
    for xrow, (_, crow) in zip(rows[4:], csv_rows.iterrows()):
        for value, text in zip(xrow, crow):
            if hasattr(value, "strftime"):
                value = value.strftime("%d/%m/%Y")
            assert ("" if value is None else str(value)) == text


def test_survey_holds_every_documented_defect(layers_dir, parcels):
    paths = sample_paths(layers_dir)
    rows = _survey_rows(paths["survey_xlsx"])
    header = rows[3]
    col = {name: header.index(name) for name in header}
    defects = pd.read_csv(paths["defects"], dtype={"survey_row": "Int64"})
    kinds = set(defects["defect"])
    expected = {
        "class_no_diacritics", "class_case", "class_spaces", "class_old_tone",
        "class_abbreviation", "misspelt_class", "hamlet_no_diacritics", "stray_spaces_name",
        "thousands_separator", "duplicate_household", "parcel_not_found", "parcel_not_surveyed",
    }  # fmt: skip
    assert expected <= kinds
    keys = set(zip(parcels["SHBANDO"], parcels["SHTHUA"]))
    surveyed = {(r[col["Số tờ"]], r[col["Số thửa"]]) for r in rows[4:]}
    for rec in defects.itertuples():
        if rec.defect == "parcel_not_surveyed":
            assert (rec.SHBANDO, rec.SHTHUA) in keys - surveyed
            continue
        row = rows[rec.survey_row - 1]
        klass = row[col["Phân loại vườn"]]
        assert (row[col["Số tờ"]], row[col["Số thửa"]]) == (rec.SHBANDO, rec.SHTHUA)
        if rec.defect == "class_no_diacritics":
            assert klass.isascii() and _fold(klass) in FOLDED_CLASSES
        elif rec.defect == "class_case":
            assert (klass.isupper() or klass.islower()) and _fold(klass) in FOLDED_CLASSES
        elif rec.defect == "class_spaces":
            assert klass != klass.strip() and _fold(klass) in FOLDED_CLASSES
        elif rec.defect == "class_old_tone":
            assert "oá" in klass or "oà" in klass
        elif rec.defect == "class_abbreviation":
            assert klass in ABBREVIATIONS
        elif rec.defect == "misspelt_class":
            assert _fold(klass) not in FOLDED_CLASSES
        elif rec.defect == "hamlet_no_diacritics":
            assert row[col["Thôn"]].isascii()
        elif rec.defect == "hamlet_old_tone":
            assert "Hoà" in row[col["Thôn"]]
        elif rec.defect == "stray_spaces_name":
            name = row[col["Họ và tên chủ hộ"]]
            assert name != " ".join(name.split())
        elif rec.defect == "thousands_separator":
            assert re.fullmatch(r"\d{1,3}(\.\d{3})+", row[col["Diện tích vườn (m²)"]])
        elif rec.defect == "duplicate_household":
            twins = [r for r in rows[4:] if r[1:] == row[1:]]
            assert len(twins) == 2
        elif rec.defect == "parcel_not_found":
            assert (row[col["Số tờ"]], row[col["Số thửa"]]) not in keys
        else:
            pytest.fail(f"undocumented defect kind {rec.defect}")


def test_truth_is_separate_and_complete(layers_dir, parcels):
    truth = pd.read_csv(sample_paths(layers_dir)["truth"])
    assert len(truth) == len(parcels)
    merged = parcels.merge(truth, on=["SHBANDO", "SHTHUA"], validate="one_to_one")
    assert (merged["DIADANH"] == merged["thon"]).all()
    assert set(truth["abandoned"]) == {0, 1}
    share = truth.loc[truth["garden_class"].notna(), "abandoned"].mean()
    assert 0.1 < share < 0.4
    assert truth["hard_case"].fillna("").str.contains("abandoned_orchard").sum() >= 20
    # the survey file carries no truth column
    assert "condition" not in _survey_rows(sample_paths(layers_dir)["survey_xlsx"])[3]


# ---------------------------------------------------------------- package hygiene
def test_import_ntmgis_imports_no_qgis():
    code = (
        "import sys, ntmgis, ntmgis.sample, ntmgis.pipeline, ntmgis.cli;"
        "bad = [m for m in sys.modules if m == 'qgis' or m.startswith('qgis.')];"
        "assert not bad, bad; print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_cli_version_and_help():
    from click.testing import CliRunner

    from ntmgis import __version__
    from ntmgis.cli import cli

    runner = CliRunner()
    assert runner.invoke(cli, ["--version"]).output.strip().endswith(__version__)
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0 and "sample" in result.output and "run" in result.output


# ---------------------------------------------------------------- the follow-up campaign
def test_followup_campaign_renovates_at_each_hamlets_pace(layers_dir):
    truth = pd.read_csv(sample_paths(layers_dir, followup=2022)["truth"])
    base = pd.read_csv(sample_paths(layers_dir)["truth"])
    assert list(truth["SHBANDO"]) == list(base["SHBANDO"])
    assert (truth["condition_before"] == base["condition"]).all()
    was = base["abandoned"] == 1
    renovated = was & (truth["abandoned"] == 0)
    assert 0.3 < renovated.sum() / was.sum() < 0.8
    by_hamlet = renovated[was].groupby(base.loc[was, "thon"]).mean()
    assert by_hamlet.max() - by_hamlet.min() > 0.15  # hamlets keep their own pace
    assert (truth.loc[renovated, "condition"].isin(["renovated_prior", "renovating"])).all()
    # the survey of the later year says so: most renovated gardens claim "đã cải tạo"
    claims = truth.loc[truth["condition"] == "renovated_prior", "survey_claim"]
    assert (claims == "Vườn đã cải tạo").mean() > 0.8


def test_followup_scenes_carry_the_2022_offset(layers_dir):
    folder = sample_paths(layers_dir, followup=2022)["scenes"]
    items = [json.loads(p.read_text()) for p in sorted(folder.glob("*/item.json"))]
    assert len(items) >= 12
    for item in items:
        props = item["properties"]
        after = props["datetime"][:10] >= "2022-01-25"
        assert props["s2:boa_add_offset"] == (-1000 if after else 0)
        assert item["assets"]["nir"]["raster:bands"][0]["offset"] == (-0.1 if after else 0)
        scene = folder / item["id"]
        with rasterio.open(scene / "SCL.tif") as s, rasterio.open(scene / "B08.tif") as b:
            scl = s.read(1)
            nir = b.read(1, out_shape=scl.shape, resampling=rasterio.enums.Resampling.nearest)
        veg = scl == 4
        if veg.sum() > 100:
            refl = (np.median(nir[veg]) + props["s2:boa_add_offset"]) / 10000
            assert 0.15 < refl < 0.5


def test_cli_sample_seed_7_gives_a_commune_of_the_same_shape(tmp_path, layers_dir):
    from click.testing import CliRunner

    from ntmgis.cli import cli

    out = tmp_path / "x"
    result = CliRunner().invoke(
        cli, ["sample", str(out), "--seed", "7", "--dates", "12", "--no-followup"]
    )
    assert result.exit_code == 0, result.output
    assert "parcels: 1600" in result.output
    new = gpd.read_file(sample_paths(out)["gpkg"], layer="parcels")
    old = gpd.read_file(sample_paths(layers_dir)["gpkg"], layer="parcels")
    assert list(new.columns) == list(old.columns) and len(new) == len(old)
    assert set(new["DIADANH"]) == set(old["DIADANH"])
    assert new.is_valid.all() and not new.geometry.equals(old.geometry)


def test_cli_sample_another_year_and_its_followup(tmp_path):
    """``--year`` moves both campaigns: the follow-up is two years later unless told."""
    from click.testing import CliRunner

    from ntmgis.cli import cli

    out = tmp_path / "y"
    result = CliRunner().invoke(cli, ["sample", str(out), "--seed", "5", "--parcels", "200",
                                      "--dates", "12", "--year", "2023",
                                      "--followup-dates", "12"])  # fmt: skip
    assert result.exit_code == 0, result.output
    base = load_config(sample_paths(out)["config"])
    raw = read_toml(sample_paths(out, followup=2025)["config"])
    raw["inputs"].pop("baseline")  # the base campaign's run output, not written here
    later = load_config(raw, base=out)
    assert (base.year, later.year) == (2023, 2025)
    for cfg, year in ((base, "2023"), (later, "2025")):
        items = sorted(Path(cfg.imagery).glob("*/item.json"))
        assert len(items) == 12
        assert {json.loads(p.read_text())["properties"]["datetime"][:4] for p in items} == {year}


def test_the_baseline_files_are_named_by_their_year(tmp_path):
    """A 2023 campaign's survey is survey_2023.xlsx, its targets targets_2023.csv (they
    were survey_2020.xlsx whatever the year); sample_paths finds them from the config."""
    root = tmp_path / "y2023"
    make_sample(root, seed=4, n_parcels=200, n_dates=12, year=2023, followup_year=2025)
    names = {p.name for p in root.iterdir()}
    assert {"survey_2023.xlsx", "survey_2023.csv", "targets_2023.csv", "survey_2025.xlsx"} <= names
    assert not any("2020" in n for n in names)
    paths = sample_paths(root)
    assert paths["survey_xlsx"].name == "survey_2023.xlsx" and paths["targets"].is_file()
    assert sample_paths(root, followup=2025)["survey_xlsx"].name == "survey_2025.xlsx"
    raw = read_toml(paths["config"])
    assert (raw["inputs"]["survey"], raw["inputs"]["targets"]) == ("survey_2023.xlsx",
                                                                   "targets_2023.csv")  # fmt: skip
    assert read_toml(sample_paths(root, followup=2025)["config"])["inputs"]["targets"] == (
        "targets_2023.csv")  # fmt: skip
    assert "`survey_2023.xlsx`" in paths["readme"].read_text(encoding="utf-8")
    # a sample written before (survey_2020.xlsx for a 2023 campaign): by its config's names
    for old, new in (("survey_2023.xlsx", "survey_2020.xlsx"), ("survey_2023.csv",
                     "survey_2020.csv"), ("targets_2023.csv", "targets_2020.csv")):  # fmt: skip
        (root / old).rename(root / new)
    config = paths["config"].read_text(encoding="utf-8").replace("_2023.", "_2020.")
    paths["config"].write_text(config, encoding="utf-8")
    older = sample_paths(root)
    assert older["survey_xlsx"].is_file() and older["targets"].name == "targets_2020.csv"
    assert load_config(older["config"]).year == 2023
    with pytest.raises(InputError, match="2023"):  # a follow-up is later than the baseline
        make_sample(tmp_path / "same", seed=4, n_parcels=200, n_dates=12, year=2023,
                    followup_year=2023)  # fmt: skip


# ---------------------------------------------------------------- a realistic sensor
def test_a_displaced_scene_shows_the_ground_beside_it_by_hand():
    from ntmgis.sample import _blur, _displace

    # a field edge at x = 50 m on the 2 m simulation grid: 0 to its west, 1 east of it
    ground = np.zeros((5, 50))
    ground[:, 25:] = 1.0
    seen = _displace(ground, 3.0, 0.0, step=2.0)  # the scene 3 m east of where it is
    # a 10 m pixel 50-60 m holds 50-57 m of the field's east side seen from 47-57 m: 0.7
    pixel = seen[:, 25:30].mean()
    assert pixel == pytest.approx(0.7, abs=1e-12)
    assert seen[0, 24:28].tolist() == [0.0, 0.0, 0.5, 1.0]
    # north is up the rows: 4 m north moves the edge of a row field by two cells
    rows = np.zeros((20, 3))
    rows[10:] = 1.0
    assert _displace(rows, 0.0, 4.0, step=2.0)[:, 0].tolist() == [0.0] * 8 + [1.0] * 12
    # a Gaussian PSF of 0.5 pixel keeps a bright pixel's centre at (1 / (1 + 2 e^-2 +
    # 2 e^-8))^2 = 0.6187 of it and the sum of the light
    spot = np.zeros((9, 9, 2))
    spot[4, 4] = 1.0
    blurred = _blur(spot, 0.5)
    assert blurred[4, 4, 0] == pytest.approx((1 / (1 + 2 * np.exp(-2) + 2 * np.exp(-8))) ** 2)
    assert blurred.sum() == pytest.approx(2.0)
    assert blurred[4, 4, 1] == blurred[4, 4, 0] and blurred[4, 5, 0] < blurred[4, 4, 0]


def test_a_misregistered_sample_is_found_where_its_items_say_by_the_alignment_check(tmp_path):
    import json

    from ntmgis.crs import estimate_shift

    plain = make_sample(tmp_path / "plain", seed=3, n_parcels=200, n_dates=12, followup_year=None)
    moved = make_sample(tmp_path / "moved", seed=3, n_parcels=200, n_dates=12, followup_year=None,
                        misregistration=15.0, psf=0.45)  # fmt: skip
    a, b = sample_paths(plain.root), sample_paths(moved.root)
    # the sensor has its own random stream: the commune, its survey and truth are the same
    for key in ("survey_csv", "truth", "defects"):
        assert a[key].read_bytes() == b[key].read_bytes(), key
    parcels = gpd.read_file(a["gpkg"], layer="parcels")
    checked, largest = 0, 0.0
    for folder in sorted(p for p in b["scenes"].iterdir() if p.is_dir()):
        props = json.loads((folder / "item.json").read_text())["properties"]
        assert props["ntmgis:psf_sigma_px"] == 0.45
        east, north = props["ntmgis:displacement_m"]
        if props["eo:cloud_cover"] > 5:
            continue
        with rasterio.open(folder / "B04.tif") as r, rasterio.open(folder / "B08.tif") as n:
            red, nir = r.read(1).astype(float), n.read(1).astype(float)
            transform, crs = r.transform, r.crs
        found = estimate_shift(parcels, (nir - red) / (nir + red), transform=transform,
                               crs=crs, max_shift=60)  # fmt: skip
        # the parcels sit where the scene shows them less its displacement, to a pixel
        assert abs(found["dx"] + east) <= 10.0 and abs(found["dy"] + north) <= 10.0, folder.name
        checked, largest = checked + 1, max(largest, abs(east), abs(north))
    assert checked >= 3 and largest > 10.0
    assert "displaced by 15 m per axis" in moved.summary()
    assert "## The sensor" in b["readme"].read_text(encoding="utf-8")
    assert "## The sensor" not in a["readme"].read_text(encoding="utf-8")
    with pytest.raises(InputError, match="misregistration"):
        make_sample(tmp_path / "bad", seed=3, n_parcels=200, n_dates=12, misregistration=-1)
