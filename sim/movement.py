"""The wearer simulator's movement model: settings, the wearer, scripts of movement events.

The sensor signals and the ground truth are made from a script by :mod:`sim.sensors`; the
named scripts (these basic ones and :mod:`sim.activities`) and :func:`sim.wearer.simulate`
put the two together.

Seeded and deterministic. A :class:`Script` is built from smooth movement *events* (minimum-jerk
rise, hold, fall) on five body channels: whole-body heading, pelvis pitch (the hip hinge),
pelvis roll, and the lumbar spine's flexion, lateral flexion and rotation relative to standing.
Kinematics follow the engine's conventions exactly (see :mod:`posture.angles`):

* world z up; upright segment facing +x: X→(1,0,0), Y→(0,0,1), Z→(0,−1,0);
* ``q_L = yaw(heading) ⊗ q_up ⊗ ZXY(−pelvis_pitch, pelvis_roll, 0)``,
  ``q_T = q_L ⊗ ZXY(−flex_s, lat, rot)``;
* true neutral = halfway between the wearer's cat-cow limits, ``q_N = ZXY(−mid, 0, 0)``;
* sensors: ``q_sensor = q_seg ⊗ q_mount ⊗ wobble`` (mount: sensor → segment).

Signals come from a fine internal grid (1 kHz): specific force from twice-differentiated sensor
positions plus gravity, angular rate from quaternion differences, then sampled at each sensor's
own clock with noise, bias (+ random-walk drift), accelerometer scale/bias error, soft-tissue
wobble, thoracic clock offset/drift, dropped samples and time-stamp jitter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posture import quat as Q
from posture.records import THORACIC

F64 = NDArray[np.float64]
G = 9.81  # the simulated world's gravity (not posture.constants.G): every simulated figure uses it
FINE_HZ = 1000.0
CHANNELS = ("heading", "pelvis_pitch", "pelvis_roll", "flex", "lat", "rot", "hip_drop")
Q_UP = Q.from_matrix(np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]]))
# Activity labels of the truth (indices are stored per sample: append only).
PHASES = (
    "stand", "calibration", "walk", "lift", "rest", "stretch", "catcow", "quadruped",
    "toe-touch", "side-bend", "twist", "squat", "swing", "pickup", "sit",
)  # fmt: skip


@dataclass(frozen=True)
class SimConfig:
    """Simulation settings (SI units). ``ideal=True`` turns every fault off.

    ``clock``: ``separate`` (each sensor has its own clock: the thoracic one has
    ``clock_offset_s`` and ``clock_drift_ppm``) or ``shared`` (both sensors are stamped by one
    time base, like wired IMUs on one logger: offset and drift are ignored). Rates 50–400 Hz,
    ``thoracic_rate_hz`` may differ from ``rate_hz``.

    Accelerometer errors are a property of the sensor (``acc_bias`` ±m/s², ``acc_scale_error``
    ±fraction per axis, drawn once per seed and role: the same physical sensor in every
    recording) plus a smaller per-recording turn-on part (``acc_bias_turn_on``,
    ``acc_scale_turn_on``), as for MEMS accelerometers whose offset repeats from one power-up
    to the next within a few mg.
    """

    rate_hz: float = 200.0
    thoracic_rate_hz: float | None = None
    seed: int = 0
    gyr_noise: float = 0.004
    acc_noise: float = 0.02
    gyr_bias: float = 0.01
    gyr_bias_drift: float = 1e-4
    acc_scale_error: float = 0.01
    acc_bias: float = 0.05
    acc_scale_turn_on: float = 0.001
    acc_bias_turn_on: float = 0.02
    mounting: str = "random"
    wobble_deg: float = 0.3
    clock_offset_s: float = 0.0
    clock_drift_ppm: float = 0.0
    drop_prob: float = 0.0
    timestamp_jitter_s: float = 0.0
    clock: str = "separate"
    ideal: bool = False

    def __post_init__(self) -> None:
        if self.clock not in ("separate", "shared"):
            raise ValueError(f"clock must be 'separate' or 'shared', not {self.clock!r}")

    def rate_of(self, role: str) -> float:
        """Sampling rate of ``role``'s sensor, Hz (``thoracic_rate_hz`` where it is set)."""
        if role == THORACIC and self.thoracic_rate_hz:
            return self.thoracic_rate_hz
        return self.rate_hz


@dataclass(frozen=True)
class Wearer:
    """The simulated person: cat-cow limits (deg from standing) and body dimensions."""

    flex_max: float
    ext_max: float

    @property
    def neutral_from_standing(self) -> float:
        return 0.5 * (self.flex_max + self.ext_max)

    @classmethod
    def from_seed(cls, seed: int) -> Wearer:
        rng = np.random.default_rng([seed, 1])
        return cls(float(rng.uniform(35, 55)), float(rng.uniform(-25, -15)))


@dataclass(frozen=True)
class Event:
    """One smooth excursion of a channel: rise from t0 over ``rise`` s, hold, fall."""

    channel: str
    t0: float
    rise: float
    hold: float
    fall: float
    amp: float


@dataclass(frozen=True)
class Rep:
    """A true repetition. ``bottom_s`` is the middle of the pause at the bottom.

    ``kind``: ``lift`` (deadlift-type hinge with a load), ``swing`` (kettlebell swing),
    ``squat`` (body weight) or ``toe-touch`` (warm-up); ``loaded`` says whether a load is held.
    """

    start_s: float
    bottom_s: float
    end_s: float
    peak_flexion_deg: float
    hip_share: float
    set_index: int
    rounded: bool
    kind: str = "lift"
    loaded: bool = True


@dataclass
class Script:
    """Movement events plus truth annotations, built by the named script functions."""

    duration: float = 0.0
    events: list[Event] = field(default_factory=list)
    phases: list[tuple[float, float, str]] = field(default_factory=list)
    loads: list[tuple[float, float]] = field(default_factory=list)
    reps: list[dict[str, Any]] = field(default_factory=list)
    sets: list[tuple[float, float]] = field(default_factory=list)
    walks: list[tuple[float, float]] = field(default_factory=list)
    osc: list[tuple[str, float, float, float, float]] = field(default_factory=list)

    def add(
        self, channel: str, t0: float, rise: float, hold: float, fall: float, amp: float
    ) -> None:
        self.events.append(Event(channel, t0, rise, hold, fall, amp))

    def rep(
        self,
        t: float,
        down: float,
        bottom: float,
        up: float,
        peak_flexion_deg: float,
        hip_share: float,
        set_index: int,
        rounded: bool,
        kind: str = "lift",
        loaded: bool = True,
    ) -> None:
        """Record a true rep; the bottom is the middle of the pause (``bottom`` s long)."""
        self.reps.append(
            {
                "start_s": t,
                "bottom_s": t + down + bottom / 2,
                "end_s": t + down + bottom + up,
                "peak_flexion_deg": peak_flexion_deg,
                "hip_share": hip_share,
                "set_index": set_index,
                "rounded": rounded,
                "kind": kind,
                "loaded": loaded,
            }
        )


def min_jerk(s: F64) -> F64:
    s = np.clip(s, 0.0, 1.0)
    return s**3 * (10 - 15 * s + 6 * s**2)


def span(t: F64, lo: float, hi: float) -> slice:
    """The samples of the sorted times ``t`` (s) in ``[lo, hi]``, with a 1-ms margin.

    Before ``lo`` and after ``hi`` a min-jerk step is exactly 0 or 1, so work on this slice
    alone gives the very same numbers as on the whole array, in time linear in the script.
    """
    i0 = int(np.searchsorted(t, lo - 1e-3, side="left"))
    i1 = int(np.searchsorted(t, hi + 1e-3, side="right"))
    return slice(i0, max(i0, i1))


def channels(script: Script, t: F64) -> dict[str, F64]:
    out = {c: np.zeros_like(t) for c in CHANNELS}
    for e in script.events:
        rise, fall = max(e.rise, 1e-6), max(e.fall, 1e-6)
        falls = bool(np.isfinite(e.fall))
        if falls:  # up and down both 0 before, both 1 after
            fall_at = e.t0 + e.rise + e.hold
            w = span(t, min(e.t0, fall_at), max(e.t0 + rise, fall_at + fall))
        else:
            w = span(t, e.t0, e.t0 + rise)
        tw = t[w]
        up = min_jerk((tw - e.t0) / rise)
        down = min_jerk((tw - e.t0 - e.rise - e.hold) / fall) if falls else 0.0
        out[e.channel][w] += e.amp * (up - down)
        if not falls:  # held from here on: up is exactly 1, down 0
            out[e.channel][w.stop :] += e.amp
    for ch, t0, t1, amp, freq in script.osc:
        w = span(t, min(t0, t1 - 1.0), max(t0 + 1.0, t1))  # env is exactly 0 outside
        tw = t[w]
        env = min_jerk((tw - t0) / 1.0) - min_jerk((tw - t1 + 1.0) / 1.0)
        out[ch][w] += amp * env * np.sin(2 * np.pi * freq * (tw - t0))
    return out


# -- building blocks: each adds a movement to the script and returns its end time, s ---------
def add_stand(s: Script, t: float, dur: float) -> float:
    s.phases.append((t, t + dur, "stand"))
    return t + dur


def add_catcow(
    s: Script,
    t: float,
    w: Wearer,
    rng: np.random.Generator,
    cycles: int = 3,
    phase: str = "calibration",
) -> float:
    lean = float(rng.uniform(40, 50))
    s.add("pelvis_pitch", t, 2.0, 2.0 + cycles * 6.0, 2.0, lean)
    t0 = t
    t += 2.5
    for _ in range(cycles):
        per = float(rng.uniform(5.0, 6.5))
        s.add("flex", t, per * 0.22, per * 0.06, per * 0.22, w.flex_max)
        s.add("pelvis_pitch", t, per * 0.22, per * 0.06, per * 0.22, -0.25 * w.flex_max)
        s.add("flex", t + per * 0.5, per * 0.22, per * 0.06, per * 0.22, w.ext_max)
        s.add("pelvis_pitch", t + per * 0.5, per * 0.22, per * 0.06, per * 0.22, -0.25 * w.ext_max)
        t += per
    end = t0 + 2.0 + 2.0 + cycles * 6.0 + 2.0
    s.phases.append((t0, end, phase))
    return max(end, t) + 0.5


def add_walk(s: Script, t: float, dur: float, rng: np.random.Generator, turn: bool) -> float:
    s.walks.append((t, t + dur))
    s.phases.append((t, t + dur, "walk"))
    s.osc.append(("pelvis_roll", t, t + dur, 3.0, 0.9))
    s.osc.append(("rot", t, t + dur, 4.0, 0.9))
    s.osc.append(("pelvis_pitch", t, t + dur, 2.0, 1.8))
    if turn:
        s.add("heading", t + dur * 0.4, 2.0, np.inf, np.inf, float(rng.choice([-1, 1]) * 180.0))
    return t + dur


def add_deadlift_set(
    s: Script,
    t: float,
    w: Wearer,
    rng: np.random.Generator,
    idx: int,
    reps: int,
    rounded: set[int],
    lateral: int | None,
    twist: int | None,
    stoop: frozenset[int] = frozenset(),
) -> float:
    """A loaded set of hinge reps; ``stoop`` reps are rounded with little hip (≈ 27° peak
    flexion, ≈ 40 % hip share: the back does the lifting)."""
    start = t
    for k in range(reps):
        down, bottom, up = float(rng.uniform(1.2, 1.8)), 0.3, float(rng.uniform(1.2, 1.8))
        pelvis = float(rng.uniform(60, 80))
        flex_extra = float(rng.uniform(20, 35)) if k in rounded else float(rng.uniform(-2, 4))
        flex_s = w.neutral_from_standing - 8.0 + flex_extra  # lifters brace a little arched
        if k in stoop:
            pelvis = float(rng.uniform(22, 32))
            flex_s = w.neutral_from_standing + float(rng.uniform(24, 30))
        s.add("pelvis_pitch", t, down, bottom, up, pelvis)
        s.add("flex", t, down, bottom, up, flex_s)
        if k == lateral:
            s.add(
                "lat",
                t + 0.3,
                down - 0.3,
                bottom,
                up,
                float(rng.choice([-1, 1]) * rng.uniform(15, 22)),
            )
        if k == twist:
            s.add(
                "rot",
                t + 0.3,
                down - 0.3,
                bottom,
                up,
                float(rng.choice([-1, 1]) * rng.uniform(10, 15)),
            )
        incl = pelvis + flex_s
        s.rep(
            t, down, bottom, up, flex_s - w.neutral_from_standing,
            pelvis / incl if incl else 1.0, idx, k in rounded or k in stoop,
        )  # fmt: skip
        t += down + bottom + up + float(rng.uniform(0.6, 1.2))
    s.sets.append((start, t))
    s.loads.append((start, t))
    s.phases.append((start, t, "lift"))
    return t


def add_stretching(s: Script, t: float, rng: np.random.Generator) -> float:
    t0 = t
    for side in (1, -1):
        s.add("lat", t, 1.5, 1.0, 1.5, side * float(rng.uniform(18, 25)))
        t += 4.5
    for side in (1, -1):
        s.add("rot", t, 1.5, 0.8, 1.5, side * float(rng.uniform(10, 15)))
        t += 4.3
    s.add("flex", t, 1.5, 1.0, 1.5, float(rng.uniform(20, 30)))  # slump: no pelvis tilt
    t += 4.5
    s.phases.append((t0, t, "stretch"))
    return t


# -- named scripts ---------------------------------------------------------------------------
# (rng, wearer, duration in s or None for the script's own length) -> Script
ScriptFn = Callable[[np.random.Generator, Wearer, float | None], Script]


def script_calibration(
    rng: np.random.Generator, w: Wearer, duration_s: float | None = None
) -> Script:
    s = Script()
    t = add_stand(s, 0.0, 5.5)
    t = add_catcow(s, t, w, rng)
    t = add_stand(s, t, 3.5)
    s.duration = t
    return s


def script_lifting_session(
    rng: np.random.Generator, w: Wearer, duration_s: float | None = None
) -> Script:
    dur = 600.0 if duration_s is None else float(duration_s)
    s = Script()
    t = add_stand(s, 0.0, 6.0)
    k = 0
    while t < dur - 5.0:
        t = add_walk(s, t, float(rng.uniform(8, 14)), rng, turn=k % 2 == 1)
        t = add_stand(s, t, float(rng.uniform(4, 6)))
        n = int(rng.integers(5, 9))
        rounded = set(rng.choice(n, size=int(rng.integers(1, 3)), replace=False).tolist())
        others = [i for i in range(n) if i not in rounded]
        t = add_deadlift_set(s, t, w, rng, k, n, rounded, others[0], others[-1])
        t = add_stand(s, t, float(rng.uniform(5, 8)))
        if k % 2 == 0:
            t = add_stretching(s, t, rng)
            t = add_stand(s, t, 4.0)
        k += 1
    s.duration = max(t, dur)
    return s


def script_deadlift_set(
    rng: np.random.Generator, w: Wearer, duration_s: float | None = None
) -> Script:
    s = Script()
    t = add_stand(s, 0.0, 5.0)
    t = add_deadlift_set(s, t, w, rng, 0, 6, {4}, 1, 2)
    s.duration = add_stand(s, t, 4.0)
    return s


def script_stretching(
    rng: np.random.Generator, w: Wearer, duration_s: float | None = None
) -> Script:
    s = Script()
    t = add_stand(s, 0.0, 5.0)
    t = add_catcow(s, t, w, rng)
    t = add_stand(s, t, 3.0)
    t = add_stretching(s, t, rng)
    s.duration = add_stand(s, t, 4.0)
    return s


def script_walking(rng: np.random.Generator, w: Wearer, duration_s: float | None = None) -> Script:
    s = Script()
    t = add_stand(s, 0.0, 5.0)
    t = add_walk(s, t, (duration_s or 40.0) - 10.0, rng, turn=True)
    s.duration = add_stand(s, t, 5.0)
    return s


def script_standing(rng: np.random.Generator, w: Wearer, duration_s: float | None = None) -> Script:
    s = Script()
    s.duration = add_stand(s, 0.0, duration_s or 20.0)
    return s


BASIC_SCRIPTS: dict[str, ScriptFn] = {
    "calibration": script_calibration,
    "lifting-session": script_lifting_session,
    "deadlift-set": script_deadlift_set,
    "stretching": script_stretching,
    "walking": script_walking,
    "standing": script_standing,
}
