"""QGIS styles from the palette: QML files, and styles embedded in a GeoPackage.

The styles are generated from :mod:`ntmgis.palette` (never hand-edited), so a QGIS user
sees the same colours and Vietnamese legend texts as the printed maps. No QGIS import:
QML is plain XML, and the GeoPackage ``layer_styles`` table is written with ``sqlite3``
following the convention QGIS uses (QGIS then applies the default style when the layer
is opened, with no further step).

Styles
------
- parcels by ``flag``, ``survey_class``, ``agreement`` (and ``land_use`` for raw cadastral
  layers): a categorized renderer on the expression of
  :meth:`ntmgis.palette.Theme.qgis_expression`, hatches for "no data" classes, and
  parcel numbers as labels shown only where they fit and at scales of 1:5,000 or larger;
- hamlets by progress ``status``, or as outlines, labelled with the hamlet name.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

from . import i18n
from . import palette as _palette

logger = logging.getLogger(__name__)

# what people read from this module, Vietnamese first (ntmgis.i18n's catalogue)
_MESSAGES = {
    "error.styles.layer_kind": (
        "Không có loại lớp '{layer}' để tạo kiểu hiển thị: hãy chọn parcels hoặc hamlets.",
        "Unknown layer kind '{layer}' for a style: use parcels or hamlets.",
    ),
    "error.styles.cannot_open": (
        "Không mở được '{path}' như một tệp GeoPackage ({detail}): hãy chọn tệp .gpkg kết quả.",
        "Cannot open '{path}' as a GeoPackage ({detail}): choose the result .gpkg file.",
    ),
    "error.styles.not_gpkg": (
        "'{path}' không phải là tệp GeoPackage (không có bảng gpkg_geometry_columns: "
        "{detail}). Kiểu hiển thị chỉ gắn được vào tệp GeoPackage.",
        "'{path}' is not a GeoPackage (no gpkg_geometry_columns table: {detail}). Styles "
        "can only be embedded in a GeoPackage.",
    ),
}
i18n.register_all(_MESSAGES)


def _msg(key: str, /, **fields) -> str:
    return i18n.message(key, **fields)


__all__ = [
    "qml",
    "write_qml",
    "write_styles",
    "embed_styles",
    "STYLE_FILES",
    "PARCEL_LABEL",
    "HAMLET_LABEL",
]

QGIS_VERSION = "3.22.16-Białowieża"
# labels work on the result GeoPackage (parcel_no, hamlet) and on raw cadastral layers
# (SHTHUA, ten_thon): attribute() gives NULL for a field the layer does not have
PARCEL_LABEL = "coalesce(attribute('parcel_no'), attribute('SHTHUA'))"
HAMLET_LABEL = "coalesce(attribute('hamlet'), attribute('ten_thon'))"
LABEL_MAX_SCALE = 5000  # parcel numbers from 1:5,000 on
# file name -> (layer kind, theme or None for outlines)
STYLE_FILES = {
    "parcels_flag.qml": ("parcels", "flag"),
    "parcels_survey_class.qml": ("parcels", "survey_class"),
    "parcels_agreement.qml": ("parcels", "agreement"),
    "parcels_land_use.qml": ("parcels", "land_use"),
    "hamlets_status.qml": ("hamlets", "status"),
    "hamlets_outline.qml": ("hamlets", None),
}
_HATCH_ANGLE = {"/": 45, "\\": 135, "-": 0}
_FONT = "DejaVu Sans"


def _rgba(hex_color: str, alpha: int = 255) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"{r},{g},{b},{alpha}"


def _props(layer: ET.Element, props: dict[str, str]) -> None:
    """Symbol-layer properties, both as QGIS 3.22 writes them (Option map) and as ``prop``."""
    option = ET.SubElement(layer, "Option", type="Map")
    for key, value in props.items():
        ET.SubElement(option, "Option", name=key, value=str(value), type="QString")
    for key, value in props.items():
        ET.SubElement(layer, "prop", k=key, v=str(value))


def _symbol(parent: ET.Element, name: str, kind: str) -> ET.Element:
    return ET.SubElement(
        parent, "symbol", name=name, type=kind, alpha="1", clip_to_extent="1", force_rhr="0"
    )


def _fill_symbol(
    parent: ET.Element,
    name: str,
    color: str,
    *,
    hatch: str | None = None,
    outline: str = _palette.EDGE,
    width: float = 0.15,
    no_fill: bool = False,
) -> None:
    symbol = _symbol(parent, name, "fill")
    simple = ET.SubElement(symbol, "layer", {"class": "SimpleFill"}, enabled="1", locked="0")
    simple.set("pass", "0")
    _props(
        simple,
        {
            "color": _rgba(color, 0 if no_fill else 255),
            "joinstyle": "bevel",
            "outline_color": _rgba(outline),
            "outline_style": "solid",
            "outline_width": f"{width:g}",
            "outline_width_unit": "MM",
            "style": "no" if no_fill else "solid",
        },
    )
    if hatch:
        pattern = ET.SubElement(symbol, "layer", {"class": "LinePatternFill"}, enabled="1")
        pattern.set("locked", "0")
        pattern.set("pass", "0")
        _props(
            pattern,
            {
                "angle": str(_HATCH_ANGLE[hatch]),
                "color": _rgba("#444444"),
                "distance": "1.2",
                "distance_unit": "MM",
                "line_width": "0.2",
                "line_width_unit": "MM",
                "offset": "0",
                "offset_unit": "MM",
            },
        )
        line = _symbol(pattern, f"@{name}@1", "line")
        simple_line = ET.SubElement(line, "layer", {"class": "SimpleLine"}, enabled="1")
        simple_line.set("locked", "0")
        simple_line.set("pass", "0")
        _props(
            simple_line,
            {
                "capstyle": "square",
                "joinstyle": "bevel",
                "line_color": _rgba("#444444"),
                "line_style": "solid",
                "line_width": "0.2",
                "line_width_unit": "MM",
            },
        )


def _labeling(root: ET.Element, expression: str, *, size: float, bold: bool, max_scale=None):
    labeling = ET.SubElement(root, "labeling", type="simple")
    settings = ET.SubElement(labeling, "settings", calloutType="simple")
    style = ET.SubElement(
        settings,
        "text-style",
        fieldName=expression,
        isExpression="1",
        fontFamily=_FONT,
        fontSize=f"{size:g}",
        fontSizeUnit="Point",
        fontWeight="75" if bold else "50",
        textColor="0,0,0,255",
        textOpacity="1",
        multilineHeight="1",
        capitalization="0",
        allowHtml="0",
        fontItalic="0",
        fontUnderline="0",
        fontStrikeout="0",
    )
    ET.SubElement(
        style,
        "text-buffer",
        bufferDraw="1",
        bufferSize="0.6" if not bold else "1",
        bufferSizeUnits="MM",
        bufferColor="255,255,255,255",
        bufferOpacity="0.9",
        bufferNoFill="1",
        bufferJoinStyle="128",
    )
    # OverPoint at the polygon's pole of inaccessibility, only where the label fits inside
    ET.SubElement(
        settings,
        "placement",
        placement="1",
        centroidInside="1",
        centroidWhole="0",
        fitInPolygonOnly="0" if bold else "1",
        polygonPlacementFlags="2",
        priority="5" if not bold else "9",
        dist="0",
        offsetType="0",
    )
    rendering = {
        "drawLabels": "1",
        "obstacle": "1",
        "obstacleFactor": "1",
        "obstacleType": "1",
        "displayAll": "1" if bold else "0",
        "upsidedownLabels": "0",
        "labelPerPart": "0",
        "mergeLines": "0",
        "minFeatureSize": "0",
        "limitNumLabels": "0",
        "maxNumLabels": "2000",
        "zIndex": "1" if bold else "0",
        "scaleVisibility": "1" if max_scale else "0",
        "scaleMin": "1",
        "scaleMax": str(max_scale or 0),
    }
    ET.SubElement(settings, "rendering", rendering)


def qml(theme: str | None, *, layer: str = "parcels") -> str:
    """The QML text of a style.

    Parameters
    ----------
    theme : str or None
        Palette theme (``flag``, ``survey_class``, ``agreement``, ``land_use`` for
        parcels; ``status`` for hamlets); None for hamlet outlines.
    layer : {"parcels", "hamlets"}
        Which layer the style is for (sets the labels).

    Returns
    -------
    str
        A QGIS 3.22+ style document (symbology and labels).

    Raises
    ------
    ntmgis.errors.InputError
        For an unknown theme or layer kind.
    """
    from .errors import InputError

    if layer not in ("parcels", "hamlets"):
        raise InputError(_msg("error.styles.layer_kind", layer=layer))
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="Symbology|Labeling|Fields|Forms",
        labelsEnabled="1",
    )
    if theme is None:
        renderer = ET.SubElement(root, "renderer-v2", type="singleSymbol", forceraster="0")
        renderer.set("symbollevels", "0")
        renderer.set("enableorderby", "0")
        symbols = ET.SubElement(renderer, "symbols")
        _fill_symbol(symbols, "0", "#FFFFFF", outline=_palette.BOUNDARY, width=0.6, no_fill=True)
    else:
        spec = _palette.get_theme(theme)
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            type="categorizedSymbol",
            attr=_portable_expression(spec),
            forceraster="0",
            symbollevels="0",
            enableorderby="0",
        )
        categories = ET.SubElement(renderer, "categories")
        symbols = ET.SubElement(renderer, "symbols")
        for i, category in enumerate(spec.categories):
            ET.SubElement(
                categories,
                "category",
                value=category.key,
                label=category.label_vi,
                symbol=str(i),
                render="true",
            )
            if layer == "hamlets":
                _fill_symbol(
                    symbols,
                    str(i),
                    category.color,
                    hatch=category.hatch,
                    outline=_palette.BOUNDARY,
                    width=0.6,
                )
            else:
                _fill_symbol(symbols, str(i), category.color, hatch=category.hatch)
        ET.SubElement(renderer, "rotation")
        ET.SubElement(renderer, "sizescale")
    if layer == "parcels":
        _labeling(root, PARCEL_LABEL, size=7, bold=False, max_scale=LABEL_MAX_SCALE)
    else:
        _labeling(root, HAMLET_LABEL, size=10, bold=True)
    _value_maps(root, layer)
    ET.SubElement(root, "blendMode").text = "0"
    ET.SubElement(root, "featureBlendMode").text = "0"
    ET.SubElement(root, "layerOpacity").text = "1"
    ET.SubElement(root, "layerGeometryType").text = "2"
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


#: columns shown through their labels (value maps) in the attribute table and forms
VALUE_MAP_THEMES = {"parcels": ("flag", "survey_class", "agreement"), "hamlets": ("status",)}


def _value_maps(root: ET.Element, layer: str) -> None:
    """Value-map widgets: QGIS shows "Vườn hoang hóa", not ``hoang_hoa`` (also in QField)."""
    config = ET.SubElement(root, "fieldConfiguration")
    for theme in VALUE_MAP_THEMES.get(layer, ()):
        spec = _palette.get_theme(theme)
        field = ET.SubElement(config, "field", name=spec.field, configurationFlags="None")
        widget = ET.SubElement(field, "editWidget", type="ValueMap")
        options = ET.SubElement(ET.SubElement(widget, "config"), "Option", type="Map")
        entries = ET.SubElement(options, "Option", name="map", type="List")
        for category in spec.categories:
            entry = ET.SubElement(entries, "Option", type="Map")
            ET.SubElement(
                entry, "Option", name=category.label_vi, type="QString", value=category.key
            )


def _portable_expression(spec) -> str:
    """The theme's expression, reading columns that may be absent through attribute()."""
    expression = spec.qgis_expression()
    if spec.name == "land_use":
        value = "coalesce(attribute('land_use'), attribute('KHLOAIDAT'))"
        return expression.replace(f'"{spec.field}"', value)
    return expression.replace('"is_garden"', "attribute('is_garden')")


def write_qml(theme: str | None, path: str | os.PathLike, *, layer: str = "parcels") -> Path:
    """Write one style as a ``.qml`` file.

    Parameters
    ----------
    theme : str or None
        See :func:`qml`.
    path : str or os.PathLike
        Target file.
    layer : {"parcels", "hamlets"}
        Which layer the style is for.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from ._io import atomic_path

    path = Path(path)
    with atomic_path(path, what="QGIS style") as tmp:
        tmp.write_text(qml(theme, layer=layer), encoding="utf-8")
    return path


def write_styles(folder: str | os.PathLike) -> list[Path]:
    """Write every style of :data:`STYLE_FILES` into ``folder`` (the repo's ``styles/``).

    Parameters
    ----------
    folder : str or os.PathLike
        Target folder, created when missing.

    Returns
    -------
    list of pathlib.Path
        The written files, in :data:`STYLE_FILES` order.
    """
    folder = Path(folder)
    return [
        write_qml(theme, folder / name, layer=kind) for name, (kind, theme) in STYLE_FILES.items()
    ]


_CREATE = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    f_table_catalog TEXT(256),
    f_table_schema TEXT(256),
    f_table_name TEXT(256),
    f_geometry_column TEXT(256),
    styleName TEXT(30),
    styleQML TEXT,
    styleSLD TEXT,
    useAsDefault BOOLEAN,
    description TEXT,
    owner TEXT(30),
    ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


def embed_styles(
    gpkg_path: str | os.PathLike,
    *,
    parcels: str = "parcels",
    hamlets: str = "hamlets",
    default: str = "flag",
) -> list[tuple[str, str, bool]]:
    """Embed the palette's QGIS styles in a GeoPackage's ``layer_styles`` table.

    Parcels get one style per theme whose column they have (``flag``, ``survey_class``,
    ``agreement``; ``land_use`` for raw cadastral parcels), ``default`` being applied when
    QGIS opens the layer; hamlets get the progress ``status`` style when they have that
    column, outlines otherwise. Earlier ntmgis styles of the same names are replaced, so
    the call can be repeated.

    Parameters
    ----------
    gpkg_path : str or os.PathLike
        The GeoPackage, modified in place (in one SQLite transaction).
    parcels, hamlets : str
        Layer names; a layer the file does not have is skipped.
    default : str
        Theme of the default parcel style (when its column exists).

    Returns
    -------
    list of tuple
        ``(layer, style name, is default)`` for every style written.

    Raises
    ------
    ntmgis.errors.DataNotFoundError
        When the file does not exist.
    ntmgis.errors.InputError
        When it is not a GeoPackage.
    """
    from ._io import as_path
    from .errors import InputError

    path = as_path(gpkg_path, what="GeoPackage")
    default = _palette.get_theme(default).name
    written: list[tuple[str, str, bool]] = []
    try:
        con = sqlite3.connect(path)
    except sqlite3.Error as exc:  # pragma: no cover - sqlite opens almost anything
        raise InputError(_msg("error.styles.cannot_open", path=path, detail=exc)) from exc
    try:
        try:
            geometry_columns = dict(
                con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")
            )
        except sqlite3.DatabaseError as exc:
            raise InputError(_msg("error.styles.not_gpkg", path=path, detail=exc)) from exc
        plan: list[tuple[str, str, str, bool]] = []  # layer, style name, qml, default
        if parcels in geometry_columns:
            columns = {row[1] for row in con.execute(f'PRAGMA table_info("{parcels}")')}
            themes = [t for t in ("flag", "survey_class", "agreement") if t in columns]
            if not themes and ({"KHLOAIDAT", "land_use"} & columns):
                themes = ["land_use"]
            chosen = default if default in themes else (themes[0] if themes else None)
            for theme in themes:
                name = f"ntmgis – {_palette.get_theme(theme).title()}"
                plan.append((parcels, name, qml(theme, layer="parcels"), theme == chosen))
        if hamlets in geometry_columns:
            columns = {row[1] for row in con.execute(f'PRAGMA table_info("{hamlets}")')}
            if "status" in columns:
                name = f"ntmgis – {_palette.get_theme('status').title()}"
                plan.append((hamlets, name, qml("status", layer="hamlets"), True))
            else:
                plan.append((hamlets, "ntmgis – Ranh giới thôn", qml(None, layer="hamlets"), True))
        with con:
            con.execute(_CREATE)
            exists = con.execute(
                "SELECT 1 FROM gpkg_contents WHERE table_name = 'layer_styles'"
            ).fetchone()
            if not exists:
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, "
                    "last_change) VALUES ('layer_styles', 'attributes', 'layer_styles', "
                    "'QGIS layer styles', strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
                )
            for layer, name, text, is_default in plan:
                con.execute(
                    "DELETE FROM layer_styles WHERE f_table_name = ? AND styleName = ?",
                    (layer, name),
                )
                if is_default:
                    con.execute(
                        "UPDATE layer_styles SET useAsDefault = 0 WHERE f_table_name = ?",
                        (layer,),
                    )
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                    "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, "
                    "description, owner, ui) VALUES ('', '', ?, ?, ?, ?, '', ?, ?, '', '')",
                    (
                        layer,
                        geometry_columns[layer],
                        name,
                        text,
                        1 if is_default else 0,
                        "Generated by ntmgis from ntmgis.palette",
                    ),
                )
                written.append((layer, name, is_default))
    finally:
        con.close()
    return written
