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
``PRAGMA user_version``; :data:`MIGRATIONS` upgrades older files step by step on open.
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

SUFFIX = ".sqlite"


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
    """Open (or create) a session database and migrate it to the current schema."""
    p = Path(path)
    if not create and not p.is_file():
        raise SessionError(f"{p}: no such session file; see 'spinewatch sessions list'")
    try:
        db = sqlite3.connect(p, timeout=10.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA busy_timeout = 10000")
        if create:
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise SessionError(f"{p}: not a readable session file ({exc})") from None
    return db


# -- where sessions live ----------------------------------------------------------------------
def sessions_dir() -> Path:
    """``$SPINEWATCH_HOME/sessions``, else ``$XDG_DATA_HOME`` or ``~/.local/share``/spinewatch."""
    home = os.environ.get("SPINEWATCH_HOME")
    if home:
        return Path(home) / "sessions"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "spinewatch" / "sessions"


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
    return {k: json.loads(v) for k, v in db.execute("SELECT key, value FROM meta")}


def set_meta(db: sqlite3.Connection, **items: Any) -> None:
    db.executemany(
        "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
        [(k, json.dumps(v)) for k, v in items.items()],
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
    if not writer or writer.get("host") != os.uname().nodename:
        return False
    pid = int(writer.get("pid", -1))
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    start = _start_ticks(pid)
    return start is None or writer.get("start") is None or start == writer["start"]


def settle_status(db: sqlite3.Connection) -> SessionStatus:
    """The session's status; a recording whose writer is gone is marked interrupted now."""
    meta = get_meta(db)
    status = SessionStatus(meta.get("status", SessionStatus.INTERRUPTED))
    if status is SessionStatus.RECORDING and not writer_alive(meta.get("writer")):
        try:
            set_meta(db, status=SessionStatus.INTERRUPTED.value)
            finalize(db)
        except sqlite3.OperationalError:
            pass  # a read-only copy: report it as interrupted without marking the file
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
