"""The run configuration (TOML), validated before any work starts.

Example (the sample commune's, ``layers/thanh_binh.toml``)::

    [commune]
    name = "Xã Thanh Bình"
    year = 2020

    [inputs]
    parcels = "thanh_binh.gpkg"
    parcels_layer = "parcels"
    hamlets = "thanh_binh.gpkg"
    hamlets_layer = "hamlets"
    survey = "survey_2020.xlsx"
    imagery = "s2"
    targets = "targets_2020.csv"

    [imagery]
    period = "2020-01-01:2020-12-31"

    [flags]
    calibration = "auto"

    [outputs]
    dir = "../out"
    name = "thanh_binh"

Relative paths are relative to the config file's folder. An unknown section or key, a
wrong value or a missing file is a :class:`~ntmgis.errors.ConfigError` that names it.
``[imagery] block`` (pixels, default 512) sets the raster blocks the features are computed
in. A province config (a ``[province]`` table listing commune configs) is read by
:func:`load_communes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ._toml import tomllib
from .errors import ConfigError
from .features import DEFAULT_INDICES

__all__ = ["RunConfig", "load_config", "load_communes", "SCHEMA", "PROVINCE_SCHEMA"]

# section -> key -> (type, required); "path" values must exist, "outpath" need not
SCHEMA: dict[str, dict[str, tuple[str, bool]]] = {
    "commune": {"name": ("str", False), "year": ("int", False), "place": ("str", False)},
    "inputs": {
        "parcels": ("path", True),
        "parcels_layer": ("str", False),
        "hamlets": ("path", False),
        "hamlets_layer": ("str", False),
        "survey": ("path", False),
        "survey_sheet": ("str", False),
        "imagery": ("source", True),
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
    hamlets: Path | None = None
    hamlets_layer: str | None = None
    survey: Path | None = None
    survey_sheet: str | None = None
    targets: Path | None = None
    codebook: Path | None = None
    rules: Path | None = None
    baseline: Path | None = None
    province: str | None = None
    period: str | None = None
    indices: tuple = DEFAULT_INDICES
    min_valid: float = 0.6
    block: int = 512
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
    source: Path | None = None
    raw: dict = field(default_factory=dict, repr=False)

    @property
    def stem(self) -> str:
        """Output file stem: ``outputs.name`` or the parcels file's name."""
        return self.name or self.parcels.stem


def _check_type(value, kind: str, where: str):
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "float": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "list": isinstance(value, list) and all(isinstance(v, str) for v in value),
        "path": isinstance(value, str),
        "outpath": isinstance(value, str),
        "source": isinstance(value, str),
    }[kind]
    if not ok:
        want = {"path": "a file path", "outpath": "a folder path", "source": "a path or URL",
                "list": "a list of strings"}.get(kind, f"a {kind}")  # fmt: skip
        raise ConfigError(f"{where} must be {want}, not {value!r}.")


def read_toml(path: Path) -> dict:
    """Parse a config file, or raise ConfigError naming it (and the line and column)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Config file not found: '{path}'.")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Syntax error in config '{path}': {exc}.") from None


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
        data, where, folder = source, "config", Path(base or Path.cwd())
        path = None
    else:
        path = Path(source)
        data = read_toml(path)
        where, folder = f"config '{path}'", Path(base or path.parent)
    if "province" in data:
        raise ConfigError(
            f"{where} is a province config (it lists communes): run it with "
            f"'ntmgis run {path or 'CONFIG'}' or read it with ntmgis.config.load_communes."
        )
    unknown = set(data) - set(SCHEMA)
    if unknown:
        raise ConfigError(
            f"Unknown section [{sorted(unknown)[0]}] in {where}; sections: "
            f"{', '.join(f'[{s}]' for s in SCHEMA)}."
        )
    values: dict = {}
    for section, keys in SCHEMA.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"[{section}] in {where} must be a table.")
        extra = set(table) - set(keys)
        if extra:
            key = sorted(extra)[0]
            raise ConfigError(
                f"Unknown key '{key}' in [{section}] of {where}; known keys: {', '.join(keys)}."
            )
        for key, (kind, required) in keys.items():
            at = f"[{section}] {key} in {where}"
            if key not in table:
                if required:
                    raise ConfigError(f"{at} is required.")
                continue
            value = table[key]
            _check_type(value, kind, at)
            choices = _CHOICES.get((section, key))
            if choices and value not in choices:
                raise ConfigError(f"{at} must be one of {', '.join(choices)}, not '{value}'.")
            if kind in ("path", "outpath") or (kind == "source" and "://" not in value):
                value = (folder / value).resolve()
                if kind in ("path", "source") and not value.exists():
                    raise ConfigError(f"{at}: '{value}' does not exist. Check the path.")
            values[(section, key)] = value
    get = values.get
    out_name = {("outputs", "dir"): "out_dir", ("commune", "name"): "commune"}
    kwargs = {out_name.get(k, k[1]): v for k, v in values.items()}
    if "indices" in kwargs:
        kwargs["indices"] = tuple(v.lower() for v in kwargs["indices"])
        if "ndvi" not in kwargs["indices"]:
            raise ConfigError(f"[imagery] indices in {where} must include 'ndvi'.")
        from .indices import INDICES

        unknown = [i for i in kwargs["indices"] if i not in INDICES]
        if unknown:
            raise ConfigError(
                f"[imagery] indices in {where}: unknown index {', '.join(map(repr, unknown))};"
                f" known: {', '.join(sorted(INDICES))}."
            )
    if kwargs.get("visits_per_hamlet", 0) < 0:
        raise ConfigError(f"[flags] visits_per_hamlet in {where} must be 0 or more.")
    if not 0 <= kwargs.get("max_visit_share", 0.15) <= 1:
        raise ConfigError(f"[flags] max_visit_share in {where} must be between 0 and 1.")
    if kwargs.get("block", 512) < 16:
        raise ConfigError(f"[imagery] block in {where} must be at least 16 pixels.")
    if get(("outputs", "dir")) is None:
        kwargs["out_dir"] = (folder / "out").resolve()
    return RunConfig(source=path, raw=data, **kwargs)


#: keys of a province config's ``[province]`` table: (type, required)
PROVINCE_SCHEMA: dict[str, tuple[str, bool]] = {
    "name": ("str", False),
    "communes": ("list", True),
    "out_dir": ("outpath", False),
    "maps": ("bool", False),
    "report": ("bool", False),
}


def load_communes(source) -> list[RunConfig]:
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
    where = f"config '{path}'"
    extra = set(data) - {"province"}
    if extra:
        raise ConfigError(
            f"Unknown section [{sorted(extra)[0]}] in province {where}: a province config "
            f"has only [province]; commune settings go in each commune's own config."
        )
    table = data["province"]
    if not isinstance(table, dict):
        raise ConfigError(f"[province] in {where} must be a table.")
    unknown = set(table) - set(PROVINCE_SCHEMA)
    if unknown:
        raise ConfigError(
            f"Unknown key '{sorted(unknown)[0]}' in [province] of {where}; known keys: "
            f"{', '.join(PROVINCE_SCHEMA)}."
        )
    for key, (kind, required) in PROVINCE_SCHEMA.items():
        if key in table:
            _check_type(table[key], kind, f"[province] {key} in {where}")
        elif required:
            raise ConfigError(f"[province] {key} in {where} is required.")
    files: list[Path] = []
    for pattern in table["communes"]:
        if any(ch in pattern for ch in "*?["):
            found = sorted(p for p in path.parent.glob(pattern) if p.is_file())
        else:
            found = [path.parent / pattern] if (path.parent / pattern).is_file() else []
        if not found:
            raise ConfigError(
                f"[province] communes in {where}: '{pattern}' matches no file (relative "
                f"to '{path.parent}')."
            )
        files += [f.resolve() for f in found if f.resolve() not in files]
    configs = [load_config(f) for f in files]
    out_dir = table.get("out_dir")
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
            raise ConfigError(
                f"Communes '{seen[target]}' and '{cfg.source}' of {where} would both write "
                f"'{target}': give them their own [outputs] dir or name, or set "
                f"[province] out_dir."
            )
        seen[target] = cfg.source
    return configs
