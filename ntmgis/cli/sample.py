from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("outdir", type=click.Path(file_okay=False))
@click.option("--seed", type=int, default=2020, show_default=True, help="Random seed.")
@click.option(
    "--parcels",
    "n_parcels",
    type=int,
    default=1600,
    show_default=True,
    help="Number of household parcels.",
)
@click.option(
    "--dates",
    "n_dates",
    type=int,
    default=16,
    show_default=True,
    help="Sentinel-2 dates in the year.",
)
@click.option(
    "--year", type=int, default=2020, show_default=True,
    help="Year of the baseline campaign (survey and scenes).",
)  # fmt: skip
@click.option(
    "--followup-year", type=int, default=None,
    help="Year of the follow-up campaign.  [default: YEAR + 2]",
)  # fmt: skip
@click.option(
    "--followup-dates", type=int, default=12, show_default=True,
    help="Sentinel-2 dates of the follow-up campaign.",
)  # fmt: skip
@click.option("--no-followup", is_flag=True, help="Write the baseline campaign only.")
def sample(
    outdir: str, seed: int, n_parcels: int, n_dates: int, year: int,
    followup_year: int | None, followup_dates: int, no_followup: bool,
) -> None:  # fmt: skip
    """Write the simulated sample commune (Xã Thanh Bình) to OUTDIR.

    Parcels, hamlets, the Step 2 survey (XLSX and CSV, with realistic defects), hamlet
    targets, a year of Sentinel-2 L2A-like scenes, and the truth under OUTDIR/truth/;
    then a follow-up campaign (survey, scenes, truth) two years later. The same seed
    and years always give the same data: another seed or year is a commune the method
    was not tuned on (``--seed 11 --year 2023``).
    """
    from ..sample import make_sample
    from ._common import progress_bar

    with progress_bar("Sample commune") as progress:
        result = make_sample(
            outdir, seed=seed, n_parcels=n_parcels, n_dates=n_dates, year=year,
            followup_year=None if no_followup else (followup_year or year + 2),
            followup_dates=followup_dates, progress=progress,
        )  # fmt: skip
    click.echo(result.summary())
