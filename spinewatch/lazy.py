"""Command-line choices that are imported only when they are needed.

Some options take their choices from a module that is slow to import (the simulator's scripts
pull in scipy, the export formats pyarrow). Registering a command must not import them, or every
``spinewatch --help`` pays for all of them. :class:`LazyChoices` is given to argparse as
``choices`` together with a ``metavar`` (so that registering does not list them); it imports the
module the first time argparse checks a value or prints the command's own help.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from typing import overload


class LazyChoices(Sequence[str]):
    """The sorted keys (or items) of ``module:NAME``, imported on first use."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._values: tuple[str, ...] | None = None

    @property
    def values(self) -> tuple[str, ...]:
        if self._values is None:
            module, _, name = self.target.partition(":")
            self._values = tuple(sorted(getattr(importlib.import_module(module), name)))
        return self._values

    def __contains__(self, value: object) -> bool:
        return value in self.values

    def __iter__(self) -> Iterator[str]:
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> Sequence[str]: ...
    def __getitem__(self, i: int | slice) -> str | Sequence[str]:
        return self.values[i]

    def __repr__(self) -> str:
        return f"LazyChoices({self.target!r})"
