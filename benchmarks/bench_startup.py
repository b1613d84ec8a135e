"""Start-up benchmark: ``spinewatch --help`` and ``spinewatch analyze`` of a 10-min recording.

Wall time from process start to exit of the installed ``spinewatch`` command, bytecode cached
(one untimed warm-up run first), 5 runs per repeat, 3 repeats: the median of each repeat, and
the median and spread of those. ``--ref REV`` also measures a git revision (checked out into a
temporary worktree and put first on PYTHONPATH), its runs alternating with this tree's, so
that before and after share the machine's load. Writes docs/benchmarks/startup.md. Run:

    uv run python -m benchmarks.bench_startup [--ref main] [--runs 5] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.collect import machine, write_fragment

ROOT = Path(__file__).resolve().parents[1]
SPINEWATCH = str(Path(sys.executable).with_name("spinewatch"))


def make_data(folder: Path) -> tuple[Path, Path]:
    """A 10-min two-sensor 200 Hz recording and a calibration profile of the same wearer."""
    from posture.rawcsv import write_raw_csv
    from sim.wearer import SimConfig, calibrated_profile, simulate

    raw, prof = folder / "raw600.csv", folder / "profile.json"
    cfg = SimConfig(seed=7, rate_hz=200.0)
    write_raw_csv(raw, simulate("lifting-session", cfg, duration_s=600.0).raw)
    calibrated_profile(cfg).save(prof)
    return raw, prof


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system) of one run of ``cmd``, s."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def measure(
    cmd: list[str], envs: list[dict[str, str]], cwd: Path, runs: int, repeats: int
) -> list[tuple[float, float, float, float]]:
    """Per environment (code tree): the median of the repeats' median wall times, the smallest
    and largest repeat median, and the median CPU time over all runs (s). The trees' runs
    alternate, so that a machine whose load drifts weighs on all of them alike."""
    for env in envs:
        timed(cmd, env, cwd)  # warm-up: compiles and caches bytecode, fills the page cache
    meds: list[list[float]] = [[] for _ in envs]
    cpu: list[list[float]] = [[] for _ in envs]
    for _ in range(repeats):
        walls: list[list[float]] = [[] for _ in envs]
        for i in range(runs):
            order = range(len(envs)) if i % 2 == 0 else reversed(range(len(envs)))
            for k in order:
                wall, c = timed(cmd, envs[k], cwd)
                walls[k].append(wall)
                cpu[k].append(c)
        for k in range(len(envs)):
            meds[k].append(statistics.median(walls[k]))
    return [
        (statistics.median(m), min(m), max(m), statistics.median(c))
        for m, c in zip(meds, cpu, strict=True)
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--ref", help="also measure this git revision (e.g. main)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--note", default="", help="a sentence about the machine's state")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="spinewatch-startup-"))
    trees: list[tuple[str, Path]] = [("this tree", ROOT)]
    try:
        raw, prof = make_data(tmp)
        if args.ref:
            ref_tree = tmp / "ref"
            subprocess.run(
                ["git", "worktree", "add", "--detach", str(ref_tree), args.ref],
                cwd=ROOT, check=True, capture_output=True,
            )  # fmt: skip
            trees.insert(0, (args.ref, ref_tree))
        cases = [
            ("`spinewatch --help`", [SPINEWATCH, "--help"]),
            (
                "`spinewatch analyze` 10 min, 2 × 200 Hz, with profile",
                [
                    SPINEWATCH,
                    "analyze",
                    str(raw),
                    "--profile",
                    str(prof),
                    "-o",
                    str(tmp / "a.csv"),
                    "--force",
                ],
            ),
        ]
        rows = []
        load0 = os.getloadavg()[0]
        envs = []
        for _, tree in trees:
            env = dict(os.environ, PYTHONPATH=str(tree))
            env.pop("PYTHONDONTWRITEBYTECODE", None)  # bytecode cached, as installed
            envs.append(env)
        for name, cmd in cases:
            results = measure(cmd, envs, tmp, args.runs, args.repeats)
            for (label, _), (med, lo, hi, cpu) in zip(trees, results, strict=True):
                rows.append(f"| {label} | {name} | {med:.2f} | {lo:.2f}–{hi:.2f} | {cpu:.2f} |")
                print(rows[-1], flush=True)
        load1 = os.getloadavg()[0]
    finally:
        if args.ref:
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(tmp / "ref")],
                cwd=ROOT, capture_output=True,
            )  # fmt: skip
        shutil.rmtree(tmp, ignore_errors=True)

    cmdline = "uv run python -m benchmarks.bench_startup" + (
        f" --ref {args.ref}" if args.ref else ""
    )
    text = "\n".join(
        [
            "## Start-up",
            "",
            f"`{cmdline}` ({machine()}; load average {load0:.1f} at the start, "
            f"{load1:.1f} at the end)."
            + (
                " **The machine was shared** (other jobs ran on its 2 cores): wall times are "
                "inflated, compare the rows measured side by side and the CPU column."
                if max(load0, load1) > 1.5
                else ""
            )
            + (f" {args.note}" if args.note else ""),
            "",
            "Wall time of the installed `spinewatch` command from process start to exit, bytecode "
            f"cached, median of {args.runs} runs, {args.repeats} repeats (median of the repeat "
            "medians, and their spread); CPU is user + system time of the process and its "
            "children, which a busy machine inflates far less than wall time"
            + (
                "; the runs of the two code trees alternate, so both see the same load"
                if args.ref
                else ""
            )
            + ". Targets: `--help` ≤ 0.3 s, `analyze` ≤ 1.0 s.",
            "",
            "| code | command | wall, median (s) | spread of repeats (s) | CPU, median (s) |",
            "|---|---|---:|---:|---:|",
            *rows,
            "",
            "`--help` imports no numpy, scipy, pyarrow, PySide6, bleak, bumble or the simulator, "
            "and `analyze` imports no scipy at all (tests/spinewatch/test_cli_startup.py): its two "
            "Butterworth band-passes (clock alignment, gait detection) are designed in numpy "
            "with scipy.signal's coefficients and applied as an FFT convolution giving "
            "scipy.signal's sosfiltfilt numbers to rounding (posture/iirfilter.py, "
            "tests/posture/test_iirfilter.py). What `analyze` spends its time on: importing numpy "
            "and pyarrow, parsing the raw CSV (pyarrow, multithreaded; the file mapped, not "
            "copied, and parsed on a second thread while the rest of the command is imported), "
            "the unit check (on a second thread alongside the in-field accelerometer fit), "
            "offline VQF fusion of both sensors, the clock fit, the heading anchors (pause "
            "anchors and rotation confidence on a second thread) and writing the angles "
            "(numbers rounded to 4 decimals turned into pyarrow's text by table lookup, "
            "posture/decimal_text.py; the times and inclinations formatted on a thread as soon "
            "as they are known, posture/anglescsv.ColumnsAhead). VQF holds the GIL, so the "
            "two sensors are fused in two "
            "forked child processes (the lumbar one also works out its segment and step "
            "bounce) while the parent fits the clock and then slerps the thoracic data onto the "
            "lumbar stamps (posture/forked.py, posture/batch.py; the same bytes as one process; "
            "results come back as raw array bytes, pickle protocol 5): wall time gains from "
            "the second core, CPU time (which includes the children) does not. Only the analyze "
            "command's parser is built, malloc keeps freed memory (fewer page faults) and the "
            "process ends without the interpreter's teardown once its outputs are closed "
            "(spinewatch/cli.py). It imports no numpy.ma either (np.median, np.percentile and "
            "pa.array would: posture/median.py).",
        ]
    )
    print(write_fragment("startup", text))


if __name__ == "__main__":
    main()
