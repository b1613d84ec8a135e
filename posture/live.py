"""The live pipeline: sample blocks → spine angles → load context, alerts and reps.

One object that the terminal monitor, the GUI and the recorder all drive the same way, so
they show the same numbers. It is a thin composition of :class:`~posture.engine.PostureEngine`,
:class:`~posture.alerts.AlertEngine` and a streaming rep tracker; it does no I/O.

Reps are found by re-running the batch segmentation (:func:`posture.reps.segment_reps`) over a
short buffer once the pelvis has been back near upright for a moment after a hinge, so live
reps are the batch reps (tested), reported about half a second after each rep ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from posture.alerts import Alert, AlertEngine, LoadContext, LoadSettings
from posture.angles import SpineModel
from posture.engine import EngineSettings, PostureEngine
from posture.records import AngleBlock, ImuBlock, OrientationBlock
from posture.reps import RepMetrics, RepSettings, segment_reps
from posture.thresholds import Thresholds


@dataclass
class LiveUpdate:
    """What one :meth:`LivePipeline.push` produced.

    Attributes:
        angles: new spine angles (deg), possibly empty.
        under_load: load flag per angle sample, shape ``(N,)``.
        raised: alerts raised in this update.
        ended: alerts that ended in this update.
        reps: reps completed in this update.
    """

    angles: AngleBlock
    under_load: NDArray[np.bool_]
    raised: list[Alert] = field(default_factory=list)
    ended: list[Alert] = field(default_factory=list)
    reps: list[RepMetrics] = field(default_factory=list)


class RepTracker:
    """Streaming rep segmentation with the batch algorithm on a trimmed buffer."""

    def __init__(self, settings: RepSettings | None = None, settle_s: float = 0.5):
        self.settings = settings or RepSettings()
        self.settle_s = settle_s
        self._parts: list[AngleBlock] = []
        self._armed = False  # a hinge is in the buffer
        self._upright_since = np.nan
        self._last_end = -np.inf

    def push(self, a: AngleBlock) -> list[RepMetrics]:
        if len(a) == 0:
            return []
        self._parts.append(a)
        hip = a.hip_angle
        # NaN (a gap) counts as upright, as 0° would, without nan_to_num's copy and checks.
        with np.errstate(invalid="ignore"):
            on = self.settings.on_deg
            if (hip > on).any() or (on < 0.0 and np.isnan(hip).any()):
                self._armed = True
            low = ~(hip >= 1.5)
        if low[-1]:
            run = np.flatnonzero(~low)
            first_low = a.t[run[-1] + 1] if run.size else a.t[0]
            if np.isnan(self._upright_since) or run.size:
                self._upright_since = float(first_low)
        else:
            self._upright_since = np.nan
        t_now = float(a.t[-1])
        if not self._armed:
            self._trim(t_now - 2.0)
            return []
        if np.isnan(self._upright_since) or t_now - self._upright_since < self.settle_s:
            return []
        buf = AngleBlock.concat(self._parts)
        reps = [r for r in segment_reps(buf, self.settings) if r.start_s > self._last_end]
        if reps:
            self._last_end = reps[-1].end_s
        self._armed = False
        self._parts = [buf]
        self._trim(max(self._last_end, t_now - 2.0))
        return reps

    def _trim(self, keep_from: float) -> None:
        # Keep a little history before a rep: its start is walked back up to 0.3 s.
        if not self._parts:
            return
        buf = AngleBlock.concat(self._parts) if len(self._parts) > 1 else self._parts[0]
        i = int(np.searchsorted(buf.t, keep_from, side="right"))
        self._parts = [buf.take(slice(i, None))] if i < len(buf) else []

    def flush(self) -> list[RepMetrics]:
        if not self._parts:
            return []
        buf = AngleBlock.concat(self._parts)
        self._parts = []
        reps = [r for r in segment_reps(buf, self.settings) if r.start_s > self._last_end]
        if reps:
            self._last_end = reps[-1].end_s
        return reps


class LivePipeline:
    """Blocks in (either role, any order of arrival), angles + alerts + reps out.

    Args:
        model: the wearer's calibrated spine model (``profile.spine_model``).
        thresholds: alert limits per plane.
        load: load-context settings (``auto``/``always``/``never``).
        engine: engine settings (rates; clock map left at identity for host-time sources).
    """

    def __init__(
        self,
        model: SpineModel | None,
        thresholds: Thresholds | None = None,
        load: LoadSettings | None = None,
        engine: EngineSettings | None = None,
        reps: RepSettings | None = None,
    ) -> None:
        self.engine = PostureEngine(model, engine or EngineSettings())
        self.load = LoadContext(load or LoadSettings())
        self.alerts = AlertEngine(thresholds or Thresholds(), self.load)
        self.reps = RepTracker(reps)
        self.in_set = False
        self.t_last = np.nan

    def start_set(self, t_s: float | None = None) -> None:
        """The user started a set (button, key, sensor tap): load on from ``t_s``."""
        if not self.in_set:
            self.load.add_set(self.t_last if t_s is None else t_s)
            self.in_set = True

    def end_set(self, t_s: float | None = None) -> None:
        if self.in_set:
            self.load.end_set(self.t_last if t_s is None else t_s)
            self.in_set = False

    def toggle_set(self, t_s: float | None = None) -> bool:
        """Start or end a set; returns whether a set is now running."""
        (self.end_set if self.in_set else self.start_set)(t_s)
        return self.in_set

    def push(self, block: ImuBlock | OrientationBlock) -> LiveUpdate:
        return self._consume(self.engine.push(block))

    def flush(self) -> LiveUpdate:
        up = self._consume(self.engine.flush())
        t_end = self.t_last if np.isfinite(self.t_last) else 0.0
        up.ended.extend(self.alerts.flush(t_end))
        up.reps.extend(self.reps.flush())
        return up

    def _consume(self, ang: AngleBlock) -> LiveUpdate:
        if len(ang) == 0:
            return LiveUpdate(ang, np.zeros(0, dtype=bool))
        self.t_last = float(ang.t[-1])
        # The alert engine updates the load context itself; read the flag back for display.
        raised, ended = self.alerts.process(ang)
        loaded = self._load_flags(ang)
        return LiveUpdate(ang, loaded, raised, ended, self.reps.push(ang))

    def _load_flags(self, ang: AngleBlock) -> NDArray[np.bool_]:
        flags = self.alerts.last_load
        return flags if len(flags) == len(ang) else np.zeros(len(ang), dtype=bool)
