"""What the CLI commands share: the progress bar, the one-line warnings, the settings.

People read what this module prints: a progress bar with the stage names (from the
message catalogue, ``ntmgis.i18n``), each warning once as one line ("Cảnh báo: …" /
"Warning: …", never a Python source line), repeated warnings counted at the end.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import warnings

import click

from ..i18n import SHOWN_PER_KIND, repeated_line, warning_key

logger = logging.getLogger(__name__)

#: set by the ``ntmgis`` group: --quiet, -v
SETTINGS = {"quiet": False, "verbose": 0}
_ACTIVE: list = []  # the WarningDisplay in force (main() opens one)


def echo_warning(item) -> None:
    """Show one caught warning (a ``warnings.WarningMessage``) the way the CLI shows all.

    For commands that catch warnings themselves: the display in force groups and counts
    it; without one (e.g. under click's CliRunner) it is one plain line.
    """
    if _ACTIVE:
        _ACTIVE[-1].show(item.message, item.category, item.filename, item.lineno)
        return
    from ..i18n import message

    click.secho(f"{message('warning.prefix')}: {_one_line(item.message)}", fg="yellow", err=True)


@contextlib.contextmanager
def progress_bar(label: str):
    """Yield a ``progress(fraction, message)`` callback drawing a click progress bar.

    The bar shows the current stage (the library's stage names, in the language in
    force). With ``--quiet``, or when stderr is not a terminal (a log file, a pipe), the
    callback draws nothing.
    """
    if SETTINGS["quiet"] or not sys.stderr.isatty():
        yield lambda fraction, message="": None
        return
    from ..i18n import stage

    steps = 1000
    with click.progressbar(
        length=steps,
        label=label,
        file=sys.stderr,
        show_eta=False,
        item_show_func=lambda m: m,
        width=24,
    ) as bar:
        state = {"done": 0}

        def callback(fraction: float, message: str = "") -> None:
            message = stage(message)  # the catalogue's name for it, in the language in force
            target = int(round(min(max(fraction, 0.0), 1.0) * steps))
            if target > state["done"] or message:
                bar.update(max(target - state["done"], 0), message or None)
                state["done"] = max(target, state["done"])

        yield callback
        if state["done"] < steps:
            bar.update(steps - state["done"])


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


class WarningDisplay:
    """Shows each warning once, as one line, and counts the repeats.

    Warnings are grouped by their category and their ``what`` (the structured reason
    ntmgis warnings carry), else by their text; the first :attr:`SHOWN` different texts
    of a group are printed when they happen (two surveys' unknown classes are two
    sentences, both said), a text said already is not said again, and :meth:`close`
    prints how many of each group were not shown.

    Examples
    --------
    >>> import io
    >>> from ntmgis.errors import ImageryWarning, warn
    >>> out = io.StringIO()
    >>> with WarningDisplay(out, lang="en"):
    ...     for scene in ("A", "B", "B", "C", "D", "E"):
    ...         warn(f"Scene {scene} is fully cloudy.", ImageryWarning, what="cloudy_scene")
    >>> print(out.getvalue().strip())
    Warning: Scene A is fully cloudy.
    Warning: Scene B is fully cloudy.
    Warning: Scene C is fully cloudy.
    Warning (×6 of this kind, 3 not shown above): Scene A is fully cloudy.
    """

    #: how many different texts of one kind are printed as they happen
    SHOWN = SHOWN_PER_KIND

    def __init__(self, stream=None, *, lang: str | None = None):
        self.stream = stream
        self.lang = lang
        self.groups: dict[tuple, list] = {}
        self._saved = None

    def __enter__(self):
        self._saved = warnings.catch_warnings()
        self._saved.__enter__()
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        warnings.showwarning = self.show
        _ACTIVE.append(self)
        return self

    def __exit__(self, *exc):
        _ACTIVE.remove(self)
        self._saved.__exit__(*exc)
        self.close()
        return False

    def _prefix(self) -> str:
        from ..i18n import message

        return message("warning.prefix", lang=self.lang)

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stderr
        if getattr(stream, "isatty", lambda: False)():
            stream.write("\r\x1b[2K")  # clear the progress bar's line first
        stream.write(line + "\n")
        stream.flush()

    def show(self, message, category, filename, lineno, file=None, line=None):
        """The ``warnings.showwarning`` hook: one line, without a source line."""
        text = _one_line(message)
        what = getattr(message, "what", None)
        where = getattr(message, "where", None)
        if what and where:  # the catalogue's sentence for this kind, in the language in force
            from ..i18n import CATALOGUE
            from ..i18n import message as say

            if f"warning.{what}" in CATALOGUE:
                text = _one_line(say(f"warning.{what}", lang=self.lang, where=where))
        key = warning_key(message, category)
        group = self.groups.setdefault(key, [0, []])  # [count, the texts printed]
        group[0] += 1
        if text in group[1] or len(group[1]) >= self.SHOWN:
            return
        group[1].append(text)
        self._write(f"{self._prefix()}: {text}")

    def close(self) -> None:
        """Print the groups with warnings not shown, with their counts."""
        for count, shown in self.groups.values():
            if count > len(shown):
                self._write(repeated_line(count, shown, lang=self.lang))
        self.groups.clear()
