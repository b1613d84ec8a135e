"""Peak decimation of the live graphs: fewer points, no excursion hidden."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gui.graphs import LOAD_ALPHA, LOAD_COLOR, LOAD_FILL, peak_decimate


@given(
    n=st.integers(1, 5000),
    columns=st.integers(1, 800),
    seed=st.integers(0, 2**32 - 1),
    nan_share=st.sampled_from([0.0, 0.0, 0.01, 0.5]),
)
def test_peak_decimate_keeps_every_columns_extremes(
    n: int, columns: int, seed: int, nan_share: float
) -> None:
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.uniform(0.001, 0.01, n))
    y = np.cumsum(rng.normal(0, 1, n))
    y[rng.random(n) < nan_share] = np.nan
    xd, yd = peak_decimate(x, y, columns)
    if n <= 2 * columns:
        assert xd is x and yd is y
        return
    assert len(xd) == len(yd) <= 2 * columns + 1
    assert np.all(np.diff(xd) >= 0)  # time order kept
    assert xd[-1] == x[-1]  # the newest sample's column is drawn
    idx = np.searchsorted(x, xd)
    np.testing.assert_array_equal(x[idx], xd)  # only real samples
    np.testing.assert_array_equal(y[idx], yd)
    k = -(-n // columns)
    m = (n // k) * k
    cols = y[n - m :].reshape(-1, k)
    xd, yd = xd[: 2 * len(cols)], yd[: 2 * len(cols)]  # without the appended newest sample
    with np.errstate(all="ignore"):
        lo = np.nanmin(np.where(np.isfinite(cols), cols, np.inf), axis=1)
        hi = np.nanmax(np.where(np.isfinite(cols), cols, -np.inf), axis=1)
    ok = np.isfinite(lo)
    np.testing.assert_array_equal(np.fmin(yd[0::2], yd[1::2])[ok], lo[ok])
    np.testing.assert_array_equal(np.fmax(yd[0::2], yd[1::2])[ok], hi[ok])


def test_load_fill_is_the_translucent_colour_over_white() -> None:
    a = LOAD_ALPHA / 255
    for c, f in zip(LOAD_COLOR, LOAD_FILL, strict=True):
        assert abs(f - (a * c + (1 - a) * 255)) <= 0.5
