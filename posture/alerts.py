"""Alerts when the spine leaves neutral under load, as a streaming state machine.

Six channels (flexion, lateral flexion and rotation, each side) are processed together as one
``(N, 6)`` array per block. Each channel has hysteresis (an excursion starts beyond the limit
and ends only ``hysteresis_deg`` back inside it) and a minimum duration (the alert is raised
once the angle has stayed beyond the limit for ``min_duration_s``). Samples outside load
context end excursions; NaN samples (sensor gaps) neither start nor end one. State carries
across blocks, so streaming in any chunking gives the same alerts as one batch call.
"""

from __future__ import annotations

import math
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
        # Per channel, Python lists (live blocks read and write single channels): in an
        # excursion, since when (s), its peak (deg), alert raised.
        self._state = [False] * len(CHANNELS)
        self._start = [math.nan] * len(CHANNELS)
        self._peak = [math.nan] * len(CHANNELS)
        self._raised = [False] * len(CHANNELS)
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
        if True not in self._state:
            err = error_from_confidence_one(a.rotation_confidence[-1])
            self.rotation_uncertain = bool(err > self._unsure_from)
            if (True not in load.tolist()) if small else not load.any():
                return [], []  # the common case off load: nothing can start or run
            if small and not self._any_beyond(a, load):
                return [], []  # the common case under load: every plane inside its limits
        if small:
            return self._walk(a, load)
        return self._process_array(a, load)

    def _process_array(
        self, a: AngleBlock, load: NDArray[np.bool_]
    ) -> tuple[list[Alert], list[Alert]]:
        """:meth:`process` with numpy (large blocks): all channels and samples at once."""
        x = np.empty((len(a), 6))
        x[:, 0::2] = np.vstack((a.flexion, a.lateral_flexion, a.rotation)).T
        np.negative(x[:, 0::2], out=x[:, 1::2])
        beyond = (x > self._limit) & load[:, None]
        unsure = rotation_uncertain(a.rotation_confidence, self._limit[4:])
        beyond[:, 4:] &= ~unsure
        self.rotation_uncertain = bool(unsure[-1].any())
        state0 = np.array(self._state)
        if not state0.any() and not beyond.any():
            return [], []  # the common case under load: every plane inside its limits
        inside = (x < self._limit - self.thresholds.hysteresis_deg) | ~load[:, None]
        inside[:, 4:] |= unsure
        state = hysteresis(beyond, inside, state0)
        prev = np.vstack((state0[None, :], state[:-1]))
        raised: list[Alert] = []
        ended: list[Alert] = []
        for c in np.flatnonzero(state.any(axis=0) | state0).tolist():
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
                self._peak[c] = float(np.nanmax(np.append(x[seg], self._peak[c])))
                if not self._raised[c]:
                    late = np.flatnonzero(t[seg] - self._start[c] >= min_d)
                    if late.size:
                        self._raised[c] = True
                        raised.append(self._raise(c, t[seg][late[0]]))
            if kind == 1:
                self._state[c], self._start[c] = True, float(t[i])
                self._peak[c], self._raised[c] = math.nan, False
            elif kind == 0:
                if self._raised[c]:
                    ended.append(self._end(c, t[i]))
                self._state[c], self._raised[c] = False, False
            seg_from = i

    def _walk(self, a: AngleBlock, load: NDArray[np.bool_]) -> tuple[list[Alert], list[Alert]]:
        """:meth:`_process_array` for a small block in Python floats, channel by channel,
        sample by sample (the same comparisons, so the same alerts; tested): on a live block
        of a few samples numpy's per-call overhead costs far more than the samples."""
        t, loaded = a.t.tolist(), load.tolist()
        err = [error_from_confidence_one(c) for c in a.rotation_confidence.tolist()]
        self.rotation_uncertain = err[-1] > self._unsure_from
        lim = self._limit.tolist()
        raised: list[Alert] = []
        ended: list[Alert] = []
        for p, col in enumerate((a.flexion, a.lateral_flexion, a.rotation)):
            x = col.tolist()
            for c, xs in ((2 * p, x), (2 * p + 1, [-v for v in x])):
                # rotation is withheld where its expected error is a large part of the limit
                unsure = [e > UNCERTAIN_FRACTION * lim[c] for e in err] if p == 2 else None
                self._walk_channel(c, t, xs, loaded, unsure, raised, ended)
        return raised, ended

    def _walk_channel(
        self,
        c: int,
        t: list[float],
        x: list[float],
        loaded: list[bool],
        unsure: list[bool] | None,
        raised: list[Alert],
        ended: list[Alert],
    ) -> None:
        """Channel ``c`` of :meth:`_walk`: the latch (beyond wins over inside; else the state
        holds), the peak (NaN never wins) and the raise, as :meth:`_channel`. A raised alert
        is made when its stretch of the run in this block ends, so its peak covers the same
        samples as there."""
        lim = float(self._limit[c])
        back = float(self._limit[c] - self.thresholds.hysteresis_deg)
        min_d = self.thresholds.min_duration_s
        st, pend = self._state[c], None
        for i, v in enumerate(x):
            ld = loaded[i]
            uns = unsure is not None and unsure[i]
            if ld and v > lim and not uns:
                if not st:  # an excursion starts
                    st, self._start[c], self._peak[c], self._raised[c] = True, t[i], v, False
            elif not st:
                continue
            elif v < back or not ld or uns:  # it ends at sample i
                if pend is not None:
                    raised.append(self._raise(c, pend))
                    pend = None
                if self._raised[c]:
                    ended.append(self._end(c, t[i]))
                st, self._raised[c] = False, False
                continue
            # in the run (beyond, or NaN or between the limits): peak and raise
            if v > self._peak[c]:
                self._peak[c] = v
            if not self._raised[c] and t[i] - self._start[c] >= min_d:
                self._raised[c], pend = True, t[i]
        if pend is not None:
            raised.append(self._raise(c, pend))
        self._state[c] = st

    def _raise(self, c: int, alert_s: float) -> Alert:
        """Raise channel ``c``'s alert at ``alert_s`` (s): it becomes active."""
        al = self._make(c, alert_s, math.nan)
        self.active[CHANNELS[c]] = al
        return al

    def _end(self, c: int, end_s: float) -> Alert:
        """End channel ``c``'s active alert at ``end_s`` (s): the alert as it ended."""
        done = self._make(c, self.active[CHANNELS[c]].alert_s, end_s)
        self.active.pop(CHANNELS[c], None)
        return done

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
