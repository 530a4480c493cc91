"""Calibration speed: a commune's calibration on one core, LightGBM against the old forest.

Usage::

    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/calibration.py   # the committed sample
    OMP_NUM_THREADS=1 taskset -c 0 python benchmarks/calibration.py --big --no-forest
    OMP_NUM_THREADS=1 python benchmarks/calibration.py --seeds 11 23 --root /tmp/ntmgis_seeds

For each commune (the committed sample's 2020 and 2022 campaigns, any seed written by
``benchmarks/accuracy.py`` under ``--root``, and with ``--big`` a commune of 2,000
parcels and 24 dates, written under ``--root`` when missing) it times, after one warm-up
(imports and first-call costs are not a commune's cost):

* ``ntmgis.flags.calibrate``: LightGBM (one thread), a first five-fold cross-validation
  grouped by hamlet that finds the labels the imagery contradicts, a second one fitted
  on the kept labels, isotonic calibration of its out-of-fold scores, the F2 threshold,
  the final fit;
* the random forest ntmgis used before (300 trees, ``min_samples_leaf=3``,
  ``max_features=0.5``, balanced, one job) with the same grouped cross-validation.

Both report the abandoned class's cross-validated precision, recall and F1 against the
survey at their own F2 threshold. Times are printed (best of ``--repeat``; wall clock and
CPU seconds of the one thread: on a shared machine the wall clock includes the other
jobs on that core), never asserted; the target is at most 2 s per commune.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def _inputs(root: Path, followup):
    from accuracy import _features

    prepared, features = _features(root, followup, cache=root != ROOT / "layers")
    joined = prepared.joined
    garden = joined["is_garden"] & features["clear_obs"].ge(6)
    return features[garden], prepared.survey_class[garden], joined.loc[garden, "hamlet"]


def _forest(features, labels, groups):
    """The calibration ntmgis had before: a random forest, grouped 5-fold CV, F2."""
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GroupKFold, cross_val_predict

    from ntmgis.features import MODEL_FEATURES
    from ntmgis.flags import TENDED_CLASSES, _class_report, _fbeta

    old = [c for c in MODEL_FEATURES if not c.startswith(("core_", "ndvi_step", "ndvi_iqr"))]
    old = [c for c in old if c != "drops"]
    known = labels.isin((*TENDED_CLASSES, "hoang_hoa"))
    y = (labels[known] == "hoang_hoa").astype(int).to_numpy()
    x = features.loc[known, old].astype(float)
    x = x.fillna(x.median()).fillna(0).to_numpy()

    def forest():
        return RandomForestClassifier(n_estimators=300, min_samples_leaf=3, max_features=0.5,
                                      class_weight="balanced_subsample", n_jobs=1,
                                      random_state=0)  # fmt: skip

    cv = GroupKFold(n_splits=min(5, groups[known].nunique()))
    p = cross_val_predict(forest(), x, y, groups=groups[known], cv=cv,
                          method="predict_proba")[:, 1]  # fmt: skip
    keep = ~(((y == 1) & (p < 0.15)) | ((y == 0) & (p > 0.85)))
    thresholds = np.round(np.arange(0.2, 0.71, 0.025), 3)
    t = thresholds[int(np.argmax([_fbeta(y[keep], p[keep] >= t, 2.0) for t in thresholds]))]
    forest().fit(x[keep], y[keep])
    return _class_report(y, p >= t)


def _timed(func, args, repeat, **kw):
    """Best wall-clock and best CPU seconds of ``repeat`` calls, and the last result.

    With one thread the CPU seconds are what the calibration costs one core; the wall
    clock adds whatever else the (shared) core was running.
    """
    best, cpu, out = np.inf, np.inf, None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = func(*args, **kw)
        best = min(best, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return best, out, cpu


def main(argv=None) -> int:
    from ntmgis.flags import calibrate

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="*", default=[])
    ap.add_argument("--root", type=Path, default=Path("/tmp/ntmgis_seeds"))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-forest", action="store_true", help="skip the old random forest")
    ap.add_argument("--big", action="store_true", help="add a 2,000-parcel 24-date commune")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: set OMP_NUM_THREADS=1 to measure one core", file=sys.stderr)
    communes = [(ROOT / "layers", None, "sample 2020"), (ROOT / "layers", 2022, "sample 2022")]
    for seed in args.seeds:
        for followup in (None, 2022):
            communes.append((args.root / f"seed{seed}", followup,
                             f"seed {seed} {followup or 2020}"))  # fmt: skip
    if args.big:
        from ntmgis.sample import make_sample

        big = args.root / "big2000x24"
        if not (big / "thanh_binh.toml").is_file():
            make_sample(big, seed=101, n_parcels=2000, n_dates=24, followup_year=None)
        communes.append((big, None, "2,000 parcels, 24 dates"))
    rows = []
    for k, (root, followup, name) in enumerate(communes):
        features, labels, groups = _inputs(root, followup)
        if k == 0:  # warm-up: imports and first calls
            calibrate(features, labels, groups=groups)
        seconds, cal, cpu = _timed(calibrate, (features, labels), args.repeat, groups=groups)
        row = {"commune": name, "gardens": len(features), "labels": cal.n_labels,
               "lightgbm_s": seconds, "lightgbm_cpu_s": cpu,
               "lightgbm_f1": cal.report.loc["hoang_hoa", "f1"],
               "lightgbm_recall": cal.report.loc["hoang_hoa", "recall"],
               "brier": cal.brier}  # fmt: skip
        if not args.no_forest:
            fs, rep, fcpu = _timed(_forest, (features, labels, groups), 1)
            row.update(
                forest_s=fs,
                forest_cpu_s=fcpu,
                forest_f1=rep.loc["hoang_hoa", "f1"],
                forest_recall=rep.loc["hoang_hoa", "recall"],
                speedup=fs / seconds,
            )
        rows.append(row)
        print(row, flush=True)
    table = pd.DataFrame(rows).set_index("commune")
    pd.set_option("display.width", 200)
    print("\nCalibration per commune, one core (cross-validated scores against the survey):")
    print(table.round(3).to_string())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
