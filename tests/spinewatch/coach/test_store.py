"""The progress store: schema version, atomic appends, no NaN in JSON, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from spinewatch.coach.store import CoachError, ProgressStore, SetRecord, coach_dir


def _rec(score: float, drill: str = "plank") -> SetRecord:
    return SetRecord(drill, "2026-01-05T18:00:00+00:00", 1, {"score": score}, True)


def test_append_and_load(tmp_path: Path) -> None:
    st = ProgressStore(tmp_path / "p.jsonl")
    assert st.load() == []
    st.append([_rec(80.0)])
    st.append([_rec(float("nan"), "deadlift")])
    lines = (tmp_path / "p.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["schema_version"] == 1
    assert "NaN" not in lines[2] and json.loads(lines[2])["summary"]["score"] is None
    got = st.load()
    assert [r.drill for r in got] == ["plank", "deadlift"] and got[0].summary["score"] == 80.0
    assert st.passed() == {"plank", "deadlift"}
    assert not list(tmp_path.glob("*.tmp"))


def test_refuses_foreign_and_newer_files(tmp_path: Path) -> None:
    p = tmp_path / "p.jsonl"
    p.write_text('{"kind": "something else"}\n')
    with pytest.raises(CoachError, match="not a spinewatch progress file"):
        ProgressStore(p).append([_rec(1.0)])
    assert p.read_text() == '{"kind": "something else"}\n'  # left as it was
    p.write_text('{"kind": "spinewatch-coach-progress", "schema_version": 9}\n')
    with pytest.raises(CoachError, match="schema version 9"):
        ProgressStore(p).load()
    p.write_text('{"kind": "spinewatch-coach-progress", "schema_version": 1}\n{"drill": 1\n')
    with pytest.raises(CoachError, match="line 2"):
        ProgressStore(p).load()


def test_home_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path))
    assert coach_dir() == tmp_path / "coach"
    assert ProgressStore().path == tmp_path / "coach" / "progress.jsonl"
