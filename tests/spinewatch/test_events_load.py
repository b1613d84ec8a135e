"""``analyze --events`` decides load over the whole recording (posture.load.WholeRecordingLoad)."""

from __future__ import annotations

import json

from posture.alerts import LoadSettings, detect_alerts
from posture.jsonsafe import dumps_json
from posture.thresholds import Thresholds
from sim.wearer import SimConfig, simulate
from spinewatch.events import events_for
from tests.posture.test_load_reps import _stooped_first_rep_set

SPEC = "flexion=20,lateral_flexion=15,rotation=15"


def test_events_flag_a_stooped_first_rep_that_live_could_not(sim_profile):
    script, t0 = _stooped_first_rep_set()
    tr = simulate(script, SimConfig(seed=11, rate_hz=50, ideal=True)).truth
    a = tr.angle_block()
    t0 += float(tr.t[0])
    ev = json.loads(dumps_json(events_for(a, sim_profile(), "auto", SPEC)))
    first = [al for al in ev["alerts"] if t0 <= al["start_s"] < t0 + 4.0]
    assert [(al["plane"], al["side"], al["under_load"]) for al in first] == [
        ("flexion", "positive", True)
    ]
    live = detect_alerts(a, Thresholds.parse(SPEC), LoadSettings(mode="auto"))
    assert len(ev["alerts"]) == len(live) + 1  # everything live raised, and that one
