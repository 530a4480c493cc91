"""``ntmgis maps``: printed village maps (PDF, and PNG for slides) from a result GeoPackage."""

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
    "--by",
    type=click.Choice(["flag", "survey", "agreement"]),
    default="flag",
    show_default=True,
    help="Colour parcels by the imagery flag, the survey class, or their agreement.",
)
@click.option(
    "--paper", type=click.Choice(["A4", "A3"], case_sensitive=False), default="A4",
    show_default=True, help="Paper size (each page's orientation follows its hamlet).",
)  # fmt: skip
@click.option("--png", is_flag=True, help="Also write every page as a PNG (for slides).")
@click.option("--commune", default=None, help="Commune name for the titles (default: from RESULT).")
@click.option("--year", default=None, type=int, help="Year in the titles (default: from RESULT).")
@click.option(
    "--date", "date", default="today", show_default=True,
    help="Date in the signature line: YYYY-MM-DD, 'today', or 'blank' to fill in by hand.",
)  # fmt: skip
def maps(result, outdir, by, paper, png, commune, year, date) -> None:
    """Print village maps from RESULT (the GeoPackage `ntmgis run` wrote) into OUT.

    One PDF: a commune overview page, then a page per hamlet (landscape or portrait from
    the hamlet's shape) with the households to visit, continued on further pages when
    the list is long. Fonts with Vietnamese glyphs are embedded.
    """
    from .._io import check_writable
    from ..maps import render_maps
    from ._common import progress_bar

    check_writable(outdir)  # before any work
    with progress_bar("ntmgis maps") as progress:
        paths = render_maps(
            result,
            outdir,
            by=by,
            paper=paper.upper(),
            png=png,
            commune=commune,
            year=year,
            date=None if date == "blank" else date,
            progress=progress,
        )
    click.echo(f"Wrote {paths[0]}")
    if len(paths) > 1:
        click.echo(f"Wrote {len(paths) - 1} PNG page(s) beside it.")
