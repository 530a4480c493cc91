"""What the CLI commands share: the progress bar behind the library's callback."""

from __future__ import annotations

import contextlib
import sys

import click


@contextlib.contextmanager
def progress_bar(label: str):
    """Yield a ``progress(fraction, message)`` callback drawing a click progress bar."""
    steps = 1000
    with click.progressbar(
        length=steps, label=label, file=sys.stderr, show_eta=False, item_show_func=lambda m: m
    ) as bar:
        state = {"done": 0}

        def callback(fraction: float, message: str = "") -> None:
            target = int(round(min(max(fraction, 0.0), 1.0) * steps))
            if target > state["done"]:
                bar.update(target - state["done"], message or None)
                state["done"] = target

        yield callback
        if state["done"] < steps:
            bar.update(steps - state["done"])
