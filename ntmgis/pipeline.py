"""The one orchestrator: ``run(config)`` runs every stage on a commune and writes outputs.

Stages, in the order data flows: parcels -> Step 2 survey join -> imagery -> per-parcel
statistics and features -> flags (calibrated on the survey when it has enough labels) ->
survey/imagery agreement -> outputs: one GeoPackage written atomically (layers
``parcels``, ``hamlets``, ``survey_unmatched``, ``run_metadata``, styles embedded), the
hamlet progress report when targets are given, and the printed hamlet maps. The CLI
(``ntmgis run``) and the QGIS plugin both call :func:`run`. The pipeline never reads a
truth file: evaluation (:func:`ntmgis.flags.evaluate`) is a separate step.

:func:`run` is three steps, which :mod:`ntmgis.distributed` runs as separate tasks:
:func:`prepare` (parcels and survey join), the features by raster block
(:func:`ntmgis.blocks.commune_features`, ``[imagery] block`` pixels a block) and
:func:`finish` (flags calibrated on the whole commune, agreement, hamlets, outputs).
:mod:`ntmgis.distributed` schedules the same steps; this module never imports it.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from ._io import write_gpkg as write_gpkg_atomic  # noqa: F401  (re-exported)
from ._progress import ProgressCallback, report
from .i18n import message, register_all, say
from .result import Result
from .sample import sample_config  # noqa: F401  (re-exported: ntmgis.pipeline.sample_config)

logger = logging.getLogger(__name__)

# what this module says to people, Vietnamese first (ntmgis.i18n's catalogue)
register_all(
    {
        "error.pipeline.hamlet_names": (
            "Lớp thôn trong '{path}' không có cột tên thôn (hamlet, ten_thon); các cột có: "
            "{columns}. Hãy thêm cột tên thôn vào lớp đó.",
            "The hamlets layer of '{path}' has no name column (hamlet, ten_thon); columns: "
            "{columns}. Add a column with the hamlets' names.",
        ),
        "error.pipeline.no_imagery": (
            "Không đo được thửa đất nào trên ảnh vệ tinh: {blocks}. Kiểm tra thư mục ảnh "
            "([inputs] imagery) và các tệp ảnh trong đó.",
            "No parcel could be measured on the imagery: {blocks}. Check the imagery folder "
            "([inputs] imagery) and its files.",
        ),
        "warning.pipeline.block_error": (
            "Không đọc được ảnh cho một số thửa đất (imagery_status 'error', đánh dấu "
            "thieu_du_lieu): {blocks}",
            "Imagery failed for some parcels (imagery_status 'error', flag thieu_du_lieu): "
            "{blocks}",
        ),
        "pipeline.summary.parcels": (
            "{commune}: {parcels} thửa đất, {gardens} vườn; kết quả ảnh: {flags}",
            "{commune}: {parcels} parcels, {gardens} gardens; flags: {flags}",
        ),
        "pipeline.summary.visits": (
            "Kiểm tra thực địa: {visits} trong số {gardens} vườn, xếp theo khả năng khảo sát "
            "sai x diện tích; dự kiến phát hiện {errors} lỗi khảo sát",
            "Field visits: {visits} of {gardens} gardens, ranked by the chance the survey is "
            "wrong x area; expected to find {errors} survey errors",
        ),
    }
)

__all__ = [
    "Prepared",
    "RunResult",
    "finish",
    "prepare",
    "run",
    "sample_config",
    "write_gpkg_atomic",
]


def _output_label(key: str) -> str:
    """The label of an output key, from the message catalogue (ntmgis.i18n)."""
    from .i18n import CATALOGUE, message

    if f"output.{key}" in CATALOGUE:
        return message(f"output.{key}")
    if key.startswith("report_") and key.endswith("_csv"):
        from .report import SHEETS

        table = key[7:-4]  # Vietnamese: the table by its sheet's name, "Bảng xếp hạng thôn"
        sheet = SHEETS[table][0] if table in SHEETS else table
        return message("output.report_csv", table=table, sheet=sheet[:1].lower() + sheet[1:])
    if key.startswith("map_png_"):
        return message("output.map_png", page=key[8:])
    return key


@dataclass
class RunResult:
    """What a run wrote and what it found.

    Attributes
    ----------
    outputs : dict of str to pathlib.Path
        Files written, by stable key: ``gpkg``, ``report_xlsx``,
        ``report_<table>_csv``, ``maps_pdf``, ``map_png_<page>``.
    parcels, hamlets : geopandas.GeoDataFrame
        The layers written to the GeoPackage.
    calibration : ntmgis.flags.Calibration
        How the flags were decided.
    join_report : ntmgis.survey.JoinReport
        The survey join's account of every row.
    progress : pandas.DataFrame
        Hamlet progress (when targets were given).
    metadata : dict
        The ``run_metadata`` table.
    result : ntmgis.result.Result
        The result as written (parcels, hamlets, metadata, unmatched survey rows).
    baseline : ntmgis.result.Result or None
        The baseline campaign's result, read once, when the config names one.
    """

    outputs: dict[str, Path] = field(default_factory=dict)
    messages: list[str] = field(default_factory=list)
    parcels: object = None
    hamlets: object = None
    calibration: object = None
    join_report: object = None
    progress: object = None
    metadata: dict = field(default_factory=dict)
    result: object = None
    baseline: object = None

    def summary(self) -> str:
        """Human-readable account: what was written, then the run's messages."""
        from .i18n import message

        lines = [message("output.heading")]
        lines += [f"  {_output_label(k)}: {p}" for k, p in self.outputs.items()]
        return "\n".join(lines + self.messages)


def _hamlet_layer(cfg, parcels):
    """Hamlet boundaries from the config, or dissolved from the parcels."""
    import geopandas as gpd

    from ._io import read_vector
    from .registry import hamlet_name_column
    from .text import nfc

    if cfg.hamlets is None:
        hulls = parcels[parcels.geometry.notna()].dissolve(by="hamlet").convex_hull
        return gpd.GeoDataFrame({"hamlet": hulls.index}, geometry=hulls.values, crs=parcels.crs)
    hamlets = read_vector(cfg.hamlets, layer=cfg.hamlets_layer, what="hamlets")
    name = hamlet_name_column(hamlets)
    if name is None:
        from .errors import SchemaError

        columns = ", ".join(map(str, hamlets.columns))
        raise SchemaError(say("error.pipeline.hamlet_names", path=cfg.hamlets, columns=columns))
    hamlets = hamlets.rename(columns={name: "hamlet"})
    hamlets["hamlet"] = hamlets["hamlet"].map(nfc)
    return hamlets.to_crs(parcels.crs) if hamlets.crs and parcels.crs else hamlets


def run(config, *, progress: ProgressCallback | None = None) -> RunResult:
    """Run the whole chain on one commune and write its outputs.

    Parameters
    ----------
    config : RunConfig, str, os.PathLike or dict
        A validated config, a TOML file or its content (see :mod:`ntmgis.config`). It is
        validated before any work starts.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel (no output is left
        half-written).

    Returns
    -------
    RunResult
        Paths written, the flagged parcels and hamlets, the calibration and a summary.
    """
    import datetime as dt

    from ._io import RunOutputs
    from ._progress import scaled
    from .blocks import commune_features
    from .config import RunConfig, load_config
    from .fetch import fetch_for_run
    from .imagery import reading_session

    cfg = config if isinstance(config, RunConfig) else load_config(config)
    started = dt.datetime.now(dt.timezone.utc)
    logger.info(
        "run %s: config %s, outputs to %s", cfg.commune or cfg.stem, cfg.source, cfg.out_dir
    )
    with RunOutputs(cfg.out_dir) as outputs:  # checked and locked before any work
        fetch_for_run(cfg, progress=scaled(progress, 0.0, 0.05))  # [imagery] source: first
        with reading_session():  # the scenes found and each file opened once for both
            prepared = prepare(cfg, progress=progress)
            logger.info("%d parcels read, survey joined: %s", len(prepared.joined),
                        "yes" if prepared.join_report is not None else "no survey")  # fmt: skip
            report(progress, 0.1, "imagery")
            features, dates, errors = commune_features(
                cfg, prepared.joined, on_error="record", progress=scaled(progress, 0.1, 0.6)
            )  # fmt: skip
        meta = _block_errors(errors, len(prepared.joined))
        return finish(cfg, prepared, features, dates, started=started, metadata=meta,
                      progress=progress, outputs=outputs)  # fmt: skip


def _block_errors(errors, n_parcels: int) -> dict:
    """Blocks whose imagery failed: their parcels are thieu_du_lieu; all failed: an error."""
    from .errors import ImageryError, ImageryWarning, warn
    from .i18n import message

    if not errors:
        return {}
    text = " | ".join(f"block {e['block']} ({e['parcels']} parcels): {e['error']}" for e in errors)
    if sum(e["parcels"] for e in errors) >= n_parcels:
        raise ImageryError(say("error.pipeline.no_imagery", blocks=text))
    warn(message("warning.pipeline.block_error", blocks=text), ImageryWarning,
         what="warning.pipeline.block_error")  # fmt: skip
    return {"partition_errors": text}


@dataclass
class Prepared:
    """A commune's parcels joined to its survey: what :func:`prepare` gives :func:`finish`."""

    joined: object
    survey_class: object
    unmatched: object
    join_report: object = None
    metadata: dict = field(default_factory=dict)
    #: each date's displacement measured over the whole commune when it is read in
    #: blocks (:func:`ntmgis.blocks.commune_shifts`); ``None``: each read measures its own
    shifts: list | None = None


def prepare(config, *, progress: ProgressCallback | None = None) -> Prepared:
    """First step of :func:`run`: read the parcels and join the Step 2 survey.

    Parameters
    ----------
    config : RunConfig
        A validated config.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.

    Returns
    -------
    Prepared
        ``joined`` (every parcel with its survey columns, ``survey_class``,
        ``household`` and ``is_garden``; ``owner`` and ``household_id`` left blank by the
        cadastre are the matched survey row's), ``survey_class``, the unmatched survey
        rows and the join report.
    """
    import numpy as np
    import pandas as pd

    from .crs import align_to_imagery
    from .parcels import is_garden_land_use, read_parcels
    from .survey import join_survey

    cfg = config
    join_report = None
    report(progress, 0.0, "parcels")
    parcels = read_parcels(cfg.parcels, layer=cfg.parcels_layer, crs=cfg.parcels_crs,
                           fields=cfg.parcels_fields, province=cfg.province)  # fmt: skip
    # a "local" VN-2000 file (~225 m off the imagery) is found and moved back
    parcels, metadata = align_to_imagery(parcels, cfg.imagery, period=cfg.period)
    if cfg.hamlets is not None:  # an explicit hamlet layer wins over the place text
        from .places import assign_hamlets

        parcels = assign_hamlets(parcels, hamlets=_hamlet_layer(cfg, parcels),
                                 source_column=parcels.attrs["ntmgis"]["fields"].get("hamlet"),
                                 where=f"'{cfg.parcels}'")  # fmt: skip
    if cfg.survey is not None:
        report(progress, 0.05, "survey join")
        joined, join_report = join_survey(parcels, cfg.survey, codebook=cfg.codebook,
                                          sheet=cfg.survey_sheet,
                                          fields=cfg.survey_fields)  # fmt: skip
        survey_class = joined["garden_class_code"].astype(object)
        unmatched = join_report.unmatched
    else:
        joined = parcels.copy()
        joined["survey_status"] = "no_survey"
        survey_class = pd.Series(np.nan, index=joined.index, dtype=object)
        unmatched = pd.DataFrame({"survey_row": [], "reason": []})
    joined["survey_class"] = survey_class
    # who a parcel's household is, as the outputs name it (the visit list, the maps'
    # household tables, the plan): the cadastre's, else what the survey row says (a
    # cadastral file without an owner field, or with gaps, still names the household)
    for name, survey_name in (("household_id", "survey_household_id"), ("owner", "survey_owner")):
        if survey_name in joined and name in joined:
            mine = joined[name].astype(object)
            blank = mine.isna() | mine.map(lambda v: isinstance(v, str) and not v.strip())
            joined[name] = mine.where(~blank, joined[survey_name].astype(object))
    joined["household"] = joined.get("household_id")
    joined["is_garden"] = joined["land_use"].map(is_garden_land_use) | survey_class.notna()
    joined.attrs["hamlets_found"] = parcels.attrs.get("hamlet_summary", "")  # ntmgis.places
    joined.attrs["hamlet_source"] = parcels.attrs.get("hamlet_source", "")
    return Prepared(joined, survey_class, unmatched, join_report, metadata)


def finish(
    config,
    prepared: Prepared,
    features,
    dates,
    *,
    started=None,
    metadata: dict | None = None,
    progress: ProgressCallback | None = None,
    outputs=None,
) -> RunResult:
    """Last step of :func:`run`: flags, agreement, hamlets, progress and every output.

    Parameters
    ----------
    config : RunConfig
        A validated config.
    prepared : Prepared
        From :func:`prepare`.
    features : pandas.DataFrame
        Per-parcel features indexed like ``prepared.joined``
        (:func:`ntmgis.blocks.commune_features`).
    dates : sequence
        The imagery dates the features rest on.
    started : datetime.datetime, optional
        When the run started (UTC), for the metadata; default now.
    metadata : dict, optional
        More ``run_metadata`` entries (e.g. a distributed run's partitions and errors).
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel.
    outputs : ntmgis._io.RunOutputs, optional
        The run's locked output folder (:func:`run` opens it before any work); default:
        opened here. Every output is written into its staging folder and published
        together at the end, with the run id in ``run_metadata`` and the manifest.

    Returns
    -------
    RunResult
        As :func:`run` returns it.
    """
    import datetime as dt

    import pandas as pd

    cfg = config
    result = RunResult(join_report=prepared.join_report)
    started = started or dt.datetime.now(dt.timezone.utc)
    report(progress, 0.62, "flags")
    result.parcels, result.calibration = _flagged_parcels(cfg, prepared, features)
    logger.info("flags: %s", result.calibration.mode)
    report(progress, 0.7, "hamlets")
    hamlets = _hamlets_with_counts(cfg, result.parcels)
    result.metadata = _run_metadata(cfg, result, dates, started,
                                    {**prepared.metadata, **(metadata or {})})  # fmt: skip
    for key in ("hamlets_found", "hamlet_source"):  # how the hamlets were found
        result.metadata[key] = prepared.joined.attrs.get(key, "")
    if cfg.targets is not None:
        report(progress, 0.72, "hamlet progress")
        hamlets = _hamlet_progress(cfg, result, hamlets)
    result.hamlets = hamlets

    report(progress, 0.75, "writing GeoPackage")
    from ._io import RunOutputs

    own = outputs is None  # run() opened the folder before any work; else open it here
    outputs = RunOutputs(cfg.out_dir) if own else outputs
    with outputs if own else contextlib.nullcontext():
        result.metadata["run_id"] = outputs.run_id
        res = Result(result.parcels, hamlets, result.metadata, pd.DataFrame(prepared.unmatched))
        res.layers.update(_plan_layers(res))
        gpkg = res.write(outputs.path(f"{cfg.stem}.gpkg"), styles="flag")
        result.result = res
        result.outputs["gpkg"] = gpkg
        _finish_outputs(cfg, result, res, progress, out_dir=outputs.staging)
    result.outputs = {k: outputs.final(v) for k, v in result.outputs.items()}
    res.source = str(result.outputs["gpkg"])
    logger.info("wrote %s (run %s)", res.source, outputs.run_id)
    report(progress, 1.0, "done")
    result.messages.insert(0, _run_summary(result))
    return result


def _plan_layers(res) -> dict:
    """The Step 4 renovation plan (layer ``renovation_plan``) the next campaign measures."""
    from .plan import PLAN_LAYER, renovation_plan

    plan = renovation_plan(res)
    return {PLAN_LAYER: plan} if len(plan) else {}


def _flagged_parcels(cfg, prepared: Prepared, features):
    """Flags (calibrated on the survey when it can be), agreement, and the parcels layer."""
    import geopandas as gpd
    import pandas as pd

    from .flags import flag_parcels, survey_agreement, visit_list

    joined, survey_class = prepared.joined, prepared.survey_class
    survey_date = joined.get("survey_date")
    flags, calibration = flag_parcels(
        features, survey_class=survey_class, groups=joined["hamlet"],
        is_garden=joined["is_garden"], survey_date=survey_date, rules=cfg.rules,
        calibration=cfg.calibration, min_labels=cfg.min_labels,
    )  # fmt: skip
    agreement = survey_agreement(survey_class, flags, features, survey_date)
    agreement.loc[~joined["is_garden"], ["agreement"]] = None
    agreement.loc[~joined["is_garden"], "disagrees"] = False
    area = joined.get("garden_area_m2", joined["area_m2"]).fillna(joined["area_m2"])
    visits = visit_list(
        flags,
        survey_class,
        hamlet=joined["hamlet"],
        area=area,
        visits_per_hamlet=cfg.visits_per_hamlet,
        max_share=cfg.max_visit_share,
        needs=joined.get("support_needs"),
    )
    calibration.expected_survey_errors = visits.attrs["expected_errors"]
    feature_cols = features.copy()
    for col in feature_cols.select_dtypes(include="datetime").columns:  # dates as text
        feature_cols[col] = feature_cols[col].dt.strftime("%Y-%m-%d")
    out = pd.concat([joined, flags, agreement, visits, feature_cols], axis=1)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=joined.crs), calibration


def _hamlets_with_counts(cfg, parcels):
    """The hamlet layer with each hamlet's parcels, gardens, flags and visits counted."""
    import pandas as pd

    hamlets = _hamlet_layer(cfg, parcels)
    garden = parcels[parcels["is_garden"]]
    counts = (
        pd.DataFrame(
            {
                "so_thua": parcels.groupby("hamlet").size(),
                "so_vuon": garden.groupby("hamlet").size(),
                "vuon_hoang_hoa": garden[garden["flag"] == "hoang_hoa"].groupby("hamlet").size(),
                "vuon_nghi_van": garden[garden["flag"] == "nghi_van"].groupby("hamlet").size(),
                "vuon_cai_tao": garden[garden["flag"] == "cai_tao"].groupby("hamlet").size(),
                "can_kiem_tra": garden[garden["visit"]].groupby("hamlet").size(),
            }
        )
        .fillna(0)
        .astype(int)
    )
    return hamlets.merge(counts, left_on="hamlet", right_index=True, how="left")


def _run_metadata(cfg, result: RunResult, dates, started, extra: dict | None) -> dict:
    """The ``run_metadata`` pairs: inputs, dates, calibration, versions."""
    import platform

    from ._version import __version__

    calibration, parcels = result.calibration, result.parcels
    dates = [str(d) for d in dates]
    commune = cfg.commune or (cfg.parcels.stem if cfg.parcels else "")
    meta = {
        "commune": commune,
        "year": cfg.year or (dates[0][:4] if dates else ""),
        "place": cfg.place or "",
        "ntmgis_version": __version__,
        "python": platform.python_version(),
        "started_utc": started.isoformat(timespec="seconds"),
        "config": str(cfg.source or ""),
        "parcels": str(cfg.parcels),
        "survey": str(cfg.survey or ""),
        "imagery": str(cfg.imagery),
        "imagery_dates": ",".join(dates),
        "imagery_source": "Sentinel-2 L2A",
        "period": cfg.period or "",
        "indices": ",".join(cfg.indices),
        "min_valid": cfg.min_valid,
        "coregister": bool(cfg.coregister),
        "rules": str(cfg.rules or "default"),
        "flag_mode": calibration.mode,
        "flag_mode_reason": calibration.reason,
        "threshold": "" if calibration.threshold is None else calibration.threshold,
        "cv_brier": "" if calibration.brier is None else round(calibration.brier, 4),
        "visits": int(parcels["visit"].sum()),
        "visits_expected_survey_errors": round(calibration.expected_survey_errors, 1),
        "parcels_total": len(parcels),
        "gardens": int(parcels["is_garden"].sum()),
    }
    meta.update(extra or {})
    if calibration.report is not None:
        for cls, row in calibration.report.iterrows():
            for k in ("precision", "recall", "f1"):
                meta[f"cv_{cls}_{k}"] = round(float(row[k]), 4)
    for lib in ("geopandas", "shapely", "rasterio", "pyproj", "numpy", "pandas", "lightgbm"):
        try:
            meta[f"version_{lib}"] = __import__(lib).__version__
        except ImportError:  # pragma: no cover - all are dependencies
            pass
    return meta


def _hamlet_progress(cfg, result: RunResult, hamlets):
    """Hamlet progress against the targets (baseline read once); status and rank added."""
    import pandas as pd

    from .progress import hamlet_progress
    from .result import as_result

    if cfg.baseline is not None:
        result.baseline = as_result(cfg.baseline, what="baseline result")
    table = hamlet_progress(result.parcels, cfg.targets, baseline=result.baseline,
                            hamlets=hamlets)  # fmt: skip
    result.progress = table
    keep = [c for c in ("hamlet", "status", "score", "rank", "reward_priority") if c in table]
    return hamlets.merge(pd.DataFrame(table[keep]), on="hamlet", how="left")


def _count(value) -> str:
    """An expected count as a whole number ("94", never "94.5", which reads wrong in vi)."""
    if value is None or value != value:  # None or NaN
        return "?"
    return str(int(round(float(value))))


def _run_summary(result: RunResult) -> str:
    from .registry import FLAGS

    p = result.parcels
    garden = p[p["is_garden"]]
    flags = garden["flag"].value_counts()
    lines = [
        message("pipeline.summary.parcels", commune=result.metadata.get("commune"),
                parcels=len(p), gardens=len(garden),
                flags=", ".join(f"{k} {int(flags.get(k, 0))}" for k in FLAGS)),
        message("pipeline.summary.visits", visits=int(garden["visit"].sum()),
                gardens=len(garden),
                errors=_count(result.metadata.get("visits_expected_survey_errors"))),
    ]  # fmt: skip
    if result.metadata.get("hamlets_found"):
        lines.append(message("cli.hamlets_found", summary=result.metadata["hamlets_found"]))
    if result.join_report is not None:
        line = result.join_report.summary().splitlines()[1].strip()  # the survey's rows
        lines.append(line[:1].upper() + line[1:])
    if result.calibration is not None:
        lines.append(result.calibration.summary())
    return "\n".join(lines)


def _finish_outputs(cfg, result: RunResult, res: Result, progress, *, out_dir=None) -> None:
    """Hamlet progress report (when targets are given) and the printed maps.

    Both take the in-memory result ``res`` (never re-read from the GeoPackage).
    """
    from ._progress import scaled

    out_dir = Path(out_dir or cfg.out_dir)
    if result.progress is not None:
        from .progress import format_ranking
        from .report import write_report

        report(progress, 0.8, "progress report")
        table = result.progress
        if cfg.report:
            paths = write_report(table, res, out_dir, baseline=result.baseline,
                                 commune=result.metadata.get("commune"),
                                 form=cfg.report_form,
                                 progress=scaled(progress, 0.8, 0.85))  # fmt: skip
            for key, path in paths.items():
                name = key if key in ("xlsx", "pdf") else f"{key}_csv"
                result.outputs[f"report_{name}"] = path
        result.messages.append(format_ranking(table))
    # what the run did not write, and why (issue 21)
    from .i18n import message

    if not cfg.report:
        result.messages.append(message("report.off"))
    elif result.progress is None:
        result.messages.append(message("report.no_targets", config=cfg.source or "(dict)"))
    if not cfg.maps:
        result.messages.append(message("maps.off"))
    if cfg.maps:
        from .maps import render_maps

        report(progress, 0.85, "hamlet maps")
        pages = render_maps(
            res, out_dir, by=cfg.map_theme, paper=cfg.paper, png=cfg.png,
            place=cfg.place, form=cfg.report_form, progress=scaled(progress, 0.85, 0.99),
        )  # fmt: skip
        for path in pages:
            key = "maps_pdf" if path.suffix == ".pdf" else f"map_png_{path.stem}"
            result.outputs[key] = path
