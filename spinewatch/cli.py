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
from typing import NoReturn

from posture.errors import SpinewatchError


def build_parser() -> argparse.ArgumentParser:
    return _build()[0]


def _build(only: str | None = None) -> tuple[argparse.ArgumentParser, frozenset[str]]:
    """The command line's parser and its command names; with ``only``, just the command(s) of
    that module."""
    parser = argparse.ArgumentParser(
        prog="spinewatch",
        description="Wearable spine-posture monitor: calibrate your neutral spine, "
        "analyse recordings, get alerts under load.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import spinewatch.commands as pkg

    names = [only] if only else [m.name for m in pkgutil.iter_modules(pkg.__path__)]
    for name in sorted(names):
        if name.startswith("_"):
            continue
        module = importlib.import_module(f"spinewatch.commands.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser, frozenset(sub.choices)


def one_line(text: str) -> str:
    """``text`` with control characters escaped: messages can quote file contents (an SQLite
    error naming a damaged token), which must neither break the one-line rule nor reach the
    terminal as control sequences."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@functools.cache
def _parser(only: str | None = None) -> tuple[argparse.ArgumentParser, frozenset[str]]:
    # Built once per process: parsing never changes a parser, and building one (175
    # arguments) costs more than most commands' parsing; in-process callers (the tests) call
    # main() hundreds of times.
    return _build(only)


def _parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """Only the named command's parser when the first argument names one (its module under
    spinewatch.commands, ``-`` as ``_``): building all of them costs tens of ms, a large
    part of a short command; anything else (``--help``, a typo) gets the full parser."""
    if argv and not argv[0].startswith("-"):
        import importlib.util

        name = argv[0].replace("-", "_")
        if name.isidentifier() and not name.startswith("_"):
            if importlib.util.find_spec(f"spinewatch.commands.{name}") is not None:
                parser, commands = _parser(name)
                if argv[0] in commands:
                    return parser
    return _parser()[0]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser_for(sys.argv[1:] if argv is None else list(argv)).parse_args(argv)
    code = _run(args)
    if argv is None and args.command in QUICK_EXIT:
        _exit_now(code)  # the process's own command line: nothing runs after this
    return code


#: Commands whose process leaves without the interpreter's teardown (:func:`_exit_now`).
QUICK_EXIT = frozenset({"analyze"})


def _run(args: argparse.Namespace) -> int:
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


def _exit_now(code: int) -> NoReturn:
    """End the process as the interpreter would, minus its teardown: other threads are
    joined, exit handlers run (coverage of subprocess tests is saved), stdout and stderr
    flushed, then ``os._exit``. Clearing every module and object of numpy, pyarrow and the
    analysis took ~20–60 ms, more than some steps of ``analyze`` itself; every output is
    already closed and renamed by then."""
    import atexit
    import os
    import threading

    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (| head): nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
