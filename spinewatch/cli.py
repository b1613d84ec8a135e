"""Command-line entry point: ``spinewatch <command> ...``.

Each command lives in its own module under :mod:`spinewatch.commands` and exposes
``register(subparsers)``, which adds its sub-parser and sets ``func`` (a callable taking the
parsed ``argparse.Namespace`` and returning the exit code). Modules are discovered, so adding a
command never touches this file.

User mistakes raise :class:`posture.errors.SpinewatchError`; they are printed as one line
``spinewatch: error: ...`` with exit code 2, never as a traceback. Exit codes: 0 done, 2 an
error in the input, the options or an output path (nothing was written), 130 Ctrl-C,
143 SIGTERM (outputs are written atomically, so an interrupted command leaves none behind).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from posture.errors import SpinewatchError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spinewatch",
        description="Wearable spine-posture monitor: calibrate your neutral spine, "
        "analyse recordings, get alerts under load.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import spinewatch.commands as pkg

    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"spinewatch.commands.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def one_line(text: str) -> str:
    """``text`` with control characters escaped: messages can quote file contents (an SQLite
    error naming a damaged token), which must neither break the one-line rule nor reach the
    terminal as control sequences."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@functools.cache
def _parser() -> argparse.ArgumentParser:
    # Built once per process: parsing never changes a parser, and building one (175
    # arguments) costs more than most commands' parsing; in-process callers (the tests) call
    # main() hundreds of times.
    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from spinewatch.fileio import Terminated, sigterm_as_interrupt

    try:
        # SIGTERM unwinds like Ctrl-C so temporary outputs are removed (not in Qt's loop).
        with sigterm_as_interrupt() if args.command != "gui" else contextlib.nullcontext():
            code = args.func(args)
    except SpinewatchError as exc:
        print(f"spinewatch: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        print("spinewatch: " + ("terminated" if isinstance(exc, Terminated) else "interrupted"),
              file=sys.stderr)  # fmt: skip
        return 143 if isinstance(exc, Terminated) else 130
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
