"""LoadContext: live blocks (≤ 32 samples) take Python-float paths; the same flags as numpy."""

from __future__ import annotations

import numpy as np
import pytest

from posture.load import LoadContext, LoadSettings
from posture.records import AngleBlock

RATE = 200.0


def _angles(seed: int) -> AngleBlock:
    """Hinges of every kind: short lift-like reps (sets), long ones (over max_rep_s), hips
    chattering around the lift-like limits, upright stretches and NaN gaps."""
    rng = np.random.default_rng(seed)
    t = 10.0 + np.arange(int(60 * RATE)) / RATE
    period = rng.uniform(3.0, 16.0)  # hinges of 1.5 to 8 s
    trunk = 25 + 35 * np.sin(2 * np.pi * t / period) + rng.normal(0, 2, t.size)
    hip = 0.72 * trunk + rng.normal(0, 3, t.size)
    for g in rng.integers(0, t.size, 8):
        trunk[g : g + int(rng.integers(1, 20))] = np.nan
    z = np.zeros(t.size)
    return AngleBlock(t, z, z, z, trunk, z, hip, z + 1, np.zeros(t.size, np.uint8))


SETTINGS = (LoadSettings(mode="auto"), LoadSettings(mode="auto", lift_hip_deg=35.0))


@pytest.mark.parametrize("seed", range(8))
def test_small_block_load_flags_equal_numpy_path(seed: int) -> None:
    a = _angles(seed)
    cfg = SETTINGS[seed % 2]  # the second makes the pelvis limit bind
    ref = LoadContext(cfg)
    ref._in_hinge_small = lambda b: ref._in_hinge(b, slice(0, len(b)))  # type: ignore[method-assign]
    ctx = LoadContext(cfg)
    rng = np.random.default_rng(seed)
    got, want, i = [], [], 0
    while i < len(a):
        k = int(rng.integers(1, 8)) if rng.random() < 0.9 else int(rng.integers(33, 80))
        b = a.take(slice(i, i + k))
        got.append(ctx.update(b))
        want.append(ref.update(b))
        assert (ctx._lift, ctx._armed, ctx._last_lift_end) == (
            ref._lift,
            ref._armed,
            ref._last_lift_end,
        )
        i += k
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate(want))
    whole = LoadContext(cfg).update(a)
    np.testing.assert_array_equal(np.concatenate(got), whole)
    assert 0.05 < whole.mean() < 0.95
