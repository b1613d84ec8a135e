"""Exception hierarchy shared by every spinewatch package.

Everything a user can cause (a malformed file, an unusable calibration recording, a sensor
that is not there) raises a subclass of :class:`SpinewatchError` whose message says what was
wrong and what to do. The CLI turns these into one-line messages and a non-zero exit code;
anything else is a bug and keeps its traceback.

This module lives in ``posture`` (the lowest layer every other package may import) so that
``firmware_bridge``, ``calibration``, ``gui`` and ``spinewatch`` can all share the base class
without importing upwards.
"""

from __future__ import annotations


class SpinewatchError(Exception):
    """Base class of every error meant for the user."""


class PostureError(SpinewatchError):
    """Base class of errors raised by the posture engine."""


class DataFormatError(PostureError):
    """A data file or block is malformed (bad header, non-numeric cell, time going back...).

    Attributes:
        path: file the problem was found in, if any.
        line: 1-based line number in that file, if known.
    """

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        elif line is not None:
            where = f"line {line}: "
        super().__init__(where + message)
        self.path = path
        self.line = line


class MissingSensorError(PostureError):
    """A required sensor role has no data."""


class CalibrationRequiredError(PostureError):
    """An operation needs a calibration profile and none was given."""
