"""``ntmgis plan``: Step 3 needs, the Step 4 renovation plan and Step 6 commendations."""

from __future__ import annotations

import click


@click.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--out", "outdir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option(
    "--baseline",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Result of the earlier campaign: adds the commendations (Đề nghị khen thưởng) and, "
    "when it holds a renovation_plan layer, planned vs done.",
)
@click.option(
    "--targets",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Hamlet targets (CSV/XLSX): hamlets that exceeded every target are proposed too.",
)
@click.option(
    "--previous-plan",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="An earlier plan GeoPackage (layer renovation_plan) to measure: planned vs done.",
)
@click.option("--hamlets", multiple=True, help="Only this hamlet (repeat for more).")
@click.option(
    "--codebook",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook TOML with its own [[needs]].",
)
def plan(result, outdir, baseline, targets, previous_plan, hamlets, codebook) -> None:
    """Write the commune's renovation plan from RESULT (a GeoPackage of 'ntmgis run').

    OUT gets ke_hoach_cai_tao_vuon.gpkg (layer renovation_plan: the follow-up campaign is
    measured against it), ke_hoach_cai_tao_vuon.xlsx (sheets: Kế hoạch cải tạo, Nhu cầu
    hỗ trợ, and with --baseline Đề nghị khen thưởng, Thực hiện kế hoạch) and one CSV per
    sheet.
    """
    import pandas as pd

    from ..plan_outputs import write_plan
    from ._common import progress_bar

    with progress_bar("Kế hoạch cải tạo vườn") as callback:
        written = write_plan(
            result, outdir, hamlets=list(hamlets) or None, baseline=baseline, targets=targets,
            previous_plan=previous_plan, codebook=codebook, progress=callback,
        )  # fmt: skip
    plan_csv = written.get("plan")
    if plan_csv is not None:
        table = pd.read_csv(plan_csv, encoding="utf-8-sig")
        counts = table.groupby(["Thôn", "Ưu tiên"]).size().unstack(fill_value=0)
        click.echo("Renovation plan (gardens per hamlet):")
        click.echo(counts.to_string())
    click.echo("Wrote:")
    for path in written.values():
        click.echo(f"  {path}")
