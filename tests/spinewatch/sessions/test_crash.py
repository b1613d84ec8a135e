"""kill -9 of a recording process: the file opens, is consistent, lost ≤ 1 s, interrupted."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchmarks.crashcheck import kill_trial
from spinewatch.sessions import SessionStatus


@pytest.mark.timeout(180)
@pytest.mark.slow
def test_kill_9_loses_at_most_a_second(tmp_path: Path, profile7_json: Path) -> None:
    rng = random.Random(11)
    kills = [rng.uniform(1.5, 4.0) for _ in range(3)]
    # The three recordings run side by side (each mostly waits on the real-time pace), each
    # in its own folder and SPINEWATCH_HOME. 30 s of session: well past the kill, a quarter
    # of the benchmark's to simulate first.
    folders = [tmp_path / f"t{i}" for i in range(3)]
    for d in folders:
        d.mkdir()
    with ThreadPoolExecutor(3) as pool:
        futures = [
            pool.submit(kill_trial, d, s, name=f"k{i}", seconds=30.0, profile=profile7_json)
            for i, (d, s) in enumerate(zip(folders, kills, strict=True))
        ]
        trials = [f.result() for f in futures]
    for trial in trials:
        assert trial.integrity == "ok"
        assert trial.status is SessionStatus.INTERRUPTED
        assert trial.consistent and trial.blocks > 100
        assert trial.lost_s <= 1.0, trial
        assert trial.stored_s <= trial.reached_s + 0.05
        assert trial.angles_s > trial.stored_s - 1.5  # the live angles were kept too
