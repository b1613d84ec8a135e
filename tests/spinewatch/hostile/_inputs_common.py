"""Shared helpers of the hostile-input tests (h17b part): run the CLI in-process, a good
profile, and a short simulated raw CSV."""

from __future__ import annotations

import contextlib
import functools
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spinewatch.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def one_line_error(self) -> bool:
        """Exit non-zero with exactly one non-empty stderr line and no traceback."""
        lines = [ln for ln in self.err.splitlines() if ln.strip()]
        return self.code != 0 and "Traceback" not in self.err and len(lines) <= 2


def run_cli(argv: Sequence[str]) -> Run:
    """``spinewatch ARGV`` in this process; argparse's exits become the return code."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 2
    return Run(int(code), out.getvalue(), err.getvalue())


@functools.cache
def good_profile_dict() -> dict[str, Any]:
    from sim.wearer import calibrated_profile

    return calibrated_profile(3).to_json_dict()


@functools.cache
def _lifting_csv_text() -> str:
    from posture.rawcsv import write_raw_csv
    from sim.wearer import SimConfig, simulate

    buf = io.StringIO()
    write_raw_csv(buf, simulate("lifting-session", SimConfig(seed=3), duration_s=40.0).raw)
    return buf.getvalue()


def write_profile(path: Path, d: Any) -> Path:
    path.write_text(json.dumps(d) if not isinstance(d, str) else d, encoding="utf-8")
    return path


def lifting_csv(path: Path) -> Path:
    path.write_text(_lifting_csv_text(), encoding="utf-8")
    return path
