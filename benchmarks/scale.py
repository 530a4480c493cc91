"""Province-scale benchmark: a synthetic province run single-process and on Dask.

    python benchmarks/scale.py                 # 125 communes x 1,600 parcels, 12 dates
    python benchmarks/scale.py --quick         # 3 communes x 300 parcels: a smoke run
    python benchmarks/scale.py --modes 2       # only the 2-worker LocalCluster
    python benchmarks/scale.py --modes ""      # only write the province

The province is written once by ``ntmgis.distributed.make_province`` (each commune is
``ntmgis sample`` with its own seed; kept between runs under ``--root``), then run:

* ``single``: every commune one after another in one process (``ntmgis.pipeline.run``
  through ``run_distributed`` without a cluster), in a child process so that its peak
  memory is its own;
* ``1`` and ``2``: a LocalCluster of 1 and 2 worker processes (one thread each) on
  127.0.0.1, results left on the workers (``gather=False``).

Printed per mode: wall time, parcels per second per core (all steps, and the feature
step alone), bytes read (read system calls of the tasks, page cache included: the
scenes' windows, vectors and survey tables) and peak resident memory per worker.
Outputs (one GeoPackage per commune, maps and report off) go to ``ROOT/out_<mode>``.
Flags use the transparent rules by default (``--calibration auto`` adds the per-commune
random-forest calibration, ~10 s per commune on this machine).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path


def _configs(root: Path, mode: str, calibration: str):
    from ntmgis.config import load_communes

    configs = load_communes(root / "province.toml")
    for cfg in configs:
        cfg.out_dir = root / f"out_{mode}" / cfg.source.parent.name
        cfg.calibration = calibration
    return configs


def _figures(out, mode: str) -> dict:
    done = [c for c in out.communes if c.result is not None]
    parcels = sum(c.parcels for c in done)
    feat = sum(c.stats.get("features_seconds", 0.0) for c in done)
    return {
        "mode": mode,
        "communes": len(out.communes),
        "failed": len(out.communes) - len(done),
        "parcels": parcels,
        "workers": out.workers,
        "cores": out.cores,
        "seconds": round(out.seconds, 2),
        "parcels_per_s_per_core": round(parcels / out.seconds / out.cores, 1),
        "feature_parcels_per_s": round(parcels / feat, 1) if feat else None,
        "bytes_read": out.bytes_read,
        "peak_memory_mb": {k: round(v / 2**20, 1) for k, v in out.peak_memory.items()},
        "lost_workers": len(out.lost_workers),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _run_mode(root: Path, mode: str, calibration: str) -> dict:
    from ntmgis.distributed import run_distributed

    configs = _configs(root, mode, calibration)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if mode == "single":
            out = run_distributed(configs, gather=False)
        else:
            out = run_distributed(configs, workers=int(mode), gather=False)
    return _figures(out, mode)


def _single_in_child(root: Path, calibration: str) -> dict:
    """The single-process run in a fresh interpreter: its peak memory is its own."""
    cmd = [sys.executable, __file__, "--root", str(root), "--child-single", "--calibration",
           calibration]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _print(rows: list[dict]) -> None:
    head = (f"{'mode':>7} {'parcels':>8} {'cores':>5} {'wall s':>8} {'parcels/s/core':>14} "
            f"{'features p/s':>12} {'MB read':>8}  peak MB per worker")  # fmt: skip
    print(head)
    print("-" * len(head))
    for r in rows:
        peaks = ", ".join(f"{v:.0f}" for v in r["peak_memory_mb"].values())
        print(
            f"{r['mode']:>7} {r['parcels']:>8} {r['cores']:>5} {r['seconds']:>8.1f} "
            f"{r['parcels_per_s_per_core']:>14.1f} {r['feature_parcels_per_s'] or 0:>12.0f} "
            f"{r['bytes_read'] / 2**20:>8.0f}  {peaks}"
        )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/ntmgis_province"))
    parser.add_argument("--communes", type=int, default=125)
    parser.add_argument("--parcels", type=int, default=1600)
    parser.add_argument("--dates", type=int, default=12)
    parser.add_argument("--modes", default="single,1,2")
    parser.add_argument("--calibration", default="rules", choices=("rules", "auto"))
    parser.add_argument("--quick", action="store_true", help="3 communes x 300 parcels")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child-single", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_single:
        print(json.dumps(_run_mode(args.root, "single", args.calibration)))
        return
    if args.quick:
        args.communes, args.parcels = 3, 300
        if args.root == parser.get_default("root"):
            args.root = Path("/tmp/ntmgis_province_quick")

    from ntmgis.distributed import make_province

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if args.communes > 4:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=None)  # fmt: skip
            with cluster, Client(cluster) as client:
                make_province(args.root, communes=args.communes, parcels=args.parcels,
                              dates=args.dates, client=client)  # fmt: skip
        else:
            make_province(args.root, communes=args.communes, parcels=args.parcels,
                          dates=args.dates)  # fmt: skip
    size = sum(f.stat().st_size for f in args.root.rglob("*") if f.is_file()
               and "out_" not in str(f.relative_to(args.root)))  # fmt: skip
    print(
        f"Province: {args.communes} communes x {args.parcels} parcels = "
        f"{args.communes * args.parcels} parcels, {args.dates} dates, "
        f"{size / 2**20:.0f} MB in {args.root} (ready in {time.perf_counter() - t0:.0f} s); "
        f"{os.cpu_count()} CPU(s) on this machine."
    )
    rows = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        rows.append(
            _single_in_child(args.root, args.calibration)
            if mode == "single"
            else _run_mode(args.root, mode, args.calibration)
        )
        print(f"  {mode}: {rows[-1]['seconds']:.1f} s (load average now "
              f"{rows[-1]['load_average_after']})", flush=True)  # fmt: skip
    _print(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
