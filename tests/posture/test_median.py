"""posture.median equals np.median bit for bit (1-D float arrays)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posture.median import median


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 10, 11, 1000, 1001])
def test_equals_numpy_median(n):
    rng = np.random.default_rng(n)
    for x in (rng.normal(size=n), rng.uniform(0.004, 0.006, n), np.full(n, 0.005)):
        assert median(x) == float(np.median(x))


def test_nan_and_empty_give_nan():
    assert math.isnan(median(np.array([1.0, np.nan, 2.0])))
    assert math.isnan(median(np.zeros(0)))


@pytest.mark.parametrize("q", [0.0, 10.0, 50.0, 99.9, 100.0])
@pytest.mark.parametrize("n", [1, 2, 7, 1000, 3001])
def test_percentile_equals_numpy(n, q):
    from posture.median import percentile

    x = np.abs(np.random.default_rng(n).normal(size=(n, 3)))
    assert percentile(x, q) == float(np.percentile(x, q))
