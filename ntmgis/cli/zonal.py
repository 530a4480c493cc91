from __future__ import annotations

from pathlib import Path

import click


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
    from .._io import check_writable, read_vector, write_csv, write_gpkg
    from ..zonal import zonal_stats
    from ._common import progress_bar

    check_writable(Path(output).expanduser().resolve().parent)  # before any work
    gdf = read_vector(parcels, layer=layer, what="parcels file")
    with progress_bar("Zonal statistics") as progress:
        table = zonal_stats(
            gdf,
            list(rasters),
            stats=[s for s in stats.split(",") if s.strip()],
            weights=weights,
            nodata=nodata,
            progress=progress,
        )
    out = Path(output)
    if out.suffix.lower() == ".gpkg":
        joined = gdf.join(
            table.add_prefix("z_") if set(table.columns) & set(gdf.columns) else table
        )
        write_gpkg(out, {"zonal": joined})
    else:  # escaped and atomic, like every CSV ntmgis writes
        write_csv(gdf.drop(columns=gdf.geometry.name).join(table).reset_index(), out)
    counts = table["status"].value_counts().to_dict()
    click.echo(
        f"{len(table)} parcels, {len(table.columns) - 2} statistics columns -> {out} "
        f"(status: {', '.join(f'{k} {v}' for k, v in counts.items())})"
    )
