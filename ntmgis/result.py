"""The result contract: one run's parcels, hamlets and metadata, one reader, one writer.

A run (:func:`ntmgis.pipeline.run`) produces a :class:`Result`; it is written once, as a
GeoPackage (:meth:`Result.write`, atomic, GeoPackage 1.2, QGIS styles embedded), and the
stages after the flags (hamlet progress, the report, the maps) take the in-memory
:class:`Result` instead of re-reading the file. Everything that reads a result back (a
baseline campaign, ``ntmgis progress``, ``ntmgis maps``) goes through
:meth:`Result.read` / :func:`as_result`, so every reader checks the same columns and
gives the same errors.

Layers of a result GeoPackage:

``parcels``
    every input parcel with its survey class, flag, reasons, agreement and features;
``hamlets``
    the hamlets with their counts, progress status and rank;
``survey_unmatched``
    the survey rows that joined no parcel, with the reason;
``run_metadata``
    ``key``/``value`` pairs: commune, year, dates, versions, calibration...
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .i18n import register_all

__all__ = ["Result", "as_result", "LAYERS"]

logger = logging.getLogger(__name__)

# what this module says to people, Vietnamese first (ntmgis.i18n's catalogue)
register_all(
    {
        "error.result.not_gpkg": (
            "Không đọc được {what} '{path}' như một GeoPackage ({detail}): hãy chọn tệp "
            "GeoPackage do lệnh 'ntmgis run' ghi ra.",
            "Cannot read the {what} '{path}' as a GeoPackage: {detail}. Give the GeoPackage "
            "that 'ntmgis run' wrote.",
        ),
        "error.result.no_parcels": (
            "{what} không có lớp thửa đất ('parcels'): hãy chọn kết quả có thửa đất.",
            "The {what} has no 'parcels': give a dict with 'parcels'.",
        ),
        "error.result.not_a_result": (
            "Không dùng được {kind} làm {what}: hãy chọn tệp GeoPackage kết quả, một bảng "
            "thửa đất hoặc một kết quả ntmgis.",
            "Cannot use {kind} as a {what}: give a result GeoPackage, a parcels table or an "
            "ntmgis.result.Result.",
        ),
    }
)


def _say(key: str, /, **fields) -> str:
    from .i18n import say

    return say(key, **fields)


LAYERS = ("parcels", "hamlets", "survey_unmatched", "run_metadata")
_COMMUNE_KEYS = ("commune", "ten_xa", "xa", "commune_name")


@dataclass
class Result:
    """One commune's result: what a run computed, in memory or read from its GeoPackage.

    Attributes
    ----------
    parcels : geopandas.GeoDataFrame or pandas.DataFrame
        Every parcel with ``hamlet``, ``survey_class``, ``flag``... (layer ``parcels``).
    hamlets : geopandas.GeoDataFrame, optional
        Layer ``hamlets``.
    metadata : dict
        The ``run_metadata`` pairs (values as written: strings once read back).
    unmatched : pandas.DataFrame, optional
        Layer ``survey_unmatched``.
    layers : dict of str to DataFrame
        Further layers written after the standard ones (e.g. a renovation plan).
    source : str
        Where it came from: a file path, or ``"(in memory)"``.
    """

    parcels: object
    hamlets: object = None
    metadata: dict = field(default_factory=dict)
    unmatched: object = None
    layers: dict = field(default_factory=dict)
    source: str = "(in memory)"

    @property
    def commune(self) -> str | None:
        """The commune's name from the metadata (``commune``, ``ten_xa``...), or None."""
        for key in _COMMUNE_KEYS:
            value = self.metadata.get(key)
            if value is not None and str(value).strip() and str(value) != "nan":
                return str(value)
        return None

    def metadata_table(self):
        """The ``run_metadata`` layer: one row per key, values as text."""
        import pandas as pd

        meta = self.metadata
        return pd.DataFrame({"key": list(meta), "value": [str(v) for v in meta.values()]})

    def to_layers(self) -> dict:
        """The layers to write, in order: name -> GeoDataFrame or DataFrame."""
        import pandas as pd

        out = {"parcels": self.parcels}
        if self.hamlets is not None:
            out["hamlets"] = self.hamlets
        if self.unmatched is not None:
            out["survey_unmatched"] = pd.DataFrame(self.unmatched).astype(str)
        out["run_metadata"] = self.metadata_table()
        out.update(self.layers)
        return out

    def write(self, path: str | os.PathLike, *, styles: str | None = "flag") -> Path:
        """Write the result as one GeoPackage, atomically, with QGIS styles embedded.

        Parameters
        ----------
        path : str or os.PathLike
            The ``.gpkg`` file; replaced when it exists (never left half-written).
        styles : str or None, default "flag"
            The parcel style QGIS opens by default (see :func:`ntmgis.styles.embed_styles`);
            None writes no styles.

        Returns
        -------
        pathlib.Path
            The written file.
        """
        from ._io import write_gpkg

        finish = None
        if styles is not None:

            def finish(tmp):
                from .styles import embed_styles

                embed_styles(tmp, default=styles)

        written = write_gpkg(path, self.to_layers(), finish=finish)
        logger.info("wrote result %s (%d parcels)", written, len(self.parcels))
        return written

    @classmethod
    def read(cls, path: str | os.PathLike, *, what: str = "result") -> Result:
        """Read a result GeoPackage written by ``ntmgis run``.

        Parameters
        ----------
        path : str or os.PathLike
            The GeoPackage.
        what : str, default "result"
            What it is, for messages ("baseline result"...).

        Returns
        -------
        Result
            With ``source`` set to the file; missing optional layers are None.

        Raises
        ------
        DataNotFoundError
            The file does not exist.
        InputError
            It is not a GeoPackage GDAL reads.
        SchemaError
            It has no ``parcels`` layer.
        """
        import pyogrio

        from ._io import as_path, read_vector
        from .errors import InputError

        path = as_path(path, what=what)
        try:
            names = [name for name, _ in pyogrio.list_layers(path)]
        except Exception as exc:
            raise InputError(
                _say("error.result.not_gpkg", what=what, path=path, detail=exc)
            ) from exc
        parcels = read_vector(path, layer="parcels", what=what)
        hamlets = read_vector(path, layer="hamlets", what=what) if "hamlets" in names else None
        unmatched = meta = None
        if "survey_unmatched" in names:
            unmatched = pyogrio.read_dataframe(path, layer="survey_unmatched", read_geometry=False)
        metadata: dict = {}
        if "run_metadata" in names:
            meta = pyogrio.read_dataframe(path, layer="run_metadata", read_geometry=False)
            metadata = _metadata_dict(meta)
        if "commune" in names and not any(metadata.get(k) for k in _COMMUNE_KEYS):
            frame = pyogrio.read_dataframe(path, layer="commune", read_geometry=False)
            if "ten_xa" in frame.columns and len(frame):
                metadata["ten_xa"] = str(frame["ten_xa"].iloc[0])
        extra = {}
        for name in names:
            if name not in LAYERS and name not in ("commune", "layer_styles"):
                extra[name] = read_vector(path, layer=name, what=what)
        return cls(parcels, hamlets, metadata, unmatched, extra, source=str(path))


def _metadata_dict(frame) -> dict:
    import pandas as pd

    if not {"key", "value"} <= set(frame.columns):
        return {}
    return {str(k): ("" if pd.isna(v) else str(v)) for k, v in frame[["key", "value"]].values}


def as_result(source, *, what: str = "result") -> Result:
    """Any form of a result as a :class:`Result`: the one adapter every later stage uses.

    Parameters
    ----------
    source : Result, str, os.PathLike, GeoDataFrame, DataFrame or dict
        A :class:`Result` (returned as it is), a result GeoPackage, a parcels table, or a
        dict with ``parcels`` and optionally ``hamlets`` and ``run_metadata`` (a dict or
        the key/value table).
    what : str, default "result"
        What it is, for messages.

    Returns
    -------
    Result

    Examples
    --------
    >>> import pandas as pd
    >>> r = as_result({"parcels": pd.DataFrame({"hamlet": ["Xóm 1"]}),
    ...                "run_metadata": {"commune": "Xã Nghi Phong"}})
    >>> r.commune, len(r.parcels), r.source
    ('Xã Nghi Phong', 1, '(in memory)')
    """
    import pandas as pd

    from .errors import InputError

    if isinstance(source, Result):
        return source
    if isinstance(source, dict):
        meta = source.get("run_metadata", source.get("metadata"))
        if isinstance(meta, pd.DataFrame):
            meta = _metadata_dict(meta)
        parcels = source.get("parcels")
        if parcels is None:
            raise InputError(_say("error.result.no_parcels", what=what))
        return Result(parcels, source.get("hamlets"), dict(meta or {}),
                      source.get("survey_unmatched"))  # fmt: skip
    if isinstance(source, pd.DataFrame):
        return Result(source)
    if isinstance(source, (str, os.PathLike)):
        return Result.read(source, what=what)
    raise InputError(_say("error.result.not_a_result", kind=type(source).__name__, what=what))
