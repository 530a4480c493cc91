"""The whole chain on a commune written as ntmgis had never seen (tests/_foreign.py).

Xã Nghĩa Lâm's files (:func:`_foreign.make_unseen`): a .prj-less cp1258 Shapefile in
another VN-2000 zone with DBF-cut field names and the hamlet only in the address; a cp1258
survey with upper-case headers without diacritics, "Vườn hoang", three date spellings, a
row of no parcel and rows typed twice. Before this branch the command line stopped at the
parcels (no parcel-number column, then no CRS) and, past those, put every parcel in
"(chưa xác định thôn)". Run as a user runs it: ``ntmgis run`` and ``ntmgis.run``.
"""

from __future__ import annotations

import re
import shutil
import warnings

import geopandas as gpd
import pytest
from _foreign import make_unseen

import ntmgis


@pytest.fixture(scope="module")
def unseen(tmp_path_factory, small_sample):
    root = tmp_path_factory.mktemp("nghia_lam")
    shutil.copytree(small_sample.root, root / "xa")
    return root, make_unseen(root, root / "xa")


@pytest.fixture(scope="module")
def unseen_result(unseen):
    _, facts = unseen
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = ntmgis.run(facts["config"])
    return result, [str(w.message) for w in caught if issubclass(w.category, ntmgis.NtmgisWarning)]


def test_every_parcel_reaches_the_output_in_its_hamlet(unseen, unseen_result):
    root, facts = unseen
    result, said = unseen_result
    out = gpd.read_file(result.outputs["gpkg"], layer="parcels")
    assert len(out) == facts["parcels"] == 300
    assert out.crs.to_epsg() == 9208  # the province's zone, said once
    assert sum("EPSG:9208" in s and "Nghệ An" in s for s in said) == 1
    assert out["parcel_id"].is_unique and not out["parcel_id"].str.startswith("row-").any()
    assert out["survey_status"].notna().all() and out["parcel_status"].notna().all()
    assert sorted(out["hamlet"].dropna().unique()) == facts["hamlets"]
    assert out["hamlet"].notna().all()
    assert set(out["place_commune"]) == {"Xã Nghĩa Lâm"}
    # the cp1258 owners decoded back to the sample's names, parcel by parcel
    source = gpd.read_file(root / "xa" / "thanh_binh.gpkg", layer="parcels")
    written = dict(zip(source["SHBANDO"].astype(str) + "-" + source["SHTHUA"].astype(str),
                       source["TENCHU"]))  # fmt: skip
    assert out["owner"].tolist() == [written[i] for i in out["parcel_id"]]
    hamlets = gpd.read_file(result.outputs["gpkg"], layer="hamlets")
    assert sorted(hamlets["hamlet"]) == facts["hamlets"]


def test_the_survey_joins_with_its_own_wording_and_dates(unseen, unseen_result):
    _, facts = unseen
    result, said = unseen_result
    out = gpd.read_file(result.outputs["gpkg"], layer="parcels")
    unmatched = gpd.read_file(result.outputs["gpkg"], layer="survey_unmatched")
    assert "999" in unmatched["parcel_no"].astype(str).tolist()
    assert (unmatched["reason"] == "parcel_not_found").all()
    raw = out["garden_class_raw"].dropna()
    reworded = raw.isin(["Vườn hoang", "VƯỜN HOANG", "vườn bỏ hoang"])
    assert reworded.sum() > 0
    assert (out.loc[reworded[reworded].index, "garden_class_code"] == "hoang_hoa").all()
    # every date read whatever its spelling (the sample's own defects leave none empty)
    dated = out.loc[out["survey_status"] == "matched", "survey_date"]
    assert dated.notna().all()
    assert (dated.astype(str).str[:4] == "2020").all()
    matched = out["survey_status"].isin(["matched", "duplicate_survey"])
    assert matched.sum() >= 0.9 * out["is_garden"].astype(bool).sum()
    assert not any("không có trong bộ mã" in s and "Vườn hoang'" in s for s in said)


def test_the_command_line_runs_it_in_vietnamese(unseen, tmp_path):
    from click.testing import CliRunner

    from ntmgis.cli import cli
    from ntmgis.i18n import set_language

    _, facts = unseen
    try:
        got = CliRunner().invoke(cli, ["--lang", "vi", "-q", "run", str(facts["config"]),
                                       "-o", str(tmp_path / "ra")])  # fmt: skip
    finally:
        set_language(None)
    assert got.exit_code == 0, got.output
    assert "Traceback" not in got.output
    assert "Xóm 1" in got.output and "(chưa xác định thôn)" not in got.output
    assert "Đã ghi" in got.output
    assert "Windows-1258 read as" not in got.output  # the encoding named in Vietnamese
    # the run's summary lines, in Vietnamese
    lines = got.output.splitlines()
    first = next(line for line in lines if line.startswith("Xã Nghĩa Lâm: "))
    assert first.startswith(f"Xã Nghĩa Lâm: {facts['parcels']} thửa đất, ")
    assert " vườn; kết quả ảnh: hoang_hoa " in first
    visits = next(line for line in lines if line.startswith("Kiểm tra thực địa: "))
    # an expected count is said whole ("94.5": in Vietnamese the point groups thousands)
    assert re.search(r"; dự kiến phát hiện \d+ lỗi khảo sát$", visits), visits
    assert "Các thôn: 6 thôn tách từ địa danh 'DIACHI'" in lines
    assert any(line.startswith("Dòng khảo sát: ") for line in lines)  # a sentence's capital
    for english in ("parcels,", "gardens; flags", "Field visits", "Hamlets:", "survey rows"):
        assert english not in got.output


def test_a_config_alone_names_the_parcels_fields_and_crs(unseen, tmp_path):
    """Headers ntmgis has never seen and no .prj: ``[inputs] parcels_fields`` and
    ``parcels_crs`` say what the command line's --field and --crs say."""
    from ntmgis.errors import NtmgisError

    _, facts = unseen
    folder = facts["config"].parent
    for suffix in (".shp", ".shx"):
        shutil.copyfile(folder / f"NghiaLam_thua{suffix}", folder / f"thua_la{suffix}")
    dbf = bytearray((folder / "NghiaLam_thua.dbf").read_bytes())
    columns = {}  # the DBF's field names, renamed in its header: the records stay as written
    for at in range(32, dbf.index(0x0D, 32), 32):
        name = bytes(dbf[at : at + 11]).split(b"\0")[0].decode("ascii")
        new = {"SoHieuToBa": "MANH", "SoThuTuThu": "ODAT", "LoaiDat": "MDSD"}.get(name, name)
        dbf[at : at + 11] = new.encode("ascii").ljust(11, b"\0")
        columns[new] = name
    assert {"MANH", "ODAT", "MDSD"} <= set(columns)
    (folder / "thua_la.dbf").write_bytes(bytes(dbf))
    source = gpd.read_file(folder / "NghiaLam_thua.shp",
                           columns=["SoHieuToBa", "SoThuTuThu", "LoaiDat"])  # fmt: skip
    assert source.crs is None
    text = facts["config"].read_text(encoding="utf-8")
    text = text.replace('parcels = "NghiaLam_thua.shp"\nprovince = "Nghệ An"\n',
                        'parcels = "thua_la.shp"\n')  # fmt: skip
    text = text.replace('name = "nghia_lam"', 'name = "thua_la"')
    bare = folder / "thua_la_bare.toml"
    bare.write_text(text, encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(NtmgisError):  # neither the parcel numbers nor the CRS are known
            ntmgis.run(bare)
    named = folder / "thua_la.toml"
    named.write_text(text.replace(
        '[inputs]\n',
        '[inputs]\nparcels_crs = "EPSG:9208"\n'
        'parcels_fields = { sheet = "MANH", parcel_no = "ODAT", land_use = "MDSD" }\n',
    ), encoding="utf-8")  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = ntmgis.run(named)
    out = gpd.read_file(result.outputs["gpkg"], layer="parcels")
    assert len(out) == facts["parcels"]
    assert out.crs.to_epsg() == 9208
    expected = (source["SoHieuToBa"].astype(str) + "-" + source["SoThuTuThu"].astype(str)).tolist()
    assert sorted(out["parcel_id"]) == sorted(expected)
    assert (
        out["land_use"].tolist()
        == source.set_index(
            source["SoHieuToBa"].astype(str) + "-" + source["SoThuTuThu"].astype(str)
        )
        .loc[out["parcel_id"], "LoaiDat"]
        .tolist()
    )
    assert sorted(out["hamlet"].dropna().unique()) == facts["hamlets"]
