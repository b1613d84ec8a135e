"""posture.forked: a function run in a forked child gives its result or its exception."""

from __future__ import annotations

import os

import numpy as np
import pytest

from posture.forked import Forked


def test_result_comes_back_from_the_child():
    x = np.arange(10_000, dtype=np.float64)
    with Forked(lambda: (os.getpid(), np.cumsum(x))) as job:
        pid, out = job.result()
    np.testing.assert_array_equal(out, np.cumsum(x))
    if hasattr(os, "fork"):
        assert pid != os.getpid()  # really ran elsewhere


def test_exception_in_the_child_is_raised_in_the_parent():
    def boom() -> None:
        raise ValueError("bad sample")

    with Forked(boom) as job, pytest.raises(ValueError, match="bad sample"):
        job.result()


def test_child_dying_without_a_result_falls_back_to_running_here():

    def work() -> int:
        if os.getpid() != parent:
            os._exit(3)  # the child dies without writing anything
        return 42

    parent = os.getpid()
    with Forked(work) as job:
        assert job.result() == 42


def test_child_dying_half_way_through_its_result_falls_back_to_running_here(monkeypatch):
    from posture import forked

    # The child announces 100 bytes of pickle and sends three, as if killed while writing.
    monkeypatch.setattr(forked, "_dumps", lambda obj: [forked._HEAD.pack(100, 0), b"abc"])
    with Forked(lambda: np.arange(5.0)) as job:
        np.testing.assert_array_equal(job.result(), np.arange(5.0))


def test_arrays_come_back_whole_and_writable():
    x = np.arange(50_000.0).reshape(-1, 2)
    with Forked(lambda: {"a": x * 2, "b": x[:, 0] > 10, "strided": x[::3, 1]}) as job:
        out = job.result()
    np.testing.assert_array_equal(out["a"], x * 2)
    np.testing.assert_array_equal(out["b"], x[:, 0] > 10)
    np.testing.assert_array_equal(out["strided"], x[::3, 1])
    out["a"][0, 0] = -1.0  # the parent owns its copy


def test_an_uncollected_child_is_reaped():
    with Forked(lambda: sum(range(10))) as job:
        pid = job._pid
    if pid:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_a_signal_during_the_fork_arrives_after_it_not_inside_it(monkeypatch, signame):
    """SIGTERM or Ctrl-C landing while Python runs its at-fork hooks used to be printed as an
    ignored exception with a traceback (and lost); now it waits for the fork and then arrives
    once, to the handler that was there, whichever thread the kernel gave it to."""
    import signal

    sig = getattr(signal, signame)
    seen: list[str] = []
    real_fork = os.fork

    def on_signal(signum: int, frame: object) -> None:
        seen.append("delivered")

    def fork_with_a_signal() -> int:
        os.kill(os.getpid(), sig)  # arrives "during" the fork
        os.kill(os.getpid(), sig)  # twice: still one delivery (as a pending signal would be)
        seen.append("deferred" if signal.getsignal(sig) is not on_signal else "open")
        return real_fork()

    prev = signal.signal(sig, on_signal)
    try:
        monkeypatch.setattr(os, "fork", fork_with_a_signal)
        with Forked(lambda: 7) as job:
            assert job.result() == 7
        assert seen == ["deferred", "delivered"]
        assert signal.getsignal(sig) is on_signal  # the handler is back
    finally:
        signal.signal(sig, prev)


@pytest.mark.parametrize("thread", [True, False])
def test_threaded_gives_the_result_or_raises_what_it_raised(thread):
    from posture.forked import Threaded

    x = np.arange(1000.0)
    assert Threaded(lambda: float(np.sum(x)), thread).result() == float(np.sum(x))

    def boom() -> None:
        raise ValueError("bad sample")

    job = Threaded(boom, thread)
    with pytest.raises(ValueError, match="bad sample"):
        job.result()


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc to see zombies")
def test_a_collected_child_is_reaped_without_waiting_for_it():
    """result() returns as soon as the result is in; a thread reaps the exiting child."""
    import time

    with Forked(os.getpid) as job:
        pid = job.result()
    assert pid != os.getpid()
    deadline = time.monotonic() + 30.0  # (a bound for a loaded machine, not a timing)
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not os.path.exists(f"/proc/{pid}")  # no zombie left
