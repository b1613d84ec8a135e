"""The ring buffer behind the graphs and the source adapters (playback, swapped roles)."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from gui.controller import RingBuffer
from gui.source_adapters import Playback, SwappedRoles
from sim.source import SimulatedSource
from sim.wearer import SimConfig
from tests.gui.helpers import FakeClock, start


@given(st.lists(st.integers(0, 23), max_size=30), st.integers(1, 16))
def test_ring_buffer_keeps_the_newest_rows_in_order(chunks: list[int], cap: int) -> None:
    rb = RingBuffer(cap, 2)
    total = sum(chunks)
    t_all = np.arange(total, dtype=float)
    i = 0
    for n in chunks:
        rb.extend(t_all[i : i + n], np.column_stack((t_all[i : i + n], -t_all[i : i + n])))
        i += n
    t, v = rb.view()
    expect = t_all[max(0, total - cap) :]
    np.testing.assert_array_equal(t, expect)
    np.testing.assert_array_equal(v[:, 1], -expect)
    assert rb.written == total and len(rb) == len(expect)
    last = rb.last()
    assert (last is None) == (total == 0)
    if total:
        np.testing.assert_array_equal(rb.since(expect[-1])[0], expect[-1:])


def test_playback_pauses_and_speeds_up() -> None:
    clock = FakeClock()
    src = SimulatedSource("standing", 10.0, SimConfig(seed=1), speed=0, burst_s=0.1)
    pb = Playback(src, speed=1.0, clock=clock)
    start(pb)

    def span_after(dt: float) -> float:
        clock.t += dt
        got = pb.read()
        return sum(len(b) for b in got if b.sensor == "lumbar") / 200.0

    span_after(0.0)
    assert abs(span_after(1.0) - 1.0) <= 0.03
    pb.set_paused(True)
    assert span_after(1.0) == 0.0
    pb.set_paused(False)
    pb.set_speed(4.0)
    assert abs(span_after(1.0) - 4.0) <= 0.03
    while not pb.finished:
        span_after(1.0)
    assert pb.finished and src.finished


def test_swapped_roles_exchange_blocks_status_and_buzz() -> None:
    import asyncio

    clock = FakeClock()
    src = SimulatedSource("standing", 5.0, SimConfig(seed=1), clock=clock)
    sw = SwappedRoles(src)
    start(sw)
    clock.t = 0.5
    blocks = sw.read()
    orig = src.result.raw
    thor = [b for b in blocks if b.sensor == "thoracic"]
    assert thor and np.array_equal(thor[0].gyr, orig["lumbar"].gyr[: len(thor[0])])
    st = sw.status()
    assert st["thoracic"].address == src.status()["lumbar"].address
    assert st["thoracic"].role == "thoracic"
    assert asyncio.run(sw.signal("thoracic"))
    assert src.signals[-1][1] == "lumbar"
