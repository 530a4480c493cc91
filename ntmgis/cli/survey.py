from __future__ import annotations

import logging
from pathlib import Path

import click

logger = logging.getLogger(__name__)


def _fields(values: tuple[str, ...]) -> dict[str, str] | None:
    out = {}
    for item in values:
        if "=" not in item:
            from ..i18n import message

            raise click.BadParameter(message("cli.bad_field", text=item))
        key, column = item.split("=", 1)
        out[key.strip()] = column.strip()
    return out or None


@click.command()
@click.argument("parcels", type=click.Path(dir_okay=False))
@click.argument("survey", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--out", "out", required=True, type=click.Path(dir_okay=False),
    help="Output GeoPackage (layers parcels, survey_unmatched, join_issues).",
)  # fmt: skip
@click.option("--layer", default=None, help="Parcel layer in a multi-layer file.")
@click.option("--sheet", default=None, help="Worksheet of an XLSX survey.")
@click.option(
    "--on", "on", default="auto", show_default=True,
    type=click.Choice(["auto", "parcel", "household", "spatial"]),
    help="Join by (số tờ, số thửa), household id, or GPS point.",
)  # fmt: skip
@click.option(
    "--codebook", default=None, type=click.Path(dir_okay=False),
    help="TOML codebook of garden classes (default: the five Step 2 classes).",
)  # fmt: skip
@click.option(
    "--crs", default=None, help="CRS of the parcels when the file has none or a wrong one."
)
@click.option("--province", default=None, help="Province, to suggest a VN-2000 zone.")
@click.option(
    "--field", "fields", multiple=True, metavar="FIELD=COLUMN",
    help="Parcel column for a standard field (repeatable), e.g. --field sheet=TO.",
)  # fmt: skip
@click.option(
    "--survey-field", "survey_fields", multiple=True, metavar="FIELD=HEADER",
    help="Survey header for a standard field (repeatable), e.g. --survey-field "
    "garden_class_raw='Xếp loại'.",
)  # fmt: skip
@click.option("--report", "report_path", default=None, type=click.Path(dir_okay=False),
              help="Also write the report as .xlsx or .csv.")  # fmt: skip
def survey(
    parcels, survey, out, layer, sheet, on, codebook, crs, province, fields, survey_fields,
    report_path,
):  # fmt: skip
    """Join the Step 2 garden SURVEY (CSV/XLSX) to the PARCELS and write OUT.gpkg.

    Every parcel is written (layer ``parcels``) with its survey columns and a
    survey_status; unmatched survey rows go to ``survey_unmatched`` and every repair and
    problem to ``join_issues``. The summary is printed.
    """
    import warnings

    from .._io import check_writable, write_gpkg
    from ..errors import NtmgisWarning
    from ..parcels import read_parcels
    from ..survey import join_survey, read_survey
    from ._common import echo_warning, progress_bar

    for target in [out, report_path] if report_path else [out]:  # before any work
        check_writable(Path(target).expanduser().resolve().parent)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NtmgisWarning)
        parcel_df = read_parcels(
            parcels, layer=layer, crs=crs, fields=_fields(fields), province=province
        )
        table = read_survey(
            survey, codebook=codebook, sheet=sheet, fields=_fields(survey_fields),
            hamlets=list(parcel_df["hamlet"].dropna().unique()),
        )  # fmt: skip
        with progress_bar("Survey join") as progress:
            joined, report = join_survey(parcel_df, table, on=on, progress=progress)
    for item in caught:
        if issubclass(item.category, NtmgisWarning):
            echo_warning(item)
    path = write_gpkg(
        out,
        {"parcels": joined, "survey_unmatched": report.unmatched, "join_issues": report.issues},
    )
    if report_path:
        report.write(report_path)
    click.echo(report.summary())
    from ..i18n import message

    click.echo(message("cli.survey_written", path=path))
