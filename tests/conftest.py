from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ROOT / "layers"
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def layers_dir() -> Path:
    """The committed sample commune."""
    return LAYERS


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The project's shared real data (../shared/data); skip when absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data folder {SHARED} is absent on this machine")
    return SHARED


@pytest.fixture(scope="session")
def small_sample(tmp_path_factory):
    """A small sample commune (300 parcels, 12 dates), written once per session."""
    from ntmgis.sample import make_sample

    root = tmp_path_factory.mktemp("small_sample")
    return make_sample(root, seed=11, n_parcels=300, n_dates=12)


@pytest.fixture(scope="session")
def foreign(tmp_path_factory, small_sample):
    """A commune written as Xã Nghi Phong writes it ("Xóm 1, xã Nghi Phong", a rice field
    "Cánh đồng Bàu"): a copy of the small sample rewritten by tests/_foreign.py.
    (root, facts)."""
    import shutil

    from _foreign import make_foreign

    root = tmp_path_factory.mktemp("nghi_phong")
    shutil.copytree(small_sample.root, root / "xa")
    return root, make_foreign(root, root / "xa")


@pytest.fixture(scope="session")
def foreign_runs(foreign):
    """Both campaigns of the foreign commune run (baseline 2020, follow-up 2022)."""
    import warnings

    import ntmgis

    _, facts = foreign
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [ntmgis.run(cfg) for cfg in facts["configs"]]


@pytest.fixture
def english(monkeypatch):
    """Library messages in English, for tests that match their text (a module opts in with
    ``pytestmark = pytest.mark.usefixtures("english")``); back to the environment's after."""
    from ntmgis.i18n import set_language

    monkeypatch.setenv("NTMGIS_LANG", "en")
    set_language("en")
    yield
    set_language(None)
