"""The batched session writer: the stream thread enqueues, a background thread commits.

The stream side (recorder loop, GUI) only appends references to numpy blocks onto an
unbounded :class:`queue.SimpleQueue` — no packing, no SQL, no waiting for the disk. The
writer thread packs the rows and commits one transaction at least every ``commit_interval_s``
(0.25 s by default, so with the commit itself a crash loses well under the 1 s budget).
The raw blocks of one role staged between two commits go into one compact ``raw_batches`` row
and the angle updates into one ``angle_batches`` row (:mod:`spinewatch.sessions.batches`).
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from posture.alerts import Alert
from posture.records import AngleBlock, ImuBlock, OrientationBlock
from posture.reps import RepMetrics
from spinewatch.fileio import dumps_json
from spinewatch.sessions.batches import (
    ANGLE_BATCH_COLUMNS,
    RAW_BATCH_COLUMNS,
    Scales,
    pack_angle_batch,
    pack_raw_batch,
    shape_key,
)
from spinewatch.sessions.store import (
    SCHEMA_VERSION,
    SessionError,
    SessionStatus,
    connect,
    finalize,
    process_identity,
    set_meta,
)

# Table → (INSERT head, columns per row). Rows go in as multi-row statements, see _insert.
_INSERTS = {
    "raw": (f"INSERT INTO raw_batches ({RAW_BATCH_COLUMNS}) VALUES ", 13),
    "ang": (f"INSERT INTO angle_batches ({ANGLE_BATCH_COLUMNS}) VALUES ", 5),
    "alert": ("INSERT OR REPLACE INTO alerts (start_s, plane, side, end_s, data) VALUES ", 5),
    "rep": ("INSERT OR REPLACE INTO reps (start_s, end_s, data) VALUES ", 3),
    "mark": ("INSERT INTO markers (before_ord, t_s, kind, text) VALUES ", 4),
    "link": ("INSERT INTO link_stats (t_s, role, data) VALUES ", 3),
}


_ROWS = 64
_BATCH_SAMPLES = 4096  # at most this many samples per packed batch row


def _insert(db: sqlite3.Connection, head: str, width: int, rows: list[tuple[Any, ...]]) -> None:
    """Insert rows mostly as 64-row statements.

    Python's sqlite3 releases the GIL around every statement step; ``executemany`` steps once
    per row, and while the stream thread is busy each re-acquisition can wait a switch
    interval (5 ms). Multi-row statements of one fixed size (plus single rows for the rest)
    cut the hand-overs 64-fold while keeping the statement cache to two small statements.
    """
    one = "(" + ", ".join("?" * width) + ")"
    full = len(rows) - len(rows) % _ROWS
    if full:
        sql = head + ", ".join([one] * _ROWS)
        for i in range(0, full, _ROWS):
            db.execute(sql, [v for r in rows[i : i + _ROWS] for v in r])
    if full < len(rows):
        db.executemany(head + one, rows[full:])


def _num(v: float) -> float | None:
    return None if v != v else float(v)  # NaN → NULL


class SessionWriter:
    """Create a session file and write it from a background thread.

    Args:
        path: the new session file (must not exist unless ``overwrite``).
        meta: JSON-able facts stored in ``meta`` (source, rates, profile, settings...).
        commit_interval_s: longest time between commits.
        overwrite: replace an existing file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        meta: Mapping[str, Any],
        *,
        commit_interval_s: float = 0.25,
        overwrite: bool = False,
    ) -> None:
        self.path = Path(path)
        if self.path.exists():
            if not overwrite:
                raise SessionError(
                    f"{self.path} already exists; choose another name or delete it with "
                    "'spinewatch sessions delete'"
                )
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.interval = commit_interval_s
        db = connect(self.path, create=True)
        with db:
            set_meta(
                db,
                **dict(meta),
                schema_version=SCHEMA_VERSION,
                status=SessionStatus.RECORDING.value,
                writer=process_identity(),
                created_unix=time.time(),
            )
        self._db: sqlite3.Connection | None = db
        self._q: queue.SimpleQueue[tuple[Any, ...]] = queue.SimpleQueue()
        self._ord = 0
        self._hints: Scales = {}  # count scales that worked last, per (role, field)
        self.error: BaseException | None = None
        self.commits = 0
        self.max_backlog = 0
        self._thread = threading.Thread(target=self._run, name="session-writer", daemon=True)
        self._thread.start()

    # -- stream side: cheap appends only ---------------------------------------------------
    @property
    def backlog(self) -> int:
        """Items queued and not yet staged by the writer thread."""
        return self._q.qsize()

    @property
    def blocks_queued(self) -> int:
        return self._ord

    def block(self, block: ImuBlock | OrientationBlock) -> int:
        """Queue one raw block; returns its arrival ordinal."""
        k = self._ord
        self._ord += 1
        self._q.put(("raw", k, block))
        return k

    def angles(self, angles: AngleBlock, under_load: np.ndarray) -> None:
        if len(angles):
            self._q.put(("ang", angles, under_load))

    def alerts(self, alerts: Iterable[Alert]) -> None:
        for a in alerts:
            self._q.put(("alert", a))

    def reps(self, reps: Iterable[RepMetrics]) -> None:
        for r in reps:
            self._q.put(("rep", r))

    def marker(self, kind: str, t_s: float | None, text: str = "") -> None:
        """A set start/end or a note, applied before the next queued block on replay."""
        self._q.put(("mark", self._ord, t_s, kind, text))

    def link(self, t_s: float, statuses: Mapping[str, Any]) -> None:
        self._q.put(("link", t_s, dict(statuses)))

    def meta(self, **items: Any) -> None:
        self._q.put(("meta", items))

    def check(self) -> None:
        """Raise if the writer thread failed (disk full, file removed...)."""
        if self.error is not None:
            raise SessionError(f"{self.path}: recording failed: {self.error}") from self.error

    def close(self, status: SessionStatus = SessionStatus.COMPLETE) -> None:
        """Write everything queued, mark the session ``status`` and release the file."""
        if self._db is None:
            return
        self._q.put(("close", status))
        self._thread.join()
        self._db = None
        self.check()

    # -- writer thread ----------------------------------------------------------------------
    def _run(self) -> None:
        db = self._db
        assert db is not None
        rows: dict[str, list[tuple[Any, ...]]] = {k: [] for k in _INSERTS}
        rows["_raw"], rows["_ang"] = [], []  # staged, packed into batches at the commit
        meta: dict[str, Any] = {}
        last = time.monotonic()
        try:
            while True:
                try:
                    item = self._q.get(timeout=max(0.0, last + self.interval - time.monotonic()))
                except queue.Empty:
                    item = None
                if item is not None and item[0] == "close":
                    meta["status"] = SessionStatus(item[1]).value
                    meta["closed_unix"] = time.time()
                    self._commit(db, rows, meta)
                    finalize(db)
                    break
                if item is not None:
                    self._stage(item, rows, meta)
                if time.monotonic() - last >= self.interval:
                    self.max_backlog = max(self.max_backlog, self._q.qsize())
                    self._commit(db, rows, meta)
                    last = time.monotonic()
        except BaseException as exc:  # surfaced to the stream side by check()
            self.error = exc
        finally:
            db.close()

    def _stage(
        self, item: tuple[Any, ...], rows: dict[str, list[tuple[Any, ...]]], meta: dict[str, Any]
    ) -> None:
        kind = item[0]
        if kind == "raw":
            rows["_raw"].append((item[1], item[2]))
        elif kind == "ang":
            rows["_ang"].append((item[1], item[2]))
        elif kind == "alert":
            al: Alert = item[1]
            data = dumps_json(asdict(al), indent=None)  # NaN (still open) -> null
            rows["alert"].append((al.start_s, al.plane, al.side, _num(al.end_s), data))
        elif kind == "rep":
            r: RepMetrics = item[1]
            rows["rep"].append((r.start_s, r.end_s, dumps_json(asdict(r), indent=None)))
        elif kind == "mark":
            rows["mark"].append(tuple(item[1:]))
        elif kind == "link":
            for role, st in item[2].items():
                d = asdict(st) if hasattr(st, "__dataclass_fields__") else dict(st)
                rows["link"].append((item[1], role, dumps_json(d, indent=None)))
        elif kind == "meta":
            meta.update(item[1])

    def _commit(
        self, db: sqlite3.Connection, rows: dict[str, list[tuple[Any, ...]]], meta: dict[str, Any]
    ) -> None:
        if not meta and not any(rows.values()):
            return
        self._pack(rows)
        db.execute("BEGIN")
        for k, (head, width) in _INSERTS.items():
            if rows[k]:
                _insert(db, head, width, rows[k])
                rows[k].clear()
        if meta:
            set_meta(db, **meta)
            meta.clear()
        db.execute("COMMIT")
        self.commits += 1

    def _pack(self, rows: dict[str, list[Any]]) -> None:
        """Staged raw blocks → one batch row per run of same-shaped blocks of a role."""
        runs: dict[tuple[str, int], list[tuple[int, Any]]] = {}
        size: dict[tuple[str, int], int] = {}
        out: list[tuple[int, tuple[Any, ...]]] = []  # (first ordinal, row), to keep order
        for k, b in rows["_raw"]:
            key = shape_key(b)
            run = runs.get(key)
            if run is None:
                # A block of another shape for this role closes the role's open run.
                for other in [o for o in runs if o[0] == key[0]]:
                    out.append((runs[other][0][0], pack_raw_batch(runs.pop(other), self._hints)))
                run = runs[key] = []
                size[key] = 0
            run.append((k, b))
            size[key] += len(b)
            if size[key] >= _BATCH_SAMPLES:
                out.append((run[0][0], pack_raw_batch(runs.pop(key), self._hints)))
        for run in runs.values():
            out.append((run[0][0], pack_raw_batch(run, self._hints)))
        rows["raw"].extend(r for _, r in sorted(out, key=lambda x: x[0]))
        rows["_raw"].clear()
        ang = rows["_ang"]
        for i in range(0, len(ang), 256):
            rows["ang"].append(pack_angle_batch(ang[i : i + 256]))
        ang.clear()
