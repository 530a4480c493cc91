"""The real-QGIS tier: the QGIS program, a fresh profile, the ZIP, the supported install.

Two sessions of the ``qgis`` program under ``xvfb-run`` (``real_qgis_session.py`` is the
startup script), in Vietnamese, on a commune the other tests never see (sample seed 7,
300 parcels, 2021, moved to another VN-2000 zone, EPSG:9210, with DIADANH place names):

1. install the plugin ZIP with the plugin manager's "Install from ZIP", then the
   libraries with the plugin's installer (pinned, hash-checked wheels into the profile);
   quit (the installer says QGIS must restart);
2. check the installation (the smoke test inside QGIS's process), run the chain from the
   toolbar dialog and through Processing, cancel a run, print the atlas; quit.

Asserted: QGIS exits with status 0 both times (no "double free" at exit), the results of
both routes equal ``ntmgis.run`` on the same inputs, the layers come styled and named by
commune and period, the cancel says so at once and writes nothing. Screenshots of the
dialogs are kept in ``artefacts/qgis/`` (or ``$NTMGIS_ARTEFACTS``).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SESSION = Path(__file__).with_name("real_qgis_session.py")
COMMUNE = "Xã Nghi Phong"
ZONE = "EPSG:9210"  # VN-2000 / TM-3 105-45: not the sample's 105-30
ARTEFACTS = Path(os.environ.get("NTMGIS_ARTEFACTS", ROOT / "artefacts" / "qgis"))

pytestmark = pytest.mark.skipif(
    not (shutil.which("qgis") and shutil.which("xvfb-run")),
    reason="the qgis program or xvfb-run is missing (make test installs qgis xvfb xauth)",
)


def _foreign_commune(folder):
    """Seed 7, 300 parcels, 12 dates of 2021, reprojected to EPSG:9210, DIADANH names."""
    import geopandas as gpd
    import pyogrio

    from ntmgis.sample import make_sample

    make_sample(folder, seed=7, n_parcels=300, n_dates=12, year=2021, followup_year=None)
    source = next(Path(folder).glob("*.gpkg"))
    target = Path(folder) / "xa_nghi_phong.gpkg"
    for name, _kind in pyogrio.list_layers(source):
        layer = gpd.read_file(source, layer=name).to_crs(ZONE)
        if name == "commune" and "ten_xa" in layer:
            layer["ten_xa"] = COMMUNE
        if name == "parcels" and "DIADANH" in layer:
            layer["DIADANH"] = layer["DIADANH"].astype(str) + ", xã Nghi Phong"
        layer.to_file(target, layer=name, driver="GPKG", engine="pyogrio", VERSION="1.2")
    files = {p.name: p for p in Path(folder).iterdir()}
    survey = next(p for n, p in files.items() if n.startswith("survey_") and n.endswith(".xlsx"))
    targets = next(p for n, p in files.items() if n.startswith("targets_") and n.endswith(".csv"))
    imagery = next(p for n, p in files.items() if p.is_dir() and n.startswith("s2"))
    return target, survey, targets, imagery


def _qgis(profile, job, log):
    """One session of the QGIS program; returns its exit status."""
    env = dict(os.environ, NTMGIS_REAL_JOB=str(job), QT_QPA_PLATFORM="xcb", LANG="vi_VN.UTF-8")
    env.pop("PYTHONPATH", None)  # QGIS's own Python, as a user has it
    command = [
        "xvfb-run", "-a", "-s", "-screen 0 1366x900x24", "qgis", "--profiles-path",
        str(profile), "--lang", "vi", "--nologo", "--noversioncheck", "--code", str(SESSION),
    ]  # fmt: skip
    with open(log, "w", encoding="utf-8") as handle:
        done = subprocess.run(command, env=env, stdout=handle, stderr=subprocess.STDOUT,
                              timeout=900, check=False)  # fmt: skip
    return done.returncode


@pytest.fixture(scope="module")
def sessions(tmp_path_factory):
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_plugin

    import ntmgis

    work = tmp_path_factory.mktemp("real_qgis")
    zip_path = build_plugin.build(work / "dist")
    parcels, survey, targets, imagery = _foreign_commune(work / "xa")
    dates = sorted(s.date for s in ntmgis.find_scenes(imagery) if s.date)
    period = f"{dates[0]:%Y-%m-%d}:{dates[-1]:%Y-%m-%d}"
    job = {
        "zip": str(zip_path), "parcels": str(parcels), "survey": str(survey),
        "targets": str(targets), "imagery": str(imagery), "period": period,
        "commune": COMMUNE, "name": "xa_nghi_phong",
        "dialog_out": str(work / "ket_qua_hop_thoai"),
        "processing_out": str(work / "ket_qua_processing"),
        "cancel_out": str(work / "ket_qua_huy"), "atlas_pdf": str(work / "atlas.pdf"),
        "screenshots": str(work / "screenshots"),
    }  # fmt: skip
    profile = work / "profile"
    out = {"job": job, "work": work}
    for number, steps in enumerate(
        (["install_zip", "install_libraries"],
         ["check_installation", "dialog_run", "processing_run", "cancel_run", "atlas"]), 1
    ):  # fmt: skip
        session = work / f"session{number}.json"
        path = work / f"job{number}.json"
        path.write_text(json.dumps(dict(job, steps=steps, session=str(session))), "utf-8")
        code = _qgis(profile, path, work / f"qgis{number}.log")
        out[number] = {
            "code": code,
            "log": (work / f"qgis{number}.log").read_text("utf-8", errors="replace"),
            "state": json.loads(session.read_text("utf-8")) if session.is_file() else {},
        }
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    for shot in sorted((work / "screenshots").glob("*.png")):
        shutil.copyfile(shot, ARTEFACTS / shot.name)
    # the library's own run on the same inputs
    raw = {
        "commune": {"name": COMMUNE, "year": dates[-1].year},
        "inputs": {
            "parcels": str(parcels), "parcels_layer": "parcels", "hamlets": str(parcels),
            "hamlets_layer": "hamlets", "survey": str(survey), "imagery": str(imagery),
            "targets": str(targets),
        },
        "imagery": {"period": period},
        "outputs": {"dir": str(work / "thu_vien"), "name": "xa_nghi_phong", "maps": False},
    }  # fmt: skip
    out["library"] = ntmgis.run(ntmgis.load_config(raw))
    return out


def _state(sessions, number):
    state = sessions[number]["state"]
    assert state.get("finished"), sessions[number]["log"][-3000:]
    assert state["errors"] == [], state["errors"]
    return state


def test_zip_and_libraries_install_in_a_fresh_profile(sessions):
    state = _state(sessions, 1)
    assert state["plugin_loaded"]
    assert state["plugin_path"].endswith("profiles/default/python/plugins/ntmgis_qgis")
    assert "ntmgis" in state["missing_before"]
    assert state["toolbar"] == ["Vườn hoang hóa"]  # Vietnamese UI
    assert "Cài đặt thư viện" in state["menu"]
    assert "shapely==2.0.7" in state["plan"]
    assert state["target"].endswith("profiles/default/python/dependencies/ntmgis")
    assert "Successfully installed" in state["install_log_tail"]
    assert "Đã cài vào" in state["install_outcome"]


def test_qgis_exits_cleanly_after_the_libraries_were_used(sessions):
    for number in (1, 2):
        assert sessions[number]["code"] == 0, sessions[number]["log"][-2000:]
        assert "double free" not in sessions[number]["log"]


def test_smoke_test_runs_inside_qgis_with_qgis_own_geos(sessions):
    state = _state(sessions, 2)
    assert state["interposed"] is True  # QGIS's GEOS/GDAL/PROJ answer the wheels' calls
    assert state["conflicts"] == []
    version, geos, path = state["shapely"]
    assert version == "2.0.7" and geos[:2] == [3, 11]
    assert "/python/dependencies/ntmgis/" in path  # the profile's copy, not another
    assert [ok for _, ok, _ in state["smoke"]] == [True, True, True, True]
    assert "Kiểm tra chạy thử" in state["check_text"]
    assert state["library_language"] == "vi"


def _compare(gpkg, library):
    import geopandas as gpd
    import numpy as np

    got = gpd.read_file(gpkg, layer="parcels").set_index("parcel_id")
    expected = library.parcels.set_index("parcel_id")
    assert len(got) == len(expected) == 300  # every parcel, none dropped
    assert got.index.tolist() == expected.index.tolist()
    for column in ("flag", "survey_class", "agreement", "visit"):
        assert got[column].astype(str).tolist() == expected[column].astype(str).tolist(), column
    np.testing.assert_allclose(
        got["flag_score"].to_numpy(float), expected["flag_score"].to_numpy(float)
    )
    hamlets = gpd.read_file(gpkg, layer="hamlets")
    assert hamlets["rank"].tolist() == library.hamlets["rank"].tolist()


def test_toolbar_dialog_runs_the_chain_prefilled_styled_and_named(sessions):
    state = _state(sessions, 2)
    job = sessions["job"]
    assert state["dialog_prefilled"] == {"commune": COMMUNE, "period": job["period"]}
    assert state["dialog_started"]
    _compare(state["dialog_results"]["GPKG"], sessions["library"])
    suffix = f" – {COMMUNE} – " + job["period"].replace(":", " – ")
    assert state["dialog_layers"] == [
        ["Thôn" + suffix, "categorizedSymbol"],
        ["Thửa đất đã phân loại" + suffix, "categorizedSymbol"],
    ]
    assert state["overwrite_question"].startswith("Thư mục")


def test_processing_route_equals_the_library_and_loads_styled_layers(sessions):
    state = _state(sessions, 2)
    _compare(state["processing_results"]["GPKG"], sessions["library"])
    layers = {name.split(" – ")[0]: (renderer, attribute)
              for name, renderer, attribute in state["processing_layers"]}  # fmt: skip
    assert layers["Thửa đất đã phân loại"][0] == "categorizedSymbol"
    assert '"flag"' in layers["Thửa đất đã phân loại"][1]
    assert layers["Thôn"][0] == "categorizedSymbol"
    assert any(COMMUNE in name for name, _, _ in state["processing_layers"])


def test_cancel_is_shown_at_once_and_writes_nothing(sessions):
    state = _state(sessions, 2)
    assert state["cancel_task_running"]
    assert state["cancel_status_at_once"] == "Đang hủy…"
    assert state["cancel_status"].startswith("Đã hủy")
    assert state["cancel_files"] == [] and not state["cancel_folder_exists"]


def test_atlas_prints_one_page_per_hamlet(sessions):
    state = _state(sessions, 2)
    assert state["atlas_pages"] == len(sessions["library"].hamlets) > 0


def test_screenshots_of_the_dialogs_in_vietnamese_are_kept(sessions):
    names = sorted(p.name for p in ARTEFACTS.glob("*.png"))
    for expected in ("01_cai_dat_thu_vien_hoi.png", "03_kiem_tra_cai_dat.png",
                     "04_hop_thoai_vuon_hoang_hoa.png", "06_dang_huy.png"):  # fmt: skip
        assert expected in names
