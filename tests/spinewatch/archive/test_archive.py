"""``spinewatch archive``: layout, idempotence, changed sessions, interrupted runs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from spinewatch.archive import TABLES
from spinewatch.archive.dataset import MANIFEST, Archive, archive_sessions
from spinewatch.cli import main
from spinewatch.sessions.store import connect, set_meta
from tests.spinewatch.archive.conftest import make_team

ALL = (*TABLES, "raw")


def snapshot(root: Path) -> dict[str, pa.Table]:
    """Every table as the manifest lists it, rows in a canonical order."""
    arc = Archive(str(root))
    m = arc.load_manifest(must_exist=True)
    out = {}
    for t in ALL:
        files = [arc.path(f) for f in arc.current_files(t, m)]
        tab = ds.dataset(files, format="parquet").to_table() if files else pa.table({})
        keys = [c for c in ("session_id", "block", "time_s", "second_s", "rep_index", "set_index",
                            "start_s", "plane", "side") if c in tab.column_names]  # fmt: skip
        out[t] = tab.sort_by([(k, "ascending") for k in keys]) if keys else tab
    return out


def listing(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}


def test_layout_is_hive_partitioned_and_readable_by_glob(team: list[Path], tmp_path: Path) -> None:
    root = tmp_path / "arc"
    rep = archive_sessions(team, str(root), raw=True)
    assert len(rep.added) == 6 and rep.version == 1
    parts = sorted(p.relative_to(root).parts[:3] for p in root.rglob("*.parquet"))
    assert ("table=sessions", "wearer=ana", "date=2026-09-21") in parts
    assert ("table=raw", "wearer=cy", "date=2026-09-23") in parts
    # Only Parquet files under table=…: a plain Hive dataset read sees every session once.
    s = ds.dataset(root / "table=sessions", format="parquet", partitioning="hive").to_table()
    assert sorted(s.column("session_id").to_pylist()) == ["s1", "s2", "s3", "s4", "s5", "s6"]
    assert set(s.column("wearer").to_pylist()) == {"ana", "ben", "cy"}
    part = next((root / "table=sessions").rglob("*.parquet"))
    assert pq.read_metadata(part).metadata[b"spinewatch.archive_schema_version"] == b"1"
    assert snapshot(root)["raw"].num_rows == rep.rows["raw"]


def test_second_run_adds_nothing(team: list[Path], tmp_path: Path) -> None:
    root = tmp_path / "arc"
    first = archive_sessions(team, str(root))
    before = listing(root)
    again = archive_sessions(team, str(root))
    assert (again.added, again.changed, again.unchanged) == ([], [], 6)
    assert again.rows == {} and again.version == first.version
    assert listing(root) == before  # not a single file rewritten, manifest included
    # Even when the files' stamps change (copied elsewhere), the content hash says unchanged.
    moved = []
    for p in team:
        q = tmp_path / "moved" / p.name
        q.parent.mkdir(exist_ok=True)
        shutil.copy(p, q)
        moved.append(q)
    third = archive_sessions(moved, str(root))
    assert (third.added, third.changed, third.unchanged) == ([], [], 6)
    assert {k: v for k, v in listing(root).items() if k != MANIFEST} == {
        k: v for k, v in before.items() if k != MANIFEST
    }


def test_a_changed_session_replaces_its_rows(team: list[Path], tmp_path: Path) -> None:
    root = tmp_path / "arc"
    archive_sessions(team, str(root))
    n_before = snapshot(root)["sessions"].num_rows
    db = connect(team[0])
    set_meta(db, wearer="dora")  # re-assigned to another wearer
    db.close()
    rep = archive_sessions(team, str(root))
    assert rep.changed == ["s1"] and rep.added == []
    snap = snapshot(root)
    assert snap["sessions"].num_rows == n_before
    s = ds.dataset(root / "table=sessions", format="parquet", partitioning="hive").to_table()
    rows = [r for r in s.to_pylist() if r["session_id"] == "s1"]
    assert len(rows) == 1 and rows[0]["wearer"] == "dora"  # old parts were removed


def test_cli_archives_every_session_in_the_home(
    team: list[Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = Path(os.environ["SPINEWATCH_HOME"])
    (home / "sessions").mkdir(parents=True)
    for p in team[:3]:
        shutil.copy(p, home / "sessions" / p.name)
    assert main(["archive"]) == 0
    assert "3 added, 0 changed, 0 unchanged" in capsys.readouterr().out
    assert (home / "archive" / MANIFEST).is_file()
    assert main(["archive", str(team[3]), "--wearer", "eve"]) == 0
    assert "1 added" in capsys.readouterr().out
    assert main(["archive"]) == 0
    assert "0 added, 0 changed, 3 unchanged" in capsys.readouterr().out


class Crash(BaseException):
    pass


@pytest.fixture(scope="module")
def team_ro(bases: list[Path], tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The team's session files, made once for the tests that only read them."""
    return make_team(bases, tmp_path_factory.mktemp("team") / "sessions")


@pytest.fixture(scope="module")
def clean(team_ro: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, pa.Table]:
    """The snapshot of an uninterrupted ``--raw`` archive of ``team_ro`` (made once)."""
    root = tmp_path_factory.mktemp("clean") / "arc"
    archive_sessions(team_ro, str(root), raw=True)
    return snapshot(root)


# 6 parts per session (5 tables + raw), a commit every 2 sessions (after 12 and 24 parts):
# killed in the first session before any commit, in the second session (the first whole and
# uncommitted), and in the fourth (one commit done, the third session whole and uncommitted).
@pytest.mark.parametrize("after_parts", [1, 8, 20])
@pytest.mark.slow
def test_interrupted_run_then_rerun_has_no_duplicate_or_missing_rows(
    team_ro: list[Path],
    clean: dict[str, pa.Table],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    after_parts: int,
) -> None:
    team, want = team_ro, clean
    root = tmp_path / "arc"
    real = Archive.write_part
    count = 0

    def dying(self: Archive, *a: Any, **k: Any) -> str:
        nonlocal count
        count += 1
        if count > after_parts:
            raise Crash  # as a kill: nothing after this point runs
        return real(self, *a, **k)

    monkeypatch.setattr(Archive, "write_part", dying)
    with pytest.raises(Crash):
        archive_sessions(team, str(root), raw=True, commit_every=2)
    monkeypatch.setattr(Archive, "write_part", real)
    if (root / MANIFEST).exists():  # what a reader sees meanwhile: whole sessions, no duplicate
        mid = snapshot(root)
        ids = mid["sessions"].column("session_id").to_pylist()
        assert len(ids) == len(set(ids))
        for t in ALL:
            got = set(mid[t].column("session_id").to_pylist()) if mid[t].num_rows else set()
            assert got <= set(ids)
    archive_sessions(team, str(root), raw=True)
    got = snapshot(root)
    for t in ALL:
        assert got[t].equals(want[t]), t
    assert not list(root.rglob(".*.tmp"))
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*.parquet")}
    assert on_disk == Archive(str(root)).referenced(Archive(str(root)).load_manifest())


@pytest.mark.slow
def test_killed_process_then_rerun(
    team_ro: list[Path], clean: dict[str, pa.Table], tmp_path: Path
) -> None:
    """A real SIGKILL of ``spinewatch archive`` part way, then a re-run."""
    team, want = team_ro, clean
    root = tmp_path / "arc"
    cmd = [
        sys.executable,
        "-m",
        "spinewatch",
        "archive",
        *map(str, team),
        "--to",
        str(root),
        "--raw",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list(root.rglob("part-*.parquet"))) >= 8:
            break
        time.sleep(0.01)
    assert proc.poll() is None, "the archive run ended before it could be killed"
    proc.send_signal(signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    assert not (root / MANIFEST).exists() or snapshot(root)["sessions"].num_rows < len(team)
    archive_sessions(team, str(root), raw=True)
    got = snapshot(root)
    for t in ALL:
        assert got[t].equals(want[t]), t
