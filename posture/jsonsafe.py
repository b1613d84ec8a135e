"""JSON that never carries NaN: the one JSON encoder every spinewatch layer writes with.

JSON has no NaN or Infinity (Python writes them as bare ``NaN`` tokens other readers reject);
documented files say ``null`` where a value is undefined (e.g. the flexion drift per rep of
a recording with fewer than 3 reps). :func:`dumps_json` converts, then encodes with
``allow_nan=False`` so nothing non-finite can slip through.
"""

from __future__ import annotations

import json
import math
from typing import Any


def json_safe(obj: Any) -> Any:
    """``obj`` with non-finite floats as ``None``, numpy scalars/arrays and tuples as lists."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_safe(v) for v in obj]
    if isinstance(obj, bool | int | str) or obj is None:
        return obj
    tolist = getattr(obj, "tolist", None)  # numpy scalars and arrays
    if tolist is not None:
        return json_safe(tolist())
    return str(obj)


def dumps_json(obj: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``obj`` that never carries NaN or Infinity (they become ``null``)."""
    return json.dumps(json_safe(obj), indent=indent, allow_nan=False)
