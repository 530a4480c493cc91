"""The ``ntmgis`` command: a click group, one module per command, loaded lazily."""

from __future__ import annotations

import importlib
import logging

import click

from .._version import __version__

# command name -> "module:function" (modules under ntmgis.cli); add one line per command
COMMANDS = {
    "sample": "ntmgis.cli.sample:sample",
    "run": "ntmgis.cli.run:run",
    "evaluate": "ntmgis.cli.evaluate:evaluate",
    "indices": "ntmgis.cli.indices:indices",
    "maps": "ntmgis.cli.maps:maps",
    "survey": "ntmgis.cli.survey:survey",
    "progress": "ntmgis.cli.progress:progress",
    "zonal": "ntmgis.cli.zonal:zonal",
    "survey-form": "ntmgis.cli.survey_form:survey_form",
    "needs": "ntmgis.cli.needs:needs",
    "plan": "ntmgis.cli.plan:plan",
}


class LazyGroup(click.Group):
    """A group that imports each command's module only when that command is used."""

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ntmgis")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """ntmgis: vườn hộ, vườn hoang hóa and hamlet progress for nông thôn mới.

    Garden-renovation GIS for Vietnam's New Rural Development programme.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main() -> None:
    """Console entry point: turn ntmgis errors into a one-line message and exit code 1."""
    from ..errors import NtmgisError

    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        raise SystemExit(130) from None
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(exc.exit_code) from None
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except NtmgisError as exc:
        click.secho(f"ntmgis: error: {exc}", fg="red", err=True)
        raise SystemExit(1) from None
