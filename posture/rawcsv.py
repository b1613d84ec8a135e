"""Raw IMU CSV import and export (the documented exchange format, see docs/formats.md).

Format: optional ``#`` comment lines, then the header
``time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z`` optionally followed by
``,mag_x,mag_y,mag_z``; one row per sample; ``sensor`` is ``thoracic`` or ``lumbar``; time in
s, acc in m/s² (specific force), gyr in rad/s, mag in µT. Rows of the two sensors may
interleave in any order and need not share timestamps or rate.

Reading uses pyarrow's multithreaded CSV parser (a 10-minute two-sensor 200 Hz file parses in
a few tens of milliseconds); when pyarrow rejects the file, a slow line-by-line scan finds the
exact line and problem so the user gets ``file, line N: what is wrong``. Writing uses pyarrow's
shortest round-trip float formatting, so export → import is exact.
"""

from __future__ import annotations

import io
import mmap
import os
from collections.abc import Iterable, Mapping
from functools import partial

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

from posture.errors import DataFormatError, MissingSensorError
from posture.forked import Threaded
from posture.records import ROLES, ImuBlock

F64 = NDArray[np.float64]

BASE_COLUMNS = ("time_s", "sensor", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z")
MAG_COLUMNS = ("mag_x", "mag_y", "mag_z")
PathLike = str | os.PathLike[str]
# Comment line of files whose sensors share the host's time base (stream, export): analyze
# then skips the thoracic clock fit (docs/formats.md).
HOST_CLOCK_COMMENT = "clock: host (both sensors on one time base; no clock fit needed)"


def raw_csv_clock(path: PathLike) -> str | None:
    """``"host"`` when the file's leading comments carry :data:`HOST_CLOCK_COMMENT`, else None."""
    with open(path, "rb") as fh:
        for line in fh:
            text = line.decode("utf-8", "replace").strip().lstrip("\ufeff")
            if text and not text.startswith("#"):
                return None
            if text.lstrip("#").strip().startswith("clock: host"):
                return "host"
    return None


MAX_LINE = 64 * 1024  # bytes; a raw CSV line is < 300, so longer is a binary or damaged file
BOM = b"\xef\xbb\xbf"


def _split_header(data: bytes | mmap.mmap, path: str) -> tuple[int, list[str], int]:
    """Return (byte offset just past the header line, header names, 1-based header line).

    Reads at most :data:`MAX_LINE` bytes per line, so a file without line breaks (a sparse
    or binary file) is refused without copying it.
    """
    buf = memoryview(data)
    offset = 3 if bytes(buf[:3]) == BOM else 0  # editors on Windows write a BOM
    line_no = 0
    while offset < len(buf):
        chunk = bytes(buf[offset : offset + MAX_LINE + 1])
        end = chunk.find(b"\n")
        line_no += 1
        if end < 0 and len(chunk) > MAX_LINE:
            raise DataFormatError(
                f"line longer than {MAX_LINE // 1024} KiB: not a raw IMU CSV (binary or "
                "damaged file?)",
                path=path,
                line=line_no,
            )
        end = len(chunk) if end < 0 else end + 1
        try:
            stripped = chunk[:end].decode("utf-8").strip()
        except UnicodeDecodeError:
            raise DataFormatError("not a text (UTF-8) CSV file", path=path, line=line_no) from None
        offset += end
        if stripped.startswith("#") or not stripped:
            continue
        names = [c.strip() for c in stripped.split(",")]
        return offset, names, line_no
    raise DataFormatError(
        f"the file has no header and no data; expected a header line '{','.join(BASE_COLUMNS)}'",
        path=path,
    )


def _refuse_nul(data: bytes | mmap.mmap, start: int, first_line: int, path: str) -> None:
    """NUL bytes (holes of a sparse file, binary data) are never CSV; found at C speed."""
    at = data.find(b"\x00", start)
    if at >= 0:
        line = first_line + bytes(data[start:at]).count(b"\n")
        raise DataFormatError(
            "NUL bytes in the data: a binary or damaged file, not a raw IMU CSV",
            path=path,
            line=line,
        )


def _check_header(names: list[str], path: str, line: int) -> bool:
    if tuple(names) == BASE_COLUMNS:
        return False
    if tuple(names) == BASE_COLUMNS + MAG_COLUMNS:
        return True
    missing = [c for c in BASE_COLUMNS if c not in names]
    hint = f"missing column(s) {', '.join(missing)}; " if missing else ""
    raise DataFormatError(
        f"unexpected header '{','.join(names)}': {hint}expected '{','.join(BASE_COLUMNS)}' "
        f"optionally followed by ',{','.join(MAG_COLUMNS)}'",
        path=path,
        line=line,
    )


def _locate_bad_cell(body: memoryview, ncols: int, first_line: int, path: str) -> DataFormatError:
    """Slow path: scan line by line (one line in memory at a time) for the first bad row."""
    for i, raw in enumerate(io.BytesIO(body)):
        line_no = first_line + i
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            return DataFormatError("not a text (UTF-8) CSV file", path=path, line=line_no)
        if not line.strip():
            return DataFormatError("empty line inside the data", path=path, line=line_no)
        cells = line.split(",")
        if len(cells) != ncols:
            return DataFormatError(
                f"expected {ncols} comma-separated values, found {len(cells)}",
                path=path,
                line=line_no,
            )
        for j, cell in enumerate(cells):
            if j == 1:
                continue
            try:
                float(cell)
            except ValueError:
                col = (BASE_COLUMNS + MAG_COLUMNS)[j]
                shown = cell.strip() if len(cell) <= 40 else cell.strip()[:37] + "..."
                return DataFormatError(
                    f"column {col}: '{shown}' is not a number", path=path, line=line_no
                )
    return DataFormatError("the file could not be parsed as CSV", path=path)


def _file_bytes(path: str) -> bytes | mmap.mmap:
    """The file's bytes, mapped read-only where the system allows (no copy: reading a
    10-minute recording into memory cost ~25 ms of a 0.2 s read), else read.

    A file truncated by another program while it is mapped would kill the process (SIGBUS);
    analysing a file that is being cut short gives no useful result either way.
    """
    with open(path, "rb") as fh:
        try:
            return mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):  # empty, a pipe or a file system without mmap
            return fh.read()


def read_raw_csv(path: PathLike, *, require: Iterable[str] = ROLES) -> dict[str, ImuBlock]:
    """Read a raw IMU CSV file into one :class:`ImuBlock` per sensor role.

    Args:
        path: the file.
        require: roles that must be present (default both).

    Returns:
        ``{"thoracic": ImuBlock, "lumbar": ImuBlock}``, each sorted as in the file.

    Raises:
        DataFormatError: with the file and line for any malformed content.
        MissingSensorError: a required role has no rows.
    """
    p = str(path)
    try:
        data = _file_bytes(p)
    except FileNotFoundError:
        raise DataFormatError("file not found", path=p) from None
    except OSError as exc:
        raise DataFormatError(f"cannot read the file ({exc.strerror})", path=p) from None
    body_start, names, header_line = _split_header(data, p)
    with_mag = _check_header(names, p, header_line)
    first_data_line = header_line + 1
    _refuse_nul(data, body_start, first_data_line, p)
    body = memoryview(data)[body_start:]
    # Cheap check first: only an all-blank body needs the full scan.
    if not bytes(body[:4096]).strip() and not bytes(body).strip():
        raise DataFormatError("the file has a header but no data rows", path=p)
    columns = list(BASE_COLUMNS + (MAG_COLUMNS if with_mag else ()))
    types: dict[str, pa.DataType] = {c: pa.float64() for c in columns}
    # Dictionary-encoded sensor names: two distinct strings, no per-row Python objects.
    types["sensor"] = pa.dictionary(pa.int32(), pa.string())
    try:
        table = pacsv.read_csv(
            pa.py_buffer(body),
            read_options=pacsv.ReadOptions(column_names=columns),
            parse_options=pacsv.ParseOptions(ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=types,
                null_values=[""],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        raise _locate_bad_cell(body, len(columns), first_data_line, p) from None
    del body, data  # the parsed table holds everything now: keep memory near the data size
    return _table_to_blocks(table, columns, with_mag, first_data_line, p, tuple(require))


def _table_to_blocks(
    table: pa.Table,
    columns: list[str],
    with_mag: bool,
    first_line: int,
    path: str,
    require: tuple[str, ...],
) -> dict[str, ImuBlock]:
    numeric = [c for c in columns if c != "sensor"]
    arr = _numeric_columns(table, numeric, first_line, path)
    codes, role_code = _sensor_codes(table, first_line, path)

    def block(role: str) -> ImuBlock | None:
        return _role_block(arr, codes, role_code[role], role, with_mag, first_line, path)

    # The second sensor's rows are gathered on a second thread (numpy lets go of the GIL),
    # the first's here when asked for; errors are raised in the order of ROLES either way.
    jobs = [Threaded(partial(block, role), thread=i > 0) for i, role in enumerate(ROLES)]
    blocks: dict[str, ImuBlock] = {}
    for role, job in zip(ROLES, jobs, strict=True):
        b = job.result()
        if b is not None:
            blocks[role] = b
        elif role in require:
            raise MissingSensorError(
                f"{path}: no rows for the {role} sensor; the file needs samples of both "
                "'thoracic' and 'lumbar' (was one sensor disconnected?)"
            )
    return blocks


def _role_block(
    arr: F64,
    codes: NDArray[np.integer],
    want: list[int],
    role: str,
    with_mag: bool,
    first_line: int,
    path: str,
) -> ImuBlock | None:
    """The rows of one sensor (dictionary codes ``want``) as a block; None without any."""
    # One dictionary code per role (the usual case): a comparison, ~5× cheaper than isin.
    rows = np.flatnonzero(codes == want[0] if len(want) == 1 else np.isin(codes, want))
    if rows.size == 0:
        return None
    t = arr[rows, 0]
    back = np.flatnonzero(np.diff(t) <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise DataFormatError(
            f"{role} time goes backwards or repeats ({float(t[k - 1])!r} s then "
            f"{float(t[k])!r} s); "
            "rows of one sensor must have strictly increasing time_s",
            path=path,
            line=first_line + int(rows[k]),
        )
    # Column by column: a gather of a contiguous column, ~2× faster than of three at once.
    acc, gyr = (np.column_stack([arr[rows, j] for j in range(k, k + 3)]) for k in (1, 4))
    mag = np.column_stack([arr[rows, j] for j in range(7, 10)]) if with_mag else None
    return ImuBlock(role, t, acc, gyr, mag)


def _numeric_columns(table: pa.Table, numeric: list[str], first_line: int, path: str) -> F64:
    """The numeric columns as one float64 array ``(rows, columns)``; every value finite."""
    # Column-major: each column is one contiguous write (row-major, ~2× slower: strided),
    # and the per-sensor row gathers still give row-major blocks.
    arr = np.empty((table.num_rows, len(numeric)), dtype=np.float64, order="F")
    for j, c in enumerate(numeric):  # one column at a time: no list of full-size copies
        at = 0
        for chunk in table.column(c).chunks:  # each parsed block in place: no joined copy
            arr[at : at + len(chunk), j] = chunk.to_numpy(zero_copy_only=False)
            at += len(chunk)
    for c in numeric:
        col = table.column(c)
        if col.null_count:
            idx = int(np.flatnonzero(col.is_null().to_numpy(zero_copy_only=False))[0])
            raise DataFormatError(f"column {c} is empty", path=path, line=first_line + idx)
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise DataFormatError(
            f"column {numeric[col]} is {float(arr[row, col])}: every value must be a finite number",
            path=path,
            line=first_line + int(row),
        )
    return arr


def _sensor_codes(
    table: pa.Table, first_line: int, path: str
) -> tuple[NDArray[np.integer], dict[str, list[int]]]:
    """The sensor column's dictionary codes per row and the codes of each role (names
    stripped); an unknown sensor name is an error."""
    sensor_col = table.column("sensor").combine_chunks()
    names = [str(v).strip() for v in sensor_col.dictionary.to_pylist()]
    codes = sensor_col.indices.to_numpy(zero_copy_only=False)
    known_codes = np.array([n in ROLES for n in names], dtype=bool)
    if not known_codes[codes].all():
        row = int(np.flatnonzero(~known_codes[codes])[0])
        raise DataFormatError(
            f"unknown sensor '{names[codes[row]]}': use 'thoracic' or 'lumbar'",
            path=path,
            line=first_line + row,
        )
    return codes, {r: [i for i, n in enumerate(names) if n == r] for r in ROLES}


def write_raw_csv(
    path: PathLike | io.TextIOBase,
    blocks: Mapping[str, ImuBlock],
    comments: Iterable[str] = (),
) -> None:
    """Write blocks (keyed by role) as raw CSV, rows interleaved by time.

    Floats use the shortest representation that reads back to the same float64, so
    :func:`read_raw_csv` returns identical arrays. Magnetometer columns are written only when
    every block has them.
    """
    present = [blocks[r] for r in ROLES if r in blocks]
    if not present:
        raise MissingSensorError("nothing to write: no thoracic or lumbar samples")
    with_mag = all(b.mag is not None for b in present)
    t = np.concatenate([b.t for b in present])
    order = np.argsort(t, kind="stable")
    cols: dict[str, pa.Array] = {"time_s": pa.array(t[order])}
    names = np.concatenate([np.full(len(blocks[r]), r) for r in ROLES if r in blocks])
    cols["sensor"] = pa.array(names[order])
    acc = np.concatenate([b.acc for b in present])[order]
    gyr = np.concatenate([b.gyr for b in present])[order]
    for i, ax in enumerate("xyz"):
        cols[f"acc_{ax}"] = pa.array(acc[:, i])
    for i, ax in enumerate("xyz"):
        cols[f"gyr_{ax}"] = pa.array(gyr[:, i])
    if with_mag:
        mag = np.concatenate([b.mag for b in present if b.mag is not None])[order]
        for i, ax in enumerate("xyz"):
            cols[f"mag_{ax}"] = pa.array(mag[:, i])
    header = "".join(f"# {c}\n" for c in comments) + ",".join(cols) + "\n"
    buf = io.BytesIO()
    pacsv.write_csv(
        pa.table(cols), buf, pacsv.WriteOptions(include_header=False, quoting_style="none")
    )
    payload = buf.getvalue().decode("utf-8")
    if isinstance(path, io.TextIOBase):
        path.write(header + payload)
    else:
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(header)
            fh.write(payload)
