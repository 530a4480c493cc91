"""ntmgis: garden-renovation GIS for Vietnam's New Rural Development programme.

The public API is imported lazily, so ``import ntmgis`` is cheap and never imports QGIS.
"""

from __future__ import annotations

import importlib

from ._version import __version__
from .errors import (
    CancelledError,
    ConfigError,
    CRSError,
    DataNotFoundError,
    FlagWarning,
    GeometryError,
    ImageryError,
    ImageryWarning,
    InputError,
    NtmgisError,
    NtmgisWarning,
    OutputError,
    OutputWarning,
    ParcelWarning,
    ProgressWarning,
    SchemaError,
    SurveyWarning,
    ZonalWarning,
)

# public name -> module that defines it (imported on first use)
_LAZY = {
    "parcel_features": "ntmgis.features",
    "parcel_time_series": "ntmgis.features",
    "ParcelSeries": "ntmgis.features",
    "load_rules": "ntmgis.flags",
    "apply_rules": "ntmgis.flags",
    "calibrate": "ntmgis.flags",
    "flag_parcels": "ntmgis.flags",
    "survey_agreement": "ntmgis.flags",
    "visit_list": "ntmgis.flags",
    "evaluate": "ntmgis.flags",
    "load_config": "ntmgis.config",
    "RunConfig": "ntmgis.config",
    "run": "ntmgis.pipeline",
    "sample_config": "ntmgis.sample",
    "make_province": "ntmgis.sample",
    "load_communes": "ntmgis.config",
    "run_distributed": "ntmgis.distributed",
    "read_vector": "ntmgis._io",
    "write_gpkg": "ntmgis._io",
    "Result": "ntmgis.result",
    "index_products": "ntmgis.operations",
    "run_config": "ntmgis.operations",
    "parcel_statistics": "ntmgis.operations",
    "TARGETS": "ntmgis.registry",
    "as_result": "ntmgis.result",
    "read_parcels": "ntmgis.parcels",
    "is_garden_land_use": "ntmgis.parcels",
    "read_survey": "ntmgis.survey",
    "join_survey": "ntmgis.survey",
    "JoinReport": "ntmgis.survey",
    "Codebook": "ntmgis.survey",
    "GardenClass": "ntmgis.survey",
    "province_zone": "ntmgis.crs",
    "make_sample": "ntmgis.sample",
    "SampleCommune": "ntmgis.sample",
    "sample_paths": "ntmgis.sample",
    "Scene": "ntmgis.imagery",
    "BandSource": "ntmgis.imagery",
    "find_scenes": "ntmgis.imagery",
    "read_time_series": "ntmgis.imagery",
    "read_stacks": "ntmgis.imagery",
    "reading_session": "ntmgis.imagery",
    "s2_reflectance": "ntmgis.imagery",
    "landsat_reflectance": "ntmgis.imagery",
    "scl_mask": "ntmgis.imagery",
    "qa_pixel_mask": "ntmgis.imagery",
    "boa_offset": "ntmgis.imagery",
    "fetch_scenes": "ntmgis.fetch",
    "FetchResult": "ntmgis.fetch",
    "Index": "ntmgis.indices",
    "register_index": "ntmgis.indices",
    "get_index": "ntmgis.indices",
    "list_indices": "ntmgis.indices",
    "compute_index": "ntmgis.indices",
    "parse_formula": "ntmgis.indices",
    "composite": "ntmgis.indices",
    "write_cog": "ntmgis.indices",
    "stack_profile": "ntmgis.indices",
    "zonal_stats": "ntmgis.zonal",
    "compute_coverage": "ntmgis.zonal",
    "Coverage": "ntmgis.zonal",
    "split_column": "ntmgis.zonal",
    "read_targets": "ntmgis.progress",
    "hamlet_progress": "ntmgis.progress",
    "compare_campaigns": "ntmgis.progress",
    "format_ranking": "ntmgis.progress",
    "write_report": "ntmgis.report",
    "report_tables": "ntmgis.report",
    "progress_report": "ntmgis.report",
    "render_maps": "ntmgis.maps",
    "get_theme": "ntmgis.palette",
    "THEMES": "ntmgis.palette",
    "embed_styles": "ntmgis.styles",
    # the commune's plan: hamlet names, survey form, needs, renovation plan, commendations
    "parse_place": "ntmgis.places",
    "assign_hamlets": "ntmgis.places",
    "write_survey_forms": "ntmgis.survey_form",
    "check_returned_form": "ntmgis.survey_form",
    "parse_needs": "ntmgis.needs",
    "needs_table": "ntmgis.needs",
    "needs_summary": "ntmgis.needs",
    "renovation_plan": "ntmgis.plan",
    "compare_plan": "ntmgis.plan",
    "commendations": "ntmgis.plan",
    "write_plan": "ntmgis.plan_outputs",
    "write_styles": "ntmgis.styles",
}

__all__ = [
    "__version__",
    "NtmgisError",
    "InputError",
    "SchemaError",
    "DataNotFoundError",
    "CRSError",
    "GeometryError",
    "ImageryError",
    "ConfigError",
    "CancelledError",
    "OutputError",
    "NtmgisWarning",
    "ParcelWarning",
    "SurveyWarning",
    "ImageryWarning",
    "ZonalWarning",
    "FlagWarning",
    "ProgressWarning",
    "OutputWarning",
    *_LAZY,
]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ntmgis' has no attribute '{name}'")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(__all__)
