from __future__ import annotations

import click


@click.command()
@click.option("--sample", "use_sample", is_flag=True, help="Run on the sample commune.")
@click.option(
    "--layers", default="layers", show_default=True, type=click.Path(file_okay=False),
    help="Folder of the sample commune (with --sample).",
)  # fmt: skip
@click.option(
    "-o", "--out", "outdir", default="out", show_default=True, type=click.Path(file_okay=False),
    help="Output folder.",
)  # fmt: skip
def run(use_sample: bool, layers: str, outdir: str) -> None:
    """Run the whole chain on a commune and write the outputs.

    Today: ``ntmgis run --sample`` on the sample commune in ``layers/``.
    """
    from ..pipeline import run_sample
    from ._common import progress_bar

    if not use_sample:
        raise click.UsageError("Give --sample (runs from a config file come with the pipeline).")
    with progress_bar("ntmgis run") as progress:
        result = run_sample(outdir, layers=layers, progress=progress)
    click.echo(result.summary())
