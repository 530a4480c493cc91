"""Runs inside the real QGIS program (``qgis --code``), driven by ``test_real_qgis.py``.

What a land officer does, in order, in a fresh profile: install the plugin ZIP with the
plugin manager's own "Install from ZIP", install the libraries with the plugin's
installer (the question answered "Yes"), check the installation (smoke test), run the
chain from the toolbar dialog, run it again through Processing (results loaded as the
Processing dialog loads them), cancel a run, print the atlas; then quit QGIS. Each step
writes what it saw to the job's ``session.json`` and screenshots of the dialogs to its
``screenshots/`` folder; the test compares the outputs with the library's.
"""

import json
import os
import sys
import time
import traceback

from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QCoreApplication, QTimer
from qgis.utils import iface

JOB = json.load(open(os.environ["NTMGIS_REAL_JOB"], encoding="utf-8"))
OUT = JOB["session"]
SHOTS = JOB["screenshots"]
state = {"steps": [], "errors": []}
# which libraries QGIS had imported by itself before this script (plugins are loaded)
state["preloaded"] = sorted(
    m
    for m in ("numpy", "pyproj", "shapely", "pandas", "matplotlib", "pyogrio", "rasterio")
    if m in sys.modules
)
state["numpy"] = [getattr(sys.modules.get("numpy"), "__version__", None),
                  getattr(sys.modules.get("numpy"), "__file__", None)]  # fmt: skip


def _record_exception(kind, value, tb):
    """QGIS shows Python errors in a modal dialog: record them instead (and fail the test)."""
    state["errors"].append("uncaught: " + "".join(traceback.format_exception(kind, value, tb)))
    save()


sys.excepthook = _record_exception
state["log"] = []


def _log(message, tag, level):
    if tag in ("NTM GIS", "Python warning", "Python error", "Processing"):
        state["log"].append(f"{tag}: {message}")


QgsApplication.messageLog().messageReceived.connect(_log)


def save():
    with open(OUT + ".part", "w", encoding="utf-8") as handle:
        json.dump(state, handle, ensure_ascii=False, indent=1, default=str)
    os.replace(OUT + ".part", OUT)


def shot(widget, name):
    """Save a screenshot of ``widget`` (a dialog) as ``screenshots/<name>.png``."""
    os.makedirs(SHOTS, exist_ok=True)
    widget.show()
    for _ in range(5):
        QCoreApplication.processEvents()
    path = os.path.join(SHOTS, f"{name}.png")
    widget.grab().save(path)
    state.setdefault("screenshots", []).append(path)


def wait(condition, timeout=600):
    deadline = time.monotonic() + timeout  # a guard against hanging, not a measurement
    while not condition() and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.05)
    return condition()


def step(name):
    def decorate(function):
        def run():
            state["steps"].append(name)
            try:
                function()
            except Exception:
                state["errors"].append(f"{name}: {traceback.format_exc()}")
                raise
            finally:
                save()

        run.step = name
        return run

    return decorate


@step("install_zip")
def install_zip():
    import pyplugin_installer

    pyplugin_installer.instance().installFromZipFile(JOB["zip"])
    import qgis.utils

    state["plugin_loaded"] = "ntmgis_qgis" in qgis.utils.plugins
    module = sys.modules.get("ntmgis_qgis")
    state["plugin_path"] = os.path.dirname(module.__file__) if module else None
    plugin = qgis.utils.plugins["ntmgis_qgis"]
    from ntmgis_qgis import deps

    state["missing_before"] = [m[0] for m in deps.check(refresh=True)]
    state["toolbar"] = [a.text() for a in plugin.toolbar.actions()]
    state["menu"] = [a.text() for a in plugin.actions]


@step("install_libraries")
def install_libraries():
    from ntmgis_qgis import install_dialog, installer
    from qgis.PyQt.QtWidgets import QMessageBox

    state["plan"] = [f"{n}=={v}" for n, v, _ in installer.plan()]

    ok = install_dialog.run_installer(
        iface.mainWindow(), ask=True, answer=QMessageBox.StandardButton.Yes,
        on_question=lambda box: shot(box, "01_cai_dat_thu_vien_hoi"),
    )  # fmt: skip
    state["installed"] = ok
    outcome = install_dialog.SHOWN.get("outcome")
    if outcome is not None:
        state["install_outcome"] = outcome.text()
        shot(outcome, "02_cai_dat_xong")
        outcome.close()
    state["target"] = installer.target_dir()
    with open(installer.log_path(), encoding="utf-8") as handle:
        state["install_log_tail"] = handle.read()[-2000:]


@step("check_installation")
def check_installation():
    import qgis.utils
    from ntmgis_qgis import deps

    plugin = qgis.utils.plugins["ntmgis_qgis"]
    text = plugin.show_dependencies()
    state["check_text"] = text
    state["smoke"] = [[s, ok, d] for s, ok, d in plugin.smoke]
    state["conflicts"] = deps.conflicts()
    state["interposed"] = deps.interposed()
    import shapely

    state["shapely"] = [shapely.__version__, list(shapely.geos_version), shapely.__file__]
    shot(plugin._box, "03_kiem_tra_cai_dat")
    plugin._box.close()
    import ntmgis.i18n

    state["library_language"] = ntmgis.i18n.get_language()


def _layers():
    parcels = QgsVectorLayer(f"{JOB['parcels']}|layername=parcels", "Thửa đất", "ogr")
    hamlets = QgsVectorLayer(f"{JOB['parcels']}|layername=hamlets", "Thôn", "ogr")
    QgsProject.instance().addMapLayers([parcels, hamlets])
    return parcels, hamlets


@step("dialog_run")
def dialog_run():
    import qgis.utils

    plugin = qgis.utils.plugins["ntmgis_qgis"]
    dialog = plugin.open_dialog()
    parcels, hamlets = _layers()
    dialog.parcels.setLayer(parcels)
    dialog.hamlets.setLayer(hamlets)
    dialog.survey.setFilePath(JOB["survey"])
    dialog.imagery.setFilePath(JOB["imagery"])
    dialog.targets.setFilePath(JOB["targets"])
    dialog.output.setFilePath(JOB["dialog_out"])
    for _ in range(5):
        QCoreApplication.processEvents()
    state["dialog_prefilled"] = {
        "commune": dialog.commune.text(),
        "period": dialog.period(),
    }
    dialog.maps.setChecked(True)
    shot(dialog, "04_hop_thoai_vuon_hoang_hoa")
    task = dialog.start_task()
    state["dialog_started"] = task is not None
    state["dialog_status_start"] = dialog.status.text()
    wait(lambda: dialog.task is None)
    shot(dialog, "05_hop_thoai_xong")
    state["dialog_status"] = dialog.status.text()
    state["dialog_results"] = {
        k: v for k, v in (dialog.results or {}).items() if isinstance(v, str)
    }
    state["dialog_layers"] = [
        [layer.name(), layer.renderer().type() if layer.renderer() else None]
        for layer in dialog.added_layers
    ]
    # a second run into the same folder asks before overwriting: answer "No"
    state["overwrite_question"] = dialog.overwrite_question_text()
    dialog.close()


@step("processing_run")
def processing_run():
    import processing

    parcels, hamlets = _layers()
    params = {
        "PARCELS": parcels, "HAMLETS": hamlets, "SURVEY": JOB["survey"],
        "IMAGERY": JOB["imagery"], "TARGETS": JOB["targets"], "PERIOD": JOB["period"],
        "COMMUNE": JOB["commune"], "MAPS": False, "NAME": JOB["name"],
        "OUTPUT_FOLDER": JOB["processing_out"],
    }  # fmt: skip
    before = set(QgsProject.instance().mapLayers())
    results = processing.runAndLoadResults("ntmgis:flag_abandoned_gardens", params)
    for _ in range(10):
        QCoreApplication.processEvents()
    added = [
        QgsProject.instance().mapLayer(i) for i in set(QgsProject.instance().mapLayers()) - before
    ]
    state["processing_results"] = {k: v for k, v in results.items() if isinstance(v, str)}
    state["processing_layers"] = sorted(
        [layer.name(), layer.renderer().type() if layer.renderer() else None,
         layer.renderer().classAttribute() if hasattr(layer.renderer(), "classAttribute") else None]
        for layer in added if isinstance(layer, QgsVectorLayer) and layer.source() not in
        (parcels.source(), hamlets.source())
    )  # fmt: skip


@step("cancel_run")
def cancel_run():
    import qgis.utils

    plugin = qgis.utils.plugins["ntmgis_qgis"]
    dialog = plugin.open_dialog()
    parcels, hamlets = _layers()
    dialog.parcels.setLayer(parcels)
    dialog.survey.setFilePath(JOB["survey"])
    dialog.imagery.setFilePath(JOB["imagery"])
    dialog.output.setFilePath(JOB["cancel_out"])
    dialog.maps.setChecked(False)
    dialog.start_task()
    wait(lambda: dialog.task is None or dialog.progress.value() >= 12)
    state["cancel_task_running"] = dialog.task is not None
    dialog.cancel_button.click()
    state["cancel_status_at_once"] = dialog.status_at_cancel
    shot(dialog, "06_dang_huy")
    wait(lambda: dialog.task is None)
    state["cancel_status"] = dialog.status.text()
    shot(dialog, "07_da_huy")
    state["cancel_files"] = sorted(
        os.path.relpath(os.path.join(r, f), JOB["cancel_out"])
        for r, _, fs in os.walk(JOB["cancel_out"]) for f in fs
    ) if os.path.isdir(JOB["cancel_out"]) else []  # fmt: skip
    state["cancel_folder_exists"] = os.path.isdir(JOB["cancel_out"])
    dialog.close()


@step("atlas")
def atlas():
    import processing

    gpkg = state["processing_results"]["GPKG"]
    results = processing.run("ntmgis:print_atlas", {"RESULT": gpkg, "OUTPUT": JOB["atlas_pdf"]})
    state["atlas_pages"] = results["PAGES"]


def main():
    try:
        for function in (install_zip, install_libraries, check_installation, dialog_run,
                         processing_run, cancel_run, atlas):  # fmt: skip
            if JOB.get("steps") and function.step not in JOB["steps"]:
                continue
            function()
    except Exception:  # recorded in session.json; quit anyway
        pass
    finally:
        state["finished"] = True
        save()
        QgsProject.instance().clear()
        QTimer.singleShot(200, QgsApplication.instance().quit)


QTimer.singleShot(500, main)
