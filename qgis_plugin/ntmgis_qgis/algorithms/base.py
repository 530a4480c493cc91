"""Shared base of the NTM GIS algorithms: tr(), createInstance, the library bridge.

The bridge turns ``QgsProcessingFeedback`` into the library's progress callback (its
``isCanceled()`` makes the callback return False, so the library raises CancelledError
and writes nothing), the library's warnings into feedback warnings and its errors
(``NtmgisError``) into ``QgsProcessingException`` with the same message.
"""

import os
import tempfile
import threading
import warnings

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterFile,
)
from qgis.PyQt.QtXml import QDomDocument

from .. import deps
from ..translate import tr

#: group id -> English group name
GROUPS = {
    "inputs": "1 · Survey and imagery",
    "analysis": "2 · Gardens and hamlets",
    "printing": "3 · Printing",
}
VECTOR_FORMATS = ["gpkg", "shp", "geojson", "fgb"]


class Cancelled(QgsProcessingException):
    """The user cancelled: the whole chain reports it as a cancellation, not a failure."""


class EmbeddedStyle(QgsProcessingLayerPostProcessorInterface):
    """Loads a result layer's style from its GeoPackage (``layer_styles``) once QGIS adds it.

    Processing loads result layers without their default style (one random colour); this
    runs after the layer is added, on both routes (Processing dialog, ``runAndLoadResults``
    and the plugin's dialog).
    """

    _keep = []  # QGIS does not own post-processors: keep them alive

    @classmethod
    def create(cls, name=None):
        processor = cls()
        processor.name = name
        cls._keep.append(processor)
        del cls._keep[:-64]
        return processor

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 - QGIS API name
        message, ok = layer.loadDefaultStyle()
        if self.name:
            layer.setName(self.name)
        if not ok and feedback is not None:
            feedback.pushWarning(message)
        layer.triggerRepaint()


class NtmgisAlgorithm(QgsProcessingAlgorithm):
    """Base of every NTM GIS algorithm (subclasses set NAME, DISPLAY, GROUP, HELP)."""

    NAME = ""
    DISPLAY = ""
    GROUP = "analysis"
    HELP = ""

    def tr(self, text):
        """Translate a string of this plugin."""
        return tr(text)

    def createInstance(self):  # noqa: N802 - QGIS API name
        return type(self)()

    def name(self):
        return self.NAME

    def displayName(self):  # noqa: N802 - QGIS API name
        return self.tr(self.DISPLAY)

    def group(self):
        return self.tr(GROUPS[self.GROUP])

    def groupId(self):  # noqa: N802 - QGIS API name
        return self.GROUP

    def shortHelpString(self):  # noqa: N802 - QGIS API name
        return self.tr(self.HELP)

    def canExecute(self):  # noqa: N802 - QGIS API name
        missing = deps.check()
        if missing:
            return False, deps.install_help(missing)
        return True, ""

    # -- the library bridge -------------------------------------------------------------
    def check_deps(self):
        """Raise QgsProcessingException naming what to install when ntmgis is missing."""
        ok, message = self.canExecute()
        if not ok:
            raise QgsProcessingException(message)

    def progress_callback(self, feedback):
        """The library's ``progress(fraction, message)`` reporting to ``feedback``."""
        last = [None]

        def progress(fraction, message=""):
            if feedback is None:
                return True
            feedback.setProgress(100.0 * float(fraction))
            if message and message != last[0]:
                last[0] = message
                feedback.setProgressText(str(message))
            return not feedback.isCanceled()

        return progress

    def check_cancel(self, feedback):
        """Stop (writing nothing) when the user cancelled between library calls."""
        if feedback is not None and feedback.isCanceled():
            raise Cancelled(self.tr("Cancelled by the user: nothing was written."))

    def run_cancellable(self, function, feedback, outputs=()):
        """``function()``; a cancellation becomes a warning and empty outputs, not a failure."""
        try:
            return function()
        except Cancelled:
            if feedback is not None:
                feedback.pushWarning(self.tr("Cancelled by the user: nothing was written."))
            results = {name: None for name in outputs}
            results["CANCELLED"] = True
            return results

    def call(self, feedback, function, *args, progress=True, **kwargs):
        """Call a library function; translate its cancel, errors and warnings."""
        self.check_deps()
        from ntmgis.errors import CancelledError, NtmgisError, NtmgisWarning

        self.check_cancel(feedback)
        if progress:
            kwargs["progress"] = self.progress_callback(feedback)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NtmgisWarning)
            try:
                return in_python_thread(function, *args, **kwargs)
            except CancelledError as exc:
                raise Cancelled(str(exc)) from exc
            except NtmgisError as exc:
                raise QgsProcessingException(str(exc)) from exc
            finally:
                for item in caught:
                    if feedback is not None and issubclass(item.category, NtmgisWarning):
                        feedback.pushWarning(str(item.message))

    # -- inputs and outputs ---------------------------------------------------------------
    def add_result_parameter(self):
        """The ``RESULT`` parameter: the GeoPackage a flag run (``ntmgis run``) wrote."""
        self.addParameter(
            QgsProcessingParameterFile(
                "RESULT", self.tr("Result GeoPackage of the flag run"),
                fileFilter="GeoPackage (*.gpkg)",
            )
        )  # fmt: skip

    def vector_source(self, parameters, name, context, feedback):
        """``(path, layer name or None)`` of a vector parameter, exported when needed."""
        path, layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, name, context, VECTOR_FORMATS, "gpkg", feedback
        )
        return path, (layer or None)

    def optional_file(self, parameters, name, context):
        """The file of an optional file parameter, or None."""
        value = self.parameterAsFile(parameters, name, context)
        return value or None

    def load_on_completion(self, context, uri, name, output_name):
        """Add ``uri`` to the project when the algorithm finishes.

        The GeoPackages the library writes carry their QGIS styles (``layer_styles``,
        written by ``ntmgis.styles.embed_styles``), so the layer opens styled.
        """
        details = QgsProcessingContext.LayerDetails(name, context.project(), output_name)
        details.setPostProcessor(EmbeddedStyle.create(name))
        context.addLayerToLoadOnCompletion(uri, details)


def in_python_thread(function, *args, **kwargs):
    """Call ``function``; from a Qt worker thread, inside a short-lived Python thread.

    QGIS runs Processing algorithms and tasks in pooled QThreads, which Python only
    borrows: their Python thread state is created and deleted around each call. pyproj
    3.7.0-3.7.2 keeps its per-thread PROJ context in OS-thread storage but frees it with
    the Python thread state, so the second run on the same pooled thread used a freed
    context and crashed QGIS (pyproj issues #1509, #1622; fixed by pyproj PR #1541). A
    thread started by Python gets a fresh OS thread each time, so the library's pyproj
    calls never meet a freed context. On the main thread the call is direct.
    """
    if not isinstance(threading.current_thread(), threading._DummyThread):
        return function(*args, **kwargs)
    outcome = {}

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc

    worker = threading.Thread(target=target, name="ntmgis-library")
    worker.start()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def apply_library_style(layer, theme, kind="parcels"):
    """Style ``layer`` with the QML the library generates (``ntmgis.styles.qml``)."""
    from ntmgis.styles import qml

    document = QDomDocument()
    document.setContent(qml(theme, layer=kind))
    message = layer.importNamedStyle(document)
    ok = message[0] if isinstance(message, tuple) else bool(message)
    layer.triggerRepaint()
    return ok


def staging_folder(final_folder):
    """A temporary folder beside ``final_folder`` (same disk, so moving is a rename)."""
    os.makedirs(final_folder, exist_ok=True)
    return tempfile.mkdtemp(prefix=".ntmgis-", dir=final_folder)


def publish(staging, final_folder):
    """Move every file of ``staging`` into ``final_folder``; return {old path: new path}."""
    moved = {}
    for root, _dirs, files in os.walk(staging):
        for name in files:
            source = os.path.join(root, name)
            target = os.path.join(final_folder, os.path.relpath(source, staging))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(source, target)
            moved[source] = target
    return moved
