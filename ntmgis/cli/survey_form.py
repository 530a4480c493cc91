"""``ntmgis survey-form``: the Step 2 survey forms (XLSX per hamlet) and a QField project."""

from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command("survey-form")
@click.argument("parcels", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o", "--out", "outdir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option("--layer", default=None, help="Layer of a multi-layer parcels file.")
@click.option(
    "--hamlets",
    "hamlets",
    multiple=True,
    help="Only this hamlet (repeat for more; spelling as the data writes it, diacritics "
    "and case do not matter). Default: every hamlet.",
)
@click.option(
    "--codebook",
    default=None,
    type=click.Path(exists=True, dir_okay=False),
    help="Codebook TOML (garden classes and needs); default: ntmgis's.",
)
@click.option("--commune", default=None, help="Commune name for the forms' subtitle.")
@click.option("--no-qfield", is_flag=True, help="Only the XLSX forms, no QField project.")
def survey_form(parcels, outdir, layer, hamlets, codebook, commune, no_qfield) -> None:
    """Write the Step 2 survey forms for the garden parcels of PARCELS.

    Per hamlet, OUT/phieu_khao_sat_<hamlet>.xlsx: each garden parcel pre-filled (số tờ,
    số thửa, chủ hộ, diện tích, loại đất), empty columns with drop-down lists for the
    garden class and the needs, and the date; A4 landscape with a signature block. And
    OUT/qfield/khao_sat_vuon.gpkg + .qgz, a QField project for surveying on a phone.
    'ntmgis survey' and 'ntmgis run' read the filled forms (or the GeoPackage) back.
    """
    from ..i18n import message
    from ..parcels import read_parcels
    from ..survey_form import write_survey_forms
    from ._common import progress_bar

    frame = read_parcels(parcels, layer=layer)
    with progress_bar("Phiếu khảo sát") as callback:
        written = write_survey_forms(
            frame, outdir, hamlets=list(hamlets) or None, codebook=codebook, commune=commune,
            qfield=not no_qfield, progress=callback,
        )  # fmt: skip
    summary = frame.attrs.get("hamlet_summary")
    if summary:
        click.echo(message("cli.hamlets_found", summary=summary))
    click.echo(message("output.heading"))
    for path in written.values():
        click.echo(f"  {path}")
