"""Chunk-invariant segmentation of drills into reps and holds.

Both segmenters buffer only the open rep or hold, walk the new samples from one state change
to the next with vectorised searches (no per-sample Python loop), and close a segment on a
per-sample condition, so a recording fed in any chunking gives the same segments (tested).

Reps follow a *drive* signal (deg; e.g. the pelvis tilt of a hinge): a rep starts when the
drive rises past ``start_deg``, counts once it passes ``on_deg``, its motion ends when the
drive falls back below ``start_deg``, and it closes ``top_s`` later (the *top*, where the
over-extension of a swing or a bridge shows) or when the next rep starts, whichever is first.
Holds follow a boolean *in position* signal, with ``leave_s`` of debounce.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posture.drills.base import DrillFrame

F64 = NDArray[np.float64]
IDLE, CANDIDATE, ACTIVE, TOP = 0, 1, 2, 3


def _first(mask: NDArray[np.bool_]) -> int | None:
    k = np.flatnonzero(mask)
    return int(k[0]) if k.size else None


@dataclass(frozen=True)
class RepWindow:
    """A closed rep: ``frame`` runs from the last idle sample before the rep (the baseline,
    index 0) to the end of its top phase; ``i_start``/``i_down`` index the rise past
    ``start_deg`` and the fall back below it; ``drive`` is the drive signal on ``frame``."""

    frame: DrillFrame
    drive: F64
    i_start: int
    i_down: int
    index: int = 0  # 1-based rep number


class _Buffer:
    """Frame + drive (or flag) samples since a global sample index ``base``."""

    def __init__(self) -> None:
        self.frame = DrillFrame.empty()
        self.sig = np.zeros(0)
        self.base = 0

    def append(self, f: DrillFrame, sig: F64) -> None:
        self.frame = DrillFrame.concat([self.frame, f]) if len(self.frame) else f
        self.sig = np.concatenate((self.sig, sig)) if self.sig.size else np.asarray(sig, float)

    @property
    def end(self) -> int:
        return self.base + len(self.frame)

    def trim(self, keep_from: int) -> None:
        k = max(0, keep_from - self.base)
        if k:
            self.frame = self.frame.take(slice(k, None))
            self.sig = self.sig[k:]
            self.base += k


class RepSegmenter:
    """Reps from a drive signal (deg), see the module docstring."""

    def __init__(self, start_deg: float, on_deg: float, top_s: float, min_s: float = 0.3):
        self.start_deg, self.on_deg, self.top_s, self.min_s = start_deg, on_deg, top_s, min_s
        self._buf = _Buffer()
        self._state = IDLE
        self._pos = 0  # next global index to examine
        self._start = 0
        self._down = 0
        self.count = 0  # reps closed so far (the open rep's id)

    @property
    def open(self) -> bool:
        return self._state != IDLE

    def push(self, f: DrillFrame, drive: F64) -> tuple[list[RepWindow], NDArray[np.int64]]:
        """Feed samples; returns closed reps and, per new sample, the id of the rep it belongs
        to (−1 outside reps) for live cues."""
        n0 = self._buf.end
        self._buf.append(f, np.nan_to_num(drive, nan=-1e9))
        seg = np.full(len(f), -1, np.int64)
        out: list[RepWindow] = []
        b = self._buf
        while self._pos < b.end:
            i = self._pos
            d = b.sig[i - b.base :]
            t = b.frame.t[i - b.base :]
            if self._state == IDLE:
                k = _first(d > self.start_deg)
                if k is None:
                    self._pos = b.end
                    break
                self._pos, self._start, self._state = i + k, i + k, CANDIDATE
            elif self._state == CANDIDATE:
                k = _first((d > self.on_deg) | (d < self.start_deg))
                if k is None:
                    self._mark(seg, n0, i, b.end)
                    self._pos = b.end
                    break
                self._mark(seg, n0, i, i + k)
                self._pos = i + k
                self._state = ACTIVE if d[k] > self.on_deg else IDLE
            elif self._state == ACTIVE:
                k = _first(d < self.start_deg)
                if k is None:
                    self._mark(seg, n0, i, b.end)
                    self._pos = b.end
                    break
                self._mark(seg, n0, i, i + k)
                self._pos = self._down = i + k
                self._state = TOP
            else:  # TOP
                t_down = b.frame.t[self._down - b.base]
                k = _first((d > self.start_deg) | (t >= t_down + self.top_s))
                if k is None:
                    self._mark(seg, n0, i, b.end)
                    self._pos = b.end
                    break
                self._mark(seg, n0, i, i + k)
                self._pos = i + k
                w = self._close(i + k)
                if w is not None:
                    out.append(w)
                if d[k] > self.start_deg:
                    self._start, self._state = i + k, CANDIDATE
                else:
                    self._state = IDLE
        keep = (self._start - 1) if self._state != IDLE else (self._pos - 1)
        b.trim(max(keep, b.base))
        return out, seg

    def _mark(self, seg: NDArray[np.int64], n0: int, a: int, b: int) -> None:
        lo, hi = max(a, n0) - n0, b - n0
        if hi > lo:
            seg[lo:hi] = self.count

    def _close(self, end: int) -> RepWindow | None:
        b = self._buf
        first = max(self._start - 1, b.base)
        fr = b.frame.take(slice(first - b.base, end - b.base))
        sig = b.sig[first - b.base : end - b.base]
        i_start, i_down = self._start - first, self._down - first
        if fr.t[i_down] - fr.t[i_start] < self.min_s:
            return None
        self.count += 1
        return RepWindow(fr, sig, i_start, i_down, self.count)

    def flush(self) -> list[RepWindow]:
        """Close a rep whose top phase was cut short by the end of the data."""
        if self._state in (ACTIVE, TOP):
            if self._state == ACTIVE:
                self._down = self._buf.end - 1
            w = self._close(self._buf.end)
            self._state = IDLE
            return [w] if w is not None else []
        self._state = IDLE
        return []


@dataclass(frozen=True)
class HoldWindow:
    """A closed hold: the samples from getting into position to leaving it."""

    frame: DrillFrame
    index: int = 0  # 1-based hold number


class HoldSegmenter:
    """Holds from an in-position flag: in position for ``min_s`` at least; leaving position
    for ``leave_s`` ends it (shorter wobbles out of position do not)."""

    def __init__(self, min_s: float = 3.0, leave_s: float = 0.5):
        self.min_s, self.leave_s = min_s, leave_s
        self._buf = _Buffer()
        self._state = IDLE  # IDLE, ACTIVE (in position), TOP (leaving)
        self._pos = 0
        self._start = 0
        self._leave = 0
        self.count = 0

    @property
    def holding_since(self) -> float | None:
        """Start time of the hold in progress (s), or None."""
        if self._state == IDLE or self._start < self._buf.base:
            return None
        return float(self._buf.frame.t[self._start - self._buf.base])

    def push(
        self, f: DrillFrame, inpos: NDArray[np.bool_]
    ) -> tuple[list[HoldWindow], NDArray[np.int64]]:
        n0 = self._buf.end
        self._buf.append(f, np.asarray(inpos, dtype=np.float64))
        seg = np.full(len(f), -1, np.int64)
        out: list[HoldWindow] = []
        b = self._buf
        while self._pos < b.end:
            i = self._pos
            on = b.sig[i - b.base :] > 0.5
            t = b.frame.t[i - b.base :]
            if self._state == IDLE:
                k = _first(on)
                if k is None:
                    self._pos = b.end
                    break
                self._pos, self._start, self._state = i + k, i + k, ACTIVE
            elif self._state == ACTIVE:
                k = _first(~on)
                hi = b.end if k is None else i + k
                if hi > n0:
                    seg[max(i, n0) - n0 : hi - n0] = self.count
                if k is None:
                    self._pos = b.end
                    break
                self._pos = self._leave = i + k
                self._state = TOP
            else:
                t_leave = b.frame.t[self._leave - b.base]
                k = _first(on | (t >= t_leave + self.leave_s))
                if k is None:
                    self._pos = b.end
                    break
                self._pos = i + k
                if on[k]:
                    self._state = ACTIVE  # a wobble: still the same hold
                else:
                    w = self._close(self._leave)
                    if w is not None:
                        out.append(w)
                    self._state = IDLE
        keep = self._start if self._state != IDLE else self._pos
        b.trim(max(keep, b.base))
        return out, seg

    def _close(self, end: int) -> HoldWindow | None:
        b = self._buf
        fr = b.frame.take(slice(self._start - b.base, end - b.base))
        if len(fr) < 2 or fr.t[-1] - fr.t[0] < self.min_s:
            return None
        self.count += 1
        return HoldWindow(fr, self.count)

    def flush(self) -> list[HoldWindow]:
        out: list[HoldWindow] = []
        if self._state in (ACTIVE, TOP):
            end = self._buf.end if self._state == ACTIVE else self._leave
            w = self._close(end)
            out = [w] if w is not None else []
        self._state = IDLE
        return out
