from __future__ import annotations

import logging

import click

logger = logging.getLogger(__name__)


@click.command()
@click.argument("result", type=click.Path(exists=True, dir_okay=False))
@click.argument("truth", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--suspected/--no-suspected",
    default=False,
    help="Count 'nghi_van' (suspected) as abandoned too.",
)
def evaluate(result: str, truth: str, suspected: bool) -> None:
    """Score RESULT.gpkg's flags against a TRUTH table (precision, recall, F1)."""
    from ..flags import evaluate as evaluate_flags

    positive = ("hoang_hoa", "nghi_van") if suspected else ("hoang_hoa",)
    click.echo(evaluate_flags(result, truth, positive=positive).summary())
