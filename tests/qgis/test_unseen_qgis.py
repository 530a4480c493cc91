"""The plugin on a commune's own Shapefile: no .prj (its CRS set in QGIS), legacy DBF text.

A cadastral Shapefile often comes without its ``.prj``; the land officer sets the layer's
CRS in QGIS (*Set layer CRS*). The plugin used to pass the file itself to the library,
which found no CRS and asked for ``crs=`` or ``--crs``: there is neither in QGIS. It now
passes a copy with a ``.prj`` of the layer's CRS; the DBF's bytes are kept (QGIS's own
export would decode a cp1258/TCVN3 DBF by its guess and lose the text).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from _foreign import cp1258_text  # noqa: E402  (the library tests' own legacy-DBF text)

X0, Y0 = 560_000.0, 2_100_000.0  # metres of Nghệ An's zone, VN-2000 / TM-3 104°45'
OWNERS = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hữu Đức", "Phạm Thị Hòa", "Hồ Sỹ Lộc",
          "Đặng Văn Tứ"]  # fmt: skip


def _commune(folder: Path, *, prj: bool) -> tuple[Path, Path]:
    """Six parcels as a cp1258 Shapefile without .cpg (and without .prj unless ``prj``)."""
    import geopandas as gpd
    from shapely.geometry import box

    geoms = [box(X0 + 20 * i, Y0 + 20 * j, X0 + 20 * i + 20, Y0 + 20 * j + 20)
             for j in range(2) for i in range(3)]  # fmt: skip
    places = ["Xóm 3, xã Nghĩa Lâm, huyện Nghĩa Đàn"] * 3 + ["Xóm 4, xã Nghĩa Lâm"] * 3
    gdf = gpd.GeoDataFrame(
        {
            "SHBANDO": [4, 4, 4, 5, 5, 5],
            "SHTHUA": [1, 2, 3, 1, 2, 3],
            "LoaiDat": ["ONT+CLN", "CLN", "ONT", "ONT", "HNK", "CLN"],
            "TENCHU": [cp1258_text(v) for v in OWNERS],
            "DIACHI": [cp1258_text(v) for v in places],
        },
        geometry=geoms,
        crs="EPSG:9208",
    )
    path = folder / "thua_dat.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gdf.to_file(path, encoding="ISO-8859-1")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    if not prj:
        path.with_suffix(".prj").unlink()
    survey = folder / "khao_sat.csv"
    survey.write_text(
        "SO TO,SO THUA,HO TEN CHU HO,THON,PHAN LOAI VUON\n"
        "4,1,Nguyễn Văn An,xom 3,Vườn hoang\n4,2,Trần Thị Bình,Xóm 3,Vườn tạp\n"
        "5,1,Phạm Thị Hòa,Xóm 4,VƯỜN MẪU\n9,99,Người Lạ,Xóm 4,Vườn tạp\n",
        encoding="utf-8",
    )
    return path, survey


def test_shapefile_without_prj_is_told_apart():
    from ntmgis_qgis.algorithms.base import shapefile_without_crs

    assert not shapefile_without_crs(None)
    assert not shapefile_without_crs("/x/thua.gpkg")
    assert shapefile_without_crs("/nowhere/thua.shp")


def test_join_on_a_prj_less_shapefile_uses_the_layer_crs(provider, tmp_path):
    import geopandas as gpd
    import processing
    from qgis.core import QgsCoordinateReferenceSystem, QgsVectorLayer

    path, survey = _commune(tmp_path, prj=False)
    layer = QgsVectorLayer(str(path), "thua_dat", "ogr")
    assert layer.isValid()
    layer.setCrs(QgsCoordinateReferenceSystem("EPSG:9208"))
    out = tmp_path / "ghep.gpkg"
    results = processing.run(
        "ntmgis:join_survey", {"PARCELS": layer, "SURVEY": str(survey), "OUTPUT": str(out)}
    )
    assert (results["MATCHED"], results["UNMATCHED"]) == (3, 1)
    got = gpd.read_file(out, layer="parcels")
    assert got.crs.to_epsg() == 9208
    assert got.total_bounds.tolist() == pytest.approx([X0, Y0, X0 + 60, Y0 + 40])
    assert got["owner"].tolist() == OWNERS  # the cp1258 bytes decoded by the library
    assert got["hamlet"].tolist() == ["Xóm 3"] * 3 + ["Xóm 4"] * 3
    assert got["survey_status"].tolist() == ["matched", "matched", "no_survey", "matched",
                                             "no_survey", "no_survey"]  # fmt: skip
    assert got["garden_class_code"].tolist()[:2] == ["hoang_hoa", "vuon_tap"]
    assert not path.with_suffix(".prj").exists()  # the user's folder is left as it was


def test_a_prj_less_shapefile_with_no_crs_in_qgis_is_an_error_naming_the_file(provider, tmp_path):
    import processing
    from qgis.core import QgsCoordinateReferenceSystem, QgsProcessingException, QgsVectorLayer

    path, survey = _commune(tmp_path, prj=False)
    layer = QgsVectorLayer(str(path), "thua_dat", "ogr")
    layer.setCrs(QgsCoordinateReferenceSystem())  # no CRS chosen
    with pytest.raises(QgsProcessingException, match=r"thua_dat\.shp"):
        processing.run(
            "ntmgis:join_survey",
            {"PARCELS": layer, "SURVEY": str(survey), "OUTPUT": str(tmp_path / "o.gpkg")},
        )
    assert not (tmp_path / "o.gpkg").exists()
