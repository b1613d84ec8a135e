"""Reading a session file: blocks in arrival order, angles, events, link statistics, summary.

Large sessions are read page by page (keyset pagination over the block ordinal), so replay
and exports of an 8-hour recording keep memory flat. Both storage forms are read: the compact
batches of schema 4 and the one-row-per-block float64 rows of older files.

Opening never writes (:func:`~spinewatch.sessions.store.open_readonly`). Whatever is wrong in
a file — meta that is not JSON, an unknown status, settings of the wrong type, a BLOB of the
wrong length, rows that do not fit the records — surfaces as one :class:`SessionError`
("damaged session: ..."), never as a traceback.
"""

from __future__ import annotations

import contextlib
import dataclasses
import heapq
import json
import math
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from posture.alerts import Alert, LoadSettings
from posture.errors import SpinewatchError
from posture.records import ANGLE_COLUMNS, ROLES, AngleBlock, ImuBlock, OrientationBlock
from posture.reps import RepMetrics
from spinewatch.sessions.batches import unpack_angle_batch, unpack_raw_batch
from spinewatch.sessions.codec import CodecError
from spinewatch.sessions.store import (
    RAW_COLUMNS,
    SUFFIX,
    SessionError,
    SessionStatus,
    current_status,
    get_meta,
    open_readonly,
    unpack_block,
)

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.engine import EngineSettings
    from posture.thresholds import Thresholds

Block = ImuBlock | OrientationBlock


@dataclass(frozen=True)
class Marker:
    """A set start/end or a note; ``before_ord``: applied before that block on replay."""

    before_ord: int
    t_s: float | None
    kind: str  # "set_start", "set_end" or "note"
    text: str = ""


@dataclass(frozen=True)
class SessionSummary:
    """What ``spinewatch sessions list/show`` prints."""

    name: str
    path: Path
    status: SessionStatus
    created_unix: float
    t0: float
    t1: float
    samples: dict[str, int]
    dropped: dict[str, int]
    alerts: int
    reps: int
    sets: int
    notes: int
    size_bytes: int
    source: str

    @property
    def duration_s(self) -> float:
        return max(0.0, self.t1 - self.t0) if np.isfinite(self.t0) else 0.0


def unpack_angles(n: int, data: bytes) -> tuple[AngleBlock, NDArray[np.bool_]]:
    m = np.frombuffer(data, "<f8").reshape(n, 10)
    cols = {c: m[:, i + 1] for i, c in enumerate(ANGLE_COLUMNS)}
    ang = AngleBlock(t=m[:, 0], flags=m[:, 8].astype(np.uint8), **cols)
    return ang, m[:, 9] != 0


# Meta keys whose type the readers rely on: key -> (accepted types, what it should be).
_NUM = (int, float)
_META_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "rates_hz": ((dict,), "an object of rates"),
    "clock": ((list,), "[offset, drift]"),
    "profile": ((dict, type(None)), "a profile object or null"),
    "thresholds": ((dict, type(None)), "a thresholds object or null"),
    "load_mode": ((str,), "auto, always or never"),
    "use_mag": ((bool,), "true or false"),
    "created_unix": (_NUM, "a number"),
    "closed_unix": ((*_NUM, type(None)), "a number"),
    "source": ((str,), "text"),
}


def _check_meta(meta: dict[str, Any]) -> None:
    for key, (types, what) in _META_TYPES.items():
        v = meta.get(key)
        if key in meta and (not isinstance(v, types) or isinstance(v, bool) and bool not in types):
            raise SessionError(f"damaged session: meta '{key}' is {v!r:.40}, not {what}")
    rates = meta.get("rates_hz", {})
    if not all(v is None or isinstance(v, _NUM) and math.isfinite(v) and v > 0
               for v in rates.values()):  # fmt: skip
        raise SessionError("damaged session: meta 'rates_hz' holds a rate that is not > 0")
    clock = meta.get("clock", [0.0, 0.0])
    if len(clock) != 2 or not all(isinstance(v, _NUM) and math.isfinite(v) for v in clock):
        raise SessionError("damaged session: meta 'clock' is not [offset, drift]")
    if meta.get("load_mode", "auto") not in ("auto", "always", "never"):
        raise SessionError(f"damaged session: unknown load_mode {meta['load_mode']!r:.40}")


def _record(cls: type, text: str) -> Any:
    """An :class:`Alert` or :class:`RepMetrics` from its stored JSON (null = NaN), type-checked."""
    d = json.loads(text)
    if not isinstance(d, dict):
        raise ValueError(f"{cls.__name__} row is not a JSON object")
    kw: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in d:
            if f.default is dataclasses.MISSING:
                raise ValueError(f"{cls.__name__} row has no '{f.name}'")
            continue
        v = d[f.name]
        kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
        if kind == "float":
            if v is None:
                v = math.nan
            elif not isinstance(v, _NUM) or isinstance(v, bool):
                raise ValueError(f"{cls.__name__} '{f.name}' is {v!r:.40}, not a number")
            v = float(v)
        elif kind == "str" and not isinstance(v, str) or kind == "bool" and not isinstance(v, bool):
            raise ValueError(f"{cls.__name__} '{f.name}' is {v!r:.40}, not {kind}")
        kw[f.name] = v
    return cls(**kw)


def _check_block(n: int, block: Block) -> None:
    if not isinstance(n, int) or n < 0 or block.sensor not in ROLES:
        raise ValueError(f"block of {n!r:.20} samples from role {block.sensor!r:.40}")
    arrays = [block.t, *(getattr(block, a, None) for a in ("acc", "gyr", "mag", "seq", "quat"))]
    if any(a is not None and len(a) != n for a in arrays):
        raise ValueError(f"a BLOB of the wrong length for {n} samples")


class SessionFile:
    """An open session, read-only: the file is never written (see :func:`open_readonly`).

    A recording whose writer died reads as *interrupted*; a damaged file raises
    :class:`SessionError` on open or when the damaged part is read.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.db = open_readonly(self.path)
        try:
            with self.damaged("meta"):
                self.meta: dict[str, Any] = get_meta(self.db)
                _check_meta(self.meta)
                self.status = current_status(self.meta)
        except BaseException:
            self.db.close()
            raise

    @contextlib.contextmanager
    def damaged(self, what: str) -> Iterator[None]:
        """Turn whatever a damaged file makes the readers raise into one SessionError."""
        try:
            yield
        except SessionError as exc:
            msg = str(exc)
            raise SessionError(
                msg if msg.startswith(str(self.path)) else f"{self.path}: {msg}"
            ) from None
        except (SpinewatchError,  # e.g. a block whose arrays do not fit together
                sqlite3.DatabaseError, ValueError, TypeError, KeyError, IndexError,
                OverflowError, AttributeError) as exc:  # fmt: skip
            raise SessionError(f"{self.path}: damaged session ({what}: {exc})") from None

    def __enter__(self) -> SessionFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @property
    def name(self) -> str:
        return self.path.name.removesuffix(SUFFIX)

    def verify(self) -> None:
        """Read every stored row once; raises :class:`SessionError` if any part is damaged.

        For consumers that read lazily inside an event loop (the GUI's replay), where an
        error surfacing half-way could not be reported as one line.
        """
        for _ in self.iter_blocks():
            pass
        for _ in self.iter_angles():
            pass
        self.alerts(), self.reps(), self.markers(), self.link_stats(), self.summary()
        self.profile(), self.thresholds()

    # -- settings stored at recording time ---------------------------------------------------
    def profile(self) -> CalibrationProfile | None:
        from calibration import CalibrationProfile

        d = self.meta.get("profile")
        with self.damaged("profile"):
            return (
                None if d is None else CalibrationProfile.from_json_dict(d, f"{self.path} profile")
            )

    def thresholds(self) -> Thresholds:
        from posture.thresholds import Thresholds

        d = self.meta.get("thresholds")
        with self.damaged("thresholds"):
            return Thresholds.from_json_dict(d) if d else Thresholds()

    def load_settings(self) -> LoadSettings:
        return LoadSettings(mode=self.meta.get("load_mode", "auto"))

    def engine_settings(self) -> EngineSettings:
        """The engine settings of the recording (rates, host-time clock, fusion)."""
        from posture.alignment import ClockMap
        from posture.engine import EngineSettings
        from posture.fusion import FusionSettings

        rates = self.meta.get("rates_hz", {})
        clock = self.meta.get("clock", [0.0, 0.0])
        return EngineSettings(
            fusion=FusionSettings(use_mag=bool(self.meta.get("use_mag", False))),
            lumbar_rate_hz=rates.get("lumbar"),
            thoracic_rate_hz=rates.get("thoracic"),
            clock=ClockMap(float(clock[0]), float(clock[1])),
        )

    # -- data --------------------------------------------------------------------------------
    def iter_blocks(self, role: str | None = None, page: int = 2000) -> Iterator[tuple[int, Block]]:
        """``(ordinal, block)`` in arrival order, optionally of one role."""
        merged = heapq.merge(
            self._iter_block_rows(role, page), self._iter_batches(role), key=lambda kb: kb[0]
        )
        # One guard around the whole loop, not one per block: the consumer's own exceptions
        # never enter this generator (only GeneratorExit on close, which passes through).
        with self.damaged("raw data"):
            yield from merged

    def _guarded(self, it: Iterator[Any], what: str) -> Iterator[Any]:
        """``it``, with whatever a damaged file makes it raise turned into one SessionError."""
        with self.damaged(what):
            yield from it

    def _iter_block_rows(self, role: str | None, page: int) -> Iterator[tuple[int, Block]]:
        """Schema 1-3 rows, one float64 row per block."""
        last = -1
        where = "ord > ?" + (" AND role = ?" if role else "")
        sql = f"SELECT {RAW_COLUMNS} FROM raw_blocks WHERE {where} ORDER BY ord LIMIT {page}"
        while True:
            rows = self.db.execute(sql, (last, role) if role else (last,)).fetchall()
            if not rows:
                return
            for row in rows:
                b = unpack_block(row)
                _check_block(len(b.t), b)
                yield int(row[0]), b
            last = int(rows[-1][0])

    def _iter_batches(self, role: str | None, page: int = 200) -> Iterator[tuple[int, Block]]:
        """Schema 4 batches. The two roles' batches overlap in ordinals, so blocks wait in a
        heap until no batch still to come (ordered by first ordinal) can precede them."""
        last = -1
        where = "ord0 > ?" + (" AND role = ?" if role else "")
        sql = f"SELECT ord0, role, data FROM raw_batches WHERE {where} ORDER BY ord0 LIMIT {page}"
        pending: list[tuple[int, int, Block]] = []
        serial = 0  # tie-breaker, never compares blocks
        while True:
            rows = self.db.execute(sql, (last, role) if role else (last,)).fetchall()
            for ord0, r, data in rows:
                while pending and pending[0][0] < ord0:
                    k, _, b = heapq.heappop(pending)
                    yield k, b
                if r not in ROLES:  # (the blocks' lengths are checked batch by batch)
                    raise ValueError(f"raw batch from role {r!r:.40}")
                try:
                    unpacked = unpack_raw_batch(r, data)
                except CodecError as exc:
                    msg = f"{self.path}: damaged raw batch at block {ord0}: {exc}"
                    raise SessionError(msg) from None
                for k, b in unpacked:
                    heapq.heappush(pending, (k, serial, b))
                    serial += 1
            if not rows:
                break
            last = int(rows[-1][0])
        while pending:
            k, _, b = heapq.heappop(pending)
            yield k, b

    def raw(self, role: str) -> ImuBlock:
        """All raw samples of one role as one block (with sequence numbers)."""
        parts = [b for _, b in self.iter_blocks(role) if isinstance(b, ImuBlock) and len(b)]
        if not parts:
            raise SessionError(f"{self.path}: no raw {role} samples in this session")
        return ImuBlock.concat(parts)

    def has_mag_everywhere(self) -> bool:
        """Whether every non-empty IMU block carries magnetometer samples."""
        q = (
            "SELECT (SELECT COUNT(*) FROM raw_blocks WHERE kind = 'imu' AND n > 0 AND mag IS NULL)"
            " + (SELECT COUNT(*) FROM raw_batches WHERE kind = 'imu' AND n > 0 AND mag = 0)"
        )
        with self.damaged("raw data"):
            return int(self.db.execute(q).fetchone()[0]) == 0

    def roles(self) -> list[str]:
        q = "SELECT DISTINCT role FROM raw_blocks UNION SELECT DISTINCT role FROM raw_batches"
        with self.damaged("raw data"):
            have = {r for (r,) in self.db.execute(q)}
        return [r for r in ROLES if r in have]

    def iter_angles(self, page: int = 500) -> Iterator[tuple[AngleBlock, NDArray[np.bool_]]]:
        """Angle updates as recorded: older files' rows first, then schema-4 batches."""
        return self._guarded(self._iter_angles(page), "angles")

    def _iter_angles(
        self, page: int, whole_batches: bool = False
    ) -> Iterator[tuple[AngleBlock, NDArray[np.bool_]]]:
        """Per update; ``whole_batches``: a schema-4 batch's updates as one block."""
        for table in ("angle_blocks", "angle_batches"):
            last = 0
            sql = f"SELECT id, n, data FROM {table} WHERE id > ? ORDER BY id LIMIT {page}"
            while True:
                rows = self.db.execute(sql, (last,)).fetchall()
                if not rows:
                    break
                for i, n, data in rows:
                    if table == "angle_blocks":
                        yield unpack_angles(n, data)
                        continue
                    try:
                        yield from unpack_angle_batch(data, whole_batches)
                    except CodecError as exc:
                        raise SessionError(f"{self.path}: damaged angle batch {i}: {exc}") from None
                last = int(rows[-1][0])

    def angles(self) -> tuple[AngleBlock, NDArray[np.bool_]]:
        """The live angles recorded with the session and the under-load flag per sample."""
        # Whole batches: the same samples as the updates, in far fewer pieces to join.
        parts = list(self._guarded(self._iter_angles(500, whole_batches=True), "angles"))
        if not parts:
            return AngleBlock.empty(), np.zeros(0, dtype=bool)
        return AngleBlock.concat([a for a, _ in parts]), np.concatenate([u for _, u in parts])

    def alerts(self) -> list[Alert]:
        with self.damaged("alerts"):
            rows = self.db.execute("SELECT data FROM alerts ORDER BY start_s, plane, side")
            return [_record(Alert, d) for (d,) in rows]

    def reps(self) -> list[RepMetrics]:
        with self.damaged("reps"):
            rows = self.db.execute("SELECT data FROM reps ORDER BY start_s")
            return [_record(RepMetrics, d) for (d,) in rows]

    def markers(self) -> list[Marker]:
        with self.damaged("markers"):
            rows = self.db.execute("SELECT before_ord, t_s, kind, text FROM markers ORDER BY id")
            out = [Marker(int(o), None if t is None else float(t), str(k), str(x))
                   for o, t, k, x in rows]  # fmt: skip
        return out

    def link_stats(self) -> dict[str, list[tuple[float, dict[str, Any]]]]:
        """Per role, the link status snapshots ``(stream time, LinkStatus fields)``."""
        out: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        with self.damaged("link_stats"):
            for t, role, d in self.db.execute("SELECT t_s, role, data FROM link_stats ORDER BY id"):
                snap = json.loads(d)
                if not isinstance(snap, dict):
                    raise ValueError("a link status that is not a JSON object")
                out.setdefault(str(role), []).append((float(t), snap))
        return out

    def summary(self) -> SessionSummary:
        with self.damaged("summary"):
            return self._summary()

    def _summary(self) -> SessionSummary:
        samples: dict[str, int] = {}
        dropped: dict[str, int] = {}
        t0, t1 = np.inf, -np.inf
        q = (
            "SELECT role, SUM(n), MIN(t0), MAX(t1), MIN(seq0), MAX(seq1), SUM(n_seq) FROM ("
            "SELECT role, n, t0, t1, seq0, seq1, CASE WHEN seq0 IS NULL THEN 0 ELSE n END "
            "AS n_seq FROM raw_blocks WHERE n > 0 UNION ALL "
            "SELECT role, n, t0, t1, seq0, seq1, n_seq FROM raw_batches WHERE n > 0"
            ") GROUP BY role"
        )
        for role, n, a, b, s0, s1, n_seq in self.db.execute(q):
            if role not in ROLES:
                raise ValueError(f"raw data has an unknown role {role!r:.40}")
            samples[role] = int(n)
            dropped[role] = int(s1 - s0 + 1 - n_seq) if s0 is not None else 0
            t0, t1 = min(t0, a), max(t1, b)

        def count(sql: str) -> int:
            return int(self.db.execute(sql).fetchone()[0])

        return SessionSummary(
            name=self.name,
            path=self.path,
            status=self.status,
            created_unix=float(self.meta.get("created_unix", 0.0)),
            t0=float(t0) if samples else np.nan,
            t1=float(t1) if samples else np.nan,
            samples=samples,
            dropped=dropped,
            alerts=count("SELECT COUNT(*) FROM alerts"),
            reps=count("SELECT COUNT(*) FROM reps"),
            sets=count("SELECT COUNT(*) FROM markers WHERE kind = 'set_start'"),
            notes=count("SELECT COUNT(*) FROM markers WHERE kind = 'note'"),
            size_bytes=sum(
                p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists()
            ),
            source=str(self.meta.get("source", "")),
        )
