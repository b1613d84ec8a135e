"""``spinewatch reanalyze``: a Dask LocalCluster gives the in-process result bit for bit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from spinewatch.archive import TABLES, ArchiveError
from spinewatch.archive.dataset import Archive, archive_sessions
from spinewatch.archive.reanalyze import reanalyze
from spinewatch.cli import main


def tables(root: Path, analysis: int | None = None) -> dict[str, dict[str, object]]:
    """Per table and session: the part's table (latest analysis, or ``analysis``)."""
    arc = Archive(str(root))
    m = arc.load_manifest(must_exist=True)
    out: dict[str, dict[str, object]] = {t: {} for t in TABLES}
    for sid, e in m["sessions"].items():
        k = str(analysis if analysis is not None else max(map(int, e["analyses"])))
        for t, rel in e["analyses"][k].items():
            out[t][sid] = (pq.read_table(arc.path(rel)), (root / rel).read_bytes())
    return out


@pytest.fixture()
def archived(team: list[Path], tmp_path: Path) -> Path:
    """Three sessions: two with raw samples in the archive, one read from its session file."""
    root = tmp_path / "arc"
    archive_sessions(team[:2], str(root), raw=True)
    archive_sessions(team[3:4], str(root))
    return root


@pytest.mark.slow
def test_local_cluster_equals_local_run_bit_for_bit(
    archived: Path, team: list[Path], tmp_path: Path
) -> None:
    other = tmp_path / "arc-cluster"
    shutil.copytree(archived, other)
    local = reanalyze(str(archived), workers=0)
    dist = reanalyze(str(other), workers=2)  # LocalCluster: 2 worker processes, 127.0.0.1
    assert dist.where == "Dask LocalCluster, 2 worker processes"
    assert (local.version, local.sessions, local.rows) == (dist.version, dist.sessions, dist.rows)
    a, b = tables(archived), tables(other)
    for t in TABLES:
        assert a[t].keys() == b[t].keys() == {"s1", "s2", "s4"}
        for sid in a[t]:
            assert a[t][sid][0].equals(b[t][sid][0], check_metadata=True), (t, sid)
            assert a[t][sid][1] == b[t][sid][1], (t, sid)  # the very same Parquet bytes

    # With the recorded settings the re-analysis is the batch estimate of each session file.
    from spinewatch.sessions.reader import SessionFile
    from spinewatch.sessions.reanalysis import reanalyze_session

    for sid, path in (("s1", team[0]), ("s4", team[3])):
        with SessionFile(path) as sf:
            want = reanalyze_session(sf)
        s1 = a["sessions"][sid][0].to_pylist()[0]
        assert (s1["angle_samples"], s1["n_alerts"], s1["n_reps"]) == (
            len(want.angles),
            len(want.alerts),
            len(want.reps),
        )
        assert s1["analysis"] == local.version
        assert json.loads(s1["settings_json"])["engine"] == "batch"
        peaks = a["reps"][sid][0].column("peak_flexion_deg").to_pylist()
        assert peaks == [r.peak_flexion_deg for r in want.reps]


@pytest.mark.slow
def test_live_replay_reproduces_the_recorded_analysis(archived: Path) -> None:
    rep = reanalyze(str(archived), workers=0, live=True)
    a, rec = tables(archived), tables(archived, analysis=0)
    for sid in rec["sessions"]:
        for t in ("reps", "seconds", "alerts", "sets"):
            x, y = rec[t][sid][0], a[t][sid][0]
            assert x.drop_columns(["analysis"]).equals(y.drop_columns(["analysis"])), (t, sid)
        s0, s1 = rec["sessions"][sid][0].to_pylist()[0], a["sessions"][sid][0].to_pylist()[0]
        for k in ("loaded_s", "angle_samples", "n_alerts", "n_reps", "n_sets", "t0_s", "t1_s"):
            assert s0[k] == s1[k], k
        assert (s0["analysis"], s1["analysis"]) == (0, rep.version)
    assert Archive(str(archived)).load_manifest()["history"][-1]["engine"] == "live"


@pytest.mark.slow
def test_new_thresholds_make_a_new_version_and_keep_the_old(
    archived: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = tables(archived)
    assert main(["reanalyze", "--archive", str(archived), "--workers", "0",
                 "--thresholds", "flexion=5"]) == 0  # fmt: skip
    assert "3 sessions re-analysed on this process" in capsys.readouterr().out
    m = Archive(str(archived)).load_manifest()
    assert (
        m["history"][-1]["kind"] == "reanalysis" and m["history"][-1]["thresholds"] == "flexion=5"
    )
    after = tables(archived)
    s = after["sessions"]["s1"][0].to_pylist()[0]
    assert (
        s["flexion_limit_deg"] == 5.0
        and json.loads(s["settings_json"])["thresholds"] == "flexion=5"
    )
    n_before = sum(t.num_rows for t, _ in before["alerts"].values())
    n_after = sum(t.num_rows for t, _ in after["alerts"].values())
    assert n_after > n_before
    old = tables(archived, analysis=0)  # the recorded analysis is still there
    assert old["alerts"]["s1"][0].num_rows == before["alerts"]["s1"][0].num_rows


@pytest.mark.slow
def test_missing_raw_and_session_file_is_a_clear_error(archived: Path, team: list[Path]) -> None:
    team[3].unlink()
    with pytest.raises(ArchiveError, match="archive --raw"):
        reanalyze(str(archived), workers=0)
    assert Archive(str(archived)).load_manifest()["version"] == 2  # nothing committed
