"""Sign conventions on hand-built poses: the contract every user-facing number rests on."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from posture import quat as Q
from posture.angles import SpineModel, quat_from_zxy, zxy_from_quat
from posture.engine import EngineSettings, analyze
from tests.poses import Q_UP, two_sensor_move, zxy_deg

SETTINGS = EngineSettings(lumbar_rate_hz=200.0, thoracic_rate_hz=200.0)
MODEL = SpineModel()  # identity mountings, neutral = standing


def _final(raw, model=MODEL):
    a = analyze(raw, model, SETTINGS)
    return a.flexion[-1], a.lateral_flexion[-1], a.rotation[-1], a


def test_zxy_matches_scipy():
    q = Rotation.random(500, random_state=3).as_quat(scalar_first=True)
    ours = np.column_stack(zxy_from_quat(q))
    np.testing.assert_allclose(
        ours, Rotation.from_quat(q, scalar_first=True).as_euler("ZXY"), atol=1e-12
    )
    back = quat_from_zxy(*ours.T)
    np.testing.assert_allclose(np.abs(np.sum(back * q, axis=1)), 1.0, atol=1e-12)


@pytest.mark.parametrize("deg", [10.0, 30.0, 60.0])
def test_pure_flexion_forward_is_positive(deg):
    raw, _ = two_sensor_move(zxy_deg(flex=deg))
    flex, lat, rot, a = _final(raw)
    assert flex == pytest.approx(deg, abs=0.3)
    assert abs(lat) < 0.3 and abs(rot) < 0.3
    # The thoracic segment tilts forward; the lumbar stays upright.
    assert a.thoracic_inclination[-1] == pytest.approx(deg, abs=0.5)
    assert abs(a.lumbar_inclination[-1]) < 0.3


def test_physical_forward_bend_is_flexion():
    # Built from world geometry, not from our own helper: the thoracic segment's up axis
    # tilts toward world +x (the direction the wearer faces).
    tilt = Q.from_axis_angle(np.array([0.0, -1.0, 0.0]), np.radians(-25.0))  # about world -y
    target = Q.multiply(Q.conj(Q_UP), Q.multiply(tilt, Q_UP))
    up_after = Q.rotate(Q.multiply(tilt, Q_UP), np.array([0.0, 1.0, 0.0]))
    assert up_after[0] > 0.3  # really leaning toward +x (forward)
    raw, _ = two_sensor_move(target)
    flex, lat, rot, _ = _final(raw)
    assert flex == pytest.approx(25.0, abs=0.3)


def test_extension_is_negative():
    raw, _ = two_sensor_move(zxy_deg(flex=-15.0))
    flex, _, _, _ = _final(raw)
    assert flex == pytest.approx(-15.0, abs=0.3)


@pytest.mark.parametrize("deg", [10.0, 25.0])
def test_lateral_bend_to_the_right_is_positive(deg):
    raw, _ = two_sensor_move(zxy_deg(lat=deg))
    flex, lat, rot, _ = _final(raw)
    assert lat == pytest.approx(deg, abs=0.3)
    assert abs(flex) < 0.3 and abs(rot) < 0.3


def test_physical_right_bend_moves_top_to_the_right():
    # Wearer faces +x, so their right is world -y: the thoracic up axis must go toward -y.
    target = zxy_deg(lat=20.0)
    up = Q.rotate(Q.multiply(Q_UP, target), np.array([0.0, 1.0, 0.0]))
    assert up[1] < -0.3


@pytest.mark.parametrize("deg", [10.0, 20.0])
def test_rotation_to_the_left_is_positive(deg):
    raw, _ = two_sensor_move(zxy_deg(rot=deg), hold_s=0.5)
    flex, lat, rot, _ = _final(raw)
    assert rot == pytest.approx(deg, abs=0.3)
    assert abs(flex) < 0.3 and abs(lat) < 0.3
    # Counter-clockwise seen from above: the forward axis turns from +x toward +y (left).
    fwd = Q.rotate(Q.multiply(Q_UP, zxy_deg(rot=deg)), np.array([1.0, 0.0, 0.0]))
    assert fwd[1] > 0


def test_combined_pose_decomposes_in_zxy_order():
    raw, _ = two_sensor_move(zxy_deg(flex=30.0, lat=-10.0, rot=8.0), hold_s=0.5)
    flex, lat, rot, _ = _final(raw)
    assert (flex, lat, rot) == pytest.approx((30.0, -10.0, 8.0), abs=0.4)


def test_angles_relative_to_neutral():
    neutral = zxy_deg(flex=12.0)
    model = SpineModel(neutral=neutral)
    raw, _ = two_sensor_move(zxy_deg(flex=20.0))
    flex, _, _, a = _final(raw, model)
    assert flex == pytest.approx(8.0, abs=0.3)
    assert a.flexion[0] == pytest.approx(-12.0, abs=0.3)  # standing sits 12° into extension


def test_hip_hinge_tilts_pelvis_forward():
    # Whole trunk hinged forward 40° at the hips, spine neutral: digital dowel stays quiet.
    hinge = Q.from_axis_angle(np.array([0.0, -1.0, 0.0]), np.radians(-40.0))
    raw, _ = two_sensor_move(zxy_deg(), lumbar_pose=Q.multiply(hinge, Q_UP))
    flex, lat, rot, a = _final(raw)
    assert a.hip_angle[-1] == pytest.approx(40.0, abs=0.3)
    assert a.thoracic_inclination[-1] == pytest.approx(40.0, abs=0.3)
    assert abs(flex) < 0.3


def test_rotated_mountings_are_undone_by_the_model():
    m_t = Rotation.from_euler("xyz", [20, -130, 40], degrees=True).as_quat(scalar_first=True)
    m_l = Rotation.from_euler("xyz", [-10, 75, 170], degrees=True).as_quat(scalar_first=True)
    raw, _ = two_sensor_move(zxy_deg(flex=20.0, lat=5.0), mount_t=m_t, mount_l=m_l)
    # q_sensor = q_segment ⊗ m: m is the sensor→segment mounting the model expects.
    model = SpineModel(m_t, m_l)
    wrong, _, _, _ = _final(raw, SpineModel(Q.conj(m_t), Q.conj(m_l)))
    assert abs(wrong - 20.0) > 5.0  # the mounting matters
    flex, lat, rot, _ = _final(raw, model)
    assert (flex, lat, rot) == pytest.approx((20.0, 5.0, 0.0), abs=0.4)
