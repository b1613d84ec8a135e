"""``spinewatch train`` and ``spinewatch progress`` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from spinewatch.cli import main


def test_train_help_lists_the_drills(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    for name in ("cat-cow", "dowel-hinge-kneeling", "kettlebell-swing", "pallof-press", "deadlift"):
        assert name in out


def test_help_list_is_the_programme():
    from posture.drills import DRILLS, PROGRAM
    from spinewatch.commands.train import DRILL_LIST

    assert [(n, DRILLS[n].stage, DRILLS[n].title) for n in PROGRAM] == list(DRILL_LIST)


def test_train_simulate_one_drill_then_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path))
    assert main(["train", "--simulate", "--drill", "glute-bridge", "--seed", "4"]) == 0
    out = capsys.readouterr().out
    assert "Glute bridge passed" in out and "simulated clock" in out
    assert main(["progress", "--html", str(tmp_path / "p.html")]) == 0
    out = capsys.readouterr().out
    assert "Glute" in out and (tmp_path / "p.html").exists()
    assert main(["progress", "--html", str(tmp_path / "p.html")]) == 2  # no silent overwrite


def test_user_mistakes_are_one_line_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path))
    assert main(["train"]) == 2
    assert "calibration profile" in capsys.readouterr().err
    assert main(["progress", "--drill", "burpee"]) == 2
    assert main(["train", "--simulate", "--drill", "burpee"]) == 2
    assert "choose one of" in capsys.readouterr().err
    assert main(["progress"]) == 0
    assert "no drill results" in capsys.readouterr().out


def test_train_records_a_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from spinewatch.coach.store import ProgressStore
    from spinewatch.sessions import SessionFile, sessions_dir

    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path))
    args = ["train", "--simulate", "--drill", "side-plank-right", "--seed", "3", "--record", "s1"]
    assert main(args) == 0
    path = sessions_dir() / "s1.sqlite"
    assert path.exists() and "Session recorded" in capsys.readouterr().out
    with SessionFile(path) as sf:
        notes = [m.text for m in sf.markers() if m.kind == "note"]
        kinds = [m.kind for m in sf.markers()]
        assert sf.summary().status.value == "complete"
    assert [n.split(":")[1] for n in notes] == [
        " side-plank-right set 1",
        " side-plank-right set 2",
    ]
    assert kinds.count("set_start") == 2 and kinds.count("set_end") == 2
    assert {r.session for r in ProgressStore().load()} == {"s1"}
    assert main(args) == 2  # never overwrites a session
