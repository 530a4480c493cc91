"""Print the hamlet atlas through QGIS (layout template ``hamlet_a3.qpt``, one page a hamlet)."""

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
)

from .base import Cancelled, NtmgisAlgorithm


class PrintAtlas(NtmgisAlgorithm):
    NAME = "print_atlas"
    DISPLAY = "Print hamlet atlas through QGIS (A3)"
    GROUP = "printing"
    HELP = (
        "Prints one A3 page per hamlet with QGIS's layout engine from the template "
        "hamlet_a3.qpt: the hamlet's parcels in the run's style, legend, scale bar, north "
        "arrow, title, the table of households to visit and a signature block. Edit the "
        "template in QGIS's layout designer to change the page."
    )

    def flags(self):
        # layouts render in the main thread
        return super().flags() | QgsProcessingAlgorithm.Flag.FlagNoThreading

    def initAlgorithm(self, config=None):  # noqa: N802 - QGIS API name
        self.add_result()
        self.add_file(
            "TEMPLATE", "Layout template (empty: hamlet_a3.qpt)", "QGIS layout templates (*.qpt)"
        )
        self.add_file_destination("OUTPUT", "Atlas PDF", "PDF (*.pdf)")
        self.add(QgsProcessingOutputNumber("PAGES", self.tr("Pages")))

    def process(self, parameters, context, feedback):
        from ..atlas import AtlasError, print_atlas

        result = self.parameterAsFile(parameters, "RESULT", context)
        template = self.optional_file(parameters, "TEMPLATE", context)
        output = self.parameterAsFileOutput(parameters, "OUTPUT", context)
        try:
            pages = print_atlas(result, output, template=template, feedback=feedback)
        except AtlasError as exc:
            if feedback is not None and feedback.isCanceled():
                raise Cancelled(str(exc)) from exc  # a cancellation, not a failure
            raise QgsProcessingException(str(exc)) from exc
        feedback.pushInfo(self.tr("{0} pages written to {1}").format(pages, output))
        return {"OUTPUT": output, "PAGES": pages}
