"""Alerts when the spine leaves neutral under load, as a streaming state machine.

Six channels (flexion, lateral flexion and rotation, each side) are processed together as one
``(N, 6)`` array per block. Each channel has hysteresis (an excursion starts beyond the limit
and ends only ``hysteresis_deg`` back inside it) and a minimum duration (the alert is raised
once the angle has stayed beyond the limit for ``min_duration_s``). Samples outside load
context end excursions; NaN samples (sensor gaps) neither start nor end one. State carries
across blocks, so streaming in any chunking gives the same alerts as one batch call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posture.anchors import UNCERTAIN_FRACTION, error_from_confidence_one, rotation_uncertain
from posture.load import LoadContext, LoadSettings, WholeRecordingLoad, hysteresis
from posture.records import AngleBlock
from posture.thresholds import PLANES, Thresholds

__all__ = ["Alert", "AlertEngine", "LoadContext", "LoadSettings", "detect_alerts", "hysteresis"]

F64 = NDArray[np.float64]
CHANNELS = tuple((p, side) for p in PLANES for side in ("positive", "negative"))


@dataclass(frozen=True)
class Alert:
    """One excursion beyond a limit (times in s on the angle stream's clock, angles in deg)."""

    start_s: float  # first sample beyond the limit
    alert_s: float  # when the alert was raised (start + minimum duration)
    end_s: float  # first sample back inside (limit − hysteresis); NaN while ongoing
    plane: str
    side: str
    peak_deg: float
    under_load: bool = True

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def is_review(self) -> bool:
        """Raised after it ended: a set's first rep, reviewed once the set was recognised
        (:mod:`posture.rep_review`), not a warning in the moment."""
        return self.alert_s > self.end_s

    def to_json_dict(self) -> dict[str, object]:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "alert_s": self.alert_s,
            "plane": self.plane,
            "side": self.side,
            "peak_deg": round(self.peak_deg, 2),
            "duration_s": round(self.duration_s, 3),
            "under_load": self.under_load,
        }


class AlertEngine:
    """Hysteresis + minimum-duration alerts per plane and side, under load only."""

    def __init__(self, thresholds: Thresholds, load: LoadContext | None = None):
        self.thresholds = thresholds
        self.load = load or LoadContext()
        self._limit = np.array(
            [abs(thresholds.limits[p][0 if s == "negative" else 1]) for p, s in CHANNELS]
        )
        self._state = np.zeros(len(CHANNELS), dtype=bool)
        self._start = np.full(len(CHANNELS), np.nan)
        self._peak = np.full(len(CHANNELS), np.nan)
        self._raised = np.zeros(len(CHANNELS), dtype=bool)
        # The expected rotation error beyond which rotation alerts are withheld (either side).
        self._unsure_from = float((UNCERTAIN_FRACTION * self._limit[4:]).min())
        self.active: dict[tuple[str, str], Alert] = {}
        self.last_load: NDArray[np.bool_] = np.zeros(0, dtype=bool)  # of the last block
        self.rotation_uncertain = True  # rotation alerts withheld (GUI greys the light)

    def process(self, a: AngleBlock) -> tuple[list[Alert], list[Alert]]:
        """Feed a block; return (alerts raised in it, alerts that ended in it)."""
        n = len(a)
        if n == 0:
            return [], []
        load = self.load.update(a)
        self.last_load = load
        # Rotation is withheld (never raised, an excursion ends) while its expected error is
        # a large part of the limit: 6D heading drifts between anchors (posture.anchors).
        # On a live block of a few samples the common cases are tested in Python floats
        # (numpy's per-call overhead costs more than the samples).
        small = n <= 32
        if True not in self._state.tolist():
            err = error_from_confidence_one(a.rotation_confidence[-1])
            self.rotation_uncertain = bool(err > self._unsure_from)
            if (True not in load.tolist()) if small else not load.any():
                return [], []  # the common case off load: nothing can start or run
            if small and not self._any_beyond(a, load):
                return [], []  # the common case under load: every plane inside its limits
        x = np.empty((len(a), 6))
        x[:, 0::2] = np.vstack((a.flexion, a.lateral_flexion, a.rotation)).T
        np.negative(x[:, 0::2], out=x[:, 1::2])
        beyond = (x > self._limit) & load[:, None]
        unsure = rotation_uncertain(a.rotation_confidence, self._limit[4:])
        beyond[:, 4:] &= ~unsure
        self.rotation_uncertain = bool(unsure[-1].any())
        if not self._state.any() and not beyond.any():
            return [], []  # the common case under load: every plane inside its limits
        inside = (x < self._limit - self.thresholds.hysteresis_deg) | ~load[:, None]
        inside[:, 4:] |= unsure
        state = hysteresis(beyond, inside, self._state)
        prev = np.vstack((self._state[None, :], state[:-1]))
        raised: list[Alert] = []
        ended: list[Alert] = []
        for c in np.flatnonzero(state.any(axis=0) | self._state).tolist():
            self._channel(c, a.t, x[:, c], state[:, c], prev[:, c], raised, ended)
        return raised, ended

    def _any_beyond(self, a: AngleBlock, load: NDArray[np.bool_]) -> bool:
        """Whether any loaded sample of a small block is beyond a limit (rotation only where
        it is not withheld): the numpy test of :meth:`process` in Python floats."""
        lim = self._limit.tolist()
        unsure_f, unsure_r = (UNCERTAIN_FRACTION * v for v in lim[4:])
        cols = (a.flexion, a.lateral_flexion, a.rotation, a.rotation_confidence, load)
        for f, lat, r, conf, loaded in zip(*(c.tolist() for c in cols), strict=True):
            if not loaded:
                continue
            if f > lim[0] or -f > lim[1] or lat > lim[2] or -lat > lim[3]:
                return True
            if r > lim[4] or -r > lim[5]:
                err = error_from_confidence_one(conf)
                if (r > lim[4] and not err > unsure_f) or (-r > lim[5] and not err > unsure_r):
                    return True
        return False

    def _channel(
        self,
        c: int,
        t: F64,
        x: F64,
        col: NDArray[np.bool_],
        prev: NDArray[np.bool_],
        raised: list[Alert],
        ended: list[Alert],
    ) -> None:
        """Walk channel ``c`` of a block from event to event (excursion starts and ends):
        track the peak, raise after the minimum duration, close at the end."""
        starts = np.flatnonzero(col & ~prev)
        stops = np.flatnonzero(~col & prev)
        events = sorted([(i, 1) for i in starts.tolist()] + [(i, 0) for i in stops.tolist()])
        min_d = self.thresholds.min_duration_s
        seg_from = 0
        for i, kind in [*events, (t.size, -1)]:
            if self._state[c] and i > seg_from:
                # An open run covers samples seg_from..i-1.
                seg = slice(seg_from, i)
                self._peak[c] = np.nanmax(np.append(x[seg], self._peak[c]))
                if not self._raised[c]:
                    late = np.flatnonzero(t[seg] - self._start[c] >= min_d)
                    if late.size:
                        self._raised[c] = True
                        al = self._make(c, t[seg][late[0]], np.nan)
                        self.active[CHANNELS[c]] = al
                        raised.append(al)
            if kind == 1:
                self._state[c], self._start[c] = True, t[i]
                self._peak[c], self._raised[c] = np.nan, False
            elif kind == 0:
                if self._raised[c]:
                    done = self._make(c, self.active[CHANNELS[c]].alert_s, t[i])
                    self.active.pop(CHANNELS[c], None)
                    ended.append(done)
                self._state[c], self._raised[c] = False, False
            seg_from = i

    def _make(self, c: int, alert_s: float, end_s: float) -> Alert:
        plane, side = CHANNELS[c]
        sign = 1.0 if side == "positive" else -1.0
        return Alert(
            float(self._start[c]),
            float(alert_s),
            float(end_s),
            plane,
            side,
            float(sign * self._peak[c]),
        )

    def flush(self, t_end: float) -> list[Alert]:
        """Close alerts still running at the end of a recording (end = ``t_end``)."""
        out = [
            Alert(
                al.start_s,
                al.alert_s,
                t_end,
                al.plane,
                al.side,
                float(
                    (1 if al.side == "positive" else -1)
                    * self._peak[CHANNELS.index((al.plane, al.side))]
                ),
            )
            for al in self.active.values()
        ]
        self.active.clear()
        return out


def detect_alerts(
    a: AngleBlock,
    thresholds: Thresholds,
    load: LoadSettings | None = None,
    whole_recording: bool = False,
) -> list[Alert]:
    """Batch: every alert in an angle block, ordered by start time.

    ``whole_recording``: load from the whole block (:class:`posture.load.WholeRecordingLoad`,
    what ``analyze`` saves) instead of causally (what live raises).
    """
    ctx = WholeRecordingLoad(load) if whole_recording else LoadContext(load)
    eng = AlertEngine(thresholds, ctx)
    _, ended = eng.process(a)
    ended += eng.flush(float(a.t[-1]) if len(a) else np.nan)
    return sorted(ended, key=lambda al: (al.start_s, al.plane, al.side))
