"""Alert engine: hysteresis, minimum duration, every plane and side, load context, chunking."""

from __future__ import annotations

import numpy as np
import pytest

from posture.alerts import AlertEngine, LoadContext, LoadSettings, detect_alerts
from posture.records import AngleBlock
from posture.thresholds import ThresholdError, Thresholds

RATE = 200.0


def block(t, flex=None, lat=None, rot=None, trunk=None, hip=None):
    n = t.size
    z = np.zeros(n)
    return AngleBlock(
        t,
        z if flex is None else flex,
        z if lat is None else lat,
        z if rot is None else rot,
        z + 40 if trunk is None else trunk,
        z,
        z + 40 if hip is None else hip,
        np.ones(n),
        np.zeros(n, np.uint8),
    )


T = 50.0 + np.arange(int(10 * RATE)) / RATE
LIM = Thresholds.parse("flexion=20,lateral_flexion=15,rotation=10")


def bump(center, width, amp):
    return amp * np.exp(-0.5 * ((T - center) / width) ** 2)


@pytest.mark.parametrize("plane", ["flexion", "lateral_flexion", "rotation"])
@pytest.mark.parametrize("sign", [1, -1])
def test_every_plane_and_side(plane, sign):
    lim = abs(LIM.limits[plane][1])
    key = {"flexion": "flex", "lateral_flexion": "lat", "rotation": "rot"}[plane]
    a = block(T, **{key: sign * bump(55, 0.5, lim + 10)})
    alerts = detect_alerts(a, LIM, LoadSettings(mode="always"))
    assert len(alerts) == 1
    al = alerts[0]
    assert al.plane == plane and al.side == ("positive" if sign > 0 else "negative")
    assert al.peak_deg == pytest.approx(sign * (lim + 10), abs=0.05)
    assert al.alert_s == pytest.approx(al.start_s + 0.1, abs=1 / RATE)
    # Ends only once back inside limit − hysteresis.
    x = sign * bump(55, 0.5, lim + 10)
    assert abs(np.interp(al.end_s, T, x)) <= lim - 2.0 + 0.05


def test_minimum_duration_debounces_spikes():
    flex = np.zeros(T.size)
    flex[400:410] = 30.0  # 50 ms beyond: no alert
    flex[800:860] = 30.0  # 300 ms: one alert
    alerts = detect_alerts(block(T, flex), LIM, LoadSettings(mode="always"))
    assert len(alerts) == 1 and alerts[0].start_s == pytest.approx(T[800])


def test_hysteresis_no_chatter_around_the_limit():
    flex = 20.0 + 1.5 * np.sin(2 * np.pi * 5 * T)  # dithers ±1.5° around the 20° limit
    flex[:200] = 0
    alerts = detect_alerts(block(T, flex), LIM, LoadSettings(mode="always"))
    assert len(alerts) == 1


def test_nan_gaps_neither_start_nor_end():
    flex = np.where((T > 52) & (T < 54), 30.0, 0.0)
    flex[(T > 52.5) & (T < 53)] = np.nan
    alerts = detect_alerts(block(T, flex), LIM, LoadSettings(mode="always"))
    assert len(alerts) == 1 and alerts[0].end_s == pytest.approx(54.0, abs=0.01)


def test_load_context_auto_ignores_stretching():
    flex = bump(53, 0.6, 35)
    # Slump/stretch: trunk forward but the pelvis stays upright → not a hinge → no alert.
    stretch = block(T, flex, trunk=30 + bump(53, 0.6, 20), hip=np.zeros(T.size))
    assert detect_alerts(stretch, LIM, LoadSettings(mode="auto")) == []
    # Hinge: trunk and pelvis forward → under load → alert.
    hinge = block(T, flex, trunk=bump(53, 1.0, 70), hip=bump(53, 1.0, 60))
    assert len(detect_alerts(hinge, LIM, LoadSettings(mode="auto"))) == 1
    assert detect_alerts(hinge, LIM, LoadSettings(mode="never")) == []


def test_manual_set_switches_load_on():
    flex = bump(53, 0.6, 35)
    a = block(T, flex, trunk=np.zeros(T.size), hip=np.zeros(T.size))
    ctx = LoadContext(LoadSettings(mode="never"))
    ctx.add_set(52.0, 54.0)
    eng = AlertEngine(LIM, ctx)
    raised, ended = eng.process(a)
    assert len(raised) == 1 and len(ended) == 1


def test_streaming_in_random_chunks_equals_batch():
    rng = np.random.default_rng(0)
    flex = bump(52, 0.4, 30) + bump(56, 0.8, -40) + rng.normal(0, 1, T.size)
    rot = bump(54, 0.3, 14)
    a = block(T, flex, rot=rot)
    want = detect_alerts(a, LIM, LoadSettings(mode="always"))
    eng = AlertEngine(LIM, LoadContext(LoadSettings(mode="always")))
    got, i = [], 0
    while i < T.size:
        k = int(rng.integers(1, 50))
        got += eng.process(a.take(slice(i, i + k)))[1]
        i += k
    got += eng.flush(float(T[-1]))
    assert sorted(got, key=lambda x: (x.start_s, x.plane, x.side)) == want
    assert len(want) == 3


def test_thresholds_from_profile_ranges_and_parse_errors():
    th = Thresholds.from_ranges(
        {"flexion": (-30, 30), "lateral_flexion": (-25, 25), "rotation": (-12, 12)}
    )
    assert th.limits["flexion"] == pytest.approx((-9.0, 9.0))
    assert th.limits["rotation"] == pytest.approx((-5.0, 5.0))  # floor
    assert Thresholds.from_json_dict(th.to_json_dict()) == th
    for bad in ("flexion", "spin=3", "flexion=abc", "flexion=120"):
        with pytest.raises(ThresholdError):
            Thresholds.parse(bad)


def _key(al):
    return repr(al)  # exact floats, and NaN end times compare equal


@pytest.mark.parametrize("seed", range(6))
def test_small_block_walk_equals_array_path(seed):
    """Live blocks (≤ 32 samples) take the per-sample walk, larger ones the numpy path:
    the same alerts (raised and ended, in the same order, same peaks and times) as the numpy
    path on the same chunks, with NaN gaps, load switching on and off mid-excursion,
    chatter around the limits and rotation withheld now and then; ended alerts as batch."""
    rng = np.random.default_rng(seed)
    n = T.size
    flex = bump(52, 0.4, 30) + bump(56, 0.8, -40) + rng.normal(0, 1.5, n)
    lat = 15.0 + rng.normal(0, 2.0, n)  # chatter around the lateral limit
    rot = bump(54, 0.3, 14) - bump(57, 0.5, 13) + rng.normal(0, 0.5, n)
    for col in (flex, lat, rot):
        for g in rng.integers(0, n, 12):
            col[g : g + int(rng.integers(1, 30))] = np.nan
    conf = np.clip(0.6 + 0.5 * np.sin(T * 1.3 + seed), 0.0, 1.0)
    trunk = 40 + 30 * np.sin(T * 0.9 + seed)  # hinges on and off: auto load toggles
    a = AngleBlock(T, flex, lat, rot, trunk, np.zeros(n), 0.8 * trunk, conf, np.zeros(n, np.uint8))
    for mode in ("always", "auto"):
        ref = AlertEngine(LIM, LoadContext(LoadSettings(mode=mode)))
        ref._walk = ref._process_array  # the numpy path for every block
        eng = AlertEngine(LIM, LoadContext(LoadSettings(mode=mode)))
        got, want, i = [], [], 0
        while i < n:
            k = int(rng.integers(1, 8)) if rng.random() < 0.9 else int(rng.integers(33, 80))
            got.append(eng.process(a.take(slice(i, i + k))))
            want.append(ref.process(a.take(slice(i, i + k))))
            assert eng.rotation_uncertain == ref.rotation_uncertain
            i += k
        got.append(([], eng.flush(float(T[-1]))))
        want.append(([], ref.flush(float(T[-1]))))
        assert [[[_key(x) for x in p] for p in g] for g in got] == [
            [[_key(x) for x in p] for p in w] for w in want
        ]
        ended = [x for _, e in got for x in e]
        batch = detect_alerts(a, LIM, LoadSettings(mode=mode))
        order = lambda al: (al.start_s, al.plane, al.side)  # noqa: E731
        assert [_key(x) for x in sorted(ended, key=order)] == [_key(x) for x in batch]
        assert len(batch) >= 3


def test_small_block_walk_orders_alerts_as_array_path():
    """Within one block, raised and ended alerts come channel by channel as in numpy."""
    t = 50.0 + np.arange(20) / RATE
    flex = np.where(np.arange(20) < 15, 30.0, 0.0)
    lat = np.where(np.arange(20) < 12, -20.0, 0.0)
    a = block(t, flex, lat)
    th = Thresholds(LIM.limits, min_duration_s=0.01)
    eng = [AlertEngine(th, LoadContext(LoadSettings(mode="always"))) for _ in range(2)]
    big = eng[0]._process_array(a, np.ones(20, bool))
    small = eng[1]._walk(a, np.ones(20, bool))
    assert [[_key(x) for x in part] for part in big] == [[_key(x) for x in part] for part in small]
    assert len(big[0]) == 2 and len(big[1]) == 2
