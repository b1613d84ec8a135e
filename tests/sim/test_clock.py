"""SimulatedTimeLoop: asyncio on simulated time, same semantics, no waiting."""

from __future__ import annotations

import asyncio
import time

import pytest

from sim.clock import SimulatedTimeLoop, loop_clock, run_simulated


def test_sleeps_and_timers_run_in_order_without_waiting() -> None:
    events: list[tuple[str, float]] = []

    async def sleeper(name: str, dt: float) -> None:
        await asyncio.sleep(dt)
        events.append((name, loop_clock()))

    async def main() -> float:
        loop = asyncio.get_running_loop()
        assert isinstance(loop, SimulatedTimeLoop)
        t0 = loop.time()
        loop.call_later(30.0, lambda: events.append(("timer", loop.time())))
        await asyncio.gather(sleeper("b", 3600.0), sleeper("a", 60.0))
        return t0

    wall = time.monotonic()
    t0 = run_simulated(main(), start=50.0)
    assert time.monotonic() - wall < 5.0  # an hour of simulated time
    assert t0 == 50.0
    assert [n for n, _ in events] == ["timer", "a", "b"]
    assert [t - t0 for _, t in events] == pytest.approx([30.0, 60.0, 3600.0])


def test_timeouts_fire_on_simulated_time() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(asyncio.Event().wait(), 8.0)
        return loop.time() - t0

    assert run_simulated(main()) == pytest.approx(8.0)


def test_io_and_ready_callbacks_do_not_advance_the_clock() -> None:
    async def main() -> float:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        for _ in range(100):
            await asyncio.sleep(0)
        fut = loop.create_future()
        loop.call_soon_threadsafe(fut.set_result, 1)
        await fut
        return loop.time() - t0

    assert run_simulated(main()) == 0.0


def test_loop_clock_is_monotonic_outside_a_loop() -> None:
    a = loop_clock()
    assert abs(a - time.monotonic()) < 1.0
