"""The one orchestrator: run the stages that exist on a commune and write the outputs.

Today it runs on the sample commune (``ntmgis run --sample``): it reads the parcels and
hamlets, joins the Step 2 survey when the survey stage is present, and writes one
GeoPackage atomically. Later stages (imagery, statistics, flags, progress, maps) plug in
here as they land.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from ._progress import ProgressCallback, report

__all__ = ["RunResult", "run_sample", "write_gpkg_atomic"]


@dataclass
class RunResult:
    """What a run wrote and what it found."""

    outputs: dict[str, Path] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Human-readable account: what was written, then the run's messages."""
        lines = ["Wrote:"] + [f"  {name}: {path}" for name, path in self.outputs.items()]
        return "\n".join(lines + self.messages)


def write_gpkg_atomic(path: str | os.PathLike, layers: dict) -> Path:
    """Write GeoDataFrames (or DataFrames, as attribute tables) to one GeoPackage atomically.

    The file is written under a temporary name beside ``path`` and renamed into place, so
    a crash or a cancel never leaves a half-written GeoPackage. GeoPackage 1.2 is written,
    which QGIS 3.22 opens without a warning.

    Parameters
    ----------
    path : str or os.PathLike
        Target ``.gpkg`` file; replaced when it exists.
    layers : dict
        Layer name -> GeoDataFrame or DataFrame, written in order.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import geopandas as gpd
    import pyogrio

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".gpkg", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    try:
        for name, frame in layers.items():
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", VERSION="1.2")
            else:
                pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", VERSION="1.2")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def run_sample(
    outdir: str | os.PathLike = "out",
    *,
    layers: str | os.PathLike = "layers",
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run the stages that exist on the sample commune in ``layers`` and write ``outdir``.

    Parameters
    ----------
    outdir : str or os.PathLike, default "out"
        Output folder.
    layers : str or os.PathLike, default "layers"
        Folder holding the sample commune (as written by ``ntmgis sample``).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    RunResult
        Paths written and a summary.
    """
    import pandas as pd

    from ._io import read_vector
    from .sample import STEM, sample_paths

    paths = sample_paths(layers)
    result = RunResult()
    report(progress, 0.0, "reading parcels")
    parcels = read_vector(paths["gpkg"], layer="parcels", what="sample parcels")
    hamlets = read_vector(paths["gpkg"], layer="hamlets", what="sample hamlets")
    commune = read_vector(paths["gpkg"], layer="commune", what="sample commune")
    report(progress, 0.5, "summarising hamlets")
    per_hamlet = (
        parcels.groupby("DIADANH")
        .agg(so_thua=("SHTHUA", "size"), dien_tich_m2=("DIENTICH", "sum"))
        .reindex(hamlets["ten_thon"])
    )
    hamlets = hamlets.merge(per_hamlet, left_on="ten_thon", right_index=True, how="left")
    out = Path(outdir)
    gpkg = write_gpkg_atomic(
        out / f"{STEM}.gpkg", {"commune": commune, "hamlets": hamlets, "parcels": parcels}
    )
    result.outputs["GeoPackage (commune, hamlets, parcels)"] = gpkg
    table = pd.DataFrame(hamlets.drop(columns="geometry"))
    csv_path = out / f"{STEM}_hamlets.csv"
    table.to_csv(csv_path, index=False, encoding="utf-8-sig")
    result.outputs["Hamlet table (CSV)"] = csv_path
    result.messages.append(
        f"{commune['ten_xa'].iloc[0]}: {len(parcels)} parcels in {len(hamlets)} hamlets, "
        f"{parcels['DIENTICH'].sum() / 10000:.1f} ha"
    )
    result.messages.append(table.to_string(index=False))
    report(progress, 1.0, "done")
    return result
