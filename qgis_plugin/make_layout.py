"""Write ``styles/layouts/hamlet_a3.qpt``: the A3 atlas page over hamlets.

Run in the QGIS venv: ``QT_QPA_PLATFORM=offscreen .venv-qgis/bin/python
qgis_plugin/make_layout.py``. The template holds the page and its items (ids ``map``,
``legend``, ``scalebar``, ``north_arrow``, ``title``, ``subtitle``, ``visits_title``,
``signature`` and the households-to-visit table); ``ntmgis_qgis.atlas`` binds them to
the layers of a flag run at print time. Edit the result in QGIS's layout designer if you
like, keeping the item ids.
"""

import sys
from pathlib import Path

from qgis.core import (
    QgsApplication,
    QgsLayoutFrame,
    QgsLayoutItemAttributeTable,
    QgsLayoutItemLabel,
    QgsLayoutItemLegend,
    QgsLayoutItemMap,
    QgsLayoutItemPage,
    QgsLayoutItemPicture,
    QgsLayoutItemScaleBar,
    QgsLayoutPoint,
    QgsLayoutSize,
    QgsLayoutTableColumn,
    QgsPrintLayout,
    QgsProject,
    QgsReadWriteContext,
    QgsRectangle,
    QgsScaleBarSettings,
    QgsTextFormat,
    QgsUnitTypes,
)
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QFont

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "styles" / "layouts" / "hamlet_a3.qpt"
FONT = "DejaVu Sans"
MM = QgsUnitTypes.LayoutUnit.LayoutMillimeters
# (field, heading) of the households-to-visit table
VISIT_COLUMNS = [
    ("sheet", "Tờ", 6),
    ("parcel_no", "Thửa", 8),
    ("owner", "Chủ sử dụng", 24),
    ("household", "Mã hộ", 13),
    ("flag_reasons", "Lý do cần kiểm tra", 60),
]
SIGNATURE = (
    "Ngày ..... tháng ..... năm .....\n\n"
    "NGƯỜI LẬP BẢN ĐỒ          TRƯỞNG THÔN          TM. UBND XÃ\n"
    "(Ký, ghi rõ họ tên)          (Ký, ghi rõ họ tên)          (Ký tên, đóng dấu)"
)


def _text_format(size, bold=False):
    text_format = QgsTextFormat()
    font = QFont(FONT, size)
    font.setBold(bold)
    text_format.setFont(font)
    text_format.setSize(size)
    text_format.setSizeUnit(QgsUnitTypes.RenderUnit.RenderPoints)
    return text_format


def _place(item, x, y, w, h):
    item.attemptMove(QgsLayoutPoint(x, y, MM))
    item.attemptResize(QgsLayoutSize(w, h, MM))


def _label(layout, item_id, text, x, y, w, h, size, bold=False, align=Qt.AlignmentFlag.AlignLeft):
    label = QgsLayoutItemLabel(layout)
    label.setId(item_id)  # noqa: QGS202 - a layout item's id
    label.setText(text)
    font = QFont(FONT, size)
    font.setBold(bold)
    label.setFont(font)
    label.setHAlign(align)
    layout.addLayoutItem(label)
    _place(label, x, y, w, h)
    return label


def build(project):
    """The layout of the template (A3 landscape, 420 x 297 mm)."""
    layout = QgsPrintLayout(project)
    layout.initializeDefaults()
    layout.setName("ntmgis – Bản đồ thôn A3")
    layout.pageCollection().page(0).setPageSize("A3", QgsLayoutItemPage.Orientation.Landscape)
    _label(
        layout, "title",
        "BẢN ĐỒ HIỆN TRẠNG VƯỜN HỘ – [% upper(\"hamlet\") %]",
        10, 7, 400, 11, 20, bold=True, align=Qt.AlignmentFlag.AlignHCenter,
    )  # fmt: skip
    _label(
        layout, "subtitle",
        "Phân loại theo ảnh vệ tinh Sentinel-2 và khảo sát vườn hộ (ntmgis) · "
        "Trang [% @atlas_featurenumber %]/[% @atlas_totalfeatures %]",
        10, 18, 400, 6, 10, align=Qt.AlignmentFlag.AlignHCenter,
    )  # fmt: skip
    map_item = QgsLayoutItemMap(layout)
    map_item.setId("map")  # noqa: QGS202 - a layout item's id
    layout.addLayoutItem(map_item)
    # GUIDE pitfall: setExtent, then attemptResize, then the extent holds
    # the extent has the frame's shape (272 x 262 mm): setExtent keeps the frame inside the page
    map_item.setExtent(QgsRectangle(0, 0, 2720, 2620))
    _place(map_item, 10, 27, 272, 262)
    map_item.setExtent(QgsRectangle(0, 0, 2720, 2620))
    map_item.setFrameEnabled(True)
    map_item.setAtlasDriven(True)
    map_item.setAtlasScalingMode(QgsLayoutItemMap.AtlasScalingMode.Auto)
    map_item.setAtlasMargin(0.08)

    arrow = QgsLayoutItemPicture(layout)
    arrow.setId("north_arrow")  # noqa: QGS202 - a layout item's id
    arrow.setPicturePath(":/images/north_arrows/layout_default_north_arrow.svg")
    layout.addLayoutItem(arrow)
    _place(arrow, 264, 30, 15, 20)
    arrow.setLinkedMap(map_item)

    bar = QgsLayoutItemScaleBar(layout)
    bar.setId("scalebar")  # noqa: QGS202 - a layout item's id
    bar.setStyle("Single Box")
    layout.addLayoutItem(bar)
    bar.setLinkedMap(map_item)
    bar.setUnits(QgsUnitTypes.DistanceUnit.DistanceMeters)
    bar.setUnitLabel("m")
    bar.setNumberOfSegments(4)
    bar.setNumberOfSegmentsLeft(0)
    bar.setUnitsPerSegment(50)
    bar.setSegmentSizeMode(QgsScaleBarSettings.SegmentSizeMode.SegmentSizeFitWidth)
    bar.setMinimumBarWidth(40)
    bar.setMaximumBarWidth(80)
    bar.setTextFormat(_text_format(8))
    bar.setBackgroundEnabled(True)
    _place(bar, 14, 274, 80, 12)

    legend = QgsLayoutItemLegend(layout)
    legend.setId("legend")  # noqa: QGS202 - a layout item's id
    legend.setTitle("Chú giải")
    legend.setLinkedMap(map_item)
    layout.addLayoutItem(legend)
    _place(legend, 288, 27, 124, 80)
    legend.setResizeToContents(True)

    _label(layout, "visits_title", "HỘ CẦN KIỂM TRA THỰC ĐỊA", 288, 112, 124, 7, 11, bold=True)
    table = QgsLayoutItemAttributeTable.create(layout)
    columns = []
    for field, heading, width in VISIT_COLUMNS:
        column = QgsLayoutTableColumn(heading)
        column.setAttribute(field)
        column.setWidth(width)
        columns.append(column)
    table.setColumns(columns)
    table.setMaximumNumberOfFeatures(30)
    table.setCellMargin(0.8)
    table.setHeaderTextFormat(_text_format(7, bold=True))
    table.setContentTextFormat(_text_format(7))
    table.setWrapBehavior(QgsLayoutItemAttributeTable.WrapBehavior.WrapText)
    table.setEmptyTableBehavior(QgsLayoutItemAttributeTable.EmptyTableMode.ShowMessage)
    table.setEmptyTableMessage("Không có hộ cần kiểm tra.")
    layout.addMultiFrame(table)
    frame = QgsLayoutFrame(layout, table)
    frame.setId("visits")  # noqa: QGS202 - a layout item's id
    _place(frame, 288, 120, 124, 122)
    table.addFrame(frame)

    _label(
        layout, "signature", SIGNATURE, 288, 248, 124, 40, 8,
        align=Qt.AlignmentFlag.AlignHCenter,
    )  # fmt: skip
    return layout


def main(out=OUT):
    """Write the template to ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    layout = build(QgsProject.instance())
    if not layout.saveAsTemplate(str(out), QgsReadWriteContext()):
        raise SystemExit(f"could not write {out}")
    print(f"wrote {out}")
    return out


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    main(sys.argv[1] if len(sys.argv) > 1 else OUT)
