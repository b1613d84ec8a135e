"""The CLI contract: calibrate → analyze on simulated data; user mistakes give one line."""

from __future__ import annotations

import numpy as np
import pytest

from posture.anglescsv import read_angles_csv
from spinewatch.cli import main


def test_simulate_calibrate_analyze(tmp_path, capsys):
    cal, prof, ses, ang, truth = (
        tmp_path / n for n in ("c.csv", "p.json", "s.csv", "a.csv", "t.csv")
    )
    assert main(["simulate", "calibration", "-o", str(cal), "--seed", "5", "--rate", "100"]) == 0
    assert main(["calibrate", str(cal), "-o", str(prof)]) == 0
    assert "flexion" in capsys.readouterr().out
    assert (
        main(
            [
                "simulate",
                "deadlift-set",
                "-o",
                str(ses),
                "--truth",
                str(truth),
                "--seed",
                "5",
                "--rate",
                "100",
            ]
        )
        == 0
    )
    assert main(["analyze", str(ses), "--profile", str(prof), "-o", str(ang)]) == 0
    header = ang.read_text().splitlines()[0]
    assert header.startswith("time_s,flexion_deg,lateral_flexion_deg,rotation_deg")
    a = read_angles_csv(ang)
    t = np.loadtxt(truth, delimiter=",", skiprows=1, usecols=(0, 1))
    np.testing.assert_allclose(a.t, t[:, 0], atol=1e-6)  # lumbar time stamps kept, not re-based
    err = a.flexion - t[:, 1]
    assert np.sqrt(np.nanmean(err[100:] ** 2)) < 2.0


def test_user_mistakes_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n1,lumbar,0,0,x,0,0,0\n")
    assert main(["analyze", str(bad), "-o", str(tmp_path / "a.csv")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "line 2" in err and "Traceback" not in err
    assert main(["analyze", str(bad), "--profile", str(tmp_path / "none.json"), "-o", "x"]) == 2
    assert "profile not found" in capsys.readouterr().err
    ses = tmp_path / "s.csv"
    assert main(["simulate", "standing", "-o", str(ses), "--duration", "20"]) == 0
    assert main(["calibrate", str(ses), "-o", str(tmp_path / "p.json")]) == 2
    assert "cat-cow" in capsys.readouterr().err


def test_analyze_events_json(tmp_path):
    import json

    cal, prof, ses, ang, ev = (
        tmp_path / n for n in ("c.csv", "p.json", "s.csv", "a.csv", "e.json")
    )
    assert main(["simulate", "calibration", "-o", str(cal), "--seed", "8", "--rate", "100"]) == 0
    assert main(["calibrate", str(cal), "-o", str(prof)]) == 0
    assert main(["simulate", "deadlift-set", "-o", str(ses), "--seed", "8", "--rate", "100"]) == 0
    assert (
        main(["analyze", str(ses), "--profile", str(prof), "-o", str(ang), "--events", str(ev)])
        == 0
    )
    events = json.loads(ev.read_text())
    assert len(events["reps"]) == 6  # the script has six hinge reps, one rounded
    flex_alerts = [
        a for a in events["alerts"] if a["plane"] == "flexion" and a["side"] == "positive"
    ]
    assert len(flex_alerts) == 1 and flex_alerts[0]["under_load"]
    for key in ("start_s", "end_s", "plane", "side", "peak_deg", "under_load"):
        assert key in events["alerts"][0]
    assert {"start_s", "bottom_s", "end_s", "peak_flexion_deg", "hip_share"} <= set(
        events["reps"][0]
    )
    assert (
        main(
            [
                "analyze",
                str(ses),
                "--profile",
                str(prof),
                "-o",
                str(ang),
                "--events",
                str(ev),
                "--load",
                "never",
                "--force",  # the outputs exist now: replacing them needs --force
            ]
        )
        == 0
    )
    assert json.loads(ev.read_text())["alerts"] == []
    with pytest.raises(SystemExit) as bad:  # a usage error now, before any work
        main(["analyze", str(ses), "-o", str(ang), "--events", str(ev), "--thresholds", "flex=3"])
    assert bad.value.code == 2


@pytest.mark.slow
def test_monitor_simulated_prints_alerts(capsys):
    assert main(["monitor", "--simulate", "--seconds", "60", "--speed", "0", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "ALERT" in out and "back in range" in out
    assert main(["monitor"]) == 2


def test_thresholds_saved_in_profile_are_used(tmp_path, capsys, sim_profile):
    import json

    from calibration import CalibrationProfile
    from spinewatch.events import thresholds_for

    prof = tmp_path / "p.json"
    sim_profile(3).save(prof)
    assert main(["thresholds", str(prof)]) == 0  # show only: file untouched
    assert json.loads(prof.read_text()).get("thresholds") in (None, {})
    assert main(["thresholds", str(prof), "--preset", "general", "--set", "rotation=7"]) == 0
    th = thresholds_for(CalibrationProfile.load(prof), None)
    assert th.limits["rotation"] == (-7.0, 7.0)
    assert main(["thresholds", str(prof), "--min-duration", "0.2"]) == 0
    th = thresholds_for(CalibrationProfile.load(prof), None)
    assert th.min_duration_s == 0.2 and th.limits["rotation"] == (-7.0, 7.0)
    assert main(["thresholds", str(prof), "--reset"]) == 0
    assert CalibrationProfile.load(prof).thresholds in (None, {})
    with pytest.raises(SystemExit) as bad:  # a usage error, before the profile is touched
        main(["thresholds", str(prof), "--set", "rotation=nope"])
    assert bad.value.code == 2
    assert "not a number" in capsys.readouterr().err


def test_stream_simulated_ble_writes_raw_csv(tmp_path, capsys, monkeypatch):
    import asyncio

    from posture.rawcsv import read_raw_csv
    from sim.clock import run_simulated

    monkeypatch.setattr(asyncio, "run", run_simulated)  # the command on simulated time

    out = tmp_path / "raw.csv"
    args = ["stream", "--simulate", "--seconds", "2", "-o", str(out), "--fault", "drop=0.05"]
    assert main(args) == 0
    raw = read_raw_csv(out)
    assert 300 < len(raw["lumbar"]) < 420 and 300 < len(raw["thoracic"]) < 420
    assert "lost" in capsys.readouterr().out
    with pytest.raises(SystemExit) as bad:  # a usage error, before anything connects
        main(["stream", "--simulate", "-o", str(out), "--fault", "nonsense=1"])
    assert bad.value.code == 2
    assert "unknown fault" in capsys.readouterr().err
