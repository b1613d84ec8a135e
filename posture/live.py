"""The live pipeline: sample blocks → spine angles → load context, alerts and reps.

One object that the terminal monitor, the GUI and the recorder all drive the same way, so
they show the same numbers. It is a thin composition of :class:`~posture.engine.PostureEngine`,
:class:`~posture.alerts.AlertEngine` and a streaming rep tracker; it does no I/O.

Reps are found by re-running the batch segmentation (:func:`posture.reps.segment_reps`) over a
short buffer a second after each hinge is released, so live reps are the batch reps (tested),
reported about a second after each rep ends (the first rep of a set when the second ends).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from posture.alerts import Alert, AlertEngine, LoadContext, LoadSettings
from posture.angles import SpineModel
from posture.engine import EngineSettings, PostureEngine
from posture.fusion import FusionSettings
from posture.load import any_beyond, effective_load, hinge_latch
from posture.records import (
    LUMBAR,
    THORACIC,
    AngleBlock,
    AngleHistory,
    ImuBlock,
    OrientationBlock,
    constant_flags,
)
from posture.rep_review import FirstRepReview
from posture.reps import RepMetrics, RepSettings, segment_reps
from posture.thresholds import Thresholds


class HasSpineModel(Protocol):
    """What the live chain needs of a calibration profile (``calibration`` is a higher layer)."""

    @property
    def spine_model(self) -> SpineModel: ...


def host_clock_settings(
    rates_hz: Mapping[str, float | None] | None = None, *, use_mag: bool = False
) -> EngineSettings:
    """Engine settings for a source that delivers both roles on one host time base.

    The one rate rule of the live chain: each role runs at the nominal rate its source reports
    (``SampleSource.rates_hz``, known once started) when that is a positive finite number;
    otherwise the rate is left ``None`` and the engine estimates it from that role's first
    block of two or more samples. There is no fixed fallback: a guessed 200 Hz would be wrong
    for a 100 Hz WitMotion or a 60 Hz DOT. The clock map is left ``None`` (identity): the
    bridge has already mapped both sensors onto host time.

    Args:
        rates_hz: nominal rate per role, Hz (missing, 0 or NaN = unknown).
        use_mag: 9D fusion (magnetometer).
    """
    rates = rates_hz or {}

    def rate(role: str) -> float | None:
        r = rates.get(role)
        return float(r) if r is not None and math.isfinite(r) and r > 0 else None

    return EngineSettings(
        fusion=FusionSettings(use_mag=use_mag),
        lumbar_rate_hz=rate(LUMBAR),
        thoracic_rate_hz=rate(THORACIC),
    )


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
    """Streaming rep segmentation: the batch algorithm re-run on a trimmed buffer.

    It runs ``settle_s`` after each hinge is released, over the last ``keep_s`` of angles,
    and reports the reps that end after the last one reported. A rep is reported about 1 s
    after it ends; the first rep of a set only once the second has ended (a lone hinge is not
    a rep), so live reps are the batch reps (tested).
    """

    def __init__(self, settings: RepSettings | None = None, settle_s: float = 1.0):
        self.settings = settings or RepSettings()
        self.settle_s = settle_s
        # Long enough for a lone rep (≤ max duration) to meet its neighbour, with margin.
        self.keep_s = 2 * self.settings.max_duration_s + self.settings.set_gap_s + 5.0
        self._history = AngleHistory()
        self._hinge = False
        self._released = np.nan  # when the last hinge was released
        self._last_end = -np.inf

    def push(self, a: AngleBlock) -> list[RepMetrics]:
        if len(a) == 0:
            return []
        self._history.append(a)
        trunk = a.thoracic_inclination
        if not self._hinge and math.isnan(self._released):
            # The common case (upright, nothing pending), in Python floats: on a 20 ms block
            # each numpy call costs more than the loop (NaN compares False in both).
            if not any_beyond(trunk, self.settings.on_deg):
                if self._history.n_parts > 64:
                    self._history.trim(float(a.t[-1]) - self.keep_s)
                return []
        t_now = float(a.t[-1])
        rel = self._latch(trunk)
        if rel is not None:
            self._released = float(a.t[rel])
        if math.isnan(self._released) or t_now - self._released < self.settle_s:
            return []
        self._released = np.nan
        return self._segment(t_now)

    def _latch(self, trunk: NDArray[np.float64]) -> int | None:
        """Run the hinge latch over a block's trunk inclinations (deg); return the index of
        the last release in it (``None``: none)."""
        on_deg, off_deg = self.settings.on_deg, self.settings.off_deg
        if trunk.shape[0] > 32:
            latch = hinge_latch(trunk, on_deg, off_deg, np.array([self._hinge]))
            prev = np.concatenate(([self._hinge], latch[:-1]))
            rel = np.flatnonzero(prev & ~latch)
            self._hinge = bool(latch[-1])
            return int(rel[-1]) if rel.size else None
        # A live block: the same latch in Python floats (on wins; NaN keeps the state).
        hinge, last = self._hinge, None
        for i, x in enumerate(trunk.tolist()):
            new = True if x > on_deg else False if x < off_deg else hinge
            if hinge and not new:
                last = i
            hinge = new
        self._hinge = hinge
        return last

    def _segment(self, t_now: float) -> list[RepMetrics]:
        reps = segment_reps(self._history.joined(), self.settings, self._last_end)
        if reps:
            self._last_end = reps[-1].end_s
        self._history.trim(max(self._last_end - 1.0, t_now - self.keep_s))
        return reps

    def flush(self) -> list[RepMetrics]:
        if not self._history.n_parts:
            return []
        reps = segment_reps(self._history.joined(), self.settings, self._last_end)
        self._history.clear()
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
        # Without a profile there is no lift to recognise: auto becomes never (with a warning).
        load_settings, self.load_warning = effective_load(load or LoadSettings(), model is not None)
        self.load = LoadContext(load_settings)
        self.alerts = AlertEngine(thresholds or Thresholds(), self.load)
        self.review = FirstRepReview(self.alerts.thresholds, self.load)
        self.reps = RepTracker(reps)
        self.in_set = False
        self.t_last = np.nan

    @classmethod
    def for_host_clock(
        cls,
        profile: HasSpineModel | None,
        thresholds: Thresholds | None = None,
        load: LoadSettings | str = "auto",
        rates_hz: Mapping[str, float | None] | None = None,
        *,
        use_mag: bool = False,
    ) -> LivePipeline:
        """The live chain of every live command, the GUI and the recorder: a source that
        delivers both roles on host time (see :func:`host_clock_settings` for the rate rule).

        Args:
            profile: the wearer's calibration profile (anything with ``spine_model``), or
                ``None`` for uncalibrated angles.
            thresholds: alert limits per plane (default :class:`Thresholds`).
            load: load-context settings, or just the mode (``auto``/``always``/``never``).
            rates_hz: the started source's ``rates_hz``.
            use_mag: 9D fusion.
        """
        return cls(
            None if profile is None else profile.spine_model,
            thresholds,
            LoadSettings(mode=load) if isinstance(load, str) else load,
            host_clock_settings(rates_hz, use_mag=use_mag),
        )

    @property
    def rotation_uncertain(self) -> bool:
        """Rotation alerts are withheld now: the expected rotation error is a large part of
        the limit (no heading anchor for a while); the GUI greys the rotation light."""
        return self.alerts.rotation_uncertain

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
            return LiveUpdate(ang, constant_flags(0, False))
        self.t_last = float(ang.t[-1])
        # The alert engine updates the load context itself; read the flag back for display.
        raised, ended = self.alerts.process(ang)
        late = self.review.push(ang)  # a set's first rep, reviewed when the set is recognised
        if late:
            raised, ended = raised + late, ended + late
        loaded = self._load_flags(ang)
        return LiveUpdate(ang, loaded, raised, ended, self.reps.push(ang))

    def _load_flags(self, ang: AngleBlock) -> NDArray[np.bool_]:
        flags = self.alerts.last_load
        return flags if len(flags) == len(ang) else np.zeros(len(ang), dtype=bool)
