"""How long a cancel takes to stop the chain, as the dialog runs it (a background task).

Run in the QGIS venv (not part of the default suite: a file named ``measure_*``)::

    PYTHONPATH=$PWD QT_QPA_PLATFORM=offscreen .venv-qgis/bin/python -m pytest -s \
        -p no:cacheprovider tests/qgis/measure_cancel.py

For each point of the run (per cent of the progress bar), the chain
``ntmgis:flag_abandoned_gardens`` runs on the sample commune in QGIS's task manager; the
main thread clicks cancel when the bar reaches it and measures, on the main thread's
clock: the time until "Đang hủy…"/"Cancelling…" is shown (``said``) and until the task
reports it has finished (``stopped``), with the stage the library was in.
``test_plugin_bridge.py`` runs two points of it.
"""

import threading
import time
from pathlib import Path

import pytest

_KEEP = []  # the task manager may touch a task's context after it finished


def measure(cancel_at, out_dir, after_s=0.0, timeout=600):
    """Cancel the chain ``after_s`` seconds after its progress reached ``cancel_at``."""
    from plugin_cases import chain_parameters
    from qgis.core import (
        QgsApplication,
        QgsProcessingAlgRunnerTask,
        QgsProcessingContext,
        QgsProcessingFeedback,
        QgsProject,
    )
    from qgis.PyQt.QtCore import QCoreApplication

    algorithm = QgsApplication.processingRegistry().createAlgorithmById(
        "ntmgis:flag_abandoned_gardens"
    )
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    seen = {"texts": [], "stage": "", "said": None, "cancelled": None}

    class Feedback(QgsProcessingFeedback):
        def setProgressText(self, text):  # noqa: N802 - QGIS API name
            if seen["cancelled"] is None:
                seen["stage"] = text
            elif seen["said"] is None:
                seen["said"] = time.monotonic()
            seen["texts"].append(text)
            super().setProgressText(text)

    feedback = Feedback()
    params = chain_parameters(out_dir)  # kept: the task's thread reads its layers
    task = QgsProcessingAlgRunnerTask(algorithm, params, context, feedback)
    done = []
    task.executed.connect(lambda ok, results: done.append((ok, results, time.monotonic())))
    started = time.monotonic()
    QgsApplication.taskManager().addTask(task)
    deadline = started + timeout
    while not done and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        if seen.get("reached") is None and feedback.progress() >= cancel_at:
            seen["reached"] = time.monotonic()
        reached = seen.get("reached")
        if seen["cancelled"] is None and reached and time.monotonic() >= reached + after_s:
            seen["at"] = feedback.progress()
            seen["cancelled"] = time.monotonic()
            feedback.cancel()  # what the dialog's Cancel button does (and task.cancel())
            task.cancel()
        time.sleep(0.005)
    if not done:
        raise RuntimeError(f"the task did not finish within {timeout} s")
    ok, results, finished = done[0]
    _KEEP.append((algorithm, context, feedback, params, task))  # as the dialog keeps them
    # an abandoned library step (base.GRACE_S) ends in the background, then cleans up
    threads = [t for t in threading.enumerate() if t.name == "ntmgis-library"]
    for thread in threads:
        thread.join(timeout)
    cancelled = seen["cancelled"]
    return {
        "cancel_at": cancel_at,
        "progress": seen.get("at"),
        "stage": seen["stage"],
        "said_s": None if seen["said"] is None else seen["said"] - cancelled,
        "stopped_s": None if cancelled is None else finished - cancelled,
        "run_s": finished - started,
        "ok": ok,
        "cancelled": bool((results or {}).get("CANCELLED")),
        "left": sorted(p.name for p in Path(out_dir).iterdir()) if Path(out_dir).exists() else [],
        "abandoned": bool(threads),
    }


#: (per cent of the bar, then seconds later): 70 % and 3 s is inside the final step
#: (report, GeoPackage, styles), where the bar stays at 70 % for most of the run
POINTS = ((2, 0), (10, 0), (30, 0), (50, 0), (70, 0), (70, 3.0), (85, 0))


@pytest.mark.parametrize("point, after_s", POINTS)
def test_measure_cancel_latency(provider, tmp_path, point, after_s):
    row = measure(point, tmp_path / "out", after_s=after_s)
    said = "-" if row["said_s"] is None else f"{row['said_s']:.3f}"
    stopped = "-" if row["stopped_s"] is None else f"{row['stopped_s']:.2f}"
    print(f"\ncancel at {row['progress']:.0f} % + {after_s} s ({row['stage']}): said {said} s, "
          f"stopped after {stopped} s (run {row['run_s']:.1f} s; library step abandoned: "
          f"{row['abandoned']})")  # fmt: skip
    if row["stopped_s"] is None:  # the run ended before the bar reached the point
        assert row["ok"] and not row["cancelled"]
        return
    # a cancellation, not a failure: the results say so (the task itself reports
    # ok=False once task.cancel() was called, which the dialog reads as cancelled)
    assert row["cancelled"], row
    assert row["said_s"] is not None and row["said_s"] < row["stopped_s"]
    assert row["left"] == []  # nothing written, no staging folder
