"""Simulated time for the asyncio code paths: the same logic, faster than real time.

Everything that paces or times a live stream in spinewatch asks the running event loop for
the time (``loop.time()``, ``asyncio.sleep``, ``wait_for`` timeouts, ``call_later``): the
simulated peripherals, the bridge's links (their arrival clock is :func:`loop_clock`), the
radio-free simulated source (``clock=loop_clock``) and the recorder. On an ordinary loop that
is ``time.monotonic()``. :class:`SimulatedTimeLoop` is an ordinary selector loop whose clock
starts at ``start`` and, whenever nothing is ready to run, jumps straight to the next timer
instead of sleeping: a 10-s BLE stream with its connection events, timeouts and reconnect
back-off runs in the CPU time it needs, in the same order, with the same code.

I/O still works (it is polled before every jump) and a loop with no timer waits for real I/O
(signals, other threads) as usual. Work done in other threads takes no simulated time, so
code under simulated time must not wait on a thread's progress with a timeout.
"""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

T = TypeVar("T")

# The platform's best selector; typeshed spells DefaultSelector as a variable, not a class.
if TYPE_CHECKING:
    _Selector = selectors.SelectSelector
else:
    _Selector = selectors.DefaultSelector


class _JumpingSelector(_Selector):
    """Polls instead of sleeping, and moves the loop's clock over the sleep instead."""

    loop: SimulatedTimeLoop

    def select(self, timeout: float | None = None) -> list[tuple[Any, int]]:
        events = super().select(0)
        if events or timeout is None or timeout <= 0:
            return events if events or timeout is not None else super().select(None)
        self.loop.advance(timeout)
        return events


class SimulatedTimeLoop(asyncio.SelectorEventLoop):
    """An event loop on simulated time (s, from ``start``), advancing only when idle."""

    def __init__(self, start: float = 1000.0) -> None:
        sel = _JumpingSelector()
        super().__init__(sel)
        sel.loop = self
        self._now = float(start)

    def time(self) -> float:
        return self._now

    def advance(self, dt: float) -> None:
        """Move the clock forward by ``dt`` s (never back)."""
        self._now += max(0.0, float(dt))


def run_simulated(coro: Coroutine[Any, Any, T], start: float = 1000.0) -> T:
    """``asyncio.run(coro)`` on a :class:`SimulatedTimeLoop`."""
    with asyncio.Runner(loop_factory=lambda: SimulatedTimeLoop(start)) as runner:
        return runner.run(coro)


def loop_clock() -> float:
    """The running event loop's clock, s (``time.monotonic()`` outside a loop); on an
    ordinary loop the two are the same clock."""
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:
        return time.monotonic()
