from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("parcels", type=click.Path(exists=True, dir_okay=False))
@click.argument("rasters", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Output table: .csv (UTF-8) or .gpkg (parcels with their statistics).",
)
@click.option("--layer", default=None, help="Layer of PARCELS (GeoPackage), e.g. 'parcels'.")
@click.option(
    "--stats",
    default="mean,median,std,min,max,count",
    show_default=True,
    help="Comma-separated statistics: mean, sum, std, min, max, median, pNN (e.g. p10), "
    "count, valid, above_T / below_T (e.g. above_0.5).",
)
@click.option(
    "--weights",
    type=click.Choice(["coverage", "centroid", "all_touched"]),
    default="coverage",
    show_default=True,
    help="Exact pixel coverage, or pixels whose centre is inside / that are touched.",
)
@click.option("--nodata", type=float, default=None, help="Value to mask in every layer.")
def zonal(parcels, rasters, output, layer, stats, weights, nodata) -> None:
    """Per-parcel statistics of RASTERS (one or many files on one grid).

    Pixels are weighted by the exact share of their area inside each parcel; the coverage
    is computed once and reused for every band and file. Columns are named
    "<layer>:<stat>", plus status and coverage_fraction per parcel.
    """
    from ..operations import parcel_statistics
    from ._common import progress_bar

    with progress_bar("Zonal statistics") as progress:
        table, out = parcel_statistics(
            parcels, list(rasters), output, layer=layer,
            stats=[s for s in stats.split(",") if s.strip()], weights=weights, nodata=nodata,
            progress=progress,
        )  # fmt: skip
    counts = table["status"].value_counts().to_dict()
    click.echo(
        f"{len(table)} parcels, {len(table.columns) - 2} statistics columns -> {out} "
        f"(status: {', '.join(f'{k} {v}' for k, v in counts.items())})"
    )
