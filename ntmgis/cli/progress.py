"""``ntmgis progress``: hamlet progress against targets, ranking, and the commune's report."""

from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False))
@click.argument("targets", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--baseline",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Result GeoPackage of the earlier campaign (for renovations and transitions).",
)
@click.option(
    "-o", "--out", "outdir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option("--sheet", default=None, help="Sheet of an XLSX targets file (default: the first).")
@click.option(
    "--count",
    "renovations",
    type=click.Choice(["confirmed", "reported"]),
    default="confirmed",
    show_default=True,
    help="Renovations counted towards the abandoned-garden target.",
)
@click.option("--commune", default=None, help="Commune name for the report (default: from RESULT).")
@click.option(
    "--config",
    "config",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Run config (TOML) whose [report] section gives the report's administrative form "
    "(issuing body, number, place, date, signer, recipients).",
)
def progress(result, targets, baseline, outdir, sheet, renovations, commune, config) -> None:
    """Measure each hamlet's progress against TARGETS, rank the hamlets, write the report.

    RESULT is the GeoPackage written by 'ntmgis run' (layers parcels and hamlets);
    TARGETS a CSV or XLSX table of hamlet targets (Thôn, Số vườn hoang hóa đưa vào sử
    dụng, Tỷ lệ vườn đạt chuẩn (%), Số vườn mẫu). OUT gets bao_cao_tien_do.xlsx and one
    CSV per sheet; the ranked hamlets are printed.
    """
    from .._io import check_writable
    from ..i18n import message
    from ..progress import format_ranking
    from ..report import progress_report

    check_writable(outdir)  # before any work
    form = None
    if config:
        from ..config import read_toml
        from ..form import check_form

        data = read_toml(config)
        form = check_form(data.get("report", {}), f"[report] in config '{config}'")
        commune = commune or data.get("commune", {}).get("name")

    ranked, written = progress_report(
        result,
        targets,
        outdir,
        baseline=baseline,
        sheet=sheet,
        renovations=renovations,
        commune=commune,
        form=form,
    )
    click.echo(format_ranking(ranked))
    click.echo("")
    click.echo(message("output.heading"))
    for path in written.values():
        click.echo(f"  {path}")
