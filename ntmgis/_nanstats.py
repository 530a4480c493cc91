"""NaN-aware row statistics with NumPy's arithmetic, shared by the features and the
co-registration (NumPy's own ``nanmedian`` takes a masked-array path, slow for a few
values over many rows)."""

from __future__ import annotations

import numpy as np


def _nanmedian(x, axis=1):
    """Per row of ``x``, ``numpy.nanmedian(row)``, for all rows at once.

    NumPy's arithmetic (its masked median: the two middle values of the sorted row
    summed, then halved; an odd row's middle value doubled and halved), so the values
    are NumPy's to the last bit. A row with no finite value gives NaN. ``x`` is 2-D and
    ``axis`` 1 (the argument is there for :func:`_nan_stat`'s call).

    Examples
    --------
    >>> x = np.array([[1.0, np.nan, 4.0, 2.0, 3.0], [np.nan, 5.0, np.nan, 1.0, np.nan]])
    >>> _nanmedian(x).tolist()
    [2.5, 3.0]
    """
    s = np.sort(x, axis=1)  # NaNs last
    n = np.count_nonzero(~np.isnan(x), axis=1)
    h = n // 2
    lo = np.where(n % 2 == 1, h, h - 1)
    rows = np.arange(x.shape[0])
    out = (s[rows, np.maximum(lo, 0)] + s[rows, h]) / 2.0
    out[n == 0] = np.nan
    return out
