"""Issue 17 item 1: opening a file to read never writes to it; foreign files are refused."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from spinewatch.sessions import SessionFile
from spinewatch.sessions.store import SessionError, SessionStatus

from .conftest import RunCli, snapshot

READERS = [
    ("sessions", "show"),
    ("report", "-o", "{out}/r.html"),
    ("replay", "--speed", "0", "--quiet"),
    ("export", "--format", "csv", "-o", "{out}/x.csv"),
]


def _argv(cmd: tuple[str, ...], path: Path, out: Path) -> list[str]:
    head, *rest = cmd
    if head == "sessions":
        return ["sessions", rest[0], str(path)]
    return [head, str(path), *(a.format(out=out) for a in rest)]


def _foreign_sqlite(p: Path, *, app_id: int = 0, version: int = 0, wal: bool = False) -> Path:
    db = sqlite3.connect(p, isolation_level=None)
    if wal:
        db.execute("PRAGMA journal_mode = WAL")
    db.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
    db.execute("INSERT INTO contacts VALUES ('Ada', '123')")
    db.execute(f"PRAGMA application_id = {app_id}")
    db.execute(f"PRAGMA user_version = {version}")
    db.close()
    return p


FOREIGN = {
    "other_apps_sqlite": lambda p: _foreign_sqlite(p),
    "other_apps_sqlite_with_app_id": lambda p: _foreign_sqlite(p, app_id=0x0F0F0F0F),
    "other_apps_sqlite_with_user_version": lambda p: _foreign_sqlite(p, version=3),
    "other_apps_wal_sqlite": lambda p: _foreign_sqlite(p, wal=True),
    "empty_file": lambda p: p.write_bytes(b"") and p,
    "text_file": lambda p: p.write_text("time_s,sensor\n1,lumbar\n") and p,
    "sqlite_magic_then_garbage": lambda p: p.write_bytes(b"SQLite format 3\0" + b"\x07" * 500),
}


@pytest.mark.parametrize("kind", sorted(FOREIGN))
@pytest.mark.parametrize("cmd", READERS, ids=lambda c: c[0] if c[0] != "sessions" else "show")
def test_a_foreign_file_is_refused_untouched(
    tmp_path: Path, cli: RunCli, kind: str, cmd: tuple[str, ...]
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    p = folder / "f.sqlite"
    FOREIGN[kind](p)
    before = snapshot(folder)
    code, err = cli(*_argv(cmd, p, out))
    assert code == 2
    assert "session" in err
    assert snapshot(folder) == before  # byte-identical, and no -wal/-shm/-journal created
    assert not any(out.iterdir())


def test_a_foreign_file_in_the_sessions_folder_is_listed_as_damaged(
    tmp_path: Path, cli: RunCli, session: Path
) -> None:
    home = tmp_path / "home" / "sessions"
    home.mkdir(parents=True)
    session.rename(home / "good.sqlite")
    _foreign_sqlite(home / "contacts.sqlite")
    (home / "empty.sqlite").write_bytes(b"")
    before = snapshot(home)
    code, _ = cli("sessions", "list", ok=True)
    assert snapshot(home) == before


def test_a_crashed_recording_reads_as_interrupted_without_writing(tmp_path: Path) -> None:
    """A writer killed mid-recording: the file (and its WAL) are read, never modified."""
    p = tmp_path / "crash.sqlite"
    code = f"""
import os, numpy as np
from posture.records import ImuBlock
from spinewatch.sessions.writer import SessionWriter
w = SessionWriter({str(p)!r}, {{"source": "test"}}, commit_interval_s=0.01)
t = np.arange(50) / 50.0
z = np.zeros((50, 3))
w.block(ImuBlock("lumbar", t, z, z, None, np.arange(50)))
w.block(ImuBlock("thoracic", t, z, z, None, np.arange(50)))
import time
while w.blocks_queued and w.backlog: time.sleep(0.01)
time.sleep(0.3)
os._exit(0)  # no close: a crash
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert Path(f"{p}-wal").exists()
    before = snapshot(tmp_path)
    with SessionFile(p) as sf:
        assert sf.status is SessionStatus.INTERRUPTED
        assert sum(sf.summary().samples.values()) == 100
    after = snapshot(tmp_path)
    # The database and its WAL are untouched; only SQLite's shared-memory index (-shm, no
    # data: rebuilt from the WAL by any reader) may change.
    for f in ("crash.sqlite", "crash.sqlite-wal"):
        assert after[f] == before[f]


def test_a_session_file_on_a_read_only_copy_opens(tmp_path: Path, session: Path) -> None:
    os.chmod(session, 0o444)
    with SessionFile(session) as sf:
        assert sf.status is SessionStatus.COMPLETE


def test_a_pipe_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "p.sqlite"
    os.mkfifo(fifo)
    with pytest.raises(SessionError, match="not a regular file|no such session"):
        SessionFile(fifo)
