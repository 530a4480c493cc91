"""The installer's dialogs: ask first, then progress (cancel) and the outcome with the log."""

import threading
import time

from qgis.PyQt.QtCore import QCoreApplication, Qt
from qgis.PyQt.QtWidgets import QMessageBox, QProgressDialog

from . import deps, installer
from .translate import tr

#: the last dialogs shown (the tests take screenshots of them)
SHOWN = {}


def question_text(entries, folder):
    """What the installer will do, for the user to agree to."""
    names = ", ".join(f"{name} {version}" for name, version, _ in entries)
    return tr(
        "NTM GIS needs the ntmgis library and {0} Python libraries QGIS lacks:\n{1}.\n\n"
        "They will be downloaded from PyPI (the Python package index), each checked against "
        "its SHA-256, and installed into this QGIS profile only:\n{2}\n\n"
        "QGIS's own files are not changed; deleting that folder undoes it. Install now?"
    ).format(len(entries), names, folder)


def run_installer(parent=None, ask=True, answer=None, on_question=None):
    """Ask, install with a progress dialog, report; return True when the libraries work.

    ``answer`` (tests): the button to press in the question instead of waiting for a user;
    ``on_question(box)`` is called with the question shown, before it is answered.
    """
    try:
        entries = installer.plan()
        installer.bundled_wheel()
    except installer.InstallError as exc:
        _inform(parent, QMessageBox.Icon.Critical, str(exc))
        return False
    if ask:
        box = QMessageBox(
            QMessageBox.Icon.Question, tr("NTM GIS – install the libraries"),
            question_text(entries, installer.target_dir()),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent,
        )  # fmt: skip
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        SHOWN["question"] = box
        if answer is not None:
            box.show()
            QCoreApplication.processEvents()
            if on_question is not None:
                on_question(box)
            box.done(answer)
            choice = answer
        else:
            choice = box.exec()
        if choice != QMessageBox.StandardButton.Yes:
            return False
    dialog = QProgressDialog(tr("Installing the libraries…"), tr("Cancel"), 0, 100, parent)
    dialog.setWindowTitle(tr("NTM GIS – install the libraries"))
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(0)
    dialog.setValue(0)  # noqa: QGS202 - a QProgressDialog
    SHOWN["progress"] = dialog
    state = {"fraction": 0.0, "message": "", "cancel": False}

    def progress(fraction, message=""):
        state["fraction"], state["message"] = fraction, message
        return not state["cancel"]

    def work():
        try:
            state["result"] = installer.install(progress=progress)
        except Exception as exc:  # shown to the user below, never a traceback
            state["error"] = exc

    thread = threading.Thread(target=work, name="ntmgis-installer")
    thread.start()
    while thread.is_alive():
        QCoreApplication.processEvents()
        dialog.setValue(int(100 * state["fraction"]))  # noqa: QGS202 - a QProgressDialog
        if state["message"]:
            dialog.setLabelText(state["message"])
        if dialog.wasCanceled() and not state["cancel"]:
            state["cancel"] = True
            dialog.setLabelText(tr("Cancelling…"))
        time.sleep(0.05)
    dialog.close()
    if "error" in state:
        _inform(parent, QMessageBox.Icon.Critical, str(state["error"]))
        return False
    folder, installed = state["result"]
    restart = installer.needs_restart(installed)
    missing = deps.check(refresh=True)
    if restart:
        text = tr("Installed into {0}. Restart QGIS to use them ({1} was already loaded).").format(
            folder, ", ".join(restart)
        )
    elif missing:
        text = deps.install_help(missing)
    else:
        from .plugin import set_library_language
        from .translate import qgis_locale

        set_library_language(qgis_locale())
        text = tr("Installed into {0}. NTM GIS is ready.").format(folder)
    _inform(parent, QMessageBox.Icon.Information if not missing else QMessageBox.Icon.Warning, text)
    return not missing and not restart


def _inform(parent, icon, text):
    box = QMessageBox(icon, tr("NTM GIS"), text, QMessageBox.StandardButton.Ok, parent)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setModal(False)
    box.show()
    SHOWN["outcome"] = box
    return box
