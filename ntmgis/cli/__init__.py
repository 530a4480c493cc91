"""The ``ntmgis`` command: a click group, one module per command, loaded lazily.

Exit codes (documented in the README):

==== ===================================================================================
0    done
1    an input, config or data problem stopped the run (the message names the file, row
     or parcel and what to do), or a commune of a province run failed
2    the command line itself is wrong (unknown option, missing argument)
70   an unexpected error: a bug in ntmgis (run again with -v for the details)
130  cancelled (Ctrl-C)
==== ===================================================================================
"""

from __future__ import annotations

import importlib
import logging

import click

from .._version import __version__
from ..i18n import message

logger = logging.getLogger(__name__)

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
    "fetch": "ntmgis.cli.fetch:fetch",
}

#: exit codes of the ``ntmgis`` command
EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUG, EXIT_CANCELLED = 0, 1, 2, 70, 130


#: the group's own options -> their catalogue sentence (said in the language in force)
_GROUP_HELP = {"verbose": "cli.opt_verbose", "quiet": "cli.opt_quiet", "lang": "cli.opt_lang",
               "version": "cli.opt_version"}  # fmt: skip
#: click's own headings, in Vietnamese
_HEADINGS_VI = {"Options": "Tùy chọn", "Commands": "Lệnh"}


class _Formatter(click.HelpFormatter):
    """click's help formatter, its "Usage:" and headings said in the language in force."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        from ..i18n import get_language

        if prefix is None and get_language() == "vi":
            prefix = "Cách dùng: "
        super().write_usage(prog, args, prefix)

    def write_heading(self, heading: str) -> None:
        from ..i18n import get_language

        if get_language() == "vi":
            heading = _HEADINGS_VI.get(heading, heading)
        super().write_heading(heading)


class _Context(click.Context):
    """click's context, its help printed by :class:`_Formatter` with "--help" said too."""

    formatter_class = _Formatter

    def get_help(self) -> str:
        option = self.command.get_help_option(self)
        if option is not None:
            option.help = message("cli.opt_help")
        return super().get_help()


def localise(command: click.Command, name: str) -> click.Command:
    """Say ``command``'s help and its options' help in the language in force, in place.

    Vietnamese from :data:`ntmgis.cli._help_vi.HELP_VI`, English as each command's
    module writes it (kept on the command the first time, so that either can come back
    in one process: a notebook or a test switching ``set_language``).
    """
    from ..i18n import get_language
    from ._help_vi import HELP_VI

    options = [p for p in command.params if isinstance(p, click.Option)]
    if not hasattr(command, "_ntmgis_english"):
        command._ntmgis_english = (command.help, {p.name: p.help for p in options})
    doc, helps = command._ntmgis_english
    texts = HELP_VI.get(name, {}) if get_language() == "vi" else {}
    command.help = texts.get("", doc)
    for p in options:
        p.help = texts.get(p.name, helps[p.name])
    command.context_class = _Context
    return command


class LazyGroup(click.Group):
    """A group that imports each command's module only when that command is used.

    A command's help is said in the language in force when it is looked up (after the
    eager ``--lang``), the group's own options' when the help is printed.
    """

    context_class = _Context

    def list_commands(self, ctx):
        return sorted(COMMANDS)

    def get_command(self, ctx, name):
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return localise(getattr(importlib.import_module(module), attr), name)

    def get_help(self, ctx):
        for p in self.params:
            if p.name in _GROUP_HELP:
                p.help = message(_GROUP_HELP[p.name])
        return super().get_help(ctx)


def _set_language(ctx, param, value):
    from ..i18n import set_language

    if value:
        set_language(value)
    return value


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    help=message("cli.help", lang="vi") + "\n\n" + message("cli.help", lang="en"),
)
@click.version_option(__version__, prog_name="ntmgis")
@click.option("-v", "--verbose", count=True, help=message("cli.opt_verbose"))
@click.option("-q", "--quiet", is_flag=True, help=message("cli.opt_quiet"))
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    callback=_set_language,
    is_eager=True,
    expose_value=False,
    help=message("cli.opt_lang"),
)
def cli(verbose: int, quiet: bool) -> None:
    from ._common import SETTINGS

    SETTINGS.update(quiet=quiet, verbose=verbose)
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", force=True)


def main(args=None) -> None:
    """Console entry point: one line per warning and per error, documented exit codes.

    Warnings are shown once each as one line ("Cảnh báo: …"), repeats counted at the
    end; an ntmgis error is one line naming what to fix (exit 1); an unexpected error
    says it is a bug (exit 70; ``-v`` prints the traceback).
    """
    import sys

    from ..errors import CancelledError, NtmgisError
    from ._common import SETTINGS, WarningDisplay

    def fail(text: str, code: int):
        click.secho(f"ntmgis: {message('error.prefix')}: {text}", fg="red", err=True)
        raise SystemExit(code)

    with WarningDisplay():
        try:
            cli(args=args, standalone_mode=False)
        except click.exceptions.Abort:
            click.echo(message("cli.aborted"), err=True)
            raise SystemExit(EXIT_CANCELLED) from None
        except KeyboardInterrupt:
            click.echo(message("cancelled"), err=True)
            raise SystemExit(EXIT_CANCELLED) from None
        except click.ClickException as exc:
            exc.show()
            raise SystemExit(exc.exit_code) from None
        except click.exceptions.Exit as exc:
            raise SystemExit(exc.exit_code) from None
        except CancelledError as exc:
            fail(str(exc), EXIT_CANCELLED)
        except NtmgisError as exc:
            fail(" ".join(str(exc).split("\n")).strip(), EXIT_ERROR)
        except (SystemExit, GeneratorExit):
            raise
        except Exception as exc:  # a bug: one line, the traceback only with -v
            if SETTINGS.get("verbose"):
                import traceback

                traceback.print_exc(file=sys.stderr)
            text = " ".join(str(exc).split())[:300]
            fail(message("error.unexpected", kind=type(exc).__name__, text=text), EXIT_BUG)
