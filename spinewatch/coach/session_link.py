"""Coach runs recorded as sessions: raw data, live angles, each set as a set and a note.

With ``train --record NAME`` the coach's blocks also go through the ordinary session
:class:`~spinewatch.sessions.recorder.Recorder` (same file format as ``spinewatch record``):
each drill set becomes a set (start/end markers), its verdict a note, and all set results are
kept in the session's ``meta`` as ``coach_sets``; the progress store records the session name.
"""

from __future__ import annotations

import os
from typing import Any

from calibration.profile import CalibrationProfile
from firmware_bridge.api import LinkStatus, SampleSource
from posture.records import ImuBlock
from spinewatch.coach.store import SetRecord
from spinewatch.sessions.recorder import Recorder
from spinewatch.sessions.store import SessionStatus


class _Rates:
    """What the recorder asks of a source when the blocks come from elsewhere."""

    def __init__(self, rates_hz: dict[str, float]) -> None:
        self.rates_hz = rates_hz

    def status(self) -> dict[str, LinkStatus]:
        return {}


class SessionLink:
    """Record the coach's blocks and set results into a new session file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        profile: CalibrationProfile,
        rates_hz: dict[str, float],
        source: SampleSource | None = None,
    ) -> None:
        self.path = str(path)
        self.name = os.path.splitext(os.path.basename(self.path))[0]
        src = source if source is not None else _Rates(rates_hz)
        self.rec = Recorder(src, path, profile, meta={"coach": True})
        self.rec.begin()
        self.sets: list[dict[str, Any]] = []

    def block(self, b: ImuBlock) -> None:
        self.rec.consume(b)

    def set_started(self) -> None:
        self.rec.start_set()

    def set_ended(self, record: SetRecord, verdict: str) -> None:
        self.rec.end_set()
        self.rec.note(f"coach: {record.drill} set {record.set_index}: {verdict}")
        self.sets.append({"drill": record.drill, "set": record.set_index, **record.summary})
        self.rec.writer.meta(coach_sets=self.sets)

    def close(self, complete: bool = True) -> None:
        self.rec.finish(SessionStatus.COMPLETE if complete else SessionStatus.INTERRUPTED)
