"""Sources wrapping sources: playback control for finite ones, and swapped roles.

Both are sample sources themselves (:class:`~firmware_bridge.api.SampleSource`), so the
windows take them like any other source.

* :class:`Playback` reads ahead from a source that delivers as fast as it is read
  (``SimulatedSource(speed=0)``, a replay) and releases blocks by their own time stamps on a
  clock it can pause and speed up. Live sensors are never wrapped: they cannot be paused.
* :class:`SwappedRoles` exchanges thoracic and lumbar, when the wizard's "which sensor is
  moving?" check showed the sensors were registered the other way round.
"""

from __future__ import annotations

import dataclasses
import time
from collections import deque
from collections.abc import Callable

from firmware_bridge.api import Block, LinkStatus, SampleSource
from posture.records import LUMBAR, THORACIC

SWAP = {THORACIC: LUMBAR, LUMBAR: THORACIC}


def swap_role(block: Block) -> Block:
    """The block with thoracic and lumbar exchanged (other sensor ids unchanged)."""
    role = SWAP.get(block.sensor)
    return block if role is None else dataclasses.replace(block, sensor=role)


class Playback:
    """Pace a finite, read-as-fast-as-you-like source by its time stamps.

    Args:
        source: the finite source.
        speed: playback speed (1 = real time).
        clock: wall clock, s (injected in tests).
        lead_s: how far ahead of the playback time blocks are read from the source.
    """

    def __init__(
        self,
        source: SampleSource,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        lead_s: float = 0.2,
    ) -> None:
        if speed <= 0:
            raise ValueError("playback speed must be positive")
        self.source = source
        self.speed = float(speed)
        self.paused = False
        self._clock = clock
        self._lead = lead_s
        self._queue: deque[Block] = deque()
        self._t_play: float | None = None  # playback time, s on the source's time base
        self._wall: float | None = None
        self._ahead = float("-inf")  # newest time stamp read from the source

    @property
    def rates_hz(self) -> dict[str, float]:
        return self.source.rates_hz

    @property
    def finished(self) -> bool:
        return self.source.finished and not self._queue

    @property
    def position_s(self) -> float:
        """Playback time (source time base), NaN before the first block."""
        return float("nan") if self._t_play is None else self._t_play

    async def start(self) -> None:
        await self.source.start()
        self._wall = self._clock()

    async def stop(self) -> None:
        await self.source.stop()

    def status(self) -> dict[str, LinkStatus]:
        return self.source.status()

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        return await self.source.signal(role, pattern)

    def taps(self) -> list[tuple[str, float]]:
        return self.source.taps()

    def set_paused(self, paused: bool) -> None:
        self._advance()
        self.paused = paused

    def set_speed(self, speed: float) -> None:
        if speed <= 0:
            raise ValueError("playback speed must be positive")
        self._advance()
        self.speed = float(speed)

    def _advance(self) -> None:
        now = self._clock()
        if self._wall is not None and self._t_play is not None and not self.paused:
            self._t_play += (now - self._wall) * self.speed
        self._wall = now

    def read(self) -> list[Block]:
        self._advance()
        if self._t_play is None:
            self._fill(float("inf"), until_any=True)
            if not self._queue:
                return []
            self._t_play = float(self._queue[0].t[0])
        self._fill(self._t_play + self._lead)
        out: list[Block] = []
        while self._queue and float(self._queue[0].t[-1]) <= self._t_play:
            out.append(self._queue.popleft())
        if self.source.finished and self._queue and self._t_play >= self._ahead:
            out.extend(self._queue)
            self._queue.clear()
        return out

    def _fill(self, until: float, until_any: bool = False) -> None:
        while self._ahead < until and not self.source.finished:
            if until_any and self._queue:
                break
            got = self.source.read()
            if not got:
                break
            for b in got:
                if len(b):
                    self._queue.append(b)
                    self._ahead = max(self._ahead, float(b.t[-1]))


class SwappedRoles:
    """A source with its thoracic and lumbar roles exchanged (blocks, status, rates, buzz)."""

    def __init__(self, source: SampleSource) -> None:
        self.source = source

    @property
    def rates_hz(self) -> dict[str, float]:
        return {SWAP.get(r, r): v for r, v in self.source.rates_hz.items()}

    @property
    def finished(self) -> bool:
        return self.source.finished

    async def start(self) -> None:
        await self.source.start()

    async def stop(self) -> None:
        await self.source.stop()

    def read(self) -> list[Block]:
        return [swap_role(b) for b in self.source.read()]

    def status(self) -> dict[str, LinkStatus]:
        out = {}
        for role, st in self.source.status().items():
            mine = SWAP.get(role, role)
            out[mine] = dataclasses.replace(st, role=mine)
        return out

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        return await self.source.signal(SWAP.get(role, role), pattern)

    def taps(self) -> list[tuple[str, float]]:
        return [(SWAP.get(r, r), t) for r, t in self.source.taps()]
