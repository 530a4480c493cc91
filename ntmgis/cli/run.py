from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


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
@click.option(
    "--scheduler",
    metavar="tcp://HOST:PORT",
    help="Run on this Dask scheduler (partitions by commune and raster block; inputs and "
    "outputs must be reachable from the workers). Needs the [distributed] extra.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Run on a local Dask cluster of N worker processes (127.0.0.1).",
)
@click.option(
    "--visits-per-hamlet",
    "visits_per_hamlet",
    type=click.IntRange(min=0),
    help="Field visits each hamlet's office can make (default: 15% of its gardens; config "
    "[flags] visits_per_hamlet).",
)
def run(config: str | None, use_sample: bool, layers: str, outdir: str | None,
        scheduler: str | None, workers: int | None,
        visits_per_hamlet: int | None = None) -> None:  # fmt: skip
    """Run the whole chain on a commune: survey, imagery, statistics, flags, outputs.

    CONFIG is a TOML file (see ntmgis.config), a commune's or a province's (a
    [province] table listing commune configs, run one after another or, with --workers
    or --scheduler, on Dask). --sample runs the sample commune's baseline
    campaign, then its follow-up campaign against it, and after each prints the
    evaluation against the sample's truth (the pipeline itself never reads the truth).
    """
    from pathlib import Path

    from ..i18n import message
    from ..operations import is_province_config, run_config
    from ..pipeline import sample_config
    from ._common import progress_bar

    if bool(config) == use_sample:
        raise click.UsageError(message("cli.need_config"))
    if scheduler and workers:
        raise click.UsageError(message("cli.scheduler_or_workers"))

    def commune_result(outcome):
        """A RunResult from run_config's answer (a DistributedResult on Dask)."""
        if not hasattr(outcome, "communes"):
            return outcome
        if outcome.communes[0].result is None:
            raise click.ClickException(outcome.summary())
        if outcome.lost_workers or outcome.communes[0].block_errors:
            from ..i18n import message

            click.echo(outcome.summary().split("\n" + message("output.heading"))[0], err=True)
        return outcome.communes[0].result

    if not use_sample:
        if not is_province_config(config):
            with progress_bar("ntmgis run") as progress:
                outcome = run_config(config, out=outdir, scheduler=scheduler, workers=workers,
                                     visits_per_hamlet=visits_per_hamlet,
                                     progress=progress)  # fmt: skip
            click.echo(commune_result(outcome).summary())
            return
        with progress_bar("ntmgis run (province)") as progress:
            outcome = run_config(config, out=outdir, scheduler=scheduler, workers=workers,
                                 visits_per_hamlet=visits_per_hamlet,
                                 progress=progress)  # fmt: skip
        click.echo(outcome.summary())
        if outdir:
            report = outcome.write(Path(outdir) / "run_report.csv")
            logger.info("province report written: %s", report)
            click.echo(message("cli.province_report", path=report))
        if any(c.status == "error" for c in outcome.communes):
            raise SystemExit(1)
        return
    from ..flags import evaluate
    from ..i18n import message
    from ..operations import run_commune
    from ..sample import sample_paths

    out = outdir or "out"
    campaigns = [None] + sorted(
        int(p.stem.rsplit("_", 1)[1]) for p in Path(layers).glob("thanh_binh_*.toml")
    )
    for followup in campaigns:
        cfg = sample_config(layers, out=out, followup=followup)
        if visits_per_hamlet is not None:
            cfg.visits_per_hamlet = visits_per_hamlet
        title = (message("cli.baseline") if followup is None
                 else message("cli.followup", year=followup))  # fmt: skip
        click.secho(message("cli.sample_campaign", title=title), bold=True)
        with progress_bar("ntmgis run") as progress:
            result = commune_result(
                run_commune(cfg, scheduler=scheduler, workers=workers, progress=progress)
            )
        click.echo(result.summary())
        truth = sample_paths(layers, followup=followup)["truth"]
        evaluation = evaluate(result.parcels, truth)
        click.echo("")
        click.echo(message("cli.evaluation", path=truth))
        click.echo(evaluation.summary())
        click.echo("")
