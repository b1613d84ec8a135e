"""Shared pieces of the GUI tests: a fake clock, a list sink, a scripted source, a profile."""

from __future__ import annotations

import asyncio

from calibration import CalibrationProfile
from firmware_bridge.api import Block, LinkState, LinkStatus, SampleSource
from posture.records import ROLES


class FakeClock:
    """A wall clock the test moves by hand."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


class ListSink:
    """A RecordingSink keeping the blocks in memory."""

    def __init__(self) -> None:
        self.path = ""
        self.blocks: list[Block] = []
        self.stopped = False

    def start(self, path: str, source: object) -> None:
        self.path = path
        self.source = source
        self.sets: list[bool] = []

    def mark_set(self, started: bool) -> None:
        self.sets.append(started)

    def write(self, block: Block) -> None:
        self.blocks.append(block)

    def stop(self) -> None:
        self.stopped = True


class ScriptedSource:
    """A SampleSource handing out prepared batches of blocks, one batch per read."""

    def __init__(self, batches: list[list[Block]]) -> None:
        self.batches = list(batches)
        self.started = False

    @property
    def rates_hz(self) -> dict[str, float]:
        return dict.fromkeys(ROLES, 200.0)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.started = False

    def read(self) -> list[Block]:
        return self.batches.pop(0) if self.batches else []

    def status(self) -> dict[str, LinkStatus]:
        return {
            r: LinkStatus(r, LinkState.STREAMING, address=f"AA:{i}") for i, r in enumerate(ROLES)
        }

    @property
    def finished(self) -> bool:
        return not self.batches

    async def signal(self, role: str, pattern: str = "alert") -> bool:
        return False

    def taps(self) -> list[tuple[str, float]]:
        return []


def start(source: SampleSource) -> None:
    """Start a source outside any running loop (tests that poll by hand)."""
    asyncio.run(source.start())


def profile(seed: int = 7) -> CalibrationProfile:
    from tests.conftest import _profile  # the session-wide cache of simulated profiles

    return _profile(seed, 200.0)
