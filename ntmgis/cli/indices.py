"""``ntmgis indices``: masked index time series and composites as Cloud-Optimised GeoTIFFs."""

from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("scenes", type=click.Path(exists=True))
@click.option(
    "-o", "--out", "outdir", required=True, type=click.Path(file_okay=False), help="Output folder."
)
@click.option("--period", default=None, help="Dates to use, START:END, e.g. 2020-01-01:2020-12-31.")
@click.option(
    "--aoi", default=None, type=click.Path(exists=True), help="Area of interest (vector)."
)
@click.option("--aoi-layer", default=None, help="Layer of the AOI file, e.g. 'commune'.")
@click.option(
    "--index",
    "index_names",
    multiple=True,
    help="Index to compute (repeatable): ndvi, evi, savi, osavi, ndmi, bsi. Default: ndvi.",
)
@click.option(
    "--formula",
    "formulas",
    multiple=True,
    metavar="NAME=EXPR",
    help="Add and compute an index by formula (repeatable), e.g. 'gndvi=(nir-green)/(nir+green)'.",
)
@click.option("--grid", default=None, help="Pixel size: 10m or 20m (default: finest band).")
@click.option("--margin", default=40.0, show_default=True, help="Metres around the AOI.")
@click.option(
    "--skip-bad", is_flag=True, help="Skip unreadable scenes (reported) instead of stopping."
)
@click.option("--no-series", is_flag=True, help="Write only composites, not the per-date series.")
def indices(
    scenes,
    outdir,
    period,
    aoi,
    aoi_layer,
    index_names,
    formulas,
    grid,
    margin,
    skip_bad,
    no_series,
) -> None:
    """Compute masked vegetation indices from SCENES and write COGs to OUT.

    SCENES is a folder of scene folders (one GeoTIFF per band), multi-band GeoTIFFs, or a
    STAC ItemCollection/catalog. For every index and CRS grid, OUT gets
    <index>_series.tif (one band per date, NaN where cloudy) and <index>_composite.tif
    (median, max, min, amplitude p90-p10, clear count), plus scenes.csv.
    """
    import warnings

    from ..errors import NtmgisWarning
    from ..i18n import message
    from ..indices import register_index
    from ..operations import index_products
    from ._common import echo_warning, progress_bar

    names = [n.lower() for n in index_names]
    for text in formulas:
        name, sep, expr = text.partition("=")
        if not sep or not name.strip() or not expr.strip():
            raise click.BadParameter(message("cli.bad_formula", text=text), param_hint="--formula")
        names.append(register_index(name.strip(), expr, overwrite=True).name)
    names = list(dict.fromkeys(names)) or ["ndvi"]
    with warnings.catch_warnings(record=True) as caught, progress_bar("Reading scenes") as progress:
        warnings.simplefilter("always", NtmgisWarning)
        products = index_products(
            scenes, outdir, indices=names, aoi=aoi, aoi_layer=aoi_layer, period=period,
            grid=grid, margin=margin, on_error="skip" if skip_bad else "raise",
            series=not no_series, progress=progress,
        )  # fmt: skip
    for w in caught:
        echo_warning(w)
    click.echo(message("cli.scenes_read", read=products.scenes_read,
                       skipped=products.scenes_skipped))  # fmt: skip
    for path in products.paths:
        click.echo(f"  {path}")
