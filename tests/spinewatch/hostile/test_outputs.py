"""Issue 17 items 3 and 5, issue 12 item 1: outputs are checked first, written atomically,
never over an input, never over an existing file without --force; events JSON has no NaN."""

from __future__ import annotations

import io
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest

from posture.rawcsv import PathLike
from posture.records import ImuBlock
from posture.reps import RepMetrics
from spinewatch.cli import main

from .conftest import RunCli, snapshot


@pytest.fixture(scope="module")
def raw_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("raw") / "stand.csv"
    assert main(["simulate", "standing", "--rate", "50", "--duration", "20", "-o", str(p)]) == 0
    return p


@pytest.fixture
def work(tmp_path: Path, raw_csv: Path) -> Path:
    (tmp_path / "in.csv").write_bytes(raw_csv.read_bytes())
    (tmp_path / "p.json").write_text('{"not": "read"}')
    return tmp_path


def test_analyze_refuses_its_input_as_output_even_with_force(work: Path, cli: RunCli) -> None:
    before = snapshot(work)
    for extra in ([], ["--force"]):
        code, err = cli("analyze", work / "in.csv", "-o", work / "in.csv", *extra)
        assert code == 2 and "input" in err
    assert snapshot(work) == before


def test_calibrate_refuses_its_input_as_output(work: Path, cli: RunCli) -> None:
    before = snapshot(work)
    code, err = cli("calibrate", work / "in.csv", "-o", work / "in.csv", "--force")
    assert code == 2 and "input" in err
    assert snapshot(work) == before


def test_events_over_the_profile_is_refused(work: Path, cli: RunCli, tmp_path: Path) -> None:
    # The profile is an input: refused before it is even parsed.
    before = snapshot(work)
    out = tmp_path / "a.csv"
    code, err = cli("analyze", work / "in.csv", "--profile", work / "p.json", "-o", out,
                    "--events", work / "p.json", "--force")  # fmt: skip
    assert code == 2 and "input" in err
    assert snapshot(work) == before and not out.exists()


def test_an_existing_output_needs_force(work: Path, cli: RunCli) -> None:
    out = work / "a.csv"
    out.write_text("keep me")
    code, err = cli("analyze", work / "in.csv", "-o", out)
    assert code == 2 and "--force" in err
    assert out.read_text() == "keep me"
    cli("analyze", work / "in.csv", "-o", out, "--force", ok=True)
    assert out.read_text().startswith("time_s,")


def test_export_refuses_an_existing_file_and_its_own_session(
    session: Path, tmp_path: Path, cli: RunCli
) -> None:
    prof = tmp_path / "profile.json"
    prof.write_text('{"schema_version": 1}')
    before = snapshot(tmp_path)
    code, err = cli("export", session, "--format", "csv", "-o", prof)
    assert code == 2 and "--force" in err
    for fmt in ("csv", "events"):
        code, err = cli("export", session, "--format", fmt, "-o", session, "--force")
        assert code == 2 and "input" in err
    code, err = cli("report", session, "-o", f"{session}-wal", "--force")
    assert code == 2
    assert snapshot(tmp_path) == before
    cli("export", session, "--format", "csv", "-o", prof, "--force", ok=True)
    assert prof.read_text().startswith("# spinewatch session")


@pytest.mark.parametrize("target", ["/dev/full", "/dev/null"])
def test_only_regular_files_are_written(session: Path, cli: RunCli, target: str) -> None:
    mode = os.stat(target).st_mode
    code, err = cli("export", session, "--format", "csv", "-o", target, "--force")
    assert code == 2 and "regular file" in err
    assert os.stat(target).st_mode == mode  # still the device node


def test_a_folder_is_not_a_file_and_a_file_not_a_folder(
    session: Path, tmp_path: Path, cli: RunCli
) -> None:
    code, err = cli("report", session, "-o", tmp_path, "--force")
    assert code == 2 and "folder" in err
    f = tmp_path / "file"
    f.write_text("x")
    code, err = cli("export", session, "--format", "parquet", "-o", f, "--force")
    assert code == 2 and f.read_text() == "x"


def test_parquet_export_replaces_a_folder_only_with_force(
    session: Path, tmp_path: Path, cli: RunCli
) -> None:
    out = tmp_path / "pq"
    cli("export", session, "--format", "parquet", "-o", out, ok=True)
    code, err = cli("export", session, "--format", "parquet", "-o", out)
    assert code == 2 and "--force" in err
    cli("export", session, "--format", "parquet", "-o", out, "--force", ok=True)
    assert sorted(p.name for p in out.iterdir()) == [
        "angles.parquet", "events.parquet", "raw.parquet"
    ]  # fmt: skip
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_stream_to_a_missing_folder_fails_before_streaming(
    tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spinewatch.sources

    def never(*a: object, **k: object) -> None:
        raise AssertionError("streaming started although the output path is bad")

    monkeypatch.setattr(spinewatch.sources, "open_source", never)
    code, err = cli("stream", "--simulate", "--seconds", "5", "-o", tmp_path / "nope" / "x.csv")
    assert code == 2 and "does not exist" in err


def test_simulate_checks_both_outputs_first(tmp_path: Path, cli: RunCli) -> None:
    code, err = cli("simulate", "standing", "-o", tmp_path / "r.csv", "--truth", tmp_path / "r.csv")
    assert code == 2 and not (tmp_path / "r.csv").exists()


@pytest.mark.parametrize("fmt", ["csv", "angles", "events", "sto", "parquet"])
def test_sigterm_during_export_leaves_nothing(
    session: Path, tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """A real SIGTERM arrives mid-export: exit 143, no file at the path, no temporary left."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from spinewatch.sessions import exports

    def killed(*a: object, **k: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    # The first thing each format writes after its file is open.
    monkeypatch.setattr(exports, "_write_sto_rows", killed)
    monkeypatch.setattr(exports, "_imu_windows", lambda *a, **k: iter([killed()]))
    monkeypatch.setattr(pacsv, "write_csv", killed)
    monkeypatch.setattr(pq.ParquetWriter, "write_batch", killed)
    monkeypatch.setattr(exports, "write_angles_csv", killed)
    out = tmp_path / "out" / f"x.{fmt}"
    out.parent.mkdir()
    code, err = cli("export", session, "--format", fmt, "-o", out)
    assert code == 143 and "terminated" in err
    assert list(out.parent.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))


@pytest.mark.parametrize("cmd", ["export", "report", "analyze"])
def test_a_file_size_limit_gives_one_line_and_no_partial_file(
    session: Path, raw_csv: Path, tmp_path: Path, cmd: str
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    argv = {
        "export": ["export", str(session), "--format", "csv", "-o", str(out / "x.csv")],
        "report": ["report", str(session), "-o", str(out / "r.html")],
        "analyze": ["analyze", str(raw_csv), "-o", str(out / "a.csv")],
    }[cmd]
    proc = subprocess.run(
        [sys.executable, "-m", "spinewatch.cli", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=_limit_file_size,
        # Under the limit Python would write a module's bytecode cut at 20 kB (and rename it
        # into place): every later import of that module then fails. Write none here.
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "file-size limit" in proc.stderr
    assert list(out.iterdir()) == []


# -- events JSON (issue 12 item 1) ---------------------------------------------------------------
def _rep(t: float) -> RepMetrics:
    return RepMetrics(t, t + 1, t + 2, 25.0, 8.0, 1.0, -1.0, 60.0, float("nan"), 2.0)


@pytest.mark.parametrize("n_reps", [0, 1, 2, 3])
@pytest.mark.parametrize("with_profile", [False, True], ids=["no_profile", "profile"])
def test_events_json_is_valid_for_few_reps(
    work: Path,
    cli: RunCli,
    monkeypatch: pytest.MonkeyPatch,
    n_reps: int,
    with_profile: bool,
    profile_path: Path,
) -> None:
    import posture.reps

    # Exactly n reps (a rep finder's verdict on quiet standing is not what is tested here).
    monkeypatch.setattr(posture.reps, "segment_reps", lambda a, s=None: [
        _rep(1010.0 + 5 * k) for k in range(n_reps)])  # fmt: skip
    ev = work / "ev.json"
    extra = ["--profile", str(profile_path)] if with_profile else []
    cli("analyze", work / "in.csv", "-o", work / "a.csv", "--events", ev, *extra, ok=True)
    text = ev.read_text()
    assert "NaN" not in text and "Infinity" not in text
    doc = json.loads(text)
    assert doc["summary"]["reps"] == n_reps
    assert doc["summary"]["alerts"] == len(doc["alerts"])
    drift = doc["summary"]["flexion_drift_deg_per_rep"]
    assert drift is None if n_reps < 3 else isinstance(drift, float)
    assert all(r["hip_share"] is None for r in doc["reps"])


@pytest.fixture(scope="module")
def profile_path(tmp_path_factory: pytest.TempPathFactory, sim_profile: Callable[..., Any]) -> Path:
    p = tmp_path_factory.mktemp("prof") / "profile.json"
    sim_profile(3).save(p)
    return p


@pytest.mark.parametrize("delay_s", [0.5, 1.5, 3.0])
def test_a_killed_analyze_leaves_no_truncated_output(
    raw_csv: Path, tmp_path: Path, delay_s: float
) -> None:
    """SIGTERM at some point of a real run: the output is absent or complete, never cut."""
    import time

    ref = tmp_path / "ref.csv"
    assert main(["analyze", str(raw_csv), "-o", str(ref)]) == 0
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "spinewatch.cli", "analyze", str(raw_csv), "-o", str(out / "a.csv")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(delay_s)  # where in the run it lands does not matter: every outcome is checked
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err
    files = sorted(p.name for p in out.iterdir())
    if files:
        assert files == ["a.csv"] and (out / "a.csv").read_bytes() == ref.read_bytes()
    else:
        assert proc.returncode in (143, -signal.SIGTERM)


def test_a_full_disk_gives_one_line_and_no_partial_file(
    session: Path, tmp_path: Path, cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ENOSPC half-way through an export (the disk fills up after some rows were written)."""
    import errno

    from spinewatch.sessions import exports

    real = exports.write_raw_csv

    def fill_up(
        fh: PathLike | io.TextIOBase, blocks: Mapping[str, ImuBlock], comments: Iterable[str] = ()
    ) -> None:
        real(fh, blocks, comments)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(exports, "write_raw_csv", fill_up)
    out = tmp_path / "out"
    out.mkdir()
    code, err = cli("export", session, "--format", "csv", "-o", out / "x.csv")
    assert code == 2 and "No space left" in err and "disk full" in err
    assert list(out.iterdir()) == []
