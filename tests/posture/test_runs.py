"""``posture.runs.true_runs``: runs of True in a mask, stop exclusive."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from posture.runs import true_runs


def test_runs_at_the_edges_and_inside() -> None:
    starts, stops = true_runs([True, True, False, True, False, False, True])
    assert starts.tolist() == [0, 3, 6] and stops.tolist() == [2, 4, 7]
    assert [x.tolist() for x in true_runs(np.zeros(3, bool))] == [[], []]
    assert [x.tolist() for x in true_runs([])] == [[], []]


@given(st.lists(st.booleans(), max_size=60))
def test_runs_cover_exactly_the_true_samples(mask: list[bool]) -> None:
    m = np.array(mask, dtype=bool)
    starts, stops = true_runs(m)
    back = np.zeros_like(m)
    for a, b in zip(starts, stops, strict=True):
        assert b > a and m[a:b].all()
        assert a == 0 or not m[a - 1]
        assert b == m.size or not m[b]
        back[a:b] = True
    np.testing.assert_array_equal(back, m)
