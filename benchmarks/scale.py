"""Province-scale benchmark: a synthetic province, calibrated, on a Dask LocalCluster.

    python benchmarks/scale.py                      # 1,000,000 parcels (500 x 2,000), 24 dates
    python benchmarks/scale.py --quick              # 4 communes x 300 parcels: a smoke run
    python benchmarks/scale.py --communes 100 --modes 1,2   # 200,000 parcels, 1 and 2 workers
    python benchmarks/scale.py --modes ""           # only write the province

The province's communes are written once by ``ntmgis.sample.make_province`` (each
commune is ``ntmgis sample`` with its own seed: its own hamlets, parcels, survey and 24
Sentinel-2 dates; kept between runs under ``--root``). Writing a commune costs about as
much as running it, so ``--distinct K`` writes K communes and the province runs each of
them ``communes / K`` times, each run its own commune task writing its own outputs
(``ROOT/out_<mode>/<commune>_<copy>``); the work per run is the same as for a distinct
commune (the page cache holds the inputs either way: 14 MB a commune).

Modes, each run the same province:

* ``1`` and ``2`` (the default ``1,2``): a LocalCluster of 1 and 2 worker processes (one
  thread each) on 127.0.0.1, results left on the workers (``gather=False``);
* ``single``: every commune one after another in one process (no Dask), in a child
  process so that its peak memory is its own.

Flags are calibrated on each commune's survey (``--calibration auto``, the default: the
random forest of :func:`ntmgis.flags.calibrate` where the survey has enough labels;
``rules`` for the rules alone). Maps and report are off (a province run writes one
GeoPackage per commune). Printed per mode: wall time, parcels x dates per core-second,
parcels per second, bytes read, communes calibrated, peak resident memory per worker;
then the national projection (50 M parcels x 24 dates) from the best mode.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path


def _configs(root: Path, mode: str, calibration: str, copies: int, distinct: int):
    import copy

    from ntmgis.config import load_communes

    configs = []
    for k in range(copies):
        for cfg in load_communes(root / "province.toml")[:distinct]:
            cfg = copy.copy(cfg)
            cfg.out_dir = root / f"out_{mode}" / f"{cfg.source.parent.name}_{k}"
            cfg.calibration = calibration
            cfg.maps = cfg.report = False
            configs.append(cfg)
    return configs


def _figures(out, mode: str, dates: int) -> dict:
    done = [c for c in out.communes if c.result is not None]
    parcels = sum(c.parcels for c in done)
    feat = sum(c.stats.get("features_seconds", 0.0) for c in done)
    calibrated = sum(
        1 for c in done if getattr(c.result.calibration, "mode", None) == "calibrated"
    )  # fmt: skip
    core_seconds = out.seconds * out.cores
    return {
        "mode": mode,
        "communes": len(out.communes),
        "failed": len(out.communes) - len(done),
        "calibrated": calibrated,
        "parcels": parcels,
        "dates": dates,
        "workers": out.workers,
        "cores": out.cores,
        "seconds": round(out.seconds, 2),
        "parcels_per_s": round(parcels / out.seconds, 1),
        "parcels_per_s_per_core": round(parcels / core_seconds, 1),
        "parcel_dates_per_core_s": round(parcels * dates / core_seconds, 1),
        "feature_parcels_per_s": round(parcels / feat, 1) if feat else None,
        "bytes_read": out.bytes_read,
        "peak_memory_mb": {k: round(v / 2**20, 1) for k, v in out.peak_memory.items()},
        "lost_workers": len(out.lost_workers),
        "load_average_after": round(os.getloadavg()[0], 2),
    }


def _run_mode(root: Path, mode: str, calibration: str, copies: int, dates: int,
              distinct: int) -> dict:  # fmt: skip
    from ntmgis.distributed import run_distributed

    configs = _configs(root, mode, calibration, copies, distinct)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if mode == "single":
            cpu0 = time.process_time()
            out = run_distributed(configs, gather=False)
            cpu = time.process_time() - cpu0
        else:
            from distributed import Client

            from ntmgis.distributed import local_cluster

            cluster = local_cluster(int(mode), dashboard=False)  # as `ntmgis run --workers`
            with cluster, Client(cluster) as client:
                cpu0 = sum(client.run(time.process_time).values())
                out = run_distributed(configs, client=client, gather=False)
                cpu = sum(client.run(time.process_time).values()) - cpu0
    row = _figures(out, mode, dates)
    row["cpu_seconds"] = round(cpu, 1)
    row["parcel_dates_per_cpu_s"] = round(row["parcels"] * dates / cpu, 1) if cpu else None
    return row


def _single_in_child(root: Path, calibration: str, copies: int, dates: int,
                     distinct: int) -> dict:  # fmt: skip
    """The single-process run in a fresh interpreter: its peak memory is its own."""
    cmd = [sys.executable, __file__, "--root", str(root), "--child-single", "--calibration",
           calibration, "--copies", str(copies), "--dates", str(dates), "--distinct",
           str(distinct)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _written(root: Path, parcels: int, dates: int, seed: int = 1) -> int:
    """How many communes xa_001, xa_002, ... are already written with these settings."""
    k = 0
    while True:
        marker = root / f"xa_{k + 1:03d}" / ".ntmgis_province"
        if not (marker.is_file() and marker.read_text() == f"{seed + k + 1} {parcels} {dates}"):
            return k
        k += 1


NATIONAL_PARCELS = 50_000_000
NATIONAL_DATES = 24


def projection(row: dict) -> str:
    """The national run (50 M parcels x 24 dates, calibrated) at this mode's throughput."""
    work = NATIONAL_PARCELS * NATIONAL_DATES
    wall = work / row["parcel_dates_per_core_s"] / 3600
    cpu = work / row["parcel_dates_per_cpu_s"] / 3600 if row.get("parcel_dates_per_cpu_s") else 0
    peak = max(row["peak_memory_mb"].values()) if row["peak_memory_mb"] else float("nan")
    return (
        f"National projection from mode {row['mode']}: 50 M parcels x 24 dates = "
        f"{wall:,.1f} core-hours at this run's wall clock x cores "
        f"({row['parcel_dates_per_core_s']:,.0f} parcel-dates per core-second), "
        f"{cpu:,.1f} CPU-hours at its CPU time ({row.get('parcel_dates_per_cpu_s') or 0:,.0f}"
        f" per CPU-second: the figure for dedicated cores); {cpu * 60 / 64:,.0f} min on 64 "
        f"dedicated cores, under {peak:,.0f} MB per worker, "
        f"{row['bytes_read'] / max(row['parcels'], 1) / 1024:,.1f} KB read per parcel."
    )


def _print(rows: list[dict]) -> None:
    print("| mode | communes (calibrated) | parcels | dates | cores | wall s | CPU s | "
          "parcels/s | parcel-dates / core-s | parcel-dates / CPU-s | MB read | "
          "peak MB per worker |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        peaks = ", ".join(f"{v:.0f}" for v in r["peak_memory_mb"].values())
        print(
            f"| {r['mode']} | {r['communes']} ({r['calibrated']}) | {r['parcels']:,} | "
            f"{r['dates']} | {r['cores']} | {r['seconds']:.1f} | {r['cpu_seconds']:.1f} | "
            f"{r['parcels_per_s']:,.0f} | {r['parcel_dates_per_core_s']:,.0f} | "
            f"{r['parcel_dates_per_cpu_s'] or 0:,.0f} | {r['bytes_read'] / 2**20:,.0f} | "
            f"{peaks} |"
        )
    if rows:
        print()
        print(projection(max(rows, key=lambda r: r["parcel_dates_per_core_s"])))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path("/tmp/ntmgis_province_1m"))
    parser.add_argument("--communes", type=int, default=500, help="commune runs")
    parser.add_argument("--distinct", type=int, default=50, help="communes written")
    parser.add_argument("--parcels", type=int, default=2000)
    parser.add_argument("--dates", type=int, default=24)
    parser.add_argument("--modes", default="1,2")
    parser.add_argument("--calibration", default="auto", choices=("rules", "auto"))
    parser.add_argument("--quick", action="store_true", help="4 communes x 300 parcels")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--table", type=Path, help="print the table of a --json file")
    parser.add_argument("--child-single", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--copies", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_single:
        print(json.dumps(_run_mode(args.root, "single", args.calibration, args.copies,
                                   args.dates, args.distinct)))  # fmt: skip
        return
    if args.table:
        _print(json.loads(args.table.read_text(encoding="utf-8")))
        return
    if args.quick:
        args.communes, args.distinct, args.parcels, args.dates = 4, 2, 300, 12
        if args.root == parser.get_default("root"):
            args.root = Path("/tmp/ntmgis_province_quick")
    distinct = max(1, min(args.distinct, args.communes))
    copies = max(1, round(args.communes / distinct))
    # communes already written with these settings stay listed (make_province unlists
    # those beyond the number asked for); the runs take the first `distinct`
    written = _written(args.root, args.parcels, args.dates)

    from ntmgis.sample import make_province

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if distinct > 4:
            from distributed import Client, LocalCluster

            cluster = LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                   dashboard_address=None)  # fmt: skip
            with cluster, Client(cluster) as client:
                make_province(args.root, communes=max(distinct, written),
                              parcels=args.parcels, dates=args.dates, client=client)  # fmt: skip
        else:
            make_province(args.root, communes=max(distinct, written), parcels=args.parcels,
                          dates=args.dates)  # fmt: skip
    size = sum(f.stat().st_size for f in args.root.rglob("*") if f.is_file()
               and "out_" not in str(f.relative_to(args.root)))  # fmt: skip
    print(
        f"Province: {distinct} communes written x {copies} runs each = {distinct * copies} "
        f"commune runs x {args.parcels} parcels = {distinct * copies * args.parcels:,} "
        f"parcels, {args.dates} dates, calibration {args.calibration}; {size / 2**20:.0f} MB "
        f"in {args.root} (ready in {time.perf_counter() - t0:.0f} s); {os.cpu_count()} "
        f"CPU(s) on this machine.",
        flush=True,
    )
    rows = []
    for mode in [m.strip() for m in args.modes.split(",") if m.strip()]:
        rows.append(
            _single_in_child(args.root, args.calibration, copies, args.dates, distinct)
            if mode == "single"
            else _run_mode(args.root, mode, args.calibration, copies, args.dates, distinct)
        )
        print(f"  {mode}: {rows[-1]['seconds']:.1f} s (load average now "
              f"{rows[-1]['load_average_after']})", flush=True)  # fmt: skip
        shutil.rmtree(args.root / f"out_{mode}", ignore_errors=True)
        if args.json:  # after each mode: a long run stopped later keeps what it measured
            args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    _print(rows)


if __name__ == "__main__":
    main()
