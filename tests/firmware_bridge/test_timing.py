"""Sequence unwrapping, drop counting and the sensor→host clock fit (no radio, no clock)."""

from __future__ import annotations

import numpy as np
import pytest

from firmware_bridge.adapters import SpinewatchAdapter, WitMotionAdapter
from firmware_bridge.profiles import spinewatch as P
from firmware_bridge.profiles import witmotion as WIT
from firmware_bridge.timing import ClockFit, Unwrapper
from sim.peripheral import Faults, FaultSpecError


def test_unwrapper_handles_wraps_and_rejects_the_past() -> None:
    u = Unwrapper(16)
    assert [u.unwrap(v) for v in (65530, 65535, 3, 10)] == [65530, 65535, 65539, 65546]
    assert u.unwrap(10) is None and u.unwrap(5) is None  # duplicate, reordered


def ble_arrivals(rng: np.random.Generator, seconds: float, ppm: float, rate: float = 200.0):
    """Sensor times of the last sample of 4-sample packets and BLE-like host arrivals."""
    t_true = np.arange(0, seconds, 4 / rate) + 3 / rate
    t_sensor = 5000.0 + t_true * (1 + ppm * 1e-6)
    interval = 0.0075
    arrive = 100.0 + np.ceil(t_true / interval) * interval  # connection-event grid
    arrive += rng.exponential(0.002, t_true.size) * (rng.random(t_true.size) < 0.3)
    burst = rng.random(t_true.size) < 0.05  # held back, delivered late
    arrive[burst] += 0.03
    return t_sensor, 100.0 + t_true, arrive


@pytest.mark.parametrize("ppm", [-50.0, 0.0, 50.0])
def test_clock_fit_follows_drift_and_ignores_bursts(ppm: float) -> None:
    rng = np.random.default_rng(1)
    ts, truth, arrive = ble_arrivals(rng, 60.0, ppm)
    fit = ClockFit()
    err = []
    for a, b, c in zip(ts, truth, arrive, strict=True):
        fit.add(a, c)
        err.append(fit.to_host_scalar(a) - b)
    err_ms = np.abs(np.array(err)[truth > truth[0] + 10]) * 1e3
    assert err_ms.max() < 2.0
    assert fit.drift_ppm == pytest.approx(ppm, abs=5.0)
    assert 0 < fit.jitter_ms < 15


def packets(n_packets: int, start_seq: int = 65000, batch: int = 4):
    rng = np.random.default_rng(3)
    out = []
    for k in range(n_packets):
        seq = start_seq + k * batch
        acc, gyr = rng.normal(0, 1, (batch, 3)), rng.normal(0, 1, (batch, 3))
        out.append((seq, P.encode(seq, 10**6 + seq * 5000, 5000, acc, gyr)))
    return out


def test_adapter_counts_drops_across_sequence_wrap_exactly() -> None:
    a = SpinewatchAdapter("lumbar", 200.0)
    pk = packets(600)  # crosses 65535
    lost = {5, 6, 100, 300, 301, 302, 599}
    blocks = [a.feed(d, 0.02 * k + 1.0) for k, (_, d) in enumerate(pk) if k not in lost]
    assert a.dropped == 4 * (len(lost) - 1)  # the last packet lost is not yet known lost
    seq = np.concatenate([b.seq for b in blocks if b is not None])
    assert seq[0] == 65000 and np.all(np.diff(seq) >= 1) and seq[-1] == 65000 + 4 * 598 + 3
    t = np.concatenate([b.t for b in blocks if b is not None])
    assert np.all(np.diff(t) > 0)


def test_adapter_long_gap_spans_sequence_wraps_by_the_sensor_clock() -> None:
    a = SpinewatchAdapter("lumbar", 200.0)
    z = np.zeros((4, 3))
    a.feed(P.encode(100, 0, 5000, z, z), 1.0)
    gap = 70000  # samples: more than one wrap of the 16-bit counter (5.8 min at 200 Hz)
    blk = a.feed(P.encode(104 + gap, (4 + gap) * 5000, 5000, z, z), 1.0 + gap / 200)
    assert a.dropped == gap and blk is not None and int(blk.seq[0]) == 104 + gap


def test_adapter_ignores_duplicates_and_counts_garbage() -> None:
    a = SpinewatchAdapter("thoracic", 200.0)
    (_, d0), (_, d1) = packets(2)
    assert a.feed(d0, 1.0) is not None and a.feed(d0, 1.01) is None
    assert a.feed(b"\x01\x02junk", 1.02) is None
    assert a.feed(d1, 1.03) is not None
    assert (a.duplicates, a.bad_packets, a.dropped, a.received) == (1, 1, 0, 8)


def test_witmotion_adapter_spaces_samples_on_the_rate_grid() -> None:
    a = WitMotionAdapter("lumbar", 100.0)
    z = np.zeros((1, 3))
    frame = WIT.encode_data(z + [0, 0, 9.8], z, z)
    ts = []
    for k in range(300):  # bursts: two frames per notification every 20 ms
        blk = a.feed(frame * 2, 1.0 + 0.02 * (k + 1))
        ts.append(blk.t)
    t = np.concatenate(ts)
    assert np.allclose(np.diff(t[20:]), 0.01, atol=2e-4)


def test_fault_options_parse_with_clear_errors() -> None:
    f = Faults.parse(["drop=0.05", "disconnect-at=5", "refuse", "drift-ppm=-30"])
    assert (f.drop, f.disconnect_at, f.refuse, f.drift_ppm) == (0.05, 5.0, True, -30.0)
    with pytest.raises(FaultSpecError, match="unknown fault 'dorp'"):
        Faults.parse(["dorp=1"])
    with pytest.raises(FaultSpecError, match="must be a number"):
        Faults.parse(["drop=lots"])
    with pytest.raises(FaultSpecError, match="fraction"):
        Faults.parse(["drop=5"])


def test_dot_quaternion_mode_feeds_the_engine_orientation_blocks() -> None:
    from firmware_bridge.adapters import DotAdapter
    from firmware_bridge.profiles import movella_dot as DOT
    from posture.records import OrientationBlock

    a = DotAdapter("lumbar", 60.0, mode="orientation-quaternion")
    mode = DOT.MODES["orientation-quaternion"]
    assert a.data_uuid == DOT.SHORT_PAYLOAD_UUID and a.rate_hz == 60.0
    blocks = []
    for k in range(120):
        if k == 50:
            continue  # one lost notification: found from the sensor clock
        t_us = 2**32 - 1_000_000 + k * 16667  # crosses the 32-bit wrap
        blk = a.feed(DOT.encode(t_us, mode, quat=np.array([1.0, 0, 0, 0])), 1.0 + k / 60)
        blocks.append(blk)
    assert all(isinstance(b, OrientationBlock) for b in blocks)
    assert a.dropped == 1 and a.received == 119
    t = np.concatenate([b.t for b in blocks])
    assert np.all(np.diff(t) > 0)


def test_dot_rate_mode_is_capped_at_the_realtime_limit() -> None:
    from firmware_bridge.adapters import DotAdapter

    assert DotAdapter("thoracic", 120.0).rate_hz == 60.0
