"""One sensor's link: connect, configure, stream, and reconnect after a loss (the supervisor).

Every Bluetooth call has a hard timeout, so a dead or absent sensor never hangs anything:
the first connection gives up after ``connect_timeout_s`` with a clear error; after a link
that was streaming is lost, reconnection is retried with a short capped backoff for as long
as the app runs. The state (connecting, streaming, lost, reconnecting, failed, stopped) is
published as :class:`~firmware_bridge.api.LinkStatus` snapshots.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bleak import BleakClient

from firmware_bridge.adapters import Adapter
from firmware_bridge.api import Block, LinkState, LinkStatus


@dataclass(frozen=True)
class LinkSettings:
    """Timeouts and backoff of a sensor link (s)."""

    connect_timeout_s: float = 8.0  # first connection: give up with a clear error after this
    attempt_timeout_s: float = 2.5  # one connection attempt
    gatt_timeout_s: float = 2.0  # one GATT operation (read, write, subscribe)
    backoff_s: tuple[float, ...] = (0.1, 0.25, 0.5, 1.0)  # then stays at the last value


class SensorLink:
    """Supervises one sensor.

    Args:
        role: ``"thoracic"`` / ``"lumbar"`` (or another id).
        address: BLE address.
        adapter: the sensor family's adapter (decoding + timing state).
        client_kwargs: extra ``BleakClient`` arguments (e.g. ``backend=``, ``radio=``).
        settings: timeouts and backoff.
        clock: host clock for arrival times (``time.monotonic``).
    """

    def __init__(
        self,
        role: str,
        address: str,
        adapter: Adapter,
        client_kwargs: dict[str, Any] | None = None,
        settings: LinkSettings | None = None,
        name: str = "",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.role, self.address, self.adapter, self.name = role, address, adapter, name
        self.settings = settings or LinkSettings()
        self._client_kwargs = client_kwargs or {}
        self._clock = clock
        self.state = LinkState.IDLE
        self.message = ""
        self.since = clock()
        self.reconnects = 0
        self.gaps: list[tuple[float, float]] = []  # (link lost, streaming again), host s
        self._queue: list[Block] = []
        self._client: BleakClient | None = None
        self._task: asyncio.Task[None] | None = None
        self._lost = asyncio.Event()
        self._stop = asyncio.Event()
        self._changed = asyncio.Event()
        self.latency_s: deque[float] = deque(maxlen=20000)  # notification → block, s
        self.cpu_s = 0.0  # thread CPU time spent decoding, s

    # -- public API ---------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def wait_streaming(self) -> None:
        """Wait until streaming or failed (failure leaves ``state`` FAILED and a message)."""
        while self.state not in (LinkState.STREAMING, LinkState.FAILED):
            self._changed.clear()
            await self._changed.wait()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._task, self.settings.gatt_timeout_s + 1.0)
            if not self._task.done():
                self._task.cancel()
        await self._close()
        self._set(LinkState.STOPPED, "")

    def drain(self) -> list[Block]:
        out, self._queue = self._queue, []
        return out

    async def signal(self, pattern: str) -> bool:
        cmd = self.adapter.signal_command(pattern)
        if cmd is None or self._client is None or self.state != LinkState.STREAMING:
            return False
        try:
            await asyncio.wait_for(
                self._client.write_gatt_char(cmd[0], cmd[1], response=True),
                self.settings.gatt_timeout_s,
            )
        except Exception:  # a haptic buzz is best effort; the stream goes on
            return False
        return True

    def status(self) -> LinkStatus:
        a = self.adapter
        drift, jitter = a.fit_stats()
        return LinkStatus(
            role=self.role,
            state=self.state,
            address=self.address,
            name=self.name,
            profile=a.profile,
            rate_hz=a.meter.rate_hz,
            received=a.received,
            dropped=a.dropped,
            jitter_ms=jitter,
            drift_ppm=drift,
            battery_pct=a.battery_pct,
            reconnects=self.reconnects,
            message=self.message,
            since_s=self.since,
        )

    # -- internals ----------------------------------------------------------------------
    def _set(self, state: LinkState, message: str) -> None:
        if state != self.state:
            self.since = self._clock()
        self.state, self.message = state, message
        self._changed.set()

    def _on_notify(self, _char: Any, data: bytearray) -> None:
        t_host = self._clock()
        c0 = time.thread_time()
        blk = self.adapter.feed(bytes(data), t_host)
        if blk is not None:
            self._queue.append(blk)
        self.cpu_s += time.thread_time() - c0
        self.latency_s.append(self._clock() - t_host)

    def _on_disconnect(self, _client: Any) -> None:
        self._lost.set()

    async def _close(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.disconnect(), self.settings.gatt_timeout_s)

    async def _connect_once(self, timeout: float) -> None:
        s = self.settings
        self._lost = asyncio.Event()
        client = BleakClient(
            self.address,
            disconnected_callback=self._on_disconnect,
            timeout=timeout,
            **self._client_kwargs,
        )
        self._client = client
        # The backend times the connection out itself (and cancels it cleanly); this outer
        # limit only guards against a backend that never returns.
        await asyncio.wait_for(client.connect(), timeout + 2.0)
        await asyncio.wait_for(
            client.start_notify(self.adapter.data_uuid, self._on_notify), s.gatt_timeout_s
        )
        for uuid in self.adapter.extra_uuids:  # optional: not every firmware has them
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.start_notify(uuid, self._on_notify), s.gatt_timeout_s)
        await asyncio.wait_for(self.adapter.setup(client), 3 * s.gatt_timeout_s)

    async def _sleep_or_stop(self, seconds: float) -> bool:
        """Sleep; True if stop was requested meanwhile."""
        with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)
        return self._stop.is_set()

    async def _run(self) -> None:
        try:
            await self._supervise()
        except Exception as exc:  # never leave a link silently dead
            self._set(LinkState.FAILED, f"{self.role} sensor link failed: {exc}")

    async def _supervise(self) -> None:
        s = self.settings
        first = True
        deadline = self._clock() + s.connect_timeout_s
        attempt = 0
        lost_at = math.nan
        while not self._stop.is_set():
            self._set(LinkState.CONNECTING if first else LinkState.RECONNECTING, "")
            timeout = s.attempt_timeout_s
            if first:  # the first connection must succeed or fail within connect_timeout_s
                timeout = max(0.2, min(timeout, deadline - self._clock()))
            try:
                try:
                    await self._connect_once(timeout)
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise  # we are being cancelled
                    # bumble cancels pending GATT requests when the peer drops the link.
                    msg = "the sensor dropped the connection during setup"
                    raise ConnectionError(msg) from None
            except Exception as exc:
                await self._close()
                reason = str(exc) or type(exc).__name__
                if first and self._clock() + s.backoff_s[0] >= deadline:
                    self._set(
                        LinkState.FAILED,
                        f"{self.role} sensor {self.address} did not connect within "
                        f"{s.connect_timeout_s:g} s ({reason}); is it switched on, charged "
                        "and in range?",
                    )
                    return
                self.message = f"retrying: {reason}"
                wait = s.backoff_s[min(attempt, len(s.backoff_s) - 1)]
                if first:
                    wait = min(wait, max(0.0, deadline - self._clock() - 0.2))
                attempt += 1
                if await self._sleep_or_stop(wait):
                    break
                continue
            if not first:
                self.reconnects += 1
                self.gaps.append((lost_at, self._clock()))
            first, attempt = False, 0
            self._set(LinkState.STREAMING, "")
            stop_task = asyncio.ensure_future(self._stop.wait())
            lost_task = asyncio.ensure_future(self._lost.wait())
            await asyncio.wait({stop_task, lost_task}, return_when=asyncio.FIRST_COMPLETED)
            stop_task.cancel()
            lost_task.cancel()
            if self._stop.is_set():
                break
            lost_at = self._clock()
            self._set(LinkState.LOST, "link lost; reconnecting")
            await self._close()
            if await self._sleep_or_stop(s.backoff_s[0]):
                break
