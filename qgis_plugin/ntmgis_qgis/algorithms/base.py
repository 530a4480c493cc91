"""Shared base of the NTM GIS algorithms: tr(), createInstance, parameters, the library bridge.

The parameters several algorithms share (parcels, survey, targets, baseline, period,
paper, output folder...) are declared once here (``add_*``), and read back once
(``period``, ``paper``, ``names_list``...).

The bridge turns ``QgsProcessingFeedback`` into the library's progress callback (its
``isCanceled()`` makes the callback return False, so the library raises CancelledError
and writes nothing), in the user's language: the library's language follows QGIS's
locale (``ntmgis.i18n.set_language``), stage names are translated
(``ntmgis.i18n.stage``), the library's warnings become one feedback warning a line
(repeated ones grouped) and its errors (``NtmgisError``) a ``QgsProcessingException``
with the same message (no traceback). A cancel is said at once ("Đang hủy…") and ends
as a cancellation (``CANCELLED`` in the results), not as a failure.
"""

import os
import shutil
import tempfile
import threading
import time
import warnings

from qgis.core import (
    Qgis,
    QgsMessageLog,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingOutputDefinition,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterString,
    QgsProcessingParameterVectorLayer,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtXml import QDomDocument

from .. import deps
from ..translate import follow_qgis_language, tr

#: group id -> English group name
GROUPS = {
    "inputs": "1 · Survey and imagery",
    "analysis": "2 · Gardens and hamlets",
    "printing": "3 · Printing",
}
VECTOR_FORMATS = ["gpkg", "shp", "geojson", "fgb"]
PAPERS = ["A4", "A3"]
POLYGONS = [QgsProcessing.SourceType.TypeVectorPolygon]
PERIOD_HELP = "Period (START:END, e.g. 2020-01-01:2020-12-31)"
SURVEY_FIELDS_HELP = (
    "Survey columns ntmgis does not recognise (field = header; e.g. "
    "garden_class = Kết quả chấm điểm; sheet = Mảnh BĐ)"
)
CANCELLED_TEXT = "Cancelled by the user: nothing was written."


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
    """Base of every NTM GIS algorithm.

    Subclasses set NAME, DISPLAY, GROUP, HELP, declare their parameters in
    ``initAlgorithm`` with the ``add_*`` helpers and do their work in ``process``
    (``processAlgorithm`` wraps it: dependencies, language, cancel).
    """

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

    # -- declarations shared by the algorithms -------------------------------------------
    def add(self, definition):
        """Add a parameter or an output; a refused one (a name used twice) raises."""
        if isinstance(definition, QgsProcessingOutputDefinition):
            added = self.addOutput(definition)
        else:
            added = self.addParameter(definition)
        if not added:
            raise QgsProcessingException(f"{self.NAME}: '{definition.name()}' declared twice.")
        return definition

    def add_polygons(self, name, description, optional=False):
        """A polygon layer parameter (parcels, hamlets, commune...)."""
        return self.add(
            QgsProcessingParameterVectorLayer(name, self.tr(description), POLYGONS,
                                              optional=optional)
        )  # fmt: skip

    def add_parcels(self, name="PARCELS"):
        """The parcel layer."""
        return self.add_polygons(name, "Parcel layer")

    def add_folder(self, name, description, optional=False):
        """An existing folder (scenes, imagery)."""
        return self.add(
            QgsProcessingParameterFile(
                name, self.tr(description), optional=optional,
                behavior=QgsProcessingParameterFile.Behavior.Folder,
            )
        )  # fmt: skip

    def add_table(self, name, description, optional=False, survey=False):
        """A CSV or XLSX table (the survey, the hamlet targets)."""
        kinds = "Survey tables (*.xlsx *.csv)" if survey else "Tables (*.xlsx *.csv)"
        return self.add(
            QgsProcessingParameterFile(
                name, self.tr(description), optional=optional, fileFilter=self.tr(kinds)
            )
        )

    def add_survey(self, optional=False):
        """``SURVEY``: the Step 2 survey file."""
        return self.add_table("SURVEY", "Survey file (CSV or XLSX)", optional, survey=True)

    def add_survey_fields(self):
        """``SURVEY_FIELDS``: the survey's own headers, when ntmgis does not know them."""
        return self.add_text("SURVEY_FIELDS", SURVEY_FIELDS_HELP)

    def survey_fields(self, parameters, context, feedback):
        """The ``SURVEY_FIELDS`` parameter as ``{field: header}`` (the library reads it)."""
        from ntmgis.survey import survey_fields

        text = self.text(parameters, "SURVEY_FIELDS", context)
        return self.call(feedback, survey_fields, text, progress=False) if text else None

    def add_targets(self, optional=False):
        """``TARGETS``: the hamlet targets."""
        return self.add_table("TARGETS", "Hamlet targets (CSV or XLSX)", optional)

    def add_geopackage(self, name, description, optional=False):
        """An existing GeoPackage file."""
        return self.add(
            QgsProcessingParameterFile(
                name, self.tr(description), optional=optional, fileFilter="GeoPackage (*.gpkg)"
            )
        )

    def add_result(self):
        """``RESULT``: the GeoPackage a flag run (``ntmgis run``) wrote."""
        return self.add_geopackage("RESULT", "Result GeoPackage of the flag run")

    def add_baseline(self):
        """``BASELINE``: the result of an earlier campaign (optional)."""
        return self.add_geopackage(
            "BASELINE", "Baseline result of an earlier campaign (GeoPackage)", optional=True
        )

    def add_text(self, name, description, optional=True, default=None):
        """A free text parameter."""
        return self.add(
            QgsProcessingParameterString(
                name, self.tr(description), defaultValue=default, optional=optional
            )
        )

    def add_period(self, optional=True):
        """``PERIOD``: ``START:END``."""
        return self.add_text("PERIOD", PERIOD_HELP, optional=optional)

    def add_commune_name(self):
        """``COMMUNE``: the commune's name (optional)."""
        return self.add_text("COMMUNE", "Commune name")

    def add_names_list(self, name="HAMLETS"):
        """Hamlet names, comma-separated (empty: every hamlet)."""
        return self.add_text(name, "Hamlets (comma-separated; empty: every hamlet)")

    def add_choice(self, name, description, options, default=0, multiple=False):
        """A drop-down list (``options`` already translated or codes)."""
        return self.add(
            QgsProcessingParameterEnum(
                name, self.tr(description), options=list(options), defaultValue=default,
                allowMultiple=multiple,
            )
        )  # fmt: skip

    def add_flag(self, name, description, default):
        """A check box."""
        return self.add(QgsProcessingParameterBoolean(name, self.tr(description), default))

    def add_file(self, name, description, file_filter, optional=True):
        """An existing file of one kind (``file_filter`` in Qt's form, translated)."""
        return self.add(
            QgsProcessingParameterFile(
                name, self.tr(description), optional=optional, fileFilter=self.tr(file_filter)
            )
        )

    def add_file_destination(self, name, description, file_filter="GeoPackage (*.gpkg)"):
        """A file the algorithm writes (GeoPackage by default)."""
        return self.add(
            QgsProcessingParameterFileDestination(name, self.tr(description), file_filter)
        )

    def add_paper(self):
        """``PAPER``: A4 or A3."""
        return self.add_choice("PAPER", "Paper", PAPERS)

    def add_output_folder(self, name="OUTPUT_FOLDER", description="Output folder"):
        """The folder the algorithm writes into."""
        return self.add(QgsProcessingParameterFolderDestination(name, self.tr(description)))

    # -- reading them back -----------------------------------------------------------------
    def text(self, parameters, name, context):
        """A text parameter, stripped; None when empty."""
        return (self.parameterAsString(parameters, name, context) or "").strip() or None

    def period(self, parameters, context):
        """The ``PERIOD`` parameter, or None."""
        return self.text(parameters, "PERIOD", context)

    def paper(self, parameters, context):
        """The ``PAPER`` parameter: ``"A4"`` or ``"A3"``."""
        return PAPERS[self.parameterAsEnum(parameters, "PAPER", context)]

    def choice(self, parameters, name, context, values):
        """The value of ``values`` a drop-down parameter chose."""
        return values[self.parameterAsEnum(parameters, name, context)]

    def names_list(self, parameters, name, context):
        """A comma-separated names parameter as a list, or None (every one)."""
        text = self.parameterAsString(parameters, name, context) or ""
        return [h.strip() for h in text.split(",") if h.strip()] or None

    # -- running ---------------------------------------------------------------------------
    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802 - QGIS API name
        """``process`` in the user's language; a cancel is said at once and is no failure."""
        self.check_deps()
        follow_qgis_language()
        stop_watching = announce_cancel(feedback, self.tr("Cancelling…"))
        try:
            return self.run_cancellable(
                lambda: self.process(parameters, context, feedback), feedback,
                [output.name() for output in self.outputDefinitions()],
            )  # fmt: skip
        finally:
            stop_watching()

    def process(self, parameters, context, feedback):
        """The algorithm's work (subclasses); returns the results dict."""
        raise NotImplementedError

    # -- the library bridge -------------------------------------------------------------
    def check_deps(self):
        """Raise QgsProcessingException naming what to install when ntmgis is missing."""
        ok, message = self.canExecute()
        if not ok:
            raise QgsProcessingException(message)

    def progress_callback(self, feedback):
        """The library's ``progress(fraction, message)`` reporting to ``feedback``.

        Stage names are shown in the user's language (``ntmgis.i18n.stage``); once the
        user cancelled it returns False at once (nothing more is shown over "Đang hủy…").
        """
        from ntmgis.i18n import stage

        last = [None]

        def progress(fraction, message=""):
            if feedback is None:
                return True
            if feedback.isCanceled():
                return False
            if message and message != last[0]:
                last[0] = message
                feedback.setProgressText(stage(str(message)))
            feedback.setProgress(100.0 * float(fraction))
            return not feedback.isCanceled()

        return progress

    def check_cancel(self, feedback):
        """Stop (writing nothing) when the user cancelled between library calls."""
        if feedback is not None and feedback.isCanceled():
            raise Cancelled(self.tr(CANCELLED_TEXT))

    def run_cancellable(self, function, feedback, outputs=()):
        """``function()``; a cancellation becomes a warning and empty outputs, not a failure."""
        try:
            return function()
        except Cancelled:
            if feedback is not None:
                feedback.pushWarning(self.tr(CANCELLED_TEXT))
            results = {name: None for name in outputs}
            results["CANCELLED"] = True
            return results

    def call(self, feedback, function, *args, progress=True, abandon=None, **kwargs):
        """Call a library function; translate its cancel, errors and warnings.

        ``abandon``: for a call writing only into a :class:`Staging` folder, its
        ``cleanup``. A cancel the library has not acted on within :data:`GRACE_S` (a
        long step without progress, such as writing the report) then stops the
        algorithm at once; the library's step finishes in the background and
        ``abandon()`` removes what it wrote.
        """
        self.check_deps()
        from ntmgis.errors import CancelledError, NtmgisError, NtmgisWarning

        self.check_cancel(feedback)
        if progress:
            kwargs["progress"] = self.progress_callback(feedback)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", NtmgisWarning)
            try:
                cancelled = None if feedback is None or abandon is None else feedback.isCanceled
                return in_python_thread(
                    function, args, kwargs, cancelled=cancelled, abandon=abandon
                )
            except CancelledError as exc:
                raise Cancelled(str(exc)) from exc
            except NtmgisError as exc:
                raise QgsProcessingException(str(exc)) from exc
            finally:
                if feedback is not None:
                    for line in warning_lines(caught):
                        feedback.pushWarning(line)

    # -- inputs and outputs ---------------------------------------------------------------
    def vector_source(self, parameters, name, context, feedback):
        """``(path, layer name or None)`` of a vector parameter, exported when needed.

        A Shapefile without its ``.prj`` whose layer the user gave a CRS in QGIS (*Set
        layer CRS*) is copied with a ``.prj`` of that CRS: the library reading the file
        itself would find no CRS, and the plugin has no other way to pass it. The copy
        keeps the DBF's bytes (TCVN3, cp1258...), which QGIS's own export would decode
        by its guess and lose.
        """
        path, layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, name, context, VECTOR_FORMATS, "gpkg", feedback
        )
        if shapefile_without_crs(path):
            source = self.parameterAsVectorLayer(parameters, name, context)
            if source is not None and source.crs().isValid():
                path = shapefile_with_crs(path, source.crs())
        return path, (layer or None)

    def optional_vector_source(self, parameters, name, context, feedback):
        """:meth:`vector_source`, or ``(None, None)`` when the parameter is empty."""
        if not parameters.get(name):
            return None, None
        return self.vector_source(parameters, name, context, feedback)

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


def shapefile_without_crs(path) -> bool:
    """Whether ``path`` is a Shapefile with no ``.prj`` beside it (no CRS in the file)."""
    if not path or os.path.splitext(str(path))[1].lower() != ".shp":
        return False
    stem = os.path.splitext(str(path))[0]
    return not any(os.path.exists(stem + ext) for ext in (".prj", ".PRJ", ".Prj"))


def shapefile_with_crs(path, crs) -> str:
    """A copy of the Shapefile ``path`` in Processing's temporary folder, with a ``.prj``."""
    from qgis.core import QgsCoordinateReferenceSystem, QgsProcessingUtils

    folder = tempfile.mkdtemp(prefix="ntmgis-shp-", dir=QgsProcessingUtils.tempFolder())
    stem = os.path.splitext(str(path))[0]
    base = os.path.basename(stem)
    for ext in (".shp", ".shx", ".dbf", ".cpg", ".CPG", ".SHX", ".DBF"):
        if os.path.exists(stem + ext):
            shutil.copyfile(stem + ext, os.path.join(folder, base + ext.lower()))
    wkt = crs.toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT1_ESRI)
    with open(os.path.join(folder, base + ".prj"), "w", encoding="ascii") as handle:
        handle.write(wkt)
    return os.path.join(folder, base + ".shp")


def announce_cancel(feedback, text):
    """Say ``text`` in ``feedback`` the moment the user cancels; return the undo.

    ``feedback.cancel()`` runs in the thread of the click (the dialog's); the connection
    is direct, so the words show at once, while the library finishes its current step
    in the worker thread. The time of the click is kept on ``feedback`` as
    ``ntmgis_cancelled_at`` (``time.monotonic()``), for measuring the latency.
    """
    if feedback is None:
        return lambda: None
    said = []

    def say():
        if said:
            return
        said.append(True)
        try:
            feedback.ntmgis_cancelled_at = time.monotonic()
        except AttributeError:  # a C++ feedback without a Python attribute dict
            pass
        feedback.setProgressText(text)
        feedback.pushWarning(text)

    if feedback.isCanceled():
        say()
        return lambda: None
    feedback.canceled.connect(say, Qt.ConnectionType.DirectConnection)

    def undo():
        try:
            feedback.canceled.disconnect(say)
        except (TypeError, RuntimeError):  # already gone with its feedback
            pass

    return undo


def warning_lines(caught):
    """The library's warnings as one line each, each kind's repeats counted, in order.

    The library's :func:`ntmgis.i18n.warning_lines`: the first three different texts
    of each kind (two surveys' unknown classes are two sentences, both said), then how
    many of each kind there were, as ``ntmgis run`` says them, in the library's language
    (QGIS's).
    """
    from ntmgis.i18n import warning_lines as lines

    return lines(caught)


#: seconds a cancelled library call gets to stop by itself before it is abandoned
GRACE_S = 1.5


def in_python_thread(function, args=(), kwargs=None, cancelled=None, abandon=None):
    """``function(*args, **kwargs)``; from a Qt worker thread, in a short-lived Python thread.

    QGIS runs Processing algorithms and tasks in pooled QThreads, which Python only
    borrows: their Python thread state is created and deleted around each call. pyproj
    3.7.0-3.7.2 keeps its per-thread PROJ context in OS-thread storage but frees it with
    the Python thread state, so the second run on the same pooled thread used a freed
    context and crashed QGIS (pyproj issues #1509, #1622; fixed by pyproj PR #1541). A
    thread started by Python gets a fresh OS thread each time, so the library's pyproj
    calls never meet a freed context. On the main thread the call is direct.

    With ``cancelled`` (a callable) and ``abandon`` (the cleanup of what the call
    writes): once ``cancelled()`` is true and the call has not ended :data:`GRACE_S`
    seconds later, :class:`Cancelled` is raised at once; the call goes on in its
    (daemon) thread until its step ends, then ``abandon()`` runs there.
    """
    kwargs = kwargs or {}
    if not isinstance(threading.current_thread(), threading._DummyThread):
        return function(*args, **kwargs)
    outcome = {}
    lock = threading.Lock()

    def target():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # re-raised in the calling thread
            outcome["error"] = exc
        with lock:
            outcome["done"] = True
            late = outcome.get("abandoned")
        if late:
            try:
                abandon()
            except Exception as exc:  # the run was cancelled: only the log can tell
                QgsMessageLog.logMessage(str(exc), "NTM GIS", Qgis.MessageLevel.Warning)

    worker = threading.Thread(target=target, name="ntmgis-library", daemon=True)
    worker.start()
    since = None
    while worker.is_alive():
        worker.join(None if cancelled is None else 0.05)
        if cancelled is None or not worker.is_alive() or not cancelled():
            continue
        since = since or time.monotonic()
        if time.monotonic() - since >= GRACE_S:
            with lock:
                if not outcome.get("done"):
                    outcome["abandoned"] = True
                    raise Cancelled(tr(CANCELLED_TEXT))
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


class Staging:
    """A hidden folder beside the final outputs: published by renames, or removed whole.

    A run writes into ``path``; :meth:`publish` moves the files into ``final`` (same
    disk: renames); :meth:`cleanup` removes ``path`` and, when the run created ``final``
    and left nothing there, ``final`` too. Used as a context manager, it cleans up on
    the way out.
    """

    def __init__(self, final):
        self.final = final
        self.existed = os.path.isdir(final)
        self.path = staging_folder(final)
        self.published = False

    def publish(self):
        """Move the files into ``final``; return {real path written: final path}."""
        moved = publish(self.path, self.final)
        self.published = True
        return {os.path.realpath(old): new for old, new in moved.items()}

    def cleanup(self):
        """Remove the staging folder (and an empty ``final`` the run created)."""
        shutil.rmtree(self.path, ignore_errors=True)
        if self.published or self.existed or not os.path.isdir(self.final):
            return
        try:
            if not os.listdir(self.final):
                os.rmdir(self.final)  # a failed or cancelled run leaves no empty folder
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False


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
