"""The session commands end to end through ``spinewatch.cli.main``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from posture.rawcsv import read_raw_csv
from spinewatch.cli import main
from spinewatch.sessions import SessionFile, SessionStatus, sessions_dir


def test_record_list_show_replay_export_delete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["record", "--simulate", "--seconds", "8", "--speed", "0", "--quiet", "-o", "mon"]
    assert main(args) == 0
    assert "complete: 8.0 s" in capsys.readouterr().out
    assert (sessions_dir() / "mon.sqlite").is_file()
    assert main(["sessions", "list"]) == 0
    out = capsys.readouterr().out
    assert "mon" in out and "complete" in out
    assert main(["sessions", "show", "mon"]) == 0
    shown = capsys.readouterr().out
    assert main(["replay", "mon", "--speed", "0", "--quiet"]) == 0
    assert "identical to the live recording" in capsys.readouterr().out
    assert main(["export", "mon", "--format", "csv", "-o", str(tmp_path / "raw.csv")]) == 0
    n = len(read_raw_csv(tmp_path / "raw.csv")["lumbar"])
    assert "lumbar samples" in shown and f"{n} (0 dropped)" in shown
    assert main(["sessions", "delete", "mon"]) == 0
    assert not (sessions_dir() / "mon.sqlite").exists()


def test_user_errors_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["record", "--seconds", "1", "-o", "x"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--simulate" in err
    assert main(["sessions", "show", "nothing"]) == 2
    assert "no session named 'nothing'" in capsys.readouterr().err
    assert main(["report", "nothing", "-o", "r.html"]) == 2


def _record_cmd(path: Path, profile: Path) -> list[str]:
    """``record --simulate`` in a child process, for tests that stop it from outside (with the
    simulated wearer's profile already made: the child need not calibrate it first)."""
    return [
        sys.executable,
        "-m",
        "spinewatch.cli",
        "record",
        "--simulate",
        "--quiet",
        "--seconds",  # longer than the test runs; simulating the default 600 s costs seconds
        "60",
        "-o",
        str(path),
        "--profile",
        str(profile),
    ]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.realtime
@pytest.mark.timeout(600)
@pytest.mark.slow
def test_ctrl_c_and_sigterm_close_the_session_cleanly(
    tmp_path: Path, sig: int, profile7_json: Path
) -> None:
    path = tmp_path / "stop.sqlite"
    env = {**os.environ, "SPINEWATCH_HOME": str(tmp_path)}
    cmd = _record_cmd(path, profile7_json)
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    assert "recording to" in proc.stdout.readline()
    # Data is flowing (on a busy machine connecting can take a while) before the signal.
    assert proc.stdout.readline().startswith("streaming: stream time ")
    import time

    time.sleep(1.5)
    proc.send_signal(sig)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0
    assert out.splitlines()[-1].startswith("complete:")
    with SessionFile(path) as sf:
        assert sf.status is SessionStatus.COMPLETE
        assert 0.5 < sf.summary().duration_s < 30
    assert not Path(f"{path}-wal").exists()


@pytest.mark.realtime
@pytest.mark.timeout(600)
def test_terminal_enter_marks_sets_and_saves_notes(tmp_path: Path, profile7_json: Path) -> None:
    import pty
    import time

    path = tmp_path / "marks.sqlite"
    env = {**os.environ, "SPINEWATCH_HOME": str(tmp_path)}
    cmd = _record_cmd(path, profile7_json)
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, stdin=slave, stdout=subprocess.PIPE, text=True, env=env)
    os.close(slave)
    assert proc.stdout is not None
    assert "recording to" in proc.stdout.readline()
    assert "Enter: start/end a set" in proc.stdout.readline()
    assert proc.stdout.readline().startswith("streaming: ")
    for keys, reply in (
        (b"\n", "set started"),
        (b"grip slipping\n", "note saved"),
        (b"\n", "set ended"),
    ):
        os.write(master, keys)
        assert proc.stdout.readline().strip() == reply
        time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    proc.communicate(timeout=60)
    os.close(master)
    with SessionFile(path) as sf:
        marks = sf.markers()
    assert [m.kind for m in marks] == ["set_start", "note", "set_end"]
    assert marks[1].text == "grip slipping"
    assert marks[0].t_s is not None and marks[2].t_s is not None and marks[0].t_s < marks[2].t_s
