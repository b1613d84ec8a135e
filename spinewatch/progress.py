"""Progress bars for long commands: on a terminal only, quiet when piped or with ``--quiet``.

``analyze``, ``export``, ``report``, ``replay`` and ``record --speed 0`` can run for minutes on
a long session. Each opens one :func:`progress` and calls the function it yields with how far
it has got; a bar with the rate and the time left is drawn on stderr when stderr is a terminal
and the user did not ask for quiet. rich is imported only when a bar is actually drawn, so a
piped or quiet run (and every test) pays nothing for it.

:func:`track_session` reports how far the reading of a session has got (stream time), for
work that reads a session from start to end (exports, the report).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from spinewatch.sessions.reader import SessionFile

Update = Callable[..., None]  # update(done, description=None)


def add_quiet_option(p: argparse.ArgumentParser) -> None:
    """``--quiet``: no progress bar (for commands that have no ``--quiet`` of their own)."""
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def shows_bar(quiet: bool = False, stream: IO[str] | None = None) -> bool:
    """A bar is drawn only on a terminal and when not quiet."""
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    return not quiet and isatty is not None and bool(isatty())


def _noop(done: float, description: str | None = None) -> None:
    return None


@contextlib.contextmanager
def progress(
    description: str,
    total: float,
    *,
    unit: str = "s",
    quiet: bool = False,
    stream: IO[str] | None = None,
) -> Iterator[Update]:
    """A progress bar for ``total`` units of work; yields ``update(done, description=None)``.

    Args:
        description: what is being done (shown left of the bar).
        total: the amount of work, in ``unit`` (e.g. seconds of recording, samples).
        unit: ``"s"`` (seconds of recording: the rate is shown as × real time) or a name
            such as ``"samples"`` (shown as samples/s).
        quiet: never draw (``--quiet``).
        stream: where to draw (default stderr); nothing is drawn unless it is a terminal.
    """
    if not shows_bar(quiet, stream) or not total > 0:
        yield _noop
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            speed = task.speed
            if speed is None:
                return Text("", style="progress.data.speed")
            rate = f"{speed:,.0f}× real time" if unit == "s" else f"{speed:,.0f} {unit}/s"
            return Text(rate, style="progress.data.speed")

    console = Console(file=sys.stderr if stream is None else stream)
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        TextColumn("left"),
        console=console,
        transient=True,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def update(done: float, description: str | None = None) -> None:
            kw: dict[str, Any] = {"completed": min(max(float(done), 0.0), total)}
            if description is not None:
                kw["description"] = description
            bar.update(task, **kw)

        yield update


def track_session(sf: SessionFile, update: Update) -> None:
    """Call ``update(stream seconds read)`` as ``sf``'s blocks and angles are read.

    Wraps the session's two readers (:meth:`iter_blocks`, :meth:`iter_angles`) on this open
    session only; every pass over the data starts again from 0.
    """
    t0 = sf.summary().t0

    def wrap(name: str) -> None:
        inner = getattr(sf, name)

        def tracked(*args: Any, **kwargs: Any) -> Iterator[Any]:
            for item in inner(*args, **kwargs):
                blk = item[1] if name == "iter_blocks" else item[0]
                if len(blk):
                    update(float(blk.t[-1]) - t0)
                yield item

        setattr(sf, name, tracked)

    wrap("iter_blocks")
    wrap("iter_angles")
