"""Which loaded excursions ``--load auto`` misses on the alerts benchmark's sessions, and why.

A diagnostic beside benchmarks/bench_alerts.py (prints; writes no fragment). Run:

    uv run python -m benchmarks.alert_misses            # the held-out seeds
    uv run python -m benchmarks.alert_misses --tune     # the tuning seeds
    uv run python -m benchmarks.alert_misses --sensor-cal none   # no table calibration
    uv run python -m benchmarks.alert_misses --tune --bias   # signed errors by hinge phase

For each true loaded excursion (the alert engine on the simulator's true angles with the true
load) that the live angles with ``--load auto`` do not flag, one line: seed, time in the session
(s), plane and side, limit and true peak (deg), the live (engine) and batch (``analyze``) peak
near it, the live error of each angle at the true peak, the auto load flag there, whether
``--load always`` on the live angles shows it at all, and the live rotation confidence. Also
the thoracic clock map the engine used against the simulator's true offset and drift.

``--bias``: instead, the signed error (measured − true, deg) of flexion and of each segment's
forward inclination during lift and swing sets, by hinge phase (upright; descent, bottom and
ascent by the true trunk speed), live (engine) and batch (``analyze``): the live flexion reads
low while bent, batch does not (see docs/load.md, "Why live flexion reads low in a hinge").
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np

from benchmarks.bench_alerts import HELD_OUT, TUNING
from benchmarks.bench_engine import realistic
from benchmarks.varied_eval import TH, match, truth_alerts
from posture.alerts import AlertEngine, LoadContext, LoadSettings, detect_alerts
from posture.alignment import choose_clock
from posture.batch import analyze_offline
from posture.engine import analyze
from posture.records import AngleBlock
from sim.wearer import PHASES, calibrated_profile, simulate


def _at(blk: AngleBlock, col: str, t: float) -> float:
    i = int(np.clip(np.searchsorted(blk.t, t), 0, len(blk) - 1))
    return float(getattr(blk, col)[i])


def _peak(blk: AngleBlock, col: str, sign: int, a: float, b: float) -> float:
    w = (blk.t >= a - 0.5) & (blk.t <= b + 0.5)
    return float(np.nanmax(sign * getattr(blk, col)[w])) if w.any() else float("nan")


def misses(
    seed: int, rate: float, clock: str, minutes: float = 10.0, table: bool = True
) -> list[str]:
    cfg = replace(realistic(seed, rate), clock=clock)
    prof = calibrated_profile(cfg, sensor_table=table)
    sess = simulate("varied-session", cfg, duration_s=minutes * 60)
    tr = sess.truth
    live = analyze(sess.raw, prof.spine_model)
    batch = analyze_offline(sess.raw, prof.spine_model)
    eng = AlertEngine(TH, LoadContext(LoadSettings(mode="auto")))
    _, pred = eng.process(live)
    pred += eng.flush(float(live.t[-1]))
    load = eng.last_load
    always = detect_alerts(live, TH, LoadSettings(mode="always"))
    cm = choose_clock(sess.raw["lumbar"], sess.raw["thoracic"], "auto")
    sep = clock == "separate"
    off, drift = (cfg.clock_offset_s, cfg.clock_drift_ppm * 1e-6) if sep else (0.0, 0.0)
    t_mid = float(tr.t[tr.t.size // 2])
    lag_err = (cm.offset_s + cm.drift * t_mid) - (off + drift * t_mid)
    out = [f"seed {seed} ({rate:g} Hz, {clock}): clock map lag error {1e3 * lag_err:+.2f} ms"]
    for al in truth_alerts(tr, "sets"):
        if match([al], pred)[0]:
            continue
        sign = 1 if al.side == "positive" else -1
        m = (tr.t >= al.start_s) & (tr.t <= al.end_s)
        ip = int(np.flatnonzero(m)[np.argmax(sign * getattr(tr, al.plane)[m])])
        tp = float(tr.t[ip])
        lim = abs(TH.limits[al.plane][1 if sign > 0 else 0])
        errs = " ".join(
            f"{c[:3]} {_at(live, c, tp) - float(getattr(tr, c)[ip]):+.2f}"
            for c in ("flexion", "lateral_flexion", "rotation")
        )
        i = int(np.clip(np.searchsorted(live.t, tp), 0, len(live) - 1))
        out.append(
            f"  t {tp - tr.t[0]:6.1f} s {PHASES[tr.phase[ip]]:5s} {al.plane} {al.side}: "
            f"limit {lim:g}, true {sign * al.peak_deg:.2f}, live {_peak(live, al.plane, sign, al.start_s, al.end_s):.2f}, "
            f"batch {_peak(batch, al.plane, sign, al.start_s, al.end_s):.2f}; live error {errs}; "
            f"auto load {'on' if load[i] else 'OFF'}; always {'shows it' if match([al], always)[0] else 'misses it'}; "
            f"rotation confidence {live.rotation_confidence[i]:.2f}"
        )  # fmt: skip
    return out


_PHASE_BINS = (
    ("upright (trunk < 20°)", None, None),
    ("descent (> 5°/s)", 5.0, np.inf),
    ("bottom (|speed| ≤ 5°/s)", -5.0, 5.0),
    ("ascent (< −5°/s)", -np.inf, -5.0),
)


def flexion_bias(seed: int, rate: float, clock: str, table: bool = True) -> list[str]:
    """Mean signed errors (deg) during lift and swing sets by hinge phase, live and batch."""
    cfg = replace(realistic(seed, rate), clock=clock)
    prof = calibrated_profile(cfg, sensor_table=table)
    sess = simulate("varied-session", cfg, duration_s=600.0)
    tr = sess.truth
    out = [
        f"seed {seed} ({rate:g} Hz, {clock}): mean error, deg — flexion / thoracic incl. / lumbar incl."
    ]
    for name, ang in (("live", analyze(sess.raw, prof.spine_model)),
                      ("batch", analyze_offline(sess.raw, prof.spine_model))):  # fmt: skip
        i = np.clip(np.searchsorted(tr.t, ang.t), 0, tr.t.size - 1)
        sets = np.isin(tr.phase[i], [PHASES.index("lift"), PHASES.index("swing")])
        trunk = tr.thoracic_inclination[i]
        speed = np.gradient(trunk, ang.t)
        errs = [ang.flexion - tr.flexion[i],
                ang.thoracic_inclination - trunk,
                ang.lumbar_inclination - tr.lumbar_inclination[i]]  # fmt: skip
        cells = []
        for label, lo, hi in _PHASE_BINS:
            m = sets & (trunk < 20) if lo is None else sets & (trunk >= 20) & (speed > lo)
            if hi is not None:
                m &= speed <= hi
            mean = [float(np.nanmean(e[m])) if m.any() else float("nan") for e in errs]
            cells.append(f"{label} {mean[0]:+.2f} / {mean[1]:+.2f} / {mean[2]:+.2f}")
        out.append(f"  {name:5s}: " + "; ".join(cells))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tune", action="store_true", help="the tuning seeds instead")
    ap.add_argument(
        "--sensor-cal",
        choices=("table", "none"),
        default="table",
        help="calibrate each accelerometer on a (simulated) table first, as bench_alerts does",
    )
    ap.add_argument("--bias", action="store_true", help="signed errors by hinge phase instead")
    args = ap.parse_args()
    table = args.sensor_cal == "table"
    for seed, rate, clock in TUNING if args.tune else HELD_OUT:
        lines = (
            flexion_bias(seed, rate, clock, table)
            if args.bias
            else misses(seed, rate, clock, table=table)
        )
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
