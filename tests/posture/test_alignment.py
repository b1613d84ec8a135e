"""Clock alignment: meaningful uncertainty, offsets only when confident, bounded work."""

from __future__ import annotations

import numpy as np
import pytest

from posture.alignment import _windows, choose_clock, estimate_clock_map
from posture.rawcsv import HOST_CLOCK_COMMENT, raw_csv_clock, write_raw_csv
from posture.records import ImuBlock
from sim.wearer import SimConfig, simulate


@pytest.fixture(scope="module")
def separate():
    cfg = SimConfig(seed=4, rate_hz=100.0, clock_offset_s=0.05, clock_drift_ppm=30.0)
    return cfg, simulate("lifting-session", cfg, 150.0)


def test_separate_clocks_are_recovered_with_an_honest_sigma(separate):
    cfg, sim = separate
    cm = choose_clock(sim.raw["lumbar"], sim.raw["thoracic"], "auto")
    assert cm.source == "fit" and cm.confidently_nonzero()
    true_lag = cfg.clock_offset_s + cfg.clock_drift_ppm * 1e-6 * cm.t_mid
    assert 0 < cm.lag_sigma_s < 0.005
    assert abs(cm.lag_at_mid_s - true_lag) < max(4 * cm.lag_sigma_s, 0.002)
    assert 0.5 < cm.quality <= 1.0


def test_shared_clock_gets_no_offset():
    sim = simulate("lifting-session", SimConfig(seed=5, rate_hz=100.0, clock="shared"), 120.0)
    lum, tho = sim.raw["lumbar"], sim.raw["thoracic"]
    auto = choose_clock(lum, tho, "auto")
    assert auto.offset_s == 0.0 and auto.drift == 0.0
    fit = choose_clock(lum, tho, "fit")
    assert abs(fit.lag_at_mid_s) < 0.002  # the fit itself is close to zero too
    assert choose_clock(lum, tho, "shared").source == "shared"
    with pytest.raises(ValueError):
        choose_clock(lum, tho, "sometimes")


def test_unrelated_movements_are_not_trusted(separate):
    _, sim = separate
    lum = sim.raw["lumbar"]
    rng = np.random.default_rng(0)
    tho = ImuBlock("thoracic", lum.t, lum.acc, rng.normal(0, 0.5, lum.gyr.shape))
    cm = choose_clock(lum, tho, "auto")
    assert cm.offset_s == 0.0 and cm.drift == 0.0  # nothing applied
    fit = estimate_clock_map(lum, tho)
    assert not fit.confidently_nonzero()


def test_a_30_day_time_jump_costs_windows_by_data_not_span(separate):
    _, sim = separate
    raw = {}
    for role, b in sim.raw.items():
        t = b.t.copy()
        t[t > t[0] + 60.0] += 30 * 86400.0
        raw[role] = ImuBlock(role, t, b.acc, b.gyr)
    starts, lengths = _windows(raw["lumbar"].t, raw["thoracic"].t, 1.0, 30.0, 5.0)
    assert starts.size <= 2 * 150 / 30 + 2  # half-overlapping windows over 150 s of data
    assert (lengths <= 30.0).all()
    cm = estimate_clock_map(raw["lumbar"], raw["thoracic"])
    assert np.isfinite(cm.lag_at_mid_s) and np.isfinite(cm.lag_sigma_s)


def test_host_clock_comment_is_written_and_read(tmp_path, separate):
    _, sim = separate
    p = tmp_path / "host.csv"
    short = {r: b.take(slice(0, 20)) for r, b in sim.raw.items()}
    write_raw_csv(p, short, comments=["spinewatch stream (host time, s)", HOST_CLOCK_COMMENT])
    assert raw_csv_clock(p) == "host"
    q = tmp_path / "own.csv"
    write_raw_csv(q, short, comments=["clock: mine"])
    assert raw_csv_clock(q) is None


def test_analyze_clock_modes_on_the_command_line(tmp_path, separate):
    from posture.anglescsv import read_angles_csv
    from spinewatch.cli import main

    _, sim = separate
    part = {r: b.take(slice(0, 6000)) for r, b in sim.raw.items()}  # 60 s
    own, host = tmp_path / "own.csv", tmp_path / "host.csv"
    write_raw_csv(own, part)
    write_raw_csv(host, part, comments=[HOST_CLOCK_COMMENT])
    out = {}
    for name, src, mode in (
        ("auto", own, "auto"),
        ("shared", own, "shared"),
        ("host", host, "auto"),
        ("fit", host, "fit"),
    ):
        dst = tmp_path / f"angles_{name}.csv"
        assert main(["analyze", str(src), "-o", str(dst), "--clock", mode]) == 0
        out[name] = read_angles_csv(dst)
    # A file marked 'clock: host' is analysed as one time base (no fit), unless told to fit.
    np.testing.assert_array_equal(out["host"].flexion, out["shared"].flexion)
    np.testing.assert_array_equal(out["fit"].flexion, out["auto"].flexion)
    assert not np.array_equal(out["auto"].flexion, out["shared"].flexion, equal_nan=True)
