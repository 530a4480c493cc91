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
@click.option(
    "--psf", type=click.FloatRange(min=0), default=None,
    help="Gaussian optical PSF of every band, sigma in pixels.  [default: 0, box pixels]",
)  # fmt: skip
@click.option(
    "--misregistration", type=click.FloatRange(min=0), default=None,
    help="Each scene displaced at random, sigma in metres per axis.  [default: 0]",
)  # fmt: skip
@click.option(
    "--realistic-sensor", is_flag=True,
    help="A sensor like Sentinel-2's: --psf 0.45 --misregistration 3 (unless given).",
)  # fmt: skip
def sample(
    outdir: str, seed: int, n_parcels: int, n_dates: int, year: int,
    followup_year: int | None, followup_dates: int, no_followup: bool,
    psf: float | None, misregistration: float | None, realistic_sensor: bool,
) -> None:  # fmt: skip
    """Write the simulated sample commune (Xã Thanh Bình) to OUTDIR.

    Parcels, hamlets, the Step 2 survey (XLSX and CSV, with realistic defects), hamlet
    targets, a year of Sentinel-2 L2A-like scenes, and the truth under OUTDIR/truth/;
    then a follow-up campaign (survey, scenes, truth) two years later. The same seed
    and years always give the same data: another seed or year is a commune the method
    was not tuned on (``--seed 11 --year 2023``). The scenes' pixels see exactly their
    footprint and are registered exactly unless ``--psf``, ``--misregistration`` or
    ``--realistic-sensor`` say otherwise.
    """
    from ..sample import REALISTIC_SENSOR, make_sample

    sensor = dict(REALISTIC_SENSOR) if realistic_sensor else {"psf": 0.0, "misregistration": 0.0}
    if psf is not None:
        sensor["psf"] = psf
    if misregistration is not None:
        sensor["misregistration"] = misregistration
    from ._common import progress_bar

    with progress_bar("Sample commune") as progress:
        result = make_sample(
            outdir, seed=seed, n_parcels=n_parcels, n_dates=n_dates, year=year,
            followup_year=None if no_followup else (followup_year or year + 2),
            followup_dates=followup_dates, progress=progress, **sensor,
        )  # fmt: skip
    click.echo(result.summary())
