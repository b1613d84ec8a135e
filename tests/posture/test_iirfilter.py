"""posture.iirfilter gives scipy.signal's numbers without importing it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import butter, sosfiltfilt

from posture import iirfilter
from posture.alignment import _band


@pytest.mark.parametrize("fs", [25.0, 50.0, 100.0, 200.0, 400.0, 1000.0])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 5, 8])
def test_band_pass_design_is_scipys(order: int, fs: float) -> None:
    bands = [
        (0.2, 4.0),
        (1.0, 3.0),
        (0.05, 0.5),
        (2.0, 10.0),
        (0.5, 0.45 * fs),
        (0.1 * fs, 0.3 * fs),
    ]
    for lo, hi in bands:
        want = butter(order, [lo, hi], btype="bandpass", fs=fs, output="sos")
        got = iirfilter.butter_sos(order, (lo, hi), fs)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("btype", ["lowpass", "highpass"])
@pytest.mark.parametrize("order", [1, 2, 3, 4, 7])
def test_low_and_high_pass_design_is_scipys(order: int, btype: str) -> None:
    for fs in (50.0, 200.0, 1000.0):
        for cut in (0.5, 3.0, 0.2 * fs, 0.45 * fs):
            want = butter(order, cut, btype=btype, fs=fs, output="sos")
            got = iirfilter.butter_sos(order, cut, fs, btype)
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12 * np.abs(want).max())


def test_bad_designs_are_refused() -> None:
    with pytest.raises(ValueError, match="fs/2"):
        iirfilter.butter_sos(2, (1.0, 120.0), 200.0)
    with pytest.raises(ValueError, match="two cut-offs"):
        iirfilter.butter_sos(2, 3.0, 200.0)
    with pytest.raises(ValueError, match="btype"):
        iirfilter.butter_sos(2, 3.0, 200.0, "bandstop")
    with pytest.raises(ValueError, match="order"):
        iirfilter.butter_sos(0, (1.0, 3.0), 200.0)


@pytest.mark.parametrize("n", [16, 100, 2000, 6000, 6400])
@pytest.mark.parametrize("fs", [200.0, 100.0])
def test_sosfiltfilt_matches_scipy(n: int, fs: float) -> None:
    rng = np.random.default_rng(n)
    # Gyro-magnitude-like: positive, a large mean, slow wander and noise.
    x = np.abs(3.0 + 0.1 * rng.normal(size=n).cumsum() + rng.normal(0, 0.3, n))
    sos = iirfilter.butter_sos(2, (0.2, 4.0), fs)
    want = sosfiltfilt(sos, x)
    got = iirfilter.sosfiltfilt(sos, x)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())


def test_band_of_alignment_is_scipys_band_pass() -> None:
    x = np.abs(np.sin(np.arange(6000) / 30.0)) + 1.0
    want = sosfiltfilt(butter(2, [0.2, 4.0], btype="band", fs=200.0, output="sos"), x)
    np.testing.assert_allclose(_band(x, 200.0), want, rtol=0, atol=1e-11)


def test_too_short_input_is_refused_like_scipy() -> None:
    with pytest.raises(ValueError):
        iirfilter.sosfiltfilt(iirfilter.butter_sos(2, (0.2, 4.0), 200.0), np.ones(15))


@pytest.mark.parametrize("fs", [50.0, 100.0, 200.0, 400.0])
def test_gait_band_matches_scipy(fs: float) -> None:
    """The gait detector's 1–3 Hz band (posture.anchors.gait_bounce) at the data's rate."""
    rng = np.random.default_rng(int(fs))
    t = np.arange(int(60 * fs)) / fs
    x = np.sin(2 * np.pi * 1.8 * t) + 0.5 * rng.normal(size=t.size) + 0.01 * t
    want = sosfiltfilt(butter(2, [1.0, 3.0], btype="band", fs=fs, output="sos"), x)
    got = iirfilter.band_filtfilt(x, fs, 1.0, 3.0)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-10 * np.abs(want).max())


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
