"""Re-analysis of a recorded session on the batch estimate (the whole recording at once).

Replay (:mod:`spinewatch.sessions.replay`) pushes the stored blocks through the live
pipeline: with the recording's settings it reproduces, bit for bit, what the wearer saw. A
*re-analysis* (``replay --speed 0`` with another profile, thresholds or load mode,
``spinewatch reanalyze``, ``report --batch``) wants the best estimate instead, and it knows the
whole recording: :func:`reanalyze_session` runs :func:`posture.batch.analyze_offline` (offline
fusion, heading anchors at quiet standing and walking with the correction spread between
anchors on both sides) over all raw samples of each sensor, then finds alerts and reps over the
whole angle stream as ``analyze --events`` does. It is also far faster than the live replay
(one vectorised pass instead of thousands of small blocks).

Session markers are honoured as the live replay honours them:

* ``set_start`` / ``set_end`` (button, Space, Enter, a sensor tap — "lifting now") are manual
  sets, loaded in every load mode over the same samples as live (:func:`manual_sets`; tested
  equal to the live replay's load flags).
* ``note`` markers carry no analysis meaning.
* There are no re-zero markers: live re-zeroes itself at quiet standing, and batch anchors at
  quiet standing *and* walking, so it needs none.

How far batch and live differ is documented in README "How it works" and docs/archive.md:
angles differ mainly in rotation (batch spreads each heading correction between anchors,
live holds it), so alerts and reps near a limit can differ.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from spinewatch.sessions.reader import Marker, SessionFile
from spinewatch.sessions.replay import STORED_PROFILE, ReplayResult, StoredProfile
from spinewatch.sessions.store import SessionError

if TYPE_CHECKING:
    from calibration import CalibrationProfile
    from posture.records import ImuBlock, OrientationBlock
    from posture.thresholds import Thresholds


def session_raw(sf: SessionFile) -> dict[str, ImuBlock | OrientationBlock]:
    """Every raw sample of each sensor as one block, in time order.

    Blocks arrive per role in time order; a sample that does not advance its sensor's time
    (a repeat after a reconnect) is dropped, as the live engine drops it.
    """
    from posture.records import ROLES, ImuBlock, OrientationBlock

    imu: dict[str, list[ImuBlock]] = {r: [] for r in ROLES}
    ori: dict[str, list[OrientationBlock]] = {r: [] for r in ROLES}
    for _, b in sf.iter_blocks():
        if len(b) and isinstance(b, ImuBlock) and b.sensor in imu:
            imu[b.sensor].append(b)
        elif len(b) and isinstance(b, OrientationBlock) and b.sensor in ori:
            ori[b.sensor].append(b)
    out: dict[str, ImuBlock | OrientationBlock] = {}
    for role in ROLES:
        if imu[role] and ori[role]:
            raise SessionError(f"{sf.path}: the {role} sensor mixes raw and orientation blocks")
        if not imu[role] and not ori[role]:
            raise SessionError(f"{sf.path}: no {role} samples: re-analysis needs both sensors")
        whole = ImuBlock.concat(imu[role]) if imu[role] else OrientationBlock.concat(ori[role])
        t = whole.t
        ahead = t > np.maximum.accumulate(np.concatenate(([-np.inf], t[:-1])))
        out[role] = whole if ahead.all() else whole.take(ahead)
    return out


def manual_sets(markers: list[Marker]) -> list[tuple[float, float]]:
    """``(start, end)`` of the user's sets, s, as the live pipeline keeps them.

    A marker carries the time of the last sample live had seen when it was pressed, so a set
    covers the samples *after* its start time up to and including its end time: the start is
    moved to the next float. A start while a set runs and an end with no set running are
    ignored; a set never ended runs to the end (``inf``); a start stored without a time
    (pressed before the first sample) counts from the beginning (``-inf``).
    """
    sets: list[tuple[float, float]] = []
    running = False
    for m in markers:
        if m.kind == "set_start" and not running:
            t0 = -np.inf if m.t_s is None else float(np.nextafter(m.t_s, np.inf))
            sets.append((t0, np.inf))
            running = True
        elif m.kind == "set_end" and running:
            sets[-1] = (sets[-1][0], np.inf if m.t_s is None else m.t_s)
            running = False
    return sets


def reanalyze_session(
    sf: SessionFile,
    profile: CalibrationProfile | None | StoredProfile = STORED_PROFILE,
    thresholds: Thresholds | None = None,
    load_mode: str | None = None,
) -> ReplayResult:
    """The batch estimate of a recorded session, with alerts and reps over it.

    Args:
        sf: an open session (or an archived one).
        profile: calibration profile; default the recorded one (``None``: uncalibrated).
        thresholds: alert limits; default the recorded ones.
        load_mode: ``auto``/``always``/``never``; default the recorded one.

    Returns:
        A :class:`~spinewatch.sessions.replay.ReplayResult` like a replay's: angles (deg, on
        the lumbar sensor's time stamps), load flag per sample, alerts (``alerts``: ended, or
        ended at the end of the recording; ``raised``: all of them as raised), reps.
    """
    from dataclasses import replace

    from posture.alerts import AlertEngine
    from posture.batch import analyze_offline
    from posture.load import WholeRecordingLoad, effective_load
    from posture.reps import segment_reps

    prof = sf.profile() if profile is STORED_PROFILE else profile
    raw = session_raw(sf)
    settings = sf.engine_settings()  # rates, fusion, and the host-time clock of the recording
    if prof is not None:  # in-field accelerometer calibration (no table calibration)
        from calibration.field_session import profile_for_session

        prof = profile_for_session(prof, raw)
    angles = analyze_offline(
        raw,
        None if prof is None else prof.spine_model,
        settings,
        standing_flexion_deg=None if prof is None else prof.standing_flexion_deg,
    )
    base = sf.load_settings()
    load, _ = effective_load(replace(base, mode=load_mode) if load_mode else base, prof is not None)
    ctx = WholeRecordingLoad(load)
    for start, end in manual_sets(sf.markers()):
        ctx.add_set(start, end)
    eng = AlertEngine(thresholds or sf.thresholds(), ctx)
    raised, ended = eng.process(angles)
    under_load = eng.last_load if len(eng.last_load) == len(angles) else np.zeros(len(angles), bool)
    ended += eng.flush(float(angles.t[-1]) if len(angles) else np.nan)
    ended.sort(key=lambda a: (a.start_s, a.plane, a.side))
    return ReplayResult(angles, under_load, ended, raised, segment_reps(angles))
