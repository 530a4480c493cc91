"""Beyond one machine: many communes, partitioned by raster block, on Dask distributed.

A commune's run has three steps (:mod:`ntmgis.pipeline`): :func:`~ntmgis.pipeline.prepare`
(read the parcels, join the survey), the per-parcel features, and
:func:`~ntmgis.pipeline.finish` (flags calibrated on the commune's survey, agreement,
hamlets, outputs). The features are the heavy, pixel-bound step and the only one that
does not need the whole commune: :func:`plan_blocks` cuts a commune into square blocks of
``block`` x ``block`` imagery pixels (``[imagery] block``, default 512, 5 km at 10 m) and
groups the parcels by the block their representative point falls in; each block's
features are computed by :func:`block_features` from a window read around its parcels.
Calibration fits one classifier on the survey labels of the whole commune, so
:func:`~ntmgis.pipeline.finish` runs once per commune on the gathered features.

The single-process :func:`ntmgis.pipeline.run` goes through the same blocks
(:func:`commune_features`), so where a block runs does not change a bit of the result:
:func:`run_distributed` gives exactly what ``run`` gives. (The block size does: the
exact pixel coverage of a parcel is computed in the pixel frame of the window read, and a
different window origin moves the weights by ~1e-14.) A commune smaller than one block is
read in one window, as before blocks existed.

On a cluster, :func:`run_distributed` submits per commune a *prepare* task, a tiny
*plan* task (the only result the client fetches before the end), one *features* task per
block and a *finish* task; a commune of one block (at the default block, most communes
of a few thousand parcels) is prepared, read and finished in its *prepare* task, in one
reading session, as :func:`ntmgis.pipeline.run` does. Workers read the vectors and
rasters themselves by path or URL, rasters by windowed (COG) reads; only configs, parcel
positions, vector tables and per-parcel features travel between tasks, never a raster.
Faults:

* a worker that dies mid-run: the scheduler reruns its tasks elsewhere (Dask's own
  resilience; recomputing lost results from their lineage) and the run is complete; the
  result lists the workers lost and the tasks they were running;
* a block with bad input (an unreadable raster window, a scene without a band...): its
  parcels get ``imagery_status = "error"``, the message in ``partition_error`` and the
  flag ``thieu_du_lieu``; the rest of the commune is flagged as usual. A commune whose
  parcels or survey cannot be read is reported as failed; the others complete. Other
  exceptions are retried (``retries``) before they count as bad input.

Needs the ``[distributed]`` extra (``pip install ntmgis[distributed]``) for the cluster
parts; the partition functions need only the core dependencies.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from ._progress import ProgressCallback, report
from .blocks import (
    BlockResult,
    assemble_features,
    block_context,
    block_features,
    commune_features,
    commune_shifts,
    plan_blocks,
)
from .errors import InputError, NtmgisError, NtmgisWarning, warn
from .i18n import message, register_all, say
from .sample import make_province

logger = logging.getLogger(__name__)

# what this module says to people, Vietnamese first (ntmgis.i18n's catalogue)
register_all(
    {
        "error.distributed.no_dask": (
            "Chưa cài Dask distributed, cần cho chạy trên nhiều máy: hãy cài gói "
            "'ntmgis[distributed]' (pip install 'ntmgis[distributed]').",
            "Dask distributed is not installed: pip install 'ntmgis[distributed]'.",
        ),
        "error.distributed.no_scheduler": (
            "Không kết nối được bộ lập lịch Dask ở '{address}' ({detail}). Hãy khởi động nó "
            "('dask scheduler', rồi 'dask worker {address}' trên mỗi máy) hoặc kiểm tra địa "
            "chỉ; --workers N chạy một cụm trên máy này.",
            "Cannot reach the Dask scheduler at '{address}' ({detail}). Start one "
            "('dask scheduler', then 'dask worker {address}' on each machine) or check the "
            "address; --workers N starts a local cluster instead.",
        ),
        "distributed.summary": (
            "{communes} xã, {parcels} thửa đất trong {seconds} giây trên {workers} tiến "
            "trình, {cores} lõi ({rate} thửa/giây/lõi): {ok} xã xong, {partial} xã có khối "
            "ảnh lỗi, {failed} xã lỗi.",
            "{communes} commune(s), {parcels} parcels in {seconds} s on {workers} worker(s), "
            "{cores} core(s) ({rate} parcels/s/core): {ok} complete, {partial} with failed "
            "blocks, {failed} failed.",
        ),
        "distributed.block_failed": (
            "  {commune}: khối {block} ({parcels} thửa) lỗi, các thửa đó có imagery_status "
            "'error': {error}",
            "  {commune}: block {block} ({parcels} parcels) failed, its parcels have "
            "imagery_status 'error': {error}",
        ),
        "distributed.commune_failed": (
            "  {commune}: LỖI ({config}): {error}",
            "  {commune}: FAILED ({config}): {error}",
        ),
        "distributed.worker_lost": (
            "  Tiến trình {worker} bị mất trong lúc chạy; {tasks} việc đang làm và {held} "
            "kết quả nó giữ đã được làm lại ở nơi khác.",
            "  Worker {worker} was lost during the run; its {tasks} running task(s) and "
            "{held} held result(s) were redone elsewhere.",
        ),
    }
)

__all__ = [
    "BlockResult",
    "CommuneOutcome",
    "DistributedResult",
    "assemble_features",
    "block_features",
    "commune_features",
    "local_cluster",
    "make_province",
    "plan_blocks",
    "run_distributed",
]


# --------------------------------------------------------------------------- tasks


def _read_chars() -> int:
    try:
        import psutil

        return int(psutil.Process().io_counters().read_chars)
    except (ImportError, AttributeError, OSError):  # pragma: no cover - non-Linux
        return 0


def _peak_rss() -> int:
    """Peak resident memory of this process in bytes (Linux/macOS)."""
    import resource
    import sys

    try:  # VmHWM: this program's own peak (ru_maxrss survives exec, from the parent)
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover - not Linux
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak if sys.platform == "darwin" else peak * 1024)


def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):
        return "local"


def _measured(func, *args, **kwargs):
    io0, t0, c0 = _read_chars(), time.perf_counter(), time.process_time()
    value = func(*args, **kwargs)
    stats = {
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
        "bytes_read": _read_chars() - io0,
        "worker": _where(),
        "pid": os.getpid(),
    }
    return value, stats


def _quiet(func, *args, **kwargs):
    """Run ``func`` with the library's warnings recorded (workers have no console).

    Each as ``(text, category, where, what)``, so the client re-emits it as it was. The
    task reads its imagery in one :func:`ntmgis.imagery.reading_session` (scenes found
    once, each file opened once).
    """
    import warnings

    from .imagery import reading_session

    with warnings.catch_warnings(record=True) as caught, reading_session():
        warnings.simplefilter("always")
        value = func(*args, **kwargs)
    return value, [
        (str(w.message), w.category, getattr(w.message, "where", None),
         getattr(w.message, "what", None))
        for w in caught
    ]  # fmt: skip


def _re_emit(name: str | None, recorded) -> None:
    """A warning a task recorded, emitted again here (prefixed by the commune's name)."""
    import warnings

    text, category, where, what = recorded
    text = f"{name}: {text}" if name else text
    if isinstance(category, type) and issubclass(category, NtmgisWarning):
        warn(text, category, where=where, what=what)
    else:
        warnings.warn(text, category if isinstance(category, type) else UserWarning, stacklevel=2)


def _spoken(lang, func, *args):
    """Run a task in the client's language (its warnings and errors are said in it)."""
    from .i18n import language

    with language(lang):
        return func(*args)


def _prepare_task(cfg):
    from .pipeline import prepare

    try:
        (prepared, warns), stats = _measured(_quiet, prepare, cfg)
    except NtmgisError as exc:
        return None, f"{type(exc).__name__}: {exc}", {}
    stats["warnings"] = warns
    return prepared, None, stats


def _commune_task(cfg, started, gather):
    """Prepare a commune and plan its blocks; a commune of one block is finished here.

    Returns ``(prepared, error, stats, blocks, finished)``: the first three are what the
    block and finish tasks take as ``prep``. A commune of one block (most communes of
    2,000 parcels at the default 512-pixel block) is read, flagged and written in this
    one task and one reading session, as :func:`ntmgis.pipeline.run` does: its
    alignment check's windows serve its features read, and no prepared commune travels
    to another task. Then ``finished`` is what :func:`_finish_task` returns and
    ``prepared`` is dropped.
    """
    from .imagery import reading_session

    with reading_session():
        prepared, error, stats = prep = _prepare_task(cfg)
        if error is not None:
            return None, error, stats, None, None
        stats["parcels"] = len(prepared.joined)
        blocks, _ = _quiet(plan_blocks, prepared.joined, cfg.imagery, block=cfg.block)
        if len(blocks) != 1:
            try:
                if cfg.coregister:
                    prepared.shifts = _quiet(commune_shifts, cfg.imagery, prepared.joined,
                                             period=cfg.period)[0]  # fmt: skip
            except NtmgisError as exc:  # the blocks say it, each for its parcels
                logger.warning("co-registration over the commune failed: %s", exc)
            return prepared, None, stats, blocks, None
        part = _block_task(cfg, prep, blocks[0])
    return None, None, stats, blocks, _finish_task(cfg, prep, [part], started, gather)


def _plan_task(commune):
    """What the client needs of a commune task: its blocks, error, size, stats, result."""
    _, error, stats, blocks, finished = commune
    return blocks, error, stats.get("parcels", 0), stats, finished


def _block_task(cfg, prep, positions):
    whole = prep[0].joined
    joined = whole.iloc[positions]
    try:
        context = whole.iloc[_quiet(block_context, whole, positions, cfg.imagery)[0]]
        ((feats, dates), warns), stats = _measured(
            _quiet, block_features, joined, cfg.imagery, indices=cfg.indices,
            period=cfg.period, min_valid=cfg.min_valid, context=context,
            coregister=cfg.coregister and (getattr(prep[0], "shifts", None) or True),
        )  # fmt: skip
    except NtmgisError as exc:
        return BlockResult(positions, error=f"{type(exc).__name__}: {exc}",
                           stats={"worker": _where(), "pid": os.getpid()})  # fmt: skip
    stats["warnings"] = warns
    return BlockResult(positions, feats, dates, stats=stats)


def _finish_task(cfg, prep, parts, started, gather):
    from .pipeline import finish

    prepared = prep[0]
    t0, io0 = time.perf_counter(), _read_chars()
    features, dates, errors = assemble_features(
        prepared.joined.index, list(parts), indices=cfg.indices
    )  # fmt: skip
    meta = {"partitions": len(parts), "partition_block_px": cfg.block}
    if errors:
        meta["partition_errors"] = " | ".join(
            f"block {e['block']} ({e['parcels']} parcels): {e['error']}" for e in errors
        )
    result, warns = _quiet(finish, cfg, prepared, features, dates, started=started,
                           metadata=meta)  # fmt: skip
    if not gather:
        result.parcels = result.hamlets = result.progress = None
    stats = {"seconds": time.perf_counter() - t0, "bytes_read": _read_chars() - io0}
    done = [p for p in parts if p.error is None]
    stats["warnings"] = [w for p in done for w in p.stats.get("warnings", [])] + warns
    for key in ("seconds", "bytes_read", "cpu_seconds"):
        stats[f"features_{key}"] = sum(p.stats.get(key, 0) for p in done)
        stats[key] = stats.get(key, 0) + stats[f"features_{key}"]
    return result, errors, stats


# --------------------------------------------------------------------------- results


@dataclass
class CommuneOutcome:
    """One commune of a run: its result or why it failed, and what its tasks measured."""

    name: str
    config: Path | None
    result: object = None
    error: str | None = None
    parcels: int = 0
    blocks: int = 0
    block_errors: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    warnings: list = field(default_factory=list)

    @property
    def status(self) -> str:
        """``ok``, ``partial`` (some blocks failed) or ``error``."""
        if self.error is not None or self.result is None:
            return "error"
        return "partial" if self.block_errors else "ok"


@dataclass
class DistributedResult:
    """A run over many communes: one :class:`CommuneOutcome` each, and the faults seen.

    Attributes
    ----------
    communes : list of CommuneOutcome
        Per commune: ``result`` (RunResult) or ``error``, ``block_errors``, ``stats``
        and the ``warnings`` its tasks recorded (re-emitted on the client).
    lost_workers : list of dict
        Workers that left the cluster during the run: ``worker``, ``tasks`` (keys they
        were running, rerun elsewhere by the scheduler) and ``lost`` (results they held,
        recomputed).
    seconds : float
        Wall-clock time of the run.
    workers, cores : int
        Workers and worker threads of the cluster (1 and 1 for an in-process run).
    peak_memory : dict
        Peak resident memory (bytes) per worker address (or ``"local"``).
    """

    communes: list = field(default_factory=list)
    lost_workers: list = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 1
    cores: int = 1
    peak_memory: dict = field(default_factory=dict)

    @property
    def results(self) -> list:
        """The RunResult of every commune that completed, in order."""
        return [c.result for c in self.communes if c.result is not None]

    @property
    def parcels_total(self) -> int:
        """Parcels of every commune (failed ones included, when their parcels were read)."""
        return sum(c.parcels for c in self.communes)

    @property
    def bytes_read(self) -> int:
        """Bytes the tasks read (read system calls, page cache included)."""
        return sum(int(c.stats.get("bytes_read", 0)) for c in self.communes)

    def table(self):
        """One row per commune: status, parcels, blocks, failed blocks, error, output."""
        import pandas as pd

        rows = []
        for c in self.communes:
            r = c.result
            gpkg = next((str(p) for p in (r.outputs.values() if r else []) if
                         str(p).endswith(".gpkg")), "")  # fmt: skip
            rows.append(
                {
                    "commune": c.name,
                    "config": str(c.config or ""),
                    "status": c.status,
                    "parcels": c.parcels,
                    "blocks": c.blocks,
                    "failed_blocks": len(c.block_errors),
                    "parcels_in_failed_blocks": sum(e["parcels"] for e in c.block_errors),
                    "error": c.error
                    or " | ".join(f"block {e['block']}: {e['error']}" for e in c.block_errors),
                    "seconds": round(float(c.stats.get("seconds", 0.0)), 3),
                    "bytes_read": int(c.stats.get("bytes_read", 0)),
                    "geopackage": gpkg,
                }
            )
        return pd.DataFrame(rows)

    def write(self, path) -> Path:
        """Write :meth:`table` as CSV (UTF-8 with BOM, for Excel); return the path.

        Through the one atomic writer (:func:`ntmgis._io.write_csv`): the file appears
        under its name only when complete (a killed or failed write leaves the previous
        file, or none), and text cells that a spreadsheet would read as a formula (a
        commune named ``=...``, an error message starting with ``-``) are escaped.
        """
        from ._io import write_csv

        path = write_csv(Path(path), self.table(), whole_as_int=False)
        logger.info("province report: %d commune(s) in %s", len(self.communes), path)
        return path

    def summary(self) -> str:
        """Human-readable report: communes, failed blocks and communes, lost workers."""
        ok = sum(c.status == "ok" for c in self.communes)
        partial = [c for c in self.communes if c.status == "partial"]
        failed = [c for c in self.communes if c.status == "error"]
        rate = self.parcels_total / self.seconds / max(self.cores, 1) if self.seconds else 0
        lines = [
            message(
                "distributed.summary",
                communes=len(self.communes),
                parcels=self.parcels_total,
                seconds=f"{self.seconds:.1f}",
                workers=self.workers,
                cores=self.cores,
                rate=f"{rate:.0f}",
                ok=ok,
                partial=len(partial),
                failed=len(failed),
            )  # fmt: skip
        ]
        for c in partial:
            for e in c.block_errors:
                lines.append(message("distributed.block_failed", commune=c.name,
                                     block=e["block"], parcels=e["parcels"],
                                     error=e["error"]))  # fmt: skip
        for c in failed:
            lines.append(message("distributed.commune_failed", commune=c.name, config=c.config,
                                 error=c.error))  # fmt: skip
        for w in self.lost_workers:
            lines.append(message("distributed.worker_lost", worker=w["worker"],
                                 tasks=len(w["tasks"]), held=len(w["lost"])))  # fmt: skip
        for c in self.communes:
            if c.result is not None and len(self.communes) > 1:
                lines.append(f"  {c.name}: " + c.result.messages[0].splitlines()[0])
        if len(self.communes) == 1 and self.communes[0].result is not None:
            lines.append(self.communes[0].result.summary())
        return "\n".join(lines)


def _configs(config) -> list:
    from .config import RunConfig, load_communes, load_config

    if isinstance(config, RunConfig):
        return [config]
    if isinstance(config, dict):
        return [load_config(config)]
    if isinstance(config, (list, tuple)):
        return [c if isinstance(c, RunConfig) else load_config(c) for c in config]
    return load_communes(config)


def _name(cfg) -> str:
    return cfg.commune or (cfg.source.parent.name if cfg.source else cfg.stem)


def _run_serial(configs, gather, progress) -> DistributedResult:
    """Communes one after another in this process (no Dask), with the same report."""
    import datetime as dt

    from ._io import RunOutputs
    from ._progress import scaled
    from .imagery import reading_session
    from .pipeline import finish, prepare

    out = DistributedResult(workers=1, cores=1)
    t0 = time.perf_counter()
    for k, cfg in enumerate(configs):
        outcome = CommuneOutcome(_name(cfg), cfg.source)
        sub = scaled(progress, k / len(configs), (k + 1) / len(configs))
        started = dt.datetime.now(dt.timezone.utc)
        try:  # what pipeline.run does, step by step, to time the feature step
            with RunOutputs(cfg.out_dir) as outputs, reading_session():  # locked first
                prepared, s1 = _measured(prepare, cfg, progress=scaled(sub, 0, 0.1))
                outcome.parcels = len(prepared.joined)
                (feats, dates), s2 = _measured(
                    commune_features, cfg, prepared.joined, progress=scaled(sub, 0.1, 0.6)
                )  # fmt: skip
                outcome.result, s3 = _measured(
                    finish, cfg, prepared, feats, dates, started=started, progress=sub,
                    outputs=outputs,
                )  # fmt: skip
        except NtmgisError as exc:
            outcome.error = f"{type(exc).__name__}: {exc}"
        else:
            if not gather:
                outcome.result.parcels = outcome.result.hamlets = outcome.result.progress = None
            outcome.blocks = len(plan_blocks(prepared.joined, cfg.imagery, block=cfg.block))
            outcome.stats = {
                key: s1[key] + s2[key] + s3[key] for key in ("seconds", "cpu_seconds", "bytes_read")
            }
            outcome.stats.update(
                features_seconds=s2["seconds"], features_bytes_read=s2["bytes_read"]
            )
        out.communes.append(outcome)
    out.seconds = time.perf_counter() - t0
    out.peak_memory = {"local": _peak_rss()}
    return out


def _connect(scheduler, workers):
    try:
        from distributed import Client
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise InputError(say("error.distributed.no_dask")) from exc
    # the cluster's own chatter (workers starting, connections) at INFO is not the run's
    for name in ("distributed", "bokeh", "tornado"):
        chatty = logging.getLogger(name)
        if chatty.getEffectiveLevel() < logging.WARNING:
            chatty.setLevel(logging.WARNING)
    if scheduler:
        try:
            return Client(scheduler, timeout="20s"), None
        except (OSError, TimeoutError) as exc:
            raise InputError(
                say("error.distributed.no_scheduler", address=scheduler, detail=exc)
            ) from None
    cluster = local_cluster(workers)
    return Client(cluster, direct_to_workers=True), cluster


#: Dask settings of the workers :func:`local_cluster` starts. Dask's statistical profiler
#: samples every worker thread's stack every 10 ms for the dashboard's profile page;
#: off, a province run took 4 % less of the workers' CPU and 40 MB less memory per
#: worker (``benchmarks/scale.py``, three alternating pairs). Workers of an external
#: scheduler take theirs from their own Dask configuration.
WORKER_CONFIG = {"distributed.worker.profile.enabled": False}


def local_cluster(workers: int, *, dashboard: bool = True):
    """A Dask cluster of ``workers`` processes on this machine, as ``--workers`` starts it.

    One thread a worker (a commune's work is NumPy and GDAL calls that hold the GIL in
    between), listening on 127.0.0.1 only, the workers' settings :data:`WORKER_CONFIG`.

    Parameters
    ----------
    workers : int
        Worker processes.
    dashboard : bool, default True
        Serve Dask's dashboard on a free port of 127.0.0.1.

    Returns
    -------
    distributed.LocalCluster
    """
    from distributed import LocalCluster

    # given to each worker's nanny, so a worker it restarts (one lost) has them too
    return LocalCluster(
        n_workers=int(workers), threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address="127.0.0.1:0" if dashboard else None,
        silence_logs=logging.WARNING, config=WORKER_CONFIG,
    )  # fmt: skip


def run_distributed(
    config,
    *,
    client=None,
    scheduler: str | None = None,
    workers: int | None = None,
    retries: int = 2,
    gather: bool = True,
    progress: ProgressCallback | None = None,
) -> DistributedResult:
    """Run one or many communes, partitioned by commune and raster block, on Dask.

    Parameters
    ----------
    config : RunConfig, path, dict or list
        A commune config, a province config (:func:`ntmgis.config.load_communes`) or a
        list of configs. Input and output paths must be reachable from every worker (a
        shared file system; imagery may be URLs).
    client : distributed.Client, optional
        A connected client; its cluster is used and left running.
    scheduler : str, optional
        Address of a running scheduler, e.g. ``"tcp://10.0.0.5:8786"``.
    workers : int, optional
        Start a local cluster of this many worker processes (one thread each) on
        127.0.0.1 for the run. Without ``client``, ``scheduler`` or ``workers`` the
        communes run one after another in this process (no Dask).
    retries : int, default 2
        Retries of a task that raised an unexpected exception (bad input,
        :class:`~ntmgis.errors.NtmgisError`, is not retried). A worker that dies does
        not use them: the scheduler reruns its tasks elsewhere by itself.
    gather : bool, default True
        Bring each commune's parcels and hamlets back to this process (as
        :func:`ntmgis.pipeline.run` returns them); ``False`` keeps only the summary, the
        calibration and the paths written (for provinces of a million parcels).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    DistributedResult
        One outcome per commune (``.results`` the RunResults), the failed blocks and
        communes, the workers lost, timings, bytes read and peak memory per worker.
    """
    import datetime as dt

    configs = _configs(config)
    from ._io import check_writable
    from .fetch import fetch_for_run_or_warn

    for cfg in configs:  # an output folder that cannot be written: found before any work
        check_writable(cfg.out_dir)

    for cfg in configs:  # [imagery] source: fetched here, before the communes are read
        fetch_for_run_or_warn(cfg)
    if client is None and scheduler is None and workers is None:
        return _run_serial(configs, gather, progress)
    own_client, cluster = client is None, None
    if client is None:
        client, cluster = _connect(scheduler, workers)
    try:
        return _run_on(client, configs, retries=retries, gather=gather, progress=progress,
                       started=dt.datetime.now(dt.timezone.utc))  # fmt: skip
    finally:
        if own_client:
            client.close()
        if cluster is not None:
            cluster.close()


def _run_on(client, configs, *, retries, gather, progress, started) -> DistributedResult:
    from distributed import as_completed

    from .i18n import get_language

    t0 = time.time()
    token = uuid.uuid4().hex[:8]
    lang = get_language()  # the workers say what they say in the client's language
    info = client.scheduler_info()
    workers0 = info.get("workers", {})
    out = DistributedResult(
        communes=[CommuneOutcome(_name(c), c.source) for c in configs],
        workers=len(workers0),
        cores=sum(int(w.get("nthreads", 1)) for w in workers0.values()) or 1,
    )
    tags: dict = {}
    preps, parts, block_futs = {}, {}, {}
    ac = as_completed()
    for i, cfg in enumerate(configs):
        prep = client.submit(_spoken, lang, _commune_task, cfg, started, gather,
                             key=f"ntmgis-prepare-{i}-{token}", retries=retries,
                             pure=False)  # fmt: skip
        plan = client.submit(_plan_task, prep, key=f"ntmgis-plan-{i}-{token}",
                             retries=retries, pure=False)  # fmt: skip
        preps[i] = prep
        tags[plan.key] = ("plan", i, None)
        ac.add(plan)
    total, done, last = 2 * len(configs), 0, 0.0
    for fut in ac:
        kind, i, b = tags[fut.key]
        outcome = out.communes[i]
        done += 1
        last = max(last, done / max(total, 1))
        report(progress, last, f"{kind} {outcome.name}")
        failed = fut.status == "error"
        error_text = None
        if failed:
            exc = fut.exception()
            error_text = f"{type(exc).__name__}: {exc}"
        if kind == "plan":
            blocks, error, n, prep_stats, finished = (
                (None, error_text, 0, {}, None) if failed else fut.result()
            )  # fmt: skip
            outcome.parcels = n
            outcome.stats = {k: prep_stats.get(k, 0) for k in ("seconds", "bytes_read",
                                                                "cpu_seconds")}  # fmt: skip
            outcome.warnings += prep_stats.get("warnings", [])
            if error is not None:
                outcome.error = error
                continue
            outcome.blocks = len(blocks)
            if finished is not None:  # one block: finished in the commune's own task
                done += 1
                _finished(outcome, finished)
                preps.pop(i, None)
                continue
            parts[i] = [None] * len(blocks)
            block_futs[i] = []
            for k, pos in enumerate(blocks):
                bf = client.submit(_spoken, lang, _block_task, configs[i], preps[i], pos,
                                   retries=retries,
                                   key=f"ntmgis-features-{i}-{k}-{token}", pure=False)  # fmt: skip
                tags[bf.key] = ("block", i, k)
                block_futs[i].append((bf, pos))
                ac.add(bf)
            total += len(blocks)
        elif kind == "block":
            pos = block_futs[i][b][1]
            parts[i][b] = BlockResult(pos, error=error_text) if failed else fut
            if all(p is not None for p in parts[i]):
                fin = client.submit(_spoken, lang, _finish_task, configs[i], preps[i], parts[i],
                                    started,
                                    gather, key=f"ntmgis-finish-{i}-{token}",
                                    retries=retries, pure=False)  # fmt: skip
                tags[fin.key] = ("finish", i, None)
                ac.add(fin)
                total += 1
        else:  # finish
            if failed:
                outcome.error = error_text
            else:
                _finished(outcome, fut.result())
            preps.pop(i, None)
            block_futs.pop(i, None)
            parts.pop(i, None)
    out.seconds = time.time() - t0
    for c in out.communes:  # the workers' warnings, once each, as run() would have shown them
        for recorded in dict.fromkeys(c.warnings):
            _re_emit(c.name if len(out.communes) > 1 else None, recorded)
    out.lost_workers = _lost_workers(client, t0, token)
    out.peak_memory = client.run(_peak_rss)
    return out


def _finished(outcome, finished) -> None:
    """A commune's finish output (:func:`_finish_task`) into its outcome."""
    outcome.result, outcome.block_errors, stats = finished
    outcome.warnings += stats.pop("warnings", [])
    for key, value in stats.items():
        outcome.stats[key] = outcome.stats.get(key, 0) + value


def _lost_workers(client, since: float, token: str) -> list[dict]:
    """Workers removed from the cluster during the run, unexpectedly (scheduler events)."""
    lost: dict = {}
    for topic, events in client.get_events().items():
        for when, msg in events:
            if (
                when >= since
                and isinstance(msg, dict)
                and msg.get("action") == "remove-worker"
                and not msg.get("expected", False)
            ):
                worker = topic if topic != "all" else msg.get("worker", topic)
                ours = [str(k) for k in msg.get("processing-tasks", ()) if token in str(k)]
                held = [str(k) for k in msg.get("lost-computed-tasks", ()) if token in str(k)]
                entry = {"worker": worker, "tasks": ours, "lost": held}
                key = msg.get("stimulus_id") or worker  # logged under two topics
                if key not in lost or lost[key]["worker"] == "all":
                    lost[key] = entry
    return list(lost.values())
