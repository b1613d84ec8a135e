"""Re-analysis of a recorded session is the batch estimate, with the user's set markers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from calibration.field_session import profile_for_session
from posture.alerts import detect_alerts
from posture.batch import analyze_offline
from posture.reps import segment_reps
from posture.thresholds import Thresholds
from spinewatch.cli import main
from spinewatch.sessions import SessionFile
from spinewatch.sessions.reader import Marker
from spinewatch.sessions.reanalysis import manual_sets, reanalyze_session, session_raw
from spinewatch.sessions.replay import replay_session


def test_reanalysis_is_the_batch_estimate_of_the_raw_samples(recorded: dict) -> None:
    with SessionFile(recorded["path"]) as sf:
        res = reanalyze_session(sf, load_mode="always")
        prof, th = sf.profile(), sf.thresholds()
        raw = session_raw(sf)
        prof = profile_for_session(prof, raw)  # batch: in-field accelerometer calibration
        want = analyze_offline(
            raw,
            prof.spine_model,
            sf.engine_settings(),
            standing_flexion_deg=prof.standing_flexion_deg,
        )
        live, _ = sf.angles()
        n_raw = {r: sum(len(b) for _, b in sf.iter_blocks(r)) for r in raw}
    assert {r: len(b) for r, b in raw.items()} == n_raw  # every stored sample, once
    for name in ("t", "flexion", "lateral_flexion", "rotation", "rotation_confidence", "flags"):
        np.testing.assert_array_equal(getattr(res.angles, name), getattr(want, name))
    from posture.alerts import LoadSettings

    assert res.alerts == detect_alerts(want, th, LoadSettings(mode="always"))
    assert res.reps == segment_reps(want)
    assert res.under_load.all()
    # Same time stamps as live; the angles differ only by the batch corrections (small here).
    np.testing.assert_array_equal(res.angles.t, live.t)
    assert np.nanmax(np.abs(res.angles.flexion - live.flexion)) < 3.0


@pytest.mark.slow  # a live replay for the comparison
def test_set_markers_are_manual_sets(recorded: dict) -> None:
    with SessionFile(recorded["path"]) as sf:
        start = next(m for m in sf.markers() if m.kind == "set_start")
        end = next(m for m in sf.markers() if m.kind == "set_end")
        res = reanalyze_session(sf, load_mode="never")
        live = replay_session(sf, load_mode="never")
    assert start.t_s is not None and end.t_s is not None
    inside = (res.angles.t > start.t_s) & (res.angles.t <= end.t_s)
    assert inside.any()
    np.testing.assert_array_equal(res.under_load, inside)
    np.testing.assert_array_equal(res.under_load, live.under_load)  # as live honours them
    assert all(start.t_s <= a.start_s <= end.t_s for a in res.alerts)


def test_manual_sets_follow_the_live_rules() -> None:
    m = [
        Marker(0, None, "set_start", ""),  # before the first sample: from the beginning
        Marker(5, 3.0, "set_start", ""),  # already in a set: ignored
        Marker(9, 4.0, "note", "x"),
        Marker(9, 5.0, "set_end", ""),
        Marker(9, 6.0, "set_end", ""),  # no set running: ignored
        Marker(12, 8.0, "set_start", ""),  # never ended: runs to the end
    ]
    sets = manual_sets(m)
    assert sets == [(-np.inf, 5.0), (np.nextafter(8.0, 9.0), np.inf)]
    assert 8.0 < sets[1][0] < 8.0 + 1e-12  # after the sample live had seen at 8.0


def test_other_thresholds_and_no_profile(recorded: dict) -> None:
    with SessionFile(recorded["path"]) as sf:
        base = reanalyze_session(sf)
        strict = reanalyze_session(sf, thresholds=Thresholds.parse("flexion=3,lateral_flexion=3"))
        uncal = reanalyze_session(sf, profile=None)
        sets = manual_sets(sf.markers())
    assert len(strict.alerts) > len(base.alerts)
    assert (uncal.angles.flags & 8).all() and not (base.angles.flags & 8).any()
    # Uncalibrated, auto load falls back to never: loaded only inside the marked set.
    (a, b), t = sets[0], uncal.angles.t
    np.testing.assert_array_equal(uncal.under_load, (t >= a) & (t <= b))
    assert uncal.under_load.any()


@pytest.mark.parametrize("live", [False, pytest.param(True, marks=pytest.mark.slow)])
def test_replay_command_reanalyses_on_batch_unless_live(
    recorded: dict, live: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["replay", str(recorded["path"]), "--speed", "0", "--thresholds", "flexion=5"]
    assert main([*args, "--quiet", *(["--live"] if live else [])]) == 0
    out = capsys.readouterr().out
    with SessionFile(recorded["path"]) as sf:
        th = Thresholds.parse("flexion=5", sf.thresholds())
        res = (replay_session if live else reanalyze_session)(sf, thresholds=th)
    word = "replayed" if live else "re-analysed (batch)"
    assert f"{word} {len(res.angles)} angle samples: {len(res.alerts)} alerts" in out


def test_report_batch_shows_the_batch_estimate(
    recorded: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", str(recorded["path"]), "-o", str(out), "--batch", "--quiet"]) == 0
    with SessionFile(recorded["path"]) as sf:
        res = reanalyze_session(sf)
    printed = capsys.readouterr().out
    assert f"(batch estimate) ({len(res.reps)} reps, {len(res.alerts)} alerts)" in printed
    html = out.read_text(encoding="utf-8")
    assert "batch estimate, re-analysed from the raw samples" in html
    i = html.index('id="alerts"')
    table = html[i : html.index("</table>", i)] if res.alerts else ""
    assert table.count("<tr>") == (len(res.alerts) + 1 if res.alerts else 0)
