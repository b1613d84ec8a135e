"""``--load auto`` and rep detection on varied activities (the simulator's truth angles)."""

from __future__ import annotations

import numpy as np
import pytest

from posture.alerts import AlertEngine, LoadContext, LoadSettings, detect_alerts
from posture.live import RepTracker
from posture.load import effective_load
from posture.records import AngleBlock
from posture.reps import RepSettings, segment_reps
from posture.thresholds import Thresholds
from sim import activities as act
from sim.movement import add_deadlift_set, add_stand
from sim.wearer import PHASES, Script, SimConfig, Wearer, simulate

TH = Thresholds.parse("flexion=20,lateral_flexion=15,rotation=15")


def _script() -> Script:
    """Every warm-up, then a deadlift set that starts with a normal rep and has two stoop reps
    (≈ 27° flexion, < 50 % hip share), walking straight into a kettlebell-swing set."""
    rng, w = np.random.default_rng(7), Wearer.from_seed(7)  # simulate() uses the seed's wearer
    s = Script()
    t = add_stand(s, 0.0, 4.0)
    t = act.standing_catcow(s, t, w, rng)
    t = act.quadruped_catcow(s, t, w, rng)
    t = act.toe_touches(s, t, w, rng)
    t = act.side_bends(s, t, rng)
    t = act.trunk_twists(s, t, rng)
    t = act.bodyweight_squats(s, t, w, rng)
    t = add_stand(s, t, 6.0)  # (a pick-up right after a set would count as one of its reps)
    t = act.pick_up(s, t, w, rng)
    t = act.sit_down_stand_up(s, t, rng)
    t = act.walk_bout(s, t, 30.0, rng)
    t = add_deadlift_set(s, t, w, rng, 0, 7, {5}, 1, 3, frozenset({2, 4}))
    t = act.walk_bout(s, t, 30.0, rng)
    t = act.kettlebell_swings(s, t + 0.5, w, rng, 1)
    s.duration = add_stand(s, t, 3.0)
    return s


@pytest.fixture(scope="module")
def sim():
    return simulate(_script(), SimConfig(seed=7, rate_hz=50, ideal=True))


def _phase(tr, t_s: float) -> str:
    return PHASES[tr.phase[int(np.clip(np.searchsorted(tr.t, t_s), 0, tr.t.size - 1))]]


def test_auto_load_ignores_warmups_and_flags_lift_excursions(sim):
    tr = sim.truth
    a = tr.angle_block()
    alerts = detect_alerts(a, TH, LoadSettings(mode="auto"))
    phases = {_phase(tr, al.start_s) for al in alerts}
    assert phases <= {"lift", "swing"}, phases
    # Cat-cow (standing and on all fours), toe touches, bends and twists go far past the limits
    # under --load always, but are not a lift.
    always = detect_alerts(a, TH, LoadSettings(mode="always"))
    warm = {"catcow", "quadruped", "toe-touch", "side-bend", "twist"}
    assert len([al for al in always if _phase(tr, al.start_s) in warm]) >= 10
    # Every excursion in the deadlift set after its first rep is flagged, the stoop reps too.
    lift_always = [al for al in always if _phase(tr, al.start_s) == "lift"]
    assert len(lift_always) >= 3
    for want in lift_always:
        assert any(
            g.plane == want.plane and g.side == want.side and abs(g.start_s - want.start_s) < 0.2
            for g in alerts
        )


def test_auto_load_samples(sim):
    tr = sim.truth
    ctx = LoadContext(LoadSettings(mode="auto"))
    flags = ctx.update(tr.angle_block())
    for name in ("catcow", "toe-touch", "side-bend", "twist", "squat", "walk", "sit"):
        m = tr.phase == PHASES.index(name)
        # (sitting down follows the pick-up here, whose hinge is lift-like: hold_s carries over)
        assert flags[m].mean() < (0.1 if name == "sit" else 0.05), name
    lifting = tr.under_load
    assert flags[lifting].mean() > 0.7


def test_auto_load_any_chunking_equals_batch(sim):
    a = sim.truth.angle_block()
    want = LoadContext(LoadSettings(mode="auto")).update(a)
    ctx = LoadContext(LoadSettings(mode="auto"))
    rng = np.random.default_rng(1)
    got, i = [], 0
    while i < len(a):
        k = int(rng.integers(1, 40))
        got.append(ctx.update(a.take(slice(i, i + k))))
        i += k
    np.testing.assert_array_equal(np.concatenate(got), want)
    eng = AlertEngine(TH, LoadContext(LoadSettings(mode="auto")))
    ended, i = [], 0
    while i < len(a):
        k = int(rng.integers(1, 40))
        ended += eng.process(a.take(slice(i, i + k)))[1]
        i += k
    ended += eng.flush(float(a.t[-1]))
    assert sorted(ended, key=lambda x: (x.start_s, x.plane, x.side)) == detect_alerts(
        a, TH, LoadSettings(mode="auto")
    )


def test_reps_lifts_rounded_and_swings_not_warmups(sim):
    tr = sim.truth
    reps = segment_reps(tr.angle_block())
    for kind in ("lift", "swing"):
        want = [r for r in tr.reps if r.kind == kind]
        assert len(want) >= 7
        for r in want:
            m = [x for x in reps if x.start_s < r.end_s and x.end_s > r.start_s]
            assert len(m) == 1, (kind, r)
            assert abs(m[0].bottom_s - r.bottom_s) < 0.06
            if r.rounded and r.hip_share < 0.5:
                assert m[0].peak_flexion_deg > 20 and m[0].hip_share < 0.5
    for x in reps:
        assert 0.6 <= x.end_s - x.start_s <= 8.0
        # No rep in a cat-cow, on all fours, picking up or sitting down.
        assert _phase(tr, x.bottom_s) not in ("catcow", "quadruped", "pickup", "sit")


def _plateau_block(rate: float, hold: float, noise: float) -> tuple[AngleBlock, float]:
    """Two hinges with a long, noisy pause at the bottom, slow down and fast up."""
    rng = np.random.default_rng(3)
    t = 100.0 + np.arange(int(20 * rate)) / rate
    trunk = np.zeros(t.size)
    mids = []
    for t0 in (102.0, 108.0):
        down, up = 1.6, 0.8
        s1 = np.clip((t - t0) / down, 0, 1)
        s2 = np.clip((t - t0 - down - hold) / up, 0, 1)
        mj = lambda s: s**3 * (10 - 15 * s + 6 * s**2)  # noqa: E731
        trunk += 70 * (mj(s1) - mj(s2))
        mids.append(t0 + down + hold / 2)
    trunk += rng.normal(0, noise, t.size)
    z = np.zeros(t.size)
    a = AngleBlock(t, z, z, z, trunk, 0.9 * trunk, 0.9 * trunk, z + 1, z.astype(np.uint8))
    return a, mids[0]


@pytest.mark.parametrize("rate", [50.0, 200.0])
def test_bottom_is_the_middle_of_the_bottom_plateau(rate):
    a, mid = _plateau_block(rate, hold=1.2, noise=0.3)
    reps = segment_reps(a)
    assert len(reps) == 2
    assert reps[0].bottom_s == pytest.approx(mid, abs=0.06)


def test_long_or_lone_hinges_are_not_reps():
    a, _ = _plateau_block(100.0, hold=1.2, noise=0.0)
    assert len(segment_reps(a, RepSettings(max_duration_s=3.0))) == 0  # too long
    lone = a.take(slice(0, int(7 * 100)))  # only the first hinge
    assert segment_reps(lone) == []


def test_live_rep_tracker_equals_batch_in_any_chunking(sim):
    a = sim.truth.angle_block()
    want = segment_reps(a)
    rng = np.random.default_rng(2)
    tr, got, i = RepTracker(), [], 0
    while i < len(a):
        k = int(rng.integers(1, 60))
        got += tr.push(a.take(slice(i, i + k)))
        i += k
    got += tr.flush()
    assert got == want


def test_auto_without_profile_falls_back_to_never():
    s, warn = effective_load(LoadSettings(mode="auto"), calibrated=False)
    assert s.mode == "never" and warn and "profile" in warn
    s, warn = effective_load(LoadSettings(mode="always"), calibrated=False)
    assert s.mode == "always" and warn is None


def _stooped_first_rep_set() -> tuple[Script, float]:
    """A stooped pick-up alone, walking, then a deadlift set whose first rep is a stoop
    (returns the script and the set's start, s)."""
    rng, w = np.random.default_rng(11), Wearer.from_seed(11)
    s = Script()
    t = add_stand(s, 0.0, 4.0)
    t = act.pick_up(s, t, w, rng)
    t = act.walk_bout(s, t, 30.0, rng)
    t0 = add_stand(s, t, 2.0)
    t = add_deadlift_set(s, t0, w, rng, 0, 4, set(), None, None, frozenset({0}))
    s.duration = add_stand(s, t, 3.0)
    return s, t0


def test_whole_recording_load_flags_a_stooped_first_rep():
    from posture.load import WholeRecordingLoad

    script, t0 = _stooped_first_rep_set()
    tr = simulate(script, SimConfig(seed=11, rate_hz=50, ideal=True)).truth
    a = tr.angle_block()
    t0 += float(tr.t[0])  # the script's times are from the start of the recording
    first = (tr.t >= t0) & (tr.t < t0 + 4.0)  # the first rep: up by 4 s (down ≤ 1.8 s)
    live = detect_alerts(a, TH, LoadSettings(mode="auto"))
    whole = detect_alerts(a, TH, LoadSettings(mode="auto"), whole_recording=True)
    in_first = lambda als: [x for x in als if t0 <= x.start_s < t0 + 4.0]  # noqa: E731
    assert in_first(live) == []  # live: a stoop from standing is not a lift (docs/load.md)
    assert [(x.plane, x.side) for x in in_first(whole)] == [("flexion", "positive")]
    # Everything live loads stays loaded; the first rep is now loaded whole; the pick-up and
    # the walk before the set keep their live flags (a lone hinge, no set after it).
    causal = LoadContext(LoadSettings(mode="auto")).update(a)
    flags = WholeRecordingLoad(LoadSettings(mode="auto")).update(a)
    assert not (causal & ~flags).any()
    hinge = first & (a.thoracic_inclination > 30.0)
    assert flags[hinge].all() and not causal[hinge].all()
    before = tr.t < t0 - 1.0
    assert (flags[before] == causal[before]).all()
    with pytest.raises(ValueError, match="whole recording"):
        ctx = WholeRecordingLoad(LoadSettings(mode="auto"))
        ctx.update(a.take(slice(0, 10)))
        ctx.update(a.take(slice(10, 20)))


def _live_alerts(a: AngleBlock, chunks: np.random.Generator | None) -> list:
    """Live alerts (raised in the moment and reviews) of angles fed in random chunks."""
    from posture.rep_review import FirstRepReview

    ctx = LoadContext(LoadSettings(mode="auto"))
    eng, review = AlertEngine(TH, ctx), FirstRepReview(TH, ctx)
    out, i = [], 0
    while i < len(a):
        k = len(a) if chunks is None else int(chunks.integers(1, 40))
        b = a.take(slice(i, i + k))
        out += eng.process(b)[1] + review.push(b)
        i += k
    out += eng.flush(float(a.t[-1]))
    return sorted(out, key=lambda x: (x.start_s, x.plane, x.side))


def test_live_reviews_a_stooped_first_rep_as_the_saved_record_flags_it():
    script, t0 = _stooped_first_rep_set()
    tr = simulate(script, SimConfig(seed=11, rate_hz=50, ideal=True)).truth
    a = tr.angle_block()
    t0 += float(tr.t[0])
    whole = detect_alerts(a, TH, LoadSettings(mode="auto"), whole_recording=True)
    live = _live_alerts(a, None)
    key = lambda als: [(x.start_s, x.end_s, x.plane, x.side, x.peak_deg) for x in als]  # noqa: E731
    assert key(live) == key(whole)
    reviews = [x for x in live if x.is_review]
    assert [(x.plane, x.side) for x in reviews] == [("flexion", "positive")]
    # Raised when the set's second rep (the first lift-like one) ends, seconds after the
    # first rep's excursion ended; in the moment alerts are not reviews.
    assert t0 < reviews[0].start_s < reviews[0].end_s < reviews[0].alert_s < t0 + 12.0
    assert not any(x.is_review for x in detect_alerts(a, TH, LoadSettings(mode="always")))
    for seed in (1, 2, 3):
        assert _live_alerts(a, np.random.default_rng(seed)) == live


def test_no_review_without_a_set_after_the_hinge(sim):
    a = sim.truth.angle_block()  # warm-ups, a pick-up; sets that start with a normal rep
    assert not any(x.is_review for x in _live_alerts(a, np.random.default_rng(4)))


def test_a_warm_up_just_before_a_set_is_not_its_first_rep():
    """Toe touches, 2 s standing, then a set: the last toe touch ends more than
    ``first_rep_gap_s`` before the set's first hinge, so it is no rep of the set."""
    rng, w = np.random.default_rng(31), Wearer.from_seed(31)
    s = Script()
    t = act.toe_touches(s, add_stand(s, 0.0, 4.0), w, rng)
    t0 = add_stand(s, t, 2.0)
    s.duration = add_stand(s, add_deadlift_set(s, t0, w, rng, 0, 4, set(), None, None), 3.0)
    a = simulate(s, SimConfig(seed=31, rate_hz=50, ideal=True)).truth.angle_block()
    t0 += float(a.t[0])
    always = detect_alerts(a, TH, LoadSettings(mode="always"))
    assert any(x.start_s < t0 for x in always)  # the toe touches go past the flexion limit
    live = _live_alerts(a, np.random.default_rng(5))
    whole = detect_alerts(a, TH, LoadSettings(mode="auto"), whole_recording=True)
    assert [x for x in live + whole if x.start_s < t0] == []


def test_no_review_of_a_first_rep_inside_a_set_marked_by_hand():
    from posture.rep_review import FirstRepReview

    script, t0 = _stooped_first_rep_set()
    tr = simulate(script, SimConfig(seed=11, rate_hz=50, ideal=True)).truth
    a = tr.angle_block()
    t0 += float(tr.t[0])
    ctx = LoadContext(LoadSettings(mode="auto"))
    ctx.add_set(t0 - 1.0)  # "lifting now", pressed before the set
    eng, review = AlertEngine(TH, ctx), FirstRepReview(TH, ctx)
    out = eng.process(a)[1] + review.push(a) + eng.flush(float(a.t[-1]))
    first = [x for x in out if t0 <= x.start_s < t0 + 4.0]
    assert [(x.plane, x.is_review) for x in first] == [("flexion", False)]  # once, in the moment
