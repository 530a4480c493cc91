"""``ntmgis indices``: masked index time series and composites as Cloud-Optimised GeoTIFFs."""

from __future__ import annotations

from pathlib import Path

import click


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
    import csv
    import warnings

    from ..errors import NtmgisWarning
    from ..imagery import read_stacks
    from ..indices import composite, register_index, write_cog
    from ._common import echo_warning, progress_bar

    names = [n.lower() for n in index_names]
    for text in formulas:
        name, sep, expr = text.partition("=")
        if not sep or not name.strip() or not expr.strip():
            raise click.BadParameter(f"'{text}' is not NAME=EXPR", param_hint="--formula")
        names.append(register_index(name.strip(), expr, overwrite=True).name)
    names = list(dict.fromkeys(names)) or ["ndvi"]
    with warnings.catch_warnings(record=True) as caught, progress_bar("Reading scenes") as progress:
        warnings.simplefilter("always", NtmgisWarning)
        stacks = read_stacks(
            scenes,
            aoi=aoi,
            aoi_layer=aoi_layer,
            indices=names,
            period=period,
            grid=grid,
            margin=margin,
            on_error="skip" if skip_bad else "raise",
            progress=progress,
        )
    for w in caught:
        echo_warning(w)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for stack in stacks:
        suffix = "" if len(stacks) == 1 else "_" + stack.meta["crs_name"].replace(":", "").lower()
        for name in names:
            keep = [i for i, n in enumerate(stack.names) if n.endswith(f"/{name}")]
            series = type(stack)(
                stack.data[keep],
                stack.transform,
                stack.crs,
                [stack.names[i] for i in keep],
                meta={"layers": [stack.meta["layers"][i] for i in keep]},
            )
            if not no_series:
                written.append(write_cog(series, out / f"{name}_series{suffix}.tif"))
            comp = composite(series, variable=name, period=period)
            written.append(write_cog(comp, out / f"{name}_composite{suffix}.tif"))
    with open(out / "scenes.csv", "w", newline="", encoding="utf-8") as f:
        fields = ["scene", "date", "crs", "clear_pixels", "aoi_pixels", "boa_offset", "status"]
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        for stack in stacks:
            for row in stack.meta["scenes"]:
                writer.writerow({**{k: row.get(k) for k in fields}, "crs": stack.meta["crs_name"]})
        for row in stacks[0].meta["skipped"]:
            writer.writerow(
                {"scene": row["scene"], "date": row["date"], "status": "skipped: " + row["reason"]}
            )
    written.append(str(out / "scenes.csv"))
    n_scenes = sum(len(s.meta["scenes"]) for s in stacks)
    click.echo(f"{n_scenes} scene(s) read, {len(stacks[0].meta['skipped'])} skipped.")
    for path in written:
        click.echo(f"  {path}")
