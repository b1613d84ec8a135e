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
