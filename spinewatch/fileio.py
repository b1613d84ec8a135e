"""Writing output files safely: one overwrite rule, checks before the work, atomic renames.

Every file (or Parquet folder) a spinewatch command writes goes through
:func:`atomic_output`:

* **Checked before the work starts** (:func:`check_output`): the parent folder exists and is
  writable; the target is not a folder, device, pipe or other non-regular file (``-o /dev/full``
  is refused); it is not the same file as any input.
* **The overwrite rule** (docs/formats.md, "Output files"): an existing output is refused
  unless ``--force`` is given, and an input is never overwritten, even with ``--force``.
* **Atomic**: the data go to a hidden temporary name in the same folder
  (``.NAME.XXXX.part``), are flushed to disk (fsync) and renamed over the target
  (:func:`os.replace`). On any error, Ctrl-C or SIGTERM (see :func:`install_sigterm`) the
  temporary is removed, so the final path either holds a complete file or is untouched; a
  full disk or a file-size limit becomes a one-line error with nothing left behind.

JSON goes through :func:`dumps_json` (from :mod:`posture.jsonsafe`, so every layer shares it):
non-finite numbers become ``null``, never ``NaN``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import FrameType
from typing import Any

from posture.errors import SpinewatchError
from posture.jsonsafe import dumps_json, json_safe

__all__ = ["dumps_json", "json_safe"]  # re-exported: spinewatch code imports them from here

PathLike = str | os.PathLike[str]


class OutputError(SpinewatchError):
    """An output path cannot or may not be written (exists, is an input, not a regular file)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so ``finally`` blocks and temp-file cleanup run."""


# -- the overwrite rule and the output checks -------------------------------------------------
def same_path(a: PathLike, b: PathLike) -> bool:
    """Whether two paths name the same file (same inode, or the same resolved path)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def check_output(
    path: PathLike,
    *,
    inputs: Iterable[PathLike | None] = (),
    force: bool = False,
    folder: bool = False,
) -> Path:
    """Check that ``path`` may be written, before any work is done; returns it as a Path.

    Args:
        path: the file (or, with ``folder``, the folder) to write.
        inputs: files the command reads; the output may never be one of them.
        force: replace an existing output (``--force``); never an input.
        folder: the output is a folder of files (Parquet export).

    Raises:
        OutputError: with a one-line reason and what to do.
    """
    p = Path(path)
    if not str(path) or p.name in ("", ".", ".."):
        raise OutputError(f"'{path}': not a file name to write")
    parent = p.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"{p}: folder {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"{p}: no permission to write in {parent}")
    for inp in inputs:
        if inp is not None and same_path(p, inp):
            raise OutputError(
                f"{p} is an input of this command; write the output to another file "
                "(inputs are never overwritten, even with --force)"
            )
    if not (p.exists() or p.is_symlink()):
        return p
    try:
        mode = os.stat(p).st_mode
    except OSError as exc:  # a dangling symlink
        raise OutputError(f"{p}: cannot replace it ({exc.strerror})") from None
    if folder:
        if not stat.S_ISDIR(mode):
            raise OutputError(f"{p} exists and is not a folder; this export writes a folder")
    elif stat.S_ISDIR(mode):
        raise OutputError(f"{p} is a folder; give a file name")
    elif not stat.S_ISREG(mode):
        raise OutputError(f"{p} is not a regular file (a device, pipe or socket); not writing it")
    if not force:
        raise OutputError(f"{p} already exists; pass --force to replace it")
    return p


def add_force_option(parser: Any) -> None:
    """The ``--force`` flag of every command that writes files (the one overwrite rule)."""
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace output files that already exist (an input is never overwritten)",
    )


OUTPUT_HELP = (
    " Outputs are written to a temporary name and renamed when complete, so an error, Ctrl-C "
    "or SIGTERM leaves no partial file. An existing output is refused unless --force; an "
    "input is never overwritten. Exit codes: 0 done; 2 bad input, option or output path "
    "(one-line message, nothing written); 130 Ctrl-C; 143 SIGTERM."
)


# -- atomic writing ----------------------------------------------------------------------------
def _umask_mode(default: int) -> int:
    old = os.umask(0)
    os.umask(old)
    return default & ~old


def _fsync_path(p: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(p: Path) -> None:
    with contextlib.suppress(OSError):
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()


@contextlib.contextmanager
def atomic_output(
    path: PathLike,
    *,
    inputs: Iterable[PathLike | None] = (),
    force: bool = False,
    folder: bool = False,
    checked: bool = False,
) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it is renamed to ``path``.

    Write the complete output to the yielded path (a file, or with ``folder`` an empty folder
    to fill). Leaving the block normally fsyncs it and renames it over ``path``; any
    exception (including KeyboardInterrupt and :class:`Terminated`) removes it instead.
    ``checked=True`` skips :func:`check_output` when the caller already ran it (with the
    same arguments) before starting the work.
    """
    p = Path(path) if checked else check_output(path, inputs=inputs, force=force, folder=folder)
    parent = p.absolute().parent
    prefix = f".{p.name}."
    try:
        if folder:
            tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".part", dir=parent))
            os.chmod(tmp, _umask_mode(0o777))
        else:
            fd, name = tempfile.mkstemp(prefix=prefix, suffix=".part" + p.suffix, dir=parent)
            os.fchmod(fd, _umask_mode(0o666))
            os.close(fd)
            tmp = Path(name)
    except OSError as exc:
        raise OutputError(f"{p}: cannot write in {parent} ({exc.strerror})") from None
    try:
        try:
            yield tmp
            for f in tmp.rglob("*") if folder else [tmp]:
                if f.is_file():
                    _fsync_path(f)
            if folder and p.is_dir():
                # os.replace cannot replace a non-empty folder: move the old one aside first.
                old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=parent))
                os.replace(p, old / "x")
                os.replace(tmp, p)
                _remove(old)
            else:
                os.replace(tmp, p)
            _fsync_path(parent)
        except OSError as exc:
            what = exc.strerror or str(exc)
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT):
                what += " (disk full or file-size limit)"
            raise OutputError(f"{p}: not written: {what}") from None
    except BaseException:
        _remove(tmp)
        raise


def write_text(path: PathLike, text: str, **check: Any) -> Path:
    """Write ``text`` (UTF-8) atomically to ``path`` under the overwrite rule (see ``check``)."""
    with atomic_output(path, **check) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


# -- signals -----------------------------------------------------------------------------------
def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` (a KeyboardInterrupt) in the main thread.

    Only where SIGTERM still has its default action (it would kill the process without
    running any cleanup); handlers installed by commands themselves (record, stream) win.
    The previous handler is restored on exit.
    """
    try:
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            yield
            return
        prev = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not in the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, prev)
