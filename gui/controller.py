"""The GUI's data side: poll a SampleSource, feed the live pipeline, keep what the views show.

What the graphs draw lives in a :class:`RingBuffer`: every row is written twice (at ``i`` and
``i + capacity``) so the newest ``capacity`` rows are always one contiguous slice, and reading
a window for display costs a slice, never a copy or a per-sample Python object.


Runs on a fast Qt timer (default 100 Hz) decoupled from the repaint timer of the window, so
data arrival never waits for drawing and drawing never waits for data. Everything kept for
display lives in one numpy ring buffer; alerts, reps and link status are announced with Qt
signals. Async bridge calls (start, stop, haptic signal) run as tasks on the asyncio loop that
qasync drives inside the Qt loop, so they never block the UI.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from PySide6.QtCore import QObject, QTimer, Signal

from firmware_bridge.api import Block, LinkStatus, SampleSource
from posture.alerts import Alert
from posture.errors import SpinewatchError
from posture.live import LivePipeline, LiveUpdate
from posture.reps import RepMetrics

F64 = NDArray[np.float64]


class RingBuffer:
    """The newest ``capacity`` rows of ``(t, values[columns])``.

    Args:
        capacity: rows kept.
        columns: values per row.
    """

    def __init__(self, capacity: int, columns: int) -> None:
        if capacity < 1 or columns < 1:
            raise ValueError("capacity and columns must be positive")
        self.capacity = int(capacity)
        self.columns = int(columns)
        self._t = np.full(2 * self.capacity, np.nan)
        self._v = np.full((2 * self.capacity, self.columns), np.nan)
        self._head = 0  # next write position in [0, capacity)
        self._count = 0  # rows written in total

    def __len__(self) -> int:
        return min(self._count, self.capacity)

    @property
    def written(self) -> int:
        """Rows written since creation or the last :meth:`clear`."""
        return self._count

    def clear(self) -> None:
        self._t.fill(np.nan)
        self._v.fill(np.nan)
        self._head = 0
        self._count = 0

    def extend(self, t: F64, values: F64) -> None:
        """Append rows ``t`` ``(N,)`` and ``values`` ``(N, columns)`` (oldest first)."""
        n = int(t.shape[0])
        if n == 0:
            return
        if values.shape != (n, self.columns):
            raise ValueError(f"values must have shape ({n}, {self.columns}), got {values.shape}")
        cap = self.capacity
        if n > cap:
            t, values = t[n - cap :], values[n - cap :]
            self._count += n - cap
            n = cap
        h = self._head
        first = min(n, cap - h)
        for off in (0, cap):  # the mirrored halves
            self._t[h + off : h + off + first] = t[:first]
            self._v[h + off : h + off + first] = values[:first]
        rest = n - first
        if rest:
            for off in (0, cap):
                self._t[off : off + rest] = t[first:]
                self._v[off : off + rest] = values[first:]
        self._head = (h + n) % cap
        self._count += n

    def view(self) -> tuple[F64, F64]:
        """All rows kept, oldest first, as read-only views ``(t (M,), values (M, columns))``."""
        m = len(self)
        end = self._head + self.capacity
        t, v = self._t[end - m : end], self._v[end - m : end]
        t.flags.writeable = False
        v.flags.writeable = False
        return t, v

    def since(self, t_from: float) -> tuple[F64, F64]:
        """Rows with ``t >= t_from`` (times must be non-decreasing)."""
        t, v = self.view()
        i = int(np.searchsorted(t, t_from, side="left"))
        return t[i:], v[i:]

    def last(self) -> tuple[float, F64] | None:
        """The newest row, or None when empty."""
        if self._count == 0:
            return None
        i = (self._head - 1) % self.capacity
        return float(self._t[i]), self._v[i].copy()


#: Columns of :attr:`LiveController.buffer`.
COLUMNS = (
    "flexion",
    "lateral_flexion",
    "rotation",
    "thoracic_inclination",
    "lumbar_inclination",
    "hip_angle",
    "under_load",
)
COL = {name: i for i, name in enumerate(COLUMNS)}

Runner = Callable[[Coroutine[Any, Any, Any]], object]


@runtime_checkable
class RecordingSink(Protocol):
    """Where the record toggle sends raw blocks (e.g. the session store); injected by the app."""

    def start(self, path: str, source: SampleSource) -> None:
        """Open a new recording at ``path`` of what ``source`` (already started) streams."""
        ...

    def write(self, block: Block) -> None:
        """Append one raw block (called on the GUI thread, keep it quick)."""
        ...

    def mark_set(self, started: bool) -> None:
        """The user started (True) or ended (False) a set at the newest sample."""
        ...

    def stop(self) -> None:
        """Close the recording."""
        ...


def spawn(coro: Coroutine[Any, Any, Any]) -> object:
    """Run a coroutine as a task on the current (qasync) event loop."""
    return asyncio.ensure_future(coro)


class LiveController(QObject):
    """Source → :class:`~posture.live.LivePipeline` → ring buffer + signals.

    Args:
        source: any :class:`~firmware_bridge.api.SampleSource` (sensors, simulation, replay).
        pipeline: the live pipeline with the wearer's model and thresholds.
        capacity_s: seconds of angles kept for the graphs (the longest window offered).
        rate_hz: angle rate used to size the buffer.
        poll_ms: how often the source is read (None: only when :meth:`poll` is called).
        runner: schedules coroutines (default: a task on the running asyncio loop).
        haptic_role: the sensor that buzzes on an alert.
        clock: wall clock, s (for latency figures).
    """

    alert_raised = Signal(object)
    alert_ended = Signal(object)
    rep_done = Signal(object)
    status_changed = Signal(object)
    set_changed = Signal(bool)
    recording_changed = Signal(bool)
    source_finished = Signal()
    problem = Signal(str)

    def __init__(
        self,
        source: SampleSource,
        pipeline: LivePipeline,
        *,
        capacity_s: float = 120.0,
        rate_hz: float = 200.0,
        poll_ms: int | None = 10,
        runner: Runner = spawn,
        haptic_role: str = "thoracic",
        clock: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.source = source
        self.pipeline = pipeline
        self.buffer = RingBuffer(int(capacity_s * rate_hz) + 1, len(COLUMNS))
        self.active: dict[tuple[str, str], Alert] = {}
        self.alerts: list[Alert] = []
        self.set_reps: list[RepMetrics] = []
        self.status: dict[str, LinkStatus] = {}
        self.sink: RecordingSink | None = None
        self.recording = False
        self.haptic_role = haptic_role
        self.done = False
        self.last_raise_wall = float("nan")  # wall time the newest alert came in
        self.last_data_wall = float("nan")  # wall time angles last came in
        self.t_first = float("nan")  # time of the first angle sample, s (source time)
        self._runner = runner
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms or 10)
        self._timer.timeout.connect(self.poll)
        self._auto_poll = poll_ms is not None

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self, source_started: bool = False) -> None:
        """Start the source (unless already started; may raise BridgeError) and the poll timer."""
        if not source_started:
            await self.source.start()
        self.done = False
        if self._auto_poll:
            self._timer.start()

    async def stop(self) -> None:
        self._timer.stop()
        if self.recording:
            self.toggle_recording()
        await self.source.stop()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    # -- user actions ------------------------------------------------------------------------
    def toggle_set(self) -> bool:
        """Start/end a set at the newest sample; a new set starts a new rep list."""
        now_in_set = self.pipeline.toggle_set()
        if now_in_set:
            self.set_reps = []
        if self.recording and self.sink is not None:
            self.sink.mark_set(now_in_set)
        self.set_changed.emit(now_in_set)
        return now_in_set

    def toggle_recording(self, path: str = "") -> bool:
        """Start/stop sending raw blocks to the injected sink; False when there is none."""
        if self.sink is None:
            self.problem.emit("recording is not available: no session store was given")
            return False
        if self.recording:
            self.sink.stop()
            self.recording = False
        else:
            self.sink.start(path, self.source)
            self.recording = True
        self.recording_changed.emit(self.recording)
        return self.recording

    # -- the poll ------------------------------------------------------------------------------
    def poll(self) -> int:
        """Read the source once and process what came; returns the number of blocks."""
        try:
            blocks = self.source.read()
        except SpinewatchError as exc:
            self.problem.emit(str(exc))
            return 0
        t_in = self._clock()
        for b in blocks:
            if self.recording and self.sink is not None:
                self.sink.write(b)
            self._consume(self.pipeline.push(b), t_in)
        status = self.source.status()
        if status != self.status:
            self.status = status
            self.status_changed.emit(status)
        if not self.done and self.source.finished:
            self.done = True
            self._consume(self.pipeline.flush(), t_in)
            self._timer.stop()
            self.source_finished.emit()
        return len(blocks)

    @property
    def elapsed_s(self) -> float:
        """Source time covered so far, s (0 before data)."""
        last = self.buffer.last()
        return 0.0 if last is None else last[0] - self.t_first

    def now_s(self, max_lead_s: float = 0.05) -> float:
        """The newest angle time, moved on with the wall clock (≤ ``max_lead_s``) for smooth
        scrolling between packets; NaN before data."""
        last = self.buffer.last()
        if last is None:
            return float("nan")
        lead = min(max(self._clock() - self.last_data_wall, 0.0), max_lead_s)
        return last[0] + lead

    def _consume(self, up: LiveUpdate, t_in: float) -> None:
        a = up.angles
        if len(a):
            vals = np.column_stack(
                (
                    a.flexion,
                    a.lateral_flexion,
                    a.rotation,
                    a.thoracic_inclination,
                    a.lumbar_inclination,
                    a.hip_angle,
                    up.under_load.astype(np.float64),
                )
            )
            self.buffer.extend(a.t, vals)
            self.last_data_wall = t_in
            if self.t_first != self.t_first:  # NaN: first data
                self.t_first = float(a.t[0])
        for al in up.raised:
            if not al.is_review:  # a review has ended already: shown, never active
                self.active[(al.plane, al.side)] = al
            self.alerts.append(al)
            self.last_raise_wall = t_in
            self.alert_raised.emit(al)
            self._runner(self._buzz())
        for al in up.ended:
            if not al.is_review:
                self.active.pop((al.plane, al.side), None)
                self.alert_ended.emit(al)
        for rep in up.reps:
            if self.set_reps and rep.start_s - self.set_reps[-1].end_s > 30.0:
                self.set_reps = []  # a long pause: a new set
            self.set_reps.append(rep)
            self.rep_done.emit(rep)

    async def _buzz(self) -> None:
        try:
            await self.source.signal(self.haptic_role, "alert")
        except (SpinewatchError, OSError) as exc:
            self.problem.emit(f"could not buzz the {self.haptic_role} sensor: {exc}")
