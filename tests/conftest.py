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
