"""Coach-mode drills against the drill simulator's truth, one test per drill family."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from calibration import CalibrationProfile
from posture.drills import (
    DRILLS,
    PROGRAM,
    Analyser,
    DrillError,
    DrillFrame,
    NeutralBand,
    get_spec,
    make_analyser,
    summarise,
)
from posture.drills.feed import DrillFeed, frames_from_raw
from posture.records import LUMBAR, THORACIC
from sim.drills import DRILL_FAULTS, DrillSim, simulate_drill
from sim.wearer import SimConfig

SEED = 3
CFG = SimConfig(seed=SEED, rate_hz=100)


@pytest.fixture(scope="module")
def profile(sim_profile: Callable[..., CalibrationProfile]) -> CalibrationProfile:
    return sim_profile(CFG)


@pytest.fixture(scope="module")
def band(profile: CalibrationProfile) -> NeutralBand:
    return NeutralBand.from_ranges(profile.ranges, profile.standing_flexion_deg)


def _run(
    name: str,
    profile: CalibrationProfile,
    band: NeutralBand,
    prob: float = 0.5,
    n: int | None = None,
    chunk: int | None = None,
) -> tuple[DrillSim, Analyser]:
    sim = simulate_drill(name, SEED, fault_prob=prob, n=n, hold_s=20.0, config=CFG)
    fr = frames_from_raw(sim.result.raw, profile.spine_model)
    a = make_analyser(name, band)
    for part in fr.chunks(chunk) if chunk else [fr]:
        a.push(part)
    a.flush()
    return sim, a


def _check_reps(sim: DrillSim, a: Analyser, share_tol: float | None = None) -> None:
    want = sim.truth.reps
    assert len(a.reps) == len(want)
    for got, w in zip(a.reps, want, strict=True):
        assert got.start_s == pytest.approx(w.start_s, abs=0.7)
        assert got.end_s == pytest.approx(w.end_s, abs=0.7)
        assert set(w.faults) == set(got.faults)
        if share_tol is not None:
            assert got.rotation_share == pytest.approx(w.rotation_share, abs=share_tol)


def test_every_programme_step_is_a_drill():
    assert set(PROGRAM) == set(DRILLS) == set(DRILL_FAULTS)
    for name in PROGRAM:
        spec = get_spec(name)
        assert spec.instruction and spec.pass_rule and spec.kind in ("reps", "hold")
        assert (
            all(f in spec.cues for f in DRILL_FAULTS[name] if f != "lumbar_turn") or not spec.cues
        )
    with pytest.raises(DrillError, match="choose one of"):
        get_spec("burpee")


def test_band_from_profile_ranges():
    b = NeutralBand.from_ranges({"flexion": (-30.0, 35.0)}, standing_flexion_deg=-12.0)
    assert b.flexion == pytest.approx((-18.0, 7.0))  # reaches 6° past standing
    assert b.rotation == (-4.0, 4.0)  # default range 12° → floor
    assert NeutralBand.from_ranges({"flexion": (-80.0, 80.0)}).flexion == (-10.0, 10.0)  # cap


@pytest.mark.parametrize("name", ["dowel-hinge-standing", "kettlebell-swing"])
def test_hinge_family(name: str, profile: CalibrationProfile, band: NeutralBand) -> None:
    sim, a = _run(name, profile, band)
    _check_reps(sim, a)
    assert any(r.faults for r in sim.truth.reps) and any(not r.faults for r in sim.truth.reps)
    for got, w in zip(a.reps, sim.truth.reps, strict=True):
        assert got.hip_share == pytest.approx(w.hip_share, abs=0.05)


def test_glute_family(profile: CalibrationProfile, band: NeutralBand) -> None:
    sim, a = _run("glute-bridge", profile, band, prob=0.5)
    _check_reps(sim, a)
    arched = [r.hip_share for r in a.reps if r.faults]
    clean = [r.hip_share for r in a.reps if not r.faults]
    assert arched and clean and max(arched) < min(clean)  # arching lowers the hips' share


@pytest.mark.parametrize("name", ["plank", "side-plank-right"])
def test_holds(name: str, profile: CalibrationProfile, band: NeutralBand) -> None:
    sim, a = _run(name, profile, band, prob=0.6)
    assert len(a.holds) == len(sim.truth.holds) == 3
    for got, w in zip(a.holds, sim.truth.holds, strict=True):
        assert got.hold_s == pytest.approx(w.hold_s, rel=0.05)
        assert set(got.faults) == set(w.faults)
        if w.faults:
            assert got.breakdown_s == pytest.approx(w.breakdown_s, abs=1.5)
            assert got.time_in_band_s < 0.8 * got.hold_s
        else:
            assert math.isnan(got.breakdown_s) and got.time_in_band_s > 0.95 * got.hold_s
    s = summarise(get_spec(name), a)
    assert 0 <= s["score"] <= 100 and s["holds"] == 3


def test_rotation_family(profile: CalibrationProfile, band: NeutralBand) -> None:
    sim, a = _run("pallof-press", profile, band)
    _check_reps(sim, a)
    sim = simulate_drill("turn-with-hips", SEED, fault_prob=0.5, config=CFG)
    a = make_analyser("turn-with-hips", band)
    fr = frames_from_raw(sim.result.raw, profile.spine_model)
    cues = [c for part in fr.chunks(50) for c in a.push(part).cues] + a.flush().cues
    _check_reps(sim, a, share_tol=0.1)
    turned = [c for c in cues if c.fault == "lumbar_turn"]
    assert len(turned) == sum(1 for w in sim.truth.reps if w.faults) >= 1
    assert turned[0].text.startswith("Turn with the hips")


def test_cat_cow_counts_cycles(profile: CalibrationProfile, band: NeutralBand) -> None:
    sim, a = _run("cat-cow", profile, band, prob=0.0)
    assert len(a.reps) == 5 and all(r.clean for r in a.reps)
    assert min(r.max_flexion_deg for r in a.reps) > band.flexion[1] + 10


@pytest.mark.parametrize("name,chunk", [("kettlebell-swing", 7), ("side-plank-left", 23)])
def test_chunking_changes_nothing(
    name: str, chunk: int, profile: CalibrationProfile, band: NeutralBand
) -> None:
    _, whole = _run(name, profile, band)
    _, parts = _run(name, profile, band, chunk=chunk)
    got = [r.to_json_dict() for r in getattr(parts, "reps", [])] or [
        h.to_json_dict() for h in parts.holds
    ]
    want = [r.to_json_dict() for r in getattr(whole, "reps", [])] or [
        h.to_json_dict() for h in whole.holds
    ]
    assert got == want and got


def test_live_feed_gives_the_batch_reps(profile: CalibrationProfile, band: NeutralBand) -> None:
    sim = simulate_drill("dowel-hinge-kneeling", SEED, fault_prob=0.5, n=4, config=CFG)
    feed = DrillFeed(profile.spine_model, 100.0)
    a = make_analyser("dowel-hinge-kneeling", band)
    raw = sim.result.raw
    cues = []
    t = raw[LUMBAR].t
    for k in range(0, t.size, 25):  # 0.25 s notifications, thoracic first
        for role in (THORACIC, LUMBAR):
            blk = raw[role].take(slice(k, k + 25))
            cues += a.push(feed.push(blk)).cues
    a.push(feed.flush())
    a.flush()
    assert [r.faults for r in a.reps] == [w.faults for w in sim.truth.reps]
    faulty = [w for w in sim.truth.reps if w.faults]
    assert len(cues) >= len(faulty) >= 1
    assert all(c.text.startswith("Keep the dowel") for c in cues)


def test_frame_checks_shapes():
    with pytest.raises(DrillError):
        DrillFrame(*([np.array([0.0, 1.0])] * 7), np.array([0.0]))
