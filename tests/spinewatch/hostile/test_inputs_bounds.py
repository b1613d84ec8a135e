"""Bounded work (issue 17 items 7 and 9): nonsense options are usage errors before any work,
the demo's temporary folder never outlives it, and a sparse (hole-filled) CSV is refused
without being copied around in memory."""

from __future__ import annotations

import tempfile
import tracemalloc
from pathlib import Path

import pytest

from posture.errors import DataFormatError, SpinewatchError
from posture.rawcsv import read_raw_csv
from tests.spinewatch.hostile._inputs_common import run_cli

# Every case named in issue 17 item 9 (and the --speed/--rate cases of item 7).
NONSENSE = [
    ["stream", "--simulate", "-o", "x.csv", "--fault", "interval-ms=0"],
    ["stream", "--simulate", "-o", "x.csv", "--fault", "interval-ms=-5"],
    ["stream", "--simulate", "-o", "x.csv", "--fault", "interval-ms=nan"],
    ["record", "--simulate", "--ble", "--fault", "slow=-1"],
    ["monitor", "--simulate", "--fault", "refuse=maybe"],
    ["demo", "--fault", "drop=2"],
    ["simulate", "calibration", "-o", "x.csv", "--drop", "2"],
    ["pair", "thoracic", "AA:BB:CC:DD:EE:FF", "--rate", "-5"],
    ["record", "--simulate", "--seconds", "-1"],
    ["record", "--simulate", "--seconds", "nan"],
    ["record", "--simulate", "--speed", "-1"],
    ["record", "--simulate", "--speed", "nan"],
    ["monitor", "--simulate", "--speed", "nan"],
    ["monitor", "--simulate", "--speed", "inf"],
    ["gui", "--simulate", "--speed", "nan"],
    ["gui", "--simulate", "--speed", "0"],
    ["replay", "s", "--speed", "-1"],
    ["gui", "--simulate", "--window", "-10"],
    ["thresholds", "p.json", "--set", ""],
    ["thresholds", "p.json", "--set", ","],
    ["thresholds", "p.json", "--min-duration", "-1"],
    ["thresholds", "p.json", "--hysteresis", "nan"],
    ["demo", "--offline", "--rate", "100000"],
    ["demo", "--offline", "--minutes", "-1"],
    ["demo", "--seconds", "-3"],
    ["simulate", "standing", "-o", "x.csv", "--duration", "-5"],
    ["simulate", "standing", "-o", "x.csv", "--seed", "-1"],
    ["stream", "--simulate", "-o", "x.csv", "--seconds", "-2"],
    ["stream", "--simulate", "-o", "x.csv", "--every", "0"],
    ["scan", "--seconds", "-1"],
    ["monitor", "--simulate", "--thresholds", "flexion=abc"],
    ["train", "--simulate", "--rest", "-1"],
    ["train", "--simulate", "--load", "nan"],
]


@pytest.mark.parametrize("argv", NONSENSE, ids=[" ".join(a[:1] + a[-2:]) for a in NONSENSE])
def test_nonsense_option_is_a_one_line_usage_error(tmp_path, monkeypatch, argv) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path / "home"))
    r = run_cli(argv)
    assert r.code == 2 and "Traceback" not in r.err
    assert r.err.strip().splitlines()[-1].startswith(f"spinewatch {argv[0]}: error: argument")
    assert list(tmp_path.iterdir()) == []  # nothing written, nothing started


def test_help_states_valid_ranges() -> None:
    for argv, text in [
        (["demo", "--help"], "50–400 Hz"),
        (["record", "--help"], "0–1000"),
        (["simulate", "--help"], "0–0.5"),
        (["gui", "--help"], "2–600 s"),
    ]:
        assert text in run_cli(argv).out


@pytest.fixture
def own_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_demo_temp_folder_removed_after_success(own_tmp) -> None:
    r = run_cli(["demo", "--offline", "--minutes", "0.3", "--rate", "50"])
    assert r.code == 0, r.err
    assert "temporary files removed" in r.out
    assert list(own_tmp.glob("spinewatch-demo-*")) == []


def test_demo_temp_folder_removed_after_failure(own_tmp, monkeypatch) -> None:
    import calibration

    def broken(*a: object, **k: object) -> None:
        raise SpinewatchError("simulated failure")

    monkeypatch.setattr(calibration, "calibrate", broken)
    r = run_cli(["demo", "--offline", "--minutes", "0.3", "--rate", "50"])
    assert r.one_line_error() and "simulated failure" in r.err
    assert list(own_tmp.glob("spinewatch-demo-*")) == []


@pytest.mark.parametrize("header", [b"", b"time_s,sensor,acc_x,acc_y,acc_z,gyr_x,gyr_y,gyr_z\n"])
def test_sparse_csv_refused_without_copies(tmp_path, header: bytes) -> None:
    p = tmp_path / "sparse.csv"
    size = 20 * 2**20
    with open(p, "wb") as fh:
        fh.write(header)
        fh.truncate(size)  # a hole: reads as NUL bytes, takes no disk
    tracemalloc.start()
    try:
        with pytest.raises(DataFormatError, match=r"longer than 64 KiB|NUL bytes"):
            read_raw_csv(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1.5 * size  # the file's bytes once, no decoded or sliced copies


def test_pair_refuses_a_rate_the_sensor_family_cannot_run(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("SPINEWATCH_HOME", str(tmp_path))
    r = run_cli(["pair", "thoracic", "AA:BB", "--profile", "witmotion", "--rate", "150"])
    assert r.one_line_error() and "200 Hz, not 150" in r.err
    assert not (tmp_path / "sensors.json").exists()
