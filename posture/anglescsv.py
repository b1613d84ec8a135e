"""Angle CSV export (the output of ``spinewatch analyze``; see docs/formats.md).

Header: ``time_s,flexion_deg,lateral_flexion_deg,rotation_deg`` (the contract other tools rely
on) followed by ``thoracic_inclination_deg,lumbar_inclination_deg,hip_angle_deg,
rotation_confidence,flags``. Angles in degrees; empty cells where a sensor had no data (NaN).
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from posture.decimal_text import decimal_text
from posture.errors import DataFormatError
from posture.forked import Threaded
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
_NAME_OF = {attr: name for name, attr in COLUMNS}  # AngleBlock field → column name
_NOT_ROUNDED = ("time_s", "flags")  # (formatted as they are; the others rounded: _column)
#: Angle rows from which the CSV is formatted as two halves on two threads.
SPLIT_ROWS = 100_000


def write_angles_csv(
    path: str | os.PathLike[str], angles: AngleBlock, ahead: ColumnsAhead | None = None
) -> None:
    """Write an angle block; NaN becomes an empty cell. ``ahead``: columns already being
    formatted (:class:`ColumnsAhead`)."""
    ready = ahead.texts(angles) if ahead is not None else {}
    if len(angles.t) < SPLIT_ROWS:
        _write(path, angles, map, ready)
        return
    # Formatting numbers is most of the cost, and numpy's array operations and pyarrow's
    # writer release the GIL: a long recording's columns are formatted, and then its two
    # halves written, on two threads (the same bytes as one pass).
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as ex:
        _write(path, angles, ex.map, ready)


class ColumnsAhead:
    """Columns of an angles CSV formatted on a second thread while the caller works out the
    others: batch analysis knows the times and inclinations before its heading anchors
    (``posture.batch.analyze_offline(early=...)``, which calls this object with them).
    :func:`write_angles_csv` takes their text where the block holds the very same arrays
    (:func:`same_memory`: the arrays are not written to meanwhile; blocks are read-only)."""

    def __init__(self) -> None:
        self._jobs: list[tuple[dict[str, np.ndarray], Threaded[dict[str, pa.Array]]]] = []

    def __call__(self, columns: Mapping[str, np.ndarray]) -> None:
        """Start formatting ``columns`` (:class:`AngleBlock` field → its array)."""
        values = dict(columns)
        job = Threaded(lambda: {a: _column(v, _NAME_OF[a], early=True) for a, v in values.items()})
        self._jobs.append((values, job))

    def texts(self, angles: AngleBlock) -> dict[str, pa.Array]:
        """Column name → text of the columns started for arrays that ``angles`` holds."""
        out = {}
        for values, job in self._jobs:
            text = job.result()
            for attr, v in values.items():
                if same_memory(getattr(angles, attr), v):
                    out[_NAME_OF[attr]] = text[attr]
        return out


def same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a`` and ``b`` are the same array or views of the very same values (a block
    made of an array may hold a new view of it: ``np.ascontiguousarray``)."""
    return a is b or (
        a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
        and a.shape == b.shape
        and a.strides == b.strides
        and a.dtype == b.dtype
    )


def _write(
    path: str | os.PathLike[str],
    angles: AngleBlock,
    map_: Callable[..., Any],
    ready: Mapping[str, pa.Array],
) -> None:
    names = [name for name, _ in COLUMNS]
    values = [getattr(angles, attr) for _, attr in COLUMNS]
    # A column equal to an earlier one is formatted once (batch analysis gives the lumbar
    # inclination twice: as such and as the hip angle).
    src = [i if (j := _earlier_equal(values, names, i)) is None else j for i in range(len(names))]
    done = {i: ready[n] for i, n in enumerate(names) if n in ready}
    todo = [i for i in range(len(names)) if src[i] == i and i not in done]
    texts = map_(_column, [values[i] for i in todo], [names[i] for i in todo])
    done.update(zip(todo, texts, strict=True))
    cols = {name: done[src[i]] for i, name in enumerate(names)}
    table = pa.table(cols)
    opts = pacsv.WriteOptions(include_header=False, quoting_style="none")

    def csv_text(part: pa.Table) -> bytes:
        buf = io.BytesIO()
        pacsv.write_csv(part, buf, opts)
        return buf.getvalue()

    half = table.num_rows // 2
    parts = [table] if table.num_rows < SPLIT_ROWS else [table.slice(0, half), table.slice(half)]
    chunks = list(map_(csv_text, parts))
    with open(path, "wb") as fh:
        fh.write((",".join(cols) + "\n").encode("utf-8"))
        fh.writelines(chunks)


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


def _column(v: np.ndarray, name: str, early: bool = False) -> pa.Array:
    """Column ``name``'s values ``v`` ``(N,)`` ready for the writer: as numbers (the writer
    formats them) or text. ``early`` (ahead of the writing, on another thread): the time
    column as the writer's text (:func:`_writer_text`)."""
    if name == "flags":
        return _arrow(v.astype(np.int64))
    if name == "time_s":
        return _writer_text(v) if early else _arrow(v)
    # 4 decimals of a degree is far below sensor accuracy and keeps files small.
    r = np.round(v, 4)
    text = decimal_text(r)  # pyarrow's text, formatted ~5x faster
    return _arrow(r, np.isnan(v)) if text is None else text


def _writer_text(values: np.ndarray) -> pa.Array:
    """Float64 ``values`` ``(N,)`` as a string array of the text pyarrow's CSV writer gives
    them (shortest round trip): written by the writer itself as one column, then cut at the
    line ends. The time column's formatting (a third of the writing) can so be done ahead,
    on another thread, without ``pyarrow.compute`` (whose cast would cost a ~50 ms import)."""
    if np.isnan(values).any():  # (NaN would come out as an empty cell, not a null)
        return _arrow(values)
    buf = io.BytesIO()
    one_column = pa.table({"v": _arrow(values)})
    pacsv.write_csv(one_column, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    raw = np.frombuffer(buf.getbuffer(), np.uint8)
    ends = np.flatnonzero(raw == ord("\n"))
    if ends.size != values.size:  # (never: a number's text holds no line break)
        return _arrow(values)
    offsets = np.zeros(values.size + 1, np.int32)
    offsets[1:] = ends - np.arange(values.size)  # value i ends i line breaks before its own
    data = raw[raw != ord("\n")]
    return pa.Array.from_buffers(
        pa.string(), values.size, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


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
