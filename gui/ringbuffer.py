"""A fixed-capacity numpy ring buffer of time-stamped rows for the scrolling graphs.

Every row is written twice (at ``i`` and ``i + capacity``) so the newest ``capacity`` rows are
always one contiguous slice: reading a window for display costs a slice, never a copy or a
per-sample Python object.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]


class RingBuffer:
    """The newest ``capacity`` rows of ``(t, values[columns])``.

    Args:
        capacity: rows kept.
        columns: values per row.
    """

    def __init__(self, capacity: int, columns: int) -> None:
        if capacity < 1 or columns < 1:
            raise ValueError("capacity and columns must be positive")
        self.capacity = int(capacity)
        self.columns = int(columns)
        self._t = np.full(2 * self.capacity, np.nan)
        self._v = np.full((2 * self.capacity, self.columns), np.nan)
        self._head = 0  # next write position in [0, capacity)
        self._count = 0  # rows written in total

    def __len__(self) -> int:
        return min(self._count, self.capacity)

    @property
    def written(self) -> int:
        """Rows written since creation or the last :meth:`clear`."""
        return self._count

    def clear(self) -> None:
        self._t.fill(np.nan)
        self._v.fill(np.nan)
        self._head = 0
        self._count = 0

    def extend(self, t: F64, values: F64) -> None:
        """Append rows ``t`` ``(N,)`` and ``values`` ``(N, columns)`` (oldest first)."""
        n = int(t.shape[0])
        if n == 0:
            return
        if values.shape != (n, self.columns):
            raise ValueError(f"values must have shape ({n}, {self.columns}), got {values.shape}")
        cap = self.capacity
        if n > cap:
            t, values = t[n - cap :], values[n - cap :]
            self._count += n - cap
            n = cap
        h = self._head
        first = min(n, cap - h)
        for off in (0, cap):  # the mirrored halves
            self._t[h + off : h + off + first] = t[:first]
            self._v[h + off : h + off + first] = values[:first]
        rest = n - first
        if rest:
            for off in (0, cap):
                self._t[off : off + rest] = t[first:]
                self._v[off : off + rest] = values[first:]
        self._head = (h + n) % cap
        self._count += n

    def view(self) -> tuple[F64, F64]:
        """All rows kept, oldest first, as read-only views ``(t (M,), values (M, columns))``."""
        m = len(self)
        end = self._head + self.capacity
        t, v = self._t[end - m : end], self._v[end - m : end]
        t.flags.writeable = False
        v.flags.writeable = False
        return t, v

    def since(self, t_from: float) -> tuple[F64, F64]:
        """Rows with ``t >= t_from`` (times must be non-decreasing)."""
        t, v = self.view()
        i = int(np.searchsorted(t, t_from, side="left"))
        return t[i:], v[i:]

    def last(self) -> tuple[float, F64] | None:
        """The newest row, or None when empty."""
        if self._count == 0:
            return None
        i = (self._head - 1) % self.capacity
        return float(self._t[i]), self._v[i].copy()
