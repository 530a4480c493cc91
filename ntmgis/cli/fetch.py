"""``ntmgis fetch``: a commune's Sentinel-2 / Landsat scenes from a STAC catalogue."""

from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("aoi")
@click.option(
    "--period", required=True, help="Dates to fetch, START:END, e.g. 2020-01-01:2020-12-31."
)
@click.option("-o", "--out", "outdir", required=True, type=click.Path(file_okay=False),
              help="Output folder: one scene folder per date.")  # fmt: skip
@click.option("--aoi-layer", default=None, help="Layer of the AOI file, e.g. 'commune'.")
@click.option("--aoi-crs", default=None, help="CRS of an AOI without one (or of a bbox).")
@click.option("--catalog", default="earth-search", show_default=True,
              help="earth-search, planetary-computer, cdse, or a STAC API URL.")  # fmt: skip
@click.option("--collection", default="sentinel-2-l2a", show_default=True,
              help="sentinel-2-l2a or landsat-c2-l2.")  # fmt: skip
@click.option(
    "--max-cloud",
    default=80.0,
    show_default=True,
    help="Highest % of the AOI's own pixels under cloud/shadow for a date to be kept.",
)
@click.option("--bands", "bands", default=None,
              help="Bands to fetch, comma-separated: blue,green,red,nir,swir16... Default: "
              "those the indices use; the mask band (scl, qa_pixel) always comes too.")  # fmt: skip
@click.option("--margin", default=100.0, show_default=True, help="Metres around the AOI.")
@click.option("--workers", default=4, show_default=True, help="Bands read in parallel.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds per HTTP request.")
@click.option("--retries", default=3, show_default=True, help="Retries of a failed request.")
def fetch(aoi, period, outdir, aoi_layer, aoi_crs, catalog, collection, max_cloud, bands,
          margin, workers, timeout, retries) -> None:  # fmt: skip
    """Fetch the scenes of AOI for a period, its window only, into OUT.

    AOI is a vector file the library reads (a commune outline, the parcels; any CRS,
    VN-2000 included) or a bounding box WEST,SOUTH,EAST,NORTH in degrees. Each kept date
    becomes OUT/<item id>/ with one COG per band and an item.json that `ntmgis run` and
    `ntmgis indices` read as they are. A second call skips what is complete and finishes
    what was cut.
    """
    import warnings

    from ..errors import NtmgisWarning
    from ..fetch import fetch_scenes
    from ._common import progress_bar

    with warnings.catch_warnings(record=True) as caught, progress_bar("Fetching") as progress:
        warnings.simplefilter("always", NtmgisWarning)
        result = fetch_scenes(
            aoi,
            period=period,
            out=outdir,
            catalog=catalog,
            collection=collection,
            aoi_layer=aoi_layer,
            aoi_crs=aoi_crs,
            max_cloud=max_cloud,
            bands=[b.strip() for b in bands.split(",") if b.strip()] if bands else None,
            margin=margin,
            workers=workers,
            timeout=timeout,
            retries=retries,
            progress=progress,
        )
    from ._common import echo_warning

    for w in caught:
        if issubclass(w.category, NtmgisWarning):
            echo_warning(w)  # one line, in the language in force, as every command
    for item in result.items:
        share = item.get("clear_share")
        share = f"{share:.0%}" if isinstance(share, float) else "-"
        click.echo(f"  {item['date']}  {item['status']:<13} clear {share:>4}  {item['id']}")
    click.echo(result.summary())
