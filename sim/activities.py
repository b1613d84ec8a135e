"""More activities for the wearer simulator, and the ``varied-session`` script built from them.

Each activity adds smooth movement events to a :class:`~sim.movement.Script` together with
its truth: an activity label per stretch of time (``phases``), load intervals (only lifts and
kettlebell swings hold a load; warm-ups, body-weight squats, walking, sitting and picking up a
light object do not) and true reps (bottom = the middle of the pause at the bottom). Angles in
degrees from standing, times in s, ``hip_drop`` in m. The scripts below are listed in
``VARIED_SCRIPTS`` (part of :data:`sim.wearer.SCRIPTS`).
"""

from __future__ import annotations

import numpy as np

from sim.movement import (
    Script,
    ScriptFn,
    Wearer,
    add_catcow,
    add_deadlift_set,
    add_stand,
    add_stretching,
    add_walk,
)

Rng = np.random.Generator


def _u(rng: Rng, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def walk_bout(s: Script, t: float, dur: float, rng: Rng) -> float:
    """Walking for ``dur`` s (30–90 s between sets) with a turn every 10–25 s."""
    end = add_walk(s, t, dur, rng, turn=False)
    tt = t + _u(rng, 8, 20)
    while tt < end - 4.0:
        s.add("heading", tt, 2.0, np.inf, np.inf, float(rng.choice([-1, 1]) * _u(rng, 90, 180)))
        tt += _u(rng, 10, 25)
    return end


def standing_catcow(s: Script, t: float, w: Wearer, rng: Rng) -> float:
    """Warm-up cat-cow standing, hands on thighs (≈ 30 s): the spine moves, the pelvis stays."""
    return add_catcow(s, t, w, rng, cycles=int(rng.integers(4, 6)), phase="catcow")


def quadruped_catcow(s: Script, t: float, w: Wearer, rng: Rng) -> float:
    """Kneel, hands down (trunk horizontal), cat-cow cycles, back up."""
    t0 = t
    kneel, hands = 1.5, 1.5
    tilt = _u(rng, 78, 90)
    tc = t0 + kneel + hands + _u(rng, 2.5, 4.0)  # settle on all fours before the first cat
    for _ in range(int(rng.integers(4, 6))):
        per = _u(rng, 5.0, 7.0)
        flex = w.flex_max * _u(rng, 0.8, 1.0)
        for k, amp in enumerate((flex, w.ext_max)):
            s.add("flex", tc + k * per / 2, per * 0.2, per * 0.1, per * 0.2, amp)
            s.add("pelvis_pitch", tc + k * per / 2, per * 0.2, per * 0.1, per * 0.2, -0.3 * amp)
        tc += per
    s.add("hip_drop", t0, kneel, tc + 2.5 - t0 - kneel, 1.5, 0.4)
    s.add("pelvis_pitch", t0 + kneel, hands, tc + 1.0 - t0 - kneel - hands, 1.5, tilt)
    end = tc + 4.0
    s.phases.append((t0, end, "quadruped"))
    return end + 0.5


def toe_touches(s: Script, t: float, w: Wearer, rng: Rng) -> float:
    """Slow toe touches: hips and a fully rounded spine, unloaded (reps of kind ``toe-touch``)."""
    t0 = t
    for _ in range(int(rng.integers(4, 7))):
        down, hold, up = _u(rng, 1.5, 2.2), _u(rng, 0.8, 1.5), _u(rng, 1.5, 2.2)
        pelvis, flex_s = _u(rng, 50, 70), w.flex_max * _u(rng, 0.8, 0.95)
        s.add("pelvis_pitch", t, down, hold, up, pelvis)
        s.add("flex", t, down, hold, up, flex_s)
        s.rep(
            t, down, hold, up, flex_s - w.neutral_from_standing, pelvis / (pelvis + flex_s),
            -1, False, "toe-touch", False,
        )  # fmt: skip
        t += down + hold + up + _u(rng, 0.8, 2.0)
    s.phases.append((t0, t, "toe-touch"))
    return t


def side_bends(s: Script, t: float, rng: Rng) -> float:
    t0 = t
    for _ in range(int(rng.integers(2, 4))):
        for side in (1, -1):
            rise = _u(rng, 1.2, 2.0)
            s.add("lat", t, rise, _u(rng, 0.3, 1.2), rise, side * _u(rng, 18, 30))
            s.add("pelvis_roll", t, rise, 0.5, rise, -side * _u(rng, 2, 5))
            t += 2 * rise + 1.3
    s.phases.append((t0, t, "side-bend"))
    return t


def trunk_twists(s: Script, t: float, rng: Rng) -> float:
    """Rhythmic trunk twists, alternating sides (≈ 1.5 s per side)."""
    t0 = t
    for _ in range(int(rng.integers(4, 8))):
        for side in (1, -1):
            half = _u(rng, 0.6, 0.9)
            s.add("rot", t, half, 0.1, half, side * _u(rng, 20, 35))
            t += 2 * half + 0.15
    s.phases.append((t0, t, "twist"))
    return t


def bodyweight_squats(s: Script, t: float, w: Wearer, rng: Rng) -> float:
    """Body-weight squats: hips drop, pelvis tilts forward, spine near neutral; unloaded."""
    t0 = t
    for _ in range(int(rng.integers(8, 13))):
        down, bottom, up = _u(rng, 1.0, 1.5), _u(rng, 0.2, 0.5), _u(rng, 1.0, 1.4)
        pelvis = _u(rng, 20, 35)
        flex_s = w.neutral_from_standing - 8.0 + _u(rng, 0, 8)  # a little butt wink
        s.add("pelvis_pitch", t, down, bottom, up, pelvis)
        s.add("flex", t, down, bottom, up, flex_s)
        s.add("hip_drop", t, down, bottom, up, _u(rng, 0.35, 0.5))
        incl = pelvis + flex_s
        s.rep(
            t, down, bottom, up, flex_s - w.neutral_from_standing,
            pelvis / incl if incl else 1.0, -1, False, "squat", False,
        )  # fmt: skip
        t += down + bottom + up + _u(rng, 0.3, 0.8)
    s.phases.append((t0, t, "squat"))
    return t


def kettlebell_swings(s: Script, t: float, w: Wearer, rng: Rng, idx: int) -> float:
    """A loaded set of kettlebell swings: ≈ 1-s hinges with hardly a pause at the top."""
    start = t
    n = int(rng.integers(10, 16))
    rounded = int(rng.integers(2, n)) if rng.random() < 0.5 else -1
    for k in range(n):
        down, bottom, up = _u(rng, 0.42, 0.55), _u(rng, 0.05, 0.12), _u(rng, 0.4, 0.5)
        pelvis = _u(rng, 55, 75)
        flex_s = (
            w.neutral_from_standing - 6.0 + (_u(rng, 20, 28) if k == rounded else _u(rng, -2, 4))
        )
        s.add("pelvis_pitch", t, down, bottom, up, pelvis)
        s.add("flex", t, down, bottom, up, flex_s)
        incl = pelvis + flex_s
        s.rep(
            t, down, bottom, up, flex_s - w.neutral_from_standing,
            pelvis / incl if incl else 1.0, idx, k == rounded, "swing", True,
        )  # fmt: skip
        t += down + bottom + up + _u(rng, 0.05, 0.2)
    s.sets.append((start, t))
    s.loads.append((start, t))
    s.phases.append((start, t, "swing"))
    return t


def pick_up(s: Script, t: float, w: Wearer, rng: Rng) -> float:
    """Picking up a light object (unloaded, not a rep): a hinge or a stoop."""
    down, hold, up = _u(rng, 1.0, 1.5), _u(rng, 0.3, 0.8), _u(rng, 1.0, 1.5)
    if rng.random() < 0.5:
        pelvis, flex_s = _u(rng, 45, 70), w.neutral_from_standing - 5.0 + _u(rng, 0, 6)
    else:
        pelvis, flex_s = _u(rng, 30, 50), w.flex_max * _u(rng, 0.6, 0.85)
    s.add("pelvis_pitch", t, down, hold, up, pelvis)
    s.add("flex", t, down, hold, up, flex_s)
    end = t + down + hold + up
    s.phases.append((t, end, "pickup"))
    return end + 0.5


def sit_down_stand_up(s: Script, t: float, rng: Rng) -> float:
    """Sit down (lean forward, hips drop), sit slumped for 8–20 s, stand up."""
    t0 = t
    sit = _u(rng, 8, 20)
    s.add("pelvis_pitch", t, 0.8, 0.2, 0.8, _u(rng, 25, 35))  # lean forward to sit
    s.add("hip_drop", t + 0.1, 1.4, sit + 1.5, 1.2, 0.45)
    seated = t + 1.6
    tilt, slump = _u(rng, 10, 20), _u(rng, 10, 20)
    s.add("pelvis_pitch", seated, 1.0, sit, 1.0, -tilt)  # posterior tilt on the chair
    s.add("flex", seated, 1.0, sit, 1.0, slump)
    rise = seated + 1.0 + sit
    s.add("pelvis_pitch", rise, 0.7, 0.1, 0.9, _u(rng, 30, 40))  # lean forward to stand up
    end = rise + 2.2
    s.phases.append((t0, end, "sit"))
    return end + 0.5


def script_varied_session(rng: Rng, w: Wearer, duration_s: float | None = None) -> Script:
    """≈ 10 min: warm-ups in random order, a pick-up and a sit, then walking bouts of
    30–90 s (some with a stop to pick something up) leading straight, with no quiet
    standing, into deadlift or kettlebell-swing sets."""
    dur = 600.0 if duration_s is None else float(duration_s)
    s = Script()
    t = add_stand(s, 0.0, 5.0)
    warmups = ["catcow", "quadruped", "toe", "bends", "twists", "squats"]
    for name in rng.permutation(warmups):
        if name == "catcow":
            t = standing_catcow(s, t, w, rng)
        elif name == "quadruped":
            t = quadruped_catcow(s, t, w, rng)
        elif name == "toe":
            t = toe_touches(s, t, w, rng)
        elif name == "bends":
            t = side_bends(s, t, rng)
        elif name == "twists":
            t = trunk_twists(s, t, rng)
        else:
            t = bodyweight_squats(s, t, w, rng)
        t += _u(rng, 1.0, 3.0)
        if t > dur - 20:
            break
    t = pick_up(s, t, w, rng)
    t = sit_down_stand_up(s, t, rng)
    k = 0
    while t < dur - 30.0:
        bout = min(_u(rng, 30, 90), max(dur - t - 25.0, 10.0))
        if bout > 25.0 and rng.random() < 0.4:  # stop on the way to pick something up
            first = _u(rng, 8.0, bout - 15.0)
            t = walk_bout(s, t, first, rng)
            t = pick_up(s, t, w, rng)
            bout -= first
        t = walk_bout(s, t, bout, rng)
        t += _u(rng, 0.3, 0.8)
        if k % 3 == 2:
            t = kettlebell_swings(s, t, w, rng, k)
        else:
            n = int(rng.integers(5, 9))
            order = rng.permutation(n).tolist()
            stoop = frozenset(order[:1]) if rng.random() < 0.7 else frozenset()
            rounded = set(order[1 : 1 + int(rng.integers(0, 2))])
            t = add_deadlift_set(s, t, w, rng, k, n, rounded, order[-1], order[-2], stoop)
        t += _u(rng, 0.3, 1.0)
        k += 1
    if t < dur:
        t = walk_bout(s, t, dur - t, rng) if dur - t > 5 else add_stand(s, t, dur - t)
    s.duration = t
    return s


def script_warmup(rng: Rng, w: Wearer, duration_s: float | None = None) -> Script:
    """Every warm-up once (≈ 3 min), each followed by a short stand; nothing loaded."""
    s = Script()
    t = add_stand(s, 0.0, 5.0)
    t = standing_catcow(s, t, w, rng)
    t = quadruped_catcow(s, t, w, rng)
    t = toe_touches(s, t, w, rng)
    t = side_bends(s, t, rng)
    t = trunk_twists(s, t, rng)
    t = bodyweight_squats(s, t, w, rng)
    t = add_stretching(s, t, rng)
    t = pick_up(s, t, w, rng)
    t = sit_down_stand_up(s, t, rng)
    s.duration = add_stand(s, t, 3.0)
    return s


def script_swing_set(rng: Rng, w: Wearer, duration_s: float | None = None) -> Script:
    s = Script()
    t = add_stand(s, 0.0, 4.0)
    t = kettlebell_swings(s, t, w, rng, 0)
    s.duration = add_stand(s, t, 3.0)
    return s


VARIED_SCRIPTS: dict[str, ScriptFn] = {
    "varied-session": script_varied_session,
    "warmup": script_warmup,
    "swing-set": script_swing_set,
}
