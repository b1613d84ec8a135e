"""posture.iirfilter gives scipy.signal's numbers without importing it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from posture import iirfilter
from posture.alignment import _band


def test_stored_sections_are_scipys_design() -> None:
    for (order, lo, hi, fs), sos in iirfilter.KNOWN_SOS.items():
        want = butter(order, [lo, hi], btype="band", fs=fs, output="sos")
        np.testing.assert_allclose(np.array(sos), want, rtol=1e-14, atol=1e-17)


@pytest.mark.parametrize("n", [16, 100, 2000, 6000, 6400])
@pytest.mark.parametrize("fs", [200.0, 100.0])
def test_sosfiltfilt_matches_scipy(n: int, fs: float) -> None:
    rng = np.random.default_rng(n)
    # Gyro-magnitude-like: positive, a large mean, slow wander and noise.
    x = np.abs(3.0 + 0.1 * rng.normal(size=n).cumsum() + rng.normal(0, 0.3, n))
    sos = iirfilter.butter_band_sos(2, 0.2, 4.0, fs)
    want = sosfiltfilt(sos, x)
    got = iirfilter.sosfiltfilt(sos, x)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_band_of_alignment_is_scipys_band_pass() -> None:
    x = np.abs(np.sin(np.arange(6000) / 30.0)) + 1.0
    want = sosfiltfilt(butter(2, [0.2, 4.0], btype="band", fs=200.0, output="sos"), x)
    np.testing.assert_allclose(_band(x, 200.0), want, rtol=0, atol=1e-11)


def test_too_short_input_is_refused_like_scipy() -> None:
    with pytest.raises(ValueError):
        iirfilter.sosfiltfilt(iirfilter.butter_band_sos(2, 0.2, 4.0, 200.0), np.ones(15))


def test_clock_map_unchanged_by_the_fft_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    from posture import alignment
    from sim.wearer import SimConfig, simulate

    raw = simulate("calibration", SimConfig(seed=4, clock_offset_s=0.3, clock_drift_ppm=100)).raw
    got = alignment.estimate_clock_map(raw["lumbar"], raw["thoracic"])

    def scipy_band(x: np.ndarray, fs: float) -> np.ndarray:
        return sosfiltfilt(butter(2, [0.2, 4.0], btype="band", fs=fs, output="sos"), x)

    monkeypatch.setattr(alignment, "_band", scipy_band)
    want = alignment.estimate_clock_map(raw["lumbar"], raw["thoracic"])
    assert got.offset_s == pytest.approx(want.offset_s, abs=1e-9)
    assert got.drift == pytest.approx(want.drift, abs=1e-12)
    assert got.quality == pytest.approx(want.quality, rel=1e-9)
