"""The session file: one SQLite database per recording, its schema, migrations and packing.

A session holds the raw sample blocks of both sensors exactly as they arrived (so replay can
push the same blocks in the same order), the live angles, alerts, reps, set markers and notes,
link statistics and the calibration profile and settings used (``meta``, JSON values).

Since schema version 4 the writer packs the blocks of one role queued between two commits into
one ``raw_batches`` row (and the angle updates into one ``angle_batches`` row), losslessly
compacted by :mod:`spinewatch.sessions.codec` (int16 counts + scales where the values are
counts, delta coding, zlib): under 40 MB per hour of 2 × 200 Hz instead of 180. Files of
versions 1–3 keep their one-row-per-block float64 ``raw_blocks``/``angle_blocks`` and are read
as they are; a file could even hold both.

Durability: the file is in WAL mode with ``synchronous=FULL`` while recording, and the writer
commits at least every 0.25 s (:mod:`spinewatch.sessions.writer`), so a crash, ``kill -9`` or
power loss loses at most the last uncommitted batch. A clean close checkpoints the WAL and
switches the file back to a single self-contained file. The schema version lives in
``PRAGMA user_version``; :data:`MIGRATIONS` builds new files step by step.

Reading never writes: :func:`open_readonly` checks the file's header (SQLite magic,
``application_id``, ``user_version``) and its tables before trusting it, and opens it
read-only, so a file of another program, an empty file or a damaged session is refused
untouched, and a crashed recording reads as *interrupted* without being modified.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from posture.errors import SpinewatchError
from posture.records import ImuBlock, OrientationBlock
from spinewatch.fileio import dumps_json

SUFFIX = ".sqlite"
# PRAGMA application_id of session files ("SpWt"); files from before it carry 0.
APPLICATION_ID = 0x53705774
TABLES = ("meta", "raw_blocks", "angle_blocks", "alerts", "reps", "markers", "link_stats")


class SessionError(SpinewatchError):
    """A session file is missing, unreadable, too new, or a session operation failed."""


class SessionStatus(StrEnum):
    """Life cycle of a session file."""

    RECORDING = "recording"  # a live writer holds it
    COMPLETE = "complete"  # closed cleanly
    INTERRUPTED = "interrupted"  # the writer died without closing (crash, kill, power loss)


_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE raw_blocks (
    ord INTEGER PRIMARY KEY,      -- arrival order of the block (both roles)
    role TEXT NOT NULL,
    kind TEXT NOT NULL,           -- 'imu' or 'quat'
    n INTEGER NOT NULL,
    t0 REAL NOT NULL, t1 REAL NOT NULL,
    seq0 INTEGER, seq1 INTEGER,
    t BLOB NOT NULL, acc BLOB, gyr BLOB, mag BLOB, seq BLOB, quat BLOB
);
CREATE TABLE angle_blocks (
    id INTEGER PRIMARY KEY, n INTEGER NOT NULL, t0 REAL NOT NULL, t1 REAL NOT NULL,
    data BLOB NOT NULL            -- (n, 10) float64: t, 7 angle columns, flags, load
);
CREATE TABLE alerts (
    start_s REAL NOT NULL, plane TEXT NOT NULL, side TEXT NOT NULL,
    end_s REAL, data TEXT NOT NULL, PRIMARY KEY (start_s, plane, side)
);
CREATE TABLE reps (start_s REAL PRIMARY KEY, end_s REAL NOT NULL, data TEXT NOT NULL);
CREATE TABLE markers (
    id INTEGER PRIMARY KEY, before_ord INTEGER NOT NULL, t_s REAL,
    kind TEXT NOT NULL, text TEXT NOT NULL DEFAULT ''
);
CREATE TABLE link_stats (
    id INTEGER PRIMARY KEY, t_s REAL NOT NULL, role TEXT NOT NULL, data TEXT NOT NULL
);
"""

# Time-range and per-role queries (reports, summaries) without full scans.
_V2 = """
CREATE INDEX raw_role ON raw_blocks (role, ord);
CREATE INDEX angle_t0 ON angle_blocks (t0);
CREATE INDEX link_role ON link_stats (role, t_s);
"""

# Covering index for summaries (`sessions list/show`): no scan through the sample BLOBs.
_V3 = """
CREATE INDEX raw_summary ON raw_blocks (role, n, t0, t1, seq0, seq1);
"""

# Compact batches (see the module docstring and spinewatch.sessions.codec).
_V4 = """
CREATE TABLE raw_batches (
    id INTEGER PRIMARY KEY,
    role TEXT NOT NULL, kind TEXT NOT NULL,
    ord0 INTEGER NOT NULL, ord1 INTEGER NOT NULL,   -- first and last block ordinal
    blocks INTEGER NOT NULL, n INTEGER NOT NULL,    -- blocks, samples in all
    t0 REAL, t1 REAL, seq0 INTEGER, seq1 INTEGER,
    n_seq INTEGER NOT NULL, mag INTEGER NOT NULL,   -- samples with sequence numbers, has mag
    data BLOB NOT NULL
);
CREATE INDEX raw_batch_ord ON raw_batches (ord0);
CREATE INDEX raw_batch_role ON raw_batches (role, ord0);
CREATE INDEX raw_batch_summary ON raw_batches (role, n, t0, t1, seq0, seq1, n_seq);
CREATE TABLE angle_batches (
    id INTEGER PRIMARY KEY, blocks INTEGER NOT NULL, n INTEGER NOT NULL,
    t0 REAL, t1 REAL, data BLOB NOT NULL
);
"""

Migration = str | Callable[[sqlite3.Connection], None]

# MIGRATIONS[i] upgrades a file from user_version i to i + 1, in one transaction: an SQL
# script, or a function that runs statements with ``db.execute``. Append, never edit.
MIGRATIONS: list[Migration] = [_V1, _V2, _V3, _V4]
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(db: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the file's schema up to ``target``; returns the version it had before."""
    have = int(db.execute("PRAGMA user_version").fetchone()[0])
    if have > SCHEMA_VERSION:
        raise SessionError(
            f"session file schema version {have} is newer than this spinewatch supports "
            f"({SCHEMA_VERSION}); update spinewatch to open it"
        )
    for v in range(have, target):
        step = MIGRATIONS[v]
        db.execute("BEGIN IMMEDIATE")
        try:
            if isinstance(step, str):
                for stmt in filter(str.strip, step.split(";")):
                    db.execute(stmt)
            else:
                step(db)
            db.execute(f"PRAGMA user_version = {v + 1}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return have


def connect(path: str | os.PathLike[str], *, create: bool = False) -> sqlite3.Connection:
    """Create a new session database (``create``), or open one for writing and migrate it.

    Creation is exclusive (``O_EXCL``): of two writers racing for one path exactly one wins,
    the other gets a :class:`SessionError` and writes nothing.
    """
    p = Path(path)
    if not create and not p.is_file():
        raise SessionError(f"{p}: no such session file; see 'spinewatch sessions list'")
    if create:
        try:
            os.close(os.open(p, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            raise SessionError(
                f"{p} already exists (another recording may have just created it); "
                "choose another name"
            ) from None
        except OSError as exc:
            raise SessionError(f"{p}: cannot create the session file ({exc.strerror})") from None
    try:
        db = sqlite3.connect(p, timeout=10.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 10000")
        if create:
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise SessionError(f"{p}: not a readable session file ({exc})") from None
    return db


def session_files(path: str | os.PathLike[str]) -> list[Path]:
    """The session file and its WAL side files (never to be overwritten by an output)."""
    return [Path(f"{path}{s}") for s in ("", "-wal", "-shm")]


def _refuse(p: Path, why: str) -> SessionError:
    return SessionError(f"{p}: {why}; not a spinewatch session, left untouched")


def check_header(path: str | os.PathLike[str]) -> None:
    """Refuse, from its first 100 bytes alone, a file that cannot be a session file."""
    p = Path(path)
    if not p.is_file():  # a pipe or device: never opened (reading could block or consume)
        raise _refuse(p, "not a regular file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(100)
    except OSError as exc:
        raise SessionError(f"{p}: cannot read it ({exc.strerror})") from None
    wal = Path(f"{p}-wal").exists()
    if not head and not wal:
        raise _refuse(p, "empty file (0 bytes)")
    if head and (len(head) < 100 or not head.startswith(b"SQLite format 3\0")):
        raise _refuse(p, "not an SQLite database")
    app_id = int.from_bytes(head[68:72], "big") if head else 0
    if app_id not in (0, APPLICATION_ID):
        raise _refuse(p, f"an SQLite database of another program (application_id {app_id:#x})")
    # In WAL mode the header can lag behind the -wal file (a crashed recording), so only a
    # file without one is judged by its header's user_version.
    if head and not wal and int.from_bytes(head[60:64], "big") == 0:
        raise _refuse(p, "an SQLite database without spinewatch's schema")


def open_readonly(path: str | os.PathLike[str]) -> sqlite3.Connection:
    """Open a session file for reading only, after checking it is one (header and tables).

    Without a ``-wal`` file the database is opened ``immutable`` (no lock or side files are
    created); a recording in progress or a crashed one (``-wal`` present) is opened
    ``mode=ro``, which reads the WAL without ever writing the database file.
    """
    p = Path(path)
    if not p.is_file():
        raise SessionError(f"{p}: no such session file; see 'spinewatch sessions list'")
    check_header(p)
    wal = Path(f"{p}-wal").exists()
    uri = p.absolute().as_uri() + ("?mode=ro" if wal else "?mode=ro&immutable=1")
    try:
        db = sqlite3.connect(uri, uri=True, timeout=10.0, isolation_level=None,
                             check_same_thread=False)  # fmt: skip
    except sqlite3.DatabaseError as exc:
        raise SessionError(f"{p}: cannot open it read-only ({exc})") from None
    # Text that is not UTF-8 (a damaged page) must not raise deep inside a query.
    db.text_factory = lambda b: b.decode("utf-8", "replace")
    try:
        db.execute("PRAGMA busy_timeout = 10000")
        app_id = int(db.execute("PRAGMA application_id").fetchone()[0])
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        have = {n for (n,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if app_id not in (0, APPLICATION_ID):
            raise _refuse(p, f"an SQLite database of another program (application_id {app_id:#x})")
        if version == 0 or not have & set(TABLES):
            raise _refuse(p, "an SQLite database without spinewatch's schema")
        if version > SCHEMA_VERSION:
            raise SessionError(
                f"{p}: session file schema version {version} is newer than this spinewatch "
                f"supports ({SCHEMA_VERSION}); update spinewatch to open it"
            )
        missing = [t for t in TABLES if t not in have]
        if missing:
            raise SessionError(f"{p}: damaged session: missing table(s) {', '.join(missing)}")
        # Tables of later versions an older file lacks: empty TEMP stand-ins (in memory, not
        # in the file), so one set of queries reads every version without migrating it.
        for step in MIGRATIONS[version:]:
            for stmt in filter(str.strip, step.split(";")) if isinstance(step, str) else ():
                head = stmt.strip()
                if head.startswith("CREATE TABLE"):
                    db.execute(head.replace("CREATE TABLE", "CREATE TEMP TABLE", 1))
        db.execute("PRAGMA query_only = ON")
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        # (SQLite's message about a damaged schema can itself hold bytes that are not UTF-8)
        db.close()
        raise SessionError(f"{p}: not a readable session file ({exc})") from None
    except BaseException:
        db.close()
        raise
    return db


# -- where sessions live ----------------------------------------------------------------------
def data_dir(name: str) -> Path:
    """``$SPINEWATCH_HOME/NAME``, else ``$XDG_DATA_HOME`` or ``~/.local/share``/spinewatch/NAME."""
    home = os.environ.get("SPINEWATCH_HOME")
    if home:
        return Path(home) / name
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "spinewatch" / name


def sessions_dir() -> Path:
    """Where sessions live: :func:`data_dir` ``("sessions")``."""
    return data_dir("sessions")


def resolve(name_or_path: str | os.PathLike[str], *, must_exist: bool = True) -> Path:
    """A session path from a file path or a bare name in :func:`sessions_dir`."""
    p = Path(name_or_path)
    if p.is_file() or p.suffix == SUFFIX or len(p.parts) > 1:
        if must_exist and not p.is_file():
            raise SessionError(f"{p}: no such session file; see 'spinewatch sessions list'")
        return p
    q = sessions_dir() / (p.name + SUFFIX)
    if must_exist and not q.is_file():
        raise SessionError(
            f"no session named '{p}' in {sessions_dir()}; see 'spinewatch sessions list'"
        )
    return q


# -- meta --------------------------------------------------------------------------------------
def get_meta(db: sqlite3.Connection) -> dict[str, Any]:
    """The ``meta`` table; raises :class:`SessionError` for a value that is not JSON."""
    out: dict[str, Any] = {}
    for k, v in db.execute("SELECT key, value FROM meta"):
        try:
            out[str(k)] = json.loads(v)
        except (TypeError, ValueError):
            raise SessionError(f"damaged session: meta '{k}' is not valid JSON") from None
    return out


def set_meta(db: sqlite3.Connection, **items: Any) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [(k, dumps_json(v, indent=None)) for k, v in items.items()],
    )


def process_identity() -> dict[str, Any]:
    """Who is writing: pid plus its start time, so a reused pid is not mistaken for it."""
    return {"pid": os.getpid(), "start": _start_ticks(os.getpid()), "host": os.uname().nodename}


def _start_ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[19])


def writer_alive(writer: dict[str, Any] | None) -> bool:
    """Whether the process that opened the session for recording still runs."""
    if not isinstance(writer, dict) or writer.get("host") != os.uname().nodename:
        return False
    pid = writer.get("pid", -1)
    if not isinstance(pid, int) or isinstance(pid, bool) or not 0 < pid < 2**31:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = _start_ticks(pid)
    return start is None or writer.get("start") is None or start == writer["start"]


def current_status(meta: dict[str, Any]) -> SessionStatus:
    """The session's status from its meta; a recording whose writer is gone is *interrupted*.

    Nothing is written: the file keeps ``recording`` and every reader reports it as
    interrupted (the data up to the last commit are all there).
    """
    raw = meta.get("status", SessionStatus.INTERRUPTED.value)
    try:
        status = SessionStatus(raw)
    except ValueError:
        raise SessionError(f"damaged session: unknown status {raw!r}") from None
    if status is SessionStatus.RECORDING and not writer_alive(meta.get("writer")):
        return SessionStatus.INTERRUPTED
    return status


def finalize(db: sqlite3.Connection) -> None:
    """Fold the WAL into the main file and leave a single self-contained file."""
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute("PRAGMA journal_mode = DELETE")


# -- packing (schema versions 1-3: one float64 row per block; still read) ----------------
def _b(a: np.ndarray | None, dtype: str = "<f8") -> bytes | None:
    return None if a is None else np.ascontiguousarray(a, dtype=dtype).tobytes()


def pack_block(ord_: int, block: ImuBlock | OrientationBlock) -> tuple[Any, ...]:
    """A ``raw_blocks`` row for one block."""
    n = len(block)
    t0, t1 = (float(block.t[0]), float(block.t[-1])) if n else (np.nan, np.nan)
    if isinstance(block, OrientationBlock):
        head = (ord_, block.sensor, "quat", n, t0, t1, None, None, _b(block.t))
        return (*head, None, None, None, None, _b(block.quat))
    seq = block.seq
    s0, s1 = (int(seq[0]), int(seq[-1])) if seq is not None and n else (None, None)
    return (
        ord_,
        block.sensor,
        "imu",
        n,
        t0,
        t1,
        s0,
        s1,
        _b(block.t),
        _b(block.acc),
        _b(block.gyr),
        _b(block.mag),
        _b(seq, "<i8"),
        None,
    )


RAW_COLUMNS = "ord, role, kind, n, t0, t1, seq0, seq1, t, acc, gyr, mag, seq, quat"


def unpack_block(row: tuple[Any, ...]) -> ImuBlock | OrientationBlock:
    """Inverse of :func:`pack_block` (row in :data:`RAW_COLUMNS` order)."""
    _, role, kind, n, _, _, _, _, t, acc, gyr, mag, seq, quat = row

    def f(b: bytes | None, cols: int) -> Any:
        return None if b is None else np.frombuffer(b, "<f8").reshape(n, cols)

    tt = np.frombuffer(t, "<f8")
    if kind == "quat":
        return OrientationBlock(role, tt, f(quat, 4))
    s = None if seq is None else np.frombuffer(seq, "<i8")
    return ImuBlock(role, tt, f(acc, 3), f(gyr, 3), f(mag, 3), s)
