"""Run a function in a forked child process and collect its result later (POSIX fork); or,
for numpy work that lets go of the GIL, on a second thread (:class:`Threaded`).

Batch analysis is bound by work that holds the GIL (VQF's offline fusion), so threads do not
overlap it; a forked child does, on a second core, and shares the parent's memory copy-on-write:
the inputs are never copied or pickled, only the result travels back through a pipe. It is
pickled with protocol 5's out-of-band buffers: arrays go through the pipe as their raw bytes,
read straight into the buffers the parent's arrays then use (one copy instead of four; several
MB per sensor of a long recording).
``concurrent.futures.ProcessPoolExecutor`` does the same with a fork context but costs ~40 ms
more per call here (importing multiprocessing, pickling the inputs, a manager thread), which is
most of what one sensor's fusion takes.

Where ``os.fork`` is missing (Windows) or refused, the function runs in-process when its result
is asked for: the same numbers either way, only later. A child that dies without a result (killed,
out of memory) is also replaced by an in-process run; an exception raised in the child is raised
again in the parent.
"""

from __future__ import annotations

import io
import os
import pickle
import signal
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar, cast

T = TypeVar("T")
_UNSET = object()
_DEFERRED = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block is left, then arrive as usual (once each).

    A handler that raises (KeyboardInterrupt, the CLI's SIGTERM) while Python runs its at-fork
    hooks (logging's lock release) is printed as "Exception ignored" with a traceback, and the
    signal is lost. Blocking the signal in this thread would not do: another thread (pyarrow's
    pool) may take a process-directed signal. The Python-level handlers always run in the main
    thread, so they are swapped for a recorder instead (main thread only; elsewhere as is).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    prev = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in _DEFERRED}
    try:
        yield
    finally:
        for s, handler in prev.items():  # (None: a handler not set from Python)
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)


_HEAD = struct.Struct("<QQ")  # pickle length, number of out-of-band buffers


def _dumps(obj: object) -> list[bytes | memoryview]:
    """``obj`` as the parts to send: lengths, the pickle, then each buffer's raw bytes."""
    buffers: list[pickle.PickleBuffer] = []
    data = pickle.dumps(obj, protocol=5, buffer_callback=buffers.append)
    raw = [b.raw() for b in buffers]
    sizes = struct.pack(f"<{len(raw)}Q", *(r.nbytes for r in raw))
    return [_HEAD.pack(len(data), len(raw)), sizes, data, *raw]


def _loads(fh: io.RawIOBase) -> tuple[bool, object] | None:
    """What :func:`_dumps` sent, each buffer read straight into its final place; ``None``
    when the stream ends early or does not unpickle (the child died)."""

    def read(n: int) -> bytearray | None:
        buf = bytearray(n)
        view, at = memoryview(buf), 0
        while at < n:
            k = fh.readinto(view[at:])
            if not k:
                return None
            at += k
        return buf

    try:
        head = read(_HEAD.size)
        if head is None:
            return None
        n_data, n_buf = _HEAD.unpack(head)
        sizes = read(8 * n_buf)
        data = read(n_data)
        if sizes is None or data is None:
            return None
        buffers = [read(n) for n in struct.unpack(f"<{n_buf}Q", sizes)]
        if any(b is None for b in buffers):
            return None
        return cast(tuple[bool, object], pickle.loads(data, buffers=buffers))
    except Exception:  # noqa: BLE001 - a damaged stream: the child died mid-way
        return None


def _reap(pid: int) -> None:
    """Wait for the child ``pid`` to end (a thread's work: nobody waits for it)."""
    try:
        os.waitpid(pid, 0)
    except OSError:
        pass


def _bigger_pipe(fd: int) -> None:
    """Fewer, larger transfers through the pipe (Linux: up to 1 MiB); elsewhere as is."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
    except (ImportError, AttributeError, OSError):
        pass


class Forked(Generic[T]):
    """``fn()`` started in a forked child; :meth:`result` waits for it. Use as a context
    manager (or call :meth:`close`) so an abandoned child is killed and reaped."""

    def __init__(self, fn: Callable[[], T]) -> None:
        self._fn = fn
        self._pid = 0
        self._fd = -1
        self._value: object = _UNSET
        if not hasattr(os, "fork") or sys.platform == "darwin":
            return  # macOS: fork is unsafe with system frameworks loaded; run in-process
        r, w = os.pipe()
        with _signals_deferred():
            try:
                pid = os.fork()
            except OSError:
                os.close(r)
                os.close(w)
                return
            if pid == 0:  # child: never returns to the caller's code
                # The parent decides on Ctrl-C (it kills the child in close()); SIGTERM kills.
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                os.close(r)
                self._child(w)
            os.close(w)
            self._pid, self._fd = pid, r  # tracked before a deferred signal is raised

    def _child(self, fd: int) -> None:
        code = 0
        try:
            _bigger_pipe(fd)
            try:
                parts = _dumps((True, self._fn()))
            except BaseException as exc:  # noqa: BLE001 - handed to the parent as is
                parts = _dumps((False, exc))
            for part in parts:
                view = memoryview(part).cast("B")
                while view:
                    view = view[os.write(fd, view) :]
        except BaseException:  # noqa: BLE001 - the parent then runs fn itself
            code = 1
        finally:
            os._exit(code)  # no atexit handlers, no flushing of the parent's buffers

    def result(self) -> T:
        """The function's return value (raises what it raised)."""
        if self._value is _UNSET:
            self._value = self._collect()
        return cast(T, self._value)

    def _collect(self) -> T:
        if self._pid == 0:
            return self._fn()
        with os.fdopen(self._fd, "rb", buffering=0) as fh:
            self._fd = -1
            got = _loads(fh)
        if got is None:  # (dead or dying)
            os.waitpid(self._pid, 0)
        elif os.waitpid(self._pid, os.WNOHANG)[0] == 0:
            # The result is in, the child still exiting (unmapping its memory takes ~2–4 ms of
            # a 10-min recording's analysis): a thread reaps it instead of this one waiting.
            threading.Thread(target=_reap, args=(self._pid,), name="reap", daemon=True).start()
        self._pid = 0
        if got is None:  # no (complete) result: the child died
            return self._fn()
        ok, value = got
        if not ok:
            raise cast(BaseException, value)
        return cast(T, value)

    def close(self) -> None:
        """Kill and reap the child if its result was never collected."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        if self._pid:
            try:
                os.kill(self._pid, signal.SIGKILL)
                os.waitpid(self._pid, 0)
            except OSError:
                pass
            self._pid = 0

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Threaded(Generic[T]):
    """``fn()`` started on a second thread; :meth:`result` waits for it (raises what it
    raised). For numpy work, which lets go of the GIL in its loops: next to other work of
    the calling thread it uses a second core without a fork (whole-recording array steps of
    batch analysis once the forked children are done). ``thread=False``: ``fn`` runs when its
    result is asked for (the same numbers)."""

    def __init__(self, fn: Callable[[], T], thread: bool = True) -> None:
        self._fn = fn
        self._value: object = _UNSET
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None
        if thread:
            self._thread = threading.Thread(target=self._run, name="posture-threaded", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._fn()
        except BaseException as exc:  # noqa: BLE001 - raised again by result()
            self._error = exc

    def result(self) -> T:
        """The function's return value (raises what it raised)."""
        if self._thread is None:
            return self._fn()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return cast(T, self._value)
