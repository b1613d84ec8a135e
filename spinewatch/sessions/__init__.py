"""Recorded sessions: the SQLite session file, recorder, replay, exports and reports."""

from spinewatch.sessions.reader import Marker, SessionFile, SessionSummary
from spinewatch.sessions.store import SessionError, SessionStatus, resolve, sessions_dir

__all__ = [
    "Marker",
    "SessionError",
    "SessionFile",
    "SessionStatus",
    "SessionSummary",
    "resolve",
    "sessions_dir",
]
