"""Live path speed of this tree against another git revision, runs alternating (bench_live --ref).

The host's speed drifts (by a third over minutes on the 2-core machine of docs/benchmarks.md),
so one tree's figures from different times compare poorly. Here each run is a fresh process
running :func:`benchmarks.bench_live.run_once` of its own tree (the revision checked out into a
temporary worktree and put first on ``PYTHONPATH``) on the same recording, and the trees take
turns, so both see the same host; the ratio of each pair of neighbouring runs is what
compares them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from calibration.profile import CalibrationProfile
from posture.records import ROLES, ImuBlock

ROOT = Path(__file__).resolve().parents[1]

# What one run does, in the tree on PYTHONPATH: the recording as 20 ms blocks, one untimed run
# on a short piece (first-call costs), then one timed run; prints its process CPU seconds.
_CHILD = """
import sys, time
import numpy as np
from benchmarks.bench_live import blocks_of, run_once
from calibration.profile import CalibrationProfile
from posture.records import ImuBlock
d = np.load(sys.argv[1])
raw = {r: ImuBlock(r, d[r + "_t"], d[r + "_acc"], d[r + "_gyr"]) for r in ("lumbar", "thoracic")}
prof = CalibrationProfile.load(sys.argv[2])
blocks = blocks_of(raw, 0.02)
run_once(blocks[:500], prof)
c0 = time.process_time()
run_once(blocks, prof)
print(time.process_time() - c0)
"""


def _save(folder: Path, raw: dict[str, ImuBlock], prof: CalibrationProfile) -> tuple[str, str]:
    data = folder / "raw.npz"
    arrays = {f"{r}_{c}": getattr(raw[r], c) for r in ROLES for c in ("t", "acc", "gyr")}
    np.savez(data, **arrays)  # type: ignore[arg-type]
    prof.save(folder / "profile.json")
    return str(data), str(folder / "profile.json")


def _one_run(tree: Path, data: str, prof: str) -> float:
    """Process CPU seconds of one timed run of ``tree``'s live pipeline."""
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, data, prof],
        env=env, cwd=tree, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return float(out.stdout)


def compare(
    ref: str, raw: dict[str, ImuBlock], prof: CalibrationProfile, span: float, rounds: int
) -> list[str]:
    """Markdown lines: speed (× real time, CPU) of ``ref`` and of this tree over ``rounds``
    alternating pairs of runs, and the median ratio of the pairs."""
    tmp = Path(tempfile.mkdtemp(prefix="spinewatch-live-ab-"))
    ref_tree = tmp / "ref"
    subprocess.run(
        ["git", "worktree", "add", "--detach", str(ref_tree), ref],
        cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    try:
        data, prof_path = _save(tmp, raw, prof)
        trees = [ref_tree, ROOT]
        cpu: list[list[float]] = [[], []]
        for k in range(rounds):
            for j in (0, 1) if k % 2 == 0 else (1, 0):
                cpu[j].append(_one_run(trees[j], data, prof_path))
                print(f"round {k + 1}: {['ref', 'this'][j]} {span / cpu[j][-1]:.0f}×", flush=True)
    finally:
        subprocess.run(
            ["git", "worktree", "remove", "--force", str(ref_tree)],
            cwd=ROOT, capture_output=True,
        )  # fmt: skip
    ref_x, this_x = span / np.array(cpu[0]), span / np.array(cpu[1])
    ratio = this_x / ref_x

    def cell(x: np.ndarray) -> str:
        return f"{np.median(x):.0f}× ({x.min():.0f}–{x.max():.0f}×)"

    return [
        "",
        f"Against `{ref}`, {rounds} rounds of one run per tree, each a fresh process, the order",
        "alternating (benchmarks/live_ab.py); process CPU:",
        "",
        "| tree | live pipeline, median (min–max) | this tree ÷ ref, median of the pairs (min–max) |",
        "| --- | --- | --- |",
        f"| `{ref}` | {cell(ref_x)} | |",
        f"| this tree | {cell(this_x)} | {np.median(ratio):.2f} ({ratio.min():.2f}–{ratio.max():.2f}) |",
    ]
