from __future__ import annotations

import click


@click.command()
@click.argument("config", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--sample",
    "use_sample",
    is_flag=True,
    help="Run on the sample commune (layers/thanh_binh.toml) and evaluate it.",
)
@click.option(
    "--layers",
    default="layers",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder of the sample commune (with --sample).",
)
@click.option(
    "-o",
    "--out",
    "outdir",
    type=click.Path(file_okay=False),
    help="Output folder (default: the config's [outputs] dir; 'out' with --sample).",
)
def run(config: str | None, use_sample: bool, layers: str, outdir: str | None) -> None:  # fmt: skip
    """Run the whole chain on a commune: survey, imagery, statistics, flags, outputs.

    CONFIG is a TOML file (see ntmgis.config); --sample runs the sample commune and then
    prints the evaluation against its truth (the pipeline itself never reads the truth).
    """
    from pathlib import Path

    from ..config import load_config
    from ..pipeline import run as run_pipeline
    from ..pipeline import sample_config
    from ._common import progress_bar

    if bool(config) == use_sample:
        raise click.UsageError("Give either CONFIG or --sample.")
    if use_sample:
        cfg = sample_config(layers, out=outdir or "out")
    else:
        cfg = load_config(config)
        if outdir:
            cfg.out_dir = Path(outdir).resolve()
    with progress_bar("ntmgis run") as progress:
        result = run_pipeline(cfg, progress=progress)
    click.echo(result.summary())
    if use_sample:
        from ..flags import evaluate
        from ..sample import sample_paths

        truth = sample_paths(layers)["truth"]
        evaluation = evaluate(result.parcels, truth)
        click.echo("")
        click.echo(f"Evaluation against the sample's truth ({truth}):")
        click.echo(evaluation.summary())
