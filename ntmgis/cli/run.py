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

    CONFIG is a TOML file (see ntmgis.config). --sample runs the sample commune's baseline
    campaign, then its follow-up campaign against it, and after each prints the
    evaluation against the sample's truth (the pipeline itself never reads the truth).
    """
    from pathlib import Path

    from ..config import load_config
    from ..pipeline import run as run_pipeline
    from ..pipeline import sample_config
    from ._common import progress_bar

    if bool(config) == use_sample:
        raise click.UsageError("Give either CONFIG or --sample.")
    if not use_sample:
        cfg = load_config(config)
        if outdir:
            cfg.out_dir = Path(outdir).resolve()
        with progress_bar("ntmgis run") as progress:
            result = run_pipeline(cfg, progress=progress)
        click.echo(result.summary())
        return
    from ..flags import evaluate
    from ..sample import sample_paths

    out = outdir or "out"
    campaigns = [None] + sorted(
        int(p.stem.rsplit("_", 1)[1]) for p in Path(layers).glob("thanh_binh_*.toml")
    )
    for followup in campaigns:
        cfg = sample_config(layers, out=out, followup=followup)
        title = "baseline campaign" if followup is None else f"follow-up campaign {followup}"
        click.secho(f"== Sample commune, {title} ==", bold=True)
        with progress_bar("ntmgis run") as progress:
            result = run_pipeline(cfg, progress=progress)
        click.echo(result.summary())
        truth = sample_paths(layers, followup=followup)["truth"]
        evaluation = evaluate(result.parcels, truth)
        click.echo("")
        click.echo(f"Evaluation against the sample's truth ({truth}):")
        click.echo(evaluation.summary())
        click.echo("")
