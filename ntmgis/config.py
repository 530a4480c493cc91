"""The run configuration (TOML), validated before any work starts.

Example (the sample commune's, ``layers/thanh_binh.toml``)::

    [commune]
    name = "Xã Thanh Bình"
    year = 2020

    [inputs]
    parcels = "thanh_binh.gpkg"
    parcels_layer = "parcels"
    # parcels_crs = "EPSG:9208"        # when the file has no CRS (a Shapefile with no .prj)
    # parcels_fields = { sheet = "TO", parcel_no = "THUA" }  # standard field = column
    hamlets = "thanh_binh.gpkg"
    hamlets_layer = "hamlets"
    survey = "survey_2020.xlsx"
    # survey_fields = { garden_class = "Hiện trạng vườn" }  # standard field = header
    imagery = "s2"
    targets = "targets_2020.csv"

    [imagery]
    period = "2020-01-01:2020-12-31"

    [flags]
    calibration = "auto"

    [outputs]
    dir = "../out"
    name = "thanh_binh"

    [report]                         # the report's administrative form (ntmgis.form)
    number = "15"
    signer_name = "Nguyễn Văn An"
    recipients = ["UBND huyện Can Lộc", "Lưu: VT"]

Relative paths are relative to the config file's folder. An unknown section or key, a
wrong value or a missing file is a :class:`~ntmgis.errors.ConfigError` that names it.
``[imagery] block`` (pixels, default 512) sets the raster blocks the features are computed
in; ``[imagery] coregister`` (default ``true``) measures each date's sub-pixel
displacement and undoes it before the statistics (:mod:`ntmgis.registration`).
``[imagery] source`` (``"earth-search"``, ``"planetary-computer"``, ``"cdse"`` or a
STAC API URL, with ``period``, ``max_cloud``, ``collection`` and ``cache``) makes the run
fetch its scenes first (:func:`ntmgis.fetch.fetch_for_run`) instead of reading
``[inputs] imagery``. A province config (a ``[province]`` table listing commune configs) is read by
:func:`load_communes`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ._toml import tomllib
from .errors import ConfigError
from .features import DEFAULT_INDICES
from .form import FORM_KEYS, check_form
from .i18n import Text
from .i18n import register_all as _register_all

logger = logging.getLogger(__name__)

# what this module says to people, Vietnamese first (ntmgis.i18n's catalogue): every
# error names the key, the file and what to write instead
_register_all(
    {
        "config.where_file": ("tệp cấu hình '{path}'", "config '{path}'"),
        "config.where_dict": ("cấu hình", "config"),
        "config.at": ("[{section}] {key} trong {where}", "[{section}] {key} in {where}"),
        "config.want.str": ("một chuỗi chữ trong dấu ngoặc kép", "a text in quotes"),
        "config.want.int": ("một số nguyên", "a whole number"),
        "config.want.float": ("một số", "a number"),
        "config.want.bool": ("true hoặc false", "true or false"),
        "config.want.list": (
            'một danh sách chuỗi chữ, ví dụ ["a", "b"]',
            'a list of texts, e.g. ["a", "b"]',
        ),
        "config.want.path": ("đường dẫn đến một tệp", "a file path"),
        "config.want.outpath": ("đường dẫn đến một thư mục", "a folder path"),
        "config.want.source": ("một đường dẫn hoặc một URL", "a path or URL"),
        "config.want.crs": (
            'một hệ tọa độ, ví dụ "EPSG:9208" hoặc 9208',
            'a CRS, e.g. "EPSG:9208" or 9208',
        ),
        "config.want.fields": (
            'một bảng trường chuẩn = "tên cột", ví dụ {{ sheet = "TO", parcel_no = "THUA" }}',
            'a table of standard field = "column", e.g. {{ sheet = "TO", parcel_no = "THUA" }}',
        ),
        "error.config.unknown_parcel_field": (
            "[inputs] parcels_fields trong {where}: không có trường chuẩn {unknown}; các "
            "trường có: {known}.",
            "[inputs] parcels_fields in {where}: unknown standard field {unknown}; known: {known}.",
        ),
        "error.config.unknown_survey_field": (
            "[inputs] survey_fields trong {where}: không có trường khảo sát chuẩn {unknown}; "
            "các trường có: {known}.",
            "[inputs] survey_fields in {where}: unknown standard survey field {unknown}; "
            "known: {known}.",
        ),
        "error.config.bad_crs": (
            "[inputs] parcels_crs trong {where}: không nhận ra hệ tọa độ {value} ({detail}); "
            'ghi mã EPSG, ví dụ "EPSG:9208" (VN-2000 Nghệ An) hoặc "EPSG:4326".',
            "[inputs] parcels_crs in {where}: {value} is not a CRS ({detail}); write an EPSG "
            'code, e.g. "EPSG:9208" (VN-2000 Nghệ An) or "EPSG:4326".',
        ),
        "error.config.type": (
            "{at} phải là {want}, không phải {value}: sửa giá trị đó trong tệp cấu hình.",
            "{at} must be {want}, not {value}: fix that value in the config.",
        ),
        "error.config.not_found": (
            "Không tìm thấy tệp cấu hình '{path}': kiểm tra đường dẫn.",
            "Config file not found: '{path}'. Check the path.",
        ),
        "error.config.syntax": (
            "Tệp cấu hình '{path}' sai cú pháp TOML ({detail}): sửa dòng đó rồi chạy lại.",
            "Syntax error in config '{path}': {detail}. Fix that line and run again.",
        ),
        "error.config.is_province": (
            "{where} là cấu hình của một tỉnh (liệt kê các xã): hãy chạy nó bằng lệnh "
            "'ntmgis run {path}'.",
            "{where} is a province config (it lists communes): run it with "
            "'ntmgis run {path}' or read it with ntmgis.config.load_communes.",
        ),
        "error.config.unknown_section": (
            "{where} có mục [{section}] không dùng được; các mục dùng được: {known}. Sửa "
            "tên mục hoặc xóa mục đó.",
            "Unknown section [{section}] in {where}; sections: {known}. Fix the section's "
            "name or remove it.",
        ),
        "error.config.not_table": (
            "[{section}] trong {where} phải là một mục: dòng [{section}] rồi các khóa bên dưới.",
            "[{section}] in {where} must be a table: a line [{section}], then its keys.",
        ),
        "error.config.unknown_key": (
            "{where}, mục [{section}]: không có khóa '{key}'; các khóa dùng được: {known}. "
            "Sửa tên khóa hoặc xóa dòng đó.",
            "Unknown key '{key}' in [{section}] of {where}; known keys: {known}. Fix the "
            "key's name or remove that line.",
        ),
        "error.config.required": (
            "Thiếu {at}: đây là khóa bắt buộc, hãy thêm vào tệp cấu hình.",
            "{at} is required: add it to the config.",
        ),
        "error.config.choice": (
            "{at} phải là một trong các giá trị {choices}, không phải '{value}'.",
            "{at} must be one of {choices}, not '{value}'.",
        ),
        "error.config.missing_path": (
            "{at}: '{path}' không tồn tại. Kiểm tra đường dẫn (tính từ thư mục của tệp cấu hình).",
            "{at}: '{path}' does not exist. Check the path (relative to the config's folder).",
        ),
        "error.config.ndvi_needed": (
            "[imagery] indices trong {where} phải có 'ndvi' (các dấu hiệu vườn hoang hóa "
            "dựa trên NDVI).",
            "[imagery] indices in {where} must include 'ndvi' (the abandoned-garden "
            "evidence rests on it).",
        ),
        "error.config.unknown_index": (
            "[imagery] indices trong {where}: không có chỉ số {unknown}; các chỉ số có: {known}.",
            "[imagery] indices in {where}: unknown index {unknown}; known: {known}.",
        ),
        "error.config.visits_negative": (
            "[flags] visits_per_hamlet trong {where} phải từ 0 trở lên, không phải {value}.",
            "[flags] visits_per_hamlet in {where} must be 0 or more, not {value}.",
        ),
        "error.config.share_range": (
            "[flags] max_visit_share trong {where} phải nằm trong khoảng 0 đến 1 (0.15 là "
            "15% số vườn), không phải {value}.",
            "[flags] max_visit_share in {where} must be between 0 and 1 (0.15 is 15% of "
            "the gardens), not {value}.",
        ),
        "error.config.block_small": (
            "[imagery] block trong {where} phải từ 16 điểm ảnh trở lên, không phải {value} "
            "(mặc định 512).",
            "[imagery] block in {where} must be at least 16 pixels, not {value} (default 512).",
        ),
        "error.config.needs_source": (
            "[imagery] {key} trong {where} chỉ dùng khi có [imagery] source (danh mục ảnh "
            'để tải, ví dụ source = "earth-search").',
            "[imagery] {key} in {where} needs [imagery] source (a catalogue to fetch "
            'from, e.g. source = "earth-search").',
        ),
        "error.config.imagery_required": (
            "[inputs] imagery trong {where} là bắt buộc (thư mục các cảnh ảnh, tệp GeoTIFF "
            "hoặc tệp STAC), trừ khi [imagery] source chỉ ra danh mục ảnh để tải (ví dụ "
            'source = "earth-search").',
            "[inputs] imagery in {where} is required (scene folders, a GeoTIFF or a STAC "
            "file), unless [imagery] source names a catalogue to fetch from (e.g. "
            'source = "earth-search").',
        ),
        "error.config.imagery_both": (
            "{where} có cả [inputs] imagery và [imagery] source: giữ [inputs] imagery cho "
            "ảnh đã có, hoặc [imagery] source (và cache) để tải ảnh.",
            "{where} has both [inputs] imagery and [imagery] source: keep [inputs] imagery "
            "for scenes you already have, or [imagery] source (and cache) to fetch them.",
        ),
        "error.config.bad_source": (
            "[imagery] source trong {where}: {detail}",
            "[imagery] source in {where}: {detail}",
        ),
        "error.config.period_required": (
            "[imagery] period trong {where} là bắt buộc để tải ảnh từ {source} (ví dụ "
            'period = "2020-01-01:2020-12-31").',
            "[imagery] period in {where} is required to fetch from {source} (e.g. "
            'period = "2020-01-01:2020-12-31").',
        ),
        "error.config.max_cloud": (
            "[imagery] max_cloud trong {where} là phần trăm mây (0-100), không phải {value}.",
            "[imagery] max_cloud in {where} is a percentage (0-100), not {value}.",
        ),
        "error.config.province_section": (
            "{where} là cấu hình tỉnh nên chỉ có mục [province], không có [{section}]: các "
            "thiết lập của xã ghi trong tệp cấu hình riêng của từng xã.",
            "Unknown section [{section}] in province {where}: a province config has only "
            "[province]; commune settings go in each commune's own config.",
        ),
        "error.config.no_match": (
            "[province] communes trong {where}: '{pattern}' không khớp tệp nào (tính từ "
            "'{folder}'). Kiểm tra tên thư mục và tệp cấu hình của các xã.",
            "[province] communes in {where}: '{pattern}' matches no file (relative to "
            "'{folder}'). Check the communes' folder and config names.",
        ),
        "error.config.same_outputs": (
            "Hai xã '{first}' và '{second}' trong {where} sẽ cùng ghi vào '{target}': đặt "
            "cho mỗi xã [outputs] dir hoặc name riêng, hoặc đặt [province] out_dir.",
            "Communes '{first}' and '{second}' of {where} would both write '{target}': "
            "give them their own [outputs] dir or name, or set [province] out_dir.",
        ),
    }
)


def _say(key: str, /, **fields) -> str:
    from .i18n import say

    return say(key, **fields)


def _at(section: str, key: str, where) -> Text:
    return Text("config.at", section=section, key=key, where=where)


def _where(path) -> Text:
    return Text("config.where_file", path=path) if path else Text("config.where_dict")


__all__ = ["RunConfig", "load_config", "load_communes", "SCHEMA", "PROVINCE_SCHEMA"]

# section -> key -> (type, required); "path" values must exist, "outpath" need not
SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {
    "commune": {"name": ("str", False), "year": ("int", False), "place": ("str", False)},
    "inputs": {
        "parcels": ("path", True),
        "parcels_layer": ("str", False),
        "parcels_crs": ("crs", False),
        "parcels_fields": ("fields", False),
        "hamlets": ("path", False),
        "hamlets_layer": ("str", False),
        "survey": ("path", False),
        "survey_sheet": ("str", False),
        "survey_fields": ("fields", False),
        "imagery": ("source", False),
        "targets": ("path", False),
        "codebook": ("path", False),
        "rules": ("path", False),
        "baseline": ("path", False),
        "province": ("str", False),
    },
    "imagery": {
        "period": ("str", False),
        "indices": ("list", False),
        "min_valid": ("float", False),
        "block": ("int", False),
        "coregister": ("bool", False),
        "source": ("str", False),
        "collection": ("str", False),
        "max_cloud": ("float", False),
        "cache": ("outpath", False),
    },
    "flags": {
        "calibration": ("str", False),
        "min_labels": ("int", False),
        "visits_per_hamlet": ("int", False),
        "max_visit_share": ("float", False),
    },
    "outputs": {
        "dir": ("outpath", False),
        "name": ("str", False),
        "maps": ("bool", False),
        "map_theme": ("str", False),
        "paper": ("str", False),
        "png": ("bool", False),
        "report": ("bool", False),
    },
    # the administrative form of the report and the maps' signature (ntmgis.form)
    "report": {key: (kind, False) for key, kind in FORM_KEYS.items()},
}
_CHOICES = {
    ("flags", "calibration"): ("auto", "rules"),
    ("outputs", "map_theme"): ("flag", "survey", "agreement"),
    ("outputs", "paper"): ("A4", "A3"),
}


@dataclass
class RunConfig:
    """A validated run configuration; paths are absolute."""

    parcels: Path
    imagery: str | Path
    commune: str | None = None
    year: int | None = None
    place: str | None = None
    parcels_layer: str | None = None
    parcels_crs: str | int | None = None
    parcels_fields: dict | None = None
    hamlets: Path | None = None
    hamlets_layer: str | None = None
    survey: Path | None = None
    survey_sheet: str | None = None
    survey_fields: dict | None = None
    targets: Path | None = None
    codebook: Path | None = None
    rules: Path | None = None
    baseline: Path | None = None
    province: str | None = None
    period: str | None = None
    indices: tuple = DEFAULT_INDICES
    min_valid: float = 0.6
    block: int = 512
    coregister: bool = True
    calibration: str = "auto"
    min_labels: int = 30
    visits_per_hamlet: int | None = None
    max_visit_share: float = 0.15
    out_dir: Path = Path("out")
    name: str | None = None
    maps: bool = True
    map_theme: str = "flag"
    paper: str = "A4"
    png: bool = False
    report: bool = True
    report_form: dict = field(default_factory=dict)
    source: Path | None = None
    raw: dict = field(default_factory=dict, repr=False)
    imagery_source: str | None = None
    imagery_collection: str = "sentinel-2-l2a"
    max_cloud: float = 80.0
    imagery_cache: Path | None = None

    @property
    def stem(self) -> str:
        """Output file stem: ``outputs.name`` or the parcels file's name."""
        return self.name or self.parcels.stem


def _check_type(value, kind: str, at):
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "path": isinstance(value, str),
        "outpath": isinstance(value, str),
        "source": isinstance(value, str),
        "crs": isinstance(value, (str, int)) and not isinstance(value, bool),
        "fields": isinstance(value, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()),
    }[kind]
    if not ok:
        raise ConfigError(_say("error.config.type", at=at, want_key=f"config.want.{kind}",
                               value=repr(value)))  # fmt: skip


def _value(table, section, key, kind, required, where, folder) -> dict:
    """``{(section, key): value}`` checked (type, choices, files that must exist), or {}."""
    at = _at(section, key, where)
    if key not in table:
        if required:
            raise ConfigError(_say("error.config.required", at=at))
        return {}
    value = table[key]
    _check_type(value, kind, at)
    choices = _CHOICES.get((section, key))
    if choices and value not in choices:
        raise ConfigError(_say("error.config.choice", at=at, choices=", ".join(choices),
                               value=value))  # fmt: skip
    if kind in ("path", "outpath") or (kind == "source" and "://" not in value):
        value = (folder / value).resolve()
        if kind in ("path", "source") and not value.exists():
            raise ConfigError(_say("error.config.missing_path", at=at, path=value))
    return {(section, key): value}


def read_toml(path: Path) -> dict:
    """Parse a config file, or raise ConfigError naming it (and the line and column)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(_say("error.config.not_found", path=path))
    try:
        from ._io import read_text

        return tomllib.loads(read_text(path, what="config"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_say("error.config.syntax", path=path, detail=exc)) from None


def load_config(source, *, base: Path | None = None) -> RunConfig:
    """Read and validate a run configuration.

    Parameters
    ----------
    source : str, path or dict
        A TOML file, or its parsed content (then relative paths are relative to
        ``base``, default the working folder).
    base : pathlib.Path, optional
        Folder relative paths start from (default: the config file's folder).

    Returns
    -------
    RunConfig
        With absolute paths, every input file checked to exist.

    Raises
    ------
    ConfigError
        TOML syntax error (line and column), unknown section or key, wrong type or value,
        missing required key, or a file that does not exist; raised before any work.
    """
    if isinstance(source, dict):
        data, folder = source, Path(base or Path.cwd())
        path = None
    else:
        path = Path(source)
        data = read_toml(path)
        folder = Path(base or path.parent)
    where = _where(path)
    logger.debug("reading the run config %s", path or "(dict)")
    if "province" in data:
        raise ConfigError(_say("error.config.is_province", where=where, path=path or "CONFIG"))
    unknown = set(data) - set(SCHEMA)
    if unknown:
        raise ConfigError(_say("error.config.unknown_section", where=where,
                               section=sorted(unknown)[0],
                               known=", ".join(f"[{s}]" for s in SCHEMA)))  # fmt: skip
    values: dict = {}
    for section, keys in SCHEMA.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(_say("error.config.not_table", section=section, where=where))
        extra = set(table) - set(keys)
        if extra:
            raise ConfigError(_say("error.config.unknown_key", key=sorted(extra)[0],
                                   section=section, where=where,
                                   known=", ".join(keys)))  # fmt: skip
        for key, (kind, required) in keys.items():
            values.update(_value(table, section, key, kind, required, where, folder))
    get = values.get
    out_name = {
        ("outputs", "dir"): "out_dir",
        ("commune", "name"): "commune",
        ("imagery", "source"): "imagery_source",
        ("imagery", "collection"): "imagery_collection",
        ("imagery", "cache"): "imagery_cache",
    }
    kwargs = {out_name.get(k, k[1]): v for k, v in values.items() if k[0] != "report"}
    kwargs["report_form"] = check_form(data.get("report", {}), f"[report] in {where}")
    _check_values(kwargs, where)
    if get(("outputs", "dir")) is None:
        kwargs["out_dir"] = (folder / "out").resolve()
    _check_fetch(kwargs, where)
    return RunConfig(source=path, raw=data, **kwargs)


def _check_values(kwargs: dict, where) -> None:
    """The values checked together: indices, visits, the block size."""
    if "indices" in kwargs:
        kwargs["indices"] = tuple(v.lower() for v in kwargs["indices"])
        if "ndvi" not in kwargs["indices"]:
            raise ConfigError(_say("error.config.ndvi_needed", where=where))
        from .indices import INDICES

        unknown = [i for i in kwargs["indices"] if i not in INDICES]
        if unknown:
            raise ConfigError(_say("error.config.unknown_index", where=where,
                                   unknown=", ".join(map(repr, unknown)),
                                   known=", ".join(sorted(INDICES))))  # fmt: skip
    visits = kwargs.get("visits_per_hamlet", 0)
    if visits < 0:
        raise ConfigError(_say("error.config.visits_negative", where=where, value=visits))
    share = kwargs.get("max_visit_share", 0.15)
    if not 0 <= share <= 1:
        raise ConfigError(_say("error.config.share_range", where=where, value=share))
    block = kwargs.get("block", 512)
    if block < 16:
        raise ConfigError(_say("error.config.block_small", where=where, value=block))
    _check_parcel_keys(kwargs, where)


def _check_parcel_keys(kwargs: dict, where) -> None:
    """The ``[inputs]`` keys that name fields or a CRS hold known ones.

    ``survey_fields``'s ``garden_class`` is the survey's ``garden_class_raw`` column.
    """
    if kwargs.get("parcels_fields"):
        from .parcels import PARCEL_FIELDS

        unknown = [k for k in kwargs["parcels_fields"] if k not in PARCEL_FIELDS]
        if unknown:
            raise ConfigError(_say("error.config.unknown_parcel_field", where=where,
                                   unknown=", ".join(map(repr, unknown)),
                                   known=", ".join(PARCEL_FIELDS)))  # fmt: skip
    if kwargs.get("survey_fields"):
        from .survey import SURVEY_FIELDS, survey_fields

        unknown = [k for k in kwargs["survey_fields"]
                   if k != "garden_class" and k not in SURVEY_FIELDS]  # fmt: skip
        if unknown:
            raise ConfigError(_say("error.config.unknown_survey_field", where=where,
                                   unknown=", ".join(map(repr, unknown)),
                                   known=", ".join(["garden_class", *SURVEY_FIELDS])))  # fmt: skip
        kwargs["survey_fields"] = survey_fields(kwargs["survey_fields"])
    crs = kwargs.get("parcels_crs")
    if crs is not None:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(crs)
        except CRSError as exc:
            detail = str(exc).splitlines()[0][:120]
            raise ConfigError(_say("error.config.bad_crs", where=where, value=repr(crs),
                                   detail=detail)) from None  # fmt: skip


def _check_fetch(kwargs: dict, where) -> None:
    """``[imagery] source`` (fetch before the run) or ``[inputs] imagery``: exactly one."""
    source = kwargs.get("imagery_source")
    if source is None:
        for key in ("collection", "max_cloud", "cache"):
            if kwargs.get(f"imagery_{key}" if key != "max_cloud" else key) is not None:
                raise ConfigError(_say("error.config.needs_source", key=key, where=where))
        if kwargs.get("imagery") is None:
            raise ConfigError(_say("error.config.imagery_required", where=where))
        return
    from .errors import InputError
    from .fetch import _catalog, _collection

    if kwargs.get("imagery") is not None:
        raise ConfigError(_say("error.config.imagery_both", where=where))
    try:
        cat = _catalog(source)
        kwargs["imagery_collection"] = _collection(kwargs.get("imagery_collection"), cat)
    except InputError as exc:
        raise ConfigError(_say("error.config.bad_source", where=where, detail=exc)) from None
    if not kwargs.get("period"):
        raise ConfigError(_say("error.config.period_required", where=where, source=source))
    max_cloud = kwargs.get("max_cloud", 80.0)
    if not 0 <= max_cloud <= 100:
        raise ConfigError(_say("error.config.max_cloud", where=where, value=max_cloud))
    if kwargs.get("imagery_cache") is None:
        kwargs["imagery_cache"] = Path(kwargs["out_dir"]) / "imagery"
    kwargs["imagery"] = kwargs["imagery_cache"]


#: keys of a province config's ``[province]`` table: (type, required)
PROVINCE_SCHEMA: dict[str, tuple[str, bool]] = {
    "name": ("str", False),
    "communes": ("list", True),
    "out_dir": ("outpath", False),
    "maps": ("bool", False),
    "report": ("bool", False),
}


def load_communes(source, *, out=None) -> list[RunConfig]:
    """The communes of a province config, or the one commune of a commune config.

    A province config lists the communes' own run configs (files or glob patterns,
    relative to the province file), each validated as :func:`load_config` does::

        [province]
        name = "Tỉnh Hà Tĩnh"
        communes = ["xa_*/xa.toml", "thi_tran_duc_tho/run.toml"]
        out_dir = "out"      # optional: each commune writes to out/<its folder>/
        maps = false         # optional: overrides every commune's [outputs] maps
        report = true        # optional: likewise for the progress report

    Parameters
    ----------
    source : str or path
        A province config or a commune config (TOML).
    out : str or path, optional
        Output folder overriding ``[province] out_dir``: each commune writes to
        ``out/<its folder>/`` (as ``ntmgis run PROVINCE -o OUT`` does).

    Returns
    -------
    list of RunConfig
        In the order listed (a glob's matches sorted by path), without duplicates.

    Raises
    ------
    ConfigError
        A wrong key or type, a pattern that matches no file, two communes writing the
        same outputs, or any commune config's own error (naming that file).
    """
    path = Path(source)
    data = read_toml(path)
    if "province" not in data:
        return [load_config(path)]
    where = _where(path)
    extra = set(data) - {"province"}
    if extra:
        raise ConfigError(_say("error.config.province_section", where=where,
                               section=sorted(extra)[0]))  # fmt: skip
    table = data["province"]
    if not isinstance(table, dict):
        raise ConfigError(_say("error.config.not_table", section="province", where=where))
    unknown = set(table) - set(PROVINCE_SCHEMA)
    if unknown:
        raise ConfigError(_say("error.config.unknown_key", key=sorted(unknown)[0],
                               section="province", where=where,
                               known=", ".join(PROVINCE_SCHEMA)))  # fmt: skip
    for key, (kind, required) in PROVINCE_SCHEMA.items():
        if key in table:
            _check_type(table[key], kind, _at("province", key, where))
        elif required:
            raise ConfigError(_say("error.config.required", at=_at("province", key, where)))
    files: list[Path] = []
    for pattern in table["communes"]:
        if any(ch in pattern for ch in "*?["):
            found = sorted(p for p in path.parent.glob(pattern) if p.is_file())
        else:
            found = [path.parent / pattern] if (path.parent / pattern).is_file() else []
        if not found:
            raise ConfigError(_say("error.config.no_match", where=where, pattern=pattern,
                                   folder=path.parent))  # fmt: skip
        files += [f.resolve() for f in found if f.resolve() not in files]
    configs = [load_config(f) for f in files]
    out_dir = table.get("out_dir") if out is None else Path(out).expanduser().resolve()
    for cfg in configs:
        if out_dir is not None:
            cfg.out_dir = (path.parent / out_dir).resolve() / cfg.source.parent.name
        for key in ("maps", "report"):
            if key in table:
                setattr(cfg, key, table[key])
    seen: dict[Path, Path] = {}
    for cfg in configs:
        target = Path(cfg.out_dir) / f"{cfg.stem}.gpkg"
        if target in seen:
            raise ConfigError(_say("error.config.same_outputs", first=seen[target],
                                   second=cfg.source, where=where, target=target))  # fmt: skip
        seen[target] = cfg.source
    logger.info("province %s: %d commune(s)", path, len(configs))
    return configs
