"""Progress bars: drawn on a terminal only, and fed by every long command."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from spinewatch import progress as P
from spinewatch.cli import main


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_when_not_a_terminal_or_quiet() -> None:
    for stream, quiet in ((io.StringIO(), False), (FakeTty(), True)):
        with P.progress("work", 10.0, stream=stream, quiet=quiet) as up:
            for k in range(11):
                up(k)
        assert stream.getvalue() == ""
    assert not P.shows_bar(False, io.StringIO())
    assert P.shows_bar(False, FakeTty())


def test_draws_on_a_terminal() -> None:
    tty = FakeTty()
    with P.progress("work", 10.0, unit="samples", stream=tty) as up:
        for k in range(11):
            up(k, description="working")
    assert tty.getvalue() != ""  # rich drew (and, transient, cleared) a bar


class Spy:
    """Stands in for :func:`spinewatch.progress.progress` and keeps every update."""

    def __init__(self) -> None:
        self.bars: list[tuple[str, float, bool, list[float]]] = []

    @contextlib.contextmanager
    def __call__(self, description: str, total: float, **kw: object) -> Iterator[P.Update]:
        done: list[float] = []
        self.bars.append((description, total, bool(kw.get("quiet")), done))

        def update(d: float, description: str | None = None) -> None:
            done.append(float(d))

        yield update


@pytest.fixture()
def spy(monkeypatch: pytest.MonkeyPatch) -> Spy:
    s = Spy()
    monkeypatch.setattr(P, "progress", s)
    return s


def test_track_session_reports_stream_time_read(recorded: dict[str, Any]) -> None:
    from spinewatch.sessions import SessionFile

    seen: list[float] = []
    with SessionFile(recorded["path"]) as sf:
        P.track_session(sf, seen.append)
        dur = sf.summary().duration_s
        sum(len(b) for _, b in sf.iter_blocks())
    assert seen == sorted(seen) and 0 <= seen[0] and seen[-1] == pytest.approx(dur, abs=0.05)


@pytest.mark.slow
def test_long_commands_feed_their_bars(
    recorded: dict[str, Any], tmp_path: Path, spy: Spy, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(recorded["path"])
    assert main(["export", path, "--format", "csv", "-o", str(tmp_path / "raw.csv")]) == 0
    assert main(["export", path, "--format", "angles", "-o", str(tmp_path / "a.csv")]) == 0
    assert main(["report", path, "-o", str(tmp_path / "r.html"), "--quiet"]) == 0
    assert main(["replay", path, "--speed", "0", "--quiet"]) == 0
    assert main(["analyze", str(tmp_path / "raw.csv"), "-o", str(tmp_path / "b.csv")]) == 0
    names = [b[0] for b in spy.bars]
    assert names == ["export csv", "export angles", "report", "replay", "analyze"]
    for name, total, _quiet, done in spy.bars:
        assert total > 0 and done, name
        assert done[-1] == pytest.approx(total, rel=0.02), name  # reached the end
    assert [b[2] for b in spy.bars] == [False, False, True, True, False]


def test_record_flat_out_feeds_its_bar(tmp_path: Path, spy: Spy) -> None:
    out = str(tmp_path / "r.sqlite")
    assert main(["record", "--simulate", "--seconds", "4", "--speed", "0", "-o", out]) == 0
    (name, total, quiet, done) = spy.bars[0]
    assert (name, total, quiet) == ("record", 4.0, False)
    assert done == sorted(done) and done[-1] >= 3.95  # (the bar clamps at its total)
