"""The coach's progress store: one JSON line per drill set, under ``$SPINEWATCH_HOME/coach``.

The file starts with a header line carrying the schema version; every later line is one
:class:`SetRecord`. Writes are atomic (the whole file is written to a temporary name in the
same folder and renamed), so a crash never leaves half a line; JSON never carries NaN (null).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from posture.errors import SpinewatchError
from posture.jsonsafe import json_safe

SCHEMA_VERSION = 1
KIND = "spinewatch-coach-progress"


class CoachError(SpinewatchError):
    """The coach's progress file or a coach option is wrong; the message says what to do."""


def coach_dir() -> Path:
    """Where coach progress lives: the spinewatch data folder's ``coach``."""
    from spinewatch.sessions.store import data_dir

    return data_dir("coach")


@dataclass(frozen=True)
class SetRecord:
    """One drill set as stored.

    Attributes:
        drill: drill name.
        time: ISO-8601 UTC time of the set.
        set_index: 1-based set number within the attempt.
        summary: the drill's summary numbers (score 0–100, hip share, deviations...).
        passed: whether the attempt this set belongs to passed (filled on its last set).
        load_kg: load of the set (deadlift), or None.
        session: name of the recorded session it belongs to, or None.
        simulated: produced by ``train --simulate``.
        items: per-rep or per-hold results (their JSON dicts).
    """

    drill: str
    time: str
    set_index: int
    summary: dict[str, Any]
    passed: bool | None = None
    load_kg: float | None = None
    session: str | None = None
    simulated: bool = False
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def when(self) -> datetime:
        return datetime.fromisoformat(self.time)

    def to_json(self) -> str:
        return json.dumps(json_safe(asdict(self)), allow_nan=False, separators=(",", ":"))


class ProgressStore:
    """Read and append drill sets (the path defaults to ``coach_dir()/progress.jsonl``)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path is not None else coach_dir() / "progress.jsonl"

    def load(self) -> list[SetRecord]:
        if not self.path.exists():
            return []
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise CoachError(
                f"{self.path}: cannot read the progress file ({exc.strerror})"
            ) from None
        if not lines:
            return []
        try:
            head = json.loads(lines[0])
        except json.JSONDecodeError:
            head = None
        if not isinstance(head, dict) or head.get("kind") != KIND:
            raise CoachError(f"{self.path}: not a spinewatch progress file; move it away")
        if head.get("schema_version") != SCHEMA_VERSION:
            raise CoachError(
                f"{self.path}: progress schema version {head.get('schema_version')} is not "
                f"supported (this spinewatch reads {SCHEMA_VERSION}); update spinewatch"
            )
        out = []
        for n, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                out.append(SetRecord(**d))
            except (json.JSONDecodeError, TypeError) as exc:
                raise CoachError(
                    f"{self.path}, line {n}: malformed record ({exc}); fix or delete that line"
                ) from None
        return out

    def append(self, records: Iterable[SetRecord]) -> None:
        """Add records (atomically: the old file stays intact until the new one is complete)."""
        new = list(records)
        if not new:
            return
        old = self.path.read_text(encoding="utf-8") if self.path.exists() else ""
        if old:
            self.load()  # refuse to extend a foreign or newer file
        else:
            old = json.dumps({"kind": KIND, "schema_version": SCHEMA_VERSION}) + "\n"
        if not old.endswith("\n"):
            old += "\n"
        text = old + "".join(r.to_json() + "\n" for r in new)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, self.path)

    def passed(self) -> set[str]:
        """Drills with a passed attempt."""
        return {r.drill for r in self.load() if r.passed}
