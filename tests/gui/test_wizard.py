"""The calibration wizard walks a simulated wearer through to a saved profile."""

from __future__ import annotations

import numpy as np
import pytest

from calibration import CalibrationProfile
from gui.wizard import CalibrationWizard
from posture.records import ImuBlock
from sim.source import SimulatedSource
from sim.wearer import SimConfig
from tests.gui.helpers import FakeClock, ScriptedSource, start


def make(qtbot, src, tmp_path) -> CalibrationWizard:
    wiz = CalibrationWizard(src, tmp_path / "me" / "profile.json")
    qtbot.addWidget(wiz)
    wiz.show()
    return wiz


def step_until(wiz: CalibrationWizard, clock: FakeClock, cond, max_s: float, dt: float = 0.05):
    t_end = clock.t + max_s
    while not cond() and clock.t < t_end:
        clock.t += dt
        wiz.poll()
    return cond()


def test_wizard_walks_through_to_a_saved_profile(qtbot, tmp_path) -> None:
    clock = FakeClock()
    src = SimulatedSource("calibration", None, SimConfig(seed=3), clock=clock)
    wiz = make(qtbot, src, tmp_path)
    start(src)
    assert wiz.step == "pair" and not wiz.pair_next.isEnabled()
    assert step_until(wiz, clock, wiz.pair_next.isEnabled, 0.5)
    wiz.pair_next.click()
    assert wiz.step == "stand"
    assert step_until(wiz, clock, lambda: wiz.step == "catcow", 8.0)
    assert 3.0 <= clock.t <= 6.0  # after 3 s of standing still, before the cat-cow
    assert wiz.hold_bar.value() == wiz.hold_bar.maximum()
    assert step_until(wiz, clock, lambda: wiz.step == "result", 30.0)
    tr = wiz.tracker
    assert tr is not None and tr.cycles >= 3
    assert tr.max_bend > 20 and tr.min_bend < -8  # live range feedback saw both ends
    assert wiz.profile is not None and wiz.profile.quality > 0.6, wiz.error
    assert wiz.save_button.isEnabled() and "flexion" in wiz.result_text.text()
    got = []
    wiz.profile_ready.connect(got.append)
    wiz.save_button.click()
    saved = CalibrationProfile.load(tmp_path / "me" / "profile.json")
    assert got == [wiz.profile]
    assert saved.ranges["flexion"] == pytest.approx(wiz.profile.ranges["flexion"])
    assert saved.sensor_ids == {"thoracic": "SIM:00", "lumbar": "SIM:01"}


def test_poor_recording_explains_and_offers_retry(qtbot, tmp_path) -> None:
    clock = FakeClock()
    src = SimulatedSource("standing", 25.0, SimConfig(seed=4), clock=clock)
    wiz = make(qtbot, src, tmp_path)
    start(src)
    step_until(wiz, clock, wiz.pair_next.isEnabled, 0.5)
    wiz.pair_next.click()
    assert step_until(wiz, clock, lambda: wiz.step == "catcow", 8.0)
    step_until(wiz, clock, lambda: False, 15.0)  # the wearer never does the cat-cow
    assert wiz.step == "catcow" and wiz.tracker is not None and wiz.tracker.cycles == 0
    wiz.finish_button.click()
    assert wiz.step == "result" and wiz.profile is None
    assert wiz.error and wiz.error in wiz.result_text.text()
    assert not wiz.save_button.isEnabled()
    wiz.retry_button.click()
    assert wiz.step == "stand"


def _blocks(role_moving: str, t0: float) -> list[ImuBlock]:
    t = t0 + np.arange(4) / 200.0
    acc = np.tile([0.0, 9.81, 0.0], (4, 1))
    out = []
    for role in ("thoracic", "lumbar"):
        gyr = np.tile([0.0, 0.0, 2.0 if role == role_moving else 0.0], (4, 1))
        out.append(ImuBlock(role, t, acc, gyr))
    return out


def test_moving_sensor_shows_and_swap_exchanges_roles(qtbot, tmp_path) -> None:
    batches = [_blocks("thoracic", 100.0 + 0.02 * i) for i in range(20)]
    src = ScriptedSource(batches)
    wiz = make(qtbot, src, tmp_path)
    for _ in range(10):
        wiz.poll()
    bars = wiz.gyro_bars
    assert bars["thoracic"].value() > 90 and bars["lumbar"].value() < 5
    wiz.swap_button.click()  # the upper sensor was registered as lumbar: swap
    for _ in range(10):
        wiz.poll()
    assert bars["lumbar"].value() > 90 and bars["thoracic"].value() < 5
    assert "AA:1" in wiz.role_labels["thoracic"].text()


def _walk_to_result(qtbot, tmp_path, sensors) -> CalibrationWizard:
    clock = FakeClock()
    src = SimulatedSource("calibration", None, SimConfig(seed=3, rate_hz=100.0), clock=clock)
    wiz = CalibrationWizard(src, tmp_path / "p.json", sensors=sensors)
    qtbot.addWidget(wiz)
    start(src)
    assert step_until(wiz, clock, wiz.pair_next.isEnabled, 0.5)
    wiz.pair_next.click()
    assert step_until(wiz, clock, lambda: wiz.step == "result", 40.0)
    return wiz


def test_wizard_calibrates_with_the_sensors_table_calibration(qtbot, tmp_path) -> None:
    from calibration.sensor_table import fit_table, save_sensor_calibration
    from sim.table import table_recording

    table = fit_table(table_recording(SimConfig(seed=3, rate_hz=100.0)))
    good, other = tmp_path / "sensors.json", tmp_path / "other.json"
    save_sensor_calibration(good, table)  # ids "thoracic", "lumbar": found by role
    save_sensor_calibration(other, {"AA:BB": table["lumbar"]})
    wiz = _walk_to_result(qtbot, tmp_path, good)
    assert wiz.profile is not None, wiz.error
    corr = wiz.profile.acc_correction
    assert corr is not None and set(corr) == {"thoracic", "lumbar"}
    assert np.allclose(corr["lumbar"].bias, table["lumbar"].bias)
    wiz = _walk_to_result(qtbot, tmp_path, other)
    assert wiz.profile is None and not wiz.save_button.isEnabled()
    assert "no calibration for sensor" in wiz.error and "AA:BB" in wiz.error
