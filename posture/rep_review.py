"""Late alerts for a set's first rep, live: the rep reviewed once the set is recognised.

Live, ``--load auto`` cannot tell a set's first rep, when it is already rounded with little
hip, from picking something up with a rounded back (docs/load.md): that rep is not under load
while it happens. The next rep tells: when a lift rep ends that follows, within
``first_rep_gap_s``, a rep-long hinge that was not a lift, that hinge was the set's first rep
(:attr:`posture.load.LoadContext.first_reps`). :class:`FirstRepReview` then runs the alert
rules on it as if it had been under load — what the saved record does
(:class:`posture.load.WholeRecordingLoad`) — and returns its excursions as alerts raised
then: ``alert_s`` is the end of the rep that recognised the set (the first sample after
it), after the excursion's ``end_s`` (a review, not a warning in the moment; the GUI says
so).

State is the angles since the start of the last hinge that may still be a set's first rep
(a list of blocks; none while no hinge runs or could still qualify), so any chunking gives
the same alerts.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from posture.alerts import Alert, AlertEngine
from posture.load import LoadContext, LoadSettings
from posture.records import AngleBlock, AngleHistory
from posture.thresholds import Thresholds

_TRIM_EVERY = 256  # blocks between trims of the angle history (cheap appends in between)


class FirstRepReview:
    """Alerts of a set's first rep, raised when the set is recognised (see module doc).

    Args:
        thresholds: the alert limits (as the live alert engine's).
        load: the live load context whose :attr:`~posture.load.LoadContext.first_reps` it
            reads (and clears).
    """

    def __init__(self, thresholds: Thresholds, load: LoadContext):
        self.thresholds = thresholds
        self.load = load
        cfg = load.settings
        # The first rep (≤ max_rep_s), the gap before the next (≤ first_rep_gap_s) and that rep
        # (≤ max_rep_s) must still be in the history when that rep ends.
        self.keep_s = 2.0 * cfg.max_rep_s + cfg.first_rep_gap_s + cfg.hold_s + 1.0
        self._history = AngleHistory()

    def push(self, a: AngleBlock) -> list[Alert]:
        """Feed the block just given to the alert engine; return late alerts (ended ones)."""
        if len(a) == 0:
            return []
        found = self.load.first_reps
        if not found:
            t_now = float(a.t[-1])
            if not self.load.history_needed(t_now):
                self._history.clear()  # no hinge could yet be a set's first rep: none kept
                return []
            self._history.append(a)
            if self._history.n_parts >= _TRIM_EVERY:
                self._history.trim(t_now - self.keep_s)
            return []
        self._history.append(a)
        buf = self._history.joined()
        out: list[Alert] = []
        for start, after, next_start, now in found:
            out += [replace(al, alert_s=now) for al in self._review(buf, start, after, next_start)]
        found.clear()
        self._history.trim(float(a.t[-1]) - self.keep_s)
        return out

    def _review(self, buf: AngleBlock, start: float, after: float, next_s: float) -> list[Alert]:
        """Excursions of the hinge ``start``–``after`` (and ``hold_s`` after it, before the
        next hinge at ``next_s``) as if under load."""
        hold = self.load.settings.hold_s
        i = int(np.searchsorted(buf.t, start, side="left"))
        j = int(np.searchsorted(buf.t, min(after + hold, next_s), side="right"))
        if buf.t[j - 1] >= next_s:
            j -= 1  # the next hinge's first sample belongs to the next hinge
        if j <= i:
            return []
        eng = AlertEngine(self.thresholds, LoadContext(LoadSettings(mode="always")))
        _, ended = eng.process(buf.take(slice(i, j)))
        # Load ends at the first sample after the span (the engine's end of an excursion).
        return ended + eng.flush(float(buf.t[min(j, len(buf) - 1)]))
