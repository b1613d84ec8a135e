"""The radio-free simulated source: sensor counts and the catch-up test the GUI benchmark uses."""

from __future__ import annotations

import numpy as np

from firmware_bridge.profiles.spinewatch import decode, encode
from posture.records import ImuBlock
from sim.source import SimulatedSource, as_counts


def test_as_counts_matches_the_packet_decoder_bit_for_bit() -> None:
    r = np.random.default_rng(0)
    b = ImuBlock("lumbar", np.arange(8) / 200.0, r.normal(0, 9, (8, 3)), r.normal(0, 2, (8, 3)))
    q = as_counts(b)
    pk = decode(encode(0, 0, 5000, b.acc, b.gyr))
    assert q.acc.tobytes() == pk.acc.tobytes() and q.gyr.tobytes() == pk.gyr.tobytes()
    assert np.abs(q.acc - b.acc).max() <= 16 * 9.80665 / 32768 / 2 + 1e-12


def test_caught_up_once_every_chunk_up_to_the_clock_is_read() -> None:
    now = [0.0]
    src = SimulatedSource("calibration", 3.0, clock=lambda: now[0], counts=False)
    import asyncio

    asyncio.run(src.start())
    now[0] = 1.0
    assert not src.caught_up()
    assert src.read()
    assert src.caught_up()
    raw = src.result.raw["lumbar"]
    assert not np.array_equal(as_counts(raw).acc, raw.acc)  # counts=False kept the floats
