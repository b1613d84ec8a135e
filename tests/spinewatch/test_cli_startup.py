"""The CLI starts light: ``--help`` and ``analyze`` do not import what they do not use.

Behaviour, not timing: each case runs in a fresh interpreter and reports ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from sim.wearer import SimResult

HEAVY_FOR_HELP = (
    "numpy",
    "scipy",
    "pyarrow",
    "PySide6",
    "pyqtgraph",
    "bleak",
    "bumble",
    "dask",
    "duckdb",
    "polars",
    "rich",
    "vqf",
    "sim.wearer",
    "sim.sensors",
    "sim.ble_source",
    "sim.peripheral",
)
HEAVY_FOR_ANALYZE = (
    "scipy",  # none of it: the band-passes are posture.iirfilter's
    "scipy.signal",
    "scipy.stats",
    "scipy.spatial",
    "scipy.interpolate",
    "PySide6",
    "bleak",
    "bumble",
    "dask",
    "rich",
    "sim.wearer",
)

PROBE = """
import json, sys
from spinewatch.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def run_cli(*argv: str, cwd: Path | None = None) -> tuple[int, set[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, check=True, cwd=cwd
    ).stdout
    report = json.loads(out.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [n for n in names if n in modules]


def test_help_imports_no_heavy_module() -> None:
    code, modules = run_cli("--help")
    assert code == 0
    assert loaded(modules, HEAVY_FOR_HELP) == []


@pytest.mark.parametrize("command", ["export", "pair", "analyze", "record", "replay", "report"])
def test_command_help_imports_no_heavy_module(command: str) -> None:
    code, modules = run_cli(command, "--help")
    assert code == 0
    assert loaded(modules, ("scipy", "PySide6", "bleak", "bumble", "sim.wearer")) == []


def test_analyze_imports_no_scipy(
    tmp_path: Path,
    sim_profile: Callable[..., CalibrationProfile],
    sim_session: Callable[..., SimResult],
) -> None:
    from posture.rawcsv import write_raw_csv

    raw, prof = tmp_path / "raw.csv", tmp_path / "profile.json"
    write_raw_csv(raw, sim_session("deadlift-set").raw)
    sim_profile().save(prof)
    code, modules = run_cli(
        "analyze",
        str(raw),
        "--profile",
        str(prof),
        "-o",
        str(tmp_path / "a.csv"),
        "--events",
        str(tmp_path / "e.json"),
    )
    assert code == 0
    assert (tmp_path / "a.csv").exists()
    assert loaded(modules, HEAVY_FOR_ANALYZE) == []


def test_lazy_choices_are_the_real_ones() -> None:
    from firmware_bridge.adapters import ADAPTERS
    from sim.wearer import RECORDINGS
    from spinewatch.cli import build_parser
    from spinewatch.sessions.exports import FORMATS

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices
    assert sub is not None

    def choices(command: str, dest: str) -> list[str]:
        act = next(a for a in sub[command]._actions if a.dest == dest)
        return sorted(act.choices or ())

    assert choices("simulate", "script") == sorted(RECORDINGS)
    assert choices("export", "format") == sorted(FORMATS)
    assert choices("pair", "profile") == sorted(ADAPTERS)
    args = parser.parse_args(["export", "s", "--format", "parquet", "-o", "x"])
    assert args.format == "parquet"
    with pytest.raises(SystemExit):
        parser.parse_args(["simulate", "no-such-script", "-o", "x"])
