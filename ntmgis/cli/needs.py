"""``ntmgis needs``: Step 3, the households' support needs per hamlet and for the commune."""

from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--out", "outdir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option(
    "--codebook",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook TOML with its own [[needs]].",
)
def needs(result, outdir, codebook) -> None:
    """Summarise the needs column of RESULT (a run's GeoPackage, or 'ntmgis survey' output).

    OUT gets nhu_cau_ho_tro.xlsx and .csv (per hamlet and for the commune: households and
    garden area by need, crossed with the survey class and the imagery verdict) and
    nhu_cau_ho_tro_chi_tiet.csv (one row per parcel and need).
    """
    from pathlib import Path

    from .._io import write_csv
    from ..needs import needs_report_table, needs_table
    from ..report import write_workbook

    tidy = needs_table(result, codebook=codebook)
    table = needs_report_table(result, codebook=codebook, tidy=tidy)
    out = Path(outdir)
    written = [
        write_workbook({"needs": table}, out / "nhu_cau_ho_tro.xlsx"),
        write_csv(out / "nhu_cau_ho_tro.csv", table),
        write_csv(out / "nhu_cau_ho_tro_chi_tiet.csv", tidy),
    ]
    commune = table[table["Thôn"] == "Toàn xã"]
    from ..i18n import message

    click.echo(message("cli.needs_heading"))
    for _, row in commune.iterrows():
        click.echo(
            f"  {row['Nhu cầu hỗ trợ']}: {row['Số hộ']} hộ, {row['Diện tích vườn (m²)']:,.0f} m²"
        )
    click.echo(message("output.heading"))
    for path in written:
        click.echo(f"  {path}")
