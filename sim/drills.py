"""The wearer simulator learns the drills: scripted drill sets with faults, and their truth.

Built on the public pieces of :mod:`sim.wearer` (a :class:`~sim.wearer.Script` of
smooth events on the body channels, the :class:`~sim.wearer.Wearer`, and
:func:`~sim.wearer.simulate`). Each drill script starts with quiet standing (so the
engine can zero the relative heading), gets into position, does its reps or holds, and ends
standing. Faults, each on a rep with probability ``fault_prob``:

* ``rounding``: lumbar flexion 16–24° past neutral at the bottom of a hinge;
* ``over_extension``: lumbar extension 14–20° past the standing posture at the top (swing,
  squat, bridge, hip extension);
* ``twist``: lumbar rotation 11–15° during a Pallof press;
* ``lumbar_turn``: a turn where the lumbar spine does 60–80 % of the trunk's turn;
* holds: ``over_extension`` (plank sag) or ``side_bend`` (side plank hips dropping), starting
  40–70 % into the hold — the hold *breaks down*.

Truth (:class:`DrillTruth`) is on the lumbar sensor's clock, like the simulator's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posture.drills.base import LUMBAR_TURN, OVER_EXTENSION, ROUNDING, SIDE_BEND, TWIST
from sim.sensors import SimResult
from sim.wearer import Script, SimConfig, Wearer, simulate

# Faults the simulator can put into each drill (the first is the default).
DRILL_FAULTS: dict[str, tuple[str, ...]] = {
    "cat-cow": (),
    "dowel-hinge-kneeling": (ROUNDING,),
    "dowel-hinge-standing": (ROUNDING,),
    "box-squat": (ROUNDING, OVER_EXTENSION),
    "kettlebell-swing": (ROUNDING, OVER_EXTENSION),
    "deadlift": (ROUNDING,),
    "hip-extension": (OVER_EXTENSION,),
    "glute-bridge": (OVER_EXTENSION,),
    "plank": (OVER_EXTENSION,),
    "side-plank-left": (SIDE_BEND,),
    "side-plank-right": (SIDE_BEND,),
    "pallof-press": (TWIST,),
    "turn-with-hips": (LUMBAR_TURN,),
}
HOLD_DRILLS = ("plank", "side-plank-left", "side-plank-right")


@dataclass(frozen=True)
class TruthRep:
    start_s: float
    end_s: float
    faults: tuple[str, ...]
    hip_share: float = float("nan")
    rotation_share: float = float("nan")


@dataclass(frozen=True)
class TruthHold:
    start_s: float
    end_s: float
    breakdown_s: float  # s into the hold; NaN when it held
    faults: tuple[str, ...]

    @property
    def hold_s(self) -> float:
        return self.end_s - self.start_s


@dataclass
class DrillTruth:
    drill: str
    reps: list[TruthRep] = field(default_factory=list)
    holds: list[TruthHold] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class DrillSim:
    """A simulated drill set: ``result`` (raw + angle truth, see ``SimResult``) and drill truth."""

    result: SimResult
    truth: DrillTruth


class _Builder:
    def __init__(
        self,
        drill: str,
        w: Wearer,
        rng: np.random.Generator,
        prob: float,
        kinds: tuple[str, ...],
        n: int,
    ):
        self.s = Script()
        self.w, self.rng = w, rng
        kinds = kinds or DRILL_FAULTS.get(drill, ())
        # Exactly round(prob × n) faulty reps (at random places), kinds in turn.
        k = int(round(prob * n)) if kinds else 0
        where = set(rng.choice(n, size=k, replace=False).tolist()) if k else set()
        order = sorted(where)
        self._plan = [kinds[order.index(i) % len(kinds)] if i in where else None for i in range(n)]
        self.truth = DrillTruth(drill)
        self.t = 0.0
        self.sev = 1.0  # fault size scale (the benchmark's sensitivity sweep)

    def u(self, a: float, b: float) -> float:
        return float(self.rng.uniform(a, b))

    def fault(self) -> str | None:
        return self._plan.pop(0) if self._plan else None

    def stand(self, dur: float) -> None:
        self.s.phases.append((self.t, self.t + dur, "stand"))
        self.t += dur

    def posture(self, channel: str, amp: float, dur: float = 2.0) -> None:
        """Move into a position and stay (the script ends there or moves back later)."""
        self.s.add(channel, self.t, dur, np.inf, np.inf, amp)
        self.t += dur

    def hinge_reps(
        self,
        n: int,
        pelvis: tuple[float, float],
        down: tuple[float, float],
        bottom: float,
        up: tuple[float, float],
        rest: tuple[float, float],
        base_pelvis: float = 0.0,
        spine_at_bottom: float | None = None,
        arch_at_peak: bool = False,
    ) -> None:
        w = self.w
        mid = w.neutral_from_standing if spine_at_bottom is None else spine_at_bottom
        for _ in range(n):
            f = self.fault()
            dn, upd, p = self.u(*down), self.u(*up), self.u(*pelvis)
            flex = mid + (self.sev * self.u(16, 24) if f == ROUNDING else self.u(-3, 3))
            if f == OVER_EXTENSION and arch_at_peak:  # a bridge arches at its peak
                flex = mid - self.sev * self.u(14, 20)
            t0 = self.t
            self.s.add("pelvis_pitch", t0, dn, bottom, upd, p)
            self.s.add("flex", t0, dn, bottom, upd, flex)
            t_top = t0 + dn + bottom + upd
            if f == OVER_EXTENSION and not arch_at_peak:
                r = min(0.25, 0.3 * upd)
                self.s.add("flex", t_top - r, r, 0.05, 0.15, -self.sev * self.u(14, 20))
            incl = p + base_pelvis + flex
            self.truth.reps.append(
                TruthRep(t0, t_top, (f,) if f else (), (p + base_pelvis) / incl if incl else 1.0)
            )
            self.t = t_top + self.u(*rest)


def _script(drill: str, b: _Builder, n: int, hold_s: float) -> None:
    w, u = b.w, b.u
    mid = w.neutral_from_standing
    b.stand(6.0)
    if drill == "cat-cow":
        b.posture("pelvis_pitch", 80.0)
        for _ in range(n):
            per = u(5.0, 6.5)
            b.s.add("flex", b.t, per * 0.22, per * 0.06, per * 0.22, w.flex_max)
            b.s.add("flex", b.t + per * 0.5, per * 0.22, per * 0.06, per * 0.22, w.ext_max)
            b.truth.reps.append(TruthRep(b.t, b.t + per * 0.5, ()))
            b.t += per
        b.posture("pelvis_pitch", -80.0)
    elif drill == "dowel-hinge-kneeling":
        b.hinge_reps(n, (30, 42), (1.3, 1.8), 0.3, (1.3, 1.8), (1.0, 1.5))
    elif drill == "dowel-hinge-standing":
        b.hinge_reps(n, (45, 65), (1.3, 1.8), 0.3, (1.3, 1.8), (1.0, 1.5))
    elif drill == "box-squat":
        b.hinge_reps(n, (32, 45), (1.3, 1.7), 0.6, (1.1, 1.5), (1.2, 1.6))
    elif drill == "kettlebell-swing":
        b.hinge_reps(n, (45, 60), (0.38, 0.45), 0.05, (0.38, 0.45), (0.12, 0.18))
    elif drill == "deadlift":
        b.hinge_reps(n, (60, 80), (1.2, 1.8), 0.3, (1.2, 1.8), (0.8, 1.4))
    elif drill == "hip-extension":
        b.posture("pelvis_pitch", 45.0)
        b.t += 1.5
        b.hinge_reps(n, (40, 50), (1.2, 1.6), 0.3, (1.2, 1.6), (1.0, 1.4), 45.0, 0.0)
        b.posture("pelvis_pitch", -45.0)
    elif drill == "glute-bridge":
        b.posture("pelvis_pitch", -90.0, 2.5)
        b.t += 2.0
        b.hinge_reps(n, (-30, -20), (1.0, 1.4), 1.0, (1.0, 1.4), (1.0, 1.5), -90.0, 0.0, True)
        b.posture("pelvis_pitch", 90.0, 2.5)
    elif drill in HOLD_DRILLS:
        channel, amp, plane = (
            ("pelvis_pitch", 90.0, "flex")
            if drill == "plank"
            else ("pelvis_roll", -90.0 if drill.endswith("left") else 90.0, "lat")
        )
        for _ in range(n):
            dur = u(0.9, 1.1) * hold_s
            start = b.t + 1.0  # halfway into position
            b.s.add(channel, b.t, 2.0, dur - 2.0, 2.0, amp)
            if plane == "flex":
                b.s.add("flex", b.t, 2.0, dur - 2.0, 2.0, mid + u(-1.5, 1.5))
            f = b.fault()
            tb = float("nan")
            if f is not None:
                tb = u(0.4, 0.7) * dur
                if plane == "flex":  # the hips sag: lumbar extension well past standing
                    sag = -(mid + b.sev * u(16, 22))
                    b.s.add("flex", start + tb - 1.0, 2.0, dur - tb - 2.0, 1.5, sag)
                else:  # the hips drop toward the floor
                    side = 1.0 if drill.endswith("left") else -1.0
                    drop = side * b.sev * u(14, 18)
                    b.s.add("lat", start + tb - 1.0, 2.0, dur - tb - 2.0, 1.5, drop)
            b.truth.holds.append(TruthHold(start, start + dur, tb, (f,) if f else ()))
            b.t += dur + 2.0 + u(6.0, 8.0)  # rest standing between holds
    elif drill == "pallof-press":
        for _ in range(n):
            f = b.fault()
            hold = u(1.6, 2.2)
            b.s.add("pelvis_pitch", b.t, 0.8, hold, 0.8, -u(3.0, 4.0))
            if f == TWIST:
                rot = b.sev * u(11, 15) * (1 if b.rng.random() < 0.5 else -1)
            else:
                rot = u(-1.5, 1.5)
            b.s.add("rot", b.t + 0.1, 0.7, hold, 0.8, rot)
            b.truth.reps.append(TruthRep(b.t, b.t + 1.6 + hold, (f,) if f else ()))
            b.t += 1.6 + hold + u(1.0, 1.4)
    elif drill == "turn-with-hips":
        for k in range(n):
            f = b.fault()
            total = u(50, 80) * (1 if k % 2 == 0 else -1)
            share = u(0.2, 0.4) if f == LUMBAR_TURN else u(0.7, 0.9)
            rise, fall = u(1.0, 1.4), u(1.0, 1.4)
            b.s.add("heading", b.t, rise, 0.4, fall, total * share)
            b.s.add("rot", b.t, rise, 0.4, fall, total * (1 - share))
            b.truth.reps.append(
                TruthRep(b.t, b.t + rise + 0.4 + fall, (f,) if f else (), float("nan"), share)
            )
            b.t += rise + 0.4 + fall + u(1.0, 1.5)
    else:
        from posture.drills.base import DrillError

        raise DrillError(f"the simulator has no script for drill '{drill}'")
    b.stand(4.0)
    b.s.duration = b.t


def simulate_drill(
    drill: str,
    seed: int = 0,
    fault_prob: float = 0.0,
    faults: tuple[str, ...] = (),
    n: int | None = None,
    hold_s: float = 30.0,
    config: SimConfig | None = None,
    take: int = 0,
    severity: float = 1.0,
) -> DrillSim:
    """One simulated set of ``drill`` by the wearer of ``seed``.

    Args:
        fault_prob: share of the reps or holds that have a fault (0: all clean), placed at
            random.
        faults: the fault kinds to draw from (default: all the drill has, ``DRILL_FAULTS``).
        n: reps or holds (default: 8 reps, 3 holds, 5 cat-cow cycles).
        hold_s: nominal hold length, s.
        config: sensor settings; the seed in it is replaced by ``seed``.
        take: another set by the same wearer (varies the movement, not the wearer).
        severity: scales the size of every fault (1: the sizes in the module docstring).
    """
    from dataclasses import replace

    cfg = replace(config or SimConfig(), seed=seed)
    w = Wearer.from_seed(seed)
    count = n if n is not None else (3 if drill in HOLD_DRILLS else 5 if drill == "cat-cow" else 8)
    rng = np.random.default_rng([seed, 16, len(drill), int(fault_prob * 1000), take])
    b = _Builder(drill, w, rng, fault_prob, faults, count)
    b.sev = float(severity)
    _script(drill, b, count, hold_s)
    res: SimResult = simulate(b.s, cfg)
    t0 = float(res.truth.t[0])  # the lumbar clock's epoch (script time 0)
    tr = b.truth
    shifted = DrillTruth(
        drill,
        [
            TruthRep(r.start_s + t0, r.end_s + t0, r.faults, r.hip_share, r.rotation_share)
            for r in tr.reps
        ],
        [TruthHold(h.start_s + t0, h.end_s + t0, h.breakdown_s, h.faults) for h in tr.holds],
    )
    return DrillSim(res, shifted)
