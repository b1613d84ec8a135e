"""Replay a recorded session through the live pipeline, or as a :class:`SampleSource`.

Replay pushes the stored raw blocks — the very blocks the recorder received, with their
boundaries and in their arrival order — through a fresh :class:`~posture.live.LivePipeline`
built with the recording's engine settings, and applies set markers before the same block as
live. With the recording's profile and thresholds the output is the live output, bit for bit
(tested); with another profile or thresholds it is what live would have shown. A re-analysis
that wants the best estimate uses :mod:`spinewatch.sessions.reanalysis` (batch) instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
from numpy.typing import NDArray

from firmware_bridge.api import Block, LinkState, LinkStatus
from posture.alerts import Alert, LoadSettings
from posture.live import LivePipeline, LiveUpdate
from posture.records import ROLES, AngleBlock
from posture.reps import RepMetrics
from spinewatch.sessions.reader import Marker, SessionFile

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.thresholds import Thresholds


class _Stored(Enum):
    PROFILE = "the profile recorded with the session"


StoredProfile = Literal[_Stored.PROFILE]
STORED_PROFILE: Final = _Stored.PROFILE  # replay_session's default: the recorded profile


@dataclass
class ReplayResult:
    """Everything a replay produced (alerts as ended, plus any still open at the end)."""

    angles: AngleBlock
    under_load: NDArray[np.bool_]
    alerts: list[Alert] = field(default_factory=list)
    raised: list[Alert] = field(default_factory=list)
    reps: list[RepMetrics] = field(default_factory=list)


def _apply(pipe: LivePipeline, m: Marker) -> None:
    if m.kind == "set_start":
        pipe.start_set(m.t_s)
    elif m.kind == "set_end":
        pipe.end_set(m.t_s)


def replay_session(
    session: SessionFile,
    profile: CalibrationProfile | None | StoredProfile = STORED_PROFILE,
    thresholds: Thresholds | None = None,
    load_mode: str | None = None,
    *,
    speed: float = 0.0,
    on_update: Callable[[LiveUpdate], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> ReplayResult:
    """Push a session's raw blocks through a live pipeline.

    Args:
        session: an open session.
        profile: calibration profile; default the one recorded with the session.
        thresholds: alert limits; default the recorded ones.
        load_mode: load context mode; default the recorded one.
        speed: 1 = real time, 2 = twice as fast, 0 = as fast as possible.
        on_update: called with every pipeline update (e.g. to print alerts).
        clock, sleep: injectable for tests.
    """
    prof = session.profile() if profile is STORED_PROFILE else profile
    pipe = LivePipeline(
        None if prof is None else prof.spine_model,
        thresholds or session.thresholds(),
        LoadSettings(mode=load_mode) if load_mode else session.load_settings(),
        session.engine_settings(),
    )
    markers = session.markers()
    mi = 0
    parts: list[AngleBlock] = []
    loads: list[NDArray[np.bool_]] = []
    out = ReplayResult(AngleBlock.empty(), np.zeros(0, bool))

    def keep(up: LiveUpdate) -> None:
        if len(up.angles):
            parts.append(up.angles)
            loads.append(up.under_load)
        out.raised += up.raised
        out.alerts += up.ended
        out.reps += up.reps
        if on_update is not None:
            on_update(up)

    wall0 = clock()
    t_first: float | None = None
    for k, block in session.iter_blocks():
        while mi < len(markers) and markers[mi].before_ord <= k:
            _apply(pipe, markers[mi])
            mi += 1
        if speed > 0 and len(block):
            t_first = float(block.t[0]) if t_first is None else t_first
            delay = (float(block.t[-1]) - t_first) / speed - (clock() - wall0)
            if delay > 0:
                sleep(delay)
        keep(pipe.push(block))
    for m in markers[mi:]:
        _apply(pipe, m)
    keep(pipe.flush())
    out.angles = AngleBlock.concat(parts)
    out.under_load = np.concatenate(loads) if loads else np.zeros(0, bool)
    return out


class ReplaySource:
    """A recorded session as a :class:`~firmware_bridge.api.SampleSource` (GUI replay).

    Delivers the stored blocks paced to ``clock`` × ``speed`` (0: ``burst_s`` of stream time
    per :meth:`read`), with the recorded link statistics as :meth:`status`.
    """

    def __init__(
        self,
        session: SessionFile,
        *,
        speed: float = 1.0,
        burst_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.markers = session.markers()
        self._speed = speed
        self._burst = burst_s
        self._clock = clock
        rates = session.meta.get("rates_hz", {})
        self._rates = {r: float(v) for r, v in rates.items() if v}
        self._links = session.link_stats()
        self._link_t = {r: np.array([t for t, _ in v]) for r, v in self._links.items()}
        self._it: Iterator[tuple[int, Block]] | None = None
        self._next: tuple[int, Block] | None = None
        self._done = False
        self._wall0 = 0.0
        self._t_first: float | None = None
        self._edge = -np.inf
        self._stopped = False

    @property
    def rates_hz(self) -> dict[str, float]:
        return dict(self._rates)

    @property
    def finished(self) -> bool:
        return self._done

    async def start(self) -> None:
        self._it = self.session.iter_blocks()
        self._wall0 = self._clock()
        self._advance()

    async def stop(self) -> None:
        self._stopped = True

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        return False  # a recording has no sensor to buzz

    def taps(self) -> list[tuple[str, float]]:
        return []  # taps were recorded as set markers, which replay applies itself

    def _advance(self) -> None:
        assert self._it is not None
        self._next = next(self._it, None)
        if self._next is None:
            self._done = True
        elif self._t_first is None and len(self._next[1]):
            self._t_first = float(self._next[1].t[0])

    def read(self) -> list[Block]:
        """Stored blocks whose last sample is due by now, in arrival order."""
        if self._it is None or self._stopped:
            return []
        t_first = self._t_first if self._t_first is not None else 0.0
        if self._speed > 0:
            target = t_first + (self._clock() - self._wall0) * self._speed
        else:
            target = (self._edge if np.isfinite(self._edge) else t_first) + self._burst
        out: list[Block] = []
        while self._next is not None:
            b = self._next[1]
            if len(b) and b.t[-1] > target:
                break
            out.append(b)
            if len(b):
                self._edge = max(self._edge, float(b.t[-1]))
            self._advance()
        return out

    def status(self) -> dict[str, LinkStatus]:
        """The recorded link statistics as of the replay position."""
        out = {}
        state = LinkState.STOPPED if self._done or self._stopped else LinkState.STREAMING
        for role in ROLES:
            snaps = self._links.get(role, [])
            i = int(np.searchsorted(self._link_t.get(role, []), self._edge, side="right")) - 1
            d: dict[str, Any] = dict(snaps[i][1]) if i >= 0 else {"role": role}
            d["state"] = state
            d["message"] = "replay"
            known = LinkStatus.__dataclass_fields__
            out[role] = LinkStatus(**{k: v for k, v in d.items() if k in known})
        return out
