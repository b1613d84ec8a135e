"""Issue 17 item 8: damaged sessions give one line per command; two writers, one winner."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from spinewatch.cli import main
from spinewatch.sessions import SessionFile
from spinewatch.sessions.store import SessionError
from spinewatch.sessions.writer import SessionWriter

from .conftest import RunCli, tamper

DAMAGE = {
    "bad_meta_json": ["UPDATE meta SET value = '{not json' WHERE key = 'source'"],
    "unknown_status": ["""UPDATE meta SET value = '"exploded"' WHERE key = 'status'"""],
    "meta_of_wrong_type": ["""UPDATE meta SET value = '"fast"' WHERE key = 'rates_hz'"""],
    # Each storage form: one float64 row per block (schema <= 3), compact batches (schema 4).
    "blob_of_wrong_length": [
        "UPDATE raw_blocks SET t = substr(t, 1, 40) WHERE ord = 3",
        "UPDATE raw_batches SET data = substr(data, 1, 40) WHERE id = 2",
    ],
    "angle_blob_cut": [
        "UPDATE angle_blocks SET data = substr(data, 1, 100)",
        "UPDATE angle_batches SET data = substr(data, 1, 100)",
    ],
    "missing_table": ["DROP TABLE reps"],
    "markup_role": [
        "UPDATE raw_blocks SET role = '<script>alert(1)</script>' WHERE ord = 2",
        "UPDATE raw_batches SET role = '<script>alert(1)</script>' WHERE id = 2",
    ],
    "alert_row_not_a_record": ["""UPDATE alerts SET data = '{"peak": "x"}'"""],
    "rep_json_garbage": ["UPDATE reps SET data = '[1, 2'"],
}

COMMANDS = {
    "show": lambda p, o: ["sessions", "show", p],
    "report": lambda p, o: ["report", p, "-o", f"{o}/r.html"],
    "export_csv": lambda p, o: ["export", p, "--format", "csv", "-o", f"{o}/x.csv"],
    "export_events": lambda p, o: ["export", p, "--format", "events", "-o", f"{o}/e.csv"],
    "export_parquet": lambda p, o: ["export", p, "--format", "parquet", "-o", f"{o}/pq"],
    "replay": lambda p, o: ["replay", p, "--speed", "0", "--quiet"],
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_session_gives_one_line_and_stays_untouched(
    tmp_path: Path, session: Path, cli: RunCli, damage: str
) -> None:
    tamper(session, *DAMAGE[damage])
    out = tmp_path / "out"
    out.mkdir()
    before = session.read_bytes()
    failed = 0
    for name, argv in COMMANDS.items():
        code, err = cli(*argv(str(session), str(out)))
        failed += code != 0
        if code:
            assert code == 2, name
            assert "damaged" in err or "session" in err
    assert session.read_bytes() == before
    # the damage must be noticed by the commands that read the damaged part
    assert failed >= 1
    # and no output is left behind by a command that failed
    for f in out.rglob("*.part*"):
        pytest.fail(f"temporary output left: {f}")


@pytest.mark.parametrize(
    "damage", ["bad_meta_json", "unknown_status", "missing_table", "meta_of_wrong_type"]
)
def test_sessions_list_still_lists_every_other_session(
    tmp_path: Path, session: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    home = tmp_path / "home" / "sessions"
    home.mkdir(parents=True)
    good = home / "good.sqlite"
    good.write_bytes(session.read_bytes())
    (home / "another.sqlite").write_bytes(session.read_bytes())
    tamper(session, *DAMAGE[damage]).rename(home / "broken.sqlite")
    assert main(["sessions", "list"]) == 0
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    text = out.out
    assert "good" in text and "another" in text and "broken" in text
    assert "damaged" in text
    assert text.count("complete") == 2


def test_gui_replay_of_a_damaged_session_is_one_line(
    tmp_path: Path, session: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("PySide6")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    tamper(session, *DAMAGE["blob_of_wrong_length"])
    code, err = cli("gui", "--replay", session)
    assert code == 2


def test_two_writers_racing_for_one_path_one_wins(tmp_path: Path) -> None:
    for trial in range(8):
        path = tmp_path / f"race{trial}.sqlite"
        barrier = threading.Barrier(2)
        results: dict[str, object] = {}

        def open_writer(
            who: str,
            path: Path = path,
            barrier: threading.Barrier = barrier,
            results: dict[str, object] = results,
        ) -> None:
            barrier.wait()
            try:
                w = SessionWriter(path, {"source": who})
            except SessionError as exc:
                results[who] = exc
            else:
                w.close()
                results[who] = "won"

        threads = [threading.Thread(target=open_writer, args=(w,)) for w in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        winners = [w for w, r in results.items() if r == "won"]
        assert len(winners) == 1, results
        loser = ({"a", "b"} - set(winners)).pop()
        assert "already exists" in str(results[loser])
        with SessionFile(path) as sf:
            assert sf.meta["source"] == winners[0]  # the loser wrote nothing
