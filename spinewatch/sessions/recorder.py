"""Recording: a :class:`~firmware_bridge.api.SampleSource` → live pipeline → session file.

The loop reads whatever blocks the source has, hands each one to the session writer's queue
*before* the pipeline sees it (so the raw data is safe first), pushes it through the same
:class:`~posture.live.LivePipeline` the monitor and GUI use, and queues the angles, alerts and
reps that come out. Link statistics are snapshotted once a second. Set markers and notes are
queued with the ordinal of the next block, so a replay applies them at the same point.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from firmware_bridge.api import SampleSource
from posture.live import LivePipeline, LiveUpdate
from posture.records import LUMBAR, THORACIC
from spinewatch.sessions.store import SessionStatus
from spinewatch.sessions.writer import SessionWriter

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from firmware_bridge.api import Block, LinkStatus
    from posture.thresholds import Thresholds


class LinkSource(Protocol):
    """What :meth:`Recorder.begin`/:meth:`Recorder.consume` ask of a source whose blocks are
    read elsewhere (the GUI, the coach): its rates and link status. :meth:`Recorder.run`
    reads the blocks itself and needs a whole :class:`SampleSource`."""

    @property
    def rates_hz(self) -> dict[str, float]: ...

    def status(self) -> dict[str, LinkStatus]: ...


@dataclass(frozen=True)
class RecordResult:
    """What a finished recording holds."""

    path: str
    status: SessionStatus
    t0: float
    t1: float
    blocks: int
    alerts: int
    reps: int


class Recorder:
    """Record one session from a started-on-demand source.

    Args:
        source: any :class:`SampleSource` (simulated, BLE, replay); a :class:`LinkSource`
            when the caller reads the blocks and hands them to :meth:`consume`.
        path: the new session file.
        profile: calibration profile used for the live angles (stored in the session).
        thresholds: alert limits (stored).
        load_mode: ``auto``/``always``/``never``.
        use_mag: 9D fusion.
        meta: extra facts for the session's ``meta`` table.
        commit_interval_s: writer commit period.
    """

    def __init__(
        self,
        source: SampleSource | LinkSource,
        path: str | os.PathLike[str],
        profile: CalibrationProfile | None,
        thresholds: Thresholds | None = None,
        load_mode: str = "auto",
        *,
        use_mag: bool = False,
        meta: dict[str, Any] | None = None,
        commit_interval_s: float = 0.25,
        overwrite: bool = False,
    ) -> None:
        from posture.thresholds import Thresholds

        self.source = source
        self.profile = profile
        self.thresholds = thresholds or Thresholds()
        self.load_mode = load_mode
        self.use_mag = use_mag
        self.writer = SessionWriter(
            path,
            {
                **(meta or {}),
                "profile": None if profile is None else profile.to_json_dict(),
                "thresholds": self.thresholds.to_json_dict(),
                "load_mode": load_mode,
                "use_mag": use_mag,
                "clock": [0.0, 0.0],
            },
            commit_interval_s=commit_interval_s,
            overwrite=overwrite,
        )
        self.pipeline: LivePipeline | None = None
        self.t0 = np.nan
        self.t1 = np.nan
        self.alerts = 0
        self.reps = 0
        self.max_backlog = 2000  # queued writer items before a flat-out source is held back

    def _make_pipeline(self) -> LivePipeline:
        pipe = LivePipeline.for_host_clock(
            self.profile,
            self.thresholds,
            self.load_mode,
            self.source.rates_hz,
            use_mag=self.use_mag,
        )
        # The rates the engine runs at (None: estimated from the data), so replay does too.
        es = pipe.engine.settings
        self.writer.meta(rates_hz={THORACIC: es.thoracic_rate_hz, LUMBAR: es.lumbar_rate_hz})
        return pipe

    # -- user events -------------------------------------------------------------------------
    def _when(self, t_s: float | None) -> float | None:
        # Store the time the pipeline will use, so replay and reports see the same instant.
        t = self.pipeline.t_last if t_s is None and self.pipeline is not None else t_s
        return None if t is None or not np.isfinite(t) else float(t)

    def start_set(self, t_s: float | None = None) -> None:
        """The user started a set: load on from ``t_s`` (default: the latest sample)."""
        if self.pipeline is not None and not self.pipeline.in_set:
            t = self._when(t_s)
            self.writer.marker("set_start", t)
            self.pipeline.start_set(t)

    def end_set(self, t_s: float | None = None) -> None:
        if self.pipeline is not None and self.pipeline.in_set:
            t = self._when(t_s)
            self.writer.marker("set_end", t)
            self.pipeline.end_set(t)

    def note(self, text: str, t_s: float | None = None) -> None:
        t = t_s if t_s is not None else self.t1
        self.writer.marker("note", None if not np.isfinite(t) else float(t), text)

    # -- the loop ----------------------------------------------------------------------------
    def _keep(self, up: LiveUpdate) -> None:
        w = self.writer
        w.angles(up.angles, up.under_load)
        if up.raised:
            w.alerts(up.raised)
            self.alerts += len(up.raised)
        if up.ended:
            w.alerts(up.ended)
        if up.reps:
            w.reps(up.reps)
            self.reps += len(up.reps)

    def begin(self) -> None:
        """Set up the live pipeline (the source must be started: its rates are needed)."""
        self.pipeline = self._make_pipeline()
        self._next_link = -np.inf

    def consume(self, b: Block, link_every_s: float = 1.0) -> LiveUpdate:
        """Store one raw block (first, so it is safe), then its angles, alerts and reps."""
        assert self.pipeline is not None, "begin() first"
        w = self.writer
        w.block(b)
        if len(b):
            self.t0 = float(b.t[0]) if np.isnan(self.t0) else self.t0
            self.t1 = float(b.t[-1]) if np.isnan(self.t1) else max(self.t1, b.t[-1])
        up = self.pipeline.push(b)
        self._keep(up)
        if np.isfinite(self.t1) and self.t1 >= self._next_link:
            w.link(self.t1, self.source.status())
            self._next_link = self.t1 + link_every_s
        return up

    def finish(self, status: SessionStatus) -> None:
        """Flush the pipeline (when complete) and close the file with ``status``."""
        w = self.writer
        if status is SessionStatus.COMPLETE and self.pipeline is not None:
            self._keep(self.pipeline.flush())
        if np.isfinite(self.t1):
            w.link(self.t1, self.source.status())
        w.close(status)
        if status is SessionStatus.INTERRUPTED and w.blocks_queued == 0:
            # Nothing was recorded (e.g. the sensors never connected): leave no file.
            for suffix in ("", "-wal", "-shm"):
                Path(f"{w.path}{suffix}").unlink(missing_ok=True)

    async def run(
        self,
        seconds: float | None = None,
        stop: asyncio.Event | None = None,
        on_update: Callable[[LiveUpdate], None] | None = None,
        poll_s: float = 0.02,
        link_every_s: float = 1.0,
    ) -> RecordResult:
        """Record until ``seconds`` of stream time, the source ends, or ``stop`` is set."""
        src, w = self.source, self.writer
        if not isinstance(src, SampleSource):
            raise TypeError("Recorder.run reads the blocks itself: it needs a SampleSource")
        status = SessionStatus.INTERRUPTED
        try:
            await src.start()
            self.begin()
            pipe = self.pipeline
            assert pipe is not None
            while stop is None or not stop.is_set():
                blocks = src.read()
                for b in blocks:
                    up = self.consume(b, link_every_s)
                    if on_update is not None:
                        on_update(up)
                w.check()
                if src.finished or (seconds is not None and self.t1 - self.t0 >= seconds):
                    break
                # Poll again at once after data (a flat-out source has more waiting; a live one
                # answers the next read with nothing), else sleep a poll period.
                await asyncio.sleep(0.0 if blocks else poll_s)
                # A flat-out source (simulation or replay at speed 0) can outrun the disk; let
                # the writer catch up. This awaits, so a live bridge in the same event loop keeps
                # receiving; at live pace the backlog stays far below the limit.
                while w.backlog > self.max_backlog:
                    await asyncio.sleep(0.005)
                    w.check()
            up = pipe.flush()
            self._keep(up)
            if on_update is not None:
                on_update(up)
            self.pipeline = None  # flushed
            status = SessionStatus.COMPLETE
        finally:
            try:
                await src.stop()
            finally:
                self.finish(status)
        return RecordResult(
            str(w.path), status, self.t0, self.t1, w.blocks_queued, self.alerts, self.reps
        )


class SessionSink:
    """Records what the GUI streams: the GUI's ``RecordingSink`` on a :class:`Recorder`.

    The window keeps driving its own source and pipeline; this runs a second pipeline with
    the same profile and settings on the same blocks, so the session holds exactly what a
    ``spinewatch record`` of that stream would.
    """

    def __init__(
        self,
        profile: CalibrationProfile | None,
        thresholds: Thresholds | None = None,
        load_mode: str = "auto",
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.profile, self.thresholds, self.load_mode = profile, thresholds, load_mode
        self.meta = meta or {}
        self.recorder: Recorder | None = None

    def start(self, path: str, source: SampleSource) -> None:
        rec = Recorder(source, path, self.profile, self.thresholds, self.load_mode, meta=self.meta)
        rec.begin()
        self.recorder = rec

    def write(self, block: Block) -> None:
        if self.recorder is not None:
            self.recorder.consume(block)
            self.recorder.writer.check()

    def mark_set(self, started: bool) -> None:
        if self.recorder is not None:
            (self.recorder.start_set if started else self.recorder.end_set)()

    def stop(self) -> None:
        rec, self.recorder = self.recorder, None
        if rec is not None:
            rec.finish(SessionStatus.COMPLETE)
