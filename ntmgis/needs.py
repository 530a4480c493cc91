"""Step 3: what each household needs to renovate its garden (họp dân, nhu cầu hỗ trợ).

The Step 2 survey's needs column ("Nhu cầu hỗ trợ") is typed by hand: "cây giống, vốn",
"Vốn vay; tập huấn", "cần giống cây và phân bón", "xin hỗ trợ máy cày". :func:`parse_needs`
turns one cell into the codebook's needs (``[[needs]]`` of
``ntmgis/data/codebook_default.toml``: cây giống, vốn, kỹ thuật, phân bón, công lao
động, vật tư, tiêu thụ) and keeps whatever matches none as free text, counted as
``khac`` (other). :func:`needs_table` gives the tidy table (one row per parcel and
need); :func:`needs_summary` counts households and garden area by need per hamlet and
for the commune, crossed with the survey class and the imagery verdict;
:func:`needs_report_table` is the report's sheet "Nhu cầu hỗ trợ".

Examples
--------
>>> parse_needs("Cây giống, vốn vay; tập huấn")
(['cay_giong', 'von', 'ky_thuat'], [])
>>> parse_needs("cần giống cây và phân bón, xin máy cày")
(['cay_giong', 'phan_bon', 'khac'], ['xin máy cày'])
>>> parse_needs(None)
([], [])
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from . import i18n
from .errors import ConfigError
from .text import clean_text, fold

__all__ = [
    "Need",
    "OTHER",
    "load_needs",
    "parse_needs",
    "needs_table",
    "needs_summary",
    "needs_report_table",
    "need_label",
]

logger = logging.getLogger(__name__)

# what people read from this module, Vietnamese first (ntmgis.i18n's catalogue)
_MESSAGES = {
    "error.needs.bad_toml": (
        "Bộ mã '{where}' không đúng định dạng TOML: {detail}. Hãy sửa tệp bộ mã.",
        "Codebook '{where}' is not valid TOML: {detail}. Correct the codebook file.",
    ),
    "error.needs.no_code": (
        "Bộ mã '{where}': nhu cầu thứ {number} không có mã hoặc tên; mỗi mục [[needs]] cần "
        "code = '...' và label = '...'.",
        "Codebook '{where}': need {number} has no code or label; each [[needs]] needs "
        "code = '...' and label = '...'.",
    ),
    "error.needs.reserved": (
        "Bộ mã '{where}': mã nhu cầu '{code}' được dành cho 'Khác'; hãy đặt mã khác.",
        "Codebook '{where}': the need code '{code}' is reserved (other); choose another code.",
    ),
    "error.needs.duplicate": (
        "Bộ mã '{where}': có mã nhu cầu bị trùng ({codes}); mỗi mã chỉ dùng một lần.",
        "Codebook '{where}': duplicate need codes ({codes}); use each code once.",
    ),
    "warning.needs.unknown_need": (
        "{count} phần ghi nhu cầu không khớp nhu cầu nào trong bộ mã ({shown}): giữ nguyên "
        "văn bản, tính vào '{other}'. Hãy thêm chúng làm tên gọi khác (aliases) trong mục "
        "[[needs]] của bộ mã.",
        "{count} needs cell part(s) match no need of the codebook ({shown}): kept as free "
        "text, counted as '{other}'. Add them as aliases under [[needs]] in your codebook.",
    ),
}
i18n.register_all(_MESSAGES)


def _msg(key: str, /, **fields) -> str:
    return i18n.message(key, **fields)


OTHER = "khac"
_OTHER_LABELS = ("Khác", "Other")
# words around a need that say nothing ("cần giống", "xin hỗ trợ vốn", "và")
_FILLER = {"can", "xin", "ho tro", "de nghi", "mong", "muon", "duoc", "them", "va", "voi",
           "cho", "ve", "co", "nhu cau", "de", "mua", "it", "nhieu"}  # fmt: skip
_SPLIT = re.compile(r"\s*(?:[,;/+\n]|\s-\s|\bvà\b|\bva\b)\s*", re.IGNORECASE)
_NONE_WORDS = {"khong", "khong co", "khong can", "chua co", "-", "0", "khong co nhu cau"}


@dataclass(frozen=True)
class Need:
    """One kind of support of the codebook: code, labels and how people write it."""

    code: str
    label: str
    label_en: str = ""
    aliases: tuple[str, ...] = ()


def _read_toml(text: str, where: str) -> dict:
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_msg("error.needs.bad_toml", where=where, detail=exc)) from None


@lru_cache(maxsize=8)
def _load(path: str | None) -> tuple[Need, ...]:
    if path is None:
        from importlib import resources

        text = (
            resources.files("ntmgis").joinpath("data", "codebook_default.toml").read_text("utf-8")
        )
        where = "codebook_default.toml"
    else:
        from ._io import as_path

        file = as_path(path, what="codebook")
        text, where = file.read_text(encoding="utf-8"), str(file)
    data = _read_toml(text, where)
    entries = data.get("needs")
    if entries is None and path is not None:
        return _load(None)  # a commune codebook without needs: the default needs
    needs = []
    for i, entry in enumerate(entries or [], start=1):
        if not entry.get("code") or not entry.get("label"):
            raise ConfigError(_msg("error.needs.no_code", where=where, number=i))
        if entry["code"] == OTHER:
            raise ConfigError(_msg("error.needs.reserved", where=where, code=OTHER))
        needs.append(
            Need(str(entry["code"]), clean_text(str(entry["label"])),
                 str(entry.get("label_en", "")),
                 tuple(clean_text(str(a)) for a in entry.get("aliases", [])))
        )  # fmt: skip
    codes = [n.code for n in needs]
    if len(set(codes)) != len(codes):
        raise ConfigError(_msg("error.needs.duplicate", where=where, codes=", ".join(codes)))
    return tuple(needs)


def load_needs(codebook=None) -> tuple[Need, ...]:
    """The needs list of a codebook (the default one's when it lists none).

    Parameters
    ----------
    codebook : None, str or os.PathLike
        A codebook TOML with ``[[needs]]`` tables (``code``, ``label``, ``label_en``,
        ``aliases``); None (or a :class:`ntmgis.survey.Codebook` object) for the default.

    Returns
    -------
    tuple of Need
        In the codebook's order.

    Examples
    --------
    >>> [n.code for n in load_needs()][:5]
    ['cay_giong', 'von', 'ky_thuat', 'phan_bon', 'cong_lao_dong']
    """
    if (
        codebook is None
        or not isinstance(codebook, str | bytes)
        and not hasattr(codebook, "__fspath__")
    ):
        return _load(None)
    return _load(str(codebook))


def need_label(code: str, lang: str = "vi", codebook=None) -> str:
    """The label of a need code (``khac`` → "Khác").

    >>> need_label("von"), need_label("khac", "en")
    ('Vốn', 'Other')
    """
    if code == OTHER:
        return _OTHER_LABELS[lang == "en"]
    for need in load_needs(codebook):
        if need.code == code:
            return need.label_en if lang == "en" and need.label_en else need.label
    return str(code)


@lru_cache(maxsize=8)
def _patterns(needs: tuple[Need, ...]) -> list[tuple[str, str]]:
    """(folded spelling, code), longest first, for whole-word search."""
    pairs = []
    for need in needs:
        for spelling in (need.label, *need.aliases):
            pairs.append((fold(spelling), need.code))
        # "Vật tư (lưới, cọc...)": the words before a bracket are a spelling too
        head = re.sub(r"\s*\(.*$", "", need.label)
        if head != need.label:
            pairs.append((fold(head), need.code))
    return sorted(set(pairs), key=lambda p: -len(p[0]))


def parse_needs(value, needs=None) -> tuple[list[str], list[str]]:
    """Parse one needs cell into need codes and the free text that matched none.

    Parameters
    ----------
    value : str or None
        The cell as typed: a comma (``;``, ``/``, ``+``, "và") separated list or a
        sentence. Case, diacritics, spaces and filler words ("cần", "xin hỗ trợ") do
        not count.
    needs : sequence of Need, optional
        The needs list (default: :func:`load_needs`).

    Returns
    -------
    codes : list of str
        The needs found, in the order written, each once; ``khac`` when some text
        matched no need.
    free : list of str
        The parts that matched no need, as written.
    """
    text = clean_text(value) if isinstance(value, str) else None
    if not text or fold(text) in _NONE_WORDS:
        return [], []
    patterns = _patterns(tuple(needs) if needs is not None else load_needs())
    codes: list[str] = []
    free: list[str] = []
    for part in _SPLIT.split(text):
        part = part.strip(" .").lstrip("=+-@'\t\r").strip()  # a stray formula sign
        if not part or fold(part) in _NONE_WORDS:
            continue
        rest = f" {fold(part)} "
        found = []
        for spelling, code in patterns:
            hole = f" {spelling} "
            while hole in rest:
                found.append((rest.index(hole), code))
                rest = rest.replace(hole, " | ", 1)
        leftover = [w for w in re.split(r"[\s|]+", rest) if w]
        words = " ".join(leftover)
        for filler in sorted(_FILLER, key=len, reverse=True):
            words = re.sub(rf"(^| ){re.escape(filler)}(?= |$)", " ", words)
        for _, code in sorted(found):
            if code not in codes:
                codes.append(code)
        if words.strip() and not found:
            free.append(part)
        elif words.strip():
            logger.debug("needs: '%s' read as %s (the rest ignored)", part, found)
    if free and OTHER not in codes:
        codes.append(OTHER)
    return codes, free


def _parcels(result):
    from .progress import read_result

    parcels, _ = read_result(result, what="result")
    parcels = pd.DataFrame(parcels).drop(columns="geometry", errors="ignore")
    if "place_kind" in parcels:
        from .places import is_hamlet_kind

        parcels = parcels[parcels["place_kind"].map(is_hamlet_kind)]
    return parcels


def _needs_column(parcels) -> pd.Series:
    for column in ("support_needs", "needs", "nhu_cau"):
        if column in parcels:
            return parcels[column]
    return pd.Series(None, index=parcels.index, dtype=object)


def _cells(series: pd.Series):
    """A column's values by position, each what ``series.at[label]`` returns.

    Numpy scalars of a numpy column, the objects of an extension array.
    """
    return series.to_numpy() if isinstance(series.dtype, np.dtype) else series.array


def needs_table(result, *, codebook=None) -> pd.DataFrame:
    """The tidy needs table: one row per garden parcel and need.

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame or DataFrame
        A result GeoPackage of ``ntmgis run`` (or its parcels; or the joined parcels of
        :func:`ntmgis.join_survey`) with the survey's ``support_needs`` column.
    codebook : str or os.PathLike, optional
        A codebook with its own ``[[needs]]``.

    Returns
    -------
    pandas.DataFrame
        ``parcel_id``, ``hamlet``, ``household`` (the household id, else the parcel id),
        ``owner``, ``area_m2`` (the survey's garden area when given, else the parcel's),
        ``survey_class``, ``flag``, ``need`` (a code or ``khac``), ``need_label``,
        ``need_text`` (the free text of a ``khac`` row), ``needs_raw`` (the cell).
        Garden parcels without any need are not in it. ``attrs["unknown"]``: the free
        texts and how often each was written.
    """
    parcels = _parcels(result)
    if "is_garden" in parcels:
        parcels = parcels[parcels["is_garden"].fillna(False).astype(bool)]
    needs = load_needs(codebook)
    raw = _needs_column(parcels)
    area = parcels.get("garden_area_m2")
    area = (
        pd.to_numeric(area, errors="coerce").fillna(parcels["area_m2"])
        if area is not None
        else parcels["area_m2"]
    )
    household = parcels.get("household", parcels.get("household_id"))
    household = (
        household.where(household.notna(), parcels["parcel_id"])
        if household is not None
        else parcels["parcel_id"]
    )
    owner = parcels.get("owner", pd.Series(None, index=parcels.index))
    # each source column read by position: the values a cell lookup returns, in the order
    # of the table's columns (parcel_id, hamlet, household, owner, area, survey_class, flag)
    sources = [_cells(parcels["parcel_id"]), _cells(parcels["hamlet"]), _cells(household),
               _cells(owner), _cells(area), _cells(parcels["survey_class"]),
               _cells(parcels["flag"])]  # fmt: skip
    labels: dict = {}
    rows = []
    unknown: dict[str, int] = {}
    parsed: dict = {}  # the same cells recur ("Cây giống", "Vốn vay; kỹ thuật"...)
    for k, cell in enumerate(raw):
        key = cell if isinstance(cell, str) else None  # not a text: no needs
        if key not in parsed:
            parsed[key] = parse_needs(cell, needs)
        codes, free = parsed[key]
        for text in free:
            unknown[text] = unknown.get(text, 0) + 1
        if not codes:
            continue
        pid, hamlet, house, own, a, survey, flag = (values[k] for values in sources)
        a = float(a) if pd.notna(a) else None
        for code in codes:
            if code not in labels:
                labels[code] = need_label(code, codebook=codebook)
            rows.append((pid, hamlet, house, own, a, survey, flag, code, labels[code],
                         "; ".join(free) if code == OTHER else None, cell))  # fmt: skip
    columns = ["parcel_id", "hamlet", "household", "owner", "area_m2", "survey_class", "flag",
               "need", "need_label", "need_text", "needs_raw"]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    table.attrs["unknown"] = unknown
    table.attrs["needs"] = [n.code for n in needs] + [OTHER]
    if unknown:
        from .errors import SurveyWarning, warn

        shown = ", ".join(f"'{t}'" for t in list(unknown)[:5])
        shown += " ..." if len(unknown) > 5 else ""
        warn(_msg("warning.needs.unknown_need", count=sum(unknown.values()), shown=shown,
                  other=need_label(OTHER)),
             SurveyWarning, where="support_needs", what="warning.needs.unknown_need")  # fmt: skip
    return table


_COMMUNE = "Toàn xã"


def needs_summary(tidy: pd.DataFrame, *, by: str | None = None) -> pd.DataFrame:
    """Households, gardens and garden area by need, per hamlet and for the commune.

    Parameters
    ----------
    tidy : pandas.DataFrame
        :func:`needs_table`'s output.
    by : {None, "survey_class", "flag"}
        Also cross with the survey class or the imagery verdict.

    Returns
    -------
    pandas.DataFrame
        ``hamlet`` (the commune's rows read "Toàn xã", last), [``by``], ``need``,
        ``households`` (distinct), ``gardens``, ``area_m2``; needs in the codebook's
        order, ``khac`` last.
    """
    keys = ["hamlet"] + ([by] if by else []) + ["need"]
    order = {c: i for i, c in enumerate(tidy.attrs.get("needs", []))}

    def count(frame, group):
        return (
            frame.groupby(group, dropna=False, sort=False)
            .agg(
                households=("household", "nunique"),
                gardens=("parcel_id", "nunique"),
                area_m2=("area_m2", "sum"),
            )  # fmt: skip
            .reset_index()
        )

    per_hamlet = count(tidy, keys)
    commune = count(tidy, keys[1:])
    commune.insert(0, "hamlet", _COMMUNE)
    out = pd.concat([per_hamlet, commune], ignore_index=True)
    out["_h"] = out["hamlet"].eq(_COMMUNE).astype(int)
    out["_n"] = out["need"].map(order).fillna(len(order))
    sort = ["_h", "hamlet"] + ([by] if by else []) + ["_n"]
    out = out.sort_values(sort, kind="stable").drop(columns=["_h", "_n"])
    out["area_m2"] = out["area_m2"].round(1)
    out["households"] = out["households"].astype(int)
    out["gardens"] = out["gardens"].astype(int)
    return out.reset_index(drop=True)


def needs_report_table(result, *, codebook=None, tidy=None) -> pd.DataFrame:
    """The report's sheet "Nhu cầu hỗ trợ": per hamlet (and the commune) and need.

    Columns (Vietnamese): Thôn, Nhu cầu hỗ trợ, Số hộ, Số thửa vườn, Diện tích vườn
    (m²), then the households by survey class ("Khảo sát: vườn tạp"...) and by imagery
    verdict ("Ảnh: hoang hóa"...), and "Ghi chú" (the free texts of "Khác").

    Parameters
    ----------
    result : str, os.PathLike, GeoDataFrame or DataFrame
        As for :func:`needs_table`.
    codebook : str or os.PathLike, optional
        A codebook with its own ``[[needs]]``.
    tidy : pandas.DataFrame, optional
        A :func:`needs_table` already computed.

    Returns
    -------
    pandas.DataFrame
    """
    from .palette import label
    from .registry import FLAGS, SURVEY_CLASSES

    tidy = needs_table(result, codebook=codebook) if tidy is None else tidy
    base = needs_summary(tidy)
    table = pd.DataFrame(
        {
            "Thôn": base["hamlet"],
            "Nhu cầu hỗ trợ": base["need"].map(lambda c: need_label(c, codebook=codebook)),
            "Số hộ": base["households"],
            "Số thửa vườn": base["gardens"],
            "Diện tích vườn (m²)": base["area_m2"],
        }
    )
    for by, keys, header in (
        ("survey_class", SURVEY_CLASSES, lambda k: "Khảo sát: " + label("survey_class", k).lower()),
        ("flag", FLAGS, lambda k: "Ảnh: " + label("flag", k).lower()),
    ):
        cross = needs_summary(tidy, by=by)
        wide = cross.pivot_table(index=["hamlet", "need"], columns=by, values="households",
                                 aggfunc="sum", fill_value=0)  # fmt: skip
        for key in keys:
            values = wide[key] if key in wide.columns else pd.Series(dtype=int)
            mapped = [int(values.get((h, n), 0)) for h, n in zip(base["hamlet"], base["need"])]
            table[f"{header(key)} (hộ)"] = mapped
    notes = []
    for h, n in zip(base["hamlet"], base["need"]):
        if n != OTHER:
            notes.append("")
            continue
        rows = tidy[(tidy["need"] == OTHER) & ((tidy["hamlet"] == h) | (h == _COMMUNE))]
        texts = pd.Series([t for v in rows["need_text"].dropna() for t in v.split("; ")])
        top = texts.value_counts().head(5)
        notes.append("; ".join(f"{t} ({c})" for t, c in top.items()))
    table["Ghi chú"] = notes
    return table
