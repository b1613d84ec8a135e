"""Alerts, load context and reps against the simulator's truth (issue 5).

Writes docs/benchmarks/alerts.md. Run:

    uv run python -m benchmarks.bench_alerts            # 6 seeds × 5-minute sessions
    uv run python -m benchmarks.bench_alerts --quick
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from benchmarks.bench_engine import realistic
from benchmarks.collect import machine, write_fragment
from calibration import calibrate
from posture.alerts import AlertEngine, LoadContext, LoadSettings, detect_alerts
from posture.engine import analyze
from posture.reps import segment_reps
from posture.simulator import PHASES, simulate
from spinewatch.events import thresholds_for


def run(seed: int, minutes: float) -> dict[str, list[float]]:
    cfg = realistic(seed, 200.0)
    prof = calibrate(simulate("calibration", cfg).raw)
    sess = simulate("lifting-session", cfg, duration_s=minutes * 60)
    ang = analyze(sess.raw, prof.spine_model)
    th = thresholds_for(prof, None)
    pred = detect_alerts(ang, th, LoadSettings(mode="auto"))
    tr = sess.truth
    truth_load = LoadContext(LoadSettings(mode="never"))
    for a, b in tr.sets:
        truth_load.add_set(a, b)
    eng = AlertEngine(th, truth_load)
    _, truth = eng.process(tr.angle_block())
    truth += eng.flush(float(tr.t[-1]))
    matched_pred = set()
    delays, hits = [], 0
    for t_al in truth:
        cands = [
            i
            for i, p in enumerate(pred)
            if p.plane == t_al.plane
            and p.side == t_al.side
            and p.start_s < t_al.end_s + 0.2
            and p.end_s > t_al.start_s - 0.2
        ]
        if cands:
            hits += 1
            i = min(cands, key=lambda k: abs(pred[k].start_s - t_al.start_s))
            matched_pred.add(i)
            delays.append(pred[i].alert_s - t_al.start_s)
    stretch = PHASES.index("stretch")
    stretch_t = tr.t[tr.phase == stretch]
    false_stretch = sum(
        1 for p in pred if stretch_t.size and np.any(np.abs(stretch_t - p.start_s) < 1 / 200)
    )
    # Cost of the alert engine on 20 ms blocks.
    eng2 = AlertEngine(th, LoadContext(LoadSettings(mode="auto")))
    t0 = time.perf_counter()
    for i in range(0, len(ang), 4):
        eng2.process(ang.take(slice(i, i + 4)))
    us = (time.perf_counter() - t0) / len(ang) * 1e6
    reps = segment_reps(ang)
    found, bnd, share = 0, [], []
    for r in tr.reps:
        m = [x for x in reps if x.start_s < r.end_s and x.end_s > r.start_s]
        if m:
            found += 1
            x = m[0]
            bnd += [
                abs(x.start_s - r.start_s),
                abs(x.bottom_s - r.bottom_s),
                abs(x.end_s - r.end_s),
            ]
            share.append(abs(x.hip_share - r.hip_share) * 100)
    return {
        "truth": [len(truth)],
        "pred": [len(pred)],
        "tp_truth": [hits],
        "tp_pred": [len(matched_pred)],
        "delay": delays,
        "false_stretch": [false_stretch],
        "us": [us],
        "reps_truth": [len(tr.reps)],
        "reps_found": [found],
        "bnd": bnd,
        "share": share,
        "extra_reps": [max(0, len(reps) - found)],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    seeds = [0, 1] if args.quick else [0, 1, 2, 3, 4, 5]
    minutes = 2.0 if args.quick else 5.0
    acc: dict[str, list[float]] = {}
    for s in seeds:
        for k, v in run(s, minutes).items():
            acc.setdefault(k, []).extend(v)
        print("seed", s, "done", flush=True)
    recall = sum(acc["tp_truth"]) / max(1, sum(acc["truth"]))
    precision = sum(acc["tp_pred"]) / max(1, sum(acc["pred"]))
    delay = np.array(acc["delay"]) * 1000
    cmd = "uv run python -m benchmarks.bench_alerts" + (" --quick" if args.quick else "")
    lines = [
        "## Alerts, load context and reps (issue 5)",
        "",
        f"Command: `{cmd}` — machine: {machine()}. {len(seeds)} seeds × {minutes:g}-minute",
        "simulated lifting sessions at 200 Hz with realistic faults; each calibrated from its own",
        "simulated calibration recording, analysed, thresholds from the profile (deadlift preset),",
        "`--load auto`. Truth alerts: the same alert engine on the simulator's true angles with",
        "the true set intervals as load. A predicted alert matches a truth alert of the same",
        "plane and side that overlaps it in time.",
        "",
        "| measure | value | target |",
        "| --- | --- | --- |",
        f"| recall of excursions under load | {recall:.3f} ({sum(acc['tp_truth'])}/{sum(acc['truth'])}) | ≥ 0.95 |",
        f"| precision | {precision:.3f} ({sum(acc['tp_pred'])}/{sum(acc['pred'])}) | ≥ 0.95 |",
        f"| alerts starting during unloaded stretching | {sum(acc['false_stretch'])} | 0 |",
        f"| delay true crossing → alert (incl. 100 ms debounce), median / p95 | {np.median(delay):.0f} / {np.percentile(delay, 95):.0f} ms | p95 ≤ 150 ms |",
        f"| alert engine cost per sample pair (20 ms blocks) | {np.median(acc['us']):.1f} µs | ≤ 10 µs |",
        f"| reps found | {sum(acc['reps_found'])}/{sum(acc['reps_truth'])} ({100 * sum(acc['reps_found']) / max(1, sum(acc['reps_truth'])):.1f} %), {sum(acc['extra_reps'])} extra | ≥ 98 % |",
        f"| rep boundary error (start/bottom/end), mean / max | {np.mean(acc['bnd']):.2f} / {np.max(acc['bnd']):.2f} s | ≤ 0.2 s |",
        f"| hip share error, mean / max | {np.mean(acc['share']):.1f} / {np.max(acc['share']):.1f} pp | ≤ 10 pp |",
    ]
    write_fragment("alerts", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
