"""When the spine counts as under load: manual sets, and the ``auto`` lift detector.

Trunk and hip angles alone cannot tell whether a load is held, so ``auto`` uses what differs
between a lift and unloaded bending, causally (sample by sample, the same in any chunking):

* a **hinge** is the trunk (thoracic inclination) tilted forward past ``trunk_on_deg``,
  released below ``trunk_off_deg``;
* **lift-like** at a sample: the hips do the work and the lumbar spine stays — pelvis tilt
  ≥ ``lift_hip_share`` × thoracic inclination, with the trunk past ``lift_trunk_deg`` and the
  pelvis past ``lift_hip_deg`` (a cat-cow, a toe touch or a slump moves the spine, not the
  pelvis; a squat or sitting down keeps the trunk more upright);
* **rep structure**: a hinge is a rep only while it lasts ≤ ``max_rep_s``; a standing or
  quadruped cat-cow holds the trunk forward far longer and stops counting;
* a **set**: a hinge that starts within ``set_gap_s`` of the end of a lift rep belongs to the
  same set and is loaded from its start to its end, however rounded it gets. The first hinge
  of a set is loaded only while it is lift-like (within ``first_rep_s`` of its start), so a
  first rep that is rounded from the start is not under load. Between reps of a set the load
  stays on for ``hold_s``.

Manual sets (button, Space, Enter, a tap on a sensor: "lifting now") are loaded whatever the
mode. See docs/load.md for what ``auto`` can and cannot know.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posture.records import AngleBlock, constant_flags
from posture.runs import true_runs

MODES = ("auto", "always", "never")


def hysteresis(
    on: NDArray[np.bool_], off: NDArray[np.bool_], state0: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Latch per column: True after an ``on`` sample, False after an ``off`` sample.

    Shapes ``(N, C)``; ``state0`` ``(C,)`` is the state before the first row. ``on`` wins when
    both are set.
    """
    n = on.shape[0]
    ev = np.where(on, 1, np.where(off, 0, -1))
    idx = np.where(ev >= 0, np.arange(n)[:, None], -1)
    np.maximum.accumulate(idx, axis=0, out=idx)
    latched = np.take_along_axis(ev, np.maximum(idx, 0), axis=0) == 1
    return np.where(idx >= 0, latched, state0[None, :])


def hinge_latch(
    trunk: NDArray[np.float64], on_deg: float, off_deg: float, before: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Per sample of ``trunk`` (thoracic inclination, deg, ``(N,)``): in a hinge — past
    ``on_deg``, until back below ``off_deg`` — given the state ``before`` ``(1,)``."""
    return hysteresis((trunk > on_deg)[:, None], (trunk < off_deg)[:, None], before)[:, 0]


def any_beyond(x: NDArray[np.float64], limit: float, below: bool = False) -> bool:
    """``(x > limit).any()`` (``below``: ``x < limit``); in Python floats for the few samples
    of a live block, where each numpy call costs more than the loop (NaN compares False in
    both)."""
    if x.shape[0] <= 32:
        if below:
            return any(v < limit for v in x.tolist())
        return any(v > limit for v in x.tolist())
    return bool((x < limit).any() if below else (x > limit).any())


@dataclass(frozen=True)
class LoadSettings:
    """When the spine counts as under load (angles in deg, times in s).

    Attributes:
        mode: ``auto`` (lift detection, plus manual sets), ``always`` or ``never`` (manual
            sets only).
        trunk_on_deg, trunk_off_deg: thoracic forward inclination that starts / ends a hinge.
        lift_trunk_deg, lift_hip_deg, lift_hip_share: a lift-like hinge (see module doc).
        max_rep_s: longer hinges are not reps (cat-cow, quadruped, bending over to tidy up).
        first_rep_s: how long the first hinge of a set may count as lift-like.
        set_gap_s: a hinge starting this soon after a lift rep belongs to the same set.
        first_rep_gap_s: a rep-long hinge ending this soon before a set's first recognised
            lift rep was the set's first rep (reviewed live, loaded in the saved record).
            Tighter than ``set_gap_s``: before a set come preparations (a stretch, stepping
            up to the bar); inside one, reps follow after a short pause at the top.
        hold_s: load kept on after a lift rep ends (standing between reps).
    """

    mode: str = "auto"
    trunk_on_deg: float = 30.0
    trunk_off_deg: float = 12.0
    lift_trunk_deg: float = 45.0
    lift_hip_deg: float = 20.0
    lift_hip_share: float = 0.7
    max_rep_s: float = 6.0
    first_rep_s: float = 4.0
    set_gap_s: float = 6.0
    first_rep_gap_s: float = 3.0
    hold_s: float = 1.0


class LoadContext:
    """Streaming load detector with manual set markers (state carries across blocks)."""

    def __init__(self, settings: LoadSettings | None = None):
        self.settings = settings or LoadSettings()
        if self.settings.mode not in MODES:
            raise ValueError(f"load mode must be auto, always or never, not {self.settings.mode!r}")
        self._hinge = np.zeros(1, dtype=bool)
        self._start = np.nan  # start of the current hinge
        self._armed = False  # the current hinge belongs to a set
        self._lift = False  # the current hinge has been lift-like
        self._last_lift_end = -np.inf
        self._sets: list[tuple[float, float]] = []
        # The last hinge if it was rep-long but not a lift (start, first sample after), s: a
        # set's first rep, if a lift rep follows within first_rep_gap_s (posture.rep_review).
        self._maybe_first: tuple[float, float] | None = None
        self.first_reps: list[tuple[float, float, float, float]] = []
        """Set first reps found since the reader last cleared the list: (start, first sample
        after, start and end of the set's first recognised rep), s. Appended at that end."""

    def add_set(self, start_s: float, end_s: float = np.inf) -> None:
        """A set started by the user (button, key, CLI) from ``start_s`` to ``end_s``."""
        self._sets.append((start_s, end_s))

    def end_set(self, end_s: float) -> None:
        if self._sets and not np.isfinite(self._sets[-1][1]):
            self._sets[-1] = (self._sets[-1][0], end_s)

    def update(self, a: AngleBlock) -> NDArray[np.bool_]:
        """Load flag per sample of the block, shape ``(N,)``."""
        n = len(a)
        mode = self.settings.mode
        if mode == "auto" and n and not self._sets:
            return self._auto(a)  # the common case: no manual set to add
        manual = np.zeros(n, dtype=bool)
        for s, e in self._sets:
            manual |= (a.t >= s) & (a.t <= e)
        if mode == "always":
            return np.ones(n, dtype=bool)
        if mode == "never" or n == 0:
            return manual
        return self._auto(a) | manual

    def _auto(self, a: AngleBlock) -> NDArray[np.bool_]:
        cfg = self.settings
        t, trunk = a.t, a.thoracic_inclination
        if not self._hinge[0]:
            if not any_beyond(trunk, cfg.trunk_on_deg):  # the common case: upright, no hinge
                if t.shape[0] <= 32:
                    return _flags([v <= self._last_lift_end + cfg.hold_s for v in t.tolist()])
                return t <= self._last_lift_end + cfg.hold_s
        elif not any_beyond(trunk, cfg.trunk_off_deg, below=True):
            if t.shape[0] <= 32:  # the whole live block inside the hinge
                return self._in_hinge_small(a)
            return self._in_hinge(a, slice(0, len(a)))  # the whole block inside the hinge
        hinge = hinge_latch(trunk, cfg.trunk_on_deg, cfg.trunk_off_deg, self._hinge)
        out = np.zeros(len(a), dtype=bool)
        d = np.diff(np.concatenate(([self._hinge[0]], hinge)).astype(np.int8))
        starts = np.flatnonzero(d == 1)
        ends = np.flatnonzero(d == -1)  # first sample after the hinge
        i = 0
        # Walk the block hinge by hinge (a handful per block): upright stretches keep the load
        # on for hold_s after a lift rep; hinges are loaded by the set/lift rules.
        while i < len(a):
            if self._hinge[0]:
                e_next = ends[ends >= i]
                j = int(e_next[0]) if e_next.size else len(a)
                out[i:j] = self._in_hinge(a, slice(i, j))
                if j < len(a):  # the hinge ended at sample j
                    self._hinge_ended(float(t[j]))
                i = j
            else:
                s_next = starts[starts >= i]
                j = int(s_next[0]) if s_next.size else len(a)
                out[i:j] = t[i:j] <= self._last_lift_end + cfg.hold_s
                if j < len(a):  # a hinge starts at sample j
                    self._hinge[0] = True
                    self._start = float(t[j])
                    self._armed = self._start - self._last_lift_end <= cfg.set_gap_s
                    self._lift = False
                i = j
        return out

    def history_needed(self, t_now: float) -> bool:
        """Whether angles up to ``t_now`` (s) may still be needed to review a set's first rep
        (:mod:`posture.rep_review`): a hinge runs, or the last one ended no longer than
        ``first_rep_gap_s`` ago and may turn out to be a set's first rep."""
        first = self._maybe_first
        if first is not None and t_now - first[1] <= self.settings.first_rep_gap_s:
            return True
        return bool(self._hinge[0])

    def _hinge_ended(self, t_end: float) -> None:
        """Book-keeping at the end of a hinge (``t_end``: its first sample after, s)."""
        cfg = self.settings
        rep = t_end - self._start <= cfg.max_rep_s
        if (self._armed or self._lift) and rep:
            first = self._maybe_first
            gap = cfg.first_rep_gap_s
            if (
                not self._armed
                and first is not None
                and self._start - first[1] <= gap
                and not any(a <= first[1] and first[0] <= b for a, b in self._sets)
            ):  # (in a set marked by hand the first rep was loaded, its alerts raised)
                self.first_reps.append((first[0], first[1], self._start, t_end))
            self._last_lift_end = t_end
            self._maybe_first = None
        else:
            self._maybe_first = (self._start, t_end) if rep else None
        self._hinge[0] = False

    def _in_hinge(self, a: AngleBlock, seg: slice) -> NDArray[np.bool_]:
        """Load flags of samples ``seg`` inside the current hinge (updates ``_lift``)."""
        cfg = self.settings
        el = a.t[seg] - self._start
        if self._armed:
            return el <= cfg.max_rep_s
        trunk, hip = a.thoracic_inclination[seg], a.hip_angle[seg]
        lift = (
            (el <= cfg.first_rep_s)
            & (trunk >= cfg.lift_trunk_deg)
            & (hip >= cfg.lift_hip_deg)
            & (hip >= cfg.lift_hip_share * trunk)
        )
        self._lift |= bool(lift.any())
        return lift

    def _in_hinge_small(self, a: AngleBlock) -> NDArray[np.bool_]:
        """:meth:`_in_hinge` of a whole small block in Python floats (the same comparisons,
        so the same flags): numpy's per-call overhead costs more than a live block."""
        cfg = self.settings
        t0 = self._start
        if self._armed:
            return _flags([v - t0 <= cfg.max_rep_s for v in a.t.tolist()])
        first, trunk_min, hip_min, share = (
            cfg.first_rep_s,
            cfg.lift_trunk_deg,
            cfg.lift_hip_deg,
            cfg.lift_hip_share,
        )
        cols = (a.t.tolist(), a.thoracic_inclination.tolist(), a.hip_angle.tolist())
        lift = [
            v - t0 <= first and tr >= trunk_min and hip >= hip_min and hip >= share * tr
            for v, tr, hip in zip(*cols, strict=True)
        ]
        self._lift |= True in lift
        return _flags(lift)


def _flags(flags: list[bool]) -> NDArray[np.bool_]:
    """Load flags of a live block: all on and all off are shared read-only arrays."""
    if False not in flags:
        return constant_flags(len(flags), True)
    if True not in flags:
        return constant_flags(len(flags), False)
    return np.array(flags, dtype=bool)


class WholeRecordingLoad(LoadContext):
    """Load of a whole recording (batch): the causal detector, plus a set's first rep.

    Live cannot tell a set's first rep, when it is already rounded with little hip, from
    picking something up with a rounded back (docs/load.md). The rest of the recording can:
    a hinge of at most ``max_rep_s`` that ends within ``first_rep_gap_s`` of the start of a set's
    first recognised lift rep is that set's first rep. So, over the whole recording, every
    hinge of a set — the reps the causal detector loads, that first rep before them, and the
    first recognised rep itself (live: loaded only while lift-like) — is loaded from its start
    to its end, with ``hold_s`` after it, as the causal detector loads a set's later reps.

    :meth:`update` takes the whole recording in one call (a second call raises).
    """

    def __init__(self, settings: LoadSettings | None = None):
        super().__init__(settings)
        self._used = False

    def update(self, a: AngleBlock) -> NDArray[np.bool_]:
        """Load flag per sample of the whole recording ``a``, shape ``(N,)``."""
        if self._used:
            raise ValueError("WholeRecordingLoad.update takes the whole recording in one call")
        self._used = True
        load = super().update(a)
        if self.settings.mode == "always" or len(a) == 0:
            return load
        return set_hinges(a, load, self.settings)


def set_hinges(a: AngleBlock, load: NDArray[np.bool_], cfg: LoadSettings) -> NDArray[np.bool_]:
    """``load`` with every hinge of a set loaded whole (see :class:`WholeRecordingLoad`)."""
    hinge = hinge_latch(
        a.thoracic_inclination, cfg.trunk_on_deg, cfg.trunk_off_deg, np.zeros(1, bool)
    )
    starts, ends = true_runs(hinge)  # ends: first sample after
    t = a.t
    t_end = np.append(t, np.inf)[ends]  # a hinge still open at the end lasts "for ever"
    is_rep = t_end - t[starts] <= cfg.max_rep_s
    n_loaded = np.concatenate(([0], np.cumsum(load)))
    lift_rep = is_rep & (n_loaded[ends] > n_loaded[starts])
    gap = t[starts[1:]] - t_end[:-1]  # from the end of hinge k to the start of hinge k+1
    gap_ok, first_ok = gap <= cfg.set_gap_s, gap <= cfg.first_rep_gap_s
    in_set = lift_rep.copy()
    for k in np.flatnonzero(lift_rep).tolist():
        if k > 0 and lift_rep[k - 1] and gap_ok[k - 1]:
            continue  # a later rep of a set: the causal detector loaded it whole
        before = k > 0 and is_rep[k - 1] and first_ok[k - 1]
        after = k + 1 < len(starts) and lift_rep[k + 1] and gap_ok[k]
        in_set[k - 1] |= before  # (k = 0: before is False)
        in_set[k] = before or after  # a lone lift-like hinge keeps its causal flags
    out = load.copy()
    for k in np.flatnonzero(in_set).tolist():
        out[starts[k] : ends[k]] = True
        out[ends[k] : np.searchsorted(t, t_end[k] + cfg.hold_s, "right")] = True
    return out


UNCALIBRATED_AUTO = (
    "--load auto needs a calibration profile (without one, angles are in sensor axes and a "
    "hinge cannot be recognised): no automatic load; pass --profile, mark sets by hand or "
    "use --load always"
)


def effective_load(settings: LoadSettings, calibrated: bool) -> tuple[LoadSettings, str | None]:
    """``auto`` falls back to ``never`` without a calibration profile; returns (settings,
    the warning to show or None)."""
    if settings.mode == "auto" and not calibrated:
        from dataclasses import replace

        return replace(settings, mode="never"), UNCALIBRATED_AUTO
    return settings, None
