"""Text of values rounded to 4 decimals, byte for byte as pyarrow's CSV writer gives it.

Formatting floats is most of writing an angles CSV: pyarrow prints each number by the
shortest-round-trip algorithm (~150 ns a value). The angles are rounded to 4 decimals
first (``np.round(v, 4)``, the nearest double to ``k / 10⁴`` for an integer ``k``), and for
such a number below 10⁹ in magnitude the shortest text that reads back to it is ``k / 10⁴``
written out with its trailing zeros dropped (any other text of ≤ 17 digits within half an
ulp of it would need digits beyond the fourth decimal). That text is put together here from
two lookup tables, the integer part (below 1000) and the fraction, as 8-byte words, and
handed to pyarrow as a string column, which its writer copies as is: the same bytes, about
a fifth of the CPU time (tests/posture/test_decimal_text.py compares with pyarrow).
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

F64 = NDArray[np.float64]
U64 = NDArray[np.uint64]
I32 = NDArray[np.int32]
#: Largest magnitude handled (integer part below 1000; larger: pyarrow formats the column).
LIMIT = 999.99995


@cache
def _tables() -> tuple[U64, U64, I32, U64, U64, I32]:
    """Integer parts 0..999 and fractions 0..9999 (ten-thousandths): text as one
    little-endian 8-byte word each, its keep mask (one byte 0/1 per text byte) and length.

    Integer part: byte 0 is ``-`` (kept for negative values), bytes 1–3 the digits (leading
    zeros not kept). Fraction: ``.dddd`` in bytes 0–4, trailing zeros (and the point of a
    zero fraction) not kept.
    """
    i = np.arange(1000)
    n_int = 1 + (i >= 10) + (i >= 100)
    it = np.zeros((1000, 8), np.uint8)
    ik = np.zeros((1000, 8), np.uint8)
    it[:, 0] = ord("-")
    it[:, 1:4] = np.stack((i // 100, i // 10 % 10, i % 10), axis=1) + ord("0")
    ik[:, 1:4] = np.arange(3)[None, :] >= 3 - n_int[:, None]
    f = np.arange(10_000)
    n_frac = np.where(f > 0, 4 - (f % 10 == 0) - (f % 100 == 0) - (f % 1000 == 0), 0)
    ft = np.zeros((10_000, 8), np.uint8)
    fk = np.zeros((10_000, 8), np.uint8)
    ft[:, 0] = ord(".")
    ft[:, 1:5] = np.stack((f // 1000, f // 100 % 10, f // 10 % 10, f % 10), axis=1) + ord("0")
    fk[:, 0] = f > 0
    fk[:, 1:5] = np.arange(4)[None, :] < n_frac[:, None]
    n_f = (n_frac + (f > 0)).astype(np.int32)
    words = [a.view(np.uint64).ravel() for a in (it, ik, ft, fk)]
    return words[0], words[1], n_int.astype(np.int32), words[2], words[3], n_f


def decimal_text(x: F64) -> pa.Array | None:
    """``x`` ``(N,)``, already rounded to 4 decimals, as a pyarrow string array of the text
    pyarrow's CSV writer gives its floats (NaN: null); ``None`` when some ``|x|`` reaches
    :data:`LIMIT` (then let pyarrow format it)."""
    n = x.size
    nan = np.isnan(x)
    ax = np.abs(np.where(nan, 0.0, x))
    if not ax.max(initial=0.0) < LIMIT:
        return None
    it, ik, n_int, ft, fk, n_frac = _tables()
    whole, frac = np.divmod(np.rint(ax * 1e4).astype(np.intp), 10_000)
    neg = np.signbit(x) & ~nan  # -0.0 is written "-0", as pyarrow does
    text = np.empty((n, 2), np.uint64)
    keep = np.empty((n, 2), np.uint64)
    text[:, 0] = it[whole]
    text[:, 1] = ft[frac]
    keep[:, 0] = ik[whole] | neg
    keep[:, 1] = fk[frac]
    lengths = n_int[whole] + n_frac[frac] + neg
    n_null = int(nan.sum())
    if n_null:
        keep[nan] = 0
        lengths[nan] = 0
    offsets = np.zeros(n + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    # (np.compress of the flat views: ~5x faster than indexing the 2-D array with the mask)
    data = np.compress(keep.view(np.bool_).ravel(), text.view(np.uint8).ravel())
    valid = pa.py_buffer(np.packbits(~nan, bitorder="little")) if n_null else None
    return pa.Array.from_buffers(
        pa.string(), n, [valid, pa.py_buffer(offsets), pa.py_buffer(data)], null_count=n_null
    )
