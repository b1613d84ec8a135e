"""accept_within_guard takes the same decisions as the plain per-candidate rule.

Its batch shortcut (runs within the bare guard of their predecessor taken whole) must never
change a decision: compared with a loop over :func:`guard_rad` and :func:`within_guard`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture.rezero import accept_within_guard, guard_rad, within_guard


def _reference(
    needed: np.ndarray,
    cur: float | None,
    guard_deg: float,
    drift_at: np.ndarray,
    drift_at_anchor: float | None,
    first_guard_deg: float | None,
) -> tuple[np.ndarray, float | None, float | None]:
    out = np.zeros(needed.size, dtype=bool)
    first = math.inf if first_guard_deg is None else math.radians(first_guard_deg)
    for i, (d, h) in enumerate(zip(needed.tolist(), drift_at.tolist(), strict=True)):
        g = first if drift_at_anchor is None else guard_rad(guard_deg, h - drift_at_anchor)
        if within_guard(d, cur, g):
            out[i], cur, drift_at_anchor = True, d, h
    return out, cur, drift_at_anchor


@pytest.mark.parametrize("seed", range(8))
def test_same_decisions_as_the_per_candidate_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        m = int(rng.integers(0, 80))
        step = float(rng.choice([0.001, 0.01, 0.05, 0.5, 3.0]))  # rad between candidates
        needed = np.cumsum(rng.normal(0.0, step, m)) + rng.uniform(-4.0, 4.0)
        if rng.random() < 0.5:
            needed = (needed + np.pi) % (2 * np.pi) - np.pi  # wrapped, as the engine gives
        if m and rng.random() < 0.2:
            needed[rng.integers(0, m)] = np.nan
        drift = np.cumsum(rng.uniform(0.0, float(rng.choice([0.01, 1.0, 10.0])), m))
        cur = None if rng.random() < 0.3 else float(rng.uniform(-3.0, 3.0))
        guard = float(rng.choice([0.0, 0.5, 1.0, 5.0, 20.0]))
        at_anchor = None if rng.random() < 0.4 else float(rng.uniform(-5.0, 1.0))
        first = None if rng.random() < 0.5 else guard
        got = accept_within_guard(needed, cur, guard, drift, at_anchor, first)
        want = _reference(needed, cur, guard, drift, at_anchor, first)
        np.testing.assert_array_equal(got[0], want[0])
        assert got[1] == want[1] or (got[1] != got[1] and want[1] != want[1])  # NaN == NaN
        assert got[2] == want[2]


def test_long_quiet_stretch_accepted_whole() -> None:
    """Tens of thousands of slowly wandering quiet-standing candidates: all accepted."""
    needed = np.cumsum(np.random.default_rng(1).normal(0.0, 0.002, 40_000))
    drift = np.arange(40_000, dtype=np.float64) * 0.01
    ok, cur, at = accept_within_guard(needed, 0.0, 5.0, drift, None, 5.0)
    assert ok.all() and cur == needed[-1] and at == drift[-1]
