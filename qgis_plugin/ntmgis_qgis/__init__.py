"""QGIS plugin entry point for ntmgis."""


def classFactory(iface):  # noqa: N802 - the name QGIS looks for
    from . import installer

    installer.activate()  # the libraries installed into this profile come first
    from .plugin import NtmgisPlugin

    return NtmgisPlugin(iface)
