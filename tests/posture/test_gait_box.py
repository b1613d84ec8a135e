"""posture.anchors._box (the walking anchors' moving sums): slices give the numbers of the
index-array definition, bit for bit, at every edge case of length and window."""

from __future__ import annotations

import numpy as np

from posture.anchors import _box


def _box_by_index(x: np.ndarray, n: int) -> np.ndarray:
    c = np.concatenate(([0.0], np.cumsum(x)))
    h = n // 2
    i = np.arange(x.size)
    return c[np.clip(i - h + n, 0, x.size)] - c[np.clip(i - h, 0, x.size)]


def test_box_gives_the_index_definition_bit_for_bit() -> None:
    rng = np.random.default_rng(1)
    for size in [*range(12), 100, 1001]:
        for n in {*range(1, 15), size, size + 1, 2 * size + 3, 400} - {0}:
            x = rng.normal(size=size)
            got = _box(x, n)
            assert got.shape == (size,)
            assert np.array_equal(got, _box_by_index(x, n)), (size, n)
