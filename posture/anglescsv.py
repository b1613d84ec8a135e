"""Angle CSV export (the output of ``spinewatch analyze``; see docs/formats.md).

Header: ``time_s,flexion_deg,lateral_flexion_deg,rotation_deg`` (the contract other tools rely
on) followed by ``thoracic_inclination_deg,lumbar_inclination_deg,hip_angle_deg,
rotation_confidence,flags``. Angles in degrees; empty cells where a sensor had no data (NaN).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from posture.decimal_text import decimal_text
from posture.errors import DataFormatError
from posture.records import AngleBlock

COLUMNS = (
    ("time_s", "t"),
    ("flexion_deg", "flexion"),
    ("lateral_flexion_deg", "lateral_flexion"),
    ("rotation_deg", "rotation"),
    ("thoracic_inclination_deg", "thoracic_inclination"),
    ("lumbar_inclination_deg", "lumbar_inclination"),
    ("hip_angle_deg", "hip_angle"),
    ("rotation_confidence", "rotation_confidence"),
    ("flags", "flags"),
)
_NOT_ROUNDED = ("time_s", "flags")  # (formatted as they are; the others rounded: _column)
#: Angle rows from which the CSV is formatted as two halves on two threads.
SPLIT_ROWS = 100_000


def write_angles_csv(path: str | os.PathLike[str], angles: AngleBlock) -> None:
    """Write an angle block; NaN becomes an empty cell."""
    if len(angles.t) < SPLIT_ROWS:
        _write(path, angles, map)
        return
    # Formatting numbers is most of the cost, and numpy's array operations and pyarrow's
    # writer release the GIL: a long recording's columns are formatted, and then its two
    # halves written, on two threads (the same bytes as one pass).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as ex:
        _write(path, angles, ex.map)


def _write(path: str | os.PathLike[str], angles: AngleBlock, map_: Callable[..., Any]) -> None:
    names = [name for name, _ in COLUMNS]
    values = [getattr(angles, attr) for _, attr in COLUMNS]
    # A column equal to an earlier one is formatted once (batch analysis gives the lumbar
    # inclination twice: as such and as the hip angle).
    src = [i if (j := _earlier_equal(values, names, i)) is None else j for i in range(len(names))]
    todo = [i for i in range(len(names)) if src[i] == i]
    texts = map_(_column, [values[i] for i in todo], [names[i] for i in todo])
    done = dict(zip(todo, texts, strict=True))
    cols = {name: done[src[i]] for i, name in enumerate(names)}
    table = pa.table(cols)
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")

    def csv_text(part: pa.Table) -> bytes:
        buf = io.BytesIO()
        pacsv.write_csv(part, buf, opts)
        return buf.getvalue()

    half = table.num_rows // 2
    parts = [table] if table.num_rows < SPLIT_ROWS else [table.slice(0, half), table.slice(half)]
    texts = list(map_(csv_text, parts))
    with open(path, "wb") as fh:
        fh.write((",".join(cols) + "\n").encode("utf-8"))
        fh.writelines(texts)


def _earlier_equal(values: list[np.ndarray], names: list[str], i: int) -> int | None:
    """Index of an earlier column formatted as column ``i`` (rounded degrees) with the same
    values (NaN equal to NaN), else None."""
    if names[i] in _NOT_ROUNDED:
        return None
    v = values[i]
    step = max(1, v.size // 32)
    for j in range(i):
        w = values[j]
        if names[j] in _NOT_ROUNDED or v.shape != w.shape:
            continue
        # (a few values first: a whole comparison of unequal columns costs ~1 ms each)
        if np.array_equal(v[::step], w[::step], equal_nan=True) and np.array_equal(
            v, w, equal_nan=True
        ):
            return j
    return None


def _column(v: np.ndarray, name: str) -> pa.Array:
    if name == "flags":
        return _arrow(v.astype(np.int64))
    if name == "time_s":
        return _arrow(v)
    # 4 decimals of a degree is far below sensor accuracy and keeps files small.
    r = np.round(v, 4)
    text = decimal_text(r)  # pyarrow's text, formatted ~5x faster
    return _arrow(r, np.isnan(v)) if text is None else text


def _arrow(values: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """``pa.array(values, mask=null)`` (float64 or int64 ``(N,)``) built from its buffers:
    ``pa.array`` of a numpy array imports ``numpy.ma`` (~15 ms, a tenth of the writing)."""
    data = np.ascontiguousarray(values)
    kind = pa.int64() if data.dtype == np.int64 else pa.float64()
    data = data.astype(kind.to_pandas_dtype(), copy=False)
    if null is None or not null.any():
        return pa.Array.from_buffers(kind, data.size, [None, pa.py_buffer(data)])
    valid = np.packbits(~null, bitorder="little")
    return pa.Array.from_buffers(
        kind, data.size, [pa.py_buffer(valid), pa.py_buffer(data)], null_count=int(null.sum())
    )


def read_angles_csv(path: str | os.PathLike[str]) -> AngleBlock:
    """Read a file written by :func:`write_angles_csv`."""
    p = str(path)
    try:
        table = pacsv.read_csv(Path(p).read_bytes() and p)
    except FileNotFoundError:
        raise DataFormatError("file not found", path=p) from None
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataFormatError(f"not an angles CSV ({exc})", path=p) from None
    names = table.column_names
    want = [c for c, _ in COLUMNS]
    if names[: len(want)] != want:
        raise DataFormatError(f"unexpected header {','.join(names)}", path=p, line=1)
    kw = {}
    for name, attr in COLUMNS:
        col = table.column(name)
        arr = col.to_numpy(zero_copy_only=False)
        kw[attr] = arr.astype(np.uint8 if attr == "flags" else np.float64)
    return AngleBlock(**kw)
