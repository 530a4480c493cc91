"""``python -m ntmgis``: the ``ntmgis`` command."""

from .cli import main

main()
