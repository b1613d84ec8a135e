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

``--decompose``: instead, the live and batch flexion error with one error source at a time
made known to the pipeline (accelerometer turn-on errors of the calibration recording and
of the session, the gyro bias, all faults off): what each costs (:func:`decompose`; results
in docs/load.md).

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
from posture.acc_correction import AccCorrection
from posture.alerts import AlertEngine, LoadContext, LoadSettings, detect_alerts
from posture.alignment import choose_clock
from posture.angles import SpineModel
from posture.batch import analyze_offline
from posture.engine import analyze
from posture.records import AngleBlock, ImuBlock
from sim.sensors import acc_fault_truth, gyr_bias_truth
from sim.wearer import PHASES, SimConfig, calibrated_profile, simulate


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


def _exact_acc(cfg: SimConfig, raw: dict[str, ImuBlock]) -> dict[str, AccCorrection]:
    """The accelerometer correction that removes exactly the errors the simulator drew for
    this recording (sensor part and turn-on part)."""
    out = {}
    for role, b in raw.items():
        assert b.seq is not None
        scale, bias = acc_fault_truth(cfg, role, int(b.seq[-1]) + 1, cfg.rate_of(role))
        out[role] = AccCorrection(bias, scale)
    return out


def _without_gyr_bias(cfg: SimConfig, raw: dict[str, ImuBlock]) -> dict[str, ImuBlock]:
    out = {}
    for role, b in raw.items():
        assert b.seq is not None
        bias = gyr_bias_truth(cfg, role, int(b.seq[-1]) + 1, cfg.rate_of(role))[b.seq]
        out[role] = ImuBlock(role, b.t, b.acc, b.gyr - bias, b.mag, b.seq)
    return out


def decompose(seed: int, rate: float, clock: str) -> list[str]:
    """Signed flexion error (deg) upright and bent in lift/swing sets, and the peak read at
    each loaded flexion excursion within 1° of the limit, live and batch, with one error
    source at a time made known to the pipeline (table calibration otherwise):

    * ``as is``: table accelerometer calibration, gyro bias estimated by the filters;
    * ``acc cal``: the calibration recording calibrated with its exact accelerometer errors
      (the turn-on part the table cannot know), the session with the table correction;
    * ``acc both``: the session corrected exactly too;
    * ``acc sess``: the session corrected exactly, the calibration with the table only;
    * ``gyro``: the simulator's true gyro bias (turn-on + walk) removed from the session;
    * ``acc+gyro``: both of the last two;
    * ``ideal``: the simulator without any sensor fault (what is left is the fusion's own
      error from the movement: the sensors' linear acceleration).
    """
    from calibration import calibrate
    from calibration.sensor_table import fit_table
    from sim.table import table_recording

    cfg = replace(realistic(seed, rate), clock=clock)
    tr = simulate("varied-session", cfg, duration_s=600.0).truth
    exc = [a for a in truth_alerts(tr, "sets") if a.plane == "flexion" and a.peak_deg < 21.0]
    out = [
        f"seed {seed} ({rate:g} Hz, {clock}): flexion error, deg — live / batch: upright in "
        f"sets, bent (trunk > 45°) in sets; peak at the loaded excursions "
        + ", ".join(f"t {a.start_s - tr.t[0]:.0f} s (true {a.peak_deg:.2f})" for a in exc)
    ]
    for label in ("as is", "acc cal", "acc both", "acc sess", "gyro", "acc+gyro", "ideal"):
        c = replace(cfg, ideal=True) if label == "ideal" else cfg
        sess = simulate("varied-session", c, duration_s=600.0)
        cal = simulate("calibration", c).raw
        table = fit_table(table_recording(c))
        exact_cal = label in ("acc cal", "acc both", "acc+gyro")
        prof = calibrate(cal, acc_correction=_exact_acc(c, cal) if exact_cal else table)
        m = prof.spine_model
        exact_sess = label in ("acc both", "acc sess", "acc+gyro")
        corr = _exact_acc(c, sess.raw) if exact_sess else table
        model = SpineModel(m.mount_thoracic, m.mount_lumbar, m.neutral, True, corr)
        raw = _without_gyr_bias(c, sess.raw) if "gyro" in label else sess.raw
        cells = []
        for ang in (analyze(raw, model), analyze_offline(raw, model)):
            i = np.clip(np.searchsorted(tr.t, ang.t), 0, tr.t.size - 1)
            sets = np.isin(tr.phase[i], [PHASES.index("lift"), PHASES.index("swing")])
            trunk = tr.thoracic_inclination[i]
            err = ang.flexion - tr.flexion[i]
            up = float(np.nanmean(err[sets & (trunk < 20)]))
            bent = float(np.nanmean(err[sets & (trunk > 45)]))
            peaks = " ".join(f"{_peak(ang, 'flexion', 1, a.start_s, a.end_s):.2f}" for a in exc)
            cells.append(f"{up:+.2f} {bent:+.2f} [{peaks}]")
        out.append(f"  {label:8s}: live {cells[0]}; batch {cells[1]}")
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
    ap.add_argument(
        "--decompose",
        action="store_true",
        help="flexion error with each error source made known in turn (table calibration)",
    )
    args = ap.parse_args()
    table = args.sensor_cal == "table"
    for seed, rate, clock in TUNING if args.tune else HELD_OUT:
        if args.decompose:
            lines = decompose(seed, rate, clock)
        elif args.bias:
            lines = flexion_bias(seed, rate, clock, table)
        else:
            lines = misses(seed, rate, clock, table=table)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
