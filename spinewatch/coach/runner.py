"""Running drills: sets fed through the live drill path, cues as text (and a buzz when a
sensor can), a rest timer, pass/fail per set and per drill, results to the progress store.

Everything time-related goes through an injected clock, so ``train --simulate`` runs a whole
programme on a simulated clock, far faster than real time, with the same code as live use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from posture.angles import SpineModel
from posture.drills import NeutralBand, get_spec, make_analyser, summarise
from posture.drills.analyser import Analyser, HoldDrill
from posture.drills.base import DrillFrame, DrillUpdate
from posture.drills.feed import DrillFeed
from posture.drills.program import STAGES, Verdict, drill_passes, set_passes
from posture.engine import EngineSettings
from posture.records import LUMBAR, THORACIC, ImuBlock
from spinewatch.coach.store import SetRecord

Say = Callable[[str], None]


class SimClock:
    """A clock that jumps: ``sleep`` returns at once and moves time on."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.s = 0.0

    def sleep(self, dt: float) -> None:
        self.s += max(0.0, dt)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.s)


def _mmss(s: float) -> str:
    return f"{int(s // 60)}:{s % 60:04.1f}"


def interleave(raw: dict[str, ImuBlock], step_s: float = 0.25) -> Iterator[ImuBlock]:
    """Recorded blocks as live notifications: ``step_s`` chunks, thoracic then lumbar."""
    lum, tho = raw[LUMBAR], raw[THORACIC]
    il = it = 0
    for edge in np.arange(lum.t[0] + step_s, lum.t[-1] + 2 * step_s, step_s):
        jl, jt = int(np.searchsorted(lum.t, edge)), int(np.searchsorted(tho.t, edge))
        if jt > it:
            yield tho.take(slice(it, jt))
        if jl > il:
            yield lum.take(slice(il, jl))
        il, it = jl, jt


@dataclass
class SetOutcome:
    analyser: Analyser
    verdict: Verdict
    summary: dict[str, object]
    load_kg: float | None = None


@dataclass
class Coach:
    """Runs drill sets for one wearer (their ``band`` and spine model) and reports as text.

    Args:
        say: where lines of text go (the terminal).
        buzz: called with each cue (signals the sensor when there is one), or None.
        clock: the clock for rest timers and record times.
        rest_s: rest between sets, s.
    """

    band: NeutralBand
    model: SpineModel
    rate_hz: float
    say: Say
    clock: SimClock
    buzz: Callable[[str], None] | None = None
    rest_s: float = 60.0
    records: list[SetRecord] = field(default_factory=list)
    simulated: bool = False
    engine: EngineSettings | None = None
    session: Any = None  # a SessionLink when recording
    continuous: bool = False  # one live stream across sets (see begin_set)
    _feed: DrillFeed | None = None

    def begin_set(self, name: str, index: int, load_kg: float | None = None) -> SetRun:
        spec = get_spec(name)
        unit = (
            f"{spec.target_hold_s:.0f} s hold"
            if spec.kind == "hold"
            else f"{spec.target_reps} reps"
        )
        load = f" at {load_kg:g} kg" if load_kg is not None else ""
        self.say(f"  set {index}/{spec.target_sets}: {unit}{load} — go")
        # Live, one engine runs across sets (its heading reference must not restart in the
        # middle of a movement); simulated sets are separate recordings, each its own feed.
        feed = self._feed if self.continuous and self._feed is not None else None
        if feed is None:
            feed = DrillFeed(self.model, self.rate_hz, self.engine)
            self._feed = feed
        if self.session is not None:
            self.session.set_started()
        return SetRun(self, name, index, load_kg, feed, make_analyser(name, self.band))

    def run_set(
        self, name: str, blocks: Iterator[ImuBlock], index: int, load_kg: float | None = None
    ) -> SetOutcome:
        """One set from recorded or simulated blocks (fed as live notifications)."""
        run = self.begin_set(name, index, load_kg)
        for blk in blocks:
            run.push(blk)
        return run.end()

    def rest(self) -> None:
        left = self.rest_s
        ticks = []
        while left > 0:
            ticks.append(f"{left:.0f}")
            step = min(15.0, left)
            self.clock.sleep(step)
            left -= step
        self.say(f"  rest {self.rest_s:.0f} s: " + " … ".join(ticks) + " … go")

    def report(self, up: DrillUpdate, t0: float) -> None:
        for c in up.cues:
            self.say(f"    {_mmss(c.t_s - t0)}  ! {c.text}")
            if self.buzz is not None:
                self.buzz(c.text)
        for r in up.reps:
            share = "" if not np.isfinite(r.hip_share) else f"  hip share {r.hip_share:.2f}"
            if np.isfinite(r.rotation_share):
                share += f"  turn {r.trunk_turn_deg:+.0f}°, hips {100 * r.rotation_share:.0f} %"
            ok = "ok" if r.clean else "✗ " + ", ".join(r.faults).replace("_", " ")
            self.say(
                f"    {_mmss(r.end_s - t0)}  rep {r.index}{share}  lumbar "
                f"{r.min_flexion_deg:+.0f}°..{r.max_flexion_deg:+.0f}°  {ok}"
            )
        for h in up.holds:
            broke = "" if h.clean else f"  broke down at {h.breakdown_s:.0f} s"
            self.say(
                f"    {_mmss(h.end_s - t0)}  hold {h.index}: {h.hold_s:.1f} s, "
                f"{h.time_in_band_s:.1f} s in the neutral band{broke}"
            )

    def finish_attempt(self, name: str, outcomes: list[SetOutcome], first_record: int) -> bool:
        """Judge the drill on its sets and mark the attempt's records passed or not."""
        from dataclasses import replace

        ok = drill_passes([o.verdict for o in outcomes], name)
        for i in range(first_record, len(self.records)):
            self.records[i] = replace(self.records[i], passed=ok)
        return ok


class SetRun:
    """One set in progress: blocks in, cues and reps reported as they happen."""

    def __init__(
        self,
        coach: Coach,
        name: str,
        index: int,
        load_kg: float | None,
        feed: DrillFeed,
        analyser: Analyser,
    ) -> None:
        self.coach, self.name, self.index, self.load_kg = coach, name, index, load_kg
        self.feed, self.analyser = feed, analyser
        self.t0: float | None = None
        self.last: DrillFrame | None = None  # the newest frame (for live displays)

    def push(self, block: ImuBlock) -> DrillUpdate:
        if self.coach.session is not None:
            self.coach.session.block(block)  # the raw data is safe first
        fr = self.feed.push(block)
        if len(fr):
            self.last = fr
        if len(fr) and self.t0 is None:
            self.t0 = float(fr.t[0])
        up = self.analyser.push(fr)
        self.coach.report(up, self.t0 or 0.0)
        return up

    def count_text(self) -> str:
        """ "rep 3 / 8" or "hold 12 s / 30 s" for live displays."""
        a, spec = self.analyser, get_spec(self.name)
        if isinstance(a, HoldDrill):
            since = a.seg.holding_since
            if since is not None and self.last is not None:
                return f"hold {self.last.t[-1] - since:.0f} s / {spec.target_hold_s:.0f} s"
            return f"holds {len(a.holds)}"
        return f"rep {len(a.reps)} / {spec.target_reps}"

    @property
    def done(self) -> bool:
        """The prescription is met (live sets end here)."""
        a, spec = self.analyser, get_spec(self.name)
        if isinstance(a, HoldDrill):
            return bool(a.holds)
        return len(a.reps) >= spec.target_reps

    def end(self) -> SetOutcome:
        c, a = self.coach, self.analyser
        if not c.continuous:
            c.report(a.push(self.feed.flush()), self.t0 or 0.0)
        c.report(a.flush(), self.t0 or 0.0)
        verdict = set_passes(self.name, a, c.band)
        c.say(f"  set {self.index}: {'PASS' if verdict.passed else 'not yet'} ({verdict.reason})")
        summary = summarise(get_spec(self.name), a)
        items = [x.to_json_dict() for x in (a.holds if isinstance(a, HoldDrill) else a.reps)]
        c.records.append(
            SetRecord(
                self.name,
                c.clock.now().isoformat(timespec="seconds"),
                self.index,
                dict(summary),
                None,
                self.load_kg,
                None if c.session is None else c.session.name,
                c.simulated,
                items,
            )
        )
        if c.session is not None:
            c.session.set_ended(c.records[-1], verdict.reason)
        return SetOutcome(a, verdict, dict(summary), self.load_kg)


def header(name: str) -> list[str]:
    spec = get_spec(name)
    return [
        f"Stage {spec.stage} ({STAGES[spec.stage]}) — {spec.title}",
        f"  {spec.instruction}",
        f"  Pass: {spec.pass_rule}.",
    ]
