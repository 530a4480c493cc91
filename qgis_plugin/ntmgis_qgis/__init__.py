"""QGIS plugin entry point for ntmgis."""


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    from .plugin import NtmgisPlugin

    return NtmgisPlugin(iface)
