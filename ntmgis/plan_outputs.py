"""Writing the commune's plan: the Step 4 plan, Step 3 needs and Step 6 commendations as files.

:func:`write_plan` is what ``ntmgis plan`` and the plugin's "Renovation plan" algorithm
call: the tables of :mod:`ntmgis.plan` and :mod:`ntmgis.needs` as one workbook (through
the report's XLSX writer), one CSV each (escaped, atomic) and the GeoPackage layer
``renovation_plan``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ._progress import ProgressCallback, report
from .plan import (
    PLAN_LAYER,
    commendation_table,
    commendations,
    compare_plan,
    has_plan,
    plan_progress_table,
    plan_report_table,
    renovation_plan,
)

__all__ = ["write_plan"]

logger = logging.getLogger(__name__)


def write_plan(
    result,
    outdir,
    *,
    hamlets=None,
    baseline=None,
    targets=None,
    previous_plan=None,
    codebook=None,
    stem: str = "ke_hoach_cai_tao_vuon",
    progress: ProgressCallback | None = None,
) -> dict[str, Path]:
    """Write the Step 4 plan (and, with a baseline, the Step 6 proposals) for the commune.

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame or DataFrame
        The campaign's result (``ntmgis run``'s GeoPackage).
    outdir : str or os.PathLike
        Output folder (created when missing).
    hamlets : sequence of str, optional
        Only these hamlets.
    baseline : str, os.PathLike, GeoDataFrame or DataFrame, optional
        The earlier campaign's result: adds the sheet "Đề nghị khen thưởng" and, when it
        holds a ``renovation_plan`` layer (or ``previous_plan`` is given), the sheet
        "Thực hiện kế hoạch" (planned vs done).
    targets : str, os.PathLike or DataFrame, optional
        The hamlets' targets: hamlets that exceeded every target are proposed too.
    previous_plan : str, os.PathLike or DataFrame, optional
        The earlier plan to measure (default: the baseline's ``renovation_plan`` layer).
    codebook : str or os.PathLike, optional
        A codebook with its own ``[[needs]]``.
    stem : str
        File name stem.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel (nothing is left
        half-written).

    Returns
    -------
    dict of str to pathlib.Path
        ``gpkg`` (layer ``renovation_plan``, GeoPackage 1.2, and ``plan_progress`` when
        measured), ``xlsx`` (one sheet per table, A4 landscape) and one CSV per table
        (``plan``, ``needs``, ``plan_progress``, ``commendations``).
    """
    from ._io import write_csv, write_gpkg
    from .needs import needs_report_table
    from .report import SHEETS, write_workbook

    report(progress, 0.0, "renovation plan")
    plan = renovation_plan(result, hamlets=hamlets, codebook=codebook)
    tables = {"plan": plan_report_table(plan)}
    report(progress, 0.2, "needs")
    tables["needs"] = needs_report_table(result, codebook=codebook)
    layers = {PLAN_LAYER: plan}
    if baseline is not None:
        from .result import as_result

        report(progress, 0.4, "planned vs done")
        baseline = as_result(baseline, what="baseline result")  # read once
        earlier = previous_plan
        if earlier is None and has_plan(baseline):
            earlier = baseline
        if earlier is not None:
            done = compare_plan(earlier, result)
            tables["plan_progress"] = plan_progress_table(done)
            layers["plan_progress"] = pd.DataFrame(done).drop(columns="geometry",
                                                              errors="ignore")  # fmt: skip
        ranked = None
        if targets is not None:
            from .progress import hamlet_progress

            ranked = hamlet_progress(result, targets, baseline=baseline)
        report(progress, 0.6, "commendations")
        tables["commendations"] = commendation_table(
            commendations(baseline, result, progress_table=ranked)
        )
    elif previous_plan is not None:
        done = compare_plan(previous_plan, result)
        tables["plan_progress"] = plan_progress_table(done)
    report(progress, 0.8, "writing")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = {}
    if "geometry" in plan:
        written["gpkg"] = write_gpkg(out / f"{stem}.gpkg", layers, finish=_embed_plan_style)
    written["xlsx"] = write_workbook(tables, out / f"{stem}.xlsx")
    for key, table in tables.items():
        written[key] = write_csv(out / f"{stem}_{SHEETS[key][1]}.csv", table)
    report(progress, 1.0, "done")
    return written


def _embed_plan_style(path) -> None:
    """The plan layer opens in QGIS coloured by survey class (flag: a second style)."""
    from .styles import embed_styles

    embed_styles(path, parcels=PLAN_LAYER, hamlets="", default="survey_class")
