"""Live-path angle errors with other VQF bias-estimation parameters (diagnostic, issue 12).

Prints; writes no fragment. Run:

    uv run python -m benchmarks.live_vqf_params                       # VQF defaults
    uv run python -m benchmarks.live_vqf_params --vqf '{"biasSigmaMotion": 0.05}'
    uv run python -m benchmarks.live_vqf_params --vqf '{...}' --runs 0@50 1@200

The given parameters are added to the live filters' VQF (``OrientationFilter``) only; batch
is not run. For each run (seed@rate, separate clocks; default: bench_alerts' tuning seeds
100–103 at 100 Hz) one line: whole-session live RMSE of flexion, lateral flexion and
rotation (deg), max rotation error, p95 rotation error while the confidence says good
(share good), share of samples within the expected error E95, and rotation alerts
(``--load always``, 20/15/15°) raised while uncertain / all — the checks of
benchmarks/bench_accuracy.py. Findings: docs/load.md ("VQF bias parameters of the live filter").
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from typing import Any

import numpy as np
import vqf

import posture.fusion as fusion
from benchmarks.bench_accuracy import SKIP_S, TH, _rot_err
from benchmarks.bench_alerts import TUNING
from benchmarks.bench_engine import realistic
from posture.alerts import AlertEngine, LoadContext, LoadSettings
from posture.anchors import error_from_confidence, rotation_uncertain
from posture.engine import analyze
from sim.evaluation import angle_rmse
from sim.wearer import calibrated_profile, simulate


def use_live_params(extra: dict[str, Any]) -> None:
    """Make every live ``OrientationFilter`` built from now on run VQF with ``extra`` too."""
    orig = fusion.OrientationFilter.__init__

    def init(self: fusion.OrientationFilter, *a: Any, **k: Any) -> None:
        orig(self, *a, **k)
        self._vqf = vqf.VQF(self.ts, **self.params(), **extra)

    fusion.OrientationFilter.__init__ = init  # type: ignore[method-assign]


def live_errors(seed: int, rate: float) -> str:
    cfg = replace(realistic(seed, rate), clock="separate")
    prof = calibrated_profile(cfg, sensor_table=True)
    sess = simulate("varied-session", cfg, duration_s=600.0)
    truth = sess.truth.angle_block()
    live = analyze(sess.raw, prof.spine_model)
    r = angle_rmse(live, truth, skip_s=SKIP_S)
    e = _rot_err(live, truth)
    ok = np.isfinite(e)
    good = ok & (live.rotation_confidence >= 0.5)
    eng = AlertEngine(TH, LoadContext(LoadSettings(mode="always")))
    raised = []
    for i in range(0, len(live), 50):  # live-like blocks
        raised += eng.process(live.take(slice(i, i + 50)))[0]
    rot = [a for a in raised if a.plane == "rotation"]
    at = np.clip(np.searchsorted(live.t, [a.alert_s for a in rot]), 0, len(live) - 1)
    unsure = rotation_uncertain(live.rotation_confidence, 15.0)[:, 0]
    within = np.mean(e[ok] <= error_from_confidence(live.rotation_confidence[ok]))
    return (
        f"seed {seed}@{rate:g} Hz: RMSE flexion {r['flexion']:.2f}, lateral "
        f"{r['lateral_flexion']:.2f}, rotation {r['rotation']:.2f}°; max rotation "
        f"{np.nanmax(e):.2f}°; p95 while good {np.percentile(e[good], 95):.2f}° "
        f"({100 * good.sum() / ok.sum():.0f} % good); within E95 {100 * within:.1f} %; "
        f"rotation alerts uncertain / all {int(unsure[at].sum())} / {len(rot)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--vqf", default="{}", help="JSON object of extra VQF parameters")
    ap.add_argument("--runs", nargs="*", help="seed@rate_hz (default: the tuning seeds)")
    args = ap.parse_args()
    extra = json.loads(args.vqf)
    if extra:
        use_live_params(extra)
    runs = [(s, r) for s, r, _ in TUNING]
    if args.runs:
        runs = [(int(s), float(r)) for s, r in (x.split("@") for x in args.runs)]
    print(f"live VQF extra parameters: {extra or 'none (defaults)'}", flush=True)
    for seed, rate in runs:
        print(live_errors(seed, rate), flush=True)


if __name__ == "__main__":
    main()
