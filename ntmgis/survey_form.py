"""The Step 2 survey form: a printable XLSX per hamlet and a QField project for phones.

Step 2 of the plan surveys every household's garden, hamlet by hamlet. :func:`write_survey_forms`
writes, for each hamlet, a workbook pre-filled with its garden parcels (số tờ, số thửa,
chủ hộ, diện tích, loại đất) and empty columns for the garden class, the needs and the
date, with drop-down lists from the codebook (the classes, the needs), Vietnamese
headers, A4 landscape print setup and a signature block (người khảo sát, trưởng thôn) on
every printed page; and a QField project (a GeoPackage with the layers ``parcels`` and
``survey``, whose fields use value maps from the codebook, plus a ``.qgz``) so the
survey can be done on a phone in QGIS's field app. The project XML is written here: the
library never imports QGIS.

:func:`ntmgis.read_survey` reads both back with no option: a filled workbook is a survey
sheet like any other (the form's headers are the survey's), and a GeoPackage with a
``survey`` layer is read through :func:`qfield_survey_table`. :func:`check_returned_form`
compares a returned form with the parcels it was made from: rows added, parcels
renumbered (the form keeps each row's original parcel in "Mã thửa (không sửa)") or
removed are reported, and the join is by key as always.
"""

from __future__ import annotations

import datetime as _dt
import logging
import re
import uuid
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pandas as pd

from ._io import atomic_path
from ._progress import ProgressCallback, report
from .errors import InputError, SurveyWarning, warn
from .i18n import CATALOGUE, register_all
from .i18n import message as _say
from .qfield import FORM_ID, SURVEY_LAYER, form_differences, qfield_survey_table
from .text import fold

__all__ = [
    "FORM_COLUMNS",
    "SURVEY_LAYER",
    "form_table",
    "write_survey_forms",
    "write_qfield_project",
    "qfield_survey_table",
    "check_returned_form",
]

logger = logging.getLogger(__name__)

# The survey form's user-facing sentences (ntmgis.i18n catalogue): key -> (vi, en).
_MESSAGES = {
    "error.survey_form.no_hamlet_gardens": (
        "Không có thửa vườn nào ở thôn {missing}: kiểm tra lại cách viết tên thôn (các thôn "
        "có trong dữ liệu: {known}).",
        "No garden parcel in hamlet(s) {missing}: check the spelling (hamlets there: {known}).",
    ),
    "error.survey_form.no_gardens": (
        "Không có thửa vườn nào (ONT+CLN, CLN...) trong lớp thửa đất: không có gì để khảo "
        "sát. Kiểm tra cột loại đất (KHLOAIDAT) của tệp thửa đất.",
        "No garden parcel (ONT+CLN, CLN...) in the parcels: nothing to survey. Check the "
        "parcels' land-use column (KHLOAIDAT).",
    ),
    "warning.survey_form.returned_differs": (
        "Phiếu khảo sát gửi về khác với thửa đất: {counts} ({examples}).",
        "The returned survey form differs from the parcels: {counts} ({examples}).",
    ),
    "survey_form.kind.added": ("dòng thêm", "added"),
    "survey_form.kind.renumbered": ("đánh số lại", "renumbered"),
    "survey_form.kind.unknown_parcel": ("thửa không có", "unknown_parcel"),
    "survey_form.kind.not_returned": ("không gửi về", "not_returned"),
}
register_all(_MESSAGES)

# the form's headers: the survey's own (ntmgis.survey.SURVEY_FIELDS reads them back)
FORM_COLUMNS = [
    "STT", "Mã hộ", "Họ và tên chủ hộ", "Thôn", "Số tờ", "Số thửa", "Diện tích thửa (m²)",
    "Loại đất", "Phân loại vườn", "Nhu cầu hỗ trợ", "Ngày khảo sát", "Ghi chú", FORM_ID,
]  # fmt: skip
_FILL = ("Phân loại vườn", "Nhu cầu hỗ trợ", "Ngày khảo sát", "Ghi chú")
_LISTS = "Danh mục"


def _kind_label(kind: str) -> str:
    """A kind of difference of a returned form, in the language in force."""
    key = f"survey_form.kind.{kind}"
    return _say(key) if key in CATALOGUE else kind


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", fold(name)).strip("_") or "khong_ten"


def _gardens(parcels, hamlets=None):
    """The garden parcels of the chosen hamlets (parcels read when a path is given)."""
    from .parcels import is_garden_land_use, read_parcels
    from .places import hamlet_key, is_hamlet_kind

    if not hasattr(parcels, "geometry") or "parcel_id" not in parcels:
        parcels = read_parcels(parcels)
    keep = parcels["land_use"].map(is_garden_land_use).fillna(False).astype(bool)
    if "place_kind" in parcels:
        keep &= parcels["place_kind"].map(is_hamlet_kind).astype(bool)
    gardens = parcels[keep].copy()
    if hamlets:
        wanted = {hamlet_key(h): h for h in ([hamlets] if isinstance(hamlets, str) else hamlets)}
        found = gardens["hamlet"].map(hamlet_key)
        missing = [h for k, h in wanted.items() if k not in set(found)]
        if missing:
            known = ", ".join(map(str, gardens["hamlet"].dropna().unique()))
            raise InputError(
                _say("error.survey_form.no_hamlet_gardens", missing=", ".join(missing), known=known)
            )
        gardens = gardens[found.isin(wanted)]
    if not len(gardens):
        raise InputError(_say("error.survey_form.no_gardens"))
    return gardens


def form_table(gardens: pd.DataFrame) -> pd.DataFrame:
    """The form's rows for some garden parcels: pre-filled keys, empty survey columns.

    Parameters
    ----------
    gardens : pandas.DataFrame
        Parcels as :func:`ntmgis.read_parcels` gives them.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FORM_COLUMNS`, sorted by sheet and parcel number.
    """
    g = pd.DataFrame(gardens).drop(columns="geometry", errors="ignore")
    g = g.assign(_s=pd.to_numeric(g["sheet"], errors="coerce"),
                 _p=pd.to_numeric(g["parcel_no"], errors="coerce"))  # fmt: skip
    g = g.sort_values(["_s", "_p", "parcel_id"], kind="stable")
    n = len(g)
    return pd.DataFrame(
        {
            "STT": range(1, n + 1),
            "Mã hộ": g["household_id"].values,
            "Họ và tên chủ hộ": g["owner"].values,
            "Thôn": g["hamlet"].values,
            "Số tờ": g["sheet"].values,
            "Số thửa": g["parcel_no"].values,
            "Diện tích thửa (m²)": g["area_m2"].values,
            "Loại đất": g["land_use"].values,
            **{c: [None] * n for c in _FILL},
            FORM_ID: g["parcel_id"].values,
        }
    )


def _form_finish(codebook, needs, hamlet: str, n_rows: int):
    """The openpyxl touches of one form: lists, validation, widths, signature footer."""

    def finish(book):
        from openpyxl.styles import Font
        from openpyxl.worksheet.datavalidation import DataValidation

        sheet = book.worksheets[0]
        sheet["A1"].value = f"PHIẾU KHẢO SÁT, PHÂN LOẠI VƯỜN HỘ (BƯỚC 2) – {hamlet.upper()}"
        lists = book.create_sheet(_LISTS)
        lists["A1"], lists["B1"] = "Phân loại vườn", "Nhu cầu hỗ trợ"
        for i, label in enumerate(codebook.labels, start=2):
            lists.cell(row=i, column=1, value=label)
        for i, need in enumerate(needs, start=2):
            lists.cell(row=i, column=2, value=need.label)
        lists.sheet_state = "hidden"
        first, last = 4, 3 + max(n_rows, 1) + 30  # room for rows the surveyor adds
        col = {h: i for i, h in enumerate(FORM_COLUMNS, start=1)}

        def letter(header):
            from openpyxl.utils import get_column_letter

            return get_column_letter(col[header])

        classes = DataValidation(
            type="list", formula1=f"'{_LISTS}'!$A$2:$A${len(codebook.labels) + 1}",
            allow_blank=True, showErrorMessage=True, errorStyle="stop",
            errorTitle="Phân loại vườn", error="Chọn một loại vườn trong danh sách.",
            promptTitle="Phân loại vườn", prompt="Chọn trong danh sách", showInputMessage=True,
        )  # fmt: skip
        wants = DataValidation(
            type="list", formula1=f"'{_LISTS}'!$B$2:$B${len(needs) + 1}",
            allow_blank=True, showErrorMessage=True, errorStyle="information",
            errorTitle="Nhu cầu hỗ trợ",
            error="Không có trong danh sách: được ghi như nhu cầu khác.",
            promptTitle="Nhu cầu hỗ trợ",
            prompt="Chọn trong danh sách, hoặc ghi nhiều nhu cầu cách nhau bằng dấu phẩy",
            showInputMessage=True,
        )  # fmt: skip
        dates = DataValidation(
            type="date", operator="between", formula1="DATE(2000,1,1)",
            formula2="DATE(2100,12,31)", allow_blank=True, showErrorMessage=True,
            errorStyle="warning", errorTitle="Ngày khảo sát", error="Ghi ngày dạng ngày/tháng/năm.",
        )  # fmt: skip
        for validation, header in ((classes, "Phân loại vườn"), (wants, "Nhu cầu hỗ trợ"),
                                   (dates, "Ngày khảo sát")):  # fmt: skip
            validation.add(f"{letter(header)}{first}:{letter(header)}{last}")
            sheet.add_data_validation(validation)
        for row in range(first, last + 1):
            sheet[f"{letter('Ngày khảo sát')}{row}"].number_format = "dd/mm/yyyy"
        widths = {"Phân loại vườn": 22, "Nhu cầu hỗ trợ": 28, "Ngày khảo sát": 13,
                  "Ghi chú": 24, FORM_ID: 11}  # fmt: skip
        for header, width in widths.items():
            sheet.column_dimensions[letter(header)].width = width
        sheet.cell(row=3, column=col[FORM_ID]).font = Font(bold=True, color="808080")
        # the signature block, on every printed page (rows below the table would be read
        # back as survey rows)
        # (one line each: a line break is not portable in a footer); the signatures go in
        # the space the footer margin leaves below the names
        sheet.oddFooter.left.text = "NGƯỜI KHẢO SÁT (ký, ghi rõ họ tên)"
        sheet.oddFooter.center.text = "TRƯỞNG THÔN (ký, ghi rõ họ tên)"
        sheet.oddFooter.right.text = "Ngày ..... tháng ..... năm ........   Trang &P / &N"
        sheet.page_margins.bottom = 1.5
        sheet.page_margins.footer = 1.0

    return finish


def _write_form_workbook(table: pd.DataFrame, path, *, subtitle: str, finish) -> Path:
    """One form: title (row 1), subtitle (row 2), header (row 3), a row per parcel.

    Not the report's administrative layout (:func:`ntmgis.report.write_workbook`): the
    filled form is read back by the survey join, so nothing may stand below the table.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    from ._io import save_workbook, set_cell
    from .report import SHEETS, _number_format, _plain

    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    book = Workbook()
    sheet = book.active
    name, _, title = SHEETS["survey_form"]
    sheet.title = name
    set_cell(sheet.cell(row=1, column=1), title)
    sheet.cell(row=1, column=1).font = Font(bold=True, size=13)
    set_cell(sheet.cell(row=2, column=1), subtitle)  # holds the commune's name: user data
    sheet.cell(row=2, column=1).font = Font(italic=True)
    header_row = 3
    headers = [str(c) for c in table.columns]
    for j, header in enumerate(headers, start=1):
        cell = sheet.cell(row=header_row, column=j)
        set_cell(cell, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="D9EAD3")
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    values = [[_plain(v) for v in row] for row in table.itertuples(index=False, name=None)]
    for i, row in enumerate(values, start=header_row + 1):
        for j, value in enumerate(row, start=1):
            cell = sheet.cell(row=i, column=j)
            set_cell(cell, value)
            cell.border = border
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell.number_format = _number_format(headers[j - 1], value)
            elif isinstance(value, str):
                cell.alignment = Alignment(vertical="top", wrap_text=len(value) > 40)
    for j, header in enumerate(headers, start=1):
        column = [str(row[j - 1]) for row in values if row[j - 1] is not None]
        longest = max([max((len(w) for w in header.split()), default=4) + 2,
                       min(len(header), 14)] + [len(v) + 1 for v in column])  # fmt: skip
        sheet.column_dimensions[get_column_letter(j)].width = max(6, min(longest, 45))
    sheet.row_dimensions[header_row].height = 45
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=3)
    setup = sheet.page_setup
    setup.orientation = "landscape"
    setup.paperSize = sheet.PAPERSIZE_A4
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_margins.left = sheet.page_margins.right = 0.4
    sheet.page_margins.top = 0.5
    finish(book)
    return save_workbook(book, path)


def write_survey_forms(
    parcels,
    outdir,
    *,
    hamlets=None,
    codebook=None,
    commune: str | None = None,
    qfield: bool = True,
    progress: ProgressCallback | None = None,
) -> dict[str, Path]:
    """Write the Step 2 survey forms: one XLSX per hamlet and a QField project.

    Parameters
    ----------
    parcels : str, os.PathLike or GeoDataFrame
        The cadastral parcels (any format :func:`ntmgis.read_parcels` reads).
    outdir : str or os.PathLike
        Output folder (created when missing).
    hamlets : sequence of str, optional
        Only these hamlets (spellings matched); every hamlet by default. Places that are
        not hamlets (fields...) get no form.
    codebook : str or os.PathLike, optional
        The codebook TOML (classes and needs); the default one otherwise.
    commune : str, optional
        The commune's name for the forms' subtitle.
    qfield : bool, default True
        Also write ``qfield/khao_sat_vuon.gpkg`` and ``qfield/khao_sat_vuon.qgz``.
    progress : callable, optional
        ``progress(fraction, message)``; return ``False`` to cancel (files already
        written stay whole; none is half-written).

    Returns
    -------
    dict of str to pathlib.Path
        Hamlet name -> its workbook (``phieu_khao_sat_<hamlet>.xlsx``); ``"gpkg"`` and
        ``"qgz"`` -> the QField project's files.
    """
    from .needs import load_needs
    from .survey import Codebook

    book = Codebook.coerce(codebook)
    needs = load_needs(codebook if not isinstance(codebook, Codebook) else None)
    gardens = _gardens(parcels, hamlets)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    names = list(dict.fromkeys(gardens["hamlet"].fillna("(chưa xác định thôn)")))
    for i, hamlet in enumerate(names):
        report(progress, 0.8 * i / max(len(names), 1), f"form {hamlet}")
        mine = gardens[gardens["hamlet"].fillna("(chưa xác định thôn)") == hamlet]
        table = form_table(mine)
        subtitle = " – ".join(x for x in (commune, hamlet) if x)
        subtitle += f" – {len(table)} thửa vườn – lập ngày {_dt.date.today():%d/%m/%Y}"
        written[hamlet] = _write_form_workbook(
            table, out / f"phieu_khao_sat_{_slug(hamlet)}.xlsx",
            subtitle=subtitle, finish=_form_finish(book, needs, hamlet, len(table)),
        )  # fmt: skip
    if qfield:
        report(progress, 0.85, "QField project")
        written.update(write_qfield_project(gardens, out / "qfield", codebook=codebook,
                                            commune=commune))  # fmt: skip
    report(progress, 1.0, "done")
    return written


# --------------------------------------------------------------------------------------
# QField: GeoPackage + project XML
# --------------------------------------------------------------------------------------


# survey layer field -> (alias, kind); kinds: text, int, real, class, date, need
def _survey_fields(needs):
    fields = [
        ("parcel_id", "Mã thửa", "text"),
        ("sheet", "Số tờ", "int"),
        ("parcel_no", "Số thửa", "int"),
        ("household_id", "Mã hộ", "text"),
        ("owner", "Họ và tên chủ hộ", "text"),
        ("hamlet", "Thôn", "text"),
        ("area_m2", "Diện tích thửa (m²)", "real"),
        ("land_use", "Loại đất", "text"),
        ("garden_class", "Phân loại vườn", "class"),
    ]
    fields += [(f"nc_{n.code}", f"Cần: {n.label}", "need") for n in needs]
    fields += [
        ("nhu_cau_khac", "Nhu cầu khác", "text"),
        ("survey_date", "Ngày khảo sát", "date"),
        ("note", "Ghi chú", "text"),
    ]
    return fields


def _survey_layer(gardens, needs):
    import geopandas as gpd

    g = gardens
    data = {
        "parcel_id": g["parcel_id"].astype(str).values,
        "sheet": pd.to_numeric(g["sheet"], errors="coerce").astype("Int64").values,
        "parcel_no": pd.to_numeric(g["parcel_no"], errors="coerce").astype("Int64").values,
        "household_id": g["household_id"].values,
        "owner": g["owner"].values,
        "hamlet": g["hamlet"].values,
        "area_m2": pd.to_numeric(g["area_m2"], errors="coerce").values,
        "land_use": g["land_use"].values,
        "garden_class": pd.Series([None] * len(g), dtype=object).values,
    }
    for n in needs:
        data[f"nc_{n.code}"] = pd.array([0] * len(g), dtype="Int64")
    data["nhu_cau_khac"] = pd.Series([None] * len(g), dtype=object).values
    data["survey_date"] = pd.Series([None] * len(g), dtype=object).values
    data["note"] = pd.Series([None] * len(g), dtype=object).values
    layer = gpd.GeoDataFrame(data, geometry=g.geometry.values, crs=g.crs)
    for column in ("garden_class", "nhu_cau_khac", "survey_date", "note"):
        layer[column] = layer[column].astype("string")
    return layer


def _srs_xml(crs) -> str:
    if crs is None:
        return "<spatialrefsys><wkt></wkt></spatialrefsys>"
    auth = crs.to_authority()
    authid = f"{auth[0]}:{auth[1]}" if auth else ""
    return (
        f'<spatialrefsys nativeFormat="Wkt"><wkt>{escape(crs.to_wkt("WKT2_2019"))}</wkt>'
        f"<proj4></proj4><srsid>0</srsid><srid>"
        f"{auth[1] if auth else 0}</srid><authid>{escape(authid)}</authid>"
        f"<description>{escape(crs.name)}</description><projectionacronym></projectionacronym>"
        f"<ellipsoidacronym></ellipsoidacronym><geographicflag>"
        f"{'true' if crs.is_geographic else 'false'}</geographicflag></spatialrefsys>"
    )


def _option_map(entries: dict) -> str:
    """QGIS's <Option type="Map"> for simple string/bool values."""
    parts = []
    for name, value in entries.items():
        kind = "bool" if isinstance(value, bool) else "QString"
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        parts.append(f"<Option type={quoteattr(kind)} name={quoteattr(name)} "
                     f"value={quoteattr(text)}/>")  # fmt: skip
    return '<Option type="Map">' + "".join(parts) + "</Option>"


def _widget(kind: str, labels) -> str:
    if kind == "class":
        items = "".join(
            f'<Option type="Map"><Option type="QString" name={quoteattr(lbl)} '
            f"value={quoteattr(lbl)}/></Option>"
            for lbl in labels
        )
        config = f'<Option type="Map"><Option type="List" name="map">{items}</Option></Option>'
        return f'<editWidget type="ValueMap"><config>{config}</config></editWidget>'
    if kind == "need":
        config = _option_map({"CheckedState": "1", "UncheckedState": "0", "TextDisplayMethod": "0"})
        return f'<editWidget type="CheckBox"><config>{config}</config></editWidget>'
    if kind == "date":
        config = _option_map({"allow_null": True, "calendar_popup": True,
                              "display_format": "dd/MM/yyyy", "field_format": "yyyy-MM-dd",
                              "field_iso_format": False})  # fmt: skip
        return f'<editWidget type="DateTime"><config>{config}</config></editWidget>'
    config = _option_map({"IsMultiline": False, "UseHtml": False})
    return f'<editWidget type="TextEdit"><config>{config}</config></editWidget>'


def _maplayer(layer_id, name, source, crs, fields, labels, *, read_only: bool, geometry: str):
    field_xml = "".join(
        f'<field name={quoteattr(f)} configurationFlags="None">{_widget(kind, labels)}</field>'
        for f, _, kind in fields
    )
    aliases = "".join(
        f"<alias field={quoteattr(f)} index={quoteattr(str(i))} name={quoteattr(alias)}/>"
        for i, (f, alias, _) in enumerate(fields, start=1)  # fid is field 0
    )
    editable = "".join(
        f"<field name={quoteattr(f)} editable={quoteattr('0' if read_only or kind in ('int', 'real') or f in ('parcel_id', 'hamlet', 'land_use') else '1')}/>"  # noqa: E501
        for f, _, kind in fields
    )
    defaults = "".join(
        f'<default field={quoteattr(f)} expression="" applyOnUpdate="0"/>' for f, _, _ in fields
    )
    return (
        f'<maplayer type="vector" geometry={quoteattr(geometry)} wkbType="MultiPolygon" '
        f'readOnly="{int(read_only)}" hasScaleBasedVisibilityFlag="0" autoRefreshEnabled="0">'
        f"<id>{escape(layer_id)}</id><datasource>{escape(source)}</datasource>"
        f"<layername>{escape(name)}</layername><srs>{_srs_xml(crs)}</srs>"
        f'<provider encoding="UTF-8">ogr</provider>'
        f"<flags><Identifiable>1</Identifiable><Removable>1</Removable>"
        f"<Searchable>1</Searchable><Private>0</Private></flags>"
        f"<fieldConfiguration>{field_xml}</fieldConfiguration>"
        f"<aliases>{aliases}</aliases><defaults>{defaults}</defaults>"
        f"<editable>{editable}</editable>"
        f'<editform tolerant="1"></editform><editforminit/><editorlayout>generatedlayout'
        f"</editorlayout>"
        f"</maplayer>"
    )


def write_qfield_project(gardens, outdir, *, codebook=None, commune=None, stem="khao_sat_vuon"):
    """Write a QField survey project: a GeoPackage and a ``.qgz`` beside it.

    Parameters
    ----------
    gardens : GeoDataFrame
        Garden parcels (as :func:`ntmgis.read_parcels` gives them).
    outdir : str or os.PathLike
        Folder for ``<stem>.gpkg`` and ``<stem>.qgz`` (copy both to the phone).
    codebook : str or os.PathLike, optional
        The codebook (classes for the value map, needs for the check boxes).
    commune : str, optional
        The project's title.
    stem : str
        File name stem.

    Returns
    -------
    dict
        ``gpkg`` and ``qgz`` paths. The GeoPackage (version 1.2) holds ``parcels``
        (read-only in the project) and ``survey`` (one feature per garden: the keys, and
        the fields to fill: ``garden_class`` with a value map of the codebook's classes,
        one check box ``nc_<need>`` per need, ``nhu_cau_khac``, ``survey_date``,
        ``note``).
    """
    import pyogrio

    from .needs import load_needs
    from .survey import Codebook

    book = Codebook.coerce(codebook)
    needs = load_needs(codebook if not isinstance(codebook, Codebook) else None)
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    layer = _survey_layer(gardens, needs)
    parcels = gardens[["parcel_id", "sheet", "parcel_no", "household_id", "owner", "hamlet",
                       "area_m2", "land_use", "geometry"]].copy()  # fmt: skip
    gpkg = out / f"{stem}.gpkg"
    with atomic_path(gpkg) as tmp:
        for name, frame in (("parcels", parcels), (SURVEY_LAYER, layer)):
            pyogrio.write_dataframe(frame, tmp, layer=name, driver="GPKG", VERSION="1.2",
                                    promote_to_multi=True)  # fmt: skip
    fields = _survey_fields(needs)
    parcel_fields = fields[:8]
    title = f"Khảo sát vườn hộ – {commune}" if commune else "Khảo sát vườn hộ (bước 2)"
    crs = gardens.crs
    ids = {n: f"{n}_{uuid.uuid4().hex[:12]}" for n in ("parcels", SURVEY_LAYER)}
    names = {"parcels": "Thửa đất", SURVEY_LAYER: "Khảo sát vườn hộ"}
    layers_xml = "".join(
        _maplayer(ids[n], names[n], f"./{gpkg.name}|layername={n}", crs,
                  fields if n == SURVEY_LAYER else parcel_fields, book.labels,
                  read_only=n == "parcels", geometry="Polygon")
        for n in (SURVEY_LAYER, "parcels")
    )  # fmt: skip
    tree = "".join(
        f"<layer-tree-layer id={quoteattr(ids[n])} name={quoteattr(names[n])} "
        f'source={quoteattr(f"./{gpkg.name}|layername={n}")} providerKey="ogr" '
        f'checked="Qt::Checked" expanded="1"><customproperties/></layer-tree-layer>'
        for n in (SURVEY_LAYER, "parcels")
    )
    xml = (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        f'<qgis projectname={quoteattr(title)} version="3.22.16-Białowieża">'
        f'<homePath path=""/><title>{escape(title)}</title>'
        f"<projectCrs>{_srs_xml(crs)}</projectCrs>"
        f"<layer-tree-group><customproperties/>{tree}</layer-tree-group>"
        f"<projectlayers>{layers_xml}</projectlayers>"
        '<properties><Paths><Absolute type="bool">false</Absolute></Paths>'
        '<SpatialRefSys><ProjectionsEnabled type="int">1</ProjectionsEnabled></SpatialRefSys>'
        '<Digitizing><AvoidIntersectionsMode type="int">0</AvoidIntersectionsMode></Digitizing>'
        "</properties></qgis>\n"
    )
    qgz = out / f"{stem}.qgz"
    with atomic_path(qgz) as tmp:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(f"{stem}.qgs", xml.encode("utf-8"))
    return {"gpkg": gpkg, "qgz": qgz}


def check_returned_form(survey, parcels) -> pd.DataFrame:
    """Compare a returned survey form with the parcels: rows added, renumbered or removed.

    Parameters
    ----------
    survey : str, os.PathLike or DataFrame
        The filled form (XLSX, or the QField GeoPackage), or :func:`ntmgis.read_survey`'s
        table of it.
    parcels : str, os.PathLike or GeoDataFrame
        The parcels the form was made from.

    Returns
    -------
    pandas.DataFrame
        One row per difference: ``kind`` (``added``: a row the form did not have;
        ``renumbered``: số tờ/số thửa changed from the form's "Mã thửa (không sửa)";
        ``unknown_parcel``: an added row whose parcel is not in the parcels;
        ``not_returned``: a parcel of the form missing from the returned one),
        ``survey_row``, ``parcel_id`` (the form's), ``now`` (the key as returned),
        ``message``. Each difference is also warned about (SurveyWarning); the join itself
        (:func:`ntmgis.join_survey`) is by key, as for any survey.
    """
    from .parcels import read_parcels
    from .survey import read_survey

    table = survey if isinstance(survey, pd.DataFrame) and "survey_row" in survey else (
        read_survey(survey))  # fmt: skip
    if not hasattr(parcels, "geometry") or "parcel_id" not in parcels:
        parcels = read_parcels(parcels)
    out = pd.DataFrame(form_differences(table, parcels),
                       columns=["kind", "survey_row", "parcel_id", "now", "message"])  # fmt: skip
    if len(out):
        counts = out["kind"].value_counts().to_dict()
        said = ", ".join(f"{n} {_kind_label(k)}" for k, n in counts.items())
        examples = "; ".join(out["message"].head(3))
        warn(
            _say("warning.survey_form.returned_differs", counts=said, examples=examples),
            SurveyWarning,
            where=str(survey) if not isinstance(survey, pd.DataFrame) else "form",
            what="warning.survey_form.returned_differs",
        )
    return out
