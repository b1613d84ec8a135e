"""Functional calibration on hand-built standing + cat-cow recordings (no noise)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from calibration import (
    SCHEMA_VERSION,
    CalibrationError,
    CalibrationProfile,
    CalibrationSettings,
    calibrate,
)
from posture import quat as Q
from posture.engine import EngineSettings, analyze
from posture.records import ImuBlock
from tests.poses import Q_UP, imu_from_quats, smooth_step, zxy_deg

RATE = 100.0


def catcow(
    *,
    flex_max: float = 40.0,
    ext_max: float = -20.0,
    cycles: int = 3,
    lean: float = 45.0,
    stand_s: float = 5.0,
    mount_t: np.ndarray | None = None,
    mount_l: np.ndarray | None = None,
    first: str = "round",
    wobble_thoracic_during_stand: bool = False,
) -> dict[str, ImuBlock]:
    period = 6.0
    total = stand_s + 2.0 + cycles * period + 2.0 + 3.0
    t = 700.0 + np.arange(int(total * RATE)) / RATE
    u = t - t[0]
    pelvis = lean * (
        smooth_step(u, stand_s, stand_s + 2.0) - smooth_step(u, total - 5.0, total - 3.0)
    )
    cc = np.clip(u - (stand_s + 2.0), 0.0, cycles * period)
    phase = 2 * np.pi * cc / period
    wave = np.sin(phase) * (1 if first == "round" else -1)
    flex = np.where(wave > 0, flex_max * wave, -ext_max * wave)
    pelvis = pelvis - 0.3 * flex
    ident = np.array([1.0, 0, 0, 0])
    q_l = Q.multiply(Q_UP, zxy_deg(flex=pelvis))  # pelvis pitch forward = flexion-like tilt
    q_t = Q.multiply(q_l, zxy_deg(flex=flex))
    if wobble_thoracic_during_stand:
        wob = np.where(u < stand_s, 8.0 * np.sin(2 * np.pi * 1.5 * u), 0.0)
        q_t = Q.multiply(q_t, zxy_deg(lat=wob))
    m_t = ident if mount_t is None else mount_t
    m_l = ident if mount_l is None else mount_l
    return {
        "thoracic": imu_from_quats("thoracic", t, Q.multiply(q_t, m_t)),
        "lumbar": imu_from_quats("lumbar", t, Q.multiply(q_l, m_l)),
    }


M_T = Rotation.from_euler("zyx", [130, 10, -8], degrees=True).as_quat(scalar_first=True)
M_L = Rotation.from_euler("zyx", [-75, -12, 170], degrees=True).as_quat(scalar_first=True)


@pytest.mark.parametrize("mounts", [(None, None), (M_T, M_L)], ids=["nominal", "rotated"])
def test_calibration_finds_neutral_halfway(mounts):
    raw = catcow(mount_t=mounts[0], mount_l=mounts[1])
    prof = calibrate(raw)
    assert prof.ranges["flexion"] == pytest.approx((-30.0, 30.0), abs=0.5)
    assert prof.standing_flexion_deg == pytest.approx(-10.0, abs=0.5)
    assert prof.info["cycles"] == 3
    assert prof.quality > 0.6
    # Mountings recovered (sensor→segment): compare as rotations.
    want_t = np.array([1.0, 0, 0, 0]) if mounts[0] is None else mounts[0]
    assert np.degrees(Q.angle(Q.multiply(Q.conj(want_t), np.array(prof.mount_thoracic)))) < 1.0
    # Applying the profile: standing reads −10° (neutral is 10° into flexion), peaks ±30°.
    a = analyze(raw, prof.spine_model, EngineSettings())
    stand = a.t < a.t[0] + 4.0
    assert np.nanmean(a.flexion[stand]) == pytest.approx(-10.0, abs=0.5)
    assert np.nanmax(a.flexion) == pytest.approx(30.0, abs=1.0)
    assert np.nanmin(a.flexion) == pytest.approx(-30.0, abs=1.0)
    assert np.nanmax(np.abs(a.lateral_flexion)) < 1.0


def test_profile_json_round_trip(tmp_path):
    prof = calibrate(catcow(mount_t=M_T, mount_l=M_L))
    p = tmp_path / "me.json"
    prof.save(p)
    d = json.loads(p.read_text())
    assert d["schema_version"] == SCHEMA_VERSION and list(d)[0] == "schema_version"
    back = CalibrationProfile.load(p)
    assert back == prof
    np.testing.assert_allclose(back.spine_model.neutral, prof.spine_model.neutral)


@pytest.mark.parametrize(
    "content, match",
    [
        ("{", "not valid JSON"),
        ("[]", "not a calibration profile"),
        ('{"schema_version": 99}', "schema version 99 is not supported"),
        ('{"schema_version": 1, "ranges": {}}', "field 'mount_thoracic' is missing"),
    ],
)
def test_bad_profile_files(tmp_path, content, match):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(CalibrationError, match=match):
        CalibrationProfile.load(p)
    with pytest.raises(CalibrationError, match="profile not found"):
        CalibrationProfile.load(tmp_path / "missing.json")


def test_too_short():
    raw = catcow()
    raw = {k: b.take(b.t < b.t[0] + 10.0) for k, b in raw.items()}
    with pytest.raises(CalibrationError, match="too short"):
        calibrate(raw)


def test_too_few_cycles():
    with pytest.raises(CalibrationError, match="found 2 cat-cow cycle"):
        calibrate(catcow(cycles=2))


def test_range_too_small():
    with pytest.raises(CalibrationError, match="range only"):
        calibrate(catcow(flex_max=6.0, ext_max=-4.0))


def test_sensors_swapped():
    raw = catcow()
    swapped = {
        "thoracic": raw["lumbar"].with_sensor("thoracic"),
        "lumbar": raw["thoracic"].with_sensor("lumbar"),
    }
    with pytest.raises(CalibrationError, match="swapped"):
        calibrate(swapped)


def test_upside_down_when_orientation_is_expected():
    flip = Rotation.from_euler("x", 180, degrees=True).as_quat(scalar_first=True)
    raw = catcow(mount_l=flip)
    s = CalibrationSettings(expected_up={"lumbar": (0.0, 1.0, 0.0), "thoracic": (0.0, 1.0, 0.0)})
    with pytest.raises(CalibrationError, match="lumbar sensor is upside down"):
        calibrate(raw, s)
    calibrate(raw)  # without an expected orientation any mounting is fine


def test_sensor_moving_while_standing():
    with pytest.raises(CalibrationError, match="thoracic sensor was moving during the standing"):
        calibrate(catcow(wobble_thoracic_during_stand=True))


def test_no_standing_at_all():
    raw = catcow(stand_s=0.5)
    with pytest.raises(CalibrationError, match="no quiet standing"):
        calibrate(raw)


def test_no_forward_lean():
    with pytest.raises(CalibrationError, match="cannot tell front from back"):
        calibrate(catcow(lean=0.0))
