"""Scoring of load context, alerts and reps against the simulator's truth (varied sessions).

Shared by benchmarks/bench_alerts.py; pure functions of an analysed angle block and its truth.
"""

from __future__ import annotations

import numpy as np

from posture.alerts import Alert, AlertEngine, LoadContext, LoadSettings, detect_alerts
from posture.load import WholeRecordingLoad
from posture.records import AngleBlock
from posture.rep_review import FirstRepReview
from posture.reps import RepMetrics, segment_reps
from posture.thresholds import Thresholds
from sim.wearer import PHASES

TH = Thresholds.parse("flexion=20,lateral_flexion=15,rotation=15")
UNLOADED = ("catcow", "quadruped", "toe-touch", "side-bend", "twist", "stretch", "squat", "walk")
OTHER = ("pickup", "sit", "stand")


def truth_alerts(truth, load: str) -> list[Alert]:
    """The alert engine on the true angles, with the true load (``sets``) or ``always``."""
    if load == "always":
        return detect_alerts(truth.angle_block(), TH, LoadSettings(mode="always"))
    ctx = LoadContext(LoadSettings(mode="never"))
    for a, b in truth.sets:
        ctx.add_set(a, b)
    eng = AlertEngine(TH, ctx)
    _, out = eng.process(truth.angle_block())
    return out + eng.flush(float(truth.t[-1]))


def match(truth: list[Alert], pred: list[Alert]) -> tuple[int, set[int], list[float]]:
    """Truth alerts hit, predicted alerts used, delays (s) of the hits."""
    used: set[int] = set()
    hits, delays = 0, []
    for al in truth:
        cands = [
            i
            for i, p in enumerate(pred)
            if p.plane == al.plane
            and p.side == al.side
            and p.start_s < al.end_s + 0.2
            and p.end_s > al.start_s - 0.2
        ]
        if cands:
            hits += 1
            i = min(cands, key=lambda k: abs(pred[k].start_s - al.start_s))
            used.add(i)
            delays.append(pred[i].alert_s - al.start_s)
    return hits, used, delays


def phase_at(truth, t_s: float) -> str:
    i = int(np.clip(np.searchsorted(truth.t, t_s), 0, truth.t.size - 1))
    return PHASES[truth.phase[i]]


def score_load(ang: AngleBlock, truth, whole: bool = False) -> dict[str, list[float]]:
    """``--load auto``: alerts in unloaded activities, loaded excursions flagged, samples.

    ``whole``: load from the whole recording (what ``analyze`` saves), not causally (live)."""
    ctx = (WholeRecordingLoad if whole else LoadContext)(LoadSettings(mode="auto"))
    eng = AlertEngine(TH, ctx)
    _, pred = eng.process(ang)
    if not whole:  # live also reviews a set's first rep once the set is recognised
        pred += FirstRepReview(TH, ctx).push(ang)
    pred += eng.flush(float(ang.t[-1]))
    flags = eng.last_load
    tru = truth_alerts(truth, "sets")
    hits, _, _ = match(tru, pred)
    # The loaded excursions that the measured angles show at all (found with --load always):
    # of these, the share --load auto flags measures the load logic alone.
    always = detect_alerts(ang, TH, LoadSettings(mode="always"))
    visible = [al for al in tru if match([al], always)[0]]
    out: dict[str, list[float]] = {
        "exc_truth": [len(tru)],
        "exc_flagged": [hits],
        "exc_visible": [len(visible)],
        "exc_visible_flagged": [match(visible, pred)[0]],
        "alerts_unloaded": [sum(phase_at(truth, p.start_s) in UNLOADED for p in pred)],
        "alerts_other": [sum(phase_at(truth, p.start_s) in OTHER for p in pred)],
        "reviews": [sum(p.is_review for p in pred)],
        "review_delay": [p.alert_s - p.start_s for p in pred if p.is_review],
    }
    ti = np.clip(np.searchsorted(truth.t, ang.t), 0, truth.t.size - 1)
    ph = truth.phase[ti]
    tl = truth.under_load[ti]
    out["loaded_n"] = [int(tl.sum())]
    out["loaded_hit"] = [int((flags & tl).sum())]
    for name in (*UNLOADED, *OTHER):
        m = ph == PHASES.index(name)
        out[f"n_{name}"] = [int(m.sum())]
        out[f"fl_{name}"] = [int((flags & m).sum())]
    return out


def score_always(ang: AngleBlock, truth) -> dict[str, list[float]]:
    pred = detect_alerts(ang, TH, LoadSettings(mode="always"))
    tru = truth_alerts(truth, "always")
    hits, used, delays = match(tru, pred)
    return {
        "al_truth": [len(tru)],
        "al_pred": [len(pred)],
        "al_hit": [hits],
        "al_used": [len(used)],
        "delay": delays,
    }


def score_reps(reps: list[RepMetrics], truth) -> dict[str, list[float]]:
    """Lift and swing reps found, phantom reps (no true rep of any kind), bottom error."""
    used: set[int] = set()
    out: dict[str, list[float]] = {"bottom_err": [], "share_err": []}
    found = {"lift": 0, "swing": 0, "squat": 0, "toe-touch": 0}
    total = dict.fromkeys(found, 0)
    for r in truth.reps:
        total[r.kind] += 1
        cands = [
            i
            for i, x in enumerate(reps)
            if i not in used and x.start_s < r.end_s and x.end_s > r.start_s
        ]
        if not cands:
            continue
        i = min(cands, key=lambda k: abs(reps[k].bottom_s - r.bottom_s))
        used.add(i)
        found[r.kind] += 1
        if r.kind in ("lift", "swing"):
            out["bottom_err"].append(abs(reps[i].bottom_s - r.bottom_s))
            out["share_err"].append(abs(reps[i].hip_share - r.hip_share))
    for k in found:
        out[f"found_{k}"] = [found[k]]
        out[f"total_{k}"] = [total[k]]
    out["detected"] = [len(reps)]
    out["phantom"] = [len(reps) - len(used)]
    rounded = [r for r in truth.reps if r.rounded and r.kind == "lift"]
    out["rounded_total"] = [len(rounded)]
    out["rounded_found"] = [
        sum(any(x.start_s < r.end_s and x.end_s > r.start_s for x in reps) for r in rounded)
    ]
    return out


def score_all(ang: AngleBlock, truth, whole: bool = False) -> dict[str, list[float]]:
    acc: dict[str, list[float]] = {}
    for part in (score_load(ang, truth, whole), score_always(ang, truth),
                 score_reps(segment_reps(ang), truth)):  # fmt: skip
        for k, v in part.items():
            acc.setdefault(k, []).extend(v)
    return acc
