"""Reading the QField survey layer back: what ``ntmgis survey-form`` wrote, filled on a phone.

:func:`ntmgis.read_survey` calls :func:`qfield_survey_table` for a GeoPackage (or a
``.qgz``): the layer ``survey`` becomes a table with the form's Vietnamese headers (the
checked needs and the free text joined into "Nhu cầu hỗ trợ"), read like any survey sheet.
:func:`form_differences` compares a returned form with the parcels (rows added, parcels
renumbered or missing); :func:`ntmgis.join_survey` reports them as join issues. The
writing side is :mod:`ntmgis.survey_form`.
"""

from __future__ import annotations

import logging
import re

import pandas as pd

from .errors import InputError
from .i18n import message as _say
from .i18n import register_all

__all__ = ["SURVEY_LAYER", "FORM_ID", "qfield_survey_table", "form_differences"]

logger = logging.getLogger(__name__)

# QField messages (ntmgis.i18n catalogue): key -> (vi, en).
_MESSAGES = {
    "error.qfield.no_gpkg": (
        "Không có tệp GeoPackage nào cạnh dự án QField '{path}': chép cả thư mục dự án từ "
        "điện thoại về.",
        "No GeoPackage beside the QField project '{path}': copy the whole project folder "
        "back from the phone.",
    ),
    "error.qfield.no_layer": (
        "'{path}' không có lớp '{layer}': đây có phải là GeoPackage của dự án QField do "
        "'ntmgis survey-form' tạo không? Các lớp có trong tệp: {layers}.",
        "'{path}' has no layer '{layer}': is it the QField project's GeoPackage written by "
        "'ntmgis survey-form'? Layers there: {layers}.",
    ),
    "error.qfield.nothing_filled": (
        "Khảo sát QField '{path}' chưa có thửa nào được điền (loại vườn, nhu cầu, ngày hay "
        "ghi chú): hãy đồng bộ các thay đổi từ điện thoại về trước.",
        "The QField survey '{path}' has no filled feature yet (no garden class, need, date "
        "or note): sync the phone's changes back first.",
    ),
}
register_all(_MESSAGES)

SURVEY_LAYER = "survey"
#: the form's column that keeps each row's original parcel (số tờ-số thửa)
FORM_ID = "Mã thửa (không sửa)"


def qfield_survey_table(source) -> pd.DataFrame:
    """The QField project's ``survey`` layer as a survey table (the form's headers).

    Parameters
    ----------
    source : str or os.PathLike
        The project's GeoPackage (or its ``.qgz``: the GeoPackage beside it is read).

    Returns
    -------
    pandas.DataFrame
        Headers as the XLSX form writes them (Số tờ, Số thửa, Mã hộ, Phân loại vườn,
        Nhu cầu hỗ trợ — the checked needs and the free text, comma-separated —,
        Ngày khảo sát...), one row per feature, for :func:`ntmgis.read_survey`. Only
        features where something was filled are kept (the others were not surveyed).
    """
    import pyogrio

    from ._io import as_path
    from .needs import load_needs

    path = as_path(source, what="QField survey")
    if path.suffix.lower() == ".qgz":
        hits = sorted(path.parent.glob(f"{path.stem}.gpkg")) or sorted(path.parent.glob("*.gpkg"))
        if not hits:
            raise InputError(_say("error.qfield.no_gpkg", path=path))
        path = hits[0]
    names = [n for n, _ in pyogrio.list_layers(path)]
    if SURVEY_LAYER not in names:
        raise InputError(
            _say("error.qfield.no_layer", path=path, layer=SURVEY_LAYER, layers=", ".join(names))
        )
    frame = pyogrio.read_dataframe(path, layer=SURVEY_LAYER, read_geometry=False)
    needs = load_needs()
    want = []
    for _, row in frame.iterrows():
        parts = [n.label for n in needs if str(row.get(f"nc_{n.code}", "")).strip() in
                 ("1", "1.0", "True", "true")]  # fmt: skip
        other = row.get("nhu_cau_khac")
        if isinstance(other, str) and other.strip():
            parts.append(other.strip())
        want.append(", ".join(parts) or None)
    filled = frame["garden_class"].notna() | pd.Series([w is not None for w in want])
    for column in ("survey_date", "note"):
        if column in frame:
            filled |= frame[column].notna() & frame[column].astype(str).str.strip().ne("")
    dates = frame.get("survey_date", pd.Series(None, index=frame.index))
    table = pd.DataFrame(
        {
            "STT": range(1, len(frame) + 1),
            "Mã hộ": frame["household_id"],
            "Họ và tên chủ hộ": frame["owner"],
            "Thôn": frame["hamlet"],
            "Số tờ": frame["sheet"],
            "Số thửa": frame["parcel_no"],
            "Phân loại vườn": frame["garden_class"],
            "Nhu cầu hỗ trợ": want,
            "Ngày khảo sát": [_date_text(v) for v in dates],
            "Ghi chú": frame.get("note"),
            FORM_ID: frame["parcel_id"],
        }
    )
    table = table[filled.to_numpy()].reset_index(drop=True)
    if not len(table):
        raise InputError(_say("error.qfield.nothing_filled", path=path))
    return table


def _date_text(value):
    """A date from the layer ("2020-04-15", a datetime) as the form writes it (dd/mm/yyyy)."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not value:
            return None
        m = re.match(r"^(\d{4})-(\d{2})-(\d{2})", value)
        return f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else value
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    return str(value)


def form_differences(survey: pd.DataFrame, parcels) -> list[dict]:
    """How a returned survey form differs from the parcels it was made from.

    Parameters
    ----------
    survey : pandas.DataFrame
        :func:`ntmgis.read_survey`'s table of the returned form (XLSX or QField layer).
        A survey without the form's column "Mã thửa (không sửa)" was not made by
        ``ntmgis survey-form``: no difference is reported.
    parcels : pandas.DataFrame
        The parcels (``parcel_id``, ``hamlet``, ``land_use``).

    Returns
    -------
    list of dict
        ``kind`` (``added``: a row the form did not have; ``unknown_parcel``: an added
        row whose parcel is not in the parcels; ``renumbered``: số tờ/số thửa changed
        from the form's original parcel; ``not_returned``: a garden of the form's hamlets
        missing from it), ``survey_row``, ``parcel_id`` (the form's), ``now`` (the key
        as returned), ``message``.
    """
    from .parcels import is_garden_land_use
    from .places import is_hamlet_kind
    from .text import clean_text, fold

    id_col = next((c for c in survey.columns if fold(c) == fold(FORM_ID)), None)
    if id_col is None or not len(survey):
        return []
    known = set(parcels["parcel_id"].astype(str))
    out = []
    seen = set()
    for _, r in survey.iterrows():
        sheet, number = r.get("sheet"), r.get("parcel_no")
        now = None if pd.isna(sheet) or pd.isna(number) else f"{int(sheet)}-{int(number)}"
        value = r.get(id_col)
        original = clean_text(str(value)) if isinstance(value, str) and value.strip() else None
        row = r.get("survey_row")
        if original:
            seen.add(original)
            if now == original:
                continue
            kind = "renumbered"
            text = (f"row {row}: parcel {original} written as {now} on the returned form; "
                    f"joined by the key written ({now})")  # fmt: skip
        elif now in known:
            kind, text = "added", f"row {row}: added to the form (parcel {now})"
        else:
            kind, text = "unknown_parcel", f"row {row}: added, parcel {now} is not in the parcels"
        out.append({"kind": kind, "survey_row": row, "parcel_id": original, "now": now,
                    "message": text})  # fmt: skip
    if seen:
        ids = parcels["parcel_id"].astype(str)
        garden = parcels["land_use"].map(is_garden_land_use).fillna(False).astype(bool)
        if "place_kind" in parcels:
            garden &= parcels["place_kind"].map(is_hamlet_kind).astype(bool)
        hamlets = set(parcels.loc[ids.isin(seen), "hamlet"].dropna())
        expected = set(ids[garden & parcels["hamlet"].isin(hamlets)])
        for pid in sorted(expected - seen):
            out.append({"kind": "not_returned", "survey_row": None, "parcel_id": pid,
                        "now": None, "message": f"parcel {pid} is missing from the returned "
                        "form"})  # fmt: skip
    return out
