"""posture.quat against scipy's Rotation (scalar first), on random rotations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from posture import quat as Q


@pytest.fixture(scope="module")
def rots() -> tuple[Rotation, Rotation]:
    rng = np.random.default_rng(0)
    return Rotation.random(50, random_state=rng), Rotation.random(50, random_state=rng)


def _q(r: Rotation) -> np.ndarray:
    return r.as_quat(scalar_first=True)


def _same_rotation(a: np.ndarray, b: np.ndarray) -> None:
    # q and -q are the same rotation
    np.testing.assert_allclose(np.abs(np.sum(a * b, axis=-1)), 1.0, atol=1e-12)


def test_multiply_composes_like_scipy(rots: tuple[Rotation, Rotation]) -> None:
    a, b = rots
    _same_rotation(Q.multiply(_q(a), _q(b)), _q(a * b))


def test_multiply_broadcasts_one_against_many(rots: tuple[Rotation, Rotation]) -> None:
    a, b = rots
    _same_rotation(Q.multiply(_q(a[0]), _q(b)), _q(a[0] * b))


def test_multiply_same_bits_for_whole_recordings_and_small_blocks() -> None:
    """Long arrays take a column-by-column route: the same sums in the same order, so the
    same bits as the small-block route (batch and live must not drift apart)."""
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(3000, 4)), rng.normal(size=(3000, 4))
    a[:3] = [[0.0, -0.0, 0.0, 0.0], [1.0, 0.0, -0.0, 0.0], [-1.0, 0.0, 0.0, 0.0]]  # signed zeros
    whole = Q.multiply(a, b)
    blocks = np.concatenate([Q.multiply(a[i : i + 10], b[i : i + 10]) for i in range(0, 3000, 10)])
    assert whole.tobytes() == blocks.tobytes()
    assert (
        Q.multiply(a, b[7]).tobytes()
        == np.concatenate([Q.multiply(a[i : i + 10], b[7]) for i in range(0, 3000, 10)]).tobytes()
    )
    pair = Q.multiply(a[:, None, :], np.stack((b, b[::-1]), axis=-2))  # heading_basis's shape
    assert pair[:10, 1].tobytes() == Q.multiply(a[:10], b[::-1][:10]).tobytes()


def test_rotate_and_conj_match_scipy(rots: tuple[Rotation, Rotation]) -> None:
    a, _ = rots
    v = np.random.default_rng(1).normal(size=(50, 3))
    np.testing.assert_allclose(Q.rotate(_q(a), v), a.apply(v), atol=1e-12)
    np.testing.assert_allclose(Q.rotate(Q.conj(_q(a)), v), a.inv().apply(v), atol=1e-12)


def test_axis_angle_matrix_and_angle(rots: tuple[Rotation, Rotation]) -> None:
    a, _ = rots
    rv = a.as_rotvec()
    ang = np.linalg.norm(rv, axis=1)
    q = Q.from_axis_angle(rv / ang[:, None], ang)
    _same_rotation(q, _q(a))
    _same_rotation(Q.from_matrix(a.as_matrix()), _q(a))
    assert (Q.from_matrix(a.as_matrix())[:, 0] >= 0).all()
    np.testing.assert_allclose(Q.angle(_q(a)), a.magnitude(), atol=1e-7)


def test_slerp_ends_middle_and_short_path() -> None:
    q0 = Q.from_axis_angle([0, 0, 1.0], 0.0)
    q1 = Q.from_axis_angle([0, 0, 1.0], 1.0)
    _same_rotation(Q.slerp(q0, q1, 0.0), q0)
    _same_rotation(Q.slerp(q0, q1, 1.0), q1)
    _same_rotation(Q.slerp(q0, q1, 0.5), Q.from_axis_angle([0, 0, 1.0], 0.5))
    # -q1 is the same rotation: still the short way round
    _same_rotation(Q.slerp(q0, -q1, 0.5), Q.from_axis_angle([0, 0, 1.0], 0.5))


def test_yaw_quat_turns_about_world_z() -> None:
    np.testing.assert_allclose(
        Q.rotate(Q.yaw_quat(np.pi / 2), [1.0, 0, 0]), [0, 1.0, 0], atol=1e-12
    )


def test_wrong_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="4 components"):
        Q.normalize(np.zeros((3, 3)))
