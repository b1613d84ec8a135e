"""Sensor table calibration: the fit, its refusals, storage, the profile schema migration and
the end-to-end effect on the calibrated neutral."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from calibration import SCHEMA_VERSION, CalibrationError, CalibrationProfile
from calibration.sensor_table import (
    TableSettings,
    fit_poses,
    fit_table,
    load_sensor_calibration,
    resting_poses,
    save_sensor_calibration,
)
from posture.acc_correction import AccCorrection, correct_raw
from posture.constants import G
from posture.engine import analyze
from posture.records import ImuBlock

BIAS = np.array([0.04, -0.03, 0.05])  # m/s²
SCALE = np.array([1.008, 0.993, 1.004])
FACES = np.array([[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]])


def _raw(up: np.ndarray, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Raw readings of a sensor resting with unit vectors ``up`` (sensor axes) pointing up."""
    rng = np.random.default_rng(seed)
    u = up / np.linalg.norm(up, axis=1, keepdims=True)
    return G * u * SCALE + BIAS + rng.normal(0, noise, u.shape)


def test_fit_recovers_known_bias_and_scale_from_six_faces_and_extra_poses() -> None:
    rng = np.random.default_rng(1)
    up = np.vstack((FACES + rng.normal(0, 0.03, (6, 3)), rng.normal(size=(4, 3))))
    c = fit_poses(_raw(up, noise=0.002))
    assert np.allclose(c.bias, BIAS, atol=0.005)
    assert np.allclose(c.scale, SCALE, atol=5e-4)
    # The corrected poses lie on the sphere |a| = g.
    assert np.allclose(np.linalg.norm(c.apply(_raw(up)), axis=1), G, atol=0.01)
    assert c.info["poses"] == 10


def test_missing_face_is_refused_naming_it() -> None:
    up = FACES[[0, 1, 2, 4, 5]]  # never -Y up
    with pytest.raises(CalibrationError, match=r"lumbar: .*its -Y axis pointing up"):
        fit_poses(_raw(up), sensor="lumbar")
    with pytest.raises(CalibrationError, match=r"only 5 resting poses"):
        fit_poses(_raw(FACES[:5]), TableSettings(min_axis_g=-1.0))


def test_poses_in_one_plane_are_refused() -> None:
    # Cat-cow-like poses: the sensor tips only about its X axis (Y and Z in one plane).
    ang = np.radians(np.linspace(-60, 60, 12))
    up = np.column_stack((np.zeros(12), np.cos(ang), np.sin(ang)))
    with pytest.raises(CalibrationError, match=r"\+X, -X.*cannot be told apart"):
        fit_poses(_raw(up))


def test_poses_that_disagree_with_gravity_are_refused() -> None:
    raw = _raw(np.vstack((FACES, FACES)))
    raw[3] *= 1.2  # a "pose" taken while the sensor was being moved
    raw[9] *= 0.85
    with pytest.raises(CalibrationError, match="do not agree with gravity"):
        fit_poses(raw)


def _table_block(noise: float = 0.02, rate: float = 100.0) -> ImuBlock:
    """Six faces of 4 s with 2-s turns in between (gyro shows the turns)."""
    rng = np.random.default_rng(3)
    acc, gyr = [], []
    for i, face in enumerate(FACES):
        nxt = FACES[(i + 1) % 6]
        acc.append(np.tile(_raw(face[None]), (int(4 * rate), 1)))
        gyr.append(np.zeros((int(4 * rate), 3)))
        s = np.linspace(0, 1, int(2 * rate))[:, None]
        acc.append(_raw((1 - s) * face + s * nxt + 1e-3))
        gyr.append(np.tile([0.0, 0.8, 0.0], (int(2 * rate), 1)))
    a = np.vstack(acc)
    a = a + rng.normal(0, noise, a.shape)
    g = np.vstack(gyr) + rng.normal(0, 0.004, (a.shape[0], 3))
    return ImuBlock("s1", np.arange(a.shape[0]) / rate, a, g)


def test_resting_poses_found_in_a_table_recording_and_fitted() -> None:
    block = _table_block()
    poses = resting_poses(block)
    assert poses.shape == (6, 3)
    c = fit_table({"s1": block})["s1"]
    assert np.allclose(c.bias, BIAS, atol=0.005) and np.allclose(c.scale, SCALE, atol=5e-4)


def test_simulated_table_recording_recovers_the_sensors_own_errors() -> None:
    from sim.movement import SimConfig
    from sim.sensors import _acc_errors
    from sim.table import table_recording

    cfg = SimConfig(rate_hz=50.0, seed=7, acc_bias_turn_on=0.0, acc_scale_turn_on=0.0)
    corr = fit_table(table_recording(cfg))
    for role, c in corr.items():
        scale, bias = _acc_errors(cfg, role, np.random.default_rng(0))
        assert np.allclose(c.bias, bias, atol=0.01)
        assert np.allclose(c.scale, scale, atol=1e-3)


def test_sensor_calibration_file_round_trip_and_refusals(tmp_path: Path) -> None:
    c = AccCorrection(BIAS, SCALE, {"poses": 6})
    p = tmp_path / "sensors.json"
    save_sensor_calibration(p, {"AA:BB": c})
    back = load_sensor_calibration(p)["AA:BB"]
    assert np.allclose(back.bias, BIAS) and np.allclose(back.scale, SCALE)
    assert not list(tmp_path.glob("*.tmp"))
    d = json.loads(p.read_text())
    d["schema_version"] = 9
    p.write_text(json.dumps(d))
    with pytest.raises(CalibrationError, match="schema version 9 is not supported"):
        load_sensor_calibration(p)
    with pytest.raises(CalibrationError, match="calibrate-sensors"):
        load_sensor_calibration(tmp_path / "missing.json")
    d["schema_version"] = 1
    d["sensors"]["AA:BB"]["scale"] = [1.0, 2.0, 1.0]
    p.write_text(json.dumps(d))
    with pytest.raises(CalibrationError, match=r"sensors.AA:BB.scale\[1\]"):
        load_sensor_calibration(p)


def _profile_v1() -> dict:
    return {
        "schema_version": 1,
        "sensor_ids": {"thoracic": "t", "lumbar": "l"},
        "mount_thoracic": [1.0, 0, 0, 0],
        "mount_lumbar": [1.0, 0, 0, 0],
        "neutral": [1.0, 0, 0, 0],
        "ranges": {
            "flexion": [-30.0, 30.0],
            "lateral_flexion": [-25.0, 25.0],
            "rotation": [-12.0, 12.0],
        },
    }


def test_version_1_profile_migrates_without_correction(tmp_path: Path) -> None:
    p = tmp_path / "old.json"
    p.write_text(json.dumps(_profile_v1()))
    prof = CalibrationProfile.load(p)
    assert prof.acc_correction is None and prof.spine_model.acc_correction is None
    prof.save(tmp_path / "new.json")
    d = json.loads((tmp_path / "new.json").read_text())
    assert d["schema_version"] == SCHEMA_VERSION == 3 and d["acc_correction"] is None
    assert d["field_acc"] is None
    assert CalibrationProfile.load(tmp_path / "new.json").acc_correction is None


def test_profile_carries_the_correction_to_the_spine_model(tmp_path: Path) -> None:
    d = _profile_v1() | {"schema_version": 2}
    d["acc_correction"] = {"lumbar": {"bias_m_s2": BIAS.tolist(), "scale": SCALE.tolist()}}
    p = tmp_path / "p.json"
    p.write_text(json.dumps(d))
    prof = CalibrationProfile.load(p)
    assert prof.acc_correction is not None
    assert np.allclose(prof.spine_model.acc_correction["lumbar"].bias, BIAS)
    prof.save(p)
    assert np.allclose(CalibrationProfile.load(p).acc_correction["lumbar"].scale, SCALE)
    d["acc_correction"]["lumbar"]["bias_m_s2"] = [0.0, 5.0, 0.0]
    p.write_text(json.dumps(d))
    with pytest.raises(CalibrationError, match=r"acc_correction.lumbar.bias_m_s2\[1\]"):
        CalibrationProfile.load(p)


def test_engine_applies_the_correction_as_if_the_data_were_corrected() -> None:
    from sim.movement import SimConfig
    from sim.wearer import calibrated_profile, simulate

    cfg = SimConfig(rate_hz=50.0, seed=2)
    prof = calibrated_profile(cfg, sensor_table=True)
    raw = simulate("stretching", cfg).raw
    plain = prof.spine_model.__class__(
        prof.spine_model.mount_thoracic, prof.spine_model.mount_lumbar, prof.spine_model.neutral
    )
    a = analyze(raw, prof.spine_model)
    b = analyze(correct_raw(raw, prof.acc_correction), plain)
    assert np.allclose(a.flexion, b.flexion, equal_nan=True)


def test_table_calibration_lowers_the_neutral_error_on_a_held_out_seed() -> None:
    """Seed 4 (never tuned on): the calibrated neutral's offset over a stretching session."""
    from benchmarks.bench_engine import realistic
    from posture.batch import analyze_offline
    from sim.wearer import calibrated_profile, simulate

    cfg = realistic(4, 50.0)
    sess = simulate("stretching", cfg)
    truth = sess.truth.angle_block()
    offset = {}
    for table in (False, True):
        prof = calibrated_profile(cfg, sensor_table=table)
        b = analyze_offline(
            sess.raw, prof.spine_model, standing_flexion_deg=prof.standing_flexion_deg
        )
        i = np.clip(np.searchsorted(truth.t, b.t), 0, truth.t.size - 1)
        offset[table] = abs(np.nanmean(b.flexion - truth.flexion[i])) + abs(
            np.nanmean(b.lateral_flexion - truth.lateral_flexion[i])
        )
    assert offset[True] < 0.5 * offset[False]
    assert offset[True] < 0.15


def test_cli_calibrate_sensors_then_calibrate_with_them(tmp_path: Path, capsys) -> None:
    from posture.rawcsv import write_raw_csv
    from sim.movement import SimConfig
    from sim.table import table_recording
    from sim.wearer import simulate
    from spinewatch.cli import main

    cfg = SimConfig(rate_hz=50.0, seed=3)
    table, sensors, cal, prof = (tmp_path / n for n in ("t.csv", "s.json", "c.csv", "p.json"))
    write_raw_csv(table, table_recording(cfg))
    args = ["calibrate-sensors", str(table), "-o", str(sensors), "--lumbar-id", "L1"]
    assert main(args) == 0
    assert "L1: bias" in capsys.readouterr().out
    write_raw_csv(cal, simulate("calibration", cfg).raw)
    assert main(["calibrate", str(cal), "-o", str(prof), "--sensors", str(sensors)]) == 2
    assert "no calibration for sensor lumbar" in capsys.readouterr().err
    assert main(["calibrate", str(cal), "-o", str(prof), "--sensors", str(sensors),
                 "--lumbar-id", "L1"]) == 0  # fmt: skip
    p = CalibrationProfile.load(prof)
    assert p.acc_correction is not None and set(p.acc_correction) == {"thoracic", "lumbar"}
    # A table recording missing a face: one line naming it, nothing written.
    write_raw_csv(table, table_recording(cfg, faces=(0, 1, 2, 3, 4)))
    assert main(["calibrate-sensors", str(table), "-o", str(tmp_path / "x.json")]) == 2
    err = capsys.readouterr().err
    assert "-Z axis pointing up" in err and "\n" not in err.strip()
    assert not (tmp_path / "x.json").exists()
