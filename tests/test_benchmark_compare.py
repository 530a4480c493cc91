"""The pipeline benchmark's output comparison: it must see any change beyond 1e-9."""

import importlib.util
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "pipeline.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_pipeline", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs(bench, folder: Path, *, ndvi=0.5, flag="hoang_hoa", started="2026-12-02T08:00:00"):
    from ntmgis._io import write_gpkg

    folder.mkdir(parents=True, exist_ok=True)
    parcels = gpd.GeoDataFrame(
        {
            "parcel_id": ["1-1", "1-2", "1-3"],
            "ndvi_median": [ndvi, 0.25, float("nan")],
            "visit": [True, False, True],
            "flag": [flag, "binh_thuong", None],
        },
        geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10), box(20, 0, 30, 10)],
        crs=32648,
    )
    meta = pd.DataFrame(
        {"key": ["commune", "started_utc", "ntmgis_version"], "value": ["Xã A", started, "9"]}
    )
    write_gpkg(folder / "xa.gpkg", {"parcels": parcels, "run_metadata": meta})
    pd.DataFrame({"thon": ["Thôn A"], "so_vuon": [3]}).to_csv(folder / "r.csv", index=False)
    return bench.fingerprint(folder)


def test_equal_outputs_agree_and_volatile_metadata_is_left_out(bench, tmp_path):
    a = _outputs(bench, tmp_path / "a")
    b = _outputs(bench, tmp_path / "b", started="2030-01-01T00:00:00")  # another start time
    assert set(a) == {"gpkg:parcels", "gpkg:run_metadata", "csv:r.csv"}
    assert a["gpkg:parcels"]["rows"] == 3
    assert a["gpkg:parcels"]["columns"]["ndvi_median"]["nan"] == 1
    assert a["gpkg:parcels"]["columns"]["ndvi_median"]["sum"] == pytest.approx(0.75)
    assert list(a["gpkg:run_metadata"]["columns"]) == ["meta:commune"]
    assert bench.compare(a, b) == []
    # within 1e-9 relative: the same result
    c = _outputs(bench, tmp_path / "c", ndvi=0.5 * (1 + 1e-12))
    assert bench.compare(a, c) == []


def test_changed_values_text_and_missing_outputs_are_found(bench, tmp_path):
    a = _outputs(bench, tmp_path / "a")
    number = _outputs(bench, tmp_path / "n", ndvi=0.5 * (1 + 1e-6))
    assert bench.compare(number, a) == [
        "gpkg:parcels.ndvi_median: values differ (sums 0.7500005, reference 0.75)"
    ]
    text = _outputs(bench, tmp_path / "t", flag="nghi_van")
    assert bench.compare(text, a) == ["gpkg:parcels.flag: values differ"]
    gone = dict(a)
    del gone["csv:r.csv"]
    assert bench.compare(gone, a) == ["csv:r.csv: only in the reference"]
    pages = {"maps": {"pages": 3, "text": ["x", "y", "z"]}}
    assert bench.compare({"maps": {"pages": 4}}, pages) == ["maps: 4 pages, reference 3"]
    other = {"maps": {"pages": 3, "text": ["x", "Y", "z"]}}
    assert bench.compare(other, pages) == ["maps: the text of page(s) [2] differs"]
